"""The Nuki Web API (``APIS.md`` section 1, the 1.5.0 Smart Hosting page), mounted under :data:`NUKI_PREFIX`.

The fleet is built from the Kasify state: every Kasify smart lock with vendor ``nuki`` becomes a Nuki device
with the same ``smartlockId`` (``nuki_smartlock.nuki_smartlock_id``), so the integration can link them; three
more devices are not in Kasify (:data:`NUKI_GARAGE_ID`, :data:`NUKI_OPENER_ID`, :data:`NUKI_STORAGE_ID`).
State changes of a linked device are mirrored into its Kasify record, as Kasify reads them from Nuki.

Behaviour (inferred where the API leaves it open, and made adjustable):

- Bearer token auth; errors are Restlet status objects ``{"code", "description", "reasonPhrase", "uri",
  "homeRef"}``, parameter errors ``{"detailMessage", "stackTrace", "suppressedExceptions"}`` (400), bodies
  that cannot be read a 422 status object.
- Actions answer 204 and move the state later, one step per :attr:`NukiState.action_delay` seconds of the
  simulated clock (lock 3→4→1, unlock 1→2→3, unlatch →7→5→3, Opener ring to open 1↔3 and open →7→5→back);
  the device is busy meanwhile (``operationId`` set, further actions and auth changes → 423). The log entry
  is written when the action completes. A device with ``serverState`` 4 (offline) accepts actions and does
  nothing. :meth:`NukiState.jam_next_action` makes the next lock/unlock end in 254 (motor blocked).
- A device without Smart Hosting: its ``GET /smartlock`` item is the seed's stub (no name, no state, the
  ``error``), its log entries are redacted as on the seed page, and every per-device endpoint answers the
  seed's ``detailMessage`` body with :attr:`NukiState.shs_error_status` (402 by default; status unconfirmed);
  :attr:`NukiState.shs_error_shape` ``"error"`` switches to the ``{"error": ...}`` body of the docs.
- Keypad codes (``PUT /smartlock/{id}/auth`` type 13) are validated as in APIS.md 1.8, answer 204 without a
  body, and show up in ``GET /smartlock/{id}/auth`` :attr:`NukiState.auth_delay` seconds later.
- ``GET /smartlock/log``: newest first, ``limit`` 1-50 (default 20), ``id`` returns entries older than that
  id (ids grow with time), ``fromDate``/``toDate`` inclusive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from http import HTTPStatus
import itertools
import json
import random
import re
from typing import Any, Final

from aiohttp import web

from .clock import Clock, as_instant, parse_iso
from .errors import NotFoundError as KasifyNotFoundError
from .kasify_state import Json, KasifyState

NUKI_PREFIX: Final = "/nuki"
NUKI_TOKEN: Final = "sim-nuki-token"  # noqa: S105 - the simulator's well-known test token
SMART_HOSTING_ERROR: Final = "No active Smart Hosting subscription for the Smart Lock, please get one!"

NUKI_GARAGE_ID: Final = 16_000_000_101
"""Smart Lock 2.0 (type 0) without ``batteryCharge``, offline (``serverState`` 4); not in Kasify."""
NUKI_OPENER_ID: Final = 16_000_000_102
"""Opener (type 2), no battery charge, no door sensor; not in Kasify."""
NUKI_STORAGE_ID: Final = 16_000_000_103
"""Smart Lock 3.0 with a keypad but no active Smart Hosting subscription; not in Kasify."""

TYPE_SMART_LOCK: Final = 0
TYPE_BOX: Final = 1
TYPE_OPENER: Final = 2
TYPE_SMART_LOCK_3: Final = 4
KEYPAD_CODE: Final = 13
MAX_LOG_LIMIT: Final = 50

# Lock states (types 0/3/4/5) and Opener states.
LOCKED, UNLOCKING, UNLOCKED, LOCKING, UNLATCHED, UNLATCHING = 1, 2, 3, 4, 5, 7
MOTOR_BLOCKED: Final = 254
OPENER_ONLINE, OPENER_RTO_ACTIVE, OPENER_OPEN, OPENER_OPENING = 1, 3, 5, 7
MODE_DOOR, MODE_CONTINUOUS = 2, 3
DOOR_NONE, DOOR_CLOSED, DOOR_OPENED = 0, 2, 3
SERVER_OK, SERVER_OFFLINE = 0, 4

_LOCK_ACTIONS: Final = frozenset({1, 2, 3, 4, 5})
_ACTIONS: Final[dict[int, frozenset[int]]] = {
    TYPE_BOX: frozenset({1}),
    TYPE_OPENER: frozenset({1, 2, 3, 6, 7}),
}
_TRIGGER_WEB, _TRIGGER_APP, _TRIGGER_AUTO_LOCK, _TRIGGER_KEYPAD = 4, 5, 6, 255
_CODE: Final = re.compile(r"^[1-9]{6}$")
_AUTH_TIMES: Final = ("allowedFromDate", "allowedUntilDate")
_AUTH_INTS: Final = (
    "type",
    "code",
    "allowedWeekDays",
    "allowedFromTime",
    "allowedUntilTime",
    "accountUserId",
)
_STATUS_URI: Final = "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"
_WEBDAV_422: Final = "http://www.webdav.org/specs/rfc2518.html#STATUS_422"
_DESCRIPTION_422: Final = (
    "The server understands the content type of the request entity and the syntax of the request entity is "
    "correct but was unable to process the contained instructions"
)

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def nuki_time(value: datetime) -> str:
    """UTC with milliseconds, as the Nuki API writes dates: ``2025-01-16T12:20:23.541Z``."""
    return as_instant(value).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Unset(Enum):
    UNSET = 0


UNSET: Final = _Unset.UNSET
"""Marks a keyword argument of :meth:`NukiState.set_lock` that was not given (``None`` removes a field)."""


# --- errors -------------------------------------------------------------------------------------


class NukiError(Exception):
    """An error answer: HTTP ``status`` and the JSON ``payload`` Nuki sends with it."""

    def __init__(self, status: int, payload: Json) -> None:
        """Answer ``status`` with ``payload``."""
        super().__init__(f"HTTP {status}: {payload}")
        self.status = status
        self.payload = payload


def status_object(status: int, description: str | None = None) -> Json:
    """The web framework's status object (401, 404, 405, 422, 423, ...)."""
    try:
        phrase, default = HTTPStatus(status).phrase, HTTPStatus(status).description
    except ValueError:
        phrase, default = "Error", ""
    if status == HTTPStatus.UNPROCESSABLE_ENTITY:
        phrase, default = "Unprocessable Entity", _DESCRIPTION_422  # Nuki's wording, not RFC 9110's
    return {
        "code": status,
        "description": description or default,
        "reasonPhrase": phrase,
        "uri": _WEBDAV_422 if status == HTTPStatus.UNPROCESSABLE_ENTITY else _STATUS_URI,
        "homeRef": "/",
    }


