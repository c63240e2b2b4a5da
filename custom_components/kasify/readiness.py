"""Ready for the next guest: what a property's next arrival needs, and what of it is missing.

For every property of a Kasify entry :class:`ReadinessTracker` keeps the list of what blocks the next arrival
(:class:`Blocker`, reasons below). The next arrival is the property's next active Kasify booking (feed-only
stays have no codes or guests to check). Blocking, each reason once per lock, feed or booking:

- ``code_not_on_lock``: the arrival's access code is not ``on_lock`` on a lock of the property that can take
  codes (the access-code engine's records);
- ``lock_offline`` (the lock's account cannot be reached, or the lock is not connected), ``lock_jammed``,
  ``lock_battery_low`` (the vendor's critical flag, or a level below the property's option, default 25 %),
  ``door_unlocked``, ``door_open``: the locks that hang under the property, whichever account shows them;
- ``not_cleaned``: no cleaning task completed since the check-out before the arrival (or since the current
  guest leaves); ``cleaning_unknown`` while Kasify's tasks are not understood. Completed tasks are known for
  the last 7 days: a check-out older than that is not checked;
- ``feed_error`` / ``feed_stale``: a calendar feed of the property failing, or not read for 6 hours and three
  of its intervals;
- ``guests_not_registered`` / ``guests_unknown``: fewer guests registered in Kasify's check-in than booked,
  or the check-in not known (``guest_registration.py``), for an arrival within 48 hours.

Checked after each Kasify or feed refresh, when an access code settles, and every minute (lock accounts,
feed age and the repair issues' instants; this costs no request). From 24 hours before the arrival's
check-in one repair issue (``not_ready``, a warning) names the property, the arrival and each blocking item,
and from 2 hours before a second one (an error); both go when nothing blocks, at check-in, or when the entry
unloads. While Kasify's bookings are unknown nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from . import compat
from .access_codes.manager import async_get_code_manager
from .access_codes.records import CODE_ON_LOCK, EVENT_CODE_FAILED, EVENT_CODE_PROVISIONED
from .api.models import AccountSnapshot, Booking, Feature, LockStatus
from .coalesced import CoalescedCheck
from .const import DOMAIN, LOGGER
from .coordinator import LockView
from .guest_registration import CHECKIN_HORIZON, GuestRegistrations, Registration
from .links import live_entries
from .stay_state import Facts, get_tracker, stay_end, turnover_cleaned

if TYPE_CHECKING:
    from .coordinator import KasifyConfigEntry
    from .providers.kasify import KasifyCoordinator
    from .providers.kasify_feeds import FeedCoordinator

REASONS: Final = (
    "code_not_on_lock",
    "lock_offline",
    "lock_jammed",
    "lock_battery_low",
    "door_unlocked",
    "door_open",
    "not_cleaned",
    "cleaning_unknown",
    "feed_error",
    "feed_stale",
    "guests_not_registered",
    "guests_unknown",
)
CHECK_INTERVAL: Final = timedelta(minutes=1)
FIRST_WARNING: Final = timedelta(hours=24)
LAST_WARNING: Final = timedelta(hours=2)
FEED_STALE_AFTER: Final = timedelta(hours=6)
# Completed tasks the coordinator knows (providers.kasify.RECENTLY_COMPLETED).
CLEANING_LOOKBACK: Final = timedelta(days=7)


def signal_readiness(entry_id: str) -> str:
    """Dispatched when an entry's readiness was checked (entities read it again)."""
    return f"{DOMAIN}_readiness_{entry_id}"


def issue_id(entry_id: str, booking_id: str, stage: str) -> str:
    """The repair issue of an arrival whose property is not ready (``stage``: ``24h`` or ``2h``)."""
    return f"not_ready_{entry_id}_{booking_id}_{stage}"


