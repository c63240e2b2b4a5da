"""What RemoteLock's resources look like: the types, event types per publisher, and the records as served.

Every record is a resource ``{"type", "id", "attributes", "links"}`` whose ``self`` link is under the API
path; lock-local times are served as ISO-8601 without a zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from simulator.kasify_state import Json

REMOTELOCK_PREFIX: Final = "/remotelock"
API_PATH: Final = "/api"
OAUTH_PATH: Final = "/connect"
DEFAULT_TIME_ZONE: Final = "Europe/Madrid"

LOCK_TYPES: Final = ("lock", "zwave_lock", "schlage_home_lock")
ACCESSIBLE_TYPES: Final = (*LOCK_TYPES, "location")
SUBSCRIBER_TYPES: Final = (
    "email_notification_subscriber",
    "text_notification_subscriber",
    "webhook_notification_subscriber",
)
WEBHOOK_SUBSCRIBER: Final = "webhook_notification_subscriber"
CONTENT_TYPES: Final = ("form", "json")
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})
"""Hosts a webhook ``url`` may use plain ``http`` for (a deliberate deviation: RemoteLock wants HTTPS)."""
_ACCESS_EVENTS: Final = (
    "unlocked",
    "locked",
    "access_denied",
    "access_person_synced",
    "access_person_sync_failed",
    "access_guest_late_sync",
    "reset",
)
_LOCK_EVENTS: Final = (*_ACCESS_EVENTS, "connectivity", "power_level_low", "battery_replaced")
_DOOR_EVENTS: Final = (
    *_ACCESS_EVENTS,
    "acs_door_opened",
    "acs_door_closed",
    "acs_door_held_open",
    "acs_requested_to_exit",
)
_PERSON_EVENTS: Final = ("access_person_used",)
PUBLISHER_EVENTS: Final[dict[str, tuple[str, ...]]] = {
    "lock": _LOCK_EVENTS,
    "acs_door": _DOOR_EVENTS,
    "thermostat": ("connectivity", "power_level_low", "temperature_changed", "humidity_changed"),
    "power_plug": ("connectivity", "relay_enabled", "relay_disabled"),
    "acs_controller": ("connectivity",),
    "access_user": _PERSON_EVENTS,
    "access_guest": _PERSON_EVENTS,
}
"""Event types a subscription may list per publisher type (the documented JSON schemas)."""
EVENT_TYPES: Final = frozenset(event for events in PUBLISHER_EVENTS.values() for event in events)
"""Every event type; ``account`` and ``location`` publishers take any of them."""
PUBLISHER_TYPES: Final = ("account", "location", *PUBLISHER_EVENTS)


def resource(kind: str, record_id: str, attributes: Json, self_path: str) -> Json:
    """A resource with its ``self`` link (``{id}`` in ``self_path`` stands for the id)."""
    return {
        "type": kind,
        "id": record_id,
        "attributes": attributes,
        "links": {"self": REMOTELOCK_PREFIX + API_PATH + self_path.replace("{id}", record_id)},
    }


def local_text(value: datetime | str) -> str:
    """Lock-local time as served: ISO-8601 without a zone, to the second (an offset given is dropped)."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=None, microsecond=0).isoformat(timespec="seconds")


def user_attributes(stamp: str) -> Json:
    """The attributes of the account's user."""
    return {
        "name": "Alojamientos Sol y Mar",
        "email": "locks@solymar-alojamientos.es",
        "handle": "solymar",
        "created_at": stamp,
        "updated_at": stamp,
    }


def account_attributes(stamp: str, owner_id: str) -> Json:
    """The attributes of the account."""
    return {
        "name": "Alojamientos Sol y Mar S.L.",
        "created_at": stamp,
        "updated_at": stamp,
        "default_guest_start_time": "15:00:00",
        "default_guest_end_time": "11:00:00",
        "rental_guest_time_override": False,
        "primary_owner_id": owner_id,
    }


def lock_attributes(
    device_type: str,
    name: str,
    *,
    state: str,
    power_level: int,
    connected: bool,
    alive: bool,
    stamp: str,
    serial: str,
) -> Json:
    """The attributes a new lock of ``device_type`` starts with, as that model reports them."""
    if device_type == "zwave_lock":
        return {
            "name": name,
            "state": state,
            "connected": connected,
            "power_level": power_level,
            "protocol": "zwave",
        }
    if device_type != "lock":
        return {
            "name": name,
            "state": state,
            "alive": alive,
            "connected": connected,
            "connected_at": stamp,
            "power_level": power_level,
            "serial_number": serial,
        }
    return {
        "name": name,
        "heartbeat_interval": 1200,
        "wifi_level": 0,
        "signal_quality": 3,
        "connected": connected,
        "alive": alive,
        "power_source": "alkaline_battery",
        "connected_at": stamp,
        "serial_number": serial,
        "wake_wifi": "user_action",
        "muted": False,
        "auto_lock": True,
        "auto_lock_timeout": 20,
        "programming_code": "123456",
        "state": state,
        "power_level": power_level,
        "default_guest_start_time": None,
        "default_guest_end_time": None,
        "local_pins": ["1234"],
        "model_number": "LS-6i",
        "lock_action_schedule_id": None,
    }


def person_attributes(name: str, *, pin: str | None, email: str | None, stamp: str) -> Json:
    """The attributes a new access user or guest starts with (a guest adds its times)."""
    return {
        "name": name,
        "email": email,
        "phone": None,
        "pin": pin,
        "card_number": None,
        "department": None,
        "status": None,
        "rental_source": None,
        "created_at": stamp,
        "updated_at": stamp,
    }


def event_attributes(kind: str, base: Json, device: Json, **fields: Any) -> Json:
    """An event's attributes: ``base`` plus what its ``kind`` carries (power level, connection, method...).

    ``fields`` are ``power_level``, ``status_info``, ``method`` and ``pin`` as given to the event.
    """
    attributes = dict(base)
    if kind == "power_level_low":
        power_level = fields["power_level"]
        attributes["power_level"] = (
            power_level if power_level is not None else device["attributes"].get("power_level")
        )
    elif kind == "connectivity":
        attributes["connected_at"] = device["attributes"].get("connected_at")
    else:
        attributes.update(associated_resource_name=None, status_info=fields["status_info"])
        if kind not in ("access_person_synced", "access_person_sync_failed", "access_guest_late_sync"):
            attributes.update(
                method=fields["method"], card=None, pin=fields["pin"], smart_card_serial_number=None
            )
    return attributes
