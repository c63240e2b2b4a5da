"""Provider accounts on the simulator, shared by the test modules.

Config entries for each account kind (Kasify, Nuki, UniFi Access, RemoteLock) pointing at the simulator, the
locks they bring, the clock helpers that move frozen time and wait for what it started, and the access-code
action calls. Plain functions and constants; the fixtures built on them are in ``conftest.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import DOMAIN as CALENDAR_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_HOST,
    CONF_PORT,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion
from syrupy.types import PropertyName, PropertyPath
import yaml

from custom_components.kasify.const import (
    CONF_API_TOKEN,
    CONF_CALENDAR_DAYS,
    CONF_FINGERPRINT,
    CONF_KEY,
    CONF_KIND,
    CONF_OAUTH_URL,
    CONF_SCAN_INTERVAL,
    CONF_SECRET,
    DOMAIN,
    KIND_KASIFY,
)
from custom_components.kasify.coordinator import property_identifier
from simulator import Simulator
from simulator.nuki import NUKI_TOKEN
from simulator.remotelock import CLIENT_ID, CLIENT_SECRET
from simulator.unifi_access import UnifiEndpoint

# Every simulator-backed test runs at this instant, so seeded data and snapshots are stable.
NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TOKEN = "sim-kasify-token"
SCAN = timedelta(seconds=60)

# --- config entries ---------------------------------------------------------------------------------------

ENTRY_ID = "01JKASIFYENTRY000000000000"
NUKI_ENTRY_ID = "01JNUKIENTRY00000000000000"
UNIFI_ENTRY_ID = "01JUNIFIENTRY0000000000000"
RL_ENTRY_ID = "01JREMOTELOCKENTRY00000000"
KASIFY_OPTIONS: Mapping[str, Any] = {CONF_SCAN_INTERVAL: 60, CONF_CALENDAR_DAYS: 90}
WEBHOOK_ID = "remotelock-test-hook"
WEBHOOK_SECRET = "s3cr3t-hook"


def kasify_entry(
    simulator: Simulator,
    *,
    title: str = "Kasify Demo",
    unique_id: str | None = None,
    entry_id: str | None = ENTRY_ID,
    options: Mapping[str, Any] = KASIFY_OPTIONS,
) -> MockConfigEntry:
    """A Kasify account on the simulator (keyed by the simulated account unless ``unique_id`` is given;
    ``entry_id=None`` for a random one)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=simulator.kasify.account["id"] if unique_id is None else unique_id,
        entry_id=entry_id,
        version=1,
        minor_version=1,
        data={CONF_KIND: KIND_KASIFY, CONF_URL: simulator.kasify_url, CONF_API_TOKEN: TOKEN},
        options=dict(options),
    )


def remotelock_oauth_entry(
    simulator: Simulator,
    *,
    title: str = "RemoteLock Alojamientos Sol y Mar",
    unique_id: str | None = None,
    expires_at: int = 4102444800,
    options: Mapping[str, Any] | None = None,
) -> MockConfigEntry:
    """A RemoteLock account added by signing in, holding tokens just issued by the simulator (valid until
    ``expires_at``); keyed by the simulated account unless ``unique_id`` is given."""
    token = simulator.remotelock.issue_tokens()
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=f"remotelock_{simulator.remotelock.account['id']}" if unique_id is None else unique_id,
        entry_id=RL_ENTRY_ID,
        data={
            CONF_KIND: "remotelock",
            CONF_URL: simulator.remotelock_api_url,
            "auth_implementation": "remotelock",
            "token": {**token, "expires_at": expires_at},
        },
        options=None if options is None else dict(options),
    )


def remotelock_kasify_entry(simulator: Simulator) -> MockConfigEntry:
    """The Kasify entry whose properties the RemoteLock locations are named after."""
    return kasify_entry(simulator, title="Kasify", unique_id="acc_1", options={CONF_SCAN_INTERVAL: 60})


def nuki_entry(simulator: Simulator, *, entry_id: str | None = NUKI_ENTRY_ID) -> MockConfigEntry:
    """The host's Nuki Web account on the simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Nuki host",
        unique_id="nuki_1",
        entry_id=entry_id,
        data={CONF_KIND: "nuki", CONF_URL: simulator.nuki_url, CONF_API_TOKEN: NUKI_TOKEN},
        options={CONF_SCAN_INTERVAL: 60},
    )


def unifi_entry(endpoint: UnifiEndpoint, *, title: str = "UniFi Access", **data: Any) -> MockConfigEntry:
    """The simulated UniFi Access controller behind ``endpoint`` (its certificate pinned)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id="unifi_127.0.0.1",
        entry_id=UNIFI_ENTRY_ID,
        data={
            CONF_KIND: "unifi_access",
            CONF_HOST: endpoint.host,
            CONF_PORT: endpoint.port,
            CONF_API_TOKEN: endpoint.token,
            CONF_VERIFY_SSL: True,
            CONF_FINGERPRINT: endpoint.fingerprint,
            **data,
        },
        options={CONF_SCAN_INTERVAL: 60},
    )


