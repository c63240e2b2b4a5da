"""Sensors: current guest, next check-in and open tasks per property; lock batteries; iCal feed syncs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import partial
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
from homeassistant.util import dt as dt_util

from .api.models import Booking, Feature, Property
from .coordinator import KasifyConfigEntry, LockView, PropertySourceCoordinator
from .entity import (
    KasifyEntity,
    LockCoordinator,
    LockDeviceEntity,
    PropertyEntity,
    async_add_lock_entities,
    async_add_property_entities,
)
from .providers.kasify_feeds import FeedCoordinator, FeedStatus
from .readiness_entities import GuestsRegisteredSensor, readiness_of
from .scale import add_in_slices
from .stay_sensor import StayStateSensor

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


class CurrentGuestSensor(PropertyEntity, SensorEntity):
    """Name of the guest in the house now; unknown when the property is empty."""

    _attr_translation_key = "current_guest"
    feature = Feature.BOOKINGS

    def __init__(self, coordinator: PropertySourceCoordinator[Any], prop: Property) -> None:
        """Create the current-guest sensor of ``prop``."""
        super().__init__(coordinator, prop.id, "current_guest")

    def _booking(self) -> Booking | None:
        return self.coordinator.current_stay(self.property_id, dt_util.utcnow())

    @property
    def native_value(self) -> str | None:
        """The guest's name."""
        booking = self._booking()
        return booking.guest_name if booking else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The stay's id, dates, guest count and channel."""
        return _booking_attributes(self._booking())


class NextCheckInSensor(PropertyEntity, SensorEntity):
    """When the next guest arrives."""

    _attr_device_class = SensorDeviceClass.TIMESTAMP
    _attr_translation_key = "next_check_in"
    feature = Feature.BOOKINGS

    def __init__(self, coordinator: PropertySourceCoordinator[Any], prop: Property) -> None:
        """Create the next-check-in sensor of ``prop``."""
        super().__init__(coordinator, prop.id, "next_check_in")

    def _booking(self) -> Booking | None:
        return self.coordinator.next_stay(self.property_id, dt_util.utcnow())

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


class OpenTasksSensor(PropertyEntity, SensorEntity):
    """How many tasks (or, as the source calls them, tickets) of the property are pending or in progress."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, coordinator: PropertySourceCoordinator[Any], prop: Property) -> None:
        """Create the open-tasks sensor of ``prop``, named as its source names its tasks."""
        key = f"open_{coordinator.task_noun}"
        super().__init__(coordinator, prop.id, key)
        self._attr_translation_key = key
        self.feature = coordinator.task_noun

    @property
    def native_value(self) -> int:
        """Number of open tasks."""
        return len(self.coordinator.data.tasks.get(self.property_id, ()))

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The open tasks, soonest due first; the states not known (not counted), when there are any."""
        unknown = self.coordinator.unknown_task_states(self.property_id)
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
            ],
            **({"unknown_states": dict(unknown)} if unknown else {}),
        }


class LockBatterySensor(LockDeviceEntity, SensorEntity):
    """Battery level of a lock (named by its device class; only for locks that report a percentage)."""

    _attr_device_class = SensorDeviceClass.BATTERY
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: LockCoordinator, view: LockView) -> None:
        """Create the battery sensor of the lock of ``view``."""
        super().__init__(coordinator, view, "battery")

    @property
    def native_value(self) -> int | None:
        """Battery percentage."""
        view = self.view
        return view.battery_level if view else None


class FeedSyncSensor(KasifyEntity[FeedCoordinator], SensorEntity):
    """When an iCal feed last synced; its status, last error and event count as attributes."""

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

    def _state_source(self) -> object:
        """Its feed's status only: a refresh of other feeds writes nothing here."""
        return self._status

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


def _feed_sensors(feeds: FeedCoordinator, status: FeedStatus) -> list[FeedSyncSensor]:
    return [FeedSyncSensor(feeds, status)]


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
            status
            for key, status in current.items()
            if key not in known and status.property_id in feeds.kasify.data.properties
        ]
        known.update(status.feed_id for status in new)
        known.intersection_update(current)
        sensors = [partial(_feed_sensors, feeds, status) for status in new]
        add_in_slices(feeds.hass, entry, async_add_entities, sensors)
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
    guests: list[SensorEntity] = (
        [
            CurrentGuestSensor(coordinator, prop),
            NextCheckInSensor(coordinator, prop),
            StayStateSensor(coordinator, prop),
        ]
        if coordinator.has_stays
        else []
    )
    if (tracker := readiness_of(coordinator)) is not None:
        guests.append(GuestsRegisteredSensor(coordinator, prop, tracker))
    return [*guests, OpenTasksSensor(coordinator, prop)]


def _lock_entities(coordinator: LockCoordinator, view: LockView) -> Iterable[SensorEntity]:
    # Mains-powered doors and hard-wired locks report no battery: no sensor rather than a forever-unknown one.
    return [LockBatterySensor(coordinator, view)] if view.battery_level is not None else []


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up sensors for every property, lock and iCal feed, now and as they appear."""
    async_add_property_entities(entry, async_add_entities, _property_entities)
    async_add_lock_entities(entry, async_add_entities, _lock_entities)
    _async_add_feed_sensors(entry, async_add_entities)
