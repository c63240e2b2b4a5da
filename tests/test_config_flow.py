"""Config flow: menu, Kasify step, errors, duplicates, reauth, reconfigure and options."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from unittest.mock import AsyncMock, MagicMock, patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import (
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_HOST,
    CONF_PORT,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify.api.errors import (
    ApiConnectionError,
    AuthError,
    CertificateError,
    CertificateMismatchError,
    MalformedResponseError,
    MissingPermissionError,
    ServerError,
)
from custom_components.kasify.api.models import Account
from custom_components.kasify.api.nuki import NukiAccount
from custom_components.kasify.const import (
    CONF_API_TOKEN,
    CONF_CALENDAR_DAYS,
    CONF_FINGERPRINT,
    CONF_KEY,
    CONF_KIND,
    CONF_OAUTH_URL,
    CONF_SCAN_INTERVAL,
    CONF_SECRET,
    DOMAIN,
)

URL = "https://api.kasify.test/v1"
REMOTELOCK_FORM = {
    CONF_CLIENT_ID: "client",
    CONF_CLIENT_SECRET: "secret",
    CONF_URL: "https://api.remotelock.com",
    CONF_OAUTH_URL: "https://connect.remotelock.com",
}
ACCOUNT = Account(id="acc-1", name="Casas del Sur", email="host@example.com")


@pytest.fixture(autouse=True)
async def finish_scheduled_setups(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Reauth and reconfigure flows schedule a reload that sets the integration up (http, frontend) in the
    background; let it finish before the test's Home Assistant stops, or its setup fails at teardown."""
    yield
    await hass.async_block_till_done()


@pytest.fixture
def mock_casavi() -> Generator[MagicMock]:
    """The casavi client as the flow builds it."""
    with patch("custom_components.kasify.providers.casavi.CasaviClient", autospec=True) as cls:
        client = cls.return_value
        client.get_account = AsyncMock(return_value=Account(id="4711", name="casavi tenant 4711"))
        yield client


@pytest.fixture
def mock_client() -> Generator[MagicMock]:
    """The Kasify client as the flow builds it."""
    with patch("custom_components.kasify.providers.kasify.KasifyClient", autospec=True) as cls:
        client = cls.return_value
        client.get_account = AsyncMock(return_value=ACCOUNT)
        yield client


def _existing_entry(**data: str) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Casas del Sur",
        unique_id="acc-1",
        data={CONF_KIND: "kasify", CONF_URL: URL, CONF_API_TOKEN: "old-token", **data},
        options={CONF_SCAN_INTERVAL: 60, CONF_CALENDAR_DAYS: 90},
    )


async def _start_kasify_step(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["kasify", "casavi", "nuki", "unifi_access", "remotelock"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "kasify"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "kasify"
    assert result["errors"] == {}
    return result["flow_id"]


async def test_full_flow(hass: HomeAssistant, mock_client: MagicMock, mock_setup_entry: AsyncMock) -> None:
    """The menu leads to the Kasify step, which creates the entry with data and default options."""
    flow_id = await _start_kasify_step(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: f"  {URL}/ ", CONF_API_TOKEN: "secret-token"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Casas del Sur"
    assert result["data"] == {CONF_KIND: "kasify", CONF_URL: URL, CONF_API_TOKEN: "secret-token"}
    assert result["options"] == {CONF_SCAN_INTERVAL: 60, CONF_CALENDAR_DAYS: 90}
    assert result["result"].unique_id == "acc-1"
    mock_client.get_account.assert_awaited_once()
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (AuthError("refused", status=401), "invalid_auth"),
        (ApiConnectionError("refused"), "cannot_connect"),
        (ServerError("502", status=502), "cannot_connect"),
        (MalformedResponseError("html"), "cannot_connect"),
        (RuntimeError("boom"), "unknown"),
    ],
)
async def test_errors_then_recover(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_setup_entry: AsyncMock,
    error: Exception,
    reason: str,
) -> None:
    """Each failure shows its error on the form, and the same flow can still finish."""
    flow_id = await _start_kasify_step(hass)
    mock_client.get_account.side_effect = error
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: URL, CONF_API_TOKEN: "bad"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": reason}
    assert not hass.config_entries.async_entries(DOMAIN)

    mock_client.get_account.side_effect = None
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: URL, CONF_API_TOKEN: "good"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_TOKEN] == "good"


