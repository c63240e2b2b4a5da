"""The iCal feeds of every Kasify property: addresses, the knobs and per-feed overrides tests set, validators.

A feed is ``{property_id}-{channel}``; its address carries a secret token, as the channels' export links do
(``?s=`` for Airbnb and Smoobu, ``?t=`` for Booking.com), and without it the feed is not found. Its body is
rendered from the Kasify state on every request
(:mod:`simulator.ical_render`) unless a test replaced or broke it. Knobs for tests: ``conditional``,
``send_validators`` and ``stamp_now`` (``DTSTAMP`` = now on every download, like Airbnb), and per feed
:meth:`IcalFeeds.set_body`, :meth:`~IcalFeeds.empty`, :meth:`~IcalFeeds.break_feed`,
:meth:`~IcalFeeds.add_event` and :meth:`~IcalFeeds.restore`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
import hashlib
import re
from typing import Final

from .clock import Clock
from .ical_render import render_feed
from .kasify_state import Json, KasifyState

CHANNELS: Final = ("airbnb", "booking", "smoobu")
TOKEN_PARAMETERS: Final = {"airbnb": "s", "booking": "t", "smoobu": "s"}
"""The query parameter of each channel's export link that carries its secret token."""
BREAKAGES: Final = ("html", "json", "404", "403", "500", "truncated", "empty_body")

_DTSTAMP_LINE: Final = re.compile(rb"^DTSTAMP[;:][^\n]*\n", re.MULTILINE)


class IcalFeeds:
    """The iCal feeds of every Kasify property, rendered from :class:`KasifyState` on request."""

    def __init__(self, kasify: KasifyState, clock: Clock, *, base_url: Callable[[], str]) -> None:
        """Serve ``kasify``'s properties; ``base_url`` gives ``http://127.0.0.1:PORT/ical`` while serving."""
        self.kasify = kasify
        self.clock = clock
        self._base_url = base_url
        self.conditional = True
        """Answer ``If-None-Match`` / ``If-Modified-Since`` with 304 (``False``: always a full 200)."""
        self.send_validators = True
        """Send ``ETag`` and ``Last-Modified``."""
        self.stamp_now = False
        """Stamp every ``DTSTAMP`` with the current time on each download (Airbnb does)."""
        self.anchor = clock.now()
        self._bodies: dict[str, bytes] = {}
        self._broken: dict[str, str] = {}
        self._extra: dict[str, list[str]] = {}
        self._seen: dict[str, tuple[str, datetime]] = {}

    # -- addressing ------------------------------------------------------------------------------------------

    @staticmethod
    def feed_id(property_id: str, channel: str) -> str:
        """``{property_id}-{channel}``."""
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
        return f"{property_id}-{channel}"

    def feed_url(self, property_id: str, channel: str) -> str:
        """The feed URL while serving, with its token.

        ``http://127.0.0.1:PORT/ical/{property_id}-{channel}.ics?s={token}`` (``t=`` for Booking.com).
        """
        feed_id = self.feed_id(property_id, channel)
        return f"{self._base_url()}/{feed_id}.ics?{TOKEN_PARAMETERS[channel]}={self.feed_token(feed_id)}"

    def feed_token(self, feed_id: str) -> str:
        """The secret token of a feed's address (the same for the same account and feed on every run)."""
        return hashlib.sha256(f"ical/{self.kasify.account['id']}/{feed_id}".encode()).hexdigest()[:32]

    def token_matches(self, feed_id: str, query: Mapping[str, str]) -> bool:
        """Whether a request's query carries the feed's token."""
        split = self._split(feed_id)
        if split is None:
            return False
        return query.get(TOKEN_PARAMETERS[split[1]]) == self.feed_token(feed_id)

    def _split(self, feed_id: str) -> tuple[str, str] | None:
        property_id, _, channel = feed_id.rpartition("-")
        if channel not in CHANNELS or property_id not in self.kasify.properties:
            return None
        return property_id, channel

    # -- test helpers ----------------------------------------------------------------------------------------

    def set_body(self, feed_id: str, body: str | bytes) -> None:
        """Serve ``body`` (as is) instead of the rendered feed until :meth:`restore`."""
        self._bodies[feed_id] = body.encode() if isinstance(body, str) else body
        self._broken.pop(feed_id, None)

    def empty(self, feed_id: str) -> None:
        """Serve a valid calendar without events (what a channel sends after an account problem)."""
        self.set_body(
            feed_id,
            "BEGIN:VCALENDAR\r\nPRODID:-//Airbnb Inc//Hosting Calendar 0.8.8//EN\r\nCALSCALE:GREGORIAN\r\n"
            "VERSION:2.0\r\nEND:VCALENDAR\r\n",
        )

    def break_feed(self, feed_id: str, how: str = "html") -> None:
        """Make the feed fail until :meth:`restore`.

        ``html`` (a 200 login page), ``json``, ``404``, ``403``, ``500``, ``truncated`` (the body cut in the
        middle) or ``empty_body`` (a 200 with nothing).
        """
        if how not in BREAKAGES:
            raise ValueError(f"how must be one of {BREAKAGES}, got {how!r}")
        self._broken[feed_id] = how

    def add_event(self, feed_id: str, vevent: str) -> None:
        """Append a raw ``BEGIN:VEVENT ... END:VEVENT`` block (one property per line) to the feed."""
        self._extra.setdefault(feed_id, []).append(vevent.strip())

    def breakage(self, feed_id: str) -> str | None:
        """How :meth:`break_feed` broke the feed, if it did."""
        return self._broken.get(feed_id)

    def restore(self, feed_id: str) -> None:
        """Undo :meth:`set_body`, :meth:`empty`, :meth:`break_feed` and :meth:`add_event` for one feed."""
        self._bodies.pop(feed_id, None)
        self._broken.pop(feed_id, None)
        self._extra.pop(feed_id, None)

    def summary(self) -> Json:
        """Feed count, knobs and overrides (for ``GET /_sim/state``)."""
        return {
            "feeds": len(self.kasify.properties) * len(CHANNELS),
            "conditional": self.conditional,
            "send_validators": self.send_validators,
            "stamp_now": self.stamp_now,
            "overridden": sorted(self._bodies),
            "broken": dict(sorted(self._broken.items())),
        }

    # -- rendering -------------------------------------------------------------------------------------------

    def render(self, feed_id: str) -> bytes | None:
        """The body served for a feed (``None`` when there is no such feed)."""
        if feed_id in self._bodies:
            return self._bodies[feed_id]
        split = self._split(feed_id)
        if split is None:
            return None
        property_id, channel = split
        return render_feed(
            self.kasify,
            property_id,
            channel,
            stamp=self._stamp,
            anchor=self.anchor,
            extra=self._extra.get(feed_id, []),
        )

    def _stamp(self) -> str:
        when = self.clock.now() if self.stamp_now else self.anchor
        return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    # -- validators ------------------------------------------------------------------------------------------

    def validators(self, feed_id: str, body: bytes) -> tuple[str, datetime]:
        """The ETag of ``body`` and when the feed's content (``DTSTAMP`` aside) last changed."""
        digest = hashlib.sha256(_DTSTAMP_LINE.sub(b"", body.replace(b"\r\n", b"\n"))).hexdigest()[:20]
        seen = self._seen.get(feed_id)
        if seen is None or seen[0] != digest:
            seen = (digest, self.clock.now().replace(microsecond=0))
            self._seen[feed_id] = seen
        return f'"{digest}"', seen[1]
