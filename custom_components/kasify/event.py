"""Event entities: each property's stay (check-in, check-out, booking changes) and each lock's activity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.models import Booking, Feature, Property
from .const import STAY_EVENT_TYPES
from .coordinator import (
    KasifyConfigEntry,
    LockView,
    PropertySourceCoordinator,
    ProviderCoordinator,
    signal_lock_activity,
)
from .entity import (
    LockCoordinator,
    LockDeviceEntity,
    PropertyEntity,
    async_add_lock_entities,
    async_add_property_entities,
)

PARALLEL_UPDATES = 0


class StayEvent(PropertyEntity, EventEntity):
    """Mirrors the stay bus events (check-in, check-out, guest arrived) plus booking changes.

    An early check-out is a ``check_out`` with ``early``; a guest's arrival names the lock and the time.
    """

    _attr_translation_key = "stay"
    _attr_event_types = STAY_EVENT_TYPES
    feature = Feature.BOOKINGS

    def __init__(self, coordinator: PropertySourceCoordinator[Any], prop: Property) -> None:
        """Create the stay event entity of ``prop``."""
        super().__init__(coordinator, prop.id, "stay")

    @callback
    def _async_stay_event(
        self, event_type: str, booking: Booking, extra: Mapping[str, Any] | None = None
    ) -> None:
        self._trigger_event(
            event_type,
            {
                "booking_id": booking.id,
                "guest_name": booking.guest_name,
                "check_in": booking.check_in.isoformat(),
                "check_out": booking.check_out.isoformat(),
                **(extra or {}),
            },
        )
        self.async_write_ha_state()


class LockActivityEvent(LockDeviceEntity, EventEntity):
    """What happened at a lock, as its provider account reports it (``signal_lock_activity``).

    The types are the vendor's (unlocked, locked, code used — by the code's name, never the PIN —, access
    denied, battery low, ...); polled and pushed activity arrive the same way, each once.
    """

    _attr_translation_key = "lock_activity"

    def __init__(self, coordinator: ProviderCoordinator[Any, Any], view: LockView) -> None:
        """Create the activity event entity of the lock of ``view``."""
        super().__init__(coordinator, view, "activity")
        self._attr_event_types = list(coordinator.activity_event_types)

    async def async_added_to_hass(self) -> None:
        """Receive the lock's new activity from the coordinator."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_lock_activity(self.coordinator.config_entry.entry_id, self.device_key),
                self._async_activity,
            )
        )

    @callback
    def _async_activity(self, event_type: str, attributes: dict[str, Any]) -> None:
        self._trigger_event(event_type, attributes)
        self.async_write_ha_state()


def _property_entities(coordinator: PropertySourceCoordinator[Any], prop: Property) -> Iterable[EventEntity]:
    return [StayEvent(coordinator, prop)] if coordinator.has_stays else []


def _lock_entities(coordinator: LockCoordinator, view: LockView) -> Iterable[EventEntity]:
    if isinstance(coordinator, ProviderCoordinator) and coordinator.activity_event_types:
        return [LockActivityEvent(coordinator, view)]
    return []


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the stay event of every property and the activity event of every lock, as they appear."""
    async_add_property_entities(entry, async_add_entities, _property_entities)
    async_add_lock_entities(entry, async_add_entities, _lock_entities)
