"""What the automatic codes keep per booking, and how they read the entry's options.

:class:`HeldCodes` is one booking's codes as the scheduler stores them in ``.storage/kasify.auto_codes.<entry
id>``; :class:`AutoCodeSettings` the entry's options (lead time and offsets). The scheduler is in
:mod:`.automatic`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.util import dt as dt_util

from ..api.models import Booking
from ..const import (
    CONF_AUTO_CODES,
    CONF_AUTO_CODES_END_OFFSET,
    CONF_AUTO_CODES_LEAD_HOURS,
    CONF_AUTO_CODES_START_OFFSET,
    DEFAULT_AUTO_CODES_END_OFFSET,
    DEFAULT_AUTO_CODES_LEAD_HOURS,
    DEFAULT_AUTO_CODES_START_OFFSET,
)
from .policy import MAX_WINDOW

# Vendors limit code names (Nuki: 20 characters).
MAX_NAME_LENGTH: Final = 20

# What a held booking's codes are doing; anything but ACTIVE is a change that was under way.
STATE_ACTIVE: Final = "active"
STATE_CREATING: Final = "creating"
STATE_UPDATING: Final = "updating"
STATE_REVOKING: Final = "revoking"


@dataclass(frozen=True, slots=True)
class AutoCodeSettings:
    """The entry's options for automatic codes."""

    enabled: bool = False
    lead: timedelta = timedelta(hours=DEFAULT_AUTO_CODES_LEAD_HOURS)
    start_offset: timedelta = timedelta(minutes=DEFAULT_AUTO_CODES_START_OFFSET)
    end_offset: timedelta = timedelta(minutes=DEFAULT_AUTO_CODES_END_OFFSET)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> AutoCodeSettings:
        """Read the settings from an entry's options (defaults where unset)."""
        start, end = CONF_AUTO_CODES_START_OFFSET, CONF_AUTO_CODES_END_OFFSET
        return cls(
            enabled=bool(options.get(CONF_AUTO_CODES, False)),
            lead=timedelta(hours=int(options.get(CONF_AUTO_CODES_LEAD_HOURS, DEFAULT_AUTO_CODES_LEAD_HOURS))),
            start_offset=timedelta(minutes=int(options.get(start, DEFAULT_AUTO_CODES_START_OFFSET))),
            end_offset=timedelta(minutes=int(options.get(end, DEFAULT_AUTO_CODES_END_OFFSET))),
        )

    def window(self, booking: Booking) -> tuple[datetime, datetime]:
        """When the booking's code opens the door: the stay alone if the offsets would pass MAX_WINDOW."""
        starts_at, ends_at = booking.check_in - self.start_offset, booking.check_out + self.end_offset
        if ends_at - starts_at > MAX_WINDOW:  # a stay longer than that is refused by the engine
            return booking.check_in, booking.check_out
        return starts_at, ends_at

    def creation_time(self, booking: Booking) -> datetime:
        """When the booking's code is created."""
        return booking.check_in - self.lead


@dataclass(slots=True)
class HeldCodes:
    """The automatic codes of one booking, as stored (under the booking's id).

    The codes a booking left on the locks of a property it was moved away from, still to revoke, are kept
    apart (under :func:`left_behind_key`, with ``booking_id`` set), so the booking gets its code on the new
    property's locks without waiting for the old ones.
    """

    property_id: str
    codes: dict[str, str]  # lock entity id → the vendor's code id
    starts_at: datetime
    ends_at: datetime
    state: str = STATE_ACTIVE
    # Checks that found the booking gone (404 or cancelled) while it was missing from the bookings list.
    gone_checks: int = 0
    gone_checked_at: datetime | None = None
    booking_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the store."""
        stored = {
            "property_id": self.property_id,
            "codes": dict(self.codes),
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "state": self.state,
            "gone_checks": self.gone_checks,
            "gone_checked_at": self.gone_checked_at.isoformat() if self.gone_checked_at else None,
        }
        if self.booking_id is not None:
            stored["booking_id"] = self.booking_id
        return stored

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HeldCodes:
        """Read one stored record."""
        checked = data.get("gone_checked_at")
        return cls(
            property_id=str(data["property_id"]),
            codes={str(key): str(value) for key, value in data["codes"].items()},
            starts_at=_instant(data["starts_at"]),
            ends_at=_instant(data["ends_at"]),
            state=str(data.get("state", STATE_ACTIVE)),
            gone_checks=int(data.get("gone_checks", 0)),
            gone_checked_at=_instant(checked) if checked else None,
            booking_id=str(data["booking_id"]) if data.get("booking_id") else None,
        )


def left_behind_key(booking_id: str, property_id: str) -> str:
    """Where the codes a booking left on a property it moved away from are kept."""
    return f"{booking_id}@{property_id}"


def _instant(text: str) -> datetime:
    parsed = dt_util.parse_datetime(text)
    if parsed is None:
        raise ValueError(f"not an instant: {text!r}")
    return dt_util.as_utc(parsed)


def code_name(booking: Booking) -> str:
    """The name the code carries on the locks (shown in their activity as who used it)."""
    return (booking.guest_name.strip() or "Kasify")[:MAX_NAME_LENGTH].strip()


def phone_digits(booking: Booking) -> tuple[str, ...]:
    """The guest's phone digits, which the code must not end with (``()`` without a phone)."""
    digits = "".join(char for char in booking.guest_phone or "" if char.isdigit())
    return (digits,) if digits else ()
