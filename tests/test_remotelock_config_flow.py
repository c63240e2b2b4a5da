"""RemoteLock config and options flows: both OAuth2 grants, reauth, reconfigure, locations and webhook.

The authorization-code flow runs end to end against the simulator's OAuth server and API.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify import application_credentials
from custom_components.kasify.const import (
    CONF_KIND,
    CONF_LOCATIONS,
    CONF_OAUTH_URL,
    CONF_WEBHOOK,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOK_SECRET,
    DOMAIN,
)
from simulator import Simulator
from simulator.remotelock import CLIENT_ID, CLIENT_SECRET

from . import setup_integration
from .providers import (
    remotelock_device_id,
    remotelock_entry,
    remotelock_kasify_entry,
    remotelock_oauth_entry,
)

REDIRECT = "https://example.com/auth/external/callback"


@pytest.fixture
def oauth_simulator(
    hass: HomeAssistant, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> Generator[Simulator]:
    """The simulator as RemoteLock's OAuth server and API for accounts added by signing in."""
    monkeypatch.setattr(application_credentials, "OAUTH_URL", simulator.remotelock_oauth_url)
    monkeypatch.setattr(application_credentials, "API_URL", simulator.remotelock_api_url)
    return simulator


@pytest.fixture
async def credentials(hass: HomeAssistant) -> None:
    """The user added RemoteLock application credentials."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), "remotelock"
    )


async def _sign_in(
    hass: HomeAssistant, simulator: Simulator, flow_id: str, hass_client_no_auth: Any
) -> dict[str, Any]:
    """From the external step: RemoteLock redirects back with a code, the flow trades it for tokens."""
    state = config_entry_oauth2_flow._encode_jwt(hass, {"flow_id": flow_id, "redirect_uri": REDIRECT})
    code = simulator.remotelock.issue_authorization_code(redirect_uri=REDIRECT)
    client = await hass_client_no_auth()
    resp = await client.get(f"/auth/external/callback?code={code}&state={state}")
    assert resp.status == 200
    return dict(await hass.config_entries.flow.async_configure(flow_id))


async def _start_oauth(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "remotelock"})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["pick_implementation", "remotelock_client"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pick_implementation"}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    return dict(result)


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_sign_in_flow(
    hass: HomeAssistant, oauth_simulator: Simulator, hass_client_no_auth: Any, mock_setup_entry: AsyncMock
) -> None:
    """Sign in at RemoteLock: the entry keeps the token, is named after the user and keyed by the account."""
    result = await _start_oauth(hass)
    assert result["url"].startswith(f"{oauth_simulator.remotelock_oauth_url}/oauth/authorize?")
    assert f"client_id={CLIENT_ID}" in result["url"]
    result = await _sign_in(hass, oauth_simulator, result["flow_id"], hass_client_no_auth)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "RemoteLock Alojamientos Sol y Mar"
    data = result["data"]
    assert data[CONF_KIND] == "remotelock"
    assert data[CONF_URL] == oauth_simulator.remotelock_api_url
    assert oauth_simulator.remotelock.access_token_valid(data["token"]["access_token"])
    assert data["token"]["refresh_token"]
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.unique_id == f"remotelock_{oauth_simulator.remotelock.account['id']}"

    # The same account again is refused.
    result = await _start_oauth(hass)
    result = await _sign_in(hass, oauth_simulator, result["flow_id"], hass_client_no_auth)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("current_request_with_host", "credentials")
@pytest.mark.parametrize(("status", "reason"), [(401, "invalid_auth"), (503, "cannot_connect")])
async def test_sign_in_account_not_readable(
    hass: HomeAssistant,
    oauth_simulator: Simulator,
    hass_client_no_auth: Any,
    mock_setup_entry: AsyncMock,
    status: int,
    reason: str,
) -> None:
    """The API refuses or fails ``GET /user`` right after sign-in: the flow ends with a clear reason."""
    result = await _start_oauth(hass)
    oauth_simulator.faults.inject("/remotelock/api/user", status=status)
    result = await _sign_in(hass, oauth_simulator, result["flow_id"], hass_client_no_auth)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_sign_in_without_credentials(hass: HomeAssistant) -> None:
    """Without application credentials the user is told to add them."""
    assert await async_setup_component(hass, "application_credentials", {})
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "remotelock"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pick_implementation"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "missing_credentials"


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_reauth_signs_in_again(
    hass: HomeAssistant, oauth_simulator: Simulator, hass_client_no_auth: Any, mock_setup_entry: AsyncMock
) -> None:
    """Reauth of a signed-in account: confirm, sign in again, the new tokens replace the old ones."""
    entry = remotelock_oauth_entry(oauth_simulator)
    entry.add_to_hass(hass)
    old = entry.data["token"]["access_token"]
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    result = await _sign_in(hass, oauth_simulator, result["flow_id"], hass_client_no_auth)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data["token"]["access_token"] != old
    assert entry.data[CONF_KIND] == "remotelock"
    await hass.async_block_till_done()  # the reload it scheduled (set-up is mocked)


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_reconfigure_other_account_refused(
    hass: HomeAssistant, oauth_simulator: Simulator, hass_client_no_auth: Any, mock_setup_entry: AsyncMock
) -> None:
    """Reconfigure signs in again; another RemoteLock account is refused and changes nothing."""
    entry = remotelock_oauth_entry(oauth_simulator)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, unique_id="remotelock_someone-else")
    before = dict(entry.data)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    result = await _sign_in(hass, oauth_simulator, result["flow_id"], hass_client_no_auth)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert dict(entry.data) == before

    hass.config_entries.async_update_entry(
        entry, unique_id=f"remotelock_{oauth_simulator.remotelock.account['id']}"
    )
    result = await entry.start_reconfigure_flow(hass)
    result = await _sign_in(hass, oauth_simulator, result["flow_id"], hass_client_no_auth)
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()  # the reload it scheduled (set-up is mocked)


def _client_input(simulator: Simulator, secret: str = CLIENT_SECRET) -> dict[str, Any]:
    return {
        CONF_CLIENT_ID: CLIENT_ID,
        CONF_CLIENT_SECRET: secret,
        CONF_URL: simulator.remotelock_api_url + "/",
        CONF_OAUTH_URL: simulator.remotelock_oauth_url,
    }


async def test_client_credentials_flow(
    hass: HomeAssistant, simulator: Simulator, mock_setup_entry: AsyncMock
) -> None:
    """Client id and secret: a wrong secret is refused, an unreachable API says so, then the entry is made."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "remotelock"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "remotelock_client"}
    )
    assert result["step_id"] == "remotelock_client"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _client_input(simulator, "nope")
    )
    assert result["errors"] == {"base": "invalid_auth"}
    fault = simulator.faults.inject("/remotelock/api/user", status=502)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _client_input(simulator))
    assert result["errors"] == {"base": "cannot_connect"}
    simulator.faults.remove(fault)

    result = await hass.config_entries.flow.async_configure(result["flow_id"], _client_input(simulator))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "RemoteLock Alojamientos Sol y Mar"
    assert result["data"][CONF_URL] == simulator.remotelock_api_url
    assert result["data"][CONF_CLIENT_SECRET] == CLIENT_SECRET
    assert result["result"].unique_id == f"remotelock_{simulator.remotelock.account['id']}"

    # Reauth asks for the client id and secret again (the secret never pre-filled).
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_REAUTH, "entry_id": entry.entry_id}, data=dict(entry.data)
    )
    assert set(result["data_schema"].schema) == {CONF_CLIENT_ID, CONF_CLIENT_SECRET}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: CLIENT_SECRET}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()


