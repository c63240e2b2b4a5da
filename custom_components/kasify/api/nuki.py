"""Async client for the Nuki Web API (``https://api.nuki.io``).

Facts come from the Nuki Web API 1.5.0 documentation and its Smart Hosting page. The client takes
an injected :class:`aiohttp.ClientSession` (Home Assistant's shared session) and never closes it. Every
path lives in :class:`Paths`.

Request costs: one ``GET /smartlock`` returns every lock of the account with its live state, so a refresh
of N locks is 1 request, plus 1 for the account-wide ``GET /smartlock/log``
(:meth:`NukiClient.fetch_snapshot`).

Errors map into :mod:`.errors`. A body that names the missing Smart Hosting subscription
(``{"error": ...}`` or ``{"detailMessage": ...}``, whatever the status) is
:class:`SmartHostingRequiredError`; 402 "Account not payed" and 426 "upgrade required" are
:class:`SubscriptionRequiredError`; 405 is :class:`NotSupportedError`; 423 is :class:`BusyError`; 400/422
are :class:`ValidationError`, with the message from ``detailMessage`` or the framework's
``{"code", "reasonPhrase", "description"}`` status object and ``fields`` from "for parameter 'x'"; the
rest map as for every client (:func:`.http.error_for_status`). Tokens and keypad PINs are scrubbed from
error messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from functools import partial
from http import HTTPStatus
import random
import re
import secrets
from typing import Any, Final

import aiohttp

from .errors import (
    BusyError,
    KasifyApiError,
    NotSupportedError,
    OperationPendingError,
    SmartHostingRequiredError,
    SubscriptionRequiredError,
    ValidationError,
)
from .http import HttpTransport, Request, error_for_status, error_summary, json_object, quote_segment
from .models import LockStatus, lock_status_from_nuki
from .parse import Reader, as_list, as_object

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

type Sleep = Callable[[float], Awaitable[None]]

_PARAMETER: Final = re.compile(r"for parameter '([^']+)'")
_LONG_NUMBER: Final = re.compile(r"\d{6,}")
_DIGITS_1_TO_9: Final = "123456789"


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


def _seg(value: int | str) -> str:
    return quote_segment(str(value))


class Paths:
    """Every Nuki Web API path the client uses."""

    ACCOUNT = "/account"
    SMARTLOCKS = "/smartlock"
    LOGS = "/smartlock/log"

    @staticmethod
    def smartlock(smartlock_id: int | str) -> str:
        """One lock."""
        return f"/smartlock/{_seg(smartlock_id)}"

    @staticmethod
    def action(smartlock_id: int | str) -> str:
        """Lock actions (``{"action", "option"}``)."""
        return f"/smartlock/{_seg(smartlock_id)}/action"

    @staticmethod
    def auths(smartlock_id: int | str) -> str:
        """A lock's authorizations (list, create)."""
        return f"/smartlock/{_seg(smartlock_id)}/auth"

    @staticmethod
    def auth(smartlock_id: int | str, auth_id: str) -> str:
        """One authorization of a lock."""
        return f"/smartlock/{_seg(smartlock_id)}/auth/{_seg(auth_id)}"

    @staticmethod
    def smartlock_logs(smartlock_id: int | str) -> str:
        """One lock's log."""
        return f"/smartlock/{_seg(smartlock_id)}/log"


# --- models -------------------------------------------------------------------------------------


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

    A list item that only carries the Smart Hosting error (seed page: no name, no ``state``) still parses:
    ``lock_state`` and the battery fields are then ``None`` (:attr:`state_reported` is false, keep the last
    known state), ``error`` holds the message and :attr:`subscription_missing` is true.
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


# --- keypad code rules --------------------------------------------------------------------------


def keypad_code_problem(code: int | str) -> str | None:
    """Why ``code`` breaks Nuki's keypad rules (6 digits 1-9, not starting with 12); ``None`` if valid."""
    if isinstance(code, bool):
        return "must be a number"
    text = str(code).strip()
    if len(text) != 6 or not text.isdigit():
        return "must be exactly 6 digits"
    if "0" in text:
        return "must not contain the digit 0"
    if text.startswith("12"):
        return "must not start with 12"
    return None


