"""Async client for the Kasify API.

Paths that are not in Kasify's API reference are inferred (see ``docs/kasify-api.md``) and live in
:class:`Paths` only, so that a correction is a one-line change. The client takes an injected
:class:`aiohttp.ClientSession` (Home Assistant's shared session) and never closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from http import HTTPStatus
import logging
import math
from typing import Any, Final

import aiohttp

from .errors import ApiError
from .http import (
    HttpTransport,
    error_for_status,
    error_summary,
    json_object,
    quote_segment,
    retry_after_seconds as retry_after_seconds,  # noqa: PLC0414 - re-exported; it used to live here
)
from .inferred import not_understood, read_inferred
from .kasify_parse import (
    build_snapshot,
    parse_access_code,
    parse_account,
    parse_booking,
    parse_checkin,
    parse_property,
    parse_smart_lock as parse_smart_lock,  # noqa: PLC0414 - re-exported; it used to live here
    parse_task,
)
from .models import (
    AccessCode,
    Account,
    AccountSnapshot,
    Booking,
    CheckinSnapshot,
    EndpointNotUnderstood,
    Feature,
    Property,
    SmartLock,
    Task,
    TaskStatus,
)
from .paging import gather_bounded as gather_bounded  # noqa: PLC0414 - re-exported; it used to live here
from .parse import Reader, as_list
from .turns import LoopTurns

DEFAULT_TIMEOUT: Final = 15.0
MAX_PAGE_SIZE: Final = 100
# Requests one account has in flight at most (pages of a listing, the smart locks of several properties).
DEFAULT_CONCURRENCY: Final = 32
# Snapshots a parsed listing page is kept for without being asked again.
MEMO_ROUNDS: Final = 2

_LOGGER = logging.getLogger(__name__)


class Paths:
    """Every Kasify path the client uses. Seed-documented ones are marked; the rest are inferred."""

    ACCOUNT = "/account"
    PROPERTIES = "/properties"  # seed

    @staticmethod
    def smartlocks(property_id: str) -> str:  # seed
        """A property's smart locks with live status."""
        return f"/properties/{quote_segment(property_id)}/smartlocks"

    BOOKINGS = "/bookings"

    @staticmethod
    def property_bookings(property_id: str) -> str:
        """A property's bookings (list and create)."""
        return f"/properties/{quote_segment(property_id)}/bookings"

    @staticmethod
    def booking(booking_id: str) -> str:
        """One booking."""
        return f"/bookings/{quote_segment(booking_id)}"

    @staticmethod
    def checkin(booking_id: str) -> str:
        """A booking's guest check-in snapshot."""
        return f"/bookings/{quote_segment(booking_id)}/checkin"

    @staticmethod
    def access_codes(booking_id: str) -> str:
        """A booking's access codes."""
        return f"/bookings/{quote_segment(booking_id)}/access-codes"

    @staticmethod
    def access_code(booking_id: str, code_id: str) -> str:
        """One access code of a booking."""
        return f"/bookings/{quote_segment(booking_id)}/access-codes/{quote_segment(code_id)}"

    TASKS = "/tasks"

    @staticmethod
    def task(task_id: str) -> str:
        """One task."""
        return f"/tasks/{quote_segment(task_id)}"

    @staticmethod
    def task_start(task_id: str) -> str:
        """Start a task."""
        return f"/tasks/{quote_segment(task_id)}/start"

    @staticmethod
    def task_complete(task_id: str) -> str:
        """Complete a task."""
        return f"/tasks/{quote_segment(task_id)}/complete"

    @staticmethod
    def property_tasks(property_id: str) -> str:
        """A property's tasks."""
        return f"/properties/{quote_segment(property_id)}/tasks"


def _iso(value: datetime) -> str:
    return value.isoformat()


