"""What keeps a large account from stalling Home Assistant's event loop.

A host with hundreds of properties has thousands of entities on one coordinator. The work that grows with
them takes turns of the event loop from one budget per Home Assistant (:func:`loop_turns`, a
:class:`~.api.turns.LoopTurns`): whatever the integration does in one turn of the loop (listeners of several
coordinators, entities of several platforms, pages of several listings) stops after :data:`TURN_BUDGET`
seconds and lets the loop have a turn.

- :class:`SlicedListeners`: a coordinator mixin that hands a refresh to its listeners (the entities) a few
  at a time, instead of all of them in one go. A few listeners still run at once, as Home Assistant runs them.
- :func:`add_in_slices`: a platform's entities added a few at a time instead of thousands at once when an
  entry sets up.
- :func:`one_pass`: within a block of synchronous code (entries cannot load or unload meanwhile), what is
  asked about every lock (which entries are live) is worked out once (:func:`within_pass`).
- :class:`PerData`: look-ups (a lock by device key, the property of a lock, ...) worked out once per refresh's
  data instead of a scan per question, so that questions asked for every lock stay linear.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
import contextlib
from typing import Any, Final, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .api.turns import LoopTurns
from .const import DOMAIN

# How long the integration's work runs before the loop gets a turn (a stall: what the loop cannot do then).
TURN_BUDGET: Final = 0.005
# Up to this many listeners, all run at once, as Home Assistant runs them (a listener that finds nothing
# changed costs microseconds).
SLICE_ABOVE: Final = 200
# Up to this many groups of entities (a property's, a lock's) are added at once, as Home Assistant adds them
# (adding one entity costs milliseconds: registry entry, entity id, first state).
GROUPS_AT_ONCE: Final = 2


class SlicedListeners[DataT](DataUpdateCoordinator[DataT]):
    """A coordinator whose listeners are updated in time slices, the loop getting a turn before each.

    Up to :data:`SLICE_ABOVE` listeners run at once, as Home Assistant runs them. More run in slices, in a
    task of the config entry (``async_block_till_done`` waits for it), in the order they were added. When a
    new update comes while the slices of the last one are still running, those stop: the new update reaches
    every listener. A listener removed meanwhile is not called.
    """

    _sliced: dict[object, CALLBACK_TYPE] | None = None
    _slices: asyncio.Task[None] | None = None

    @callback
    def async_add_listener(self, update_callback: CALLBACK_TYPE, context: Any = None) -> Callable[[], None]:
        """Listen for data updates (Home Assistant's bookkeeping, plus ours for the slices)."""
        remove = super().async_add_listener(update_callback, context)
        if self._sliced is None:
            self._sliced = {}
        listeners, token = self._sliced, object()
        listeners[token] = update_callback

        @callback
        def remove_listener() -> None:
            listeners.pop(token, None)
            remove()

        return remove_listener

    @callback
    def async_update_listeners(self) -> None:
        """Update the listeners: all now when they are few, else in slices (a loop turn before each)."""
        if self._slices is not None:
            self._slices.cancel()
            self._slices = None
        listeners = list((self._sliced or {}).items())
        if len(listeners) <= SLICE_ABOVE or self.config_entry is None:
            for _, update_callback in listeners:
                update_callback()
            return
        # All after a turn of the loop: several coordinators updating at once share the budget of a turn.
        self._slices = self.config_entry.async_create_task(
            self.hass, self._run_slices(listeners), f"{self.name} listeners", eager_start=False
        )

    async def _run_slices(self, listeners: list[tuple[object, CALLBACK_TYPE]]) -> None:
        turns = loop_turns(self.hass)
        await asyncio.sleep(0)
        for token, update_callback in listeners:
            await turns.take()
            if self._sliced is not None and token in self._sliced:
                update_callback()
        self._slices = None


class PerData:
    """Look-ups worked out once per data (compared by identity), for a coordinator's refreshes."""

    def __init__(self) -> None:
        """Nothing worked out yet."""
        self._kept: dict[str, tuple[tuple[object, ...], object]] = {}

    def get[T](self, name: str, sources: tuple[object, ...], build: Callable[[], T]) -> T:
        """The look-up ``name`` of ``sources``: ``build()`` once, kept while they are the same objects."""
        kept = self._kept.get(name)
        if kept is not None and same_objects(kept[0], sources):
            return cast("T", kept[1])
        value = build()
        self._kept[name] = (sources, value)
        return value


def same_objects(first: tuple[object, ...], second: tuple[object, ...]) -> bool:
    """Whether two tuples hold the very same objects, in order."""
    return len(first) == len(second) and all(a is b for a, b in zip(first, second, strict=True))


def first_by[K, V](items: Iterable[V], key: Callable[[V], K]) -> dict[K, V]:
    """``items`` by ``key``; the first one wins when keys repeat (as a scan from the start would find)."""
    found: dict[K, V] = {}
    for item in items:
        found.setdefault(key(item), item)
    return found


@callback
def add_in_slices(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: Callable[[list[Entity]], None],
    groups: Sequence[Callable[[], Iterable[Entity]]],
) -> None:
    """Add the entities each of ``groups`` makes (a group: one property's or lock's entities).

    A few groups are made and added at once; more are made and added one entity at a time within the turn
    budget (:func:`loop_turns`), in a task of the entry (which ``async_block_till_done`` waits for): making
    thousands of entities is work too.
    """
    if len(groups) <= GROUPS_AT_ONCE:
        if entities := [entity for group in groups for entity in group()]:
            async_add_entities(entities)
        return
    turns = loop_turns(hass)

    async def in_slices() -> None:
        await asyncio.sleep(0)
        for group in groups:
            await turns.take()
            # One entity at a time: Home Assistant takes milliseconds to add one (registry, entity id, state).
            for entity in group():
                await turns.take()
                async_add_entities([entity])

    # All after a turn of the loop: the platforms of an entry set up one after another without one.
    task = entry.async_create_task(
        hass, in_slices(), f"{DOMAIN} {entry.title} adding entities", eager_start=False
    )
    adding: dict[asyncio.Task[None], str] = hass.data.setdefault(_ADDING, {})
    adding[task] = entry.entry_id
    task.add_done_callback(lambda done: adding.pop(done, None))


async def async_stop_adding(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Stop adding the entry's entities, before it unloads (one added while its platform resets stays)."""
    adding: dict[asyncio.Task[None], str] = hass.data.get(_ADDING, {})
    if tasks := [task for task, entry_id in adding.items() if entry_id == entry.entry_id]:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)


async def entities_added(hass: HomeAssistant) -> None:
    """Return once the entities being added in slices (:func:`add_in_slices`) are all added."""
    while adding := hass.data.get(_ADDING):
        await asyncio.wait(list(adding))


_TURNS: Final = f"{DOMAIN}_loop_turns"
_ADDING: Final = f"{DOMAIN}_adding_entities"


def loop_turns(hass: HomeAssistant) -> LoopTurns:
    """The one turn budget of the integration's work on this Home Assistant's loop."""
    turns: LoopTurns | None = hass.data.get(_TURNS)
    if turns is None:
        turns = hass.data[_TURNS] = LoopTurns(TURN_BUDGET)
    return turns


_PASS: Final = f"{DOMAIN}_one_pass"


@contextlib.contextmanager
def one_pass(hass: HomeAssistant) -> Iterator[None]:
    """Within the block, :func:`within_pass` answers each question once.

    For synchronous code only (no ``await`` inside): nothing can load, unload or refresh meanwhile.
    """
    outer = _PASS in hass.data
    if not outer:
        hass.data[_PASS] = {}
    try:
        yield
    finally:
        if not outer:
            hass.data.pop(_PASS, None)


def within_pass[T](hass: HomeAssistant, name: str, build: Callable[[], T]) -> T:
    """``build()``, once per :func:`one_pass` block (every time outside one)."""
    memo: dict[str, object] | None = hass.data.get(_PASS)
    if memo is None:
        return build()
    if name not in memo:
        memo[name] = build()
    return cast("T", memo[name])
