"""Nuki's keypad code rules (checked before any request) and the API's date format."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
import random
import secrets
from typing import Final

from .errors import ValidationError
from .nuki_models import KEYPAD_NAME_MAX_LENGTH

_DIGITS_1_TO_9: Final = "123456789"


def keypad_code_problem(code: int | str) -> str | None:
    """Why ``code`` breaks Nuki's keypad rules (6 digits 1-9, not starting with 12); ``None`` if valid."""
    if isinstance(code, bool):
        return "must be a number"
    text = str(code).strip()
    if len(text) != 6 or not text.isdigit():
        return "must be exactly 6 digits"
    if "0" in text:
        return "must not contain the digit 0"
    if text.startswith("12"):
        return "must not start with 12"
    return None


def validate_keypad_code(code: int | str) -> int:
    """Return ``code`` as the integer the API takes.

    Raises:
        ValidationError: When it breaks the keypad rules (``fields["code"]`` says how; the PIN is not in it).
    """
    problem = keypad_code_problem(code)
    if problem is not None:
        raise ValidationError(f"Keypad code {problem}", fields={"code": [problem]})
    return int(str(code).strip())


def generate_keypad_code(existing: Iterable[int | str] = (), *, rng: random.Random | None = None) -> int:
    """A random valid keypad code that is not in ``existing`` (cryptographically random unless ``rng``)."""
    chooser = rng or secrets.SystemRandom()
    taken = {str(code).strip() for code in existing}
    for _ in range(10_000):
        text = "".join(chooser.choice(_DIGITS_1_TO_9) for _ in range(6))
        if not text.startswith("12") and text not in taken:
            return int(text)
    raise ValueError("no free keypad code found")  # pragma: no cover - 524,880 valid codes per lock


def validate_keypad_name(name: str) -> str:
    """The name without outer blanks.

    Raises:
        ValidationError: When it is empty or longer than :data:`KEYPAD_NAME_MAX_LENGTH`.
    """
    text = name.strip()
    if not text:
        raise ValidationError("Keypad code name must not be empty", fields={"name": ["must not be empty"]})
    if len(text) > KEYPAD_NAME_MAX_LENGTH:
        problem = f"must be at most {KEYPAD_NAME_MAX_LENGTH} characters"
        raise ValidationError(f"Keypad code name {problem}", fields={"name": [problem]})
    return text


def check_keypad_window(
    allowed_from: datetime | None,
    allowed_until: datetime | None,
    weekdays: int,
    from_time: int,
    until_time: int,
) -> None:
    """Check a keypad code's validity window and daily times.

    Raises:
        ValidationError: Naming every field that is out of range.
    """
    fields: dict[str, list[str]] = {}
    if allowed_from is not None and allowed_until is not None and allowed_until <= allowed_from:
        fields["allowed_until"] = ["must be after the start"]
    if not 1 <= weekdays <= 127:
        fields["allowed_weekdays"] = ["must be a weekday bitmask from 1 to 127"]
    for key, minutes in (("allowed_from_time", from_time), ("allowed_until_time", until_time)):
        if not 0 <= minutes <= 1440:
            fields[key] = ["must be minutes after midnight (0-1440)"]
    if fields:
        raise ValidationError("Invalid keypad code window", fields=fields)


def nuki_time(value: datetime) -> str:
    """An aware instant as the API writes dates: UTC with milliseconds, ``2023-12-20T13:00:00.000Z``."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not accepted; pass an aware datetime")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
