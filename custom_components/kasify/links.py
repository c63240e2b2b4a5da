"""Questions that span config entries: the property of a lock or a booking, the provider that covers a lock.

A Kasify (or casavi) entry knows the properties; a provider entry (Nuki Web, UniFi Access, RemoteLock) knows
the locks it can control. These functions join them, always over the entries that are live right now, so the
answers follow entries as they load and unload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta, tzinfo
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util

from . import compat
from .api.turns import LoopTurns
from .const import CONF_KIND, DOMAIN, KIND_KASIFY
from .coordinator import KasifyConfigEntry, PropertySourceCoordinator, ProviderCoordinator
from .scale import PerData, entities_added, first_by, loop_turns, one_pass, within_pass

# Around a check-in or check-out guests and cleaners use the door: locks are polled this often then.
STAY_CHANGE_INTERVAL: Final = timedelta(seconds=15)
STAY_CHANGE_MARGIN: Final = timedelta(minutes=30)
# Look-ups across entries, kept while the entries' data stays the same.
_PER_DATA: Final = f"{DOMAIN}_links"
_LINKING: Final = f"{DOMAIN}_linking"

type LockSource = PropertySourceCoordinator[Any] | ProviderCoordinator[Any, Any]


def live_entries(hass: HomeAssistant) -> list[KasifyConfigEntry]:
    """Entries that are loaded or far enough in their setup to hold their runtime data.

    An entry still setting up counts (it links devices and asks the Kasify entries to reload from its setup);
    one unloading does not (its locks go back to Kasify).
    """
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_IN_PROGRESS)
        and getattr(entry, "runtime_data", None) is not None
    ]


def property_sources(hass: HomeAssistant) -> list[PropertySourceCoordinator[Any]]:
    """The coordinators of the live Kasify and casavi entries that have data."""
    return within_pass(
        hass,
        "property_sources",
        lambda: [
            coordinator
            for entry in live_entries(hass)
            if isinstance(coordinator := entry.runtime_data.coordinator, PropertySourceCoordinator)
            and coordinator.data is not None
        ],
    )


def providers(hass: HomeAssistant) -> list[ProviderCoordinator[Any, Any]]:
    """The coordinators of the live lock-provider entries that have data."""
    return within_pass(
        hass,
        "providers",
        lambda: [
            coordinator
            for entry in live_entries(hass)
            if isinstance(coordinator := entry.runtime_data.coordinator, ProviderCoordinator)
            and coordinator.data is not None
        ],
    )


def linked_property(hass: HomeAssistant, device_key: str) -> tuple[str, str] | None:
    """The property device a lock belongs to, as a property source records it (Kasify's smart locks)."""
    for source in property_sources(hass):
        if (property_id := source.property_of_lock(device_key)) is not None:
            return source.property_identifier(property_id)
    return None


def booking_property(hass: HomeAssistant, booking_id: str) -> tuple[str, str] | None:
    """The property device identifier of a booking a live property source lists (None when none does)."""
    for source in property_sources(hass):
        if (property_id := source.property_of_booking(booking_id)) is not None:
            return source.property_identifier(property_id)
    return None


def off_booking_property(hass: HomeAssistant, entity_ids: Iterable[str], booking_id: str) -> str | None:
    """The first lock entity that does not hang under the property of the booking (None: all do).

    None as well when no live property source lists the booking (nothing to check it against).
    """
    if (identifier := booking_property(hass, booking_id)) is None:
        return None
    device = property_device(hass, identifier)
    ent_reg, dev_reg = er.async_get(hass), dr.async_get(hass)
    for entity_id in entity_ids:
        entry = ent_reg.async_get(entity_id)
        lock = dev_reg.async_get(entry.device_id) if entry is not None and entry.device_id else None
        if device is None or lock is None or lock.via_device_id != device.id:
            return entity_id
    return None


def actions_zone(hass: HomeAssistant, entity_ids: Iterable[str], booking_id: str | None) -> tzinfo:
    """The time zone naive times in an action on these locks are read in.

    The zone of the booking's property when a live property source lists the booking; else the one zone of
    the properties the locks hang under; else (no property, or properties in different zones) Home
    Assistant's.
    """
    sources = property_sources(hass)
    for source in sources if booking_id else ():
        if (property_id := source.property_of_booking(booking_id or "")) is not None:
            return source.property_zone(property_id)
    ent_reg, dev_reg = er.async_get(hass), dr.async_get(hass)
    zones: set[tzinfo] = set()
    for entity_id in entity_ids:
        entry = ent_reg.async_get(entity_id)
        lock = dev_reg.async_get(entry.device_id) if entry is not None and entry.device_id else None
        parent = dev_reg.async_get(lock.via_device_id) if lock is not None and lock.via_device_id else None
        if parent is None:
            return dt_util.get_default_time_zone()
        zones |= {
            source.property_zone(pid)
            for source in sources
            for pid in source.data.properties
            if source.property_identifier(pid) in parent.identifiers
        }
    return zones.pop() if len(zones) == 1 else dt_util.get_default_time_zone()


def property_device(hass: HomeAssistant, identifier: tuple[str, str] | None) -> dr.DeviceEntry | None:
    """The registered device of a property, in the live Kasify or casavi entry that has the property."""
    if identifier is None:
        return None
    for source in property_sources(hass):
        if identifier in source.property_identifiers():
            return compat.device_by_identifier(hass, identifier, source.config_entry.entry_id)
    return None


def _kept[T](hass: HomeAssistant, name: str, sources: tuple[object, ...], build: Callable[[], T]) -> T:
    """``build()`` once for these coordinators' data (by identity); asked for every lock, kept meanwhile."""
    per_data: PerData = hass.data.setdefault(_PER_DATA, PerData())
    return per_data.get(name, sources, build)


def property_choices(hass: HomeAssistant) -> dict[str, str]:
    """Every property of the live Kasify and casavi entries: device identifier → name."""
    sources = property_sources(hass)
    return _kept(
        hass,
        "property_choices",
        tuple(item for source in sources for item in (source, source.data)),
        lambda: {
            source.property_identifier(pid)[1]: prop.name
            for source in sources
            for pid, prop in source.data.properties.items()
        },
    )


def name_key(name: str) -> str:
    """A name as names are matched: case and spacing aside."""
    return " ".join(name.casefold().split())


def property_names(hass: HomeAssistant) -> dict[str, str]:
    """Every property's matching name (:func:`name_key`) → its identifier (the first, when names repeat)."""
    choices = property_choices(hass)

    return _kept(
        hass,
        "property_names",
        (choices,),
        lambda: {
            key: identifier
            for key, (identifier, _) in first_by(choices.items(), lambda c: name_key(c[1])).items()
        },
    )


def provider_lock_keys(hass: HomeAssistant) -> frozenset[str]:
    """Device keys of every lock a live provider entry (Nuki Web, UniFi Access, RemoteLock) controls."""
    current = providers(hass)
    return _kept(
        hass,
        "provider_lock_keys",
        tuple(item for provider in current for item in (provider, provider.data)),
        lambda: frozenset(key for provider in current for key in provider.lock_views),
    )


def link_lock_devices(hass: HomeAssistant, coordinator: LockSource | None = None) -> None:
    """Hang every lock device of ``coordinator``'s entry (default: of every live entry) under its property.

    Run after an entry's platforms are set up (its devices exist from then on), after property sources refresh
    (properties come and go, locks move between them) and after providers refresh. The work is done soon, in a
    task of Home Assistant (``async_block_till_done`` waits for it) that first waits for the entities being
    added and then goes lock by lock within the integration's turn budget on the loop (thousands of locks
    are thousands of registry look-ups).
    """
    links: _Linking = hass.data.setdefault(_LINKING, _Linking())
    if coordinator is None:
        links.everyone = True
    else:
        links.pending[coordinator] = None
    if links.task is None:
        links.task = hass.async_create_task(_link(hass, links), f"{DOMAIN} lock links", eager_start=False)


async def lock_links_done(hass: HomeAssistant) -> None:
    """Return once the lock links asked for so far are synchronised (at once when none are pending).

    A check that goes by the registry's links (a booking's code only on its property's locks) waits for this:
    right after set-up the links are still being made.
    """
    links: _Linking | None = hass.data.get(_LINKING)
    while links is not None and (task := links.task) is not None:
        await asyncio.wait([task])  # not cancelled with the waiter; its end (even cancelled) is enough


class _Linking:
    """Which entries' lock links are to be synchronised, and the task doing it."""

    def __init__(self) -> None:
        self.everyone = False
        self.pending: dict[LockSource, None] = {}
        self.task: asyncio.Task[None] | None = None


async def _link(hass: HomeAssistant, links: _Linking) -> None:
    turns = loop_turns(hass)
    try:
        while links.everyone or links.pending:
            await entities_added(hass)
            if links.everyone:
                links.everyone = False
                links.pending.clear()
                with one_pass(hass):
                    todo = [entry.runtime_data.coordinator for entry in live_entries(hass)]
            else:
                todo = list(links.pending)
                links.pending.clear()
            for coordinator in todo:
                if coordinator.data is not None:
                    await _in_turns(hass, turns, coordinator.sync_lock_links())
    finally:
        links.task = None


async def _in_turns(hass: HomeAssistant, turns: LoopTurns, steps: Iterator[None]) -> None:
    """Run ``steps`` within the turn budget, each stretch of them in one pass (:func:`one_pass`)."""
    while True:
        await turns.take()
        with one_pass(hass):
            while True:
                if next(steps, _DONE) is _DONE:
                    return
                if not turns.left():
                    break


_DONE: Final = object()


def stay_change_near(
    hass: HomeAssistant, device_keys: set[str], properties: set[tuple[str, str]] | None = None
) -> bool:
    """Whether a property with one of these locks, or one of ``properties``, has a stay change soon.

    Soon: a check-in or check-out within :data:`STAY_CHANGE_MARGIN`.
    """
    now = dt_util.utcnow()
    for source in property_sources(hass):
        near = source.stay_change_properties(now - STAY_CHANGE_MARGIN, now + STAY_CHANGE_MARGIN)
        if any(source.property_identifier(pid) in (properties or ()) for pid in near):
            return True
        if near and any(source.property_of_lock(key) in near for key in device_keys):
            return True
    return False


@callback
def reload_property_sources(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """A provider entry sets up: the entries that show its locks read-only reload, now and when it unloads.

    They stop showing those locks while the provider is loaded, and show them again once it is not. A Kasify
    entry still setting up (reloading because the provider went a moment ago, as when the provider itself
    reloads) reloads again once it is done: it may have looked before the provider was back.
    """

    @callback
    def _reload() -> None:
        for other in hass.config_entries.async_entries(DOMAIN):
            if other.data.get(CONF_KIND, KIND_KASIFY) == KIND_KASIFY and other.state in (
                ConfigEntryState.LOADED,
                ConfigEntryState.SETUP_IN_PROGRESS,
            ):
                hass.config_entries.async_schedule_reload(other.entry_id)

    _reload()
    entry.async_on_unload(_reload)
