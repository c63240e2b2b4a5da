"""casavi as a property source: devices, appointments calendar and open tickets (against the simulator)."""

from __future__ import annotations

from datetime import timedelta
import json
import logging

# Diagnostics import hassio, whose models cannot be compiled while freezegun patches datetime.
import aiohasupervisor.models  # noqa: F401
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import DOMAIN as CALENDAR_DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.kasify.const import (
    CONF_KEY,
    CONF_SECRET,
)
from custom_components.kasify.coordinator import property_identifier
from simulator import Simulator

from . import setup_integration
from .providers import NOW, casavi_entry as _entry, tick

SCAN = timedelta(seconds=300)


async def test_casavi_entities(
    hass: HomeAssistant,
    simulator: Simulator,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Each casavi property is a device with an appointments calendar and an open-tickets count only."""
    entry = _entry(simulator)
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED

    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert sorted(e.entity_id for e in entities) == snapshot
    for prop in simulator.casavi.properties.values():
        device = device_registry.async_get_device(identifiers={property_identifier(prop["id"], "casavi")})
        assert device is not None
        assert device.name == prop["name"]
        assert device.manufacturer == "casavi"

    open_tickets = [
        t
        for t in simulator.casavi.tickets.values()
        if t.get("propertyId") == "P-1001" and t["status"] in ("OPEN", "IN_PROGRESS")
    ]
    assert hass.states.get("sensor.haus_am_see_open_tickets").state == str(len(open_tickets))
    # Stays do not exist in casavi: no occupancy, guest or stay entities.
    assert not [e for e in entities if e.domain in ("binary_sensor", "event")]


async def test_casavi_calendar(hass: HomeAssistant, simulator: Simulator) -> None:
    """Appointments show on the property's calendar with their title and location."""
    await setup_integration(hass, _entry(simulator))
    response = await hass.services.async_call(
        CALENDAR_DOMAIN,
        "get_events",
        {
            "entity_id": "calendar.haus_am_see_appointments",
            "start_date_time": NOW,
            "end_date_time": NOW + timedelta(days=30),
        },
        blocking=True,
        return_response=True,
    )
    events = response["calendar.haus_am_see_appointments"]["events"]
    assert any(e["summary"] == "Elevator maintenance" and e["location"] == "Elevator" for e in events)
    assert [e["start"] for e in events] == sorted(e["start"] for e in events)

    # A year back is outside the cached window: casavi is asked again.
    simulator.casavi.add_appointment(
        "Eigentümerversammlung 2025",
        NOW - timedelta(days=300),
        NOW - timedelta(days=300, hours=-2),
        property_ids=["P-1001"],
    )
    simulator.reset_requests()
    response = await hass.services.async_call(
        CALENDAR_DOMAIN,
        "get_events",
        {
            "entity_id": "calendar.haus_am_see_appointments",
            "start_date_time": NOW - timedelta(days=310),
            "end_date_time": NOW - timedelta(days=290),
        },
        blocking=True,
        return_response=True,
    )
    assert [e["summary"] for e in response["calendar.haus_am_see_appointments"]["events"]] == [
        "Eigentümerversammlung 2025"
    ]
    assert simulator.count_requests("/casavi/v2/appointments") >= 1


async def test_casavi_diagnostics_redact_credentials(
    hass: HomeAssistant,
    simulator: Simulator,
    hass_client: ClientSessionGenerator,
) -> None:
    """Key and secret never reach diagnostics."""
    entry = _entry(simulator)
    await setup_integration(hass, entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["entry"]["data"][CONF_KEY] == "**REDACTED**"
    assert diagnostics["entry"]["data"][CONF_SECRET] == "**REDACTED**"
    assert diagnostics["coordinator"]["source"] == "casavi"
    assert set(diagnostics["data"]["properties"]) == {"P-1001", "P-1002"}
    assert "scheduled_stay_events" not in diagnostics


async def test_casavi_ticket_changes_and_outage(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A closed ticket lowers the count at the next poll; an outage makes entities unavailable and back."""
    await setup_integration(hass, _entry(simulator))
    sensor = "sensor.haus_am_see_open_tickets"
    before = int(hass.states.get(sensor).state)
    ticket = next(
        t
        for t in simulator.casavi.tickets.values()
        if t.get("propertyId") == "P-1001" and t["status"] == "OPEN"
    )
    simulator.casavi.set_ticket_status(ticket["id"], "CLOSED")
    await tick(hass, freezer, SCAN)
    assert hass.states.get(sensor).state == str(before - 1)

    simulator.faults.inject("/casavi/", status=503, body="<html>down</html>")
    await tick(hass, freezer, SCAN)
    assert hass.states.get(sensor).state == STATE_UNAVAILABLE
    simulator.faults.clear()
    await tick(hass, freezer, SCAN)
    assert hass.states.get(sensor).state == str(before - 1)


async def test_casavi_refused_credentials_start_reauth(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A revoked key starts the reauth flow for the casavi entry."""
    entry = _entry(simulator)
    await setup_integration(hass, entry)
    simulator.casavi.secret = "rotated"
    simulator.casavi.revoke_tokens()
    await tick(hass, freezer, SCAN)
    flows = hass.config_entries.flow.async_progress()
    assert [(f["context"]["source"], f["context"]["entry_id"]) for f in flows] == [
        (SOURCE_REAUTH, entry.entry_id)
    ]


def _ticket(ticket_id: str, status: str, property_id: str = "P-1001") -> dict[str, str]:
    return {"id": ticket_id, "title": f"Ticket {ticket_id}", "status": status, "propertyId": property_id}


async def test_unknown_ticket_states_are_not_counted_open(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """casavi answers with tickets in states the integration does not know (it ignores the state filter):
    they are not counted as open, forever or otherwise; the sensor names them, and the log names each state
    once."""
    await setup_integration(hass, _entry(simulator))
    caplog.set_level(logging.DEBUG, logger="custom_components.kasify")
    tickets = [
        _ticket("T-1", "OPEN"),
        _ticket("T-2", "IN_PROGRESS"),
        _ticket("T-3", "CLOSED"),
        _ticket("T-7", "WAITING_FOR_OWNER"),
        _ticket("T-8", "RESOLVED"),
        _ticket("T-9", "RESOLVED"),
        _ticket("T-10", "RESOLVED", "P-1002"),
    ]
    body = json.dumps({"data": tickets, "_links": {}})
    simulator.faults.inject("/casavi/v2/tickets", method="GET", status=200, body=body)
    for _ in range(2):
        await tick(hass, freezer, SCAN)

    state = hass.states.get("sensor.haus_am_see_open_tickets")
    assert state.state == "2"
    assert sorted(task["id"] for task in state.attributes["tasks"]) == ["T-1", "T-2"]
    assert state.attributes["unknown_states"] == {"RESOLVED": 2, "WAITING_FOR_OWNER": 1}
    other = hass.states.get("sensor.altbau_schwabing_open_tickets")
    assert other.state == "0"
    assert other.attributes["unknown_states"] == {"RESOLVED": 1}
    for name in ("WAITING_FOR_OWNER", "RESOLVED"):
        assert sum(name in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG) == 1, name


async def test_no_unknown_states_no_attribute(hass: HomeAssistant, simulator: Simulator) -> None:
    """With only known states the sensor has no ``unknown_states`` attribute."""
    await setup_integration(hass, _entry(simulator))
    assert "unknown_states" not in hass.states.get("sensor.haus_am_see_open_tickets").attributes
