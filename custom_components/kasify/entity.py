"""Base entities: a property's, and a lock's (whatever account shows it), and how they are added.

Platform modules describe their entities (``EntityDescription`` with ``value_fn`` / ``exists_fn``) over these
bases; nothing here or there knows a vendor by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from . import compat
from .api.models import Booking, Property
from .const import DOMAIN, PROPERTY_SOURCE_MANUFACTURERS
from .coordinator import (
    ApiCoordinator,
    KasifyConfigEntry,
    LockView,
    PropertySourceCoordinator,
    ProviderCoordinator,
)
from .links import property_device
from .placement import current_property, lock_device_name
from .scale import add_in_slices, one_pass
from .stays import signal_stay

_UNSET: Any = object()

type LockCoordinator = PropertySourceCoordinator[Any] | ProviderCoordinator[Any, Any]


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


class PropertyEntity(KasifyEntity[PropertySourceCoordinator[Any]]):
    """An entity of one property device, for any property source.

    Sources with guest stays (Kasify) also update it at check-in and check-out instants, which change
    time-derived state. An entity that reads a feature of the source (bookings, tasks, ...) names it in
    ``feature``, and is unavailable while that feature is off (not shown as empty).
    """

    feature: str | None = None

    def __init__(self, coordinator: PropertySourceCoordinator[Any], property_id: str, key: str) -> None:
        """Attach to the property's device; the unique id never changes."""
        super().__init__(coordinator)
        self.property_id = property_id
        identifier = coordinator.property_identifier(property_id)
        self._attr_unique_id = f"{identifier[1]}-{key}"
        prop = coordinator.data.properties[property_id]
        self._attr_device_info = DeviceInfo(
            identifiers={identifier},
            name=prop.name,
            manufacturer=PROPERTY_SOURCE_MANUFACTURERS[coordinator.kind],
            model="Property",
            suggested_area=prop.name,
        )

    @property
    def available(self) -> bool:
        """Unavailable when the API is down, the property is gone or the entity's feature is off."""
        return (
            super().available
            and self.property_id in self.coordinator.data.properties
            and (self.feature is None or self.coordinator.feature_off(self.feature) is None)
        )

    @property
    def source_property(self) -> Property | None:
        """The property, if it still exists."""
        prop: Property | None = self.coordinator.data.properties.get(self.property_id)
        return prop

    def _state_source(self) -> object:
        return self.coordinator.data.property_slice(self.property_id)

    async def async_added_to_hass(self) -> None:
        """Also update at check-in / check-out instants (sources with stays)."""
        await super().async_added_to_hass()
        if self.coordinator.has_stays:
            self.async_on_remove(
                async_dispatcher_connect(
                    self.hass,
                    signal_stay(self.coordinator.config_entry.entry_id, self.property_id),
                    self._async_stay_event,
                )
            )

    @callback
    def _async_stay_event(
        self, event_type: str, booking: Booking, extra: Mapping[str, Any] | None = None
    ) -> None:
        self.async_write_ha_state()


class LockDeviceEntity(KasifyEntity[ApiCoordinator[Any]]):
    """An entity of a lock device, from the :class:`LockView` of the account that shows the lock.

    A provider account (Nuki Web, UniFi Access, RemoteLock) shows the locks it controls; a Kasify account
    shows, read-only, the smart locks no provider account covers. The device is linked to its property and
    named after it (``placement.py``).
    """

    coordinator: LockCoordinator

    def __init__(self, coordinator: LockCoordinator, view: LockView, key: str) -> None:
        """Attach to the lock's device (identifier: its device key)."""
        super().__init__(coordinator)
        self.device_key = view.device_key
        self._attr_unique_id = f"{view.unique_id_base}-{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, view.device_key)},
            manufacturer=view.manufacturer,
            model=view.model,
            serial_number=view.serial_number,
        )
        if view.sw_version is not None:
            self._attr_device_info["sw_version"] = view.sw_version
        hass = coordinator.hass
        identifier = coordinator.lock_parent(view.device_key)
        if (parent := property_device(hass, identifier)) is not None and identifier is not None:
            # Linked now if the property's device exists; otherwise when links are next synchronised.
            compat.set_via_device(self._attr_device_info, parent, identifier)
        else:
            # Not known yet (its property source still loading): keep the name it has under its property.
            parent = current_property(hass, view.device_key, coordinator.config_entry.entry_id)
        self._attr_device_info["name"] = lock_device_name(view.name, parent.name if parent else None)

    @property
    def view(self) -> LockView | None:
        """The lock as it is now, if the account still shows it."""
        return self.coordinator.lock_views.get(self.device_key)

    @property
    def available(self) -> bool:
        """Unavailable when the API is down or the lock is gone."""
        return super().available and self.device_key in self.coordinator.lock_views

    def _state_source(self) -> object:
        return self.view


