"""RemoteLock accounts: locks and their access guests, OAuth2 credentials, events by polling or webhook.

A refresh is ``ceil(locks / 50)`` requests for the locks + 1 for new events (skipped while the webhook
delivers); locations are read on the first refresh, when a lock names an unknown one, and every 6 hours; with
the webhook on, its subscriber is read on the first refresh and then once an hour (RemoteLock deactivates a
webhook whose deliveries fail for 72 hours: see ``webhook_health``).
Every request of the account goes through the client's one 120/min limiter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import voluptuous as vol

from ... import application_credentials, forms
from ...api.models import Account
from ...api.remotelock import ClientCredentialsAuth, RemoteLockClient, token_url
from ...const import CONF_OAUTH_URL, DEFAULT_REMOTELOCK_OAUTH_URL, DEFAULT_REMOTELOCK_URL, DOMAIN
from ...coordinator import KasifyConfigEntry, KasifyRuntimeData
from .auth import async_create_client, uses_oauth
from .coordinator import RemoteLockCoordinator
from .webhook import async_register_webhook, async_remove_webhook
from .webhook_health import webhook_issue_id

# The client-credentials form (signing in through application credentials has no form of ours).
SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_CLIENT_ID): forms.TEXT,
        vol.Required(CONF_CLIENT_SECRET): forms.SECRET,
        vol.Required(CONF_URL, default=DEFAULT_REMOTELOCK_URL): forms.URL,
        vol.Required(CONF_OAUTH_URL, default=DEFAULT_REMOTELOCK_OAUTH_URL): forms.URL,
    }
)


def api_url() -> str:
    """The API an account authorized through the application credentials is read from."""
    return application_credentials.API_URL


def _account(user_id: str, name: str) -> Account:
    return Account(id=user_id, name=f"RemoteLock {name}")


async def async_validate(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """``GET /user`` with a token of the client-credentials grant (the app owner's account)."""
    forms.check_secure_url(CONF_URL, data[CONF_URL])
    forms.check_secure_url(CONF_OAUTH_URL, data[CONF_OAUTH_URL])
    session = async_get_clientsession(hass)
    auth = ClientCredentialsAuth(
        session, token_url(data[CONF_OAUTH_URL]), data[CONF_CLIENT_ID], data[CONF_CLIENT_SECRET]
    )
    user = await RemoteLockClient(session, auth, base_url=data[CONF_URL]).get_user()
    return _account(user.account_id, user.name)


async def async_validate_oauth(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """``GET /user`` with the token the authorization-code grant just returned."""
    token = str(data["token"]["access_token"])

    async def _token() -> str:
        return token

    client = RemoteLockClient(async_get_clientsession(hass), _token, base_url=data[CONF_URL])
    user = await client.get_user()
    return _account(user.account_id, user.name)


async def async_setup(hass: HomeAssistant, entry: KasifyConfigEntry) -> KasifyRuntimeData:
    """Connect with the entry's credentials, load the account, and receive the webhook if enabled."""
    client = await async_create_client(hass, entry)
    coordinator = RemoteLockCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    async_register_webhook(hass, entry, coordinator)
    return KasifyRuntimeData(client=client, coordinator=coordinator)


async def async_removed(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """The entry is deleted: remove its webhook at RemoteLock too, and its webhook repair issue."""
    await async_remove_webhook(hass, entry)
    ir.async_delete_issue(hass, DOMAIN, webhook_issue_id(entry.entry_id))


__all__ = [
    "SCHEMA",
    "RemoteLockCoordinator",
    "api_url",
    "async_removed",
    "async_setup",
    "async_validate",
    "async_validate_oauth",
    "uses_oauth",
]
