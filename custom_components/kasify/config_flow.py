"""Config flow for Kasify: a menu of account kinds, reauth, reconfigure and options."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
import contextlib
from dataclasses import dataclass
import logging
import secrets
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import (
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_HOST,
    CONF_PORT,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2FlowHandler
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from . import application_credentials
from .api.casavi import CasaviClient
from .api.errors import (
    ApiConnectionError,
    AuthError,
    CertificateError,
    CertificateMismatchError,
    KasifyApiError,
    MalformedResponseError,
    NotFoundError,
    ValidationError,
)
from .api.ical import IcalFeedClient, InvalidFeedUrlError, normalize_feed_url, redact_url
from .api.kasify import KasifyClient
from .api.models import Account
from .api.nuki import NukiClient
from .api.remotelock import ClientCredentialsAuth, RemoteLockClient, token_url
from .api.unifi_access import UnifiAccessClient, get_certificate_fingerprint, normalize_fingerprint
from .const import (
    CONF_API_TOKEN,
    CONF_AUTO_CODES,
    CONF_AUTO_CODES_END_OFFSET,
    CONF_AUTO_CODES_LEAD_HOURS,
    CONF_AUTO_CODES_START_OFFSET,
    CONF_CALENDAR_DAYS,
    CONF_FEED_INTERVAL,
    CONF_FINGERPRINT,
    CONF_ICAL_FEEDS,
    CONF_KEY,
    CONF_KIND,
    CONF_LOCATIONS,
    CONF_OAUTH_URL,
    CONF_PROPERTY,
    CONF_SCAN_INTERVAL,
    CONF_SECRET,
    CONF_WEBHOOK,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOK_SECRET,
    CONF_WEBHOOK_SUBSCRIBER,
    CONF_WEBHOOK_SUBSCRIPTION,
    DEFAULT_AUTO_CODES_END_OFFSET,
    DEFAULT_AUTO_CODES_LEAD_HOURS,
    DEFAULT_AUTO_CODES_START_OFFSET,
    DEFAULT_CALENDAR_DAYS,
    DEFAULT_CASAVI_URL,
    DEFAULT_KASIFY_URL,
    DEFAULT_NUKI_URL,
    DEFAULT_REMOTELOCK_OAUTH_URL,
    DEFAULT_REMOTELOCK_URL,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_UNIFI_PORT,
    DOMAIN,
    KIND_CASAVI,
    KIND_KASIFY,
    KIND_NUKI,
    KIND_REMOTELOCK,
    KIND_UNIFI,
    LOGGER,
    MAX_AUTO_CODES_LEAD_HOURS,
    MAX_AUTO_CODES_OFFSET,
    MAX_CALENDAR_DAYS,
    MAX_FEED_INTERVAL_MINUTES,
    MAX_SCAN_INTERVAL,
    MIN_AUTO_CODES_LEAD_HOURS,
    MIN_CALENDAR_DAYS,
    MIN_FEED_INTERVAL_MINUTES,
    MIN_SCAN_INTERVAL,
)
from .coordinator import KasifyConfigEntry
from .links import property_choices
from .providers.casavi import CASAVI_DEFAULT_SCAN_INTERVAL
from .providers.kasify import KasifyCoordinator
from .providers.kasify_feeds import DEFAULT_FEED_INTERVAL_MINUTES, feed_id
from .providers.remotelock.auth import uses_oauth
from .providers.remotelock.coordinator import RemoteLockCoordinator, location_property
from .providers.remotelock.webhook import stored_webhook

_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_TOKEN = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))

_TEXT = TextSelector()

KASIFY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL, default=DEFAULT_KASIFY_URL): _URL,
        vol.Required(CONF_API_TOKEN): _TOKEN,
    }
)
NUKI_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL, default=DEFAULT_NUKI_URL): _URL,
        vol.Required(CONF_API_TOKEN): _TOKEN,
    }
)
UNIFI_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT, default=DEFAULT_UNIFI_PORT): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_API_TOKEN): _TOKEN,
        vol.Required(CONF_VERIFY_SSL, default=True): BooleanSelector(),
        vol.Optional(CONF_FINGERPRINT): TextSelector(),
    }
)
REMOTELOCK_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_CLIENT_ID): _TEXT,
        vol.Required(CONF_CLIENT_SECRET): _TOKEN,
        vol.Required(CONF_URL, default=DEFAULT_REMOTELOCK_URL): _URL,
        vol.Required(CONF_OAUTH_URL, default=DEFAULT_REMOTELOCK_OAUTH_URL): _URL,
    }
)
CASAVI_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL, default=DEFAULT_CASAVI_URL): _URL,
        vol.Required(CONF_KEY): _TEXT,
        vol.Required(CONF_SECRET): _TOKEN,
    }
)


def _whole_number(minimum: int, maximum: int, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement=unit
        )
    )


# The "no property" choice of a RemoteLock location.
NO_PROPERTY = "none"

# Never pre-filled in a form.
SECRETS = {CONF_API_TOKEN, CONF_SECRET, CONF_CLIENT_SECRET}

OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SCAN_INTERVAL): _whole_number(MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL, "s"),
        vol.Required(CONF_CALENDAR_DAYS): _whole_number(MIN_CALENDAR_DAYS, MAX_CALENDAR_DAYS, "d"),
    }
)
ACCESS_CODES_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_AUTO_CODES): BooleanSelector(),
        vol.Required(CONF_AUTO_CODES_LEAD_HOURS): _whole_number(
            MIN_AUTO_CODES_LEAD_HOURS, MAX_AUTO_CODES_LEAD_HOURS, "h"
        ),
        vol.Required(CONF_AUTO_CODES_START_OFFSET): _whole_number(0, MAX_AUTO_CODES_OFFSET, "min"),
        vol.Required(CONF_AUTO_CODES_END_OFFSET): _whole_number(0, MAX_AUTO_CODES_OFFSET, "min"),
    }
)


async def _kasify_account(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """``GET /account`` with the entered URL and token."""
    client = KasifyClient(async_get_clientsession(hass), data[CONF_URL], data[CONF_API_TOKEN])
    return await client.get_account()


async def _casavi_account(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """Authenticate with the entered key and secret and name the casavi tenant."""
    client = CasaviClient(
        async_get_clientsession(hass), data[CONF_KEY], data[CONF_SECRET], base_url=data[CONF_URL]
    )
    return await client.get_account()


async def _nuki_account(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """``GET /account`` on the Nuki Web API with the entered token."""
    client = NukiClient(async_get_clientsession(hass), data[CONF_API_TOKEN], base_url=data[CONF_URL])
    account = await client.get_account()
    return Account(id=account.id, name=f"Nuki {account.name}")


def remotelock_api_url() -> str:
    """The API an account authorized through the application credentials is read from."""
    return application_credentials.API_URL


def _remotelock_user_account(user_id: str, name: str) -> Account:
    return Account(id=user_id, name=f"RemoteLock {name}")


async def _remotelock_account(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """``GET /user`` with a token of the client-credentials grant (the app owner's account)."""
    session = async_get_clientsession(hass)
    auth = ClientCredentialsAuth(
        session, token_url(data[CONF_OAUTH_URL]), data[CONF_CLIENT_ID], data[CONF_CLIENT_SECRET]
    )
    user = await RemoteLockClient(session, auth, base_url=data[CONF_URL]).get_user()
    return _remotelock_user_account(user.account_id, user.name)


async def _remotelock_oauth_account(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """``GET /user`` with the token the authorization-code grant just returned."""
    token = str(data["token"]["access_token"])

    async def _token() -> str:
        return token

    client = RemoteLockClient(async_get_clientsession(hass), _token, base_url=data[CONF_URL])
    user = await client.get_user()
    return _remotelock_user_account(user.account_id, user.name)


class InvalidFingerprintError(ValueError):
    """The pinned fingerprint is not a SHA-256 fingerprint."""


async def _unifi_account(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """List the controller's doors with the entered host, token and certificate settings.

    The host is the account (DESIGN.md): one entry per controller.
    """
    fingerprint = data.get(CONF_FINGERPRINT) or None
    if fingerprint is not None:
        try:
            normalize_fingerprint(fingerprint)
        except ValueError as err:
            raise InvalidFingerprintError(str(err)) from err
    client = UnifiAccessClient(
        async_get_clientsession(hass),
        data[CONF_HOST],
        data[CONF_API_TOKEN],
        port=int(data[CONF_PORT]),
        verify_ssl=data[CONF_VERIFY_SSL],
        fingerprint=fingerprint,
    )
    await client.list_doors()
    return Account(id=data[CONF_HOST].lower(), name=f"UniFi Access {data[CONF_HOST]}")


async def _presented_fingerprint(data: Mapping[str, Any]) -> str:
    """The SHA-256 fingerprint of the certificate the controller presents ("" when it cannot be read)."""
    try:
        return await get_certificate_fingerprint(data[CONF_HOST], int(data[CONF_PORT]))
    except ApiConnectionError as err:
        LOGGER.debug("Could not read the controller's certificate: %s", err)
        return ""


@dataclass(frozen=True, slots=True)
class _Kind:
    """What the flow needs to know about one kind of account."""

    schema: vol.Schema
    # Fields asked again when the credentials are refused.
    credentials: tuple[str, ...]
    account: Callable[[HomeAssistant, Mapping[str, Any]], Awaitable[Account]]
    default_scan_interval: int
    # Unique ids of different kinds must never collide in the one domain.
    unique_id_prefix: str = ""


KINDS: dict[str, _Kind] = {
    KIND_KASIFY: _Kind(KASIFY_SCHEMA, (CONF_API_TOKEN,), _kasify_account, DEFAULT_SCAN_INTERVAL),
    KIND_CASAVI: _Kind(
        CASAVI_SCHEMA, (CONF_KEY, CONF_SECRET), _casavi_account, CASAVI_DEFAULT_SCAN_INTERVAL, "casavi_"
    ),
    KIND_NUKI: _Kind(NUKI_SCHEMA, (CONF_API_TOKEN,), _nuki_account, DEFAULT_SCAN_INTERVAL, "nuki_"),
    KIND_UNIFI: _Kind(UNIFI_SCHEMA, (CONF_API_TOKEN,), _unifi_account, DEFAULT_SCAN_INTERVAL, "unifi_"),
    KIND_REMOTELOCK: _Kind(
        REMOTELOCK_SCHEMA,
        (CONF_CLIENT_ID, CONF_CLIENT_SECRET),
        _remotelock_account,
        DEFAULT_SCAN_INTERVAL,
        "remotelock_",
    ),
}
# Steps whose id is not the kind's (RemoteLock's client-credentials form sits under its own menu).
STEP_IDS: dict[str, str] = {KIND_REMOTELOCK: "remotelock_client"}


def _kind_of(entry: KasifyConfigEntry) -> str:
    return str(entry.data.get(CONF_KIND, KIND_KASIFY))


def _clean(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Trim what the user typed; a URL loses its trailing slash."""
    cleaned = {key: value.strip() if isinstance(value, str) else value for key, value in user_input.items()}
    if CONF_URL in cleaned:
        cleaned[CONF_URL] = cleaned[CONF_URL].rstrip("/")
    if CONF_PORT in cleaned:
        cleaned[CONF_PORT] = int(cleaned[CONF_PORT])
    return cleaned


class KasifyConfigFlow(AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Add a Kasify, casavi, Nuki Web, UniFi Access or RemoteLock account.

    RemoteLock offers both of its OAuth2 grants: the authorization code (Home Assistant's application
    credentials, the inherited OAuth2 steps) and the client credentials of the user's own application.
    """

    DOMAIN = DOMAIN
    VERSION = 1
    MINOR_VERSION = 1

    @property
    def logger(self) -> logging.Logger:
        """Where the OAuth2 steps log."""
        return LOGGER

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: KasifyConfigEntry) -> KasifyOptionsFlow:
        """Options: polling interval and calendar window."""
        return KasifyOptionsFlow()

    async def _account(self, kind: str, data: Mapping[str, Any], errors: dict[str, str]) -> Account | None:
        """Check the entered data against the upstream; fill ``errors`` and return None on failure."""
        return await self._account_with(KINDS[kind].account, kind, data, errors)

    async def _account_with(
        self,
        account: Callable[[HomeAssistant, Mapping[str, Any]], Awaitable[Account]],
        kind: str,
        data: Mapping[str, Any],
        errors: dict[str, str],
    ) -> Account | None:
        try:
            return await account(self.hass, data)
        except AuthError:
            errors["base"] = "invalid_auth"
        except InvalidFingerprintError:
            errors[CONF_FINGERPRINT] = "invalid_fingerprint"
        except CertificateMismatchError as err:
            LOGGER.debug("The %s certificate is not the pinned one: %s", kind, err)
            errors["base"] = "certificate_mismatch"
        except CertificateError as err:
            LOGGER.debug("The %s certificate is not trusted: %s", kind, err)
            errors["base"] = "untrusted_certificate"
        except ApiConnectionError:
            errors["base"] = "cannot_connect"
        except KasifyApiError as err:
            # Reached something, but not the API (wrong URL, proxy error page, 5xx).
            LOGGER.debug("Validation of the %s account failed: %s", kind, err)
            errors["base"] = "cannot_connect"
        except Exception:  # noqa: BLE001 - any surprise becomes "unknown", with the traceback logged
            LOGGER.exception("Unexpected error validating the %s account", kind)
            errors["base"] = "unknown"
        return None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose which kind of account to add."""
        return self.async_show_menu(step_id="user", menu_options=list(KINDS))

    async def async_step_kasify(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the Kasify API URL and token, and check them."""
        return await self._async_step_add(KIND_KASIFY, user_input)

    async def async_step_nuki(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for a Nuki Web API token, and check it."""
        return await self._async_step_add(KIND_NUKI, user_input)

    async def async_step_unifi_access(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the UniFi Access controller, its API token and how to trust its certificate."""
        return await self._async_step_add(KIND_UNIFI, user_input)

    async def async_step_casavi(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the casavi API key and secret, and check them."""
        return await self._async_step_add(KIND_CASAVI, user_input)

    async def async_step_remotelock(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """RemoteLock: sign in (authorization code) or use an application's client credentials."""
        return self.async_show_menu(
            step_id="remotelock", menu_options=["pick_implementation", "remotelock_client"]
        )

    async def async_step_remotelock_client(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a RemoteLock application's client id and secret (client-credentials grant)."""
        return await self._async_step_add(KIND_REMOTELOCK, user_input)

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Signed in at RemoteLock: name the account, then add its entry (or update it on reauth)."""
        data = {CONF_KIND: KIND_REMOTELOCK, CONF_URL: remotelock_api_url(), **data}
        errors: dict[str, str] = {}
        account = await self._account_with(_remotelock_oauth_account, KIND_REMOTELOCK, data, errors)
        if account is None:
            return self.async_abort(reason=errors["base"])
        await self.async_set_unique_id(KINDS[KIND_REMOTELOCK].unique_id_prefix + account.id)
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            entry = (
                self._get_reauth_entry() if self.source == SOURCE_REAUTH else self._get_reconfigure_entry()
            )
            return self.async_update_reload_and_abort(entry, data=data)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=account.name,
            data=data,
            options={CONF_SCAN_INTERVAL: KINDS[KIND_REMOTELOCK].default_scan_interval},
        )

    async def _async_step_add(self, kind: str, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _clean(user_input)
            account = await self._account(kind, data, errors)
            if account is not None:
                await self.async_set_unique_id(KINDS[kind].unique_id_prefix + account.id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=account.name,
                    data={CONF_KIND: kind, **data},
                    options={
                        CONF_SCAN_INTERVAL: KINDS[kind].default_scan_interval,
                        CONF_CALENDAR_DAYS: DEFAULT_CALENDAR_DAYS,
                    },
                )
            if errors.get("base") == "untrusted_certificate":
                # Trust on first use: offer the certificate the controller presents, for the user to compare
                # with the one the UniFi console shows and pin.
                user_input = {**user_input, CONF_FINGERPRINT: await _presented_fingerprint(data)}
        return self.async_show_form(
            step_id=STEP_IDS.get(kind, kind),
            data_schema=self.add_suggested_values_to_schema(KINDS[kind].schema, user_input),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The credentials were refused: ask for new ones."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Check the new credentials against the same account."""
        entry = self._get_reauth_entry()
        kind = KINDS[_kind_of(entry)]
        errors: dict[str, str] = {}
        if uses_oauth(entry.data):
            # Signed in through RemoteLock: confirm, then sign in again (the OAuth2 steps).
            if user_input is not None:
                return await self.async_step_pick_implementation()
            return self.async_show_form(
                step_id="reauth_confirm",
                data_schema=vol.Schema({}),
                description_placeholders={"account": entry.title, "url": "RemoteLock"},
            )
        if user_input is not None:
            updates = _clean(user_input)
            account = await self._account(_kind_of(entry), {**entry.data, **updates}, errors)
            if account is not None:
                await self.async_set_unique_id(kind.unique_id_prefix + account.id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(entry, data_updates=updates)
        schema = vol.Schema(
            {key: kind.schema.schema[key] for key in kind.schema.schema if key in kind.credentials}
        )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                schema, {key: entry.data[key] for key in kind.credentials if key not in SECRETS}
            ),
            errors=errors,
            description_placeholders={
                "account": entry.title,
                "url": str(entry.data.get(CONF_URL) or entry.data.get(CONF_HOST, "")),
            },
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the connection of the same account."""
        entry = self._get_reconfigure_entry()
        if uses_oauth(entry.data):
            # Nothing to type: the account is linked again by signing in at RemoteLock.
            return await self.async_step_pick_implementation()
        kind = KINDS[_kind_of(entry)]
        errors: dict[str, str] = {}
        if user_input is not None:
            updates = _clean(user_input)
            if _kind_of(entry) == KIND_UNIFI:
                # An emptied optional field removes the pinned fingerprint.
                updates.setdefault(CONF_FINGERPRINT, "")
            account = await self._account(_kind_of(entry), updates, errors)
            if account is not None:
                await self.async_set_unique_id(kind.unique_id_prefix + account.id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(entry, data_updates=updates)
        suggested = user_input or {key: value for key, value in entry.data.items() if key not in SECRETS}
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(kind.schema, suggested),
            errors=errors,
        )


class KasifyOptionsFlow(OptionsFlow):
    """Tunables of an entry, and a Kasify entry's extra iCal feeds; saving reloads the entry once."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Kasify and RemoteLock: choose what to change; the others have only the polling settings."""
        if _kind_of(self.config_entry) == KIND_REMOTELOCK:
            return self.async_show_menu(step_id="init", menu_options=["settings", "locations", "webhook"])
        if _kind_of(self.config_entry) != KIND_KASIFY:
            return await self.async_step_settings(user_input)
        menu = ["settings", "add_feed", "access_codes"]
        if self.config_entry.options.get(CONF_ICAL_FEEDS):
            menu.append("remove_feed")
        return self.async_show_menu(step_id="init", menu_options=menu)

    def _save(self, changes: Mapping[str, Any]) -> ConfigFlowResult:
        # One reload mechanism for every flow (no update listener): store, then schedule the reload.
        options = {**self.config_entry.options, **changes}
        self.hass.config_entries.async_update_entry(self.config_entry, options=options)
        self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
        return self.async_create_entry(data=options)

    async def async_step_settings(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Polling interval and how many days of calendar to keep ahead."""
        if user_input is not None:
            return self._save(
                {
                    CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
                    CONF_CALENDAR_DAYS: int(user_input[CONF_CALENDAR_DAYS]),
                }
            )
        kind = KINDS[_kind_of(self.config_entry)]
        current = {
            CONF_SCAN_INTERVAL: self.config_entry.options.get(CONF_SCAN_INTERVAL, kind.default_scan_interval),
            CONF_CALENDAR_DAYS: self.config_entry.options.get(CONF_CALENDAR_DAYS, DEFAULT_CALENDAR_DAYS),
        }
        return self.async_show_form(
            step_id="settings", data_schema=self.add_suggested_values_to_schema(OPTIONS_SCHEMA, current)
        )

    async def async_step_access_codes(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Automatic per-booking codes on the properties' locks: on/off, lead time and validity margins."""
        keys = (CONF_AUTO_CODES_LEAD_HOURS, CONF_AUTO_CODES_START_OFFSET, CONF_AUTO_CODES_END_OFFSET)
        if user_input is not None:
            return self._save(
                {CONF_AUTO_CODES: bool(user_input[CONF_AUTO_CODES])}
                | {key: int(user_input[key]) for key in keys}
            )
        defaults = {
            CONF_AUTO_CODES: False,
            CONF_AUTO_CODES_LEAD_HOURS: DEFAULT_AUTO_CODES_LEAD_HOURS,
            CONF_AUTO_CODES_START_OFFSET: DEFAULT_AUTO_CODES_START_OFFSET,
            CONF_AUTO_CODES_END_OFFSET: DEFAULT_AUTO_CODES_END_OFFSET,
        }
        current = {key: self.config_entry.options.get(key, default) for key, default in defaults.items()}
        return self.async_show_form(
            step_id="access_codes",
            data_schema=self.add_suggested_values_to_schema(ACCESS_CODES_SCHEMA, current),
        )

    def _properties(self) -> dict[str, str]:
        """Property id → name, from the loaded entry."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return {}
        coordinator = self.config_entry.runtime_data.coordinator
        if not isinstance(coordinator, KasifyCoordinator):  # pragma: no cover - the menu is Kasify-only
            return {}
        return {pid: prop.name for pid, prop in coordinator.data.properties.items()}

    def _known_feed_urls(self) -> set[str]:
        urls = {
            normalize_feed_url(feed[CONF_URL]) for feed in self.config_entry.options.get(CONF_ICAL_FEEDS, [])
        }
        coordinator = (
            self.config_entry.runtime_data.coordinator
            if self.config_entry.state is ConfigEntryState.LOADED
            else None
        )
        if isinstance(coordinator, KasifyCoordinator):
            for prop in coordinator.data.properties.values():
                urls |= {normalize_feed_url(c.url) for c in prop.calendars if c.url}
        return urls

    async def async_step_add_feed(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """An Airbnb / Booking.com / VRBO export URL for one property, checked by fetching it once."""
        properties = self._properties()
        if not properties:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            url = str(user_input[CONF_URL]).strip()
            try:
                normalized = normalize_feed_url(url)
            except InvalidFeedUrlError:
                errors[CONF_URL] = "invalid_feed_url"
            else:
                if normalized in self._known_feed_urls():
                    errors[CONF_URL] = "feed_exists"
                else:
                    errors.update(await self._check_feed(url))
            if not errors:
                feed = {
                    CONF_PROPERTY: user_input[CONF_PROPERTY],
                    CONF_URL: url,
                    CONF_FEED_INTERVAL: int(user_input[CONF_FEED_INTERVAL]),
                }
                return self._save(
                    {CONF_ICAL_FEEDS: [*self.config_entry.options.get(CONF_ICAL_FEEDS, []), feed]}
                )
        schema = vol.Schema(
            {
                vol.Required(CONF_PROPERTY): SelectSelector(
                    SelectSelectorConfig(
                        options=[SelectOptionDict(value=pid, label=name) for pid, name in properties.items()],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Required(CONF_URL): _URL,
                vol.Required(CONF_FEED_INTERVAL, default=DEFAULT_FEED_INTERVAL_MINUTES): _whole_number(
                    MIN_FEED_INTERVAL_MINUTES, MAX_FEED_INTERVAL_MINUTES, "min"
                ),
            }
        )
        return self.async_show_form(
            step_id="add_feed",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def _check_feed(self, url: str) -> dict[str, str]:
        """Fetch and parse the feed once; the form error for what went wrong (the URL is never logged)."""
        client = IcalFeedClient(async_get_clientsession(self.hass))
        try:
            await client.validate(
                url,
                default_zone=dt_util.get_default_time_zone(),
                run_in_executor=self.hass.async_add_executor_job,
            )
        except NotFoundError:
            return {CONF_URL: "feed_not_found"}
        except AuthError:
            return {CONF_URL: "feed_refused"}
        except MalformedResponseError:
            return {CONF_URL: "not_ical"}
        except KasifyApiError as err:
            LOGGER.debug("Checking an iCal feed failed: %s", err)
            return {"base": "cannot_connect"}
        return {}

    async def async_step_remove_feed(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Remove extra feeds added here (Kasify's own calendars are managed in Kasify)."""
        feeds: list[dict[str, Any]] = self.config_entry.options.get(CONF_ICAL_FEEDS, [])
        if user_input is not None:
            remove = set(user_input[CONF_ICAL_FEEDS])
            return self._save({CONF_ICAL_FEEDS: [f for f in feeds if feed_id(f[CONF_URL]) not in remove]})
        names = self._properties()
        options = [
            SelectOptionDict(
                value=feed_id(feed[CONF_URL]),
                label=f"{names.get(feed[CONF_PROPERTY], feed[CONF_PROPERTY])}: {redact_url(feed[CONF_URL])}",
            )
            for feed in feeds
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_ICAL_FEEDS): SelectSelector(
                    SelectSelectorConfig(options=options, multiple=True, mode=SelectSelectorMode.LIST)
                )
            }
        )
        return self.async_show_form(step_id="remove_feed", data_schema=schema)

    # -- RemoteLock ----------------------------------------------------------------------------------------

    def _remotelock(self) -> RemoteLockCoordinator | None:
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return None
        coordinator = self.config_entry.runtime_data.coordinator
        return coordinator if isinstance(coordinator, RemoteLockCoordinator) else None

    async def async_step_locations(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Which property each RemoteLock location is (default: the property with the same name)."""
        coordinator = self._remotelock()
        if coordinator is None:
            return self.async_abort(reason="remotelock_not_loaded")
        locations = sorted(coordinator.data.locations.values(), key=lambda loc: loc.name.casefold())
        # The form's fields are the locations, labelled by name (made unique when two share one).
        labels: dict[str, str] = {}
        for location in locations:
            label = location.name or location.id
            labels[location.id] = label if label not in labels.values() else f"{label} ({location.id[:8]})"
        choices = property_choices(self.hass)
        if user_input is not None:
            mapping = {
                location_id: "" if user_input[label] == NO_PROPERTY else user_input[label]
                for location_id, label in labels.items()
            }
            return self._save({CONF_LOCATIONS: mapping})
        mapping = coordinator.location_mapping
        options = [SelectOptionDict(value=NO_PROPERTY, label="—")] + [
            SelectOptionDict(value=identifier, label=name)
            for identifier, name in sorted(choices.items(), key=lambda item: item[1].casefold())
        ]
        selector = SelectSelector(SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN))
        current: dict[str, str] = {}
        for location in locations:
            linked = location_property(self.hass, mapping, location)
            current[labels[location.id]] = (
                linked[1] if linked is not None and linked[1] in choices else NO_PROPERTY
            )
        schema = vol.Schema({vol.Required(label): selector for label in labels.values()})
        return self.async_show_form(
            step_id="locations", data_schema=self.add_suggested_values_to_schema(schema, current)
        )

    async def async_step_webhook(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Receive RemoteLock's events by webhook: the integration creates (or removes) it at RemoteLock."""
        coordinator = self._remotelock()
        if coordinator is None:
            return self.async_abort(reason="remotelock_not_loaded")
        options = self.config_entry.options
        enabled = bool(options.get(CONF_WEBHOOK))
        errors: dict[str, str] = {}
        placeholders = {"url": "-", "error": ""}
        if user_input is not None:
            wanted = bool(user_input[CONF_WEBHOOK])
            if wanted == enabled:
                return self._save({})
            try:
                changes = await (
                    self._enable_webhook(coordinator) if wanted else self._disable_webhook(coordinator)
                )
            except NoURLAvailableError:
                errors["base"] = "webhook_no_url"
            except ValidationError as err:
                errors["base"] = "webhook_refused"
                placeholders["error"] = f"\n\nRemoteLock: {err}"
            except KasifyApiError as err:
                LOGGER.debug("RemoteLock webhook change failed: %s", err)
                errors["base"] = "webhook_failed"
            else:
                return self._save(changes)
        if enabled and options.get(CONF_WEBHOOK_ID):
            with contextlib.suppress(NoURLAvailableError):
                placeholders["url"] = webhook.async_generate_url(self.hass, options[CONF_WEBHOOK_ID])
        schema = vol.Schema({vol.Required(CONF_WEBHOOK): BooleanSelector()})
        return self.async_show_form(
            step_id="webhook",
            data_schema=self.add_suggested_values_to_schema(schema, {CONF_WEBHOOK: enabled}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _enable_webhook(self, coordinator: RemoteLockCoordinator) -> dict[str, Any]:
        """Create a webhook subscriber for the account's events at RemoteLock (a new secret each time)."""
        webhook_id = str(self.config_entry.options.get(CONF_WEBHOOK_ID) or webhook.async_generate_id())
        url = webhook.async_generate_url(self.hass, webhook_id)
        secret = secrets.token_hex(16)
        account = await coordinator.client.get_account()
        created = await coordinator.client.create_webhook(
            name=f"Home Assistant {self.hass.config.location_name}".strip(),
            url=url,
            secret=secret,
            publisher_id=account.id,
        )
        return {
            CONF_WEBHOOK: True,
            CONF_WEBHOOK_ID: webhook_id,
            CONF_WEBHOOK_SECRET: secret,
            CONF_WEBHOOK_SUBSCRIBER: created.subscriber_id,
            CONF_WEBHOOK_SUBSCRIPTION: created.subscription_id,
        }

    async def _disable_webhook(self, coordinator: RemoteLockCoordinator) -> dict[str, Any]:
        """Remove the webhook at RemoteLock; events are polled again."""
        if (subscription := stored_webhook(self.config_entry.options)) is not None:
            await coordinator.client.delete_webhook(subscription)
        return {CONF_WEBHOOK: False, CONF_WEBHOOK_SUBSCRIBER: "", CONF_WEBHOOK_SUBSCRIPTION: ""}
