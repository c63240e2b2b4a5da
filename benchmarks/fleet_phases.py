"""What the fleet benchmark measures, phase by phase (``bench_fleet.py`` runs them in order).

Every phase works on a Home Assistant whose entries are set up (:mod:`.fleet_ha`) against the simulator.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import timedelta
import math
import statistics
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify.api.errors import ApiError
from custom_components.kasify.api.ratelimit import SlidingWindowLimiter
from custom_components.kasify.const import BOOKINGS_LOOKBACK, CONF_CALENDAR_DAYS, CONF_KIND, DOMAIN
from custom_components.kasify.providers.kasify import RECENTLY_COMPLETED

from .fleet_ha import KINDS, SimulatorProcess

# One property in ten has a booking changed between two cycles, one Nuki lock in ten moves.
CHURN_EVERY = 10


def coordinators(entries: list[MockConfigEntry]) -> dict[str, Any]:
    """Each entry's coordinator, by account kind."""
    return {entry.data[CONF_KIND]: entry.runtime_data.coordinator for entry in entries}


async def timed(call: Awaitable[Any]) -> float:
    """Seconds ``call`` took."""
    began = time.perf_counter()
    await call
    return time.perf_counter() - began


async def bounded(calls: list[Awaitable[Any]], limit: int = 20) -> None:
    """Await ``calls``, ``limit`` at a time."""
    semaphore = asyncio.Semaphore(limit)

    async def one(call: Awaitable[Any]) -> None:
        async with semaphore:
            await call

    await asyncio.gather(*(one(call) for call in calls))


# --- changes upstream between cycles ------------------------------------------------------------------------


@dataclass
class Churn:
    """Net-zero changes upstream between two cycles: booking notes and Nuki locks, back and forth."""

    sim: SimulatorProcess
    bookings: list[str]
    nuki_locks: list[int]
    step: int = 0

    async def apply(self) -> None:
        """One step: odd steps change, even steps take the change back."""
        self.step += 1
        note = "bench" if self.step % 2 else None
        action = "unlock" if self.step % 2 else "lock"
        await bounded(
            [
                *(self.sim.kasify("PATCH", f"/bookings/{b}", {"notes": note}) for b in self.bookings),
                *(self.sim.nuki("POST", f"/smartlock/{n}/action/{action}") for n in self.nuki_locks),
            ]
        )


def upcoming_bookings(entries: list[MockConfigEntry], every: int) -> list[str]:
    """One upcoming booking in every ``every``-th property (one per property with ``every`` 1)."""
    kasify = coordinators(entries)["kasify"]
    now = dt_util.utcnow() + timedelta(days=3)
    found = []
    for index, bookings in enumerate(kasify.data.bookings.values()):
        upcoming = [b.id for b in bookings if b.check_in > now and b.active]
        if index % every == 0 and upcoming:
            found.append(upcoming[0])
    return found


def make_churn(sim: SimulatorProcess, entries: list[MockConfigEntry]) -> Churn:
    """The changes the cycles make: every tenth property's next booking, every tenth Nuki lock."""
    nuki = sorted(coordinators(entries)["nuki"].data.locks)
    return Churn(sim, upcoming_bookings(entries, CHURN_EVERY), nuki[::CHURN_EVERY])


# --- refresh cycles -----------------------------------------------------------------------------------------


@dataclass
class Cycle:
    """One refresh of every entry at once."""

    wall: float  # until every entity of every entry is updated
    per_entry: dict[str, float]  # until each entry's coordinator has its new data
    requests: Counter[str]


async def refresh_cycle(hass: HomeAssistant, sim: SimulatorProcess, entries: list[MockConfigEntry]) -> Cycle:
    """Refresh every entry's coordinator at once and wait for every entity; what it cost."""
    await sim.reset_requests()
    kinds = coordinators(entries)
    began = time.perf_counter()
    walls = await asyncio.gather(*(timed(kinds[kind].async_refresh()) for kind in KINDS))
    await hass.async_block_till_done()
    wall = time.perf_counter() - began
    for kind in KINDS:
        if not kinds[kind].last_update_success:
            raise RuntimeError(f"the {kind} refresh failed: {kinds[kind].last_exception}")
    return Cycle(wall, dict(zip(KINDS, walls, strict=True)), await sim.requests_per_vendor())