async def test_already_configured(
    hass: HomeAssistant, mock_client: MagicMock, mock_setup_entry: AsyncMock
) -> None:
    """The same Kasify account cannot be added twice."""
    _existing_entry().add_to_hass(hass)
    flow_id = await _start_kasify_step(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: URL, CONF_API_TOKEN: "another-token"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_reauth(hass: HomeAssistant, mock_client: MagicMock, mock_setup_entry: AsyncMock) -> None:
    """A new token for the same account is stored and the entry reloaded."""
    entry = _existing_entry()
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["account"] == "Casas del Sur"
    assert result["description_placeholders"]["url"] == URL

    mock_client.get_account.side_effect = AuthError("still refused", status=401)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_TOKEN: "wrong"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    mock_client.get_account.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_TOKEN: "new-token"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_TOKEN] == "new-token"
    assert entry.data[CONF_URL] == URL


@pytest.mark.parametrize("start", ["reauth", "reconfigure"])
async def test_wrong_account(
    hass: HomeAssistant, mock_client: MagicMock, mock_setup_entry: AsyncMock, start: str
) -> None:
    """A token of another account is refused and changes nothing."""
    entry = _existing_entry()
    entry.add_to_hass(hass)
    mock_client.get_account.return_value = Account(id="acc-2", name="Other")
    if start == "reauth":
        result = await entry.start_reauth_flow(hass)
        user_input = {CONF_API_TOKEN: "other-token"}
    else:
        result = await entry.start_reconfigure_flow(hass)
        user_input = {CONF_URL: URL, CONF_API_TOKEN: "other-token"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data[CONF_API_TOKEN] == "old-token"


async def test_reconfigure(hass: HomeAssistant, mock_client: MagicMock, mock_setup_entry: AsyncMock) -> None:
    """URL and token can be changed for the same account; errors keep the form open."""
    entry = _existing_entry()
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"

    mock_client.get_account.side_effect = ApiConnectionError("down")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "https://new.kasify.test", CONF_API_TOKEN: "t2"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    mock_client.get_account.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "https://new.kasify.test/", CONF_API_TOKEN: "t2"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_URL] == "https://new.kasify.test"
    assert entry.data[CONF_API_TOKEN] == "t2"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://api.kasify.test/v1", "insecure_url"),
        ("HTTP://192.168.1.20:8080", "insecure_url"),
        ("http://[fe80::1]:8080", "insecure_url"),
        ("http://127.0.0.1:8080", None),
        ("http://127.1.2.3", None),
        ("http://localhost:8080/v1", None),
        ("http://[::1]:8080", None),
        ("https://api.kasify.test/v1", None),
    ],
)
async def test_plain_http_only_to_this_machine(
    hass: HomeAssistant, mock_client: MagicMock, mock_setup_entry: AsyncMock, url: str, error: str | None
) -> None:
    """``http://`` would carry the API token in clear text: refused on the URL field (nothing sent) except to
    a loopback address (the simulator in development); adding and reconfiguring alike."""
    flow_id = await _start_kasify_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: url, CONF_API_TOKEN: "t"})
    if error is None:
        assert result["type"] is FlowResultType.CREATE_ENTRY
        return
    assert result["errors"] == {CONF_URL: error}
    mock_client.get_account.assert_not_awaited()

    entry = _existing_entry()
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: url, CONF_API_TOKEN: "t2"}
    )
    assert result["errors"] == {CONF_URL: error}
    assert entry.data[CONF_URL] == URL
    mock_client.get_account.assert_not_awaited()


