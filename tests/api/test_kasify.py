"""Tests for the Kasify API client: requests sent, models returned, errors raised."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from functools import partial
import json
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from multidict import CIMultiDict
import pytest

from custom_components.kasify.api.errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from custom_components.kasify.api.kasify import (
    KasifyClient,
    TaskNotUpdatedError,
    gather_bounded,
    retry_after_seconds,
)
from custom_components.kasify.api.models import (
    AccessCode,
    BookingStatus,
    EndpointNotUnderstood,
    LockStatus,
    SmartLock,
    SmartLockInfo,
    TaskStatus,
)

from .conftest import MakeFake
from .fake_api import FakeApi, load_fixture as load_vendor_fixture

BASE_URL = "https://api.kasify.test/v1"
TOKEN = "kfy_live_9F8e7D6c5B4a3F2e1D0c"  # distinctive, so a leak into a message is easy to spot
PROPERTY_ID = "6f1c2a34-1b2c-4d5e-8f90-0a1b2c3d4e5f"
BOOKING_ID = "b0000000-0000-4000-8000-000000000001"
TASK_ID = "7a5c0000-0000-4000-8000-000000000001"
MADRID = ZoneInfo("Europe/Madrid")


def load_fixture(name: str) -> Any:
    """Decode ``tests/fixtures/kasify/<name>``."""
    return load_vendor_fixture("kasify", name)


@pytest.fixture
def kasify(fake_api: MakeFake) -> FakeApi:
    """The scripted Kasify API; every request must carry the token."""
    return fake_api(BASE_URL, headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture
def client(session: aiohttp.ClientSession, kasify: FakeApi) -> KasifyClient:
    """A client against the scripted server."""
    return KasifyClient(session, BASE_URL, TOKEN)


def booking_json(booking_id: str = BOOKING_ID, **overrides: Any) -> dict[str, Any]:
    """A booking as the API returns it."""
    return {
        "id": booking_id,
        "property_id": PROPERTY_ID,
        "guest_name": "Ada Lovelace",
        "guest_email": "ada@example.com",
        "guest_phone": "+34 600 000 000",
        "check_in": "2026-11-25T15:00:00Z",
        "check_out": "2026-11-28T11:00:00+01:00",
        "status": "confirmed",
        "channel": "airbnb",
        "guests_count": 2,
        "registered_guests": 1,
        "notes": "Late arrival",
        "external_reference": "HMABCDEF",
        "created_at": "2026-10-01T09:00:00Z",
        "updated_at": "2026-10-02T09:00:00Z",
    } | overrides


def task_json(task_id: str = TASK_ID, **overrides: Any) -> dict[str, Any]:
    """A task as the API returns it."""
    return {
        "id": task_id,
        "property_id": PROPERTY_ID,
        "title": "Clean after checkout",
        "description": "Towels and sheets",
        "task_type": "cleaning",
        "status": "in_progress",
        "due_at": "2026-11-28T14:00:00+01:00",
        "assignee_id": "c1ea0e25-0000-4000-8000-000000000002",
        "booking_id": BOOKING_ID,
        "created_at": "2026-11-20T10:00:00Z",
        "started_at": "2026-11-28T11:30:00Z",
        "completed_at": None,
    } | overrides


def paged(key: str, items: list[dict[str, Any]], *, page: int, total: int | None) -> dict[str, Any]:
    """One page of a paginated list response."""
    body: dict[str, Any] = {key: items, "page": page, "size": 100}
    if total is not None:
        body["total"] = total
    return body


def minimal_properties(start: int, stop: int) -> list[dict[str, Any]]:
    """Properties ``p-<start>`` .. ``p-<stop - 1>`` with only the required fields."""
    return [{"id": f"p-{i:03d}", "name": f"Property {i}"} for i in range(start, stop)]


# --- transport ------------------------------------------------------------------------------------


async def test_every_request_carries_the_bearer_token_and_asks_for_json(
    client: KasifyClient, kasify: FakeApi
) -> None:
    kasify.reply("GET", "/account", {"id": "acc-1", "name": "Casa Azul Rentals"})

    await client.get_account()

    call = kasify.call
    assert call.method == "GET"
    assert call.path == "/account"
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.headers["Accept"] == "application/json"
    assert call.timeout_total == 15.0


async def test_base_url_trailing_slash_and_timeout_are_honoured(
    session: aiohttp.ClientSession, kasify: FakeApi
) -> None:
    client = KasifyClient(session, BASE_URL + "/", TOKEN, timeout=4.5)
    kasify.reply("GET", "/account", {"id": "acc-1"})

    await client.get_account()

    assert client.base_url == BASE_URL
    assert kasify.call.path == "/account"
    assert kasify.call.timeout_total == 4.5


async def test_ids_are_quoted_as_a_single_path_segment(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/tasks/a%2F..%2Fb%20c", task_json("a/../b c"))

    task = await client.get_task("a/../b c")

    assert kasify.call.path == "/tasks/a%2F..%2Fb%20c"
    assert task.id == "a/../b c"


@pytest.mark.parametrize("task_id", ["..", ".", ""])
async def test_dot_segments_never_reach_a_path(client: KasifyClient, kasify: FakeApi, task_id: str) -> None:
    with pytest.raises(ValueError, match="cannot be used as an id"):
        await client.start_task(task_id)
    assert kasify.calls == []


# --- account and properties -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"id": "acc-1", "name": "Casa Azul Rentals", "email": "ops@example.com"}, "Casa Azul Rentals"),
        ({"id": "acc-1", "name": None, "email": "ops@example.com"}, "ops@example.com"),
        ({"id": "acc-1"}, "acc-1"),
    ],
)
async def test_get_account_names_the_account(
    client: KasifyClient, kasify: FakeApi, body: dict[str, Any], name: str
) -> None:
    kasify.reply("GET", "/account", body | {"language": "es", "timezone": "Europe/Madrid"})

    account = await client.get_account()

    assert account.id == "acc-1"
    assert account.name == name
    assert account.email == body.get("email")
    assert account.timezone == "Europe/Madrid"


async def test_list_properties_parses_the_seed_example(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/properties", load_fixture("seed_properties_page.json"))

    properties = await client.list_properties()

    assert kasify.call.query == {"page": "0", "size": "100"}
    assert len(properties) == 1
    prop = properties[0]
    assert prop.id == "00000000-0000-0000-0000-000000000000"
    assert (prop.name, prop.address, prop.city, prop.zip_code, prop.country) == (
        "name",
        "address",
        "city",
        "zip_code",
        "country",
    )
    assert prop.full_address == "address, zip_code city, country"
    assert prop.has_internet is True
    assert prop.rooms_count == 0
    assert prop.role == "role"
    assert prop.cover_image_url == "cover_image_url"
    assert prop.default_cleaner is not None
    assert prop.default_cleaner.full_name == "name last_name"
    assert prop.default_cleaner.access_level == "access_level"
    assert prop.default_cleaner.service == "service"
    (calendar,) = prop.calendars
    assert calendar.channel == "channel"
    assert calendar.url == "url"
    assert calendar.sync_interval_minutes == 0
    assert calendar.last_sync_at == date(2024, 8, 25)
    assert calendar.last_error == "lastError"
    assert prop.smart_locks == (
        SmartLockInfo(id="00000000-0000-0000-0000-000000000000", vendor="vendor", name="name"),
    )
    (member,) = prop.team
    assert (member.name, member.last_name, member.email) == ("name", "last_name", "email")


async def test_a_property_parses_every_documented_field(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply(
        "GET", "/properties", paged("properties", [load_fixture("property_casa_azul.json")], page=0, total=1)
    )

    (prop,) = await client.list_properties()

    assert prop.id == PROPERTY_ID
    assert prop.account_id == "a0c0ffee-0000-4000-8000-000000000001"
    assert prop.name == "Casa Azul"
    assert prop.full_address == "Calle del Mar 12, 46011 Valencia, ES"
    assert prop.rooms_count == 3
    assert prop.has_internet is True
    assert prop.role == "owner"
    assert prop.default_cleaner is not None
    assert prop.default_cleaner.full_name == "Lucía Martínez"
    assert prop.default_cleaner.email == "lucia@example.com"
    airbnb, booking = prop.calendars
    assert (airbnb.channel, airbnb.sync_interval_minutes, airbnb.last_error) == ("airbnb", 30, None)
    assert airbnb.last_sync_at == date(2026, 11, 25)  # a full date-time is cut to its date
    assert (booking.channel, booking.sync_interval_minutes) == ("booking", 60)
    assert booking.last_sync_at == date(2026, 11, 24)
    assert booking.last_error == "HTTP 503 from channel"
    assert [(lock.vendor, lock.name) for lock in prop.smart_locks] == [
        ("nuki", "Front door"),
        ("unifi", "Garage"),
    ]
    assert [(m.full_name, m.access_level) for m in prop.team] == [
        ("Lucía Martínez", "cleaner"),
        ("Pau", "manager"),
    ]
    assert prop.team[1].email is None


async def test_property_with_only_required_fields(client: KasifyClient, kasify: FakeApi) -> None:
    only_required = {"id": "p-1", "name": "Loft", "brand_new_field": {"x": [1]}}
    kasify.reply("GET", "/properties", paged("properties", [only_required], page=0, total=1))

    (prop,) = await client.list_properties()

    assert (prop.id, prop.name) == ("p-1", "Loft")
    assert prop.full_address is None
    assert prop.default_cleaner is None
    assert (prop.calendars, prop.smart_locks, prop.team) == ((), (), ())
    assert (prop.rooms_count, prop.has_internet, prop.country) == (None, None, None)


async def test_list_smart_locks_maps_provider_ids_and_status(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", f"/properties/{PROPERTY_ID}/smartlocks", load_fixture("smartlocks_casa_azul.json"))

    front, garage, back = await client.list_smart_locks(PROPERTY_ID)

    assert kasify.call.path == f"/properties/{PROPERTY_ID}/smartlocks"
    assert kasify.call.query == {}
    assert front.vendor == "nuki"
    assert front.provider_lock_id == "17894563210"  # a numeric Nuki id becomes text
    assert front.device_key == "nuki_17894563210"
    assert (front.lock_state, front.status) == (1, LockStatus.LOCKED)
    assert (front.battery_level, front.battery_charging, front.offline) == (82, False, False)
    assert front.property_id == PROPERTY_ID
    assert garage.vendor == "unifi"  # lower-cased
    assert garage.provider_lock_id == "door-7c3e"
    assert garage.status is LockStatus.UNLOCKED
    assert (garage.battery_level, garage.battery_charging) == (None, None)
    assert back.provider_lock_id == "17894563999"
    assert back.status is LockStatus.UNKNOWN  # lock_state null: the provider did not answer
    assert (back.offline, back.battery_level, back.battery_charging) == (True, 9, True)


async def test_list_smart_locks_parses_the_seed_example(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/properties/p-1/smartlocks", load_fixture("seed_smartlocks.json"))

    (lock,) = await client.list_smart_locks("p-1")

    assert lock.id == "00000000-0000-0000-0000-000000000000"
    assert (lock.vendor, lock.name) == ("vendor", "name")
    assert lock.provider_lock_id == "nuki_smartlock_id"
    assert lock.lock_state == 0
    assert lock.status is LockStatus.UNKNOWN  # 0 = uncalibrated
    assert (lock.battery_level, lock.battery_charging, lock.offline) == (0, True, True)


async def test_list_smart_locks_empty(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/properties/p-1/smartlocks", [])

    assert await client.list_smart_locks("p-1") == []


# --- pagination -----------------------------------------------------------------------------------


async def test_pagination_follows_every_page(client: KasifyClient, kasify: FakeApi) -> None:
    for page, (start, stop) in enumerate([(0, 100), (100, 200), (200, 250)]):
        kasify.reply(
            "GET", "/properties", paged("properties", minimal_properties(start, stop), page=page, total=250)
        )

    properties = await client.list_properties()

    assert [p.id for p in properties] == [f"p-{i:03d}" for i in range(250)]
    assert [call.query for call in kasify.calls] == [
        {"page": "0", "size": "100"},
        {"page": "1", "size": "100"},
        {"page": "2", "size": "100"},
    ]


async def test_pagination_stops_on_a_short_page_without_total(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/properties", paged("properties", minimal_properties(0, 100), page=0, total=None))
    kasify.reply("GET", "/properties", paged("properties", minimal_properties(100, 130), page=1, total=None))

    properties = await client.list_properties()

    assert len(properties) == 130
    assert len(kasify.calls) == 2


async def test_pagination_stops_when_total_is_reached(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/properties", paged("properties", minimal_properties(0, 100), page=0, total=200))
    kasify.reply("GET", "/properties", paged("properties", minimal_properties(100, 200), page=1, total=200))

    properties = await client.list_properties()

    assert len(properties) == 200
    assert len(kasify.calls) == 2  # no request for an empty third page


async def test_pagination_follows_total_when_the_server_caps_the_page_size(
    client: KasifyClient, kasify: FakeApi
) -> None:
    """A server that answers 50 per page (below the 100 asked) still gives every item."""
    for page, (start, stop) in enumerate([(0, 50), (50, 100), (100, 120)]):
        kasify.reply(
            "GET", "/properties", paged("properties", minimal_properties(start, stop), page=page, total=120)
        )

    properties = await client.list_properties()

    assert len(properties) == 120
    assert len(kasify.calls) == 3


async def test_pagination_stops_on_an_empty_page_even_if_total_is_wrong(
    client: KasifyClient, kasify: FakeApi
) -> None:
    kasify.reply("GET", "/properties", paged("properties", minimal_properties(0, 100), page=0, total=500))
    # The pages the total promises are asked for together (some maybe before the empty one is in).
    kasify.reply("GET", "/properties", paged("properties", [], page=1, total=500), repeat=True)

    assert len(await client.list_properties()) == 100
    assert 2 <= len(kasify.calls) <= 5


async def test_pagination_of_an_empty_list(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/properties", paged("properties", [], page=0, total=0))

    assert await client.list_properties() == []
    assert len(kasify.calls) == 1


async def test_pagination_refuses_a_page_without_its_list(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/properties", {"items": [], "page": 0, "size": 100, "total": 0})

    with pytest.raises(MalformedResponseError, match=r"GET /properties\.properties: missing"):
        await client.list_properties()


async def test_a_bad_item_on_a_later_page_names_page_and_field(client: KasifyClient, kasify: FakeApi) -> None:
    second = minimal_properties(100, 150)
    second[7]["name"] = ["not", "a", "name"]
    kasify.reply("GET", "/properties", paged("properties", minimal_properties(0, 100), page=0, total=150))
    kasify.reply("GET", "/properties", paged("properties", second, page=1, total=150))

    with pytest.raises(MalformedResponseError, match=r"properties\[7\]\.name: expected a string, got list"):
        await client.list_properties()


# --- bookings -------------------------------------------------------------------------------------


async def test_list_bookings_sends_the_window_as_iso_8601(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/bookings", paged("bookings", [booking_json()], page=0, total=1))

    (booking,) = await client.list_bookings(
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=MADRID)
    )

    assert kasify.call.query == {
        "from": "2026-11-01T00:00:00+00:00",
        "to": "2026-12-01T00:00:00+01:00",
        "page": "0",
        "size": "100",
    }
    assert "%2B01:00" in kasify.call.raw_query  # a literal "+" would reach the server as a space
    assert booking.id == BOOKING_ID
    assert booking.property_id == PROPERTY_ID
    assert booking.guest_name == "Ada Lovelace"
    assert booking.check_in == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert booking.check_out == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert booking.check_out.utcoffset() == timedelta(hours=1)
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.channel == "airbnb"
    assert (booking.guests_count, booking.registered_guests) == (2, 1)
    assert (booking.guest_email, booking.guest_phone) == ("ada@example.com", "+34 600 000 000")
    assert (booking.notes, booking.external_reference) == ("Late arrival", "HMABCDEF")


async def test_list_property_bookings_keeps_the_window_on_every_page(
    client: KasifyClient, kasify: FakeApi
) -> None:
    path = f"/properties/{PROPERTY_ID}/bookings"
    first = [booking_json(f"b-{i:03d}") for i in range(100)]
    kasify.reply("GET", path, paged("bookings", first, page=0, total=101))
    kasify.reply(
        "GET", path, paged("bookings", [booking_json("b-100", status="cancelled")], page=1, total=101)
    )

    bookings = await client.list_property_bookings(
        PROPERTY_ID, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC)
    )

    assert len(bookings) == 101
    assert bookings[-1].status is BookingStatus.CANCELLED
    assert not bookings[-1].active
    window = {"from": "2026-11-01T00:00:00+00:00", "to": "2026-11-08T00:00:00+00:00"}
    assert [call.query for call in kasify.calls] == [
        window | {"page": "0", "size": "100"},
        window | {"page": "1", "size": "100"},
    ]


async def test_booking_with_only_required_fields(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply(
        "GET",
        "/bookings/b-1",
        {"id": "b-1", "property_id": "p-1", "check_in": "2026-11-25T15:00:00", "check_out": "2026-11-26"},
    )

    booking = await client.get_booking("b-1")

    assert booking.check_in == datetime(2026, 11, 25, 15, tzinfo=UTC)  # naive is taken as UTC
    assert booking.check_out == datetime(2026, 11, 26, tzinfo=UTC)
    # No status is not "confirmed": it is one the integration does not know.
    assert (booking.guest_name, booking.status, booking.registered_guests) == ("", BookingStatus.UNKNOWN, 0)
    assert (booking.channel, booking.guests_count, booking.notes) == (None, None, None)


@pytest.mark.parametrize(
    ("optional", "expected_extra"),
    [
        ({}, {}),
        (
            {
                "guests_count": 3,
                "guest_email": "g@example.com",
                "guest_phone": "+1 555",
                "channel": "direct",
                "notes": "Cot",
            },
            {
                "guests_count": 3,
                "guest_email": "g@example.com",
                "guest_phone": "+1 555",
                "channel": "direct",
                "notes": "Cot",
            },
        ),
        ({"guests_count": 0, "notes": ""}, {"guests_count": 0, "notes": ""}),  # falsy values are still sent
    ],
    ids=["required-only", "everything", "falsy-values"],
)
async def test_create_booking_sends_only_the_given_fields(
    client: KasifyClient, kasify: FakeApi, optional: dict[str, Any], expected_extra: dict[str, Any]
) -> None:
    kasify.reply(
        "POST", f"/properties/{PROPERTY_ID}/bookings", booking_json(guest_name="Grace Hopper"), status=201
    )

    booking = await client.create_booking(
        PROPERTY_ID,
        guest_name="Grace Hopper",
        check_in=datetime(2026, 12, 20, 16, tzinfo=MADRID),
        check_out=datetime(2026, 12, 27, 10, tzinfo=MADRID),
        **optional,
    )

    assert kasify.call.method == "POST"
    assert (
        kasify.call.json
        == {
            "guest_name": "Grace Hopper",
            "check_in": "2026-12-20T16:00:00+01:00",
            "check_out": "2026-12-27T10:00:00+01:00",
        }
        | expected_extra
    )
    assert booking.guest_name == "Grace Hopper"


async def test_create_booking_overlap_is_a_conflict(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply(
        "POST",
        "/properties/p-1/bookings",
        {"error": "overlap", "message": "Overlaps booking b-9"},
        status=409,
    )

    with pytest.raises(ConflictError, match="Overlaps booking b-9") as caught:
        await client.create_booking(
            "p-1",
            guest_name="Grace Hopper",
            check_in=datetime(2026, 12, 20, tzinfo=UTC),
            check_out=datetime(2026, 12, 21, tzinfo=UTC),
        )
    assert caught.value.status == 409


async def test_guest_contact_details_echoed_in_an_error_are_redacted(
    client: KasifyClient, kasify: FakeApi
) -> None:
    body = {
        "message": "Invalid contact for grace@example.com",
        "fields": {"guest_email": ["grace@example.com is taken"], "guest_phone": ["+34600111222 is invalid"]},
    }
    kasify.reply("POST", "/properties/p-1/bookings", body, status=422)

    with pytest.raises(ValidationError) as caught:
        await client.create_booking(
            "p-1",
            guest_name="Grace Hopper",
            check_in=datetime(2026, 12, 20, tzinfo=UTC),
            check_out=datetime(2026, 12, 21, tzinfo=UTC),
            guest_email="grace@example.com",
            guest_phone="+34600111222",
        )
    assert str(caught.value).endswith(": Invalid contact for ***")
    assert caught.value.fields == {"guest_email": ["*** is taken"], "guest_phone": ["*** is invalid"]}


async def test_an_access_code_echoed_in_an_error_is_redacted(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("POST", f"/bookings/{BOOKING_ID}/access-codes", {"message": "Code 2468 in use"}, status=409)

    with pytest.raises(ConflictError) as caught:
        await client.create_access_codes(BOOKING_ID, code="2468")
    assert str(caught.value).endswith(": Code *** in use")


# --- calendar, check-in, access codes -------------------------------------------------------------


async def test_create_access_codes(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply(
        "POST",
        f"/bookings/{BOOKING_ID}/access-codes",
        {
            "access_codes": [
                {
                    "id": "ac-1",
                    "booking_id": BOOKING_ID,
                    "smartlock_id": "lock-1",
                    "name": "Ada Lovelace",
                    "code": "482913",
                    "starts_at": "2026-11-25T15:00:00Z",
                    "ends_at": "2026-11-28T11:00:00Z",
                    "status": "active",
                }
            ]
        },
        status=201,
    )

    codes = await client.create_access_codes(
        BOOKING_ID, smartlock_ids=["lock-1"], starts_at=datetime(2026, 11, 25, 15, tzinfo=UTC), code="482913"
    )

    assert kasify.call.json == {
        "smartlock_ids": ["lock-1"],
        "starts_at": "2026-11-25T15:00:00+00:00",
        "code": "482913",
    }
    assert codes == [
        AccessCode(
            id="ac-1",
            booking_id=BOOKING_ID,
            lock_id="lock-1",
            name="Ada Lovelace",
            code="482913",
            starts_at=datetime(2026, 11, 25, 15, tzinfo=UTC),
            ends_at=datetime(2026, 11, 28, 11, tzinfo=UTC),
            status="active",
        )
    ]


async def test_create_access_codes_with_defaults_sends_an_empty_body(
    client: KasifyClient, kasify: FakeApi
) -> None:
    kasify.reply("POST", "/bookings/b-1/access-codes", {"access_codes": []}, status=201)

    assert await client.create_access_codes("b-1") == []
    assert kasify.call.json == {}


async def test_revoke_access_code(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("DELETE", f"/bookings/{BOOKING_ID}/access-codes/ac-1", status=204)

    await client.revoke_access_code(BOOKING_ID, "ac-1")

    assert kasify.call.method == "DELETE"
    assert kasify.call.json is None


# --- tasks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "status_query"),
    [({}, {"status": "open"}), ({"status": "completed"}, {"status": "completed"}), ({"status": None}, {})],
    ids=["default-open", "completed", "all"],
)
async def test_list_tasks_filters_by_status(
    client: KasifyClient, kasify: FakeApi, kwargs: dict[str, Any], status_query: dict[str, str]
) -> None:
    kasify.reply("GET", "/tasks", paged("tasks", [task_json()], page=0, total=1))

    (task,) = await client.list_tasks(**kwargs)

    assert kasify.call.query == status_query | {"page": "0", "size": "100"}
    assert task.id == TASK_ID
    assert task.property_id == PROPERTY_ID
    assert task.title == "Clean after checkout"
    assert task.description == "Towels and sheets"
    assert task.task_type == "cleaning"
    assert task.status is TaskStatus.IN_PROGRESS
    assert task.open
    assert task.due_at == datetime(2026, 11, 28, 13, tzinfo=UTC)
    assert task.assignee_id == "c1ea0e25-0000-4000-8000-000000000002"
    assert task.booking_id == BOOKING_ID


async def test_list_property_tasks(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", f"/properties/{PROPERTY_ID}/tasks", paged("tasks", [], page=0, total=0))

    assert await client.list_property_tasks(PROPERTY_ID) == []
    assert kasify.call.query == {"status": "open", "page": "0", "size": "100"}


async def test_task_defaults_when_optional_fields_are_missing(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/tasks/t-1", {"id": "t-1", "property_id": "p-1"})

    task = await client.get_task("t-1")

    assert (task.title, task.status, task.task_type) == ("", TaskStatus.PENDING, "other")
    assert (task.due_at, task.assignee_id, task.booking_id, task.description) == (None, None, None, None)


@pytest.mark.parametrize(
    ("optional", "expected_extra"),
    [
        ({}, {}),
        (
            {
                "description": "Check the boiler",
                "task_type": "maintenance",
                "due_at": datetime(2026, 12, 1, 9, tzinfo=MADRID),
                "assignee_id": "u-1",
                "booking_id": "b-1",
            },
            {
                "description": "Check the boiler",
                "task_type": "maintenance",
                "due_at": "2026-12-01T09:00:00+01:00",
                "assignee_id": "u-1",
                "booking_id": "b-1",
            },
        ),
    ],
    ids=["required-only", "everything"],
)
async def test_create_task_sends_only_the_given_fields(
    client: KasifyClient, kasify: FakeApi, optional: dict[str, Any], expected_extra: dict[str, Any]
) -> None:
    kasify.reply("POST", "/tasks", task_json(status="pending", title="Boiler"), status=201)

    task = await client.create_task(PROPERTY_ID, title="Boiler", **optional)

    assert kasify.call.json == {"property_id": PROPERTY_ID, "title": "Boiler"} | expected_extra
    assert (task.title, task.status) == ("Boiler", TaskStatus.PENDING)


@pytest.mark.parametrize(
    ("action", "path", "status"),
    [("start_task", "start", "in_progress"), ("complete_task", "complete", "completed")],
)
async def test_task_transitions(
    client: KasifyClient, kasify: FakeApi, action: str, path: str, status: str
) -> None:
    kasify.reply("POST", f"/tasks/{TASK_ID}/{path}", task_json(status=status))

    task = await getattr(client, action)(TASK_ID)

    assert kasify.call.method == "POST"
    assert kasify.call.json is None
    assert task.status == status


async def test_task_transition_not_allowed_is_a_conflict(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply(
        "POST",
        "/tasks/t-1/complete",
        {"error": "invalid_transition", "message": "Already completed"},
        status=409,
    )

    with pytest.raises(ConflictError, match="Already completed"):
        await client.complete_task("t-1")


SINCE = datetime(2026, 11, 21, 12, tzinfo=UTC)


def _done(
    task_id: str, completed_at: str | None = "2026-11-25T10:00:00Z", **overrides: Any
) -> dict[str, Any]:
    return task_json(task_id, status="completed", completed_at=completed_at, **overrides)


async def test_read_completed_tasks_follows_pages(client: KasifyClient, kasify: FakeApi) -> None:
    """``status=completed&completed_since``: every page of an answer that keeps to the filter."""
    first = [_done(f"t{i}") for i in range(100)]
    kasify.reply("GET", "/tasks", paged("tasks", first, page=0, total=101))
    kasify.reply("GET", "/tasks", paged("tasks", [_done("last")], page=1, total=101))

    tasks, off = await client.read_completed_tasks(SINCE)

    assert off is None
    assert len(tasks) == 101
    assert tasks[0].completed_at == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert kasify.calls[0].query == {
        "status": "completed",
        "completed_since": "2026-11-21T12:00:00+00:00",
        "page": "0",
        "size": "100",
    }
    assert kasify.calls[1].query["page"] == "1"


@pytest.mark.parametrize(
    "stray",
    [
        _done("old", completed_at="2026-11-01T10:00:00Z"),
        _done("when", completed_at=None),
        task_json("open", status="pending"),
    ],
    ids=["completed-before", "no-completed-at", "not-completed"],
)
async def test_read_completed_tasks_filter_not_applied(
    client: KasifyClient, kasify: FakeApi, stray: dict[str, Any]
) -> None:
    """An answer listing a task the filter leaves out: nothing of it is used, no second page is read, and
    the feature is off with HTTP 200 as the reason."""
    kasify.reply(
        "GET",
        "/tasks",
        paged("tasks", [_done("ok"), stray, *[_done(f"x{i}") for i in range(98)]], page=0, total=500),
    )

    tasks, off = await client.read_completed_tasks(SINCE)

    assert tasks == []
    assert off == EndpointNotUnderstood("GET /tasks?status=completed&completed_since", 200)
    assert len(kasify.calls) == 1


@pytest.mark.parametrize(("status", "off"), [(400, True), (404, True), (422, False), (503, False)])
async def test_read_completed_tasks_errors(
    client: KasifyClient, kasify: FakeApi, status: int, off: bool
) -> None:
    """404 and 400: the feature is off; any other failure is raised."""
    kasify.reply("GET", "/tasks", {"error": "x", "message": "no"}, status=status)
    if off:
        assert await client.read_completed_tasks(SINCE) == (
            [],
            EndpointNotUnderstood("GET /tasks?status=completed&completed_since", status),
        )
    else:
        with pytest.raises(ApiError):
            await client.read_completed_tasks(SINCE)


async def test_update_task_sends_the_changes_and_checks_the_answer(
    client: KasifyClient, kasify: FakeApi
) -> None:
    """Only the given fields; ``None`` clears; instants in ISO-8601; an answer without a change is refused."""
    due = datetime(2026, 12, 1, 9, tzinfo=MADRID)
    kasify.reply(
        "PATCH", f"/tasks/{TASK_ID}", task_json(title="New", due_at="2026-12-01T08:00:00Z", description=None)
    )
    task = await client.update_task(TASK_ID, {"title": "New", "due_at": due, "description": None})
    assert kasify.call.json == {"title": "New", "due_at": "2026-12-01T09:00:00+01:00", "description": None}
    assert (task.title, task.due_at, task.description) == ("New", due, None)

    kasify.reply("PATCH", f"/tasks/{TASK_ID}", task_json())
    with pytest.raises(TaskNotUpdatedError, match="without the change to task_type, title"):
        await client.update_task(TASK_ID, {"title": "New", "task_type": "inspection"})
    with pytest.raises(ValueError, match="status"):
        await client.update_task(TASK_ID, {"status": "completed"})


async def test_delete_task(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("DELETE", f"/tasks/{TASK_ID}", status=204)
    await client.delete_task(TASK_ID)
    assert (kasify.call.method, kasify.call.json) == ("DELETE", None)
    kasify.reply("DELETE", f"/tasks/{TASK_ID}", {"error": "not_found", "message": "gone"}, status=404)
    with pytest.raises(NotFoundError):
        await client.delete_task(TASK_ID)


# --- timeline -------------------------------------------------------------------------------------


# --- errors ---------------------------------------------------------------------------------------

JSON_ERROR = json.dumps({"error": "some_code", "message": "Something specific went wrong"})
HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


@pytest.mark.parametrize(
    ("status", "body", "content_type", "error"),
    [
        (401, JSON_ERROR, "application/json", AuthError),
        (403, JSON_ERROR, "application/json", AuthError),
        (404, JSON_ERROR, "application/json", NotFoundError),
        (409, JSON_ERROR, "application/json", ConflictError),
        (400, JSON_ERROR, "application/json", ValidationError),
        (422, JSON_ERROR, "application/json", ValidationError),
        (429, JSON_ERROR, "application/json", RateLimitedError),
        (500, JSON_ERROR, "application/json", ServerError),
        (502, JSON_ERROR, "application/json", ServerError),
        (503, JSON_ERROR, "application/json", ServerError),
        (500, HTML_PAGE, "text/html", ServerError),
        (502, HTML_PAGE, "text/html", ServerError),
        (503, HTML_PAGE, "text/html", ServerError),
        (502, "", "text/plain", ServerError),
        (418, JSON_ERROR, "application/json", ApiError),
        (404, HTML_PAGE, "text/html", NotFoundError),
    ],
)
async def test_http_errors_map_to_the_hierarchy(
    client: KasifyClient,
    kasify: FakeApi,
    status: int,
    body: str,
    content_type: str,
    error: type[ApiError],
) -> None:
    kasify.reply("GET", "/bookings/b-1", body=body, status=status, content_type=content_type)

    with pytest.raises(ApiError) as caught:
        await client.get_booking("b-1")

    err = caught.value
    assert type(err) is error
    assert err.status == status
    message = str(err)
    assert message.startswith(f"GET /bookings/b-1: HTTP {status}")
    if body == JSON_ERROR:
        assert message.endswith(": Something specific went wrong")
    else:
        assert "<html" not in message  # proxy pages do not end up in logs
    assert TOKEN not in message


async def test_error_message_falls_back_to_the_error_code(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/account", {"error": "token_expired"}, status=401)

    with pytest.raises(AuthError, match=r"^GET /account: HTTP 401: token_expired$"):
        await client.get_account()


async def test_validation_error_carries_the_field_messages(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply(
        "POST",
        "/properties/p-1/bookings",
        {
            "error": "validation_failed",
            "message": "The booking is invalid",
            "fields": {
                "check_out": ["must be after check_in"],
                "guests_count": "must be positive",
                "notes": None,
            },
        },
        status=422,
    )

    with pytest.raises(ValidationError) as caught:
        await client.create_booking(
            "p-1",
            guest_name="Ada",
            check_in=datetime(2026, 12, 2, tzinfo=UTC),
            check_out=datetime(2026, 12, 1, tzinfo=UTC),
            guests_count=-1,
        )

    err = caught.value
    assert err.status == 422
    assert "The booking is invalid" in str(err)
    assert err.fields == {"check_out": ["must be after check_in"], "guests_count": ["must be positive"]}


@pytest.mark.parametrize(
    "body",
    [
        {"error": "bad_request", "message": "page must be a number"},
        {"error": "bad_request", "message": "page must be a number", "fields": ["not", "a", "mapping"]},
    ],
)
async def test_bad_request_is_a_validation_error_without_fields(
    client: KasifyClient, kasify: FakeApi, body: dict[str, Any]
) -> None:
    kasify.reply("GET", "/account", body, status=400)

    with pytest.raises(ValidationError, match="page must be a number") as caught:
        await client.get_account()
    assert caught.value.fields == {}


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [({"Retry-After": "30"}, 30.0), ({"Retry-After": "not-a-date"}, None), ({}, None)],
)
async def test_rate_limited_reports_how_long_to_wait(
    client: KasifyClient, kasify: FakeApi, headers: dict[str, str], retry_after: float | None
) -> None:
    kasify.reply("GET", "/account", {"error": "rate_limited"}, status=429, headers=headers)

    with pytest.raises(RateLimitedError) as caught:
        await client.get_account()

    assert caught.value.retry_after == retry_after
    assert caught.value.status == 429


async def test_rate_limited_with_an_http_date(client: KasifyClient, kasify: FakeApi) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    kasify.reply("GET", "/account", status=429, headers={"Retry-After": format_datetime(when, usegmt=True)})

    with pytest.raises(RateLimitedError) as caught:
        await client.get_account()

    assert caught.value.retry_after is not None
    assert 540 < caught.value.retry_after <= 600


async def test_error_page_that_is_not_utf_8(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply(
        "GET",
        "/account",
        body=b"<html><h1>Servicio no disponible \xe9\xff</h1></html>",
        status=503,
        content_type="text/html",
    )

    with pytest.raises(ServerError) as caught:
        await client.get_account()
    assert caught.value.status == 503


async def test_a_token_echoed_by_the_server_is_redacted(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply(
        "GET",
        "/account",
        {"error": "invalid_token", "message": f"Token {TOKEN} is not valid", "fields": {"token": [TOKEN]}},
        status=401,
    )

    with pytest.raises(AuthError) as caught:
        await client.get_account()

    assert "is not valid" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value.args)


@pytest.mark.parametrize(
    ("exception", "detail"),
    [
        (
            aiohttp.ClientConnectionError("Cannot connect to host api.kasify.test:443"),
            "ClientConnectionError",
        ),
        (aiohttp.ServerDisconnectedError(), "ServerDisconnectedError"),
        (aiohttp.ClientPayloadError("Response payload is not completed"), "ClientPayloadError"),
        (TimeoutError(), "timed out"),  # asyncio.TimeoutError is TimeoutError since Python 3.11
        (aiohttp.ConnectionTimeoutError(), "timed out"),
    ],
    ids=["connection-error", "disconnected", "payload-error", "timeout", "aiohttp-timeout"],
)
async def test_transport_failures_are_connection_errors(
    client: KasifyClient, kasify: FakeApi, exception: Exception, detail: str
) -> None:
    kasify.reply("GET", "/properties/p-1/smartlocks", exception=exception)

    with pytest.raises(ApiConnectionError) as caught:
        await client.list_smart_locks("p-1")

    assert caught.value.status is None
    assert str(caught.value) == f"GET /properties/p-1/smartlocks: {detail}"
    assert TOKEN not in str(caught.value)


# --- malformed responses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "match"),
    [
        ("<html>maintenance</html>", "text/html", r"^GET /account: the body is not JSON$"),
        ('{"id": "acc-1"', "application/json", r"^GET /account: the body is not JSON$"),
        (b'{"id": "\xff\xfe"}', "application/json", r"^GET /account: the body is not JSON$"),
        ("", "application/json", r"^GET /account: expected an object, got NoneType$"),
        ("null", "application/json", r"^GET /account: expected an object, got NoneType$"),
        ('[{"id": "acc-1"}]', "application/json", r"^GET /account: expected an object, got list$"),
        ('"acc-1"', "application/json", r"^GET /account: expected an object, got str$"),
    ],
)
async def test_a_2xx_body_that_is_not_the_documented_json(
    client: KasifyClient, kasify: FakeApi, body: str | bytes, content_type: str, match: str
) -> None:
    kasify.reply("GET", "/account", body=body, content_type=content_type)

    with pytest.raises(MalformedResponseError, match=match) as caught:
        await client.get_account()
    assert TOKEN not in str(caught.value)


async def test_malformed_json_keeps_the_status(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("POST", "/tasks", body="Created", status=201, content_type="text/plain")

    with pytest.raises(MalformedResponseError) as caught:
        await client.create_task("p-1", title="x")
    assert caught.value.status == 201


async def test_smart_locks_must_be_an_array(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", "/properties/p-1/smartlocks", {"smart_locks": []})

    with pytest.raises(
        MalformedResponseError, match=r"^GET /properties/p-1/smartlocks: expected an array, got dict$"
    ):
        await client.list_smart_locks("p-1")


def _lock(**changes: Any) -> dict[str, Any]:
    lock: dict[str, Any] = load_fixture("smartlocks_casa_azul.json")[0]
    for key, value in changes.items():
        if value is ...:
            del lock[key]
        else:
            lock[key] = value
    return lock


@pytest.mark.parametrize(
    ("lock", "match"),
    [
        (_lock(id=...), r"\[0\]\.id: missing"),
        (_lock(property_id=None), r"\[0\]\.property_id: missing"),
        (_lock(lock_state="x"), r"\[0\]\.lock_state: expected an integer, got str"),
        (_lock(lock_state=1.0), r"\[0\]\.lock_state: expected an integer, got float"),
        (_lock(battery_level=True), r"\[0\]\.battery_level: expected an integer, got bool"),
        (_lock(offline="no"), r"\[0\]\.offline: expected a boolean, got str"),
        (_lock(name=["Front", "door"]), r"\[0\]\.name: expected a string, got list"),
        (_lock(nuki_smartlock=["n-1"]), r"\[0\]\.nuki_smartlock: expected an object, got list"),
        (_lock(nuki_smartlock={"nuki_smartlock_id": {"id": 1}}), r"\[0\]\.nuki_smartlock\.nuki_smartlock_id"),
        (_lock(id=12.5), r"\[0\]\.id: expected a string, got float"),
    ],
    ids=[
        "missing-id",
        "null-property-id",
        "lock-state-text",
        "lock-state-float",
        "battery-bool",
        "offline-text",
        "name-list",
        "provider-list",
        "provider-id-object",
        "id-float",
    ],
)
async def test_wrong_types_name_the_field(
    client: KasifyClient, kasify: FakeApi, lock: dict[str, Any], match: str
) -> None:
    kasify.reply("GET", "/properties/p-1/smartlocks", [lock])

    with pytest.raises(MalformedResponseError, match=r"^GET /properties/p-1/smartlocks" + match):
        await client.list_smart_locks("p-1")


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"calendars": {"channel": "airbnb"}}, r"\.calendars: expected an array, got dict"),
        ({"calendars": ["https://x.ics"]}, r"\.calendars\[0\]: expected an object, got str"),
        ({"calendars": [{"lastSyncAt": "yesterday"}]}, r"\.calendars\[0\]\.lastSyncAt: not an ISO-8601 date"),
        (
            {"calendars": [{"syncIntervalMinutes": "30"}]},
            r"\.calendars\[0\]\.syncIntervalMinutes: expected an integer",
        ),
        ({"default_cleaner": [{"id": "c-1"}]}, r"\.default_cleaner: expected an object, got list"),
        ({"default_cleaner": {"name": "Lucía"}}, r"\.default_cleaner\.id: missing"),
        ({"team": [{"id": "u-1"}, {"name": "no id"}]}, r"\.team\[1\]\.id: missing"),
        ({"has_internet": "yes"}, r"\.has_internet: expected a boolean, got str"),
        ({"name": None}, r"\.name: missing"),
    ],
)
async def test_wrong_property_shapes_name_the_field(
    client: KasifyClient, kasify: FakeApi, changes: dict[str, Any], match: str
) -> None:
    prop = load_fixture("property_casa_azul.json") | changes
    kasify.reply("GET", "/properties", paged("properties", [prop], page=0, total=1))

    with pytest.raises(MalformedResponseError, match=r"^GET /properties\.properties\[0\]" + match):
        await client.list_properties()


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"check_in": "tomorrow"}, r"\.check_in: not an ISO-8601 date-time: 'tomorrow'"),
        ({"check_out": 1764327600}, r"\.check_out: expected an ISO-8601 date-time, got int"),
        ({"check_in": None}, r"\.check_in: missing"),
        ({"guests_count": "2"}, r"\.guests_count: expected an integer, got str"),
    ],
)
async def test_wrong_booking_shapes_name_the_field(
    client: KasifyClient, kasify: FakeApi, changes: dict[str, Any], match: str
) -> None:
    kasify.reply("GET", "/bookings/b-1", booking_json() | changes)

    with pytest.raises(MalformedResponseError, match=r"^GET /bookings/b-1" + match):
        await client.get_booking("b-1")


@pytest.mark.parametrize(
    ("method", "path", "call", "body"),
    [
        ("GET", "/tasks", lambda client: client.list_tasks(), {"items": []}),
        (
            "POST",
            f"/bookings/{BOOKING_ID}/access-codes",
            lambda client: client.create_access_codes(BOOKING_ID),
            {"codes": []},
        ),
    ],
)
async def test_a_response_without_its_list_is_malformed(
    client: KasifyClient,
    kasify: FakeApi,
    method: str,
    path: str,
    call: Callable[[KasifyClient], Awaitable[object]],
    body: dict[str, Any],
) -> None:
    kasify.reply(method, path, body)

    with pytest.raises(MalformedResponseError, match="missing"):
        await call(client)


async def test_numbers_are_accepted_where_text_is_documented(client: KasifyClient, kasify: FakeApi) -> None:
    numbers = {"id": 1234, "name": 5, "zip_code": 46011, "city": "Valencia"}
    kasify.reply("GET", "/properties", paged("properties", [numbers], page=0, total=1))

    (prop,) = await client.list_properties()

    assert (prop.id, prop.name, prop.zip_code) == ("1234", "5", "46011")
    assert prop.full_address == "46011 Valencia"


# --- Retry-After ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        (" 12.5 ", 12.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("inf", None),
        ("nan", None),
        ("soon", None),
        ("", None),
        ("Wed, 25 Nov 2026 15:02:00 GMT", 120.0),
        ("Wed, 25 Nov 2026 16:02:00 +0100", 120.0),
        ("Wed, 25 Nov 2026 15:02:00 -0000", 120.0),
        ("Wed, 25 Nov 2026 14:00:00 GMT", 0.0),
        ("86400", 900.0),  # a day is not believed: 15 minutes at most
        ("Thu, 26 Nov 2026 15:00:00 GMT", 900.0),
    ],
)
def test_retry_after_seconds(freezer: FrozenDateTimeFactory, value: str, expected: float | None) -> None:
    freezer.move_to("2026-11-25T15:00:00+00:00")

    assert retry_after_seconds(CIMultiDict({"retry-after": value})) == expected


def test_retry_after_seconds_without_the_header() -> None:
    assert retry_after_seconds(CIMultiDict({"Content-Type": "application/json"})) is None


# --- gather_bounded -------------------------------------------------------------------------------


class Probe:
    """Counts how many calls run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.finished: list[int] = []

    async def work(self, index: int, yields: int) -> int:
        self.running += 1
        self.peak = max(self.peak, self.running)
        for _ in range(yields):
            await asyncio.sleep(0)
        self.running -= 1
        self.finished.append(index)
        return index * 10


