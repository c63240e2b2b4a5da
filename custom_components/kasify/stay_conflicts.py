"""Double bookings and turnover gaps: a repair issue for each, gone by itself once resolved.

A property's stays are its Kasify bookings that are not cancelled and the reservations of its iCal feeds that
are not Kasify bookings, each stay once (the calendar's rule, :func:`~.providers.kasify_calendar.feed_only`:
a feed entry with a booking's channel reference or dates is that booking, and two feeds' entries on the same
dates are one stay). A feed reservation given as days starts and ends at the property's check-in and check-out
times. Two stays that overlap are a double booking (``double_booking``); a check-out followed by a check-in
less than the property's minimum turnover time later (option, default 3 h, 0 for never) is a turnover gap
(``turnover_gap``). Only what still matters is reported: an overlap until it ends, a gap until the next
check-in, within the coordinator's window.

Checked after each Kasify or feed refresh that changed something and at the instant a reported conflict
stops mattering, property by property within the integration's turn budget on the event loop (``scale.py``).
The issues are not persistent: after a restart the first check raises them again, and when the entry unloads
they go. While Kasify's bookings are unknown (listing not understood, or the last refresh failed) the issues
stay as they are. Issues name the property, the guests (or the feed's text) and the
times, never a guest's e-mail or phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
import hashlib
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .api.ical import EventKind, IcalEvent
from .api.models import Booking, Feature
from .coalesced import CoalescedCheck
from .const import DOMAIN, LOGGER
from .providers.kasify_calendar import feed_only
from .scale import loop_turns

if TYPE_CHECKING:
    from .coordinator import KasifyConfigEntry
    from .providers.kasify import KasifyCoordinator
    from .providers.kasify_feeds import FeedCoordinator, FeedStatus

DOUBLE_BOOKING: Final = "double_booking"
TURNOVER_GAP: Final = "turnover_gap"
KASIFY: Final = "Kasify"


@dataclass(frozen=True, slots=True)
class Stay:
    """A stay at a property, wherever it was seen."""

    key: str  # the booking id, or "<feed id>-<event uid>"
    name: str  # the guest, or the feed's text for the stay
    source: str  # "Kasify", or the feed's name
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two stays at a property that overlap, or leave too little time between them."""

    kind: str
    property_id: str
    first: Stay
    second: Stay

    def issue_id(self, entry_id: str) -> str:
        """Stable for the same two stays (their ids are hashed: feed UIDs can be long)."""
        keys = (
            sorted((self.first.key, self.second.key))
            if self.kind == DOUBLE_BOOKING
            else [
                self.first.key,
                self.second.key,
            ]
        )
        digest = hashlib.sha256("|".join(keys).encode()).hexdigest()[:12]
        return f"{self.kind}_{entry_id}_{digest}"

    @property
    def matters_until(self) -> datetime:
        """When it stops mattering: the overlap's end, or the check-in after the gap."""
        if self.kind == DOUBLE_BOOKING:
            return min(self.first.end, self.second.end)
        return self.second.start


def find_conflicts(
    property_id: str, stays: list[Stay], min_turnover: timedelta, now: datetime
) -> list[Conflict]:
    """Overlapping stays, and check-outs followed too closely by the next check-in, that still matter."""
    ordered = sorted(stays, key=lambda stay: (stay.start, stay.end, stay.key))
    conflicts: list[Conflict] = []
    for index, first in enumerate(ordered):
        following = ordered[index + 1 :]
        for second in following:
            if second.start >= first.end:
                break
            conflicts.append(Conflict(DOUBLE_BOOKING, property_id, first, second))
        # The first stay (in start order) that begins once this one has ended.
        after = next((stay for stay in following if stay.start >= first.end), None)
        if after is not None and after.start - first.end < min_turnover:
            conflicts.append(Conflict(TURNOVER_GAP, property_id, first, after))
    return [conflict for conflict in conflicts if conflict.matters_until > now]


def _when(instant: datetime) -> str:
    return dt_util.as_local(instant).strftime("%Y-%m-%d %H:%M")


