"""Config flow for Kasify: a menu of account kinds, reauth, reconfigure and options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_URL
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .api.errors import ApiConnectionError, AuthError, KasifyApiError
from .api.kasify import KasifyClient
from .api.models import Account
from .const import (
    CONF_API_TOKEN,
    CONF_CALENDAR_DAYS,
    CONF_KIND,
    CONF_SCAN_INTERVAL,
    DEFAULT_CALENDAR_DAYS,
    DEFAULT_KASIFY_URL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    KIND_KASIFY,
    LOGGER,
    MAX_CALENDAR_DAYS,
    MAX_SCAN_INTERVAL,
    MIN_CALENDAR_DAYS,
    MIN_SCAN_INTERVAL,
)
from .coordinator import KasifyConfigEntry

_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_TOKEN = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))

KASIFY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL, default=DEFAULT_KASIFY_URL): _URL,
        vol.Required(CONF_API_TOKEN): _TOKEN,
    }
)
REAUTH_SCHEMA = vol.Schema({vol.Required(CONF_API_TOKEN): _TOKEN})


def _whole_number(minimum: int, maximum: int, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement=unit
        )
    )


OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SCAN_INTERVAL): _whole_number(MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL, "s"),
        vol.Required(CONF_CALENDAR_DAYS): _whole_number(MIN_CALENDAR_DAYS, MAX_CALENDAR_DAYS, "d"),
    }
)


async def _validate_kasify(flow: ConfigFlow, url: str, token: str, errors: dict[str, str]) -> Account | None:
    """Call ``GET /account`` with the entered data; fill ``errors`` and return None on failure."""
    client = KasifyClient(async_get_clientsession(flow.hass), url, token)
    try:
        return await client.get_account()
    except AuthError:
        errors["base"] = "invalid_auth"
    except ApiConnectionError:
        errors["base"] = "cannot_connect"
    except KasifyApiError as err:
        # Reached something, but not a Kasify API (wrong URL, proxy error page, 5xx).
        LOGGER.debug("Kasify validation failed: %s", err)
        errors["base"] = "cannot_connect"
    except Exception:  # noqa: BLE001 - any surprise becomes "unknown", with the traceback logged
        LOGGER.exception("Unexpected error validating the Kasify account")
        errors["base"] = "unknown"
    return None


class KasifyConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Kasify account (lock providers join this menu as they are implemented)."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: KasifyConfigEntry) -> KasifyOptionsFlow:
        """Options: polling interval and calendar window."""
        return KasifyOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose which kind of account to add."""
        return self.async_show_menu(step_id="user", menu_options=[KIND_KASIFY])

    async def async_step_kasify(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the Kasify API URL and token, and check them."""
        errors: dict[str, str] = {}
        if user_input is not None:
            url = user_input[CONF_URL].strip().rstrip("/")
            account = await _validate_kasify(self, url, user_input[CONF_API_TOKEN], errors)
            if account is not None:
                await self.async_set_unique_id(account.id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=account.name,
                    data={
                        CONF_KIND: KIND_KASIFY,
                        CONF_URL: url,
                        CONF_API_TOKEN: user_input[CONF_API_TOKEN],
                    },
                    options={
                        CONF_SCAN_INTERVAL: DEFAULT_SCAN_INTERVAL,
                        CONF_CALENDAR_DAYS: DEFAULT_CALENDAR_DAYS,
                    },
                )
        return self.async_show_form(
            step_id="kasify",
            data_schema=self.add_suggested_values_to_schema(KASIFY_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The token was refused: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Check the new token against the same account."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            account = await _validate_kasify(self, entry.data[CONF_URL], user_input[CONF_API_TOKEN], errors)
            if account is not None:
                await self.async_set_unique_id(account.id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_API_TOKEN: user_input[CONF_API_TOKEN]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=REAUTH_SCHEMA,
            errors=errors,
            description_placeholders={"account": entry.title, "url": entry.data[CONF_URL]},
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the API URL or token of the same account."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            url = user_input[CONF_URL].strip().rstrip("/")
            account = await _validate_kasify(self, url, user_input[CONF_API_TOKEN], errors)
            if account is not None:
                await self.async_set_unique_id(account.id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={CONF_URL: url, CONF_API_TOKEN: user_input[CONF_API_TOKEN]},
                )
        suggested = user_input or {CONF_URL: entry.data[CONF_URL]}
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(KASIFY_SCHEMA, suggested),
            errors=errors,
        )


class KasifyOptionsFlow(OptionsFlow):
    """Tunables of a Kasify entry; saving reloads the entry once."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Polling interval and how many days of bookings to keep ahead."""
        if user_input is not None:
            options = {
                CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
                CONF_CALENDAR_DAYS: int(user_input[CONF_CALENDAR_DAYS]),
            }
            # One reload mechanism for every flow (no update listener): store, then schedule the reload.
            self.hass.config_entries.async_update_entry(self.config_entry, options=options)
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
            return self.async_create_entry(data=options)
        current = {
            CONF_SCAN_INTERVAL: self.config_entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
            CONF_CALENDAR_DAYS: self.config_entry.options.get(CONF_CALENDAR_DAYS, DEFAULT_CALENDAR_DAYS),
        }
        return self.async_show_form(
            step_id="init", data_schema=self.add_suggested_values_to_schema(OPTIONS_SCHEMA, current)
        )
