"""The entities of ``readiness.py``: *Ready for next guest* and *Guests registered*."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.sensor import SensorEntity
from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .api.models import Feature, Property
from .coordinator import PropertySourceCoordinator
from .entity import PropertyEntity
from .readiness import Readiness, ReadinessTracker, signal_readiness


def readiness_of(coordinator: PropertySourceCoordinator[Any]) -> ReadinessTracker | None:
    """The entry's readiness tracker (Kasify entries have one)."""
    return getattr(coordinator.config_entry.runtime_data, "readiness", None)


class _ReadinessEntity(PropertyEntity):
    """A property entity that shows what the entry's :class:`ReadinessTracker` found."""

    feature = Feature.BOOKINGS

    def __init__(
        self, coordinator: PropertySourceCoordinator[Any], prop: Property, key: str, tracker: ReadinessTracker
    ) -> None:
        """Attach to ``prop``'s device; read ``tracker``."""
        super().__init__(coordinator, prop.id, key)
        self._tracker = tracker

    @property
    def readiness(self) -> Readiness | None:
        """The property's readiness at the last check."""
        return self._tracker.state(self.property_id)

    @property
    def available(self) -> bool:
        """Unavailable until the first check."""
        return super().available and self.readiness is not None

    def _state_source(self) -> object:
        return (super()._state_source(), self.readiness)

    async def async_added_to_hass(self) -> None:
        """Also update after each readiness check that changed something."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_readiness(self.coordinator.config_entry.entry_id), self._async_checked
            )
        )

    @callback
    def _async_checked(self) -> None:
        self._handle_coordinator_update()


class ReadyForNextGuestSensor(_ReadinessEntity, BinarySensorEntity):
    """On when everything the next arrival needs is in place; ``blocking`` lists what is not."""

    _attr_translation_key = "ready_for_next_guest"

    def __init__(
        self, coordinator: PropertySourceCoordinator[Any], prop: Property, tracker: ReadinessTracker
    ) -> None:
        """Create the sensor of ``prop``."""
        super().__init__(coordinator, prop, "ready_for_next_guest", tracker)

    @property
    def is_on(self) -> bool | None:
        """Nothing blocks."""
        readiness = self.readiness
        return readiness.ready if readiness is not None else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """What blocks (``reason: subject``), the reasons alone, and the arrival it is about."""
        readiness = self.readiness
        if readiness is None:
            return {}
        arrival = readiness.arrival
        return {
            "blocking": [str(blocker) for blocker in readiness.blocking],
            "blocking_reasons": sorted({blocker.reason for blocker in readiness.blocking}),
            "booking_id": arrival.id if arrival else None,
            "check_in": arrival.check_in.isoformat() if arrival else None,
        }


class GuestsRegisteredSensor(_ReadinessEntity, SensorEntity):
    """Guests registered in Kasify's check-in for the next arrival within 48 h (``expected`` as attribute).

    Unknown when no one arrives within 48 hours; unavailable while the check-in is not known (not read, or an
    answer not understood: never shown as registered).
    """

    _attr_translation_key = "guests_registered"

    def __init__(
        self, coordinator: PropertySourceCoordinator[Any], prop: Property, tracker: ReadinessTracker
    ) -> None:
        """Create the sensor of ``prop``."""
        super().__init__(coordinator, prop, "guests_registered", tracker)

    @property
    def available(self) -> bool:
        """Unavailable while the registration of an arrival within 48 h is not known."""
        if not super().available:
            return False
        readiness = self.readiness
        registration = readiness.registration if readiness is not None else None
        return registration is None or (registration.understood and registration.registered is not None)

    @property
    def native_value(self) -> int | None:
        """How many guests are registered."""
        readiness = self.readiness
        registration = readiness.registration if readiness is not None else None
        return registration.registered if registration is not None else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """How many are expected, the check-in's status, and the arrival it is about."""
        readiness = self.readiness
        registration = readiness.registration if readiness is not None else None
        if readiness is None or registration is None or readiness.arrival is None:
            return {}
        return {
            "expected": registration.expected,
            "status": registration.status,
            "booking_id": registration.booking_id,
            "check_in": readiness.arrival.check_in.isoformat(),
        }