def validate_keypad_code(code: int | str) -> int:
    """Return ``code`` as the integer the API takes.

    Raises:
        ValidationError: When it breaks the keypad rules (``fields["code"]`` says how; the PIN is not in it).
    """
    problem = keypad_code_problem(code)
    if problem is not None:
        raise ValidationError(f"Keypad code {problem}", fields={"code": [problem]})
    return int(str(code).strip())


def generate_keypad_code(existing: Iterable[int | str] = (), *, rng: random.Random | None = None) -> int:
    """A random valid keypad code that is not in ``existing`` (cryptographically random unless ``rng``)."""
    chooser = rng or secrets.SystemRandom()
    taken = {str(code).strip() for code in existing}
    for _ in range(10_000):
        text = "".join(chooser.choice(_DIGITS_1_TO_9) for _ in range(6))
        if not text.startswith("12") and text not in taken:
            return int(text)
    raise ValueError("no free keypad code found")  # pragma: no cover - 524,880 valid codes per lock


def _validate_keypad_name(name: str) -> str:
    text = name.strip()
    if not text:
        raise ValidationError("Keypad code name must not be empty", fields={"name": ["must not be empty"]})
    if len(text) > KEYPAD_NAME_MAX_LENGTH:
        problem = f"must be at most {KEYPAD_NAME_MAX_LENGTH} characters"
        raise ValidationError(f"Keypad code name {problem}", fields={"name": [problem]})
    return text


def _check_window(
    allowed_from: datetime | None,
    allowed_until: datetime | None,
    weekdays: int,
    from_time: int,
    until_time: int,
) -> None:
    fields: dict[str, list[str]] = {}
    if allowed_from is not None and allowed_until is not None and allowed_until <= allowed_from:
        fields["allowed_until"] = ["must be after the start"]
    if not 1 <= weekdays <= 127:
        fields["allowed_weekdays"] = ["must be a weekday bitmask from 1 to 127"]
    for key, minutes in (("allowed_from_time", from_time), ("allowed_until_time", until_time)):
        if not 0 <= minutes <= 1440:
            fields[key] = ["must be minutes after midnight (0-1440)"]
    if fields:
        raise ValidationError("Invalid keypad code window", fields=fields)


