"""A calendar per property: Kasify bookings, or casavi appointments."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .api.errors import KasifyApiError
from .api.ical import EventKind, IcalEvent
from .api.models import Booking, CalendarEvent as SourceEvent, Property
from .const import DOMAIN
from .coordinator import (
    CasaviCoordinator,
    FeedCoordinator,
    FeedStatus,
    KasifyConfigEntry,
    KasifyCoordinator,
    PropertySourceCoordinator,
)
from .entity import PropertyEntity, async_add_entities_dynamically

PARALLEL_UPDATES = 0

# Calendar text generated here, in the languages the integration ships (calendar events are content,
# which Home Assistant's translation files do not cover).
_LABELS: dict[str, dict[str, str]] = {
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


class PropertyCalendar[CoordinatorT: PropertySourceCoordinator[Any]](
    PropertyEntity[CoordinatorT], CalendarEntity
):
    """Shared behaviour: ``event`` from cached data, ranges from the cache or, outside it, from the API."""

    @abstractmethod
    def _cached_events(self) -> list[CalendarEvent]:
        """Every event in the coordinator's window, sorted by start."""

    @abstractmethod
    async def _fetch_events(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """Events overlapping ``[start, end)`` read from the API (for ranges outside the window)."""

    async def _window_events(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """Events overlapping ``[start, end)`` inside the coordinator's window."""
        return self._cached_events()

    @property
    def event(self) -> CalendarEvent | None:
        """The event in progress, else the next one."""
        now = dt_util.now()
        return next((event for event in self._cached_events() if event.end_datetime_local > now), None)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Events overlapping the range."""
        data = self.coordinator.data
        if data.window_start <= start_date and end_date <= data.window_end:
            events = await self._window_events(start_date, end_date)
        else:
            try:
                events = await self._fetch_events(start_date, end_date)
            except KasifyApiError as err:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="calendar_fetch_failed",
                    translation_placeholders={"service": self.coordinator.upstream_name, "error": str(err)},
                ) from err
        return [
            event
            for event in events
            if event.start_datetime_local < end_date and event.end_datetime_local > start_date
        ]

    @property
    def _location(self) -> str | None:
        prop = self.source_property
        return prop.full_address if prop else None


class KasifyBookingsCalendar(PropertyCalendar[KasifyCoordinator]):
    """The property's stays: summary is the guest, from check-in to check-out."""

    _attr_translation_key = "bookings"

    def __init__(self, coordinator: KasifyCoordinator, prop: Property) -> None:
        """Create the bookings calendar of ``prop``."""
        super().__init__(coordinator, prop.id, "bookings")

    @property
    def _feeds(self) -> FeedCoordinator | None:
        return self.coordinator.config_entry.runtime_data.feeds

    async def async_added_to_hass(self) -> None:
        """Also follow the iCal feeds: a feed-only stay can be the current or next event."""
        await super().async_added_to_hass()
        if (feeds := self._feeds) is not None:
            self.async_on_remove(feeds.async_add_listener(self.async_write_ha_state))

    def _cached_events(self) -> list[CalendarEvent]:
        feeds = self._feeds
        statuses = (feeds.data or {}).values() if feeds is not None else ()
        upcoming = [
            (status, event)
            for status in statuses
            if status.property_id == self.property_id
            for event in status.upcoming
        ]
        return self._merge(self.coordinator.data.active_bookings(self.property_id), upcoming)

    async def _window_events(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        return self._merge(
            self.coordinator.data.active_bookings(self.property_id), await self._feed_events(start, end)
        )

    async def _fetch_events(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        bookings = await self.coordinator.client.list_property_bookings(self.property_id, start, end)
        active = sorted((b for b in bookings if b.active), key=lambda b: b.check_in)
        return self._merge(active, await self._feed_events(start, end))

    async def _feed_events(self, start: datetime, end: datetime) -> list[tuple[FeedStatus, IcalEvent]]:
        feeds = self._feeds
        return [] if feeds is None else await feeds.async_events_between(self.property_id, start, end)

    def _merge(
        self, bookings: list[Booking], feed_events: list[tuple[FeedStatus, IcalEvent]]
    ) -> list[CalendarEvent]:
        """Kasify bookings plus feed events, each stay once.

        A feed reservation that is a Kasify booking (its channel reference in the feed's UID/description, or
        the same check-in and check-out dates) is left out; so is a "blocked" entry on a booking's exact dates
        (channels mirror each other's bookings as blocks). Other blocks show as blocked, not as guests.
        """
        zone = dt_util.get_default_time_zone()
        events = [self._to_event(booking) for booking in bookings]
        stays = {(b.check_in.astimezone(zone).date(), b.check_out.astimezone(zone).date()) for b in bookings}
        references = [b.external_reference for b in bookings if b.external_reference]
        seen: set[tuple[str, str]] = set()
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
            events.append(self._feed_event(status, event))
        return sorted(events, key=lambda event: event.start_datetime_local)

    def _feed_event(self, status: FeedStatus, event: IcalEvent) -> CalendarEvent:
        labels = self._labels
        if event.kind is EventKind.BLOCKED:
            summary = f"{labels['blocked']} ({status.name})"
        elif event.kind is EventKind.RESERVATION:
            summary = event.guest_name or f"{labels['reserved']} ({status.name})"
        else:
            summary = event.summary or status.name
        return CalendarEvent(
            start=event.start,
            end=event.end,
            summary=summary,
            description=event.description,
            location=event.location or self._location,
            uid=f"{status.feed_id}-{event.uid}",
        )

    @property
    def _labels(self) -> dict[str, str]:
        return _LABELS.get(self.hass.config.language[:2], _LABELS["en"])

    def _to_event(self, booking: Booking) -> CalendarEvent:
        labels = self._labels
        lines = [f"{labels['booking']}: {booking.id}"]
        if booking.channel:
            lines.append(f"{labels['channel']}: {booking.channel}")
        if booking.guests_count is not None:
            lines.append(f"{labels['guests']}: {booking.guests_count}")
        return CalendarEvent(
            start=booking.check_in,
            end=booking.check_out,
            summary=booking.guest_name,
            description="\n".join(lines),
            location=self._location,
            uid=booking.id,
        )


class CasaviAppointmentsCalendar(PropertyCalendar[CasaviCoordinator]):
    """The property's casavi appointments (owners' meetings, inspections, contractor visits)."""

    _attr_translation_key = "appointments"

    def __init__(self, coordinator: CasaviCoordinator, prop: Property) -> None:
        """Create the appointments calendar of ``prop``."""
        super().__init__(coordinator, prop.id, "appointments")

    def _cached_events(self) -> list[CalendarEvent]:
        return [self._to_event(e) for e in self.coordinator.data.events.get(self.property_id, ())]

    async def _fetch_events(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        # casavi has no date filter on appointments: the client reads them all for this property.
        appointments = await self.coordinator.client.list_appointments(self.property_id)
        return [self._to_event(e) for e in sorted(appointments, key=lambda e: (e.start, e.id))]

    def _to_event(self, appointment: SourceEvent) -> CalendarEvent:
        start: Any = appointment.start
        end: Any = appointment.end
        if appointment.all_day:
            # casavi sends all-day appointments as UTC instants; their days are the local dates.
            start = dt_util.as_local(appointment.start).date()
            end = max(dt_util.as_local(appointment.end).date(), start + timedelta(days=1))
        return CalendarEvent(
            start=start,
            end=end,
            summary=appointment.title,
            description=appointment.description,
            location=appointment.location or self._location,
            uid=appointment.id,
        )


def _property_entities(
    coordinator: PropertySourceCoordinator[Any], prop: Property
) -> Iterable[CalendarEntity]:
    if isinstance(coordinator, KasifyCoordinator):
        return [KasifyBookingsCalendar(coordinator, prop)]
    if isinstance(coordinator, CasaviCoordinator):
        return [CasaviAppointmentsCalendar(coordinator, prop)]
    return []  # pragma: no cover - every property source has a calendar above


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a calendar for every property, now and as they appear."""
    async_add_entities_dynamically(entry, async_add_entities, for_property=_property_entities)
