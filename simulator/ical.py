"""Serving the iCal feeds of :class:`~simulator.ical_state.IcalFeeds` under :data:`ICAL_PREFIX`.

A feed is ``/ical/{property_id}-{channel}.ics?s={token}`` (``t=`` for Booking.com; channels and their formats:
:mod:`simulator.ical_render`).
Responses carry ``ETag`` (a hash of the body without ``DTSTAMP``) and ``Last-Modified`` (when that hash last
changed) and answer ``If-None-Match`` / ``If-Modified-Since`` with 304; a feed a test broke answers as it was
broken. Unknown feeds, and feeds asked for without their token, answer an HTML 404 page, like the real
services.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Final

from aiohttp import web

from .ical_state import BREAKAGES, CHANNELS, IcalFeeds

__all__ = ["BREAKAGES", "CHANNELS", "ICAL_PREFIX", "IcalApi", "IcalFeeds"]

ICAL_PREFIX: Final = "/ical"


def _http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _error_page(status: int, message: str) -> bytes:
    return (
        f"<!DOCTYPE html>\n<html><head><title>{status}</title></head>"
        f"<body><h1>{status}</h1><p>{message}</p></body></html>\n"
    ).encode()


def _matches(header: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


class IcalApi:
    """The iCal vendor: ``GET /ical/{feed}.ics`` over :class:`IcalFeeds`."""

    name = "ical"
    prefix = ICAL_PREFIX

    def __init__(self, feeds: IcalFeeds) -> None:
        """Serve ``feeds``."""
        self.feeds = feeds

    def error_body(self, status: int, message: str) -> bytes:
        """An HTML error page, like the channels serve."""
        return _error_page(status, message)

    def summary(self) -> dict[str, Any]:
        """The prefix and the feeds' summary."""
        return {"prefix": self.prefix, **self.feeds.summary()}

    def build_app(self) -> web.Application:
        """The sub-application."""
        app = web.Application()
        app.router.add_get("/{name}", self.get_feed)
        return app

    async def get_feed(self, request: web.Request) -> web.Response:
        """One feed, with conditional GET."""
        name = request.match_info["name"]
        feed_id = name.removesuffix(".ics")
        known = name.endswith(".ics") and self.feeds.token_matches(feed_id, request.query)
        body = self.feeds.render(feed_id) if known else None
        if body is None:
            return web.Response(
                status=404, body=_error_page(404, "Calendar not found"), content_type="text/html"
            )
        broken = self.feeds.breakage(feed_id)
        if broken is not None:
            return self._broken(broken, body)
        etag, changed = self.feeds.validators(feed_id, body)
        headers = {"ETag": etag, "Last-Modified": _http_date(changed)} if self.feeds.send_validators else {}
        if self.feeds.conditional and self._not_modified(request, etag, changed):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, headers=headers, content_type="text/calendar", charset="utf-8")

    @staticmethod
    def _not_modified(request: web.Request, etag: str, changed: datetime) -> bool:
        if (header := request.headers.get("If-None-Match")) is not None:
            return _matches(header, etag)
        if (since := request.headers.get("If-Modified-Since")) is not None:
            try:
                when = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            return changed <= (when if when.tzinfo else when.replace(tzinfo=UTC))
        return False

    @staticmethod
    def _broken(how: str, body: bytes) -> web.Response:
        if how == "html":
            page = _error_page(200, "Please log in to see this calendar")
            return web.Response(body=page, content_type="text/html")
        if how == "json":
            return web.json_response({"error": "calendar_disabled", "message": "This calendar was disabled"})
        if how == "truncated":
            return web.Response(body=body[: len(body) // 2], content_type="text/calendar")
        if how == "empty_body":
            return web.Response(body=b"", content_type="text/calendar")
        status = int(how)
        return web.Response(
            status=status, body=_error_page(status, "Calendar unavailable"), content_type="text/html"
        )
