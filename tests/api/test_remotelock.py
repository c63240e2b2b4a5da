"""The RemoteLock client against scripted answers: requests sent, models returned, every error shape."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, time as dt_time
import json
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from custom_components.kasify.api.errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    SubscriptionRequiredError,
    ValidationError,
)
from custom_components.kasify.api.models import LockStatus
from custom_components.kasify.api.ratelimit import SlidingWindowLimiter
from custom_components.kasify.api.remotelock import (
    ACCEPT,
    DEFAULT_API_URL,
    MAX_RESET_WAIT,
    PAGE_CONCURRENCY,
    WEBHOOK_EVENTS,
    CallbackTokenSource,
    ClientCredentialsAuth,
    RemoteLockAccess,
    RemoteLockClient,
    RemoteLockEvent,
    WebhookSubscriber,
    WebhookSubscription,
    lock_status,
    parse_webhook_event,
    webhook_secret_matches,
)

from .conftest import MakeFake
from .fake_api import Call, FakeApi, Gate, load_fixture

API = "https://api.remotelock.test"
OAUTH = "https://connect.remotelock.test"
TOKEN_URL = OAUTH + "/oauth/token"
TOKEN = "rl_at_5Yx8Qw3Er7Ty1Ui9Op"  # distinctive, so a leak into a message is easy to spot
NEW_TOKEN = "rl_at_N3wN3wN3wN3w"
NOW = 1_773_489_600.0  # 2026-03-14T12:00:00Z
PERSON_ID = "49fa4ed4-a285-4b5a-b459-367bfb4c7e74"
LOCK_ID = "3fbd7d86-3bf3-4634-9111-86b48bdb6df2"


def fixture(name: str) -> Any:
    return load_fixture("remotelock", name)


@pytest.fixture
def remotelock(fake_api: MakeFake) -> FakeApi:
    """The scripted RemoteLock API; every request must ask for its media type."""
    return fake_api(API, headers={"Accept": ACCEPT})


class FakeSleep:
    """Records limiter waits instead of sleeping."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def client(session: aiohttp.ClientSession, remotelock: FakeApi, fake_time: FakeSleep) -> RemoteLockClient:
    async def token() -> str:
        return TOKEN

    limiter = SlidingWindowLimiter(clock=fake_time.clock, sleep=fake_time.sleep)
    return RemoteLockClient(session, token, base_url=API + "/", limiter=limiter, wall_clock=lambda: NOW)


def lock_json(
    lock_id: str, name: str = "Front", device_type: str = "lock", **attributes: Any
) -> dict[str, Any]:
    return {
        "type": device_type,
        "id": lock_id,
        "attributes": {"name": name, "state": "locked", "power_level": 80, "connected": True, **attributes},
    }


def page(items: list[Any], page_number: int = 1, total_pages: int | None = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"data": items}
    if total_pages is not None:
        body["meta"] = {"page": page_number, "per_page": 50, "total_pages": total_pages, "total_count": 0}
    return body


def event_json(
    event_id: str, created: str, occurred: str | None = None, kind: str = "unlocked"
) -> dict[str, Any]:
    return {
        "type": f"{kind}_event",
        "id": event_id,
        "attributes": {
            "occurred_at": occurred or created,
            "created_at": created,
            "status": "succeeded",
            "method": "pin",
            "pin": "9999",
            "publisher_id": LOCK_ID,
            "publisher_type": "lock",
        },
    }


# --- reads --------------------------------------------------------------------------------------------------


async def test_defaults_and_headers(session: aiohttp.ClientSession, remotelock: FakeApi) -> None:
    async def token() -> str:
        return TOKEN

    client = RemoteLockClient(session, token, base_url=API)
    assert client.base_url == API
    assert RemoteLockClient(session, token).base_url == DEFAULT_API_URL
    assert (client.limiter.limit, client.limiter.window) == (120, 60.0)
    remotelock.reply("GET", "/user", fixture("user.json"), headers={"X-RateLimit-Remaining": "118"})
    await client.get_user()
    assert remotelock.call.headers == {"Authorization": f"Bearer {TOKEN}", "Accept": ACCEPT}
    assert client.rate_limit_remaining == 118


async def test_get_user_and_account(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("GET", "/user", fixture("user.json"))
    remotelock.reply("GET", "/account", fixture("account.json"))
    user = await client.get_user()
    assert user.id == "f2bc8a20-46ea-4a9f-bc09-593f6c6bb912"
    assert user.name == "Abigail Metz"
    assert user.account_id == "a73c66c7-4961-4139-a8c0-4222a4e4f7e2"
    assert "eve_schmeler@" not in repr(user)  # the e-mail is not kept
    account = await client.get_account()
    assert (account.id, account.name, account.default_guest_start_time) == (
        "01200986-29d1-468f-9f9f-7abacd5895a1",
        "Ashly Roberts II",
        "16:00:00",
    )


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"primary_account_id": "p", "default_account_id": "d"}, "d"),
        ({"primary_account_id": "p"}, "p"),
        ({}, "user-1"),
    ],
)
async def test_account_id_falls_back(
    client: RemoteLockClient, remotelock: FakeApi, attributes: dict[str, str], expected: str
) -> None:
    remotelock.reply("GET", "/user", {"data": {"type": "user", "id": "user-1", "attributes": attributes}})
    user = await client.get_user()
    assert user.account_id == expected
    assert user.name == "user-1"


