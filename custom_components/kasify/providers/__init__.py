"""The account kinds: everything about one upstream on the Home Assistant side, one module each.

``PROVIDERS`` maps a config entry's kind to how it is added (form, check), set up, started after its
platforms and cleaned up when deleted; ``__init__.py`` and the config flow dispatch through it and know no
kind by its details.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from homeassistant.core import HomeAssistant
import voluptuous as vol

from ..api.models import Account
from ..const import (
    CONF_API_TOKEN,
    CONF_KEY,
    CONF_SECRET,
    DEFAULT_SCAN_INTERVAL,
    KIND_CASAVI,
    KIND_KASIFY,
    KIND_NUKI,
    KIND_REMOTELOCK,
    KIND_UNIFI,
)
from ..coordinator import KasifyConfigEntry, KasifyRuntimeData
from . import casavi, kasify, nuki, remotelock, unifi_access

type EntryHook = Callable[[HomeAssistant, KasifyConfigEntry], Awaitable[None]]


async def _nothing(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """No work for this kind at this point."""


async def _no_suggestion(hass: HomeAssistant, data: Mapping[str, Any], error: str) -> dict[str, Any]:
    """Nothing to offer the user after a failed check."""
    return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountKind:
    """How one kind of account is added and lives in Home Assistant."""

    setup: Callable[[HomeAssistant, KasifyConfigEntry], Awaitable[KasifyRuntimeData]]
    """Connect and load the account; raises ConfigEntryAuthFailed / ConfigEntryNotReady."""
    schema: vol.Schema
    """The form that adds the account (and reconfigures it)."""
    credentials: tuple[str, ...]
    """Fields asked again when the credentials are refused."""
    validate: Callable[[HomeAssistant, Mapping[str, Any]], Awaitable[Account]]
    """Check the entered data against the upstream; the account it reaches (raises ApiError)."""
    started: EntryHook = _nothing
    """After the platforms are set up (the entry's devices exist)."""
    removed: EntryHook = _nothing
    """The entry is deleted: what it created elsewhere goes too."""
    suggest: Callable[[HomeAssistant, Mapping[str, Any], str], Awaitable[dict[str, Any]]] = _no_suggestion
    """Values to offer in the form again after the check failed with this base error."""
    default_scan_interval: int = DEFAULT_SCAN_INTERVAL
    unique_id_prefix: str = ""
    """Unique ids of different kinds must never collide in the one domain."""
    step_id: str | None = None
    """The form's step, when it is not the kind (RemoteLock's form sits under its own menu)."""


PROVIDERS: Final[dict[str, AccountKind]] = {
    KIND_KASIFY: AccountKind(
        setup=kasify.async_setup,
        started=kasify.async_started,
        removed=kasify.async_removed,
        schema=kasify.SCHEMA,
        credentials=(CONF_API_TOKEN,),
        validate=kasify.async_validate,
    ),
    KIND_CASAVI: AccountKind(
        setup=casavi.async_setup,
        schema=casavi.SCHEMA,
        credentials=(CONF_KEY, CONF_SECRET),
        validate=casavi.async_validate,
        default_scan_interval=casavi.CASAVI_DEFAULT_SCAN_INTERVAL,
        unique_id_prefix="casavi_",
    ),
    KIND_NUKI: AccountKind(
        setup=nuki.async_setup,
        schema=nuki.SCHEMA,
        credentials=(CONF_API_TOKEN,),
        validate=nuki.async_validate,
        unique_id_prefix="nuki_",
    ),
    KIND_UNIFI: AccountKind(
        setup=unifi_access.async_setup,
        started=unifi_access.async_started,
        removed=unifi_access.async_removed,
        schema=unifi_access.SCHEMA,
        credentials=(CONF_API_TOKEN,),
        validate=unifi_access.async_validate,
        suggest=unifi_access.async_suggest,
        unique_id_prefix="unifi_",
    ),
    KIND_REMOTELOCK: AccountKind(
        setup=remotelock.async_setup,
        removed=remotelock.async_removed,
        schema=remotelock.SCHEMA,
        credentials=(CONF_CLIENT_ID, CONF_CLIENT_SECRET),
        validate=remotelock.async_validate,
        unique_id_prefix="remotelock_",
        step_id="remotelock_client",
    ),
}
