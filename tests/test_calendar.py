"""The bookings calendar: stays in range from cache or from the API, with their details."""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator import Simulator

from .providers import NOW, calendar_events

LOFT = "calendar.loft_patio_lavapies_bookings"


def _loft(simulator: Simulator) -> dict:
    return next(p for p in simulator.kasify.properties.values() if p["name"] == "Loft Patio Lavapiés")


async def test_events_in_window_come_from_cache(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A week ahead is served without asking Kasify; cancelled stays are left out."""
    loft = _loft(simulator)
    start, end = NOW, NOW + timedelta(days=7)
    simulator.reset_requests()
    events = await calendar_events(hass, LOFT, start, end)
    assert simulator.requests == []

    expected = sorted(
        (
            b
            for b in simulator.kasify.bookings.values()
            if b["property_id"] == loft["id"]
            and b["status"] != "cancelled"
            and datetime.fromisoformat(b["check_in"]) < end
            and datetime.fromisoformat(b["check_out"]) > start
        ),
        key=lambda b: b["check_in"],
    )
    assert [e["summary"] for e in events] == [b["guest_name"] for b in expected]
    first, booking = events[0], expected[0]
    assert datetime.fromisoformat(first["start"]) == datetime.fromisoformat(booking["check_in"])
    assert datetime.fromisoformat(first["end"]) == datetime.fromisoformat(booking["check_out"])
    assert f"Booking: {booking['id']}" in first["description"]
    assert f"Channel: {booking['channel']}" in first["description"]
    assert loft["city"] in first["location"]


async def test_current_event_state(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The loft has a guest now, so its calendar is on with that stay."""
    state = hass.states.get(LOFT)
    assert state.state == "on"
    assert state.attributes["message"] == hass.states.get("sensor.loft_patio_lavapies_current_guest").state


async def test_events_outside_window_come_from_the_api(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Browsing a year back asks Kasify for that property's bookings."""
    loft = _loft(simulator)
    old = simulator.kasify.add_booking(
        loft["id"], "Invierno Pasado", NOW - timedelta(days=300), NOW - timedelta(days=295)
    )
    simulator.reset_requests()
    events = await calendar_events(hass, LOFT, NOW - timedelta(days=310), NOW - timedelta(days=290))
    assert [e["summary"] for e in events] == ["Invierno Pasado"]
    assert [r.path for r in simulator.requests] == [f"/kasify/v1/properties/{loft['id']}/bookings"]
    assert old["id"] in events[0]["description"]


async def test_api_failure_is_a_translated_error(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """If Kasify fails while browsing outside the window, the user gets a clear error."""
    simulator.faults.inject("/kasify/v1/properties/", status=502, body="<html>Bad gateway</html>")
    with pytest.raises(HomeAssistantError) as exc_info:
        await calendar_events(hass, LOFT, NOW - timedelta(days=400), NOW - timedelta(days=390))
    assert exc_info.value.translation_key == "calendar_fetch_failed"


async def test_description_in_spanish(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The description labels follow Home Assistant's language."""
    hass.config.language = "es"
    events = await calendar_events(hass, LOFT, NOW, NOW + timedelta(days=7))
    assert events[0]["description"].startswith("Reserva: ")
