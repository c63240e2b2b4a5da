"""iCal exports of the seeded fleet, as Airbnb, Booking.com and a channel manager (Smoobu) publish them.

Served under :data:`ICAL_PREFIX` as ``/ical/{property_id}-{channel}.ics`` and rendered on every request from
the Kasify state, so a booking added, moved or cancelled through the Kasify API (or a test helper) shows up in
the feeds, consistent with the Kasify bookings for dedupe tests:

- ``airbnb``: the property's confirmed Airbnb bookings as all-day ``Reserved`` entries whose description holds
  only the reservation URL with the ``HM...`` code (the booking's ``external_reference``) and the last four
  digits of the guest's phone; Kasify blocks from Airbnb as ``Airbnb (Not available)``; and the rolling
  "beyond the booking window" block Airbnb adds a year ahead. CRLF line endings, folded at 75 octets.
- ``booking``: the property's Booking.com bookings and its manual blocks, all as ``CLOSED - Not available``
  (Booking.com does not tell stays from blocks). LF line endings.
- ``smoobu``: every confirmed booking as a timed stay (``TZID`` of the property, 15:00 to 11:00) named after
  the guest, with ``Guests:``, ``Booking ID:``, ``Portal:`` and phone-digits lines, plus separate all-day
  ``Check-in: <guest>`` / ``Check-out: <guest>`` markers; ``X-WR-TIMEZONE`` set.

Responses carry ``ETag`` (a hash of the body without ``DTSTAMP``) and ``Last-Modified`` (when that hash last
changed) and answer ``If-None-Match`` / ``If-Modified-Since`` with 304. Knobs for tests: ``conditional``,
``send_validators`` and ``stamp_now`` (``DTSTAMP`` = now on every download, like Airbnb), and per feed
:meth:`IcalFeeds.set_body`, :meth:`~IcalFeeds.empty`, :meth:`~IcalFeeds.break_feed`,
:meth:`~IcalFeeds.add_event` and :meth:`~IcalFeeds.restore`. Unknown feeds answer an HTML 404 page, like
the real services.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
import hashlib
import re
from typing import Any, Final

from aiohttp import web

from .clock import Clock, parse_iso
from .kasify_state import Json, KasifyState

ICAL_PREFIX: Final = "/ical"
CHANNELS: Final = ("airbnb", "booking", "smoobu")
BREAKAGES: Final = ("html", "json", "404", "403", "500", "truncated", "empty_body")

_DTSTAMP_LINE: Final = re.compile(rb"^DTSTAMP[;:][^\n]*\n", re.MULTILINE)


def _fold(line: str) -> list[str]:
    """Fold at 75 octets (continuations start with a space) without splitting a UTF-8 character."""
    out: list[str] = []
    while len(line.encode()) > 75:
        cut = 75
        while len(line[:cut].encode()) > 75:
            cut -= 1
        out.append(line[:cut])
        line = " " + line[cut:]
    out.append(line)
    return out


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _uid(seed: str, domain: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"{digest[:12]}-{digest[12:44]}@{domain}"


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def _http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC).replace(microsecond=0), usegmt=True)


class IcalFeeds:
    """The iCal feeds of every Kasify property, rendered from :class:`KasifyState` on request."""

    def __init__(self, kasify: KasifyState, clock: Clock, *, base_url: Callable[[], str]) -> None:
        """Serve ``kasify``'s properties; ``base_url`` gives ``http://127.0.0.1:PORT/ical`` while serving."""
        self.kasify = kasify
        self.clock = clock
        self._base_url = base_url
        self.conditional = True
        """Answer ``If-None-Match`` / ``If-Modified-Since`` with 304 (``False``: always a full 200)."""
        self.send_validators = True
        """Send ``ETag`` and ``Last-Modified``."""
        self.stamp_now = False
        """Stamp every ``DTSTAMP`` with the current time on each download (Airbnb does)."""
        self.anchor = clock.now()
        self._bodies: dict[str, bytes] = {}
        self._broken: dict[str, str] = {}
        self._extra: dict[str, list[str]] = {}
        self._seen: dict[str, tuple[str, datetime]] = {}

    # -- addressing ------------------------------------------------------------------------------------------

    @staticmethod
    def feed_id(property_id: str, channel: str) -> str:
        """``{property_id}-{channel}``."""
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
        return f"{property_id}-{channel}"

    def feed_url(self, property_id: str, channel: str) -> str:
        """The feed URL while serving: ``http://127.0.0.1:PORT/ical/{property_id}-{channel}.ics``."""
        return f"{self._base_url()}/{self.feed_id(property_id, channel)}.ics"

    def _split(self, feed_id: str) -> tuple[str, str] | None:
        property_id, _, channel = feed_id.rpartition("-")
        if channel not in CHANNELS or property_id not in self.kasify.properties:
            return None
        return property_id, channel

    # -- test helpers ----------------------------------------------------------------------------------------

    def set_body(self, feed_id: str, body: str | bytes) -> None:
        """Serve ``body`` (as is) instead of the rendered feed until :meth:`restore`."""
        self._bodies[feed_id] = body.encode() if isinstance(body, str) else body
        self._broken.pop(feed_id, None)

    def empty(self, feed_id: str) -> None:
        """Serve a valid calendar without events (what a channel sends after an account problem)."""
        self.set_body(
            feed_id,
            "BEGIN:VCALENDAR\r\nPRODID:-//Airbnb Inc//Hosting Calendar 0.8.8//EN\r\nCALSCALE:GREGORIAN\r\n"
            "VERSION:2.0\r\nEND:VCALENDAR\r\n",
        )

    def break_feed(self, feed_id: str, how: str = "html") -> None:
        """Make the feed fail until :meth:`restore`.

        ``html`` (a 200 login page), ``json``, ``404``, ``403``, ``500``, ``truncated`` (the body cut in the
        middle) or ``empty_body`` (a 200 with nothing).
        """
        if how not in BREAKAGES:
            raise ValueError(f"how must be one of {BREAKAGES}, got {how!r}")
        self._broken[feed_id] = how

    def add_event(self, feed_id: str, vevent: str) -> None:
        """Append a raw ``BEGIN:VEVENT ... END:VEVENT`` block (one property per line) to the feed."""
        self._extra.setdefault(feed_id, []).append(vevent.strip())

    def breakage(self, feed_id: str) -> str | None:
        """How :meth:`break_feed` broke the feed, if it did."""
        return self._broken.get(feed_id)

    def restore(self, feed_id: str) -> None:
        """Undo :meth:`set_body`, :meth:`empty`, :meth:`break_feed` and :meth:`add_event` for one feed."""
        self._bodies.pop(feed_id, None)
        self._broken.pop(feed_id, None)
        self._extra.pop(feed_id, None)

    def summary(self) -> Json:
        """Feed count, knobs and overrides (for ``GET /_sim/state``)."""
        return {
            "feeds": len(self.kasify.properties) * len(CHANNELS),
            "conditional": self.conditional,
            "send_validators": self.send_validators,
            "stamp_now": self.stamp_now,
            "overridden": sorted(self._bodies),
            "broken": dict(sorted(self._broken.items())),
        }

    # -- rendering -------------------------------------------------------------------------------------------

    def render(self, feed_id: str) -> bytes | None:
        """The body served for a feed (``None`` when there is no such feed)."""
        if feed_id in self._bodies:
            return self._bodies[feed_id]
        split = self._split(feed_id)
        if split is None:
            return None
        property_id, channel = split
        lines = self._header(property_id, channel)
        for vevent in self._events(property_id, channel):
            lines.extend(vevent)
        for extra in self._extra.get(feed_id, []):
            lines.extend(extra.splitlines())
        lines.append("END:VCALENDAR")
        newline = "\n" if channel == "booking" else "\r\n"
        folded = [piece for line in lines for piece in _fold(line)]
        return (newline.join(folded) + newline).encode()

    def _stamp(self) -> str:
        when = self.clock.now() if self.stamp_now else self.anchor
        return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    def _header(self, property_id: str, channel: str) -> list[str]:
        if channel == "airbnb":
            return [
                "BEGIN:VCALENDAR",
                "PRODID:-//Airbnb Inc//Hosting Calendar 0.8.8//EN",
                "CALSCALE:GREGORIAN",
                "VERSION:2.0",
            ]
        if channel == "booking":
            return [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//admin.booking.com//EN",
                "CALSCALE:GREGORIAN",
                "METHOD:PUBLISH",
            ]
        name = self.kasify.properties[property_id]["name"]
        zone = self.kasify.property_zone(property_id).key
        return [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Smoobu//Smoobu Calendar 2.0//EN",
            f"X-WR-CALNAME:{_escape(name)}",
            f"X-WR-TIMEZONE:{zone}",
        ]

    def _bookings(self, property_id: str, channel: str | None) -> list[Json]:
        return [
            booking
            for booking in self.kasify.bookings_overlapping(property_id=property_id)
            if booking["status"] == "confirmed" and (channel is None or booking["channel"] == channel)
        ]

    def _local_day(self, property_id: str, value: str) -> date:
        return parse_iso(value).astimezone(self.kasify.property_zone(property_id)).date()

    def _all_day(
        self, uid: str, start: date, end: date, summary: str, description: str | None = None
    ) -> list[str]:
        lines = [
            "BEGIN:VEVENT",
            f"DTSTAMP:{self._stamp()}",
            f"DTSTART;VALUE=DATE:{_day(start)}",
            f"DTEND;VALUE=DATE:{_day(end)}",
            f"UID:{uid}",
        ]
        if description is not None:
            lines.append(f"DESCRIPTION:{_escape(description)}")
        lines += [f"SUMMARY:{_escape(summary)}", "END:VEVENT"]
        return lines

    def _events(self, property_id: str, channel: str) -> list[list[str]]:
        if channel == "airbnb":
            return self._airbnb(property_id)
        if channel == "booking":
            return self._booking(property_id)
        return self._smoobu(property_id)

    def _airbnb(self, property_id: str) -> list[list[str]]:
        events: list[list[str]] = []
        for booking in self._bookings(property_id, "airbnb"):
            lines = []
            if booking["external_reference"]:
                lines.append(
                    "Reservation URL: https://www.airbnb.com/hosting/reservations/details/"
                    + booking["external_reference"]
                )
            digits = re.sub(r"\D", "", booking["guest_phone"] or "")
            if len(digits) >= 4:
                lines.append(f"Phone Number (Last 4 Digits): {digits[-4:]}")
            events.append(
                self._all_day(
                    _uid(booking["id"], "airbnb.com"),
                    self._local_day(property_id, booking["check_in"]),
                    self._local_day(property_id, booking["check_out"]),
                    "Reserved",
                    "\n".join(lines) or None,
                )
            )
        events.extend(
            self._all_day(
                _uid(block["id"], "airbnb.com"),
                self._local_day(property_id, block["start"]),
                self._local_day(property_id, block["end"]),
                "Airbnb (Not available)",
            )
            for block in self._blocks(property_id, ("airbnb",))
        )
        today = self.anchor.astimezone(self.kasify.property_zone(property_id)).date()
        events.append(
            self._all_day(
                _uid(f"{property_id}-window", "airbnb.com"),
                today + timedelta(days=365),
                today + timedelta(days=730),
                "Airbnb (Not available)",
            )
        )
        return events

    def _booking(self, property_id: str) -> list[list[str]]:
        spans = [(b["id"], b["check_in"], b["check_out"]) for b in self._bookings(property_id, "booking")]
        spans += [(b["id"], b["start"], b["end"]) for b in self._blocks(property_id, ("manual",))]
        return [
            self._all_day(
                _uid(record_id, "booking.com"),
                self._local_day(property_id, start),
                self._local_day(property_id, end),
                "CLOSED - Not available",
            )
            for record_id, start, end in sorted(spans, key=lambda span: span[1])
        ]

    def _smoobu(self, property_id: str) -> list[list[str]]:
        zone = self.kasify.property_zone(property_id)
        events: list[list[str]] = []
        for booking in self._bookings(property_id, None):
            check_in = parse_iso(booking["check_in"]).astimezone(zone)
            check_out = parse_iso(booking["check_out"]).astimezone(zone)
            guest = booking["guest_name"]
            details = [
                f"Guests: {booking['guests_count']}",
                f"Booking ID: {booking['external_reference'] or booking['id']}",
                f"Portal: {booking['channel']}",
            ]
            digits = re.sub(r"\D", "", booking["guest_phone"] or "")
            if len(digits) >= 4:
                details.append(f"Phone (last 4 digits): {digits[-4:]}")
            events.append(
                [
                    "BEGIN:VEVENT",
                    f"UID:smoobu-{booking['id']}",
                    f"DTSTAMP:{self._stamp()}",
                    f"DTSTART;TZID={zone.key}:{check_in:%Y%m%dT%H%M%S}",
                    f"DTEND;TZID={zone.key}:{check_out:%Y%m%dT%H%M%S}",
                    f"SUMMARY:{_escape(guest)}",
                    f"DESCRIPTION:{_escape(chr(10).join(details))}",
                    "END:VEVENT",
                ]
            )
            for label, day in (("Check-in", check_in.date()), ("Check-out", check_out.date())):
                events.append(
                    self._all_day(
                        f"smoobu-{label.lower()}-{booking['id']}",
                        day,
                        day + timedelta(days=1),
                        f"{label}: {guest}",
                    )
                )
        return events

    def _blocks(self, property_id: str, sources: tuple[str, ...]) -> list[Json]:
        return sorted(
            (
                block
                for block in self.kasify.blocks.values()
                if block["property_id"] == property_id and block["source"] in sources
            ),
            key=lambda block: block["start"],
        )

    # -- validators ------------------------------------------------------------------------------------------

    def validators(self, feed_id: str, body: bytes) -> tuple[str, datetime]:
        """The ETag of ``body`` and when the feed's content (``DTSTAMP`` aside) last changed."""
        digest = hashlib.sha256(_DTSTAMP_LINE.sub(b"", body.replace(b"\r\n", b"\n"))).hexdigest()[:20]
        seen = self._seen.get(feed_id)
        if seen is None or seen[0] != digest:
            seen = (digest, self.clock.now().replace(microsecond=0))
            self._seen[feed_id] = seen
        return f'"{digest}"', seen[1]


