"""To-do lists on the simulator: Kasify tasks to add, edit, check off and delete; casavi tickets to read."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components.todo import DOMAIN as TODO_DOMAIN, TodoItem
from homeassistant.components.todo.const import TodoListEntityFeature
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify import compat
from custom_components.kasify.const import CONF_STAY_TIMES, CONF_TIME_ZONE, DOMAIN
from simulator import Simulator
from simulator.clock import parse_iso
from simulator.errors import NotFoundError

from . import setup_integration
from .providers import (
    KASIFY_OPTIONS,
    NOW,
    casavi_entry,
    kasify_entry,
    property_device_id,
    readme_example,
    refresh,
)

MADRID = ZoneInfo("Europe/Madrid")
LOFT = "todo.loft_patio_lavapies_tasks"


@pytest.fixture(autouse=True)
async def madrid(hass: HomeAssistant) -> None:
    """Home Assistant runs in Madrid (UTC+1 in March), like the host."""
    await hass.config.async_set_time_zone("Europe/Madrid")


def _loft(simulator: Simulator) -> dict[str, Any]:
    return simulator.kasify.property_at(0)


def _member(simulator: Simulator, member_id: str) -> str:
    member = simulator.kasify.crew[member_id]
    return f"{member['name']} {member['last_name']}".strip()


async def _items(hass: HomeAssistant, entity_id: str = LOFT) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        TODO_DOMAIN, "get_items", {"entity_id": entity_id}, blocking=True, return_response=True
    )
    assert response is not None
    items: list[dict[str, Any]] = response[entity_id]["items"]  # type: ignore[index]
    return items


def _by_uid(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["uid"]: item for item in items}


async def _todo(hass: HomeAssistant, action: str, data: dict[str, Any], entity_id: str = LOFT) -> None:
    await hass.services.async_call(TODO_DOMAIN, action, {"entity_id": entity_id, **data}, blocking=True)


def _writes(simulator: Simulator) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.body) for r in simulator.requests if r.method in ("POST", "PATCH", "DELETE")]


def _open_task(simulator: Simulator, property_id: str, task_type: str = "maintenance") -> dict[str, Any]:
    return next(
        t for t in simulator.kasify.list_tasks(("pending",), property_id) if t["task_type"] == task_type
    )


# --- what the lists show -------------------------------------------------------------------------------


async def test_items_show_open_tasks_then_recently_completed(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Open tasks by due time with their type and assignee, then the tasks completed in the last 7 days,
    checked off; older completed tasks are not shown. The state counts the open ones."""
    loft = _loft(simulator)
    kasify = simulator.kasify
    old = kasify.add_task(loft["id"], "Old one", status="completed", completed_at=NOW - timedelta(days=8))
    await refresh(hass, init_integration)

    items = await _items(hass)
    open_tasks = kasify.list_tasks(("pending", "in_progress"), loft["id"])
    done = [
        t
        for t in kasify.list_tasks(("completed",), loft["id"])
        if parse_iso(t["completed_at"]) >= NOW - timedelta(days=7)
    ]
    assert done, "the seeded fleet has a cleaning completed lately"
    assert [i["uid"] for i in items] == [t["id"] for t in open_tasks] + [
        t["id"] for t in sorted(done, key=lambda t: t["completed_at"], reverse=True)
    ]
    assert old["id"] not in _by_uid(items)
    assert hass.states.get(LOFT).state == str(len(open_tasks))  # type: ignore[union-attr]

    task = _open_task(simulator, loft["id"])
    item = _by_uid(items)[task["id"]]
    assert item["summary"] == task["title"]
    assert item["status"] == "needs_action"
    assert datetime.fromisoformat(item["due"]) == parse_iso(task["due_at"])
    assert item["description"] == f"Maintenance · assigned to {_member(simulator, task['assignee_id'])}"
    cleaning = done[0]
    assert _by_uid(items)[cleaning["id"]]["status"] == "completed"
    if compat.TODO_ITEM_HAS_COMPLETED:  # releases after 2025.4 show when it was done
        completed_at = datetime.fromisoformat(_by_uid(items)[cleaning["id"]]["completed"])
        assert completed_at == parse_iso(cleaning["completed_at"])
    assert _by_uid(items)[cleaning["id"]]["description"] == (
        f"{cleaning['description']}\n\nCleaning · assigned to {_member(simulator, cleaning['assignee_id'])}"
    )


