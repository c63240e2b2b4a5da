"""Run the simulator until Ctrl-C or SIGTERM: ``python -m simulator --port 8765``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .app import Simulator, SimulatorConfig
from .unifi_access import serve_unifi_https


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--properties", type=int, default=3, help="Kasify properties in the fleet")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--token", default="sim-kasify-token", help="Kasify bearer token")
    parser.add_argument("--unifi-port", type=int, default=12445, help="HTTPS port of the UniFi Access API")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    config = SimulatorConfig(
        properties=args.properties, seed=args.seed, token=args.token, latency=args.latency
    )
    sim = Simulator(config)
    async with (
        sim.serve(args.host, args.port) as base_url,
        serve_unifi_https(sim, host=args.host, port=args.unifi_port) as unifi,
    ):
        sys.stdout.write(
            f"Kasify simulator on {base_url}\n"
            f"  Kasify base URL: {sim.kasify_url}\n"
            f"  Kasify token:    {sim.kasify.token}\n"
            f"  Nuki base URL:   {sim.nuki_url}  (token {sim.nuki.token})\n"
            f"  casavi API root: {sim.casavi_url}  (key {sim.casavi.key}, secret {sim.casavi.secret})\n"
            f"  RemoteLock API:  {sim.remotelock_api_url}  (OAuth {sim.remotelock_oauth_url}, client "
            f"{sim.remotelock.client_id} / {sim.remotelock.client_secret})\n"
            f"  UniFi Access:    {unifi.url}  (token {unifi.token}, certificate {unifi.fingerprint})\n"
            f"  Control:         {base_url}/_sim/state\n"
        )
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # no loop signal handlers on Windows
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    sys.stdout.write("Simulator stopped\n")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until Ctrl-C."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(_parse(argv)))


if __name__ == "__main__":
    main()
