"""Binary sensors: property occupancy, and read-only state of Kasify smart locks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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

from .api.models import LockStatus, Property, SmartLock
from .api.nuki import NukiSmartLock
from .api.remotelock import RemoteLockLock
from .api.unifi_access import DoorPosition, UnifiDoor
from .coordinator import (
    KasifyConfigEntry,
    KasifyCoordinator,
    NukiCoordinator,
    PropertySourceCoordinator,
    RemoteLockCoordinator,
    UnifiAccessCoordinator,
)
from .entity import (
    KasifyLockEntity,
    KasifyPropertyEntity,
    NukiLockEntity,
    RemoteLockEntity,
    UnifiDoorEntity,
    async_add_entities_dynamically,
    async_add_nuki_entities,
    async_add_remotelock_entities,
    async_add_unifi_entities,
)

PARALLEL_UPDATES = 0


class KasifyOccupiedSensor(KasifyPropertyEntity, BinarySensorEntity):
    """On while a guest's stay covers the current time."""

    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY
    _attr_translation_key = "occupied"

    def __init__(self, coordinator: KasifyCoordinator, prop: Property) -> None:
        """Create the occupancy sensor of ``prop``."""
        super().__init__(coordinator, prop.id, "occupied")

    @property
    def is_on(self) -> bool:
        """Whether a guest is in the house now."""
        now = dt_util.utcnow()
        return self.coordinator.data.current_booking(self.property_id, now) is not None


@dataclass(frozen=True, kw_only=True)
class KasifyLockBinarySensorDescription(BinarySensorEntityDescription):
    """Describes a binary sensor of a Kasify smart lock."""

    is_on_fn: Callable[[SmartLock], bool | None]
    exists_fn: Callable[[SmartLock], bool] = lambda _lock: True


def _unlocked(lock: SmartLock) -> bool | None:
    status = lock.status
    if status in (LockStatus.LOCKED,):
        return False
    if status in (LockStatus.UNLOCKED, LockStatus.OPEN):
        return True
    return None


LOCK_BINARY_SENSORS: tuple[KasifyLockBinarySensorDescription, ...] = (
    KasifyLockBinarySensorDescription(
        key="lock",
        name=None,
        device_class=BinarySensorDeviceClass.LOCK,
        is_on_fn=_unlocked,
    ),
    KasifyLockBinarySensorDescription(
        key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda lock: not lock.offline,
    ),
    KasifyLockBinarySensorDescription(
        key="battery_charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda lock: lock.battery_charging,
        exists_fn=lambda lock: lock.battery_charging is not None,
    ),
)


class KasifyLockBinarySensor(KasifyLockEntity, BinarySensorEntity):
    """A binary sensor of a Kasify smart lock."""

    entity_description: KasifyLockBinarySensorDescription

    def __init__(
        self,
        coordinator: KasifyCoordinator,
        lock: SmartLock,
        description: KasifyLockBinarySensorDescription,
    ) -> None:
        """Create the sensor described by ``description`` for ``lock``."""
        super().__init__(coordinator, lock, description.key)
        self.entity_description = description

    @property
    def is_on(self) -> bool | None:
        """Derived from the lock's live status; unknown while the lock is moving or jammed."""
        lock = self.lock
        return None if lock is None else self.entity_description.is_on_fn(lock)


@dataclass(frozen=True, kw_only=True)
class NukiBinarySensorDescription(BinarySensorEntityDescription):
    """Describes a binary sensor of a Nuki lock."""

    is_on_fn: Callable[[NukiSmartLock], bool | None]
    exists_fn: Callable[[NukiSmartLock], bool] = lambda _lock: True


