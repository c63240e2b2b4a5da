"""The OAuth2 session token source of signed-in RemoteLock accounts: renewals, races and failures."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import MagicMock

import aiohttp
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify import application_credentials
from custom_components.kasify.api.errors import ApiConnectionError, OAuthGrantError, ServerError
from custom_components.kasify.const import DOMAIN
from custom_components.kasify.providers.remotelock.auth import OAuth2SessionTokens


class _Implementation:
    def __init__(self, failure: BaseException | None = None) -> None:
        self.calls = 0
        self.failure = failure

    async def async_refresh_token(self, token: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        await asyncio.sleep(0)
        if self.failure is not None:
            raise self.failure
        return {**token, "access_token": f"at-{self.calls}", "refresh_token": f"rt-{self.calls}"}


def _tokens(
    hass: HomeAssistant, implementation: _Implementation
) -> tuple[OAuth2SessionTokens, MockConfigEntry]:
    entry = MockConfigEntry(domain=DOMAIN, data={"token": {"access_token": "at-0", "refresh_token": "rt-0"}})
    entry.add_to_hass(hass)
    session = MagicMock()
    session.implementation = implementation
    type(session).token = property(lambda _self: entry.data["token"])
    return OAuth2SessionTokens(hass, entry, session), entry


async def test_two_refused_requests_renew_once(hass: HomeAssistant) -> None:
    """Two requests refused with the same token renew it once (a second renewal would use a dead refresh
    token); the new token is in the entry."""
    implementation = _Implementation()
    tokens, entry = _tokens(hass, implementation)
    first, second = await asyncio.gather(
        tokens.refresh_access_token("at-0"), tokens.refresh_access_token("at-0")
    )
    assert first == second == "at-1"
    assert implementation.calls == 1
    assert entry.data["token"]["refresh_token"] == "rt-1"


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (aiohttp.ClientResponseError(MagicMock(), (), status=400), OAuthGrantError),
        (aiohttp.ClientResponseError(MagicMock(), (), status=503), ServerError),
        (aiohttp.ClientConnectionError(), ApiConnectionError),
        (TimeoutError(), ApiConnectionError),
    ],
)
async def test_renewal_failures(hass: HomeAssistant, failure: BaseException, error: type[Exception]) -> None:
    """A refused grant asks for sign-in again (auth error); other failures are connection or server errors."""
    tokens, entry = _tokens(hass, _Implementation(failure))
    with pytest.raises(error):
        await tokens.refresh_access_token("at-0")
    assert entry.data["token"]["access_token"] == "at-0"


async def test_credentials_form_placeholders(hass: HomeAssistant) -> None:
    """The application credentials form says where to create the RemoteLock application."""
    placeholders = await application_credentials.async_get_description_placeholders(hass)
    assert placeholders["developer_url"].startswith("https://connect.remotelock.com")
