"""Config flow for Kasify: a menu of account kinds, reauth, reconfigure and options."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
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

from .api.casavi import CasaviClient
from .api.errors import (
    ApiConnectionError,
    AuthError,
    CertificateError,
    CertificateMismatchError,
    KasifyApiError,
    MalformedResponseError,
    NotFoundError,
)
from .api.ical import IcalFeedClient, InvalidFeedUrlError, normalize_feed_url, redact_url
from .api.kasify import KasifyClient
from .api.models import Account
from .api.nuki import NukiClient
from .api.unifi_access import UnifiAccessClient, get_certificate_fingerprint, normalize_fingerprint
from .const import (
    CONF_API_TOKEN,
    CONF_CALENDAR_DAYS,
    CONF_FEED_INTERVAL,
    CONF_FINGERPRINT,
    CONF_ICAL_FEEDS,
    CONF_KEY,
    CONF_KIND,
    CONF_PROPERTY,
    CONF_SCAN_INTERVAL,
    CONF_SECRET,
    DEFAULT_CALENDAR_DAYS,
    DEFAULT_CASAVI_URL,
    DEFAULT_KASIFY_URL,
    DEFAULT_NUKI_URL,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_UNIFI_PORT,
    DOMAIN,
    KIND_CASAVI,
    KIND_KASIFY,
    KIND_NUKI,
    KIND_UNIFI,
    LOGGER,
    MAX_CALENDAR_DAYS,
    MAX_FEED_INTERVAL_MINUTES,
    MAX_SCAN_INTERVAL,
    MIN_CALENDAR_DAYS,
    MIN_FEED_INTERVAL_MINUTES,
    MIN_SCAN_INTERVAL,
)
from .coordinator import (
    CASAVI_DEFAULT_SCAN_INTERVAL,
    DEFAULT_FEED_INTERVAL_MINUTES,
    KasifyConfigEntry,
    KasifyCoordinator,
    feed_id,
)

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


# Never pre-filled in a form.
SECRETS = {CONF_API_TOKEN, CONF_SECRET}

OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SCAN_INTERVAL): _whole_number(MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL, "s"),
        vol.Required(CONF_CALENDAR_DAYS): _whole_number(MIN_CALENDAR_DAYS, MAX_CALENDAR_DAYS, "d"),
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
}


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


class KasifyConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Kasify or casavi account (lock providers join this menu as they are implemented)."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: KasifyConfigEntry) -> KasifyOptionsFlow:
        """Options: polling interval and calendar window."""
        return KasifyOptionsFlow()

    async def _account(self, kind: str, data: Mapping[str, Any], errors: dict[str, str]) -> Account | None:
        """Check the entered data against the upstream; fill ``errors`` and return None on failure."""
        try:
            return await KINDS[kind].account(self.hass, data)
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
            step_id=kind,
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
        """Kasify: choose what to change; casavi has only the polling settings."""
        if _kind_of(self.config_entry) != KIND_KASIFY:
            return await self.async_step_settings(user_input)
        menu = ["settings", "add_feed"]
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
