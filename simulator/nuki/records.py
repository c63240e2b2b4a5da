"""What the Nuki Web API's records look like: device types and states, and the Smartlock and log records.

Records are kept as the JSON objects the API returns (dates as :func:`nuki_time` text); a device without
Smart Hosting is served as the documented stub, and its log entries redacted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Final

from simulator.clock import as_instant
from simulator.kasify_state import Json

from .errors import SMART_HOSTING_ERROR

NUKI_TOKEN: Final = "sim-nuki-token"  # noqa: S105 - the simulator's well-known test token

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

TRIGGER_WEB, TRIGGER_APP, TRIGGER_AUTO_LOCK, TRIGGER_KEYPAD = 4, 5, 6, 255

_LOCK_ACTIONS: Final = frozenset({1, 2, 3, 4, 5})
_ACTIONS: Final[dict[int, frozenset[int]]] = {
    TYPE_BOX: frozenset({1}),
    TYPE_OPENER: frozenset({1, 2, 3, 6, 7}),
}


def nuki_time(value: datetime) -> str:
    """UTC with milliseconds, as the Nuki API writes dates: ``2025-01-16T12:20:23.541Z``."""
    return as_instant(value).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def allowed_actions(device_type: int) -> frozenset[int]:
    """The ``action`` numbers a device type accepts."""
    return _ACTIONS.get(device_type, _LOCK_ACTIONS)


class Unset(Enum):
    """The type of :data:`UNSET`."""

    UNSET = 0


UNSET: Final = Unset.UNSET
"""Marks a keyword argument of :meth:`NukiState.set_lock` that was not given (``None`` removes a field)."""


def new_lock_state(
    *,
    opener: bool,
    lock_state: int,
    door_state: int,
    battery_charge: int | None,
    battery_critical: bool | None,
    battery_charging: bool | None,
    keypad: bool,
) -> Json:
    """A new device's ``state`` object (``batteryCharge`` left out when ``None``)."""
    state: Json = {
        "mode": MODE_DOOR,
        "state": lock_state,
        "trigger": TRIGGER_APP,
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
    return state


def lock_record(
    lock_id: int,
    name: str,
    *,
    account_id: int,
    auth_id: int,
    type_: int,
    keypad: bool,
    server_state: int,
    state: Json,
    now: datetime,
) -> Json:
    """A new device's Smartlock record with ``state``, created 200 days before ``now``."""
    return {
        "smartlockId": lock_id,
        "accountId": account_id,
        "type": type_,
        "authId": auth_id,
        "name": name,
        "favorite": False,
        "config": _config(name, keypad),
        "state": state,
        "firmwareVersion": 132105 if type_ == TYPE_SMART_LOCK else 263428,
        "hardwareVersion": 1291,
        "serverState": server_state,
        "adminPinState": 0,
        "virtualDevice": False,
        "creationDate": nuki_time(now - timedelta(days=200)),
        "updateDate": nuki_time(now),
        "currentSubscription": {
            "type": "B2B",
            "state": "ACTIVE",
            "shsSubscriptionType": "BUSINESS",
            "creationDate": nuki_time(now - timedelta(days=60)),
            "updateDate": nuki_time(now - timedelta(days=60)),
            "expirationDate": nuki_time(now + timedelta(days=305)),
            "isInGracePeriod": False,
        },
    }


def _config(name: str, keypad: bool) -> Json:
    return {
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
    }


def smart_hosting_stub(smartlock_id: int, device_type: int) -> Json:
    """A device without Smart Hosting as ``GET /smartlock`` lists it (the documented stub)."""
    return {
        "smartlockId": smartlock_id,
        "accountId": 0,
        "type": device_type,
        "favorite": False,
        "serverState": 1,
        "adminPinState": 1,
        "virtualDevice": False,
        "error": SMART_HOSTING_ERROR,
        "subscriptions": [],
    }


def redacted_log(entry: Json) -> Json:
    """A log entry of a device without Smart Hosting, redacted as documented."""
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
