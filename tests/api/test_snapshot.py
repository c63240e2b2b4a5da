"""``KasifyClient.fetch_snapshot``: how one refresh's listings are combined, and which failure wins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from unittest.mock import AsyncMock

import aiohttp
import pytest

from custom_components.kasify.api.errors import ApiError, NotFoundError, ServerError, ValidationError
from custom_components.kasify.api.kasify import KasifyClient
from custom_components.kasify.api.models import (
    AccountSnapshot,
    Booking,
    BookingStatus,
    EndpointNotUnderstood,
    Property,
    SmartLock,
    SmartLockInfo,
    Task,
    TaskStatus,
)

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 6, 1, tzinfo=UTC)
WITH_LOCK = Property(id="p1", name="Loft", smart_locks=(SmartLockInfo("l1", "nuki", "Door"),))
WITHOUT_LOCK = Property(id="p2", name="Studio")


def _booking(booking_id: str, property_id: str, day: int, **kwargs: object) -> Booking:
    check_in = START + timedelta(days=day)
    return Booking(
        id=booking_id,
        property_id=property_id,
        guest_name=booking_id,
        check_in=check_in,
        check_out=check_in + timedelta(days=2),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
async def client() -> KasifyClient:
    async with aiohttp.ClientSession() as session:
        client = KasifyClient(session, "https://kasify.test/v1", "token")
        client.list_properties = AsyncMock(return_value=[WITH_LOCK, WITHOUT_LOCK])  # type: ignore[method-assign]
        client.list_bookings = AsyncMock(  # type: ignore[method-assign]
            return_value=[
                _booking("late", "p1", 9),
                _booking("early", "p1", 2),
                _booking("cancelled", "p2", 3, status=BookingStatus.CANCELLED),
                _booking("orphan", "gone", 1),
            ]
        )
        client.list_tasks = AsyncMock(  # type: ignore[method-assign]
            return_value=[
                Task(id="t1", property_id="p2", title="Clean"),
                Task(id="t2", property_id="p2", title="Done", status=TaskStatus.COMPLETED),
            ]
        )
        client.list_smart_locks = AsyncMock(  # type: ignore[method-assign]
            return_value=[SmartLock(id="l1", vendor="nuki", name="Door", property_id="p1")]
        )
        yield client


async def test_snapshot_shapes_the_listings(client: KasifyClient) -> None:
    """Bookings grouped per property by check-in; open tasks only; locks only where a property has some."""
    snapshot = await client.fetch_snapshot(START, END)
    assert list(snapshot.properties) == ["p1", "p2"]
    assert [b.id for b in snapshot.bookings["p1"]] == ["early", "late"]
    assert [b.id for b in snapshot.bookings["p2"]] == ["cancelled"]
    assert "gone" not in snapshot.bookings
    assert snapshot.active_bookings("p2") == []
    assert [t.id for t in snapshot.tasks["p2"]] == ["t1"]
    assert list(snapshot.smart_locks) == ["l1"]
    client.list_smart_locks.assert_awaited_once_with("p1")  # type: ignore[attr-defined]
    client.list_bookings.assert_awaited_once_with(START, END)  # type: ignore[attr-defined]
    assert (snapshot.window_start, snapshot.window_end) == (START, END)


async def test_api_error_is_raised_as_is(client: KasifyClient) -> None:
    """A single API failure comes out unwrapped (not as an exception group)."""
    client.list_tasks.side_effect = ServerError("503", status=503)  # type: ignore[attr-defined]
    with pytest.raises(ServerError):
        await client.fetch_snapshot(START, END)


async def test_unexpected_error_is_not_hidden(client: KasifyClient) -> None:
    """A bug (not an API error) still surfaces, unwrapped."""
    client.list_tasks.side_effect = RuntimeError("bug")  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="bug"):
        await client.fetch_snapshot(START, END)


@pytest.mark.parametrize(
    "error",
    [
        NotFoundError("GET /bookings: HTTP 404", status=404),
        ValidationError("GET /bookings: HTTP 400", status=400),
    ],
    ids=["404", "400"],
)
async def test_bookings_not_understood_turn_bookings_off(client: KasifyClient, error: ApiError) -> None:
    """The inferred booking listing answers 404/400: no bookings, the feature named off; the rest is read."""
    client.list_bookings.side_effect = error  # type: ignore[attr-defined]
    snapshot = await client.fetch_snapshot(START, END)
    assert snapshot.bookings == {}
    assert snapshot.degraded == {"bookings": EndpointNotUnderstood("GET /bookings", error.status or 0)}
    assert list(snapshot.properties) == ["p1", "p2"]
    assert list(snapshot.smart_locks) == ["l1"]
    assert [t.id for t in snapshot.tasks["p2"]] == ["t1"]


async def test_tasks_not_understood_turn_tasks_off(client: KasifyClient) -> None:
    """The inferred task listing answers 404: no tasks, bookings still read."""
    missing = NotFoundError("GET /tasks: HTTP 404", status=404)
    client.list_tasks.side_effect = missing  # type: ignore[attr-defined]
    snapshot = await client.fetch_snapshot(START, END)
    assert snapshot.tasks == {}
    assert snapshot.degraded == {"tasks": EndpointNotUnderstood("GET /tasks", 404)}
    assert [b.id for b in snapshot.bookings["p1"]] == ["early", "late"]


async def test_every_listing_understood_turns_nothing_off(client: KasifyClient) -> None:
    snapshot = await client.fetch_snapshot(START, END)
    assert snapshot.degraded == {}


@pytest.mark.parametrize(
    "error",
    [
        ValidationError("GET /bookings: HTTP 422", status=422),
        ServerError("GET /bookings: HTTP 502", status=502),
    ],
    ids=["422", "502"],
)
async def test_other_failures_of_an_inferred_listing_fail_the_refresh(
    client: KasifyClient, error: Exception
) -> None:
    """Only 404 and 400 say "not what the API knows"; anything else is raised as before."""
    client.list_bookings.side_effect = error  # type: ignore[attr-defined]
    with pytest.raises(type(error)):
        await client.fetch_snapshot(START, END)


async def test_a_documented_listing_not_found_fails_the_refresh(client: KasifyClient) -> None:
    """A 404 on a documented endpoint (the smart locks) is not a feature going off."""
    missing = NotFoundError("GET /properties/p1/smartlocks: HTTP 404", status=404)
    client.list_smart_locks.side_effect = missing  # type: ignore[attr-defined]
    with pytest.raises(NotFoundError):
        await client.fetch_snapshot(START, END)


def _completed(task_id: str, property_id: str, day: int) -> Task:
    return Task(
        id=task_id,
        property_id=property_id,
        title=task_id,
        status=TaskStatus.COMPLETED,
        completed_at=START + timedelta(days=day),
    )


async def test_completed_tasks_read_after_the_open_ones(client: KasifyClient) -> None:
    """With ``completed_since``: the completed tasks per property, latest first; a task listed open and then
    completed (done in between) is completed; unknown properties are left out."""
    since = START - timedelta(days=7)
    client.read_completed_tasks = AsyncMock(  # type: ignore[method-assign]
        return_value=(
            [_completed("older", "p2", 1), _completed("t1", "p2", 3), _completed("orphan", "gone", 2)],
            None,
        )
    )
    snapshot = await client.fetch_snapshot(START, END, completed_since=since)
    client.read_completed_tasks.assert_awaited_once_with(since)  # type: ignore[attr-defined]
    assert [t.id for t in snapshot.completed_tasks["p2"]] == ["t1", "older"]
    assert "gone" not in snapshot.completed_tasks
    assert "p2" not in snapshot.tasks  # t1 is done
    assert snapshot.degraded == {}
    assert snapshot.find_task("older") == snapshot.completed_tasks["p2"][1]

    # Not asked for: not read.
    client.read_completed_tasks.reset_mock()  # type: ignore[attr-defined]
    assert (await client.fetch_snapshot(START, END)).completed_tasks == {}
    client.read_completed_tasks.assert_not_awaited()  # type: ignore[attr-defined]


async def test_completed_tasks_not_asked_while_open_ones_are_off(client: KasifyClient) -> None:
    """The task listing is not understood: one issue (tasks), the completed ones are not asked for; a
    completed listing not understood on its own turns its own feature off."""
    client.read_completed_tasks = AsyncMock(return_value=([], None))  # type: ignore[method-assign]
    client.list_tasks.side_effect = NotFoundError("GET /tasks: HTTP 404", status=404)  # type: ignore[attr-defined]
    snapshot = await client.fetch_snapshot(START, END, completed_since=START)
    assert snapshot.degraded == {"tasks": EndpointNotUnderstood("GET /tasks", 404)}
    client.read_completed_tasks.assert_not_awaited()  # type: ignore[attr-defined]

    client.list_tasks.side_effect = None  # type: ignore[attr-defined]
    off = EndpointNotUnderstood("GET /tasks?status=completed&completed_since", 200)
    client.read_completed_tasks.return_value = ([], off)  # type: ignore[attr-defined]
    snapshot = await client.fetch_snapshot(START, END, completed_since=START)
    assert snapshot.degraded == {"completed_tasks": off}
    assert [t.id for t in snapshot.tasks["p2"]] == ["t1"]


def test_task_changes_applied_to_a_snapshot() -> None:
    """A task as Kasify answered goes where its status says; deleted ones go; other properties' are kept."""
    open_task = Task(id="a", property_id="p1", title="A")
    base = AccountSnapshot(
        properties={"p1": WITH_LOCK},
        bookings={},
        smart_locks={},
        tasks={"p1": (open_task,)},
        window_start=START,
        window_end=END,
    )
    done = replace(open_task, status=TaskStatus.COMPLETED, completed_at=START)
    moved = base.with_task(done)
    assert moved.tasks == {}
    assert moved.completed_tasks == {"p1": (done,)}
    assert (
        moved.with_task(replace(done, status=TaskStatus.PENDING)).tasks["p1"][0].status is TaskStatus.PENDING
    )
    assert base.without_tasks({"a"}).tasks == {}
    assert base.with_task(Task(id="x", property_id="elsewhere", title="X")) == base
    assert base.with_task(replace(open_task, status=TaskStatus.UNKNOWN)).tasks == {}
