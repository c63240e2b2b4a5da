"""Application credentials for RemoteLock's authorization-code grant (the user brings their OAuth app)."""

from __future__ import annotations

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant

from .api.remotelock import AUTHORIZE_PATH, TOKEN_PATH
from .const import DEFAULT_REMOTELOCK_OAUTH_URL, DEFAULT_REMOTELOCK_URL

# Module-level so tests and the development instance can point the flow at the simulator.
OAUTH_URL = DEFAULT_REMOTELOCK_OAUTH_URL
API_URL = DEFAULT_REMOTELOCK_URL


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """RemoteLock's OAuth server (``connect.remotelock.com``)."""
    return AuthorizationServer(authorize_url=OAUTH_URL + AUTHORIZE_PATH, token_url=OAUTH_URL + TOKEN_PATH)


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Where to create the OAuth application, shown on the credentials form."""
    return {
        "developer_url": "https://connect.remotelock.com/oauth/applications",
        "redirect_url": "https://my.home-assistant.io/redirect/oauth",
    }
