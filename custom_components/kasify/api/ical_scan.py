"""The fast pass over a feed: one regex pass that finds each ``VEVENT``'s span, dates and ``UID``.

It reads only the date forms it can read exactly as ``icalendar`` does; anything else raises
:class:`UnsureError`, and :func:`.ical_parse.parse_feed` then parses the whole feed with ``icalendar``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
import re
from typing import Final
from zoneinfo import ZoneInfo

_SCAN: Final = re.compile(
    r"\n(BEGIN|END|DTSTART|DTEND|DURATION|UID|RRULE|RDATE|EXDATE|EXRULE|RECURRENCE-ID|DUE)([;:][^\n]*)",
    re.IGNORECASE,
)
_RECURRENCE_PROPS: Final = frozenset({"RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID", "DUE"})


_TAIL: Final = re.compile(r"(?:\r?\n)*")
_DATE: Final = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATETIME: Final = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)")
_PARAM: Final = re.compile(r"([A-Za-z0-9-]+)=([A-Za-z0-9_+\-/.]+)")
_DURATION: Final = re.compile(r"([-+]?)P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


class UnsureError(Exception):
    """The fast pass cannot promise the full parse's result; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class RawEvent:
    """One ``VEVENT`` as the scan saw it."""

    ordinal: int
    begin: int
    end: int = -1
    dtstart: date | None = None
    dtend: date | None = None
    duration: timedelta | None = None
    has_duration: bool = False
    uid: str | None = None


def _zone_for_tzid(tzid: str, cache: dict[str, tzinfo | None]) -> tzinfo:
    """The zone icalendar resolves ``tzid`` to first (``ZoneInfo`` of the id without slashes)."""
    if tzid not in cache:
        try:
            cache[tzid] = ZoneInfo(tzid.strip("/"))
        except Exception:  # noqa: BLE001 - unknown, or a key ZoneInfo refuses in some other way
            cache[tzid] = None
    zone = cache[tzid]
    if zone is None:
        raise UnsureError(f"TZID {tzid!r} is not a zoneinfo zone")
    return zone


def _scan_time(rest: str, zones: dict[str, tzinfo | None]) -> date:
    """Decode a ``DTSTART``/``DTEND`` line's ``;params:value`` like icalendar does, or refuse."""
    if '"' in rest or "\\" in rest or "%" in rest:
        raise UnsureError("quoted or escaped date parameters")
    params: dict[str, str] = {}
    if rest[0] == ";":
        section, colon, value = rest[1:].partition(":")
        if not colon:
            raise UnsureError("date line without a value")
        for item in section.split(";"):
            match = _PARAM.fullmatch(item)
            key = match.group(1).upper() if match else ""
            if match is None or key in params:
                raise UnsureError(f"date parameter {item!r}")
            params[key] = match.group(2)
    else:
        value = rest[1:]
    kind = params.get("VALUE", "").upper()
    if kind not in ("", "DATE", "DATE-TIME"):
        raise UnsureError(f"VALUE={kind}")
    try:
        if (match := _DATE.fullmatch(value)) and kind != "DATE-TIME":
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if (match := _DATETIME.fullmatch(value)) and kind != "DATE":
            year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
            naive = datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - floating until placed
            tzid = params.get("TZID")
            if match.group(7):
                if tzid is not None:
                    raise UnsureError("TZID on a UTC time")
                return naive.replace(tzinfo=UTC)
            if tzid is not None:
                return naive.replace(tzinfo=_zone_for_tzid(tzid, zones))
            return naive
    except ValueError as err:
        raise UnsureError(f"bad date {value!r}") from err
    raise UnsureError(f"date value {value!r}")


def _scan_duration(rest: str) -> timedelta:
    if rest[0] != ":" or (match := _DURATION.fullmatch(rest[1:])) is None:
        raise UnsureError(f"DURATION {rest!r}")
    sign, weeks, days, hours, minutes, seconds = match.groups()
    value = timedelta(
        weeks=int(weeks or 0),
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
    )
    return -value if sign == "-" else value


@dataclass(slots=True)
class Scan:
    r"""What the fast pass found.

    Attributes:
        events: Every ``VEVENT`` in feed order, with its span and dates.
        rest: The calendar without its events (headers, time zones), for ``icalendar`` to read.
        nested: The spans of components nested in an event (``VALARM``), for ``icalendar`` to check.
    """

    events: list[RawEvent]
    rest: str
    nested: list[tuple[int, int]]