@pytest.mark.parametrize(("limit", "count", "peak"), [(3, 10, 3), (1, 4, 1), (5, 3, 3)])
async def test_gather_bounded_keeps_order_and_limits_concurrency(limit: int, count: int, peak: int) -> None:
    probe = Probe()
    # Later calls need fewer steps, so they finish before earlier ones.
    calls = [partial(probe.work, i, count - i) for i in range(count)]

    results = await gather_bounded(limit, calls)

    assert results == [i * 10 for i in range(count)]
    assert probe.peak == peak
    if limit > 1:
        assert probe.finished != sorted(probe.finished)  # the order above was really restored


async def test_gather_bounded_with_nothing_to_do() -> None:
    assert await gather_bounded(4, []) == []


async def test_gather_bounded_refuses_a_limit_below_one() -> None:
    probe = Probe()
    async with asyncio.timeout(1):  # a semaphore of 0 would wait forever
        with pytest.raises(ValueError, match="limit"):
            await gather_bounded(0, [partial(probe.work, 0, 1)])
    assert probe.finished == []


async def test_gather_bounded_raises_the_first_failure_and_cancels_the_rest() -> None:
    started: list[int] = []
    cancelled: list[int] = []
    never = asyncio.Event()

    async def hang(index: int) -> int:
        started.append(index)
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.append(index)
            raise
        return index

    async def fail() -> int:
        await asyncio.sleep(0)
        raise AuthError("GET /account: HTTP 401", status=401)

    calls: list[Callable[[], Awaitable[int]]] = [partial(hang, 0), fail, partial(hang, 2), partial(hang, 3)]

    with pytest.raises(AuthError, match="HTTP 401"):
        await gather_bounded(2, calls)

    assert 0 in started
    assert sorted(cancelled) == sorted(started)  # nothing is left running after the failure
    assert 3 not in started  # the last call never got a slot


