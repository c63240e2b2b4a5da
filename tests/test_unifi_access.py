"""UniFi Access controllers against the simulator over loopback HTTPS (pinned certificate, real WebSocket):
door entities, push instead of polling (0 requests per interval while push is up), polling while it is
down, actions (optimistic, then that door only) with rollback, activity events, certificate and token
failures, and linking to Kasify properties."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
import json
import logging
from typing import Any
from unittest.mock import patch

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN, LockState
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_HOST,
    CONF_PORT,
    CONF_VERIFY_SSL,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify.const import CONF_API_TOKEN, CONF_FINGERPRINT, DOMAIN
from custom_components.kasify.coordinator import property_identifier
from custom_components.kasify.diagnostics import async_get_config_entry_diagnostics
from custom_components.kasify.providers.unifi_access import (
    PUSH_SILENCE_TIMEOUT,
    PUSH_WATCHDOG_INTERVAL,
    UnifiAccessCoordinator,
)
from simulator import Simulator
from simulator.unifi_access import UNIFI_GARAGE_DOOR_ID, UnifiEndpoint

from . import setup_integration
from .fault_matrix import record
from .providers import PORTAL, SCAN, UNIFI_ENTRY_ID, background_done, tick, unifi_entry

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("no_heartbeat")]

TITLE = "UniFi Access 127.0.0.1"
DOORS = "/api/v1/developer/doors"
NOTIFICATIONS = "/api/v1/developer/devices/notifications"
PORTAL_DOOR = "binary_sensor.portal_rua_garrett_door"
PORTAL_ACTIVITY = "event.portal_rua_garrett_activity"
GARAGE_LOCK = "lock.garaje"


def _portal(simulator: Simulator) -> str:
    (record,) = [lock for lock in simulator.kasify.smart_locks.values() if lock["vendor"] == "unifi"]
    door_id: str = record["unifi_smartlock"]["door_id"]
    return door_id


def _coordinator(entry: MockConfigEntry) -> UnifiAccessCoordinator:
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, UnifiAccessCoordinator)
    return coordinator


async def _until(hass: HomeAssistant, condition: Callable[[], bool]) -> None:
    """Let the loop run (sockets included; time is frozen) until ``condition`` holds."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0)
    await hass.async_block_till_done()
    assert condition()


def _door_reads(simulator: Simulator) -> int:
    return simulator.count_requests(DOORS, "GET")


async def _setup_with_push(hass: HomeAssistant, simulator: Simulator, entry: MockConfigEntry) -> None:
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    await simulator.unifi.wait_for_websockets(1)
    await _until(hass, lambda: _coordinator(entry).update_interval is None)


async def test_entities_and_states(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    entity_registry: er.EntityRegistry,
) -> None:
    """Every door is a lock with an activity event; doors with a position sensor get a door sensor."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)

    state = hass.states.get(PORTAL)
    assert state.state == LockState.LOCKED
    assert state.attributes["supported_features"] == 0
    assert hass.states.get(PORTAL_DOOR).state == STATE_OFF
    assert hass.states.get(PORTAL_ACTIVITY).attributes["event_types"] == [
        "unlocked",
        "code_used",
        "access_denied",
    ]
    ids = {e.unique_id for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)}
    portal = _portal(simulator)
    assert ids == {
        f"unifi_{portal}-lock",
        f"unifi_{portal}-door",
        f"unifi_{portal}-activity",
        f"unifi_{UNIFI_GARAGE_DOOR_ID}-lock",
        f"unifi_{UNIFI_GARAGE_DOOR_ID}-activity",
    }  # the garage has no position sensor; nothing has a battery (mains powered)
    assert hass.states.get(GARAGE_LOCK).state == LockState.LOCKED

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert endpoint.token not in json.dumps(diagnostics)
    assert diagnostics["coordinator"]["source"] == "unifi_access"


async def test_no_requests_while_push_is_up(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, freezer: FrozenDateTimeFactory
) -> None:
    """With the WebSocket up, polling stops: 0 REST requests per interval; pushed changes still arrive."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    simulator.reset_requests()
    for _ in range(3):
        await tick(hass, freezer, push=True)
    assert _door_reads(simulator) == 0
    assert simulator.count_requests("/api/v1/developer") == 0

    # A pushed change reaches the entities without any request.
    portal = _portal(simulator)
    simulator.unifi.set_door_position(portal, "open")
    await _until(hass, lambda: hass.states.get(PORTAL_DOOR).state == STATE_ON)
    simulator.unifi.set_lock_rule(portal, "keep_unlock")
    await _until(hass, lambda: hass.states.get(PORTAL).state == LockState.UNLOCKED)
    assert simulator.count_requests("/api/v1/developer") == 0


