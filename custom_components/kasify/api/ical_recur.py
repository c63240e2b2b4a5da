"""Recurrence expansion (``RRULE`` / ``RDATE`` / ``EXDATE``) with :mod:`dateutil.rrule`.

Used only by the full-parse path. Rules of the expansion, shared by every caller so results agree:

- ``DTSTART`` is always the first instance (unless an ``EXDATE`` removes it), as RFC 5545 says.
- Timed events repeat on the wall clock of ``DTSTART``'s zone (10:00 stays 10:00 across DST); all-day
  events repeat by date. Each instance keeps the master's length.
- ``UNTIL`` given in another form than ``DTSTART`` (a date, or naive against an aware start) is read in the
  start's zone; an ``RRULE`` that :mod:`dateutil` still cannot use is ignored (the event then occurs on the
  dates it has), never fatal. ``RDATE`` periods contribute their start. ``EXRULE`` is not supported.
- Rules repeating more often than daily (``HOURLY``, ``MINUTELY``, ``SECONDLY``) are ignored: no rental or
  cleaning calendar needs them, and :mod:`dateutil` walks every instance from ``DTSTART`` on, so one such rule
  from years ago would stall the executor. At most :data:`MAX_INSTANCES` instances of one event are produced
  per query.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final

from dateutil.rrule import (  # type: ignore[import-untyped, unused-ignore]
    rruleset,
    rrulestr,
)
from icalendar.prop import vRecur

MAX_INSTANCES: Final = 20_000
_SUB_DAILY: Final = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _dts(value: Any) -> list[Any]:
    """The Python values of an ``RDATE``/``EXDATE`` property (one or several lines)."""
    found: list[Any] = []
    for item in _as_list(value):
        try:
            found.extend(getattr(entry, "dt", entry) for entry in getattr(item, "dts", ()))
        except ValueError:
            continue  # unreadable: icalendar 6 leaves the line out, 7 keeps it but refuses to read it
    return found


@dataclass(slots=True)
class Recurrence:
    """The instance starts of one recurring event."""

    dtstart: datetime
    """The master's start: naive midnight for all-day events, aware otherwise."""
    all_day: bool
    zone: tzinfo
    rules: rruleset = field(default_factory=lambda: rruleset(cache=False))

    def _normalise(self, value: Any) -> datetime | None:
        """Bring an RDATE/EXDATE value to the form of ``dtstart``."""
        if isinstance(value, tuple):  # a PERIOD: its start
            value = value[0]
        if isinstance(value, datetime):
            if self.all_day:
                local = value.astimezone(self.zone) if value.tzinfo is not None else value
                return datetime.combine(local.date(), time())
            return value if value.tzinfo is not None else value.replace(tzinfo=self.zone)
        if isinstance(value, date):
            if self.all_day:
                return datetime.combine(value, time())
            return datetime.combine(value, self.dtstart.timetz())
        return None

    def _until(self, until: Any) -> datetime | None:
        if self.all_day or self.dtstart.tzinfo is None:
            if isinstance(until, datetime):
                return until.astimezone(self.zone).replace(tzinfo=None) if until.tzinfo else until
            if isinstance(until, date):
                return datetime.combine(until, time(23, 59, 59))
            return None
        start_zone = self.dtstart.tzinfo
        if isinstance(until, datetime):
            aware = until if until.tzinfo is not None else until.replace(tzinfo=start_zone)
        elif isinstance(until, date):
            aware = datetime.combine(until, time(23, 59, 59), start_zone)
        else:
            return None
        return aware.astimezone(UTC)

    def add_rule(self, recur: Any) -> None:
        """Add one ``RRULE`` (an icalendar ``vRecur``); rules dateutil rejects are skipped."""
        try:
            parts = {key.upper(): list(values) for key, values in dict(recur).items()}
            if str(parts.get("FREQ", [""])[0]).upper() in _SUB_DAILY:
                return
            if "UNTIL" in parts:
                until = self._until(parts["UNTIL"][0] if parts["UNTIL"] else None)
                if until is None:
                    del parts["UNTIL"]
                else:
                    parts["UNTIL"] = [until]
            text = vRecur(parts).to_ical().decode()
            self.rules.rrule(rrulestr(text, dtstart=self.dtstart, cache=False))
        except Exception:  # noqa: BLE001 - a broken rule must not break the feed
            return

    def add_dates(self, value: Any) -> None:
        """Add the instances of an ``RDATE`` property."""
        for item in _dts(value):
            if (when := self._normalise(item)) is not None:
                self.rules.rdate(when)

    def exclude_dates(self, value: Any) -> None:
        """Remove the instances of an ``EXDATE`` property."""
        for item in _dts(value):
            if (when := self._normalise(item)) is not None:
                self.rules.exdate(when)

    def starts(self, lo_ts: float, hi_ts: float, length: timedelta) -> Iterator[date | datetime]:
        """Instance starts that may overlap ``[lo_ts, hi_ts)`` for instances lasting ``length``.

        Yields dates for all-day events and aware datetimes otherwise, in order, stopping at the first start
        at or after ``hi_ts`` (or after :data:`MAX_INSTANCES`). The caller checks the exact overlap.
        """
        margin = max(length, timedelta(0)) + timedelta(days=2)
        try:
            low = _shift(datetime.fromtimestamp(lo_ts, UTC), -margin)
            if self.all_day:
                begin: datetime = low.astimezone(self.zone).replace(tzinfo=None)
                high = _shift(
                    datetime.fromtimestamp(hi_ts, self.zone).replace(tzinfo=None), timedelta(days=1)
                )
            else:
                begin = low
                high = _shift(datetime.fromtimestamp(hi_ts, UTC), timedelta(days=1))
            iterator = self.rules.xafter(begin, inc=True)
            for count, when in enumerate(iterator):
                if when > high or count >= MAX_INSTANCES:
                    return
                yield when.date() if self.all_day else when
        except (TypeError, ValueError, OverflowError):  # e.g. dates past year 9999
            return


def _shift(value: datetime, delta: timedelta) -> datetime:
    """``value + delta``, held at the ends of the calendar instead of overflowing."""
    try:
        return value + delta
    except OverflowError:
        edge = datetime.max if delta > timedelta(0) else datetime.min  # noqa: DTZ901 - zone set next
        return edge.replace(tzinfo=value.tzinfo)


def build_recurrence(component: Any, start: date, zone: tzinfo) -> Recurrence | None:
    """The recurrence of an icalendar ``VEVENT`` whose (resolved) start is ``start``, or ``None``.

    ``None`` when the event has neither ``RRULE`` nor ``RDATE``.
    """
    rrules = _as_list(component.get("RRULE"))
    rdates = component.get("RDATE")
    if not rrules and rdates is None:
        return None
    all_day = not isinstance(start, datetime)
    dtstart = datetime.combine(start, time()) if not isinstance(start, datetime) else start
    recurrence = Recurrence(dtstart=dtstart, all_day=all_day, zone=zone)
    recurrence.rules.rdate(dtstart)
    for rule in rrules:
        recurrence.add_rule(rule)
    recurrence.add_dates(rdates)
    recurrence.exclude_dates(component.get("EXDATE"))
    return recurrence


def recurrence_key(value: date, zone: tzinfo) -> str:
    """The text form of an instance's original start: ``YYYYMMDD``, or ``YYYYMMDDTHHMMSSZ`` in UTC."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")
