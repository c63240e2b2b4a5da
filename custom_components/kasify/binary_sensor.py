"""Binary sensors: property occupancy; lock state (read-only locks), door, battery, connectivity."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .api.models import Feature, LockStatus, Property
from .coordinator import KasifyConfigEntry, LockView, PropertySourceCoordinator, ProviderCoordinator
from .entity import (
    LockCoordinator,
    LockDeviceEntity,
    PropertyEntity,
    async_add_lock_entities,
    async_add_property_entities,
)
from .readiness_entities import ReadyForNextGuestSensor, readiness_of

PARALLEL_UPDATES = 0


class OccupiedSensor(PropertyEntity, BinarySensorEntity):
    """On while a guest's stay covers the current time (sources with guest stays)."""

    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY
    _attr_translation_key = "occupied"
    feature = Feature.BOOKINGS

    def __init__(self, coordinator: PropertySourceCoordinator[Any], prop: Property) -> None:
        """Create the occupancy sensor of ``prop``."""
        super().__init__(coordinator, prop.id, "occupied")

    @property
    def is_on(self) -> bool:
        """Whether a guest is in the house now."""
        return self.coordinator.current_stay(self.property_id, dt_util.utcnow()) is not None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """When the last stay ended and whose it was: with the current and next stays, a day's turnover."""
        last = self.coordinator.last_stay(self.property_id, dt_util.utcnow())
        if last is None:
            return {}
        return {"last_check_out": last.check_out.isoformat(), "last_guest_name": last.guest_name}


@dataclass(frozen=True, kw_only=True)
class LockBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor of a lock: its value from the lock's view, and which locks have it."""

    is_on_fn: Callable[[LockView], bool | None]
    exists_fn: Callable[[LockCoordinator, LockView], bool]


def _unlocked(view: LockView) -> bool | None:
    if view.status is LockStatus.LOCKED:
        return False
    if view.status in (LockStatus.UNLOCKED, LockStatus.OPEN):
        return True
    return None


LOCK_BINARY_SENSORS: tuple[LockBinarySensorDescription, ...] = (
    # The state of a lock shown read-only (no account here can act on it): on = unlocked.
    LockBinarySensorDescription(
        key="lock",
        name=None,
        device_class=BinarySensorDeviceClass.LOCK,
        is_on_fn=_unlocked,
        exists_fn=lambda coordinator, _view: not isinstance(coordinator, ProviderCoordinator),
    ),
    LockBinarySensorDescription(
        key="door",
        device_class=BinarySensorDeviceClass.DOOR,
        is_on_fn=lambda view: view.door_open,
        exists_fn=lambda _coordinator, view: view.has_door_sensor,
    ),
    LockBinarySensorDescription(
        key="battery_critical",
        device_class=BinarySensorDeviceClass.BATTERY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda view: view.battery_critical,
        exists_fn=lambda _coordinator, view: view.has_battery_critical,
    ),
    LockBinarySensorDescription(
        key="battery_charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda view: view.battery_charging,
        exists_fn=lambda _coordinator, view: view.battery_charging is not None,
    ),
    LockBinarySensorDescription(
        key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda view: view.connected,
        exists_fn=lambda _coordinator, view: view.connected is not None,
    ),
)


class LockBinarySensor(LockDeviceEntity, BinarySensorEntity):
    """A binary sensor of a lock."""

    entity_description: LockBinarySensorDescription

    def __init__(
        self, coordinator: LockCoordinator, view: LockView, description: LockBinarySensorDescription
    ) -> None:
        """Create the sensor described by ``description`` for the lock of ``view``."""
        super().__init__(coordinator, view, description.key)
        self.entity_description = description

    @property
    def is_on(self) -> bool | None:
        """From the lock's latest view; unknown while the lock is moving or jammed."""
        view = self.view
        return None if view is None else self.entity_description.is_on_fn(view)


def _property_entities(
    coordinator: PropertySourceCoordinator[Any], prop: Property
) -> Iterable[BinarySensorEntity]:
    entities: list[BinarySensorEntity] = [OccupiedSensor(coordinator, prop)] if coordinator.has_stays else []
    if (tracker := readiness_of(coordinator)) is not None:
        entities.append(ReadyForNextGuestSensor(coordinator, prop, tracker))
    return entities


def _lock_entities(coordinator: LockCoordinator, view: LockView) -> Iterable[BinarySensorEntity]:
    return [
        LockBinarySensor(coordinator, view, description)
        for description in LOCK_BINARY_SENSORS
        if description.exists_fn(coordinator, view)
    ]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up binary sensors for every property and lock, now and as they appear."""
    async_add_property_entities(entry, async_add_entities, _property_entities)
    async_add_lock_entities(entry, async_add_entities, _lock_entities)
