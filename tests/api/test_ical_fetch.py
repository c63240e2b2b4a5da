"""Fetching feeds: conditional GET, unchanged detection, errors, refresh over a FeedState (aioresponses)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from custom_components.kasify.api.errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from custom_components.kasify.api.ical import (
    FeedState,
    FeedValidators,
    IcalFeedClient,
    InvalidFeedUrlError,
    RefreshOutcome,
    content_hash,
    normalize_feed_url,
)

from .conftest import MakeFake
from .fake_api import FakeApi

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ical"
SECRET = "s3cr3tT0kenAbC123"
FEED_ORIGIN = "https://www.airbnb.es"
FEED_PATH = "/calendar/ical/12345.ics"
URL_HTTPS = f"{FEED_ORIGIN}{FEED_PATH}?s={SECRET}"
URL_WEBCAL = f"webcal://www.airbnb.es/calendar/ical/12345.ics?s={SECRET}"
NOW = datetime(2026, 3, 14, 12, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")
AIRBNB = (FIXTURES / "airbnb.ics").read_bytes()
EMPTY = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Airbnb Inc//Hosting Calendar 0.8.8//EN\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def airbnb(fake_api: MakeFake) -> FakeApi:
    """The scripted feed server."""
    return fake_api(FEED_ORIGIN)


@pytest.fixture
def client(session: aiohttp.ClientSession) -> IcalFeedClient:
    return IcalFeedClient(session)


def sent_headers(feed: FakeApi) -> list[dict[str, str]]:
    return [call.headers for call in feed.calls]


class CountingExecutor:
    """Runs the parse inline and counts how often it was asked to."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, func: Callable[[], Any]) -> Any:
        self.calls += 1
        return func()


# --- fetch ---------------------------------------------------------------------------------------------


def test_normalize_feed_url() -> None:
    assert normalize_feed_url(" webcal://host/a.ics ") == "https://host/a.ics"
    assert normalize_feed_url("WEBCALS://host/a.ics") == "https://host/a.ics"
    assert normalize_feed_url("http://host/a.ics") == "http://host/a.ics"
    for bad in ("ftp://host/a.ics", "host/a.ics", "https://", "file:///etc/passwd", f"javascript:{SECRET}"):
        with pytest.raises(InvalidFeedUrlError) as caught:
            normalize_feed_url(bad)
        assert SECRET not in str(caught.value)
    assert issubclass(InvalidFeedUrlError, ValueError)


async def test_webcal_is_fetched_over_https_and_parsed_once(client: IcalFeedClient, airbnb: FakeApi) -> None:
    airbnb.reply(
        "GET",
        FEED_PATH,
        body=AIRBNB,
        headers={"ETag": '"v1"', "Last-Modified": "Sat, 14 Mar 2026 08:30:00 GMT"},
    )
    result = await client.fetch(URL_WEBCAL)
    assert result.changed
    assert result.status == 200
    assert result.url == URL_HTTPS
    assert result.body is not None
    assert result.body.startswith("BEGIN:VCALENDAR")
    assert result.validators == FeedValidators(
        etag='"v1"', last_modified="Sat, 14 Mar 2026 08:30:00 GMT", content_hash=content_hash(AIRBNB)
    )
    (headers,) = sent_headers(airbnb)
    assert "If-None-Match" not in headers
    assert "If-Modified-Since" not in headers
    assert headers["Accept"].startswith("text/calendar")
    assert SECRET not in repr(result)


async def test_conditional_get_and_304(client: IcalFeedClient, airbnb: FakeApi) -> None:
    before = FeedValidators(etag='"v1"', last_modified="Sat, 14 Mar 2026 08:30:00 GMT", content_hash="h1")
    airbnb.reply("GET", FEED_PATH, status=304, headers={"ETag": '"v2"'})
    result = await client.fetch(URL_HTTPS, before)
    assert not result.changed
    assert result.status == 304
    assert result.validators == FeedValidators(
        etag='"v2"', last_modified="Sat, 14 Mar 2026 08:30:00 GMT", content_hash="h1"
    )
    (headers,) = sent_headers(airbnb)
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Sat, 14 Mar 2026 08:30:00 GMT"


