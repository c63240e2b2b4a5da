"""The Home Assistant side of the soak: the four accounts on the simulator, simulated time that Home
Assistant and the simulator share, and reloads and restarts.

Time is frozen in the test harness (the event loop's clock too), so nothing waits in real time: moving the
clock fires every timer that fell due. :meth:`SoakHass.drain` waits for what that started; when everything
left waits on the clock (a request the simulator holds back, a client's timeout, a rate limiter), it moves
the clock on a few seconds at a time, as the world would.

A restart is what Home Assistant does when it stops and starts again, in process: every running task of the
integration is cancelled where it stands (possibly in the middle of a create, a move or a revoke), every
entry is unloaded, the integration's runtime data is dropped (the access-code engine with its checker), the
integration is started again (``async_setup``: its actions, the engine loading its store) and the entries are
set up again on the same ``.storage`` (``hass_storage``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
import time
from typing import Any, TypeVar
from unittest.mock import Mock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components import kasify
from custom_components.kasify.access_codes import manager as engine
from custom_components.kasify.access_codes.automatic import AUTO_CODES
from custom_components.kasify.const import (
    CONF_AUTO_CODES,
    CONF_AUTO_CODES_END_OFFSET,
    CONF_AUTO_CODES_LEAD_HOURS,
    CONF_AUTO_CODES_START_OFFSET,
    CONF_CALENDAR_DAYS,
    CONF_SCAN_INTERVAL,
)
from custom_components.kasify.frontend import MODULE_URL
from simulator import RecordedRequest, Simulator
from simulator.unifi_access import UnifiEndpoint
from simulator.unifi_access.api import NOTIFICATIONS_PATH

from ..providers import kasify_entry, nuki_entry, remotelock_entry, unifi_entry

T = TypeVar("T")

SCAN_SECONDS = 60
LEAD_HOURS = 48
START_OFFSET = timedelta(minutes=0)
END_OFFSET = timedelta(minutes=30)
AUTO_OPTIONS: dict[str, Any] = {
    CONF_SCAN_INTERVAL: SCAN_SECONDS,
    CONF_CALENDAR_DAYS: 14,
    CONF_AUTO_CODES: True,
    CONF_AUTO_CODES_LEAD_HOURS: LEAD_HOURS,
    CONF_AUTO_CODES_START_OFFSET: int(START_OFFSET.total_seconds() // 60),
    CONF_AUTO_CODES_END_OFFSET: int(END_OFFSET.total_seconds() // 60),
}

DOMAIN_LOGGER = "custom_components.kasify"
# Moving the clock while everything waits on it: to the next timer due, at least NUDGE and at most MAX_NUDGE
# at a time, at most MAX_DRAIN per drain (a 429 asks clients to wait up to 15 minutes, per request).
NUDGE = timedelta(seconds=1)
MAX_NUDGE = timedelta(seconds=60)
MAX_DRAIN = timedelta(hours=2)
# Real seconds of one look for progress (a request, a finished task); looks without any before the clock is
# moved when no task is known to wait on it.
IDLE_REAL_SECONDS = 0.03
IDLE_ROUNDS = 60
# Looks (a millisecond each, at least) a restart waits for a create to start, to cut into it.
CREATE_WAIT_LOOKS = 2000
# The requests looked at for one still being answered (a refresh of every account and feed is fewer).
IN_FLIGHT_WINDOW = 1000


@contextmanager
def debug_log(path: str | None) -> Iterator[None]:
    """With a ``path``, the integration's debug log goes there too (stamped with the simulated time)."""
    if path is None:
        yield
        return
    logger = logging.getLogger(DOMAIN_LOGGER)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