def nuki_time(value: datetime) -> str:
    """An aware instant as the API writes dates: UTC with milliseconds, ``2023-12-20T13:00:00.000Z``."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not accepted; pass an aware datetime")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- parsing ------------------------------------------------------------------------------------


def is_smart_hosting_message(text: str | None) -> bool:
    """Whether an error text is the Smart Hosting refusal."""
    return bool(text) and SMART_HOSTING_MARKER in (text or "").lower()


def _pending(raw: Mapping[str, Any]) -> bool:
    # ``operationId`` is a string on locks and an ObjectId object on auths; only its presence matters.
    return raw.get("operationId") not in (None, "", {})


def parse_account(r: Reader) -> NukiAccount:
    """Parse ``GET /account`` (MyAccount)."""
    account_id = r.str("accountId")
    return NukiAccount(
        id=account_id,
        name=r.opt_str("name") or r.opt_str("email") or f"Nuki {account_id}",
        email=r.opt_str("email"),
        language=r.opt_str("language"),
    )


def parse_smartlock(raw: Any, where: str) -> NukiSmartLock:
    """Parse a Smartlock; everything but ``smartlockId`` may be missing (Smart Hosting error items)."""
    obj = as_object(raw, where)
    r = Reader(obj, where)
    smartlock_id = r.int("smartlockId")
    state = r.opt_object("state")
    config = r.opt_object("config")
    subscription = r.opt_object("currentSubscription")
    error = r.opt_str("error")
    subscription_state = subscription.opt_str("state") if subscription else None
    smart_hosting: bool | None = None
    if is_smart_hosting_message(error):
        smart_hosting = False
    elif subscription_state is not None:
        smart_hosting = subscription_state.upper() in ACTIVE_SUBSCRIPTION_STATES
    return NukiSmartLock(
        id=smartlock_id,
        name=r.opt_str("name") or (config.opt_str("name") if config else None) or f"Nuki {smartlock_id}",
        type=r.int("type", NukiDeviceType.SMART_LOCK),
        lock_state=state.opt_int("state") if state else None,
        mode=state.opt_int("mode") if state else None,
        door_state=state.opt_int("doorState") if state else None,
        battery_charge=state.opt_int("batteryCharge") if state else None,
        battery_critical=state.opt_bool("batteryCritical") if state else None,
        battery_charging=state.opt_bool("batteryCharging") if state else None,
        keypad_battery_critical=state.opt_bool("keypadBatteryCritical") if state else None,
        door_sensor_battery_critical=state.opt_bool("doorsensorBatteryCritical") if state else None,
        keypad_paired=bool(config and (config.bool("keypadPaired") or config.bool("keypad2Paired"))),
        server_state=r.int("serverState", NukiServerState.OK),
        firmware_version=r.opt_int("firmwareVersion"),
        hardware_version=r.opt_int("hardwareVersion"),
        subscription_state=subscription_state,
        subscription_type=subscription.opt_str("shsSubscriptionType") if subscription else None,
        subscription_expires_at=subscription.opt_datetime("expirationDate") if subscription else None,
        smart_hosting_active=smart_hosting,
        operation_pending=_pending(obj),
        error=error,
    )


def parse_keypad_code(raw: Any, where: str, *, include_code: bool = False) -> NukiKeypadCode:
    """Parse a SmartlockAuth; the PIN is kept only with ``include_code``."""
    obj = as_object(raw, where)
    r = Reader(obj, where)
    code = r.opt_int("code")
    return NukiKeypadCode(
        id=r.str("id"),
        smartlock_id=r.int("smartlockId"),
        name=r.opt_str("name") or "",
        enabled=r.bool("enabled", default=True),
        has_code=code is not None,
        allowed_from=r.opt_datetime("allowedFromDate"),
        allowed_until=r.opt_datetime("allowedUntilDate"),
        allowed_weekdays=r.opt_int("allowedWeekDays"),
        allowed_from_time=r.opt_int("allowedFromTime"),
        allowed_until_time=r.opt_int("allowedUntilTime"),
        slot_id=r.opt_int("authId"),
        created_at=r.opt_datetime("creationDate"),
        updated_at=r.opt_datetime("updateDate"),
        last_active_at=r.opt_datetime("lastActiveDate"),
        pending=_pending(obj),
        error=r.opt_str("error"),
        code=code if include_code else None,
    )


def parse_log_entry(r: Reader) -> NukiLogEntry:
    """Parse a SmartlockLog (Smart Hosting error entries have no ``name`` and 255 everywhere)."""
    return NukiLogEntry(
        id=r.str("id"),
        smartlock_id=r.int("smartlockId"),
        device_type=r.int("deviceType", 0),
        action=r.int("action", 0),
        trigger=r.int("trigger", 0),
        state=r.int("state", 0),
        date=r.datetime("date"),
        name=r.opt_str("name"),
        auth_id=r.opt_str("authId"),
        source=r.opt_int("source"),
        auto_unlock=r.bool("autoUnlock"),
        error=r.opt_str("error"),
    )


# --- client -------------------------------------------------------------------------------------


class NukiClient:
    """Nuki Web API client for one API token.

    Every method makes exactly one request unless its docstring says otherwise.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        auth_poll_delays: Sequence[float] = DEFAULT_AUTH_POLL_DELAYS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Use ``session`` (not owned) with the bearer ``token``.

        Args:
            session: The shared aiohttp session; never closed here.
            token: Nuki Web API token (or OAuth2 access token).
            base_url: API root; tests point it at the simulator.
            timeout: Seconds per request.
            auth_poll_delays: Waits before each look for a new keypad code (see :meth:`create_keypad_code`).
            sleep: How to wait those delays (tests inject one that moves a simulated clock).
        """
        self._base_url = base_url.rstrip("/")
        self._http = HttpTransport(
            session,
            timeout=timeout,
            error_for=_error_for,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            secrets=(token,),
        )
        self._auth_poll_delays = tuple(auth_poll_delays)
        self._sleep = sleep

    @property
    def base_url(self) -> str:
        """The API root the client talks to."""
        return self._base_url

    # -- transport --------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        lock_id: int | str | None = None,
        secrets_: Collection[str] = (),
    ) -> Any:
        """Perform one request and return the decoded JSON body (``None`` for 204 or an empty body)."""
        request = Request(
            method,
            f"{self._base_url}{path}",
            f"{method} {path}",
            params=params,
            json=json_body,
            secrets=tuple(secrets_),
        )
        return await self._http.request_json(request, partial(_error_for, lock_id=lock_id))

    async def _list(self, path: str, **kwargs: Any) -> list[Any]:
        return as_list(await self._request("GET", path, **kwargs), f"GET {path}")

    # -- account and locks ------------------------------------------------------------------------

    async def get_account(self) -> NukiAccount:
        """``GET /account`` — the account behind the token (its id is the config entry's unique id)."""
        body = await self._request("GET", Paths.ACCOUNT)
        return parse_account(Reader(body, f"GET {Paths.ACCOUNT}"))

    async def list_smartlocks(self) -> list[NukiSmartLock]:
        """``GET /smartlock`` — every device of the account with live state, in one request."""
        where = f"GET {Paths.SMARTLOCKS}"
        items = await self._list(Paths.SMARTLOCKS)
        return [parse_smartlock(item, f"{where}[{i}]") for i, item in enumerate(items)]

    async def get_smartlock(self, smartlock_id: int | str) -> NukiSmartLock:
        """``GET /smartlock/{id}`` — one device (use after an action to refresh only that lock)."""
        path = Paths.smartlock(smartlock_id)
        return parse_smartlock(await self._request("GET", path, lock_id=smartlock_id), f"GET {path}")

    async def fetch_snapshot(self, *, logs_since: datetime | None = None, logs: bool = True) -> NukiSnapshot:
        """Read the account for one refresh: ``GET /smartlock`` (+ ``GET /smartlock/log``), concurrently.

        That is 1 request for any number of locks, plus 1 for the newest :data:`MAX_LOG_LIMIT` log entries
        of all locks (since ``logs_since``, inclusive) when ``logs`` is true. If either request fails, the
        other is cancelled and that failure is raised as is.
        """
        try:
            async with asyncio.TaskGroup() as group:
                locks_task = group.create_task(self.list_smartlocks())
                logs_task = group.create_task(self.list_logs(since=logs_since)) if logs else None
        except ExceptionGroup as group_error:
            raise group_error.exceptions[0] from None
        entries = logs_task.result() if logs_task is not None else []
        return NukiSnapshot(locks={lock.id: lock for lock in locks_task.result()}, logs=tuple(entries))

    # -- actions ----------------------------------------------------------------------------------

    async def action(self, smartlock_id: int | str, action: NukiAction | int, option: int = 0) -> None:
        """``POST /smartlock/{id}/action`` → 204; the new state shows up later (states 2/4/7 meanwhile).

        ``option`` is Nuki's bitmask (2 force, 4 full lock); 0 sends none.
        """
        body: dict[str, int] = {"action": int(action)}
        if option:
            body["option"] = option
        await self._request("POST", Paths.action(smartlock_id), json_body=body, lock_id=smartlock_id)

    async def lock(self, smartlock_id: int | str) -> None:
        """Lock (Opener: deactivate ring to open)."""
        await self.action(smartlock_id, NukiAction.LOCK)

    async def unlock(self, smartlock_id: int | str) -> None:
        """Unlock (Opener: activate ring to open)."""
        await self.action(smartlock_id, NukiAction.UNLOCK)

    async def unlatch(self, smartlock_id: int | str) -> None:
        """Unlatch, HA's "open" (Opener: open the door)."""
        await self.action(smartlock_id, NukiAction.UNLATCH)

    # -- logs -------------------------------------------------------------------------------------

    async def list_logs(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: str | None = None,
        limit: int = MAX_LOG_LIMIT,
    ) -> list[NukiLogEntry]:
        """``GET /smartlock/log`` — log entries of every lock, newest first.

        ``since``/``until`` bound the date (``fromDate``/``toDate``, inclusive); ``before_id`` returns only
        entries older than that entry (the API's cursor: pass the last id of a page to get the next one);
        ``limit`` is clamped to 1-50.
        """
        return await self._logs(Paths.LOGS, since, until, before_id, limit, None)

    async def list_smartlock_logs(
        self,
        smartlock_id: int | str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: str | None = None,
        limit: int = MAX_LOG_LIMIT,
    ) -> list[NukiLogEntry]:
        """``GET /smartlock/{id}/log`` — one lock's entries, as :meth:`list_logs`."""
        path = Paths.smartlock_logs(smartlock_id)
        return await self._logs(path, since, until, before_id, limit, smartlock_id)

    async def _logs(
        self,
        path: str,
        since: datetime | None,
        until: datetime | None,
        before_id: str | None,
        limit: int,
        lock_id: int | str | None,
    ) -> list[NukiLogEntry]:
        params: dict[str, str | int] = {"limit": max(1, min(limit, MAX_LOG_LIMIT))}
        if since is not None:
            params["fromDate"] = nuki_time(since)
        if until is not None:
            params["toDate"] = nuki_time(until)
        if before_id:
            params["id"] = before_id
        where = f"GET {path}"
        items = await self._list(path, params=params, lock_id=lock_id)
        entries = [parse_log_entry(Reader(item, f"{where}[{i}]")) for i, item in enumerate(items)]
        return sorted(entries, key=lambda entry: entry.date, reverse=True)

    # -- keypad codes -----------------------------------------------------------------------------

    async def list_keypad_codes(
        self, smartlock_id: int | str, *, include_codes: bool = False
    ) -> list[NukiKeypadCode]:
        """``GET /smartlock/{id}/auth?types=13`` — the lock's keypad codes (PINs with ``include_codes``)."""
        path = Paths.auths(smartlock_id)
        items = await self._list(path, params={"types": KEYPAD_CODE_AUTH_TYPE}, lock_id=smartlock_id)
        codes = []
        for i, item in enumerate(items):
            where = f"GET {path}[{i}]"
            if Reader(item, where).int("type", KEYPAD_CODE_AUTH_TYPE) == KEYPAD_CODE_AUTH_TYPE:
                codes.append(parse_keypad_code(item, where, include_code=include_codes))
        return codes

    async def find_keypad_code(
        self, smartlock_id: int | str, *, name: str, code: int | str
    ) -> NukiKeypadCode | None:
        """The lock's keypad code with this name and PIN (with its PIN), or ``None`` (1 request)."""
        wanted_name, wanted_code = name.strip(), int(str(code).strip())
        for item in await self.list_keypad_codes(smartlock_id, include_codes=True):
            if item.code == wanted_code and item.name.strip() == wanted_name:
                return item
        return None

    async def create_keypad_code(
        self,
        smartlock_id: int | str,
        *,
        name: str,
        code: int | str,
        allowed_from: datetime | None = None,
        allowed_until: datetime | None = None,
        allowed_weekdays: int = 127,
        allowed_from_time: int = 0,
        allowed_until_time: int = 0,
        poll_delays: Sequence[float] | None = None,
    ) -> NukiKeypadCode:
        """Create a keypad code and return it, with its id and PIN.

        ``PUT /smartlock/{id}/auth`` (type 13, ``remoteAllowed`` false) answers 204 without the id, so the
        code is then looked for with ``GET /smartlock/{id}/auth?types=13`` (matching name and PIN) after
        each of ``poll_delays`` (default: the client's) until it shows up: 1 + up to ``len(poll_delays)``
        requests.
        ``allowed_weekdays`` is Nuki's bitmask (Mon 64 ... Sun 1, 127 every day); the daily window is in
        minutes after midnight (0/0: all day).

        Raises:
            ValidationError: Before any request, when the name (1-20 characters), the PIN (6 digits 1-9, not
                starting with 12) or the window is invalid; or when the API refuses them (e.g. the lock has no
                keypad, or the PIN is already used on it).
            SmartHostingRequiredError: The lock has no active Smart Hosting subscription.
            OperationPendingError: Accepted, but it did not show up in time; it may still appear later
                (look again with :meth:`find_keypad_code`).
        """
        clean_name = _validate_keypad_name(name)
        pin = validate_keypad_code(code)
        _check_window(allowed_from, allowed_until, allowed_weekdays, allowed_from_time, allowed_until_time)
        body: dict[str, Any] = {
            "name": clean_name,
            "type": KEYPAD_CODE_AUTH_TYPE,
            "code": pin,
            "remoteAllowed": False,
            "allowedWeekDays": allowed_weekdays,
            "allowedFromTime": allowed_from_time,
            "allowedUntilTime": allowed_until_time,
        }
        if allowed_from is not None:
            body["allowedFromDate"] = nuki_time(allowed_from)
        if allowed_until is not None:
            body["allowedUntilDate"] = nuki_time(allowed_until)
        path = Paths.auths(smartlock_id)
        await self._request("PUT", path, json_body=body, lock_id=smartlock_id, secrets_=(str(pin),))
        delays = self._auth_poll_delays if poll_delays is None else tuple(poll_delays)
        for delay in delays:
            await self._sleep(delay)
            found = await self.find_keypad_code(smartlock_id, name=clean_name, code=pin)
            if found is not None:
                return found
        raise OperationPendingError(
            f"PUT {path}: the keypad code {clean_name!r} was accepted but did not show up after "
            f"{len(delays)} checks",
            lock_id=str(smartlock_id),
        )

    async def update_keypad_code(
        self,
        smartlock_id: int | str,
        auth_id: str,
        *,
        name: str,
        allowed_from: datetime | None = None,
        allowed_until: datetime | None = None,
        enabled: bool | None = None,
    ) -> None:
        """``POST /smartlock/{id}/auth/{authId}`` → 204: change a code's window (the PIN stays; 1 request).

        ``name`` is required by the API (send the code's current name to keep it).

        Raises:
            ValidationError: Before any request, for an empty or too long name or a window that ends before
                it starts; or when the API refuses the change.
            NotFoundError: The code is gone.
            BusyError: The lock is busy with another operation (423).
        """
        clean_name = _validate_keypad_name(name)
        if allowed_from is not None and allowed_until is not None and allowed_until <= allowed_from:
            raise ValidationError(
                "Invalid keypad code window", fields={"allowed_until": ["must be after the start"]}
            )
        body: dict[str, Any] = {"name": clean_name}
        if allowed_from is not None:
            body["allowedFromDate"] = nuki_time(allowed_from)
        if allowed_until is not None:
            body["allowedUntilDate"] = nuki_time(allowed_until)
        if enabled is not None:
            body["enabled"] = enabled
        await self._request("POST", Paths.auth(smartlock_id, auth_id), json_body=body, lock_id=smartlock_id)

    async def delete_keypad_code(self, smartlock_id: int | str, auth_id: str) -> None:
        """``DELETE /smartlock/{id}/auth/{authId}`` → 204 (404 → :class:`NotFoundError`: already gone)."""
        await self._request("DELETE", Paths.auth(smartlock_id, auth_id), lock_id=smartlock_id)


# --- errors -------------------------------------------------------------------------------------


def error_message(text: str) -> str | None:
    """The message of any Nuki error body.

    That is ``detailMessage``, ``error`` or ``message``, else the framework status object's
    ``reasonPhrase: description``; ``None`` for bodies that are not JSON objects (proxy HTML pages).
    """
    body = json_object(text)
    if body is None:
        return None
    for key in ("detailMessage", "error", "message"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    parts = [body.get(key) for key in ("reasonPhrase", "description")]
    return ": ".join(part.strip() for part in parts if isinstance(part, str) and part.strip()) or None


def _error_for(
    status: int, text: str, headers: Mapping[str, str], where: str, lock_id: int | str | None = None
) -> KasifyApiError:
    message = error_message(text)
    summary = error_summary(where, status, message)
    if is_smart_hosting_message(message):
        named = _LONG_NUMBER.findall(message or "")
        lock = str(lock_id) if lock_id is not None else (named[0] if named else None)
        return SmartHostingRequiredError(summary, status=status, lock_id=lock)
    if status == HTTPStatus.PAYMENT_REQUIRED:
        return SubscriptionRequiredError(summary, status=status, error_type="account_not_paid")
    if status == HTTPStatus.UPGRADE_REQUIRED:
        return SubscriptionRequiredError(summary, status=status, error_type="upgrade_required")
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        return NotSupportedError(summary, status=status)
    if status == HTTPStatus.LOCKED:
        return BusyError(summary, status=status)
    fields: dict[str, list[str]] = {}
    if message:
        for parameter in _PARAMETER.findall(message):
            fields.setdefault(parameter, []).append(message)
    return error_for_status(status, summary, headers, fields)
