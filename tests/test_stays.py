"""Check-in / check-out events fire at the exact instant, once, and follow bookings that move."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.kasify.const import EVENT_CHECK_IN, EVENT_CHECK_OUT
from custom_components.kasify.coordinator import property_identifier
from simulator import Simulator

from . import setup_integration
from .providers import NOW, move_to, refresh


def _capture(hass: HomeAssistant, event_type: str, property_id: str) -> list[Event]:
    """Events of one property only (the seeded fleet has its own check-ins and check-outs)."""
    events: list[Event] = []

    @callback
    def _listener(event: Event) -> None:
        if event.data["property_id"] == property_id:
            events.append(event)

    hass.bus.async_listen(event_type, _listener)
    return events


def _empty_property(simulator: Simulator) -> dict:
    """A property with nothing booked around NOW, so tests control its bookings."""
    return simulator.kasify.add_property("Casa de Pruebas")


async def test_check_in_fires_at_the_instant(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """kasify_check_in fires at check-in (not a second early), with the booking's data."""
    prop = _empty_property(simulator)
    check_in = NOW + timedelta(hours=3)
    check_out = NOW + timedelta(days=2)
    booking = simulator.kasify.add_booking(prop["id"], "Ana García", check_in, check_out)
    await refresh(hass, init_integration)
    check_ins = _capture(hass, EVENT_CHECK_IN, prop["id"])
    check_outs = _capture(hass, EVENT_CHECK_OUT, prop["id"])

    occupied = entity_registry.async_get_entity_id(
        "binary_sensor", "kasify", f"property_{prop['id']}-occupied"
    )
    stay = entity_registry.async_get_entity_id("event", "kasify", f"property_{prop['id']}-stay")
    assert hass.states.get(occupied).state == "off"

    await move_to(hass, freezer, check_in - timedelta(seconds=1))
    assert check_ins == []

    await move_to(hass, freezer, check_in)
    assert len(check_ins) == 1
    device = device_registry.async_get_device(identifiers={property_identifier(prop["id"])})
    assert check_ins[0].data == {
        "property_id": prop["id"],
        "property_name": "Casa de Pruebas",
        "device_id": device.id,
        "booking_id": booking["id"],
        "guest_name": "Ana García",
        "check_in": check_in.isoformat(),
        "check_out": check_out.isoformat(),
    }
    # Entities follow the instant without waiting for the next poll.
    assert hass.states.get(occupied).state == "on"
    state = hass.states.get(stay)
    assert state.attributes["event_type"] == "check_in"
    assert state.attributes["booking_id"] == booking["id"]

    await move_to(hass, freezer, check_out)
    assert len(check_outs) == 1
    assert hass.states.get(occupied).state == "off"
    assert hass.states.get(stay).attributes["event_type"] == "check_out"
    assert len(check_ins) == 1


