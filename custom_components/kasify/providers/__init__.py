"""The account kinds: everything about one upstream on the Home Assistant side, one module each.

``PROVIDERS`` maps a config entry's kind to how it is set up, started after its platforms and cleaned up
when deleted; ``__init__.py`` dispatches through it and knows no kind by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from homeassistant.core import HomeAssistant

from ..const import KIND_CASAVI, KIND_KASIFY, KIND_NUKI, KIND_REMOTELOCK, KIND_UNIFI
from ..coordinator import KasifyConfigEntry, KasifyRuntimeData
from . import casavi, kasify, nuki, remotelock, unifi_access

type EntryHook = Callable[[HomeAssistant, KasifyConfigEntry], Awaitable[None]]


async def _nothing(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """No work for this kind at this point."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountKind:
    """How one kind of account lives in Home Assistant."""

    setup: Callable[[HomeAssistant, KasifyConfigEntry], Awaitable[KasifyRuntimeData]]
    """Connect and load the account; raises ConfigEntryAuthFailed / ConfigEntryNotReady."""
    started: EntryHook = _nothing
    """After the platforms are set up (the entry's devices exist)."""
    removed: EntryHook = _nothing
    """The entry is deleted: what it created elsewhere goes too."""


PROVIDERS: Final[dict[str, AccountKind]] = {
    KIND_KASIFY: AccountKind(
        setup=kasify.async_setup, started=kasify.async_started, removed=kasify.async_removed
    ),
    KIND_CASAVI: AccountKind(setup=casavi.async_setup),
    KIND_NUKI: AccountKind(setup=nuki.async_setup),
    KIND_UNIFI: AccountKind(
        setup=unifi_access.async_setup, started=unifi_access.async_started, removed=unifi_access.async_removed
    ),
    KIND_REMOTELOCK: AccountKind(setup=remotelock.async_setup, removed=remotelock.async_removed),
}