def _error_page(status: int, message: str) -> bytes:
    return (
        f"<!DOCTYPE html>\n<html><head><title>{status}</title></head>"
        f"<body><h1>{status}</h1><p>{message}</p></body></html>\n"
    ).encode()


def _matches(header: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


class IcalApi:
    """The iCal vendor: ``GET /ical/{feed}.ics`` over :class:`IcalFeeds`."""

    name = "ical"
    prefix = ICAL_PREFIX

    def __init__(self, feeds: IcalFeeds) -> None:
        """Serve ``feeds``."""
        self.feeds = feeds

    def error_body(self, status: int, message: str) -> bytes:
        """An HTML error page, like the channels serve."""
        return _error_page(status, message)

    def summary(self) -> dict[str, Any]:
        """The prefix and the feeds' summary."""
        return {"prefix": self.prefix, **self.feeds.summary()}

    def build_app(self) -> web.Application:
        """The sub-application."""
        app = web.Application()
        app.router.add_get("/{name}", self.get_feed)
        return app

    async def get_feed(self, request: web.Request) -> web.Response:
        """One feed, with conditional GET."""
        name = request.match_info["name"]
        feed_id = name.removesuffix(".ics")
        body = self.feeds.render(feed_id) if name.endswith(".ics") else None
        if body is None:
            return web.Response(
                status=404, body=_error_page(404, "Calendar not found"), content_type="text/html"
            )
        broken = self.feeds.breakage(feed_id)
        if broken is not None:
            return self._broken(broken, body)
        etag, changed = self.feeds.validators(feed_id, body)
        headers = {"ETag": etag, "Last-Modified": _http_date(changed)} if self.feeds.send_validators else {}
        if self.feeds.conditional and self._not_modified(request, etag, changed):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, headers=headers, content_type="text/calendar", charset="utf-8")

    @staticmethod
    def _not_modified(request: web.Request, etag: str, changed: datetime) -> bool:
        if (header := request.headers.get("If-None-Match")) is not None:
            return _matches(header, etag)
        if (since := request.headers.get("If-Modified-Since")) is not None:
            try:
                when = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            return changed <= (when if when.tzinfo else when.replace(tzinfo=UTC))
        return False

    @staticmethod
    def _broken(how: str, body: bytes) -> web.Response:
        if how == "html":
            page = _error_page(200, "Please log in to see this calendar")
            return web.Response(body=page, content_type="text/html")
        if how == "json":
            return web.json_response({"error": "calendar_disabled", "message": "This calendar was disabled"})
        if how == "truncated":
            return web.Response(body=body[: len(body) // 2], content_type="text/calendar")
        if how == "empty_body":
            return web.Response(body=b"", content_type="text/calendar")
        status = int(how)
        return web.Response(
            status=status, body=_error_page(status, "Calendar unavailable"), content_type="text/html"
        )
