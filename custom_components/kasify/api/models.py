"""Frozen dataclasses shared by every client.

Models compare by value, so a coordinator can tell "nothing changed" with ``==`` and entities only write state
when their data really changed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
import logging
from typing import Protocol


class LockStatus(StrEnum):
    """Vendor-neutral lock state."""

    LOCKED = "locked"
    UNLOCKED = "unlocked"
    LOCKING = "locking"
    UNLOCKING = "unlocking"
    OPEN = "open"
    OPENING = "opening"
    JAMMED = "jammed"
    UNKNOWN = "unknown"


# Nuki's numeric ``state.state`` for lock types 0/3/4; Kasify passes it through.
_LOGGER = logging.getLogger(__name__)

_NUKI_LOCK_STATES: dict[int, LockStatus] = {
    1: LockStatus.LOCKED,
    2: LockStatus.UNLOCKING,
    3: LockStatus.UNLOCKED,
    4: LockStatus.LOCKING,
    5: LockStatus.OPEN,
    6: LockStatus.UNLOCKED,
    7: LockStatus.OPENING,
    254: LockStatus.JAMMED,
}


def lock_status_from_nuki(state: int | None) -> LockStatus:
    """Map a Nuki lock state number to a :class:`LockStatus` (0, 255, unknown values → UNKNOWN)."""
    if state is None:
        return LockStatus.UNKNOWN
    return _NUKI_LOCK_STATES.get(state, LockStatus.UNKNOWN)


# Kasify passes the provider's lock state through (inferred): Nuki's numbering for Nuki locks; for UniFi doors
# ``lock`` as 1 and ``unlock`` as 3. Any other vendor's numbers, and any other number, are not understood.
_KASIFY_LOCK_STATES: dict[str, dict[int, LockStatus]] = {
    "nuki": _NUKI_LOCK_STATES,
    "unifi": {1: LockStatus.LOCKED, 3: LockStatus.UNLOCKED},
}
# Values already logged as not understood (each once).
_UNREAD_STATES: set[tuple[str, int]] = set()


class BookingStatus(StrEnum):
    """Lifecycle of a booking."""

    CONFIRMED = "confirmed"
    PENDING = "pending"
    CANCELLED = "cancelled"
    # A status the integration does not know (kept in ``Booking.status_text``): occupancy counts it, codes
    # do not (no new code; an existing one stays until Kasify says cancelled).
    UNKNOWN = "unknown"


class TaskStatus(StrEnum):
    """Lifecycle of a task."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    # A state the integration does not know (kept in ``Task.status_text``): not counted as open.
    UNKNOWN = "unknown"


class TaskType(StrEnum):
    """Kinds of tasks."""

    CLEANING = "cleaning"
    MAINTENANCE = "maintenance"
    INSPECTION = "inspection"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Account:
    """The account the API token belongs to."""

    id: str
    name: str
    email: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class TeamMember:
    """A crew member of a property (cleaner, manager, ...)."""

    id: str
    name: str
    last_name: str | None = None
    email: str | None = None
    access_level: str | None = None
    service: str | None = None

    @property
    def full_name(self) -> str:
        """First and last name."""
        return f"{self.name} {self.last_name}".strip() if self.last_name else self.name


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    """An external calendar (iCal) attached to a property in Kasify."""

    channel: str | None
    url: str | None
    sync_interval_minutes: int | None = None
    last_sync_at: date | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class SmartLockInfo:
    """The short smart-lock record embedded in a property."""

    id: str
    vendor: str
    name: str


@dataclass(frozen=True, slots=True)
class Property:
    """A rental property."""

    id: str
    name: str
    account_id: str | None = None
    address: str | None = None
    city: str | None = None
    zip_code: str | None = None
    country: str | None = None
    rooms_count: int | None = None
    has_internet: bool | None = None
    role: str | None = None
    cover_image_url: str | None = None
    default_cleaner: TeamMember | None = None
    calendars: tuple[CalendarFeed, ...] = ()
    smart_locks: tuple[SmartLockInfo, ...] = ()
    team: tuple[TeamMember, ...] = ()

    @property
    def full_address(self) -> str | None:
        """Address, zip code, city and country on one line."""
        town = " ".join(part for part in (self.zip_code, self.city) if part)
        parts = [part for part in (self.address, town, self.country) if part]
        return ", ".join(parts) or None


