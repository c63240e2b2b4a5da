"""UniFi Access port, paths and timeouts, and what the client returns: doors, rules, visitors, push events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final

from unifi_access_api.const import DEVICE_NOTIFICATIONS_URL

from .models import LockStatus

DEFAULT_PORT: Final = 12445
DEFAULT_TIMEOUT: Final = 10.0
API_ROOT: Final = "/api/v1/developer"
NOTIFICATIONS_PATH: Final = DEVICE_NOTIFICATIONS_URL
SUCCESS: Final = "SUCCESS"


class LockRuleType(StrEnum):
    """Temporary lock rules of a door (``PUT/GET /doors/{id}/lock_rule``).

    ``SCHEDULE`` and ``NONE`` are only ever read; the others can be set (:data:`SETTABLE_LOCK_RULES`).
    """

    KEEP_LOCK = "keep_lock"
    KEEP_UNLOCK = "keep_unlock"
    CUSTOM = "custom"
    RESET = "reset"
    LOCK_EARLY = "lock_early"
    LOCK_NOW = "lock_now"
    SCHEDULE = "schedule"
    NONE = ""


SETTABLE_LOCK_RULES: Final = frozenset(
    {
        LockRuleType.KEEP_LOCK,
        LockRuleType.KEEP_UNLOCK,
        LockRuleType.CUSTOM,
        LockRuleType.RESET,
        LockRuleType.LOCK_EARLY,
        LockRuleType.LOCK_NOW,
    }
)


class DoorPosition(StrEnum):
    """What the door position sensor (DPS) reports."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class UnifiDoor:
    """A door of the controller, as one ``GET /doors`` item.

    Attributes:
        id: The door id (used for unlock; Kasify's ``unifi_smartlock.door_id``).
        name: Short name, e.g. "Main Door".
        full_name: Name with console and floor, e.g. "UNVR - 1F - Main Door" (``name`` when absent).
        floor_id: The floor the door is on, when given.
        status: The lock relay: ``lock`` → LOCKED, ``unlock`` → UNLOCKED.
        position: The DPS sensor: open or closed; ``None`` when the door has no sensor.
        is_bind_hub: Whether a hub drives the door, which remote unlock and lock rules need.
        supported_lock_rules: The rule types :meth:`UnifiAccessClient.set_lock_rule` can set on this door
            (all settable ones with a hub, none without). ``lock_early`` only acts during an unlock schedule.
    """

    id: str
    name: str
    full_name: str
    floor_id: str | None
    status: LockStatus
    position: DoorPosition | None
    is_bind_hub: bool
    supported_lock_rules: frozenset[LockRuleType]

    @property
    def can_unlock(self) -> bool:
        """Whether ``PUT /doors/{id}/unlock`` can work (the door is bound to a hub)."""
        return self.is_bind_hub

    @property
    def can_lock(self) -> bool:
        """Whether the door can be locked at once (the ``lock_now`` rule; the API has no lock endpoint)."""
        return LockRuleType.LOCK_NOW in self.supported_lock_rules

    @property
    def has_position_sensor(self) -> bool:
        """Whether the door reports open/closed."""
        return self.position is not None

    @property
    def device_key(self) -> str:
        """The lock device's identifier, the same as a Kasify ``SmartLock.device_key`` for it."""
        return f"unifi_{self.id}"


@dataclass(frozen=True, slots=True)
class LockRule:
    """The door's current temporary lock rule; ``ends_at`` is ``None`` when the API gave no end."""

    type: LockRuleType
    ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class VisitorResource:
    """A door or door group a visitor may open."""

    id: str
    type: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Visitor:
    """A visitor: the UniFi Access way to give someone a timed PIN code.

    ``has_pin`` says whether a PIN is assigned; the API never returns the PIN itself.
    """

    id: str
    first_name: str
    last_name: str
    status: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    resources: tuple[VisitorResource, ...]
    has_pin: bool
    remarks: str = ""

    @property
    def name(self) -> str:
        """First and last name, as the controller shows the visitor."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def door_ids(self) -> tuple[str, ...]:
        """The doors among the resources (door groups are not expanded)."""
        return tuple(resource.id for resource in self.resources if resource.type == "door")


class ActivityKind(StrEnum):
    """What happened at a door, for the lock activity event entity."""

    UNLOCKED = "unlocked"
    CODE_USED = "code_used"
    ACCESS_DENIED = "access_denied"


@dataclass(frozen=True, slots=True)
class DoorStateEvent:
    """A pushed change of a door's lock relay and/or position sensor.

    Only what the message carried is set: ``status`` is ``None`` when it said nothing about the lock, and
    ``position_reported`` tells whether ``position`` (``None`` = no sensor) came with it. Use :meth:`apply`.
    """

    door_id: str
    status: LockStatus | None
    position: DoorPosition | None
    position_reported: bool
    event: str

    def apply(self, door: UnifiDoor) -> UnifiDoor:
        """The door with this change applied (the same object when nothing changes)."""
        status = door.status if self.status is None else self.status
        position = self.position if self.position_reported else door.position
        if status == door.status and position == door.position:
            return door
        return replace(door, status=status, position=position)


@dataclass(frozen=True, slots=True)
class DoorActivityEvent:
    """Someone used a door: a remote unlock, a credential (``code_used`` for a PIN) or a refused attempt.

    ``actor`` is who the controller names (a visitor's or user's name; never a PIN); ``method`` the credential
    provider it reports (``PIN_CODE``, ``NFC``, ``REMOTE``, ...).
    """

    door_id: str
    kind: ActivityKind
    actor: str | None
    method: str | None
    at: datetime | None
    event: str


type UnifiEvent = DoorStateEvent | DoorActivityEvent
type EventCallback = Callable[[UnifiEvent], Awaitable[None] | None]
type Callback = Callable[[], Awaitable[None] | None]
