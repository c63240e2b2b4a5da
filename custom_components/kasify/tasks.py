"""Kasify tasks as Home Assistant changes them: create, update, start, complete, delete.

One code path for the task actions (``services.py``) and the to-do lists (``todo.py``). Each change is one
request (checking off an item that is also edited: two, the first undone when the second fails); Kasify's
answer is then shown at once (:meth:`KasifyCoordinator.async_show`), without a refresh and without moving the
next poll. The user's mistakes raise a translated ``ServiceValidationError`` before anything is sent; an
upstream failure raises a translated ``HomeAssistantError`` and Home Assistant shows nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .action_errors import failed, field_errors, invalid
from .api.errors import ApiError, ConflictError, NotFoundError, ValidationError
from .api.models import Property, Task, TaskStatus, TaskType
from .const import LOGGER
from .providers.kasify import KasifyCoordinator

# Longest description Home Assistant sends (Kasify's own limit is not documented).
MAX_TEXT: Final = 5000
# Kasify's field names in 422 answers → the names the user knows them by.
TASK_FIELD_NAMES: Final = {"due_at": "due", "assignee_id": "assignee", "property_id": "property"}

type TaskChanges = Mapping[str, str | datetime | None]
"""Fields to change: ``title``, ``description``, ``task_type``, ``due_at``, ``assignee_id``, ``booking_id``"""


class TaskAction(StrEnum):
    """A move of a task along its lifecycle."""

    START = "start"
    COMPLETE = "complete"


# Where each action may start from.
ALLOWED_FROM: Final = {
    TaskAction.START: (TaskStatus.PENDING,),
    TaskAction.COMPLETE: (TaskStatus.PENDING, TaskStatus.IN_PROGRESS),
}


@dataclass(frozen=True, slots=True)
class NewTask:
    """What a new task is (checked before it is sent)."""

    title: str
    description: str | None = None
    task_type: str = TaskType.OTHER
    due_at: datetime | None = None
    assignee_id: str | None = None
    booking_id: str | None = None


def _name(task: Task) -> str:
    return task.title or task.id


def check_text(title: str | None, description: str | None) -> None:
    """A title is not blank; a description is at most :data:`MAX_TEXT` characters."""
    if title is not None and not title.strip():
        raise invalid("task_title_empty")
    if description is not None and len(description) > MAX_TEXT:
        raise invalid("task_description_too_long", maximum=str(MAX_TEXT))


def status_error(task: Task) -> ServiceValidationError | None:
    """Why the task cannot move on from where it is (started or completed already), if it cannot."""
    if task.status is TaskStatus.IN_PROGRESS:
        return invalid("task_already_started", task=_name(task))
    if task.status is TaskStatus.COMPLETED:
        return invalid("task_already_completed", task=_name(task))
    return None


def _rejected(
    coordinator: KasifyCoordinator, property_id: str, err: ValidationError
) -> ServiceValidationError:
    prop = coordinator.data.properties.get(property_id)
    errors = field_errors(err, TASK_FIELD_NAMES)
    return invalid("task_rejected", property=prop.name if prop else property_id, errors=errors)


async def async_create_task(coordinator: KasifyCoordinator, prop: Property, new: NewTask) -> Task:
    """``POST /tasks``; the new task is shown at once."""
    check_text(new.title, new.description)
    try:
        task = await coordinator.client.create_task(
            prop.id,
            title=new.title.strip(),
            description=new.description,
            task_type=new.task_type,
            due_at=new.due_at,
            assignee_id=new.assignee_id,
            booking_id=new.booking_id,
        )
    except ValidationError as err:
        raise _rejected(coordinator, prop.id, err) from err
    except ApiError as err:
        raise failed("create_task_failed", property=prop.name, error=str(err)) from err
    LOGGER.debug("Created task %s at %s", task.id, prop.name)
    coordinator.async_show(coordinator.data.with_task(task))
    return task


async def async_update_task(coordinator: KasifyCoordinator, task: Task, changes: TaskChanges) -> Task:
    """``PATCH /tasks/{id}`` with ``changes`` (none: nothing is sent); the task is shown as Kasify answers."""
    if not changes:
        return task
    check_text(_text(changes.get("title")), _text(changes.get("description")))
    try:
        updated = await coordinator.client.update_task(task.id, changes)
    except ValidationError as err:
        raise _rejected(coordinator, task.property_id, err) from err
    except ApiError as err:
        raise failed("update_task_failed", task=_name(task), error=str(err)) from err
    coordinator.async_show(coordinator.data.with_task(updated))
    return updated


def _text(value: str | datetime | None) -> str | None:
    return value if isinstance(value, str) else None


async def async_move_task(
    coordinator: KasifyCoordinator, task: Task, action: TaskAction, *, done_is_fine: bool = False
) -> Task:
    """Start or complete ``task`` (1 request); the task is shown as Kasify answers.

    A task that already moved on (as known, or as Kasify's 409 says when asked again) is refused with the
    reason; with ``done_is_fine``, completing a task Kasify says is completed already succeeds.
    """
    failure = f"{action}_task_failed"
    if task.status not in ALLOWED_FROM[action]:
        error = status_error(task)
        assert error is not None  # every status outside ALLOWED_FROM has one
        raise error
    client = coordinator.client
    try:
        moved = await (
            client.start_task(task.id) if action is TaskAction.START else client.complete_task(task.id)
        )
    except ConflictError as err:
        # The task moved on since Home Assistant last read it: say where it is now.
        try:
            current = await client.get_task(task.id)
        except ApiError:
            raise failed(failure, task=_name(task), error=str(err)) from err
        coordinator.async_show(coordinator.data.with_task(current))
        if done_is_fine and current.status is TaskStatus.COMPLETED:
            return current
        error = status_error(current)
        raise (error or failed(failure, task=_name(task), error=str(err))) from err
    except ApiError as err:
        raise failed(failure, task=_name(task), error=str(err)) from err
    coordinator.async_show(coordinator.data.with_task(moved))
    return moved


async def async_update_and_complete(
    coordinator: KasifyCoordinator, task: Task, changes: TaskChanges, complete: bool
) -> Task:
    """``changes``, then completion; when completing fails, the changes are undone (one more request)."""
    updated = await async_update_task(coordinator, task, changes)
    if not complete or updated.status is TaskStatus.COMPLETED:  # done elsewhere meanwhile: as wished
        return updated
    try:
        return await async_move_task(coordinator, updated, TaskAction.COMPLETE, done_is_fine=True)
    except HomeAssistantError as err:
        if changes:
            await _undo(coordinator, task, changes, err)
        raise


async def _undo(coordinator: KasifyCoordinator, before: Task, changes: TaskChanges, cause: Exception) -> None:
    """Put back the fields ``changes`` changed (raises the half-done error when that fails too)."""
    previous: dict[str, str | datetime | None] = {key: getattr(before, key) for key in changes}
    try:
        restored = await coordinator.client.update_task(before.id, previous)
    except ApiError as err:
        LOGGER.warning("Could not undo the change to task %s after completing it failed: %s", before.id, err)
        raise failed("task_change_not_undone", task=_name(before), error=str(cause)) from err
    coordinator.async_show(coordinator.data.with_task(restored))


async def async_delete_tasks(coordinator: KasifyCoordinator, tasks: Iterable[Task]) -> None:
    """``DELETE /tasks/{id}`` for each (1 request each; one Kasify no longer has counts as deleted).

    One failing does not stop the others; what was deleted is shown at once, and one error names the rest.
    """
    deleted: set[str] = set()
    left: list[tuple[Task, ApiError]] = []
    for task in tasks:
        try:
            await coordinator.client.delete_task(task.id)
        except NotFoundError:
            pass
        except ApiError as err:
            left.append((task, err))
            continue
        deleted.add(task.id)
    if deleted:
        coordinator.async_show(coordinator.data.without_tasks(deleted))
    if left:
        names = ", ".join(_name(task) for task, _ in left)
        raise failed("delete_task_failed", tasks=names, error=str(left[0][1])) from left[0][1]
