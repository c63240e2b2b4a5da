r"""Parse an iCal feed once, answer time-window queries fast, never differ from a full ``icalendar`` parse.

Everything here is synchronous and CPU-bound: call :func:`parse_feed` (and, for big windows,
:meth:`IcalFeed.events_between`) in an executor, never in the event loop.

How a feed is read
------------------

1. :func:`normalize_text` removes NUL bytes, blank lines and outer blank space and makes line breaks LF. The
   "full parse" this module promises to equal is ``icalendar.Calendar.from_ical`` on that normalised text,
   with every ``VEVENT`` turned into :class:`IcalEvent` occurrences (recurrences expanded by
   :mod:`.ical_recur`).
2. **Fast pass** (:func:`_scan`): one regex pass over the unfolded text finds, per ``VEVENT``, only
   ``DTSTART`` / ``DTEND`` / ``DURATION`` (``TZID``, ``VALUE=DATE``, floating and ``Z`` times), ``UID`` and
   the event's character span. The calendar-level remainder (headers, ``VTIMEZONE``\ s: a few lines) goes
   through ``icalendar`` as is, which also yields ``X-WR-TIMEZONE``. The events go into a sorted index.
3. A window query bisects the index (events longer than :data:`LONG_EVENT` live in a short side list, so a
   year-long block is still found from inside the year) and decodes only the events in the window. Decoding
   splits each line the way ``icalendar.parser.Contentline.parts`` does (delegating to it whenever a line has
   a double quote) and hands every text value to ``icalendar``'s own unescaping, so summary, description,
   location and UID are exactly what a full parse gives; the times are the indexing pass's, which accepts
   only date forms it reads exactly as ``icalendar``'s ``vDDDTypes`` does. Decoded events are cached.
4. Anything the fast pass cannot be sure of makes the **whole feed** fall back to the full parse: ``RRULE``,
   ``RDATE``, ``EXDATE``, ``EXRULE``, ``RECURRENCE-ID``, a ``TZID`` that :mod:`zoneinfo` does not know
   (Windows names, custom ``VTIMEZONE``\ s), malformed or duplicated dates, parameters it does not read
   plainly, lower-case property names whose meaning ``icalendar`` treats differently, odd nesting, content
   ``icalendar`` would reject. The full path indexes its events the same way and expands recurrences per
   query.

Time rules shared by both paths: floating times (and all-day dates, when compared with instants) are in the
feed's zone, which is ``X-WR-TIMEZONE`` when it names a zone and else the caller's ``default_zone``. A missing
``DTEND`` means ``DTSTART + DURATION`` (days on the wall clock, hours exact), else one day for all-day events
and zero length for timed ones; an end before the start is clamped to it (a full day for all-day events).
Events with ``STATUS:CANCELLED`` are left out; a ``VEVENT`` without a usable ``DTSTART`` is skipped.
An event overlaps ``[start, end)`` when it starts before ``end`` and ends after ``start``; a zero-length
event overlaps when ``start <= its start < end``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
import hashlib
import logging
from operator import itemgetter
import re
from typing import Any, Final
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component
from icalendar.parser import (
    Contentline,
    Parameters,
    escape_string,
    unescape_char,
    unescape_list_or_string,
    unescape_string,
    validate_token,
)
from icalendar.prop import vDDDTypes
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from .errors import MalformedResponseError
from .ical_models import IcalEvent
from .ical_recur import Recurrence, build_recurrence, recurrence_key
from .ical_rental import channel_from_prodid, channel_from_url, drop_stay_markers, marker_role, rental_details

_LOGGER = logging.getLogger(__name__)

DAY: Final = 86_400.0
LONG_EVENT: Final = 32 * DAY
"""Events longer than this (in seconds) are kept aside from the bisected index."""
MARKER_CONTEXT: Final = 3 * DAY
"""How far around a window stays are looked up to recognise duplicate check-in/out markers."""

# icalendar decodes TZID only for these property names, spelled in upper case (Component.from_ical).
_DATETIME_NAMES: Final = ("DTSTART", "DTEND", "RECURRENCE-ID", "DUE", "RDATE", "EXDATE")
_TIME_PROPS: Final = ("DTSTART", "DTEND", "DURATION")
_TEXT_PROPS: Final = ("UID", "SUMMARY", "DESCRIPTION", "LOCATION", "STATUS")
# icalendar 7 split ``Contentline.parts`` into ``raw_parts`` + unescaping; the manifest admits 6 and 7.
_ICALENDAR_7: Final = hasattr(Contentline, "raw_parts")
_WANTED: Final = frozenset(_TIME_PROPS + _TEXT_PROPS)
_TEXT_NAMES: Final = frozenset(_TEXT_PROPS)

_SCAN: Final = re.compile(
    r"\n(BEGIN|END|DTSTART|DTEND|DURATION|UID|RRULE|RDATE|EXDATE|EXRULE|RECURRENCE-ID|DUE)([;:][^\n]*)",
    re.IGNORECASE,
)
_RECURRENCE_PROPS: Final = frozenset({"RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID", "DUE"})
_NAME_END: Final = re.compile(r"[:;]")
_TAIL: Final = re.compile(r"(?:\r?\n)*")
_DATE: Final = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATETIME: Final = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)")
_PARAM: Final = re.compile(r"([A-Za-z0-9-]+)=([A-Za-z0-9_+\-/.]+)")
_DURATION: Final = re.compile(r"([-+]?)P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
_CALENDAR_START: Final = re.compile(r"BEGIN:VCALENDAR", re.IGNORECASE)
_BLANK_RUN: Final = re.compile(r"\n\n+")
_FOLD: Final = re.compile(r"\n[ \t]")


# --- text -----------------------------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """The text both paths parse: no NUL bytes, LF line breaks, no blank lines, no outer blank space.

    CRLF and lone CR become LF and runs of line breaks become one. ``icalendar`` reads the result exactly as
    it reads the original (it skips blank lines, and a fold swallows any run of line breaks before it),
    except that a stray CR now ends a line; and its unfolding regex no longer meets long runs of blank lines,
    on which it is quadratic (10,000 blank lines cost it seconds).
    """
    text = text.replace("\x00", "")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n\n" in text:
        text = _BLANK_RUN.sub("\n", text)
    return text.strip(" \t\n\ufeff\x0b\x0c")


def unfold(text: str) -> str:
    """Join folded lines of normalised text (what ``icalendar``'s ``uFOLD`` does to it)."""
    return _FOLD.sub("", text)


def decode_body(raw: bytes) -> str:
    """Decode a feed body: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def looks_like_calendar(text: str) -> bool:
    """Whether normalised text starts with ``BEGIN:VCALENDAR`` (any case, possibly folded)."""
    return _CALENDAR_START.match(unfold(text[:256])) is not None


def _require_calendar(text: str) -> None:
    if not looks_like_calendar(text):
        start = text[:40].replace("\r", " ").replace("\n", " ")
        raise MalformedResponseError(f"not an iCalendar body (it starts with {start!r})")


# --- time rules shared by both paths --------------------------------------------------------------------


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
    value = _first(x_wr_timezone)
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


# --- props: the decoded values an event is built from ---------------------------------------------------


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def _dt(value: Any) -> Any:
    """A date property's value; ValueError when icalendar could not read it (icalendar 7 keeps those)."""
    return getattr(value, "dt", value)


def _component_props(component: Any) -> dict[str, Any]:
    """The first value of each property the conversion reads, from an ``icalendar`` component."""
    props: dict[str, Any] = {}
    for name in _TIME_PROPS:
        value = component.get(name)
        if value is not None:
            try:
                props[name] = _dt(_first(value))
            except ValueError:
                continue  # unreadable: icalendar 6 leaves it out, 7 keeps it but refuses to read it
    for name in _TEXT_PROPS:
        value = component.get(name)
        if value is not None:
            props[name] = str(_first(value))
    return props


@lru_cache(maxsize=512)
def _section_tzid(section: str) -> tuple[bool, Any]:
    """Whether a parameter section has ``TZID``, and its value, as ``Contentline.parts`` would read them.

    Raises ValueError when icalendar refuses the section.
    """
    params = Parameters(
        (unescape_string(key), unescape_list_or_string(value))
        for key, value in Parameters.from_ical(section).items()
    )
    if "TZID" not in params:
        return False, None
    value = params["TZID"]
    return True, tuple(value) if isinstance(value, list) else value


def _parts(line: str) -> tuple[str, bool, Any, str]:
    """``Contentline(line).parts()`` reduced to (name, has TZID, TZID, value); fast for the usual line.

    With icalendar 6, lines with a double quote, or starting with a separator, go to icalendar itself. For
    the others the result is the same by construction: with no quotes, icalendar's name and value splits are
    the first ``:``/``;`` and the first ``:`` of the escaped line. Raises ValueError where icalendar does.
    icalendar 7 splits and unescapes lines differently (tolerating malformed parameters, unescaping values
    in ``parts``), so there every line goes to icalendar.
    """
    if _ICALENDAR_7 or '"' in line or line[:1] in (":", ";"):
        name, params, values = Contentline(line).parts()
        has_tzid = "TZID" in params
        return str(name), has_tzid, params["TZID"] if has_tzid else None, str(values)
    plain = "\\" not in line and "%" not in line
    st = line if plain else escape_string(line)
    colon = st.find(":")
    semicolon = st.find(";")
    name_split = min(colon, semicolon) if colon >= 0 and semicolon >= 0 else max(colon, semicolon)
    value_split = colon if colon >= 0 else len(st)
    raw_name = st[:name_split] if name_split >= 0 else st
    name = raw_name if plain else unescape_string(raw_name)
    try:
        if not name:
            raise ValueError("Key name is required")  # noqa: TRY301 - same message as icalendar
        if not plain or name.upper() not in _WANTED:
            validate_token(name)
        if name_split < 0 or name_split + 1 == value_split:
            raise ValueError("Invalid content line")  # noqa: TRY301
        section = st[name_split + 1 : value_split]
        has_tzid, tzid = _section_tzid(section) if section else (False, None)
    except ValueError as err:
        raise ValueError(f"Content line could not be parsed into parts: {line!r}: {err}") from err
    value = st[value_split + 1 :]
    return name, has_tzid, tzid, value if plain else unescape_string(value)


def _decode_span(span: str, names: frozenset[str] = _WANTED) -> dict[str, Any]:
    """The props in ``names`` of one ``VEVENT`` text, decoded as ``Component.from_ical`` decodes them."""
    props: dict[str, Any] = {}
    unreadable: set[str] = set()
    depth = 0
    for line in span.split("\n"):
        if not line:
            continue
        cut = _NAME_END.search(line)
        if cut is None:
            continue
        key = line[: cut.start()].upper()
        if key == "BEGIN":
            depth += 1
            continue
        if key == "END":
            depth -= 1
            continue
        if depth != 1 or key not in names or key in props or key in unreadable:
            continue
        try:
            name, has_tzid, tzid, values = _parts(line)
            if key in _TIME_PROPS:
                if has_tzid and name in _DATETIME_NAMES:
                    props[key] = vDDDTypes.from_ical(values, tzid)
                else:
                    props[key] = vDDDTypes.from_ical(values)
            else:
                # icalendar 7 unescapes TEXT values while splitting the line; 6 when decoding them.
                props[key] = values if _ICALENDAR_7 else unescape_char(values)
        except ValueError:
            # icalendar 6 drops an unreadable line (a later one of the same name counts); 7 keeps it as the
            # property's first value, which cannot be read.
            if _ICALENDAR_7:
                unreadable.add(key)
            continue
    return props


def _synthetic_uid(start: date, end: date, summary: str) -> str:
    digest = hashlib.blake2b(f"{start.isoformat()}|{end.isoformat()}|{summary}".encode(), digest_size=10)
    return f"kasify-{digest.hexdigest()}"


def convert(
    props: Mapping[str, Any],
    zone: tzinfo,
    channel: str | None,
    recurrence_id: str | None = None,
    times: tuple[date, date] | None = None,
) -> IcalEvent | None:
    """Build the :class:`IcalEvent` of decoded props (``None`` without a usable start, or when cancelled).

    ``times`` are the resolved start and end when the caller has them already (the fast pass).
    """
    if times is None:
        times = resolve_times(props.get("DTSTART"), props.get("DTEND"), props.get("DURATION"), zone)
    if times is None:
        return None
    status = props.get("STATUS")
    if status is not None and status.strip().upper() == "CANCELLED":
        return None
    start, end = times
    summary: str = props.get("SUMMARY") or ""
    description: str | None = props.get("DESCRIPTION") or None
    uid: str = props.get("UID") or _synthetic_uid(start, end, summary)
    details = rental_details(summary, description, uid, channel, marker_sized=_short(start, end))
    return IcalEvent(
        uid=uid,
        start=start,
        end=end,
        summary=summary,
        kind=details.kind,
        description=description,
        location=props.get("LOCATION") or None,
        guest_name=details.guest_name,
        reservation_code=details.reservation_code,
        booking_id=details.booking_id,
        phone_last4=details.phone_last4,
        guests=details.guests,
        channel=details.channel,
        recurrence_id=recurrence_id,
    )


def _short(start: date, end: date) -> bool:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return end - start <= timedelta(days=1)
    return (end - start).days <= 1


# --- the fast pass --------------------------------------------------------------------------------------


class _UnsureError(Exception):
    """The fast pass cannot promise the full parse's result; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class _Raw:
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
        raise _UnsureError(f"TZID {tzid!r} is not a zoneinfo zone")
    return zone


def _scan_time(rest: str, zones: dict[str, tzinfo | None]) -> date:
    """Decode a ``DTSTART``/``DTEND`` line's ``;params:value`` like icalendar does, or refuse."""
    if '"' in rest or "\\" in rest or "%" in rest:
        raise _UnsureError("quoted or escaped date parameters")
    params: dict[str, str] = {}
    if rest[0] == ";":
        section, colon, value = rest[1:].partition(":")
        if not colon:
            raise _UnsureError("date line without a value")
        for item in section.split(";"):
            match = _PARAM.fullmatch(item)
            key = match.group(1).upper() if match else ""
            if match is None or key in params:
                raise _UnsureError(f"date parameter {item!r}")
            params[key] = match.group(2)
    else:
        value = rest[1:]
    kind = params.get("VALUE", "").upper()
    if kind not in ("", "DATE", "DATE-TIME"):
        raise _UnsureError(f"VALUE={kind}")
    try:
        if (match := _DATE.fullmatch(value)) and kind != "DATE-TIME":
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if (match := _DATETIME.fullmatch(value)) and kind != "DATE":
            year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
            naive = datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - floating until placed
            tzid = params.get("TZID")
            if match.group(7):
                if tzid is not None:
                    raise _UnsureError("TZID on a UTC time")
                return naive.replace(tzinfo=UTC)
            if tzid is not None:
                return naive.replace(tzinfo=_zone_for_tzid(tzid, zones))
            return naive
    except ValueError as err:
        raise _UnsureError(f"bad date {value!r}") from err
    raise _UnsureError(f"date value {value!r}")


def _scan_duration(rest: str) -> timedelta:
    if rest[0] != ":" or (match := _DURATION.fullmatch(rest[1:])) is None:
        raise _UnsureError(f"DURATION {rest!r}")
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
class _Scan:
    events: list[_Raw]
    rest: str
    nested: list[tuple[int, int]]


def _line_end(text: str, end: int) -> int:
    """The end of a matched line without a carriage return (``end`` is the index of its newline)."""
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def _scan(text: str) -> _Scan:
    """One pass over unfolded text: the events' spans and dates; everything else left to icalendar."""
    stack: list[str] = []
    events: list[_Raw] = []
    nested: list[tuple[int, int]] = []
    pieces: list[str] = []
    outside_from = 0
    current: _Raw | None = None
    nested_from = -1
    zones: dict[str, tzinfo | None] = {}
    closed = False
    for match in _SCAN.finditer("\n" + text):
        if closed:
            raise _UnsureError("content after END:VCALENDAR")
        name = match.group(1)
        rest = match.group(2)
        upper = name.upper()
        line_start = match.start()
        line_end = _line_end(text, match.end() - 1)
        if upper in ("BEGIN", "END"):
            if rest[0] != ":" or any(c in rest for c in '"\\%'):
                raise _UnsureError(f"{upper} line {rest!r}")
            component = rest[1:].upper()
            if upper == "BEGIN":
                if not stack:
                    if component != "VCALENDAR" or line_start != 0:
                        raise _UnsureError("the feed does not open with BEGIN:VCALENDAR")
                elif component == "VEVENT":
                    if len(stack) != 1:
                        raise _UnsureError("VEVENT nested in another component")
                    current = _Raw(ordinal=len(events), begin=line_start)
                    if text[outside_from:line_start].strip("\n"):
                        pieces.append(text[outside_from:line_start])
                elif current is not None and len(stack) == 2:
                    nested_from = line_start
                stack.append(component)
                continue
            if not stack or stack[-1] != component:
                raise _UnsureError(f"END:{component} does not close {stack[-1] if stack else 'anything'}")
            stack.pop()
            if current is not None and len(stack) == 1:
                current.end = line_end
                events.append(current)
                current = None
                outside_from = line_end
            elif current is not None and len(stack) == 2:
                nested.append((nested_from, line_end))
            elif not stack:
                closed = True
                if not _TAIL.fullmatch(text, match.end() - 1):
                    raise _UnsureError("content after END:VCALENDAR")
            continue
        if current is None or len(stack) != 2:
            continue  # calendar-level and VTIMEZONE lines: icalendar reads those (see _fast_feed)
        if upper in _RECURRENCE_PROPS:
            raise _UnsureError(f"{upper} (recurrence)")
        if upper == "UID":
            current.uid = rest[1:] if rest[0] == ":" else None
            continue
        if name != upper:
            raise _UnsureError(f"property name {name!r} not in upper case")
        if upper == "DURATION":
            if current.has_duration:
                raise _UnsureError("two DURATION lines")
            current.has_duration = True
            current.duration = _scan_duration(rest)
            continue
        value = _scan_time(rest, zones)
        if upper == "DTSTART":
            if current.dtstart is not None:
                raise _UnsureError("two DTSTART lines")
            current.dtstart = value
        else:
            if current.dtend is not None:
                raise _UnsureError("two DTEND lines")
            current.dtend = value
    if stack or not closed:
        raise _UnsureError("unbalanced BEGIN/END")
    pieces.append(text[outside_from:])
    return _Scan(events=events, rest="".join(pieces), nested=nested)


# --- the index ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Master:
    ordinal: int
    event: IcalEvent
    recurrence: Recurrence


type _Payload = tuple[int, int, date, date] | IcalEvent
"""An indexed event: the span and resolved times of a ``VEVENT`` to decode on demand, or a parsed event."""
type _Found = tuple[tuple[float, float, int, str], IcalEvent]


class IcalFeed:
    """A parsed feed: an index of its events by time, answering window queries.

    Build it with :func:`parse_feed` (in an executor). Queries are thread-safe; decoded events are cached, so
    repeated queries of the same period cost a bisect and a few comparisons.
    """

    def __init__(
        self,
        *,
        zone: tzinfo,
        channel: str | None,
        event_count: int,
        entries: Sequence[tuple[float, float, int, _Payload]],
        masters: Sequence[_Master] = (),
        overridden: frozenset[tuple[str, str]] = frozenset(),
        source: str = "",
        fallback_reason: str | None = None,
    ) -> None:
        """Index ``entries`` (start, end, ordinal, span or event); use :func:`parse_feed` instead."""
        self.zone = zone
        self.channel = channel
        self.event_count = event_count
        self.fallback_reason = fallback_reason
        self._source = source
        self._masters = tuple(masters)
        self._overridden = overridden
        self._cache: dict[int, IcalEvent | None] = {}
        short: list[tuple[float, float, int, _Payload]] = []
        long: list[tuple[float, float, int, _Payload]] = []
        for entry in entries:
            (long if entry[1] - entry[0] > LONG_EVENT else short).append(entry)
        short.sort(key=itemgetter(0, 1, 2))
        self._starts = [entry[0] for entry in short]
        self._ends = [entry[1] for entry in short]
        self._ordinals = [entry[2] for entry in short]
        self._payloads = [entry[3] for entry in short]
        self._max_short = max((entry[1] - entry[0] for entry in short), default=0.0)
        self._long = long
        self._last_end = max((entry[1] for entry in entries), default=float("-inf"))

    @property
    def fast_path(self) -> bool:
        """Whether the feed is served by the fast pass (``False``: full parse, see ``fallback_reason``)."""
        return self.fallback_reason is None

    @property
    def recurring(self) -> bool:
        """Whether the feed has recurring events."""
        return bool(self._masters)

    def _event(self, ordinal: int, payload: _Payload) -> IcalEvent | None:
        if isinstance(payload, IcalEvent):
            return payload
        if ordinal in self._cache:
            return self._cache[ordinal]
        begin, end, start, finish = payload
        props = _decode_span(self._source[begin:end], _TEXT_NAMES)
        event = convert(props, self.zone, self.channel, times=(start, finish))
        self._cache[ordinal] = event
        return event

    def _collect(self, low: float, high: float) -> list[_Found]:
        found: list[_Found] = []
        starts, ends = self._starts, self._ends
        first = bisect_left(starts, low - self._max_short)
        stop = bisect_left(starts, high)
        for index in range(first, stop):
            start, end = starts[index], ends[index]
            if overlaps(start, end, low, high):
                ordinal = self._ordinals[index]
                if (event := self._event(ordinal, self._payloads[index])) is not None:
                    found.append(((start, end, ordinal, ""), event))
        for start, end, ordinal, payload in self._long:
            if overlaps(start, end, low, high) and (event := self._event(ordinal, payload)) is not None:
                found.append(((start, end, ordinal, ""), event))
        for master in self._masters:
            found.extend(expand(master, low, high, self.zone, self._overridden))
        found.sort(key=itemgetter(0))
        return found

    def events_between(self, start: datetime, end: datetime) -> list[IcalEvent]:
        """Events overlapping ``[start, end)``, by start (then end, then feed order).

        "Check-in"/"Check-out" markers that duplicate a stay's arrival or departure are left out. Decodes the
        events of the window that no earlier query decoded (about 20 µs each): run big windows in an executor.

        Raises:
            ValueError: When ``start`` or ``end`` is naive.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be aware datetimes")
        low, high = start.timestamp(), end.timestamp()
        events = [event for _, event in self._collect(low, high)]
        if any(marker_role(event) for event in events):
            context = [event for _, event in self._collect(low - MARKER_CONTEXT, high + MARKER_CONTEXT)]
            events = drop_stay_markers(events, context, self.zone)
        return events

    def upcoming(self, after: datetime, limit: int = 1) -> list[IcalEvent]:
        """The first ``limit`` events not over at ``after``: the one in progress, then the next ones."""
        if limit < 1:
            return []
        span = timedelta(days=7)
        horizon = float("inf") if self._masters else self._last_end
        while True:
            events = self.events_between(after, after + span)
            if len(events) >= limit or (after + span).timestamp() > horizon or span > timedelta(days=3660):
                return events[:limit]
            span *= 4


def _length(start: date, end: date) -> timedelta:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return end - start
    return timedelta(days=(end - start).days)


def expand(
    master: _Master, low: float, high: float, zone: tzinfo, overridden: frozenset[tuple[str, str]]
) -> list[_Found]:
    """The instances of a recurring event overlapping ``[low, high)`` (overridden ones left out)."""
    base = master.event
    length = _length(base.start, base.end)
    found: list[_Found] = []
    for when in master.recurrence.starts(low, high, length):
        rid = recurrence_key(when, zone)
        if (base.uid, rid) in overridden:
            continue
        try:
            finish = when + length
        except OverflowError:
            continue
        start, end = timestamp(when, zone), timestamp(finish, zone)
        if overlaps(start, end, low, high):
            event = replace(base, start=when, end=finish, recurrence_id=rid)
            found.append(((start, end, master.ordinal, rid), event))
    return found


# --- building a feed ------------------------------------------------------------------------------------


def _zone_arg(zone: tzinfo | str) -> tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def parse_calendar(text: str) -> Any:
    """``icalendar.Calendar.from_ical`` on normalised text; a failure is a :class:`MalformedResponseError`."""
    try:
        return Calendar.from_ical(text)
    except Exception as err:
        raise MalformedResponseError(f"the iCalendar body cannot be parsed: {parse_error(err)}") from err


def parse_error(err: BaseException) -> str:
    """An ``icalendar`` error without the feed text it quotes (guest names, phone digits): safe to show."""
    text = str(err).split("\n", 1)[0].split(": ", 1)[0].split(" '", 1)[0].split(' "', 1)[0].strip()
    return (text or err.__class__.__name__)[:120]


def _recurrence_id(component: Any, zone: tzinfo) -> str | None:
    """The ``RECURRENCE-ID`` of an override, in :func:`recurrence_key` form (``None`` when absent)."""
    try:
        value = getattr(_first(component.get("RECURRENCE-ID")), "dt", None)
    except ValueError:  # unreadable (see _component_props)
        return None
    return recurrence_key(value, zone) if isinstance(value, date) else None


def _text(value: Any) -> str | None:
    value = _first(value)
    return None if value is None else str(value)


def _fast_feed(text: str, default_zone: tzinfo, channel: str | None) -> IcalFeed:
    unfolded = unfold(text)
    scan = _scan(unfolded)
    try:
        calendar = Calendar.from_ical(scan.rest)
        for begin, end in scan.nested:
            Component.from_ical(unfolded[begin:end])
    except Exception as err:  # whatever icalendar rejects, the full parse must report
        raise _UnsureError(f"icalendar rejects part of the feed: {parse_error(err)}") from err
    zone = feed_zone(calendar.get("X-WR-TIMEZONE"), default_zone)
    channel = channel or channel_from_prodid(_text(calendar.get("PRODID")))
    entries: list[tuple[float, float, int, _Payload]] = []
    date_ts: dict[date, float] = {}
    for raw in scan.events:
        times = resolve_times(raw.dtstart, raw.dtend, raw.duration, zone)
        if times is None:
            continue
        bounds: list[float] = []
        for bound in times:
            if isinstance(bound, datetime):
                bounds.append(bound.timestamp())
            else:
                if bound not in date_ts:
                    date_ts[bound] = timestamp(bound, zone)
                bounds.append(date_ts[bound])
        entries.append((bounds[0], bounds[1], raw.ordinal, (raw.begin, raw.end, times[0], times[1])))
    return IcalFeed(
        zone=zone, channel=channel, event_count=len(scan.events), entries=entries, source=unfolded
    )


def _full_feed(text: str, default_zone: tzinfo, channel: str | None, reason: str) -> IcalFeed:
    calendar = parse_calendar(text)
    zone = feed_zone(calendar.get("X-WR-TIMEZONE"), default_zone)
    channel = channel or channel_from_prodid(_text(calendar.get("PRODID")))
    components = calendar.walk("VEVENT")
    entries: list[tuple[float, float, int, _Payload]] = []
    masters: list[_Master] = []
    overridden: set[tuple[str, str]] = set()
    for ordinal, component in enumerate(components):
        props = _component_props(component)
        rid = _recurrence_id(component, zone)
        if rid is not None and props.get("UID"):
            overridden.add((props["UID"], rid))
        event = convert(props, zone, channel, recurrence_id=rid)
        if event is None:
            continue
        recurrence = None if rid is not None else build_recurrence(component, event.start, zone)
        if recurrence is not None:
            masters.append(_Master(ordinal, event, recurrence))
        else:
            entries.append((timestamp(event.start, zone), timestamp(event.end, zone), ordinal, event))
    return IcalFeed(
        zone=zone,
        channel=channel,
        event_count=len(components),
        entries=entries,
        masters=masters,
        overridden=frozenset(overridden),
        fallback_reason=reason,
    )


def parse_feed(
    text: str, *, default_zone: tzinfo | str = UTC, channel: str | None = None, url: str | None = None
) -> IcalFeed:
    """Parse and index a feed. Synchronous and CPU-bound: run it in an executor.

    Args:
        text: The body (see :func:`decode_body` for bytes).
        default_zone: Zone for floating times and all-day dates when the feed has no usable
            ``X-WR-TIMEZONE`` (Home Assistant's time zone, or the property's).
        channel: The feed's channel (``airbnb``, ``booking``, ...) when the caller knows it; else it is
            guessed from ``url``, the feed's ``PRODID`` or each event's ``UID`` domain.
        url: The feed URL, only to guess the channel.

    Raises:
        MalformedResponseError: The text is not an iCalendar body, or ``icalendar`` cannot parse it.
    """
    zone = _zone_arg(default_zone)
    text = normalize_text(text)
    _require_calendar(text)
    channel = channel or channel_from_url(url)
    if tzp.uses_zoneinfo():
        try:
            return _fast_feed(text, zone, channel)
        except _UnsureError as unsure:
            reason = unsure.reason
    else:
        reason = "icalendar is not using zoneinfo"
    _LOGGER.debug("iCal feed read with the full parser: %s", reason)
    return _full_feed(text, zone, channel, reason)


def reference_events(
    text: str,
    start: datetime,
    end: datetime,
    *,
    default_zone: tzinfo | str = UTC,
    channel: str | None = None,
    url: str | None = None,
) -> list[IcalEvent]:
    """The events a plain full ``icalendar`` parse gives for ``[start, end)``: slow, no index.

    What :meth:`IcalFeed.events_between` must equal; for tests and for checking a feed by hand.
    """
    default = _zone_arg(default_zone)
    text = normalize_text(text)
    _require_calendar(text)
    calendar = parse_calendar(text)
    zone = feed_zone(calendar.get("X-WR-TIMEZONE"), default)
    channel = channel or channel_from_url(url) or channel_from_prodid(_text(calendar.get("PRODID")))
    low, high = start.timestamp(), end.timestamp()
    wide_low, wide_high = low - MARKER_CONTEXT, high + MARKER_CONTEXT
    components = calendar.walk("VEVENT")
    overridden: set[tuple[str, str]] = set()
    for component in components:
        rid = _recurrence_id(component, zone)
        if rid is not None and component.get("UID") is not None:
            overridden.add((str(_first(component.get("UID"))), rid))
    found: list[_Found] = []
    for ordinal, component in enumerate(components):
        props = _component_props(component)
        rid = _recurrence_id(component, zone)
        event = convert(props, zone, channel, recurrence_id=rid)
        if event is None:
            continue
        recurrence = build_recurrence(component, event.start, zone) if rid is None else None
        if recurrence is None:
            bounds = timestamp(event.start, zone), timestamp(event.end, zone)
            found.append(((*bounds, ordinal, ""), event))
        else:
            master = _Master(ordinal, event, recurrence)
            found.extend(expand(master, wide_low, wide_high, zone, frozenset(overridden)))
    found.sort(key=itemgetter(0))
    context = [event for _, event in found]
    events = [event for key, event in found if overlaps(key[0], key[1], low, high)]
    return drop_stay_markers(events, context, zone)