def _drop_none(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


# --- client -------------------------------------------------------------------------------------


class KasifyClient:
    """Kasify API client.

    Every method performs the HTTP requests its docstring states; list methods follow pagination to the end
    (``ceil(total / 100)`` requests: the first page, then the others ``concurrency`` at a time). The client
    never has more than ``concurrency`` requests in flight, whatever its callers do at once.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_CONCURRENCY,
        turns: LoopTurns | None = None,
    ) -> None:
        """Use ``session`` (not owned) against ``base_url`` with the bearer ``token``.

        ``turns``: the event loop's turn budget to decode answers within (shared with the caller's other
        work); a budget of its own by default.
        """
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.concurrency = concurrency
        self._gate = asyncio.Semaphore(concurrency)
        self._turns = turns if turns is not None else LoopTurns()
        self._page_memo = PageMemo()
        self._http = HttpTransport(
            session,
            timeout=timeout,
            base_url=base_url,
            error_for=_error_for,
            headers={"Accept": "application/json"},
            bearer=token,
        )

    @property
    def base_url(self) -> str:
        """The API root the client talks to."""
        return self._http.base_url

    # -- transport --------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        secrets: Sequence[str | None] = (),
    ) -> Any:
        """Perform one request and return the decoded JSON body (``None`` for 204).

        ``secrets`` (codes, guest contact details) are kept out of every exception the request raises.
        """
        request = self._http.request(method, path, params=params, json_body=json_body, secrets=secrets)
        async with self._gate:
            response = await self._http.send(request)
        # Decoding (and the caller's parsing) of answers that arrive together is spread over loop turns.
        await self._turns.take()
        return self._http.decode_json(request, response)

    async def _object(self, method: str, path: str, **kwargs: Any) -> Reader:
        return Reader(await self._request(method, path, **kwargs), f"{method} {path}")

    async def _pages[T](
        self,
        path: str,
        key: str,
        parse: Callable[[Reader], T],
        params: Mapping[str, str | int] | None = None,
    ) -> list[T]:
        """Every item of a ``page``/``size`` listing: the first page, then the others at once (bounded).

        With ``total`` on the first page, the pages it implies are read ``concurrency`` at a time, in order of
        their index; an empty or short page ends the listing (later pages read meanwhile are dropped), and a
        last page that is full while ``total`` is not reached yet (items added meanwhile) is followed one page
        at a time. Without ``total``: one page at a time until a short page. A server that caps ``size`` below
        ours gives every page all the same (its page size is the first page's length).
        """
        first, total = await self._page(path, key, parse, params, 0)
        return await self._after_first(path, key, parse, params, first, total)

    async def _after_first[T](
        self,
        path: str,
        key: str,
        parse: Callable[[Reader], T],
        params: Mapping[str, str | int] | None,
        first: list[T],
        total: int | None,
    ) -> list[T]:
        """Every item of a listing of which the first page (``first``, stating ``total``) is read."""
        if total is None:
            full = len(first) >= MAX_PAGE_SIZE
            return await self._rest(path, key, parse, params, first, 1) if full else first
        if not first or len(first) >= total:
            return first
        size = len(first)
        pages = await self._pages_ahead(path, key, parse, params, range(1, math.ceil(total / size)), size)
        items = [*first, *(item for page, _ in pages for item in page)]
        latest = next((total for _, total in reversed(pages) if total is not None), total)
        if pages and len(pages[-1][0]) >= size and len(items) < latest:
            return await self._rest(path, key, parse, params, items, len(pages) + 1)
        return items

    async def _page[T](
        self,
        path: str,
        key: str,
        parse: Callable[[Reader], T],
        params: Mapping[str, str | int] | None,
        page: int,
    ) -> tuple[list[T], int | None]:
        """One page: its items and the ``total`` it states.

        A page whose body is byte for byte the one this query got last time is not decoded or parsed again:
        its items are the very objects of last time (so the snapshot compares with the last one by identity).
        """
        query: dict[str, str | int] = {**(params or {}), "page": page, "size": MAX_PAGE_SIZE}
        request = self._http.request("GET", path, params=query)
        async with self._gate:
            response = await self._http.send(request)
        await self._turns.take()
        memo_key = (path, tuple(sorted(query.items())))
        if (
            response.status == HTTPStatus.OK
            and (kept := self._page_memo.get(memo_key, response.body)) is not None
        ):
            items, total = kept
            return list(items), total
        body = Reader(self._http.decode_json(request, response), f"GET {path}")
        result = [parse(item) for item in body.objects(key, required=True)], body.opt_int("total")
        if response.status == HTTPStatus.OK:
            self._page_memo.put(memo_key, response.body, (tuple(result[0]), result[1]))
        return result

    async def _pages_ahead[T](
        self,
        path: str,
        key: str,
        parse: Callable[[Reader], T],
        params: Mapping[str, str | int] | None,
        indexes: range,
        size: int,
    ) -> list[tuple[list[T], int | None]]:
        """The pages of ``indexes`` (items, total), ``concurrency`` at a time, up to the first short one."""
        found: dict[int, tuple[list[T], int | None]] = {}
        end = indexes.stop  # the first index past a short page

        async def worker(queue: Iterator[int]) -> None:
            nonlocal end
            for index in queue:
                if index >= end:
                    return
                items, total = found[index] = await self._page(path, key, parse, params, index)
                if len(items) < size:
                    end = min(end, index + 1)

        queue = iter(indexes)
        await gather_bounded(
            self.concurrency, [partial(worker, queue) for _ in range(min(self.concurrency, len(indexes)))]
        )
        return [found[index] for index in range(indexes.start, end)]

    async def _rest[T](
        self,
        path: str,
        key: str,
        parse: Callable[[Reader], T],
        params: Mapping[str, str | int] | None,
        items: list[T],
        page: int,
    ) -> list[T]:
        """Follow the listing one page at a time from ``page`` until a short page or ``total``."""
        while True:
            found, total = await self._page(path, key, parse, params, page)
            items.extend(found)
            if not found or (len(items) >= total if total is not None else len(found) < MAX_PAGE_SIZE):
                return items
            page += 1

    async def fetch_snapshot(
        self,
        window_start: datetime,
        window_end: datetime,
        *,
        known_locks: Mapping[str, SmartLock] | None = None,
        completed_since: datetime | None = None,
    ) -> AccountSnapshot:
        """Read the whole account for one refresh, in as few requests as the API allows.

        Requests, with P properties, B bookings overlapping the window, T open tasks, C tasks completed since
        ``completed_since`` (when given) and L properties that have a smart lock not in ``known_locks``::

            ceil(P / 100)    GET /properties            (all pages)
          + ceil(B / 100)    GET /bookings?from&to      (every property in one cross-property listing)
          + ceil(T / 100)    GET /tasks?status=open
          + ceil(C / 100)    GET /tasks?status=completed&completed_since  (after the open tasks)
          + L                GET /properties/{id}/smartlocks

        ``known_locks`` are smart locks (by Kasify id, as last read) whose live status the caller does not
        need, because a provider account shows them: a property whose listed locks are all known is not read
        again, and its locks are kept as known, with the name and property the listing gives now. Properties
        without smart locks cost nothing beyond their share of the first listing. The listings run
        concurrently, each reading its first page, then the others at once (the completed tasks right after
        the open ones: a task completed in between is not lost); the lock calls start as soon as the
        properties are known; at most ``concurrency`` requests are in flight. An inferred listing (bookings,
        tasks, completed tasks) that answers 404 or 400 leaves its feature without data, named in
        ``degraded`` (the completed tasks are not asked for while the open ones are not understood); any
        other failure cancels the other requests and is raised as is.
        """
        client, known = self, known_locks or {}
        try:
            async with asyncio.TaskGroup() as group:
                bookings_task = group.create_task(
                    read_inferred(f"GET {Paths.BOOKINGS}", client.list_bookings(window_start, window_end))
                )
                tasks_task = group.create_task(self._read_tasks(completed_since))
                properties = await client.list_properties()
                kept = [_known_locks(prop, known) for prop in properties]
                lock_calls: list[Callable[[], Awaitable[list[SmartLock]]]] = [
                    partial(client.list_smart_locks, prop.id)
                    for prop, locks in zip(properties, kept, strict=True)
                    if locks is None
                ]
                locks_task = group.create_task(gather_bounded(client.concurrency, lock_calls))
        except ExceptionGroup as group_error:
            # The group has cancelled the sibling requests; the first failure is the one to report.
            raise group_error.exceptions[0] from None
        self._page_memo.next_round()
        (bookings, bookings_off), (tasks, completed, tasks_off) = bookings_task.result(), tasks_task.result()
        off: dict[str, EndpointNotUnderstood | None] = {Feature.BOOKINGS: bookings_off, **tasks_off}
        return await build_snapshot(
            properties,
            bookings,
            (tasks, completed),
            [*locks_task.result(), *(locks for locks in kept if locks)],
            (window_start, window_end),
            {feature: why for feature, why in off.items() if why is not None},
            self._turns,
        )

    async def _read_tasks(
        self, completed_since: datetime | None
    ) -> tuple[list[Task], list[Task], dict[str, EndpointNotUnderstood | None]]:
        """The open tasks, then those completed since ``completed_since``; which of them are off, and why."""
        tasks, tasks_off = await read_inferred(f"GET {Paths.TASKS}", self.list_tasks("open"))
        if completed_since is None or tasks_off is not None:
            return tasks, [], {Feature.TASKS: tasks_off}
        completed, completed_off = await self.read_completed_tasks(completed_since)
        return tasks, completed, {Feature.TASKS: None, Feature.COMPLETED_TASKS: completed_off}

    # -- account and properties -------------------------------------------------------------------

    async def get_account(self) -> Account:
        """``GET /account`` — who the token belongs to (1 request)."""
        return parse_account(await self._object("GET", Paths.ACCOUNT))

    async def list_properties(self) -> list[Property]:
        """``GET /properties`` — every property, all pages."""
        return await self._pages(Paths.PROPERTIES, "properties", parse_property)

    async def list_smart_locks(self, property_id: str) -> list[SmartLock]:
        """``GET /properties/{id}/smartlocks`` — the property's locks with live status (1 request)."""
        path = Paths.smartlocks(property_id)
        body = as_list(await self._request("GET", path), f"GET {path}")
        return [parse_smart_lock(Reader(item, f"GET {path}[{i}]")) for i, item in enumerate(body)]

    # -- bookings ---------------------------------------------------------------------------------

    async def list_bookings(self, start: datetime, end: datetime) -> list[Booking]:
        """``GET /bookings`` — bookings of all properties overlapping ``[start, end)``, all pages."""
        params = {"from": _iso(start), "to": _iso(end)}
        return await self._pages(Paths.BOOKINGS, "bookings", parse_booking, params)

    async def list_property_bookings(self, property_id: str, start: datetime, end: datetime) -> list[Booking]:
        """``GET /properties/{id}/bookings`` — one property's bookings overlapping ``[start, end)``."""
        params = {"from": _iso(start), "to": _iso(end)}
        return await self._pages(Paths.property_bookings(property_id), "bookings", parse_booking, params)

    async def get_booking(self, booking_id: str) -> Booking:
        """``GET /bookings/{id}``."""
        return parse_booking(await self._object("GET", Paths.booking(booking_id)))

    async def get_checkin(self, booking_id: str) -> CheckinSnapshot:
        """``GET /bookings/{id}/checkin`` — the guests registered.

        The shape is inferred: anything else is refused with :class:`MalformedResponseError`, never read as
        registered.
        """
        path = Paths.checkin(booking_id)
        return parse_checkin(await self._object("GET", path), booking_id)

    async def create_booking(
        self,
        property_id: str,
        *,
        guest_name: str,
        check_in: datetime,
        check_out: datetime,
        guests_count: int | None = None,
        guest_email: str | None = None,
        guest_phone: str | None = None,
        channel: str | None = None,
        notes: str | None = None,
    ) -> Booking:
        """``POST /properties/{id}/bookings`` (409 on overlap → :class:`ConflictError`)."""
        body = _drop_none(
            {
                "guest_name": guest_name,
                "check_in": _iso(check_in),
                "check_out": _iso(check_out),
                "guests_count": guests_count,
                "guest_email": guest_email,
                "guest_phone": guest_phone,
                "channel": channel,
                "notes": notes,
            }
        )
        path = Paths.property_bookings(property_id)
        contact = (guest_email, guest_phone)
        return parse_booking(await self._object("POST", path, json_body=body, secrets=contact))

    # -- access codes -----------------------------------------------------------------------------

    async def create_access_codes(
        self,
        booking_id: str,
        *,
        smartlock_ids: list[str] | None = None,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        code: str | None = None,
    ) -> list[AccessCode]:
        """``POST /bookings/{id}/access-codes`` — one code per lock."""
        body = _drop_none(
            {
                "smartlock_ids": smartlock_ids,
                "starts_at": _iso(starts_at) if starts_at else None,
                "ends_at": _iso(ends_at) if ends_at else None,
                "code": code,
            }
        )
        result = await self._object("POST", Paths.access_codes(booking_id), json_body=body, secrets=(code,))
        return [parse_access_code(item) for item in result.objects("access_codes", required=True)]

    async def revoke_access_code(self, booking_id: str, code_id: str) -> None:
        """``DELETE /bookings/{id}/access-codes/{code_id}``."""
        await self._request("DELETE", Paths.access_code(booking_id, code_id))

    # -- tasks ------------------------------------------------------------------------------------

    async def list_tasks(self, status: str | None = "open") -> list[Task]:
        """``GET /tasks`` — all pages; ``status="open"`` means pending and in progress."""
        params = {"status": status} if status else None
        return await self._pages(Paths.TASKS, "tasks", parse_task, params)

    async def read_completed_tasks(self, since: datetime) -> tuple[list[Task], EndpointNotUnderstood | None]:
        """``GET /tasks?status=completed&completed_since`` — the tasks completed at or after ``since``.

        The filter is inferred (Kasify's pages are silent on it), so the answer is checked: every task listed
        must be completed, with a ``completed_at`` at or after ``since``. An answer that lists any other task
        (the filter was not applied: a listing of every task ever completed) is read no further than its
        first page and nothing of it is kept; like a 404 or 400, the feature is off, with the reason
        (``status`` 200). Once the first page keeps to the filter, the others are read at once, like any
        listing's, and checked too. So the cost stays ceil(C / 100) requests (two round trips) for C tasks
        completed since ``since``, and 1 when Kasify's first page shows that it ignores the filter.
        """
        endpoint = f"GET {Paths.TASKS}?status=completed&completed_since"
        params = {"status": "completed", "completed_since": _iso(since)}
        try:
            first, total = await self._page(Paths.TASKS, "tasks", parse_task, params, 0)
            # Checked before the other pages are asked for: a listing without the filter costs one request.
            if _outside_filter(first, since):
                return [], _filter_not_applied(endpoint)
            completed = await self._after_first(Paths.TASKS, "tasks", parse_task, params, first, total)
        except ApiError as err:
            if not not_understood(err):
                raise
            return [], EndpointNotUnderstood(endpoint, int(err.status or HTTPStatus.NOT_FOUND))
        if _outside_filter(completed, since):
            return [], _filter_not_applied(endpoint)
        return completed, None

    async def list_property_tasks(self, property_id: str, status: str | None = "open") -> list[Task]:
        """``GET /properties/{id}/tasks`` — all pages."""
        params = {"status": status} if status else None
        return await self._pages(Paths.property_tasks(property_id), "tasks", parse_task, params)

    async def get_task(self, task_id: str) -> Task:
        """``GET /tasks/{id}``."""
        return parse_task(await self._object("GET", Paths.task(task_id)))

    async def create_task(
        self,
        property_id: str,
        *,
        title: str,
        description: str | None = None,
        task_type: str | None = None,
        due_at: datetime | None = None,
        assignee_id: str | None = None,
        booking_id: str | None = None,
    ) -> Task:
        """``POST /tasks``."""
        body = _drop_none(
            {
                "property_id": property_id,
                "title": title,
                "description": description,
                "task_type": task_type,
                "due_at": _iso(due_at) if due_at else None,
                "assignee_id": assignee_id,
                "booking_id": booking_id,
            }
        )
        return parse_task(await self._object("POST", Paths.TASKS, json_body=body))

    async def update_task(self, task_id: str, changes: Mapping[str, str | datetime | None]) -> Task:
        """``PATCH /tasks/{id}`` with only the fields in ``changes`` (``None`` clears an optional one).

        The fields Kasify takes in a PATCH are inferred (those of ``POST /tasks``: :data:`TASK_PATCH_FIELDS`).
        The answer is checked: a 2xx that does not show every change (a field Kasify ignores) raises
        :class:`TaskNotUpdatedError` naming the fields.
        """
        unknown = set(changes) - TASK_PATCH_FIELDS
        if unknown:
            raise ValueError(f"not a task field Kasify updates: {sorted(unknown)}")
        body = {key: _iso(value) if isinstance(value, datetime) else value for key, value in changes.items()}
        path = Paths.task(task_id)
        task = parse_task(await self._object("PATCH", path, json_body=body))
        ignored = sorted(key for key, value in changes.items() if _task_field(task, key) != (value or None))
        if ignored:
            raise TaskNotUpdatedError(
                f"PATCH {Paths.TASKS}/{{id}}: answered without the change to {', '.join(ignored)}"
            )
        return task

    async def delete_task(self, task_id: str) -> None:
        """``DELETE /tasks/{id}`` (404 when Kasify has no such task → :class:`NotFoundError`)."""
        await self._request("DELETE", Paths.task(task_id))

    async def start_task(self, task_id: str) -> Task:
        """``POST /tasks/{id}/start`` (409 unless pending)."""
        return parse_task(await self._object("POST", Paths.task_start(task_id)))

    async def complete_task(self, task_id: str) -> Task:
        """``POST /tasks/{id}/complete`` (409 when already completed)."""
        return parse_task(await self._object("POST", Paths.task_complete(task_id)))


def _outside_filter(tasks: Sequence[Task], since: datetime) -> bool:
    """Whether any of ``tasks`` is not one completed at or after ``since``."""
    return any(
        t.status is not TaskStatus.COMPLETED or t.completed_at is None or t.completed_at < since
        for t in tasks
    )


def _filter_not_applied(endpoint: str) -> EndpointNotUnderstood:
    _LOGGER.debug("%s listed tasks outside the filter: the filter is not applied", endpoint)
    return EndpointNotUnderstood(endpoint, HTTPStatus.OK)


def _known_locks(prop: Property, known: Mapping[str, SmartLock]) -> list[SmartLock] | None:
    """The property's smart locks from ``known``, as the listing names and places them now.

    None when one of them is not known (or now of another vendor): the property's locks are to be read.
    """
    locks = []
    for info in prop.smart_locks:
        lock = known.get(info.id)
        if lock is None or lock.vendor != info.vendor.lower():
            return None
        name = info.name or lock.name
        # The very object when nothing moved (most refreshes): the snapshot compares it by identity.
        moved = lock.name != name or lock.property_id != prop.id
        locks.append(replace(lock, name=name, property_id=prop.id) if moved else lock)
    return locks


# The fields ``PATCH /tasks/{id}`` is sent (inferred: those ``POST /tasks`` takes, but the property).
TASK_PATCH_FIELDS: Final = frozenset(
    {"title", "description", "task_type", "due_at", "assignee_id", "booking_id"}
)


def _task_field(task: Task, key: str) -> str | datetime | None:
    value: str | datetime | None = getattr(task, key)
    return value or None


class TaskNotUpdatedError(ApiError):
    """Kasify answered a task update with success but without (some of) the change."""


# --- errors -------------------------------------------------------------------------------------


def _error_for(status: int, text: str, headers: Mapping[str, str], where: str) -> ApiError:
    """Map an HTTP error status and body to the shared exception hierarchy."""
    message, fields = _error_details(text)
    return error_for_status(status, error_summary(where, status, message), headers, fields)


def _error_details(text: str) -> tuple[str | None, dict[str, list[str]]]:
    """Pull ``message`` and ``fields`` out of a JSON error body; anything else (HTML, empty) gives nothing."""
    body = json_object(text)
    if body is None:
        return None, {}
    message = body.get("message") or body.get("error")
    fields: dict[str, list[str]] = {}
    raw_fields = body.get("fields")
    if isinstance(raw_fields, dict):
        for name, messages in raw_fields.items():
            if isinstance(messages, list):
                fields[str(name)] = [str(m) for m in messages]
            elif messages is not None:
                fields[str(name)] = [str(messages)]
    return (str(message) if message else None), fields


class PageMemo:
    """The last parse of each listing page, by query and body hash, for the pages read in the last rounds.

    A round is one snapshot: entries not used in the last :data:`MEMO_ROUNDS` rounds go (a query that is not
    asked again, such as yesterday's window, does not stay).
    """

    def __init__(self) -> None:
        """Nothing kept yet."""
        self._round = 0
        self._kept: dict[tuple[str, tuple[tuple[str, str | int], ...]], tuple[tuple[int, int], Any, int]] = {}

    @staticmethod
    def _digest(body: bytes) -> tuple[int, int]:
        # The interpreter's own hash: it holds the GIL (hashlib lets go of it for large bodies, and getting it
        # back behind a busy worker thread stalls the loop), and a page is kept for one query anyway.
        return len(body), hash(body)

    def get(self, key: tuple[str, tuple[tuple[str, str | int], ...]], body: bytes) -> Any:
        """What was kept for ``key`` if its body was ``body`` (else None)."""
        kept = self._kept.get(key)
        if kept is None or kept[0] != self._digest(body):
            return None
        self._kept[key] = (kept[0], kept[1], self._round)
        return kept[1]

    def put(self, key: tuple[str, tuple[tuple[str, str | int], ...]], body: bytes, value: Any) -> None:
        """Keep ``value`` as the parse of ``body`` for ``key``."""
        self._kept[key] = (self._digest(body), value, self._round)

    def next_round(self) -> None:
        """A snapshot is complete: forget what the last rounds did not use."""
        self._round += 1
        self._kept = {k: v for k, v in self._kept.items() if self._round - v[2] <= MEMO_ROUNDS}