def _line_end(text: str, end: int) -> int:
    """The end of a matched line without a carriage return (``end`` is the index of its newline)."""
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def scan(text: str) -> Scan:
    """One pass over unfolded text: the events' spans and dates; everything else left to icalendar.

    Raises:
        UnsureError: The feed has something the fast pass cannot read exactly as ``icalendar`` does.
    """
    scanner = _Scanner(text)
    for match in _SCAN.finditer("\n" + text):
        if scanner.closed:
            raise UnsureError("content after END:VCALENDAR")
        name = match.group(1)
        rest = match.group(2)
        upper = name.upper()
        if upper in ("BEGIN", "END"):
            if rest[0] != ":" or any(c in rest for c in '"\\%'):
                raise UnsureError(f"{upper} line {rest!r}")
            if upper == "BEGIN":
                scanner.begin(rest[1:].upper(), match.start())
            else:
                scanner.end(rest[1:].upper(), match.end() - 1)
        elif scanner.current is not None and len(scanner.stack) == 2:
            scanner.event_line(name, upper, rest)
        # Calendar-level and VTIMEZONE lines: icalendar reads those (see ``parse_feed``).
    return scanner.result()


class _Scanner:
    """The state of one :func:`scan`: open components, the event being read, what lies outside events."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.stack: list[str] = []
        self.events: list[RawEvent] = []
        self.nested: list[tuple[int, int]] = []
        self.pieces: list[str] = []
        self.outside_from = 0
        self.current: RawEvent | None = None
        self.nested_from = -1
        self.zones: dict[str, tzinfo | None] = {}
        self.closed = False

    def begin(self, component: str, line_start: int) -> None:
        """A ``BEGIN:<component>`` line starting at ``line_start``."""
        if not self.stack:
            if component != "VCALENDAR" or line_start != 0:
                raise UnsureError("the feed does not open with BEGIN:VCALENDAR")
        elif component == "VEVENT":
            if len(self.stack) != 1:
                raise UnsureError("VEVENT nested in another component")
            self.current = RawEvent(ordinal=len(self.events), begin=line_start)
            if self.text[self.outside_from : line_start].strip("\n"):
                self.pieces.append(self.text[self.outside_from : line_start])
        elif self.current is not None and len(self.stack) == 2:
            self.nested_from = line_start
        self.stack.append(component)

    def end(self, component: str, newline: int) -> None:
        """An ``END:<component>`` line whose line break is at ``newline``."""
        stack = self.stack
        if not stack or stack[-1] != component:
            raise UnsureError(f"END:{component} does not close {stack[-1] if stack else 'anything'}")
        stack.pop()
        line_end = _line_end(self.text, newline)
        if self.current is not None and len(stack) == 1:
            self.current.end = line_end
            self.events.append(self.current)
            self.current = None
            self.outside_from = line_end
        elif self.current is not None and len(stack) == 2:
            self.nested.append((self.nested_from, line_end))
        elif not stack:
            self.closed = True
            if not _TAIL.fullmatch(self.text, newline):
                raise UnsureError("content after END:VCALENDAR")

    def event_line(self, name: str, upper: str, rest: str) -> None:
        """A property line of the event being read (``rest`` is its ``;params:value``)."""
        current = self.current
        assert current is not None
        if upper in _RECURRENCE_PROPS:
            raise UnsureError(f"{upper} (recurrence)")
        if upper == "UID":
            current.uid = rest[1:] if rest[0] == ":" else None
            return
        if name != upper:
            raise UnsureError(f"property name {name!r} not in upper case")
        if upper == "DURATION":
            if current.has_duration:
                raise UnsureError("two DURATION lines")
            current.has_duration = True
            current.duration = _scan_duration(rest)
            return
        value = _scan_time(rest, self.zones)
        if upper == "DTSTART":
            if current.dtstart is not None:
                raise UnsureError("two DTSTART lines")
            current.dtstart = value
        else:
            if current.dtend is not None:
                raise UnsureError("two DTEND lines")
            current.dtend = value

    def result(self) -> Scan:
        """What the pass found, once every line is read."""
        if self.stack or not self.closed:
            raise UnsureError("unbalanced BEGIN/END")
        self.pieces.append(self.text[self.outside_from :])
        return Scan(events=self.events, rest="".join(self.pieces), nested=self.nested)
