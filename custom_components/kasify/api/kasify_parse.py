"""Kasify's JSON read into the shared models, and one refresh's listings shaped into a snapshot.

Shapes are in ``docs/kasify-api.md`` (documented or inferred, as marked there). Anything unknown is read the
safe way: a booking status the integration does not know is :attr:`BookingStatus.UNKNOWN`, a task status it
does not know keeps the task open.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
import logging
from typing import Final

from .errors import MalformedResponseError
from .models import (
    AccessCode,
    Account,
    AccountSnapshot,
    Booking,
    BookingStatus,
    CalendarFeed,
    CheckinSnapshot,
    EndpointNotUnderstood,
    Property,
    SmartLock,
    SmartLockInfo,
    Task,
    TaskStatus,
    TeamMember,
)
from .parse import Reader
from .turns import LoopTurns

_LOGGER = logging.getLogger(__name__)


def _member(r: Reader) -> TeamMember:
    return TeamMember(
        id=r.str("id"),
        name=r.opt_str("name") or "",
        last_name=r.opt_str("last_name"),
        email=r.opt_str("email"),
        access_level=r.opt_str("access_level"),
        service=r.opt_str("service"),
    )


def parse_account(r: Reader) -> Account:
    """Parse ``GET /account``."""
    return Account(
        id=r.str("id"),
        name=r.opt_str("name") or r.opt_str("email") or r.str("id"),
        email=r.opt_str("email"),
        timezone=r.opt_str("timezone"),
    )


def parse_property(r: Reader) -> Property:
    """Parse a Property (seed shape)."""
    cleaner = r.opt_object("default_cleaner")
    return Property(
        id=r.str("id"),
        name=r.str("name"),
        account_id=r.opt_str("account_id"),
        address=r.opt_str("address"),
        city=r.opt_str("city"),
        zip_code=r.opt_str("zip_code"),
        country=r.opt_str("country"),
        rooms_count=r.opt_int("rooms_count"),
        has_internet=r.opt_bool("has_internet"),
        role=r.opt_str("role"),
        cover_image_url=r.opt_str("cover_image_url"),
        default_cleaner=_member(cleaner) if cleaner else None,
        calendars=tuple(
            CalendarFeed(
                channel=c.opt_str("channel"),
                url=c.opt_str("url"),
                sync_interval_minutes=c.opt_int("syncIntervalMinutes"),
                last_sync_at=c.opt_date("lastSyncAt"),
                last_error=c.opt_str("lastError"),
            )
            for c in r.objects("calendars")
        ),
        smart_locks=tuple(
            SmartLockInfo(id=s.str("id"), vendor=s.opt_str("vendor") or "", name=s.opt_str("name") or "")
            for s in r.objects("smart_locks")
        ),
        team=tuple(_member(m) for m in r.objects("team")),
    )


def parse_smart_lock(r: Reader) -> SmartLock:
    """Parse a SmartLock with live status (seed shape)."""
    vendor = (r.opt_str("vendor") or "").lower()
    nuki = r.opt_object("nuki_smartlock")
    unifi = r.opt_object("unifi_smartlock")
    nuki_id = nuki.opt_str("nuki_smartlock_id") if nuki is not None else None
    unifi_id = unifi.opt_str("door_id") if unifi is not None else None
    # The vendor decides which provider record names the lock; the other one is only a fallback.
    provider_id = (unifi_id or nuki_id) if vendor == "unifi" else (nuki_id or unifi_id)
    return SmartLock(
        id=r.str("id"),
        vendor=vendor,
        name=r.opt_str("name") or "",
        property_id=r.str("property_id"),
        provider_lock_id=provider_id,
        lock_state=r.opt_int("lock_state"),
        battery_level=r.opt_int("battery_level"),
        battery_charging=r.opt_bool("battery_charging"),
        offline=r.bool("offline"),
    )


# Spellings of the known booking statuses (case aside).
_BOOKING_STATUSES: Final = {
    "confirmed": BookingStatus.CONFIRMED,
    "pending": BookingStatus.PENDING,
    "cancelled": BookingStatus.CANCELLED,
    "canceled": BookingStatus.CANCELLED,
}


def parse_booking(r: Reader) -> Booking:
    """Parse a Booking; a status the integration does not know is :attr:`BookingStatus.UNKNOWN`."""
    text = r.opt_str("status")
    booking_status = _BOOKING_STATUSES.get((text or "").strip().lower(), BookingStatus.UNKNOWN)
    return Booking(
        id=r.str("id"),
        property_id=r.str("property_id"),
        guest_name=r.opt_str("guest_name") or "",
        check_in=r.datetime("check_in"),
        check_out=r.datetime("check_out"),
        status=booking_status,
        channel=r.opt_str("channel"),
        guests_count=r.opt_int("guests_count"),
        registered_guests=r.int("registered_guests", 0),
        guest_email=r.opt_str("guest_email"),
        guest_phone=r.opt_str("guest_phone"),
        notes=r.opt_str("notes"),
        external_reference=r.opt_str("external_reference"),
        status_text=text if booking_status is BookingStatus.UNKNOWN else None,
        check_in_unzoned=r.unzoned("check_in"),
        check_out_unzoned=r.unzoned("check_out"),
    )


def parse_task(r: Reader) -> Task:
    """Parse a Task."""
    text = (r.opt_str("status") or "").strip().lower().replace(" ", "_").replace("-", "_")
    try:
        status = TaskStatus(text)
    except ValueError:
        # Not known to be done: the task stays open (a house is never shown ready on a guess).
        _LOGGER.debug("Kasify task status %r: read as pending", text)
        status = TaskStatus.PENDING
    return Task(
        id=r.str("id"),
        property_id=r.str("property_id"),
        title=r.opt_str("title") or "",
        status=status,
        task_type=r.opt_str("task_type") or "other",
        description=r.opt_str("description"),
        due_at=r.opt_datetime("due_at"),
        assignee_id=r.opt_str("assignee_id"),
        booking_id=r.opt_str("booking_id"),
        completed_at=r.opt_datetime("completed_at"),
    )


def parse_access_code(r: Reader) -> AccessCode:
    """Parse an AccessCode."""
    return AccessCode(
        id=r.str("id"),
        booking_id=r.opt_str("booking_id"),
        lock_id=r.opt_str("smartlock_id"),
        name=r.opt_str("name"),
        code=r.opt_str("code"),
        starts_at=r.opt_datetime("starts_at"),
        ends_at=r.opt_datetime("ends_at"),
        status=r.opt_str("status"),
    )


async def build_snapshot(
    properties: list[Property],
    bookings: list[Booking],
    tasks: tuple[list[Task], list[Task]],
    lock_lists: list[list[SmartLock]],
    window: tuple[datetime, datetime],
    degraded: Mapping[str, EndpointNotUnderstood],
    turns: LoopTurns,
) -> AccountSnapshot:
    """One refresh's listings keyed for look-ups: bookings by check-in and open tasks, of known properties.

    Tens of thousands of bookings are grouped and sorted within the loop's turn budget (``turns``).
    """
    property_map = {prop.id: prop for prop in properties}
    bookings_by_property: defaultdict[str, list[Booking]] = defaultdict(list)
    for booking in bookings:
        if booking.property_id in property_map:
            bookings_by_property[booking.property_id].append(booking)
    open_tasks, completed = tasks
    completed_ids = {task.id for task in completed}
    tasks_by_property: defaultdict[str, list[Task]] = defaultdict(list)
    for task in open_tasks:
        # A task completed between the two listings is completed.
        if task.property_id in property_map and task.open and task.id not in completed_ids:
            tasks_by_property[task.property_id].append(task)
    completed_by_property: defaultdict[str, list[Task]] = defaultdict(list)
    for task in completed:
        if task.property_id in property_map:
            completed_by_property[task.property_id].append(task)
    sorted_bookings: dict[str, tuple[Booking, ...]] = {}
    for pid, items in bookings_by_property.items():
        await turns.take()
        sorted_bookings[pid] = tuple(sorted(items, key=lambda b: (b.check_in, b.id)))
    return AccountSnapshot(
        properties=property_map,
        bookings=sorted_bookings,
        smart_locks={lock.id: lock for locks in lock_lists for lock in locks},
        tasks={pid: tuple(items) for pid, items in tasks_by_property.items()},
        window_start=window[0],
        window_end=window[1],
        degraded=degraded,
        completed_tasks={
            pid: tuple(sorted(items, key=lambda t: (t.completed_at, t.id), reverse=True))
            for pid, items in completed_by_property.items()
        },
    )


CHECKIN_STATUSES: Final = frozenset({"pending", "partial", "complete"})


def parse_checkin(r: Reader, booking_id: str) -> CheckinSnapshot:
    """Parse ``GET /bookings/{id}/checkin`` (inferred shape, read strictly).

    Raises :class:`MalformedResponseError` naming what was not understood: no ``guests`` list, a status not
    known, another booking's id, a count that is not a whole number, or a status that contradicts the guests
    (``complete`` with fewer than expected, ``pending`` with some). Guests' names never reach the message.
    """
    guests = r.objects("guests", required=True)
    status = r.str("status")
    if status not in CHECKIN_STATUSES:
        known = ", ".join(sorted(CHECKIN_STATUSES))
        raise MalformedResponseError(f"{r.where}.status: {status[:40]!r} is not one of {known}")
    if (answered := r.opt_str("booking_id")) is not None and answered != booking_id:
        raise MalformedResponseError(f"{r.where}.booking_id: another booking's check-in")
    expected = r.opt_int("guests_expected")
    if expected is not None and expected < 0:
        raise MalformedResponseError(f"{r.where}.guests_expected: negative")
    registered = len(guests)
    if (status == "pending" and registered) or (
        status == "complete" and expected is not None and registered < expected
    ):
        raise MalformedResponseError(
            f"{r.where}.status: {status!r} with {registered} of {expected} guests registered"
        )
    return CheckinSnapshot(booking_id, status, registered, expected)
