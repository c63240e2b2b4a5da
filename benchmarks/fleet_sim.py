"""The fleet benchmark's simulator, in a process of its own so its work never shows as Home Assistant's.

    python -m benchmarks.fleet_sim --properties 500 --nuki 500 --unifi 500 --remotelock 500 \
        --nuki-other-account 25 --latency 0.05

Builds the seeded fleet with that lock mix, serves every vendor on loopback (UniFi Access over HTTPS), prints
one JSON line with what a client needs (URLs, tokens, the UniFi certificate's fingerprint) and the fleet's
ground truth the benchmark needs for the API minimum, then serves until stdin closes or SIGTERM. Everything
else (latency, the RemoteLock rate limit, Nuki action steps, the request log) goes through ``/_sim``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import threading
from typing import Any

from simulator import LockMix, Simulator, SimulatorConfig, serve_unifi_https
from simulator.remotelock import CLIENT_ID, CLIENT_SECRET


def fleet_facts(sim: Simulator) -> dict[str, Any]:
    """What the simulator knows that the integration has to find out: which Kasify locks no account covers."""
    nuki_ids = {str(lock_id) for lock_id in sim.nuki.locks}
    door_ids = set(sim.unifi.doors)
    uncovered: set[str] = set()
    for lock in sim.kasify.smart_locks.values():
        nuki = (lock.get("nuki_smartlock") or {}).get("nuki_smartlock_id")
        door = (lock.get("unifi_smartlock") or {}).get("door_id")
        if not (nuki in nuki_ids if lock["vendor"] == "nuki" else door in door_ids):
            uncovered.add(lock["property_id"])
    return {
        "properties": len(sim.kasify.properties),
        "kasify_locks": len(sim.kasify.smart_locks),
        "nuki_locks": len(sim.nuki.locks),
        "unifi_doors": len(sim.unifi.doors),
        "remotelock_locks": sim.remotelock.summary()["locks"],
        "properties_with_uncovered_locks": len(uncovered),
        "casavi_properties": len(sim.casavi.properties),
        "casavi_appointments": len(sim.casavi.appointments),
        "casavi_open_tickets": sum(1 for t in sim.casavi.tickets.values() if t["status"] == "OPEN"),
        "casavi_tickets_in_progress": sum(
            1 for t in sim.casavi.tickets.values() if t["status"] == "IN_PROGRESS"
        ),
    }


async def serve(args: argparse.Namespace) -> None:
    """Serve until stdin closes (the benchmark ended) or a signal."""
    mix = LockMix(
        nuki=args.nuki,
        unifi=args.unifi,
        remotelock=args.remotelock,
        nuki_other_account=args.nuki_other_account,
    )
    sim = Simulator(
        SimulatorConfig(properties=args.properties, seed=args.seed, latency=args.latency, locks=mix)
    )
    async with sim.serve() as base_url, serve_unifi_https(sim) as unifi:
        info = {
            "base_url": base_url,
            "kasify_url": sim.kasify_url,
            "kasify_token": sim.kasify.token,
            "nuki_url": sim.nuki_url,
            "nuki_token": sim.nuki.token,
            "casavi_url": sim.casavi_url,
            "casavi_key": sim.casavi.key,
            "casavi_secret": sim.casavi.secret,
            "remotelock_api_url": sim.remotelock_api_url,
            "remotelock_oauth_url": sim.remotelock_oauth_url,
            "remotelock_client_id": CLIENT_ID,
            "remotelock_client_secret": CLIENT_SECRET,
            "unifi_host": unifi.host,
            "unifi_port": unifi.port,
            "unifi_token": unifi.token,
            "unifi_fingerprint": unifi.fingerprint,
            "fleet": fleet_facts(sim),
        }
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        # The benchmark holds our stdin: when it ends, however it ends, so do we.
        threading.Thread(target=_wait_for_eof, args=(loop, stop), daemon=True).start()
        await stop.wait()


def _wait_for_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    sys.stdin.read()
    loop.call_soon_threadsafe(stop.set)


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=500)
    parser.add_argument("--nuki", type=int, default=500)
    parser.add_argument("--unifi", type=int, default=500)
    parser.add_argument("--remotelock", type=int, default=500)
    parser.add_argument("--nuki-other-account", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.05)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