async def kasify_alone(hass: HomeAssistant, sim: SimulatorProcess, entries: list[MockConfigEntry]) -> float:
    """One refresh of the Kasify entry alone: seconds until its coordinator has the new data."""
    await sim.reset_requests()
    wall = await timed(coordinators(entries)["kasify"].async_refresh())
    await hass.async_block_till_done()
    return wall


async def feeds_changed(
    hass: HomeAssistant, sim: SimulatorProcess, entries: list[MockConfigEntry]
) -> tuple[float, int]:
    """Every feed due at once after each one changed (a phone number in it): read and parsed, all of them."""
    bookings = upcoming_bookings(entries, 1)
    await bounded(
        [sim.kasify("PATCH", f"/bookings/{b}", {"guest_phone": "+34 600 000 123"}) for b in bookings]
    )
    feeds = next(e for e in entries if e.data[CONF_KIND] == "kasify").runtime_data.feeds
    for key in feeds.data:
        if (state := feeds.state_of(key)) is not None:
            state.last_attempt = None  # due now (each feed is otherwise read every 30 or 60 minutes)
    await sim.reset_requests()
    wall = await timed(feeds.async_refresh())
    await hass.async_block_till_done()
    return wall, (await sim.requests_per_vendor())["ical"]


async def outage_and_recovery(
    hass: HomeAssistant, sim: SimulatorProcess, entries: list[MockConfigEntry]
) -> float:
    """Kasify answers 503 once (every entity unavailable), then the next refresh brings them all back."""
    kasify = coordinators(entries)["kasify"]
    await sim.call("POST", "/_sim/faults", {"path": "/kasify/", "status": 503, "times": 1})
    began = time.perf_counter()
    await kasify.async_refresh()
    await hass.async_block_till_done()
    if kasify.last_update_success:
        raise RuntimeError("the injected outage did not fail the refresh")
    await kasify.async_refresh()
    await hass.async_block_till_done()
    if not kasify.last_update_success:
        raise RuntimeError("the refresh after the outage failed")
    return time.perf_counter() - began


# --- lock actions -------------------------------------------------------------------------------------------


async def action_times(hass: HomeAssistant, entries: list[MockConfigEntry], samples: int) -> dict[str, float]:
    """Median seconds from a lock service call to the lock's new state, per provider."""
    registry = er.async_get(hass)
    results: dict[str, float] = {}
    for entry in entries:
        kind = entry.data[CONF_KIND]
        if kind in ("kasify", "casavi"):
            continue
        # Connected locks only: a RemoteLock lock that is offline takes a command when it next wakes up.
        views = [v for v in entry.runtime_data.coordinator.lock_views.values() if v.connected is not False]
        locks = [
            entity_id
            for view in views
            if (entity_id := registry.async_get_entity_id("lock", DOMAIN, f"{view.unique_id_base}-lock"))
            and (state := hass.states.get(entity_id)) is not None
            and state.state in ("locked", "unlocked")
        ][:samples]
        results[kind] = statistics.median([await one_action(hass, entity_id) for entity_id in locks])
    return results


async def one_action(hass: HomeAssistant, entity_id: str) -> float:
    """Lock an unlocked lock or unlock a locked one; seconds until its state says so."""
    state = hass.states.get(entity_id)
    assert state is not None
    service, wanted = ("unlock", "unlocked") if state.state == "locked" else ("lock", "locked")
    began = time.perf_counter()
    await hass.services.async_call("lock", service, {"entity_id": entity_id}, blocking=True)
    while (current := hass.states.get(entity_id)) is None or current.state != wanted:
        if time.perf_counter() - began > 30:
            raise RuntimeError(f"{entity_id} did not become {wanted}")
        await asyncio.sleep(0.005)
    return time.perf_counter() - began


# --- the naive baseline -------------------------------------------------------------------------------------