type PropertyFactory = Callable[[PropertySourceCoordinator[Any], Property], Iterable[Entity]]
type LockFactory = Callable[[LockCoordinator, LockView], Iterable[Entity]]


@callback
def async_add_property_entities(
    entry: KasifyConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback, factory: PropertyFactory
) -> None:
    """Entities for every property of a property source, now and for new ones after each refresh.

    A property that disappears is forgotten (its device is removed by the coordinator), so if it comes back
    its entities are added again.
    """
    coordinator = entry.runtime_data.coordinator
    if not isinstance(coordinator, PropertySourceCoordinator):
        return
    known: set[str] = set()

    @callback
    def _add_new() -> None:
        properties = coordinator.data.properties
        known.intersection_update(properties)
        new: list[Callable[[], Iterable[Entity]]] = []
        for property_id, prop in properties.items():
            if property_id not in known:
                known.add(property_id)
                new.append(partial(_property_group, factory, coordinator, prop))
        add_in_slices(coordinator.hass, entry, async_add_entities, new)

    _add_new()
    entry.async_on_unload(coordinator.async_add_listener(_add_new))


@callback
def async_add_lock_entities(
    entry: KasifyConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback, factory: LockFactory
) -> None:
    """Entities for every lock the entry shows, now and for locks that appear later.

    A lock that stops being shown (gone upstream, or now shown by its provider account) is forgotten and its
    entities of this entry leave the registry; if it comes back they are added again.
    """
    coordinator = entry.runtime_data.coordinator
    registry = er.async_get(coordinator.hass)
    known: dict[str, str] = {}  # device key → unique id base
    removed: set[str] = set()  # unique id bases whose entities are gone (looked for once, not every refresh)

    @callback
    def _add_new() -> None:
        with one_pass(coordinator.hass):
            _add_views(coordinator.lock_views)

    @callback
    def _add_views(views: Mapping[str, LockView]) -> None:
        gone = {base for key, base in known.items() if key not in views} | coordinator.hidden_lock_bases()
        for key in [key for key in known if key not in views]:
            del known[key]
        _remove_entities(registry, entry, gone - removed)
        removed.update(gone)
        new: list[Callable[[], Iterable[Entity]]] = []
        for key, view in views.items():
            if key not in known:
                known[key] = view.unique_id_base
                removed.discard(view.unique_id_base)
                new.append(partial(_lock_group, factory, coordinator, view))
        add_in_slices(coordinator.hass, entry, async_add_entities, new)

    _add_new()
    entry.async_on_unload(coordinator.async_add_listener(_add_new))


def _property_group(
    factory: PropertyFactory, coordinator: PropertySourceCoordinator[Any], prop: Property
) -> Iterable[Entity]:
    """The property's entities, made when their turn comes (none if it is gone by then)."""
    return factory(coordinator, prop) if prop.id in coordinator.data.properties else ()


def _lock_group(factory: LockFactory, coordinator: LockCoordinator, view: LockView) -> Iterable[Entity]:
    """The lock's entities, made when their turn comes (none if it is no longer shown by then)."""
    return factory(coordinator, view) if view.device_key in coordinator.lock_views else ()


def _remove_entities(registry: er.EntityRegistry, entry: KasifyConfigEntry, bases: set[str]) -> None:
    """Drop this entry's entities of the locks with these unique id bases."""
    if not bases:
        return
    for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
        unique_id = registered.unique_id  # "<base>-<key>": is any part before a "-" one of the bases?
        if any(unique_id[:at] in bases for at, char in enumerate(unique_id) if char == "-"):
            registry.async_remove(registered.entity_id)
