"""Time rules both parse paths share: the feed's zone, an event's start and end, the overlap rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON


def zone_from_name(name: str | None) -> tzinfo | None:
    """A zone for a name from a feed (IANA, or a Windows name), or ``None``."""
    if not name:
        return None
    clean = name.strip().strip("/")
    for candidate in (clean, WINDOWS_TO_OLSON.get(clean)):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except Exception:  # noqa: BLE001, S112 - ZoneInfo raises several kinds for odd keys
                continue
    return None


def feed_zone(x_wr_timezone: Any, default: tzinfo) -> tzinfo:
    """The zone for floating times: ``X-WR-TIMEZONE`` when it names a zone, else ``default``."""
    value = first_value(x_wr_timezone)
    zone = zone_from_name(str(value)) if value is not None else None
    return zone or default


def _aware(value: datetime, zone: tzinfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _add_duration(start: datetime, duration: timedelta) -> datetime:
    """RFC 5545: whole days are nominal (wall clock), the rest is exact."""
    if duration <= timedelta(0):
        return start
    nominal = start + timedelta(days=duration.days)
    exact = timedelta(seconds=duration.seconds, microseconds=duration.microseconds)
    if not exact:
        return nominal
    zone = start.tzinfo
    return (nominal.astimezone(UTC) + exact).astimezone(zone)


def resolve_times(
    start_value: Any, end_value: Any, duration_value: Any, zone: tzinfo
) -> tuple[date, date] | None:
    """Start and end of an event from its decoded ``DTSTART``, ``DTEND`` and ``DURATION`` values.

    Returns dates for all-day events and aware datetimes otherwise (``None`` when the start is unusable).
    """
    if isinstance(start_value, datetime):
        start: date = _aware(start_value, zone)
    elif isinstance(start_value, date):
        start = start_value
    else:
        return None
    all_day = not isinstance(start, datetime)
    end: date | None = None
    if isinstance(end_value, datetime):
        if all_day:
            end = (end_value.astimezone(zone) if end_value.tzinfo is not None else end_value).date()
        else:
            end = _aware(end_value, zone)
    elif isinstance(end_value, date):
        end = end_value if all_day else datetime.combine(end_value, time(), zone)
    try:
        if end is None and isinstance(duration_value, timedelta):
            if isinstance(start, datetime):
                end = _add_duration(start, duration_value)
            else:
                end = start + duration_value
        if all_day:
            if end is None or end <= start:
                end = start + timedelta(days=1)
        elif end is None or end < start:
            end = start
    except OverflowError:  # dates at the edge of the calendar
        return None
    return start, end


def timestamp(value: date, zone: tzinfo) -> float:
    """POSIX seconds of an event bound (a date is midnight in ``zone``)."""
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime(value.year, value.month, value.day, tzinfo=zone).timestamp()


def overlaps(start: float, end: float, window_start: float, window_end: float) -> bool:
    """The overlap rule of both paths (see the module docstring)."""
    return start < window_end and (end > window_start or (start == end and start >= window_start))


def first_value(value: Any) -> Any:
    """The first of a property's values (``icalendar`` gives a list when a property repeats)."""
    return value[0] if isinstance(value, list) else value