@dataclass(frozen=True, slots=True)
class SmartLock:
    """A smart lock attached to a property, with the live status Kasify read from its provider."""

    id: str
    vendor: str
    name: str
    property_id: str
    provider_lock_id: str | None = None
    lock_state: int | None = None
    battery_level: int | None = None
    battery_charging: bool | None = None
    offline: bool = False

    @property
    def status(self) -> LockStatus:
        """Vendor-neutral lock state, read in the numbering of its vendor; unknown when it cannot be."""
        table = _KASIFY_LOCK_STATES.get(self.vendor)
        status = table.get(self.lock_state) if table is not None and self.lock_state is not None else None
        if status is None:
            if self.lock_state is not None and (self.vendor, self.lock_state) not in _UNREAD_STATES:
                _UNREAD_STATES.add((self.vendor, self.lock_state))
                _LOGGER.debug(
                    "Kasify lock_state %s of a %r lock not understood: unknown", self.lock_state, self.vendor
                )
            return LockStatus.UNKNOWN
        return status

    @property
    def device_key(self) -> str:
        """The lock device's identifier: vendor plus the provider's own lock id."""
        return f"{self.vendor}_{self.provider_lock_id or self.id}"


@dataclass(frozen=True, slots=True)
class Booking:
    """A stay at a property."""

    id: str
    property_id: str
    guest_name: str
    check_in: datetime
    check_out: datetime
    status: BookingStatus = BookingStatus.CONFIRMED
    channel: str | None = None
    guests_count: int | None = None
    registered_guests: int = 0
    guest_email: str | None = None
    guest_phone: str | None = None
    notes: str | None = None
    external_reference: str | None = None
    # The status as Kasify sent it, when it is not one the integration knows.
    status_text: str | None = None
    # Check-in / check-out as Kasify sent them when they name no zone (a plain date, or a date-time without
    # an offset); ``check_in`` / ``check_out`` then read them as UTC until the property's times and zone say
    # otherwise.
    check_in_unzoned: date | datetime | None = None
    check_out_unzoned: date | datetime | None = None

    @property
    def active(self) -> bool:
        """Not cancelled."""
        return self.status is not BookingStatus.CANCELLED

    def covers(self, instant: datetime) -> bool:
        """True while the guest is in the house at ``instant``."""
        return self.active and self.check_in <= instant < self.check_out


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """An entry of a property's calendar (Kasify bookings and blocks, casavi appointments, ...).

    ``all_day`` events keep the instants the upstream sent; their days are the local dates of ``start`` and
    ``end`` in the property's (or Home Assistant's) time zone.
    """

    id: str
    property_id: str
    kind: str
    title: str
    start: datetime
    end: datetime
    booking_id: str | None = None
    source: str | None = None
    description: str | None = None
    location: str | None = None
    all_day: bool = False


