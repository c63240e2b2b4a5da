"""The rules for new and changed authorizations (keypad codes above all), as Nuki documents them.

A body is read as Nuki's web framework reads it (wrong JSON types: a 422 status object); each rule broken
answers 400 with the ``detailMessage`` naming the parameter, checked in the order Nuki checks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from http import HTTPStatus
import re
from typing import Any, Final

from simulator.clock import parse_iso
from simulator.kasify_state import Json

from .errors import bad_parameter, fail
from .records import KEYPAD_CODE, nuki_time

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


def read_auth_body(body: Any) -> Json:
    """Read an auth body as the framework would: wrong JSON types are a 422 status object.

    Raises:
        NukiError: 422 for a body that is not an object, a non-integer number field or an unreadable date.
    """
    if not isinstance(body, dict):
        raise fail(HTTPStatus.UNPROCESSABLE_ENTITY)
    data: Json = dict(body)
    for key in _AUTH_INTS:
        value = data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise fail(HTTPStatus.UNPROCESSABLE_ENTITY)
    for key in _AUTH_TIMES:
        value = data.get(key)
        if value is None:
            continue
        try:
            data[key] = parse_iso(value) if isinstance(value, str) else None
        except ValueError:
            data[key] = None
        if data[key] is None:
            raise fail(HTTPStatus.UNPROCESSABLE_ENTITY)
    return data


def check_new_auth(data: Json, config: Json, codes: Sequence[Any]) -> None:
    """Check a new authorization for a device with ``config`` whose keypad holds ``codes``.

    Raises:
        NukiError: 400 for the first parameter that breaks a rule.
    """
    _check_name(data)
    if not isinstance(data.get("remoteAllowed"), bool):
        raise bad_parameter("remoteAllowed", data.get("remoteAllowed"))
    auth_type = data.get("type", 0)
    if auth_type not in (0, 2, KEYPAD_CODE):
        raise bad_parameter("type", auth_type)
    code = data.get("code")
    if auth_type != KEYPAD_CODE:
        if data.get("accountUserId") is None:
            raise bad_parameter("accountUserId", None)
    else:
        if not (config.get("keypadPaired") or config.get("keypad2Paired")):
            raise bad_parameter("type", auth_type)
        if code is None or not _valid_code(code):
            raise bad_parameter("code", code)
        if any(taken == code for taken in codes):
            raise bad_parameter("code", code)
    weekdays = data.get("allowedWeekDays")
    if weekdays is not None and not 0 <= weekdays <= 127:
        raise bad_parameter("allowedWeekDays", weekdays)
    for key in ("allowedFromTime", "allowedUntilTime"):
        minutes = data.get(key)
        if minutes is not None and not 0 <= minutes <= 1440:
            raise bad_parameter(key, minutes)


def check_auth_update(data: Json, auth: Json, codes: Sequence[Any]) -> None:
    """Check a change to ``auth``; ``codes`` are the keypad's other codes.

    Raises:
        NukiError: 400 for the first parameter that breaks a rule.
    """
    _check_name(data)
    if "enabled" in data and not isinstance(data["enabled"], bool):
        raise bad_parameter("enabled", data["enabled"])
    start = data.get("allowedFromDate") or _stored_date(auth, "allowedFromDate")
    end = data.get("allowedUntilDate") or _stored_date(auth, "allowedUntilDate")
    if start is not None and end is not None and end <= start:
        raise bad_parameter("allowedUntilDate", nuki_time(end))
    code = data.get("code")
    if code is not None and auth["type"] == KEYPAD_CODE:
        if not _valid_code(code):
            raise bad_parameter("code", code)
        if any(taken == code for taken in codes):
            raise bad_parameter("code", code)


def _check_name(data: Json) -> None:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 32:
        raise bad_parameter("name", name)


def _valid_code(code: Any) -> bool:
    """Six digits 1-9, not starting with 12."""
    return bool(_CODE.match(str(code))) and not str(code).startswith("12")


def _stored_date(auth: Json, key: str) -> datetime | None:
    return parse_iso(auth[key]) if auth.get(key) else None
