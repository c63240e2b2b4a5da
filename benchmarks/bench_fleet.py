"""Fleet benchmark: every account kind in one Home Assistant against a 500-property simulator, one run.

    .venv/bin/python -m benchmarks.bench_fleet [--quick] [--latency 0.05]

The simulator (its own process: ``benchmarks/fleet_sim.py``) serves 500 Kasify properties with 1,500 locks:
500 Nuki (25 of them in a second Nuki account that is not set up, so Kasify shows them read-only), 500 UniFi
Access doors and 500 RemoteLock locks, plus the seeded fleet's few devices outside any property, and adds
50 ms to every request. Home Assistant (the test harness's instance, real loop and executor) has one entry of
each kind: Kasify, casavi, Nuki Web, UniFi Access, RemoteLock. Measured in the same run:

1. set-up of every entry, and memory per property (resident memory the set-up added, over the properties);
2. a full refresh cycle of every entry (all at once; wall time and requests per entry), after net-zero changes
   upstream (notes of 10 % of the bookings, 10 % of the Nuki locks moved), and the Kasify refresh alone;
3. the iCal feeds of every property re-read at once after they changed, and an outage of Kasify followed by
   its recovery (every entity of 500 properties goes unavailable, then comes back);
4. time from a lock action (service call) to the lock's new state, per vendor;
5. the naive baseline: one request per property (its bookings, smart locks, tasks, one after another) and one
   request per lock, sequential;
6. 100 refresh cycles with the same changes (no latency, rate limits lifted): memory must stay flat.

A loop probe sleeps 10 ms again and again during 1-4 and records how late it wakes: a stall.

Requests per refresh, the documented API minimum (``docs/*-api.md``), with P properties, B bookings in the
window (30 days back, calendar days + 1 ahead), T open tasks, U properties with a smart lock no provider
account covers, L locks:

==============  ==========================================================================================
Kasify          ceil(P/100) + max(1, ceil(B/100)) + max(1, ceil(T/100)) + U: pages of 100 are the most the API
                gives; the listing already names each property's locks and vendors, so only a property with a
                lock no provider covers needs ``GET /properties/{id}/smartlocks`` (the only live status)
casavi          n(P) + n(A) + n(open) + n(in progress), n(N) = max(1, ceil(N/25)): pages of 25
Nuki Web        2: ``GET /smartlock`` (unpaginated) + ``GET /smartlock/log`` (the new entries)
UniFi Access    1: ``GET /doors`` (unpaginated); 0 while its WebSocket pushes
RemoteLock      ceil(L/50) + 1: devices in pages of at most 50, + the events since the last one seen
==============  ==========================================================================================

Targets (met/missed): requests = the minimum for every entry; the Kasify refresh within 12 round trips of
latency and >= 50x faster than the naive one; no loop stall over 50 ms; memory per property stated, flat
over 100 cycles. ``--quick``: 60 properties, 180 locks, 10 cycles (a smoke run; targets as above).
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
import contextlib
import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
import gc
import importlib
import math
import statistics
import sys
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify.api.errors import ApiError
from custom_components.kasify.api.ratelimit import SlidingWindowLimiter
from custom_components.kasify.const import BOOKINGS_LOOKBACK, CONF_CALENDAR_DAYS, CONF_KIND, DOMAIN

from .fleet_ha import (
    KINDS,
    LoopProbe,
    StallSampler,
    SimulatorProcess,
    entries_for,
    home_assistant,
    set_up_entries,
    simulator_process,
)

STALL_LIMIT = 0.05
ROUND_TRIPS = 12
NAIVE_RATIO = 50
CHURN_SHARE = 0.1
# Growth of the interpreter's allocated memory blocks over the measured cycles that still counts as flat.
FLAT_GROWTH = 0.005


@dataclass(frozen=True)
class Sizes:
    """How big a run is."""

    properties: int
    locks_per_vendor: int
    other_account: int
    rounds: int
    memory_cycles: int

    def simulator_args(self, latency: float) -> list[str]:
        """The simulator process's command line."""
        return [
            f"--properties={self.properties}",
            f"--nuki={self.locks_per_vendor}",
            f"--unifi={self.locks_per_vendor}",
            f"--remotelock={self.locks_per_vendor}",
            f"--nuki-other-account={self.other_account}",
            f"--latency={latency}",
        ]


