"""Sensors: current guest, next check-in and open tasks per property; battery of Kasify smart locks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .api.models import Booking, Property, SmartLock
from .coordinator import KasifyConfigEntry, KasifyCoordinator, PropertySourceCoordinator
from .entity import (
    KasifyLockEntity,
    KasifyPropertyEntity,
    PropertyEntity,
    async_add_entities_dynamically,
)

PARALLEL_UPDATES = 0


def _booking_attributes(booking: Booking | None) -> dict[str, Any]:
    """Attributes an automation needs about a stay; never the guest's e-mail or phone."""
    if booking is None:
        return {}
    return {
        "booking_id": booking.id,
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "guests": booking.guests_count,
        "channel": booking.channel,
    }


class KasifyCurrentGuestSensor(KasifyPropertyEntity, SensorEntity):
    """Name of the guest in the house now; unknown when the property is empty."""

    _attr_translation_key = "current_guest"

    def __init__(self, coordinator: KasifyCoordinator, prop: Property) -> None:
        """Create the current-guest sensor of ``prop``."""
        super().__init__(coordinator, prop.id, "current_guest")

    def _booking(self) -> Booking | None:
        return self.coordinator.data.current_booking(self.property_id, dt_util.utcnow())

    @property
    def native_value(self) -> str | None:
        """The guest's name."""
        booking = self._booking()
        return booking.guest_name if booking else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The stay's id, dates, guest count and channel."""
        return _booking_attributes(self._booking())


class KasifyNextCheckInSensor(KasifyPropertyEntity, SensorEntity):
    """When the next guest arrives."""

    _attr_device_class = SensorDeviceClass.TIMESTAMP
    _attr_translation_key = "next_check_in"

    def __init__(self, coordinator: KasifyCoordinator, prop: Property) -> None:
        """Create the next-check-in sensor of ``prop``."""
        super().__init__(coordinator, prop.id, "next_check_in")

    def _booking(self) -> Booking | None:
        return self.coordinator.data.next_booking(self.property_id, dt_util.utcnow())

    @property
    def native_value(self) -> datetime | None:
        """The next check-in instant."""
        booking = self._booking()
        return booking.check_in if booking else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The arriving guest and stay."""
        booking = self._booking()
        if booking is None:
            return {}
        return {"guest_name": booking.guest_name, **_booking_attributes(booking)}


class OpenTasksSensor(PropertyEntity[PropertySourceCoordinator[Any]], SensorEntity):
    """How many tasks (Kasify) or tickets (casavi) of the property are pending or in progress."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, coordinator: PropertySourceCoordinator[Any], prop: Property) -> None:
        """Create the open-tasks sensor of ``prop``; casavi calls its tasks tickets."""
        key = "open_tasks" if isinstance(coordinator, KasifyCoordinator) else "open_tickets"
        super().__init__(coordinator, prop.id, key)
        self._attr_translation_key = key

    @property
    def native_value(self) -> int:
        """Number of open tasks."""
        return len(self.coordinator.data.tasks.get(self.property_id, ()))

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The open tasks, soonest due first."""
        tasks = sorted(
            self.coordinator.data.tasks.get(self.property_id, ()),
            key=lambda task: (task.due_at is None, task.due_at or dt_util.utcnow()),
        )
        return {
            "tasks": [
                {
                    "id": task.id,
                    "title": task.title,
                    "type": task.task_type,
                    "status": task.status.value,
                    "due": task.due_at.isoformat() if task.due_at else None,
                }
                for task in tasks
            ]
        }


class KasifyLockBatterySensor(KasifyLockEntity, SensorEntity):
    """Battery level of a Kasify smart lock (named by its device class)."""

    _attr_device_class = SensorDeviceClass.BATTERY
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: KasifyCoordinator, lock: SmartLock) -> None:
        """Create the battery sensor of ``lock``."""
        super().__init__(coordinator, lock, "battery")

    @property
    def native_value(self) -> int | None:
        """Battery percentage."""
        lock = self.lock
        return lock.battery_level if lock else None


def _property_entities(coordinator: PropertySourceCoordinator[Any], prop: Property) -> Iterable[SensorEntity]:
    if not isinstance(coordinator, KasifyCoordinator):
        return [OpenTasksSensor(coordinator, prop)]
    return [
        KasifyCurrentGuestSensor(coordinator, prop),
        KasifyNextCheckInSensor(coordinator, prop),
        OpenTasksSensor(coordinator, prop),
    ]


def _lock_entities(coordinator: KasifyCoordinator, lock: SmartLock) -> Iterable[SensorEntity]:
    # Mains-powered doors (UniFi) report no battery: no sensor rather than a forever-unknown one.
    return [KasifyLockBatterySensor(coordinator, lock)] if lock.battery_level is not None else []


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up sensors for every property and Kasify smart lock, now and as they appear."""
    async_add_entities_dynamically(
        entry, async_add_entities, for_property=_property_entities, for_lock=_lock_entities
    )
