"""Stay state per property, the guest's arrival by their own code, early check-out and the access log.

Real Nuki keypads and a UniFi Access door in the simulator hold the bookings' automatic codes; the guest
"types" them on the simulated locks, and the lock accounts report the use by the code's id.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.kasify.api.models import AccountSnapshot, Booking, BookingStatus, Property
from custom_components.kasify.code_use import SIGNAL_CODE_USE, CodeUse
from custom_components.kasify.const import (
    CONF_AUTO_CODES,
    CONF_AUTO_CODES_END_OFFSET,
    CONF_AUTO_CODES_LEAD_HOURS,
    CONF_AUTO_CODES_START_OFFSET,
    DOMAIN,
    EVENT_CHECK_OUT,
)
from custom_components.kasify.stay_state import EVENT_GUEST_ARRIVED, next_change, storage_key
from simulator import Simulator
from simulator.unifi_access import UnifiEndpoint

from . import setup_integration
from .providers import (
    ENTRY_ID,
    KASIFY_OPTIONS,
    LOFT,
    LOFT_ID,
    NOW,
    background_done,
    create_code,
    kasify_entry,
    keypad_codes,
    move_to,
    nuki_entry,
    property_device_id,
    readme_example,
    refresh,
    remotelock_device_id,
    remotelock_entry,
    tick,
    unifi_entry,
    upstream_writes,
)

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("fast_nuki", "no_heartbeat")]

AUTO_OPTIONS = {
    **KASIFY_OPTIONS,
    CONF_AUTO_CODES: True,
    CONF_AUTO_CODES_LEAD_HOURS: 48,
    CONF_AUTO_CODES_START_OFFSET: 0,
    CONF_AUTO_CODES_END_OFFSET: 30,
}
PORTAL = "lock.portal_rua_garrett"
REMOTELOCK_FRONT = (
    "lock.puerta_de_servicio"  # the UniFi door, moved to the Loft, added before the Kasify account
)


async def _move_to(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, instant: datetime
) -> None:
    simulator.clock.set(instant)
    await move_to(hass, freezer, instant, push=True)


def _capture(hass: HomeAssistant, event_type: str) -> list[Event]:
    events: list[Event] = []

    @callback
    def _listener(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(event_type, _listener)
    return events


def _louis(simulator: Simulator) -> dict[str, Any]:
    """Louis Lefebvre, in the Loft since 12 March until 19 March."""
    loft = simulator.kasify.property_at(0)
    return next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == loft["id"] and b["guest_name"] == "Louis Lefebvre"
    )


def _entity(hass: HomeAssistant, domain: str, property_id: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(domain, DOMAIN, f"property_{property_id}-{key}")
    assert entity_id is not None
    return entity_id


def _louis_pin(simulator: Simulator) -> int:
    (auth,) = [a for a in keypad_codes(simulator, LOFT_ID).values() if a["name"] == "Louis Lefebvre"]
    return int(auth["code"])


async def _setup(hass: HomeAssistant, simulator: Simulator, *entries: MockConfigEntry) -> MockConfigEntry:
    for entry in entries:
        await setup_integration(hass, entry)
    kasify = kasify_entry(simulator, options=AUTO_OPTIONS)
    await setup_integration(hass, kasify)
    await background_done(hass)
    return kasify


async def _access(hass: HomeAssistant, booking_id: str) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "get_booking_access", {"booking_id": booking_id}, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


async def test_the_guest_arrives_once_by_their_own_nuki_code(
    hass: HomeAssistant, simulator: Simulator, hass_storage: dict[str, Any]
) -> None:
    """The first use of Louis's keypad code fires kasify_guest_arrived and the stay event's guest_arrived,
    once: not for a second use, not after a restart, never for a wrong code; the access log has them all."""
    nuki = nuki_entry(simulator)
    kasify = await _setup(hass, simulator, nuki)
    louis = _louis(simulator)
    loft_id = louis["property_id"]
    arrived = _capture(hass, EVENT_GUEST_ARRIVED)
    notified = async_mock_service(hass, "notify", "host")
    example = readme_example("Stay state and arrival", {"notify.mobile_app_ana_phone": "notify.host"})
    assert await async_setup_component(hass, "automation", {"automation": [{"id": "arrival", **example}]})
    state = _entity(hass, "sensor", loft_id, "stay_state")
    assert hass.states.get(state).state == "occupied"
    assert hass.states.get(state).attributes["arrived_at"] is None

    simulator.nuki.use_code(LOFT_ID, 111111)  # somebody else's guess: an invalid code naming nobody
    await refresh(hass, nuki)
    assert arrived == []
    pin = _louis_pin(simulator)
    simulator.nuki.use_code(LOFT_ID, pin)
    await refresh(hass, nuki)

    assert len(arrived) == 1
    data = arrived[0].data
    assert data["booking_id"] == louis["id"]
    assert data["guest_name"] == "Louis Lefebvre"
    assert data["lock"] == LOFT
    assert data["at"] == NOW.isoformat()
    assert data["device_id"] == property_device_id(hass, loft_id)
    assert str(pin) not in str(data)
    stay = hass.states.get(_entity(hass, "event", loft_id, "stay"))
    assert stay.attributes["event_type"] == "guest_arrived"
    assert stay.attributes["lock"] == LOFT
    assert hass.states.get(state).attributes["arrived_at"] == NOW.isoformat()
    assert str(pin) not in str(hass_storage[storage_key(kasify.entry_id)])
    await hass.async_block_till_done()
    assert [call.data["message"] for call in notified] == [
        "Louis Lefebvre is in at Loft Patio Lavapiés (Loft Patio Lavapiés - Puerta principal)."
    ]

    simulator.nuki.use_code(LOFT_ID, pin)
    await refresh(hass, nuki)
    assert await hass.config_entries.async_reload(kasify.entry_id)  # a restart of the stay facts
    await background_done(hass)
    simulator.nuki.use_code(LOFT_ID, pin)
    await refresh(hass, nuki)
    assert len(arrived) == 1
    assert len(notified) == 1

    access = await _access(hass, louis["id"])
    assert access["first_entry"] == NOW.isoformat()
    assert access["guest_name"] == "Louis Lefebvre"
    assert len(access["entries"]) == 3
    assert access["locks_used"] == [LOFT]
    assert access["denied_attempts"] == []
    assert str(pin) not in str(access)
    await hass.config_entries.async_unload(kasify.entry_id)  # before the providers, whose unload reloads it


async def test_a_unifi_visitor_pin_is_an_arrival_and_refusals_are_logged(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """Louis's visitor PIN at the UniFi door of the Loft is his arrival; a refused use of his code is a
    denied attempt in his access log, not an arrival; a code the engine did not issue is nobody's."""
    _portal_at_the_loft(simulator)
    kasify = await _setup(hass, simulator, nuki_entry(simulator), unifi_entry(endpoint))
    louis = _louis(simulator)
    arrived = _capture(hass, EVENT_GUEST_ARRIVED)
    visitor = next(
        vid
        for vid, v in simulator.unifi.visitors.items()
        if f"{v['first_name']} {v['last_name']}" == "Louis Lefebvre"
    )
    door = next(iter(simulator.unifi.doors))
    async_dispatcher_send(hass, SIGNAL_CODE_USE, CodeUse(f"unifi_{door}", visitor, False, NOW))
    async_dispatcher_send(hass, SIGNAL_CODE_USE, CodeUse(f"unifi_{door}", "someone-else", True, NOW))
    await background_done(hass)
    assert arrived == []

    assert simulator.unifi.use_pin(door, simulator.unifi.pins[visitor]) is True
    for _ in range(3000):  # the push arrives over the socket (time is frozen)
        if arrived:
            break
        await asyncio.sleep(0)
    await background_done(hass)

    assert [event.data["lock"] for event in arrived] == [PORTAL]
    access = await _access(hass, louis["id"])
    assert access["denied_attempts"] == [{"at": NOW.isoformat(), "lock": PORTAL}]
    assert access["locks_used"] == [PORTAL]
    await hass.config_entries.async_unload(kasify.entry_id)