def _duration(delta: timedelta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _local(value: date | datetime, at: time, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, at, zone)


class StayConflicts:
    """Keeps the double-booking and turnover-gap issues of one Kasify entry in step with its stays."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KasifyConfigEntry,
        coordinator: KasifyCoordinator,
        feeds: FeedCoordinator,
    ) -> None:
        """Follow ``coordinator``'s bookings and ``feeds``' reservations; call :meth:`async_start`."""
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self._feeds = feeds
        self._issues: dict[str, Conflict] = {}
        self._runner = CoalescedCheck(
            hass, entry, f"{DOMAIN} {entry.title} stay conflicts", self._async_check
        )
        self._inputs: tuple[object, object] | None = None
        self._timer: CALLBACK_TYPE | None = None

    @property
    def conflicts(self) -> list[Conflict]:
        """The conflicts reported now (for diagnostics and tests)."""
        return list(self._issues.values())

    @callback
    def async_start(self) -> None:
        """Check now, after every refresh that changed something; stop and clear when the entry unloads."""
        self._entry.async_on_unload(self._coordinator.async_add_listener(self.async_request_check))
        self._entry.async_on_unload(self._feeds.async_add_listener(self.async_request_check))
        self._entry.async_on_unload(self._async_stop)
        self.async_request_check()

    @callback
    def _async_stop(self) -> None:
        # A check still reading the feeds finishes without raising issues or setting a timer again.
        self._runner.async_stop()
        self._cancel_timer()
        for issue_id in self._issues:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
        self._issues.clear()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None

    @callback
    def async_request_check(self, force: bool = False) -> None:
        """Check soon (coalesced); without ``force``, only when bookings or feeds changed."""
        data = self._coordinator.data
        inputs = (data.bookings if data is not None else None, self._feeds.data)
        if (
            not force
            and self._inputs is not None
            and all(a is b for a, b in zip(inputs, self._inputs, strict=True))
        ):
            return  # a change of something else (a task)
        self._runner.async_request()

    async def _async_check(self) -> None:
        coordinator = self._coordinator
        data = coordinator.data
        if data is None or not coordinator.last_update_success or Feature.BOOKINGS in data.degraded:
            return  # the bookings are not known: the issues stay as they are
        self._inputs = (data.bookings, self._feeds.data)
        now = dt_util.utcnow()
        feed_events = await self._feeds.async_events_by_property(now, data.window_end)
        if self._runner.stopped():
            return
        found: dict[str, Conflict] = {}
        turns = loop_turns(self._hass)  # hundreds of properties: the loop gets its turns meanwhile
        for property_id in list(data.properties):
            await turns.take()
            stays = self._stays(
                property_id, data.active_bookings(property_id), feed_events.get(property_id, [])
            )
            for conflict in find_conflicts(property_id, stays, coordinator.min_turnover(property_id), now):
                found[conflict.issue_id(self._entry.entry_id)] = conflict
        if self._runner.stopped():
            return  # unloaded while the loop had its turns
        for issue_id in self._issues.keys() - found.keys():
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
        for issue_id, conflict in found.items():
            if self._issues.get(issue_id) != conflict:
                self._raise(issue_id, conflict)
        if found.keys() != self._issues.keys():
            LOGGER.debug("%s: %d double bookings or turnover gaps", self._entry.title, len(found))
        self._issues = found
        self._schedule(now)

    def _stays(
        self, property_id: str, bookings: list[Booking], feed_events: list[tuple[FeedStatus, IcalEvent]]
    ) -> list[Stay]:
        check_in, check_out, zone = self._coordinator.stay_times(property_id)
        stays = [Stay(b.id, b.guest_name or b.id, KASIFY, b.check_in, b.check_out) for b in bookings]
        for status, event in feed_only(bookings, feed_events, dt_util.get_default_time_zone()):
            if event.kind is EventKind.RESERVATION:
                stays.append(
                    Stay(
                        f"{status.feed_id}-{event.uid}",
                        event.guest_name or event.summary or status.name,
                        status.name,
                        _local(event.start, check_in, zone),
                        _local(event.end, check_out, zone),
                    )
                )
        return stays

    def _raise(self, issue_id: str, conflict: Conflict) -> None:
        prop = self._coordinator.data.properties.get(conflict.property_id)
        first, second = conflict.first, conflict.second
        placeholders = {
            "property": prop.name if prop is not None else conflict.property_id,
            "first": first.name,
            "first_source": first.source,
            "first_check_in": _when(first.start),
            "first_check_out": _when(first.end),
            "second": second.name,
            "second_source": second.source,
            "second_check_in": _when(second.start),
            "second_check_out": _when(second.end),
        }
        if conflict.kind == TURNOVER_GAP:
            placeholders |= {
                "gap": _duration(second.start - first.end),
                "minimum": _duration(self._coordinator.min_turnover(conflict.property_id)),
            }
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=conflict.kind,
            translation_placeholders=placeholders,
        )

    def _schedule(self, now: datetime) -> None:
        """Check again when the first reported conflict stops mattering."""
        self._cancel_timer()
        instants = [
            conflict.matters_until for conflict in self._issues.values() if conflict.matters_until > now
        ]
        if instants:
            self._timer = async_track_point_in_utc_time(self._hass, self._on_timer, min(instants))

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._timer = None
        self.async_request_check(force=True)
