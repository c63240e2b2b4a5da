"""The *Stay state* sensor of a Kasify property (the state itself is derived in :mod:`.stay_state`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from .api.models import Booking, Feature, Property
from .coordinator import PropertySourceCoordinator
from .entity import PropertyEntity
from .stay_state import STAY_STATES, StayState, StayTracker, get_tracker, signal_stay_state


class StayStateSensor(PropertyEntity, SensorEntity):
    """Vacant, guest arriving, occupied, checked out or ready, with the booking it is about."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = STAY_STATES
    _attr_translation_key = "stay_state"
    feature = Feature.BOOKINGS

    def __init__(self, coordinator: PropertySourceCoordinator[Any], prop: Property) -> None:
        """Create the stay-state sensor of ``prop``."""
        super().__init__(coordinator, prop.id, "stay_state")

    @property
    def _tracker(self) -> StayTracker | None:
        return get_tracker(self.hass, self.coordinator.config_entry.entry_id)

    def _state(self) -> tuple[StayState, Booking | None] | None:
        tracker = self._tracker
        return tracker.state(self.property_id, dt_util.utcnow()) if tracker is not None else None

    async def async_added_to_hass(self) -> None:
        """Also update when the stay facts change or a state changes by time alone."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_stay_state(self.coordinator.config_entry.entry_id), self._async_facts
            )
        )

    @callback
    def _async_facts(self) -> None:
        self.async_write_ha_state()

    @property
    def native_value(self) -> str | None:
        """The stay state."""
        state = self._state()
        return state[0].value if state is not None else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The booking the state is about (never the guest's e-mail or phone), its arrival and early end."""
        state, tracker = self._state(), self._tracker
        booking = state[1] if state is not None else None
        if booking is None or tracker is None:
            return {}
        arrival = tracker.arrivals.get(booking.id)
        early = tracker.early.get(booking.id)
        return {
            "booking_id": booking.id,
            "guest_name": booking.guest_name,
            "check_in": booking.check_in.isoformat(),
            "check_out": booking.check_out.isoformat(),
            "arrived_at": arrival["at"] if arrival else None,
            "checked_out_early_at": early.isoformat() if early else None,
        }