@pytest.mark.parametrize(
    ("steps", "form", "field"),
    [
        (["casavi"], {CONF_URL: "http://casavi.example", CONF_KEY: "k", CONF_SECRET: "s"}, CONF_URL),
        (["nuki"], {CONF_URL: "http://nuki.example", CONF_API_TOKEN: "t"}, CONF_URL),
        (
            ["remotelock", "remotelock_client"],
            {**REMOTELOCK_FORM, CONF_URL: "http://api.remotelock.example"},
            CONF_URL,
        ),
        (
            ["remotelock", "remotelock_client"],
            {**REMOTELOCK_FORM, CONF_OAUTH_URL: "http://connect.remotelock.example"},
            CONF_OAUTH_URL,
        ),
    ],
)
async def test_plain_http_refused_for_every_kind(
    hass: HomeAssistant, steps: list[str], form: dict[str, str], field: str
) -> None:
    """casavi's key and secret, Nuki's token and RemoteLock's client secret would travel in clear text too
    (nothing is sent: these tests have no network)."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    for step in steps:
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": step})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["errors"] == {field: "insecure_url"}


async def test_options_flow(hass: HomeAssistant, mock_setup_entry: AsyncMock) -> None:
    """Options are stored and the entry is reloaded once."""
    entry = _existing_entry()
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["settings", "stay_times", "add_feed", "access_codes"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "settings"

    with patch.object(hass.config_entries, "async_schedule_reload") as reload:
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SCAN_INTERVAL: 120, CONF_CALENDAR_DAYS: 30}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SCAN_INTERVAL: 120, CONF_CALENDAR_DAYS: 30}
    reload.assert_called_once_with(entry.entry_id)


async def test_options_floor(hass: HomeAssistant, mock_setup_entry: AsyncMock) -> None:
    """A polling interval under the 30 s floor is refused by the form."""
    entry = _existing_entry()
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    with pytest.raises(InvalidData) as exc_info:
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SCAN_INTERVAL: 5, CONF_CALENDAR_DAYS: 30}
        )
    assert CONF_SCAN_INTERVAL in exc_info.value.schema_errors
    assert entry.options[CONF_SCAN_INTERVAL] == 60


CASAVI_URL = "https://api.mycasavi.test"


def _casavi_entry() -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="casavi tenant 4711",
        unique_id="casavi_4711",
        data={CONF_KIND: "casavi", CONF_URL: CASAVI_URL, CONF_KEY: "key-1", CONF_SECRET: "old-secret"},
        options={CONF_SCAN_INTERVAL: 300, CONF_CALENDAR_DAYS: 90},
    )


async def test_casavi_flow(hass: HomeAssistant, mock_casavi: MagicMock, mock_setup_entry: AsyncMock) -> None:
    """casavi: key and secret are checked, the tenant is the unique id, polling defaults to 5 minutes."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "casavi"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "casavi"

    mock_casavi.get_account.side_effect = AuthError("refused", status=401)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: CASAVI_URL, CONF_KEY: " key-1 ", CONF_SECRET: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    mock_casavi.get_account.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: CASAVI_URL, CONF_KEY: "key-1", CONF_SECRET: "s3cret"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "casavi tenant 4711"
    assert result["data"] == {
        CONF_KIND: "casavi",
        CONF_URL: CASAVI_URL,
        CONF_KEY: "key-1",
        CONF_SECRET: "s3cret",
    }
    assert result["options"] == {CONF_SCAN_INTERVAL: 300, CONF_CALENDAR_DAYS: 90}
    assert result["result"].unique_id == "casavi_4711"


async def test_casavi_already_configured(
    hass: HomeAssistant, mock_casavi: MagicMock, mock_setup_entry: AsyncMock
) -> None:
    """The same casavi tenant cannot be added twice, even with another key."""
    _casavi_entry().add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "casavi"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: CASAVI_URL, CONF_KEY: "key-2", CONF_SECRET: "other"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_casavi_reauth_and_reconfigure(
    hass: HomeAssistant, mock_casavi: MagicMock, mock_setup_entry: AsyncMock
) -> None:
    """Reauth asks for key and secret (the key pre-filled); reconfigure can change all three."""
    entry = _casavi_entry()
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert set(result["data_schema"].schema) == {CONF_KEY, CONF_SECRET}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: "key-2", CONF_SECRET: "new-secret"}
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_KEY] == "key-2"
    assert entry.data[CONF_SECRET] == "new-secret"

    result = await entry.start_reconfigure_flow(hass)
    assert set(result["data_schema"].schema) == {CONF_URL, CONF_KEY, CONF_SECRET}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "https://casavi.example/", CONF_KEY: "key-3", CONF_SECRET: "s3"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_URL] == "https://casavi.example"
    assert entry.data[CONF_KIND] == "casavi"
    await (
        hass.async_block_till_done()
    )  # the reload the flows scheduled sets the integration up (frontend, http)