def detail(message: str) -> Json:
    """The parameter-error body ``{"detailMessage", "stackTrace", "suppressedExceptions"}``."""
    return {"detailMessage": message, "stackTrace": [], "suppressedExceptions": []}


def _fail(status: int, description: str | None = None) -> NukiError:
    return NukiError(status, status_object(status, description))


def _bad_parameter(name: str, value: Any) -> NukiError:
    shown = "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return NukiError(400, detail(f"The supplied value '{shown}' for parameter '{name}' is not valid"))


# --- state --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Step:
    at: datetime
    state: int | None = None
    mode: int | None = None
    log: Json | None = None


class NukiState:
    """The Nuki account the simulator serves, plus the helpers tests use to set scenarios up.

    Attributes:
        token: The bearer token the API accepts.
        action_delay: Simulated seconds per state step after an action (0: the next read shows the end state).
        auth_delay: Simulated seconds until a new keypad code shows up in the listing.
        account_paid: ``False`` answers actions and auth creation with 402 "Account not payed".
        shs_error_status: HTTP status of the Smart Hosting refusal.
        shs_error_shape: ``"detailMessage"`` (seed page) or ``"error"`` (docs example) body.
    """

    def __init__(self, *, clock: Clock, token: str = NUKI_TOKEN, seed: int = 1) -> None:
        """Create an empty account that answers to ``token`` and reads time from ``clock``."""
        self.token = token
        self.clock = clock
        self.action_delay: float = 1.5
        self.auth_delay: float = 2.0
        self.account_paid = True
        self.shs_error_status: int = HTTPStatus.PAYMENT_REQUIRED
        self.shs_error_shape = "detailMessage"
        self._rng = random.Random(f"nuki-{seed}")
        created = self._stamp(self.now() - timedelta(days=400))
        self.account: Json = {
            "accountId": self._rng.randint(1_000_000, 9_999_999),
            "type": 0,
            "email": "host@example.com",
            "emailVerified": True,
            "name": "Kasify Host",
            "language": "es",
            "creationDate": created,
            "updateDate": created,
        }
        self.locks: dict[int, Json] = {}
        self.smart_hosting: dict[int, bool] = {}
        self.auths: dict[str, Json] = {}
        self.logs: dict[str, Json] = {}
        self.kasify: KasifyState | None = None
        self.kasify_links: dict[int, str] = {}
        self._visible_at: dict[str, datetime] = {}
        self._steps: dict[int, list[_Step]] = {}
        self._busy: set[int] = set()
        self._jam: set[int] = set()
        self._serial = itertools.count(1)
        self._slots = itertools.count(3_000_001)

    # -- basics ----------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated current instant."""
        return self.clock.now()

    @staticmethod
    def _stamp(value: datetime) -> str:
        return nuki_time(value)

    def _object_id(self, when: datetime) -> str:
        """A 24-hex id like a MongoDB ObjectId: seconds first, so ids sort by time."""
        return f"{int(when.timestamp()):08x}{next(self._serial):016x}"

    def summary(self) -> Json:
        """Counts for ``GET /_sim/state``."""
        return {
            "account_id": self.account["accountId"],
            "locks": len(self.locks),
            "auths": len(self.auths),
            "logs": len(self.logs),
        }

    # -- devices ---------------------------------------------------------------------------------------------

    def add_lock(
        self,
        name: str,
        *,
        smartlock_id: int | None = None,
        type_: int = TYPE_SMART_LOCK_3,
        lock_state: int | None = None,
        door_state: int = DOOR_NONE,
        battery_charge: int | None = 80,
        battery_critical: bool | None = None,
        battery_charging: bool | None = False,
        keypad: bool = False,
        server_state: int = SERVER_OK,
        smart_hosting: bool = True,
        kasify_lock_id: str | None = None,
    ) -> Json:
        """Add a device and return its Smartlock record (``batteryCharge`` left out when ``None``)."""
        lock_id = smartlock_id or self._rng.randint(17_000_000_000, 18_999_999_999)
        if lock_id in self.locks:
            raise ValueError(f"Nuki device {lock_id} already exists")
        opener = type_ == TYPE_OPENER
        if lock_state is None:
            lock_state = OPENER_ONLINE if opener else LOCKED
        now = self.now()
        state: Json = {
            "mode": MODE_DOOR,
            "state": lock_state,
            "trigger": _TRIGGER_APP,
            "lastAction": 2,
            "batteryCritical": battery_critical
            if battery_critical is not None
            else battery_charge is not None and battery_charge < 20,
            "doorState": door_state,
            "ringToOpenTimer": 0,
            "nightMode": False,
        }
        if battery_charge is not None:
            state["batteryCharge"] = battery_charge
        if battery_charging is not None and not opener:
            state["batteryCharging"] = battery_charging
        if keypad:
            state["keypadBatteryCritical"] = False
        if door_state != DOOR_NONE:
            state["doorsensorBatteryCritical"] = False
        record: Json = {
            "smartlockId": lock_id,
            "accountId": self.account["accountId"],
            "type": type_,
            "authId": next(self._slots),
            "name": name,
            "favorite": False,
            "config": {
                "name": name,
                "latitude": 40.4168,
                "longitude": -3.7038,
                "autoUnlatch": False,
                "pairingEnabled": True,
                "buttonEnabled": True,
                "ledEnabled": True,
                "ledBrightness": 3,
                "timezoneOffset": 0,
                "daylightSavingMode": 0,
                "fobPaired": False,
                "singleLock": False,
                "advertisingMode": 0,
                "keypadPaired": keypad,
                "keypad2Paired": False,
                "homekitState": 0,
                "matterState": 0,
                "timezoneId": 37,
            },
            "state": state,
            "firmwareVersion": 132105 if type_ == TYPE_SMART_LOCK else 263428,
            "hardwareVersion": 1291,
            "serverState": server_state,
            "adminPinState": 0,
            "virtualDevice": False,
            "creationDate": self._stamp(now - timedelta(days=200)),
            "updateDate": self._stamp(now),
            "currentSubscription": {
                "type": "B2B",
                "state": "ACTIVE",
                "shsSubscriptionType": "BUSINESS",
                "creationDate": self._stamp(now - timedelta(days=60)),
                "updateDate": self._stamp(now - timedelta(days=60)),
                "expirationDate": self._stamp(now + timedelta(days=305)),
                "isInGracePeriod": False,
            },
        }
        self.locks[lock_id] = record
        self.smart_hosting[lock_id] = smart_hosting
        if not smart_hosting:
            record["currentSubscription"]["state"] = "EXPIRED"
        if kasify_lock_id is not None:
            self.kasify_links[lock_id] = kasify_lock_id
        return record

    def get_lock(self, smartlock_id: int) -> Json:
        """The device's full record, with every due state step applied.

        Raises:
            NukiError: 404 when there is no such device.
        """
        self.settle()
        try:
            return self.locks[smartlock_id]
        except KeyError:
            raise _fail(404, f"Smartlock {smartlock_id} not found") from None

    def set_lock(
        self,
        smartlock_id: int,
        *,
        name: str | _Unset = UNSET,
        lock_state: int | _Unset = UNSET,
        mode: int | _Unset = UNSET,
        door_state: int | _Unset = UNSET,
        battery_charge: int | None | _Unset = UNSET,
        battery_critical: bool | _Unset = UNSET,
        battery_charging: bool | None | _Unset = UNSET,
        keypad_battery_critical: bool | None | _Unset = UNSET,
        keypad: bool | _Unset = UNSET,
        server_state: int | _Unset = UNSET,
        smart_hosting: bool | _Unset = UNSET,
        busy: bool | _Unset = UNSET,
    ) -> Json:
        """Change a device (only the arguments given; ``None`` removes an optional battery field)."""
        record = self.get_lock(smartlock_id)
        state = record["state"]
        if not isinstance(name, _Unset):
            record["name"] = record["config"]["name"] = name
        for key, value in (
            ("state", lock_state),
            ("mode", mode),
            ("doorState", door_state),
            ("batteryCritical", battery_critical),
            ("batteryCharge", battery_charge),
            ("batteryCharging", battery_charging),
            ("keypadBatteryCritical", keypad_battery_critical),
        ):
            if isinstance(value, _Unset):
                continue
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        if not isinstance(keypad, _Unset):
            record["config"]["keypadPaired"] = keypad
        if not isinstance(server_state, _Unset):
            record["serverState"] = server_state
        if not isinstance(smart_hosting, _Unset):
            self.smart_hosting[smartlock_id] = smart_hosting
            record["currentSubscription"]["state"] = "ACTIVE" if smart_hosting else "EXPIRED"
        if not isinstance(busy, _Unset):
            (self._busy.add if busy else self._busy.discard)(smartlock_id)
        record["updateDate"] = self._stamp(self.now())
        self._mirror(smartlock_id)
        return record

    def remove_lock(self, smartlock_id: int) -> None:
        """Remove a device with its auths and pending steps (its log stays)."""
        self.get_lock(smartlock_id)
        del self.locks[smartlock_id]
        self._steps.pop(smartlock_id, None)
        for auth_id in [key for key, auth in self.auths.items() if auth["smartlockId"] == smartlock_id]:
            del self.auths[auth_id]

    def busy(self, smartlock_id: int) -> bool:
        """Whether the device is held by an operation (an action in progress, or ``set_lock(busy=True)``)."""
        self.settle()
        return smartlock_id in self._busy or bool(self._steps.get(smartlock_id))

    def jam_next_action(self, smartlock_id: int) -> None:
        """Make the device's next lock/unlock end in state 254 (motor blocked), logged as completion 1."""
        self.get_lock(smartlock_id)
        self._jam.add(smartlock_id)

    def served_lock(self, smartlock_id: int) -> Json:
        """The device as ``GET /smartlock`` lists it (the seed's stub without Smart Hosting)."""
        record = self.get_lock(smartlock_id)
        if not self.smart_hosting[smartlock_id]:
            return {
                "smartlockId": smartlock_id,
                "accountId": 0,
                "type": record["type"],
                "favorite": False,
                "serverState": 1,
                "adminPinState": 1,
                "virtualDevice": False,
                "error": SMART_HOSTING_ERROR,
                "subscriptions": [],
            }
        served = copy.deepcopy(record)
        if self.busy(smartlock_id):
            served["operationId"] = f"op-{smartlock_id}"
        return served

    def require_smart_hosting(self, smartlock_id: int) -> None:
        """Raise the seed's Smart Hosting refusal for a device without the subscription.

        Raises:
            NukiError: The refusal, in :attr:`shs_error_shape` with :attr:`shs_error_status`.
        """
        if not self.smart_hosting.get(smartlock_id, True):
            payload = detail(SMART_HOSTING_ERROR) if self.shs_error_shape == "detailMessage" else None
            raise NukiError(self.shs_error_status, payload or {"error": SMART_HOSTING_ERROR})

    def _require_operable(self, smartlock_id: int) -> Json:
        record = self.get_lock(smartlock_id)
        self.require_smart_hosting(smartlock_id)
        if not self.account_paid:
            raise _fail(HTTPStatus.PAYMENT_REQUIRED, "Account not payed")
        return record

    # -- actions and time ------------------------------------------------------------------------------------

    def perform(self, smartlock_id: int, action: Any, option: Any = None) -> None:
        """Accept an action (as ``POST /smartlock/{id}/action``) and plan its state steps.

        Raises:
            NukiError: 404, the Smart Hosting refusal, 402, 400 for an action the type lacks, 423 when busy.
        """
        record = self._require_operable(smartlock_id)
        allowed = _ACTIONS.get(record["type"], _LOCK_ACTIONS)
        if not isinstance(action, int) or isinstance(action, bool) or action not in allowed:
            raise _bad_parameter("action", action)
        if option is not None and (not isinstance(option, int) or isinstance(option, bool) or option < 0):
            raise _bad_parameter("option", option)
        if self.busy(smartlock_id):
            raise _fail(HTTPStatus.LOCKED, "The smartlock is locked by another operation")
        if record["serverState"] != SERVER_OK:
            return  # accepted, but the device cannot be reached: nothing happens
        jam = smartlock_id in self._jam and action in (1, 2)
        self._jam.discard(smartlock_id)
        steps = self._plan(record, action, jam)
        self._steps[smartlock_id] = steps
        state = record["state"]
        state["trigger"], state["lastAction"] = _TRIGGER_WEB, action
        done_at = steps[-1].at
        self.settle()
        self._wake_at(done_at)

    def _plan(self, record: Json, action: int, jam: bool) -> list[_Step]:
        start, step = self.now(), timedelta(seconds=self.action_delay)

        def at(n: int) -> datetime:
            return start + step * n

        current = record["state"]["state"]
        if record["type"] == TYPE_OPENER:
            plan = {
                1: [_Step(at(1), OPENER_RTO_ACTIVE)],
                2: [_Step(at(1), OPENER_ONLINE)],
                3: [_Step(at(0), OPENER_OPENING), _Step(at(1), OPENER_OPEN), _Step(at(2), current)],
                6: [_Step(at(1), mode=MODE_CONTINUOUS)],
                7: [_Step(at(1), mode=MODE_DOOR)],
            }[action]
        else:
            plan = {
                1: [_Step(at(0), UNLOCKING), _Step(at(1), UNLOCKED)],
                2: [_Step(at(0), LOCKING), _Step(at(1), LOCKED)],
                3: [_Step(at(0), UNLATCHING), _Step(at(1), UNLATCHED), _Step(at(2), UNLOCKED)],
                4: [
                    _Step(at(0), UNLOCKING),
                    _Step(at(1), UNLOCKED),
                    _Step(at(2), LOCKING),
                    _Step(at(3), LOCKED),
                ],
                5: [
                    _Step(at(0), UNLATCHING),
                    _Step(at(1), UNLATCHED),
                    _Step(at(2), LOCKING),
                    _Step(at(3), LOCKED),
                ],
            }[action]
            if jam:
                plan[-1].state = MOTOR_BLOCKED
        plan[-1].log = {
            "action": action,
            "trigger": _TRIGGER_WEB,
            "state": 1 if jam else 0,
            "name": "Nuki Web",
        }
        return plan

    def _wake_at(self, when: datetime) -> None:
        """On a live clock, also settle when the last step is due, so Kasify's mirror follows unread."""
        if self.clock.frozen:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_later(max(0.0, (when - self.now()).total_seconds()) + 0.01, self.settle)

    def settle(self) -> None:
        """Apply every state step that is due on the simulated clock."""
        now = self.now()
        for smartlock_id, steps in list(self._steps.items()):
            record = self.locks.get(smartlock_id)
            changed = False
            while steps and steps[0].at <= now and record is not None:
                step = steps.pop(0)
                if step.state is not None:
                    record["state"]["state"] = step.state
                if step.mode is not None:
                    record["state"]["mode"] = step.mode
                if step.log is not None:
                    self.add_log(smartlock_id, date=step.at, **step.log)
                record["updateDate"] = self._stamp(step.at)
                changed = True
            if not steps:
                self._steps.pop(smartlock_id, None)
            if changed:
                self._mirror(smartlock_id)

    def _mirror(self, smartlock_id: int) -> None:
        """Copy the device's live state into its Kasify record (Kasify reads it from Nuki)."""
        kasify_id = self.kasify_links.get(smartlock_id)
        record = self.locks.get(smartlock_id)
        if self.kasify is None or kasify_id is None or record is None:
            return
        state = record["state"]
        try:
            self.kasify.set_lock(
                kasify_id,
                lock_state=state["state"],
                battery_level=state.get("batteryCharge"),
                battery_charging=state.get("batteryCharging"),
                offline=record["serverState"] == SERVER_OFFLINE,
            )
        except KasifyNotFoundError:
            del self.kasify_links[smartlock_id]

    # -- keypad codes ----------------------------------------------------------------------------------------

    def add_auth(
        self,
        smartlock_id: int,
        name: str,
        *,
        type_: int = KEYPAD_CODE,
        code: int | None = None,
        enabled: bool = True,
        allowed_from: datetime | None = None,
        allowed_until: datetime | None = None,
        visible_at: datetime | None = None,
    ) -> Json:
        """Add an authorization directly (no validation); it is listed from ``visible_at`` (default: now)."""
        self.get_lock(smartlock_id)
        now = self.now()
        shows = visible_at or now
        auth: Json = {
            "id": self._object_id(now),
            "smartlockId": smartlock_id,
            "authId": next(self._slots),
            "type": type_,
            "name": name,
            "enabled": enabled,
            "remoteAllowed": type_ != KEYPAD_CODE,
            "lockCount": 0,
            "allowedWeekDays": 127,
            "allowedFromTime": 0,
            "allowedUntilTime": 0,
            "creationDate": self._stamp(now),
            "updateDate": self._stamp(shows) if shows <= now else None,
        }
        if code is not None:
            auth["code"] = code
        if allowed_from is not None:
            auth["allowedFromDate"] = self._stamp(allowed_from)
        if allowed_until is not None:
            auth["allowedUntilDate"] = self._stamp(allowed_until)
        self.auths[auth["id"]] = auth
        self._visible_at[auth["id"]] = shows
        return auth

    def auths_for(self, smartlock_id: int, types: Iterable[int] | None = None) -> list[Json]:
        """The device's authorizations that have shown up, oldest first (``types`` filters)."""
        now, wanted = self.now(), set(types) if types is not None else None
        listed = []
        for auth_id, auth in self.auths.items():
            if auth["smartlockId"] != smartlock_id or self._visible_at[auth_id] > now:
                continue
            if wanted is None or auth["type"] in wanted:
                if auth["updateDate"] is None:
                    auth["updateDate"] = self._stamp(self._visible_at[auth_id])
                listed.append(auth)
        return listed

    def create_auth(self, smartlock_id: int, body: Any) -> None:
        """Validate and store a new authorization (``PUT /smartlock/{id}/auth``); it shows up later.

        Raises:
            NukiError: 422 for a body that cannot be read, 400 ``detailMessage`` per parameter, the Smart
                Hosting refusal, 402, 423 when busy.
        """
        record = self._require_operable(smartlock_id)
        data = _auth_body(body)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 32:
            raise _bad_parameter("name", name)
        if not isinstance(data.get("remoteAllowed"), bool):
            raise _bad_parameter("remoteAllowed", data.get("remoteAllowed"))
        auth_type = data.get("type", 0)
        if auth_type not in (0, 2, KEYPAD_CODE):
            raise _bad_parameter("type", auth_type)
        code = data.get("code")
        if auth_type != KEYPAD_CODE:
            if data.get("accountUserId") is None:
                raise _bad_parameter("accountUserId", None)
        else:
            config = record["config"]
            if not (config.get("keypadPaired") or config.get("keypad2Paired")):
                raise _bad_parameter("type", auth_type)
            if code is None or not _CODE.match(str(code)) or str(code).startswith("12"):
                raise _bad_parameter("code", code)
            if any(
                auth.get("code") == code
                for auth in self.auths.values()
                if auth["smartlockId"] == smartlock_id and auth["type"] == KEYPAD_CODE
            ):
                raise _bad_parameter("code", code)
        weekdays = data.get("allowedWeekDays")
        if weekdays is not None and not 0 <= weekdays <= 127:
            raise _bad_parameter("allowedWeekDays", weekdays)
        for key in ("allowedFromTime", "allowedUntilTime"):
            minutes = data.get(key)
            if minutes is not None and not 0 <= minutes <= 1440:
                raise _bad_parameter(key, minutes)
        if self.busy(smartlock_id):
            raise _fail(HTTPStatus.LOCKED, "The smartlock is locked by another operation")
        auth = self.add_auth(
            smartlock_id,
            name,
            type_=auth_type,
            code=code,
            allowed_from=data.get("allowedFromDate"),
            allowed_until=data.get("allowedUntilDate"),
            visible_at=self.now() + timedelta(seconds=self.auth_delay),
        )
        auth["remoteAllowed"] = data["remoteAllowed"]
        for key in ("allowedWeekDays", "allowedFromTime", "allowedUntilTime"):
            if data.get(key) is not None:
                auth[key] = data[key]

    def update_auth(self, smartlock_id: int, auth_id: str, body: Any) -> None:
        """Change an authorization that has shown up (``POST /smartlock/{id}/auth/{authId}``).

        ``name`` is required; ``allowedFromDate``/``allowedUntilDate``, ``enabled`` and the daily window may
        change; the code stays unless a new valid one is sent.

        Raises:
            NukiError: 404, 400 per parameter, the Smart Hosting refusal, 423 when busy.
        """
        self.get_lock(smartlock_id)
        self.require_smart_hosting(smartlock_id)
        auth = self.auths.get(auth_id)
        if auth is None or auth["smartlockId"] != smartlock_id or self._visible_at[auth_id] > self.now():
            raise _fail(404, f"Smartlock auth {auth_id} not found")
        data = _auth_body(body)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 32:
            raise _bad_parameter("name", name)
        if "enabled" in data and not isinstance(data["enabled"], bool):
            raise _bad_parameter("enabled", data["enabled"])
        start = data.get("allowedFromDate") or (
            parse_iso(auth["allowedFromDate"]) if auth.get("allowedFromDate") else None
        )
        end = data.get("allowedUntilDate") or (
            parse_iso(auth["allowedUntilDate"]) if auth.get("allowedUntilDate") else None
        )
        if start is not None and end is not None and end <= start:
            raise _bad_parameter("allowedUntilDate", self._stamp(end))
        code = data.get("code")
        if code is not None and auth["type"] == KEYPAD_CODE:
            if not _CODE.match(str(code)) or str(code).startswith("12"):
                raise _bad_parameter("code", code)
            if any(
                other.get("code") == code
                for other_id, other in self.auths.items()
                if other_id != auth_id
                and other["smartlockId"] == smartlock_id
                and other["type"] == KEYPAD_CODE
            ):
                raise _bad_parameter("code", code)
        if self.busy(smartlock_id):
            raise _fail(HTTPStatus.LOCKED, "The smartlock is locked by another operation")
        auth["name"] = name
        for key in ("enabled", "code", "allowedWeekDays", "allowedFromTime", "allowedUntilTime"):
            if data.get(key) is not None:
                auth[key] = data[key]
        for key in ("allowedFromDate", "allowedUntilDate"):
            if data.get(key) is not None:
                auth[key] = self._stamp(data[key])
        auth["updateDate"] = self._stamp(self.now())

    def delete_auth(self, smartlock_id: int, auth_id: str) -> None:
        """Delete an authorization that has shown up (``DELETE /smartlock/{id}/auth/{authId}``).

        Raises:
            NukiError: 404, the Smart Hosting refusal, 423 when busy.
        """
        self.get_lock(smartlock_id)
        self.require_smart_hosting(smartlock_id)
        auth = self.auths.get(auth_id)
        if auth is None or auth["smartlockId"] != smartlock_id or self._visible_at[auth_id] > self.now():
            raise _fail(404, f"Smartlock auth {auth_id} not found")
        if self.busy(smartlock_id):
            raise _fail(HTTPStatus.LOCKED, "The smartlock is locked by another operation")
        del self.auths[auth_id]
        del self._visible_at[auth_id]

    # -- log -------------------------------------------------------------------------------------------------

    def add_log(
        self,
        smartlock_id: int,
        *,
        action: int,
        trigger: int = _TRIGGER_APP,
        state: int = 0,
        name: str | None = "Kasify Host",
        date: datetime | None = None,
        source: int = 0,
        auth_id: str | None = None,
    ) -> Json:
        """Write a log entry (default: now) and return it."""
        record = self.locks.get(smartlock_id)
        if record is None:
            raise _fail(404, f"Smartlock {smartlock_id} not found")
        when = date or self.now()
        entry: Json = {
            "id": self._object_id(when),
            "smartlockId": smartlock_id,
            "deviceType": 0 if record["type"] == TYPE_BOX else record["type"],
            "action": action,
            "trigger": trigger,
            "state": state,
            "autoUnlock": False,
            "date": self._stamp(when),
            "source": source,
        }
        if name is not None:
            entry["name"] = name
        if auth_id is not None:
            entry["authId"] = auth_id
        self.logs[entry["id"]] = entry
        return entry

    def query_logs(
        self,
        *,
        smartlock_id: int | None = None,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        before_id: str | None = None,
        limit: int = 20,
    ) -> list[Json]:
        """Log entries newest first, as the API serves them (Smart Hosting-less devices redacted)."""
        entries = []
        for entry in sorted(self.logs.values(), key=lambda item: item["id"], reverse=True):
            if smartlock_id is not None and entry["smartlockId"] != smartlock_id:
                continue
            if before_id is not None and entry["id"] >= before_id:
                continue
            when = parse_iso(entry["date"])
            if (from_date is not None and when < from_date) or (to_date is not None and when > to_date):
                continue
            entries.append(self._served_log(entry))
            if len(entries) >= limit:
                break
        return entries

    def _served_log(self, entry: Json) -> Json:
        if self.smart_hosting.get(entry["smartlockId"], True):
            return dict(entry)
        return {
            "id": entry["id"],
            "smartlockId": entry["smartlockId"],
            "deviceType": entry["deviceType"],
            "action": 255,
            "trigger": 255,
            "state": 255,
            "autoUnlock": False,
            "date": entry["date"],
            "source": 6,
            "error": SMART_HOSTING_ERROR,
        }


