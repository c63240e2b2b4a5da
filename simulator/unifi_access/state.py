"""In-memory UniFi Access state: the controller's doors, lock rules, timers, visitors, PINs and pushes.

Doors are kept as the API serves them (``GET /doors`` items); lock rules, timers, hubs and PINs beside. Relay
changes of a door linked to a Kasify lock are mirrored into its Kasify record (``lock_state`` 1/3), as Kasify
reads them from the controller. Every change a client would be told about is pushed to the open
notification WebSockets and kept in :attr:`UnifiAccessState.pushed`. The helper methods are what the routes
use and what tests call to set up a scenario.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import hashlib
import json
import random
from typing import Any, Final
import uuid

from aiohttp import web

from simulator.clock import Clock
from simulator.kasify_state import Json, KasifyState

from .errors import UnifiError
from .push import Connection, PushSockets
from .records import (
    LOCATION_UPDATE_V2,
    access_log_message,
    device_group,
    door_record,
    location_message,
    remote_unlock_message,
)
from .visitors import new_visitor, visitor_changes

UNIFI_TOKEN: Final = "sim-unifi-token"  # noqa: S105 - the simulator's well-known test token
FOREVER: Final = 3_602_128_309
"""``ended_time`` of the keep rules (the API doc's sample value, year 2084)."""
ALL_PERMISSIONS: Final = frozenset(
    {"view:space", "edit:space", "view:device", "view:visitor", "edit:visitor", "view:credential"}
)
_SETTABLE_RULES: Final = frozenset({"keep_lock", "keep_unlock", "custom", "reset", "lock_early", "lock_now"})
_UNLOCKING_RULES: Final = frozenset({"keep_unlock", "custom", "schedule"})


class UnifiAccessState:
    """The controller the simulator serves: doors, lock rules, visitors, open WebSockets, plus test helpers.

    Doors are kept as the API serves them (``GET /doors`` items); lock rules, timers, hubs and PINs beside.
    """

    def __init__(self, *, clock: Clock, token: str = UNIFI_TOKEN, seed: int = 1) -> None:
        """Create a controller without doors that answers to ``token`` and reads time from ``clock``."""
        self.token = token
        self.clock = clock
        self._rng = random.Random(f"unifi-ids-{seed}")
        self.relock_delay: float = 5.0
        """Seconds (simulated clock) a remote unlock keeps the relay open."""
        self.pin_lengths: range = range(4, 9)
        """PIN lengths the controller's settings allow."""
        self.generated_pin_length: int = 8
        self.errors_as_http_200: bool = False
        """Answer non-auth errors with HTTP 200 and the error code (instead of 400/402/403/404)."""
        self.location_events: tuple[str, ...] = (LOCATION_UPDATE_V2,)
        """Which location message(s) a door change pushes."""
        self.permissions: set[str] = set(ALL_PERMISSIONS)
        """The scopes the token has; remove one to get 403 on the routes that need it."""
        self.user_pins: set[str] = set()
        """PINs held by (simulated) users: visitors cannot take them."""
        self.doors: dict[str, Json] = {}
        self.hubs: dict[str, str] = {}
        self.offline: set[str] = set()
        self.rules: dict[str, Json] = {}
        self.visitors: dict[str, Json] = {}
        self.pins: dict[str, str] = {}
        """Visitor id → its PIN in clear (the API never shows it)."""
        self.pushed: list[Json] = []
        """Every WebSocket message sent, in order."""
        self.push_silent: bool = False
        """A controller whose push has gone quiet: its WebSockets stay open (and new ones are accepted) but
        nothing is sent on them: no ``Hello``, no pushes (changes meanwhile are not recorded in
        :attr:`pushed` and never sent later) and no answer to a ping (a close is still answered). Set it back
        to ``False`` and the open sockets carry pushes and pongs again."""
        self.kasify: KasifyState | None = None
        self.kasify_links: dict[str, str] = {}
        self._relock_at: dict[str, datetime] = {}
        self.sockets = PushSockets()
        """The open notification WebSockets."""

    # -- basics ----------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated current instant."""
        return self.clock.now()

    def new_id(self) -> str:
        """A fresh UUID (deterministic for a given seed and call order)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _mac(self) -> str:
        return f"{self._rng.getrandbits(48):012x}"

    def summary(self) -> Json:
        """Counts for ``GET /_sim/state``."""
        return {
            "doors": len(self.doors),
            "visitors": len(self.visitors),
            "websockets": self.sockets.count,
            "pushed": len(self.pushed),
        }

    # -- doors -----------------------------------------------------------------------------------------------

    def add_door(
        self,
        name: str,
        *,
        door_id: str | None = None,
        floor_id: str | None = None,
        relay: str = "lock",
        position: str | None = "close",
        is_bind_hub: bool = True,
        offline: bool = False,
        kasify_lock_id: str | None = None,
    ) -> Json:
        """Add a door (``position`` ``None`` = no sensor) and return its served record."""
        door_id = door_id or self.new_id()
        record = door_record(
            door_id, name, floor_id or self.new_id(), is_bind_hub=is_bind_hub, position=position
        )
        self.doors[door_id] = record
        if is_bind_hub:
            self.hubs[door_id] = self._mac()
        if offline:
            self.offline.add(door_id)
        if kasify_lock_id is not None:
            self.kasify_links[door_id] = kasify_lock_id
        if relay == "unlock":
            self.rules[door_id] = {"type": "keep_unlock", "ended_time": FOREVER}
            record["door_lock_relay_status"] = "unlock"
        return record

    def get_door(self, door_id: str) -> Json:
        """The served record of a door.

        Raises:
            UnifiError: ``CODE_RESOURCE_NOT_FOUND`` when there is none.
        """
        try:
            return self.doors[door_id]
        except KeyError:
            raise UnifiError("CODE_RESOURCE_NOT_FOUND", f"Door {door_id} not found") from None

    def set_door_position(self, door_id: str, position: str | None) -> None:
        """Open or close the door (``"open"``/``"close"``; ``None`` = sensor removed) and push the change."""
        if position not in ("open", "close", None):
            raise ValueError("position is 'open', 'close' or None")
        door = self.get_door(door_id)
        if door["door_position_status"] != position:
            door["door_position_status"] = position
            self._push_location(door_id)

    def set_bind_hub(self, door_id: str, bound: bool) -> None:
        """Bind the door to a hub or unbind it (without a hub: no remote unlock, no rules)."""
        door = self.get_door(door_id)
        door["is_bind_hub"] = bound
        if bound:
            self.hubs.setdefault(door_id, self._mac())
        else:
            self.hubs.pop(door_id, None)

    def set_offline(self, door_id: str, offline: bool = True) -> None:
        """Take the door's hub offline (actions answer ``CODE_DEVICE_DEVICE_OFFLINE``) or back online."""
        self.get_door(door_id)
        if offline:
            self.offline.add(door_id)
        else:
            self.offline.discard(door_id)
        kasify_id = self.kasify_links.get(door_id)
        if self.kasify is not None and kasify_id in self.kasify.smart_locks:
            self.kasify.set_lock(kasify_id, offline=offline)

    def _require_operable(self, door_id: str) -> Json:
        door = self.get_door(door_id)
        if not door["is_bind_hub"]:
            raise UnifiError("CODE_OPERATION_FORBIDDEN", "The door is not bound to a hub")
        if door_id in self.offline:
            raise UnifiError("CODE_DEVICE_DEVICE_OFFLINE")
        return door

    def unlock(self, door_id: str, *, actor_name: str | None = None) -> None:
        """A remote unlock (``PUT /doors/{id}/unlock``): momentary, relocks after :attr:`relock_delay`."""
        door = self._require_operable(door_id)
        due = self.now() + timedelta(seconds=self.relock_delay)
        self._relock_at[door_id] = due
        self.clock.wake_at(due, self.settle)
        self._update_relay(door_id)
        self._broadcast(remote_unlock_message(door, self.hubs.get(door_id, ""), actor_name))

    def set_lock_rule(self, door_id: str, rule_type: Any, interval: Any = None) -> None:
        """``PUT /doors/{id}/lock_rule``."""
        if rule_type not in _SETTABLE_RULES:
            raise UnifiError("CODE_PARAMS_INVALID", f"Unknown lock rule type {rule_type!r}")
        self._require_operable(door_id)
        now = self.now()
        current = self.rules.get(door_id, {}).get("type")
        if rule_type in ("keep_lock", "keep_unlock"):
            self.rules[door_id] = {"type": rule_type, "ended_time": FOREVER}
        elif rule_type == "custom":
            if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
                raise UnifiError("CODE_PARAMS_INVALID", "interval must be a positive number of minutes")
            ends = now + timedelta(minutes=interval)
            self.rules[door_id] = {"type": "custom", "ended_time": int(ends.timestamp())}
            self.clock.wake_at(ends, self.settle)
        elif rule_type == "reset":
            if current in ("keep_lock", "keep_unlock", "custom"):
                del self.rules[door_id]
        elif rule_type == "lock_early":
            if current != "schedule":
                raise UnifiError("CODE_PARAMS_INVALID", "The door is not in an unlock schedule")
            self.rules[door_id] = {"type": "lock_early", "ended_time": self.rules[door_id]["ended_time"]}
        else:  # lock_now
            self.rules.pop(door_id, None)
            self._relock_at.pop(door_id, None)
        self._update_relay(door_id)

    def lock_rule(self, door_id: str) -> Json:
        """``GET /doors/{id}/lock_rule``: the rule in force, or ``{"type": "", "ended_time": 0}``."""
        self.get_door(door_id)
        return dict(self.rules.get(door_id, {"type": "", "ended_time": 0}))

    def start_unlock_schedule(self, door_id: str, until: datetime) -> None:
        """Put the door in an unlock schedule until ``until`` (what ``lock_early`` ends)."""
        self.get_door(door_id)
        self.rules[door_id] = {"type": "schedule", "ended_time": int(until.timestamp())}
        self.clock.wake_at(until, self.settle)
        self._update_relay(door_id)

    def _desired_relay(self, door_id: str) -> str:
        rule = self.rules.get(door_id, {}).get("type")
        if rule in _UNLOCKING_RULES or door_id in self._relock_at:
            return "unlock"
        return "lock"

    def _update_relay(self, door_id: str) -> None:
        door = self.doors[door_id]
        relay = self._desired_relay(door_id)
        if door["door_lock_relay_status"] != relay:
            door["door_lock_relay_status"] = relay
            self._push_location(door_id)
            self._mirror(door_id)

    def settle(self) -> None:
        """Apply the timers due on the simulated clock (relocks, ended rules) and push the changes."""
        now = self.now()
        stamp = now.timestamp()
        for door_id in list(self.doors):
            due = self._relock_at.get(door_id)
            if due is not None and due <= now:
                del self._relock_at[door_id]
            rule = self.rules.get(door_id)
            if rule is not None and rule["ended_time"] <= stamp:
                del self.rules[door_id]
            self._update_relay(door_id)

    def _mirror(self, door_id: str) -> None:
        """Copy the relay into the linked Kasify record (Kasify reads it from the controller)."""
        kasify_id = self.kasify_links.get(door_id)
        if self.kasify is None or kasify_id not in self.kasify.smart_locks:
            return
        relay = self.doors[door_id]["door_lock_relay_status"]
        self.kasify.set_lock(kasify_id, lock_state=3 if relay == "unlock" else 1)

    def devices(self) -> list[list[Json]]:
        """``GET /devices``: hub and reader per door with a hub, grouped per door."""
        return [
            device_group(door_id, hub, online=door_id not in self.offline)
            for door_id, hub in self.hubs.items()
        ]

    # -- visitors --------------------------------------------------------------------------------------------

    def _visitor(self, visitor_id: str) -> Json:
        try:
            return self.visitors[visitor_id]
        except KeyError:
            raise UnifiError("CODE_NOT_EXISTS", f"Visitor {visitor_id} does not exist") from None

    def visitor_status(self, record: Json) -> str:
        """``UPCOMING``, ``ACTIVE``, ``VISITED`` or ``CANCELLED`` on the simulated clock.

        A test may force any other text through the record's ``_status`` (a status a controller may add).
        """
        if (forced := record.get("_status")) is not None:
            return str(forced)
        if record["_cancelled"]:
            return "CANCELLED"
        stamp = self.now().timestamp()
        if stamp < record["start_time"]:
            return "UPCOMING"
        return "ACTIVE" if stamp < record["end_time"] else "VISITED"

    def served_visitor(self, visitor_id: str) -> Json:
        """A visitor as the API serves it (the PIN only as a hash)."""
        record = self._visitor(visitor_id)
        served = {key: value for key, value in record.items() if not key.startswith("_")}
        served["status"] = self.visitor_status(record)
        pin = self.pins.get(visitor_id)
        served["pin_code"] = {"token": hashlib.sha256(pin.encode()).hexdigest()} if pin else None
        return served

    def create_visitor(self, body: Any) -> Json:
        """``POST /visitors`` (validates like the API) and return the served visitor."""
        record = new_visitor(body, self.doors, self.new_id)
        self.visitors[record["id"]] = record
        return self.served_visitor(record["id"])

    def update_visitor(self, visitor_id: str, body: Any) -> Json:
        """``PUT /visitors/{id}``: every field optional; times stay unix seconds, the end after the start."""
        record = self._visitor(visitor_id)
        record.update(visitor_changes(body, record))
        return self.served_visitor(visitor_id)

    def delete_visitor(self, visitor_id: str, *, force: bool) -> None:
        """``DELETE /visitors/{id}``: ``force`` removes it (and frees its PIN), else it is cancelled."""
        record = self._visitor(visitor_id)
        if force:
            del self.visitors[visitor_id]
            self.pins.pop(visitor_id, None)
        else:
            record["_cancelled"] = True

    def assign_pin(self, visitor_id: str, pin: Any) -> None:
        """``PUT /visitors/{id}/pin_codes``."""
        self._visitor(visitor_id)
        if not isinstance(pin, str) or not pin.isdigit():
            raise UnifiError("CODE_PARAMS_INVALID", "pin_code must be a string of digits")
        if len(pin) not in self.pin_lengths:
            raise UnifiError("CODE_CREDS_PIN_CODE_CREDS_LENGTH_INVALID")
        holder = next((vid for vid, held in self.pins.items() if held == pin), None)
        if pin in self.user_pins or holder not in (None, visitor_id):
            raise UnifiError("CODE_CREDS_PIN_CODE_CREDS_ALREADY_EXIST")
        self.pins[visitor_id] = pin

    def unassign_pin(self, visitor_id: str) -> None:
        """``DELETE /visitors/{id}/pin_codes``."""
        self._visitor(visitor_id)
        self.pins.pop(visitor_id, None)

    def generate_pin(self) -> str:
        """``POST /credentials/pin_codes``: a PIN nobody holds."""
        taken = set(self.pins.values()) | self.user_pins
        while True:
            pin = "".join(str(self._rng.randrange(10)) for _ in range(self.generated_pin_length))
            if pin not in taken:
                return pin

    def use_pin(self, door_id: str, pin: str) -> bool:
        """Someone types ``pin`` at the door's reader: unlock and log ``ACCESS``, or log ``BLOCKED``.

        Access needs a visitor holding the PIN, active now, with the door among its resources.
        """
        door = self.get_door(door_id)
        visitor_id = next((vid for vid, held in self.pins.items() if held == pin), None)
        record = self.visitors.get(visitor_id) if visitor_id is not None else None
        granted = (
            record is not None
            and self.visitor_status(record) == "ACTIVE"
            and any(res["id"] == door_id for res in record["resources"])
            and door_id not in self.offline
        )
        actor = f"{record['first_name']} {record['last_name']}" if record is not None else ""
        if granted:
            due = self.now() + timedelta(seconds=self.relock_delay)
            self._relock_at[door_id] = due
            self.clock.wake_at(due, self.settle)
            self._update_relay(door_id)
        self.add_access_log(door, actor=actor, provider="PIN_CODE", granted=granted, actor_id=visitor_id)
        return granted

    def add_access_log(
        self,
        door: Json,
        *,
        actor: str,
        provider: str,
        granted: bool,
        actor_id: str | None = None,
    ) -> None:
        """Push an ``access.logs.add`` door-unlock entry (a credential used at the door's reader)."""
        now = self.now()
        ids = (self.new_id(), self.new_id())
        self._broadcast(
            access_log_message(
                door,
                self.hubs.get(door["id"], ""),
                ids=ids,
                now=now,
                actor=actor,
                provider=provider,
                granted=granted,
                actor_id=actor_id,
            )
        )

    # -- push ------------------------------------------------------------------------------------------------

    def location_message(self, door_id: str, event: str = LOCATION_UPDATE_V2) -> Json:
        """The push message describing a door's current relay and position."""
        return location_message(
            self.doors[door_id], event, offline=door_id in self.offline, hub=self.hubs.get(door_id)
        )

    def _push_location(self, door_id: str) -> None:
        for event in self.location_events:
            self._broadcast(self.location_message(door_id, event))

    def push(self, message: Json) -> None:
        """Send any message (e.g. an unknown event) to every open WebSocket."""
        self._broadcast(message)

    def _broadcast(self, message: Json) -> None:
        if self.push_silent:
            return
        self.pushed.append(message)
        self.sockets.send(json.dumps(message))

    def attach(self, ws: web.WebSocketResponse, request: web.Request) -> Connection:
        """Register a WebSocket for pushes (see :meth:`PushSockets.attach`)."""
        return self.sockets.attach(ws, request)

    def detach(self, connection: Connection) -> None:
        """Forget a closed WebSocket."""
        self.sockets.detach(connection)

    @property
    def websockets(self) -> int:
        """How many WebSockets are open."""
        return self.sockets.count

    def drop_websockets(self, *, abrupt: bool = True) -> int:
        """Drop every open WebSocket: cut the connection (``abrupt``) or close it cleanly; return how many."""
        return self.sockets.drop(abrupt=abrupt)

    async def wait_for_websockets(self, count: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``count`` WebSockets are open.

        Raises:
            TimeoutError: When they are not within ``timeout`` seconds.
        """
        await self.sockets.wait_for(count, timeout)

    async def close_websockets(self) -> None:
        """Close every WebSocket (server shutdown)."""
        await self.sockets.close_all()
