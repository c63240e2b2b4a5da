"""The iCal text of one property's feed, as Airbnb, Booking.com and a channel manager (Smoobu) publish it.

Rendered from the Kasify state, so a booking added, moved or cancelled through the Kasify API (or a test
helper) shows up in the feeds, consistent with the Kasify bookings for dedupe tests:

- ``airbnb``: the property's confirmed Airbnb bookings as all-day ``Reserved`` entries whose description holds
  only the reservation URL with the ``HM...`` code (the booking's ``external_reference``) and the last four
  digits of the guest's phone; Kasify blocks from Airbnb as ``Airbnb (Not available)``; and the rolling
  "beyond the booking window" block Airbnb adds a year ahead. CRLF line endings, folded at 75 octets.
- ``booking``: the property's Booking.com bookings and its manual blocks, all as ``CLOSED - Not available``
  (Booking.com does not tell stays from blocks). LF line endings.
- ``smoobu``: every confirmed booking as a timed stay (``TZID`` of the property, 15:00 to 11:00) named after
  the guest, with ``Guests:``, ``Booking ID:``, ``Portal:`` and phone-digits lines, plus separate all-day
  ``Check-in: <guest>`` / ``Check-out: <guest>`` markers; ``X-WR-TIMEZONE`` set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
import hashlib
import re

from .clock import parse_iso
from .kasify_state import Json, KasifyState


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


def render_feed(
    kasify: KasifyState,
    property_id: str,
    channel: str,
    *,
    stamp: Callable[[], str],
    anchor: datetime,
    extra: Sequence[str] = (),
) -> bytes:
    """The body of a property's feed for ``channel``, with the raw ``extra`` VEVENT blocks appended.

    ``stamp()`` gives each ``DTSTAMP``; ``anchor`` is the instant Airbnb's "beyond the booking window" block
    counts from.
    """
    writer = _FeedWriter(kasify, property_id, stamp, anchor)
    lines = writer.header(channel)
    for vevent in writer.events(channel):
        lines.extend(vevent)
    for block in extra:
        lines.extend(block.splitlines())
    lines.append("END:VCALENDAR")
    newline = "\n" if channel == "booking" else "\r\n"
    folded = [piece for line in lines for piece in _fold(line)]
    return (newline.join(folded) + newline).encode()


class _FeedWriter:
    """The header and events of one property's feed."""

    def __init__(
        self, kasify: KasifyState, property_id: str, stamp: Callable[[], str], anchor: datetime
    ) -> None:
        self.kasify = kasify
        self.property_id = property_id
        self._stamp = stamp
        self.anchor = anchor

    def header(self, channel: str) -> list[str]:
        """The calendar's opening lines as the channel writes them."""
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
        name = self.kasify.properties[self.property_id]["name"]
        zone = self.kasify.property_zone(self.property_id).key
        return [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Smoobu//Smoobu Calendar 2.0//EN",
            f"X-WR-CALNAME:{_escape(name)}",
            f"X-WR-TIMEZONE:{zone}",
        ]

    def _bookings(self, channel: str | None) -> list[Json]:
        return [
            booking
            for booking in self.kasify.bookings_overlapping(property_id=self.property_id)
            if booking["status"] == "confirmed" and (channel is None or booking["channel"] == channel)
        ]

    def _local_day(self, value: str) -> date:
        return parse_iso(value).astimezone(self.kasify.property_zone(self.property_id)).date()

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

    def events(self, channel: str) -> list[list[str]]:
        """The VEVENT blocks of the feed, each as its lines."""
        if channel == "airbnb":
            return self._airbnb()
        if channel == "booking":
            return self._booking()
        return self._smoobu()

    def _airbnb(self) -> list[list[str]]:
        events: list[list[str]] = []
        for booking in self._bookings("airbnb"):
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
                    self._local_day(booking["check_in"]),
                    self._local_day(booking["check_out"]),
                    "Reserved",
                    "\n".join(lines) or None,
                )
            )
        events.extend(
            self._all_day(
                _uid(block["id"], "airbnb.com"),
                self._local_day(block["start"]),
                self._local_day(block["end"]),
                "Airbnb (Not available)",
            )
            for block in self._blocks(("airbnb",))
        )
        today = self.anchor.astimezone(self.kasify.property_zone(self.property_id)).date()
        events.append(
            self._all_day(
                _uid(f"{self.property_id}-window", "airbnb.com"),
                today + timedelta(days=365),
                today + timedelta(days=730),
                "Airbnb (Not available)",
            )
        )
        return events

    def _booking(self) -> list[list[str]]:
        spans = [(b["id"], b["check_in"], b["check_out"]) for b in self._bookings("booking")]
        spans += [(b["id"], b["start"], b["end"]) for b in self._blocks(("manual",))]
        return [
            self._all_day(
                _uid(record_id, "booking.com"),
                self._local_day(start),
                self._local_day(end),
                "CLOSED - Not available",
            )
            for record_id, start, end in sorted(spans, key=lambda span: span[1])
        ]

    def _smoobu(self) -> list[list[str]]:
        zone = self.kasify.property_zone(self.property_id)
        events: list[list[str]] = []
        for booking in self._bookings(None):
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

    def _blocks(self, sources: tuple[str, ...]) -> list[Json]:
        return sorted(
            (
                block
                for block in self.kasify.blocks.values()
                if block["property_id"] == self.property_id and block["source"] in sources
            ),
            key=lambda block: block["start"],
        )
