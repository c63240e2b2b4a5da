"""The sliding-window limiter, in simulated time: bursts, arrivals, server pauses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
import heapq
import itertools
import math
import time

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.kasify.api.ratelimit import SlidingWindowLimiter

START = 1000.0


class VirtualTime:
    """A clock and a sleep for simulated time: time jumps to the next wake-up once every task is blocked."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), future))
        await future

    async def run[T](self, calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        """Run the calls concurrently to completion, moving time forward whenever all of them wait."""
        tasks = [asyncio.ensure_future(call()) for call in calls]
        for _ in range(1_000_000):
            for _ in range(20):  # let every runnable task reach its next wait
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                return [task.result() for task in tasks]
            if self._sleepers:
                wake_at, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake_at)
                future.set_result(None)
        raise AssertionError("the calls did not finish")  # pragma: no cover


def max_in_any_window(stamps: Sequence[float], window: float) -> int:
    """The most stamps in any half-open interval [t, t + window) (one starting at a stamp)."""
    ordered = sorted(stamps)
    best = 0
    for i, start in enumerate(ordered):
        j = i
        while j < len(ordered) and ordered[j] - start < window:
            j += 1
        best = max(best, j - i)
    return best


def make(limit: int = 120, window: float = 60.0) -> tuple[SlidingWindowLimiter, VirtualTime]:
    vt = VirtualTime()
    return SlidingWindowLimiter(limit, window, clock=vt.clock, sleep=vt.sleep), vt


async def test_a_burst_of_200_never_exceeds_120_in_any_60_s_window() -> None:
    limiter, vt = make()
    stamps: list[float] = []

    async def call() -> None:
        await limiter.acquire()
        stamps.append(vt.now)

    await vt.run([call] * 200)

    assert len(stamps) == 200
    assert max_in_any_window(stamps, 60.0) == 120
    # As fast as allowed: 120 at once, the other 80 exactly when the first ones leave the window.
    assert stamps[:120] == [START] * 120
    assert stamps[120:] == [START + 60.0] * 80
    assert limiter.remaining == 40


async def test_a_burst_of_200_sequential_calls_in_simulated_time() -> None:
    limiter, vt = make()
    stamps: list[float] = []
    for _ in range(200):
        await vt.run([limiter.acquire])
        stamps.append(vt.now)
    assert max_in_any_window(stamps, 60.0) == 120
    assert stamps[-1] == START + 60.0


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 12),
    window_quarters=st.integers(1, 40),
    gaps=st.lists(st.integers(0, 16), min_size=1, max_size=150),
)
def test_any_arrival_pattern_stays_within_the_limit_and_waits_no_longer_than_needed(
    limit: int, window_quarters: int, gaps: list[int]
) -> None:
    """Arrivals in quarter seconds (exact in binary floats); FIFO grants at the earliest allowed instant."""
    window = window_quarters / 4

    async def scenario() -> tuple[list[float], list[float]]:
        limiter, vt = make(limit, window)
        arrivals = [START + sum(gaps[: i + 1]) / 4 for i in range(len(gaps))]
        grants: list[float] = [0.0] * len(arrivals)

        def caller(index: int) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                await vt.sleep(arrivals[index] - vt.now)
                await limiter.acquire()
                grants[index] = vt.now

            return call

        await vt.run([caller(i) for i in range(len(arrivals))])
        return arrivals, grants

    arrivals, grants = asyncio.run(scenario())
    assert max_in_any_window(grants, window) <= limit
    for i, granted in enumerate(grants):
        earliest = max(arrivals[i], grants[i - 1] if i else -math.inf)
        if i >= limit:
            earliest = max(earliest, grants[i - limit] + window)
        assert granted == earliest, (i, arrivals, grants)


async def test_a_server_pause_blocks_until_it_is_over() -> None:
    limiter, vt = make(limit=10, window=60.0)
    stamps: list[float] = []

    async def call() -> None:
        await limiter.acquire()
        stamps.append(vt.now)

    await vt.run([call] * 3)
    limiter.pause_for(30.0)
    assert limiter.paused_until == START + 30.0
    assert limiter.delay() == 30.0
    limiter.pause_for(5.0)  # a shorter pause does not shorten the one in force
    assert limiter.paused_until == START + 30.0
    await vt.run([call] * 2)
    assert stamps == [START] * 3 + [START + 30.0] * 2
    assert limiter.paused_until is None


async def test_the_pause_and_the_window_combine() -> None:
    limiter, vt = make(limit=2, window=60.0)
    stamps: list[float] = []

    async def call() -> None:
        await limiter.acquire()
        stamps.append(vt.now)

    await vt.run([call] * 2)
    limiter.pause_for(10.0)
    await vt.run([call])
    assert stamps[-1] == START + 60.0  # the window is the longer wait


@pytest.mark.parametrize(
    ("remaining", "reset_after", "paused"),
    [(0, 12.0, START + 12.0), (5, 12.0, None), (0, None, None), (None, 12.0, None), (-1, 3.0, START + 3.0)],
)
def test_observe_pauses_only_when_nothing_is_left(
    remaining: int | None, reset_after: float | None, paused: float | None
) -> None:
    limiter, _ = make()
    limiter.observe(remaining, reset_after)
    assert limiter.paused_until == paused


def test_a_pause_of_a_day_lasts_15_minutes() -> None:
    limiter, _ = make()
    limiter.pause_for(86_400.0)
    assert limiter.paused_until == START + 900.0


@pytest.mark.parametrize("seconds", [0.0, -5.0, math.nan, math.inf])
def test_nonsense_pauses_are_ignored(seconds: float) -> None:
    limiter, _ = make()
    limiter.pause_for(seconds)
    assert limiter.paused_until is None
    assert limiter.delay() == 0.0


@pytest.mark.parametrize(("limit", "window"), [(0, 60.0), (120, 0.0), (120, -1.0), (120, math.inf)])
def test_bad_settings_are_refused(limit: int, window: float) -> None:
    with pytest.raises(ValueError):
        SlidingWindowLimiter(limit, window)


def test_a_tiny_wait_still_moves_the_clock() -> None:
    """Float rounding can leave a sub-ulp wait; it is rounded up so a simulated clock really advances."""
    now = [2.0**40]
    limiter = SlidingWindowLimiter(1, 1e-9, clock=lambda: now[0])
    limiter._sent.append(now[0])  # a request made "now"
    wait = limiter.delay()
    assert wait >= math.ulp(now[0])
    now[0] += wait
    assert limiter.delay() == 0.0


async def test_defaults_use_the_real_clock() -> None:
    limiter = SlidingWindowLimiter(2, 0.05)
    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire()
    assert time.monotonic() - started >= 0.04
    assert (limiter.limit, limiter.window) == (2, 0.05)
