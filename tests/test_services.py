"""Booking and task actions against the simulator: effects in Kasify and in Home Assistant, every refusal."""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er, selector, service
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.kasify import PLATFORMS
from custom_components.kasify.const import DOMAIN
from custom_components.kasify.providers.kasify import KasifyCoordinator
from custom_components.kasify.services import TASK_TYPES
from simulator import Simulator

from . import setup_integration
from .providers import NOW, calendar_events, property_device_id

TRANSLATIONS = Path(__file__).parent.parent / "custom_components" / "kasify" / "translations"
ACTIONS = ("create_booking", "create_task", "start_task", "complete_task")


@pytest.fixture(autouse=True)
async def madrid(hass: HomeAssistant) -> None:
    """Home Assistant runs in Madrid (UTC+1 in March), like the host."""
    await hass.config.async_set_time_zone("Europe/Madrid")


def _entity_id(hass: HomeAssistant, platform: str, property_id: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"property_{property_id}-{key}")
    assert entity_id is not None
    return entity_id


def _booking_data(hass: HomeAssistant, prop: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """``create_booking`` data: guest X for a night in September at ``prop`` unless ``fields`` override."""
    return {
        "property": property_device_id(hass, prop["id"]),
        "guest_name": "X",
        "check_in": "2026-09-01 15:00",
        "check_out": "2026-09-02 11:00",
        **fields,
    }


async def _call(hass: HomeAssistant, action: str, data: dict[str, Any]) -> dict[str, Any]:
    response = await hass.services.async_call(DOMAIN, action, data, blocking=True, return_response=True)
    assert response is not None
    return dict(response)


def _posts(simulator: Simulator) -> list[str]:
    return [r.path for r in simulator.requests if r.method in ("POST", "PATCH", "DELETE")]


def _coordinator(entry: MockConfigEntry) -> KasifyCoordinator:
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, KasifyCoordinator)
    return coordinator


