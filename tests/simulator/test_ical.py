"""The simulator's iCal feeds over real loopback HTTP, read by IcalFeedClient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import re

import aiohttp
from multidict import CIMultiDict
import pytest

from custom_components.kasify.api.errors import MalformedResponseError, NotFoundError, ServerError
from custom_components.kasify.api.ical import (
    EventKind,
    FeedState,
    IcalFeedClient,
    RefreshOutcome,
    parse_feed,
)
from simulator import Simulator
from simulator.clock import parse_iso

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

WINDOW = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2028, 12, 31, tzinfo=UTC))


@pytest.fixture
async def client() -> AsyncIterator[IcalFeedClient]:
    async with aiohttp.ClientSession() as session:
        yield IcalFeedClient(session)


async def get(
    sim: Simulator, url: str, headers: dict[str, str] | None = None
) -> tuple[int, CIMultiDict[str], bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers or {}) as resp:
        return resp.status, CIMultiDict(resp.headers), await resp.read()


def first_property(sim: Simulator) -> str:
    return str(sim.kasify.property_at(0)["id"])


def confirmed(sim: Simulator, property_id: str, channel: str | None) -> list[dict[str, object]]:
    return [
        b
        for b in sim.kasify.bookings_overlapping(property_id=property_id)
        if b["status"] == "confirmed" and (channel is None or b["channel"] == channel)
    ]


async def test_feed_urls_and_unknown_feeds(sim: Simulator) -> None:
    prop = first_property(sim)
    token = sim.ical.feed_token(f"{prop}-airbnb")
    assert sim.ical.feed_url(prop, "airbnb") == f"{sim.base_url}/ical/{prop}-airbnb.ics?s={token}"
    booking_token = sim.ical.feed_token(f"{prop}-booking")
    assert sim.ical.feed_url(prop, "booking") == f"{sim.base_url}/ical/{prop}-booking.ics?t={booking_token}"
    assert token != booking_token
    with pytest.raises(ValueError, match="channel"):
        sim.ical.feed_url(prop, "expedia")
    for path in (
        f"/ical/nope-airbnb.ics?s={token}",
        f"/ical/{prop}-expedia.ics?s={token}",
        f"/ical/{prop}-airbnb?s={token}",
        f"/ical/{prop}-airbnb.ics",  # without its token
        f"/ical/{prop}-airbnb.ics?s={booking_token}",  # another feed's token
        f"/ical/{prop}-airbnb.ics?t={token}",  # in the wrong parameter
    ):
        status, headers, body = await get(sim, f"{sim.base_url}{path}")
        assert status == 404
        assert headers["Content-Type"].startswith("text/html")
        assert body.startswith(b"<!DOCTYPE html>")


async def test_airbnb_feed_matches_the_kasify_bookings(sim: Simulator) -> None:
    prop = first_property(sim)
    zone = sim.kasify.property_zone(prop)
    status, headers, body = await get(sim, sim.ical.feed_url(prop, "airbnb"))
    assert status == 200
    assert headers["Content-Type"].startswith("text/calendar")
    assert b"\r\n" in body
    feed = parse_feed(body.decode(), default_zone=zone)
    assert feed.fast_path
    assert feed.channel == "airbnb"
    events = feed.events_between(*WINDOW)
    reserved = [e for e in events if e.kind is EventKind.RESERVATION]
    bookings = confirmed(sim, prop, "airbnb")
    assert bookings
    assert len(reserved) == len(bookings)
    for event, booking in zip(reserved, bookings, strict=True):
        assert event.summary == "Reserved"
        assert event.guest_name is None
        assert event.reservation_code == booking["external_reference"]
        assert event.phone_last4 == re.sub(r"\D", "", str(booking["guest_phone"]))[-4:]
        check_in = parse_iso(str(booking["check_in"])).astimezone(zone).date()
        check_out = parse_iso(str(booking["check_out"])).astimezone(zone).date()
        assert (event.start, event.end) == (check_in, check_out)
        assert event.mentions(str(booking["external_reference"]))
    blocked = [e for e in events if e.kind is EventKind.BLOCKED]
    assert blocked[-1].summary == "Airbnb (Not available)"
    assert blocked[-1].end - blocked[-1].start == timedelta(days=365)  # Airbnb's rolling horizon block


async def test_booking_feed_closes_bookings_and_manual_blocks(sim: Simulator) -> None:
    prop = first_property(sim)
    status, _, body = await get(sim, sim.ical.feed_url(prop, "booking"))
    assert status == 200
    assert b"\r\n" not in body
    events = parse_feed(body.decode(), default_zone=sim.kasify.property_zone(prop)).events_between(*WINDOW)
    manual = [b for b in sim.kasify.blocks.values() if b["property_id"] == prop and b["source"] == "manual"]
    assert len(events) == len(confirmed(sim, prop, "booking")) + len(manual)
    assert {(e.summary, e.kind) for e in events} == {("CLOSED - Not available", EventKind.BLOCKED)}


async def test_smoobu_feed_has_timed_stays_and_duplicate_markers(sim: Simulator) -> None:
    prop = first_property(sim)
    zone = sim.kasify.property_zone(prop)
    _, _, body = await get(sim, sim.ical.feed_url(prop, "smoobu"))
    text = body.decode()
    assert "Check-in: " in text
    assert "Check-out: " in text
    feed = parse_feed(text, default_zone=UTC)
    assert feed.zone == zone  # X-WR-TIMEZONE
    events = feed.events_between(*WINDOW)
    bookings = confirmed(sim, prop, None)
    assert [e.summary for e in events] == [b["guest_name"] for b in bookings]  # markers collapsed
    for event, booking in zip(events, bookings, strict=True):
        assert event.kind is EventKind.RESERVATION
        assert event.start == parse_iso(str(booking["check_in"]))
        assert event.guests == booking["guests_count"]
        assert event.mentions(str(booking["external_reference"] or booking["id"]))


async def test_validators_and_conditional_get(sim: Simulator) -> None:
    prop = first_property(sim)
    url = sim.ical.feed_url(prop, "airbnb")
    status, headers, _ = await get(sim, url)
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200
    assert (await get(sim, url, {"If-None-Match": etag}))[0] == 304
    assert (await get(sim, url, {"If-None-Match": f'W/{etag}, "other"'}))[0] == 304
    assert (await get(sim, url, {"If-Modified-Since": last_modified}))[0] == 304
    assert (await get(sim, url, {"If-Modified-Since": "garbage"}))[0] == 200

    # A new Airbnb booking changes the feed: new ETag, and If-Modified-Since no longer matches.
    sim.advance(timedelta(minutes=5))
    start = datetime(2026, 12, 1, 14, tzinfo=UTC)
    sim.kasify.add_booking(prop, "Nuevo Huésped", start, start + timedelta(days=3), channel="airbnb")
    status, headers, _ = await get(sim, url, {"If-None-Match": etag})
    assert status == 200
    assert headers["ETag"] != etag
    assert (await get(sim, url, {"If-Modified-Since": last_modified}))[0] == 200

    sim.ical.conditional = False
    assert (await get(sim, url, {"If-None-Match": headers["ETag"]}))[0] == 200
    sim.ical.send_validators = False
    assert "ETag" not in (await get(sim, url))[1]


async def test_dtstamp_of_the_download_does_not_change_the_etag(sim: Simulator) -> None:
    url = sim.ical.feed_url(first_property(sim), "airbnb")
    sim.ical.stamp_now = True
    _, headers, body = await get(sim, url)
    sim.advance(timedelta(hours=1))
    _, again, body_again = await get(sim, url)
    assert body != body_again
    assert again["ETag"] == headers["ETag"]


async def test_client_refresh_uses_304_and_parses_once(sim: Simulator, client: IcalFeedClient) -> None:
    prop = first_property(sim)
    state = FeedState(sim.ical.feed_url(prop, "airbnb"), channel="airbnb")
    zone = sim.kasify.property_zone(prop)
    assert await client.refresh(state, default_zone=zone) is RefreshOutcome.CHANGED
    assert await client.refresh(state, default_zone=zone) is RefreshOutcome.UNCHANGED
    assert [r.status for r in sim.requests_for("/ical/")] == [200, 304]
    now = sim.now()
    (current,) = state.upcoming(now)
    assert current.kind is EventKind.RESERVATION
    assert current.start <= now.astimezone(zone).date() < current.end  # type: ignore[operator]


async def test_helpers_empty_break_and_restore(sim: Simulator, client: IcalFeedClient) -> None:
    prop = first_property(sim)
    feed_id = sim.ical.feed_id(prop, "airbnb")
    state = FeedState(sim.ical.feed_url(prop, "airbnb"))
    await client.refresh(state)
    count = state.event_count

    sim.ical.empty(feed_id)
    assert await client.refresh(state) is RefreshOutcome.EMPTY_PENDING
    assert state.event_count == count
    assert await client.refresh(state) is RefreshOutcome.CLEARED
    assert state.event_count == 0

    sim.ical.restore(feed_id)
    assert await client.refresh(state) is RefreshOutcome.CHANGED
    assert state.event_count == count

    for how, error in (
        ("html", "HTML page"),
        ("json", "JSON"),
        ("empty_body", "empty body"),
        ("404", "HTTP 404"),
    ):
        sim.ical.break_feed(feed_id, how)
        assert await client.refresh(state) is RefreshOutcome.FAILED
        assert state.last_error is not None, how
        assert error in state.last_error, how
        assert state.event_count == count
    sim.ical.break_feed(feed_id, "truncated")
    assert await client.refresh(state) is RefreshOutcome.FAILED
    assert state.last_error is not None
    assert "cannot be parsed" in state.last_error
    with pytest.raises(ValueError, match="how"):
        sim.ical.break_feed(feed_id, "melted")
    sim.ical.restore(feed_id)
    assert await client.refresh(state) is RefreshOutcome.UNCHANGED
    assert state.status == "ok"


async def test_add_event_and_set_body(sim: Simulator, client: IcalFeedClient) -> None:
    prop = first_property(sim)
    feed_id = sim.ical.feed_id(prop, "booking")
    sim.ical.add_event(
        feed_id,
        "BEGIN:VEVENT\nUID:extra@booking.com\nDTSTART;VALUE=DATE:20270101\nDTEND;VALUE=DATE:20270103\n"
        "SUMMARY:CLOSED - Not available\nEND:VEVENT",
    )
    feed = await client.validate(sim.ical.feed_url(prop, "booking"))
    assert any(e.uid == "extra@booking.com" for e in feed.events_between(*WINDOW))
    sim.ical.set_body(feed_id, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    assert (await client.validate(sim.ical.feed_url(prop, "booking"))).event_count == 0
    assert sim.summary()["vendors"]["ical"]["overridden"] == [feed_id]


async def test_faults_apply_to_feeds(sim: Simulator, client: IcalFeedClient) -> None:
    url = sim.ical.feed_url(first_property(sim), "airbnb")
    sim.faults.inject("/ical/", status=503, times=1)
    with pytest.raises(ServerError):
        await client.fetch(url)
    sim.faults.inject("/ical/", status=404, times=1)
    with pytest.raises(NotFoundError):
        await client.fetch(url)
    sim.faults.inject("/ical/", status=200, body="<html>login</html>", times=1)
    with pytest.raises(MalformedResponseError, match="HTML page"):
        await client.fetch(url)
    assert (await client.fetch(url)).changed


async def test_state_summary(sim: Simulator) -> None:
    summary = sim.summary()["vendors"]["ical"]
    assert summary["prefix"] == "/ical"
    assert summary["feeds"] == 3 * len(sim.kasify.properties)
    assert summary["broken"] == {}


def test_feed_dates_are_local_dates() -> None:
    # A stay that checks in at 15:00 local is on the local date even when UTC is already the next day.
    sim = Simulator()
    prop = first_property(sim)
    zone = sim.kasify.property_zone(prop)
    start = datetime(2027, 6, 1, 23, 30, tzinfo=zone)
    sim.kasify.add_booking(
        prop, "Late", start, start + timedelta(days=2), channel="airbnb", external_reference="HMLATE0001"
    )
    body = sim.ical.render(sim.ical.feed_id(prop, "airbnb"))
    assert body is not None
    assert f"DTSTART;VALUE=DATE:{date(2027, 6, 1):%Y%m%d}".encode() in body