async def test_cancelling_gather_bounded_cancels_its_calls() -> None:
    started: list[int] = []
    cancelled: list[int] = []
    never = asyncio.Event()

    async def hang(index: int) -> int:
        started.append(index)
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.append(index)
            raise
        return index

    task = asyncio.ensure_future(gather_bounded(2, [partial(hang, i) for i in range(4)]))
    for _ in range(5):
        await asyncio.sleep(0)
    assert started == [0, 1]

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert cancelled == [0, 1]


# --- tolerated oddities ---------------------------------------------------------------------------


async def test_unknown_statuses_fall_back_instead_of_failing(client: KasifyClient, kasify: FakeApi) -> None:
    # An unknown booking status is UNKNOWN (named, never taken as confirmed), an unknown task status
    # pending. Parsing must not fail either way.
    kasify.reply("GET", "/bookings/b-1", booking_json(status="no_show"))
    kasify.reply("GET", "/tasks/t-1", task_json(status="blocked"))

    booking = await client.get_booking("b-1")
    task = await client.get_task("t-1")

    assert (booking.status, booking.status_text) == (BookingStatus.UNKNOWN, "no_show")
    assert task.status is TaskStatus.PENDING


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("confirmed", BookingStatus.CONFIRMED),
        ("CONFIRMED", BookingStatus.CONFIRMED),
        (" Pending ", BookingStatus.PENDING),
        ("cancelled", BookingStatus.CANCELLED),
        ("canceled", BookingStatus.CANCELLED),
        ("CANCELED", BookingStatus.CANCELLED),
        ("declined", BookingStatus.UNKNOWN),
    ],
)
async def test_booking_statuses_are_read_whatever_the_spelling(
    client: KasifyClient, kasify: FakeApi, text: str, expected: BookingStatus
) -> None:
    kasify.reply("GET", "/bookings/b-1", booking_json(status=text))
    assert (await client.get_booking("b-1")).status is expected


