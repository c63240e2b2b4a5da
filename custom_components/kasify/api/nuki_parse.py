"""Reading Nuki answers: accounts, devices, keypad codes, log entries and error bodies."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
import re
from typing import Any, Final

from .errors import (
    ApiError,
    BusyError,
    NotSupportedError,
    SmartHostingRequiredError,
    SubscriptionRequiredError,
)
from .http import error_for_status, error_summary, json_object
from .nuki_models import (
    ACTIVE_SUBSCRIPTION_STATES,
    SMART_HOSTING_MARKER,
    NukiAccount,
    NukiDeviceType,
    NukiKeypadCode,
    NukiLogEntry,
    NukiServerState,
    NukiSmartLock,
)
from .parse import Reader, as_object

_PARAMETER: Final = re.compile(r"for parameter '([^']+)'")
_LONG_NUMBER: Final = re.compile(r"\d{6,}")
_REFUSAL_KEYS: Final = ("detailMessage", "error")


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


def error_for_answer(
    status: int, text: str, headers: Mapping[str, str], where: str, lock_id: int | str | None = None
) -> ApiError:
    """Map a Nuki error answer to the shared hierarchy (the module docstring of the package says how)."""
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


def refusal_for_answer(
    status: int, text: str, headers: Mapping[str, str], where: str, lock_id: int | str | None = None
) -> ApiError | None:
    """The error a 2xx answer to a write stands for; ``None`` when its body refuses nothing.

    Nuki may answer a refused action or authorization write with a 2xx status and a body naming the refusal:
    the Smart Hosting page gives ``{"detailMessage": ...}`` without a status, and "Response 200" with
    ``"error": ...`` for ``PUT /smartlock/auth/advanced``. A JSON object with a non-empty ``detailMessage``
    or ``error`` text is mapped as an error answer with that status would be: the Smart Hosting refusal is
    :class:`SmartHostingRequiredError`, any other text an :class:`ApiError` naming it.
    """
    body = json_object(text)
    if body is None:
        return None
    if not any(isinstance(body.get(key), str) and body[key].strip() for key in _REFUSAL_KEYS):
        return None
    return error_for_answer(status, text, headers, where, lock_id)
