"""Questions that span config entries: the property of a lock or a booking, the provider that covers a lock.

A Kasify (or casavi) entry knows the properties; a provider entry (Nuki Web, UniFi Access, RemoteLock) knows
the locks it can control. These functions join them, always over the entries that are live right now, so the
answers follow entries as they load and unload.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta, tzinfo
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util

from . import compat
from .const import CONF_KIND, DOMAIN, KIND_KASIFY
from .coordinator import KasifyConfigEntry, PropertySourceCoordinator, ProviderCoordinator

# Around a check-in or check-out guests and cleaners use the door: locks are polled this often then.
STAY_CHANGE_INTERVAL: Final = timedelta(seconds=15)
STAY_CHANGE_MARGIN: Final = timedelta(minutes=30)


def live_entries(hass: HomeAssistant) -> list[KasifyConfigEntry]:
    """Entries that are loaded or far enough in their setup to hold their runtime data.

    An entry still setting up counts (it links devices and asks the Kasify entries to reload from its setup);
    one unloading does not (its locks go back to Kasify).
    """
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_IN_PROGRESS)
        and getattr(entry, "runtime_data", None) is not None
    ]


def property_sources(hass: HomeAssistant) -> list[PropertySourceCoordinator[Any]]:
    """The coordinators of the live Kasify and casavi entries that have data."""
    return [
        coordinator
        for entry in live_entries(hass)
        if isinstance(coordinator := entry.runtime_data.coordinator, PropertySourceCoordinator)
        and coordinator.data is not None
    ]


def providers(hass: HomeAssistant) -> list[ProviderCoordinator[Any, Any]]:
    """The coordinators of the live lock-provider entries that have data."""
    return [
        coordinator
        for entry in live_entries(hass)
        if isinstance(coordinator := entry.runtime_data.coordinator, ProviderCoordinator)
        and coordinator.data is not None
    ]


def linked_property(hass: HomeAssistant, device_key: str) -> tuple[str, str] | None:
    """The property device a lock belongs to, as a property source records it (Kasify's smart locks)."""
    for source in property_sources(hass):
        if (property_id := source.property_of_lock(device_key)) is not None:
            return source.property_identifier(property_id)
    return None


def booking_property(hass: HomeAssistant, booking_id: str) -> tuple[str, str] | None:
    """The property device identifier of a booking a live property source lists (None when none does)."""
    for source in property_sources(hass):
        if (property_id := source.property_of_booking(booking_id)) is not None:
            return source.property_identifier(property_id)
    return None


def off_booking_property(hass: HomeAssistant, entity_ids: Iterable[str], booking_id: str) -> str | None:
    """The first lock entity that does not hang under the property of the booking (None: all do).

    None as well when no live property source lists the booking (nothing to check it against).
    """
    if (identifier := booking_property(hass, booking_id)) is None:
        return None
    device = property_device(hass, identifier)
    ent_reg, dev_reg = er.async_get(hass), dr.async_get(hass)
    for entity_id in entity_ids:
        entry = ent_reg.async_get(entity_id)
        lock = dev_reg.async_get(entry.device_id) if entry is not None and entry.device_id else None
        if device is None or lock is None or lock.via_device_id != device.id:
            return entity_id
    return None


def actions_zone(hass: HomeAssistant, entity_ids: Iterable[str], booking_id: str | None) -> tzinfo:
    """The time zone naive times in an action on these locks are read in.

    The zone of the booking's property when a live property source lists the booking; else the one zone of
    the properties the locks hang under; else (no property, or properties in different zones) Home
    Assistant's.
    """
    sources = property_sources(hass)
    for source in sources if booking_id else ():
        if (property_id := source.property_of_booking(booking_id or "")) is not None:
            return source.property_zone(property_id)
    ent_reg, dev_reg = er.async_get(hass), dr.async_get(hass)
    zones: set[tzinfo] = set()
    for entity_id in entity_ids:
        entry = ent_reg.async_get(entity_id)
        lock = dev_reg.async_get(entry.device_id) if entry is not None and entry.device_id else None
        parent = dev_reg.async_get(lock.via_device_id) if lock is not None and lock.via_device_id else None
        if parent is None:
            return dt_util.get_default_time_zone()
        zones |= {
            source.property_zone(pid)
            for source in sources
            for pid in source.data.properties
            if source.property_identifier(pid) in parent.identifiers
        }
    return zones.pop() if len(zones) == 1 else dt_util.get_default_time_zone()


def property_device(hass: HomeAssistant, identifier: tuple[str, str] | None) -> dr.DeviceEntry | None:
    """The registered device of a property, in the live Kasify or casavi entry that has the property."""
    if identifier is None:
        return None
    for source in property_sources(hass):
        if any(source.property_identifier(pid) == identifier for pid in source.data.properties):
            return compat.device_by_identifier(hass, identifier, source.config_entry.entry_id)
    return None


def property_choices(hass: HomeAssistant) -> dict[str, str]:
    """Every property of the live Kasify and casavi entries: device identifier → name."""
    return {
        source.property_identifier(pid)[1]: prop.name
        for source in property_sources(hass)
        for pid, prop in source.data.properties.items()
    }


def provider_lock_keys(hass: HomeAssistant) -> set[str]:
    """Device keys of every lock a live provider entry (Nuki Web, UniFi Access, RemoteLock) controls."""
    keys: set[str] = set()
    for provider in providers(hass):
        keys |= set(provider.lock_views)
    return keys


def link_lock_devices(hass: HomeAssistant) -> None:
    """Hang every lock device of every live entry under its property's device.

    Run after an entry's platforms are set up (its devices exist from then on) and after property sources
    refresh (properties come and go, locks move between them).
    """
    for entry in live_entries(hass):
        coordinator = entry.runtime_data.coordinator
        if coordinator.data is not None:
            coordinator.sync_lock_links()


def stay_change_near(
    hass: HomeAssistant, device_keys: set[str], properties: set[tuple[str, str]] | None = None
) -> bool:
    """Whether a property with one of these locks, or one of ``properties``, has a stay change soon.

    Soon: a check-in or check-out within :data:`STAY_CHANGE_MARGIN`.
    """
    now = dt_util.utcnow()
    for source in property_sources(hass):
        property_ids = {pid for key in device_keys if (pid := source.property_of_lock(key)) is not None} | {
            pid for pid in source.data.properties if source.property_identifier(pid) in (properties or set())
        }
        for property_id in property_ids:
            if any(abs(instant - now) <= STAY_CHANGE_MARGIN for instant in source.stay_changes(property_id)):
                return True
    return False


@callback
def reload_property_sources(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """A provider entry sets up: the entries that show its locks read-only reload, now and when it unloads.

    They stop showing those locks while the provider is loaded, and show them again once it is not. A Kasify
    entry still setting up (reloading because the provider went a moment ago, as when the provider itself
    reloads) reloads again once it is done: it may have looked before the provider was back.
    """

    @callback
    def _reload() -> None:
        for other in hass.config_entries.async_entries(DOMAIN):
            if other.data.get(CONF_KIND, KIND_KASIFY) == KIND_KASIFY and other.state in (
                ConfigEntryState.LOADED,
                ConfigEntryState.SETUP_IN_PROGRESS,
            ):
                hass.config_entries.async_schedule_reload(other.entry_id)

    _reload()
    entry.async_on_unload(_reload)
