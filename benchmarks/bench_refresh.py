"""Requests and wall time of one Kasify refresh at fleet scale, against a naive per-property refresh.

Both run in the same process against the simulator on loopback with the same per-request latency, so the
printed ratios compare like with like on whatever machine runs them:

    .venv/bin/python -m benchmarks.bench_refresh [--properties 200] [--latency 0.01] [--rounds 3]

"ours" is ``KasifyClient.fetch_snapshot`` (what the coordinator runs every interval). The baseline is the
shape many integrations have: list properties, then for each property its bookings, smart locks and tasks.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
import statistics
import time

import aiohttp

from custom_components.kasify.api.kasify import KasifyClient
from simulator import Simulator, SimulatorConfig


async def naive_refresh(client: KasifyClient, start: datetime, end: datetime) -> int:
    """One call per property per resource, one property after another."""
    properties = await client.list_properties()
    for prop in properties:
        await client.list_property_bookings(prop.id, start, end)
        await client.list_smart_locks(prop.id)
        await client.list_property_tasks(prop.id)
    return len(properties)


async def main(properties: int, latency: float, rounds: int) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    sim = Simulator(SimulatorConfig(properties=properties, seed=7, latency=latency, now=now))
    start, end = now - timedelta(days=30), now + timedelta(days=91)
    async with sim.serve() as _url, aiohttp.ClientSession() as session:
        client = KasifyClient(session, sim.kasify_url, sim.kasify.token)
        results: dict[str, tuple[int, list[float]]] = {}
        for name, run in (
            ("naive per-property", lambda: naive_refresh(client, start, end)),
            ("ours (fetch_snapshot)", lambda: client.fetch_snapshot(start, end)),
        ):
            times: list[float] = []
            for _ in range(rounds):
                sim.reset_requests()
                began = time.perf_counter()
                await run()
                times.append(time.perf_counter() - began)
            results[name] = (len(sim.requests), times)

    print(f"{properties} properties, {latency * 1000:.0f} ms simulated latency per request, {rounds} rounds")
    print(f"{'refresh':<24}{'requests':>10}{'median s':>12}")
    for name, (requests, times) in results.items():
        print(f"{name:<24}{requests:>10}{statistics.median(times):>12.3f}")
    (base_requests, base_times), (our_requests, our_times) = results.values()
    print(
        f"ratio baseline/ours: requests {base_requests / our_requests:.1f}x, "
        f"time {statistics.median(base_times) / statistics.median(our_times):.1f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.01)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.properties, args.latency, args.rounds))