@pytest.mark.parametrize("body", ['["unexpected", "array"]', '"plain string"', "42"])
async def test_an_error_body_that_is_json_but_not_an_object(
    client: KasifyClient, kasify: FakeApi, body: str
) -> None:
    kasify.reply("GET", "/account", body=body, status=500)

    with pytest.raises(ServerError, match=r"^GET /account: HTTP 500$"):
        await client.get_account()


@pytest.mark.parametrize(
    ("vendor", "lock_state", "expected"),
    [
        ("nuki", 1, LockStatus.LOCKED),
        ("nuki", 5, LockStatus.OPEN),
        ("nuki", 0, LockStatus.UNKNOWN),
        ("unifi", 1, LockStatus.LOCKED),
        ("unifi", 3, LockStatus.UNLOCKED),
        # Nuki's numbers mean nothing for a UniFi door or an unknown vendor: unknown, never locked.
        ("unifi", 5, LockStatus.UNKNOWN),
        ("unifi", 254, LockStatus.UNKNOWN),
        ("acme", 1, LockStatus.UNKNOWN),
        ("nuki", None, LockStatus.UNKNOWN),
    ],
)
def test_smart_lock_state_is_read_per_vendor(
    vendor: str, lock_state: int | None, expected: LockStatus
) -> None:
    lock = SmartLock(id="x", vendor=vendor, name="Door", property_id="p", lock_state=lock_state)
    assert lock.status is expected
