"""RemoteLock accounts: locks and their access guests, OAuth2 credentials, events by polling or webhook.

A refresh is ``ceil(locks / 50)`` requests for the locks + 1 for new events (skipped while the webhook
delivers); locations are read on the first refresh, when a lock names an unknown one, and every 6 hours.
Every request of the account goes through the client's one 120/min limiter.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from ...coordinator import KasifyConfigEntry, KasifyRuntimeData
from .auth import async_create_client
from .coordinator import RemoteLockCoordinator
from .webhook import async_register_webhook, async_remove_webhook


async def async_setup(hass: HomeAssistant, entry: KasifyConfigEntry) -> KasifyRuntimeData:
    """Connect with the entry's credentials, load the account, and receive the webhook if enabled."""
    client = await async_create_client(hass, entry)
    coordinator = RemoteLockCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    async_register_webhook(hass, entry, coordinator)
    return KasifyRuntimeData(client=client, coordinator=coordinator)


async def async_removed(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """The entry is deleted: remove its webhook at RemoteLock too."""
    await async_remove_webhook(hass, entry)


__all__ = ["RemoteLockCoordinator", "async_removed", "async_setup"]
