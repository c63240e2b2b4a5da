"""Differential test: the indexed feed answers every window exactly like a plain full ``icalendar`` parse.

Feeds are generated with all-day, timed (UTC, TZID, floating) events in several zones, ``X-WR-TIMEZONE``,
``DURATION``, missing and inverted ends, folding (space and tab, CRLF and LF), escaped text, blank lines, NUL
bytes, quoted parameters, nested alarms, cancelled events and recurrence (``RRULE``/``RDATE``/``EXDATE``/
``RECURRENCE-ID``). For random windows, ``parse_feed(text).events_between`` must equal ``reference_events``
(``Calendar.from_ical`` + walk + expansion, no index), including when the full parse rejects the feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings, strategies as st
import pytest

from custom_components.kasify.api.errors import MalformedResponseError
from custom_components.kasify.api.ical import IcalEvent, parse_feed, reference_events

ZONES = ("UTC", "Europe/Madrid", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham")
BASE = date(2026, 3, 1)
# Days around DST changes in the zones above (Europe 2026-03-29 / 10-25, US 2026-03-08 / 11-01,
# Lord Howe 2026-04-05 / 10-04, Chatham 2026-04-05 / 09-27) are over-weighted.
HOT_DAYS = (
    date(2026, 3, 8),
    date(2026, 3, 29),
    date(2026, 4, 5),
    date(2026, 9, 27),
    date(2026, 10, 4),
    date(2026, 10, 25),
    date(2026, 11, 1),
)
SUMMARIES = (
    "Reserved",
    "Airbnb (Not available)",
    "CLOSED - Not available",
    "Blocked",
    "Reserved - Jane D",
    "Check-in: Ana",
    "Check-out: Ana",
    "Ana María López",
    "Limpieza, cocina; baño",
    "back\\slash",
    "100% done %3A",
    "  spaced  ",
    "Ünïcödé ✓ 🏖",
    "",
)
DESCRIPTIONS = (
    None,
    "Reservation URL: https://www.airbnb.com/hosting/reservations/details/HM4XK2PQ9Z\n"
    "Phone Number (Last 4 Digits): 4821",
    "Guests: 3\nBooking ID: 4711",
    "Adults: 2\nChildren: 1\nPhone (last 4 digits): 9876",
    "Line one; with, separators\\and a backslash",
    "",
)
PRODIDS = (
    "-//Airbnb Inc//Hosting Calendar 0.8.8//EN",
    "-//admin.booking.com//EN",
    "-//Smoobu//EN",
    "-//Example//EN",
)

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


@dataclass
class Options:
    """Which risky features a generated feed may use."""

    recurrence: bool
    quirks: bool


@st.composite
def days(draw: st.DrawFn) -> date:
    if draw(st.booleans()):
        return draw(st.sampled_from(HOT_DAYS)) + timedelta(days=draw(st.integers(-1, 1)))
    return BASE + timedelta(days=draw(st.integers(-60, 300)))


@st.composite
def stamp(draw: st.DrawFn, kind: str, zones: list[str]) -> tuple[str, str]:
    """(parameters, value) of a DTSTART/DTEND-like property."""
    day = draw(days())
    if kind == "date":
        params = draw(st.sampled_from((";VALUE=DATE", "")))
        return params, day.strftime("%Y%m%d")
    hour = draw(st.sampled_from((0, 1, 2, 3, 9, 11, 15, 23)))
    minute = draw(st.sampled_from((0, 30, 45)))
    value = f"{day:%Y%m%d}T{hour:02d}{minute:02d}00"
    if kind == "utc":
        return "", value + "Z"
    if kind == "tzid":
        zone = draw(st.sampled_from(zones))
        return f";TZID={zone}", value
    return "", value  # floating


@st.composite
def vevent(draw: st.DrawFn, options: Options, uids: list[str], zones: list[str]) -> list[str]:
    kind = draw(st.sampled_from(("date", "date", "utc", "tzid", "float")))
    start_params, start_value = draw(stamp(kind, zones))
    lines = ["BEGIN:VEVENT"]
    uid = draw(st.sampled_from([*uids, "fresh", "none"]))
    if uid == "fresh":
        uid = f"uid-{len(uids)}@example.com"
        uids.append(uid)
    if uid != "none":
        lines.append(f"UID:{uid}")
    lines.append("DTSTAMP:20260301T101010Z")
    lines.append(f"DTSTART{start_params}:{start_value}")
    end = draw(st.sampled_from(("dtend", "dtend", "duration", "none", "inverted", "mixed")))
    if end in ("dtend", "inverted"):
        _, end_value = draw(stamp(kind, zones))
        if end == "dtend":
            end_value = max(end_value, start_value)
        lines.append(f"DTEND{start_params}:{end_value}")
    elif end == "mixed":
        other = "utc" if kind == "date" else "date"
        params, end_value = draw(stamp(other, zones))
        lines.append(f"DTEND{params}:{end_value}")
    elif end == "duration":
        lines.append(
            "DURATION:" + draw(st.sampled_from(("P1D", "P3D", "PT2H30M", "P1W", "PT0S", "-PT1H", "P1DT12H")))
        )
    summary = draw(st.sampled_from(SUMMARIES))
    summary_params = draw(st.sampled_from(("", "", ';LANGUAGE="es"', ";LANGUAGE=en")))
    lines.append(f"SUMMARY{summary_params}:{escape(summary)}")
    description = draw(st.sampled_from(DESCRIPTIONS))
    if description is not None:
        lines.append(f"DESCRIPTION:{escape(description)}")
    if draw(st.booleans()):
        lines.append("LOCATION:" + escape("Calle del Sol 4, Marbella"))
    if draw(st.integers(0, 9)) == 0:
        lines.append("STATUS:CANCELLED")
    if options.recurrence and draw(st.integers(0, 3)) == 0:
        rule = draw(
            st.sampled_from(
                (
                    "FREQ=DAILY;COUNT=5",
                    "FREQ=WEEKLY;INTERVAL=2;COUNT=4",
                    "FREQ=WEEKLY;UNTIL=20260601T000000Z",
                    "FREQ=MONTHLY;UNTIL=20261231",
                    "FREQ=YEARLY",
                    "FREQ=BOGUS",
                )
            )
        )
        lines.append(f"RRULE:{rule}")
        if draw(st.booleans()):
            params, value = draw(stamp(kind, zones))
            lines.append(f"EXDATE{params}:{value}")
        if draw(st.booleans()):
            params, value = draw(stamp(kind, zones))
            lines.append(f"RDATE{params}:{value}")
    if options.recurrence and uid != "none" and draw(st.integers(0, 5)) == 0:
        params, value = draw(stamp(kind, zones))
        lines.append(f"RECURRENCE-ID{params}:{value}")
    if options.quirks:
        quirk = draw(st.integers(0, 12))
        if quirk == 0:
            lines.extend(["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "DURATION:PT5M", "END:VALARM"])
        elif quirk == 1:
            lines.append("summary:lower-case duplicate")
        elif quirk == 2:
            lines.append(f"DTSTART{start_params}:{start_value}")  # duplicated
        elif quirk == 3:
            lines.append('X-WEIRD;X-P="a:b;c":value with "quotes"')
        elif quirk == 4:
            lines[3] = f"DTSTART;TZID=W. Europe Standard Time:{start_value[:15]}"
        elif quirk == 5:
            lines[3] = f"DTSTART;TZID=Custom/Nowhere:{start_value[:15]}"
        elif quirk == 6:
            lines[3] = f"DTSTART:{start_value[:8]}T25"  # malformed
        elif quirk == 7:
            lines[3] = f'DTSTART;TZID="Europe/Madrid":{start_value[:15]}'
        elif quirk == 8:
            lines[3] = f"dtstart{start_params}:{start_value}"
    lines.append("END:VEVENT")
    return lines


@st.composite
def feeds(draw: st.DrawFn, options: Options) -> tuple[str, ZoneInfo]:
    zones = list(ZONES)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{draw(st.sampled_from(PRODIDS))}"]
    x_wr = draw(st.sampled_from((None, "Europe/Madrid", "America/New_York", "Mars/Olympus")))
    if x_wr is not None:
        lines.append(f"X-WR-TIMEZONE:{x_wr}")
    if draw(st.booleans()):
        lines.extend(
            [
                "BEGIN:VTIMEZONE",
                "TZID:Europe/Madrid",
                "BEGIN:STANDARD",
                "DTSTART:19701025T030000",
                "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
                "TZOFFSETFROM:+0200",
                "TZOFFSETTO:+0100",
                "END:STANDARD",
                "END:VTIMEZONE",
            ]
        )
    uids: list[str] = []
    for _ in range(draw(st.integers(0, 10))):
        lines.extend(draw(vevent(options, uids, zones)))
    lines.append("END:VCALENDAR")
    width = draw(st.sampled_from((75, 30, 12, 1000)))
    continuation = draw(st.sampled_from((" ", "\t")))
    folded: list[str] = []
    for line in lines:
        rest = line
        while len(rest) > width:
            folded.append(rest[:width])
            rest = continuation + rest[width:]
        folded.append(rest)
    newline = draw(st.sampled_from(("\r\n", "\n")))
    if options.quirks and draw(st.booleans()):
        folded = [line + newline if draw(st.integers(0, 15)) == 0 else line for line in folded]  # blank lines
    text = newline.join(folded) + newline
    if options.quirks and draw(st.booleans()):
        text = "\ufeff" + text.replace("BEGIN:VEVENT", "BEGIN:V\x00EVENT")
    return text, ZoneInfo(draw(st.sampled_from(ZONES)))


@st.composite
def windows(draw: st.DrawFn) -> list[tuple[datetime, datetime]]:
    found = []
    for _ in range(draw(st.integers(1, 6))):
        start = datetime.combine(draw(days()), datetime.min.time(), UTC) + timedelta(
            minutes=draw(st.sampled_from((0, 30, 59, 60 * 11, 60 * 15, 60 * 23)))
        )
        length = timedelta(hours=draw(st.sampled_from((1, 12, 24, 24 * 3, 24 * 31, 24 * 200))))
        found.append((start, start + length))
    return found


def _check(text: str, zone: ZoneInfo, spans: list[tuple[datetime, datetime]]) -> None:
    try:
        reference = [reference_events(text, start, end, default_zone=zone) for start, end in spans]
    except MalformedResponseError:
        with pytest.raises(MalformedResponseError):
            parse_feed(text, default_zone=zone)
        event("rejected by icalendar")
        return
    feed = parse_feed(text, default_zone=zone)
    event("fast path" if feed.fast_path else "full parse")
    for (start, end), expected in zip(spans, reference, strict=True):
        got = feed.events_between(start, end)
        assert got == expected, (start, end)
        _check_types(got)


def _check_types(events: list[IcalEvent]) -> None:
    for item in events:
        assert type(item.start) is type(item.end)
        if isinstance(item.start, datetime):
            assert item.start.tzinfo is not None
            assert isinstance(item.end, datetime)
            assert item.end >= item.start
        else:
            assert item.end > item.start


@SETTINGS
@given(data=feeds(Options(recurrence=False, quirks=False)), spans=windows())
def test_clean_feeds_take_the_fast_path_and_match(
    data: tuple[str, ZoneInfo], spans: list[tuple[datetime, datetime]]
) -> None:
    text, zone = data
    feed = parse_feed(text, default_zone=zone)
    assert feed.fast_path, feed.fallback_reason
    _check(text, zone, spans)


@SETTINGS
@given(data=feeds(Options(recurrence=True, quirks=True)), spans=windows())
def test_any_feed_matches_the_full_parse(
    data: tuple[str, ZoneInfo], spans: list[tuple[datetime, datetime]]
) -> None:
    text, zone = data
    _check(text, zone, spans)


@SETTINGS
@given(data=feeds(Options(recurrence=False, quirks=False)))
def test_event_boundaries(data: tuple[str, ZoneInfo]) -> None:
    """Windows that start or end exactly on event bounds (the off-by-one cases)."""
    text, zone = data
    everything = reference_events(
        text, datetime(2025, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC), default_zone=zone
    )
    spans: list[tuple[datetime, datetime]] = []
    for item in everything[:4]:
        start, end = item.instants(parse_feed(text, default_zone=zone).zone)
        spans += [(start, end + timedelta(seconds=1)), (end, end + timedelta(hours=1))]
        spans += [(start - timedelta(hours=1), start), (start, start + timedelta(seconds=1))]
    _check(text, zone, spans)
