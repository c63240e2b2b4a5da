"""A client-side sliding-window rate limiter with server-imposed pauses.

One :class:`SlidingWindowLimiter` guards one upstream account's request budget (RemoteLock: 120 requests per
minute per account). Every request first awaits :meth:`SlidingWindowLimiter.acquire`, which returns at once
while the budget allows and otherwise sleeps until the oldest request in the window has left it. Callers are
served first come, first served.

The guarantee: at most ``limit`` acquisitions in any half-open interval of ``window`` seconds of the injected
clock, so the upstream's own window, however it is aligned, never sees more than ``limit`` requests from
this client. Upstream pauses (a 429, or a ``remaining: 0`` header) are honoured with :meth:`pause_for`;
acquisitions wait until the pause is over.

Both the clock (a monotonic function in seconds) and the sleep are injectable, so tests run in simulated time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
import math
import time
from typing import Final

from .errors import MAX_RETRY_AFTER_SECONDS

DEFAULT_LIMIT: Final = 120
DEFAULT_WINDOW: Final = 60.0

type Clock = Callable[[], float]
type Sleep = Callable[[float], Awaitable[None]]


class SlidingWindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds, plus pauses the upstream asks for."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        window: float = DEFAULT_WINDOW,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Allow ``limit`` requests per ``window`` seconds of ``clock``; wait with ``sleep``.

        Raises:
            ValueError: When ``limit`` is below 1 or ``window`` is not a positive number.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if not (math.isfinite(window) and window > 0):
            raise ValueError(f"window must be a positive number of seconds, got {window}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque(maxlen=limit)
        self._paused_until = -math.inf
        self._lock = asyncio.Lock()

    # -- state -----------------------------------------------------------------------------------------------

    @property
    def paused_until(self) -> float | None:
        """The clock reading until which the upstream asked us to pause, or ``None`` when it did not."""
        return self._paused_until if self._paused_until > self._clock() else None

    def _forget_old(self, now: float) -> None:
        # "now - sent >= window" is the one comparison that decides, here and in delay(), so float rounding
        # can never let a request in that the window still counts.
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()

    def delay(self) -> float:
        """How long a request made now would wait (0 when it can go at once, ignoring queued callers)."""
        now = self._clock()
        self._forget_old(now)
        wait = self._paused_until - now
        if len(self._sent) >= self.limit:
            wait = max(wait, self.window - (now - self._sent[0]))
        if wait <= 0:
            return 0.0
        # At least one unit in the last place, so that a clock advanced by the wait really moves.
        return max(wait, math.ulp(now))

    @property
    def remaining(self) -> int:
        """Requests that could be made now without waiting for the window (pauses aside)."""
        self._forget_old(self._clock())
        return max(0, self.limit - len(self._sent))

    # -- use -------------------------------------------------------------------------------------------------

    async def acquire(self) -> None:
        """Wait until a request may be made, and count it as made."""
        async with self._lock:
            while (wait := self.delay()) > 0:
                await self._sleep(wait)
            self._sent.append(self._clock())

    def pause_for(self, seconds: float) -> None:
        """Make no request for ``seconds`` from now (a longer pause already in force is kept).

        A pause is never longer than :data:`MAX_RETRY_AFTER_SECONDS` (15 minutes).
        """
        if not math.isfinite(seconds) or seconds <= 0:
            return
        seconds = min(seconds, MAX_RETRY_AFTER_SECONDS)
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def observe(self, remaining: int | None, reset_after: float | None) -> None:
        """Take the upstream's view of the budget from its rate-limit headers.

        When the upstream says no request is left in its window (``remaining == 0``), pause until it resets,
        ``reset_after`` seconds from now: other clients of the same account may have spent the budget.
        """
        if remaining is not None and remaining <= 0 and reset_after is not None:
            self.pause_for(reset_after)