def _auth_body(body: Any) -> Json:
    """Read an auth body as the framework would: wrong JSON types are a 422 status object."""
    if not isinstance(body, dict):
        raise _fail(HTTPStatus.UNPROCESSABLE_ENTITY)
    data: Json = dict(body)
    for key in _AUTH_INTS:
        value = data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise _fail(HTTPStatus.UNPROCESSABLE_ENTITY)
    for key in _AUTH_TIMES:
        value = data.get(key)
        if value is None:
            continue
        try:
            data[key] = parse_iso(value) if isinstance(value, str) else None
        except ValueError:
            data[key] = None
        if data[key] is None:
            raise _fail(HTTPStatus.UNPROCESSABLE_ENTITY)
    return data


# --- fleet --------------------------------------------------------------------------------------


def build_nuki_fleet(
    kasify: KasifyState, *, clock: Clock, seed: int = 1, token: str = NUKI_TOKEN
) -> NukiState:
    """The Nuki account behind the Kasify fleet's Nuki locks, plus three devices Kasify does not know.

    The first linked lock has a keypad (with the cleaners' code "Limpieza" and an app user), a door sensor
    (closed) and a short history in the log; a lock with ``battery_level`` below 20 in Kasify is battery
    critical; later linked locks are Smart Lock 3.0 or 5, some with a keypad.
    """
    state = NukiState(clock=clock, token=token, seed=seed)
    state.kasify = kasify
    rng = random.Random(f"nuki-fleet-{seed}")
    now = state.now()
    first = True
    for record in list(kasify.smart_locks.values()):
        nuki = record.get("nuki_smartlock") or {}
        nuki_id = str(nuki.get("nuki_smartlock_id") or "")
        if record["vendor"] != "nuki" or not nuki_id.isdigit() or int(nuki_id) in state.locks:
            continue
        prop = kasify.properties.get(record["property_id"], {})
        lock = state.add_lock(
            f"{prop.get('name', 'Nuki')} - {record['name']}",
            smartlock_id=int(nuki_id),
            type_=TYPE_SMART_LOCK_3 if first or rng.random() < 0.7 else 5,
            lock_state=record["lock_state"] if record["lock_state"] is not None else 255,
            door_state=DOOR_CLOSED if first else DOOR_NONE,
            battery_charge=record["battery_level"],
            battery_charging=record["battery_charging"],
            keypad=first or rng.random() < 0.5,
            server_state=SERVER_OFFLINE if record["offline"] else SERVER_OK,
            kasify_lock_id=record["id"],
        )
        if first:
            _seed_history(state, lock["smartlockId"], now)
        else:
            state.add_log(
                lock["smartlockId"], action=2, trigger=_TRIGGER_AUTO_LOCK, date=now - timedelta(hours=5)
            )
        first = False
    state.add_lock(
        "Garaje",
        smartlock_id=NUKI_GARAGE_ID,
        type_=TYPE_SMART_LOCK,
        battery_charge=None,
        battery_charging=None,
        server_state=SERVER_OFFLINE,
    )
    state.add_lock("Portal edificio", smartlock_id=NUKI_OPENER_ID, type_=TYPE_OPENER, battery_charge=None)
    state.add_log(NUKI_OPENER_ID, action=3, date=now - timedelta(hours=2))
    state.add_lock("Trastero", smartlock_id=NUKI_STORAGE_ID, keypad=True, smart_hosting=False)
    state.add_log(NUKI_STORAGE_ID, action=1, date=now - timedelta(hours=4))
    return state


