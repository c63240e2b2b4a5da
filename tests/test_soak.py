"""The soak: days of simulated time against the access-code engine, in a minute or two of real time.

Kasify with automatic codes on, and Nuki Web, UniFi Access and RemoteLock accounts, over 20 properties of the
simulator's seeded fleet, each with locks of at least one vendor (some of two or three). At every step (5 to
15 simulated minutes) the seeded plan changes bookings (new, moved, extended, shortened, cancelled,
confirmed, moved to another property), makes an upstream fail for a while (timeouts, 5xx, 429 with
``Retry-After``, connections reset), reloads an entry or restarts Home Assistant, at a quiet moment or in the
middle of what the clock just started. After every step the simulator's own state is checked
(``tests/soak/invariants.py``): each confirmed booking has exactly one code, with its window, on every lock
of its property while due; no cancelled, ended or moved booking keeps a code past the engine's retry
interval; no lock holds a code the engine does not track, nor one PIN twice. What the integration holds
(records, stores, objects and what they hold) must not grow from the warm-up to the end.

The counts are printed at the end of the test run. ``--soak-seed N`` and ``--soak-hours H`` play another
run (the fleet and the plan follow the seed), ``--soak-log PATH`` keeps the integration's debug log of it (in
simulated time) for a look at what led to a violation:
``pytest tests/test_soak.py --soak-seed 7 --soak-hours 168 --soak-log /tmp/soak.log``.

Every run plays what only persisted create intents survive as well: vendors that take a create while the
engine is told it failed (an ambiguous create: an error status, a dropped connection or an answer too late
after the vendor applied it), and restarts that cut a create short. The engine must find and remove those
codes (or keep them, when they are the booking's), never leave them on the lock untracked or make a second.
"""

from __future__ import annotations

import random
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from custom_components.kasify.access_codes.manager import AccessCodeManager
from simulator import Simulator, SimulatorConfig
from simulator.unifi_access import UnifiEndpoint

from .providers import NOW, TOKEN
from .soak.harness import SoakHass, debug_log, eager_log_records
from .soak.report import REPORTS, SoakReport
from .soak.run import FULL, Profile, Soak
from .soak.world import equip_fleet, live_codes

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("fast_nuki", "no_heartbeat")]

PROPERTIES = 20
# A run this long plays every kind of disturbance (the checks below say so).
FULL_RUN_HOURS = 24.0


@pytest.fixture
def soak_seed(request: pytest.FixtureRequest) -> int:
    """``--soak-seed``: the fleet's and the plan's seed."""
    return int(request.config.getoption("soak_seed"))


@pytest.fixture
def simulator_config(soak_seed: int) -> SimulatorConfig:
    """The seeded fleet of :data:`PROPERTIES` properties around :data:`NOW`."""
    return SimulatorConfig(properties=PROPERTIES, seed=soak_seed, token=TOKEN, now=NOW)


async def _soak(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    storage: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    profile: Profile,
    seed: int,
    hours: float,
    log: str | None = None,
) -> SoakReport:
    # asyncio's debug mode (on under the test harness) would double the run's time.
    hass.loop.set_debug(False)
    equip_fleet(simulator, random.Random(seed))
    soak = SoakHass(hass, freezer, simulator)
    monkeypatch.setattr(AccessCodeManager, "async_create", soak.creating(AccessCodeManager.async_create))
    owner = {code.key for code in live_codes(simulator)}
    await soak.async_setup(endpoint)
    with eager_log_records(), debug_log(log):
        report = await Soak(soak, storage, owner, profile, seed, hours).run()
    REPORTS.append(report)
    return report


async def test_soak(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    soak_seed: int,
) -> None:
    """Days of bookings, faults (ambiguous creates among them), reloads and restarts (some cutting a create
    short): no code stranded, duplicated, revoked late or missing, nothing piling up in the integration."""
    hours = float(request.config.getoption("soak_hours"))
    log = request.config.getoption("soak_log")
    report = await _soak(
        hass, simulator, endpoint, freezer, hass_storage, monkeypatch, FULL, soak_seed, hours, log
    )
    lines = "\n".join(report.lines())
    assert report.violations == [], lines
    assert report.max_stranded == 0, lines
    assert report.flat(), lines
    if hours >= FULL_RUN_HOURS:  # a soak that played nothing would prove nothing
        assert report.unplayed() == [], lines