@dataclass(frozen=True, slots=True)
class Task:
    """A cleaning, maintenance or inspection task."""

    id: str
    property_id: str
    title: str
    status: TaskStatus = TaskStatus.PENDING
    task_type: str = TaskType.OTHER
    description: str | None = None
    due_at: datetime | None = None
    assignee_id: str | None = None
    booking_id: str | None = None
    # The state as the upstream sent it, when it is not one the integration knows.
    status_text: str | None = None
    # When it was completed (Kasify's ``completed_at``; inferred), for completed tasks.
    completed_at: datetime | None = None

    @property
    def open(self) -> bool:
        """Pending or in progress (neither completed nor in a state the integration does not know)."""
        return self.status in (TaskStatus.PENDING, TaskStatus.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class CheckinSnapshot:
    """A booking's guest check-in (Kasify's registration of the guests; the shape is inferred)."""

    booking_id: str
    status: str  # "pending", "partial" or "complete"
    registered: int  # guests registered so far
    expected: int | None  # guests the check-in expects (None: it does not say)


@dataclass(frozen=True, slots=True)
class AccessCode:
    """A timed access code for a booking on one lock."""

    id: str
    booking_id: str | None
    lock_id: str | None
    name: str | None
    code: str | None = field(repr=False)  # the PIN: never in logs or tracebacks
    starts_at: datetime | None
    ends_at: datetime | None
    status: str | None = None


class Feature(StrEnum):
    """What a property source reads through an endpoint its API does not document (the path is inferred).

    Each can be off on its own (:class:`EndpointNotUnderstood`) while the documented data stays available.
    """

    BOOKINGS = "bookings"  # Kasify
    TASKS = "tasks"  # Kasify
    COMPLETED_TASKS = "completed_tasks"  # Kasify: the tasks completed lately (a filtered task listing)
    APPOINTMENTS = "appointments"  # casavi
    TICKETS = "tickets"  # casavi


@dataclass(frozen=True, slots=True)
class EndpointNotUnderstood:
    """An inferred endpoint answered 404 or 400 (not a path or query the API knows): its feature is off."""

    endpoint: str  # "GET /bookings": method and path, never an id or a secret
    status: int


class PropertySnapshot(Protocol):
    """What every property source's refresh provides (Kasify's and casavi's snapshots both do).

    Entities that exist for every source (property devices, the calendar, the open-tasks sensor) are written
    once against this interface; source-specific entities use the concrete snapshot.
    """

    @property
    def properties(self) -> Mapping[str, Property]:
        """Properties by id."""

    @property
    def tasks(self) -> Mapping[str, tuple[Task, ...]]:
        """Open tasks (pending or in progress) per property."""

    @property
    def window_start(self) -> datetime:
        """Start of the time window the snapshot's calendar data covers."""

    @property
    def window_end(self) -> datetime:
        """End of the time window the snapshot's calendar data covers."""

    @property
    def degraded(self) -> Mapping[str, EndpointNotUnderstood]:
        """The features that are off (their data is unknown, not empty), by feature."""

    def property_slice(self, property_id: str) -> object:
        """Everything about one property, comparable with ``==``."""


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Everything one refresh learned about a Kasify account, keyed for cheap lookups."""

    properties: Mapping[str, Property]
    # Bookings overlapping [window_start, window_end), per property, sorted by check-in (cancelled included).
    bookings: Mapping[str, tuple[Booking, ...]]
    smart_locks: Mapping[str, SmartLock]
    # Open (pending or in progress) tasks per property.
    tasks: Mapping[str, tuple[Task, ...]]
    window_start: datetime
    window_end: datetime
    # Bookings or tasks whose listing was not understood: unknown (their mapping above is empty).
    degraded: Mapping[str, EndpointNotUnderstood] = field(default_factory=dict)
    # Tasks completed lately (the last 7 days, see ``KasifyClient.fetch_snapshot``) per property, the most
    # recently completed first.
    completed_tasks: Mapping[str, tuple[Task, ...]] = field(default_factory=dict)

    def active_bookings(self, property_id: str) -> list[Booking]:
        """The property's bookings that are not cancelled, by check-in."""
        return [b for b in self.bookings.get(property_id, ()) if b.active]

    def current_booking(self, property_id: str, now: datetime) -> Booking | None:
        """The booking whose guest is in the house at ``now``."""
        return next((b for b in self.active_bookings(property_id) if b.covers(now)), None)

    def next_booking(self, property_id: str, now: datetime) -> Booking | None:
        """The first booking that checks in after ``now``."""
        return next((b for b in self.active_bookings(property_id) if b.check_in > now), None)

    def last_booking(self, property_id: str, now: datetime) -> Booking | None:
        """The booking that checked out last at or before ``now`` (within the snapshot's window)."""
        ended = [b for b in self.active_bookings(property_id) if b.check_out <= now]
        return max(ended, key=lambda b: b.check_out) if ended else None

    def property_slice(self, property_id: str) -> object:
        """Everything about one property (compared by entities to skip unchanged writes)."""
        return (
            self.properties.get(property_id),
            self.bookings.get(property_id),
            self.tasks.get(property_id),
            self.completed_tasks.get(property_id),
        )

    def find_task(self, task_id: str) -> Task | None:
        """An open or lately completed task, by id."""
        for tasks in (*self.tasks.values(), *self.completed_tasks.values()):
            for task in tasks:
                if task.id == task_id:
                    return task
        return None

    def with_task(self, task: Task) -> AccountSnapshot:
        """This snapshot with ``task`` as Kasify answered it (open, completed, or left out when neither)."""
        return _replace_tasks(self, {task.id}, task)

    def without_tasks(self, task_ids: Collection[str]) -> AccountSnapshot:
        """This snapshot without the tasks ``task_ids`` (deleted)."""
        return _replace_tasks(self, task_ids, None)


def _replace_tasks(
    snapshot: AccountSnapshot, task_ids: Collection[str], task: Task | None
) -> AccountSnapshot:
    """``snapshot`` without the tasks ``task_ids``, plus ``task`` among the open or completed ones."""

    def drop(tasks: Mapping[str, tuple[Task, ...]]) -> dict[str, tuple[Task, ...]]:
        return {pid: tuple(t for t in items if t.id not in task_ids) for pid, items in tasks.items()}

    open_tasks, completed = drop(snapshot.tasks), drop(snapshot.completed_tasks)
    if task is not None and task.property_id in snapshot.properties:
        if task.open:
            open_tasks[task.property_id] = (*open_tasks.get(task.property_id, ()), task)
        elif task.status is TaskStatus.COMPLETED:
            completed[task.property_id] = (task, *completed.get(task.property_id, ()))
    return replace(
        snapshot,
        tasks={pid: items for pid, items in open_tasks.items() if items},
        completed_tasks={pid: items for pid, items in completed.items() if items},
    )
