"""Nuki Web API defaults and limits, and what the client returns: the account, devices, keypad codes, logs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Final

from .models import LockStatus, lock_status_from_nuki

DEFAULT_BASE_URL: Final = "https://api.nuki.io"
DEFAULT_TIMEOUT: Final = 15.0
MAX_LOG_LIMIT: Final = 50
"""The most log entries one request may ask for."""
KEYPAD_CODE_AUTH_TYPE: Final = 13
KEYPAD_NAME_MAX_LENGTH: Final = 20
"""Nuki's PIN guide says 20 characters (the spec says 32); the stricter limit is enforced."""
DEFAULT_AUTH_POLL_DELAYS: Final[tuple[float, ...]] = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0)
"""Seconds to wait before each look for a new keypad code (about 20 s in all)."""
SMART_HOSTING_MARKER: Final = "smart hosting"
"""Text in every Smart Hosting refusal the API is documented to send."""
ACTIVE_SUBSCRIPTION_STATES: Final = frozenset({"ACTIVE", "PENDING_CANCEL"})
"""``currentSubscription.state`` values under which a lock is operable (a pending cancel runs to its end)."""


class NukiDeviceType(IntEnum):
    """``Smartlock.type``."""

    SMART_LOCK = 0  # Smart Lock 1.0 / 2.0 ("keyturner")
    BOX = 1
    OPENER = 2
    SMART_DOOR = 3
    SMART_LOCK_3 = 4  # Smart Lock 3.0 / 4th generation
    SMART_LOCK_5 = 5


class NukiAction(IntEnum):
    """``action`` codes of ``POST /smartlock/{id}/action``.

    The Opener uses the same numbers for its own actions: 1 activates ring to open (HA "unlock"),
    2 deactivates it (HA "lock") and 3 opens the door (electric strike, HA "open").
    """

    UNLOCK = 1
    LOCK = 2
    UNLATCH = 3
    LOCK_N_GO = 4
    LOCK_N_GO_UNLATCH = 5


class NukiServerState(IntEnum):
    """``Smartlock.serverState``."""

    OK = 0
    UNREGISTERED = 1
    AUTH_UUID_INVALID = 2
    AUTH_INVALID = 3
    OFFLINE = 4


class NukiEvent(StrEnum):
    """What a log entry means for the activity ``event`` entity (see :attr:`NukiLogEntry.event`)."""

    UNLOCKED = "unlocked"
    LOCKED = "locked"
    OPENED = "opened"
    CODE_USED = "code_used"
    ACCESS_DENIED = "access_denied"
    DOOR_OPENED = "door_opened"
    DOOR_CLOSED = "door_closed"
    JAMMED = "jammed"
    FAILED = "failed"


_MODELS: Final[dict[int, str]] = {
    NukiDeviceType.SMART_LOCK: "Smart Lock",
    NukiDeviceType.BOX: "Box",
    NukiDeviceType.OPENER: "Opener",
    NukiDeviceType.SMART_DOOR: "Smart Door",
    NukiDeviceType.SMART_LOCK_3: "Smart Lock 3.0/4th gen",
    NukiDeviceType.SMART_LOCK_5: "Smart Lock 5",
}
_LOCK_ACTIONS: Final = frozenset(NukiAction)
_ACTIONS_BY_TYPE: Final[dict[int, frozenset[NukiAction]]] = {
    NukiDeviceType.BOX: frozenset({NukiAction.UNLOCK}),
    NukiDeviceType.OPENER: frozenset({NukiAction.UNLOCK, NukiAction.LOCK, NukiAction.UNLATCH}),
}
_OPENER_CONTINUOUS_MODE: Final = 3
_DOOR_CLOSED: Final = 2
_DOOR_OPENED: Final = 3
_DOOR_NO_SENSOR: Final = frozenset({0, 1})  # unavailable / not paired, deactivated
_LOG_DOOR_OPENED: Final = 240
_LOG_DOOR_CLOSED: Final = 241
_LOG_SUCCESS: Final = 0
_LOG_MOTOR_BLOCKED: Final = 1
_LOG_DENIED_STATES: Final = frozenset({224, 225, 226})  # invalid code, fingerprint, NFC tag
_TRIGGER_KEYPAD_ERROR: Final = 253
_TRIGGER_KEYPAD: Final = 255
_SOURCE_KEYPAD_CODE: Final = 1