async def test_polling_while_push_is_down(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Push dropped: 1 request per interval until the WebSocket is back, then none again."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    coordinator = _coordinator(entry)

    fault = simulator.faults.inject(NOTIFICATIONS, status=503)  # reconnecting fails for now
    assert simulator.unifi.drop_websockets() == 1
    await _until(hass, lambda: coordinator.update_interval == SCAN)
    simulator.reset_requests()
    await tick(hass, freezer, push=True)
    assert _door_reads(simulator) == 1
    simulator.unifi.set_door_position(_portal(simulator), "open")  # not pushed: no socket
    await tick(hass, freezer, push=True)
    assert _door_reads(simulator) == 2
    assert hass.states.get(PORTAL_DOOR).state == STATE_ON

    # A door removed from the controller loses its device at the next poll.
    garage = {(DOMAIN, f"unifi_{UNIFI_GARAGE_DOOR_ID}")}
    assert device_registry.async_get_device(identifiers=garage) is not None
    assert coordinator.has_device(garage)
    del simulator.unifi.doors[UNIFI_GARAGE_DOOR_ID]
    await tick(hass, freezer, push=True)
    assert device_registry.async_get_device(identifiers=garage) is None
    assert not coordinator.has_device(garage)

    simulator.faults.remove(fault)
    await tick(hass, freezer, push=True)
    await simulator.unifi.wait_for_websockets(1)
    await _until(hass, lambda: coordinator.update_interval is None)
    simulator.reset_requests()
    await tick(hass, freezer, push=True)
    await tick(hass, freezer, push=True)
    assert _door_reads(simulator) == 0


async def test_push_reconnect_waits_15_minutes_after_a_retry_after_of_a_day(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 429 with a Retry-After of a day on the push socket: it is tried again after 15 minutes, not a day
    (polling carries on meanwhile)."""
    caplog.set_level(logging.DEBUG, logger="custom_components.kasify.api.unifi_access")
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    coordinator = _coordinator(entry)
    simulator.faults.inject(NOTIFICATIONS, status=429, headers={"Retry-After": "86400"}, times=1)
    assert simulator.unifi.drop_websockets() == 1
    await _until(hass, lambda: coordinator.update_interval == SCAN)
    await tick(hass, freezer, timedelta(seconds=2), push=True)  # past the first back-off
    await _until(hass, lambda: "HTTP 429" in caplog.text)  # refused, asked to wait a day
    await tick(hass, freezer, timedelta(minutes=14), push=True)
    assert simulator.unifi.websockets == 0
    await tick(hass, freezer, timedelta(minutes=1, seconds=1), push=True)
    await _until(hass, lambda: coordinator.update_interval is None)  # push is back


@pytest.fixture
def watchdog(no_heartbeat: None) -> Iterator[None]:
    """The push watchdog at its real interval (after ``no_heartbeat``, which turns it off)."""
    with patch.object(UnifiAccessCoordinator, "push_watchdog", PUSH_WATCHDOG_INTERVAL):
        yield


async def _minute(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A minute on: the timers fire (polls, the watchdog and its pings, back-off), then the sockets answer."""
    await tick(hass, freezer, PUSH_WATCHDOG_INTERVAL, push=True)
    for _ in range(300):
        await asyncio.sleep(0)


def _push_logs(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == level and r.getMessage().startswith("UniFi Access push")
    ]


@pytest.mark.usefixtures("watchdog")
async def test_a_quiet_push_is_not_a_silent_one(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, freezer: FrozenDateTimeFactory
) -> None:
    """No door changes for a long while: the controller answers the watchdog's pings, push stays up."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    simulator.reset_requests()
    for _ in range(3 * int(PUSH_SILENCE_TIMEOUT / PUSH_WATCHDOG_INTERVAL)):
        await _minute(hass, freezer)
    assert _coordinator(entry).update_interval is None
    assert simulator.count_requests("/api/v1/developer") == 0
    assert simulator.unifi.websockets == 1
    simulator.unifi.set_door_position(_portal(simulator), "open")
    await _until(hass, lambda: hass.states.get(PORTAL_DOOR).state == STATE_ON)


@pytest.mark.usefixtures("watchdog")
async def test_silent_push_falls_back_to_polling_until_it_speaks_again(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The socket stays open but nothing arrives: after the silence timeout polling picks up the door's
    change, one warning says so (not one per check or reconnect), and push takes over when it speaks again."""
    caplog.set_level(logging.DEBUG, logger="custom_components.kasify.api.unifi_access")
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    coordinator = _coordinator(entry)
    portal = _portal(simulator)
    simulator.unifi.push_silent = True
    simulator.unifi.set_door_position(portal, "open")  # not pushed: the controller says nothing
    simulator.reset_requests()

    minutes = int(PUSH_SILENCE_TIMEOUT / PUSH_WATCHDOG_INTERVAL)
    for minute in range(minutes + 3):
        assert (coordinator.update_interval is None) == (minute <= minutes)  # 5 minutes of silence allowed
        await _minute(hass, freezer)
    assert _door_reads(simulator) >= 1
    assert hass.states.get(PORTAL_DOOR).state == STATE_ON

    # Still silent: the socket is reopened after its back-off and closed again when it stays silent, while
    # polling goes on at its interval; no further warning.
    simulator.unifi.set_door_position(portal, "close")
    before = _door_reads(simulator)
    for _ in range(2 * minutes + 2):
        await _minute(hass, freezer)
    assert _door_reads(simulator) - before >= 2 * minutes
    assert hass.states.get(PORTAL_DOOR).state == STATE_OFF
    assert simulator.count_requests(NOTIFICATIONS) >= 2  # reconnected (still silent) at least twice
    assert [w for w in _push_logs(caplog, logging.WARNING) if "nothing received" in w] == [
        f"UniFi Access push: nothing received from https://{endpoint.host}:{endpoint.port} for 300 s "
        "although the socket was open; polling until push is back, reconnecting"
    ]

    # Push speaks again: it takes over, one info line, no more polling.
    simulator.unifi.push_silent = False
    for _ in range(minutes):
        if coordinator.update_interval is None:
            break
        await _minute(hass, freezer)
    assert coordinator.update_interval is None
    assert [line for line in _push_logs(caplog, logging.INFO) if "again" in line] == [
        f"UniFi Access push: connected to https://{endpoint.host}:{endpoint.port} again"
    ]
    simulator.reset_requests()
    await _minute(hass, freezer)
    await _minute(hass, freezer)
    assert _door_reads(simulator) == 0
    simulator.unifi.set_lock_rule(portal, "keep_unlock")
    await _until(hass, lambda: hass.states.get(PORTAL).state == LockState.UNLOCKED)
    assert len(_push_logs(caplog, logging.WARNING)) == 1  # one line for the whole outage
    assert endpoint.token not in caplog.text
    record("unifi_access", "refresh", "push-silent", "polled, 1 warning")


async def test_controller_without_push(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, freezer: FrozenDateTimeFactory
) -> None:
    """No WebSocket API (older Access): the entry works by polling, 1 request per interval."""
    simulator.faults.inject(NOTIFICATIONS, status=404)
    entry = unifi_entry(endpoint, title=TITLE)
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    # The listener ends once it has the 404 (time must not move before: a tick could time the attempt out).
    await hass.async_block_till_done(wait_background_tasks=True)
    assert simulator.count_requests(NOTIFICATIONS) == 1
    simulator.reset_requests()
    await tick(hass, freezer, push=True)
    await tick(hass, freezer, push=True)
    assert _door_reads(simulator) == 2
    assert simulator.count_requests(NOTIFICATIONS) == 0  # not retried
    assert _coordinator(entry).update_interval == SCAN


async def test_resync_failure_keeps_polling(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, freezer: FrozenDateTimeFactory
) -> None:
    """The doors cannot be read when push reconnects: polling goes on (nothing missed is trusted to push)."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    coordinator = _coordinator(entry)
    simulator.unifi.drop_websockets()
    await _until(hass, lambda: coordinator.update_interval == SCAN)
    fault = simulator.faults.inject(DOORS, method="GET", status=503, times=1)
    await tick(hass, freezer, timedelta(seconds=1), push=True)  # the reconnect, after its back-off
    await simulator.unifi.wait_for_websockets(1)
    await _until(hass, lambda: fault.exhausted)
    for _ in range(200):
        await asyncio.sleep(0)
    assert coordinator.update_interval == SCAN
    simulator.reset_requests()
    await tick(hass, freezer, push=True)
    assert _door_reads(simulator) == 1


async def test_unlock_is_optimistic_then_reads_that_door(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, freezer: FrozenDateTimeFactory
) -> None:
    """Unlock shows at once, sends one request and reads only that door; the relock is pushed."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    portal = _portal(simulator)
    states: list[str] = []

    @callback
    def _record(event: Event) -> None:
        # A callback runs in the event loop, in order: a plain function would run in the executor, where two
        # state changes can be recorded the wrong way round.
        if event.data["entity_id"] == PORTAL:
            states.append(event.data["new_state"].state)

    hass.bus.async_listen("state_changed", _record)
    simulator.reset_requests()
    await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: PORTAL}, blocking=True)
    assert [(r.method, r.path) for r in simulator.requests] == [
        ("PUT", f"{DOORS}/{portal}/unlock"),
        ("GET", f"{DOORS}/{portal}"),
    ]
    assert states[0] == LockState.UNLOCKING
    assert hass.states.get(PORTAL).state == LockState.UNLOCKED

    # The controller locks again by itself; the change is pushed.
    simulator.advance(timedelta(seconds=simulator.unifi.relock_delay))
    simulator.unifi.settle()
    await _until(hass, lambda: hass.states.get(PORTAL).state == LockState.LOCKED)

    # Lock = the lock_now rule (ends a keep-unlock at once).
    simulator.unifi.set_lock_rule(portal, "keep_unlock")
    await _until(hass, lambda: hass.states.get(PORTAL).state == LockState.UNLOCKED)
    simulator.reset_requests()
    await hass.services.async_call(LOCK_DOMAIN, "lock", {ATTR_ENTITY_ID: PORTAL}, blocking=True)
    assert simulator.requests[0].method == "PUT"
    assert simulator.requests[0].path == f"{DOORS}/{portal}/lock_rule"
    assert simulator.requests[0].body == {"type": "lock_now"}
    assert hass.states.get(PORTAL).state == LockState.LOCKED


