"""Shared fixtures.

The integration is imported at module level so that the project's ``custom_components`` package is the one
in ``sys.modules`` before Home Assistant looks for it (the test harness puts a ``custom_components`` folder
of its own first on ``sys.path``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from datetime import datetime, timedelta
import logging
import re
from unittest.mock import AsyncMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify.providers import nuki
from custom_components.kasify.providers.unifi_access import UnifiAccessCoordinator
from simulator import Simulator, SimulatorConfig, serve_unifi_https
from simulator.unifi_access import UnifiEndpoint

from . import fault_matrix, setup_integration
from .providers import NOW, TOKEN, kasify_entry

# The end-to-end tests run a real Home Assistant under their own rules (tests/e2e/pytest.ini), in a pytest
# run of their own: `pytest tests/e2e` (scripts/test runs them as a separate stage).
collect_ignore = ["e2e"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/kasify in every test."""


# How Home Assistant reports an integration using an API it deprecated: ``frame.report_usage`` ("Detected that
# custom integration 'kasify' calls ...") and ``helpers.deprecation`` ("x was called from kasify, this is a
# deprecated function" up to 2025.x, "The deprecated function x was called from kasify." later).
DEPRECATION_REPORT = re.compile(r"Detected that custom integration 'kasify'|\bwas \w+ from kasify\b")


class DeprecationReports(logging.Handler):
    """Collects Home Assistant's reports about this integration's use of deprecated APIs."""

    def __init__(self) -> None:
        """Listen to everything at WARNING and above."""
        super().__init__(logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record when it is a deprecation report about this integration."""
        message = record.getMessage()
        if DEPRECATION_REPORT.search(message):
            self.reports.append(message)


@pytest.fixture(autouse=True)
def fail_on_deprecation_reports() -> Iterator[DeprecationReports]:
    """Fail the test when Home Assistant reports that the integration uses a deprecated API.

    Such a call works today and breaks in the release the report names; on the newest Home Assistant the
    tests run on, it must already be gone. (Deprecation warnings raised in the integration's own code are
    errors through ``filterwarnings`` in pyproject.toml.)
    """
    reports = DeprecationReports()
    root = logging.getLogger()
    root.addHandler(reports)
    try:
        yield reports
    finally:
        root.removeHandler(reports)
    if reports.reports:
        pytest.fail("Home Assistant reported deprecated API use:\n" + "\n".join(reports.reports))


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
    ):
        yield


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep config-flow tests from setting the entry up."""
    with patch("custom_components.kasify.async_setup_entry", return_value=True) as mock_setup:
        yield mock_setup


@pytest.fixture
def frozen_now(freezer: FrozenDateTimeFactory) -> datetime:
    """Freeze time at :data:`NOW`."""
    freezer.move_to(NOW)
    return NOW


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Three seeded properties around :data:`NOW` (override per module for other fleets)."""
    return SimulatorConfig(properties=3, seed=1, token=TOKEN, now=NOW)


@pytest.fixture
async def simulator(
    socket_enabled: None, frozen_now: datetime, simulator_config: SimulatorConfig
) -> AsyncGenerator[Simulator]:
    """The upstream simulator on a real loopback port."""
    sim = Simulator(simulator_config)
    async with sim.serve(host="127.0.0.1", port=0):
        yield sim


@pytest.fixture
def mock_config_entry(simulator: Simulator) -> MockConfigEntry:
    """A Kasify entry pointing at the simulator."""
    return kasify_entry(simulator)


@pytest.fixture
async def init_integration(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """The Kasify entry, set up against the simulator."""
    await setup_integration(hass, mock_config_entry)
    return mock_config_entry


@pytest.fixture
def fast_nuki(simulator: Simulator) -> Iterator[None]:
    """New keypad codes show up at once and are looked for once (the frozen simulator clock never moves)."""
    simulator.nuki.auth_delay = 0
    with patch.object(nuki, "NUKI_CREATE_POLLS", (0,)):
        yield


@pytest.fixture
def no_heartbeat() -> Iterator[None]:
    """No WebSocket pings, neither aiohttp's heartbeat nor the push watchdog's: ticking frozen time by minutes
    or hours would fire pings whose answers the test never waits for (the watchdog's own tests turn it on)."""
    with (
        patch.object(UnifiAccessCoordinator, "push_heartbeat", 3600.0),
        patch.object(UnifiAccessCoordinator, "push_watchdog", timedelta(days=365)),
    ):
        yield


@pytest.fixture
async def endpoint(simulator: Simulator) -> AsyncIterator[UnifiEndpoint]:
    """The simulated UniFi Access controller over HTTPS with its self-signed certificate."""
    async with serve_unifi_https(simulator) as unifi:
        yield unifi


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault matrix's table when it ran (``tests/test_fault_matrix.py``)."""
    lines = fault_matrix.table()
    if lines:
        terminalreporter.section("fault matrix: provider x operation x fault -> outcome")
        for line in lines:
            terminalreporter.write_line(line)