async def naive_cycle(
    entries: list[MockConfigEntry], sim: SimulatorProcess
) -> tuple[dict[str, float], Counter[str]]:
    """One request per property resource and per lock, one after another, with the entries' own clients.

    Kasify: the properties, then each property's bookings, smart locks and tasks (every status in one
    listing: the open ones and those recently completed for the to-do list); a provider: each lock.
    Each account is read one request after another, the accounts side by side (as Home Assistant refreshes
    its entries); each is timed on its own.
    """
    kinds = coordinators(entries)
    kasify = kinds["kasify"].client
    start, end = kinds["kasify"].data.window_start, kinds["kasify"].data.window_end

    async def kasify_naive() -> None:
        for prop in await kasify.list_properties():
            await kasify.list_property_bookings(prop.id, start, end)
            await kasify.list_smart_locks(prop.id)
            await kasify.list_property_tasks(prop.id, None)

    async def nuki_naive() -> None:
        for lock_id in list(kinds["nuki"].data.locks):
            with contextlib.suppress(ApiError):  # a lock without Smart Hosting answers 402: counted the same
                await kinds["nuki"].client.get_smartlock(lock_id)

    async def unifi_naive() -> None:
        for door_id in list(kinds["unifi_access"].data.doors):
            await kinds["unifi_access"].client.get_door(door_id)

    async def remotelock_naive() -> None:
        for lock_id in list(kinds["remotelock"].data.locks):
            await kinds["remotelock"].client.get_lock(lock_id)

    await sim.reset_requests()
    naive: dict[str, Callable[[], Awaitable[None]]] = {
        "kasify": kasify_naive,
        "nuki": nuki_naive,
        "unifi_access": unifi_naive,
        "remotelock": remotelock_naive,
    }
    walls = await asyncio.gather(*(timed(read()) for read in naive.values()))
    return dict(zip(naive, walls, strict=True)), await sim.requests_per_vendor()


def lift_rate_limits(entries: list[MockConfigEntry]) -> SlidingWindowLimiter:
    """Lift the RemoteLock entry's limiter of 120 requests a minute (the naive baseline alone would take
    over four minutes); returns the limiter, to put back."""
    client = coordinators(entries)["remotelock"].client
    kept: SlidingWindowLimiter = client.limiter
    client.limiter = SlidingWindowLimiter(1_000_000, 60)
    return kept


# --- the API minimum ----------------------------------------------------------------------------------------


async def api_minimum(sim: SimulatorProcess, entries: list[MockConfigEntry]) -> tuple[dict[str, int], str]:
    """Requests per refresh each account needs at least (``bench_fleet``'s docstring says why), from the
    simulator's own counts: the fleet it built, and the totals its listings answer."""
    fleet = sim.fleet
    kasify_entry = next(e for e in entries if e.data[CONF_KIND] == "kasify")
    today = dt_util.utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    start = (today - BOOKINGS_LOOKBACK).isoformat().replace("+", "%2B")
    end = (
        (today + timedelta(days=kasify_entry.options[CONF_CALENDAR_DAYS] + 1)).isoformat().replace("+", "%2B")
    )
    bookings = (await sim.kasify("GET", f"/bookings?from={start}&to={end}&size=1"))["total"]
    tasks = (await sim.kasify("GET", "/tasks?status=open&size=1"))["total"]
    since = (dt_util.utcnow() - RECENTLY_COMPLETED).isoformat().replace("+", "%2B")
    completed = (await sim.kasify("GET", f"/tasks?status=completed&completed_since={since}&size=1"))["total"]

    def pages(count: int, size: int) -> int:
        return max(1, math.ceil(count / size))

    how = (
        f"Kasify ceil({fleet['properties']}/100) properties + ceil({bookings}/100) bookings + "
        f"ceil({tasks}/100) open tasks + ceil({completed}/100) tasks completed in 7 days + "
        f"{fleet['properties_with_uncovered_locks']} properties read for "
        f"their locks; casavi pages of 25 of {fleet['casavi_properties']}, {fleet['casavi_appointments']}, "
        f"{fleet['casavi_open_tickets']}, {fleet['casavi_tickets_in_progress']}; RemoteLock "
        f"ceil({fleet['remotelock_locks']}/50) + 1"
    )
    return {
        "kasify": pages(fleet["properties"], 100)
        + pages(bookings, 100)
        + pages(tasks, 100)
        + pages(completed, 100)
        + fleet["properties_with_uncovered_locks"],
        "casavi": pages(fleet["casavi_properties"], 25)
        + pages(fleet["casavi_appointments"], 25)
        + pages(fleet["casavi_open_tickets"], 25)
        + pages(fleet["casavi_tickets_in_progress"], 25),
        "nuki": 2,
        "unifi_access": 1,
        "remotelock": pages(fleet["remotelock_locks"], 50) + 1,
    }, how