async def test_list_locations(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("GET", "/locations", fixture("locations_page.json"))
    hq, other = await client.list_locations()
    assert remotelock.call.query_items == [("page", "1"), ("per_page", "50")]
    assert (hq.name, hq.time_zone, hq.city, hq.postal_code, hq.country) == (
        "LockState Headquarters",
        "America/Denver",
        "Denver",
        "80222",
        "US",
    )
    assert other.address == "5907 Leonard Valleys"
    assert other.city is None


async def test_list_locks_from_the_seed_keeps_only_locks(
    client: RemoteLockClient, remotelock: FakeApi
) -> None:
    """The seed's page mixes in a thermostat, a resort lock, a power plug and an ACS door: all dropped."""
    remotelock.reply("GET", "/devices", fixture("devices_page.json"))
    first, second = await client.list_locks()
    assert remotelock.call.query_items == [
        ("type[]", "lock"),
        ("type[]", "zwave_lock"),
        ("type[]", "schlage_home_lock"),
        ("page", "1"),
        ("per_page", "50"),
    ]
    assert first.id == "07339d7d-06b7-47be-89ab-543c5adb588a"
    assert first.name == "LS-6i - AC000W005836254"
    assert (first.type, first.status, first.state, first.battery_level) == (
        "lock",
        LockStatus.LOCKED,
        "locked",
        4,
    )
    assert (first.connected, first.alive, first.power_source) == (True, True, "alkaline_battery")
    assert first.connected_at == datetime(2018, 8, 29, 18, 22, 17, tzinfo=UTC)
    assert first.location_id == "48bd5117-59eb-42dd-a72b-f5a084d01068"
    assert (first.serial_number, first.model_id, first.signal_quality) == (
        "AC000W005836254",
        "b362ae85-f47d-43a9-baab-aac8813ee17b",
        3,
    )
    assert first.model_number is None
    assert first.can_lock
    assert second.battery_level == 54
    assert "123456" not in repr(first)  # the programming code is never read


async def test_list_locks_pages_at_50(client: RemoteLockClient, remotelock: FakeApi) -> None:
    locks = [lock_json(f"lock-{i:03d}", f"Lock {i}") for i in range(120)]
    for number in (1, 2, 3):
        chunk = locks[(number - 1) * 50 : number * 50]
        remotelock.reply("GET", "/devices", page(chunk, number, total_pages=3))
    result = await client.list_locks()
    assert [lock.id for lock in result] == [f"lock-{i:03d}" for i in range(120)]
    assert len(remotelock.calls) == 3  # ceil(120 / 50)
    assert [call.query["page"] for call in remotelock.calls] == ["1", "2", "3"]


async def test_list_locks_reads_the_pages_after_the_first_at_once(
    client: RemoteLockClient, remotelock: FakeApi
) -> None:
    """Ten pages: after the first, four are in flight together (never a fifth), all in order in the result."""
    locks = [lock_json(f"lock-{i:03d}") for i in range(480)]
    in_flight = peak = 0
    gate = Gate(PAGE_CONCURRENCY)

    async def answer(call: Call) -> tuple[int, Any]:
        nonlocal in_flight, peak
        number = int(call.query["page"])
        in_flight += 1
        peak = max(peak, in_flight)
        if 2 <= number <= 1 + PAGE_CONCURRENCY:
            await gate.arrive()  # pages 2-5 are answered only once all four are in flight
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1
        return 200, page(locks[(number - 1) * 50 : number * 50], number, total_pages=10)

    remotelock.reply("GET", "/devices", answer=answer, repeat=True)
    result = await client.list_locks()
    assert [lock.id for lock in result] == [lock["id"] for lock in locks]
    assert sorted(int(call.query["page"]) for call in remotelock.calls) == list(range(1, 11))
    assert peak == PAGE_CONCURRENCY


async def test_a_short_page_ends_the_collection(client: RemoteLockClient, remotelock: FakeApi) -> None:
    """``total_pages`` promised more: pages after the first short one are not kept."""

    async def answer(call: Call) -> tuple[int, Any]:
        number = int(call.query["page"])
        count = 20 if number == 2 else 50
        return 200, page([lock_json(f"p{number}-{i}") for i in range(count)], number, total_pages=4)

    remotelock.reply("GET", "/devices", answer=answer, repeat=True)
    assert len(await client.list_locks()) == 70


@pytest.mark.parametrize(
    ("pages", "requests"),
    [
        ([page([], total_pages=0)], 1),
        ([page([lock_json(f"l{i}") for i in range(50)], total_pages=1)], 1),
        ([page([lock_json(f"l{i}") for i in range(50)], total_pages=None), page([], 2, None)], 2),
    ],
)
async def test_list_locks_stops_at_the_end(
    client: RemoteLockClient, remotelock: FakeApi, pages: list[Any], requests: int
) -> None:
    for body in pages:
        remotelock.reply("GET", "/devices", body)
    await client.list_locks()
    assert len(remotelock.calls) == requests


async def test_list_locks_stops_at_the_10000_item_cap(client: RemoteLockClient, remotelock: FakeApi) -> None:
    full = page([lock_json(f"l{i}") for i in range(50)], total_pages=500)
    for _ in range(200):
        remotelock.reply("GET", "/devices", full)
    await client.list_locks()
    assert len(remotelock.calls) == 200  # page * per_page <= 10 000


async def test_list_locks_with_other_types(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("GET", "/devices", page([lock_json("a"), lock_json("b", device_type="zwave_lock")]))
    (only,) = await client.list_locks(types=("zwave_lock",))
    assert only.id == "b"
    assert remotelock.call.query_items[0] == ("type[]", "zwave_lock")


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("locked", LockStatus.LOCKED),
        ("unlocked", LockStatus.UNLOCKED),
        ("jammed", LockStatus.JAMMED),
        (None, LockStatus.UNKNOWN),
        ("something_new", LockStatus.UNKNOWN),
    ],
)
def test_lock_status(state: str | None, status: LockStatus) -> None:
    assert lock_status(state) == status


