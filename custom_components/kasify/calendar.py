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
from .api.models import Booking, CalendarEvent as SourceEvent, Property
from .const import DOMAIN
from .coordinator import CasaviCoordinator, KasifyConfigEntry, KasifyCoordinator, PropertySourceCoordinator
from .entity import PropertyEntity, async_add_entities_dynamically

PARALLEL_UPDATES = 0

# Labels of the booking description, in the languages the integration ships.
_DESCRIPTION_LABELS: dict[str, dict[str, str]] = {
    "en": {"booking": "Booking", "channel": "Channel", "guests": "Guests"},
    "es": {"booking": "Reserva", "channel": "Canal", "guests": "Huéspedes"},
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
            events = self._cached_events()
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

    def _cached_events(self) -> list[CalendarEvent]:
        return [self._to_event(b) for b in self.coordinator.data.active_bookings(self.property_id)]

    async def _fetch_events(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        bookings = await self.coordinator.client.list_property_bookings(self.property_id, start, end)
        return [self._to_event(b) for b in sorted(bookings, key=lambda b: b.check_in) if b.active]

    def _to_event(self, booking: Booking) -> CalendarEvent:
        labels = _DESCRIPTION_LABELS.get(self.hass.config.language[:2], _DESCRIPTION_LABELS["en"])
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