def _portal_at_the_loft(simulator: Simulator) -> None:
    """The UniFi door of the Estúdio is moved to the Loft, which then has a Nuki lock and a UniFi door."""
    state = simulator.kasify
    loft, estudio = state.property_at(0), state.property_at(1)
    (door,) = state.locks_for(estudio["id"])
    state.remove_lock(door["id"])
    unifi = door["unifi_smartlock"]
    state.add_unifi_lock(
        loft["id"],
        door["name"],
        floor_id=unifi["floor_id"],
        door_id=unifi["door_id"],
        door_name=unifi["name"],
    )


async def _check_out_now(hass: HomeAssistant, property_id: str, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "check_out_now",
        {"property": property_device_id(hass, property_id), **data},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    return response


async def test_check_out_now_ends_the_stay_and_the_codes_for_good(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Louis leaves early: his code ends in 15 minutes, the stay state is checked out (also after a restart)
    and kasify_check_out fires with early; the automatic codes do not move his code back, and nothing fires
    again at his booked check-out. Once the turnover's cleaning is completed the state moves on."""
    kasify = await _setup(hass, simulator, nuki_entry(simulator))
    louis = _louis(simulator)
    loft_id = louis["property_id"]
    check_outs = _capture(hass, EVENT_CHECK_OUT)
    state = _entity(hass, "sensor", loft_id, "stay_state")
    pin = _louis_pin(simulator)

    response = await _check_out_now(hass, loft_id)

    codes_end = NOW + timedelta(minutes=15)
    assert response == {
        "booking_id": louis["id"],
        "guest_name": "Louis Lefebvre",
        "checked_out_at": NOW.isoformat(),
        "codes_end": codes_end.isoformat(),
        "locks": [LOFT],
    }
    (code,) = [a for a in keypad_codes(simulator, LOFT_ID).values() if a["name"] == "Louis Lefebvre"]
    assert code["allowedUntilDate"] == "2026-03-14T12:15:00.000Z"
    assert code["code"] == pin
    assert hass.states.get(state).state == "checked_out"
    assert hass.states.get(state).attributes["checked_out_early_at"] == NOW.isoformat()
    assert [(e.data["booking_id"], e.data["early"]) for e in check_outs] == [(louis["id"], True)]
    stay = hass.states.get(_entity(hass, "event", loft_id, "stay"))
    assert (stay.attributes["event_type"], stay.attributes["early"]) == ("check_out", True)

    simulator.requests.clear()
    await refresh(hass, kasify, push=True)
    assert upstream_writes(simulator) == []  # the automatic codes take the shorter window as it is
    assert await hass.config_entries.async_reload(kasify.entry_id)
    await background_done(hass)
    assert hass.states.get(state).state == "checked_out"
    with pytest.raises(ServiceValidationError) as err:
        await _check_out_now(hass, loft_id)
    assert err.value.translation_key == "no_stay_in_progress"

    await _move_to(hass, simulator, freezer, NOW + timedelta(minutes=31))
    assert "Louis Lefebvre" not in {a["name"] for a in keypad_codes(simulator, LOFT_ID).values()}
    await _move_to(
        hass, simulator, freezer, datetime.fromisoformat(louis["check_out"]) + timedelta(seconds=1)
    )
    ours = [e for e in check_outs if e.data["booking_id"] == louis["id"]]
    assert len(ours) == 1  # the booked check-out does not fire again

    task = simulator.kasify.add_task(loft_id, "Limpieza", task_type="cleaning", booking_id=louis["id"])
    await refresh(hass, kasify, push=True)
    assert hass.states.get(state).state == "checked_out"
    simulator.kasify.complete_task(task["id"])
    await refresh(hass, kasify, push=True)
    assert hass.states.get(state).state in ("ready", "guest_arriving", "vacant")
    await hass.config_entries.async_unload(kasify.entry_id)


async def test_ready_for_next_guest_counts_the_cleaning_after_an_early_check_out(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Louis leaves five days early and the loft is cleaned the same afternoon: *Stay state* moves on and
    *Ready for next guest* no longer says ``not_cleaned`` (both read the turnover the same way)."""
    kasify = await _setup(hass, simulator, nuki_entry(simulator))
    louis = _louis(simulator)
    loft_id = louis["property_id"]
    state = _entity(hass, "sensor", loft_id, "stay_state")
    ready = _entity(hass, "binary_sensor", loft_id, "ready_for_next_guest")
    assert "not_cleaned" in hass.states.get(ready).attributes["blocking_reasons"]

    await _check_out_now(hass, loft_id)
    await _move_to(hass, simulator, freezer, NOW + timedelta(hours=1))
    simulator.kasify.add_task(
        loft_id,
        "Limpieza",
        task_type="cleaning",
        status="completed",
        completed_at=(NOW + timedelta(minutes=50)).isoformat().replace("+00:00", "Z"),
    )
    await refresh(hass, kasify, push=True)
    await _move_to(hass, simulator, freezer, NOW + timedelta(hours=1, minutes=2))

    assert hass.states.get(state).state in ("ready", "guest_arriving", "vacant")
    assert "not_cleaned" not in hass.states.get(ready).attributes["blocking_reasons"]
    await hass.config_entries.async_unload(kasify.entry_id)


async def test_check_out_now_rolls_back_when_a_lock_fails(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """The UniFi door refuses the shorter window: the Nuki code gets its window back, the stay goes on, and
    nothing fires; the error is translated and names the guest."""
    _portal_at_the_loft(simulator)
    kasify = await _setup(hass, simulator, nuki_entry(simulator), unifi_entry(endpoint))
    louis = _louis(simulator)
    check_outs = _capture(hass, EVENT_CHECK_OUT)
    (before,) = [a for a in keypad_codes(simulator, LOFT_ID).values() if a["name"] == "Louis Lefebvre"]
    until = before["allowedUntilDate"]
    simulator.faults.inject("/api/v1/developer/visitors/", method="PUT", status=500)

    with pytest.raises(HomeAssistantError) as err:
        await _check_out_now(hass, louis["property_id"], codes_valid_for=5)

    assert err.value.translation_key == "check_out_codes_failed"
    assert err.value.translation_placeholders["guest"] == "Louis Lefebvre"
    (after,) = [a for a in keypad_codes(simulator, LOFT_ID).values() if a["name"] == "Louis Lefebvre"]
    assert after["allowedUntilDate"] == until
    assert hass.states.get(_entity(hass, "sensor", louis["property_id"], "stay_state")).state == "occupied"
    assert check_outs == []
    await hass.config_entries.async_unload(kasify.entry_id)


async def test_stay_states_through_a_turnover(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Ready while the next guest is days away, guest arriving from the midnight of the check-in day (the
    property's time zone), occupied, checked out until the turnover's cleaning task is completed, then
    vacant; with the booking in the attributes."""
    prop = simulator.kasify.add_property("Casa de Pruebas")
    check_in = datetime.fromisoformat("2026-03-16T15:00:00+00:00")
    check_out = check_in + timedelta(days=2)
    booking = simulator.kasify.add_booking(prop["id"], "Ana García", check_in, check_out)
    await refresh(hass, init_integration)
    await hass.async_block_till_done()
    state = _entity(hass, "sensor", prop["id"], "stay_state")
    assert hass.states.get(state).state == "ready"
    assert hass.states.get(state).attributes["booking_id"] == booking["id"]

    zone = dt_util.get_default_time_zone()  # no zone in the property's settings: Home Assistant's
    midnight = datetime.combine(check_in.astimezone(zone).date(), time(0), zone)
    await _move_to(hass, simulator, freezer, midnight - timedelta(seconds=1))
    assert hass.states.get(state).state == "ready"
    await _move_to(hass, simulator, freezer, midnight)
    assert hass.states.get(state).state == "guest_arriving"
    await _move_to(hass, simulator, freezer, check_in)
    assert hass.states.get(state).state == "occupied"
    await _move_to(hass, simulator, freezer, check_out)
    assert hass.states.get(state).state == "checked_out"
    assert hass.states.get(state).attributes["guest_name"] == "Ana García"

    task = simulator.kasify.add_task(prop["id"], "Limpieza", task_type="cleaning")
    simulator.kasify.complete_task(task["id"])
    await refresh(hass, init_integration)
    assert hass.states.get(state).state == "vacant"
    assert "booking_id" not in hass.states.get(state).attributes


async def test_a_remotelock_access_guest_is_an_arrival(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Louis's access guest at a RemoteLock lock: a use before the lock has synced the grant is refused (a
    denied attempt in his log, no arrival); once synced, his PIN is his arrival, named by the access guest."""
    await setup_integration(hass, remotelock_entry(simulator))
    kasify = kasify_entry(simulator)
    await setup_integration(hass, kasify)
    louis = _louis(simulator)
    arrived = _capture(hass, EVENT_GUEST_ARRIVED)
    response = await create_code(
        hass,
        REMOTELOCK_FRONT,
        name="Louis Lefebvre",
        starts_at=(NOW - timedelta(hours=1)).isoformat(),
        ends_at=louis["check_out"],
        booking_id=louis["id"],
    )
    pin = response[REMOTELOCK_FRONT]["code"]
    front = remotelock_device_id(simulator, "Puerta de servicio")

    simulator.remotelock.use_pin(front, pin)  # the grant has not reached the lock yet
    await tick(hass, freezer)
    assert arrived == []
    for _ in range(12):  # the lock syncs the grant
        simulator.advance(timedelta(seconds=30))
        await tick(hass, freezer, timedelta(seconds=30))
    simulator.remotelock.use_pin(front, pin)
    await tick(hass, freezer)

    assert [(e.data["booking_id"], e.data["lock"]) for e in arrived] == [(louis["id"], REMOTELOCK_FRONT)]
    access = await _access(hass, louis["id"])
    assert len(access["denied_attempts"]) == 1
    assert access["locks_used"] == [REMOTELOCK_FRONT]
    assert pin not in str(access)
    await hass.config_entries.async_unload(kasify.entry_id)


async def test_stored_facts_damaged_or_old(
    hass: HomeAssistant,
    simulator: Simulator,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Facts older than 30 days are dropped at start; a damaged store is ignored with a warning (the states
    come from the bookings again); a booking nobody knows is refused by get_booking_access."""
    old = (NOW - timedelta(days=40)).isoformat()
    recent = (NOW - timedelta(days=2)).isoformat()
    entry = {"at": old, "lock": LOFT, "granted": True}
    hass_storage[storage_key(ENTRY_ID)] = {
        "version": 1,
        "key": storage_key(ENTRY_ID),
        "data": {
            "arrivals": {"gone": entry, "kept": {**entry, "at": recent}},
            "access": {"gone": [entry], "kept": [{**entry, "at": recent}]},
            "early": {"gone-too": old},
            "codes_end": {"gone-too": old},
            "cleaned": [],
        },
    }
    kasify = kasify_entry(simulator)
    await setup_integration(hass, kasify)
    await hass.async_block_till_done()
    stored = hass_storage[storage_key(ENTRY_ID)]["data"]
    assert set(stored["arrivals"]) == set(stored["access"]) == {"kept"}
    assert stored["early"] == stored["codes_end"] == {}
    assert (await _access(hass, "kept"))["first_entry"] == recent
    with pytest.raises(ServiceValidationError) as err:
        await _access(hass, "nobody-knows-it")
    assert err.value.translation_key == "unknown_booking"
    await hass.config_entries.async_unload(kasify.entry_id)

    hass_storage[storage_key(ENTRY_ID)]["data"] = {"early": {"b": "not a time"}}
    assert await hass.config_entries.async_setup(kasify.entry_id)
    await hass.async_block_till_done()
    assert "Ignoring the damaged stay facts" in caplog.text
    loft_id = _louis(simulator)["property_id"]
    assert hass.states.get(_entity(hass, "sensor", loft_id, "stay_state")).state == "occupied"

    await hass.config_entries.async_remove(kasify.entry_id)  # the account is deleted: its facts too
    await hass.async_block_till_done()
    assert storage_key(ENTRY_ID) not in hass_storage


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Before the first stay: the start of its check-in day (Madrid, UTC+1).
        (datetime(2026, 1, 9, 12, tzinfo=UTC), datetime(2026, 1, 9, 23, tzinfo=UTC)),
        # During the first stay, which a second stay overlaps: the start of that stay's check-in day.
        (datetime(2026, 1, 10, 16, tzinfo=UTC), datetime(2026, 1, 10, 23, tzinfo=UTC)),
        # During the overlap: the first stay's check-out.
        (datetime(2026, 1, 11, 16, tzinfo=UTC), datetime(2026, 1, 12, 10, tzinfo=UTC)),
        # Between stays, on the day of the next check-in (a cancelled stay before it does not count).
        (datetime(2026, 1, 20, 8, tzinfo=UTC), datetime(2026, 1, 20, 15, tzinfo=UTC)),
        # A stay whose check-out Kasify sent before its check-in: its check-in day and check-in still count.
        (datetime(2026, 1, 24, 12, tzinfo=UTC), datetime(2026, 1, 24, 23, tzinfo=UTC)),
        # After every stay: none.
        (datetime(2026, 2, 1, tzinfo=UTC), None),
    ],
)
def test_next_change_is_the_first_instant_after_now(now: datetime, expected: datetime | None) -> None:
    """The next check-in day, check-in or check-out after ``now``: stays that overlap, one cancelled."""
    madrid = ZoneInfo("Europe/Madrid")

    def stay(booking_id: str, check_in: datetime, check_out: datetime, **fields: Any) -> Booking:
        return Booking(booking_id, "p-1", "Guest", check_in, check_out, **fields)

    bookings = (
        stay("a", datetime(2026, 1, 10, 15, tzinfo=UTC), datetime(2026, 1, 12, 10, tzinfo=UTC)),
        stay("b", datetime(2026, 1, 11, 15, tzinfo=UTC), datetime(2026, 1, 13, 10, tzinfo=UTC)),
        stay(
            "x",
            datetime(2026, 1, 19, 15, tzinfo=UTC),
            datetime(2026, 1, 21, 10, tzinfo=UTC),
            status=BookingStatus.CANCELLED,
        ),
        stay("c", datetime(2026, 1, 20, 15, tzinfo=UTC), datetime(2026, 1, 22, 10, tzinfo=UTC)),
        stay("odd", datetime(2026, 1, 25, 15, tzinfo=UTC), datetime(2026, 1, 24, 10, tzinfo=UTC)),
    )
    data = AccountSnapshot(
        properties={"p-1": Property("p-1", "Loft")},
        bookings={"p-1": bookings},
        smart_locks={},
        tasks={},
        window_start=datetime(2026, 1, 1, tzinfo=UTC),
        window_end=datetime(2026, 3, 1, tzinfo=UTC),
    )

    assert next_change(data, now, {"p-1": madrid}) == expected
