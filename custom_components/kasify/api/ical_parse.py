r"""Parse an iCal feed once, answer time-window queries fast, never differ from a full ``icalendar`` parse.

Everything here is synchronous and CPU-bound: call :func:`parse_feed` (and, for big windows,
:meth:`IcalFeed.events_between`) in an executor, never in the event loop.

How a feed is read
------------------

1. :func:`normalize_text` removes NUL bytes, blank lines and outer blank space and makes line breaks LF. The
   "full parse" this module promises to equal is ``icalendar.Calendar.from_ical`` on that normalised text,
   with every ``VEVENT`` turned into :class:`IcalEvent` occurrences (recurrences expanded by
   :mod:`.ical_recur`).
2. **Fast pass** (:func:`.ical_scan.scan`): one regex pass over the unfolded text finds, per ``VEVENT``, only
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
from datetime import UTC, date, datetime, timedelta, tzinfo
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

from .errors import MalformedResponseError
from .ical_models import IcalEvent
from .ical_recur import Recurrence, build_recurrence, recurrence_key
from .ical_rental import (
    channel_from_prodid,
    channel_from_url,
    drop_stay_markers,
    marker_role,
    rental_details,
)
from .ical_scan import UnsureError, scan
from .ical_times import (
    feed_zone,
    first_value,
    overlaps,
    resolve_times,
    timestamp,
    zone_from_name as zone_from_name,  # noqa: PLC0414 - re-exported; it used to live here
)

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


_NAME_END: Final = re.compile(r"[:;]")


_CALENDAR_START: Final = re.compile(r"BEGIN:VCALENDAR", re.IGNORECASE)
_BLANK_RUN: Final = re.compile(r"\n\n+")
_FOLD: Final = re.compile(r"\n[ \t]")


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
                props[name] = _dt(first_value(value))
            except ValueError:
                continue  # unreadable: icalendar 6 leaves it out, 7 keeps it but refuses to read it
    for name in _TEXT_PROPS:
        value = component.get(name)
        if value is not None:
            props[name] = str(first_value(value))
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
    master: _Master,
    low: float,
    high: float,
    zone: tzinfo,
    overridden: frozenset[tuple[str, str]],
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
        value = getattr(first_value(component.get("RECURRENCE-ID")), "dt", None)
    except ValueError:  # unreadable (see _component_props)
        return None
    return recurrence_key(value, zone) if isinstance(value, date) else None


def _text(value: Any) -> str | None:
    value = first_value(value)
    return None if value is None else str(value)


def _fast_feed(text: str, default_zone: tzinfo, channel: str | None) -> IcalFeed:
    unfolded = unfold(text)
    scanned = scan(unfolded)
    try:
        calendar = Calendar.from_ical(scanned.rest)
        for begin, end in scanned.nested:
            Component.from_ical(unfolded[begin:end])
    except Exception as err:  # whatever icalendar rejects, the full parse must report
        raise UnsureError(f"icalendar rejects part of the feed: {parse_error(err)}") from err
    zone = feed_zone(calendar.get("X-WR-TIMEZONE"), default_zone)
    channel = channel or channel_from_prodid(_text(calendar.get("PRODID")))
    entries: list[tuple[float, float, int, _Payload]] = []
    date_ts: dict[date, float] = {}
    for raw in scanned.events:
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
        entries.append(
            (
                bounds[0],
                bounds[1],
                raw.ordinal,
                (raw.begin, raw.end, times[0], times[1]),
            )
        )
    return IcalFeed(
        zone=zone,
        channel=channel,
        event_count=len(scanned.events),
        entries=entries,
        source=unfolded,
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
            entries.append(
                (
                    timestamp(event.start, zone),
                    timestamp(event.end, zone),
                    ordinal,
                    event,
                )
            )
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
    text: str,
    *,
    default_zone: tzinfo | str = UTC,
    channel: str | None = None,
    url: str | None = None,
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
        except UnsureError as unsure:
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
            overridden.add((str(first_value(component.get("UID"))), rid))
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