CASAVI_ENTRY_ID = "01JCASAVIENTRY000000000000"


def casavi_entry(simulator: Simulator) -> MockConfigEntry:
    """A casavi account on the simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="casavi tenant 4711",
        unique_id="casavi_4711",
        entry_id=CASAVI_ENTRY_ID,
        data={
            CONF_KIND: "casavi",
            CONF_URL: simulator.casavi_url,
            CONF_KEY: simulator.casavi.key,
            CONF_SECRET: simulator.casavi.secret,
        },
        options={CONF_SCAN_INTERVAL: 300, CONF_CALENDAR_DAYS: 90},
    )


def remotelock_entry(
    simulator: Simulator, *, title: str = "RemoteLock Sol y Mar", **options: Any
) -> MockConfigEntry:
    """A client-credentials RemoteLock account on the simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id="remotelock_1",
        entry_id=RL_ENTRY_ID,
        data={
            CONF_KIND: "remotelock",
            CONF_URL: simulator.remotelock_api_url,
            CONF_OAUTH_URL: simulator.remotelock_oauth_url,
            CONF_CLIENT_ID: CLIENT_ID,
            CONF_CLIENT_SECRET: CLIENT_SECRET,
        },
        options={CONF_SCAN_INTERVAL: 60, **options},
    )


# --- locks ------------------------------------------------------------------------------------------------

LOFT = "lock.loft_patio_lavapies_puerta_principal"  # Nuki
ATICO = "lock.atico_torre_malvarrosa_puerta_principal"  # Nuki
PORTAL = "lock.portal_rua_garrett"  # UniFi Access
LOFT_ID = 17883675725
ATICO_ID = 17672238810


def keypad_codes(simulator: Simulator, smartlock_id: int) -> dict[str, dict[str, Any]]:
    """The keypad codes on a Nuki lock in the simulator, by auth id."""
    return {
        auth_id: auth
        for auth_id, auth in simulator.nuki.auths.items()
        if auth["smartlockId"] == smartlock_id and auth["type"] == 13
    }


def remotelock_device_id(simulator: Simulator, name: str) -> str:
    """The simulated RemoteLock device called ``name``."""
    return next(d["id"] for d in simulator.remotelock.devices.values() if d["attributes"].get("name") == name)


def property_device_id(hass: HomeAssistant, property_id: str) -> str:
    """The device of a Kasify property."""
    device = dr.async_get(hass).async_get_device(identifiers={property_identifier(property_id)})
    assert device is not None
    return device.id


# --- time ---------------------------------------------------------------------------------------------------


async def background_done(hass: HomeAssistant) -> None:
    """Like ``async_block_till_done(wait_background_tasks=True)``, except for the UniFi push listener, which
    is a background task that runs until the entry unloads (polls run as background tasks too)."""
    await hass.async_block_till_done()
    for _ in range(10):
        pending = [
            task
            for task in hass._background_tasks
            # A job Home Assistant runs in its executor is a plain future (no name): waited for too.
            if not task.done() and not getattr(task, "get_name", str)().endswith(" push")
        ]
        if not pending:
            return
        await asyncio.wait(pending)
        await hass.async_block_till_done()


async def settle(hass: HomeAssistant, push: bool) -> None:
    """Wait for what was started (with ``push``, all but a UniFi push listener)."""
    if push:
        await background_done(hass)
    else:
        await hass.async_block_till_done(wait_background_tasks=True)


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta = SCAN, *, push: bool = False
) -> None:
    """Move frozen time on by ``delta`` and wait for what the timers started (with ``push``, all but a
    UniFi push listener)."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await settle(hass, push)


async def move_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, instant: datetime, *, push: bool = False
) -> None:
    """Move frozen time to ``instant`` and wait for what the timers started (``push`` as for :func:`tick`)."""
    freezer.move_to(instant)
    async_fire_time_changed(hass, instant)
    await settle(hass, push)


async def refresh(hass: HomeAssistant, entry: MockConfigEntry, *, push: bool = False) -> None:
    """Refresh the entry's coordinator and wait for what that started (``push`` as for :func:`tick`)."""
    await entry.runtime_data.coordinator.async_refresh()
    await settle(hass, push)


# --- actions ----------------------------------------------------------------------------------------------

WRITES: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POSTs that change nothing upstream: signing in (casavi, RemoteLock OAuth) and UniFi's log search.
_READING_POSTS: Final = (
    "/casavi/v2/authenticate",
    "/remotelock/connect/oauth/",
    "/api/v1/developer/system/logs",
)