async def test_a_304_without_validators_is_malformed(client: IcalFeedClient, airbnb: FakeApi) -> None:
    airbnb.reply("GET", FEED_PATH, status=304)
    with pytest.raises(MalformedResponseError, match="304"):
        await client.fetch(URL_HTTPS)


async def test_same_body_is_unchanged_even_with_a_new_dtstamp(
    client: IcalFeedClient, airbnb: FakeApi
) -> None:
    restamped = AIRBNB.replace(b"DTSTAMP:20260314T083000Z", b"DTSTAMP:20260314T093000Z")
    assert restamped != AIRBNB
    airbnb.reply("GET", FEED_PATH, body=restamped)
    airbnb.reply("GET", FEED_PATH, body=AIRBNB.replace(b"Reserved", b"Reserved!"))
    known = FeedValidators(content_hash=content_hash(AIRBNB))
    unchanged = await client.fetch(URL_HTTPS, known)
    assert not unchanged.changed
    assert unchanged.status == 200
    assert (await client.fetch(URL_HTTPS, known)).changed


@pytest.mark.parametrize(
    ("status", "error", "headers"),
    [
        (404, NotFoundError, {}),
        (410, ApiError, {}),
        (403, AuthError, {}),
        (429, RateLimitedError, {"Retry-After": "120"}),
        (500, ServerError, {}),
        (503, ServerError, {}),
    ],
)
async def test_http_errors_use_the_shared_hierarchy(
    client: IcalFeedClient,
    airbnb: FakeApi,
    status: int,
    error: type[ApiError],
    headers: dict[str, str],
) -> None:
    airbnb.reply("GET", FEED_PATH, status=status, body=f"<html>{SECRET}</html>", headers=headers)
    with pytest.raises(error) as caught:
        await client.fetch(URL_HTTPS)
    assert caught.value.status == status
    message = str(caught.value)
    assert f"HTTP {status}" in message
    assert "www.airbnb.es" in message
    assert SECRET not in message
    if status == 429:
        assert isinstance(caught.value, RateLimitedError)
        assert caught.value.retry_after == 120


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ((FIXTURES / "not_ical.html").read_bytes(), "text/html; charset=utf-8", "an HTML page, text/html"),
        (b'{"error": "calendar disabled"}', "application/json", "JSON"),
        (b"   ", "text/calendar", "an empty body"),
        (b"Invalid token s3cr3tT0kenAbC123", "text/plain", "text that is not iCalendar, text/plain"),
    ],
)
async def test_a_body_that_is_not_ical_is_malformed(
    client: IcalFeedClient, airbnb: FakeApi, body: bytes, content_type: str, expected: str
) -> None:
    airbnb.reply("GET", FEED_PATH, body=body, content_type=content_type)
    with pytest.raises(MalformedResponseError, match="not an iCal feed") as caught:
        await client.fetch(URL_HTTPS)
    assert expected in str(caught.value)
    assert SECRET not in str(caught.value)


async def test_bom_whitespace_and_nul_bytes_before_the_calendar_are_fine(
    client: IcalFeedClient, airbnb: FakeApi
) -> None:
    airbnb.reply("GET", FEED_PATH, body=b"\xef\xbb\xbf \r\n\x00" + AIRBNB)
    result = await client.fetch(URL_HTTPS)
    assert result.body is not None
    assert result.body.startswith("BEGIN:VCALENDAR")


async def test_connection_errors_and_timeouts(client: IcalFeedClient, airbnb: FakeApi) -> None:
    airbnb.reply("GET", FEED_PATH, exception=aiohttp.ClientConnectionError(f"cannot connect to {URL_HTTPS}"))
    airbnb.reply("GET", FEED_PATH, exception=TimeoutError())
    with pytest.raises(ApiConnectionError, match="ClientConnectionError") as caught:
        await client.fetch(URL_HTTPS)
    assert SECRET not in str(caught.value)
    with pytest.raises(ApiConnectionError, match="timed out"):
        await client.fetch(URL_HTTPS)