FULL = Sizes(properties=500, locks_per_vendor=500, other_account=25, rounds=3, memory_cycles=100)
QUICK = Sizes(properties=60, locks_per_vendor=60, other_account=4, rounds=2, memory_cycles=10)


_STARTED = time.perf_counter()


def progress(what: str) -> None:
    """One line on stderr: where the run is (it takes minutes)."""
    print(f"[{time.perf_counter() - _STARTED:6.0f} s] {what}", file=sys.stderr, flush=True)


def rss() -> int:
    """Resident memory of this process, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * 4096


def warm_imports() -> None:
    """Import what set-up imports, so that the memory set-up adds is the entries', not code's."""
    for platform in ("binary_sensor", "calendar", "event", "lock", "sensor"):
        importlib.import_module(f"homeassistant.components.{platform}")
        importlib.import_module(f"custom_components.kasify.{platform}")


def coordinators(entries: list[MockConfigEntry]) -> dict[str, Any]:
    """Each entry's coordinator, by account kind."""
    return {entry.data[CONF_KIND]: entry.runtime_data.coordinator for entry in entries}


# --- changes between cycles -------------------------------------------------------------------------------


@dataclass
class Churn:
    """Net-zero changes upstream between two cycles: booking notes and Nuki locks, back and forth."""

    sim: SimulatorProcess
    bookings: list[str]
    nuki_locks: list[int]
    step: int = 0

    async def apply(self) -> None:
        """One step: even steps set, odd steps take back."""
        self.step += 1
        note = "bench" if self.step % 2 else None
        action = "unlock" if self.step % 2 else "lock"
        semaphore = asyncio.Semaphore(20)

        async def bounded(call: Any) -> None:
            async with semaphore:
                await call

        await asyncio.gather(
            *(bounded(self.sim.kasify("PATCH", f"/bookings/{b}", {"notes": note})) for b in self.bookings),
            *(bounded(self.sim.nuki("POST", f"/smartlock/{n}/action/{action}")) for n in self.nuki_locks),
        )


async def make_churn(sim: SimulatorProcess, entries: list[MockConfigEntry]) -> Churn:
    """Pick one upcoming booking in every tenth property, and every tenth Nuki lock."""
    kasify = coordinators(entries)["kasify"]
    now = dt_util.utcnow()
    bookings = []
    for index, bookings_of in enumerate(kasify.data.bookings.values()):
        upcoming = [b.id for b in bookings_of if b.check_in > now + timedelta(days=3)]
        if index % round(1 / CHURN_SHARE) == 0 and upcoming:
            bookings.append(upcoming[0])
    nuki = sorted(coordinators(entries)["nuki"].data.locks)
    return Churn(sim, bookings, nuki[:: round(1 / CHURN_SHARE)])


# --- refresh cycles ------------------------------------------------------------------------------------------


@dataclass
class Cycle:
    """One refresh of every entry at once."""

    wall: float
    per_entry: dict[str, float]
    requests: Counter[str]


async def timed(call: Any) -> float:
    began = time.perf_counter()
    await call
    return time.perf_counter() - began


async def refresh_cycle(hass: HomeAssistant, sim: SimulatorProcess, entries: list[MockConfigEntry]) -> Cycle:
    """Refresh every entry's coordinator at once (and the Kasify entry's feeds); what it cost."""
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
    """One refresh of the Kasify entry alone (listeners included)."""
    await sim.reset_requests()
    wall = await timed(coordinators(entries)["kasify"].async_refresh())
    await hass.async_block_till_done()
    return wall


async def feeds_changed(
    hass: HomeAssistant, sim: SimulatorProcess, entries: list[MockConfigEntry]
) -> tuple[float, int]:
    """Every feed due at once, after every property's bookings changed (so each feed is read and parsed)."""
    kasify_entry = next(e for e in entries if e.data[CONF_KIND] == "kasify")
    feeds = kasify_entry.runtime_data.feeds
    for key in feeds.data:
        if (state := feeds.state_of(key)) is not None:
            state.last_attempt = None
    await sim.reset_requests()
    wall = await timed(feeds.async_refresh())
    await hass.async_block_till_done()
    return wall, (await sim.requests_per_vendor())["ical"]