async def test_failed_action_rolls_back(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """A refused unlock restores the state and says why; a door without a hub refuses before sending."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    simulator.unifi.set_offline(_portal(simulator))
    with pytest.raises(HomeAssistantError) as exc_info:
        await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: PORTAL}, blocking=True)
    assert exc_info.value.translation_key == "unlock_failed"
    assert hass.states.get(PORTAL).state == LockState.LOCKED

    with pytest.raises(HomeAssistantError) as exc_info:
        await hass.services.async_call(LOCK_DOMAIN, "lock", {ATTR_ENTITY_ID: PORTAL}, blocking=True)
    assert exc_info.value.translation_key == "lock_failed"
    assert hass.states.get(PORTAL).state == LockState.LOCKED

    simulator.reset_requests()
    for action, key in (("unlock", "unifi_unlock_not_supported"), ("lock", "unifi_lock_not_supported")):
        with pytest.raises(ServiceValidationError) as validation:
            await hass.services.async_call(LOCK_DOMAIN, action, {ATTR_ENTITY_ID: GARAGE_LOCK}, blocking=True)
        assert validation.value.translation_key == key
    assert simulator.requests == []
    assert hass.states.get(GARAGE_LOCK).state == LockState.LOCKED


async def test_action_accepted_but_reread_fails(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """The unlock went through but reading the door failed: no error, push shows where it ended up."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    portal = _portal(simulator)
    simulator.faults.inject(f"{DOORS}/{portal}", method="GET", status=503)
    await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: PORTAL}, blocking=True)
    await _until(hass, lambda: hass.states.get(PORTAL).state == LockState.UNLOCKED)


