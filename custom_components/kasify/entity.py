"""Base entities for the Kasify integration."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from . import compat
from .api.models import Booking, Property, SmartLock
from .api.nuki import NukiSmartLock
from .api.remotelock import RemoteLockLock
from .api.unifi_access import UnifiDoor
from .const import DOMAIN, SOURCE_MANUFACTURERS, VENDOR_MANUFACTURERS
from .coordinator import (
    KasifyConfigEntry,
    KasifyCoordinator,
    NukiCoordinator,
    PropertySourceCoordinator,
    RemoteLockCoordinator,
    UnifiAccessCoordinator,
    lock_identifier,
    property_device,
    property_identifier,
    provider_lock_keys,
)
from .stays import signal_stay

_UNSET: Any = object()


class KasifyEntity[CoordinatorT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """Base entity: named by translation key, and writes state only when its own data changed."""

    _attr_has_entity_name = True
    _last_written: object = _UNSET

    def _state_source(self) -> object:
        """The slice of coordinator data this entity's state is derived from (subclasses narrow it)."""
        return self.coordinator.data

    @callback
    def _handle_coordinator_update(self) -> None:
        source = (self.available, self._state_source())
        if source == self._last_written:
            return
        self._last_written = source
        super()._handle_coordinator_update()

    async def async_added_to_hass(self) -> None:
        """Remember what was written first, so the next unchanged refresh writes nothing."""
        await super().async_added_to_hass()
        self._last_written = (self.available, self._state_source())


class PropertyEntity[CoordinatorT: PropertySourceCoordinator[Any]](KasifyEntity[CoordinatorT]):
    """An entity of one property device, for any property source."""

    def __init__(self, coordinator: CoordinatorT, property_id: str, key: str) -> None:
        """Attach to the property's device; the unique id never changes."""
        super().__init__(coordinator)
        self.property_id = property_id
        identifier = coordinator.property_identifier(property_id)
        self._attr_unique_id = f"{identifier[1]}-{key}"
        prop = coordinator.data.properties[property_id]
        self._attr_device_info = DeviceInfo(
            identifiers={identifier},
            name=prop.name,
            manufacturer=SOURCE_MANUFACTURERS[coordinator.source],
            model="Property",
            suggested_area=prop.name,
        )

    @property
    def available(self) -> bool:
        """Unavailable when the API is down or the property is gone."""
        return super().available and self.property_id in self.coordinator.data.properties

    @property
    def source_property(self) -> Property | None:
        """The property, if it still exists."""
        prop: Property | None = self.coordinator.data.properties.get(self.property_id)
        return prop

    def _state_source(self) -> object:
        return self.coordinator.data.property_slice(self.property_id)


class KasifyPropertyEntity(PropertyEntity[KasifyCoordinator]):
    """An entity of a Kasify property, whose state also changes at check-in and check-out instants."""

    async def async_added_to_hass(self) -> None:
        """Also update at check-in / check-out instants, which change time-derived state."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_stay(self.coordinator.config_entry.entry_id, self.property_id),
                self._async_stay_event,
            )
        )

    @callback
    def _async_stay_event(self, event_type: str, booking: Booking) -> None:
        self.async_write_ha_state()


class KasifyLockEntity(KasifyEntity[KasifyCoordinator]):
    """A read-only entity of a Kasify smart lock (shown when no provider account covers the lock)."""

    def __init__(self, coordinator: KasifyCoordinator, lock: SmartLock, key: str) -> None:
        """Attach to the lock's device, linked to its property."""
        super().__init__(coordinator)
        self.lock_id = lock.id
        self._attr_unique_id = f"kasify_lock_{lock.id}-{key}"
        prop = coordinator.data.properties.get(lock.property_id)
        self._attr_device_info = DeviceInfo(
            identifiers={lock_identifier(lock)},
            # "Front door" alone repeats across a portfolio; the property makes it unique and findable.
            name=f"{prop.name} {lock.name}" if prop else lock.name,
            manufacturer=VENDOR_MANUFACTURERS.get(lock.vendor, lock.vendor.title() or None),
            model="Door" if lock.vendor == "unifi" else "Smart lock",
            serial_number=lock.provider_lock_id,
        )
        parent = property_identifier(lock.property_id)
        compat.set_via_device(
            self._attr_device_info,
            compat.device_by_identifier(coordinator.hass, parent, coordinator.config_entry.entry_id),
            parent,
        )

    @property
    def lock(self) -> SmartLock | None:
        """The lock's latest status, if it still exists."""
        return self.coordinator.data.smart_locks.get(self.lock_id)

    @property
    def available(self) -> bool:
        """Unavailable when the API is down or the lock is gone."""
        return super().available and self.lock_id in self.coordinator.data.smart_locks

    def _state_source(self) -> object:
        return self.coordinator.data.smart_locks.get(self.lock_id)