async def test_actions_registered_with_optional_response(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The four actions exist once the integration is set up, and answer with data when asked."""
    for action in ACTIONS:
        assert hass.services.has_service(DOMAIN, action)
        assert hass.services.supports_response(DOMAIN, action) is SupportsResponse.OPTIONAL


async def test_action_descriptions(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    """services.yaml describes every field with a valid selector, named and explained in both languages."""
    # Without the to-do platform: describing Home Assistant's own todo actions imports its conversation
    # component on newer releases, whose requirements (hassil) a bare test environment does not have.
    with patch("custom_components.kasify.PLATFORMS", [p for p in PLATFORMS if p is not Platform.TODO]):
        await setup_integration(hass, mock_config_entry)
    descriptions = await service.async_get_all_descriptions(hass)
    strings = {
        language: json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))["services"]
        for language in ("en", "es")
    }
    for action in ACTIONS:
        fields = descriptions[DOMAIN][action]["fields"]
        assert fields, action
        for name, field in fields.items():
            selector.validate_selector(field["selector"])
            for language, translated in strings.items():
                assert translated[action]["fields"][name]["name"], (language, action, name)
                assert translated[action]["fields"][name]["description"], (language, action, name)
        for translated in strings.values():
            assert set(translated[action]["fields"]) == set(fields), action
    assert set(
        descriptions[DOMAIN]["create_task"]["fields"]["task_type"]["selector"]["select"]["options"]
    ) == set(TASK_TYPES)


# --- create_booking --------------------------------------------------------------------------------------


async def test_create_booking(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A booking between two stays: in Kasify at once, on the calendar and the next check-in sensor after."""
    studio = simulator.kasify.property_at(1)  # empty now; next guest tomorrow 15:00 UTC
    simulator.reset_requests()
    response = await _call(
        hass,
        "create_booking",
        {
            "property": property_device_id(hass, studio["id"]),
            "guest_name": "  Ana García ",
            # No time zone: Home Assistant's (Madrid, UTC+1).
            "check_in": "2026-03-14 14:00:00",
            "check_out": "2026-03-15 10:00:00",
            "guests": 2,
            "email": "ana@example.com",
            "phone": "+34 600 123 456",
            "channel": "direct",
            "notes": "Late arrival",
        },
    )
    booking = simulator.kasify.bookings[response["booking_id"]]
    assert booking["property_id"] == studio["id"]
    assert booking["guest_name"] == "Ana García"
    assert datetime.fromisoformat(booking["check_in"]) == NOW + timedelta(hours=1)
    assert datetime.fromisoformat(booking["check_out"]) == datetime.fromisoformat("2026-03-15T09:00:00+00:00")
    assert (booking["guest_email"], booking["guest_phone"], booking["guests_count"]) == (
        "ana@example.com",
        "+34 600 123 456",
        2,
    )
    assert response == {
        "booking_id": booking["id"],
        "property_id": studio["id"],
        "property": studio["name"],
        "guest_name": "Ana García",
        "check_in": "2026-03-14T13:00:00+00:00",
        "check_out": "2026-03-15T09:00:00+00:00",
        "guests": 2,
        "channel": "direct",
        "status": "confirmed",
    }
    # The e-mail and phone went to Kasify only.
    assert "ana@example.com" not in str(response)
    # The account was read again: the stay is on the calendar and is the next check-in.
    assert simulator.count_requests("/kasify/v1/properties", "GET") >= 1
    events = await calendar_events(
        hass, _entity_id(hass, "calendar", studio["id"], "bookings"), NOW, NOW + timedelta(days=1)
    )
    assert [e["summary"] for e in events if e["summary"] == "Ana García"] == ["Ana García"]
    next_check_in = hass.states.get(_entity_id(hass, "sensor", studio["id"], "next_check_in"))
    assert next_check_in is not None
    assert datetime.fromisoformat(next_check_in.state) == NOW + timedelta(hours=1)


async def test_create_booking_minimal_with_time_zone(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Times with their own offset are kept; optional fields left empty (blueprints) are not sent."""
    studio = simulator.kasify.property_at(1)
    response = await _call(
        hass,
        "create_booking",
        {
            "property": property_device_id(hass, studio["id"]),
            "guest_name": "Bo",
            "check_in": "2026-09-01T16:00:00+01:00",
            "check_out": "2026-09-03T10:00:00+01:00",
            "email": "",
            "phone": "",
            "guests": "",
            "notes": None,
        },
    )
    assert response["check_in"] == "2026-09-01T15:00:00+00:00"
    booking = simulator.kasify.bookings[response["booking_id"]]
    assert booking["guest_email"] is None
    assert booking["guest_phone"] is None
    assert booking["channel"] == "direct"  # Kasify's default


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        (
            {"check_in": "2026-03-20 15:00:00", "check_out": "2026-03-20 11:00:00"},
            "check_out_not_after_check_in",
            "Check-out (2026-03-20 11:00) must be after check-in (2026-03-20 15:00)",
        ),
        (
            {"check_in": "2026-03-20 15:00:00", "check_out": "2026-03-20 15:00:00"},
            "check_out_not_after_check_in",
            "Check-out (2026-03-20 15:00) must be after check-in (2026-03-20 15:00)",
        ),
        (
            # The loft has Louis Lefebvre from the 12th 15:00 to the 19th 11:00 (Madrid).
            {"check_in": "2026-03-18 15:00:00", "check_out": "2026-03-21 11:00:00"},
            "booking_overlap",
            "already has a booking from 2026-03-12 15:00 to 2026-03-19 11:00 (Louis Lefebvre)",
        ),
    ],
)
async def test_create_booking_refused_dates(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    data: dict[str, str],
    key: str,
    message: str,
) -> None:
    """Check-out not after check-in, or an overlap with a known stay: a clear error, nothing sent."""
    loft = simulator.kasify.property_at(0)
    before = dict(simulator.kasify.bookings)
    simulator.reset_requests()
    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(hass, "create_booking", _booking_data(hass, loft, **data))
    assert exc_info.value.translation_key == key
    assert message in str(exc_info.value)
    assert simulator.kasify.bookings == before
    assert simulator.requests == []


async def test_create_booking_overlap_outside_the_window(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A stay Home Assistant does not keep (a year ahead): Kasify's 409 still names the other booking."""
    loft = simulator.kasify.property_at(0)
    far = NOW + timedelta(days=365)
    simulator.kasify.add_booking(loft["id"], "Marta Ruiz", far, far + timedelta(days=3))
    count = len(simulator.kasify.bookings)
    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(
            hass,
            "create_booking",
            _booking_data(hass, loft, check_in=far + timedelta(days=1), check_out=far + timedelta(days=5)),
        )
    assert exc_info.value.translation_key == "booking_overlap"
    assert "from 2027-03-14 13:00 to 2027-03-17 13:00 (Marta Ruiz)" in str(exc_info.value)
    assert len(simulator.kasify.bookings) == count


async def test_create_booking_conflict_without_details(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A 409 whose other stay cannot be found is still a translated refusal."""
    studio = simulator.kasify.property_at(1)
    simulator.faults.inject("/kasify/v1/properties/", method="POST", status=409, times=1)
    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(hass, "create_booking", _booking_data(hass, studio))
    assert exc_info.value.translation_key == "booking_conflict"
    assert str(exc_info.value) == f"Kasify refused the booking: it overlaps another stay at {studio['name']}"

    # The same when the other stay cannot be looked up.
    simulator.faults.inject("/kasify/v1/properties/", method="POST", status=409, times=1)
    simulator.faults.inject("/kasify/v1/properties/", method="GET", status=500, times=1)
    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(hass, "create_booking", _booking_data(hass, studio))
    assert exc_info.value.translation_key == "booking_conflict"


async def test_create_booking_rejected_by_kasify(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Kasify's 422 becomes a translated validation error naming the field."""
    studio = simulator.kasify.property_at(1)
    count = len(simulator.kasify.bookings)
    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(hass, "create_booking", _booking_data(hass, studio, guest_name="A" * 600))
    assert exc_info.value.translation_key == "booking_rejected"
    assert "guest_name: must be at most 500 characters" in str(exc_info.value)
    assert len(simulator.kasify.bookings) == count


async def test_guest_contact_never_in_errors(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Should Kasify quote the guest's e-mail or phone in an error, the message shows neither."""
    studio = simulator.kasify.property_at(1)
    data = _booking_data(hass, studio, email="ana@example.com", phone="+34 600 123 456")
    body = json.dumps(
        {
            "error": "validation_failed",
            "message": "ana@example.com is not deliverable",
            "fields": {
                "guest_email": ["ana@example.com is not deliverable"],
                "guest_phone": ["+34 600 123 456?"],
            },
        }
    )
    simulator.faults.inject("/kasify/v1/properties/", method="POST", status=422, body=body, times=1)
    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(hass, "create_booking", data)
    assert exc_info.value.translation_key == "booking_rejected"
    assert "email: *** is not deliverable; phone: ***?" in str(exc_info.value)

    simulator.faults.inject("/kasify/v1/properties/", method="POST", status=500, body=body, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _call(hass, "create_booking", data)
    assert exc_info.value.translation_key == "create_booking_failed"
    assert "*** is not deliverable" in str(exc_info.value)
    assert "ana@example.com" not in str(exc_info.value)


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not-an-address"},
        {"phone": "call me"},
        {"phone": "+34 12"},
        {"guests": 0},
        {"guests": 51},
        {"guest_name": "   "},
        {"check_in": "tomorrow"},
        {"notes": "x" * 5001},
    ],
)
async def test_create_booking_bad_fields(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator, data: dict[str, Any]
) -> None:
    """Malformed fields are refused before anything is sent (and the e-mail is not echoed)."""
    studio = simulator.kasify.property_at(1)
    simulator.reset_requests()
    with pytest.raises(vol.Invalid) as exc_info:
        await _call(hass, "create_booking", _booking_data(hass, studio, **data))
    assert "not-an-address" not in str(exc_info.value)
    assert simulator.requests == []


async def test_create_booking_upstream_failure(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Kasify down: a translated error that says which property and why."""
    studio = simulator.kasify.property_at(1)
    count = len(simulator.kasify.bookings)
    simulator.faults.inject("/kasify/v1/properties/", method="POST", status=503, body="<html>down</html>")
    with pytest.raises(HomeAssistantError) as exc_info:
        await _call(hass, "create_booking", _booking_data(hass, studio))
    assert not isinstance(exc_info.value, ServiceValidationError)
    assert exc_info.value.translation_key == "create_booking_failed"
    assert str(exc_info.value).startswith(f"Could not create the booking at {studio['name']}: ")
    assert "HTTP 503" in str(exc_info.value)
    assert len(simulator.kasify.bookings) == count


async def test_target_is_not_a_kasify_property(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A device of another integration, a lock, or an unknown id: refused with the device's name."""
    other = MockConfigEntry(domain="demo")
    other.add_to_hass(hass)
    registry = dr.async_get(hass)
    lamp = registry.async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("demo", "lamp")}, name="Lamp"
    )
    lock = next(
        device
        for device in dr.async_entries_for_config_entry(registry, init_integration.entry_id)
        if device.model != "Property"
    )
    simulator.reset_requests()
    for device_id, name in ((lamp.id, "Lamp"), (lock.id, lock.name), ("nope", "nope")):
        for action, extra in (
            (
                "create_booking",
                {"guest_name": "X", "check_in": "2026-09-01 15:00", "check_out": "2026-09-02 11:00"},
            ),
            ("create_task", {"title": "Clean"}),
        ):
            with pytest.raises(ServiceValidationError) as exc_info:
                await _call(hass, action, {"property": device_id, **extra})
            assert exc_info.value.translation_key == "invalid_property"
            assert str(exc_info.value).startswith(f"{name} is not a Kasify property")
    assert simulator.requests == []


async def test_account_not_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The property's account is unloaded: refused, and the task actions say no account is loaded."""
    studio = simulator.kasify.property_at(1)
    device_id = property_device_id(hass, studio["id"])
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    simulator.reset_requests()
    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(hass, "create_task", {"property": device_id, "title": "Clean"})
    assert exc_info.value.translation_key == "account_not_loaded"
    assert studio["name"] in str(exc_info.value)
    for action in ("start_task", "complete_task"):
        with pytest.raises(ServiceValidationError) as exc_info:
            await _call(hass, action, {"task_id": "abc"})
        assert exc_info.value.translation_key == "no_kasify_account"
    assert simulator.requests == []


# --- create_task -----------------------------------------------------------------------------------------


async def test_create_task(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A cleaning task for the team's cleaner, tied to a stay: in Kasify, then on the open-tasks sensor."""
    studio = simulator.kasify.property_at(1)
    lucia = next(m for m in studio["team"] if m["name"] == "Lucía")
    booking = next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == studio["id"] and b["guest_name"] == "João Costa"
    )
    sensor_id = _entity_id(hass, "sensor", studio["id"], "open_tasks")
    open_before = int(hass.states.get(sensor_id).state)  # type: ignore[union-attr]

    response = await _call(
        hass,
        "create_task",
        {
            "property": property_device_id(hass, studio["id"]),
            "title": "Limpieza tras la salida de João",
            "description": "Cambiar sábanas",
            "task_type": "cleaning",
            "due": "2026-03-17 15:00:00",  # Madrid
            "assignee": "lucía SÁNCHEZ",
            "booking_id": booking["id"],
        },
    )
    task = simulator.kasify.tasks[response["task_id"]]
    assert (task["property_id"], task["title"], task["task_type"], task["status"]) == (
        studio["id"],
        "Limpieza tras la salida de João",
        "cleaning",
        "pending",
    )
    assert (task["assignee_id"], task["booking_id"], task["description"]) == (
        lucia["id"],
        booking["id"],
        "Cambiar sábanas",
    )
    assert datetime.fromisoformat(task["due_at"]) == datetime.fromisoformat("2026-03-17T14:00:00+00:00")
    assert response == {
        "task_id": task["id"],
        "property_id": studio["id"],
        "property": studio["name"],
        "title": "Limpieza tras la salida de João",
        "task_type": "cleaning",
        "status": "pending",
        "due": "2026-03-17T14:00:00+00:00",
        "assignee_id": lucia["id"],
        "assignee": "Lucía Sánchez",
        "booking_id": booking["id"],
    }
    state = hass.states.get(sensor_id)
    assert state is not None
    assert int(state.state) == open_before + 1
    assert task["id"] in [t["id"] for t in state.attributes["tasks"]]


async def test_create_task_minimal(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Only a title: an "other" task, unassigned; the assignee by Kasify id works too."""
    loft = simulator.kasify.property_at(0)
    response = await _call(
        hass, "create_task", {"property": property_device_id(hass, loft["id"]), "title": "Check"}
    )
    task = simulator.kasify.tasks[response["task_id"]]
    assert (task["task_type"], task["assignee_id"], task["due_at"], task["booking_id"]) == (
        "other",
        None,
        None,
        None,
    )
    assert response["assignee"] is None

    javier = next(m for m in loft["team"] if m["name"] == "Javier")
    response = await _call(
        hass,
        "create_task",
        {
            "property": property_device_id(hass, loft["id"]),
            "title": "Fix",
            "assignee": javier["id"],
            "due": "",
        },
    )
    assert simulator.kasify.tasks[response["task_id"]]["assignee_id"] == javier["id"]
    assert response["assignee"] == "Javier Ortega"


async def test_create_task_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Someone not on the team (even a crew member of the account), a stay of another property, or a booking
    Kasify does not have: refused with a clear message, and no task created."""
    studio, loft = simulator.kasify.property_at(1), simulator.kasify.property_at(0)
    rafael = next(m for m in simulator.kasify.crew.values() if m["name"] == "Rafael")  # crew, not on the team
    loft_booking = next(b for b in simulator.kasify.bookings.values() if b["property_id"] == loft["id"])
    device_id = property_device_id(hass, studio["id"])
    tasks = dict(simulator.kasify.tasks)

    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"assignee": "Rafael Navarro"},
            "unknown_assignee",
            f"Rafael Navarro is not on the team of {studio['name']}. "
            "Its team: Carmen Castro, Javier Ortega, Lucía Sánchez",
        ),
        ({"assignee": rafael["id"]}, "unknown_assignee", "is not on the team of"),
        (
            {"booking_id": loft_booking["id"]},
            "booking_other_property",
            f"Booking {loft_booking['id']} is a stay at {loft['name']}, not at {studio['name']}",
        ),
        ({"booking_id": "no-such-booking"}, "unknown_booking", "Kasify has no booking no-such-booking"),
    ]
    for data, key, message in cases:
        with pytest.raises(ServiceValidationError) as exc_info:
            await _call(hass, "create_task", {"property": device_id, "title": "Clean", **data})
        assert exc_info.value.translation_key == key
        assert message in str(exc_info.value)
    with pytest.raises(vol.Invalid):
        await _call(hass, "create_task", {"property": device_id, "title": "Clean", "task_type": "party"})
    assert simulator.kasify.tasks == tasks
    assert _posts(simulator) == []


