"""FeedState rules without HTTP: failures never clear, empty must be confirmed, diagnostics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.kasify.api.errors import NotFoundError
from custom_components.kasify.api.ical import FeedState, FeedValidators, IcalFeed, RefreshOutcome, parse_feed
from custom_components.kasify.api.ical_state import redact_url

NOW = datetime(2026, 3, 14, 12, tzinfo=UTC)
SECRET_URL = "https://ical.booking.com/v1/export?t=0123456789abcdef"
ONE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20260314\r\n"
    "SUMMARY:CLOSED - Not available\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
NONE = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
V = FeedValidators(etag='"x"', content_hash="h")


def feed(text: str) -> IcalFeed:
    return parse_feed(text)


def test_failures_never_clear_and_count() -> None:
    state = FeedState(SECRET_URL, channel="booking")
    assert state.record_feed(feed(ONE), V, NOW, zone=UTC) is RefreshOutcome.CHANGED
    for hour in range(3):
        outcome = state.record_failure(NotFoundError("GET https://ical.booking.com/…: HTTP 404"), NOW)
        assert outcome is RefreshOutcome.FAILED
        assert state.consecutive_failures == hour + 1
    assert state.event_count == 1
    assert state.status == "error"
    assert state.last_error == "GET https://ical.booking.com/…: HTTP 404"
    assert state.record_unchanged(V, NOW + timedelta(hours=1)) is RefreshOutcome.UNCHANGED
    assert state.status == "ok"
    assert state.consecutive_failures == 0
    assert state.last_error is not None  # kept for diagnostics, with its time
    assert state.last_error_at == NOW


def test_empty_twice_in_a_row_clears() -> None:
    state = FeedState(SECRET_URL)
    state.record_feed(feed(ONE), V, NOW, zone=UTC)
    assert state.record_feed(feed(NONE), V, NOW, zone=UTC) is RefreshOutcome.EMPTY_PENDING
    assert state.event_count == 1
    assert state.record_feed(feed(NONE), V, NOW, zone=UTC) is RefreshOutcome.CLEARED
    assert state.event_count == 0
    assert not state.pending_empty


def test_empty_then_unchanged_clears_and_failure_in_between_does_not_count() -> None:
    state = FeedState(SECRET_URL)
    state.record_feed(feed(ONE), V, NOW, zone=UTC)
    state.record_feed(feed(NONE), V, NOW, zone=UTC)
    state.record_failure(TimeoutError(), NOW)
    assert state.last_error == "TimeoutError"
    assert state.pending_empty
    assert state.event_count == 1
    assert state.record_unchanged(V, NOW) is RefreshOutcome.CLEARED
    assert state.event_count == 0


def test_validators_only_for_the_zone_the_feed_was_parsed_with() -> None:
    state = FeedState(SECRET_URL)
    assert state.validators_for(UTC) is None
    state.record_feed(feed(ONE), V, NOW, zone=UTC)
    assert state.validators_for(UTC) == V
    assert state.validators_for(datetime.now().astimezone().tzinfo or UTC) in (V, None)


def test_diagnostics_hide_the_secret() -> None:
    state = FeedState(SECRET_URL, channel="booking", name="Booking.com")
    before = state.diagnostics()
    assert before["status"] == "never_synced"
    assert before["fast_path"] is None
    state.record_feed(feed(ONE), V, NOW, zone=UTC)
    after = state.diagnostics()
    assert after == {
        "name": "Booking.com",
        "channel": "booking",
        "host": "https://ical.booking.com/…",
        "status": "ok",
        "event_count": 1,
        "last_success": "2026-03-14T12:00:00+00:00",
        "last_change": "2026-03-14T12:00:00+00:00",
        "last_attempt": None,
        "last_error": None,
        "last_error_at": None,
        "consecutive_failures": 0,
        "pending_empty": False,
        "conditional": True,
        "fast_path": True,
        "fallback_reason": None,
    }
    assert "0123456789abcdef" not in repr(after)
    assert redact_url("not a url") == "https://?/…"