async def test_casavi_options_default(hass: HomeAssistant, mock_setup_entry: AsyncMock) -> None:
    """An entry without stored options shows the kind's own default interval."""
    entry = _casavi_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={})
    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"].schema
    suggested = {str(key): key.description["suggested_value"] for key in schema}
    assert suggested == {CONF_SCAN_INTERVAL: 300, CONF_CALENDAR_DAYS: 90}


async def test_nuki_flow(hass: HomeAssistant, mock_setup_entry: AsyncMock) -> None:
    """Nuki Web: the token is checked with GET /account; the account id (namespaced) is the unique id."""
    with patch("custom_components.kasify.providers.nuki.NukiClient", autospec=True) as cls:
        cls.return_value.get_account = AsyncMock(return_value=NukiAccount(id="4242", name="host@example.com"))
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "nuki"})
        assert result["step_id"] == "nuki"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_URL: "https://api.nuki.io", CONF_API_TOKEN: "nuki-token"}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Nuki host@example.com"
    assert result["data"] == {
        CONF_KIND: "nuki",
        CONF_URL: "https://api.nuki.io",
        CONF_API_TOKEN: "nuki-token",
    }
    assert result["result"].unique_id == "nuki_4242"


FINGERPRINT = ":".join(["AB"] * 32)
UNIFI_INPUT = {
    CONF_HOST: " 192.168.1.1 ",
    CONF_PORT: 12445,
    CONF_API_TOKEN: "unifi-token",
    CONF_VERIFY_SSL: True,
    CONF_FINGERPRINT: FINGERPRINT,
}


@pytest.fixture
def mock_unifi() -> Generator[MagicMock]:
    """The UniFi Access client class as the flow builds it."""
    with patch("custom_components.kasify.providers.unifi_access.UnifiAccessClient", autospec=True) as cls:
        cls.return_value.list_doors = AsyncMock(return_value=[])
        yield cls


def _unifi_entry() -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="UniFi Access 192.168.1.1",
        unique_id="unifi_192.168.1.1",
        data={
            CONF_KIND: "unifi_access",
            CONF_HOST: "192.168.1.1",
            CONF_PORT: 12445,
            CONF_API_TOKEN: "old-token",
            CONF_VERIFY_SSL: True,
            CONF_FINGERPRINT: FINGERPRINT,
        },
        options={CONF_SCAN_INTERVAL: 60, CONF_CALENDAR_DAYS: 90},
    )


