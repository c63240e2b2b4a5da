"""Kasify tasks in the simulator's state: records, lifecycle, and the answers Kasify's pages leave open.

:class:`TaskRecords` is mixed into :class:`~simulator.kasify_state.KasifyState`; tests call its helpers
directly.
Where the vendor pages are silent (``docs/kasify-api.md``, "Tasks": the ``completed_since`` filter, which
fields a ``PATCH`` takes), the simulator answers as the integration infers, and two knobs make it answer
otherwise, so the integration's checks can be exercised: :attr:`TaskRecords.ignore_completed_since` and
:attr:`TaskRecords.patch_ignores`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from .clock import as_instant, iso, parse_iso
from .errors import ConflictError, NotFoundError

type _Json = dict[str, Any]

TASK_TYPES: Final = ("cleaning", "maintenance", "inspection", "other")
TASK_STATUSES: Final = ("pending", "in_progress", "completed")
OPEN_TASK_STATUSES: Final = ("pending", "in_progress")
# The fields ``PATCH /tasks/{id}`` takes (the contract's; ``status`` too, as the simulator's own extra).
TASK_PATCH_FIELDS: Final = (
    "title",
    "description",
    "task_type",
    "due_at",
    "assignee_id",
    "booking_id",
    "status",
)

_TASK_TIMES: Final = frozenset({"due_at", "created_at", "started_at", "completed_at"})


def stored_time(value: datetime | str | None) -> str | None:
    """Normalise an instant (datetime or ISO text) to the stored UTC ISO form."""
    return None if value is None else iso(as_instant(value))


class TaskRecords:
    """The account's tasks (``self.tasks``, keyed by id) and what the API and tests do with them."""

    tasks: dict[str, _Json]

    ignore_completed_since: bool = False
    """List tasks as if ``completed_since`` were not given (every completed task, ever)."""
    patch_ignores: frozenset[str] = frozenset()
    """Task fields a ``PATCH`` answers 200 for but leaves as they were."""

    if TYPE_CHECKING:  # provided by KasifyState

        def new_id(self) -> str:
            """A fresh id."""

        def _stamp(self) -> str:
            """Now, as stored."""

        def get_property(self, property_id: str) -> _Json:
            """The property with that id."""

    def get_task(self, task_id: str) -> _Json:
        """The task with that id.

        Raises:
            NotFoundError: When there is none.
        """
        try:
            return self.tasks[task_id]
        except KeyError:
            raise NotFoundError(f"Task {task_id} not found") from None

    def add_task(
        self,
        property_id: str,
        title: str,
        *,
        task_type: str = "other",
        status: str = "pending",
        description: str | None = None,
        due_at: datetime | str | None = None,
        assignee_id: str | None = None,
        booking_id: str | None = None,
        created_at: datetime | str | None = None,
        started_at: datetime | str | None = None,
        completed_at: datetime | str | None = None,
    ) -> _Json:
        """Add a task and return its record."""
        self.get_property(property_id)
        if task_type not in TASK_TYPES or status not in TASK_STATUSES:
            raise ValueError(f"Bad task_type {task_type!r} or status {status!r}")
        record: _Json = {
            "id": self.new_id(),
            "property_id": property_id,
            "title": title,
            "description": description,
            "task_type": task_type,
            "status": status,
            "due_at": stored_time(due_at),
            "assignee_id": assignee_id,
            "booking_id": booking_id,
            "created_at": stored_time(created_at) or self._stamp(),
            "started_at": stored_time(started_at),
            "completed_at": stored_time(completed_at),
        }
        self.tasks[record["id"]] = record
        return record

    def update_task(self, task_id: str, **changes: Any) -> _Json:
        """Change Task fields and return the record; a status change fills ``started_at``/``completed_at``."""
        record = self.get_task(task_id)
        unknown = set(changes) - (set(record) - {"id", "property_id", "created_at"})
        if unknown:
            raise TypeError(f"Unknown or read-only task fields: {sorted(unknown)}")
        for key in _TASK_TIMES & set(changes):
            changes[key] = stored_time(changes[key])
        status = changes.get("status", record["status"])
        if status != record["status"]:
            stamp = self._stamp()
            if status in ("in_progress", "completed") and not record["started_at"]:
                changes.setdefault("started_at", stamp)
            if status == "completed":
                changes.setdefault("completed_at", stamp)
            if status == "pending":
                changes.setdefault("started_at", None)
            if status != "completed":
                changes.setdefault("completed_at", None)
        record.update(changes)
        return record

    def patch_task(self, task_id: str, changes: _Json) -> _Json:
        """``PATCH /tasks/{id}`` with validated ``changes``: applied, except the :attr:`patch_ignores`."""
        return self.update_task(
            task_id, **{key: value for key, value in changes.items() if key not in self.patch_ignores}
        )

    def start_task(self, task_id: str) -> _Json:
        """Move a pending task to ``in_progress``.

        Raises:
            ConflictError: When the task is not pending.
        """
        record = self.get_task(task_id)
        if record["status"] != "pending":
            raise ConflictError(f"Task {task_id} is {record['status']}; only a pending task can be started")
        return self.update_task(task_id, status="in_progress")

    def complete_task(self, task_id: str) -> _Json:
        """Complete a pending or in-progress task.

        Raises:
            ConflictError: When the task is already completed.
        """
        record = self.get_task(task_id)
        if record["status"] == "completed":
            raise ConflictError(f"Task {task_id} is already completed")
        return self.update_task(task_id, status="completed")

    def remove_task(self, task_id: str) -> None:
        """Delete a task."""
        self.get_task(task_id)
        del self.tasks[task_id]

    def list_tasks(
        self,
        statuses: Iterable[str] | None = None,
        property_id: str | None = None,
        *,
        completed_since: datetime | None = None,
    ) -> list[_Json]:
        """Tasks with one of ``statuses`` (all when ``None``), by due time (undated last), then creation.

        With ``completed_since``, only tasks completed at or after it (unless :attr:`ignore_completed_since`).
        """
        wanted = set(statuses) if statuses is not None else None
        since = None if self.ignore_completed_since else completed_since
        found = [
            task
            for task in self.tasks.values()
            if (wanted is None or task["status"] in wanted)
            and (property_id is None or task["property_id"] == property_id)
            and (
                since is None
                or (task["completed_at"] is not None and parse_iso(task["completed_at"]) >= since)
            )
        ]

        def order(task: _Json) -> tuple[bool, str, str, str]:
            due = task["due_at"]
            return (due is None, iso(parse_iso(due)) if due else "", task["created_at"], task["id"])

        return sorted(found, key=order)
