"""iCal feeds (Airbnb, Booking.com, VRBO, channel managers): fetch cheaply, parse once, query windows fast.

The public API of the iCal support lives here; the work is split over ``ical_*`` modules:

- :class:`IcalFeedClient` (this module): ``GET`` with ``If-None-Match`` / ``If-Modified-Since``, ``webcal://``
  accepted; a 304, or a 200 whose body hashes like the last one, is "unchanged" and is not parsed. Errors use
  the shared hierarchy (:mod:`.errors`), with the feed's host only in messages (feed URLs embed secrets).
- :func:`~.ical_parse.parse_feed` → :class:`~.ical_parse.IcalFeed`: one fast indexing pass, window queries
  that decode only the window's events, full ``icalendar`` parse with recurrence expansion when needed.
  **Synchronous and CPU-bound: run it in an executor.**
- :class:`~.ical_state.FeedState`: what the caller keeps per feed (last good events, validators, diagnostics),
  with the "empty twice before clearing; failures never clear" rule.
- :class:`~.ical_models.IcalEvent`: one occurrence with its rental meaning (:mod:`.ical_rental`).

Typical use from a coordinator (``hass.async_add_executor_job`` runs the parse)::

    client = IcalFeedClient(async_get_clientsession(hass))
    state = FeedState(url, channel="airbnb")
    outcome = await client.refresh(state, default_zone=zone, run_in_executor=hass.async_add_executor_job)
    events = await hass.async_add_executor_job(state.events_between, start, end)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, tzinfo
from functools import partial
import hashlib
from http import HTTPStatus
import re
from typing import Final, Protocol

import aiohttp

from .errors import ApiError, MalformedResponseError
from .http import HttpTransport, Request, Response, error_for_status, error_summary, redacting
from .ical_models import EventKind, FeedValidators, IcalEvent
from .ical_parse import (
    IcalFeed,
    decode_body,
    looks_like_calendar,
    normalize_text,
    parse_feed,
    reference_events,
)
from .ical_rental import channel_from_url
from .ical_state import FeedState, RefreshOutcome, redact_url
from .turns import LoopTurns

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_FEED_BYTES",
    "EventKind",
    "FeedState",
    "FeedValidators",
    "FetchResult",
    "IcalEvent",
    "IcalFeed",
    "IcalFeedClient",
    "InvalidFeedUrlError",
    "RefreshOutcome",
    "RunInExecutor",
    "channel_from_url",
    "content_hash",
    "normalize_feed_url",
    "parse_feed",
    "redact_url",
    "reference_events",
]

DEFAULT_TIMEOUT: Final = 30.0
MAX_FEED_BYTES: Final = 32 * 1024 * 1024
USER_AGENT: Final = "Kasify-HomeAssistant/1.0 (+ical)"
_ACCEPT: Final = "text/calendar, text/plain;q=0.8, */*;q=0.5"
_DTSTAMP: Final = re.compile(rb"^DTSTAMP[;:][^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE)


class InvalidFeedUrlError(ApiError, ValueError):
    """The feed URL is not ``http(s)://`` or ``webcal(s)://``."""


class RunInExecutor(Protocol):
    """Runs a blocking callable off the event loop (``hass.async_add_executor_job`` fits)."""

    def __call__[T](self, func: Callable[[], T], /) -> Awaitable[T]:
        """Run ``func`` in a worker thread and return its result."""
        ...


def normalize_feed_url(url: str) -> str:
    """``webcal://`` / ``webcals://`` become ``https://``; ``http(s)://`` stay.

    Raises:
        InvalidFeedUrlError: For any other scheme, or no host.
    """
    text = url.strip()
    scheme, separator, rest = text.partition("://")
    scheme = scheme.lower()
    if separator and rest and not rest.startswith("/"):
        if scheme in ("webcal", "webcals"):
            return f"https://{rest}"
        if scheme in ("http", "https"):
            return f"{scheme}://{rest}"
    raise InvalidFeedUrlError(f"not an http(s):// or webcal:// URL: {redact_url(text)}")


def content_hash(raw: bytes) -> str:
    """Hash of a feed body, ignoring ``DTSTAMP`` lines (some channels stamp every download anew)."""
    body = _DTSTAMP.sub(b"", raw) if b"DTSTAMP" in raw.upper() else raw
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def _what_it_is(text: str, content_type: str | None) -> str:
    head = text.lstrip()[:1]
    if not text.strip():
        kind = "an empty body"
    elif head == "<":
        kind = "an HTML page"
    elif head in ("{", "["):
        kind = "JSON"
    else:
        kind = "text that is not iCalendar"  # no snippet: an error text may echo the feed's secret
    return f"{kind}, {content_type}" if content_type else kind


class FetchResult:
    """One fetch: ``body`` is the normalised text when the feed changed, ``None`` when it did not."""

    __slots__ = ("body", "status", "url", "validators")

    def __init__(self, *, validators: FeedValidators, body: str | None, status: int, url: str) -> None:
        """Keep what the feed answered."""
        self.validators = validators
        self.body = body
        self.status = status
        self.url = url

    @property
    def changed(self) -> bool:
        """Whether there is new content to parse."""
        return self.body is not None

    def __repr__(self) -> str:
        """Status and size, never the URL."""
        size = len(self.body) if self.body is not None else 0
        return f"FetchResult(status={self.status}, changed={self.changed}, chars={size})"


