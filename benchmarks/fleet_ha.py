"""The fleet benchmark's harness: the simulator process, Home Assistant with every account kind, a loop probe.

Home Assistant is the test harness's instance (``async_test_home_assistant`` of
pytest-homeassistant-custom-component: real event loop, executor and registries, storage kept in memory), so
the benchmark measures the integration as Home Assistant runs it, without the frozen clock of the tests.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
import contextlib
from dataclasses import dataclass, field
import gc
import json
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import aiohttp
from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_HOST,
    CONF_PORT,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_test_home_assistant

from custom_components.kasify.const import (
    CONF_API_TOKEN,
    CONF_CALENDAR_DAYS,
    CONF_FINGERPRINT,
    CONF_KEY,
    CONF_KIND,
    CONF_OAUTH_URL,
    CONF_SCAN_INTERVAL,
    CONF_SECRET,
    DOMAIN,
    MAX_SCAN_INTERVAL,
)

# Which vendor a simulator path belongs to (the request log is counted per vendor).
PREFIXES = {
    "/kasify/v1": "kasify",
    "/ical": "ical",
    "/nuki": "nuki",
    "/casavi": "casavi",
    "/remotelock": "remotelock",
    "/api/v1/developer": "unifi_access",
}
KINDS = ("kasify", "casavi", "nuki", "unifi_access", "remotelock")


def vendor_of(path: str) -> str:
    """The vendor a recorded path belongs to."""
    return next((vendor for prefix, vendor in PREFIXES.items() if path.startswith(prefix)), "other")


# --- the simulator process ------------------------------------------------------------------------------


class SimulatorProcess:
    """``python -m benchmarks.fleet_sim`` in a child process, and its ``/_sim`` control endpoints."""

    def __init__(self, args: list[str]) -> None:
        """Start the simulator with ``args`` and wait for its connection details."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.fleet_sim", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the simulator process ended before it served")
        self.info: dict[str, Any] = json.loads(line)
        self.fleet: dict[str, int] = self.info["fleet"]
        self.session: aiohttp.ClientSession | None = None

    def close(self) -> None:
        """Stop the child (it ends when its stdin closes)."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()

    async def call(self, method: str, path: str, body: Any = None, *, raw: bool = False) -> Any:
        """One request to the simulator (``path`` from its root); the decoded answer."""
        assert self.session is not None
        url = self.info["base_url"] + path
        async with self.session.request(method, url, json=body) as response:
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {await response.text()}")
            if response.status == 204 or raw:
                return None
            return await response.json()

    async def settings(self, **values: Any) -> None:
        """``PATCH /_sim/settings``: latency, Nuki action steps, the RemoteLock rate limit."""
        await self.call("PATCH", "/_sim/settings", values)

    async def reset_requests(self) -> None:
        """Forget the request log."""
        await self.call("DELETE", "/_sim/requests")

    async def requests(self) -> list[dict[str, Any]]:
        """The request log since the last reset."""
        answer: dict[str, list[dict[str, Any]]] = await self.call("GET", "/_sim/requests")
        return answer["requests"]

    async def requests_per_vendor(self) -> Counter[str]:
        """How many requests each vendor received since the last reset."""
        return Counter(vendor_of(record["path"]) for record in await self.requests())

    async def kasify(self, method: str, path: str, body: Any = None) -> Any:
        """A Kasify API request with the account's token (the benchmark's own changes to the account)."""
        assert self.session is not None
        url = self.info["kasify_url"] + path
        headers = {"Authorization": f"Bearer {self.info['kasify_token']}"}
        async with self.session.request(method, url, json=body, headers=headers) as response:
            response.raise_for_status()
            return await response.json() if response.status != 204 else None

    async def nuki(self, method: str, path: str) -> None:
        """A Nuki Web API request with the account's token."""
        assert self.session is not None
        headers = {"Authorization": f"Bearer {self.info['nuki_token']}"}
        async with self.session.request(method, self.info["nuki_url"] + path, headers=headers) as response:
            response.raise_for_status()


@contextlib.asynccontextmanager
async def simulator_process(args: list[str]) -> AsyncIterator[SimulatorProcess]:
    """The simulator process while the block runs."""
    sim = await asyncio.get_running_loop().run_in_executor(None, SimulatorProcess, args)
    try:
        async with aiohttp.ClientSession() as session:
            sim.session = session
            yield sim
    finally:
        sim.close()


