"""A check an entry runs soon after a change: one at a time, again if asked meanwhile, never after unload.

Readiness and stay conflicts both keep repair issues in step with what they read; each check awaits the
network or the loop's turns, and an entry may unload in between. :class:`CoalescedCheck` runs the check as an
entry task, coalesces the requests that come while it runs into one more run, and tells the check, through
:meth:`CoalescedCheck.stopped`, that its entry is gone: a check that finds it set raises nothing again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback

if TYPE_CHECKING:
    from .coordinator import KasifyConfigEntry


class CoalescedCheck:
    """Runs ``check`` soon after :meth:`async_request`, one run at a time, until :meth:`async_stop`."""

    def __init__(
        self, hass: HomeAssistant, entry: KasifyConfigEntry, name: str, check: Callable[[], Awaitable[None]]
    ) -> None:
        """``name`` names the task (Home Assistant lists an entry's tasks by name)."""
        self._hass = hass
        self._entry = entry
        self._name = name
        self._check = check
        self._running = False
        self._again = False
        self._stopped = False

    @callback
    def async_request(self) -> None:
        """Check soon; a request while a check runs makes it run once more after."""
        if self._stopped:
            return
        self._again = True
        if not self._running:
            self._running = True
            self._entry.async_create_task(self._hass, self._async_run(), self._name)

    async def _async_run(self) -> None:
        try:
            while self._again and not self._stopped:
                self._again = False
                await self._check()
        finally:
            self._running = False

    @callback
    def async_stop(self) -> None:
        """The entry unloads: no run starts again, and a run under way sees :meth:`stopped`."""
        self._stopped = True

    def stopped(self) -> bool:
        """Whether the entry unloaded (a run under way asks after each await)."""
        return self._stopped
