"""The Kasify task routes (``docs/kasify-api.md``, "Tasks") over :class:`~simulator.kasify_tasks.TaskRecords`.

Mixed into :class:`~simulator.kasify.KasifyApi`, which mounts :meth:`TaskRoutes.task_routes`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .errors import ValidationFailedError
from .kasify_tasks import OPEN_TASK_STATUSES, TASK_PATCH_FIELDS, TASK_STATUSES, TASK_TYPES
from .validation import Body, page_params, paged, query_datetime, read_json

if TYPE_CHECKING:
    from .kasify_state import KasifyState

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TASK_BODY: Final = (
    "property_id",
    "title",
    "description",
    "task_type",
    "due_at",
    "assignee_id",
    "booking_id",
)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


class TaskRoutes:
    """``/tasks`` and ``/properties/{id}/tasks``."""

    state: KasifyState

    def task_routes(self) -> list[tuple[str, str, Handler]]:
        """Method, path and handler of every task route."""
        return [
            ("GET", "/properties/{id}/tasks", self.list_property_tasks),
            ("GET", "/tasks", self.list_tasks),
            ("POST", "/tasks", self.create_task),
            ("GET", "/tasks/{id}", self.get_task),
            ("PATCH", "/tasks/{id}", self.patch_task),
            ("DELETE", "/tasks/{id}", self.delete_task),
            ("POST", "/tasks/{id}/start", self.start_task),
            ("POST", "/tasks/{id}/complete", self.complete_task),
        ]

    @staticmethod
    def _statuses(request: web.Request) -> tuple[str, ...] | None:
        raw = request.query.get("status")
        if not raw:
            return None
        statuses: list[str] = []
        for part in raw.split(","):
            if part == "open":
                statuses += OPEN_TASK_STATUSES
            elif part in TASK_STATUSES:
                statuses.append(part)
            else:
                raise ValidationFailedError(
                    {"status": [f"must be open or one of: {', '.join(TASK_STATUSES)}"]}
                )
        return tuple(statuses)

    def _task_page(self, request: web.Request, property_id: str | None) -> web.Response:
        page, size = page_params(request)
        since = query_datetime(request, "completed_since")
        tasks = self.state.list_tasks(self._statuses(request), property_id, completed_since=since)
        return _json(paged("tasks", tasks, page, size))

    async def list_tasks(self, request: web.Request) -> web.Response:
        """``GET /tasks?status&completed_since&page&size`` (``status=open`` is pending + in_progress)."""
        return self._task_page(request, None)

    async def list_property_tasks(self, request: web.Request) -> web.Response:
        """``GET /properties/{id}/tasks?status&completed_since&page&size``."""
        prop = self.state.get_property(request.match_info["id"])
        return self._task_page(request, prop["id"])

    def _check_task_links(self, body: Body, property_id: str | None) -> None:
        assignee = body.data.get("assignee_id")
        if isinstance(assignee, str) and assignee not in self.state.crew:
            body.add("assignee_id", "is not a crew member of this account")
        booking_id = body.data.get("booking_id")
        if isinstance(booking_id, str):
            booking = self.state.bookings.get(booking_id)
            if booking is None or (property_id is not None and booking["property_id"] != property_id):
                body.add("booking_id", "is not a booking of this property")

    async def create_task(self, request: web.Request) -> web.Response:
        """``POST /tasks`` → 201 Task."""
        body = Body(await read_json(request), _TASK_BODY)
        property_id = body.text("property_id", required=True)
        if property_id is not None and property_id not in self.state.properties:
            body.add("property_id", "is not a property of this account")
        title = body.text("title", required=True)
        task_type = body.choice("task_type", TASK_TYPES)
        due_at = body.instant("due_at")
        description = body.text("description", max_length=5000)
        assignee_id, booking_id = body.text("assignee_id"), body.text("booking_id")
        self._check_task_links(body, property_id)
        body.check()
        assert property_id is not None
        assert title is not None
        task = self.state.add_task(
            property_id,
            title,
            task_type=task_type or "other",
            description=description,
            due_at=due_at,
            assignee_id=assignee_id,
            booking_id=booking_id,
        )
        return _json(task, 201)

    async def get_task(self, request: web.Request) -> web.Response:
        """``GET /tasks/{id}``."""
        return _json(self.state.get_task(request.match_info["id"]))

    async def patch_task(self, request: web.Request) -> web.Response:
        """``PATCH /tasks/{id}`` — partial update (``null`` clears an optional field)."""
        task = self.state.get_task(request.match_info["id"])
        body = Body(await read_json(request), TASK_PATCH_FIELDS)
        changes: dict[str, Any] = {}
        for key in body.data:
            if key not in TASK_PATCH_FIELDS:
                continue
            if body.data[key] is None:
                if key in ("title", "task_type", "status"):
                    body.add(key, "must not be null")
                else:
                    changes[key] = None
            elif key == "task_type":
                changes[key] = body.choice(key, TASK_TYPES)
            elif key == "status":
                changes[key] = body.choice(key, TASK_STATUSES)
            elif key == "due_at":
                changes[key] = body.instant(key)
            else:
                changes[key] = body.text(key, required=key == "title", max_length=5000)
        self._check_task_links(body, task["property_id"])
        body.check()
        return _json(self.state.patch_task(task["id"], changes))

    async def delete_task(self, request: web.Request) -> web.Response:
        """``DELETE /tasks/{id}`` → 204."""
        self.state.remove_task(request.match_info["id"])
        return web.Response(status=204)

    async def start_task(self, request: web.Request) -> web.Response:
        """``POST /tasks/{id}/start`` — 409 unless pending."""
        return _json(self.state.start_task(request.match_info["id"]))

    async def complete_task(self, request: web.Request) -> web.Response:
        """``POST /tasks/{id}/complete`` — 409 when already completed."""
        return _json(self.state.complete_task(request.match_info["id"]))
