"""Dates and times the actions take, and the range they must fall in.

Any form Home Assistant reads (``cv.datetime``: ISO 8601 text or a ``datetime``), with or without a time zone.
Python's calendar ends at the years 1 and 9999: an instant at its edge cannot be moved to UTC, to a lock's
time zone or by a code window's offsets, so the actions refuse anything outside :data:`MIN_YEAR` to
:data:`MAX_YEAR` as input (``vol.Invalid``) before it is used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from homeassistant.helpers import config_validation as cv
import voluptuous as vol

MIN_YEAR: Final = 1900
MAX_YEAR: Final = 9000


def datetime_in_range(value: Any) -> datetime:
    """A date and time (``cv.datetime``) between :data:`MIN_YEAR` and :data:`MAX_YEAR` (naive stays naive)."""
    parsed = cv.datetime(value)
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise vol.Invalid(f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return parsed
