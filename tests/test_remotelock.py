"""RemoteLock accounts on the simulator: locks, actions, request budget, events, webhook, OAuth tokens."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN, LockState
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.kasify import application_credentials
from custom_components.kasify.const import (
    CONF_LOCATIONS,
    CONF_SCAN_INTERVAL,
    CONF_WEBHOOK,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOK_SECRET,
    DOMAIN,
    LOGGER,
)
from custom_components.kasify.links import STAY_CHANGE_INTERVAL
from custom_components.kasify.providers.remotelock import RemoteLockCoordinator
from custom_components.kasify.providers.remotelock.webhook_health import WEBHOOK_CHECK_INTERVAL
from simulator import Simulator
from simulator.remotelock import CLIENT_ID, CLIENT_SECRET

from . import setup_integration
from .fault_matrix import record
from .providers import (
    NOW,
    SCAN,
    WEBHOOK_ID,
    WEBHOOK_SECRET,
    refresh,
    remotelock_device_id,
    remotelock_entry,
    remotelock_kasify_entry,
    remotelock_oauth_entry,
    tick,
)

FRONT = "lock.puerta_de_servicio"
STORAGE = "lock.trastero"
GARAGE = "lock.garaje"
OFFICE = "lock.oficina"


def _paths(simulator: Simulator) -> list[str]:
    return sorted(f"{r.method} {r.path}" for r in simulator.requests)


async def test_entities_and_states(
    hass: HomeAssistant, simulator: Simulator, entity_registry: er.EntityRegistry
) -> None:
    """Every lock of the account (not its thermostat or resort lock), with battery and connectivity."""
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED

    assert hass.states.get(FRONT).state == LockState.LOCKED
    assert hass.states.get(STORAGE).state == LockState.UNLOCKED
    assert hass.states.get(OFFICE).state == LockState.LOCKED
    assert hass.states.get("sensor.puerta_de_servicio_battery").state == "76"
    assert hass.states.get("sensor.garaje_battery").state == "12"
    assert hass.states.get("binary_sensor.puerta_de_servicio_connectivity").state == "on"
    assert hass.states.get("binary_sensor.garaje_connectivity").state == "off"
    assert hass.states.get("event.puerta_de_servicio_activity") is not None
    locks = [
        e for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id) if e.domain == "lock"
    ]
    assert len(locks) == 4  # no thermostat, no resort lock
    # Lock and unlock only: RemoteLock has no unlatch.
    assert hass.states.get(FRONT).attributes["supported_features"] == 0


@pytest.mark.parametrize(
    ("upstream", "shown"),
    [
        ("locked", LockState.LOCKED),
        ("unlocked", LockState.UNLOCKED),
        ("jammed", LockState.JAMMED),
        ("unknown", STATE_UNKNOWN),
        (None, STATE_UNKNOWN),
    ],
)
async def test_each_state_value(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    upstream: str | None,
    shown: str,
) -> None:
    """Each ``state`` the API reports becomes the matching lock state."""
    await setup_integration(hass, remotelock_entry(simulator))
    simulator.remotelock.set_lock(remotelock_device_id(simulator, "Puerta de servicio"), state=upstream)
    await tick(hass, freezer)
    assert hass.states.get(FRONT).state == shown


async def test_requests_per_refresh(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """``ceil(locks / 50)`` device pages + 1 events request per refresh; locations and token only when due."""
    await setup_integration(hass, remotelock_entry(simulator))
    simulator.reset_requests()
    await tick(hass, freezer)
    assert _paths(simulator) == ["GET /remotelock/api/devices", "GET /remotelock/api/events"]

    location = next(iter(simulator.remotelock.locations))
    for number in range(120):
        simulator.remotelock.add_lock(f"Apartment {number:03}", location)
    simulator.reset_requests()
    await tick(hass, freezer)
    # 124 locks: 3 pages of 50.
    assert _paths(simulator) == ["GET /remotelock/api/devices"] * 3 + ["GET /remotelock/api/events"]
    assert len(hass.states.async_entity_ids(LOCK_DOMAIN)) == 124


async def test_lock_and_unlock_use_the_answer(hass: HomeAssistant, simulator: Simulator) -> None:
    """An action is one request: the answer is the device as it is now, no extra read."""
    await setup_integration(hass, remotelock_entry(simulator))
    device = remotelock_device_id(simulator, "Puerta de servicio")
    simulator.reset_requests()
    await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: FRONT}, blocking=True)
    assert _paths(simulator) == [f"PUT /remotelock/api/devices/{device}/unlock"]
    assert hass.states.get(FRONT).state == LockState.UNLOCKED
    assert simulator.remotelock.devices[device]["attributes"]["state"] == "unlocked"

    await hass.services.async_call(LOCK_DOMAIN, "lock", {ATTR_ENTITY_ID: FRONT}, blocking=True)
    assert hass.states.get(FRONT).state == LockState.LOCKED


async def test_failed_action_rolls_back(hass: HomeAssistant, simulator: Simulator) -> None:
    """A refused action restores the previous state and says why, translated."""
    await setup_integration(hass, remotelock_entry(simulator))
    device = remotelock_device_id(simulator, "Puerta de servicio")
    states: list[str] = []

    @callback
    def _record(event: Any) -> None:
        if event.data["entity_id"] == FRONT:
            states.append(event.data["new_state"].state)

    hass.bus.async_listen("state_changed", _record)
    simulator.faults.inject(f"/remotelock/api/devices/{device}/unlock", status=500, times=1)
    with pytest.raises(HomeAssistantError, match="Puerta de servicio") as err:
        await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: FRONT}, blocking=True)
    assert err.value.translation_key == "unlock_failed"
    assert states == [LockState.UNLOCKING, LockState.LOCKED]
    assert simulator.remotelock.devices[device]["attributes"]["state"] == "locked"

    simulator.remotelock.restricted.add(device)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(LOCK_DOMAIN, "lock", {ATTR_ENTITY_ID: FRONT}, blocking=True)
    assert err.value.translation_key == "remotelock_not_permitted"
    # Not permitted is not a refused login: no reauth.
    assert not list(hass.config_entries.flow.async_progress_by_handler(DOMAIN))


async def test_upstream_down_makes_locks_unavailable(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A failing API makes the locks unavailable; they come back with it."""
    await setup_integration(hass, remotelock_entry(simulator))
    fault = simulator.faults.inject("/remotelock/api/devices", status=503)
    await tick(hass, freezer)
    assert hass.states.get(FRONT).state == STATE_UNAVAILABLE
    simulator.faults.remove(fault)
    await tick(hass, freezer)
    assert hass.states.get(FRONT).state == LockState.LOCKED


