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
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .api.models import Booking, Property, SmartLock
from .api.nuki import NukiSmartLock
from .api.remotelock import RemoteLockLock
from .coordinator import (
    FeedCoordinator,
    FeedStatus,
    KasifyConfigEntry,
    KasifyCoordinator,
    NukiCoordinator,
    PropertySourceCoordinator,
    RemoteLockCoordinator,
)
from .entity import (
    KasifyLockEntity,
    KasifyPropertyEntity,
    NukiLockEntity,
    PropertyEntity,
    RemoteLockEntity,
    async_add_entities_dynamically,
    async_add_nuki_entities,
    async_add_remotelock_entities,
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


class NukiBatterySensor(NukiLockEntity, SensorEntity):
    """Battery level of a Nuki lock (only created for models that report a percentage)."""

    _attr_device_class = SensorDeviceClass.BATTERY
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: NukiCoordinator, lock: NukiSmartLock) -> None:
        """Create the battery sensor of ``lock``."""
        super().__init__(coordinator, lock, "battery")

    @property
    def native_value(self) -> int | None:
        """Battery percentage."""
        lock = self.nuki_lock
        return lock.battery_charge if lock else None


class RemoteLockBatterySensor(RemoteLockEntity, SensorEntity):
    """Battery level of a RemoteLock lock (``power_level``; not created for hard-wired locks)."""

    _attr_device_class = SensorDeviceClass.BATTERY
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: RemoteLockCoordinator, lock: RemoteLockLock) -> None:
        """Create the battery sensor of ``lock``."""
        super().__init__(coordinator, lock, "battery")

    @property
    def native_value(self) -> int | None:
        """Battery percentage."""
        lock = self.remotelock
        return lock.battery_level if lock else None


def _remotelock_sensors(coordinator: RemoteLockCoordinator, lock: RemoteLockLock) -> list[SensorEntity]:
    if lock.power_source == "hardwire" or lock.battery_level is None:
        return []
    return [RemoteLockBatterySensor(coordinator, lock)]


class FeedSyncSensor(CoordinatorEntity[FeedCoordinator], SensorEntity):
    """When an iCal feed last synced; its status, last error and event count as attributes."""

    _attr_has_entity_name = True
    _attr_translation_key = "feed_sync"
    _attr_device_class = SensorDeviceClass.TIMESTAMP
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: FeedCoordinator, status: FeedStatus) -> None:
        """Create the sensor of one feed, on its property's device."""
        super().__init__(coordinator)
        self.feed_id = status.feed_id
        identifier = coordinator.kasify.property_identifier(status.property_id)
        self._attr_unique_id = f"{identifier[1]}-feed_{status.slug}"
        self._attr_device_info = DeviceInfo(identifiers={identifier})
        self._attr_translation_placeholders = {"feed": status.name}

    @property
    def _status(self) -> FeedStatus | None:
        return (self.coordinator.data or {}).get(self.feed_id)

    @property
    def available(self) -> bool:
        """Available while the feed is configured (a failing feed shows its error, not unavailable)."""
        return super().available and self._status is not None

    @property
    def native_value(self) -> datetime | None:
        """The last successful sync."""
        status = self._status
        return status.last_success if status else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """Status, last error and number of events (never the feed URL: it embeds a secret)."""
        status = self._status
        if status is None:
            return {}
        return {
            "status": status.status,
            "last_error": status.last_error,
            "events": status.event_count,
            "channel": status.channel,
            "added_in_options": status.extra,
        }


@callback
def _async_add_feed_sensors(
    entry: KasifyConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """A sync sensor for every feed, now and whenever feeds are added (removed ones go with the options)."""
    feeds = entry.runtime_data.feeds
    if feeds is None:
        return
    known: set[str] = set()

    registry = er.async_get(feeds.hass)

    @callback
    def _add_new() -> None:
        current = feeds.data or {}
        new = [
            FeedSyncSensor(feeds, status)
            for key, status in current.items()
            if key not in known and status.property_id in feeds.kasify.data.properties
        ]
        known.update(sensor.feed_id for sensor in new)
        known.intersection_update(current)
        if new:
            async_add_entities(new)
        # A feed removed from Kasify or the options takes its sensor with it.
        wanted = {
            f"{feeds.kasify.property_identifier(status.property_id)[1]}-feed_{status.slug}"
            for status in current.values()
        }
        for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
            if "-feed_" in registered.unique_id and registered.unique_id not in wanted:
                registry.async_remove(registered.entity_id)

    _add_new()
    entry.async_on_unload(feeds.async_add_listener(_add_new))


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
    _async_add_feed_sensors(entry, async_add_entities)
    async_add_nuki_entities(
        entry,
        async_add_entities,
        lambda coordinator, lock: [NukiBatterySensor(coordinator, lock)]
        if lock.battery_charge is not None
        else [],
    )
    async_add_remotelock_entities(entry, async_add_entities, _remotelock_sensors)
