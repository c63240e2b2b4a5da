"""An inferred endpoint the upstream does not understand (404/400) turns its feature off, not the whole entry.

Kasify documents properties and smart locks only; bookings and tasks are inferred. casavi documents
properties and authentication; appointments and tickets are inferred. When an inferred listing answers 404 or
400, the documented data stays available and current, the entities of that feature go unavailable, one repair
issue names the endpoint and the status, and everything comes back when the endpoint answers again.
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
import json
import logging
from typing import Any

# Diagnostics import hassio, whose models cannot be compiled while freezegun patches datetime.
import aiohasupervisor.models  # noqa: F401
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.kasify.const import DOMAIN
from custom_components.kasify.stays import signal_stay
from simulator import Simulator

from . import setup_integration
from .providers import NOW, TOKEN, casavi_entry, kasify_entry, tick

CASAVI_SCAN = timedelta(seconds=300)
# The entities of a Kasify property that read its bookings, by unique id key.
BOOKING_KEYS = ("bookings", "current_guest", "next_check_in", "occupied", "stay")


def _entities(entity_registry: er.EntityRegistry, entry: MockConfigEntry, key: str) -> list[str]:
    """The entry's entities whose unique id ends in ``-<key>``."""
    found = [
        registered.entity_id
        for registered in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if registered.unique_id.endswith(f"-{key}")
    ]
    assert found, key
    return found


def _states(hass: HomeAssistant, entity_ids: list[str]) -> set[str]:
    return {hass.states.get(entity_id).state for entity_id in entity_ids}


def _issues(issue_registry: ir.IssueRegistry) -> list[ir.IssueEntry]:
    return [
        issue
        for (domain, issue_id), issue in issue_registry.issues.items()
        if domain == DOMAIN and issue_id.startswith("endpoint_not_understood")
    ]


def _records(caplog: pytest.LogCaptureFixture, level: int, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.kasify")
        and record.levelno == level
        and text in record.getMessage()
    ]


@pytest.mark.parametrize("status", [404, 400])
async def test_kasify_bookings_not_understood_turn_off_bookings_only(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    """Properties, smart locks and batteries stay available and current; the booking entities go
    unavailable (not "no guest"); one repair names the endpoint and status; all comes back after."""
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    caplog.set_level(logging.INFO, logger="custom_components.kasify")
    booking_entities = [e for key in BOOKING_KEYS for e in _entities(entity_registry, entry, key)]
    batteries = _entities(entity_registry, entry, "battery")
    open_tasks = _entities(entity_registry, entry, "open_tasks")
    assert STATE_UNAVAILABLE not in _states(hass, booking_entities)

    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=status)
    lock = next(iter(simulator.kasify.smart_locks.values()))
    for _ in range(3):
        await tick(hass, freezer)

    coordinator = entry.runtime_data.coordinator
    assert entry.state is ConfigEntryState.LOADED
    assert coordinator.last_update_success
    assert _states(hass, booking_entities) == {STATE_UNAVAILABLE}
    assert STATE_UNAVAILABLE not in _states(hass, batteries + open_tasks)
    assert set(coordinator.data.properties) == set(simulator.kasify.properties)
    assert lock["id"] in coordinator.data.smart_locks
    (issue,) = _issues(issue_registry)
    assert issue.translation_key == "endpoint_not_understood_bookings"
    assert issue.translation_placeholders == {
        "account": entry.title,
        "endpoint": "GET /bookings",
        "status": str(status),
    }
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    (warning,) = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.kasify") and r.levelno >= logging.WARNING
    ]
    assert "GET /bookings" in warning
    assert str(status) in warning

    simulator.faults.clear()
    await tick(hass, freezer)
    await tick(hass, freezer)
    assert STATE_UNAVAILABLE not in _states(hass, booking_entities)
    assert _issues(issue_registry) == []
    assert len(_records(caplog, logging.INFO, "GET /bookings")) == 1


