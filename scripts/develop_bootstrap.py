"""Run a local Home Assistant with the Kasify integration against the simulator.

Called by ``scripts/develop`` with the project's venv Python. It:

1. prepares ``config/`` (symlink ``config/custom_components/kasify``, empty include files, the
   generated ``dev`` password in ``config/.develop-credentials``) and installs the frontend
   package Home Assistant pins when it is missing;
2. starts the simulator (``python -m simulator``) and ``hass -c config``, each in its own session
   so a terminal Ctrl-C reaches only this script, which then stops both cleanly;
3. completes onboarding through Home Assistant's onboarding REST API (or logs in with the stored
   credentials when the instance is already onboarded), and removes the met / radio_browser /
   google_translate entries that onboarding adds (they need the internet or ffmpeg);
4. creates the Kasify, Nuki Web, casavi, UniFi Access and RemoteLock config entries through the
   config-flow REST API when they do not exist;
5. prints the URL, the credentials and how many Kasify entities have a state.

Without ``--check`` it then keeps both processes running until Ctrl-C / SIGTERM (or until one of
them exits). With ``--check`` it verifies that at least one Kasify entity has an available state,
shuts everything down and exits 0 (ok) or 1 (failure).

The orchestration itself is the ``kasify_dev`` package next to this file (the e2e tests use it too, on
other ports and a temporary config folder).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

import aiohttp
from kasify_dev import (
    DOMAIN,
    KASIFY_TOKEN,
    BootstrapError,
    Instance,
    Settings,
    Started,
    available,
    rel,
    tail,
)


async def run(args: argparse.Namespace, instance: Instance) -> int:
    """Bring everything up, print the summary, then either wait or check."""
    started = await instance.start()
    _print_summary(instance.settings, instance.creds, started)
    if args.check:
        # Let a fresh instance finish removing the onboarding entries before stopping.
        await instance.wait_background(30)
        ok = bool(available(started.states)) or not instance.settings.accounts
        verdict = "PASSED" if ok else "FAILED: no kasify entity has an available state"
        instance.settings.say(f"check {verdict}")
        if not ok:
            _print_kasify_log_lines(instance.settings)
        return 0 if ok else 1
    instance.settings.say("running; press Ctrl-C to stop both processes")
    await instance.wait_for_exit()
    for child in instance.watched:
        if not child.running:
            instance.settings.say(
                f"{child.name} exited with code {child.process.returncode}; "
                f"last output ({rel(child.log_path)}):\n{tail(child.log_path)}"
            )
    return 1


def _print_summary(settings: Settings, creds: dict[str, str], started: Started) -> None:
    states: list[dict[str, Any]] = started.states
    by_domain: dict[str, int] = {}
    for state in states:
        domain = state["entity_id"].split(".", 1)[0]
        by_domain[domain] = by_domain.get(domain, 0) + 1
    breakdown = ", ".join(f"{count} {domain}" for domain, count in sorted(by_domain.items()))
    print()
    print("=" * 72)
    print(f"  Home Assistant:  {settings.ha_url}")
    print(f"  User name:       {creds['username']}" + ("  (created now)" if started.created_user else ""))
    print(f"  Password:        {creds['password']}  (stored in {rel(settings.credentials_file)})")
    print(f"  Entries:         {started.entry_state}")
    unavailable = len(states) - len(available(states))
    print(
        f"  Kasify entities: {len(states)} with a state"
        + (f" ({breakdown})" if states else "")
        + (f", {unavailable} unavailable" if unavailable else "")
    )
    if settings.accounts:
        print(f"  Simulator:       {settings.kasify_url}  (token {KASIFY_TOKEN})")
    print(
        f"  Logs:            {rel(settings.ha_log)}, {rel(settings.ha_console_log)}, {rel(settings.sim_log)}"
    )
    print("=" * 72)
    print()


def _print_kasify_log_lines(settings: Settings, limit: int = 30) -> None:
    try:
        lines = settings.ha_log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    interesting = [
        line
        for line in lines
        if DOMAIN in line
        and (" ERROR " in line or " WARNING " in line)
        and "has not been tested by Home Assistant" not in line
    ]
    if interesting:
        settings.say(f"kasify warnings/errors in {rel(settings.ha_log)}:")
        print("\n".join(interesting[-limit:]))


async def main_async(args: argparse.Namespace) -> int:
    """Run :func:`run`, stopping the children on exit, Ctrl-C or SIGTERM."""
    settings = Settings(
        start_simulator=args.start_simulator,
        accounts=Settings().accounts if args.create_entry else (),
        start_timeout=args.timeout,
        entity_timeout=args.entity_timeout,
    )
    instance = Instance(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig.name)
        if stop.is_set():
            settings.say(f"{sig.name} again: killing everything")
            instance.children.kill_all()
            return
        print()
        settings.say(f"{sig.name} received: stopping")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal, sig)

    work = asyncio.create_task(run(args, instance))
    stopper = asyncio.create_task(stop.wait())
    rc = 1
    try:
        await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if work.done():
            rc = work.result()
        else:
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError, BootstrapError):
                await work
            rc = 130 if received and received[0] == "SIGINT" else 143
            if args.check:
                rc = 1
    except (BootstrapError, aiohttp.ClientError, TimeoutError) as err:
        print(f"[{settings.label}] ERROR: {type(err).__name__}: {err}", file=sys.stderr)
        rc = 1
    finally:
        stopper.cancel()
        await instance.stop()
        settings.say("stopped")
    return rc


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description="Run Home Assistant with the Kasify integration against the simulator.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="bring everything up, verify a kasify entity has a state, shut down, exit 0/1",
    )
    parser.add_argument(
        "--no-simulator",
        dest="start_simulator",
        action="store_false",
        help=f"do not start the simulator; use the one already listening on 127.0.0.1:{defaults.sim_port}",
    )
    parser.add_argument(
        "--no-entry",
        dest="create_entry",
        action="store_false",
        help="do not create the kasify config entries (Home Assistant and onboarding only; "
        "implies --no-simulator)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=defaults.start_timeout,
        help="seconds to wait for Home Assistant to answer and finish starting (default 300)",
    )
    parser.add_argument(
        "--entity-timeout",
        type=float,
        default=defaults.entity_timeout,
        help="seconds to wait for the first kasify entity state (default 60)",
    )
    args = parser.parse_args(argv)
    if not args.create_entry and args.start_simulator:
        # Nothing would use it.
        args.start_simulator = False
    return args


def main() -> int:
    """Entry point."""
    return asyncio.run(main_async(parse_args(sys.argv[1:])))


if __name__ == "__main__":
    sys.exit(main())
