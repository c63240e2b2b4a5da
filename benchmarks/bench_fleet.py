"""Fleet benchmark: every account kind in one Home Assistant against a 500-property simulator, one run.

    .venv/bin/python -m benchmarks.bench_fleet [--quick] [--latency 0.05]

The simulator (its own process, ``benchmarks/fleet_sim.py``, so that its work never counts as Home
Assistant's) serves 500 Kasify properties with 1,500 locks: 500 Nuki (25 of them in a second Nuki account
that is not set up, so Kasify shows them read-only), 500 UniFi Access doors and 500 RemoteLock locks, plus
the seeded fleet's few devices outside any property, and adds 50 ms to every request. Home Assistant (the
test harness's instance: real event loop and executor, storage kept in memory) has one entry of each kind:
Kasify, casavi, Nuki Web, UniFi Access, RemoteLock. Measured in the same run:

1. set-up of every entry, and memory per property (resident memory the set-up added, over the properties);
2. five full refresh cycles of every entry at once (wall time, requests per entry), each after changes
   upstream (one booking in every tenth property, every tenth Nuki lock moved), and five Kasify refreshes
   alone;
3. every iCal feed changed and re-read at once (750 fetched and parsed), and an outage of Kasify followed by
   its recovery (every entity of 500 properties unavailable, then back);
4. time from a lock action (service call) to the lock's new state, per vendor;
5. the naive baseline: one request per property (its bookings, smart locks and tasks of every status, one
   after another)
   and one request per lock, sequential (RemoteLock's 120 requests a minute lifted, in the simulator and in
   the client, or that alone would take four minutes);
6. 100 refresh cycles with the same changes (no latency, limits lifted): memory must stay flat.

A probe sleeps 10 ms again and again during 1-4 and records how late it wakes up while the loop's thread was
running code: a stall (``fleet_ha.LoopProbe``). ``--diagnose`` also samples what that thread runs meanwhile.

Requests per refresh, the API minimum (``docs/*-api.md``), with P properties, B bookings in the window (30
days back to calendar days + 1 ahead), T open tasks, C tasks completed in the last 7 days (the to-do
lists), U properties with a smart lock no provider account covers, L locks:

==============  ==========================================================================================
Kasify          ceil(P/100) + max(1, ceil(B/100)) + max(1, ceil(T/100)) + max(1, ceil(C/100)) + U: a page
                holds at most 100 (``GET /tasks?status=completed&completed_since=`` is the C listing); the
                property listing names each property's locks and vendors, so only a property with a lock no
                provider account covers needs ``GET /properties/{id}/smartlocks`` (the only live status)
casavi          n(P) + n(A) + n(open) + n(in progress) with n(N) = max(1, ceil(N/25)): pages of 25
Nuki Web        2: ``GET /smartlock`` (every lock, unpaginated) + ``GET /smartlock/log`` (the new entries)
UniFi Access    1: ``GET /doors`` (every door, unpaginated); 0 while its WebSocket pushes
RemoteLock      ceil(L/50) + 1: the locks in pages of at most 50, + the events since the last one seen
==============  ==========================================================================================

Targets (met/missed): requests = the minimum for every entry; the Kasify refresh within 12 round trips of
latency and >= 50x faster than the naive one; no stall over 50 ms; memory per property stated, and flat over
100 cycles. ``--quick``: 60 properties, 180 locks, 2 rounds and 10 cycles (a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from dataclasses import dataclass
import gc
import importlib
from pathlib import Path
import sys
import time

from .fleet_ha import LoopProbe, StallSampler, entries_for, home_assistant, set_up_entries, simulator_process
from .fleet_phases import (
    action_times,
    api_minimum,
    feeds_changed,
    kasify_alone,
    lift_rate_limits,
    make_churn,
    naive_cycle,
    outage_and_recovery,
    refresh_cycle,
    timed,
)
from .fleet_report import STALL_LIMIT, Results, report

_STARTED = time.perf_counter()


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


FULL = Sizes(properties=500, locks_per_vendor=500, other_account=25, rounds=5, memory_cycles=100)
QUICK = Sizes(properties=60, locks_per_vendor=60, other_account=4, rounds=2, memory_cycles=10)


def progress(what: str) -> None:
    """One line on stderr: where the run is (it takes minutes)."""
    print(f"[{time.perf_counter() - _STARTED:5.0f} s] {what}", file=sys.stderr, flush=True)


def resident() -> int:
    """Resident memory of this process, in bytes."""
    return int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1]) * 4096


def warm_imports() -> None:
    """Import what set-up imports, so that the memory set-up adds is the entries', not code's."""
    for platform in ("binary_sensor", "calendar", "event", "lock", "sensor"):
        importlib.import_module(f"homeassistant.components.{platform}")
        importlib.import_module(f"custom_components.kasify.{platform}")


async def run(sizes: Sizes, latency: float, *, diagnose: bool = False, naive: bool = True) -> Results:
    """The whole benchmark: one process for Home Assistant, one for the simulator."""
    results = Results(sizes.properties, latency, sizes.memory_cycles)
    async with simulator_process(sizes.simulator_args(latency)) as sim, home_assistant() as hass:
        results.fleet = sim.fleet
        progress(f"simulator up: {sim.fleet}")
        await sim.settings(nuki_action_delay=0)  # a Nuki lock is at its new state when next read
        probe = LoopProbe(limit=STALL_LIMIT)
        probe.start()
        sampler = StallSampler(probe) if diagnose else None
        if sampler is not None:
            sampler.start()
        entries = entries_for(sim.info)
        warm_imports()
        gc.collect()
        before = resident()
        with probe.phase("set-up of every entry"):
            results.setup = await timed(set_up_entries(hass, entries))
        gc.collect()
        results.memory_per_property = (resident() - before) / sizes.properties
        results.entities = len(hass.states.async_all())
        progress(f"set up in {results.setup:.1f} s, {results.entities} entities")
        results.minimum, results.minimum_how = await api_minimum(sim, entries)
        churn = make_churn(sim, entries)
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
        with probe.phase("lock actions"):
            results.actions = await action_times(hass, entries, samples=5)
        progress("feeds, outage and lock actions done")
        await probe.stop()
        if sampler is not None:
            sampler.stop()
            sampler.print_top()
        results.stalls = {
            name: (lag.worst_stall, lag.worst_busy, lag.worst_wall, lag.worst_gc, lag.samples, lag.over)
            for name, lag in probe.phases.items()
        }

        await sim.settings(remotelock_rate_limit=1_000_000)
        lift_rate_limits(entries)
        if naive:
            results.naive, results.naive_requests = await naive_cycle(entries, sim)
            progress("naive baseline done")

        await sim.settings(latency=0)
        for cycle in range(1, sizes.memory_cycles + 1):
            await churn.apply()
            await refresh_cycle(hass, sim, entries)
            if cycle % max(1, sizes.memory_cycles // 10) == 0:
                gc.collect()
                results.memory_samples.append((cycle, resident(), sys.getallocatedblocks()))
                progress(f"memory cycle {cycle}")
        for entry in entries:
            await hass.config_entries.async_unload(entry.entry_id)
    return results


def main() -> None:
    """Parse the command line, run, print; exit status 1 when a target was missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 properties, 180 locks, 10 cycles")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument("--diagnose", action="store_true", help="print what the loop ran during stalls")
    parser.add_argument("--skip-naive", action="store_true", help="profiling only: no naive baseline")
    parser.add_argument("--properties", type=int, help="other sizes: properties (and locks per vendor)")
    parser.add_argument("--rounds", type=int, help="other sizes: refresh cycles timed")
    parser.add_argument("--memory-cycles", type=int, help="other sizes: cycles of the memory check")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.properties:
        other = max(1, args.properties // 20)
        sizes = dataclasses.replace(
            sizes, properties=args.properties, locks_per_vendor=args.properties, other_account=other
        )
    if args.rounds:
        sizes = dataclasses.replace(sizes, rounds=args.rounds)
    if args.memory_cycles:
        sizes = dataclasses.replace(sizes, memory_cycles=args.memory_cycles)
    results = asyncio.run(run(sizes, args.latency, diagnose=args.diagnose, naive=not args.skip_naive))
    raise SystemExit(0 if report(results) else 1)


if __name__ == "__main__":
    main()
