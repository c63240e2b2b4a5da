"""RemoteLock's rate limit: requests per minute per account, in fixed windows of the simulated clock."""

from __future__ import annotations

import math
from typing import Final

from simulator.clock import Clock

RATE_LIMIT: Final = 120
RATE_WINDOW: Final = 60


class RateBudget:
    """The account's request budget in the current window, and the ``X-RateLimit-*`` headers it shows."""

    def __init__(self, clock: Clock) -> None:
        """Count against ``clock``'s one-minute windows."""
        self.clock = clock
        self.limit: int | None = RATE_LIMIT
        """Requests per minute per account; ``None`` disables the limit."""
        self._window = -1
        self.used = 0
        """Requests counted in the current window."""

    def _window_index(self) -> int:
        return math.floor(self.clock.now().timestamp() / RATE_WINDOW)

    def headers(self) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers for the current window."""
        window = self._window_index()
        used = self.used if window == self._window else 0
        limit = self.limit if self.limit is not None else 0
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - used)),
            "X-RateLimit-Reset": str((window + 1) * RATE_WINDOW),
        }

    def take(self) -> bool:
        """Count one API request against the account; ``False`` (and not counted) when over the limit."""
        window = self._window_index()
        if window != self._window:
            self._window, self.used = window, 0
        if self.limit is not None and self.used >= self.limit:
            return False
        self.used += 1
        return True

    def reset(self) -> None:
        """Forget the requests counted in the current window."""
        self.used = 0
