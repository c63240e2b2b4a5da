"""CPU work of concurrent requests spread over turns of the event loop.

Pages of a listing asked for together arrive together; decoding and parsing them all in one turn of the loop
would hold it for their sum (sixteen pages of a hundred bookings: tens of milliseconds in which nothing else
of Home Assistant runs). Before such work a caller awaits :meth:`LoopTurns.take`: it goes on while the current
turn has used less than the budget, else it lets the loop have a turn first.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

DEFAULT_BUDGET: Final = 0.01


class LoopTurns:
    """A time budget per turn of the event loop, shared by everyone who takes from it."""

    def __init__(self, budget: float = DEFAULT_BUDGET) -> None:
        """Let work go on for ``budget`` seconds before the loop gets a turn."""
        self.budget = budget
        self._start = -budget  # when the current window began (none yet)
        self._window = 0

    def left(self) -> bool:
        """Whether the current window has budget left (work may go on without a turn of the loop)."""
        return time.perf_counter() - self._start < self.budget

    async def take(self) -> None:
        """Return at once while the current window lasts; else after the loop had a turn.

        The first caller back after a turn opens the next window; the others go on within it, or wait for
        another turn once it is used up.
        """
        while time.perf_counter() - self._start >= self.budget:
            seen = self._window
            await asyncio.sleep(0)
            if self._window == seen:
                self._window += 1
                self._start = time.perf_counter()
                return