async def test_get_lock_lock_and_unlock(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("GET", "/devices/bdd03ef5-1106-486f-a545-de06a6fb16b3", fixture("device_lock.json"))
    remotelock.reply(
        "PUT", "/devices/10d8ecee-0573-430f-ba09-0031b7a46306/lock", fixture("lock_response.json")
    )
    remotelock.reply(
        "PUT", "/devices/c3a27919-383f-4160-b2f9-fbc34d3a018b/unlock", fixture("unlock_response.json")
    )
    got = await client.get_lock("bdd03ef5-1106-486f-a545-de06a6fb16b3")
    assert (got.status, got.connected, got.battery_level) == (LockStatus.UNLOCKED, False, 7)
    locked = await client.lock("10d8ecee-0573-430f-ba09-0031b7a46306")
    assert locked.status == LockStatus.LOCKED
    assert locked.connected_at is None
    unlocked = await client.unlock("c3a27919-383f-4160-b2f9-fbc34d3a018b")
    assert unlocked.status == LockStatus.UNLOCKED
    assert [(c.method, c.json) for c in remotelock.calls] == [("GET", None), ("PUT", None), ("PUT", None)]


async def test_ids_are_quoted_as_one_segment(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("PUT", "/devices/a%2F..%2Fb/lock", fixture("lock_response.json"))
    await client.lock("a/../b")
    assert remotelock.call.method == "PUT"


@pytest.mark.parametrize("lock_id", ["..", ".", ""])
async def test_dot_segments_never_reach_a_path(
    client: RemoteLockClient, remotelock: FakeApi, lock_id: str
) -> None:
    with pytest.raises(ValueError, match="cannot be used as an id"):
        await client.unlock(lock_id)
    assert remotelock.calls == []


# --- events -------------------------------------------------------------------------------------------------


async def test_list_events_from_the_seed(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("GET", "/events", fixture("events_page.json"))
    batch = await client.list_events()
    assert remotelock.call.query_items == [("sort", "-created_at"), ("page", "1"), ("per_page", "50")]
    assert batch.complete
    assert batch.cursor == "2c50a9f8-a094-4045-a8e1-b2cc6a6f3b40"  # the first item of the first page
    assert [e.occurred_at for e in batch.events] == sorted(e.occurred_at for e in batch.events)
    by_type = {event.type: event for event in batch.events}
    assert set(by_type) == {
        "access_person_used",
        "power_level_low",
        "access_guest_late_sync",
        "access_person_sync_failed",
        "unlocked",
        "access_person_synced",
        "connectivity",
    }
    lock = "ae05997a-bf33-436a-b033-0102c986adb2"
    unlocked = by_type["unlocked"]
    assert (unlocked.lock_id, unlocked.method, unlocked.status, unlocked.source) == (
        lock,
        "pin",
        "succeeded",
        "user",
    )
    assert (unlocked.access_person_id, unlocked.access_person_type) == (
        "641189e8-9a9b-46bd-90de-eb88e300afc2",
        "access_user",
    )
    used = [e for e in batch.events if e.type == "access_person_used"]
    assert {e.lock_id for e in used} == {lock}  # the lock is the associated resource here
    assert {e.access_person_type for e in used} == {"access_user", "access_guest"}
    assert {e.status for e in used} == {"succeeded", "failed"}
    assert by_type["power_level_low"].power_level == 5
    assert by_type["power_level_low"].time_zone == "America/Denver"
    assert by_type["access_guest_late_sync"].access_person_type == "access_guest"
    assert by_type["access_person_sync_failed"].status_info == "timeout"
    assert by_type["connectivity"].lock_id == lock
    assert "1234" not in repr(batch)  # the PIN of the unlocked event is dropped
    assert not hasattr(unlocked, "pin")


async def test_list_events_since_the_cursor(client: RemoteLockClient, remotelock: FakeApi) -> None:
    items = [event_json(f"e{i}", f"2026-03-14T11:5{9 - i}:00Z") for i in range(5)]
    remotelock.reply("GET", "/events", page(items))
    batch = await client.list_events(since_id="e3")
    assert [e.id for e in batch.events] == ["e2", "e1", "e0"]  # oldest first
    assert (batch.cursor, batch.complete) == ("e0", True)
    assert len(remotelock.calls) == 1


async def test_list_events_reads_on_until_the_cursor_and_deduplicates(
    client: RemoteLockClient, remotelock: FakeApi
) -> None:
    first = [event_json(f"n{i:02d}", f"2026-03-14T11:{59 - i:02d}:00Z") for i in range(50)]
    # A new event arrived between the two requests: page 2 starts with the last item of page 1 again.
    second = [
        first[-1],
        event_json("old", "2026-03-14T10:00:00Z"),
        event_json("older", "2026-03-14T09:00:00Z"),
    ]
    remotelock.reply("GET", "/events", page(first, 1, total_pages=2))
    remotelock.reply("GET", "/events", page(second, 2, total_pages=2))
    batch = await client.list_events(since_id="old")
    ids = [e.id for e in batch.events]
    assert len(ids) == len(set(ids)) == 50
    assert ids[0] == "n49"
    assert batch.complete
    assert [c.query["page"] for c in remotelock.calls] == ["1", "2"]


async def test_list_events_gives_up_after_max_pages(client: RemoteLockClient, remotelock: FakeApi) -> None:
    full = [event_json(f"x{i:02d}", "2026-03-14T11:00:00Z") for i in range(50)]
    remotelock.reply("GET", "/events", page(full, 1, total_pages=9))
    remotelock.reply("GET", "/events", page(full, 2, total_pages=9))
    batch = await client.list_events(since_id="gone", max_pages=2)
    assert not batch.complete
    assert batch.cursor == "x00"


async def test_list_events_after_an_instant(client: RemoteLockClient, remotelock: FakeApi) -> None:
    items = [
        event_json("new", "2026-03-14T11:00:00Z"),
        event_json("late", "2026-03-14T10:30:00Z", occurred="2026-03-13T08:00:00Z"),  # synced late: skipped
        event_json("before", "2026-03-14T09:00:00Z"),  # created before the bound: stop here
        event_json("never", "2026-03-14T08:00:00Z"),
    ]
    remotelock.reply("GET", "/events", page(items))
    batch = await client.list_events(occurred_after=datetime(2026, 3, 14, 10, 0, tzinfo=UTC))
    assert [e.id for e in batch.events] == ["new"]
    assert (batch.cursor, batch.complete) == ("new", True)


async def test_list_events_when_there_are_none(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("GET", "/events", page([], total_pages=0))
    batch = await client.list_events(since_id="keep-me")
    assert batch.events == ()
    assert (batch.cursor, batch.complete) == ("keep-me", True)


def test_webhook_payload_is_parsed_like_a_polled_event() -> None:
    item = fixture("events_page.json")["data"][5]
    polled_shape = parse_webhook_event({"data": copy.deepcopy(item)})
    assert isinstance(polled_shape, RemoteLockEvent)
    assert polled_shape.type == "unlocked"
    assert polled_shape.id == "66101728-a550-45a4-b8c4-47644d60fed1"
    with pytest.raises(MalformedResponseError):
        parse_webhook_event({"nothing": 1})
    with pytest.raises(MalformedResponseError):
        parse_webhook_event(["not", "an", "object"])


@pytest.mark.parametrize(
    ("received", "expected", "ok"),
    [("s3cret", "s3cret", True), ("s3cret!", "s3cret", False), (None, "s3cret", False), ("", "", False)],
)
def test_webhook_secret(received: str | None, expected: str, ok: bool) -> None:
    assert webhook_secret_matches(received, expected) is ok


# --- access guests ------------------------------------------------------------------------------------------


async def test_create_access_guest_with_a_pin(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("POST", "/access_persons", fixture("access_guest_created.json"), status=201)
    guest = await client.create_access_guest(
        "Ann Smith", datetime(2020, 1, 2, 16, 4, 30, 999), datetime(2021, 1, 2, 16, 4), pin="1234"
    )
    assert remotelock.call.json == {
        "type": "access_guest",
        "attributes": {
            "name": "Ann Smith",
            "starts_at": "2020-01-02T16:04:30",
            "ends_at": "2021-01-02T16:04:00",
            "pin": "1234",
        },
    }
    assert (guest.id, guest.type, guest.status) == (
        "06e7202d-612d-4963-9913-ab6ad3feb9e7",
        "access_guest",
        "upcoming",
    )
    assert guest.starts_at == datetime(2020, 1, 2, 16, 4)  # naive: lock-local
    assert guest.pin == "1234"
    assert "1234" not in repr(guest)


async def test_create_access_guest_converts_aware_times_to_lock_local(
    client: RemoteLockClient, remotelock: FakeApi
) -> None:
    remotelock.reply("POST", "/access_persons", fixture("access_guest_created.json"), status=201)
    await client.create_access_guest(
        "Ann",
        datetime(2026, 7, 1, 13, 0, tzinfo=UTC),
        datetime(2026, 7, 5, 9, 0, tzinfo=UTC),
        generate_pin=True,
        email="ann@example.com",
        time_zone=ZoneInfo("Europe/Madrid"),
    )
    attributes = remotelock.call.json["attributes"]
    assert attributes == {
        "name": "Ann",
        "starts_at": "2026-07-01T15:00:00",
        "ends_at": "2026-07-05T11:00:00",
        "generate_pin": True,
        "email": "ann@example.com",
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pin": "1234", "generate_pin": True},
        {},
        {"pin": "1234", "starts_at": datetime(2026, 7, 1, tzinfo=UTC)},
        {"pin": "1234", "ends_at": datetime(2026, 6, 1)},
    ],
)
async def test_create_access_guest_refuses_bad_arguments(
    client: RemoteLockClient, kwargs: dict[str, Any]
) -> None:
    arguments: dict[str, Any] = {"starts_at": datetime(2026, 7, 1), "ends_at": datetime(2026, 7, 5), **kwargs}
    with pytest.raises(ValueError):
        await client.create_access_guest("Ann", **arguments)


async def test_update_get_list_deactivate_delete(client: RemoteLockClient, remotelock: FakeApi) -> None:
    guest = fixture("access_guest_created.json")
    remotelock.reply("PUT", f"/access_persons/{PERSON_ID}", guest)
    remotelock.reply("GET", f"/access_persons/{PERSON_ID}", guest)
    remotelock.reply("GET", "/access_persons", fixture("access_persons_page.json"))
    remotelock.reply("PUT", f"/access_persons/{PERSON_ID}/deactivate", fixture("deactivate_response.json"))
    remotelock.reply("DELETE", f"/access_persons/{PERSON_ID}", status=204)

    updated = await client.update_access_guest(
        PERSON_ID,
        name="Ann S.",
        starts_at=datetime(2026, 7, 1, 15),
        ends_at=datetime(2026, 7, 5, 9, tzinfo=UTC),
        time_zone=ZoneInfo("Europe/Lisbon"),
    )
    assert updated.pin is None  # only the create answer hands the PIN out
    assert remotelock.calls[0].json == {
        "attributes": {"name": "Ann S.", "starts_at": "2026-07-01T15:00:00", "ends_at": "2026-07-05T10:00:00"}
    }
    assert (await client.get_access_person(PERSON_ID)).name == "Ann Smith"
    listed = await client.list_access_guests(["current", "expired"])
    assert remotelock.calls[2].query_items == [
        ("type", "access_guest"),
        ("attributes[status][]", "current"),
        ("attributes[status][]", "expired"),
        ("page", "1"),
        ("per_page", "50"),
    ]
    assert [p.type for p in listed] == ["access_user", "access_guest"]
    assert all(p.pin is None for p in listed)
    deactivated = await client.deactivate_access_person(PERSON_ID)
    assert deactivated.status == "deactivated"
    assert await client.delete_access_person(PERSON_ID) is None


async def test_grant_list_get_and_revoke_access(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply(
        "POST", f"/access_persons/{PERSON_ID}/accesses", fixture("access_grant.json"), status=201
    )
    remotelock.reply("GET", f"/access_persons/{PERSON_ID}/accesses", fixture("accesses_page.json"))
    one = fixture("accesses_page.json")["data"][0]
    remotelock.reply("GET", f"/access_persons/{PERSON_ID}/accesses/acc-1", {"data": one})
    remotelock.reply("DELETE", f"/access_persons/{PERSON_ID}/accesses/acc-1", status=204)
    remotelock.reply("GET", f"/devices/{LOCK_ID}/access_person_accesses", fixture("accesses_page.json"))
    remotelock.reply("GET", f"/devices/{LOCK_ID}/access_person_accesses", page([]))

    access = await client.grant_access(
        PERSON_ID, LOCK_ID, guest_start_time=dt_time(14, 0), guest_end_time=dt_time(10, 30)
    )
    assert remotelock.calls[0].json == {
        "attributes": {
            "accessible_id": LOCK_ID,
            "accessible_type": "lock",
            "guest_start_time": "14:00",
            "guest_end_time": "10:30",
        }
    }
    assert access == RemoteLockAccess(
        id="196e13c3-0d42-43d7-85ba-46aebd1631de",
        access_person_id=PERSON_ID,
        access_person_type="access_guest",
        accessible_id=LOCK_ID,
        accessible_type="lock",
        guest_start_time="14:00:00",
    )
    accesses = await client.list_accesses(PERSON_ID)
    assert [a.accessible_type for a in accesses] == ["lock", "acs_door", "door_group", "location"]
    assert accesses[0].sync_status == "pending"
    got = await client.get_access(PERSON_ID, "acc-1")
    assert got.devices_pending_sync_count == 1
    assert await client.revoke_access(PERSON_ID, "acc-1") is None
    assert len(await client.list_lock_accesses(LOCK_ID)) == 4
    assert remotelock.calls[4].query_items[0] == ("attributes[access_person_type]", "access_guest")
    await client.list_lock_accesses(LOCK_ID, None)
    assert remotelock.calls[5].query_items == [("page", "1"), ("per_page", "50")]


@pytest.mark.parametrize(
    ("counts", "status"),
    [((1, 1, 0, 0), "synced"), ((2, 1, 1, 0), "pending"), ((2, 1, 0, 1), "failed"), ((0, 0, 0, 0), "synced")],
)
def test_sync_status(counts: tuple[int, int, int, int], status: str) -> None:
    total, synced, pending, failed = counts
    access = RemoteLockAccess("a", None, None, None, None, total, synced, pending, failed)
    assert access.sync_status == status


# --- errors -------------------------------------------------------------------------------------------------


async def test_resource_error_becomes_validation_error_with_fields(
    client: RemoteLockClient, remotelock: FakeApi
) -> None:
    body = {
        "attributes": {"name": "", "pin": "12"},
        "errors": [
            {"attribute": "name", "messages": ["is empty"], "full_messages": ["name is empty"]},
            {"attribute": "pin", "messages": ["is too short"], "full_messages": []},
            {"attribute": None, "messages": ["Subuser creation limit reached"], "full_messages": None},
            "garbage",
        ],
    }
    remotelock.reply("POST", "/access_persons", body, status=422)
    with pytest.raises(ValidationError) as caught:
        await client.create_access_guest("", datetime(2026, 7, 1), datetime(2026, 7, 2), pin="12")
    error = caught.value
    assert error.status == 422
    assert error.fields == {
        "name": ["is empty"],
        "pin": ["is too short"],
        "base": ["Subuser creation limit reached"],
    }
    assert str(error) == (
        "POST /access_persons: HTTP 422: name is empty; pin is too short; base Subuser creation limit reached"
    )


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (
            402,
            {"message": "Please create a subscription", "type": "billing_subscription_required"},
            SubscriptionRequiredError,
            "Please create a subscription (billing_subscription_required)",
        ),
        (
            401,
            {"message": "Not permitted", "type": "forbidden"},
            PermissionDeniedError,
            "Not permitted (forbidden)",
        ),
        (404, {"message": "Not found"}, NotFoundError, "Not found"),
        (409, {"message": "Duplicate", "type": "duplicate"}, ConflictError, "Duplicate (duplicate)"),
        (400, {"type": "bad_request"}, ValidationError, "(bad_request)"),
        (422, {"errors": []}, ValidationError, None),
        (500, "<html>oops</html>", ServerError, None),
        (503, ["unexpected"], ServerError, None),
        (418, {}, ApiError, None),
    ],
)
async def test_general_errors(
    client: RemoteLockClient,
    remotelock: FakeApi,
    status: int,
    body: Any,
    error: type[ApiError],
    message: str | None,
) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    remotelock.reply("GET", "/account", status=status, body=text)
    with pytest.raises(error) as caught:
        await client.get_account()
    assert type(caught.value) is error
    assert caught.value.status == status
    expected = f"GET /account: HTTP {status}" + (f": {message}" if message else "")
    assert str(caught.value) == expected


async def test_subscription_error_type(client: RemoteLockClient, remotelock: FakeApi) -> None:
    body = {"message": "Please create a subscription", "type": "billing_subscription_required"}
    remotelock.reply("POST", f"/access_persons/{PERSON_ID}/accesses", body, status=402)
    with pytest.raises(SubscriptionRequiredError) as caught:
        await client.grant_access(PERSON_ID, LOCK_ID)
    assert caught.value.error_type == "billing_subscription_required"


async def test_permission_denied_is_an_auth_error(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("PUT", f"/devices/{LOCK_ID}/unlock", {"message": "no"}, status=401)
    with pytest.raises(AuthError) as caught:
        await client.unlock(LOCK_ID)
    assert isinstance(caught.value, PermissionDeniedError)
    assert len(remotelock.calls) == 1  # 401 is not retried


async def test_the_token_is_scrubbed_from_messages(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("GET", "/account", {"message": f"token {TOKEN} refused"}, status=404)
    with pytest.raises(NotFoundError) as caught:
        await client.get_account()
    assert TOKEN not in str(caught.value)
    assert "***" in str(caught.value)


async def test_the_pin_echo_of_a_resource_error_stays_out_of_messages(
    client: RemoteLockClient, remotelock: FakeApi
) -> None:
    body = {
        "attributes": {"pin": "8642"},
        "errors": [{"attribute": "pin", "messages": ["has already been taken"]}],
    }
    remotelock.reply("POST", "/access_persons", body, status=422)
    with pytest.raises(ValidationError) as caught:
        await client.create_access_guest("Ann", datetime(2026, 7, 1), datetime(2026, 7, 2), pin="8642")
    assert "8642" not in str(caught.value)
    assert caught.value.fields == {"pin": ["has already been taken"]}


async def test_a_pin_and_email_echoed_in_error_sentences_are_redacted(
    client: RemoteLockClient, remotelock: FakeApi
) -> None:
    body = {
        "errors": [
            {"attribute": "pin", "messages": ["8642 has already been taken"], "full_messages": []},
            {"attribute": "email", "messages": ["ann@example.com is not an email"], "full_messages": []},
        ]
    }
    remotelock.reply("POST", "/access_persons", body, status=422)
    with pytest.raises(ValidationError) as caught:
        await client.create_access_guest(
            "Ann", datetime(2026, 7, 1), datetime(2026, 7, 2), pin="8642", email="ann@example.com"
        )
    assert "8642" not in str(caught.value)
    assert "ann@example.com" not in str(caught.value)
    assert caught.value.fields == {"pin": ["*** has already been taken"], "email": ["*** is not an email"]}


@pytest.mark.parametrize(
    ("body", "status"),
    [("{not json", 200), (json.dumps({"nothing": 1}), 200), (json.dumps({"data": []}), 200)],
)
async def test_malformed_answers(
    client: RemoteLockClient, remotelock: FakeApi, body: str, status: int
) -> None:
    remotelock.reply("GET", "/account", body=body, status=status)
    with pytest.raises(MalformedResponseError):
        await client.get_account()


async def test_malformed_fields(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("GET", "/devices", page([lock_json("a", power_level="high")]))
    with pytest.raises(MalformedResponseError, match="power_level"):
        await client.list_locks()
    bad_guest = fixture("access_guest_created.json")
    bad_guest["data"]["attributes"]["starts_at"] = "next tuesday"
    remotelock.reply("GET", f"/access_persons/{PERSON_ID}", bad_guest)
    with pytest.raises(MalformedResponseError, match="starts_at"):
        await client.get_access_person(PERSON_ID)


async def test_a_missing_collection_is_malformed(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("GET", "/locations", {"meta": {}})
    with pytest.raises(MalformedResponseError):
        await client.list_locations()


@pytest.mark.parametrize("exception", [aiohttp.ClientConnectionError("refused"), TimeoutError()])
async def test_connection_problems(
    client: RemoteLockClient, remotelock: FakeApi, exception: Exception
) -> None:
    remotelock.reply("GET", "/account", exception=exception)
    with pytest.raises(ApiConnectionError):
        await client.get_account()


# --- 403: renew the token and retry once --------------------------------------------------------------------


async def test_403_renews_the_token_and_retries_once(
    session: aiohttp.ClientSession, remotelock: FakeApi
) -> None:
    tokens = iter([TOKEN])
    refreshed: list[str] = []

    async def get() -> str:
        return next(tokens)

    async def refresh() -> str:
        refreshed.append(NEW_TOKEN)
        return NEW_TOKEN

    client = RemoteLockClient(session, CallbackTokenSource(get, refresh), base_url=API)
    remotelock.reply("GET", "/account", {"message": "expired", "type": "invalid_token"}, status=403)
    remotelock.reply("GET", "/account", fixture("account.json"))
    account = await client.get_account()
    assert account.name == "Ashly Roberts II"
    assert [c.headers["Authorization"] for c in remotelock.calls] == [
        f"Bearer {TOKEN}",
        f"Bearer {NEW_TOKEN}",
    ]
    assert refreshed == [NEW_TOKEN]


async def test_403_again_after_the_renewal_is_an_auth_error(
    session: aiohttp.ClientSession, remotelock: FakeApi
) -> None:
    answers = iter([TOKEN, NEW_TOKEN])

    async def get() -> str:
        return next(answers)

    client = RemoteLockClient(session, get, base_url=API)
    remotelock.reply("GET", "/account", {"message": "expired"}, status=403)
    remotelock.reply("GET", "/account", {"message": f"still {NEW_TOKEN}, was {TOKEN}"}, status=403)
    with pytest.raises(AuthError) as caught:
        await client.get_account()
    assert type(caught.value) is AuthError
    assert caught.value.status == 403
    assert NEW_TOKEN not in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert len(remotelock.calls) == 2


async def test_403_without_a_new_token_is_not_retried(
    session: aiohttp.ClientSession, remotelock: FakeApi
) -> None:
    async def get() -> str:
        return TOKEN

    client = RemoteLockClient(session, get, base_url=API)
    remotelock.reply("GET", "/account", {"message": "expired"}, status=403)
    with pytest.raises(AuthError):
        await client.get_account()
    assert len(remotelock.calls) == 1


async def test_403_with_client_credentials_fetches_a_new_token(
    session: aiohttp.ClientSession, remotelock: FakeApi, fake_api: MakeFake
) -> None:
    oauth = fake_api(OAUTH)
    oauth.reply("POST", "/oauth/token", {"access_token": TOKEN, "expires_in": 7200})
    oauth.reply("POST", "/oauth/token", {"access_token": NEW_TOKEN, "expires_in": 7200})
    auth = ClientCredentialsAuth(session, TOKEN_URL, "app", "secret", clock=lambda: NOW)
    client = RemoteLockClient(session, auth, base_url=API)
    remotelock.reply("GET", "/user", {"message": "revoked"}, status=403)
    remotelock.reply("GET", "/user", fixture("user.json"))
    await client.get_user()
    assert [c.headers["Authorization"] for c in remotelock.calls] == [
        f"Bearer {TOKEN}",
        f"Bearer {NEW_TOKEN}",
    ]


async def test_two_requests_refused_at_once_renew_the_token_once(
    session: aiohttp.ClientSession, remotelock: FakeApi, fake_api: MakeFake
) -> None:
    oauth = fake_api(OAUTH)
    oauth.reply("POST", "/oauth/token", {"access_token": TOKEN, "expires_in": 7200})
    oauth.reply("POST", "/oauth/token", {"access_token": NEW_TOKEN, "expires_in": 7200})
    auth = ClientCredentialsAuth(session, TOKEN_URL, "app", "secret", clock=lambda: NOW)
    client = RemoteLockClient(session, auth, base_url=API)
    await auth.access_token()
    gate = Gate(2)  # both requests are refused only once both are in flight with the first token

    async def refuse_the_first_token(call: Call) -> tuple[int, Any]:
        if call.headers["Authorization"] == f"Bearer {TOKEN}":
            await gate.arrive()
            return 403, {"message": "expired"}
        return 200, {"data": lock_json(call.path.split("/")[2])}

    lock_ids = [LOCK_ID, "9e4b2c1a-0000-4000-8000-000000000002"]
    for lock_id in lock_ids:  # one route per request: aioresponses lets two waiting requests share a reply
        remotelock.reply("GET", f"/devices/{lock_id}", answer=refuse_the_first_token)
        remotelock.reply("GET", f"/devices/{lock_id}", answer=refuse_the_first_token)

    locks = await asyncio.gather(*(client.get_lock(lock_id) for lock_id in lock_ids))

    assert [lock.id for lock in locks] == lock_ids
    assert len(oauth.calls) == 2  # the first token and one renewal for both refusals
    sent = [c.headers["Authorization"] for c in remotelock.calls]
    assert sorted(sent) == sorted([f"Bearer {TOKEN}"] * 2 + [f"Bearer {NEW_TOKEN}"] * 2)


# --- 429 and the rate-limit headers -------------------------------------------------------------------------


async def test_429_reads_the_reset_and_pauses_the_limiter(
    client: RemoteLockClient, remotelock: FakeApi, fake_time: FakeSleep
) -> None:
    headers = {
        "X-RateLimit-Limit": "120",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(NOW) + 42),
    }
    body = {"message": "Your account has exceeded the rate limit. Check the X-RateLimit-* headers."}
    remotelock.reply("GET", "/account", body, status=429, headers=headers)
    remotelock.reply("GET", "/account", fixture("account.json"))
    with pytest.raises(RateLimitedError) as caught:
        await client.get_account()
    assert caught.value.retry_after == 42.0
    assert caught.value.status == 429
    assert "exceeded the rate limit" in str(caught.value)
    assert client.limiter.paused_until == 42.0
    await client.get_account()  # waits for the reset first
    assert fake_time.waits == [42.0]


@pytest.mark.parametrize(
    ("headers", "retry_after", "pause"),
    [
        ({"X-RateLimit-Reset": str(int(NOW) - 5)}, 0.0, None),  # already past: no wait
        (
            {"X-RateLimit-Reset": str(int(NOW) + 86_400)},
            MAX_RESET_WAIT,
            MAX_RESET_WAIT,
        ),  # skewed clock: capped
        ({"X-RateLimit-Reset": "17"}, 17.0, 17.0),  # a small number is a delay, not an instant
        ({"X-RateLimit-Reset": "soon", "Retry-After": "9"}, 9.0, 9.0),
        ({"Retry-After": "3"}, 3.0, 3.0),
        ({}, None, 60.0),  # nothing said: pause one window
    ],
)
async def test_429_reset_variants(
    client: RemoteLockClient,
    remotelock: FakeApi,
    headers: dict[str, str],
    retry_after: float | None,
    pause: float | None,
) -> None:
    remotelock.reply("GET", "/account", {"message": "slow down"}, status=429, headers=headers)
    with pytest.raises(RateLimitedError) as caught:
        await client.get_account()
    assert caught.value.retry_after == retry_after
    assert client.limiter.paused_until == pause


async def test_no_requests_left_pauses_until_the_reset(
    client: RemoteLockClient, remotelock: FakeApi, fake_time: FakeSleep
) -> None:
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 30)}
    remotelock.reply("GET", "/account", fixture("account.json"), headers=headers)
    remotelock.reply("GET", "/account", fixture("account.json"), headers={"X-RateLimit-Remaining": "119"})
    await client.get_account()
    assert client.rate_limit_remaining == 0
    await client.get_account()
    assert fake_time.waits == [30.0]
    assert client.rate_limit_remaining == 119


async def test_requests_wait_for_the_client_side_window(
    session: aiohttp.ClientSession, remotelock: FakeApi, fake_time: FakeSleep
) -> None:
    async def token() -> str:
        return TOKEN

    limiter = SlidingWindowLimiter(2, 60.0, clock=fake_time.clock, sleep=fake_time.sleep)
    client = RemoteLockClient(session, token, base_url=API, limiter=limiter)
    for _ in range(3):
        remotelock.reply("GET", "/account", fixture("account.json"))
    for _ in range(3):
        await client.get_account()
    assert fake_time.waits == [60.0]


# --- webhooks -----------------------------------------------------------------------------------------------

ACCOUNT_ID = "8f85f048-b56d-4ec8-8ccb-a0cbbd85d205"
SUBSCRIBER_ID = "208b6dd9-c46a-423a-bf11-b0335be30bd1"
SUBSCRIPTION_ID = "c74e9f51-3077-482f-b624-5b858d640d33"
HOOK_URL = "https://ha.example.org/api/webhook/kasify-remotelock"
HOOK_SECRET = "whsec_Zq7Rk2Lp9Xv4Mn"  # distinctive, so a leak into a message is easy to spot


def subscriber_json(secret: str = HOOK_SECRET) -> dict[str, Any]:
    return {
        "data": {
            "type": "webhook_notification_subscriber",
            "attributes": {
                "name": "Kasify",
                "url": HOOK_URL,
                "content_type": "json",
                "secret": secret,
                "active": True,
                "created_at": "2026-03-14T12:00:00Z",
                "updated_at": "2026-03-14T12:00:00Z",
            },
            "id": SUBSCRIBER_ID,
            "links": {"self": f"{API}/notification_subscribers/{SUBSCRIBER_ID}"},
        }
    }


def subscription_json(events: tuple[str, ...] = WEBHOOK_EVENTS) -> dict[str, Any]:
    return {
        "data": {
            "type": "notification_subscription",
            "attributes": {
                "events": [{"event_type": event} for event in events],
                "created_at": "2026-03-14T12:00:00Z",
                "updated_at": "2026-03-14T12:00:00Z",
                "subscriber_id": SUBSCRIBER_ID,
                "subscriber_type": "webhook_notification_subscriber",
                "publisher_id": ACCOUNT_ID,
                "publisher_type": "account",
            },
            "id": SUBSCRIPTION_ID,
            "links": {"self": f"{API}/notification_subscriptions/{SUBSCRIPTION_ID}"},
        }
    }


async def test_create_webhook_sends_the_seed_bodies(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("POST", "/notification_subscribers", subscriber_json(), status=201)
    remotelock.reply("POST", "/notification_subscriptions", subscription_json(), status=201)
    webhook = await client.create_webhook(
        name="Kasify", url=HOOK_URL, secret=HOOK_SECRET, publisher_id=ACCOUNT_ID
    )
    assert webhook == WebhookSubscription(subscriber_id=SUBSCRIBER_ID, subscription_id=SUBSCRIPTION_ID)
    subscriber, subscription = remotelock.calls
    assert (subscriber.method, subscriber.path) == ("POST", "/notification_subscribers")
    assert subscriber.json == {
        "type": "webhook_notification_subscriber",
        "attributes": {
            "active": True,
            "name": "Kasify",
            "url": HOOK_URL,
            "content_type": "json",
            "secret": HOOK_SECRET,
        },
    }
    assert (subscription.method, subscription.path) == ("POST", "/notification_subscriptions")
    assert subscription.json == {
        "attributes": {
            "events": [
                {"event_type": "unlocked"},
                {"event_type": "locked"},
                {"event_type": "access_denied"},
                {"event_type": "access_person_used"},
                {"event_type": "access_person_synced"},
                {"event_type": "access_person_sync_failed"},
                {"event_type": "access_guest_late_sync"},
                {"event_type": "power_level_low"},
                {"event_type": "connectivity"},
            ],
            "publisher_type": "account",
            "publisher_id": ACCOUNT_ID,
            "subscriber_type": "webhook_notification_subscriber",
            "subscriber_id": SUBSCRIBER_ID,
        }
    }
    assert subscription.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_create_webhook_with_chosen_events(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("POST", "/notification_subscribers", subscriber_json(), status=201)
    remotelock.reply("POST", "/notification_subscriptions", subscription_json(("unlocked",)), status=201)
    await client.create_webhook(
        name="Kasify", url=HOOK_URL, secret=HOOK_SECRET, publisher_id=ACCOUNT_ID, events=["unlocked"]
    )
    assert remotelock.calls[1].json["attributes"]["events"] == [{"event_type": "unlocked"}]


async def test_webhook_subscriber_read_and_activated(client: RemoteLockClient, remotelock: FakeApi) -> None:
    """One request each: whether RemoteLock still delivers (no secret kept), and turning it on again."""
    inactive = subscriber_json()
    inactive["data"]["attributes"]["active"] = False
    remotelock.reply("GET", f"/notification_subscribers/{SUBSCRIBER_ID}", inactive)
    remotelock.reply("PUT", f"/notification_subscribers/{SUBSCRIBER_ID}", subscriber_json())
    subscriber = await client.get_webhook_subscriber(SUBSCRIBER_ID)
    assert subscriber == WebhookSubscriber(id=SUBSCRIBER_ID, active=False, url=HOOK_URL)
    assert HOOK_SECRET not in repr(subscriber)
    assert (await client.activate_webhook_subscriber(SUBSCRIBER_ID, url=HOOK_URL)).active
    put = remotelock.calls[-1]
    assert (put.method, put.json) == ("PUT", {"attributes": {"active": True, "url": HOOK_URL}})

    remotelock.reply("GET", "/notification_subscribers/gone", {"message": "Not found"}, status=404)
    with pytest.raises(NotFoundError):
        await client.get_webhook_subscriber("gone")
    refusal = {"errors": [{"attribute": "url", "messages": [f"{HOOK_URL} is not reachable"]}]}
    remotelock.reply("PUT", f"/notification_subscribers/{SUBSCRIBER_ID}", refusal, status=422)
    with pytest.raises(ValidationError) as caught:
        await client.activate_webhook_subscriber(SUBSCRIBER_ID, url=HOOK_URL)
    assert HOOK_URL not in str(caught.value)
    assert HOOK_URL not in str(caught.value.fields)


async def test_a_refused_subscription_rolls_the_subscriber_back(
    client: RemoteLockClient, remotelock: FakeApi
) -> None:
    refusal = {
        "attributes": {"events": [{"event_type": "teleported"}], "secret": HOOK_SECRET},
        "errors": [{"attribute": "events", "messages": ["teleported is not a valid event type"]}],
    }
    remotelock.reply("POST", "/notification_subscribers", subscriber_json(), status=201)
    remotelock.reply("POST", "/notification_subscriptions", refusal, status=422)
    remotelock.reply("DELETE", f"/notification_subscribers/{SUBSCRIBER_ID}", status=204)
    with pytest.raises(ValidationError) as caught:
        await client.create_webhook(
            name="Kasify", url=HOOK_URL, secret=HOOK_SECRET, publisher_id=ACCOUNT_ID, events=["teleported"]
        )
    assert caught.value.fields == {"events": ["teleported is not a valid event type"]}
    assert [(c.method, c.path) for c in remotelock.calls] == [
        ("POST", "/notification_subscribers"),
        ("POST", "/notification_subscriptions"),
        ("DELETE", f"/notification_subscribers/{SUBSCRIBER_ID}"),
    ]


@pytest.mark.parametrize("rollback_status", [404, 500])
async def test_the_subscription_error_wins_over_a_failed_rollback(
    client: RemoteLockClient, remotelock: FakeApi, rollback_status: int
) -> None:
    remotelock.reply("POST", "/notification_subscribers", subscriber_json(), status=201)
    remotelock.reply("POST", "/notification_subscriptions", {"message": "Boom"}, status=503)
    remotelock.reply(
        "DELETE", f"/notification_subscribers/{SUBSCRIBER_ID}", {"message": "x"}, status=rollback_status
    )
    with pytest.raises(ServerError, match="POST /notification_subscriptions: HTTP 503"):
        await client.create_webhook(name="Kasify", url=HOOK_URL, secret=HOOK_SECRET, publisher_id=ACCOUNT_ID)
    assert len(remotelock.calls) == 3


async def test_a_malformed_subscription_answer_also_rolls_back(
    client: RemoteLockClient, remotelock: FakeApi
) -> None:
    remotelock.reply("POST", "/notification_subscribers", subscriber_json(), status=201)
    remotelock.reply("POST", "/notification_subscriptions", {"data": {"type": "x"}}, status=201)
    remotelock.reply("DELETE", f"/notification_subscribers/{SUBSCRIBER_ID}", status=204)
    with pytest.raises(MalformedResponseError):
        await client.create_webhook(name="Kasify", url=HOOK_URL, secret=HOOK_SECRET, publisher_id=ACCOUNT_ID)
    assert remotelock.calls[-1].method == "DELETE"


async def test_a_refused_url_is_a_validation_error_without_the_secret(
    client: RemoteLockClient, remotelock: FakeApi
) -> None:
    body = {
        "attributes": {"url": "http://ha.example.org/hook", "secret": HOOK_SECRET},
        "errors": [
            {
                "attribute": "url",
                "messages": ["must be a secure (HTTPS) URL"],
                "full_messages": ["url must be a secure (HTTPS) URL"],
            },
            {"attribute": "secret", "messages": [f"{HOOK_SECRET} is odd"]},
        ],
    }
    remotelock.reply("POST", "/notification_subscribers", body, status=422)
    with pytest.raises(ValidationError) as caught:
        await client.create_webhook(
            name="Kasify", url="http://ha.example.org/hook", secret=HOOK_SECRET, publisher_id=ACCOUNT_ID
        )
    error = caught.value
    assert error.status == 422
    assert error.fields["url"] == ["must be a secure (HTTPS) URL"]
    assert error.fields["secret"] == ["*** is odd"]
    assert "url must be a secure (HTTPS) URL" in str(error)
    assert HOOK_SECRET not in str(error)
    assert HOOK_SECRET not in repr(error.args)
    assert HOOK_SECRET not in json.dumps(error.fields)
    assert len(remotelock.calls) == 1  # no subscription, nothing to roll back


async def test_delete_webhook(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("DELETE", f"/notification_subscriptions/{SUBSCRIPTION_ID}", status=204)
    remotelock.reply("DELETE", f"/notification_subscribers/{SUBSCRIBER_ID}", status=204)
    await client.delete_webhook(WebhookSubscription(SUBSCRIBER_ID, SUBSCRIPTION_ID))
    assert [(c.method, c.path) for c in remotelock.calls] == [
        ("DELETE", f"/notification_subscriptions/{SUBSCRIPTION_ID}"),
        ("DELETE", f"/notification_subscribers/{SUBSCRIBER_ID}"),
    ]


async def test_delete_webhook_that_is_gone_already(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply(
        "DELETE", f"/notification_subscriptions/{SUBSCRIPTION_ID}", {"message": "gone"}, status=404
    )
    remotelock.reply("DELETE", f"/notification_subscribers/{SUBSCRIBER_ID}", {"message": "gone"}, status=404)
    await client.delete_webhook(WebhookSubscription(SUBSCRIBER_ID, SUBSCRIPTION_ID))
    assert len(remotelock.calls) == 2


async def test_delete_webhook_raises_other_errors(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("DELETE", f"/notification_subscriptions/{SUBSCRIPTION_ID}", status=204)
    remotelock.reply("DELETE", f"/notification_subscribers/{SUBSCRIBER_ID}", {"message": "no"}, status=401)
    with pytest.raises(PermissionDeniedError):
        await client.delete_webhook(WebhookSubscription(SUBSCRIBER_ID, SUBSCRIPTION_ID))


async def test_webhook_ids_are_quoted(client: RemoteLockClient, remotelock: FakeApi) -> None:
    remotelock.reply("DELETE", "/notification_subscriptions/a%2F..%2Fb", status=204)
    remotelock.reply("DELETE", "/notification_subscribers/c%3Fd", status=204)
    await client.delete_webhook(WebhookSubscription("c?d", "a/../b"))
    assert len(remotelock.calls) == 2