async def test_kasify_documented_data_stays_current_while_bookings_are_off(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    """A battery that changes while bookings are off shows its new level; a new property gets its device."""
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=404)
    await tick(hass, freezer)
    lock_id = next(
        lock_id for lock_id, lock in simulator.kasify.smart_locks.items() if lock["battery_level"] is not None
    )
    simulator.kasify.set_lock(lock_id, battery_level=7)
    await tick(hass, freezer)
    battery = entity_registry.async_get_entity_id("sensor", DOMAIN, f"kasify_lock_{lock_id}-battery")
    assert battery is not None
    assert hass.states.get(battery).state == "7"


async def test_kasify_setup_with_bookings_not_understood(
    hass: HomeAssistant,
    simulator: Simulator,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The entry loads even when bookings are not understood at startup; its booking entities exist and
    are unavailable."""
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=404)
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert _states(hass, _entities(entity_registry, entry, "occupied")) == {STATE_UNAVAILABLE}
    assert STATE_UNAVAILABLE not in _states(hass, _entities(entity_registry, entry, "battery"))
    assert [issue.translation_key for issue in _issues(issue_registry)] == [
        "endpoint_not_understood_bookings"
    ]


async def test_kasify_tasks_not_understood_turn_off_open_tasks_only(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A 400 on the task listing: the open-tasks sensors go unavailable; bookings are unaffected."""
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    simulator.faults.inject("/kasify/v1/tasks", method="GET", status=400)
    await tick(hass, freezer)
    assert _states(hass, _entities(entity_registry, entry, "open_tasks")) == {STATE_UNAVAILABLE}
    assert STATE_UNAVAILABLE not in _states(hass, _entities(entity_registry, entry, "occupied"))
    (issue,) = _issues(issue_registry)
    assert issue.translation_key == "endpoint_not_understood_tasks"
    assert issue.translation_placeholders["endpoint"] == "GET /tasks"


async def test_both_inferred_listings_off_give_one_issue_each(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Bookings and tasks off at once: two issues, one per feature, however many refreshes."""
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=404)
    simulator.faults.inject("/kasify/v1/tasks", method="GET", status=404)
    for _ in range(2):
        await tick(hass, freezer)
    assert sorted(issue.translation_key for issue in _issues(issue_registry)) == [
        "endpoint_not_understood_bookings",
        "endpoint_not_understood_tasks",
    ]


@pytest.mark.parametrize("status", [422, 500, 503])
async def test_other_failures_of_an_inferred_listing_still_fail_the_refresh(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    status: int,
) -> None:
    """Only 404 and 400 mean "not understood": anything else keeps today's ladder (entry unavailable)."""
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=status, body="<html>no</html>")
    await tick(hass, freezer)
    assert not entry.runtime_data.coordinator.last_update_success
    assert _issues(issue_registry) == []


async def test_a_refused_token_on_an_inferred_listing_still_starts_reauth(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 403 on bookings is refused credentials, not an unknown path."""
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=403)
    await tick(hass, freezer)
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_bookings_off_are_not_bookings_cancelled(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """No stay is reported cancelled (or created again) because the booking list went missing."""
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    stays: list[tuple[str, str]] = []

    @callback
    def _record(event_type: str, booking: Any) -> None:
        stays.append((event_type, booking.id))

    for property_id in simulator.kasify.properties:
        entry.async_on_unload(
            async_dispatcher_connect(hass, signal_stay(entry.entry_id, property_id), _record)
        )
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=404)
    await tick(hass, freezer)
    simulator.faults.clear()
    await tick(hass, freezer)
    assert stays == []


@pytest.mark.parametrize("status", [404, 400])
async def test_casavi_appointments_not_understood_turn_off_the_calendar_only(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    """The appointments calendar goes unavailable; the open-tickets count stays; one repair, then back."""
    entry = casavi_entry(simulator)
    await setup_integration(hass, entry)
    calendar, tickets = "calendar.haus_am_see_appointments", "sensor.haus_am_see_open_tickets"
    before = hass.states.get(tickets).state
    simulator.faults.inject("/casavi/v2/appointments", method="GET", status=status)
    for _ in range(2):
        await tick(hass, freezer, CASAVI_SCAN)

    assert entry.runtime_data.coordinator.last_update_success
    assert hass.states.get(calendar).state == STATE_UNAVAILABLE
    assert hass.states.get(tickets).state == before
    (issue,) = _issues(issue_registry)
    assert issue.translation_key == "endpoint_not_understood_appointments"
    assert issue.translation_placeholders == {
        "account": entry.title,
        "endpoint": "GET /v2/appointments",
        "status": str(status),
    }
    assert len(_records(caplog, logging.WARNING, "GET /v2/appointments")) == 1

    simulator.faults.clear()
    await tick(hass, freezer, CASAVI_SCAN)
    assert hass.states.get(calendar).state != STATE_UNAVAILABLE
    assert _issues(issue_registry) == []


async def test_casavi_tickets_not_understood_turn_off_the_open_tickets_only(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A 400 on one of the ticket listings (a state casavi does not take): no ticket count rather than a wrong
    one; the calendar stays."""
    entry = casavi_entry(simulator)
    await setup_integration(hass, entry)
    simulator.faults.inject("/casavi/v2/tickets", method="GET", status=400, times=1)
    await tick(hass, freezer, CASAVI_SCAN)
    assert hass.states.get("sensor.haus_am_see_open_tickets").state == STATE_UNAVAILABLE
    assert hass.states.get("calendar.haus_am_see_appointments").state != STATE_UNAVAILABLE
    (issue,) = _issues(issue_registry)
    assert issue.translation_key == "endpoint_not_understood_tickets"
    assert issue.translation_placeholders["endpoint"] == "GET /v2/tickets"

    await tick(hass, freezer, CASAVI_SCAN)
    assert hass.states.get("sensor.haus_am_see_open_tickets").state != STATE_UNAVAILABLE
    assert _issues(issue_registry) == []


async def test_the_calendar_reads_nothing_while_bookings_are_off(
    hass: HomeAssistant,
    simulator: Simulator,
    entity_registry: er.EntityRegistry,
    hass_client: ClientSessionGenerator,
) -> None:
    """The calendar panel asks an unavailable calendar too: it gets an error naming why, not an empty week."""
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=404)
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    calendar = _entities(entity_registry, entry, "bookings")[0]
    client = await hass_client()
    start, end = NOW.isoformat(), (NOW + timedelta(days=7)).isoformat()
    response = await client.get(f"/api/calendars/{calendar}", params={"start": start, "end": end})
    assert response.status == HTTPStatus.INTERNAL_SERVER_ERROR
    assert "GET /bookings: HTTP 404" in (await response.json())["message"]


async def test_diagnostics_name_what_is_off(
    hass: HomeAssistant, simulator: Simulator, hass_client: ClientSessionGenerator
) -> None:
    """Diagnostics show the feature that is off, its endpoint and status, and no secret."""
    simulator.faults.inject("/kasify/v1/tasks", method="GET", status=400)
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["data"]["degraded"] == {"tasks": {"endpoint": "GET /tasks", "status": 400}}
    assert diagnostics["data"]["tasks"] == {}
    assert TOKEN not in json.dumps(diagnostics)


async def test_a_booking_status_repair_stays_while_bookings_are_off(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Unknown bookings are not bookings without unknown statuses: that repair stays until they are read."""
    house = simulator.kasify.add_property("Casa Dudosa")
    booking = simulator.kasify.add_booking(
        house["id"], "Ana", NOW + timedelta(days=1), NOW + timedelta(days=2)
    )
    simulator.kasify.bookings[booking["id"]]["status"] = "declined"
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    issue_id = f"booking_status_unknown_{entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=404)
    await tick(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