async def test_oversized_feeds_are_refused(session: aiohttp.ClientSession, airbnb: FakeApi) -> None:
    small = IcalFeedClient(session, max_bytes=100)
    airbnb.reply("GET", FEED_PATH, body=AIRBNB)
    airbnb.reply("GET", FEED_PATH, body=AIRBNB, headers={"Content-Length": str(len(AIRBNB))})
    with pytest.raises(MalformedResponseError, match="larger than 100 bytes"):
        await small.fetch(URL_HTTPS)
    with pytest.raises(MalformedResponseError, match="larger than 100 bytes"):
        await small.fetch(URL_HTTPS)


async def test_validate_fetches_and_parses(client: IcalFeedClient, airbnb: FakeApi) -> None:
    airbnb.reply("GET", FEED_PATH, body=AIRBNB)
    feed = await client.validate(URL_WEBCAL, default_zone=MADRID)
    assert feed.event_count == 4
    assert feed.channel == "airbnb"


# --- refresh over a FeedState --------------------------------------------------------------------------


async def test_refresh_cycle_parses_only_when_the_feed_changed(
    client: IcalFeedClient, airbnb: FakeApi
) -> None:
    state = FeedState(URL_WEBCAL, channel="airbnb", name="Airbnb")
    executor = CountingExecutor()
    airbnb.reply("GET", FEED_PATH, body=AIRBNB, headers={"ETag": '"v1"'})
    airbnb.reply("GET", FEED_PATH, status=304)
    airbnb.reply("GET", FEED_PATH, body=AIRBNB)  # a server that ignores validators: same hash
    airbnb.reply("GET", FEED_PATH, status=500)

    async def refresh(at: datetime) -> RefreshOutcome:
        return await client.refresh(state, default_zone=MADRID, run_in_executor=executor, now=at)

    assert state.status == "never_synced"
    assert await refresh(NOW) is RefreshOutcome.CHANGED
    assert executor.calls == 1
    assert state.event_count == 4
    assert state.last_success == state.last_change == NOW
    assert await refresh(NOW + timedelta(hours=1)) is RefreshOutcome.UNCHANGED
    assert await refresh(NOW + timedelta(hours=2)) is RefreshOutcome.UNCHANGED
    assert executor.calls == 1  # neither the 304 nor the identical body was parsed
    assert sent_headers(airbnb)[1]["If-None-Match"] == '"v1"'
    assert state.last_success == NOW + timedelta(hours=2)
    assert state.last_change == NOW

    assert await refresh(NOW + timedelta(hours=3)) is RefreshOutcome.FAILED
    assert state.status == "error"
    assert state.last_error is not None
    assert "HTTP 500" in state.last_error
    assert SECRET not in state.last_error
    assert state.event_count == 4  # a failure never clears
    window = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert [event.start for event in state.events_between(*window)][:2] == [
        date(2026, 3, 12),
        date(2026, 3, 16),
    ]
    diagnostics = state.diagnostics()
    assert diagnostics["status"] == "error"
    assert diagnostics["host"] == "webcal://www.airbnb.es/…"
    assert diagnostics["event_count"] == 4
    assert diagnostics["fast_path"] is True
    assert SECRET not in repr(diagnostics)


async def test_an_empty_feed_clears_only_when_two_refreshes_agree(
    client: IcalFeedClient, airbnb: FakeApi
) -> None:
    state = FeedState(URL_HTTPS)
    airbnb.reply("GET", FEED_PATH, body=AIRBNB)
    airbnb.reply("GET", FEED_PATH, body=EMPTY)
    airbnb.reply("GET", FEED_PATH, exception=aiohttp.ClientConnectionError())
    airbnb.reply("GET", FEED_PATH, body=EMPTY)  # identical to the empty one: agrees
    outcomes = [await client.refresh(state, default_zone=MADRID, now=NOW) for _ in range(2)]
    assert outcomes == [RefreshOutcome.CHANGED, RefreshOutcome.EMPTY_PENDING]
    assert state.event_count == 4
    assert state.pending_empty
    assert state.status == "pending_empty"
    assert await client.refresh(state, default_zone=MADRID, now=NOW) is RefreshOutcome.FAILED
    assert state.event_count == 4
    assert await client.refresh(state, default_zone=MADRID, now=NOW) is RefreshOutcome.CLEARED
    assert state.event_count == 0
    assert state.status == "ok"