@contextmanager
def eager_log_records() -> Iterator[None]:
    """Log records carry their text, not their arguments, while the soak runs.

    The test run's log capture keeps every record; an exception among a record's arguments would keep its
    traceback's frames, and all they hold, alive with it: memory the integration does not hold.
    """
    factory = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def eager(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        if record.args:
            record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text, record.exc_info = formatter.formatException(record.exc_info), None
        return record

    logging.setLogRecordFactory(eager)
    try:
        yield
    finally:
        logging.setLogRecordFactory(factory)


def _sleeping(task: asyncio.Future[Any]) -> bool:
    """Whether a task waits in ``asyncio.sleep`` (for the clock alone)."""
    coro = task.get_coro() if isinstance(task, asyncio.Task) else None
    innermost = None
    while coro is not None and getattr(coro, "cr_frame", None) is not None:
        innermost, coro = coro, getattr(coro, "cr_await", None)
    return innermost is not None and innermost.cr_code is asyncio.sleep.__code__


class DrainStuckError(AssertionError):
    """Work started by the clock did not finish within :data:`MAX_DRAIN` of simulated time."""


@dataclass(slots=True)
class SoakHass:
    """Home Assistant with the Kasify, Nuki, UniFi Access and RemoteLock accounts on one simulator."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    sim: Simulator
    entries: list[MockConfigEntry] = field(default_factory=list)
    # Creates under way in the engine (see :meth:`creating`): a restart may be kept from cutting into one.
    creates_in_flight: int = 0
    creates_cut: int = 0
    nudges: int = 0
    on_clock: list[Callable[[datetime], None]] = field(default_factory=list)
    """Called with the new time each time the clock moves, before the timers fire (the soak ends its faults
    there)."""

    @property
    def kasify(self) -> MockConfigEntry:
        """The Kasify account with automatic codes on."""
        return self.entries[0]

    async def async_setup(self, endpoint: UnifiEndpoint) -> None:
        """Add the four accounts and set them up (the provider entries reload the Kasify entry)."""
        self.entries = [
            kasify_entry(self.sim, options=AUTO_OPTIONS),
            nuki_entry(self.sim),
            unifi_entry(endpoint),
            remotelock_entry(self.sim),
        ]
        for entry in self.entries:
            entry.add_to_hass(self.hass)
            assert await self.drive(self.hass.config_entries.async_setup(entry.entry_id))
        self.assert_loaded()

    def assert_loaded(self) -> None:
        """Every account is set up (none waiting for a retry, none failed)."""
        states = {entry.title: entry.state for entry in self.entries}
        assert all(state is ConfigEntryState.LOADED for state in states.values()), states

    # -- time ----------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """Simulated now (Home Assistant's and the simulator's)."""
        return dt_util.utcnow()

    def _fire(self) -> None:
        # The test harness's storage mock records every write it is given: forget them, they are not the
        # integration's (they would look like memory it holds).
        writes = getattr(Store._async_write_data, "mock", None)
        if isinstance(writes, Mock):
            writes.reset_mock()
        now = dt_util.utcnow()
        self.sim.clock.set(now)
        for hook in self.on_clock:
            hook(now)
        async_fire_time_changed(self.hass)

    def move_clock(self, instant: datetime) -> None:
        """Move Home Assistant's clock to ``instant`` when it is ahead (no timer fires yet; the soak's own
        hooks run: a fault whose time is up ends)."""
        if instant > self.now():
            self.freezer.move_to(instant)
        for hook in self.on_clock:
            hook(self.now())

    async def advance_to(self, instant: datetime) -> None:
        """Move both clocks to ``instant`` (when it is ahead) and wait for what the timers started."""
        self.move_clock(instant)
        self._fire()
        await self.drain()

    def _pending(self) -> set[asyncio.Future[Any]]:
        tasks = (*self.hass._tasks, *self.hass._background_tasks)
        return {
            task
            for task in tasks
            if not task.done() and not (isinstance(task, asyncio.Task) and task.get_name().endswith(" push"))
        }

    def _open(self) -> list[RecordedRequest]:
        """The requests the simulator is still answering (a push socket left open aside)."""
        return [
            record
            for record in self.sim.requests[-IN_FLIGHT_WINDOW:]
            if record.status is None and not record.path.endswith(NOTIFICATIONS_PATH)
        ]

    def _nudge(self) -> None:
        """Move the clock to the next timer due (a client's timeout, a rate limiter's wait), within bounds."""
        loop = self.hass.loop
        due = [handle.when() for handle in loop._scheduled if not handle.cancelled()]  # type: ignore[attr-defined]
        wait = min(due, default=loop.time()) - loop.time()
        self.freezer.tick(timedelta(seconds=min(max(wait, NUDGE.total_seconds()), MAX_NUDGE.total_seconds())))
        self.nudges += 1
        self._fire()

    async def drain(self) -> None:
        """Wait for every task the last clock change started (a UniFi push listener runs on, and is left)."""
        await self._run_until(lambda: not self._pending())

    async def drive(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` (something of Home Assistant's that may wait on the clock), then drain."""
        task = asyncio.ensure_future(awaitable)
        await self._run_until(task.done, task)
        result = task.result()
        await self.drain()
        return result

    async def _run_until(self, done: Callable[[], bool], *also: asyncio.Future[Any]) -> None:
        """Let the event loop run until ``done()``; move the clock on while everything waits on it.

        The clock moves when nothing happened for a moment (no request came, no task ended), no request is
        being answered but those a fault holds back, and something waits on the clock: such a request (its
        client's timeout) or a task asleep (a rate limiter's wait). After a longer while without anything
        happening it moves in any case (a wait on the clock the soak does not know of).
        """
        started = self.now()
        sleeper: asyncio.Future[None] | None = None
        idle = 0
        while not done():
            pending = self._pending() | set(also)
            if self.now() - started > MAX_DRAIN:
                raise DrainStuckError(self._stuck(pending))
            if sleeper is None or sleeper.done():
                sleeper = self.hass.loop.run_in_executor(None, time.sleep, IDLE_REAL_SECONDS)
            requests = len(self.sim.requests)
            finished, _ = await asyncio.wait({*pending, sleeper}, return_when=asyncio.FIRST_COMPLETED)
            open_requests = self._open()
            held = [record for record in open_requests if record.fault_id is not None]
            if finished != {sleeper} or len(self.sim.requests) != requests or len(held) < len(open_requests):
                idle = 0
                continue
            idle += 1
            if idle >= IDLE_ROUNDS or (idle >= 2 and (held or any(_sleeping(task) for task in pending))):
                self._nudge()
                idle = 0
        if sleeper is not None:
            await sleeper

    def _stuck(self, pending: set[asyncio.Future[Any]]) -> str:
        """What is still running, where it waits, and the faults in place."""
        lines = [f"still running after {MAX_DRAIN} of simulated time:"]
        for task in pending:
            if isinstance(task, asyncio.Task):
                where, coro = [], task.get_coro()
                while coro is not None and (frame := getattr(coro, "cr_frame", None)) is not None:
                    where.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
                    coro = getattr(coro, "cr_await", None)
                lines.append(f"  {task.get_name()}: {' -> '.join(where)}")
        lines.extend(f"  fault {fault.as_json()}" for fault in self.sim.faults)
        return "\n".join(lines)

    # -- reloads and restarts ------------------------------------------------------------------------------

    async def reload(self, entry: MockConfigEntry, *, cut_after: int | None = None) -> None:
        """Reload one entry, as the user does from the integrations page (Home Assistant waits for the work
        under way); with ``cut_after``, that many turns of the event loop after the clock fired."""
        if cut_after is not None:
            await self._cut_in(cut_after)
        # An upstream failing now leaves the entry to Home Assistant's setup retries.
        await self.drive(self.hass.config_entries.async_reload(entry.entry_id))

    def creating(self, create: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        """Wrap the engine's create so the soak knows when one is under way."""

        async def counted(*args: Any, **kwargs: Any) -> T:
            self.creates_in_flight += 1
            try:
                return await create(*args, **kwargs)
            finally:
                self.creates_in_flight -= 1

        return counted

    async def _until_create(self) -> None:
        """Let what the clock started run until a create starts (or everything is done)."""
        for _ in range(CREATE_WAIT_LOOKS):
            if self.creates_in_flight or not (pending := self._pending()):
                return
            look = self.hass.loop.run_in_executor(None, time.sleep, 0.001)
            await asyncio.wait({*pending, look}, return_when=asyncio.FIRST_COMPLETED)

    async def _cut_in(self, turns: int) -> None:
        """Fire the clock and let the event loop turn ``turns`` times: whatever the timers started is under
        way (or done)."""
        self._fire()
        for _ in range(turns):
            await asyncio.sleep(0)

    async def restart(
        self, *, cut_after: int | None = None, spare_creates: bool = True, in_create: bool = False
    ) -> int:
        """Stop and start Home Assistant; the number of tasks that were cut short.

        With ``cut_after``, the clock fires first and the restart comes after that many turns of the event
        loop, in the middle of whatever the timers started (``in_create``: counted from the start of the
        first create, when one starts). ``spare_creates`` waits for a create under way to end before cutting
        in (the soak's ``standard`` profile; its ``full`` one cuts creates short too).
        """
        if cut_after is not None:
            await self._cut_in(0)
            if in_create:
                await self._until_create()
            for _ in range(cut_after):
                await asyncio.sleep(0)
            if spare_creates:
                await self._run_until(lambda: not self.creates_in_flight)
        self.creates_cut += self.creates_in_flight
        me = asyncio.current_task()
        cut = [task for task in self._pending() if isinstance(task, asyncio.Task) and task is not me]
        for task in cut:
            task.cancel("Home Assistant is stopping")
        if cut:
            await self._run_until(lambda: all(task.done() for task in cut))
        for entry in self.entries:
            if entry.state.recoverable:
                assert await self.drive(self.hass.config_entries.async_unload(entry.entry_id))
        self._drop_runtime_data()
        # Home Assistant starts the integration first (its actions; the engine loads its store). Its HTTP
        # server is the one of the run before (in process): the dashboard module is served already.
        with patch.object(kasify, "async_setup_frontend", _frontend_served):
            assert await kasify.async_setup(self.hass, {})
        for entry in self.entries:
            if entry.state is ConfigEntryState.NOT_LOADED:
                await self.drive(self.hass.config_entries.async_setup(entry.entry_id))
        await self.drain()
        return len(cut)

    def _drop_runtime_data(self) -> None:
        """What lives only in memory goes with the process: the engine (and its checker's timer)."""
        manager = self.hass.data.pop(engine._DATA_MANAGER, None)
        if manager is not None:
            checker = manager._checker
            if checker._unsub_timer is not None:
                checker._unsub_timer()
                checker._unsub_timer = None
        assert not self.hass.data.get(AUTO_CODES), "the schedulers go with their entries"


async def _frontend_served(hass: HomeAssistant) -> None:
    """The dashboard module at a restart in process: still served by the HTTP server of the run before."""
    assert any(
        getattr(resource, "canonical", None) == MODULE_URL for resource in hass.http.app.router.resources()
    ), "the dashboard module is not served"
