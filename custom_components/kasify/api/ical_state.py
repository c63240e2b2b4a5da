"""Per-feed state the caller keeps between refreshes: last good events, validators, sync diagnostics.

Rules (:class:`FeedState`):

- A failed refresh (network, HTTP error, not an iCal body, unparseable) never changes what is shown; it
  records the error and counts consecutive failures.
- A feed that had events and suddenly comes back empty keeps its last good events until a second
  *successful* refresh in a row agrees it is empty (a 304 / identical body after the empty one counts as
  agreeing). Failures in between neither confirm nor reset that.
- An unchanged feed (304, or the same body as last time) is not parsed again.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from .ical_models import FeedValidators, IcalEvent
from .ical_parse import IcalFeed


class RefreshOutcome(StrEnum):
    """What one refresh did."""

    CHANGED = "changed"
    """New content was parsed and is now shown."""
    UNCHANGED = "unchanged"
    """The feed did not change (304, or the same body); nothing was parsed."""
    EMPTY_PENDING = "empty_pending"
    """The feed came back empty; the last good events stay until the next refresh confirms it."""
    CLEARED = "cleared"
    """A second refresh in a row found the feed empty: it is now shown empty."""
    FAILED = "failed"
    """Fetching or parsing failed; the last good events stay (see ``last_error``)."""


def redact_url(url: str) -> str:
    """A feed URL safe for logs and diagnostics: scheme and host only (feed URLs embed secret tokens)."""
    parts = urlsplit(url.strip())
    host = parts.hostname or "?"
    scheme = parts.scheme.lower() or "https"
    return f"{scheme}://{host}/…"


class FeedState:
    """One feed as the caller keeps it between refreshes (mutated in the event loop only).

    Attributes:
        url: The feed URL as configured (``webcal://`` allowed). Never log it: it embeds a secret token.
        channel: The feed's channel when known (``airbnb``, ``booking``, ...).
        name: A label for diagnostics.
        feed: The parsed feed being shown (``None`` until the first successful refresh).
        validators: What the next request sends to be conditional.
        last_success: When the feed last answered well (a 304 counts).
        last_change: When the shown events last changed.
        last_attempt: When a refresh last started.
        last_error: The last failure's message (kept after a later success; see ``consecutive_failures``).
        last_error_at: When that failure happened.
        consecutive_failures: Failures since the last success.
    """

    def __init__(self, url: str, *, channel: str | None = None, name: str | None = None) -> None:
        """Start with nothing fetched."""
        self.url = url
        self.channel = channel
        self.name = name
        self.feed: IcalFeed | None = None
        self.validators: FeedValidators | None = None
        self.last_success: datetime | None = None
        self.last_change: datetime | None = None
        self.last_attempt: datetime | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.consecutive_failures = 0
        self._pending_empty: IcalFeed | None = None
        self._zone_key: str | None = None

    # -- what to show ----------------------------------------------------------------------------------------

    @property
    def event_count(self) -> int:
        """Number of ``VEVENT`` components in the feed being shown."""
        return self.feed.event_count if self.feed is not None else 0

    @property
    def pending_empty(self) -> bool:
        """Whether the feed came back empty once and the last good events are still shown."""
        return self._pending_empty is not None

    @property
    def status(self) -> str:
        """``never_synced``, ``ok``, ``pending_empty`` or ``error`` (failing now; older events shown)."""
        if self.consecutive_failures:
            return "error"
        if self.last_success is None:
            return "never_synced"
        return "pending_empty" if self._pending_empty is not None else "ok"

    def events_between(self, start: datetime, end: datetime) -> list[IcalEvent]:
        """The shown events overlapping ``[start, end)`` (see :meth:`IcalFeed.events_between`)."""
        return self.feed.events_between(start, end) if self.feed is not None else []

    def upcoming(self, after: datetime, limit: int = 1) -> list[IcalEvent]:
        """The shown event in progress at ``after`` and the next ones (see :meth:`IcalFeed.upcoming`)."""
        return self.feed.upcoming(after, limit) if self.feed is not None else []

    def diagnostics(self) -> dict[str, Any]:
        """A JSON-friendly summary without the secret URL (for diagnostics and sensor attributes)."""
        feed = self.feed
        return {
            "name": self.name,
            "channel": self.channel,
            "host": redact_url(self.url),
            "status": self.status,
            "event_count": self.event_count,
            "last_success": _iso(self.last_success),
            "last_change": _iso(self.last_change),
            "last_attempt": _iso(self.last_attempt),
            "last_error": self.last_error,
            "last_error_at": _iso(self.last_error_at),
            "consecutive_failures": self.consecutive_failures,
            "pending_empty": self.pending_empty,
            "conditional": bool(self.validators and (self.validators.etag or self.validators.last_modified)),
            "fast_path": feed.fast_path if feed is not None else None,
            "fallback_reason": feed.fallback_reason if feed is not None else None,
        }

    # -- recording refreshes (called by IcalFeedClient.refresh, or by a caller that fetches itself) ----------

    def validators_for(self, zone: tzinfo) -> FeedValidators | None:
        """Validators for the next request; none when the feed was parsed for another default zone."""
        if self.feed is None or self._zone_key != _zone_key(zone):
            return None
        return self.validators

    def record_unchanged(self, validators: FeedValidators, now: datetime) -> RefreshOutcome:
        """The feed answered "unchanged" (304, or the same body as the last one parsed)."""
        self._succeeded(validators, now)
        if self._pending_empty is not None:
            return self._clear(now)
        return RefreshOutcome.UNCHANGED

    def record_feed(
        self, feed: IcalFeed, validators: FeedValidators, now: datetime, *, zone: tzinfo
    ) -> RefreshOutcome:
        """A new body was parsed into ``feed`` with ``zone`` as its default zone."""
        self._succeeded(validators, now)
        self._zone_key = _zone_key(zone)
        if feed.event_count == 0 and self.feed is not None and self.feed.event_count > 0:
            if self._pending_empty is None:
                self._pending_empty = feed
                return RefreshOutcome.EMPTY_PENDING
            self._pending_empty = feed
            return self._clear(now)
        self._pending_empty = None
        self.feed = feed
        self.last_change = now
        return RefreshOutcome.CHANGED

    def record_failure(self, error: BaseException, now: datetime) -> RefreshOutcome:
        """Fetching or parsing failed: keep showing what was shown."""
        self.consecutive_failures += 1
        self.last_error = str(error) or error.__class__.__name__
        self.last_error_at = now
        return RefreshOutcome.FAILED

    def _succeeded(self, validators: FeedValidators, now: datetime) -> None:
        self.validators = validators
        self.last_success = now
        self.consecutive_failures = 0

    def _clear(self, now: datetime) -> RefreshOutcome:
        self.feed, self._pending_empty = self._pending_empty, None
        self.last_change = now
        return RefreshOutcome.CLEARED


def _zone_key(zone: tzinfo) -> str:
    return str(getattr(zone, "key", None) or zone)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