async def test_an_empty_feed_then_events_again_never_clears(client: IcalFeedClient, airbnb: FakeApi) -> None:
    state = FeedState(URL_HTTPS)
    for body in (AIRBNB, EMPTY, AIRBNB.replace(b"Reserved", b"Reserved ")):
        airbnb.reply("GET", FEED_PATH, body=body)
    outcomes = [await client.refresh(state, default_zone=MADRID, now=NOW) for _ in range(3)]
    assert outcomes == [RefreshOutcome.CHANGED, RefreshOutcome.EMPTY_PENDING, RefreshOutcome.CHANGED]
    assert not state.pending_empty
    assert state.event_count == 4


async def test_a_feed_that_starts_empty_is_simply_empty(client: IcalFeedClient, airbnb: FakeApi) -> None:
    state = FeedState(URL_HTTPS)
    airbnb.reply("GET", FEED_PATH, body=EMPTY)
    assert await client.refresh(state, default_zone=MADRID, now=NOW) is RefreshOutcome.CHANGED
    assert state.status == "ok"
    assert state.event_count == 0
    assert state.upcoming(NOW) == []


async def test_a_parse_failure_keeps_the_old_validators(client: IcalFeedClient, airbnb: FakeApi) -> None:
    state = FeedState(URL_HTTPS)
    airbnb.reply("GET", FEED_PATH, body=AIRBNB, headers={"ETag": '"good"'})
    airbnb.reply("GET", FEED_PATH, body=AIRBNB.replace(b"END:VCALENDAR", b""), headers={"ETag": '"broken"'})
    airbnb.reply("GET", FEED_PATH, status=304)
    await client.refresh(state, default_zone=MADRID, now=NOW)
    assert await client.refresh(state, default_zone=MADRID, now=NOW) is RefreshOutcome.FAILED
    assert state.validators is not None
    assert state.validators.etag == '"good"'
    assert await client.refresh(state, default_zone=MADRID, now=NOW) is RefreshOutcome.UNCHANGED
    assert sent_headers(airbnb)[2]["If-None-Match"] == '"good"'


async def test_a_new_default_zone_refetches_without_validators(
    client: IcalFeedClient, airbnb: FakeApi
) -> None:
    state = FeedState(URL_HTTPS)
    airbnb.reply("GET", FEED_PATH, body=AIRBNB, headers={"ETag": '"v1"'})
    airbnb.reply("GET", FEED_PATH, body=AIRBNB, headers={"ETag": '"v1"'})
    await client.refresh(state, default_zone=MADRID, now=NOW)
    outcome = await client.refresh(state, default_zone=ZoneInfo("America/New_York"), now=NOW)
    assert outcome is RefreshOutcome.CHANGED
    assert "If-None-Match" not in sent_headers(airbnb)[1]
    assert state.feed is not None
    assert state.feed.zone == ZoneInfo("America/New_York")


async def test_refresh_many_isolates_failures(
    client: IcalFeedClient, airbnb: FakeApi, fake_api: MakeFake
) -> None:
    broken = "https://ical.booking.com/v1/export?t=abc"
    airbnb.reply("GET", FEED_PATH, body=AIRBNB)
    fake_api("https://ical.booking.com").reply("GET", "/v1/export", status=404)
    states = [FeedState(URL_HTTPS), FeedState(broken), FeedState("ftp://nowhere/x.ics")]
    outcomes = await client.refresh_many(states, default_zone=MADRID, concurrency=2, now=NOW)
    assert outcomes == [RefreshOutcome.CHANGED, RefreshOutcome.FAILED, RefreshOutcome.FAILED]
    assert states[0].event_count == 4
    assert states[1].last_error is not None
    assert "HTTP 404" in states[1].last_error
    assert states[2].last_error is not None
    assert "not an http(s)" in states[2].last_error


async def test_refresh_uses_the_default_executor(client: IcalFeedClient, airbnb: FakeApi) -> None:
    state = FeedState(URL_HTTPS)
    airbnb.reply("GET", FEED_PATH, body=AIRBNB)
    assert await client.refresh(state, default_zone=MADRID) is RefreshOutcome.CHANGED
    assert state.last_success is not None
