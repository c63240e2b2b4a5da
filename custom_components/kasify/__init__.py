"""Kasify for Home Assistant: rental properties, bookings and smart locks."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_URL, CONF_VERIFY_SSL, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .access_codes import async_setup_access_code_services
from .api.casavi import CasaviClient
from .api.ical import IcalFeedClient
from .api.kasify import KasifyClient
from .api.nuki import NukiClient
from .api.unifi_access import UnifiAccessClient
from .auto_codes import async_remove_store as async_remove_auto_codes_store, async_start_auto_codes
from .const import (
    CONF_API_TOKEN,
    CONF_FINGERPRINT,
    CONF_KEY,
    CONF_KIND,
    CONF_SECRET,
    DEFAULT_UNIFI_PORT,
    DOMAIN,
    KIND_CASAVI,
    KIND_NUKI,
    KIND_REMOTELOCK,
    KIND_UNIFI,
)
from .coordinator import (
    CasaviCoordinator,
    FeedCoordinator,
    KasifyConfigEntry,
    KasifyCoordinator,
    KasifyRuntimeData,
    NukiCoordinator,
    RemoteLockCoordinator,
    UnifiAccessCoordinator,
    link_lock_devices,
    unifi_certificate_issue_id,
)
from .remotelock_auth import async_create_client
from .remotelock_webhook import async_register_webhook, async_remove_webhook
from .services import async_setup_services
from .stays import StayScheduler

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.LOCK,
    Platform.SENSOR,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the integration (nothing is configured in YAML)."""
    async_setup_access_code_services(hass)
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: KasifyConfigEntry) -> bool:
    """Connect to the account, load its data and set up the platforms."""
    session = async_get_clientsession(hass)
    if entry.data.get(CONF_KIND) == KIND_NUKI:
        nuki = NukiClient(session, entry.data[CONF_API_TOKEN], base_url=entry.data[CONF_URL])
        nuki_coordinator = NukiCoordinator(hass, entry, nuki)
        await nuki_coordinator.async_config_entry_first_refresh()
        entry.runtime_data = KasifyRuntimeData(client=nuki, coordinator=nuki_coordinator)
        # The Kasify accounts stop showing their read-only copies of these locks (and show them again
        # when this entry goes), so they are reloaded now and on unload.
        _reload_property_entries(hass)
        entry.async_on_unload(lambda: _reload_property_entries(hass))
    elif entry.data.get(CONF_KIND) == KIND_UNIFI:
        unifi = UnifiAccessClient(
            session,
            entry.data[CONF_HOST],
            entry.data[CONF_API_TOKEN],
            port=int(entry.data.get(CONF_PORT, DEFAULT_UNIFI_PORT)),
            verify_ssl=entry.data.get(CONF_VERIFY_SSL, True),
            fingerprint=entry.data.get(CONF_FINGERPRINT) or None,
        )
        unifi_coordinator = UnifiAccessCoordinator(hass, entry, unifi)
        # A wrong pinned certificate fails here like any unreachable controller (not loaded, retried), with
        # a repair issue saying the certificate changed.
        await unifi_coordinator.async_config_entry_first_refresh()
        entry.runtime_data = KasifyRuntimeData(client=unifi, coordinator=unifi_coordinator)
        unifi_coordinator.async_start_push()
        _reload_property_entries(hass)
        entry.async_on_unload(lambda: _reload_property_entries(hass))
    elif entry.data.get(CONF_KIND) == KIND_REMOTELOCK:
        remotelock = await async_create_client(hass, entry)
        remotelock_coordinator = RemoteLockCoordinator(hass, entry, remotelock)
        await remotelock_coordinator.async_config_entry_first_refresh()
        entry.runtime_data = KasifyRuntimeData(client=remotelock, coordinator=remotelock_coordinator)
        async_register_webhook(hass, entry, remotelock_coordinator)
    elif entry.data.get(CONF_KIND) == KIND_CASAVI:
        casavi = CasaviClient(
            session, entry.data[CONF_KEY], entry.data[CONF_SECRET], base_url=entry.data[CONF_URL]
        )
        casavi_coordinator = CasaviCoordinator(hass, entry, casavi)
        await casavi_coordinator.async_config_entry_first_refresh()
        entry.runtime_data = KasifyRuntimeData(client=casavi, coordinator=casavi_coordinator)
    else:
        client = KasifyClient(session, entry.data[CONF_URL], entry.data[CONF_API_TOKEN])
        coordinator = KasifyCoordinator(hass, entry, client)
        # Raises ConfigEntryAuthFailed (→ reauth) or ConfigEntryNotReady (→ retry) on failure.
        await coordinator.async_config_entry_first_refresh()
        stays = StayScheduler(hass, entry, coordinator)
        # A broken feed never stops setup: its error shows on its diagnostic sensor.
        feeds = FeedCoordinator(hass, entry, coordinator, IcalFeedClient(session))
        await feeds.async_refresh()
        entry.runtime_data = KasifyRuntimeData(
            client=client, coordinator=coordinator, stays=stays, feeds=feeds
        )
        stays.async_start()

        @callback
        def _follow_feed_list() -> None:
            # A property or Kasify calendar added or removed: update the feeds now, not at the next check.
            if feeds.feeds_changed:
                hass.async_create_task(feeds.async_request_refresh())

        entry.async_on_unload(coordinator.async_add_listener(_follow_feed_list))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # This entry's devices exist from here on: hang the locks under their properties.
    link_lock_devices(hass)
    if isinstance(entry.runtime_data.coordinator, KasifyCoordinator):
        # Automatic per-booking codes go on the properties' locks, whose devices exist from here on.
        await async_start_auto_codes(hass, entry, entry.runtime_data.coordinator)
    return True


@callback
def _reload_property_entries(hass: HomeAssistant) -> None:
    for other in hass.config_entries.async_loaded_entries(DOMAIN):
        if isinstance(other.runtime_data.coordinator, KasifyCoordinator):
            hass.config_entries.async_schedule_reload(other.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: KasifyConfigEntry) -> bool:
    """Unload the platforms; timers and listeners go with ``entry.async_on_unload``."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """Drop the entry's repair issues when it is deleted."""
    ir.async_delete_issue(hass, DOMAIN, unifi_certificate_issue_id(entry.entry_id))
    if entry.data.get(CONF_KIND) == KIND_REMOTELOCK:
        await async_remove_webhook(hass, entry)
    await async_remove_auto_codes_store(hass, entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: KasifyConfigEntry, device: DeviceEntry
) -> bool:
    """Allow deleting a device only when the upstream no longer has it."""
    return not entry.runtime_data.coordinator.has_device(set(device.identifiers))