type PropertyFactory = Callable[[PropertySourceCoordinator[Any], Property], Iterable[Entity]]


@callback
def async_add_entities_dynamically(
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    *,
    for_property: PropertyFactory | None = None,
    for_lock: Callable[[KasifyCoordinator, SmartLock], Iterable[Entity]] | None = None,
) -> None:
    """Add entities for every property and lock now, and for new ones after each refresh.

    An id that disappears is forgotten (its device is removed by the coordinator), so if it comes back its
    entities are added again. ``for_lock`` only applies to Kasify accounts (the source of smart-lock records).
    """
    coordinator = entry.runtime_data.coordinator
    if not isinstance(coordinator, PropertySourceCoordinator):
        return
    lock_coordinator = coordinator if isinstance(coordinator, KasifyCoordinator) else None
    known_properties: set[str] = set()
    known_locks: set[str] = set()

    @callback
    def _add_new() -> None:
        data = coordinator.data
        new: list[Entity] = []
        if for_property is not None:
            known_properties.intersection_update(data.properties)
            for property_id, prop in data.properties.items():
                if property_id not in known_properties:
                    known_properties.add(property_id)
                    new.extend(for_property(coordinator, prop))
        if for_lock is not None and lock_coordinator is not None:
            # A lock a provider account controls is shown by that account, never twice.
            covered = provider_lock_keys(lock_coordinator.hass)
            locks = {
                k: v for k, v in lock_coordinator.data.smart_locks.items() if v.device_key not in covered
            }
            _remove_read_only_entities(entry, set(lock_coordinator.data.smart_locks) - set(locks))
            known_locks.intersection_update(locks)
            for lock_id, lock in locks.items():
                if lock_id not in known_locks:
                    known_locks.add(lock_id)
                    new.extend(for_lock(lock_coordinator, lock))
        if new:
            async_add_entities(new)

    _add_new()
    entry.async_on_unload(coordinator.async_add_listener(_add_new))


class NukiLockEntity(KasifyEntity[NukiCoordinator]):
    """An entity of a lock controlled through a Nuki Web account, linked to its Kasify property."""

    def __init__(self, coordinator: NukiCoordinator, lock: NukiSmartLock, key: str) -> None:
        """Attach to the lock device (shared with the Kasify record of the same lock)."""
        super().__init__(coordinator)
        self.nuki_id = lock.id
        self.device_key = lock.device_key
        self._attr_unique_id = f"{lock.device_key}-{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, lock.device_key)},
            name=lock.name or None,
            manufacturer="Nuki",
            model=lock.model,
            serial_number=str(lock.id),
            sw_version=lock.firmware,
        )
        _hang_under_property(self._attr_device_info, coordinator, lock.device_key)

    @property
    def nuki_lock(self) -> NukiSmartLock | None:
        """The lock's latest state, if the account still has it."""
        return self.coordinator.data.locks.get(self.nuki_id)

    @property
    def available(self) -> bool:
        """Unavailable when the API is down or the lock is gone."""
        return super().available and self.nuki_id in self.coordinator.data.locks

    def _state_source(self) -> object:
        return self.coordinator.data.locks.get(self.nuki_id)


def _hang_under_property(
    info: DeviceInfo,
    coordinator: NukiCoordinator | UnifiAccessCoordinator | RemoteLockCoordinator,
    device_key: str,
) -> None:
    """Link a provider lock's device to its property's device when both are known (else at the next sync)."""
    parent = coordinator.lock_property(device_key)
    if parent is not None:
        compat.set_via_device(info, property_device(coordinator.hass, parent), parent)


@callback
def _remove_read_only_entities(entry: KasifyConfigEntry, lock_ids: set[str]) -> None:
    """Drop the Kasify read-only entities of locks a provider account now shows."""
    if not lock_ids:
        return
    registry = er.async_get(entry.runtime_data.coordinator.hass)
    prefixes = tuple(f"kasify_lock_{lock_id}-" for lock_id in lock_ids)
    for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
        if registered.unique_id.startswith(prefixes):
            registry.async_remove(registered.entity_id)


