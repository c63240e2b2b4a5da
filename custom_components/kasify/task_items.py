"""Tasks as to-do items, and to-do items back as task changes.

An item's summary is the task's title (automations find items by it); its due is the task's due time, or its
date alone when the task is due at midnight at the property (how a due date without a time is stored); its
description is the task's description followed by one line the integration adds: the type, the assignee and
whether it is in progress ("Cleaning · assigned to Lucía Sánchez · in progress"). That line is for reading:
it is left out of what is sent back. The words are in the languages the integration ships (to-do items are
content, which Home Assistant's translation files do not cover).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, tzinfo
from typing import Final
import unicodedata

from homeassistant.components.todo import TodoItem
from homeassistant.components.todo.const import TodoItemStatus
from homeassistant.util import dt as dt_util

from . import compat
from .api.models import Property, Task, TaskStatus, TaskType, TeamMember

LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        TaskType.CLEANING: "Cleaning",
        TaskType.MAINTENANCE: "Maintenance",
        TaskType.INSPECTION: "Inspection",
        TaskType.OTHER: "Other",
        "assigned": "assigned to {name}",
        "in_progress": "in progress",
    },
    "es": {
        TaskType.CLEANING: "Limpieza",
        TaskType.MAINTENANCE: "Mantenimiento",
        TaskType.INSPECTION: "Inspección",
        TaskType.OTHER: "Otra",
        "assigned": "asignada a {name}",
        "in_progress": "en curso",
    },
}
# The words a new item's summary may start with to choose its type ("cleaning: Deep clean"), in any case
# and with or without accents; anything else before a colon is part of the title ("Plumber: 10:00").
TYPE_PREFIXES: Final = {
    "cleaning": TaskType.CLEANING,
    "limpieza": TaskType.CLEANING,
    "maintenance": TaskType.MAINTENANCE,
    "mantenimiento": TaskType.MAINTENANCE,
    "inspection": TaskType.INSPECTION,
    "inspeccion": TaskType.INSPECTION,
    "other": TaskType.OTHER,
    "otra": TaskType.OTHER,
    "otro": TaskType.OTHER,
}
SEPARATOR: Final = " · "
_NEVER: Final = datetime.max.replace(tzinfo=UTC)


def _labels(language: str) -> dict[str, str]:
    return LABELS.get(language[:2].lower(), LABELS["en"])


def _fold(text: str) -> str:
    """Lower case without accents."""
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.strip().casefold()) if not unicodedata.combining(c)
    )


def split_type(summary: str) -> tuple[TaskType | None, str]:
    """The type a summary names before a colon, if it names one, and the title (trimmed)."""
    head, colon, rest = summary.partition(":")
    task_type = TYPE_PREFIXES.get(_fold(head)) if colon else None
    return (task_type, rest.strip()) if task_type is not None else (None, summary.strip())


def team(prop: Property) -> list[TeamMember]:
    """The property's crew: its team, and its default cleaner."""
    members = list(prop.team)
    if prop.default_cleaner is not None and all(m.id != prop.default_cleaner.id for m in members):
        members.append(prop.default_cleaner)
    return members


def assignee_name(prop: Property | None, task: Task) -> str | None:
    """Who the task is assigned to, by name (their Kasify id when they are not on the property's team)."""
    if task.assignee_id is None:
        return None
    members = team(prop) if prop is not None else []
    return next((m.full_name for m in members if m.id == task.assignee_id), task.assignee_id)


def info_line(task: Task, assignee: str | None, language: str, *, with_type: bool = True) -> str | None:
    """The line the integration adds to an item's description: type, assignee, in progress."""
    labels = _labels(language)
    parts = [labels.get(task.task_type, task.task_type)] if with_type else []
    if assignee:
        parts.append(labels["assigned"].format(name=assignee))
    if task.status is TaskStatus.IN_PROGRESS:
        parts.append(labels["in_progress"])
    if not parts:
        return None
    text = SEPARATOR.join(parts)
    return text[:1].upper() + text[1:]


def item_description(description: str | None, info: str | None) -> str | None:
    """The task's description and the added line, a blank line apart."""
    parts = [part for part in ((description or "").strip(), info) if part]
    return "\n\n".join(parts) or None


def description_sent(text: str | None, info: str | None) -> str | None:
    """The task description in an item's (edited) description: without the added line, when it is there.

    Text without the line (an automation's ``todo.update_item``, or the line deleted in the dialog) is the
    description as it is.
    """
    text = (text or "").strip()
    if info:
        if text == info:
            return None
        if text.endswith(f"\n\n{info}"):
            text = text.removesuffix(info).strip()
    return text or None


def due_of(task: Task, zone: tzinfo) -> date | datetime | None:
    """The task's due time in Home Assistant's zone; its date alone when due at midnight in ``zone``."""
    if task.due_at is None:
        return None
    local = task.due_at.astimezone(zone)
    if local.time() == time(0):
        return local.date()
    return dt_util.as_local(task.due_at)


def due_at(due: date | datetime | None, zone: tzinfo) -> datetime | None:
    """What an item's due is sent to Kasify as: a date is midnight at the property (in ``zone``)."""
    if due is None:
        return None
    if isinstance(due, datetime):
        return due if due.tzinfo is not None else due.replace(tzinfo=dt_util.get_default_time_zone())
    return datetime.combine(due, time(0), zone)


def to_items(
    open_tasks: Sequence[Task],
    completed: Sequence[Task],
    prop: Property | None,
    zone: tzinfo,
    language: str,
    *,
    with_type: bool = True,
) -> list[TodoItem]:
    """Open tasks, soonest due first (undated last), then the completed ones, latest first."""
    ordered = sorted(open_tasks, key=lambda t: (t.due_at is None, t.due_at or _NEVER, t.title, t.id))
    return [to_item(task, prop, zone, language, with_type=with_type) for task in (*ordered, *completed)]


def to_item(
    task: Task, prop: Property | None, zone: tzinfo, language: str, *, with_type: bool = True
) -> TodoItem:
    """One task as a to-do item."""
    info = info_line(task, assignee_name(prop, task) if with_type else None, language, with_type=with_type)
    return compat.todo_item(
        uid=task.id,
        summary=task.title,
        status=TodoItemStatus.COMPLETED
        if task.status is TaskStatus.COMPLETED
        else TodoItemStatus.NEEDS_ACTION,
        due=due_of(task, zone),
        description=item_description(task.description, info),
        completed=task.completed_at,
    )
