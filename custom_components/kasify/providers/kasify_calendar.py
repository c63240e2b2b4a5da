"""A Kasify property's calendar: its bookings merged with its iCal feeds, each stay once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import partial
from typing import TYPE_CHECKING

from homeassistant.components.calendar import CalendarEvent
from homeassistant.util import dt as dt_util

from ..api.ical import EventKind, IcalEvent
from ..api.models import Booking
from .kasify_feeds import FeedStatus

if TYPE_CHECKING:
    from .kasify import KasifyCoordinator

# Calendar text generated here, in the languages the integration ships (calendar events are content,
# which Home Assistant's translation files do not cover).
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "booking": "Booking",
        "channel": "Channel",
        "guests": "Guests",
        "blocked": "Blocked",
        "reserved": "Reserved",
    },
    "es": {
        "booking": "Reserva",
        "channel": "Canal",
        "guests": "Huéspedes",
        "blocked": "Bloqueado",
        "reserved": "Reservado",
    },
}


def _local(value: date | datetime) -> datetime:
    """An event's start or end as Home Assistant's calendar reads it (``start_datetime_local``)."""
    if isinstance(value, datetime):
        return dt_util.as_local(value)
    return dt_util.start_of_local_day(value)


@dataclass(frozen=True, slots=True)
class _Item:
    """An event of the calendar, built only when needed (hundreds of calendars each pick one event)."""

    start: datetime
    end: datetime
    event: Callable[[], CalendarEvent]


class BookingsCalendar:
    """The events of one Kasify property's calendar, in one language."""

    def __init__(self, coordinator: KasifyCoordinator, property_id: str, language: str) -> None:
        """Read ``coordinator``'s bookings and feeds of the property; write labels in ``language``."""
        self.coordinator = coordinator
        self.property_id = property_id
        self.labels = LABELS.get(language[:2], LABELS["en"])
        prop = coordinator.data.properties.get(property_id)
        self.location = prop.full_address if prop else None

    def cached(self) -> list[CalendarEvent]:
        """The stays in the coordinator's window and the feeds' next events."""
        return [item.event() for item in self._cached_items()]

    def current(self, now: datetime) -> CalendarEvent | None:
        """The first of :meth:`cached` (by start) that ends after ``now``: only that one is built."""
        return next((item.event() for item in self._cached_items() if item.end > now), None)

    def _cached_items(self) -> list[_Item]:
        feeds = self.coordinator.config_entry.runtime_data.feeds
        statuses = feeds.statuses_for(self.property_id) if feeds is not None else ()
        upcoming = [(status, event) for status in statuses for event in status.upcoming]
        return self._items(self.coordinator.data.active_bookings(self.property_id), upcoming)

    async def window(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """Inside the coordinator's window: its stays and the feeds' events of the range."""
        return self._merge(
            self.coordinator.data.active_bookings(self.property_id), await self._feed_events(start, end)
        )

    async def fetch(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """Outside the window: the property's bookings of the range read from Kasify, and the feeds'."""
        bookings = await self.coordinator.client.list_property_bookings(self.property_id, start, end)
        local = (self.coordinator.localize(b) for b in bookings)
        active = sorted((b for b in local if b.active), key=lambda b: b.check_in)
        return self._merge(active, await self._feed_events(start, end))

    async def _feed_events(self, start: datetime, end: datetime) -> list[tuple[FeedStatus, IcalEvent]]:
        feeds = self.coordinator.config_entry.runtime_data.feeds
        return [] if feeds is None else await feeds.async_events_between(self.property_id, start, end)

    def _merge(
        self, bookings: list[Booking], feed_events: list[tuple[FeedStatus, IcalEvent]]
    ) -> list[CalendarEvent]:
        """Kasify bookings plus the feed events that are not one of them (see :meth:`_items`)."""
        return [item.event() for item in self._items(bookings, feed_events)]

    def _items(self, bookings: list[Booking], feed_events: list[tuple[FeedStatus, IcalEvent]]) -> list[_Item]:
        """Kasify bookings plus the feed events that are not one of them (:func:`feed_only`), by start.

        Each event is built only when asked for.
        """
        zone = dt_util.get_default_time_zone()
        items = [
            _Item(_local(booking.check_in), _local(booking.check_out), partial(self._to_event, booking))
            for booking in bookings
        ]
        items += [
            _Item(_local(event.start), _local(event.end), partial(self._feed_event, status, event))
            for status, event in feed_only(bookings, feed_events, zone)
        ]
        return sorted(items, key=lambda item: item.start)

    def _feed_event(self, status: FeedStatus, event: IcalEvent) -> CalendarEvent:
        if event.kind is EventKind.BLOCKED:
            summary = f"{self.labels['blocked']} ({status.name})"
        elif event.kind is EventKind.RESERVATION:
            summary = event.guest_name or f"{self.labels['reserved']} ({status.name})"
        else:
            summary = event.summary or status.name
        return CalendarEvent(
            start=event.start,
            end=event.end,
            summary=summary,
            description=event.description,
            location=event.location or self.location,
            uid=f"{status.feed_id}-{event.uid}",
        )

    def _to_event(self, booking: Booking) -> CalendarEvent:
        lines = [f"{self.labels['booking']}: {booking.id}"]
        if booking.channel:
            lines.append(f"{self.labels['channel']}: {booking.channel}")
        if booking.guests_count is not None:
            lines.append(f"{self.labels['guests']}: {booking.guests_count}")
        return CalendarEvent(
            start=booking.check_in,
            end=booking.check_out,
            summary=booking.guest_name,
            description="\n".join(lines),
            location=self.location,
            uid=booking.id,
        )


def feed_only(
    bookings: list[Booking], feed_events: list[tuple[FeedStatus, IcalEvent]], zone: tzinfo
) -> list[tuple[FeedStatus, IcalEvent]]:
    """The feed events that are not Kasify bookings, each stay once (reservations first).

    A feed reservation that is a Kasify booking (its channel reference in the feed's UID/description, or the
    same check-in and check-out dates in ``zone``) is left out, and so is a reservation on the dates of one
    kept already (another feed's copy of the same stay); so is a "blocked" entry on a stay's exact dates
    (channels mirror each other's bookings as blocks). Other blocks are kept (as blocks, not stays).
    """
    stays = {(b.check_in.astimezone(zone).date(), b.check_out.astimezone(zone).date()) for b in bookings}
    references = [b.external_reference for b in bookings if b.external_reference]
    seen: set[tuple[str, str]] = set()
    kept: list[tuple[FeedStatus, IcalEvent]] = []
    # Reservations first, so a block that mirrors a feed-only reservation is recognised too.
    for status, event in sorted(feed_events, key=lambda item: item[1].kind is not EventKind.RESERVATION):
        if (status.feed_id, event.uid) in seen:
            continue
        seen.add((status.feed_id, event.uid))
        dates = event.local_dates(zone)
        if event.kind is EventKind.RESERVATION and (
            dates in stays or any(event.mentions(reference) for reference in references)
        ):
            continue
        if event.kind is EventKind.BLOCKED and dates in stays:
            continue
        if event.kind is EventKind.RESERVATION:
            stays.add(dates)
        kept.append((status, event))
    return kept