async def test_unifi_flow(hass: HomeAssistant, mock_unifi: MagicMock, mock_setup_entry: AsyncMock) -> None:
    """UniFi Access: doors listed with the entered settings; the host (namespaced) is the unique id."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "unifi_access"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "unifi_access"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], UNIFI_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "UniFi Access 192.168.1.1"
    assert result["data"] == {
        CONF_KIND: "unifi_access",
        CONF_HOST: "192.168.1.1",
        CONF_PORT: 12445,
        CONF_API_TOKEN: "unifi-token",
        CONF_VERIFY_SSL: True,
        CONF_FINGERPRINT: FINGERPRINT,
    }
    assert result["result"].unique_id == "unifi_192.168.1.1"
    _session, host, token = mock_unifi.call_args.args
    assert (host, token) == ("192.168.1.1", "unifi-token")
    assert mock_unifi.call_args.kwargs == {"port": 12445, "verify_ssl": True, "fingerprint": FINGERPRINT}
    mock_unifi.return_value.list_doors.assert_awaited_once()

    # The same controller again is refused.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "unifi_access"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], UNIFI_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (AuthError("401"), {"base": "invalid_auth"}),
        (MissingPermissionError("403", permission="view:space"), {"base": "invalid_auth"}),
        (ApiConnectionError("down"), {"base": "cannot_connect"}),
        (ServerError("500"), {"base": "cannot_connect"}),
        (
            CertificateMismatchError("pinned", expected=FINGERPRINT, actual=":".join(["CD"] * 32)),
            {"base": "certificate_mismatch"},
        ),
        (RuntimeError("boom"), {"base": "unknown"}),
    ],
)
async def test_unifi_errors(
    hass: HomeAssistant,
    mock_unifi: MagicMock,
    mock_setup_entry: AsyncMock,
    error: Exception,
    expected: dict[str, str],
) -> None:
    """Every failure keeps the form open with its error; a wrong pinned certificate is refused."""
    mock_unifi.return_value.list_doors.side_effect = error
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "unifi_access"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], UNIFI_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == expected


async def test_unifi_invalid_fingerprint(
    hass: HomeAssistant, mock_unifi: MagicMock, mock_setup_entry: AsyncMock
) -> None:
    """A fingerprint that is not 64 hex digits is refused before anything is sent."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "unifi_access"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**UNIFI_INPUT, CONF_FINGERPRINT: "AB:CD"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_FINGERPRINT: "invalid_fingerprint"}
    mock_unifi.assert_not_called()


async def test_unifi_reauth_and_reconfigure(
    hass: HomeAssistant, mock_unifi: MagicMock, mock_setup_entry: AsyncMock
) -> None:
    """Reauth asks only the token; reconfigure every field, and an emptied fingerprint removes the pin."""
    entry = _unifi_entry()
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert [str(key) for key in result["data_schema"].schema] == [CONF_API_TOKEN]
    assert result["description_placeholders"]["url"] == "192.168.1.1"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_TOKEN: "new-token"})
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_TOKEN] == "new-token"
    assert entry.data[CONF_FINGERPRINT] == FINGERPRINT

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    assert {str(key) for key in result["data_schema"].schema} == {
        CONF_HOST,
        CONF_PORT,
        CONF_API_TOKEN,
        CONF_VERIFY_SSL,
        CONF_FINGERPRINT,
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "192.168.1.1", CONF_PORT: 12446, CONF_API_TOKEN: "t3", CONF_VERIFY_SSL: False},
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == 12446
    assert entry.data[CONF_VERIFY_SSL] is False
    assert entry.data[CONF_FINGERPRINT] == ""

    # Another controller is another account.
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**UNIFI_INPUT, CONF_HOST: "10.0.0.2"}
    )
    assert result["reason"] == "wrong_account"
    assert entry.data[CONF_HOST] == "192.168.1.1"


@pytest.mark.parametrize(
    ("presented", "suggested"),
    [(":".join(["CD"] * 32), ":".join(["CD"] * 32)), (ApiConnectionError("refused"), "")],
)
async def test_unifi_untrusted_certificate_offers_its_fingerprint(
    hass: HomeAssistant,
    mock_unifi: MagicMock,
    mock_setup_entry: AsyncMock,
    presented: str | Exception,
    suggested: str,
) -> None:
    """Verification on against a self-signed controller: the form comes back with the presented
    certificate's fingerprint filled in, to compare and pin."""
    mock_unifi.return_value.list_doors.side_effect = CertificateError("self-signed")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "unifi_access"}
    )
    with patch(
        "custom_components.kasify.providers.unifi_access.get_certificate_fingerprint",
        AsyncMock(side_effect=[presented]),
    ) as fetch:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**UNIFI_INPUT, CONF_FINGERPRINT: ""}
        )
    fetch.assert_awaited_once_with("192.168.1.1", 12445)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "untrusted_certificate"}
    values = {str(key): key.description["suggested_value"] for key in result["data_schema"].schema}
    assert values[CONF_FINGERPRINT] == suggested
    assert values[CONF_HOST] == " 192.168.1.1 "