@dataclass(frozen=True, slots=True)
class Blocker:
    """One thing the next arrival needs that is not in place."""

    reason: str
    subject: str = ""  # the lock, feed or count it is about

    def __str__(self) -> str:
        """``reason: subject`` (the form of the ``blocking`` attribute)."""
        return f"{self.reason}: {self.subject}" if self.subject else self.reason


@dataclass(frozen=True, slots=True)
class Readiness:
    """A property's readiness for its next arrival (compares by value)."""

    blocking: tuple[Blocker, ...]
    arrival: Booking | None
    registration: Registration | None

    @property
    def ready(self) -> bool:
        """Nothing blocks."""
        return not self.blocking


def _lock_blockers(view: LockView, name: str, reachable: bool, threshold: int) -> list[Blocker]:
    found: list[Blocker] = []
    if not reachable or view.connected is False:
        found.append(Blocker("lock_offline", name))
    if view.status is LockStatus.JAMMED:
        found.append(Blocker("lock_jammed", name))
    level = view.battery_level
    if view.battery_critical or (level is not None and level < threshold):
        found.append(Blocker("lock_battery_low", f"{name} ({level} %)" if level is not None else name))
    if view.status in (LockStatus.UNLOCKED, LockStatus.OPEN, LockStatus.UNLOCKING, LockStatus.OPENING):
        found.append(Blocker("door_unlocked", name))
    if view.door_open:
        found.append(Blocker("door_open", name))
    return found


def _cleaning_blockers(
    data: AccountSnapshot, property_id: str, arrival: Booking | None, now: datetime, facts: Facts
) -> list[Blocker]:
    """Whether the turnover the arrival follows is cleaned, by the rule the *Stay state* sensor uses.

    The stay that ended last before the arrival (or the current guest's) is the turnover: its cleaning task,
    or a cleaning task of the property tied to no booking completed after it ended (early check-outs count).
    """
    current = data.current_booking(property_id, now)
    bound = arrival.check_in if arrival else (current.check_out if current else now)
    ended = [
        b
        for b in data.active_bookings(property_id)
        if b.check_out <= bound and (arrival is None or b.id != arrival.id)
    ]
    last = max(ended, key=lambda b: stay_end(b, facts.early), default=None)
    if last is None or now - stay_end(last, facts.early) > CLEANING_LOOKBACK:
        return []
    if turnover_cleaned(last, stay_end(last, facts.early), data, facts.cleaned):
        return []
    if Feature.TASKS in data.degraded or Feature.COMPLETED_TASKS in data.degraded:
        return [Blocker("cleaning_unknown")]
    return [Blocker("not_cleaned")]


def _guest_blockers(arrival: Booking, registration: Registration | None) -> list[Blocker]:
    complete = registration.complete if registration is not None else None
    if complete is None:
        return [Blocker("guests_unknown")]
    if not complete:
        assert registration is not None
        return [Blocker("guests_not_registered", f"{registration.registered}/{registration.expected}")]
    return []


