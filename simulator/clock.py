"""Simulated time and ISO-8601 helpers shared by every vendor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache


def utc_hour() -> datetime:
    """The current UTC time truncated to the hour."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def iso(value: datetime) -> str:
    """Format an aware instant as UTC ISO-8601 with a ``Z`` suffix (``2026-11-25T14:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=65536)
def parse_iso(value: str) -> datetime:
    """Parse an ISO-8601 instant that carries an offset.

    Raises:
        ValueError: When the text is not ISO-8601 or has no offset.
    """
    # A literal "+" in a query string that was not percent-encoded arrives as a space.
    parsed = datetime.fromisoformat(value.strip().replace(" ", "+") if "T" in value else value)
    if parsed.tzinfo is None:
        raise ValueError("must include a UTC offset")
    return parsed


def as_instant(value: datetime | str) -> datetime:
    """Accept an aware datetime or an ISO-8601 string and return an aware datetime.

    Raises:
        ValueError: When the value is naive or cannot be parsed.
    """
    if isinstance(value, str):
        return parse_iso(value)
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not accepted; pass an aware datetime")
    return value


class Clock:
    """The simulator's notion of "now".

    Live by default (``datetime.now(UTC)``, which also follows freezegun); frozen at an instant when one is
    given, and then movable with :meth:`set` and :meth:`advance`.
    """

    def __init__(self, frozen_at: datetime | None = None) -> None:
        """Start live, or frozen at ``frozen_at`` (an aware datetime)."""
        self._frozen: datetime | None = None
        if frozen_at is not None:
            self.set(frozen_at)

    @property
    def frozen(self) -> bool:
        """Whether time stands still until moved."""
        return self._frozen is not None

    def now(self) -> datetime:
        """The current simulated instant (aware, UTC)."""
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC)

    def set(self, when: datetime) -> None:
        """Freeze time at ``when``."""
        self._frozen = as_instant(when).astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move time forward by ``delta`` (freezing it at the current instant first if it was live)."""
        self._frozen = self.now() + delta

    def unfreeze(self) -> None:
        """Follow the real clock again."""
        self._frozen = None

    def wake_at(self, when: datetime, callback: Callable[[], object]) -> None:
        """On a live clock, call ``callback`` on the running loop just after ``when``.

        A frozen clock only moves when told to, so whoever moves it calls back itself; without a running
        loop nothing is scheduled either.
        """
        if self.frozen:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_later(max(0.0, (when - self.now()).total_seconds()) + 0.01, callback)