# --- the loop probe ---------------------------------------------------------------------------------------


@dataclass
class PhaseLag:
    """What the probe saw during one phase (seconds)."""

    worst_wall: float = 0.0  # latest wake-up (also while the machine ran other processes)
    worst_busy: float = 0.0  # latest wake-up while the loop's thread was running code
    worst_stall: float = 0.0  # the same, less the interpreter's garbage collections on that thread
    worst_gc: float = 0.0  # longest collection on the loop's thread
    samples: int = 0
    over: int = 0  # wake-ups whose stall was over the limit


@dataclass
class LoopProbe:
    """Sleeps ``interval`` again and again and records how late it wakes up, per phase.

    Lateness counts as a stall only while the loop's thread was running code: the thread's CPU time over the
    sleep bounds that part (a shared machine also runs other processes, which shows as lateness that is no
    stall). The interpreter's garbage collections on the loop's thread are timed apart: a full collection
    of a heap of millions of objects takes hundreds of milliseconds, whatever code happened to allocate.
    """

    interval: float = 0.01
    limit: float = 0.05
    phases: dict[str, PhaseLag] = field(default_factory=lambda: defaultdict(PhaseLag))
    phase_name: str | None = None
    last_tick: float = field(default_factory=time.perf_counter)
    _gc_total: float = 0.0
    _gc_began: float = 0.0
    _thread: int = 0
    _task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            began = self.last_tick = time.perf_counter()
            cpu, collected = time.thread_time(), self._gc_total
            await asyncio.sleep(self.interval)
            late = max(0.0, time.perf_counter() - began - self.interval)
            busy = min(late, time.thread_time() - cpu)
            stall = max(0.0, busy - (self._gc_total - collected))
            if self.phase_name is not None:
                lag = self.phases[self.phase_name]
                lag.samples += 1
                lag.worst_wall = max(lag.worst_wall, late)
                lag.worst_busy = max(lag.worst_busy, busy)
                lag.worst_stall = max(lag.worst_stall, stall)
                lag.over += stall > self.limit

    def start(self) -> None:
        """Start sampling (on the running loop), and timing the collections on the loop's thread."""
        self._thread = threading.get_ident()
        self._task = asyncio.get_running_loop().create_task(self._run())
        gc.callbacks.append(self._collected)

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        if threading.get_ident() != self._thread:
            return
        if phase == "start":
            self._gc_began = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_began
        self._gc_total += took
        if self.phase_name is not None:
            lag = self.phases[self.phase_name]
            lag.worst_gc = max(lag.worst_gc, took)

    async def stop(self) -> None:
        """Stop sampling."""
        if self._collected in gc.callbacks:
            gc.callbacks.remove(self._collected)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Attribute what the probe sees while the block runs to ``name``."""
        previous, self.phase_name = self.phase_name, name
        try:
            yield
        finally:
            self.phase_name = previous


# --- Home Assistant with every account kind ----------------------------------------------------------------


@contextlib.asynccontextmanager
async def home_assistant() -> AsyncIterator[HomeAssistant]:
    """A running Home Assistant (the test harness's) that loads the project's integration."""
    with tempfile.TemporaryDirectory(prefix="kasify-bench-") as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # what the harness's enable_custom_integrations does
            await hass.config.async_set_time_zone("Europe/Madrid")
            try:
                yield hass
            finally:
                await hass.async_stop(force=True)


def entries_for(info: dict[str, Any]) -> list[MockConfigEntry]:
    """One config entry per account kind, on the simulator, polling as slowly as the options allow.

    The benchmark refreshes the entries itself; the slow interval only keeps their own timers out of it.
    """
    slow = {CONF_SCAN_INTERVAL: MAX_SCAN_INTERVAL}
    return [
        MockConfigEntry(
            domain=DOMAIN,
            title="Kasify",
            unique_id="bench_kasify",
            data={CONF_KIND: "kasify", CONF_URL: info["kasify_url"], CONF_API_TOKEN: info["kasify_token"]},
            options={**slow, CONF_CALENDAR_DAYS: 90},
        ),
        MockConfigEntry(
            domain=DOMAIN,
            title="casavi",
            unique_id="bench_casavi",
            data={
                CONF_KIND: "casavi",
                CONF_URL: info["casavi_url"],
                CONF_KEY: info["casavi_key"],
                CONF_SECRET: info["casavi_secret"],
            },
            options={**slow, CONF_CALENDAR_DAYS: 90},
        ),
        MockConfigEntry(
            domain=DOMAIN,
            title="Nuki",
            unique_id="bench_nuki",
            data={CONF_KIND: "nuki", CONF_URL: info["nuki_url"], CONF_API_TOKEN: info["nuki_token"]},
            options=slow,
        ),
        MockConfigEntry(
            domain=DOMAIN,
            title="UniFi Access",
            unique_id="bench_unifi",
            data={
                CONF_KIND: "unifi_access",
                CONF_HOST: info["unifi_host"],
                CONF_PORT: info["unifi_port"],
                CONF_API_TOKEN: info["unifi_token"],
                CONF_VERIFY_SSL: True,
                CONF_FINGERPRINT: info["unifi_fingerprint"],
            },
            options=slow,
        ),
        MockConfigEntry(
            domain=DOMAIN,
            title="RemoteLock",
            unique_id="bench_remotelock",
            data={
                CONF_KIND: "remotelock",
                CONF_URL: info["remotelock_api_url"],
                CONF_OAUTH_URL: info["remotelock_oauth_url"],
                CONF_CLIENT_ID: info["remotelock_client_id"],
                CONF_CLIENT_SECRET: info["remotelock_client_secret"],
            },
            options=slow,
        ),
    ]


async def set_up_entries(hass: HomeAssistant, entries: list[MockConfigEntry]) -> None:
    """Add and set up every entry, providers first (so Kasify shows only the locks no account covers)."""
    for entry in sorted(entries, key=lambda e: e.data[CONF_KIND] in ("kasify", "casavi")):
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    for entry in entries:
        if entry.state is not ConfigEntryState.LOADED:
            raise RuntimeError(f"{entry.title} did not load: {entry.state}")


class StallSampler:
    """``--diagnose``: a thread that, while the loop probe is overdue, samples what the loop's thread runs.

    Counts stacks (innermost frames of this project and Home Assistant) seen during stalls, to say what to
    chunk or move off the loop.
    """

    def __init__(self, probe: LoopProbe, overdue: float = 0.03) -> None:
        """Watch ``probe``: a sample is taken when it has not woken for ``overdue`` seconds."""
        self.probe = probe
        self.overdue = overdue
        self.stacks: Counter[tuple[str, ...]] = Counter()
        self._thread_id = threading.get_ident()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Start watching (call from the loop's thread)."""
        self._thread_id = threading.get_ident()
        self._clock = time.pthread_getcpuclockid(threading.get_ident())
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        cpu, wall = time.clock_gettime(self._clock), time.perf_counter()
        while not self._stop.wait(0.005):
            busy = time.clock_gettime(self._clock) - cpu
            cpu, elapsed, wall = (
                time.clock_gettime(self._clock),
                time.perf_counter() - wall,
                time.perf_counter(),
            )
            # Only while the loop's thread is running code (not while the machine runs other processes).
            if time.perf_counter() - self.probe.last_tick < self.overdue or busy < 0.5 * elapsed:
                continue
            frame = sys._current_frames().get(self._thread_id)  # noqa: SLF001 - a sampling profiler
            stack: list[str] = []
            ours = 0
            while frame is not None and ours < 4:
                code = frame.f_code
                short = code.co_filename.split("site-packages/")[-1].split("lib/python3.13/")[-1]
                short = short.split("wt-fleet/")[-1]
                mine = short.startswith(("custom_components", "benchmarks"))
                if len(stack) < 4 or mine:  # the innermost frames, then the project's
                    stack.append(f"{short}:{frame.f_lineno} {code.co_name}")
                ours += mine
                frame = frame.f_back
            self.stacks[tuple(stack)] += 1

    def print_top(self, count: int = 25) -> None:
        """The stacks seen most often during stalls."""
        for stack, seen in self.stacks.most_common(count):
            print(f"--- {seen} samples")
            for line in stack:
                print("   ", line)