async def test_moved_booking_is_rescheduled(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A booking moved later fires at its new time only; a cancelled one never fires."""
    prop = _empty_property(simulator)
    first = NOW + timedelta(hours=2)
    booking = simulator.kasify.add_booking(prop["id"], "Luis", first, first + timedelta(days=1))
    cancelled = simulator.kasify.add_booking(
        prop["id"], "Marta", NOW + timedelta(hours=31), NOW + timedelta(days=2)
    )
    await refresh(hass, init_integration)
    check_ins = _capture(hass, EVENT_CHECK_IN, prop["id"])

    moved = first + timedelta(hours=4)
    simulator.kasify.move_booking(booking["id"], moved, moved + timedelta(days=1))
    simulator.kasify.cancel_booking(cancelled["id"])
    await refresh(hass, init_integration)

    await move_to(hass, freezer, first)
    assert check_ins == []
    await move_to(hass, freezer, moved)
    assert [event.data["booking_id"] for event in check_ins] == [booking["id"]]
    await move_to(hass, freezer, NOW + timedelta(hours=31, minutes=1))
    assert [event.data["booking_id"] for event in check_ins] == [booking["id"]]


async def test_no_refire_after_restart(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Instants that passed while Home Assistant was down are not fired when it starts again."""
    prop = _empty_property(simulator)
    simulator.kasify.add_booking(prop["id"], "Pedro", NOW - timedelta(minutes=5), NOW + timedelta(days=1))
    check_ins = async_capture_events(hass, EVENT_CHECK_IN)
    await setup_integration(hass, mock_config_entry)
    await move_to(hass, freezer, dt_util.utcnow() + timedelta(minutes=1))
    assert check_ins == []
    scheduled = mock_config_entry.runtime_data.stays.scheduled
    assert all(instant > NOW for instant in scheduled.values())


async def test_booking_changes_trigger_the_stay_entity(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """New, cancelled and guest-registered bookings show on the stay event entity."""
    prop = _empty_property(simulator)
    await refresh(hass, init_integration)
    stay = entity_registry.async_get_entity_id("event", "kasify", f"property_{prop['id']}-stay")

    booking = simulator.kasify.add_booking(
        prop["id"], "Julia", NOW + timedelta(days=5), NOW + timedelta(days=7)
    )
    await refresh(hass, init_integration)
    state = hass.states.get(stay)
    assert state.attributes["event_type"] == "booking_created"
    assert state.attributes["guest_name"] == "Julia"

    simulator.kasify.bookings[booking["id"]]["registered_guests"] = 1
    await refresh(hass, init_integration)
    assert hass.states.get(stay).attributes["event_type"] == "guest_registered"

    simulator.kasify.cancel_booking(booking["id"])
    await refresh(hass, init_integration)
    assert hass.states.get(stay).attributes["event_type"] == "booking_cancelled"

    # A booking deleted outright (gone from a window that still covers it) counts as cancelled too.
    deleted = simulator.kasify.add_booking(
        prop["id"], "Tomás", NOW + timedelta(days=10), NOW + timedelta(days=12)
    )
    await refresh(hass, init_integration)
    assert hass.states.get(stay).attributes["booking_id"] == deleted["id"]
    del simulator.kasify.bookings[deleted["id"]]
    await refresh(hass, init_integration)
    state = hass.states.get(stay)
    assert state.attributes["event_type"] == "booking_cancelled"
    assert state.attributes["booking_id"] == deleted["id"]


async def test_occupancy_says_when_the_last_stay_ended(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    """On a turnover day the occupancy sensor keeps the check-out of the stay that ended, whose it was, after
    the next guest arrives too (cancelled stays never count)."""
    prop = _empty_property(simulator)
    leaving = NOW + timedelta(hours=3)
    arriving = NOW + timedelta(hours=6)
    simulator.kasify.add_booking(prop["id"], "Ana García", NOW - timedelta(days=2), leaving)
    simulator.kasify.add_booking(prop["id"], "Luis Pérez", arriving, arriving + timedelta(days=3))
    cancelled = simulator.kasify.add_booking(
        prop["id"], "Marta", NOW - timedelta(days=4), NOW - timedelta(days=3)
    )
    simulator.kasify.cancel_booking(cancelled["id"])
    await refresh(hass, init_integration)
    occupied = entity_registry.async_get_entity_id(
        "binary_sensor", "kasify", f"property_{prop['id']}-occupied"
    )
    state = hass.states.get(occupied)
    assert state.state == "on"
    assert "last_check_out" not in state.attributes

    await move_to(hass, freezer, leaving)
    state = hass.states.get(occupied)
    assert state.state == "off"
    assert state.attributes["last_check_out"] == leaving.isoformat()
    assert state.attributes["last_guest_name"] == "Ana García"

    await move_to(hass, freezer, arriving)
    state = hass.states.get(occupied)
    assert state.state == "on"
    assert state.attributes["last_check_out"] == leaving.isoformat()
    assert state.attributes["last_guest_name"] == "Ana García"
