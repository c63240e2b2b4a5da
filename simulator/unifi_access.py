"""The UniFi Access developer API (``APIS.md`` section 2) of a controller, mounted under :data:`UNIFI_PREFIX`.

The prefix is the real API path (``/api/v1/developer``), so a client that only takes a host and a port (like
``py-unifi-access``) finds every route; real controllers only speak HTTPS on port 12445, and
:func:`serve_unifi_https` puts a TLS front with a self-signed certificate, generated at runtime, before the
simulator (plain HTTP on the simulator's own port works too, e.g. for curl).

The doors come from the Kasify state: every Kasify smart lock with vendor ``unifi`` becomes a door with the
same id (``unifi_smartlock.door_id``), name and floor; one more door, :data:`UNIFI_GARAGE_DOOR_ID`, is not in
Kasify, has no hub (no remote unlock, no lock rules) and no door position sensor. Relay changes of a linked
door are mirrored into its Kasify record (``lock_state`` 1/3), as Kasify reads them from the controller.

Behaviour (inferred where the API leaves it open, and made adjustable):

- Bearer token; every answer is the envelope ``{"code", "msg", "data"}``. Errors: a missing or wrong token
  → 401 ``CODE_ACCESS_TOKEN_INVALID``; a permission the token lacks (:attr:`UnifiAccessState.permissions`)
  → 403 ``CODE_UNAUTHORIZED``; other codes with 400 (parameters, PIN codes), 404 (not found), 402 (operation
  refused, device offline) — or all with HTTP 200 when :attr:`UnifiAccessState.errors_as_http_200` is set
  (which status real controllers use is unconfirmed).
- ``PUT /doors/{id}/unlock`` flips ``door_lock_relay_status`` to ``unlock`` and back to ``lock``
  :attr:`UnifiAccessState.relock_delay` seconds later on the simulated clock (call
  :meth:`UnifiAccessState.settle` after moving a frozen clock; a live clock settles by itself). A door
  without a hub answers ``CODE_OPERATION_FORBIDDEN``, an offline one ``CODE_DEVICE_DEVICE_OFFLINE``.
- Lock rules: ``keep_lock``, ``keep_unlock`` (until ``reset``/``lock_now``), ``custom`` (unlocked for
  ``interval`` minutes), ``lock_early`` (only during an unlock schedule, see
  :meth:`UnifiAccessState.start_unlock_schedule`), ``lock_now`` (ends schedule, temporary and momentary
  unlocks), ``reset`` (ends keep/custom rules).
- WebSocket ``/devices/notifications``: sends ``Hello`` first, then for every relay or position change an
  ``access.data.device.location_update_v2`` message (:attr:`UnifiAccessState.location_events` switches to or
  adds ``access.data.v2.location.update``); an API unlock also sends ``access.data.device.remote_unlock``; a
  PIN typed at a reader (:meth:`UnifiAccessState.use_pin`) sends ``access.logs.add`` (``ACCESS`` or
  ``BLOCKED``). :meth:`UnifiAccessState.drop_websockets` drops the sockets; every message sent is kept in
  :attr:`UnifiAccessState.pushed`.
- Visitors: ``POST/GET /visitors``, ``GET/DELETE /visitors/{id}`` (``is_force=true`` deletes, else cancels),
  ``PUT/DELETE /visitors/{id}/pin_codes`` (digits only, length within
  :attr:`UnifiAccessState.pin_lengths` → else ``CODE_CREDS_PIN_CODE_CREDS_LENGTH_INVALID``, unique among
  visitors and :attr:`UnifiAccessState.user_pins` → else ``CODE_CREDS_PIN_CODE_CREDS_ALREADY_EXIST``; answers
  ``{"code", "msg"}`` without ``data``, as documented), ``POST /credentials/pin_codes`` (a free PIN).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import hashlib
from http import HTTPStatus
import ipaddress
import json
from pathlib import Path
import random
import ssl
import tempfile
from typing import TYPE_CHECKING, Any, Final
import uuid

from aiohttp import WSCloseCode, WSMsgType, web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from yarl import URL

from .clock import Clock
from .kasify_state import Json, KasifyState

if TYPE_CHECKING:
    from .app import Simulator

UNIFI_PREFIX: Final = "/api/v1/developer"
UNIFI_TOKEN: Final = "sim-unifi-token"  # noqa: S105 - the simulator's well-known test token
NOTIFICATIONS_PATH: Final = "/devices/notifications"
UNIFI_GARAGE_DOOR_ID: Final = "5785e97b-6123-4596-ba49-b6e51164db9b"
"""The door that is not in Kasify: no hub, no door position sensor."""
CONSOLE_NAME: Final = "UDM-SE"
FLOOR_NAME: Final = "PB"
FOREVER: Final = 3_602_128_309
"""``ended_time`` of the keep rules (the API doc's sample value, year 2084)."""

LOCATION_UPDATE_V2: Final = "access.data.device.location_update_v2"
V2_LOCATION_UPDATE: Final = "access.data.v2.location.update"
REMOTE_UNLOCK: Final = "access.data.device.remote_unlock"
LOGS_ADD: Final = "access.logs.add"

ALL_PERMISSIONS: Final = frozenset(
    {"view:space", "edit:space", "view:device", "view:visitor", "edit:visitor", "view:credential"}
)
VISIT_REASONS: Final = frozenset({"Interview", "Business", "Cooperation", "Others"})
VISITOR_STATUS_NUMBERS: Final = {
    "UPCOMING": 1,
    "VISITED": 2,
    "VISITING": 3,
    "CANCELLED": 4,
    "NO_VISIT": 5,
    "ACTIVE": 6,
}
_SETTABLE_RULES: Final = frozenset({"keep_lock", "keep_unlock", "custom", "reset", "lock_early", "lock_now"})
_UNLOCKING_RULES: Final = frozenset({"keep_unlock", "custom", "schedule"})

# HTTP status of each error code unless errors_as_http_200 (unconfirmed: see the module docstring).
_CODE_STATUS: Final = {
    "CODE_ACCESS_TOKEN_INVALID": HTTPStatus.UNAUTHORIZED,
    "CODE_UNAUTHORIZED": HTTPStatus.FORBIDDEN,
    "CODE_PARAMS_INVALID": HTTPStatus.BAD_REQUEST,
    "CODE_CREDS_PIN_CODE_CREDS_LENGTH_INVALID": HTTPStatus.BAD_REQUEST,
    "CODE_CREDS_PIN_CODE_CREDS_ALREADY_EXIST": HTTPStatus.BAD_REQUEST,
    "CODE_RESOURCE_NOT_FOUND": HTTPStatus.NOT_FOUND,
    "CODE_NOT_EXISTS": HTTPStatus.NOT_FOUND,
    "CODE_OPERATION_FORBIDDEN": HTTPStatus.PAYMENT_REQUIRED,
    "CODE_DEVICE_DEVICE_OFFLINE": HTTPStatus.PAYMENT_REQUIRED,
    "CODE_SYSTEM_ERROR": HTTPStatus.INTERNAL_SERVER_ERROR,
}
_MESSAGES: Final = {
    "CODE_ACCESS_TOKEN_INVALID": "The provided access token is invalid.",
    "CODE_UNAUTHORIZED": "You are not allowed to perform this action.",
    "CODE_PARAMS_INVALID": "The provided parameters are invalid.",
    "CODE_RESOURCE_NOT_FOUND": "The requested resource was not found.",
    "CODE_NOT_EXISTS": "The requested item does not exist.",
    "CODE_OPERATION_FORBIDDEN": "The requested operation is not allowed.",
    "CODE_DEVICE_DEVICE_OFFLINE": "The device is currently offline.",
    "CODE_CREDS_PIN_CODE_CREDS_ALREADY_EXIST": "The PIN code already exists.",
    "CODE_CREDS_PIN_CODE_CREDS_LENGTH_INVALID": "The PIN code length does not meet the preset requirements.",
    "CODE_SYSTEM_ERROR": "An error occurred on the server's end.",
}

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class UnifiError(Exception):
    """An error answer: an envelope ``code`` and ``msg``; the HTTP status follows from the code."""

    def __init__(self, code: str, message: str | None = None) -> None:
        """Describe the error; the message defaults to the documented one for ``code``."""
        super().__init__(message or _MESSAGES.get(code, code))
        self.code = code
        self.message = message or _MESSAGES.get(code, code)


def envelope(data: Any = None, *, msg: str = "success", with_data: bool = True) -> Json:
    """The response envelope."""
    body: Json = {"code": "SUCCESS", "msg": msg}
    if with_data:
        body["data"] = data
    return body


_STATUS_CODES: Final[dict[int, str]] = {
    HTTPStatus.BAD_REQUEST: "CODE_PARAMS_INVALID",
    HTTPStatus.UNAUTHORIZED: "CODE_ACCESS_TOKEN_INVALID",
    HTTPStatus.PAYMENT_REQUIRED: "CODE_OPERATION_FORBIDDEN",
    HTTPStatus.FORBIDDEN: "CODE_UNAUTHORIZED",
    HTTPStatus.NOT_FOUND: "CODE_RESOURCE_NOT_FOUND",
}


def code_for_status(status: int) -> str:
    """The error code a bare HTTP error status (an injected fault) is rendered with."""
    return _STATUS_CODES.get(status, "CODE_SYSTEM_ERROR")


def permission_for(method: str, path: str) -> str | None:
    """The permission key a route needs (``path`` relative to :data:`UNIFI_PREFIX`)."""
    if path.startswith("/doors"):
        return "view:space" if method == "GET" else "edit:space"
    if path.startswith("/devices"):
        return "view:device"
    if path.startswith("/visitors"):
        return "view:visitor" if method == "GET" else "edit:visitor"
    if path.startswith("/credentials"):
        return "view:credential"
    return None


@dataclass(eq=False, slots=True)
class _Connection:
    """One open WebSocket: its response, the request (for its transport) and the outgoing queue."""

    ws: web.WebSocketResponse
    request: web.Request
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)


