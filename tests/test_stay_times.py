"""Check-in and check-out Kasify sends without a zone get the property's times, in the property's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify.const import CONF_STAY_TIMES
from simulator import Simulator

from . import setup_integration
from .providers import NOW, kasify_entry, refresh

MADRID = ZoneInfo("Europe/Madrid")
CANARY = ZoneInfo("Atlantic/Canary")


def _studio(simulator: Simulator) -> dict[str, Any]:
    return simulator.kasify.property_at(1)


def _arrival_in_two_days(simulator: Simulator) -> dict[str, Any]:
    """A stay at the studio from the 16th to the 18th (Kasify writes the days only)."""
    studio = _studio(simulator)
    for booking in list(simulator.kasify.bookings.values()):
        if booking["property_id"] == studio["id"]:
            booking["status"] = "cancelled"
    return simulator.kasify.add_booking(
        studio["id"],
        "Ana",
        datetime(2026, 3, 16, 12, tzinfo=MADRID),
        datetime(2026, 3, 18, 12, tzinfo=MADRID),
    )


def _next_check_in(hass: HomeAssistant) -> datetime:
    state = hass.states.get("sensor.estudio_do_miradouro_principe_real_next_check_in")
    assert state is not None
    parsed = dt_util.parse_datetime(state.state)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize("wire", ["date", "naive"])
async def test_zoneless_stays_are_local_to_the_property(
    hass: HomeAssistant, simulator: Simulator, wire: str
) -> None:
    """A plain date means the property's check-in time (15:00 by default) in Home Assistant's zone, never
    midnight UTC; a date-time without an offset is that wall-clock time there."""
    await hass.config.async_set_time_zone("Europe/Madrid")
    booking = _arrival_in_two_days(simulator)
    simulator.kasify.booking_times = wire
    await setup_integration(hass, kasify_entry(simulator))
    # The simulator keeps 11:00 UTC; sent without its offset that reads as 11:00 at the property.
    assert _next_check_in(hass) == datetime(2026, 3, 16, 15 if wire == "date" else 11, tzinfo=MADRID)
    entry = hass.config_entries.async_entries("kasify")[0]
    (stay,) = [
        b
        for b in entry.runtime_data.coordinator.data.bookings[booking["property_id"]]
        if b.id == booking["id"]
    ]
    assert stay.check_out == datetime(2026, 3, 18, 11, tzinfo=MADRID)


async def test_each_property_can_have_its_own_times_and_zone(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """The options set a property's check-in and check-out times and its time zone."""
    await hass.config.async_set_time_zone("Europe/Madrid")
    _arrival_in_two_days(simulator)
    simulator.kasify.booking_times = "date"
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    studio = _studio(simulator)["id"]

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "stay_times"}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"property": studio})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"check_in_time": "16:30:00", "check_out_time": "10:00:00", "time_zone": "Nowhere/City"},
    )
    assert result["errors"] == {"time_zone": "invalid_time_zone"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"check_in_time": "16:30:00", "check_out_time": "10:00:00", "time_zone": "Atlantic/Canary"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_STAY_TIMES][studio] == {
        "check_in_time": "16:30:00",
        "check_out_time": "10:00:00",
        "time_zone": "Atlantic/Canary",
        "min_turnover": 3.0,
        "low_battery": 25,
    }
    await hass.async_block_till_done()
    assert _next_check_in(hass) == datetime(2026, 3, 16, 16, 30, tzinfo=CANARY)


async def test_a_zoneless_booking_looked_up_directly_is_local_too(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Every way a booking is read (lists, a single booking) gives the same local times."""
    await hass.config.async_set_time_zone("Europe/Madrid")
    booking = _arrival_in_two_days(simulator)
    simulator.kasify.booking_times = "date"
    entry: MockConfigEntry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    coordinator = entry.runtime_data.coordinator
    single = coordinator.localize(await coordinator.client.get_booking(booking["id"]))
    assert single.check_in == datetime(2026, 3, 16, 15, tzinfo=MADRID)
    await refresh(hass, entry)
    assert NOW < single.check_in < NOW + timedelta(days=3)
