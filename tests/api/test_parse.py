"""Tests for the typed JSON readers and for the models they feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from custom_components.kasify.api.errors import MalformedResponseError
from custom_components.kasify.api.kasify import parse_smart_lock
from custom_components.kasify.api.models import (
    Booking,
    BookingStatus,
    LockStatus,
    Property,
    SmartLock,
    Task,
    TaskStatus,
    TeamMember,
    lock_status_from_nuki,
)
from custom_components.kasify.api.parse import Reader, as_list, as_object


def reader(**fields: Any) -> Reader:
    return Reader(fields, "GET /thing")


# --- as_object / as_list --------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "kind"), [([], "list"), ("x", "str"), (None, "NoneType"), (3, "int")])
def test_as_object_refuses_anything_but_an_object(value: Any, kind: str) -> None:
    with pytest.raises(MalformedResponseError, match=rf"^GET /x: expected an object, got {kind}$"):
        as_object(value, "GET /x")


@pytest.mark.parametrize(("value", "kind"), [({}, "dict"), ("[]", "str"), (None, "NoneType")])
def test_as_list_refuses_anything_but_an_array(value: Any, kind: str) -> None:
    with pytest.raises(MalformedResponseError, match=rf"^GET /x: expected an array, got {kind}$"):
        as_list(value, "GET /x")


def test_as_object_and_as_list_return_the_value() -> None:
    obj = {"a": 1}
    items = [1, 2]
    assert as_object(obj, "x") is obj
    assert as_list(items, "x") is items


# --- strings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Casa Azul", "Casa Azul"), ("", ""), (5, "5"), (17894563210, "17894563210"), (None, None)],
)
def test_opt_str_accepts_text_and_integers(value: Any, expected: str | None) -> None:
    assert reader(name=value).opt_str("name") == expected


@pytest.mark.parametrize(
    ("value", "kind"), [(True, "bool"), (1.5, "float"), (["a"], "list"), ({"a": 1}, "dict")]
)
def test_opt_str_refuses_other_types(value: Any, kind: str) -> None:
    with pytest.raises(MalformedResponseError, match=rf"^GET /thing\.name: expected a string, got {kind}$"):
        reader(name=value).opt_str("name")


def test_missing_and_null_optional_fields_are_none() -> None:
    r = reader(present=None)
    assert r.opt_str("present") is None
    assert r.opt_str("absent") is None
    assert r.opt_int("absent") is None
    assert r.opt_bool("absent") is None
    assert r.opt_datetime("absent") is None
    assert r.opt_date("absent") is None
    assert r.opt_object("absent") is None
    assert r.objects("absent") == []
    assert r.objects("present") == []


@pytest.mark.parametrize("fields", [{}, {"id": None}])
def test_str_requires_a_value(fields: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError, match=r"^GET /thing\.id: missing$"):
        reader(**fields).str("id")


def test_str_returns_the_value() -> None:
    assert reader(id=42).str("id") == "42"


# --- numbers and booleans -------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (82, 82), (-1, -1), (None, None)])
def test_opt_int(value: Any, expected: int | None) -> None:
    assert reader(level=value).opt_int("level") == expected


@pytest.mark.parametrize(("value", "kind"), [(True, "bool"), (False, "bool"), (3.0, "float"), ("3", "str")])
def test_opt_int_refuses_other_types(value: Any, kind: str) -> None:
    with pytest.raises(
        MalformedResponseError, match=rf"^GET /thing\.level: expected an integer, got {kind}$"
    ):
        reader(level=value).opt_int("level")


def test_int_uses_the_default_only_when_missing() -> None:
    assert reader(count=0).int("count", 5) == 0
    assert reader().int("count", 5) == 5
    assert reader().int("count", 0) == 0
    assert reader(count=3).int("count") == 3
    with pytest.raises(MalformedResponseError, match=r"^GET /thing\.count: missing$"):
        reader().int("count")


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), (None, None)])
def test_opt_bool(value: Any, expected: bool | None) -> None:
    assert reader(flag=value).opt_bool("flag") is expected


@pytest.mark.parametrize(("value", "kind"), [(1, "int"), (0, "int"), ("true", "str")])
def test_opt_bool_refuses_other_types(value: Any, kind: str) -> None:
    with pytest.raises(MalformedResponseError, match=rf"^GET /thing\.flag: expected a boolean, got {kind}$"):
        reader(flag=value).opt_bool("flag")


def test_bool_default() -> None:
    assert reader().bool("flag") is False
    assert reader().bool("flag", default=True) is True
    assert reader(flag=False).bool("flag", default=True) is False


# --- dates and times ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "offset"),
    [
        ("2026-11-25T15:00:00Z", datetime(2026, 11, 25, 15, tzinfo=UTC), timedelta(0)),
        ("2026-11-25T16:00:00+01:00", datetime(2026, 11, 25, 15, tzinfo=UTC), timedelta(hours=1)),
        ("2026-11-25T15:00:00.250Z", datetime(2026, 11, 25, 15, 0, 0, 250000, tzinfo=UTC), timedelta(0)),
        ("2026-11-25T15:00:00", datetime(2026, 11, 25, 15, tzinfo=UTC), timedelta(0)),  # naive → UTC
        ("2026-11-25", datetime(2026, 11, 25, tzinfo=UTC), timedelta(0)),
    ],
)
def test_opt_datetime_is_always_aware(value: str, expected: datetime, offset: timedelta) -> None:
    parsed = reader(at=value).opt_datetime("at")

    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == offset


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("tomorrow", r"not an ISO-8601 date-time: 'tomorrow'"),
        ("2026-13-01T00:00:00Z", r"not an ISO-8601 date-time"),
        ("", r"not an ISO-8601 date-time: ''"),
        (1764082800, r"expected an ISO-8601 date-time, got int"),
        ({"date": "2026-11-25"}, r"expected an ISO-8601 date-time, got dict"),
    ],
)
def test_opt_datetime_refuses_what_is_not_a_date_time(value: Any, match: str) -> None:
    with pytest.raises(MalformedResponseError, match=r"^GET /thing\.at: " + match):
        reader(at=value).opt_datetime("at")


def test_datetime_is_required() -> None:
    assert reader(at="2026-11-25T15:00:00Z").datetime("at") == datetime(2026, 11, 25, 15, tzinfo=UTC)
    with pytest.raises(MalformedResponseError, match=r"^GET /thing\.at: missing$"):
        reader(at=None).datetime("at")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2024-08-25", date(2024, 8, 25)), ("2024-08-25T23:59:00Z", date(2024, 8, 25))],
)
def test_opt_date(value: str, expected: date) -> None:
    assert reader(day=value).opt_date("day") == expected


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("25/08/2024", r"not an ISO-8601 date: '25/08/2024'"),
        (20240825, r"expected an ISO-8601 date, got int"),
    ],
)
def test_opt_date_refuses_what_is_not_a_date(value: Any, match: str) -> None:
    with pytest.raises(MalformedResponseError, match=r"^GET /thing\.day: " + match):
        reader(day=value).opt_date("day")


# --- nesting --------------------------------------------------------------------------------------


def test_nested_readers_name_the_full_path() -> None:
    r = reader(lock={"provider": {"id": 1.5}}, items=[{"id": "a"}, {"id": None}])

    lock = r.opt_object("lock")
    assert lock is not None
    provider = lock.opt_object("provider")
    assert provider is not None
    with pytest.raises(MalformedResponseError, match=r"^GET /thing\.lock\.provider\.id: expected a string"):
        provider.opt_str("id")

    first, second = r.objects("items")
    assert first.str("id") == "a"
    with pytest.raises(MalformedResponseError, match=r"^GET /thing\.items\[1\]\.id: missing$"):
        second.str("id")


def test_opt_object_refuses_a_non_object() -> None:
    with pytest.raises(MalformedResponseError, match=r"^GET /thing\.lock: expected an object, got list$"):
        reader(lock=[{}]).opt_object("lock")


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"a": 1}, r"^GET /thing\.items: expected an array, got dict$"),
        ([{"a": 1}, "b"], r"^GET /thing\.items\[1\]: expected an object, got str$"),
    ],
)
def test_objects_refuses_a_non_list_or_non_object_items(value: Any, match: str) -> None:
    with pytest.raises(MalformedResponseError, match=match):
        reader(items=value).objects("items")


@pytest.mark.parametrize("fields", [{}, {"items": None}])
def test_required_objects_must_be_present(fields: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError, match=r"^GET /thing\.items: missing$"):
        reader(**fields).objects("items", required=True)
    assert reader(items=[]).objects("items", required=True) == []


def test_unknown_fields_are_ignored() -> None:
    r = reader(id="x", surprise={"deep": [1, 2, 3]}, another=1.5)
    assert r.str("id") == "x"


# --- smart locks ----------------------------------------------------------------------------------

NUKI = {"id": "rec-n", "nuki_smartlock_id": 17894563210}
UNIFI = {"floor_id": "floor-1", "door_id": "door-7c3e", "name": "Garage"}


@pytest.mark.parametrize(
    ("vendor", "nuki", "unifi", "provider_lock_id"),
    [
        ("nuki", NUKI, None, "17894563210"),
        ("Nuki", NUKI, UNIFI, "17894563210"),
        ("unifi", None, UNIFI, "door-7c3e"),
        ("unifi", NUKI, UNIFI, "door-7c3e"),  # the vendor decides, whatever else is sent
        ("UNIFI", {"id": "rec-n", "nuki_smartlock_id": None}, UNIFI, "door-7c3e"),
        ("unifi", NUKI, {"floor_id": "floor-1"}, "17894563210"),  # fallback to the other record
        ("vendor", NUKI, UNIFI, "17894563210"),
        ("nuki", None, None, None),
    ],
)
def test_smart_lock_provider_id_follows_the_vendor(
    vendor: str, nuki: dict[str, Any] | None, unifi: dict[str, Any] | None, provider_lock_id: str | None
) -> None:
    lock = parse_smart_lock(
        Reader(
            {
                "id": "lock-1",
                "vendor": vendor,
                "name": "Door",
                "property_id": "p-1",
                "nuki_smartlock": nuki,
                "unifi_smartlock": unifi,
            },
            "GET /properties/p-1/smartlocks[0]",
        )
    )

    assert lock.vendor == vendor.lower()
    assert lock.provider_lock_id == provider_lock_id
    assert lock.device_key == f"{vendor.lower()}_{provider_lock_id or 'lock-1'}"


def test_smart_lock_with_only_required_fields() -> None:
    lock = parse_smart_lock(Reader({"id": "lock-1", "property_id": "p-1", "extra": True}, "x"))

    assert lock == SmartLock(id="lock-1", vendor="", name="", property_id="p-1")
    assert lock.offline is False
    assert lock.status is LockStatus.UNKNOWN


@pytest.mark.parametrize(
    ("lock_state", "status"),
    [
        (None, LockStatus.UNKNOWN),
        (0, LockStatus.UNKNOWN),  # uncalibrated
        (1, LockStatus.LOCKED),
        (2, LockStatus.UNLOCKING),
        (3, LockStatus.UNLOCKED),
        (4, LockStatus.LOCKING),
        (5, LockStatus.OPEN),  # unlatched
        (6, LockStatus.UNLOCKED),  # lock 'n' go
        (7, LockStatus.OPENING),  # unlatching
        (254, LockStatus.JAMMED),  # motor blocked
        (255, LockStatus.UNKNOWN),
        (42, LockStatus.UNKNOWN),
    ],
)
def test_lock_status_follows_nuki_numbering(lock_state: int | None, status: LockStatus) -> None:
    lock = SmartLock(id="l", vendor="nuki", name="Door", property_id="p", lock_state=lock_state)

    assert lock.status is status
    assert lock_status_from_nuki(lock_state) is status


# --- other models ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "full_address"),
    [
        ({"address": "Calle del Mar 12", "zip_code": "46011", "city": "Valencia", "country": "ES"},
         "Calle del Mar 12, 46011 Valencia, ES"),
        ({"address": "Calle del Mar 12", "city": "Valencia"}, "Calle del Mar 12, Valencia"),
        ({"zip_code": "46011"}, "46011"),
        ({"country": "ES"}, "ES"),
        ({"address": "", "city": ""}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_property_full_address(fields: dict[str, Any], full_address: str | None) -> None:
    assert Property(id="p", name="Casa", **fields).full_address == full_address


@pytest.mark.parametrize(
    ("last_name", "full_name"), [("Martínez", "Lucía Martínez"), (None, "Lucía"), ("", "Lucía")]
)
def test_team_member_full_name(last_name: str | None, full_name: str) -> None:
    assert TeamMember(id="u", name="Lucía", last_name=last_name).full_name == full_name


@pytest.mark.parametrize(
    ("status", "instant", "covers"),
    [
        (BookingStatus.CONFIRMED, datetime(2026, 11, 25, 15, tzinfo=UTC), True),  # check-in instant
        (BookingStatus.CONFIRMED, datetime(2026, 11, 28, 11, tzinfo=UTC), False),  # check-out instant
        (BookingStatus.PENDING, datetime(2026, 11, 26, tzinfo=UTC), True),
        (BookingStatus.CANCELLED, datetime(2026, 11, 26, tzinfo=UTC), False),
        (BookingStatus.CONFIRMED, datetime(2026, 11, 25, 14, 59, tzinfo=UTC), False),
    ],
)
def test_booking_covers(status: BookingStatus, instant: datetime, covers: bool) -> None:
    booking = Booking(
        id="b",
        property_id="p",
        guest_name="Ada",
        check_in=datetime(2026, 11, 25, 15, tzinfo=UTC),
        check_out=datetime(2026, 11, 28, 11, tzinfo=UTC),
        status=status,
    )

    assert booking.covers(instant) is covers
    assert booking.active is (status is not BookingStatus.CANCELLED)


@pytest.mark.parametrize(
    ("status", "is_open"),
    [(TaskStatus.PENDING, True), (TaskStatus.IN_PROGRESS, True), (TaskStatus.COMPLETED, False)],
)
def test_task_open(status: TaskStatus, is_open: bool) -> None:
    assert Task(id="t", property_id="p", title="Clean", status=status).open is is_open
