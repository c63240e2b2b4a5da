"""Config flow for Kasify: a menu of account kinds, reauth and reconfigure (options: ``options_flow.py``).

What each kind asks and how it is checked is the kind's own (``providers/``, the ``PROVIDERS`` table).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
import logging
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_RECONFIGURE, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_URL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2FlowHandler
import voluptuous as vol

from .api.errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    CertificateError,
    CertificateMismatchError,
)
from .api.models import Account
from .const import (
    CONF_CALENDAR_DAYS,
    CONF_FINGERPRINT,
    CONF_KIND,
    CONF_SCAN_INTERVAL,
    DEFAULT_CALENDAR_DAYS,
    DOMAIN,
    KIND_CASAVI,
    KIND_KASIFY,
    KIND_NUKI,
    KIND_REMOTELOCK,
    KIND_UNIFI,
    LOGGER,
)
from .coordinator import KasifyConfigEntry
from .forms import SECRETS, InvalidFieldError
from .options_flow import KasifyOptionsFlow
from .providers import PROVIDERS, remotelock
from .providers.remotelock import uses_oauth

# The account kinds the flow offers, in the menu's order.
KINDS = PROVIDERS


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
        return await self._account_with(KINDS[kind].validate, kind, data, errors)

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
        except InvalidFieldError as err:
            errors[err.field] = err.error
        except CertificateMismatchError as err:
            LOGGER.debug("The %s certificate is not the pinned one: %s", kind, err)
            errors["base"] = "certificate_mismatch"
        except CertificateError as err:
            LOGGER.debug("The %s certificate is not trusted: %s", kind, err)
            errors["base"] = "untrusted_certificate"
        except ApiConnectionError:
            errors["base"] = "cannot_connect"
        except ApiError as err:
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
        data = {CONF_KIND: KIND_REMOTELOCK, CONF_URL: remotelock.api_url(), **data}
        errors: dict[str, str] = {}
        account = await self._account_with(remotelock.async_validate_oauth, KIND_REMOTELOCK, data, errors)
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
            if "base" in errors:
                user_input = {**user_input, **await KINDS[kind].suggest(self.hass, data, errors["base"])}
        return self.async_show_form(
            step_id=KINDS[kind].step_id or kind,
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
