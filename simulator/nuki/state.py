"""In-memory Nuki Web state: the account, its devices, authorizations and log, and how actions play out.

Actions move the state later, one step per :attr:`NukiState.action_delay` seconds of the simulated clock;
new keypad codes show up :attr:`NukiState.auth_delay` seconds after they are created. State changes of a
device linked to a Kasify lock are mirrored into its Kasify record, as Kasify reads them from Nuki. The
helper methods are what the routes use and what tests call to set up a scenario.
"""

from __future__ import annotations

from collections.abc import Iterable
import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
import itertools
import random
from typing import Any

from simulator.clock import Clock, parse_iso
from simulator.errors import NotFoundError as KasifyNotFoundError
from simulator.kasify_state import Json, KasifyState

from .errors import SMART_HOSTING_ERROR, NukiError, bad_parameter, busy_error, fail, refusal
from .keypad import check_auth_update, check_new_auth, read_auth_body
from .records import (
    DOOR_NONE,
    KEYPAD_CODE,
    LOCKED,
    LOCKING,
    MODE_CONTINUOUS,
    MODE_DOOR,
    MOTOR_BLOCKED,
    NUKI_TOKEN,
    OPENER_ONLINE,
    OPENER_OPEN,
    OPENER_OPENING,
    OPENER_RTO_ACTIVE,
    SERVER_OFFLINE,
    SERVER_OK,
    TRIGGER_APP,
    TRIGGER_KEYPAD,
    TRIGGER_WEB,
    TYPE_BOX,
    TYPE_OPENER,
    TYPE_SMART_LOCK_3,
    UNLATCHED,
    UNLATCHING,
    UNLOCKED,
    UNLOCKING,
    UNSET,
    Unset,
    allowed_actions,
    lock_record,
    new_lock_state,
    nuki_time,
    redacted_log,
    smart_hosting_stub,
)


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
        shs_error_shape: ``"detailMessage"`` (Smart Hosting page) or ``"error"`` (docs example) body.

    :meth:`refuse_writes` makes one device answer its actions and authorization writes with a refusal body
    and status 200 (the lock's listing and reads stay as they are).
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
        created = nuki_time(self.now() - timedelta(days=400))
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
        self._write_refusals: dict[int, NukiError] = {}
        self._serial = itertools.count(1)
        self._slots = itertools.count(3_000_001)

    # -- basics ----------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated current instant."""
        return self.clock.now()

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
        state = new_lock_state(
            opener=opener,
            lock_state=lock_state,
            door_state=door_state,
            battery_charge=battery_charge,
            battery_critical=battery_critical,
            battery_charging=battery_charging,
            keypad=keypad,
        )
        record = lock_record(
            lock_id,
            name,
            account_id=self.account["accountId"],
            auth_id=next(self._slots),
            type_=type_,
            keypad=keypad,
            server_state=server_state,
            state=state,
            now=self.now(),
        )
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
            raise fail(404, f"Smartlock {smartlock_id} not found") from None

    def set_lock(
        self,
        smartlock_id: int,
        *,
        name: str | Unset = UNSET,
        lock_state: int | Unset = UNSET,
        mode: int | Unset = UNSET,
        door_state: int | Unset = UNSET,
        battery_charge: int | None | Unset = UNSET,
        battery_critical: bool | Unset = UNSET,
        battery_charging: bool | None | Unset = UNSET,
        keypad_battery_critical: bool | None | Unset = UNSET,
        keypad: bool | Unset = UNSET,
        server_state: int | Unset = UNSET,
        smart_hosting: bool | Unset = UNSET,
        busy: bool | Unset = UNSET,
    ) -> Json:
        """Change a device (only the arguments given; ``None`` removes an optional battery field)."""
        record = self.get_lock(smartlock_id)
        state = record["state"]
        if not isinstance(name, Unset):
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
            if isinstance(value, Unset):
                continue
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        if not isinstance(keypad, Unset):
            record["config"]["keypadPaired"] = keypad
        if not isinstance(server_state, Unset):
            record["serverState"] = server_state
        if not isinstance(smart_hosting, Unset):
            self.smart_hosting[smartlock_id] = smart_hosting
            record["currentSubscription"]["state"] = "ACTIVE" if smart_hosting else "EXPIRED"
        if not isinstance(busy, Unset):
            (self._busy.add if busy else self._busy.discard)(smartlock_id)
        record["updateDate"] = nuki_time(self.now())
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
        """The device as ``GET /smartlock`` lists it (the documented stub without Smart Hosting)."""
        record = self.get_lock(smartlock_id)
        if not self.smart_hosting[smartlock_id]:
            return smart_hosting_stub(smartlock_id, record["type"])
        served = copy.deepcopy(record)
        if self.busy(smartlock_id):
            served["operationId"] = f"op-{smartlock_id}"
        return served

    def require_smart_hosting(self, smartlock_id: int) -> None:
        """Raise the documented Smart Hosting refusal for a device without the subscription.

        Raises:
            NukiError: The refusal, in :attr:`shs_error_shape` with :attr:`shs_error_status`.
        """
        if not self.smart_hosting.get(smartlock_id, True):
            raise NukiError(self.shs_error_status, refusal(self.shs_error_shape))

    def refuse_writes(
        self,
        smartlock_id: int,
        *,
        shape: str = "detailMessage",
        message: str = SMART_HOSTING_ERROR,
        status: int = HTTPStatus.OK,
    ) -> None:
        """Make the device's actions and authorization writes answer ``status`` with a refusal and do nothing.

        As the Smart Hosting page documents it: ``POST /smartlock/{id}/action`` (``/lock``, ``/unlock``),
        ``PUT /smartlock/{id}/auth`` and ``POST``/``DELETE /smartlock/{id}/auth/{authId}`` answer the
        ``detailMessage`` body without a documented status, ``PUT /smartlock/auth/advanced`` "Response 200"
        with an ``error`` text. ``shape`` ``"error"`` sends ``{"error": message}``; ``message`` may be any
        text (e.g. :data:`~simulator.nuki.errors.AUTHS_ADVANCED_ERROR` with the id, or an error that is not
        about Smart Hosting). The listing and reads are unchanged; :meth:`allow_writes` ends it.
        """
        self.get_lock(smartlock_id)
        self._write_refusals[smartlock_id] = NukiError(status, refusal(shape, message))

    def allow_writes(self, smartlock_id: int) -> None:
        """End :meth:`refuse_writes` for the device."""
        self._write_refusals.pop(smartlock_id, None)

    def _check_write(self, smartlock_id: int) -> None:
        """Raise the device's write refusal (:meth:`refuse_writes`), if it has one."""
        if (refused := self._write_refusals.get(smartlock_id)) is not None:
            raise NukiError(refused.status, copy.deepcopy(refused.payload))

    def _require_operable(self, smartlock_id: int) -> Json:
        record = self.get_lock(smartlock_id)
        self._check_write(smartlock_id)
        self.require_smart_hosting(smartlock_id)
        if not self.account_paid:
            raise fail(HTTPStatus.PAYMENT_REQUIRED, "Account not payed")
        return record

    # -- actions and time ------------------------------------------------------------------------------------

    def perform(self, smartlock_id: int, action: Any, option: Any = None) -> None:
        """Accept an action (as ``POST /smartlock/{id}/action``) and plan its state steps.

        Raises:
            NukiError: 404, the Smart Hosting refusal, 402, 400 for an action the type lacks, 423 when busy.
        """
        record = self._require_operable(smartlock_id)
        allowed = allowed_actions(record["type"])
        if not isinstance(action, int) or isinstance(action, bool) or action not in allowed:
            raise bad_parameter("action", action)
        if option is not None and (not isinstance(option, int) or isinstance(option, bool) or option < 0):
            raise bad_parameter("option", option)
        if self.busy(smartlock_id):
            raise busy_error()
        if record["serverState"] != SERVER_OK:
            return  # accepted, but the device cannot be reached: nothing happens
        jam = smartlock_id in self._jam and action in (1, 2)
        self._jam.discard(smartlock_id)
        steps = self._plan(record, action, jam)
        self._steps[smartlock_id] = steps
        state = record["state"]
        state["trigger"], state["lastAction"] = TRIGGER_WEB, action
        done_at = steps[-1].at
        self.settle()
        self.clock.wake_at(done_at, self.settle)  # so Kasify's mirror follows, unread, on a live clock

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
            "trigger": TRIGGER_WEB,
            "state": 1 if jam else 0,
            "name": "Nuki Web",
        }
        return plan

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
                record["updateDate"] = nuki_time(step.at)
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
            "creationDate": nuki_time(now),
            "updateDate": nuki_time(shows) if shows <= now else None,
        }
        if code is not None:
            auth["code"] = code
        if allowed_from is not None:
            auth["allowedFromDate"] = nuki_time(allowed_from)
        if allowed_until is not None:
            auth["allowedUntilDate"] = nuki_time(allowed_until)
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
                    auth["updateDate"] = nuki_time(self._visible_at[auth_id])
                listed.append(auth)
        return listed

    def create_auth(self, smartlock_id: int, body: Any) -> None:
        """Validate and store a new authorization (``PUT /smartlock/{id}/auth``); it shows up later.

        Raises:
            NukiError: 422 for a body that cannot be read, 400 ``detailMessage`` per parameter, the Smart
                Hosting refusal, 402, 423 when busy.
        """
        record = self._require_operable(smartlock_id)
        data = read_auth_body(body)
        check_new_auth(data, record["config"], self._keypad_codes(smartlock_id))
        if self.busy(smartlock_id):
            raise busy_error()
        auth = self.add_auth(
            smartlock_id,
            data["name"],
            type_=data.get("type", 0),
            code=data.get("code"),
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
        self._check_write(smartlock_id)
        self.require_smart_hosting(smartlock_id)
        auth = self.auths.get(auth_id)
        if auth is None or auth["smartlockId"] != smartlock_id or self._visible_at[auth_id] > self.now():
            raise fail(404, f"Smartlock auth {auth_id} not found")
        data = read_auth_body(body)
        check_auth_update(data, auth, self._keypad_codes(smartlock_id, besides=auth_id))
        if self.busy(smartlock_id):
            raise busy_error()
        auth["name"] = data["name"]
        for key in ("enabled", "code", "allowedWeekDays", "allowedFromTime", "allowedUntilTime"):
            if data.get(key) is not None:
                auth[key] = data[key]
        for key in ("allowedFromDate", "allowedUntilDate"):
            if data.get(key) is not None:
                auth[key] = nuki_time(data[key])
        auth["updateDate"] = nuki_time(self.now())

    def _keypad_codes(self, smartlock_id: int, *, besides: str | None = None) -> list[Any]:
        """The codes of the device's keypad codes (shown up or not), but for the auth ``besides``."""
        return [
            auth.get("code")
            for auth_id, auth in self.auths.items()
            if auth_id != besides and auth["smartlockId"] == smartlock_id and auth["type"] == KEYPAD_CODE
        ]

    def delete_auth(self, smartlock_id: int, auth_id: str) -> None:
        """Delete an authorization that has shown up (``DELETE /smartlock/{id}/auth/{authId}``).

        Raises:
            NukiError: 404, the Smart Hosting refusal, 423 when busy.
        """
        self.get_lock(smartlock_id)
        self._check_write(smartlock_id)
        self.require_smart_hosting(smartlock_id)
        auth = self.auths.get(auth_id)
        if auth is None or auth["smartlockId"] != smartlock_id or self._visible_at[auth_id] > self.now():
            raise fail(404, f"Smartlock auth {auth_id} not found")
        if self.busy(smartlock_id):
            raise busy_error()
        del self.auths[auth_id]
        del self._visible_at[auth_id]

    # -- log -------------------------------------------------------------------------------------------------

    def add_log(
        self,
        smartlock_id: int,
        *,
        action: int,
        trigger: int = TRIGGER_APP,
        state: int = 0,
        name: str | None = "Kasify Host",
        date: datetime | None = None,
        source: int = 0,
        auth_id: str | None = None,
    ) -> Json:
        """Write a log entry (default: now) and return it."""
        record = self.locks.get(smartlock_id)
        if record is None:
            raise fail(404, f"Smartlock {smartlock_id} not found")
        when = date or self.now()
        entry: Json = {
            "id": self._object_id(when),
            "smartlockId": smartlock_id,
            "deviceType": 0 if record["type"] == TYPE_BOX else record["type"],
            "action": action,
            "trigger": trigger,
            "state": state,
            "autoUnlock": False,
            "date": nuki_time(when),
            "source": source,
        }
        if name is not None:
            entry["name"] = name
        if auth_id is not None:
            entry["authId"] = auth_id
        self.logs[entry["id"]] = entry
        return entry

    def use_code(self, smartlock_id: int, code: int, *, unlatch: bool = False) -> Json:
        """Someone types ``code`` on the lock's keypad; returns the log entry written.

        An enabled keypad code that has shown up and whose allowed dates cover now unlocks (or unlatches): the
        entry carries the code's name and its authorization's id (``authId``), trigger keypad, source keypad
        code. Any other code is an "invalid code" entry (state 224) naming nobody: the pages say nothing of
        what a known code outside its dates logs, so no code is named then either.
        """
        now = self.now()
        for auth in self.auths_for(smartlock_id, (KEYPAD_CODE,)):
            if auth.get("code") != code or not auth["enabled"]:
                continue
            starts, ends = auth.get("allowedFromDate"), auth.get("allowedUntilDate")
            if (starts is None or parse_iso(starts) <= now) and (ends is None or now < parse_iso(ends)):
                action = 3 if unlatch else 1
                self.locks[smartlock_id]["state"]["state"] = UNLATCHED if unlatch else UNLOCKED
                return self.add_log(
                    smartlock_id, action=action, trigger=TRIGGER_KEYPAD, source=1, name=auth["name"],
                    auth_id=auth["id"],
                )  # fmt: skip
        return self.add_log(smartlock_id, action=1, trigger=TRIGGER_KEYPAD, state=224, source=1, name="")

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
        return redacted_log(entry)
