"""RemoteLock endpoints and limits, and what the client returns: users, accounts, locations, locks, events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from .models import LockStatus

DEFAULT_API_URL: Final = "https://api.remotelock.com"
DEFAULT_OAUTH_URL: Final = "https://connect.remotelock.com"
AUTHORIZE_PATH: Final = "/oauth/authorize"
TOKEN_PATH: Final = "/oauth/token"  # noqa: S105 - a path, not a secret
ACCEPT: Final = "application/vnd.lockstate.v1+json"

DEFAULT_TIMEOUT: Final = 15.0
PER_PAGE: Final = 50
MAX_RESULTS: Final = 10_000
"""The API serves at most this many items of a collection (``page * per_page <= 10 000``)."""
RATE_LIMIT: Final = 120
RATE_WINDOW: Final = 60.0
TOKEN_LEEWAY: Final = 60.0
"""Renew an access token this many seconds before it expires."""
MAX_RESET_WAIT: Final = 300.0
"""Upper bound for a wait read from ``X-RateLimit-Reset`` (a skewed clock must not stall us for hours)."""


LOCK_TYPES: Final = ("lock", "zwave_lock", "schlage_home_lock")
"""Device types with a ``state`` that ``PUT /devices/{id}/lock|unlock`` accepts."""
DEVICE_TYPES: Final = frozenset(
    {*LOCK_TYPES, "resort_lock", "connector_lock", "igloo_lock", "acs_door", "thermostat", "power_plug"}
)
"""Event publisher/associated types that are devices (the rest are access persons, locations, ...)."""
ACCESS_PERSON_TYPES: Final = frozenset({"access_user", "access_guest"})
WEBHOOK_EVENTS: Final = (
    "unlocked",
    "locked",
    "access_denied",
    "access_person_used",
    "access_person_synced",
    "access_person_sync_failed",
    "access_guest_late_sync",
    "power_level_low",
    "connectivity",
)
"""Event types the integration's own webhook subscribes to (an ``account`` publisher takes any type)."""
WEBHOOK_SUBSCRIBER_TYPE: Final = "webhook_notification_subscriber"


@dataclass(frozen=True, slots=True)
class RemoteLockUser:
    """The signed-in user (``GET /user``)."""

    id: str
    name: str
    handle: str | None = None
    primary_account_id: str | None = None
    default_account_id: str | None = None

    @property
    def account_id(self) -> str:
        """The account the API works on (default, else primary account; else the user id)."""
        return self.default_account_id or self.primary_account_id or self.id


@dataclass(frozen=True, slots=True)
class RemoteLockAccount:
    """The current account (``GET /account``)."""

    id: str
    name: str
    default_guest_start_time: str | None = None
    default_guest_end_time: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteLockLocation:
    """A location: what the integration maps to a Kasify property."""

    id: str
    name: str
    time_zone: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteLockLock:
    """A lock device. ``state`` is the raw upstream value, ``status`` its vendor-neutral reading.

    Secrets the device carries (``programming_code``, ``local_pins``) are never read.
    """

    id: str
    name: str
    type: str
    status: LockStatus
    state: str | None = None
    battery_level: int | None = None
    power_source: str | None = None
    connected: bool | None = None
    alive: bool | None = None
    connected_at: datetime | None = None
    location_id: str | None = None
    model_id: str | None = None
    model_number: str | None = None
    serial_number: str | None = None
    signal_quality: int | None = None

    @property
    def can_lock(self) -> bool:
        """Whether ``PUT /devices/{id}/lock|unlock`` applies to this device type."""
        return self.type in LOCK_TYPES

    @property
    def device_key(self) -> str:
        """The lock device's identifier ``remotelock_<device id>``."""
        return f"remotelock_{self.id}"


@dataclass(frozen=True, slots=True)
class RemoteLockEvent:
    """One event (polled from ``GET /events`` or pushed by a webhook). PINs and card numbers are dropped.

    ``type`` is the event name without the ``_event`` suffix (``unlocked``, ``access_person_used``, ...).
    ``lock_id`` is the device the event is about, whichever side (publisher or associated resource) it is
    on; ``access_person_id`` likewise names the code's owner.
    """

    id: str
    type: str
    occurred_at: datetime
    created_at: datetime | None = None
    lock_id: str | None = None
    status: str | None = None
    source: str | None = None
    method: str | None = None
    access_person_id: str | None = None
    access_person_type: str | None = None
    associated_name: str | None = None
    power_level: int | None = None
    time_zone: str | None = None
    status_info: str | None = None


@dataclass(frozen=True, slots=True)
class EventBatch:
    """New events, oldest first (ties in the order they were recorded), each id once.

    ``cursor`` is the id of the newest event the API has (by creation): pass it as ``since_id`` next time.
    ``complete`` is false when ``max_pages`` ran out before reaching ``since_id`` or the time bound, i.e. some
    events in between may have been skipped.
    """

    events: tuple[RemoteLockEvent, ...]
    cursor: str | None
    complete: bool


@dataclass(frozen=True, slots=True)
class RemoteLockAccessPerson:
    """An access guest (timed) or access user (permanent).

    ``starts_at``/``ends_at`` are naive: the lock's local time, as the API keeps them. ``pin`` is only filled
    in on the value :meth:`RemoteLockClient.create_access_guest` returns (so a generated PIN can be handed to
    the caller once); it is left out of ``repr`` and comparisons, and lists never carry it.
    """

    id: str
    type: str
    name: str
    status: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    created_at: datetime | None = None
    pin: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class RemoteLockAccess:
    """An access grant of an access person to a lock (or door group, location, ...), with its sync counts."""

    id: str
    access_person_id: str | None
    access_person_type: str | None
    accessible_id: str | None
    accessible_type: str | None
    devices_count: int = 0
    devices_synced_count: int = 0
    devices_pending_sync_count: int = 0
    devices_failed_sync_count: int = 0
    guest_start_time: str | None = None
    guest_end_time: str | None = None

    @property
    def sync_status(self) -> str:
        """``failed`` when any device failed, ``pending`` while any waits, else ``synced``."""
        if self.devices_failed_sync_count:
            return "failed"
        if self.devices_pending_sync_count:
            return "pending"
        return "synced"


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    """A webhook set up by :meth:`RemoteLockClient.create_webhook`: keep both ids to remove it again."""

    subscriber_id: str
    subscription_id: str


@dataclass(frozen=True, slots=True)
class WebhookSubscriber:
    """A webhook notification subscriber as RemoteLock reports it now (its secret is not kept).

    ``active`` is false once RemoteLock deactivated it (deliveries failed for 72 hours) or someone turned it
    off; an inactive subscriber receives nothing.
    """

    id: str
    active: bool
    url: str | None
