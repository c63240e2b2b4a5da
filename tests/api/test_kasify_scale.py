"""The Kasify client at fleet scale: pages read at once but never more than its bound, the smart locks of
properties a provider covers not read, a page that did not change not parsed again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from custom_components.kasify.api.kasify import KasifyClient
from custom_components.kasify.api.models import SmartLock

from .conftest import MakeFake
from .fake_api import Call, FakeApi, Gate

BASE_URL = "https://api.kasify.test/v1"
TOKEN = "kfy_live_scale"
START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def kasify(fake_api: MakeFake) -> FakeApi:
    """The scripted Kasify API."""
    return fake_api(BASE_URL, headers={"Authorization": f"Bearer {TOKEN}"})


def listing(key: str, items: list[dict[str, Any]], *, total: int | None = None) -> Any:
    """An answer that serves ``items`` a hundred per page, by the ``page`` the request asks for."""

    async def answer(call: Call) -> tuple[int, Any]:
        page = int(call.query["page"])
        body: dict[str, Any] = {key: items[page * 100 : page * 100 + 100], "page": page, "size": 100}
        body["total"] = len(items) if total is None else total
        return 200, body

    return answer


def properties(count: int, **fields: Any) -> list[dict[str, Any]]:
    return [{"id": f"p-{i:03d}", "name": f"Property {i}", **fields} for i in range(count)]


async def test_pages_are_read_at_once_up_to_the_bound(
    session: aiohttp.ClientSession, kasify: FakeApi
) -> None:
    """Ten pages with a bound of three: three are in flight together, never a fourth."""
    items = properties(1000)
    serve = listing("properties", items)
    in_flight = peak = 0
    gate = Gate(3)

    async def held(call: Call) -> tuple[int, Any]:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if call.query["page"] in ("1", "2", "3"):
            await gate.arrive()  # the first three pages after the first are answered only together
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1
        return await serve(call)

    kasify.reply("GET", "/properties", answer=held, repeat=True)
    client = KasifyClient(session, BASE_URL, TOKEN, concurrency=3)

    found = await client.list_properties()

    assert [prop.id for prop in found] == [item["id"] for item in items]
    assert sorted(int(call.query["page"]) for call in kasify.calls) == list(range(10))
    assert peak == 3


async def test_a_bound_below_one_is_refused(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        KasifyClient(session, BASE_URL, TOKEN, concurrency=0)


async def test_a_short_page_ends_the_listing(session: aiohttp.ClientSession, kasify: FakeApi) -> None:
    """A total that promises more than there is: pages after the first short one are not kept."""

    async def answer(call: Call) -> tuple[int, Any]:
        page = int(call.query["page"])
        count = {0: 100, 1: 40}.get(page, 100)  # page 2 and later would be full: they are not believed
        items = properties(100 * page + count)[100 * page :]
        return 200, {"properties": items, "page": page, "size": 100, "total": 500}

    kasify.reply("GET", "/properties", answer=answer, repeat=True)
    found = await KasifyClient(session, BASE_URL, TOKEN).list_properties()
    assert len(found) == 140


async def test_items_added_while_reading_are_followed(
    session: aiohttp.ClientSession, kasify: FakeApi
) -> None:
    """The first page says 200, the pages say 250 by the time they are read: every page is followed."""

    async def answer(call: Call) -> tuple[int, Any]:
        page = int(call.query["page"])
        total = 200 if page == 0 else 250
        items = properties(250)[100 * page : 100 * page + 100]
        return 200, {"properties": items, "page": page, "size": 100, "total": total}

    kasify.reply("GET", "/properties", answer=answer, repeat=True)
    found = await KasifyClient(session, BASE_URL, TOKEN).list_properties()
    assert len(found) == 250


# --- smart locks of covered properties ------------------------------------------------------------------


def _lock(lock_id: str, property_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": lock_id,
        "vendor": "nuki",
        "name": "Door",
        "property_id": property_id,
        "nuki_smartlock": {"id": "n", "nuki_smartlock_id": f"1{lock_id[-3:]}"},
        "lock_state": 1,
        "offline": False,
    } | fields


async def _snapshot(
    session: aiohttp.ClientSession, kasify: FakeApi, props: list[dict[str, Any]], **kwargs: Any
) -> Any:
    kasify.reply("GET", "/properties", answer=listing("properties", props), repeat=True)
    kasify.reply("GET", "/bookings", answer=listing("bookings", []), repeat=True)
    kasify.reply("GET", "/tasks", answer=listing("tasks", []), repeat=True)
    return await KasifyClient(session, BASE_URL, TOKEN).fetch_snapshot(START, END, **kwargs)


async def test_properties_whose_locks_are_all_known_are_not_read(
    session: aiohttp.ClientSession, kasify: FakeApi
) -> None:
    """Only the property with a lock the caller does not know is asked for its smart locks."""
    props = [
        {
            "id": "p-1",
            "name": "Covered",
            "smart_locks": [{"id": "l-001", "vendor": "Nuki", "name": "Front door"}],
        },
        {
            "id": "p-2",
            "name": "Half covered",
            "smart_locks": [
                {"id": "l-002", "vendor": "nuki", "name": "Door"},
                {"id": "l-003", "vendor": "nuki", "name": "Gate"},
            ],
        },
        {"id": "p-3", "name": "No locks"},
    ]
    kasify.reply(
        "GET", "/properties/p-2/smartlocks", [_lock("l-002", "p-2"), _lock("l-003", "p-2", name="Gate")]
    )
    known = {
        "l-001": SmartLock(
            id="l-001", vendor="nuki", name="Door", property_id="p-9", provider_lock_id="1001"
        ),
        "l-002": SmartLock(
            id="l-002", vendor="nuki", name="Door", property_id="p-2", provider_lock_id="1002"
        ),
    }

    snapshot = await _snapshot(session, kasify, props, known_locks=known)

    assert [call.path for call in kasify.calls if "smartlocks" in call.path] == ["/properties/p-2/smartlocks"]
    # The known lock is kept as known, named and placed as the listing has it now.
    assert snapshot.smart_locks["l-001"] == SmartLock(
        id="l-001", vendor="nuki", name="Front door", property_id="p-1", provider_lock_id="1001"
    )
    assert {lock.id for lock in snapshot.smart_locks.values()} == {"l-001", "l-002", "l-003"}


async def test_a_known_lock_now_of_another_vendor_is_read_again(
    session: aiohttp.ClientSession, kasify: FakeApi
) -> None:
    props = [
        {"id": "p-1", "name": "Loft", "smart_locks": [{"id": "l-001", "vendor": "unifi", "name": "Door"}]}
    ]
    kasify.reply("GET", "/properties/p-1/smartlocks", [_lock("l-001", "p-1", vendor="unifi")])
    known = {"l-001": SmartLock(id="l-001", vendor="nuki", name="Door", property_id="p-1")}

    snapshot = await _snapshot(session, kasify, props, known_locks=known)

    assert snapshot.smart_locks["l-001"].vendor == "unifi"


async def test_without_known_locks_every_property_with_locks_is_read(
    session: aiohttp.ClientSession, kasify: FakeApi
) -> None:
    props = [
        {"id": "p-1", "name": "Loft", "smart_locks": [{"id": "l-001", "vendor": "nuki", "name": "Door"}]}
    ]
    kasify.reply("GET", "/properties/p-1/smartlocks", [_lock("l-001", "p-1")])
    snapshot = await _snapshot(session, kasify, props)
    assert list(snapshot.smart_locks) == ["l-001"]


# --- pages that did not change ------------------------------------------------------------------------------


async def test_an_unchanged_page_gives_the_same_objects(
    session: aiohttp.ClientSession, kasify: FakeApi
) -> None:
    """The same body again: the same parsed objects (no parse); a changed body: parsed again."""
    items = properties(150)
    kasify.reply("GET", "/properties", answer=listing("properties", items), repeat=True)
    client = KasifyClient(session, BASE_URL, TOKEN)

    first = await client.list_properties()
    second = await client.list_properties()
    assert all(a is b for a, b in zip(first, second, strict=True))

    items[120]["name"] = "Renamed"
    third = await client.list_properties()
    assert third[120].name == "Renamed"
    assert all(a is b for a, b in zip(first[:100], third[:100], strict=True))  # page 0 did not change
    assert third[101] is not first[101]  # page 1 was parsed again


def completed(count: int, *, stray_at: int | None = None) -> list[dict[str, Any]]:
    """Tasks completed after :data:`SINCE`, but the one at ``stray_at`` completed before it."""
    return [
        {
            "id": f"t-{i:03d}",
            "property_id": "p-000",
            "title": f"Task {i}",
            "status": "completed",
            "completed_at": "2026-02-01T10:00:00Z" if i == stray_at else "2026-03-05T10:00:00Z",
        }
        for i in range(count)
    ]


SINCE = datetime(2026, 3, 1, tzinfo=UTC)


async def test_completed_task_pages_after_the_first_are_read_at_once(
    session: aiohttp.ClientSession, kasify: FakeApi
) -> None:
    """Four pages of completed tasks: once the first keeps to the filter, the other three are in flight
    together (a reader that waited for each page before the next would never see them answered)."""
    items = completed(350)
    serve = listing("tasks", items)
    gate = Gate(3)

    async def held(call: Call) -> tuple[int, Any]:
        if call.query["page"] != "0":
            await gate.arrive()
        return await serve(call)

    kasify.reply("GET", "/tasks", answer=held, repeat=True)
    client = KasifyClient(session, BASE_URL, TOKEN, concurrency=4)

    tasks, off = await client.read_completed_tasks(SINCE)

    assert off is None
    assert [task.id for task in tasks] == [item["id"] for item in items]
    assert sorted(int(call.query["page"]) for call in kasify.calls) == [0, 1, 2, 3]


async def test_completed_tasks_outside_the_filter_on_a_later_page(
    session: aiohttp.ClientSession, kasify: FakeApi
) -> None:
    """A task outside the filter on the third page: nothing is kept, the feature is off (HTTP 200)."""
    kasify.reply("GET", "/tasks", answer=listing("tasks", completed(350, stray_at=250)), repeat=True)
    client = KasifyClient(session, BASE_URL, TOKEN, concurrency=4)

    tasks, off = await client.read_completed_tasks(SINCE)

    assert tasks == []
    assert off is not None
    assert off.status == 200
