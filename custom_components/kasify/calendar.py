"""A bookings calendar per property."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .api.errors import KasifyApiError
from .api.models import Booking, Property
from .const import DOMAIN
from .coordinator import KasifyConfigEntry, KasifyCoordinator
from .entity import KasifyPropertyEntity, async_add_entities_dynamically

PARALLEL_UPDATES = 0

# Labels of the event description, in the languages the integration ships.
_DESCRIPTION_LABELS: dict[str, dict[str, str]] = {
    "en": {"booking": "Booking", "channel": "Channel", "guests": "Guests"},
    "es": {"booking": "Reserva", "channel": "Canal", "guests": "Huéspedes"},
}


class KasifyBookingsCalendar(KasifyPropertyEntity, CalendarEntity):
    """The property's bookings: summary is the guest, the stay runs from check-in to check-out."""

    _attr_translation_key = "bookings"

    def __init__(self, coordinator: KasifyCoordinator, prop: Property) -> None:
        """Create the bookings calendar of ``prop``."""
        super().__init__(coordinator, prop.id, "bookings")

    @property
    def event(self) -> CalendarEvent | None:
        """The stay in progress, else the next one (from cached data only)."""
        data = self.coordinator.data
        now = dt_util.utcnow()
        booking = data.current_booking(self.property_id, now) or data.next_booking(self.property_id, now)
        return self._to_event(booking) if booking else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Stays overlapping the range: from the coordinator's window, else from the API."""
        data = self.coordinator.data
        if data.window_start <= start_date and end_date <= data.window_end:
            bookings: Iterable[Booking] = data.active_bookings(self.property_id)
        else:
            try:
                bookings = [
                    booking
                    for booking in await self.coordinator.client.list_property_bookings(
                        self.property_id, start_date, end_date
                    )
                    if booking.active
                ]
            except KasifyApiError as err:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="calendar_fetch_failed",
                    translation_placeholders={"error": str(err)},
                ) from err
        return [
            self._to_event(booking)
            for booking in sorted(bookings, key=lambda b: b.check_in)
            if booking.check_in < end_date and booking.check_out > start_date
        ]

    def _to_event(self, booking: Booking) -> CalendarEvent:
        labels = _DESCRIPTION_LABELS.get(self.hass.config.language[:2], _DESCRIPTION_LABELS["en"])
        lines = [f"{labels['booking']}: {booking.id}"]
        if booking.channel:
            lines.append(f"{labels['channel']}: {booking.channel}")
        if booking.guests_count is not None:
            lines.append(f"{labels['guests']}: {booking.guests_count}")
        prop = self.kasify_property
        return CalendarEvent(
            start=booking.check_in,
            end=booking.check_out,
            summary=booking.guest_name,
            description="\n".join(lines),
            location=prop.full_address if prop else None,
            uid=booking.id,
        )


def _property_entities(coordinator: KasifyCoordinator, prop: Property) -> Iterable[CalendarEntity]:
    return [KasifyBookingsCalendar(coordinator, prop)]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a bookings calendar for every property, now and as they appear."""
    async_add_entities_dynamically(entry, async_add_entities, for_property=_property_entities)