async def test_polled_events_feed_the_activity_entity(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A PIN opening is one code_used (with the guest's name, never the PIN); denials and lows too."""
    await setup_integration(hass, remotelock_entry(simulator))
    front = remotelock_device_id(simulator, "Puerta de servicio")
    fired = _activity_recorder(hass)
    # The seeded history (before setup) is not replayed.
    await tick(hass, freezer)
    assert fired == []

    simulator.remotelock.use_pin(front, "2468")
    await tick(hass, freezer)
    assert [kind for kind, _ in fired] == ["code_used"]
    attributes = fired[0][1]
    guest = simulator.kasify.current_booking(simulator.kasify.property_at(0)["id"])
    assert attributes["by"] == guest["guest_name"]
    assert "2468" not in str(attributes)

    simulator.remotelock.use_pin(front, "9999")
    simulator.remotelock.add_event("power_level_low", front, power_level=9)
    await tick(hass, freezer)
    assert [kind for kind, _ in fired] == ["code_used", "access_denied", "battery_low"]
    assert fired[-1][1]["battery_level"] == 9


async def test_webhook_accepted_and_refused(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, hass_client_no_auth: Any
) -> None:
    """The right X-Secret is accepted and handled once; anything else is 401 and changes nothing."""
    entry = remotelock_entry(
        simulator, **{CONF_WEBHOOK: True, CONF_WEBHOOK_ID: WEBHOOK_ID, CONF_WEBHOOK_SECRET: WEBHOOK_SECRET}
    )
    await setup_integration(hass, entry)
    client = await hass_client_no_auth()
    front = remotelock_device_id(simulator, "Puerta de servicio")
    event = simulator.remotelock.lock_action(front, "unlock")  # noqa: F841 - the device changed upstream
    event_id = max(
        simulator.remotelock.events, key=lambda i: simulator.remotelock.events[i]["attributes"]["created_at"]
    )
    payload = simulator.remotelock.webhook_payload(event_id)
    url = f"/api/webhook/{WEBHOOK_ID}"

    for headers in ({}, {"X-Secret": "wrong"}, {"X-Secret": WEBHOOK_SECRET + "x"}):
        resp = await client.post(url, json=payload, headers=headers)
        assert resp.status == 401
    assert hass.states.get(FRONT).state == LockState.LOCKED

    resp = await client.post(url, json=payload, headers={"X-Secret": WEBHOOK_SECRET})
    assert resp.status == 200
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == LockState.UNLOCKED
    activity = hass.states.get("event.puerta_de_servicio_activity")
    assert activity.attributes["event_type"] == "unlocked"
    first_fired = activity.state

    # The same event again (a retry) changes nothing; push is healthy, so the events poll is skipped.
    resp = await client.post(url, json=payload, headers={"X-Secret": WEBHOOK_SECRET})
    assert resp.status == 200
    simulator.reset_requests()
    await tick(hass, freezer)
    assert _paths(simulator) == ["GET /remotelock/api/devices"]
    assert hass.states.get("event.puerta_de_servicio_activity").state == first_fired

    resp = await client.post(url, data=b"{not json", headers={"X-Secret": WEBHOOK_SECRET})
    assert resp.status == 400


async def test_refused_webhook_requests_warn_once(
    hass: HomeAssistant, simulator: Simulator, hass_client_no_auth: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A burst of requests without the right secret logs one warning, the rest at debug, until a request
    with the right secret arrives; the next refused one warns again."""
    entry = remotelock_entry(
        simulator, **{CONF_WEBHOOK: True, CONF_WEBHOOK_ID: WEBHOOK_ID, CONF_WEBHOOK_SECRET: WEBHOOK_SECRET}
    )
    await setup_integration(hass, entry)
    client = await hass_client_no_auth()
    url = f"/api/webhook/{WEBHOOK_ID}"

    def refusals() -> list[int]:
        return [
            r.levelno for r in caplog.records if "refused a request without the right secret" in r.message
        ]

    with caplog.at_level(logging.DEBUG, logger="custom_components.kasify"):
        for headers in ({}, {"X-Secret": "wrong"}, {"X-Secret": "wrong"}):
            assert (await client.post(url, json={}, headers=headers)).status == 401
        assert refusals() == [logging.WARNING, logging.DEBUG, logging.DEBUG]

        resp = await client.post(url, data=b"{not json", headers={"X-Secret": WEBHOOK_SECRET})
        assert resp.status == 400  # the right secret: a sender that knows it, whatever it sent
        assert (await client.post(url, json={}, headers={"X-Secret": "wrong"})).status == 401
        assert refusals() == [logging.WARNING, logging.DEBUG, logging.DEBUG, logging.WARNING]


async def test_a_late_webhook_delivery_does_not_undo_a_newer_state(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, hass_client_no_auth: Any
) -> None:
    """RemoteLock retries a failed delivery an hour later: an event older than the state shown (pushed or
    read) does not move the lock; it is still reported as activity, once; a newer one moves it."""
    # Polled every 3 hours: no poll runs unless the test asks for one.
    entry = remotelock_entry(
        simulator,
        **{
            CONF_WEBHOOK: True,
            CONF_WEBHOOK_ID: WEBHOOK_ID,
            CONF_WEBHOOK_SECRET: WEBHOOK_SECRET,
            CONF_SCAN_INTERVAL: 3 * 3600,
        },
    )
    await setup_integration(hass, entry)
    coordinator = entry.runtime_data.coordinator
    client = await hass_client_no_auth()
    front = remotelock_device_id(simulator, "Puerta de servicio")
    start = dt_util.utcnow()

    async def deliver(event: dict[str, Any]) -> None:
        payload = simulator.remotelock.webhook_payload(event["id"])
        resp = await client.post(
            f"/api/webhook/{WEBHOOK_ID}", json=payload, headers={"X-Secret": WEBHOOK_SECRET}
        )
        assert resp.status == 200
        await hass.async_block_till_done()

    # Unlocked at +1 min (its delivery failed), locked again at +2 min (delivered at once).
    late = simulator.remotelock.add_event("unlocked", front, occurred_at=start + timedelta(minutes=1))
    newer = simulator.remotelock.add_event("locked", front, occurred_at=start + timedelta(minutes=2))
    freezer.tick(timedelta(minutes=3))
    await deliver(newer)
    assert hass.states.get(FRONT).state == LockState.LOCKED
    freezer.tick(timedelta(hours=1))
    await deliver(late)  # RemoteLock's retry, an hour later
    assert hass.states.get(FRONT).state == LockState.LOCKED
    activity = hass.states.get("event.puerta_de_servicio_activity")
    assert activity.attributes["event_type"] == "unlocked"  # it did happen: reported, at its own time
    assert activity.attributes["at"] == (start + timedelta(minutes=1)).isoformat()
    await deliver(late)  # and again: nothing new
    assert hass.states.get("event.puerta_de_servicio_activity").state == activity.state

    # Older than the last read of the locks (which said locked): not applied either.
    freezer.tick(timedelta(minutes=1))
    await coordinator.async_refresh()
    assert simulator.count_requests("/remotelock/api/devices") > 0
    older_than_read = simulator.remotelock.add_event(
        "unlocked", front, occurred_at=dt_util.utcnow() - timedelta(seconds=30)
    )
    await deliver(older_than_read)
    assert hass.states.get(FRONT).state == LockState.LOCKED

    # A newer event moves the lock.
    freezer.tick(timedelta(seconds=5))
    await deliver(simulator.remotelock.add_event("unlocked", front, occurred_at=dt_util.utcnow()))
    assert hass.states.get(FRONT).state == LockState.UNLOCKED


async def test_locks_join_the_property_of_the_same_name(
    hass: HomeAssistant, simulator: Simulator, device_registry: dr.DeviceRegistry
) -> None:
    """Locations link to the Kasify property of the same name unless the options map them elsewhere."""
    await setup_integration(hass, remotelock_kasify_entry(simulator))
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    first = simulator.kasify.property_at(0)
    front = device_registry.async_get_device(
        {(DOMAIN, f"remotelock_{remotelock_device_id(simulator, 'Puerta de servicio')}")}
    )
    prop = device_registry.async_get_device({(DOMAIN, f"property_{first['id']}")})
    assert front.via_device_id == prop.id
    office = device_registry.async_get_device(
        {(DOMAIN, f"remotelock_{remotelock_device_id(simulator, 'Oficina')}")}
    )
    assert office.via_device_id is None

    # Mapped elsewhere in the options: the lock moves to that property.
    second = simulator.kasify.property_at(1)
    location = simulator.remotelock.devices[remotelock_device_id(simulator, "Oficina")]["attributes"][
        "location_id"
    ]
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_LOCATIONS: {location: f"property_{second['id']}"}}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    office = device_registry.async_get_device(
        {(DOMAIN, f"remotelock_{remotelock_device_id(simulator, 'Oficina')}")}
    )
    assert office.via_device_id == device_registry.async_get_device({(DOMAIN, f"property_{second['id']}")}).id


async def test_polls_faster_around_a_stay_change(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Within half an hour of a check-in or check-out on its property, the account is polled every 15 s."""
    await setup_integration(hass, remotelock_kasify_entry(simulator))
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, RemoteLockCoordinator)
    assert coordinator.update_interval == SCAN
    booking = simulator.kasify.current_booking(simulator.kasify.property_at(0)["id"])
    assert booking is not None
    check_out = dt_util.parse_datetime(booking["check_out"])
    assert check_out is not None
    freezer.move_to(check_out - timedelta(minutes=20))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    await coordinator.async_refresh()
    assert coordinator.update_interval == STAY_CHANGE_INTERVAL


async def test_oauth_token_rotation_is_persisted(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An authorization-code account: an expired token is renewed with the rotating refresh token, and the
    new tokens are in the config entry before they are used; a 403 renews it too."""
    monkeypatch.setattr(application_credentials, "OAUTH_URL", simulator.remotelock_oauth_url)
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), "remotelock"
    )
    entry = remotelock_oauth_entry(
        simulator,
        title="RemoteLock Sol y Mar",
        unique_id="remotelock_1",
        expires_at=0,  # expired: setup must renew it first
        options={CONF_SCAN_INTERVAL: 60},
    )
    old_refresh = entry.data["token"]["refresh_token"]
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    stored = entry.data["token"]
    assert stored["refresh_token"] != old_refresh
    assert simulator.remotelock.access_token_valid(stored["access_token"])
    assert hass.states.get(FRONT).state == LockState.LOCKED

    # The token is refused (403) before its expiry: renewed once, stored, and the request retried.
    simulator.remotelock.expire_access_tokens()
    await tick(hass, freezer)
    assert entry.data["token"]["access_token"] != stored["access_token"]
    assert entry.data["token"]["refresh_token"] != stored["refresh_token"]
    assert hass.states.get(FRONT).state == LockState.LOCKED

    # The user revokes the app: the refresh is refused and Home Assistant asks to sign in again.
    simulator.remotelock.revoke_authorization()
    await tick(hass, freezer)
    assert hass.states.get(FRONT).state == STATE_UNAVAILABLE
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_rate_limited_waits_for_the_reset(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 429 makes the locks unavailable and nothing is sent to the account until its Retry-After passed."""
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    coordinator = entry.runtime_data.coordinator
    simulator.faults.inject("/remotelock/api/devices", status=429, headers={"Retry-After": "2"}, times=1)
    await tick(hass, freezer)
    assert hass.states.get(FRONT).state == STATE_UNAVAILABLE
    simulator.reset_requests()
    freezer.tick(timedelta(seconds=1))
    await coordinator.async_refresh()  # still inside the 2 s
    assert simulator.requests == []
    # Past it (the client's limiter also held every request of the account for those seconds).
    await tick(hass, freezer, timedelta(seconds=60))
    assert hass.states.get(FRONT).state == LockState.LOCKED


async def test_a_retry_after_of_a_day_waits_15_minutes(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A Retry-After of a day holds neither the coordinator nor the client's limiter longer than 15 minutes:
    polling resumes then (so cancelled codes are still revoked)."""
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    simulator.faults.inject("/remotelock/api/devices", status=429, headers={"Retry-After": "86400"}, times=1)
    await tick(hass, freezer)
    assert hass.states.get(FRONT).state == STATE_UNAVAILABLE
    simulator.reset_requests()
    await tick(hass, freezer, timedelta(minutes=14))
    assert simulator.requests == []
    assert hass.states.get(FRONT).state == STATE_UNAVAILABLE
    await tick(hass, freezer, timedelta(minutes=1, seconds=1))
    await tick(hass, freezer)
    assert simulator.requests
    assert hass.states.get(FRONT).state == LockState.LOCKED


async def test_unnamed_code_use_and_unknown_locks(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A code use whose person cannot be read is still reported (unnamed); events of other devices are not."""
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    front = remotelock_device_id(simulator, "Puerta de servicio")
    simulator.faults.inject("/remotelock/api/access_persons", status=500)
    simulator.remotelock.use_pin(front, "2468")
    thermostat = next(d for d, r in simulator.remotelock.devices.items() if r["type"] == "thermostat")
    simulator.remotelock.add_event("connectivity", thermostat)
    await tick(hass, freezer)
    activity = hass.states.get("event.puerta_de_servicio_activity")
    assert activity.attributes["event_type"] == "code_used"
    assert "by" not in activity.attributes


async def test_seen_events_are_bounded(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the newest event ids are remembered (de-duplication never grows without bound)."""
    monkeypatch.setattr("custom_components.kasify.providers.remotelock.coordinator.SEEN_EVENTS", 3)
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    front = remotelock_device_id(simulator, "Puerta de servicio")
    for _ in range(5):
        simulator.remotelock.add_event("locked", front)
    await tick(hass, freezer)
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, RemoteLockCoordinator)
    assert len(coordinator._seen) == 3


async def test_a_renamed_guest_is_named_anew_and_names_are_bounded(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name a code use is reported with is read again after an hour (a guest renamed in RemoteLock shows
    with the new name), and only the newest names are kept, however many people use their codes."""
    monkeypatch.setattr("custom_components.kasify.providers.remotelock.coordinator.PERSON_NAMES", 3)
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    front = remotelock_device_id(simulator, "Puerta de servicio")
    fired = _activity_recorder(hass)
    guest = next(
        p for p in simulator.remotelock.access_persons.values() if p["attributes"].get("pin") == "2468"
    )
    old_name = guest["attributes"]["name"]
    simulator.remotelock.use_pin(front, "2468")
    await tick(hass, freezer)
    guest["attributes"]["name"] = "Ana (late check-out)"
    simulator.remotelock.use_pin(front, "2468")
    await tick(hass, freezer, timedelta(minutes=10))
    await tick(hass, freezer, timedelta(hours=1))
    simulator.remotelock.use_pin(front, "2468")
    await tick(hass, freezer)
    assert [attributes["by"] for kind, attributes in fired if kind == "code_used"] == [
        old_name,
        old_name,
        "Ana (late check-out)",
    ]

    for number in range(5):
        simulator.remotelock.add_access_person("access_user", f"Crew {number}", pin=f"10{number}7")
        simulator.remotelock.use_pin(front, f"10{number}7")
    await tick(hass, freezer)
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, RemoteLockCoordinator)
    assert len(coordinator._person_names) == 3


async def test_gone_locks_leave_and_can_be_deleted(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A lock removed upstream disappears without a reload; a current one cannot be deleted by hand."""
    from custom_components.kasify import async_remove_config_entry_device

    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    garage = remotelock_device_id(simulator, "Garaje")
    front = device_registry.async_get_device(
        {(DOMAIN, f"remotelock_{remotelock_device_id(simulator, 'Puerta de servicio')}")}
    )
    assert not await async_remove_config_entry_device(hass, entry, front)
    simulator.remotelock.remove_device(garage)
    await tick(hass, freezer)
    assert device_registry.async_get_device({(DOMAIN, f"remotelock_{garage}")}) is None
    assert hass.states.get(GARAGE) is None or hass.states.get(GARAGE).state == STATE_UNAVAILABLE


async def test_burst_of_200_requests_stays_under_the_limit(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 requests at once through the account's client: never more than 120 in any 60 s of simulated time,
    none refused with 429, and the rest wait for the window rather than fail."""
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    client = entry.runtime_data.client
    device = remotelock_device_id(simulator, "Puerta de servicio")
    stamps: list[float] = []
    acquire = client.limiter.acquire

    async def _acquire() -> None:
        await acquire()
        stamps.append(dt_util.utcnow().timestamp())  # the instant the request leaves, in simulated time

    monkeypatch.setattr(client.limiter, "acquire", _acquire)
    # Start with the limiter's window empty (setup's requests are a minute old). The simulator's clock and
    # Home Assistant's move together.
    simulator.advance(timedelta(seconds=61))
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    simulator.reset_requests()
    stamps.clear()

    async def _burst() -> list[Any]:
        return await asyncio.gather(*(client.get_lock(device) for _ in range(200)))

    burst = hass.async_create_task(_burst())
    for _ in range(200):
        if burst.done():
            break
        # Real time for the loopback requests (the loop's own clock is frozen with the test's).
        await hass.async_add_executor_job(time.sleep, 0.02)
        simulator.advance(timedelta(seconds=1))
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
    results = await burst
    assert len(results) == 200
    statuses = [r.status for r in simulator.requests]
    assert statuses.count(429) == 0
    assert len(stamps) >= 200  # the burst, plus any poll that fell due meanwhile (same budget)
    assert max(sum(1 for t in stamps if start <= t < start + 60) for start in stamps) <= 120
    assert stamps[-1] - stamps[0] >= 60  # the last 80 waited for the window to move


async def test_property_loaded_after_the_locks(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    """When the Kasify account loads after the RemoteLock one, the next refresh links the locks."""
    await setup_integration(hass, remotelock_entry(simulator))
    front_key = {(DOMAIN, f"remotelock_{remotelock_device_id(simulator, 'Puerta de servicio')}")}
    assert device_registry.async_get_device(front_key).via_device_id is None
    await setup_integration(hass, remotelock_kasify_entry(simulator))
    await tick(hass, freezer)
    prop = device_registry.async_get_device({(DOMAIN, f"property_{simulator.kasify.property_at(0)['id']}")})
    assert device_registry.async_get_device(front_key).via_device_id == prop.id


def _activity_recorder(hass: HomeAssistant) -> list[tuple[str, dict[str, Any]]]:
    fired: list[tuple[str, dict[str, Any]]] = []

    @callback
    def _record(event: Any) -> None:
        state = event.data["new_state"]
        if (
            event.data["entity_id"] == "event.puerta_de_servicio_activity"
            and state
            and state.attributes.get("event_type")
        ):
            fired.append((state.attributes["event_type"], dict(state.attributes)))

    hass.bus.async_listen("state_changed", _record)
    return fired


async def test_failed_events_are_denials_not_openings(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A PIN RemoteLock refused (``status: failed``) is one denial naming the guest, never a code use; a
    lock that failed to lock says so; neither moves the lock."""
    await setup_integration(hass, remotelock_entry(simulator))
    front = remotelock_device_id(simulator, "Puerta de servicio")
    person_id, person = next(iter(simulator.remotelock.access_persons.items()))
    fired = _activity_recorder(hass)
    await tick(hass, freezer)

    simulator.remotelock.add_event(
        "access_person_used", front, access_person_id=person_id, method="pin", status="failed"
    )
    simulator.remotelock.add_event("access_denied", front, method="pin", status="failed")
    simulator.remotelock.add_event("locked", front, status="failed")
    await tick(hass, freezer)
    assert [kind for kind, _ in fired] == ["access_denied", "failed"]
    assert fired[0][1]["by"] == person["attributes"]["name"]
    assert hass.states.get(FRONT).state == LockState.LOCKED


async def test_a_failed_unlock_pushed_by_webhook_does_not_move_the_lock(
    hass: HomeAssistant, simulator: Simulator, hass_client_no_auth: Any
) -> None:
    """An ``unlocked`` event whose status is ``failed`` (or not given) is not an opening."""
    entry = remotelock_entry(
        simulator, **{CONF_WEBHOOK: True, CONF_WEBHOOK_ID: WEBHOOK_ID, CONF_WEBHOOK_SECRET: WEBHOOK_SECRET}
    )
    await setup_integration(hass, entry)
    client = await hass_client_no_auth()
    front = remotelock_device_id(simulator, "Puerta de servicio")
    fired = _activity_recorder(hass)
    for minutes, status in ((1, "failed"), (2, None)):
        event = simulator.remotelock.add_event(
            "unlocked", front, status="failed", occurred_at=NOW + timedelta(minutes=minutes)
        )
        if status is None:
            del event["attributes"]["status"]
        payload = simulator.remotelock.webhook_payload(event["id"])
        resp = await client.post(
            f"/api/webhook/{WEBHOOK_ID}", json=payload, headers={"X-Secret": WEBHOOK_SECRET}
        )
        assert resp.status == 200
        await hass.async_block_till_done()
        assert hass.states.get(FRONT).state == LockState.LOCKED
    assert [kind for kind, _ in fired] == ["access_denied", "access_denied"]


async def test_webhook_answers_before_asking_remotelock(
    hass: HomeAssistant, simulator: Simulator, hass_client_no_auth: Any
) -> None:
    """RemoteLock wants an answer within 3 seconds: the delivery is answered once the secret is checked, and
    the code use is named (a request to RemoteLock, which may wait for the rate limit) afterwards."""
    entry = remotelock_entry(
        simulator, **{CONF_WEBHOOK: True, CONF_WEBHOOK_ID: WEBHOOK_ID, CONF_WEBHOOK_SECRET: WEBHOOK_SECRET}
    )
    await setup_integration(hass, entry)
    client = await hass_client_no_auth()
    front = remotelock_device_id(simulator, "Puerta de servicio")
    person_id, _person = next(iter(simulator.remotelock.access_persons.items()))
    fired = _activity_recorder(hass)
    event = simulator.remotelock.add_event(
        "access_person_used", front, access_person_id=person_id, method="pin"
    )
    payload = simulator.remotelock.webhook_payload(event["id"])
    answered = asyncio.Event()

    async def _slow_name(self: RemoteLockCoordinator, person: str) -> str:
        await answered.wait()  # RemoteLock is slow to answer the look-up
        return "Ana"

    with patch.object(RemoteLockCoordinator, "_person_name", _slow_name):
        post = hass.async_create_task(
            client.post(f"/api/webhook/{WEBHOOK_ID}", json=payload, headers={"X-Secret": WEBHOOK_SECRET})
        )
        for _ in range(500):
            if post.done():
                break
            await asyncio.sleep(0)
        done = post.done()
        answered.set()
        resp = await post
        await hass.async_block_till_done()
    assert done, "the delivery waited for RemoteLock"
    assert resp.status == 200
    assert [(kind, attributes["by"]) for kind, attributes in fired] == [("code_used", "Ana")]


async def test_a_sleeping_lock_shows_the_action_pending_until_confirmed(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A Wi-Fi lock that is not connected takes the command when it wakes (or never): until a later read
    confirms it the lock shows unlocking, never unlocked."""
    await setup_integration(hass, remotelock_entry(simulator))
    device = remotelock_device_id(simulator, "Puerta de servicio")
    simulator.remotelock.set_lock(device, connected=False)
    await tick(hass, freezer)
    await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: FRONT}, blocking=True)
    assert hass.states.get(FRONT).state == LockState.UNLOCKING

    # It woke up and unlocked: the next poll confirms.
    simulator.remotelock.set_lock(device, connected=True)
    await tick(hass, freezer)
    assert hass.states.get(FRONT).state == LockState.UNLOCKED
    assert not ir.async_get(hass).issues


async def test_an_unconfirmed_action_times_out_to_the_last_known_state(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A sleeping lock that never acts: after half an hour the lock shows its last confirmed state again and a
    repair issue says the unlock was not confirmed; a later confirmed state clears it."""
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    device = remotelock_device_id(simulator, "Puerta de servicio")
    simulator.remotelock.set_lock(device, connected=False)
    await tick(hass, freezer)
    await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: FRONT}, blocking=True)
    simulator.remotelock.set_lock(device, state="locked")  # it never did
    for _ in range(29):
        await tick(hass, freezer)
    assert hass.states.get(FRONT).state == LockState.UNLOCKING
    await tick(hass, freezer)
    await tick(hass, freezer)
    assert hass.states.get(FRONT).state == LockState.LOCKED
    (issue,) = ir.async_get(hass).issues.values()
    assert issue.translation_key == "remotelock_action_unconfirmed"
    assert issue.translation_placeholders == {"lock": "Puerta de servicio", "action": "unlock"}

    simulator.remotelock.set_lock(device, connected=True)
    await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: FRONT}, blocking=True)
    assert hass.states.get(FRONT).state == LockState.UNLOCKED
    assert not ir.async_get(hass).issues


async def test_a_pushed_event_from_the_lock_confirms_the_action(
    hass: HomeAssistant, simulator: Simulator, hass_client_no_auth: Any
) -> None:
    """The lock's own ``unlocked`` event (webhook) confirms an unlock it had not confirmed yet."""
    entry = remotelock_entry(
        simulator, **{CONF_WEBHOOK: True, CONF_WEBHOOK_ID: WEBHOOK_ID, CONF_WEBHOOK_SECRET: WEBHOOK_SECRET}
    )
    await setup_integration(hass, entry)
    client = await hass_client_no_auth()
    device = remotelock_device_id(simulator, "Puerta de servicio")
    simulator.remotelock.set_lock(device, connected=False)
    await refresh(hass, entry)
    await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: FRONT}, blocking=True)
    assert hass.states.get(FRONT).state == LockState.UNLOCKING
    event = simulator.remotelock.add_event("unlocked", device, occurred_at=NOW + timedelta(minutes=5))
    payload = simulator.remotelock.webhook_payload(event["id"])
    resp = await client.post(f"/api/webhook/{WEBHOOK_ID}", json=payload, headers={"X-Secret": WEBHOOK_SECRET})
    assert resp.status == 200
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == LockState.UNLOCKED


# --- a webhook RemoteLock deactivated -----------------------------------------------------------------------


def _answered(simulator: Simulator) -> list[str]:
    """The API requests answered, in order (not the token, nor a request refused for an expired one)."""
    return [f"{r.method} {r.path}" for r in simulator.requests if "/api/" in r.path and r.status != 403]


async def _with_webhook(
    hass: HomeAssistant, simulator: Simulator, hass_client_no_auth: Any
) -> MockConfigEntry:
    """An entry whose webhook was turned on in the options: the simulator delivers to this Home Assistant."""
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    hass.config.internal_url = str((await hass_client_no_auth()).make_url("")).rstrip("/")
    hass.config.external_url = hass.config.internal_url
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "webhook"})
    await hass.config_entries.options.async_configure(result["flow_id"], {CONF_WEBHOOK: True})
    await hass.async_block_till_done()
    return entry


async def _deliveries_fail_for_72_hours(simulator: Simulator, device: str, action: str) -> None:
    """An event whose delivery fails, retried hourly until RemoteLock deactivates the webhook."""
    state = simulator.remotelock
    state.lock_action(device, action)
    await state.drain_webhooks()
    for hours in (1, 71):
        simulator.advance(timedelta(hours=hours))
        state.retry_webhooks()
        assert not (await state.drain_webhooks())[-1].acknowledged
    assert not next(iter(state.notification_subscribers.values()))["attributes"]["active"]


def _issue_log(hass: HomeAssistant) -> list[tuple[str, str]]:
    log: list[tuple[str, str]] = []
    hass.bus.async_listen(
        ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED,
        callback(lambda event: log.append((event.data["action"], event.data["issue_id"]))),
    )
    return log


async def test_a_webhook_remotelock_deactivated_is_noticed_and_activated_again(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Home Assistant unreachable for 72 hours: RemoteLock deactivates the webhook. The hourly check notices
    it, the missed event is polled, one warning and one repair, and the webhook is activated again at Home
    Assistant's URL (the repair goes); deliveries then arrive again."""
    entry = await _with_webhook(hass, simulator, hass_client_no_auth)
    state = simulator.remotelock
    [subscriber] = state.notification_subscribers.values()
    url = subscriber["attributes"]["url"]
    subscriber["attributes"]["url"] = "http://127.0.0.1:9/unreachable"  # as if Home Assistant were offline
    front = remotelock_device_id(simulator, "Puerta de servicio")
    fired, issues = _activity_recorder(hass), _issue_log(hass)
    await _deliveries_fail_for_72_hours(simulator, front, "unlock")

    simulator.reset_requests()
    await tick(hass, freezer, WEBHOOK_CHECK_INTERVAL)
    subscriber_path = f"/remotelock/api/notification_subscribers/{subscriber['id']}"
    assert _answered(simulator) == [
        "GET /remotelock/api/devices",
        f"GET {subscriber_path}",
        f"PUT {subscriber_path}",  # activated again
        "GET /remotelock/api/events",
    ]
    assert [kind for kind, _ in fired] == ["unlocked"]  # the missed event, polled
    issue_id = f"remotelock_webhook_{entry.entry_id}"
    assert issues == [("create", issue_id), ("remove", issue_id)]
    assert (subscriber["attributes"]["active"], subscriber["attributes"]["url"]) == (True, url)
    warnings = [
        r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == LOGGER.name
    ]
    assert warnings == [
        f"RemoteLock: the webhook of {entry.title} is inactive at RemoteLock (it deactivates one that fails "
        "for 72 hours); its events are polled meanwhile"
    ]
    assert entry.options[CONF_WEBHOOK_SECRET] not in caplog.text
    assert url.rsplit("/", 1)[1] not in caplog.text  # the webhook id

    state.lock_action(front, "lock")
    assert (await state.drain_webhooks())[-1].status == 200
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == LockState.LOCKED
    simulator.reset_requests()
    await tick(hass, freezer)
    assert _answered(simulator) == ["GET /remotelock/api/devices"]  # delivering: no events poll
    record("remotelock", "webhook", "deactivated", "polled, repair, re-activated")


async def test_a_webhook_that_cannot_deliver_is_left_to_the_user(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, hass_client_no_auth: Any
) -> None:
    """Activated again but deactivated again before it delivered: not activated a second time, the repair
    stays; deleted at RemoteLock: not created again; turning the webhook off clears the repair."""
    entry = await _with_webhook(hass, simulator, hass_client_no_auth)
    state = simulator.remotelock
    [subscriber] = state.notification_subscribers.values()
    subscriber["attributes"]["secret"] = "not-the-one"  # Home Assistant answers 401
    front = remotelock_device_id(simulator, "Puerta de servicio")
    await _deliveries_fail_for_72_hours(simulator, front, "unlock")
    await tick(hass, freezer, WEBHOOK_CHECK_INTERVAL)
    assert subscriber["attributes"]["active"]  # activated again
    await _deliveries_fail_for_72_hours(simulator, front, "lock")

    simulator.reset_requests()
    await tick(hass, freezer, WEBHOOK_CHECK_INTERVAL)
    assert not [call for call in _answered(simulator) if call.startswith("PUT")]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"remotelock_webhook_{entry.entry_id}")
    assert issue is not None
    assert (issue.translation_key, issue.translation_placeholders) == (
        "remotelock_webhook_deactivated",
        {"account": entry.title},
    )
    assert hass.states.get(FRONT).state == LockState.LOCKED  # polled meanwhile

    state.delete_subscriber(subscriber["id"])
    simulator.reset_requests()
    await tick(hass, freezer, WEBHOOK_CHECK_INTERVAL)
    assert not [call for call in _answered(simulator) if call.startswith("POST")]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"remotelock_webhook_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "remotelock_webhook_missing"

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "webhook"})
    await hass.config_entries.options.async_configure(result["flow_id"], {CONF_WEBHOOK: False})
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"remotelock_webhook_{entry.entry_id}") is None
    record("remotelock", "webhook", "deactivated-again", "polled, repair kept")