async def test_items_read_in_spanish_and_in_progress(hass: HomeAssistant, simulator: Simulator) -> None:
    """The added line is in Home Assistant's language; a task in progress says so; the list is named in it."""
    hass.config.language = "es"
    loft = _loft(simulator)
    task = _open_task(simulator, loft["id"])
    simulator.kasify.start_task(task["id"])
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    entity_id = "todo.loft_patio_lavapies_tareas"  # named in Home Assistant's language
    item = _by_uid(await _items(hass, entity_id))[task["id"]]
    assert item["description"] == (
        f"Mantenimiento · asignada a {_member(simulator, task['assignee_id'])} · en curso"
    )
    assert item["status"] == "needs_action"
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["friendly_name"] == f"{loft['name']} Tareas"


async def test_list_unavailable_while_tasks_are_off(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Kasify does not understand the task listing: the lists are unavailable, not empty; back after."""
    simulator.faults.inject("/kasify/v1/tasks", method="GET", status=404)
    await refresh(hass, init_integration)
    assert hass.states.get(LOFT).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    simulator.faults.clear()
    await refresh(hass, init_integration)
    assert hass.states.get(LOFT).state != STATE_UNAVAILABLE  # type: ignore[union-attr]


# --- adding items ----------------------------------------------------------------------------------------


async def test_add_item_creates_a_task(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A type prefix (in English or Spanish) sets the type; a due date is midnight at the property and reads
    back as the date; one request, no refresh, and the item is there at once."""
    loft = _loft(simulator)
    simulator.reset_requests()
    await _todo(
        hass,
        "add_item",
        {
            "item": "Limpieza: Repaso a fondo",
            "due_date": "2026-03-20",
            "description": "Todas las habitaciones",
        },
    )
    (request,) = simulator.requests
    assert (request.method, request.path) == ("POST", "/kasify/v1/tasks")
    assert request.body == {
        "property_id": loft["id"],
        "title": "Repaso a fondo",
        "description": "Todas las habitaciones",
        "task_type": "cleaning",
        "due_at": "2026-03-20T00:00:00+01:00",
    }
    item = next(i for i in await _items(hass) if i["summary"] == "Repaso a fondo")
    assert item["due"] == "2026-03-20"
    assert item["description"] == "Todas las habitaciones\n\nCleaning"
    assert simulator.kasify.tasks[item["uid"]]["task_type"] == "cleaning"

    await _todo(hass, "add_item", {"item": "Plumber: call at 10:00", "due_datetime": "2026-03-16 18:30:00"})
    task = simulator.kasify.tasks[
        next(i["uid"] for i in await _items(hass) if i["summary"].startswith("Plumber"))
    ]
    assert (task["title"], task["task_type"]) == ("Plumber: call at 10:00", "other")
    assert parse_iso(task["due_at"]) == datetime(2026, 3, 16, 18, 30, tzinfo=MADRID)


async def test_date_only_due_is_midnight_in_the_property_zone(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A property in another time zone: a due date is that date at midnight there."""
    loft = _loft(simulator)
    options = {**KASIFY_OPTIONS, CONF_STAY_TIMES: {loft["id"]: {CONF_TIME_ZONE: "Atlantic/Canary"}}}
    await setup_integration(hass, kasify_entry(simulator, options=options))
    await _todo(hass, "add_item", {"item": "Check boiler", "due_date": "2026-03-21"})
    item = next(i for i in await _items(hass) if i["summary"] == "Check boiler")
    assert item["due"] == "2026-03-21"
    due = parse_iso(simulator.kasify.tasks[item["uid"]]["due_at"])
    assert due == datetime(2026, 3, 21, tzinfo=ZoneInfo("Atlantic/Canary"))


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"item": "cleaning:   "}, "task_title_empty"),
        ({"item": "Fix", "description": "x" * 5001}, "task_description_too_long"),
    ],
)
async def test_add_item_bad_input(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    data: dict[str, Any],
    key: str,
) -> None:
    """A type without a title, an overlong description: a translated error, nothing sent."""
    simulator.reset_requests()
    with pytest.raises(ServiceValidationError) as exc_info:
        await _todo(hass, "add_item", data)
    assert exc_info.value.translation_key == key
    assert simulator.requests == []


async def test_add_item_refused_or_failing(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Kasify's 422 names the field; a 5xx is an upstream error; the list is unchanged either way."""
    before = await _items(hass)
    with pytest.raises(ServiceValidationError) as exc_info:
        await _todo(hass, "add_item", {"item": "T" * 501})
    assert exc_info.value.translation_key == "task_rejected"
    assert "title: must be at most 500 characters" in str(exc_info.value)
    simulator.faults.inject("/kasify/v1/tasks", method="POST", status=503, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _todo(hass, "add_item", {"item": "Clean"})
    assert exc_info.value.translation_key == "create_task_failed"
    assert await _items(hass) == before


# --- checking off, editing, deleting ---------------------------------------------------------------------


async def test_check_off_completes_the_task(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Checking an item off completes its task (one request); it stays on the list, checked; the open-tasks
    sensor follows. A completed task cannot be reopened."""
    loft = _loft(simulator)
    task = _open_task(simulator, loft["id"])
    open_before = int(hass.states.get(LOFT).state)  # type: ignore[union-attr]
    simulator.reset_requests()
    await _todo(hass, "update_item", {"item": task["title"], "status": "completed"})
    assert _writes(simulator) == [("POST", f"/kasify/v1/tasks/{task['id']}/complete", None)]
    assert len(simulator.requests) == 1
    assert simulator.kasify.tasks[task["id"]]["status"] == "completed"
    assert _by_uid(await _items(hass))[task["id"]]["status"] == "completed"
    assert hass.states.get(LOFT).state == str(open_before - 1)  # type: ignore[union-attr]
    assert hass.states.get("sensor.loft_patio_lavapies_open_tasks").state == str(open_before - 1)  # type: ignore[union-attr]

    simulator.reset_requests()
    with pytest.raises(ServiceValidationError) as exc_info:
        await _todo(hass, "update_item", {"item": task["id"], "status": "needs_action"})
    assert exc_info.value.translation_key == "task_reopen_not_supported"
    assert simulator.requests == []


async def test_check_off_a_task_completed_elsewhere(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Completed in Kasify since the last refresh: Kasify's 409 is the item's wish already, shown as done."""
    task = _open_task(simulator, _loft(simulator)["id"])
    simulator.kasify.complete_task(task["id"])
    await _todo(hass, "update_item", {"item": task["id"], "status": "completed"})
    assert _by_uid(await _items(hass))[task["id"]]["status"] == "completed"


async def test_edits_send_only_what_changed(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Rename (a type prefix changes the type), due, and the description: only changed fields are sent; the
    added line is not part of the description sent back; clearing the due sends null."""
    task = _open_task(simulator, _loft(simulator)["id"])
    uid = task["id"]
    simulator.reset_requests()
    await _todo(hass, "update_item", {"item": uid, "rename": "inspection: Revisar caldera"})
    assert _writes(simulator) == [
        ("PATCH", f"/kasify/v1/tasks/{uid}", {"title": "Revisar caldera", "task_type": "inspection"})
    ]
    item = _by_uid(await _items(hass))[uid]
    assert item["summary"] == "Revisar caldera"
    assert item["description"].startswith("Inspection · assigned to ")

    # The dialog sends the whole text back: the user's part is what changes.
    simulator.reset_requests()
    await _todo(
        hass, "update_item", {"item": uid, "description": f"Bring the ladder\n\n{item['description']}"}
    )
    assert _writes(simulator) == [("PATCH", f"/kasify/v1/tasks/{uid}", {"description": "Bring the ladder"})]
    # Only the added line left: the description is cleared.
    simulator.reset_requests()
    info = _by_uid(await _items(hass))[uid]["description"].split("\n\n")[-1]
    await _todo(hass, "update_item", {"item": uid, "description": info})
    assert _writes(simulator) == [("PATCH", f"/kasify/v1/tasks/{uid}", {"description": None})]
    # An automation sets the description alone.
    simulator.reset_requests()
    await _todo(hass, "update_item", {"item": uid, "description": "Ladder in the garage"})
    assert _writes(simulator) == [
        ("PATCH", f"/kasify/v1/tasks/{uid}", {"description": "Ladder in the garage"})
    ]
    assert simulator.kasify.tasks[uid]["description"] == "Ladder in the garage"

    simulator.reset_requests()
    await _todo(hass, "update_item", {"item": uid, "due_datetime": "2026-03-18 09:30:00"})
    assert _writes(simulator) == [
        ("PATCH", f"/kasify/v1/tasks/{uid}", {"due_at": "2026-03-18T09:30:00+01:00"})
    ]
    simulator.reset_requests()
    await _todo(hass, "update_item", {"item": uid, "due_datetime": None})
    assert _writes(simulator) == [("PATCH", f"/kasify/v1/tasks/{uid}", {"due_at": None})]
    assert _by_uid(await _items(hass))[uid].get("due") is None

    # Nothing changed: nothing sent.
    simulator.reset_requests()
    await _todo(hass, "update_item", {"item": uid, "rename": "Revisar caldera"})
    assert simulator.requests == []


async def test_edit_and_check_off_undone_when_completing_fails(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A rename and a check-off at once: when completing fails the rename is undone, the error says why."""
    task = _open_task(simulator, _loft(simulator)["id"])
    before = await _items(hass)
    simulator.faults.inject(f"/kasify/v1/tasks/{task['id']}/complete", method="POST", status=503, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _todo(hass, "update_item", {"item": task["id"], "rename": "New name", "status": "completed"})
    assert exc_info.value.translation_key == "complete_task_failed"
    record = simulator.kasify.tasks[task["id"]]
    assert (record["title"], record["status"]) == (task["title"], "pending")
    assert await _items(hass) == before

    # The undo fails too: the error says the change stuck.
    real_patch = simulator.kasify.patch_task

    def patch_then_break(task_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        # The rename goes through; the next PATCH (the undo) meets a failing Kasify.
        simulator.faults.inject(f"/kasify/v1/tasks/{task_id}", method="PATCH", status=502, times=1)
        return real_patch(task_id, changes)

    simulator.kasify.patch_task = patch_then_break  # type: ignore[method-assign]
    simulator.faults.inject(f"/kasify/v1/tasks/{task['id']}/complete", method="POST", status=503, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _todo(hass, "update_item", {"item": task["id"], "rename": "New name", "status": "completed"})
    assert exc_info.value.translation_key == "task_change_not_undone"
    assert simulator.kasify.tasks[task["id"]]["title"] == "New name"


async def test_edit_of_a_task_completed_meanwhile(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Renamed and checked off while someone completed it in Kasify: the rename's answer says completed, so
    no completion is sent."""
    task = _open_task(simulator, _loft(simulator)["id"])
    real_patch = simulator.kasify.patch_task

    def completed_meanwhile(task_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        simulator.kasify.complete_task(task_id)
        return real_patch(task_id, changes)

    simulator.kasify.patch_task = completed_meanwhile  # type: ignore[method-assign]
    simulator.reset_requests()
    await _todo(hass, "update_item", {"item": task["id"], "rename": "Renamed", "status": "completed"})
    assert [r.method for r in simulator.requests] == ["PATCH"]
    item = _by_uid(await _items(hass))[task["id"]]
    assert (item["summary"], item["status"]) == ("Renamed", "completed")


async def test_item_of_no_task(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """An item Home Assistant no longer has a task for (another property's, or gone): refused by name."""
    entity = hass.data["entity_components"][TODO_DOMAIN].get_entity(LOFT)
    with pytest.raises(ServiceValidationError) as exc_info:
        await entity.async_update_todo_item(TodoItem(uid="no-such-task", summary="X"))
    assert exc_info.value.translation_key == "unknown_task"


async def test_edit_refused_or_ignored_by_kasify(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A PATCH that fails, or that answers 200 without the change (Kasify's pages say nothing of which fields
    it takes): a translated error naming it; the list shows what Kasify has."""
    task = _open_task(simulator, _loft(simulator)["id"])
    before = await _items(hass)
    simulator.faults.inject("/kasify/v1/tasks/", method="PATCH", status=500, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _todo(hass, "update_item", {"item": task["id"], "rename": "Other"})
    assert exc_info.value.translation_key == "update_task_failed"
    with pytest.raises(ServiceValidationError) as exc_info:
        await _todo(hass, "update_item", {"item": task["id"], "rename": "T" * 5001})
    assert exc_info.value.translation_key == "task_rejected"
    simulator.kasify.patch_ignores = frozenset({"title"})
    with pytest.raises(HomeAssistantError) as exc_info:
        await _todo(hass, "update_item", {"item": task["id"], "rename": "Other"})
    assert exc_info.value.translation_key == "update_task_failed"
    assert "without the change to title" in str(exc_info.value)
    assert await _items(hass) == before


async def test_delete_items(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Deleting deletes in Kasify; one that fails does not stop the others and is named; one Kasify no longer
    has counts as deleted."""
    loft = _loft(simulator)
    kasify = simulator.kasify
    first, second, third = (kasify.add_task(loft["id"], name) for name in ("One", "Two", "Three"))
    await refresh(hass, init_integration)
    kasify.remove_task(third["id"])  # gone from Kasify since the last refresh
    simulator.reset_requests()
    simulator.faults.inject(f"/kasify/v1/tasks/{second['id']}", method="DELETE", status=503, times=1)
    with pytest.raises(HomeAssistantError) as exc_info:
        await _todo(hass, "remove_item", {"item": ["One", "Two", "Three"]})
    assert exc_info.value.translation_key == "delete_task_failed"
    assert "Two" in str(exc_info.value)
    assert [r.method for r in simulator.requests] == ["DELETE"] * 3
    uids = _by_uid(await _items(hass))
    assert first["id"] not in uids
    assert third["id"] not in uids
    assert second["id"] in uids
    await _todo(hass, "remove_item", {"item": second["id"]})
    assert second["id"] not in kasify.tasks
    assert second["id"] not in _by_uid(await _items(hass))


async def test_existing_task_actions_share_the_path(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """kasify.create_task and kasify.complete_task change the list at once, without a refresh."""
    loft = _loft(simulator)
    simulator.reset_requests()
    response = await hass.services.async_call(
        DOMAIN,
        "create_task",
        {
            "property": property_device_id(hass, loft["id"]),
            "title": "From the action",
            "task_type": "inspection",
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert _by_uid(await _items(hass))[response["task_id"]]["summary"] == "From the action"  # type: ignore[index]
    await hass.services.async_call(DOMAIN, "complete_task", {"task_id": response["task_id"]}, blocking=True)
    assert _by_uid(await _items(hass))[response["task_id"]]["status"] == "completed"  # type: ignore[index]
    assert simulator.count_requests("/kasify/v1/properties") == 0


# --- recently completed tasks: Kasify's answer checked ---------------------------------------------------


async def test_completed_listing_costs_one_request_and_survives_a_restart(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """One more listing per refresh (status=completed, completed_since 7 days back); after a reload the lists
    are the same, read from Kasify."""
    simulator.reset_requests()
    await refresh(hass, init_integration)
    completed = [
        r for r in simulator.requests_for("/kasify/v1/tasks") if r.query.get("status") == "completed"
    ]
    assert len(completed) == 1
    assert parse_iso(completed[0].query["completed_since"]) == NOW - timedelta(days=7)
    before = await _items(hass)
    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert await _items(hass) == before


@pytest.mark.parametrize("how", ["ignored", "404"])
async def test_completed_listing_not_understood(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    how: str,
) -> None:
    """Kasify ignores the filter (it lists older completed tasks) or does not know the request: the completed
    items go (nothing of that answer is used, one page read), a repair issue says so; open tasks stay; back
    when Kasify answers as expected."""
    loft = _loft(simulator)
    simulator.kasify.add_task(
        loft["id"], "Long ago", status="completed", completed_at=NOW - timedelta(days=40)
    )
    real_list = simulator.kasify.list_tasks
    if how == "ignored":
        simulator.kasify.ignore_completed_since = True
    else:
        _fail_completed_listing(simulator)
    simulator.reset_requests()
    await refresh(hass, init_integration)
    items = await _items(hass)
    assert items
    assert all(item["status"] == "needs_action" for item in items)
    issue_id = f"endpoint_not_understood_{init_integration.entry_id}_completed_tasks"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["status"] == ("200" if how == "ignored" else "404")
    completed = [
        r for r in simulator.requests_for("/kasify/v1/tasks") if r.query.get("status") == "completed"
    ]
    assert len(completed) == 1

    simulator.kasify.ignore_completed_since = False
    simulator.kasify.list_tasks = real_list  # type: ignore[method-assign]
    await refresh(hass, init_integration)
    assert any(item["status"] == "completed" for item in await _items(hass))
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


def _fail_completed_listing(simulator: Simulator) -> None:
    """Every completed-task listing answers 404; the rest as usual."""
    real = simulator.kasify.list_tasks

    def list_tasks(statuses: Any = None, property_id: Any = None, *, completed_since: Any = None) -> Any:
        if completed_since is not None:
            raise NotFoundError("no such filter")
        return real(statuses, property_id, completed_since=completed_since)

    simulator.kasify.list_tasks = list_tasks  # type: ignore[method-assign]


# --- casavi tickets -------------------------------------------------------------------------------------


async def test_casavi_tickets_are_a_read_only_list(hass: HomeAssistant, simulator: Simulator) -> None:
    """Each casavi property's open tickets, to read only."""
    await setup_integration(hass, casavi_entry(simulator))
    entity_id = "todo.haus_am_see_tickets"
    state = hass.states.get(entity_id)
    assert state is not None
    assert not state.attributes.get("supported_features", 0) & TodoListEntityFeature.CREATE_TODO_ITEM
    open_tickets = {
        t["id"]: t
        for t in simulator.casavi.tickets.values()
        if t.get("propertyId") == "P-1001" and t["status"] in ("OPEN", "IN_PROGRESS")
    }
    items = await _items(hass, entity_id)
    assert {item["uid"] for item in items} == set(open_tickets)
    assert {item["summary"] for item in items} == {t["title"] for t in open_tickets.values()}
    assert state.state == str(len(open_tickets))
    with pytest.raises(HomeAssistantError):
        await _todo(hass, "add_item", {"item": "New"}, entity_id)


# --- the README's example ---------------------------------------------------------------------------------


async def test_readme_example_adds_a_cleaning_at_check_out(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The README's automation: a check-out adds a cleaning item due four hours later."""
    loft = _loft(simulator)
    example = readme_example("To-do lists", {"Casa Azul": loft["name"], "todo.casa_azul_tasks": LOFT})
    assert await async_setup_component(hass, "automation", {"automation": [{"id": "readme", **example}]})
    check_out = datetime(2026, 3, 15, 11, tzinfo=MADRID)
    hass.bus.async_fire(
        "kasify_check_out",
        {"property_name": loft["name"], "guest_name": "Ana García", "check_out": check_out.isoformat()},
    )
    await hass.async_block_till_done()
    task = next(t for t in simulator.kasify.tasks.values() if t["title"] == "Cleaning after Ana García")
    assert (task["property_id"], task["task_type"]) == (loft["id"], "cleaning")
    assert parse_iso(task["due_at"]) == check_out + timedelta(hours=4)
    assert task["id"] in _by_uid(await _items(hass))