@callback
def _async_add_provider_entities[CoordinatorT: DataUpdateCoordinator[Any], ItemT](
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    coordinator_type: type[CoordinatorT],
    items: Callable[[CoordinatorT], Mapping[Any, ItemT]],
    factory: Callable[[CoordinatorT, ItemT], Iterable[Entity]],
) -> None:
    """Entities for every lock or door of a provider account, now and for ones that appear later."""
    coordinator: Any = entry.runtime_data.coordinator
    if not isinstance(coordinator, coordinator_type):
        return
    known: set[Any] = set()

    @callback
    def _add_new() -> None:
        current = items(coordinator)
        known.intersection_update(current)
        new: list[Entity] = []
        for key, item in current.items():
            if key not in known:
                known.add(key)
                new.extend(factory(coordinator, item))
        if new:
            async_add_entities(new)

    _add_new()
    entry.async_on_unload(coordinator.async_add_listener(_add_new))


@callback
def async_add_nuki_entities(
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[NukiCoordinator, NukiSmartLock], Iterable[Entity]],
) -> None:
    """Entities for every lock of a Nuki account, now and for locks that appear later."""
    _async_add_provider_entities(
        entry, async_add_entities, NukiCoordinator, lambda coordinator: coordinator.data.locks, factory
    )


class UnifiDoorEntity(KasifyEntity[UnifiAccessCoordinator]):
    """An entity of a door of a UniFi Access controller, linked to its Kasify property."""

    def __init__(self, coordinator: UnifiAccessCoordinator, door: UnifiDoor, key: str) -> None:
        """Attach to the door device (shared with the Kasify record of the same door)."""
        super().__init__(coordinator)
        self.door_id = door.id
        self.device_key = door.device_key
        self._attr_unique_id = f"{door.device_key}-{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, door.device_key)},
            name=door.name or None,
            manufacturer=VENDOR_MANUFACTURERS["unifi"],
            model="Door",
            serial_number=door.id,
        )
        _hang_under_property(self._attr_device_info, coordinator, door.device_key)

    @property
    def door(self) -> UnifiDoor | None:
        """The door's latest state, if the controller still has it."""
        return self.coordinator.data.doors.get(self.door_id)

    @property
    def available(self) -> bool:
        """Unavailable when the controller is unreachable or the door is gone."""
        return super().available and self.door_id in self.coordinator.data.doors

    def _state_source(self) -> object:
        return self.coordinator.data.doors.get(self.door_id)


@callback
def async_add_unifi_entities(
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[UnifiAccessCoordinator, UnifiDoor], Iterable[Entity]],
) -> None:
    """Entities for every door of a UniFi Access controller, now and for doors that appear later."""
    _async_add_provider_entities(
        entry, async_add_entities, UnifiAccessCoordinator, lambda coordinator: coordinator.data.doors, factory
    )


class RemoteLockEntity(KasifyEntity[RemoteLockCoordinator]):
    """An entity of a RemoteLock lock, linked to a property through its location."""

    def __init__(self, coordinator: RemoteLockCoordinator, lock: RemoteLockLock, key: str) -> None:
        """Attach to the lock device."""
        super().__init__(coordinator)
        self.lock_id = lock.id
        self.device_key = lock.device_key
        self._attr_unique_id = f"{lock.device_key}-{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, lock.device_key)},
            name=lock.name or None,
            manufacturer=VENDOR_MANUFACTURERS["remotelock"],
            model=lock.model_number or lock.type,
            serial_number=lock.serial_number,
        )
        _hang_under_property(self._attr_device_info, coordinator, lock.device_key)

    @property
    def remotelock(self) -> RemoteLockLock | None:
        """The lock's latest state, if the account still has it."""
        return self.coordinator.data.locks.get(self.lock_id)

    @property
    def available(self) -> bool:
        """Unavailable when the API is down or the lock is gone."""
        return super().available and self.lock_id in self.coordinator.data.locks

    def _state_source(self) -> object:
        return self.coordinator.data.locks.get(self.lock_id)


@callback
def async_add_remotelock_entities(
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[RemoteLockCoordinator, RemoteLockLock], Iterable[Entity]],
) -> None:
    """Entities for every lock of a RemoteLock account, now and for locks that appear later."""
    _async_add_provider_entities(
        entry, async_add_entities, RemoteLockCoordinator, lambda coordinator: coordinator.data.locks, factory
    )