class IcalFeedClient:
    """Fetches iCal feeds over an injected :class:`aiohttp.ClientSession` (not owned, never closed)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = MAX_FEED_BYTES,
        user_agent: str = USER_AGENT,
        turns: LoopTurns | None = None,
    ) -> None:
        """Use ``session``; bodies larger than ``max_bytes`` are refused.

        ``turns``: the event loop's turn budget to hash and decode bodies within (a budget of its own by
        default).
        """
        self._max_bytes = max_bytes
        self._turns = turns if turns is not None else LoopTurns()
        self._parsing = asyncio.Lock()
        self._http = HttpTransport(
            session, timeout=timeout, headers={"Accept": _ACCEPT, "User-Agent": user_agent}
        )

    async def fetch(self, url: str, validators: FeedValidators | None = None) -> FetchResult:
        """``GET`` the feed once (1 request), conditionally when ``validators`` are given.

        Returns an unchanged result (``body is None``) for a 304, or for a 200 whose body hashes like
        ``validators.content_hash``; nothing is decoded or parsed then.

        Raises:
            InvalidFeedUrlError: The URL is not http(s) or webcal.
            ApiConnectionError: Unreachable, or no answer within the timeout.
            NotFoundError, AuthError, RateLimitedError, ServerError, ApiError: HTTP errors (an iCal
                feed's 401/403 means its secret link was revoked, not that an account needs reauthentication).
            MalformedResponseError: The body is not an iCalendar (an HTML page, JSON, empty, too large).
        """
        target = normalize_feed_url(url)
        headers: dict[str, str] = {}
        if validators is not None:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        request = Request("GET", target, f"GET {redact_url(target)}", headers=headers, secrets=(url, target))
        response = await self._http.send(request, max_bytes=self._max_bytes, body_name="feed")
        await self._turns.take()  # hashing and decoding the body: within the loop's turn budget
        with redacting(request.secrets):
            return _fetch_result(request, response, validators, target)

    async def validate(
        self,
        url: str,
        *,
        default_zone: tzinfo | str = UTC,
        channel: str | None = None,
        run_in_executor: RunInExecutor | None = None,
    ) -> IcalFeed:
        """Fetch and parse a feed once, e.g. to check a URL a user enters (raises like :meth:`fetch`)."""
        result = await self.fetch(url)
        body = result.body
        assert body is not None  # an unconditional fetch always has a body
        run = run_in_executor or _default_executor
        return await run(
            partial(parse_feed, body, default_zone=default_zone, channel=channel, url=result.url)
        )

    async def refresh(
        self,
        state: FeedState,
        *,
        default_zone: tzinfo = UTC,
        run_in_executor: RunInExecutor | None = None,
        now: datetime | None = None,
    ) -> RefreshOutcome:
        """Fetch ``state``'s feed (1 request), parse it in the executor if it changed, and update ``state``.

        Never raises :class:`ApiError`: failures are recorded in ``state`` (``last_error``) and the last
        good events stay. ``default_zone`` places floating times and all-day dates (Home Assistant's zone); a
        change of it makes the next fetch unconditional.
        """
        now = now or datetime.now(UTC)
        state.last_attempt = now
        run = run_in_executor or _default_executor
        try:
            result = await self.fetch(state.url, state.validators_for(default_zone))
            if result.body is None:
                return state.record_unchanged(result.validators, now)
            parse = partial(
                parse_feed, result.body, default_zone=default_zone, channel=state.channel, url=result.url
            )
            # One parse at a time: parses in several worker threads at once starve the event loop's thread
            # of the interpreter lock (it waits for them in turn), however short each one is.
            async with self._parsing:
                feed = await run(parse)
        except ApiError as err:
            return state.record_failure(err, now)
        return state.record_feed(feed, result.validators, now, zone=default_zone)

    async def refresh_many(
        self,
        states: Sequence[FeedState],
        *,
        default_zone: tzinfo = UTC,
        run_in_executor: RunInExecutor | None = None,
        concurrency: int = 4,
        now: datetime | None = None,
    ) -> list[RefreshOutcome]:
        """:meth:`refresh` every state, ``concurrency`` at a time; outcomes in the order of ``states``."""
        semaphore = asyncio.Semaphore(max(1, concurrency))

        async def one(state: FeedState) -> RefreshOutcome:
            async with semaphore:
                return await self.refresh(
                    state, default_zone=default_zone, run_in_executor=run_in_executor, now=now
                )

        return list(await asyncio.gather(*(one(state) for state in states)))


def _fetch_result(
    request: Request, response: Response, validators: FeedValidators | None, target: str
) -> FetchResult:
    """What a fetch learned from the feed's answer (see :meth:`IcalFeedClient.fetch`)."""
    where, status = request.where, response.status
    etag = response.headers.get("ETag")
    last_modified = response.headers.get("Last-Modified")
    if status == HTTPStatus.NOT_MODIFIED:
        if validators is None or validators.content_hash is None:
            raise MalformedResponseError(f"{where}: HTTP 304 to an unconditional request", status=304)
        kept = FeedValidators(
            etag=etag or validators.etag,
            last_modified=last_modified or validators.last_modified,
            content_hash=validators.content_hash,
        )
        return FetchResult(validators=kept, body=None, status=status, url=target)
    if status >= HTTPStatus.BAD_REQUEST or status < HTTPStatus.OK:
        raise error_for_status(status, error_summary(where, status), response.headers)
    digest = content_hash(response.body)
    fresh = FeedValidators(etag=etag, last_modified=last_modified, content_hash=digest)
    if validators is not None and validators.content_hash == digest:
        return FetchResult(validators=fresh, body=None, status=status, url=target)
    text = normalize_text(decode_body(response.body))
    if not looks_like_calendar(text):
        found = _what_it_is(text, response.headers.get("Content-Type"))
        raise MalformedResponseError(f"{where}: not an iCal feed (got {found})", status=status)
    return FetchResult(validators=fresh, body=text, status=status, url=target)


def _default_executor[T](func: Callable[[], T]) -> Awaitable[T]:
    return asyncio.get_running_loop().run_in_executor(None, func)
