"""Kasify for Home Assistant: rental properties, bookings and smart locks."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .access_codes import async_setup_access_code_services
from .access_codes.automatic import async_locks_changed
from .const import CONF_KIND, DOMAIN, KIND_KASIFY
from .coordinator import KasifyConfigEntry
from .frontend import async_setup_frontend
from .links import link_lock_devices
from .placement import async_setup_placement
from .providers import PROVIDERS, AccountKind
from .scale import async_stop_adding
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.LOCK,
    Platform.SENSOR,
    Platform.TODO,
]


def _kind(entry: KasifyConfigEntry) -> AccountKind:
    return PROVIDERS[entry.data.get(CONF_KIND, KIND_KASIFY)]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the integration (nothing is configured in YAML)."""
    await async_setup_placement(hass)
    await async_setup_frontend(hass)
    async_setup_access_code_services(hass)
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: KasifyConfigEntry) -> bool:
    """Connect to the account, load its data and set up the platforms."""
    kind = _kind(entry)
    entry.runtime_data = await kind.setup(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # This entry's devices exist from here on: hang the locks under their properties.
    link_lock_devices(hass)
    await kind.started(hass, entry)

    @callback
    def _loaded() -> None:
        # Its locks can take codes once it is loaded: the bookings' codes go on them now.
        if entry.state is ConfigEntryState.LOADED:
            async_locks_changed(hass)

    entry.async_on_unload(entry.async_on_state_change(_loaded))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: KasifyConfigEntry) -> bool:
    """Unload the platforms; timers and listeners go with ``entry.async_on_unload``."""
    await async_stop_adding(hass, entry)
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """The entry is deleted: what it created elsewhere (repair issues, webhooks, stores) goes too."""
    await _kind(entry).removed(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: KasifyConfigEntry, device: DeviceEntry
) -> bool:
    """Allow deleting a device only when the upstream no longer has it."""
    return not entry.runtime_data.coordinator.has_device(set(device.identifiers))