def _seed_history(state: NukiState, smartlock_id: int, now: datetime) -> None:
    cleaning = state.add_auth(smartlock_id, "Limpieza", code=345678)
    cleaning["creationDate"] = cleaning["updateDate"] = nuki_time(now - timedelta(days=30))
    state.add_auth(smartlock_id, "Propietario", type_=0)
    state.add_log(smartlock_id, action=2, trigger=_TRIGGER_APP, date=now - timedelta(hours=6))
    state.add_log(
        smartlock_id,
        action=1,
        trigger=_TRIGGER_KEYPAD,
        source=1,
        name="Limpieza",
        auth_id=cleaning["id"],
        date=now - timedelta(hours=3),
    )
    state.add_log(smartlock_id, action=240, trigger=0, name=None, date=now - timedelta(hours=3, minutes=-1))
    state.add_log(smartlock_id, action=241, trigger=0, name=None, date=now - timedelta(hours=2, minutes=50))
    state.add_log(
        smartlock_id, action=2, trigger=_TRIGGER_AUTO_LOCK, date=now - timedelta(hours=2, minutes=45)
    )
    state.add_log(
        smartlock_id,
        action=1,
        trigger=_TRIGGER_KEYPAD,
        state=224,
        source=1,
        name="",
        date=now - timedelta(hours=1),
    )