async def outage_and_recovery(
    hass: HomeAssistant, sim: SimulatorProcess, entries: list[MockConfigEntry]
) -> float:
    """Kasify answers 503 once (every entity unavailable), then the next refresh brings all back."""
    kasify = coordinators(entries)["kasify"]
    await sim.call("POST", "/_sim/faults", {"path": "/kasify/", "status": 503, "times": 1})
    began = time.perf_counter()
    await kasify.async_refresh()
    await hass.async_block_till_done()
    assert not kasify.last_update_success
    await kasify.async_refresh()
    await hass.async_block_till_done()
    assert kasify.last_update_success
    return time.perf_counter() - began


# --- lock actions ---------------------------------------------------------------------------------------


async def action_times(hass: HomeAssistant, entries: list[MockConfigEntry], samples: int) -> dict[str, float]:
    """Median time from a lock service call to the lock's new state, per provider."""
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
        times = [await one_action(hass, entity_id) for entity_id in locks]
        results[kind] = statistics.median(times)
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


# --- the naive baseline -----------------------------------------------------------------------------------


async def naive_cycle(
    entries: list[MockConfigEntry], sim: SimulatorProcess
) -> tuple[dict[str, float], Counter[str]]:
    """One request per property resource and per lock, one after another, with the entries' own clients.

    Each account is read one request after another; the accounts side by side (as Home Assistant refreshes
    its entries), each timed on its own.
    """
    kinds = coordinators(entries)
    kasify = kinds["kasify"].client
    start, end = kinds["kasify"].data.window_start, kinds["kasify"].data.window_end

    async def kasify_naive() -> None:
        for prop in await kasify.list_properties():
            await kasify.list_property_bookings(prop.id, start, end)
            await kasify.list_smart_locks(prop.id)
            await kasify.list_property_tasks(prop.id)

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
    naive = {
        "kasify": kasify_naive,
        "nuki": nuki_naive,
        "unifi_access": unifi_naive,
        "remotelock": remotelock_naive,
    }
    walls = await asyncio.gather(*(timed(run()) for run in naive.values()))
    return dict(zip(naive, walls, strict=True)), await sim.requests_per_vendor()


def lift_rate_limits(entries: list[MockConfigEntry]) -> SlidingWindowLimiter:
    """RemoteLock's 120 requests a minute would make the naive baseline and 100 cycles take minutes: lifted
    for them (the simulator's too). Returns the entry's limiter, to put back."""
    client = coordinators(entries)["remotelock"].client
    kept: SlidingWindowLimiter = client.limiter
    client.limiter = SlidingWindowLimiter(1_000_000, 60)
    return kept


# --- the API minimum ------------------------------------------------------------------------------------------


async def api_minimum(sim: SimulatorProcess, entries: list[MockConfigEntry]) -> dict[str, int]:
    """Requests per refresh each account needs at least, from the simulator's own counts (docstring)."""
    fleet = sim.fleet
    kasify_entry = next(e for e in entries if e.data[CONF_KIND] == "kasify")
    today = dt_util.utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    window = {
        "from": (today - BOOKINGS_LOOKBACK).isoformat(),
        "to": (today + timedelta(days=kasify_entry.options[CONF_CALENDAR_DAYS] + 1)).isoformat(),
        "size": 1,
    }
    bookings = (
        await sim.kasify(
            "GET", "/bookings?" + "&".join(f"{k}={v}" for k, v in window.items()).replace("+", "%2B")
        )
    )["total"]
    tasks = (await sim.kasify("GET", "/tasks?status=open&size=1"))["total"]

    def pages(count: int, size: int) -> int:
        return max(1, math.ceil(count / size))

    return {
        "kasify": math.ceil(fleet["properties"] / 100)
        + pages(bookings, 100)
        + pages(tasks, 100)
        + fleet["properties_with_uncovered_locks"],
        "casavi": pages(fleet["casavi_properties"], 25)
        + pages(fleet["casavi_appointments"], 25)
        + pages(fleet["casavi_open_tickets"], 25)
        + pages(fleet["casavi_tickets_in_progress"], 25),
        "nuki": 2,
        "unifi_access": 1,
        "remotelock": math.ceil(fleet["remotelock_locks"] / 50) + 1,
    }


# --- the run ----------------------------------------------------------------------------------------------