# --- state --------------------------------------------------------------------------------------


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
        self.kasify: KasifyState | None = None
        self.kasify_links: dict[str, str] = {}
        self._relock_at: dict[str, datetime] = {}
        self._connections: set[_Connection] = set()
        self._ws_changed = asyncio.Event()

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
            "websockets": len(self._connections),
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
        record: Json = {
            "id": door_id,
            "name": name,
            "full_name": f"{CONSOLE_NAME} - {FLOOR_NAME} - {name}",
            "floor_id": floor_id or self.new_id(),
            "type": "door",
            "is_bind_hub": is_bind_hub,
            "door_lock_relay_status": "lock",
            "door_position_status": position,
        }
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
        self._wake_at(due)
        self._update_relay(door_id)
        self._broadcast(
            {
                "event": REMOTE_UNLOCK,
                "receiver_id": "",
                "event_object_id": self.hubs.get(door_id, ""),
                "save_to_history": False,
                "data": {
                    "unique_id": door_id,
                    "name": door["name"],
                    "full_name": door["full_name"],
                    "up_id": door["floor_id"],
                    "location_type": "door",
                    "extras": {"actor_name": actor_name} if actor_name else {},
                },
            }
        )

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
            self._wake_at(ends)
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
        self._wake_at(until)
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

    def _wake_at(self, when: datetime) -> None:
        """On a live clock, settle when ``when`` comes (a frozen clock waits for :meth:`settle`)."""
        if self.clock.frozen:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_later(max(0.0, (when - self.now()).total_seconds()) + 0.01, self.settle)

    def _mirror(self, door_id: str) -> None:
        """Copy the relay into the linked Kasify record (Kasify reads it from the controller)."""
        kasify_id = self.kasify_links.get(door_id)
        if self.kasify is None or kasify_id not in self.kasify.smart_locks:
            return
        relay = self.doors[door_id]["door_lock_relay_status"]
        self.kasify.set_lock(kasify_id, lock_state=3 if relay == "unlock" else 1)

    def devices(self) -> list[list[Json]]:
        """``GET /devices``: hub and reader per door with a hub, grouped per door."""
        groups: list[list[Json]] = []
        for door_id, hub in self.hubs.items():
            online = door_id not in self.offline
            common = {"is_adopted": True, "is_connected": online, "is_managed": True, "is_online": online}
            reader = f"{hub[:6]}{int(hub[6:], 16) ^ 0xFFFFFF:06x}"
            groups.append(
                [
                    {
                        "id": hub,
                        "name": f"UA-HUB-DOOR-{hub[-4:].upper()}",
                        "type": "UAH-DOOR",
                        "alias": "",
                        "capabilities": ["is_hub", "pin_code", "emergency_settings"],
                        "connected_uah_id": "",
                        "location_id": door_id,
                        **common,
                    },
                    {
                        "id": reader,
                        "name": f"UA G2 Pro {reader[-4:].upper()}",
                        "type": "UA-G2-PRO",
                        "alias": "",
                        "capabilities": ["pin_code", "nfc", "is_reader"],
                        "connected_uah_id": hub,
                        "location_id": door_id,
                        **common,
                    },
                ]
            )
        return groups

    # -- visitors --------------------------------------------------------------------------------------------

    def _visitor(self, visitor_id: str) -> Json:
        try:
            return self.visitors[visitor_id]
        except KeyError:
            raise UnifiError("CODE_NOT_EXISTS", f"Visitor {visitor_id} does not exist") from None

    def visitor_status(self, record: Json) -> str:
        """``UPCOMING``, ``ACTIVE``, ``VISITED`` or ``CANCELLED`` on the simulated clock."""
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
        if not isinstance(body, dict):
            raise UnifiError("CODE_PARAMS_INVALID", "The body must be a JSON object")
        for key in ("first_name", "last_name"):
            if not isinstance(body.get(key), str) or not body[key].strip():
                raise UnifiError("CODE_PARAMS_INVALID", f"{key} is required")
        times = [t for t in (body.get("start_time"), body.get("end_time")) if type(t) is int]
        if len(times) != 2:
            raise UnifiError("CODE_PARAMS_INVALID", "start_time and end_time are unix seconds")
        if times[1] <= times[0]:
            raise UnifiError("CODE_PARAMS_INVALID", "end_time must be after start_time")
        if body.get("visit_reason") not in VISIT_REASONS:
            raise UnifiError("CODE_PARAMS_INVALID", f"visit_reason must be one of {sorted(VISIT_REASONS)}")
        resources = []
        for index, item in enumerate(body.get("resources") or []):
            if not isinstance(item, dict) or item.get("type") not in ("door", "door_group"):
                raise UnifiError("CODE_PARAMS_INVALID", f"resources[{index}] must be a door or door_group")
            if item["type"] == "door" and item.get("id") not in self.doors:
                raise UnifiError("CODE_PARAMS_INVALID", f"resources[{index}].id is not a door")
            name = self.doors[item["id"]]["name"] if item["type"] == "door" else "Door group"
            resources.append({"id": item["id"], "name": name, "type": item["type"]})
        visitor_id = self.new_id()
        self.visitors[visitor_id] = {
            "id": visitor_id,
            "first_name": body["first_name"].strip(),
            "last_name": body["last_name"].strip(),
            "remarks": body.get("remarks") or "",
            "mobile_phone": body.get("mobile_phone") or "",
            "email": body.get("email") or "",
            "visitor_company": body.get("visitor_company") or "",
            "visit_reason": body["visit_reason"],
            "start_time": times[0],
            "end_time": times[1],
            "resources": resources,
            "nfc_cards": [],
            "schedule_id": "",
            "_cancelled": False,
        }
        return self.served_visitor(visitor_id)

    def update_visitor(self, visitor_id: str, body: Any) -> Json:
        """``PUT /visitors/{id}``: every field optional; times stay unix seconds, the end after the start."""
        record = self._visitor(visitor_id)
        if not isinstance(body, dict):
            raise UnifiError("CODE_PARAMS_INVALID", "The body must be a JSON object")
        times = {}
        for key in ("start_time", "end_time"):
            if key in body:
                if type(body[key]) is not int:
                    raise UnifiError("CODE_PARAMS_INVALID", f"{key} must be unix seconds")
                times[key] = body[key]
        if times.get("end_time", record["end_time"]) <= times.get("start_time", record["start_time"]):
            raise UnifiError("CODE_PARAMS_INVALID", "end_time must be after start_time")
        for key in ("first_name", "last_name", "remarks"):
            if isinstance(body.get(key), str) and body[key].strip():
                record[key] = body[key].strip()
        record.update(times)
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
            self._wake_at(due)
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
        self._broadcast(
            {
                "event": LOGS_ADD,
                "receiver_id": "",
                "event_object_id": self.new_id(),
                "save_to_history": False,
                "data": {
                    "_id": self.new_id(),
                    "@timestamp": now.isoformat(),
                    "_source": {
                        "actor": {
                            "id": actor_id or "",
                            "type": "visitor" if actor_id else "",
                            "display_name": actor,
                        },
                        "event": {
                            "type": "access.door.unlock",
                            "display_message": "Access Granted (PIN)" if granted else "Access Denied (PIN)",
                            "result": "ACCESS" if granted else "BLOCKED",
                            "published": int(now.timestamp() * 1000),
                            "reason": "" if granted else "NO_PERMISSION",
                        },
                        "authentication": {"credential_provider": provider, "issuer": ""},
                        "target": [
                            {"type": "UAH", "id": self.hubs.get(door["id"], ""), "display_name": "Hub"},
                            {"type": "door", "id": door["id"], "display_name": door["name"]},
                        ],
                    },
                    "tag": "access",
                },
            }
        )

    # -- push ------------------------------------------------------------------------------------------------

    def location_message(self, door_id: str, event: str = LOCATION_UPDATE_V2) -> Json:
        """The push message describing a door's current relay and position."""
        door = self.doors[door_id]
        state: Json = {
            "lock": "unlocked" if door["door_lock_relay_status"] == "unlock" else "locked",
            "dps": door["door_position_status"],
        }
        data: Json = {"id": door_id, "location_type": "door", "state": state}
        message: Json = {
            "event": event,
            "receiver_id": "",
            "event_object_id": door_id,
            "save_to_history": False,
            "data": data,
        }
        if event == V2_LOCATION_UPDATE:
            state["dps_connected"] = door["door_position_status"] is not None
            state["emergency"] = {"software": "none", "hardware": "none"}
            state["is_unavailable"] = door_id in self.offline
            hub = self.hubs.get(door_id)
            data.update({"name": door["name"], "up_id": door["floor_id"], "device_ids": [hub] if hub else []})
            message["meta"] = {"object_type": "location", "all_field": True, "id": door_id}
        return message

    def _push_location(self, door_id: str) -> None:
        for event in self.location_events:
            self._broadcast(self.location_message(door_id, event))

    def push(self, message: Json) -> None:
        """Send any message (e.g. an unknown event) to every open WebSocket."""
        self._broadcast(message)

    def _broadcast(self, message: Json) -> None:
        self.pushed.append(message)
        text = json.dumps(message)
        for connection in self._connections:
            connection.queue.put_nowait(text)

    def attach(self, ws: web.WebSocketResponse, request: web.Request) -> _Connection:
        """Register a WebSocket for pushes (before its handshake answer, so nothing pushed after is lost)."""
        connection = _Connection(ws, request)
        self._connections.add(connection)
        self._ws_changed.set()
        return connection

    def detach(self, connection: _Connection) -> None:
        """Forget a closed WebSocket."""
        self._connections.discard(connection)
        self._ws_changed.set()

    @property
    def websockets(self) -> int:
        """How many WebSockets are open."""
        return len(self._connections)

    def drop_websockets(self, *, abrupt: bool = True) -> int:
        """Drop every open WebSocket: cut the connection (``abrupt``) or close it cleanly; return how many."""
        connections = list(self._connections)
        for connection in connections:
            transport = connection.request.transport
            if abrupt and transport is not None:
                transport.abort()
            else:
                connection.queue.put_nowait(None)
        return len(connections)

    async def wait_for_websockets(self, count: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``count`` WebSockets are open.

        Raises:
            TimeoutError: When they are not within ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while len(self._connections) < count:
                self._ws_changed.clear()
                await self._ws_changed.wait()

    async def close_websockets(self) -> None:
        """Close every WebSocket (server shutdown)."""
        for connection in list(self._connections):
            await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutdown")


# --- the API ------------------------------------------------------------------------------------


def _json(data: Any, status: int = HTTPStatus.OK) -> web.Response:
    return web.json_response(data, status=status)


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise UnifiError("CODE_PARAMS_INVALID", "The request body is not valid JSON") from None


def _query_int(request: web.Request, key: str, default: int) -> int:
    value = request.query.get(key)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise UnifiError("CODE_PARAMS_INVALID", f"{key} must be an integer") from None
    if number < 1:
        raise UnifiError("CODE_PARAMS_INVALID", f"{key} must be at least 1")
    return number


class UnifiAccessApi:
    """The UniFi Access vendor: routes, bearer auth, permissions and the envelope over one state."""

    name = "unifi_access"
    prefix = UNIFI_PREFIX

    def __init__(self, state: UnifiAccessState) -> None:
        """Serve ``state``."""
        self.state = state

    # -- vendor protocol -------------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> bytes:
        """The envelope for an error status."""
        return json.dumps({"code": code_for_status(status), "msg": message}).encode()

    def summary(self) -> Json:
        """Counts, the prefix and the token."""
        return {"prefix": self.prefix, "token": self.state.token, **self.state.summary()}

    def build_app(self) -> web.Application:
        """The sub-application with the developer API routes."""
        app = web.Application(middlewares=[self._middleware])
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/doors", self.list_doors),
            ("GET", "/doors/{id}", self.get_door),
            ("PUT", "/doors/{id}/unlock", self.unlock),
            ("GET", "/doors/{id}/lock_rule", self.get_lock_rule),
            ("PUT", "/doors/{id}/lock_rule", self.put_lock_rule),
            ("GET", "/devices", self.list_devices),
            ("GET", NOTIFICATIONS_PATH, self.notifications),
            ("GET", "/visitors", self.list_visitors),
            ("POST", "/visitors", self.create_visitor),
            ("GET", "/visitors/{id}", self.get_visitor),
            ("PUT", "/visitors/{id}", self.update_visitor),
            ("DELETE", "/visitors/{id}", self.delete_visitor),
            ("PUT", "/visitors/{id}/pin_codes", self.assign_pin),
            ("DELETE", "/visitors/{id}/pin_codes", self.unassign_pin),
            ("POST", "/credentials/pin_codes", self.generate_pin),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        # aiohttp 3.11 annotates its signals for the older aiosignal; the handler has the right signature.
        app.on_shutdown.append(self._on_shutdown)  # type: ignore[arg-type]
        return app

    async def _on_shutdown(self, app: web.Application) -> None:
        await self.state.close_websockets()

    def _error(self, err: UnifiError) -> web.Response:
        status = _CODE_STATUS.get(err.code, HTTPStatus.BAD_REQUEST)
        if self.state.errors_as_http_200 and status not in (HTTPStatus.UNAUTHORIZED,):
            status = HTTPStatus.OK
        headers = {"WWW-Authenticate": "Bearer"} if status == HTTPStatus.UNAUTHORIZED else None
        return web.json_response({"code": err.code, "msg": err.message}, status=status, headers=headers)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check token and permission, settle due timers, render errors as envelopes."""
        try:
            self._check_access(request)
            self.state.settle()
            return await handler(request)
        except UnifiError as err:
            return self._error(err)
        except web.HTTPException as err:
            if err.status < HTTPStatus.BAD_REQUEST:
                raise
            code = code_for_status(err.status)
            return web.json_response({"code": code, "msg": err.reason}, status=err.status)

    def _check_access(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.state.token:
            raise UnifiError("CODE_ACCESS_TOKEN_INVALID")
        permission = permission_for(request.method, request.path.removeprefix(UNIFI_PREFIX))
        if permission is not None and permission not in self.state.permissions:
            raise UnifiError("CODE_UNAUTHORIZED", f"The API token lacks the {permission} permission.")

    # -- doors and devices -----------------------------------------------------------------------------------

    async def list_doors(self, request: web.Request) -> web.Response:
        """``GET /doors``."""
        return _json(envelope([dict(door) for door in self.state.doors.values()]))

    async def get_door(self, request: web.Request) -> web.Response:
        """``GET /doors/{id}``."""
        return _json(envelope(dict(self.state.get_door(request.match_info["id"]))))

    async def unlock(self, request: web.Request) -> web.Response:
        """``PUT /doors/{id}/unlock`` (optional body ``{actor_id, actor_name, extra}``)."""
        body = await _body(request)
        if not isinstance(body, dict):
            raise UnifiError("CODE_PARAMS_INVALID", "The body must be a JSON object")
        if ("actor_id" in body) != ("actor_name" in body):
            raise UnifiError("CODE_PARAMS_INVALID", "actor_id and actor_name go together")
        self.state.unlock(request.match_info["id"], actor_name=body.get("actor_name"))
        return _json(envelope("success"))

    async def get_lock_rule(self, request: web.Request) -> web.Response:
        """``GET /doors/{id}/lock_rule``."""
        return _json(envelope(self.state.lock_rule(request.match_info["id"])))

    async def put_lock_rule(self, request: web.Request) -> web.Response:
        """``PUT /doors/{id}/lock_rule`` with ``{type, interval?}``."""
        body = await _body(request)
        if not isinstance(body, dict):
            raise UnifiError("CODE_PARAMS_INVALID", "The body must be a JSON object")
        self.state.set_lock_rule(request.match_info["id"], body.get("type"), body.get("interval"))
        return _json(envelope("success"))

    async def list_devices(self, request: web.Request) -> web.Response:
        """``GET /devices`` (an array of arrays, one per door)."""
        return _json(envelope(self.state.devices()))

    async def notifications(self, request: web.Request) -> web.StreamResponse:
        """``GET /devices/notifications``: the push WebSocket."""
        ws = web.WebSocketResponse(timeout=2.0)
        if not ws.can_prepare(request).ok:
            raise UnifiError("CODE_PARAMS_INVALID", "This endpoint is a WebSocket")
        connection = self.state.attach(ws, request)
        try:
            await ws.prepare(request)
            await ws.send_str("Hello")
            sender = asyncio.create_task(self._send(connection))
            try:
                async for message in ws:
                    if message.type is WSMsgType.ERROR:
                        break
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
        finally:
            self.state.detach(connection)
        return ws

    @staticmethod
    async def _send(connection: _Connection) -> None:
        while True:
            text = await connection.queue.get()
            if text is None:
                await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Dropped")
                return
            try:
                await connection.ws.send_str(text)
            except ConnectionError:
                return

    # -- visitors --------------------------------------------------------------------------------------------

    async def list_visitors(self, request: web.Request) -> web.Response:
        """``GET /visitors?status=&keyword=&page_num=&page_size=``."""
        state = self.state
        served = [state.served_visitor(vid) for vid in state.visitors]
        keyword = request.query.get("keyword")
        if keyword:
            served = [
                v for v in served if v["first_name"].startswith(keyword) or v["last_name"].startswith(keyword)
            ]
        elif "status" in request.query:
            wanted = _query_int(request, "status", 0)
            served = [v for v in served if VISITOR_STATUS_NUMBERS[v["status"]] == wanted]
        page, size = _query_int(request, "page_num", 1), _query_int(request, "page_size", 25)
        body = envelope(served[(page - 1) * size : page * size])
        body["pagination"] = {"page_num": page, "page_size": size, "total": len(served)}
        return _json(body)

    async def create_visitor(self, request: web.Request) -> web.Response:
        """``POST /visitors``."""
        return _json(envelope(self.state.create_visitor(await _body(request))))

    async def get_visitor(self, request: web.Request) -> web.Response:
        """``GET /visitors/{id}``."""
        return _json(envelope(self.state.served_visitor(request.match_info["id"])))

    async def update_visitor(self, request: web.Request) -> web.Response:
        """``PUT /visitors/{id}``."""
        return _json(envelope(self.state.update_visitor(request.match_info["id"], await _body(request))))

    async def delete_visitor(self, request: web.Request) -> web.Response:
        """``DELETE /visitors/{id}?is_force=true``."""
        force = request.query.get("is_force", "").lower() in ("true", "1")
        self.state.delete_visitor(request.match_info["id"], force=force)
        return _json(envelope(None))

    async def assign_pin(self, request: web.Request) -> web.Response:
        """``PUT /visitors/{id}/pin_codes`` with ``{"pin_code"}``: answers without ``data``."""
        body = await _body(request)
        pin = body.get("pin_code") if isinstance(body, dict) else None
        self.state.assign_pin(request.match_info["id"], pin)
        return _json(envelope(with_data=False))

    async def unassign_pin(self, request: web.Request) -> web.Response:
        """``DELETE /visitors/{id}/pin_codes``."""
        self.state.unassign_pin(request.match_info["id"])
        return _json(envelope(with_data=False))

    async def generate_pin(self, request: web.Request) -> web.Response:
        """``POST /credentials/pin_codes``."""
        return _json(envelope(self.state.generate_pin()))


# --- fleet --------------------------------------------------------------------------------------


def build_unifi_fleet(
    kasify: KasifyState, *, clock: Clock, seed: int = 1, token: str = UNIFI_TOKEN
) -> UnifiAccessState:
    """The controller behind the Kasify fleet's UniFi doors, plus :data:`UNIFI_GARAGE_DOOR_ID`.

    Linked doors have a hub and a door position sensor (closed); a Kasify ``lock_state`` 3 becomes a
    ``keep_unlock`` rule, an ``offline`` Kasify lock an offline hub.
    """
    state = UnifiAccessState(clock=clock, token=token, seed=seed)
    state.kasify = kasify
    for record in list(kasify.smart_locks.values()):
        unifi = record.get("unifi_smartlock") or {}
        door_id = unifi.get("door_id")
        if record["vendor"] != "unifi" or not door_id or door_id in state.doors:
            continue
        state.add_door(
            unifi.get("name") or record["name"],
            door_id=door_id,
            floor_id=unifi.get("floor_id"),
            relay="unlock" if record["lock_state"] == 3 else "lock",
            offline=bool(record["offline"]),
            kasify_lock_id=record["id"],
        )
    state.add_door("Garaje", door_id=UNIFI_GARAGE_DOOR_ID, is_bind_hub=False, position=None)
    return state


# --- HTTPS ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SelfSignedCertificate:
    """A self-signed server certificate and its key (PEM), as a UniFi console generates one."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def der(self) -> bytes:
        """The certificate in DER (what a fingerprint is taken over)."""
        return x509.load_pem_x509_certificate(self.cert_pem).public_bytes(serialization.Encoding.DER)

    @property
    def fingerprint(self) -> str:
        """SHA-256 fingerprint, ``AA:BB:...``."""
        return ":".join(f"{byte:02X}" for byte in hashlib.sha256(self.der).digest())

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
            cert.write_bytes(self.cert_pem)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(cert, key)
        return context

    def trusting_context(self) -> ssl.SSLContext:
        """A client context that verifies (chain and host name) and trusts exactly this certificate."""
        context = ssl.create_default_context(cadata=self.cert_pem.decode())
        context.verify_flags &= ~ssl.VERIFY_X509_STRICT
        return context


def generate_self_signed_certificate(
    hosts: Iterable[str] = ("127.0.0.1", "localhost"),
    *,
    common_name: str = "UniFi Access",
    seed: int | None = None,
) -> SelfSignedCertificate:
    """A self-signed certificate for ``hosts`` (IPs or DNS names), as a UniFi console generates one.

    Without ``seed``: a fresh EC P-256 key, valid for a year from now. With ``seed``: an Ed25519 key derived
    from it and fixed dates (2025-2045), so the same seed and hosts give the same certificate, byte for byte,
    and the same fingerprint on every run (``python -m simulator``: a pinned fingerprint survives restarts).
    """
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    if seed is None:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        not_before, not_after = now - timedelta(days=1), now + timedelta(days=365)
        serial = x509.random_serial_number()
    else:
        material = hashlib.sha256(f"unifi-simulator-certificate-{seed}".encode()).digest()
        key = ed25519.Ed25519PrivateKey.from_private_bytes(material)
        not_before, not_after = datetime(2025, 1, 1, tzinfo=UTC), datetime(2045, 1, 1, tzinfo=UTC)
        serial = int.from_bytes(material[:16]) >> 1
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256() if isinstance(key, ec.EllipticCurvePrivateKey) else None)
    )
    return SelfSignedCertificate(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


class TlsFrontend:
    """Terminates TLS on its own port and pipes the bytes to a plain HTTP server (HTTP and WebSocket alike).

    Everything reaches the simulator as a normal request, so the request log, latency and faults apply; a
    ``disconnect`` fault or a dropped WebSocket closes the client's TLS connection too. The connection to the
    simulator is only opened once the client sends something, so a client that hangs up after the handshake
    (a refused certificate, a fingerprint probe) costs the simulator nothing.
    """

    def __init__(self, certificate: SelfSignedCertificate, target_host: str, target_port: int) -> None:
        """Pipe to ``target_host:target_port`` presenting ``certificate``."""
        self.certificate = certificate
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._context: ssl.SSLContext | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.host: str | None = None
        self.port: int | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen (0 picks a free port) and return the bound host and port."""
        self._context = self.certificate.server_context()
        self._server = await asyncio.start_server(self._accept, host, port)
        bound = self._server.sockets[0].getsockname()
        self.host, self.port = bound[0], bound[1]
        return bound[0], bound[1]

    async def stop(self) -> None:
        """Stop listening and cut every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:
            # Accepted just before :meth:`stop` closed the server, but started after it cancelled the
            # connections: cut it, or the server would wait for it to end.
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # TLS is started here rather than by the server, so a failed handshake (a client refusing the
        # certificate) is this code's to close, instead of an error the event loop logs.
        raw = writer.transport
        assert self._context is not None
        try:
            await writer.start_tls(self._context)
            first = await reader.read(65536)
        except (OSError, ssl.SSLError, ConnectionError, asyncio.CancelledError):
            raw.abort()
            writer.transport.abort()
            return
        up_writer: asyncio.StreamWriter | None = None
        try:
            if not first:
                return
            up_reader, up_writer = await asyncio.open_connection(*self._target)
            up_writer.write(first)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (OSError, ConnectionError):
            pass
        finally:
            writer.transport.abort()
            raw.abort()
            if up_writer is not None:
                up_writer.transport.abort()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy until either side ends, then cut the sink (HTTP clients never half-close)."""
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError, ssl.SSLError):
            pass
        finally:
            sink.transport.abort()


@dataclass(frozen=True, slots=True)
class UnifiEndpoint:
    """Where the simulated controller answers over HTTPS, and what a client needs to talk to it."""

    host: str
    port: int
    token: str
    certificate: SelfSignedCertificate

    @property
    def fingerprint(self) -> str:
        """SHA-256 fingerprint of the controller's certificate (``AA:BB:...``)."""
        return self.certificate.fingerprint

    @property
    def url(self) -> str:
        """``https://host:port``."""
        return f"https://{self.host}:{self.port}"


@contextlib.asynccontextmanager
async def serve_unifi_https(
    sim: Simulator,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    certificate: SelfSignedCertificate | None = None,
) -> AsyncIterator[UnifiEndpoint]:
    """Serve the simulator over HTTPS while the block runs.

    The certificate is self-signed and derived from the simulator's seed (the same fingerprint on every
    run), unless one is given. The simulator must be serving already (``async with sim.serve():``); the TLS
    port leads to the same application, so ``https://host:port/api/v1/developer/...`` is the UniFi Access API.
    """
    if sim.base_url is None:
        raise RuntimeError("The simulator is not serving; use `async with sim.serve()` first")
    target = URL(sim.base_url)
    assert target.host is not None
    assert target.port is not None
    cert = certificate or generate_self_signed_certificate((host, "localhost"), seed=sim.config.seed)
    frontend = TlsFrontend(cert, target.host, target.port)
    bound_host, bound_port = await frontend.start(host, port)
    try:
        yield UnifiEndpoint(bound_host, bound_port, sim.unifi.token, cert)
    finally:
        await frontend.stop()