# --- API ----------------------------------------------------------------------------------------


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _no_content() -> web.Response:
    return web.Response(status=204)


def _lock_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _query_time(request: web.Request, key: str) -> datetime | None:
    value = request.query.get(key)
    if not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise _bad_parameter(key, value) from None


async def _read_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise _fail(HTTPStatus.UNPROCESSABLE_ENTITY) from None


class NukiApi:
    """The Nuki vendor: routes, bearer auth and error rendering over one :class:`NukiState`."""

    name = "nuki"
    prefix = NUKI_PREFIX

    def __init__(self, state: NukiState) -> None:
        """Serve ``state``."""
        self.state = state

    # -- vendor protocol -------------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> bytes:
        """The framework status object for ``status``."""
        return json.dumps(status_object(status, message)).encode()

    def summary(self) -> Json:
        """Counts, the prefix and the token."""
        return {"prefix": self.prefix, "token": self.state.token, **self.state.summary()}

    def build_app(self) -> web.Application:
        """The sub-application with the Nuki routes the integration uses."""
        app = web.Application(middlewares=[self._middleware])
        lock = r"/smartlock/{id:\d+}"
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/account", self.get_account),
            ("GET", "/smartlock", self.list_smartlocks),
            ("GET", "/smartlock/log", self.list_logs),
            ("GET", lock, self.get_smartlock),
            ("POST", f"{lock}/action", self.action),
            ("POST", f"{lock}/action/lock", self.action_lock),
            ("POST", f"{lock}/action/unlock", self.action_unlock),
            ("GET", f"{lock}/auth", self.list_auths),
            ("PUT", f"{lock}/auth", self.create_auth),
            ("POST", lock + "/auth/{auth_id}", self.update_auth),
            ("DELETE", lock + "/auth/{auth_id}", self.delete_auth),
            ("GET", f"{lock}/log", self.list_lock_logs),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the bearer token, settle due state steps, render errors in Nuki's shapes."""
        try:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or token.strip() != self.state.token:
                raise _fail(HTTPStatus.UNAUTHORIZED)
            self.state.settle()
            return await handler(request)
        except NukiError as err:
            return _json(err.payload, err.status)
        except web.HTTPException as err:
            if err.status < 400:
                raise
            return _json(status_object(err.status), err.status)

    # -- routes ----------------------------------------------------------------------------------------------

    async def get_account(self, request: web.Request) -> web.Response:
        """``GET /account``."""
        return _json(self.state.account)

    async def list_smartlocks(self, request: web.Request) -> web.Response:
        """``GET /smartlock?type=`` — every device."""
        wanted = request.query.get("type")
        served = [self.state.served_lock(lock_id) for lock_id in list(self.state.locks)]
        if wanted is not None:
            served = [lock for lock in served if str(lock["type"]) == wanted]
        return _json(served)

    async def get_smartlock(self, request: web.Request) -> web.Response:
        """``GET /smartlock/{id}``."""
        lock_id = _lock_id(request)
        self.state.get_lock(lock_id)
        self.state.require_smart_hosting(lock_id)
        return _json(self.state.served_lock(lock_id))

    async def action(self, request: web.Request) -> web.Response:
        """``POST /smartlock/{id}/action`` ``{"action", "option"?}`` → 204."""
        body = await _read_body(request)
        data = body if isinstance(body, dict) else {}
        self.state.perform(_lock_id(request), data.get("action"), data.get("option"))
        return _no_content()

    async def action_lock(self, request: web.Request) -> web.Response:
        """``POST /smartlock/{id}/action/lock`` → 204 (405 for an Opener or a Box)."""
        return self._shortcut(request, 2)

    async def action_unlock(self, request: web.Request) -> web.Response:
        """``POST /smartlock/{id}/action/unlock`` → 204 (405 for an Opener)."""
        return self._shortcut(request, 1)

    def _shortcut(self, request: web.Request, action: int) -> web.Response:
        lock_id = _lock_id(request)
        record = self.state.get_lock(lock_id)
        if action not in _ACTIONS.get(record["type"], _LOCK_ACTIONS) or record["type"] == TYPE_OPENER:
            raise _fail(HTTPStatus.METHOD_NOT_ALLOWED)
        self.state.perform(lock_id, action)
        return _no_content()

    async def list_auths(self, request: web.Request) -> web.Response:
        """``GET /smartlock/{id}/auth?types=13,0``."""
        lock_id = _lock_id(request)
        self.state.get_lock(lock_id)
        self.state.require_smart_hosting(lock_id)
        raw = request.query.get("types")
        try:
            types = {int(part) for part in raw.split(",") if part.strip()} if raw else None
        except ValueError:
            raise _bad_parameter("types", raw) from None
        return _json(self.state.auths_for(lock_id, types))

    async def create_auth(self, request: web.Request) -> web.Response:
        """``PUT /smartlock/{id}/auth`` → 204 without a body (the new auth shows up later)."""
        self.state.create_auth(_lock_id(request), await _read_body(request))
        return _no_content()

    async def update_auth(self, request: web.Request) -> web.Response:
        """``POST /smartlock/{id}/auth/{authId}`` → 204."""
        self.state.update_auth(_lock_id(request), request.match_info["auth_id"], await _read_body(request))
        return _no_content()

    async def delete_auth(self, request: web.Request) -> web.Response:
        """``DELETE /smartlock/{id}/auth/{authId}`` → 204."""
        self.state.delete_auth(_lock_id(request), request.match_info["auth_id"])
        return _no_content()

    async def list_logs(self, request: web.Request) -> web.Response:
        """``GET /smartlock/log?fromDate&toDate&id&limit``."""
        return _json(self._logs(request, None))

    async def list_lock_logs(self, request: web.Request) -> web.Response:
        """``GET /smartlock/{id}/log?...``."""
        lock_id = _lock_id(request)
        self.state.get_lock(lock_id)
        self.state.require_smart_hosting(lock_id)
        return _json(self._logs(request, lock_id))

    def _logs(self, request: web.Request, lock_id: int | None) -> list[Json]:
        raw_limit = request.query.get("limit", "20")
        try:
            limit = int(raw_limit)
        except ValueError:
            raise _bad_parameter("limit", raw_limit) from None
        if not 1 <= limit <= MAX_LOG_LIMIT:
            raise _bad_parameter("limit", raw_limit)
        return self.state.query_logs(
            smartlock_id=lock_id,
            from_date=_query_time(request, "fromDate"),
            to_date=_query_time(request, "toDate"),
            before_id=request.query.get("id") or None,
            limit=limit,
        )