@dataclass
class Results:
    """Everything measured."""

    sizes: Sizes
    latency: float
    fleet: dict[str, int] = field(default_factory=dict)
    entities: int = 0
    setup: float = 0.0
    memory_per_property: float = 0.0
    minimum: dict[str, int] = field(default_factory=dict)
    cycles: list[Cycle] = field(default_factory=list)
    kasify_alone: list[float] = field(default_factory=list)
    feeds: tuple[float, int] = (0.0, 0)
    outage: float = 0.0
    actions: dict[str, float] = field(default_factory=dict)
    naive: dict[str, float] = field(default_factory=dict)
    naive_requests: Counter[str] = field(default_factory=Counter)
    memory_samples: list[tuple[int, int, int]] = field(default_factory=list)
    stalls: dict[str, tuple[float, float, float, int, int]] = field(default_factory=dict)


async def run(sizes: Sizes, latency: float, diagnose: bool = False, skip_naive: bool = False) -> Results:
    """The whole benchmark, one process for Home Assistant and one for the simulator."""
    results = Results(sizes, latency)
    async with simulator_process(sizes.simulator_args(latency)) as sim, home_assistant() as hass:
        results.fleet = sim.fleet
        await sim.settings(nuki_action_delay=0)  # a Nuki lock is at its new state when next read
        asyncio.get_running_loop().slow_callback_duration = STALL_LIMIT
        probe = LoopProbe(limit=STALL_LIMIT)
        probe.start()
        sampler = StallSampler(probe) if diagnose else None
        if sampler is not None:
            sampler.start()
        entries = entries_for(sim.info)
        warm_imports()
        gc.collect()
        before = rss()
        progress(f"simulator up: {sim.fleet}")
        with probe.phase("set-up of every entry"):
            results.setup = await timed(set_up_entries(hass, entries))
        gc.collect()
        results.memory_per_property = (rss() - before) / sizes.properties
        results.entities = len(hass.states.async_all())
        progress(f"set up in {results.setup:.1f} s, {results.entities} entity states")
        results.minimum = await api_minimum(sim, entries)
        churn = await make_churn(sim, entries)
        for _ in range(sizes.rounds):
            await churn.apply()
            with probe.phase("refresh cycle of every entry"):
                results.cycles.append(await refresh_cycle(hass, sim, entries))
            await churn.apply()
            with probe.phase("Kasify refresh alone"):
                results.kasify_alone.append(await kasify_alone(hass, sim, entries))
        progress("refresh cycles done")
        with probe.phase("every iCal feed re-read"):
            results.feeds = await feeds_changed(hass, sim, entries)
        with probe.phase("Kasify outage and recovery"):
            results.outage = await outage_and_recovery(hass, sim, entries)
        progress("feeds, outage and recovery done")
        with probe.phase("lock actions"):
            results.actions = await action_times(hass, entries, samples=5)
        await probe.stop()
        if sampler is not None:
            sampler.stop()
            sampler.print_top()
        results.stalls = {
            name: (lag.worst_busy, lag.worst, lag.worst_gc, lag.samples, lag.over)
            for name, lag in probe.phases.items()
        }

        await sim.settings(remotelock_rate_limit=1_000_000)
        kept = lift_rate_limits(entries)
        progress("lock actions done")
        if not skip_naive:
            results.naive, results.naive_requests = await naive_cycle(entries, sim)

            progress("naive baseline done")
        await sim.settings(latency=0)
        for cycle in range(1, sizes.memory_cycles + 1):
            await churn.apply()
            await refresh_cycle(hass, sim, entries)
            if cycle % max(1, sizes.memory_cycles // 10) == 0:
                progress(f"memory cycle {cycle}")
                gc.collect()
                results.memory_samples.append((cycle, rss(), sys.getallocatedblocks()))
        coordinators(entries)["remotelock"].client.limiter = kept
        for entry in entries:
            await hass.config_entries.async_unload(entry.entry_id)
    return results


# --- the report ---------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: Results) -> bool:
    """Print the tables; whether every target was met."""
    sizes, fleet = results.sizes, results.fleet
    rt = results.latency
    print(
        f"Fleet: {fleet['properties']} properties, {fleet['kasify_locks']} smart locks in Kasify "
        f"({fleet['properties_with_uncovered_locks']} properties with a lock no provider covers), "
        f"Nuki {fleet['nuki_locks']}, UniFi {fleet['unifi_doors']}, RemoteLock {fleet['remotelock_locks']}; "
        f"{results.entities} entity states; {rt * 1000:.0f} ms latency per request"
    )
    print(
        f"Set-up of every entry: {results.setup:.1f} s; memory per property {results.memory_per_property / 1024:.1f} KiB"
    )
    ok = True
    print(
        f"\n{'entry':<14}{'requests':>10}{'minimum':>9}{'':>8}{'ours s':>9}{'naive s':>9}{'naive req':>10}{'ratio':>8}"
    )
    for kind in KINDS:
        requests = max(c.requests[kind if kind != "unifi_access" else "unifi_access"] for c in results.cycles)
        minimum = results.minimum[kind]
        met = requests <= minimum
        ok &= met
        ours = statistics.median(c.per_entry[kind] for c in results.cycles)
        naive = results.naive.get(kind)
        naive_req = results.naive_requests.get(kind, 0)
        ratio = f"{naive / ours:7.1f}x" if naive else ""
        naive_text = f"{naive:9.2f}" if naive else f"{'':>9}"
        print(
            f"{kind:<14}{requests:>10}{minimum:>9}{verdict(met):>8}{ours:>9.3f}{naive_text}{naive_req if naive else '':>10}{ratio:>8}"
        )
    cycle = statistics.median(c.wall for c in results.cycles)
    naive_total = sum(results.naive.values())
    print(
        f"{'all at once':<14}{sum(results.cycles[-1].requests.values()):>10}{sum(results.minimum.values()):>9}{'':>8}{cycle:>9.3f}{naive_total:>9.2f}{sum(results.naive_requests.values()):>10}{naive_total / cycle:>7.1f}x"
    )
    print("requests per entry: " + str(dict(results.cycles[-1].requests)))

    kasify = statistics.median(results.kasify_alone)
    trips = kasify / rt if rt else 0
    ratio = results.naive.get("kasify", 0) / kasify
    print(
        f"\nKasify refresh alone: {kasify:.3f} s = {trips:.1f} round trips (target <= {ROUND_TRIPS}: {verdict(trips <= ROUND_TRIPS)}); "
        f"naive {results.naive.get('kasify', 0):.1f} s = {ratio:.1f}x (target >= {NAIVE_RATIO}x: {verdict(ratio >= NAIVE_RATIO)})"
    )
    ok &= trips <= ROUND_TRIPS and ratio >= NAIVE_RATIO
    print(
        f"Every iCal feed re-read: {results.feeds[0]:.2f} s, {results.feeds[1]} requests; Kasify outage and recovery: {results.outage:.2f} s"
    )
    print(
        "Lock action to new state (median): "
        + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in results.actions.items())
    )

    print(
        f"\n{'loop stall by phase':<32}{'busy ms':>9}{'wall ms':>9}{'full gc ms':>11}{'samples':>9}{'> 50 ms':>9}"
    )
    for name, (busy, wall, collected, samples, over) in results.stalls.items():
        print(
            f"{name:<32}{busy * 1000:>9.1f}{wall * 1000:>9.1f}{collected * 1000:>11.1f}{samples:>9}{over:>9}"
        )
    worst = max(busy for busy, *_ in results.stalls.values())
    print(
        f"no stall over {STALL_LIMIT * 1000:.0f} ms: {verdict(worst <= STALL_LIMIT)} (worst {worst * 1000:.1f} ms busy)"
    )
    ok &= worst <= STALL_LIMIT

    first, last = results.memory_samples[0], results.memory_samples[-1]
    growth = (last[2] - first[2]) / first[2]
    flat = growth <= FLAT_GROWTH
    print(
        f"\nMemory over cycles {first[0]}-{last[0]} of {sizes.memory_cycles}: allocated blocks {first[2]} -> {last[2]} "
        f"({growth:+.2%}, target <= {FLAT_GROWTH:.1%}: {verdict(flat)}); "
        f"resident {first[1] / 2**20:.0f} -> {last[1] / 2**20:.0f} MiB"
    )
    ok &= flat
    print("\nall targets met" if ok else "\nsome targets missed (see above)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 properties, 180 locks, 10 cycles")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--diagnose", action="store_true", help="print what the loop ran during stalls (sampled stacks)"
    )
    parser.add_argument("--skip-naive", action="store_true", help="profiling only: no naive baseline")
    parser.add_argument("--memory-cycles", type=int, help="profiling only: fewer cycles for the memory check")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.memory_cycles:
        sizes = dataclasses.replace(sizes, memory_cycles=args.memory_cycles)
    results = asyncio.run(run(sizes, args.latency, args.diagnose, args.skip_naive))
    raise SystemExit(0 if report(results) else 1)


if __name__ == "__main__":
    main()