async def test_options_menu_and_locations(hass: HomeAssistant, simulator: Simulator) -> None:
    """Locations default to the property of the same name; the mapping chosen is saved."""
    await setup_integration(hass, remotelock_kasify_entry(simulator))
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["settings", "locations", "webhook"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "locations"}
    )
    assert result["step_id"] == "locations"
    first = simulator.kasify.property_at(0)
    suggested = {str(key): key.description["suggested_value"] for key in result["data_schema"].schema}
    assert suggested[first["name"]] == f"property_{first['id']}"
    assert suggested["Oficina Sol y Mar"] == "none"

    second = simulator.kasify.property_at(1)
    answer = {**suggested, first["name"]: "none", "Oficina Sol y Mar": f"property_{second['id']}"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], answer)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    by_name = {loc["attributes"]["name"]: loc_id for loc_id, loc in simulator.remotelock.locations.items()}
    mapping = entry.options[CONF_LOCATIONS]
    assert mapping[by_name[first["name"]]] == ""
    assert mapping[by_name["Oficina Sol y Mar"]] == f"property_{second['id']}"


async def test_options_locations_need_a_loaded_entry(hass: HomeAssistant, simulator: Simulator) -> None:
    """Without a loaded entry there are no locations to map."""
    entry = remotelock_entry(simulator)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "locations"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "remotelock_not_loaded"


