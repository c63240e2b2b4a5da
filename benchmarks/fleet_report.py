"""The fleet benchmark's tables and verdicts (``bench_fleet.py`` measures, this prints)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
import statistics

from .fleet_ha import KINDS
from .fleet_phases import Cycle

STALL_LIMIT = 0.05
ROUND_TRIPS = 12
NAIVE_RATIO = 50
# Growth of the interpreter's allocated memory blocks over the measured cycles that still counts as flat.
FLAT_GROWTH = 0.005


@dataclass
class Results:
    """Everything one run measured (seconds, bytes, counts)."""

    properties: int
    latency: float
    memory_cycles: int
    fleet: dict[str, int] = field(default_factory=dict)
    entities: int = 0
    setup: float = 0.0
    memory_per_property: float = 0.0
    minimum: dict[str, int] = field(default_factory=dict)
    minimum_how: str = ""
    cycles: list[Cycle] = field(default_factory=list)
    kasify_alone: list[float] = field(default_factory=list)
    feeds: tuple[float, int] = (0.0, 0)
    outage: float = 0.0
    actions: dict[str, float] = field(default_factory=dict)
    naive: dict[str, float] = field(default_factory=dict)
    naive_requests: Counter[str] = field(default_factory=Counter)
    memory_samples: list[tuple[int, int, int]] = field(default_factory=list)  # cycle, resident, blocks
    # phase → (stall, busy, wall, longest collection, samples, samples over the limit)
    stalls: dict[str, tuple[float, float, float, float, int, int]] = field(default_factory=dict)


def verdict(ok: bool) -> str:
    """How a target went."""
    return "met" if ok else "MISSED"


def _fleet(results: Results) -> None:
    fleet = results.fleet
    print(
        f"Fleet: {fleet['properties']} properties; locks: Nuki {fleet['nuki_locks']}, UniFi Access "
        f"{fleet['unifi_doors']}, RemoteLock {fleet['remotelock_locks']} ({fleet['kasify_locks']} listed by "
        f"Kasify, on {fleet['properties_with_uncovered_locks']} properties a lock no provider account covers)"
    )
    print(
        f"{results.entities} entities; {results.latency * 1000:.0f} ms latency per request; set-up of every "
        f"entry {results.setup:.1f} s; memory per property {results.memory_per_property / 1024:.0f} KiB"
    )


def _requests(results: Results) -> bool:
    """The per-entry table: requests against the API minimum, time against the naive baseline."""
    print(
        f"\n{'refresh cycle':<14}{'requests':>9}{'minimum':>9}{'':>8}{'ours s':>8}"
        f"{'naive req':>11}{'naive s':>9}{'ratio':>8}"
    )
    ok = True
    for kind in KINDS:
        requests = max(cycle.requests[kind] for cycle in results.cycles)
        met = requests <= results.minimum[kind]
        ok &= met
        ours = statistics.median(cycle.per_entry[kind] for cycle in results.cycles)
        naive = results.naive.get(kind)
        tail = (
            f"{results.naive_requests[kind]:>11}{naive:>9.2f}{naive / ours:>7.0f}x"
            if naive
            else f"{'':>11}{'':>9}{'':>8}"
        )
        print(f"{kind:<14}{requests:>9}{results.minimum[kind]:>9}{verdict(met):>8}{ours:>8.2f}{tail}")
    wall = statistics.median(cycle.wall for cycle in results.cycles)
    naive_wall = max(results.naive.values(), default=0.0)
    total = sum(results.cycles[-1].requests.values())
    print(
        f"{'every entry':<14}{total:>9}{sum(results.minimum.values()):>9}{'':>8}{wall:>8.2f}"
        f"{sum(results.naive_requests.values()):>11}{naive_wall:>9.2f}"
        + (f"{naive_wall / wall:>7.0f}x" if naive_wall else "")
    )
    print(f"API minimum: {results.minimum_how}")
    print(f"requests = the API minimum for every entry: {verdict(ok)}")
    return ok


def _kasify(results: Results) -> bool:
    kasify = statistics.median(results.kasify_alone)
    trips = kasify / results.latency if results.latency else 0.0
    naive = results.naive.get("kasify", 0.0)
    ratio = naive / kasify
    rounds = len(results.kasify_alone)
    print(
        f"\nKasify refresh alone (median of {rounds}): {kasify:.3f} s = {trips:.1f} round trips of latency "
        f"(target <= {ROUND_TRIPS}: {verdict(trips <= ROUND_TRIPS)}); naive {naive:.1f} s: {ratio:.0f}x "
        f"faster (target >= {NAIVE_RATIO}x: {verdict(ratio >= NAIVE_RATIO)})"
    )
    return trips <= ROUND_TRIPS and ratio >= NAIVE_RATIO


def _others(results: Results) -> None:
    wall, requests = results.feeds
    print(f"Every iCal feed changed and re-read: {requests} feeds in {wall:.1f} s")
    print(f"Kasify outage and recovery (every entity unavailable, then back): {results.outage:.2f} s")
    actions = ", ".join(f"{kind} {seconds * 1000:.0f} ms" for kind, seconds in results.actions.items())
    print(
        f"Lock action to new state (median): {actions} (naive: the next poll of the account, one request "
        f"per lock, shows it: up to its naive time above)"
    )


def _stalls(results: Results) -> bool:
    print(
        f"\n{'event loop, by phase':<30}{'stall ms':>9}{'busy ms':>9}{'wall ms':>9}{'gc ms':>8}"
        f"{'samples':>9}{'> 50 ms':>9}"
    )
    for name, (stall, busy, wall, collected, samples, over) in results.stalls.items():
        print(
            f"{name:<30}{stall * 1000:>9.1f}{busy * 1000:>9.1f}{wall * 1000:>9.1f}{collected * 1000:>8.1f}"
            f"{samples:>9}{over:>9}"
        )
    worst = max(stall for stall, *_ in results.stalls.values())
    print(
        "(stall: the loop's thread running code while a 10 ms probe was due, less the interpreter's garbage "
        "collections on it (gc); busy: with them; wall: also while the machine ran other processes)"
    )
    limit = f"{STALL_LIMIT * 1000:.0f} ms"
    print(f"no stall over {limit}: {verdict(worst <= STALL_LIMIT)} (worst {worst * 1000:.1f} ms)")
    busiest = max(busy for _, busy, *_ in results.stalls.values())
    print(
        f"(counting garbage collections too, the worst was {busiest * 1000:.1f} ms: "
        f"{'within' if busiest <= STALL_LIMIT else 'over'} {limit})"
    )
    return worst <= STALL_LIMIT


def _memory(results: Results) -> bool:
    first, last = results.memory_samples[0], results.memory_samples[-1]
    growth = (last[2] - first[2]) / first[2]
    flat = growth <= FLAT_GROWTH
    print(
        f"\nMemory per property: {results.memory_per_property / 1024:.0f} KiB (resident memory the set-up of "
        f"every entry added, over the properties)"
    )
    print(
        f"Over refresh cycles {first[0]}-{last[0]} of {results.memory_cycles}: allocated blocks "
        f"{first[2]} -> {last[2]} ({growth:+.2%}; flat = within {FLAT_GROWTH:.1%}: {verdict(flat)}), "
        f"resident {first[1] / 2**20:.0f} -> {last[1] / 2**20:.0f} MiB"
    )
    return flat


def report(results: Results) -> bool:
    """Print every table; whether every target was met."""
    _fleet(results)
    ok = _requests(results)
    ok &= _kasify(results)
    _others(results)
    ok &= _stalls(results)
    ok &= _memory(results)
    print("\nall targets met" if ok else "\nsome targets missed (see above)")
    return ok