@dataclass(frozen=True, slots=True)
class NukiAccount:
    """The Nuki account the API token belongs to (``id`` is the config entry's unique id)."""

    id: str
    name: str
    email: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class NukiSmartLock:
    """One Nuki device from ``GET /smartlock`` with its live state.

    A list item that only carries the Smart Hosting error (as Nuki documents: no name, no ``state``) still
    parses: ``lock_state`` and the battery fields are then ``None`` (:attr:`state_reported` is false, keep the
    last known state), ``error`` holds the message and :attr:`subscription_missing` is true.
    """

    id: int
    name: str
    type: int
    lock_state: int | None = None
    mode: int | None = None
    door_state: int | None = None
    battery_charge: int | None = None
    battery_critical: bool | None = None
    battery_charging: bool | None = None
    keypad_battery_critical: bool | None = None
    door_sensor_battery_critical: bool | None = None
    keypad_paired: bool = False
    server_state: int = NukiServerState.OK
    firmware_version: int | None = None
    hardware_version: int | None = None
    subscription_state: str | None = None
    subscription_type: str | None = None
    subscription_expires_at: datetime | None = None
    smart_hosting_active: bool | None = None
    """``True``/``False`` when the API says so (subscription state, or the Smart Hosting error); ``None``
    when it says nothing (accounts without Smart Hosting subscriptions)."""
    operation_pending: bool = False
    error: str | None = None

    @property
    def device_key(self) -> str:
        """The lock device's identifier ``nuki_<smartlockId>`` as Kasify's ``device_key``."""
        return f"nuki_{self.id}"

    @property
    def model(self) -> str:
        """Product name for the device registry."""
        return _MODELS.get(self.type, f"Nuki device type {self.type}")

    @property
    def is_opener(self) -> bool:
        """An Opener (intercom): "unlock" is ring to open, "lock" turns it off, "open" buzzes the door."""
        return self.type == NukiDeviceType.OPENER

    @property
    def state_reported(self) -> bool:
        """Whether the item carried a ``state`` (a Smart Hosting error item does not)."""
        return self.lock_state is not None

    @property
    def status(self) -> LockStatus:
        """Vendor-neutral state.

        Opener states share the lock numbering where it matters (1 online = ring to open off → locked,
        3 ring to open active → unlocked, 5 open, 7 opening, 0/253/255 unknown); continuous mode is unlocked.
        """
        if self.is_opener and self.mode == _OPENER_CONTINUOUS_MODE and self.lock_state is not None:
            return LockStatus.UNLOCKED
        return lock_status_from_nuki(self.lock_state)

    @property
    def supported_actions(self) -> frozenset[NukiAction]:
        """The actions the device type accepts."""
        return _ACTIONS_BY_TYPE.get(self.type, _LOCK_ACTIONS)

    @property
    def supports_lock(self) -> bool:
        """Whether :meth:`NukiClient.lock` applies."""
        return NukiAction.LOCK in self.supported_actions

    @property
    def supports_unlock(self) -> bool:
        """Whether :meth:`NukiClient.unlock` applies."""
        return NukiAction.UNLOCK in self.supported_actions

    @property
    def supports_open(self) -> bool:
        """Whether :meth:`NukiClient.unlatch` (HA "open") applies."""
        return NukiAction.UNLATCH in self.supported_actions

    @property
    def has_door_sensor(self) -> bool:
        """Whether a paired, active door sensor reports."""
        return self.door_state is not None and self.door_state not in _DOOR_NO_SENSOR

    @property
    def door_open(self) -> bool | None:
        """``True`` opened, ``False`` closed, ``None`` for every other door state."""
        if self.door_state == _DOOR_OPENED:
            return True
        if self.door_state == _DOOR_CLOSED:
            return False
        return None

    @property
    def connected(self) -> bool:
        """Reachable through the Web API (``serverState`` 0; 4 is offline, 1-3 registration problems)."""
        return self.server_state == NukiServerState.OK

    @property
    def subscription_missing(self) -> bool:
        """The API says the lock has no active Smart Hosting subscription (show a repair issue)."""
        return self.smart_hosting_active is False

    @property
    def firmware(self) -> str | None:
        """``firmwareVersion`` as ``major.minor.patch`` (one byte each: 199175 → ``3.10.7``; inferred)."""
        version = self.firmware_version
        if version is None or version < 0:
            return None
        return f"{version >> 16}.{(version >> 8) & 0xFF}.{version & 0xFF}"


