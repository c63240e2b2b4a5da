"""A to-do list per property: Kasify tasks (to add, edit, check off and delete), casavi tickets (to read).

Kasify: the open tasks, then those completed in the last 7 days, checked off. Adding an item creates a task
(its type from a prefix, ``cleaning: ...``, else ``other``), checking one off completes the task, renaming and
changing the due date or the description update it, deleting deletes it; each is one request and shows at
once (``tasks.py``). A completed task cannot be reopened (Kasify has no way to). casavi: the open tickets.
How items read is in ``task_items.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.components.todo import TodoItem, TodoListEntity
from homeassistant.components.todo.const import TodoItemStatus, TodoListEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .action_errors import invalid
from .api.models import Property, Task, TaskStatus, TaskType
from .coordinator import KasifyConfigEntry, PropertySourceCoordinator
from .entity import PropertyEntity, async_add_property_entities

if TYPE_CHECKING:
    from .providers.kasify import KasifyCoordinator
from .task_items import assignee_name, description_sent, due_at, info_line, split_type, to_item, to_items
from .tasks import NewTask, async_create_task, async_delete_tasks, async_update_and_complete

# Actions are one request each and Kasify serialises nothing for us: one at a time per list.
PARALLEL_UPDATES = 1


class PropertyTodoList(PropertyEntity, TodoListEntity):
    """The property's open tasks (or tickets), read-only."""

    def __init__(self, coordinator: PropertySourceCoordinator[Any], prop: Property) -> None:
        """Create the list of ``prop``, named as its source names its tasks."""
        super().__init__(coordinator, prop.id, coordinator.task_noun)
        self._attr_translation_key = coordinator.task_noun
        self.feature = coordinator.task_noun

    def _open_tasks(self) -> tuple[Task, ...]:
        tasks: tuple[Task, ...] = self.coordinator.data.tasks.get(self.property_id, ())
        return tasks

    @property
    def todo_items(self) -> list[TodoItem] | None:
        """The open tickets, soonest due first."""
        zone = self.coordinator.property_zone(self.property_id)
        return to_items(self._open_tasks(), (), None, zone, self.hass.config.language, with_type=False)


class KasifyTodoList(PropertyTodoList):
    """The property's Kasify tasks: open ones and those completed lately; items change the tasks."""

    coordinator: KasifyCoordinator
    _attr_supported_features = (
        TodoListEntityFeature.CREATE_TODO_ITEM
        | TodoListEntityFeature.UPDATE_TODO_ITEM
        | TodoListEntityFeature.DELETE_TODO_ITEM
        | TodoListEntityFeature.SET_DUE_DATE_ON_ITEM
        | TodoListEntityFeature.SET_DUE_DATETIME_ON_ITEM
        | TodoListEntityFeature.SET_DESCRIPTION_ON_ITEM
    )

    @property
    def todo_items(self) -> list[TodoItem] | None:
        """Open tasks, soonest due first, then the tasks completed lately, latest first."""
        data = self.coordinator.data
        return to_items(
            self._open_tasks(),
            data.completed_tasks.get(self.property_id, ()),
            data.properties.get(self.property_id),
            self.coordinator.property_zone(self.property_id),
            self.hass.config.language,
        )

    def _prop(self) -> Property:
        prop: Property = self.coordinator.data.properties[self.property_id]
        return prop

    def _task(self, uid: str | None) -> Task:
        task = self.coordinator.data.find_task(uid or "")
        if task is None or task.property_id != self.property_id:
            raise invalid("unknown_task", task_id=uid or "")
        return task

    async def async_create_todo_item(self, item: TodoItem) -> None:
        """A new Kasify task: type from the summary's prefix (else other), due, description."""
        task_type, title = split_type(item.summary or "")
        zone = self.coordinator.property_zone(self.property_id)
        new = NewTask(
            title=title,
            description=(item.description or "").strip() or None,
            task_type=task_type or TaskType.OTHER,
            due_at=due_at(item.due, zone),
        )
        await async_create_task(self.coordinator, self._prop(), new)

    async def async_update_todo_item(self, item: TodoItem) -> None:
        """Send what changed: title (and type, by prefix), due, description; checked off: completed."""
        task = self._task(item.uid)
        if item.status == TodoItemStatus.NEEDS_ACTION and task.status is TaskStatus.COMPLETED:
            raise invalid("task_reopen_not_supported", task=task.title or task.id)
        complete = item.status == TodoItemStatus.COMPLETED and task.status is not TaskStatus.COMPLETED
        await async_update_and_complete(self.coordinator, task, self._changes(task, item), complete)

    def _changes(self, task: Task, item: TodoItem) -> dict[str, str | datetime | None]:
        """The task fields the edited item changes (what was shown and is unchanged is not sent)."""
        language = self.hass.config.language
        zone = self.coordinator.property_zone(self.property_id)
        shown = to_item(task, self._prop(), zone, language)
        changes: dict[str, str | datetime | None] = {}
        if item.summary != shown.summary:
            task_type, title = split_type(item.summary or "")
            if title != task.title:
                changes["title"] = title
            if task_type is not None and task_type != task.task_type:
                changes["task_type"] = task_type
        if item.due != shown.due:
            changes["due_at"] = due_at(item.due, zone)
        if item.description != shown.description:
            info = info_line(task, assignee_name(self._prop(), task), language)
            description = description_sent(item.description, info)
            if description != (task.description or None):
                changes["description"] = description
        return changes

    async def async_delete_todo_items(self, uids: list[str]) -> None:
        """Delete the tasks in Kasify."""
        await async_delete_tasks(self.coordinator, [self._task(uid) for uid in uids])


def _property_entities(
    coordinator: PropertySourceCoordinator[Any], prop: Property
) -> Iterable[TodoListEntity]:
    if coordinator.tasks_writable:
        return [KasifyTodoList(coordinator, prop)]
    return [PropertyTodoList(coordinator, prop)]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a to-do list for every property, now and as they appear."""
    async_add_property_entities(entry, async_add_entities, _property_entities)
