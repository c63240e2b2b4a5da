"""Times without a zone given to the actions for a property are read in that property's time zone."""

from __future__ import annotations

from datetime import datetime

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify.const import CONF_STAY_TIMES, CONF_TIME_ZONE, DOMAIN
from simulator import Simulator

from . import setup_integration
from .providers import KASIFY_OPTIONS, LOFT, create_code, kasify_entry, nuki_entry, property_device_id


@pytest.fixture(autouse=True)
async def madrid(hass: HomeAssistant) -> None:
    """Home Assistant runs in Madrid; the loft (property 0) is set to the Canary Islands, an hour behind."""
    await hass.config.async_set_time_zone("Europe/Madrid")


def _entry(simulator: Simulator) -> MockConfigEntry:
    loft = simulator.kasify.property_at(0)["id"]
    options = {**KASIFY_OPTIONS, CONF_STAY_TIMES: {loft: {CONF_TIME_ZONE: "Atlantic/Canary"}}}
    return kasify_entry(simulator, options=options)


async def _call(hass: HomeAssistant, action: str, data: dict[str, object]) -> dict[str, object]:
    response = await hass.services.async_call(DOMAIN, action, data, blocking=True, return_response=True)
    assert response is not None
    return dict(response)


async def test_booking_and_task_times_are_the_property_wall_clock(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """15:00 in September at a Canary property is 14:00 UTC (Madrid's 15:00 would be 13:00 UTC)."""
    await setup_integration(hass, _entry(simulator))
    loft = simulator.kasify.property_at(0)["id"]
    device = property_device_id(hass, loft)
    booking = await _call(
        hass,
        "create_booking",
        {
            "property": device,
            "guest_name": "X",
            "check_in": "2026-09-01 15:00",
            "check_out": "2026-09-02 11:00",
        },
    )
    stored = simulator.kasify.bookings[str(booking["booking_id"])]
    assert datetime.fromisoformat(stored["check_in"]) == datetime.fromisoformat("2026-09-01T14:00:00+00:00")
    assert datetime.fromisoformat(stored["check_out"]) == datetime.fromisoformat("2026-09-02T10:00:00+00:00")
    # A zone given is kept as given.
    task = await _call(
        hass, "create_task", {"property": device, "title": "Limpieza", "due": "2026-03-17 15:00:00"}
    )
    due = simulator.kasify.tasks[str(task["task_id"])]["due_at"]
    assert datetime.fromisoformat(due) == datetime.fromisoformat("2026-03-17T15:00:00+00:00")
    other = simulator.kasify.property_at(1)["id"]
    task = await _call(
        hass,
        "create_task",
        {"property": property_device_id(hass, other), "title": "Limpieza", "due": "2026-03-17 15:00:00"},
    )
    due = simulator.kasify.tasks[str(task["task_id"])]["due_at"]
    assert datetime.fromisoformat(due) == datetime.fromisoformat("2026-03-17T14:00:00+00:00")


@pytest.mark.usefixtures("fast_nuki")
async def test_code_times_are_the_wall_clock_of_the_locks_property(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A code on the loft's lock from 15:00 without a zone starts at 15:00 in the Canaries (UTC+0)."""
    await setup_integration(hass, _entry(simulator))
    await setup_integration(hass, nuki_entry(simulator))
    response = await create_code(
        hass, LOFT, starts_at="2026-03-20 15:00:00", ends_at="2026-03-23T11:00:00+01:00"
    )
    assert response[LOFT]["starts_at"] == "2026-03-20T15:00:00+00:00"
    assert response[LOFT]["ends_at"] == "2026-03-23T10:00:00+00:00"


@pytest.mark.usefixtures("fast_nuki")
async def test_code_times_with_a_booking_are_the_wall_clock_of_its_property(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """With ``booking_id`` the booking's property gives the zone."""
    await setup_integration(hass, _entry(simulator))
    await setup_integration(hass, nuki_entry(simulator))
    loft = simulator.kasify.property_at(0)["id"]
    booking = next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == loft and b["check_in"] == "2026-03-19T14:00:00Z"
    )
    response = await create_code(
        hass, LOFT, starts_at="2026-03-19 14:00:00", ends_at="2026-03-22 11:00:00", booking_id=booking["id"]
    )
    assert response[LOFT]["starts_at"] == "2026-03-19T14:00:00+00:00"
    assert response[LOFT]["ends_at"] == "2026-03-22T11:00:00+00:00"