async def test_activity_events(hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint) -> None:
    """A PIN typed at the reader fires code_used with the visitor's name (never the PIN); a wrong one
    access_denied."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    portal = _portal(simulator)
    now = int(simulator.unifi.now().timestamp())
    visitor = simulator.unifi.create_visitor(
        {
            "first_name": "Ana",
            "last_name": "García",
            "start_time": now - 3600,
            "end_time": now + 3600,
            "visit_reason": "Others",
            "resources": [{"id": portal, "type": "door"}],
        }
    )
    simulator.unifi.assign_pin(visitor["id"], "482913")

    assert simulator.unifi.use_pin(portal, "482913")
    await _until(hass, lambda: hass.states.get(PORTAL_ACTIVITY).attributes.get("event_type") == "code_used")
    state = hass.states.get(PORTAL_ACTIVITY)
    assert state.attributes["by"] == "Ana García"
    assert state.attributes["method"] == "PIN_CODE"
    assert "482913" not in str(state.attributes)
    await _until(hass, lambda: hass.states.get(PORTAL).state == LockState.UNLOCKED)

    assert not simulator.unifi.use_pin(portal, "000000")
    await _until(
        hass, lambda: hass.states.get(PORTAL_ACTIVITY).attributes.get("event_type") == "access_denied"
    )


async def test_wrong_fingerprint_is_refused(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A certificate other than the pinned one: setup fails cleanly, with a repair issue; no request lands."""
    entry = unifi_entry(endpoint, title=TITLE, **{CONF_FINGERPRINT: ":".join(["00"] * 32)})
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = issue_registry.async_get_issue(DOMAIN, f"unifi_certificate_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "unifi_certificate_changed"
    assert issue.translation_placeholders["actual"] == endpoint.fingerprint
    assert simulator.count_requests("/api/v1/developer") == 0
    assert hass.states.get(PORTAL) is None

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, f"unifi_certificate_{entry.entry_id}") is None