def upstream_writes(simulator: Simulator) -> list[str]:
    """The requests the simulator received since its log was reset that change something upstream."""
    return [
        f"{r.method} {r.path}"
        for r in simulator.requests
        if r.method in WRITES and not r.path.startswith(_READING_POSTS)
    ]


def on_loop[T](hass: HomeAssistant, check: Callable[[T], Coroutine[Any, Any, None]]) -> Callable[[T], None]:
    """A sync check (for hypothesis, which runs in a worker thread) that runs ``check`` on Home Assistant's
    loop: the integration is set up once per test and a failing example is still shrunk."""

    def run(value: T) -> None:
        asyncio.run_coroutine_threadsafe(check(value), hass.loop).result(timeout=60)

    return run


START = NOW + timedelta(days=1)
END = NOW + timedelta(days=4)


def answer_no_bookings_once(simulator: Simulator) -> None:
    """The next Kasify booking list comes back empty (200, no bookings)."""
    empty = '{"bookings": [], "page": 0, "size": 100, "total": 0}'
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=200, body=empty, times=1)


async def create_code(hass: HomeAssistant, targets: str | list[str], **data: Any) -> dict[str, Any]:
    """``kasify.create_access_code`` for Ana García from :data:`START` to :data:`END` unless ``data`` says
    otherwise; its response."""
    payload: dict[str, Any] = {
        ATTR_ENTITY_ID: targets,
        "name": "Ana García",
        "starts_at": START.isoformat(),
        "ends_at": END.isoformat(),
        **data,
    }
    response = await hass.services.async_call(
        DOMAIN, "create_access_code", payload, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


async def list_codes(hass: HomeAssistant, **data: Any) -> list[dict[str, Any]]:
    """``kasify.list_access_codes``: the codes it answers with."""
    response = await hass.services.async_call(
        DOMAIN, "list_access_codes", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    codes: list[dict[str, Any]] = response["codes"]
    return codes


async def calendar_events(
    hass: HomeAssistant, entity_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """``calendar.get_events`` of one calendar between ``start`` and ``end``."""
    response = await hass.services.async_call(
        CALENDAR_DOMAIN,
        "get_events",
        {"entity_id": entity_id, "start_date_time": start, "end_date_time": end},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    events: list[dict[str, Any]] = response[entity_id]["events"]  # type: ignore[index]
    return events


# The entity registry fields of the oldest supported release (2025.4). Fields Home Assistant added later
# (``object_id_base``, ``suggested_object_id``, ...) say nothing about the integration and are left out of
# the snapshots, so one set of snapshots holds on every tested release.
REGISTRY_FIELDS = frozenset(
    {
        "aliases", "area_id", "capabilities", "config_entry_id", "config_subentry_id", "device_class",
        "device_id", "disabled_by", "domain", "entity_category", "entity_id", "has_entity_name", "hidden_by",
        "icon", "id", "labels", "name", "options", "original_device_class", "original_icon", "original_name",
        "platform", "previous_unique_id", "supported_features", "translation_key", "unique_id",
        "unit_of_measurement",
    }
)  # fmt: skip


def _newer_registry_field(*, prop: PropertyName, path: PropertyPath) -> bool:
    return not path and isinstance(prop, str) and prop not in REGISTRY_FIELDS


async def snapshot_platform(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, snapshot: SnapshotAssertion, config_entry_id: str
) -> None:
    """Every entity of one platform of the entry: its registry entry and its state, against the snapshot.

    The test harness's helper of the same name, over the fields of :data:`REGISTRY_FIELDS` only.
    """
    entries = er.async_entries_for_config_entry(entity_registry, config_entry_id)
    assert entries
    assert len({entry.domain for entry in entries}) == 1, "Limit the loaded platforms to one."
    for entry in entries:
        assert entry == snapshot(name=f"{entry.entity_id}-entry", exclude=_newer_registry_field)
        assert entry.disabled_by is None, "Enable all entities."
        state = hass.states.get(entry.entity_id)
        assert state, f"No state for {entry.entity_id}"
        assert state == snapshot(name=f"{entry.entity_id}-state")


# --- the README ---------------------------------------------------------------------------------------------

README = Path(__file__).parent.parent / "README.md"


def readme_example(heading: str, replacements: Mapping[str, str]) -> dict[str, Any]:
    """The first YAML automation of a README section, with its example names replaced by the test's."""
    text = README.read_text(encoding="utf-8").split(f"### {heading}\n", 1)[1]
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    for old, new in replacements.items():
        block = block.replace(old, new)
    example: dict[str, Any] = yaml.safe_load(block)
    return example
