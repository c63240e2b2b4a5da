"""RemoteLock credentials in Home Assistant: the OAuth2 session of an entry, or its client credentials."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from http import HTTPStatus
from typing import Any

import aiohttp
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import (
    OAuth2Session,
    async_get_config_entry_implementation,
)
from homeassistant.util import dt as dt_util

from ...api.errors import ApiConnectionError, OAuthGrantError, ServerError
from ...api.ratelimit import SlidingWindowLimiter
from ...api.remotelock import (
    RATE_LIMIT,
    RATE_WINDOW,
    ClientCredentialsAuth,
    RemoteLockClient,
    TokenSource,
    token_url,
)
from ...const import CONF_OAUTH_URL, DEFAULT_REMOTELOCK_OAUTH_URL, DEFAULT_REMOTELOCK_URL
from ...coordinator import KasifyConfigEntry, auth_failed

OAUTH_DATA_KEY = "auth_implementation"


def uses_oauth(data: dict[str, Any] | Any) -> bool:
    """Whether entry data is an authorization-code (application credentials) RemoteLock account."""
    return OAUTH_DATA_KEY in data


class OAuth2SessionTokens(TokenSource):
    """Bearer tokens from Home Assistant's ``OAuth2Session`` of the entry.

    RemoteLock rotates the refresh token on every renewal, so the new token is written to the config entry
    before it is used (``OAuth2Session`` does so on expiry; :meth:`refresh_access_token` after a 403).
    One lock serialises renewals: two requests refused at once renew once, never with a dead refresh token.
    """

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, session: OAuth2Session) -> None:
        """Use ``session``, the entry's OAuth2 session."""
        self._hass = hass
        self._entry = entry
        self._session = session
        self._lock = asyncio.Lock()

    async def access_token(self) -> str:
        """A token valid now (renewed and stored first when it has expired)."""
        async with self._lock:
            await _grant(self._session.async_ensure_token_valid())
            return str(self._session.token["access_token"])

    async def refresh_access_token(self, rejected: str) -> str:
        """Renew after a 403, unless another request already did."""
        async with self._lock:
            if self._session.token["access_token"] != rejected:
                return str(self._session.token["access_token"])
            new_token = await _grant(self._session.implementation.async_refresh_token(self._session.token))
            self._hass.config_entries.async_update_entry(
                self._entry, data={**self._entry.data, "token": new_token}
            )
            return str(new_token["access_token"])


async def _grant[T](pending: Awaitable[T]) -> T:
    """Await a token request of Home Assistant's OAuth2 implementation, mapping its errors to ours."""
    try:
        return await pending
    except aiohttp.ClientResponseError as err:
        if err.status in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            raise OAuthGrantError(f"POST /oauth/token: HTTP {err.status}", status=err.status) from err
        raise ServerError(f"POST /oauth/token: HTTP {err.status}", status=err.status) from err
    except (aiohttp.ClientError, TimeoutError) as err:
        raise ApiConnectionError(f"POST /oauth/token: {err.__class__.__name__}") from err


async def async_create_client(hass: HomeAssistant, entry: KasifyConfigEntry) -> RemoteLockClient:
    """The RemoteLock client of an entry, with its credentials wired in (its own 120/min limiter)."""
    session = async_get_clientsession(hass)
    base_url = entry.data.get(CONF_URL, DEFAULT_REMOTELOCK_URL)
    auth: TokenSource
    if uses_oauth(entry.data):
        try:
            implementation = await async_get_config_entry_implementation(hass, entry)
        except ValueError as err:
            # The application credentials the entry was authorized with are gone: authorize again.
            raise auth_failed("RemoteLock") from err
        auth = OAuth2SessionTokens(hass, entry, OAuth2Session(hass, entry, implementation))
    else:
        auth = ClientCredentialsAuth(
            session,
            token_url(entry.data.get(CONF_OAUTH_URL, DEFAULT_REMOTELOCK_OAUTH_URL)),
            entry.data[CONF_CLIENT_ID],
            entry.data[CONF_CLIENT_SECRET],
        )
    # The limiter measures time on the clock its waits run on (the event loop's).
    limiter = SlidingWindowLimiter(RATE_LIMIT, RATE_WINDOW, clock=hass.loop.time)
    return RemoteLockClient(
        session,
        auth,
        base_url=base_url,
        limiter=limiter,
        wall_clock=lambda: dt_util.utcnow().timestamp(),
    )