@dataclass(frozen=True, slots=True)
class NukiKeypadCode:
    """A keypad code (authorization type 13) of one lock.

    Listings say whether there is a code (``has_code``) but keep the PIN out (``code`` is ``None``) unless
    asked for; ``code`` never appears in ``repr``.
    """

    id: str
    smartlock_id: int
    name: str
    enabled: bool = True
    has_code: bool = False
    allowed_from: datetime | None = None
    allowed_until: datetime | None = None
    allowed_weekdays: int | None = None
    allowed_from_time: int | None = None
    allowed_until_time: int | None = None
    slot_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_active_at: datetime | None = None
    pending: bool = False
    """An asynchronous change is still being written to the device (``operationId`` set)."""
    error: str | None = None
    code: int | None = field(default=None, repr=False)

    def valid_at(self, instant: datetime) -> bool:
        """Enabled and inside the allowed date window at ``instant`` (the daily window is not checked)."""
        if not self.enabled:
            return False
        if self.allowed_from is not None and instant < self.allowed_from:
            return False
        return self.allowed_until is None or instant < self.allowed_until


@dataclass(frozen=True, slots=True)
class NukiLogEntry:
    """One entry of a lock's activity log; ``name`` is who acted (a user or a keypad code's name, no PIN)."""

    id: str
    smartlock_id: int
    device_type: int
    action: int
    trigger: int
    state: int
    date: datetime
    name: str | None = None
    auth_id: str | None = None
    source: int | None = None
    auto_unlock: bool = False
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        """Completion state 0."""
        return self.state == _LOG_SUCCESS

    @property
    def via_keypad(self) -> bool:
        """Triggered on a keypad (trigger 255, or source 1 "keypad code")."""
        return self.trigger == _TRIGGER_KEYPAD or self.source == _SOURCE_KEYPAD_CODE

    @property
    def event(self) -> NukiEvent | None:
        """What the entry means for the activity event entity; ``None`` for bookkeeping entries.

        A wrong code, fingerprint or NFC tag (or a keypad error trigger) is ``ACCESS_DENIED``; a successful
        unlock or unlatch through a keypad code is ``CODE_USED``; unlock is ``UNLOCKED``, lock and the two
        lock 'n' go actions (which end locked) ``LOCKED``, unlatch ``OPENED``; door sensor open/close; motor
        blocked ``JAMMED`` and any other failure ``FAILED``. Entries carrying an ``error`` are ``None``.
        """
        if self.error:
            return None
        if self.state in _LOG_DENIED_STATES or self.trigger == _TRIGGER_KEYPAD_ERROR:
            return NukiEvent.ACCESS_DENIED
        if self.action == _LOG_DOOR_OPENED:
            return NukiEvent.DOOR_OPENED
        if self.action == _LOG_DOOR_CLOSED:
            return NukiEvent.DOOR_CLOSED
        if self.action not in _LOCK_ACTIONS:
            return None
        if self.state == _LOG_MOTOR_BLOCKED:
            return NukiEvent.JAMMED
        if not self.succeeded:
            return NukiEvent.FAILED
        if self.via_keypad and self.action in (NukiAction.UNLOCK, NukiAction.UNLATCH):
            return NukiEvent.CODE_USED
        if self.action == NukiAction.UNLOCK:
            return NukiEvent.UNLOCKED
        if self.action == NukiAction.UNLATCH:
            return NukiEvent.OPENED
        return NukiEvent.LOCKED


@dataclass(frozen=True, slots=True)
class NukiSnapshot:
    """What one refresh learned: every lock by id (in API order) and the newest log entries (newest first)."""

    locks: Mapping[int, NukiSmartLock]
    logs: tuple[NukiLogEntry, ...] = ()
