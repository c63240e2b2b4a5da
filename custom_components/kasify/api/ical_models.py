"""Frozen models of the iCal feed support: events as the calendar shows them, and a feed's HTTP validators.

An :class:`IcalEvent` is one occurrence (a recurring event is expanded into one per instance). All-day events
carry :class:`~datetime.date` ``start`` / ``end`` (``end`` exclusive, as in iCalendar and Home Assistant);
timed events carry aware :class:`~datetime.datetime` values (floating times are placed in the feed's zone,
see :func:`~custom_components.kasify.api.ical_parse.parse_feed`). ``end`` is never before ``start``; a timed
event without ``DTEND``/``DURATION`` has ``end == start`` and an all-day one lasts one day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from enum import StrEnum


class EventKind(StrEnum):
    """What a feed event means for the rental."""

    RESERVATION = "reservation"
    """A guest stay (Airbnb "Reserved", a channel manager's booking, ...)."""
    BLOCKED = "blocked"
    """Dates the host or the channel closed: "Blocked", "Not available", Booking.com "CLOSED"."""
    OTHER = "other"
    """Anything else (a plain calendar entry, an unmatched "Check-in" marker, ...)."""


@dataclass(frozen=True, slots=True)
class IcalEvent:
    """One occurrence of a feed event, with the rental attributes read from its text.

    Attributes:
        uid: The event's ``UID`` (a stable synthetic one when the feed gave none).
        start: Aware datetime, or a date for an all-day event.
        end: Same type as ``start``; exclusive; never before ``start``.
        summary: ``SUMMARY`` unescaped ("" when missing).
        kind: Reservation, blocked or other (see :mod:`.ical_rental`).
        description: ``DESCRIPTION`` unescaped (may hold phone digits: show it, do not log it).
        location: ``LOCATION`` unescaped.
        guest_name: The guest's name when the feed gives one (Airbnb "Reserved" entries do not).
        reservation_code: A channel confirmation code such as Airbnb's ``HM...``.
        booking_id: A "Booking ID" / "Reservation ID" from the description.
        phone_last4: The last four digits of the guest's phone, when the feed gives only those.
        guests: Number of guests from the description.
        channel: ``airbnb``, ``booking``, ``vrbo``, ... (the feed's channel, else detected).
        recurrence_id: For an occurrence of a recurring event, its original start (``YYYYMMDD`` or
            ``YYYYMMDDTHHMMSSZ``); ``None`` otherwise.
    """

    uid: str
    start: date | datetime
    end: date | datetime
    summary: str
    kind: EventKind
    description: str | None = None
    location: str | None = None
    guest_name: str | None = None
    reservation_code: str | None = None
    booking_id: str | None = None
    phone_last4: str | None = None
    guests: int | None = None
    channel: str | None = None
    recurrence_id: str | None = None

    @property
    def all_day(self) -> bool:
        """Whether ``start`` and ``end`` are dates."""
        return not isinstance(self.start, datetime)

    def instants(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """``start`` and ``end`` as aware datetimes (all-day dates begin at midnight in ``zone``)."""
        return _instant(self.start, zone), _instant(self.end, zone)

    def local_dates(self, zone: tzinfo) -> tuple[date, date]:
        """The first day and the (exclusive) last day in ``zone``: check-in and check-out dates of a stay."""
        return _local_date(self.start, zone), _local_date(self.end, zone)

    def mentions(self, reference: str) -> bool:
        """Whether a channel reference (confirmation code, booking id) appears in this event.

        Compares case-insensitively against the reservation code, the booking id, the UID and the
        description, so a Kasify booking's ``external_reference`` can be matched to its feed entry.
        """
        needle = reference.strip().casefold()
        if len(needle) < 4:
            return False
        fields = (self.reservation_code, self.booking_id, self.uid, self.description, self.summary)
        return any(needle in field.casefold() for field in fields if field)


def _instant(value: date, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), zone)


def _local_date(value: date, zone: tzinfo) -> date:
    if isinstance(value, datetime):
        return value.astimezone(zone).date()
    return value


@dataclass(frozen=True, slots=True)
class FeedValidators:
    """What a feed answered last time, to make the next request conditional.

    Attributes:
        etag: The ``ETag`` header (sent back as ``If-None-Match``).
        last_modified: The ``Last-Modified`` header (sent back as ``If-Modified-Since``).
        content_hash: Hash of the last body, ignoring ``DTSTAMP`` lines (which some channels regenerate on
            every request); an identical hash means "unchanged" even when the server sends a full 200.
    """

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
