"""What the controller's records and push messages look like: doors, hubs and readers, WebSocket events."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from simulator.kasify_state import Json

CONSOLE_NAME: Final = "UDM-SE"
FLOOR_NAME: Final = "PB"

LOCATION_UPDATE_V2: Final = "access.data.device.location_update_v2"
V2_LOCATION_UPDATE: Final = "access.data.v2.location.update"
REMOTE_UNLOCK: Final = "access.data.device.remote_unlock"
LOGS_ADD: Final = "access.logs.add"


def door_record(door_id: str, name: str, floor_id: str, *, is_bind_hub: bool, position: str | None) -> Json:
    """A door as ``GET /doors`` lists it, its relay locked."""
    return {
        "id": door_id,
        "name": name,
        "full_name": f"{CONSOLE_NAME} - {FLOOR_NAME} - {name}",
        "floor_id": floor_id,
        "type": "door",
        "is_bind_hub": is_bind_hub,
        "door_lock_relay_status": "lock",
        "door_position_status": position,
    }


def device_group(door_id: str, hub: str, *, online: bool) -> list[Json]:
    """The hub of a door and its reader, as one group of ``GET /devices``."""
    common = {"is_adopted": True, "is_connected": online, "is_managed": True, "is_online": online}
    reader = f"{hub[:6]}{int(hub[6:], 16) ^ 0xFFFFFF:06x}"
    return [
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


def location_message(door: Json, event: str, *, offline: bool, hub: str | None) -> Json:
    """The push message describing a door's current relay and position."""
    door_id = door["id"]
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
        state["is_unavailable"] = offline
        data.update({"name": door["name"], "up_id": door["floor_id"], "device_ids": [hub] if hub else []})
        message["meta"] = {"object_type": "location", "all_field": True, "id": door_id}
    return message


def remote_unlock_message(door: Json, hub: str, actor_name: str | None) -> Json:
    """The push message of an API unlock."""
    return {
        "event": REMOTE_UNLOCK,
        "receiver_id": "",
        "event_object_id": hub,
        "save_to_history": False,
        "data": {
            "unique_id": door["id"],
            "name": door["name"],
            "full_name": door["full_name"],
            "up_id": door["floor_id"],
            "location_type": "door",
            "extras": {"actor_name": actor_name} if actor_name else {},
        },
    }


def access_log_message(
    door: Json,
    hub: str,
    *,
    ids: tuple[str, str],
    now: datetime,
    actor: str,
    provider: str,
    granted: bool,
    actor_id: str | None,
) -> Json:
    """An ``access.logs.add`` door-unlock entry; ``ids`` are the message's and the log entry's."""
    event_object_id, log_id = ids
    return {
        "event": LOGS_ADD,
        "receiver_id": "",
        "event_object_id": event_object_id,
        "save_to_history": False,
        "data": {
            "_id": log_id,
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
                    {"type": "UAH", "id": hub, "display_name": "Hub"},
                    {"type": "door", "id": door["id"], "display_name": door["name"]},
                ],
            },
            "tag": "access",
        },
    }