class ReadinessTracker:
    """Keeps the readiness of one Kasify entry's properties, and its repair issues."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KasifyConfigEntry,
        coordinator: KasifyCoordinator,
        feeds: FeedCoordinator,
    ) -> None:
        """Follow ``coordinator`` and ``feeds``; call :meth:`async_start`."""
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self._feeds = feeds
        self.registrations = GuestRegistrations(hass, entry, coordinator)
        self._states: dict[str, Readiness] = {}
        self._issues: dict[str, tuple[str, Any]] = {}  # issue id → what it said
        self._runner = CoalescedCheck(hass, entry, f"{DOMAIN} {entry.title} readiness", self._async_check)

    def state(self, property_id: str) -> Readiness | None:
        """The property's readiness at the last check (None before the first)."""
        return self._states.get(property_id)

    @callback
    def async_start(self) -> None:
        """Check now and whenever something it reads may have changed; clear everything at unload."""
        entry, request = self._entry, self._on_change
        entry.async_on_unload(self._coordinator.async_add_listener(self.async_request_check))
        entry.async_on_unload(self._feeds.async_add_listener(self.async_request_check))
        entry.async_on_unload(self._hass.bus.async_listen(EVENT_CODE_PROVISIONED, request))
        entry.async_on_unload(self._hass.bus.async_listen(EVENT_CODE_FAILED, request))
        entry.async_on_unload(self._hass.bus.async_listen(EVENT_HOMEASSISTANT_STARTED, request))
        entry.async_on_unload(async_track_time_interval(self._hass, request, CHECK_INTERVAL))
        entry.async_on_unload(self._async_stop)
        self.async_request_check()

    @callback
    def _on_change(self, _event: Any) -> None:
        self.async_request_check()

    @callback
    def _async_stop(self) -> None:
        # A check still reading check-in snapshots ends without raising its issues again.
        self._runner.async_stop()
        for known in self._issues:
            ir.async_delete_issue(self._hass, DOMAIN, known)
        self._issues.clear()
        self.registrations.clear()

    @callback
    def async_request_check(self) -> None:
        """Check soon (coalesced)."""
        self._runner.async_request()

    async def _async_check(self) -> None:
        coordinator = self._coordinator
        data = coordinator.data
        if data is None or not coordinator.last_update_success or Feature.BOOKINGS in data.degraded:
            return  # the bookings are not known: everything stays as it is
        now = dt_util.utcnow()
        await async_get_code_manager(self._hass).async_load()
        await self.registrations.async_update(now)
        if self._runner.stopped():
            return
        data = coordinator.data  # a refresh may have finished meanwhile
        locks = self._locks_by_property()
        tracker = get_tracker(self._hass, self._entry.entry_id)
        facts = tracker.facts() if tracker is not None else Facts({}, frozenset())
        states = {pid: self._readiness(data, pid, locks, facts, now) for pid in data.properties}
        changed = states != self._states
        self._states = states
        await self._async_update_issues(data, now)
        if changed:
            LOGGER.debug(
                "%s: %d of %d properties ready",
                self._entry.title,
                sum(s.ready for s in states.values()),
                len(states),
            )
            async_dispatcher_send(self._hass, signal_readiness(self._entry.entry_id))

    def _readiness(
        self,
        data: AccountSnapshot,
        property_id: str,
        locks: dict[tuple[str, str], list[Blocker]],
        facts: Facts,
        now: datetime,
    ) -> Readiness:
        arrival = data.next_booking(property_id, now)
        registration = None
        blocking: list[Blocker] = []
        if arrival is not None:
            blocking += self._code_blockers(property_id, arrival)
        blocking += locks.get(self._coordinator.property_identifier(property_id), [])
        blocking += _cleaning_blockers(data, property_id, arrival, now, facts)
        blocking += self._feed_blockers(property_id, now)
        if arrival is not None and arrival.check_in <= now + CHECKIN_HORIZON:
            registration = self.registrations.get(arrival.id)
            blocking += _guest_blockers(arrival, registration)
        return Readiness(tuple(blocking), arrival, registration)

    def _property_device_id(self, property_id: str) -> str | None:
        identifier = self._coordinator.property_identifier(property_id)
        device = compat.device_by_identifier(self._hass, identifier, self._entry.entry_id)
        return device.id if device is not None else None

    def _code_blockers(self, property_id: str, arrival: Booking) -> list[Blocker]:
        device_id = self._property_device_id(property_id)
        if device_id is None:
            return []
        manager = async_get_code_manager(self._hass)
        on_lock = {c.entity_id for c in manager.codes_for_booking(arrival.id) if c.status == CODE_ON_LOCK}
        return [
            Blocker("code_not_on_lock", self._entity_name(entity_id))
            for entity_id in manager.lock_entities_for_property(device_id)
            if entity_id not in on_lock
        ]

    def _entity_name(self, entity_id: str) -> str:
        state = self._hass.states.get(entity_id)
        return state.name if state is not None else entity_id

    def _locks_by_property(self) -> dict[tuple[str, str], list[Blocker]]:
        """What the locks block, by the property device they hang under (every live entry's locks, once)."""
        thresholds = {
            self._coordinator.property_identifier(pid): self._coordinator.low_battery(pid)
            for pid in self._coordinator.data.properties
        }
        found: dict[tuple[str, str], list[Blocker]] = {}
        for entry in live_entries(self._hass):
            coordinator = entry.runtime_data.coordinator
            if coordinator.data is None:
                continue
            for key, view in sorted(coordinator.lock_views.items()):
                parent = coordinator.lock_parent(key)
                if parent is None or parent not in thresholds:
                    continue
                device = compat.device_by_identifier(self._hass, (DOMAIN, key), entry.entry_id)
                name = (device.name_by_user or device.name) if device is not None else None
                found.setdefault(parent, []).extend(
                    _lock_blockers(
                        view, name or view.name or key, coordinator.last_update_success, thresholds[parent]
                    )
                )
        return found

    def _feed_blockers(self, property_id: str, now: datetime) -> list[Blocker]:
        found: list[Blocker] = []
        for key, status in sorted((self._feeds.data or {}).items()):
            if status.property_id != property_id:
                continue
            if status.status == "error":
                found.append(Blocker("feed_error", status.name))
                continue
            stale_after = max(FEED_STALE_AFTER, 3 * self._feeds.interval_of(key))
            if status.last_success is None or now - status.last_success > stale_after:
                found.append(Blocker("feed_stale", status.name))
        return found

    # -- repair issues -----------------------------------------------------------------------------------

    async def _async_update_issues(self, data: AccountSnapshot, now: datetime) -> None:
        wanted: dict[str, tuple[str, Readiness]] = {}
        for property_id, readiness in self._states.items():
            arrival = readiness.arrival
            if arrival is None or readiness.ready or not now >= arrival.check_in - FIRST_WARNING:
                continue
            stage = "2h" if now >= arrival.check_in - LAST_WARNING else "24h"
            wanted[issue_id(self._entry.entry_id, arrival.id, stage)] = (property_id, readiness)
        for gone in self._issues.keys() - wanted.keys():
            ir.async_delete_issue(self._hass, DOMAIN, gone)
            del self._issues[gone]
        if not wanted:
            return
        names = await self._reason_names()
        for new_id, (property_id, readiness) in wanted.items():
            if self._issues.get(new_id) == (property_id, readiness.blocking):
                continue
            self._issues[new_id] = (property_id, readiness.blocking)
            self._raise(new_id, data, property_id, readiness, names)

    async def _reason_names(self) -> Callable[[str], str]:
        """Each reason as the user's language says it (the ``blocking_reasons`` attribute's states)."""
        translations = await async_get_translations(
            self._hass, self._hass.config.language, "entity", {DOMAIN}
        )
        prefix = f"component.{DOMAIN}.entity.binary_sensor.ready_for_next_guest.state_attributes"
        return lambda reason: translations.get(f"{prefix}.blocking_reasons.state.{reason}", reason)

    def _raise(
        self,
        new_id: str,
        data: AccountSnapshot,
        property_id: str,
        readiness: Readiness,
        names: Callable[[str], str],
    ) -> None:
        assert readiness.arrival is not None
        arrival = readiness.arrival
        prop = data.properties.get(property_id)
        zone = self._coordinator.property_zone(property_id)
        items = [
            f"- {names(b.reason)}: {b.subject}" if b.subject else f"- {names(b.reason)}"
            for b in readiness.blocking
        ]
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            new_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR if new_id.endswith("_2h") else ir.IssueSeverity.WARNING,
            translation_key="not_ready",
            translation_placeholders={
                "property": prop.name if prop is not None else property_id,
                "guest": arrival.guest_name or arrival.id,
                "check_in": arrival.check_in.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "blocking": "\n".join(items),
            },
        )
