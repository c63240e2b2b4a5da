"""Where a lock device goes: under its property's device, named after the property, in the property's area.

A host with several rentals has a "Garaje" or a "Front door" at each of them; the lock device's name starts
with its property's name ("Casa Azul Garaje") unless the lock's own name already holds it, so every list and
the auto-generated dashboard say which property a lock belongs to. Entity ids are kept by the entity registry,
so renaming a device never changes them; a name the user gave the device in Home Assistant wins as always.

Property devices suggest an area named after the property (Home Assistant creates or reuses it when the
device is created). A lock device linked to a property takes the property's area when it has none of its own.
What the integration gave is remembered (``.storage/kasify.lock_areas``), so a choice the user makes later is
never undone: a lock the user moves elsewhere, or out of every area, stays there. A lock still in the area the
integration gave follows its property when the lock moves to another property or the property to another area.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from . import compat
from .const import DOMAIN

STORAGE_KEY: Final = f"{DOMAIN}.lock_areas"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10  # seconds: several locks placed in one pass are written once

_DATA_AREAS: HassKey[LockAreas] = HassKey(f"{DOMAIN}_lock_areas")


def lock_device_name(lock_name: str | None, property_name: str | None) -> str | None:
    """The lock's device name: the property's name, then the lock's, unless the lock's already names it."""
    if not property_name or not lock_name or property_name.casefold() in lock_name.casefold():
        return lock_name
    return f"{property_name} {lock_name}"


class LockAreas:
    """The area the integration gave each lock device (``None``: the device had an area of its own)."""

    def __init__(
        self, hass: HomeAssistant, store: Store[dict[str, Any]], given: dict[str, str | None]
    ) -> None:
        """Remember ``given`` (device id → area id), kept in ``store``."""
        self._hass = hass
        self._store = store
        self._given = given

    def area_for(self, device: dr.DeviceEntry, parent: dr.DeviceEntry) -> str | None:
        """The area to move the lock ``device`` (under ``parent``) to; None to leave it where it is."""
        target = parent.area_id
        if device.id not in self._given:
            if device.area_id is not None:
                self._remember(device.id, None)  # placed before the integration looked: the user's choice
                return None
            if target is None:
                return None  # the property has no area (yet): nothing to give, nothing decided
            self._remember(device.id, target)
            return target
        given = self._given[device.id]
        if given is None or device.area_id != given or target is None or target == given:
            return None
        self._remember(device.id, target)
        return target

    def _remember(self, device_id: str, area_id: str | None) -> None:
        self._given[device_id] = area_id
        self._store.async_delay_save(lambda: {"devices": dict(self._given)}, SAVE_DELAY)


async def async_setup_placement(hass: HomeAssistant) -> None:
    """Read what was given before (once per run, from ``async_setup``); devices gone since are forgotten."""
    store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
    stored = await store.async_load() or {}
    registry = dr.async_get(hass)
    devices = stored.get("devices")
    given = {
        device_id: area_id
        for device_id, area_id in (devices.items() if isinstance(devices, dict) else ())
        if registry.async_get(device_id) is not None and (area_id is None or isinstance(area_id, str))
    }
    hass.data[_DATA_AREAS] = LockAreas(hass, store, given)


def current_property(hass: HomeAssistant, device_key: str, entry_id: str) -> dr.DeviceEntry | None:
    """The device a lock of this entry hangs under now (while the property it belongs to is not known)."""
    device = compat.device_by_identifier(hass, (DOMAIN, device_key), entry_id)
    if device is None or device.via_device_id is None:
        return None
    return dr.async_get(hass).async_get(device.via_device_id)


@callback
def place_lock(
    hass: HomeAssistant,
    device: dr.DeviceEntry,
    parent: dr.DeviceEntry | None,
    lock_name: str | None,
    *,
    unlink: bool = False,
) -> None:
    """Hang the lock ``device`` under ``parent``, name it after the property and give it the property's area.

    ``parent`` None: the lock's property is not known now. The lock stays where it is, unless ``unlink`` (its
    account's own settings say it belongs to no property): then it leaves its property and takes its own name.
    """
    if parent is None and not unlink:
        return
    changes: dict[str, Any] = {}
    parent_id = parent.id if parent is not None else None
    if device.via_device_id != parent_id:
        changes["via_device_id"] = parent_id
    name = lock_device_name(lock_name, parent.name if parent is not None else None)
    if name != device.name:
        changes["name"] = name
    areas = hass.data.get(_DATA_AREAS)
    if parent is not None and areas is not None and (area_id := areas.area_for(device, parent)) is not None:
        changes["area_id"] = area_id
    if changes:
        dr.async_get(hass).async_update_device(device.id, **changes)
