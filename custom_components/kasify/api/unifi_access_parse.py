"""Reading the library's door models, visitor objects and push messages into our models."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import json
import logging
from typing import Any, Final

import pydantic
from unifi_access_api import Door, DoorLockRelayStatus, DoorLockRuleStatus, DoorPositionStatus
from unifi_access_api.models.websocket import (
    LocationUpdateState,
    LocationUpdateV2,
    LogAdd,
    RemoteUnlock,
    V2DeviceUpdate,
    V2LocationState,
    V2LocationUpdate,
    create_from_unifi_dict,
)

from .models import LockStatus
from .parse import Reader
from .unifi_access_models import (
    SETTABLE_LOCK_RULES,
    ActivityKind,
    DoorActivityEvent,
    DoorPosition,
    DoorStateEvent,
    LockRule,
    LockRuleType,
    UnifiDoor,
    UnifiEvent,
    Visitor,
    VisitorResource,
)

_LOGGER = logging.getLogger(__name__)

_UNLOCK_LOG_EVENT: Final = "access.door.unlock"


_VISITOR_STATUSES: Final = {
    "1": "UPCOMING",
    "2": "VISITED",
    "3": "VISITING",
    "4": "CANCELLED",
    "5": "NO_VISIT",
    "6": "ACTIVE",
}


_RELAY: Final = {DoorLockRelayStatus.LOCK: LockStatus.LOCKED, DoorLockRelayStatus.UNLOCK: LockStatus.UNLOCKED}
_POSITION: Final = {DoorPositionStatus.OPEN: DoorPosition.OPEN, DoorPositionStatus.CLOSE: DoorPosition.CLOSED}
_WS_LOCK: Final = {
    "locked": LockStatus.LOCKED,
    "lock": LockStatus.LOCKED,
    "unlocked": LockStatus.UNLOCKED,
    "unlock": LockStatus.UNLOCKED,
}


def door_from_library(door: Door) -> UnifiDoor:
    """Our door from the library's ``Door`` model."""
    return UnifiDoor(
        id=door.id,
        name=door.name,
        full_name=door.full_name or door.name,
        floor_id=door.floor_id or None,
        status=_RELAY.get(door.door_lock_relay_status, LockStatus.UNKNOWN),
        position=_POSITION.get(door.door_position_status),
        is_bind_hub=door.is_bind_hub,
        supported_lock_rules=SETTABLE_LOCK_RULES if door.is_bind_hub else frozenset(),
    )


def lock_rule_from_library(status: DoorLockRuleStatus) -> LockRule:
    """Our lock rule from the library's ``DoorLockRuleStatus`` (an end time of 0 means none)."""
    ends = datetime.fromtimestamp(status.ended_time, UTC) if status.ended_time > 0 else None
    return LockRule(type=LockRuleType(status.type.value), ends_at=ends)


def _unix(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def parse_visitor(r: Reader) -> Visitor:
    """Parse a Visitor object (``POST/GET /visitors``)."""
    status = r.opt_str("status")
    pin = r.opt_object("pin_code")
    return Visitor(
        id=r.str("id"),
        first_name=r.opt_str("first_name") or "",
        last_name=r.opt_str("last_name") or "",
        status=_VISITOR_STATUSES.get(status, status) if status is not None else None,
        starts_at=_unix(r.opt_int("start_time")),
        ends_at=_unix(r.opt_int("end_time")),
        resources=tuple(
            VisitorResource(id=res.str("id"), type=res.opt_str("type") or "", name=res.opt_str("name"))
            for res in r.objects("resources")
        ),
        has_pin=pin is not None or bool(r.opt_str("pin_code_token")),
        remarks=r.opt_str("remarks") or "",
    )


def _state_event(
    door_id: str, state: LocationUpdateState | V2LocationState, event: str
) -> DoorStateEvent | None:
    """Translate the fields a location state message really carried (absent ones stay unknown)."""
    present = state.model_fields_set
    status = _WS_LOCK.get(state.lock.lower(), LockStatus.UNKNOWN) if "lock" in present else None
    reported = "dps" in present
    if status is None and not reported:
        return None
    position = _POSITION.get(state.dps) if reported else None
    return DoorStateEvent(door_id, status, position, reported, event)


def _activity_from_log(message: LogAdd) -> DoorActivityEvent | None:
    source = message.data.source
    if source.event.type and source.event.type != _UNLOCK_LOG_EVENT:
        return None
    door = next((target for target in source.target if target.type == "door" and target.id), None)
    if door is None:
        return None
    method = source.authentication.credential_provider or None
    if source.event.result and source.event.result.upper() != "ACCESS":
        kind = ActivityKind.ACCESS_DENIED
    elif method == "PIN_CODE":
        kind = ActivityKind.CODE_USED
    else:
        kind = ActivityKind.UNLOCKED
    published = source.event.published
    return DoorActivityEvent(
        door_id=door.id,
        kind=kind,
        actor=source.actor.display_name or None,
        method=method,
        at=datetime.fromtimestamp(published / 1000, UTC) if published else None,
        event=message.event or "",
    )


def parse_event(message: Mapping[str, Any]) -> tuple[UnifiEvent, ...]:
    """Translate one WebSocket message into typed events (none for messages this integration ignores).

    - ``access.data.device.location_update_v2`` and ``access.data.v2.location.update`` (a door's ``state``)
      and ``access.data.v2.device.update`` (its ``location_states``) → :class:`DoorStateEvent`;
    - ``access.logs.add`` of ``access.door.unlock`` → :class:`DoorActivityEvent` (``ACCESS`` with a PIN →
      ``code_used``, other credentials → ``unlocked``, any other result → ``access_denied``);
    - ``access.data.device.remote_unlock`` → :class:`DoorActivityEvent` ``unlocked`` by ``REMOTE``.
    """
    try:
        parsed = create_from_unifi_dict(dict(message))
    except pydantic.ValidationError:
        _LOGGER.debug("Ignoring a UniFi Access message of unexpected shape: %s", message.get("event"))
        return ()
    event = parsed.event or ""
    if isinstance(parsed, LocationUpdateV2 | V2LocationUpdate):
        data = parsed.data
        if data.state is None or not data.id or data.location_type.lower() not in ("", "door"):
            return ()
        state_event = _state_event(data.id, data.state, event)
        return (state_event,) if state_event is not None else ()
    if isinstance(parsed, V2DeviceUpdate):
        events = (_state_event(s.location_id, s, event) for s in parsed.data.location_states if s.location_id)
        return tuple(e for e in events if e is not None)
    if isinstance(parsed, LogAdd):
        activity = _activity_from_log(parsed)
        return (activity,) if activity is not None else ()
    if isinstance(parsed, RemoteUnlock) and parsed.data.unique_id:
        unlock = DoorActivityEvent(parsed.data.unique_id, ActivityKind.UNLOCKED, None, "REMOTE", None, event)
        return (unlock,)
    return ()


def decode_frame(text: str) -> tuple[UnifiEvent, ...]:
    """Events in one text frame; keepalives ("Hello") and non-JSON frames give none."""
    try:
        raw = json.loads(text)
    except ValueError:
        return ()
    return parse_event(raw) if isinstance(raw, dict) else ()


def first_error(err: Exception) -> str:
    """The first problem of a pydantic validation error (``location: message``), for error messages."""
    if isinstance(err, pydantic.ValidationError) and err.errors():
        first = err.errors()[0]
        location = ".".join(str(part) for part in first.get("loc", ()))
        return f"{location}: {first.get('msg', '')}"
    return str(err)