async def test_create_task_booking_not_cached(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A stay Home Assistant does not keep is checked with Kasify before the task is created."""
    studio = simulator.kasify.property_at(1)
    far = NOW + timedelta(days=300)
    booking = simulator.kasify.add_booking(studio["id"], "Lejana", far, far + timedelta(days=2))
    response = await _call(
        hass,
        "create_task",
        {"property": property_device_id(hass, studio["id"]), "title": "Clean", "booking_id": booking["id"]},
    )
    assert simulator.kasify.tasks[response["task_id"]]["booking_id"] == booking["id"]


async def test_assignee_ambiguous_or_no_team(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Two team members with the same first name need the full name; a property without team takes nobody."""
    state = simulator.kasify
    ana_a, ana_b = state.add_crew_member("Ana", "Vidal"), state.add_crew_member("Ana", "Prieto")
    cleaner = state.add_crew_member("Pilar", "Gómez")
    twins = state.add_property("Casa Gemela", team=[ana_a, ana_b], default_cleaner=cleaner)
    lonely = state.add_property("Casa Sola")
    await _coordinator(init_integration).async_refresh()
    await hass.async_block_till_done()

    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(
            hass,
            "create_task",
            {"property": property_device_id(hass, twins["id"]), "title": "T", "assignee": "ana"},
        )
    assert exc_info.value.translation_key == "ambiguous_assignee"
    assert "More than one member of the team of Casa Gemela is called ana" in str(exc_info.value)
    response = await _call(
        hass,
        "create_task",
        {"property": property_device_id(hass, twins["id"]), "title": "T", "assignee": "Ana Prieto"},
    )
    assert state.tasks[response["task_id"]]["assignee_id"] == ana_b["id"]
    # The default cleaner counts as part of the team.
    response = await _call(
        hass,
        "create_task",
        {"property": property_device_id(hass, twins["id"]), "title": "T", "assignee": "pilar"},
    )
    assert response["assignee"] == "Pilar Gómez"

    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(
            hass,
            "create_task",
            {"property": property_device_id(hass, lonely["id"]), "title": "T", "assignee": "Ana"},
        )
    assert exc_info.value.translation_key == "property_has_no_team"


async def test_create_task_rejected_and_failures(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Kasify's 422 is a validation error naming the field; a 5xx or a failed booking check is upstream."""
    studio = simulator.kasify.property_at(1)
    device_id = property_device_id(hass, studio["id"])
    tasks = dict(simulator.kasify.tasks)
    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(hass, "create_task", {"property": device_id, "title": "T" * 501})
    assert exc_info.value.translation_key == "task_rejected"
    assert "title: must be at most 500 characters" in str(exc_info.value)

    simulator.faults.inject("/kasify/v1/tasks", method="POST", status=500, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _call(hass, "create_task", {"property": device_id, "title": "Clean"})
    assert exc_info.value.translation_key == "create_task_failed"
    assert f"Could not create the task at {studio['name']}: " in str(exc_info.value)

    simulator.faults.inject("/kasify/v1/bookings/", method="GET", status=502, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _call(hass, "create_task", {"property": device_id, "title": "Clean", "booking_id": "b-1"})
    assert exc_info.value.translation_key == "create_task_failed"
    assert simulator.kasify.tasks == tasks


# --- start_task / complete_task --------------------------------------------------------------------------


def _pending_task(simulator: Simulator, property_id: str) -> dict[str, Any]:
    return next(
        t for t in simulator.kasify.list_tasks(("pending",), property_id) if t["task_type"] == "maintenance"
    )


async def test_start_then_complete(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Start moves the task to in progress, complete closes it; the open-tasks sensor follows each step."""
    loft = simulator.kasify.property_at(0)
    task = _pending_task(simulator, loft["id"])
    sensor_id = _entity_id(hass, "sensor", loft["id"], "open_tasks")
    open_before = int(hass.states.get(sensor_id).state)  # type: ignore[union-attr]

    response = await _call(hass, "start_task", {"task_id": task["id"]})
    assert response == {
        "task_id": task["id"],
        "property_id": loft["id"],
        "property": loft["name"],
        "title": task["title"],
        "status": "in_progress",
    }
    assert simulator.kasify.tasks[task["id"]]["status"] == "in_progress"
    listed = {t["id"]: t for t in hass.states.get(sensor_id).attributes["tasks"]}  # type: ignore[union-attr]
    assert listed[task["id"]]["status"] == "in_progress"

    simulator.reset_requests()
    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(hass, "start_task", {"task_id": task["id"]})
    assert exc_info.value.translation_key == "task_already_started"
    assert str(exc_info.value) == f"The task {task['title']} is already in progress"
    assert simulator.requests == []  # known from the last refresh

    response = await _call(hass, "complete_task", {"task_id": task["id"]})
    assert response["status"] == "completed"
    assert simulator.kasify.tasks[task["id"]]["status"] == "completed"
    assert int(hass.states.get(sensor_id).state) == open_before - 1  # type: ignore[union-attr]

    # Completed lately: known to be done, refused without asking Kasify.
    for action in ("complete_task", "start_task"):
        with pytest.raises(ServiceValidationError) as exc_info:
            await _call(hass, action, {"task_id": task["id"]})
        assert exc_info.value.translation_key == "task_already_completed"
    assert _posts(simulator) == [f"/kasify/v1/tasks/{task['id']}/complete"]


async def test_task_created_since_the_last_refresh(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A task Home Assistant has not seen yet is found by asking Kasify, and completed straight away."""
    loft = simulator.kasify.property_at(0)
    task = simulator.kasify.add_task(loft["id"], "Nueva", task_type="inspection")
    response = await _call(hass, "complete_task", {"task_id": task["id"]})
    assert response["status"] == "completed"
    assert simulator.kasify.tasks[task["id"]]["status"] == "completed"


async def test_task_moved_on_elsewhere(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Started in Kasify since the last refresh: Kasify's 409 becomes "already in progress"."""
    loft = simulator.kasify.property_at(0)
    task = _pending_task(simulator, loft["id"])
    simulator.kasify.start_task(task["id"])
    with pytest.raises(ServiceValidationError) as exc_info:
        await _call(hass, "start_task", {"task_id": task["id"]})
    assert exc_info.value.translation_key == "task_already_started"


async def test_unknown_task(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """An id no account has: refused by name, nothing changed."""
    for action in ("start_task", "complete_task"):
        with pytest.raises(ServiceValidationError) as exc_info:
            await _call(hass, action, {"task_id": "no-such-task"})
        assert exc_info.value.translation_key == "unknown_task"
        assert str(exc_info.value) == "No loaded Kasify account has a task no-such-task"
    assert _posts(simulator) == []


@pytest.mark.parametrize(
    ("action", "key"), [("start_task", "start_task_failed"), ("complete_task", "complete_task_failed")]
)
async def test_task_transition_failures(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator, action: str, key: str
) -> None:
    """Kasify failing on the transition, on the lookup, or with a 409 it cannot explain: upstream errors."""
    loft = simulator.kasify.property_at(0)
    task = _pending_task(simulator, loft["id"])
    simulator.faults.inject("/kasify/v1/tasks/", method="POST", status=503, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _call(hass, action, {"task_id": task["id"]})
    assert not isinstance(exc_info.value, ServiceValidationError)
    assert exc_info.value.translation_key == key
    assert task["title"] in str(exc_info.value)
    assert simulator.kasify.tasks[task["id"]]["status"] == "pending"

    # A 409 while Kasify still reports the task pending (and a failing re-read): upstream errors too.
    simulator.faults.inject("/kasify/v1/tasks/", method="POST", status=409, times=2)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _call(hass, action, {"task_id": task["id"]})
    assert exc_info.value.translation_key == key
    simulator.faults.inject("/kasify/v1/tasks/", method="GET", status=500, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _call(hass, action, {"task_id": task["id"]})
    assert exc_info.value.translation_key == key

    # The lookup of a task HA does not keep fails.
    simulator.faults.inject("/kasify/v1/tasks/", method="GET", status=500, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _call(hass, action, {"task_id": "other-task"})
    assert exc_info.value.translation_key == key
    assert simulator.kasify.tasks[task["id"]]["status"] == "pending"