NUKI_BINARY_SENSORS: tuple[NukiBinarySensorDescription, ...] = (
    NukiBinarySensorDescription(
        key="door",
        device_class=BinarySensorDeviceClass.DOOR,
        is_on_fn=lambda lock: lock.door_open,
        exists_fn=lambda lock: lock.has_door_sensor,
    ),
    NukiBinarySensorDescription(
        key="battery_critical",
        device_class=BinarySensorDeviceClass.BATTERY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda lock: lock.battery_critical,
    ),
    NukiBinarySensorDescription(
        key="battery_charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda lock: lock.battery_charging,
        exists_fn=lambda lock: lock.battery_charging is not None,
    ),
    NukiBinarySensorDescription(
        key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda lock: lock.connected,
    ),
)


class NukiBinarySensor(NukiLockEntity, BinarySensorEntity):
    """A binary sensor of a Nuki lock."""

    entity_description: NukiBinarySensorDescription

    def __init__(
        self, coordinator: NukiCoordinator, lock: NukiSmartLock, description: NukiBinarySensorDescription
    ) -> None:
        """Create the sensor described by ``description`` for ``lock``."""
        super().__init__(coordinator, lock, description.key)
        self.entity_description = description

    @property
    def is_on(self) -> bool | None:
        """From the lock's latest state."""
        lock = self.nuki_lock
        return None if lock is None else self.entity_description.is_on_fn(lock)


def _nuki_entities(coordinator: NukiCoordinator, lock: NukiSmartLock) -> Iterable[BinarySensorEntity]:
    return [NukiBinarySensor(coordinator, lock, d) for d in NUKI_BINARY_SENSORS if d.exists_fn(lock)]


class UnifiDoorPositionSensor(UnifiDoorEntity, BinarySensorEntity):
    """The door position sensor (DPS) of a UniFi Access door: on = open."""

    _attr_device_class = BinarySensorDeviceClass.DOOR

    def __init__(self, coordinator: UnifiAccessCoordinator, door: UnifiDoor) -> None:
        """Create the door sensor of ``door`` (only doors with a position sensor get one)."""
        super().__init__(coordinator, door, "door")

    @property
    def is_on(self) -> bool | None:
        """Open; ``None`` when the sensor no longer reports."""
        door = self.door
        if door is None or door.position is None:
            return None
        return door.position is DoorPosition.OPEN


class RemoteLockConnectivitySensor(RemoteLockEntity, BinarySensorEntity):
    """Whether a RemoteLock lock is connected to RemoteLock now (``connected``)."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: RemoteLockCoordinator, lock: RemoteLockLock) -> None:
        """Create the connectivity sensor of ``lock``."""
        super().__init__(coordinator, lock, "connectivity")

    @property
    def is_on(self) -> bool | None:
        """From the lock's latest state."""
        lock = self.remotelock
        return None if lock is None else lock.connected


def _unifi_entities(coordinator: UnifiAccessCoordinator, door: UnifiDoor) -> Iterable[BinarySensorEntity]:
    return [UnifiDoorPositionSensor(coordinator, door)] if door.has_position_sensor else []


def _property_entities(
    coordinator: PropertySourceCoordinator[Any], prop: Property
) -> Iterable[BinarySensorEntity]:
    # Occupancy comes from guest stays, which only Kasify has.
    if isinstance(coordinator, KasifyCoordinator):
        return [KasifyOccupiedSensor(coordinator, prop)]
    return []


def _lock_entities(coordinator: KasifyCoordinator, lock: SmartLock) -> Iterable[BinarySensorEntity]:
    return [
        KasifyLockBinarySensor(coordinator, lock, description)
        for description in LOCK_BINARY_SENSORS
        if description.exists_fn(lock)
    ]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up binary sensors for every property and Kasify smart lock, now and as they appear."""
    async_add_entities_dynamically(
        entry, async_add_entities, for_property=_property_entities, for_lock=_lock_entities
    )
    async_add_nuki_entities(entry, async_add_entities, _nuki_entities)
    async_add_unifi_entities(entry, async_add_entities, _unifi_entities)
    async_add_remotelock_entities(
        entry,
        async_add_entities,
        lambda coordinator, lock: [RemoteLockConnectivitySensor(coordinator, lock)]
        if lock.connected is not None
        else [],
    )