async def _webhook_step(hass: HomeAssistant, entry: MockConfigEntry, enable: bool) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "webhook"})
    assert result["step_id"] == "webhook"
    return dict(await hass.config_entries.options.async_configure(result["flow_id"], {CONF_WEBHOOK: enable}))


async def test_options_webhook_created_and_removed_at_remotelock(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Turning the webhook on creates a subscriber for the account's events at RemoteLock with this Home
    Assistant's URL and a fresh secret; turning it off removes it there."""
    hass.config.external_url = "https://home.example.com"
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    result = await _webhook_step(hass, entry, True)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    state = simulator.remotelock
    [subscriber] = state.notification_subscribers.values()
    attributes = subscriber["attributes"]
    assert attributes["url"] == f"https://home.example.com/api/webhook/{entry.options[CONF_WEBHOOK_ID]}"
    assert attributes["secret"] == entry.options[CONF_WEBHOOK_SECRET]
    assert attributes["content_type"] == "json"
    [subscription] = state.notification_subscriptions.values()
    assert subscription["attributes"]["publisher_id"] == state.account["id"]
    assert {e["event_type"] for e in subscription["attributes"]["events"]} >= {
        "unlocked",
        "access_person_used",
    }

    # Shown with its URL; submitting the same choice changes nothing upstream.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "webhook"})
    assert result["description_placeholders"]["url"] == attributes["url"]
    result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_WEBHOOK: True})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(state.notification_subscribers) == 1
    await hass.async_block_till_done()

    result = await _webhook_step(hass, entry, False)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_WEBHOOK] is False
    assert state.notification_subscribers == {}
    assert state.notification_subscriptions == {}
    await hass.async_block_till_done()


async def test_webhook_delivered_by_the_simulator(
    hass: HomeAssistant, simulator: Simulator, hass_client_no_auth: Any
) -> None:
    """End to end: the simulator posts an unlock to the webhook it was given; the lock follows."""
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    client = await hass_client_no_auth()
    hass.config.internal_url = str(client.make_url("")).rstrip("/")
    hass.config.external_url = hass.config.internal_url
    assert (await _webhook_step(hass, entry, True))["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    device = remotelock_device_id(simulator, "Puerta de servicio")
    simulator.remotelock.lock_action(device, "unlock")
    deliveries = await simulator.remotelock.drain_webhooks()
    assert [d.status for d in deliveries] == [200]
    await hass.async_block_till_done()
    assert hass.states.get("lock.puerta_de_servicio").state == "unlocked"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"status": 422}, "webhook_refused"),
        ({"status": 503}, "webhook_failed"),
        (None, "webhook_no_url"),
    ],
)
async def test_options_webhook_errors(
    hass: HomeAssistant, simulator: Simulator, fault: dict[str, Any] | None, error: str
) -> None:
    """RemoteLock refuses or fails, or Home Assistant has no URL: the form says so and nothing is enabled."""
    hass.config.external_url = "https://home.example.com"
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    if fault is not None:
        simulator.faults.inject("/remotelock/api/notification_subscribers", method="POST", **fault)
        result = await _webhook_step(hass, entry, True)
    else:
        with patch("homeassistant.components.webhook.async_generate_url", side_effect=NoURLAvailableError):
            result = await _webhook_step(hass, entry, True)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert not entry.options.get(CONF_WEBHOOK)
    assert simulator.remotelock.notification_subscribers == {}


async def test_webhook_options_need_a_loaded_entry(hass: HomeAssistant, simulator: Simulator) -> None:
    """Without a loaded account the webhook cannot be changed."""
    entry = remotelock_entry(simulator)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "webhook"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "remotelock_not_loaded"


async def test_deleting_the_account_removes_its_webhook(hass: HomeAssistant, simulator: Simulator) -> None:
    """Removing the RemoteLock entry also removes its webhook at RemoteLock."""
    hass.config.external_url = "https://home.example.com"
    entry = remotelock_entry(simulator)
    await setup_integration(hass, entry)
    await _webhook_step(hass, entry, True)
    await hass.async_block_till_done()
    assert simulator.remotelock.notification_subscribers
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert simulator.remotelock.notification_subscribers == {}


async def test_missing_application_credentials_start_reauth(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A signed-in entry whose application credentials were deleted asks to sign in again."""
    assert await async_setup_component(hass, "application_credentials", {})
    entry = remotelock_oauth_entry(simulator)
    with patch.object(application_credentials, "OAUTH_URL", simulator.remotelock_oauth_url):
        await setup_integration(hass, entry)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
