"""The stay event entity of each property: check-in, check-out and booking changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.models import Booking, Property
from .const import STAY_EVENT_TYPES
from .coordinator import KasifyConfigEntry, KasifyCoordinator, PropertySourceCoordinator
from .entity import KasifyPropertyEntity, async_add_entities_dynamically

PARALLEL_UPDATES = 0


class KasifyStayEvent(KasifyPropertyEntity, EventEntity):
    """Mirrors the ``kasify_check_in`` / ``kasify_check_out`` bus events, plus booking changes."""

    _attr_translation_key = "stay"
    _attr_event_types = STAY_EVENT_TYPES

    def __init__(self, coordinator: KasifyCoordinator, prop: Property) -> None:
        """Create the stay event entity of ``prop``."""
        super().__init__(coordinator, prop.id, "stay")

    @callback
    def _async_stay_event(self, event_type: str, booking: Booking) -> None:
        self._trigger_event(
            event_type,
            {
                "booking_id": booking.id,
                "guest_name": booking.guest_name,
                "check_in": booking.check_in.isoformat(),
                "check_out": booking.check_out.isoformat(),
            },
        )
        self.async_write_ha_state()


def _property_entities(coordinator: PropertySourceCoordinator[Any], prop: Property) -> Iterable[EventEntity]:
    # Stays (check-in, check-out, bookings) only exist in Kasify.
    if isinstance(coordinator, KasifyCoordinator):
        return [KasifyStayEvent(coordinator, prop)]
    return []


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a stay event entity for every property, now and as they appear."""
    async_add_entities_dynamically(entry, async_add_entities, for_property=_property_entities)