async def test_untrusted_certificate_without_pin(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """Verification on and no pin against a self-signed controller: not loaded, nothing sent."""
    entry = unifi_entry(endpoint, title=TITLE, **{CONF_FINGERPRINT: ""})
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert simulator.count_requests("/api/v1/developer") == 0


async def test_certificate_changes_while_running(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The push reconnects to a controller with another certificate: repair issue, push stops, polling
    fails (unavailable) rather than trusting it."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    coordinator = _coordinator(entry)
    # As if the controller's certificate had been replaced: the pin no longer matches.
    coordinator.client._fingerprint = ":".join(["00"] * 32)
    coordinator.client._ssl = aiohttp.Fingerprint(bytes(32))
    simulator.unifi.drop_websockets()
    await _until(hass, lambda: coordinator.update_interval == SCAN)
    await tick(hass, freezer, timedelta(seconds=1), push=True)
    await _until(
        hass,
        lambda: issue_registry.async_get_issue(DOMAIN, f"unifi_certificate_{entry.entry_id}") is not None,
    )
    await tick(hass, freezer, push=True)
    assert hass.states.get(PORTAL).state == "unavailable"


async def test_token_revoked_starts_reauth(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, freezer: FrozenDateTimeFactory
) -> None:
    """The push is refused with 401 on reconnect: the entry asks for a new token."""
    entry = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, entry)
    simulator.unifi.token = "revoked"
    simulator.unifi.drop_websockets()
    await _until(hass, lambda: _coordinator(entry).update_interval == SCAN)
    await tick(hass, freezer, timedelta(seconds=1), push=True)
    await _until(
        hass,
        lambda: any(
            flow["context"]["source"] == SOURCE_REAUTH for flow in hass.config_entries.flow.async_progress()
        ),
    )


async def test_linked_to_kasify_property_and_shown_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """With both accounts the door hangs under its property and Kasify's copy goes (back on removal)."""
    (record,) = [lock for lock in simulator.kasify.smart_locks.values() if lock["vendor"] == "unifi"]

    def kasify_copies() -> list[str]:
        return [
            e.entity_id
            for e in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
            if e.unique_id.startswith(f"kasify_lock_{record['id']}-")
        ]

    assert kasify_copies()

    unifi = unifi_entry(endpoint, title=TITLE)
    await setup_integration(hass, unifi)
    await hass.async_block_till_done()
    door_device = device_registry.async_get_device(identifiers={(DOMAIN, f"unifi_{_portal(simulator)}")})
    property_device = device_registry.async_get_device(
        identifiers={property_identifier(record["property_id"])}
    )
    assert door_device.via_device_id == property_device.id
    assert kasify_copies() == []
    lock_id = entity_registry.async_get_entity_id("lock", DOMAIN, f"unifi_{_portal(simulator)}-lock")
    assert hass.states.get(lock_id).state == LockState.LOCKED

    assert await hass.config_entries.async_remove(unifi.entry_id)
    await hass.async_block_till_done()
    assert kasify_copies()


async def test_a_controller_that_reloads_is_not_asked_for_again(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The UniFi Access entry reloads: the Kasify entry reloads when it goes and again once it is back (its
    first reload may run while the controller is still connecting), so it ends up neither asking for a UniFi
    Access account nor showing a read-only copy of the door."""
    (record,) = [lock for lock in simulator.kasify.smart_locks.values() if lock["vendor"] == "unifi"]
    missing = f"missing_provider_unifi_{init_integration.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, missing) is not None
    unifi = unifi_entry(endpoint, title=TITLE)
    await _setup_with_push(hass, simulator, unifi)
    await background_done(hass)
    assert issue_registry.async_get_issue(DOMAIN, missing) is None

    assert await hass.config_entries.async_reload(unifi.entry_id)
    await background_done(hass)
    assert init_integration.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, missing) is None
    copies = [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), init_integration.entry_id)
        if e.unique_id.startswith(f"kasify_lock_{record['id']}-")
    ]
    assert copies == []
    assert (
        hass.states.get("lock.estudio_do_miradouro_principe_real_portal_rua_garrett").state
        == LockState.LOCKED
    )


async def test_config_flow_pins_the_presented_certificate(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, mock_setup_entry: Any
) -> None:
    """Against the real (self-signed) controller: verification refuses it, the form offers the certificate's
    fingerprint, and submitting it pins it."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "unifi_access"}
    )
    answers = {
        CONF_HOST: endpoint.host,
        CONF_PORT: endpoint.port,
        CONF_API_TOKEN: endpoint.token,
        CONF_VERIFY_SSL: True,
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], answers)
    assert result["errors"] == {"base": "untrusted_certificate"}
    values = {str(key): key.description["suggested_value"] for key in result["data_schema"].schema}
    assert values[CONF_FINGERPRINT] == endpoint.fingerprint

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**answers, CONF_FINGERPRINT: endpoint.fingerprint.lower()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"unifi_{endpoint.host}"
    assert simulator.count_requests(DOORS, "GET") == 1


async def test_certificate_not_checked_raises_a_repair(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Verification off and no pin: the controller is used, with a warning repair recommending a pin; it
    goes when the entry is reconfigured with a pin, unloaded or deleted."""
    issue_id = f"unifi_certificate_not_checked_{UNIFI_ENTRY_ID}"
    entry = unifi_entry(endpoint, title=TITLE, **{CONF_VERIFY_SSL: False, CONF_FINGERPRINT: ""})
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "unifi_certificate_not_checked"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    assert issue.translation_placeholders == {"account": TITLE}

    # Reconfigured with a pin (the reconfigure flow reloads the entry): the warning goes.
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_FINGERPRINT: endpoint.fingerprint})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    # Unpinned again, then unloaded: it goes with the entry.
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_FINGERPRINT: ""})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_pinned_certificate_without_verification_raises_no_repair(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, issue_registry: ir.IssueRegistry
) -> None:
    """Verification off but a pinned certificate: the pin is checked, so nothing to warn about."""
    entry = unifi_entry(endpoint, title=TITLE, **{CONF_VERIFY_SSL: False})
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, f"unifi_certificate_not_checked_{UNIFI_ENTRY_ID}") is None
