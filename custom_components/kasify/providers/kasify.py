"""Kasify accounts: properties, bookings, tasks, Kasify's view of the smart locks, stays and iCal feeds.

A refresh is one :meth:`KasifyClient.fetch_snapshot`: ceil(P/100) + ceil(B/100) + ceil(T/100) + ceil(C/100)
+ L requests for P properties, B bookings in the window, T open tasks, C tasks completed in the last
:data:`RECENTLY_COMPLETED` (at least 1 request per listing) and L properties with a smart lock no provider
account shows (the first refresh reads every property with smart locks: only then is it known which provider
lock each one is). A smart lock whose provider account (Nuki Web, UniFi Access) is set up is that account's;
the others are shown read-only here, with a repair issue per vendor saying which account would make them
controllable.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterator, Mapping
import contextlib
from dataclasses import replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from homeassistant.components.calendar import CalendarEvent
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .. import compat, forms
from ..access_codes.adapter import CodeAdapter, RevokeUnverifiedError, validation_error
from ..access_codes.automatic import async_remove_store, async_start_auto_codes
from ..access_codes.policy import VENDOR_KASIFY, VENDOR_RULES, combine
from ..access_codes.records import (
    CODE_FAILED,
    CODE_ON_LOCK,
    CODE_PENDING,
    CodeRecord,
    CodeTarget,
    NewCode,
    Outcome,
)
from ..api.errors import MalformedResponseError, NotFoundError
from ..api.ical import IcalFeedClient
from ..api.kasify import KasifyClient
from ..api.models import Account, AccountSnapshot, Booking, BookingStatus, Feature, Property, SmartLock, Task
from ..const import (
    CONF_API_TOKEN,
    CONF_CHECK_IN_TIME,
    CONF_CHECK_OUT_TIME,
    CONF_LOW_BATTERY,
    CONF_MIN_TURNOVER,
    CONF_STAY_TIMES,
    CONF_TIME_ZONE,
    DEFAULT_CHECK_IN_TIME,
    DEFAULT_CHECK_OUT_TIME,
    DEFAULT_KASIFY_URL,
    DEFAULT_LOW_BATTERY,
    DEFAULT_MIN_TURNOVER_HOURS,
    DOMAIN,
    KIND_KASIFY,
    KIND_NUKI,
    KIND_UNIFI,
    LOGGER,
    VENDOR_MANUFACTURERS,
)
from ..coordinator import KasifyConfigEntry, KasifyRuntimeData, LockView, PropertySourceCoordinator
from ..links import link_lock_devices, provider_lock_keys
from ..placement import lock_device_name, place_lock
from ..readiness import ReadinessTracker
from ..scale import first_by, loop_turns
from ..stay_conflicts import StayConflicts
from ..stay_state import StayTracker, async_remove_store as async_remove_stay_store
from ..stays import StayScheduler
from .kasify_calendar import BookingsCalendar
from .kasify_feeds import FeedCoordinator

# Properties compared per turn of the loop when a refresh is matched with the previous one.
SHARE_SLICE: Final = 50

# Completed tasks this recent stay on the to-do lists, checked off.
RECENTLY_COMPLETED: Final = timedelta(days=7)
# Lock vendors in Kasify smart-lock records → the account kind that controls them.
PROVIDER_KINDS: Final = {"nuki": KIND_NUKI, "unifi": KIND_UNIFI}


def _local(value: date | datetime | None, default_time: time, zone: tzinfo) -> datetime | None:
    """A zone-less check-in/out value as an instant at the property (None: it had a zone)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=zone)
    return datetime.combine(value, default_time, tzinfo=zone)


async def share_unchanged(new: AccountSnapshot, old: AccountSnapshot | None) -> AccountSnapshot:
    """``new``, holding the previous refresh's objects wherever they are equal.

    Each property's record, bookings, open and recently completed tasks, and each smart lock, is compared
    once here; afterwards the snapshot, and every entity's slice of it, compares with the previous one by
    identity, so an unchanged property costs its entities next to nothing. The loop gets a turn every
    :data:`SHARE_SLICE` properties.
    """
    if old is None:
        return new
    properties: dict[str, Property] = {}
    bookings: dict[str, tuple[Booking, ...]] = {}
    tasks: dict[str, tuple[Task, ...]] = {}
    completed: dict[str, tuple[Task, ...]] = {}
    for count, (property_id, prop) in enumerate(new.properties.items(), start=1):
        properties[property_id] = _same(prop, old.properties.get(property_id))
        if property_id in new.bookings:
            bookings[property_id] = _same(new.bookings[property_id], old.bookings.get(property_id))
        if property_id in new.tasks:
            tasks[property_id] = _same(new.tasks[property_id], old.tasks.get(property_id))
        if property_id in new.completed_tasks:
            completed[property_id] = _same(
                new.completed_tasks[property_id], old.completed_tasks.get(property_id)
            )
        if count % SHARE_SLICE == 0:
            await asyncio.sleep(0)
    return replace(
        new,
        properties=properties,
        # Listings of properties the listing does not have are kept as the client gave them (none, today).
        bookings={pid: bookings.get(pid, items) for pid, items in new.bookings.items()},
        tasks={pid: tasks.get(pid, items) for pid, items in new.tasks.items()},
        completed_tasks={pid: completed.get(pid, items) for pid, items in new.completed_tasks.items()},
        smart_locks={lid: _same(lock, old.smart_locks.get(lid)) for lid, lock in new.smart_locks.items()},
    )


def _same[T](new: T, old: T | None) -> T:
    return old if old is not None and (old is new or old == new) else new


def missing_provider_issue_id(vendor: str, entry_id: str) -> str:
    """The repair issue of a Kasify entry with read-only locks of ``vendor``."""
    return f"missing_provider_{vendor}_{entry_id}"


class KasifyCoordinator(PropertySourceCoordinator[AccountSnapshot]):
    """Polls one Kasify account (see the module docstring for the requests a refresh costs)."""

    kind = KIND_KASIFY
    upstream_name = "Kasify"

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: KasifyClient) -> None:
        """Poll ``client``'s account."""
        super().__init__(hass, entry)
        self.client = client
        # Per property: its bookings (by identity) and their check-in/out instants, sorted.
        self._stay_instants: dict[str, tuple[tuple[Booking, ...], list[datetime]]] = {}

    async def _fetch_window(self, window_start: datetime, window_end: datetime) -> AccountSnapshot:
        snapshot = await self.client.fetch_snapshot(
            window_start,
            window_end,
            known_locks=self._covered_locks(),
            completed_since=dt_util.utcnow() - RECENTLY_COMPLETED,
        )
        if any(
            b.check_in_unzoned or b.check_out_unzoned for items in snapshot.bookings.values() for b in items
        ):
            bookings = {
                property_id: tuple(sorted((self.localize(b) for b in items), key=lambda b: b.check_in))
                for property_id, items in snapshot.bookings.items()
            }
            snapshot = replace(snapshot, bookings=bookings)
        # What did not change keeps its objects: everything downstream compares by identity first.
        data: AccountSnapshot | None = self.data  # None before the first refresh
        return await share_unchanged(snapshot, data)

    def _covered_locks(self) -> dict[str, SmartLock]:
        """Kasify's records of the smart locks a provider account shows: their status is not read again.

        A property all of whose locks are among them needs no ``GET /properties/{id}/smartlocks``; the
        provider's view of those locks is the one shown. A lock that leaves its provider is read again at the
        next refresh.
        """
        data: AccountSnapshot | None = self.data  # None before the first refresh
        if data is None:
            return {}
        covered = provider_lock_keys(self.hass)
        return {lock.id: lock for lock in data.smart_locks.values() if lock.device_key in covered}

    @callback
    def async_show(self, snapshot: AccountSnapshot) -> None:
        """Show a change Kasify confirmed (its answer, applied to the data) without a refresh.

        The next poll stays when it was due. While the last refresh failed nothing is shown (the entities are
        unavailable; the next successful refresh shows the change).
        """
        if not self.last_update_success or self.data is None:
            return
        self.data = snapshot
        self.async_update_listeners()

    def localize(self, booking: Booking) -> Booking:
        """A booking whose check-in or check-out Kasify sent without a zone, at the property's local times.

        A plain date is the property's check-in (check-out) time that day; a date-time without an offset is
        that wall-clock time; both in the property's time zone (the options', else Home Assistant's).
        """
        if booking.check_in_unzoned is None and booking.check_out_unzoned is None:
            return booking
        check_in_time, check_out_time, zone = self.stay_times(booking.property_id)
        return replace(
            booking,
            check_in=_local(booking.check_in_unzoned, check_in_time, zone) or booking.check_in,
            check_out=_local(booking.check_out_unzoned, check_out_time, zone) or booking.check_out,
        )

    tasks_writable = True

    def property_zone(self, property_id: str) -> tzinfo:
        """The property's time zone: the options', else Home Assistant's."""
        return self.stay_times(property_id)[2]

    def property_settings(self, property_id: str) -> Mapping[str, Any]:
        """The property's settings in the options (step "stay_times"); empty when none were saved."""
        settings: Mapping[str, Any] = self.config_entry.options.get(CONF_STAY_TIMES, {}).get(property_id, {})
        return settings

    def min_turnover(self, property_id: str) -> timedelta:
        """The shortest time the property needs between a check-out and the next check-in."""
        hours = self.property_settings(property_id).get(CONF_MIN_TURNOVER, DEFAULT_MIN_TURNOVER_HOURS)
        return timedelta(hours=float(hours))

    def low_battery(self, property_id: str) -> int:
        """The battery level (%) below which a lock keeps the property from being ready."""
        return int(self.property_settings(property_id).get(CONF_LOW_BATTERY, DEFAULT_LOW_BATTERY))

    def stay_times(self, property_id: str) -> tuple[time, time, tzinfo]:
        """The property's check-in and check-out times and time zone (options, else the defaults)."""
        chosen = self.property_settings(property_id)
        zone: tzinfo = dt_util.get_default_time_zone()
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError, TypeError):
            if name := chosen.get(CONF_TIME_ZONE):
                zone = ZoneInfo(name)
        return (
            time.fromisoformat(chosen.get(CONF_CHECK_IN_TIME, DEFAULT_CHECK_IN_TIME)),
            time.fromisoformat(chosen.get(CONF_CHECK_OUT_TIME, DEFAULT_CHECK_OUT_TIME)),
            zone,
        )

    def _device_identifiers(self, data: AccountSnapshot) -> set[tuple[str, str]]:
        # A lock a provider account controls is that account's device, not this entry's.
        covered = provider_lock_keys(self.hass)
        return super()._device_identifiers(data) | {
            (DOMAIN, lock.device_key) for lock in data.smart_locks.values() if lock.device_key not in covered
        }

    def _refreshed(self, data: AccountSnapshot) -> None:
        self._suggest_provider_accounts(data)
        self._report_unknown_statuses(data)
        # Properties came, went or took other locks: the lock devices follow.
        link_lock_devices(self.hass)

    def _report_unknown_statuses(self, data: AccountSnapshot) -> None:
        """One repair issue naming the booking statuses the integration does not know (they get no codes).

        While the bookings are unknown (their listing not understood) the issue stays as it is.
        """
        if Feature.BOOKINGS in data.degraded:
            return
        issue_id = f"booking_status_unknown_{self.config_entry.entry_id}"
        statuses = sorted(
            {
                booking.status_text or "(none)"
                for bookings in data.bookings.values()
                for booking in bookings
                if booking.status is BookingStatus.UNKNOWN
            }
        )
        if not statuses:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        LOGGER.debug("Kasify booking statuses not known: %s", statuses)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="booking_status_unknown",
            translation_placeholders={"account": self.config_entry.title, "statuses": ", ".join(statuses)},
        )

    def _suggest_provider_accounts(self, data: AccountSnapshot) -> None:
        """One repair issue per lock vendor whose locks are read-only here because its account is missing."""
        covered = provider_lock_keys(self.hass)
        for vendor, kind in PROVIDER_KINDS.items():
            issue_id = missing_provider_issue_id(vendor, self.config_entry.entry_id)
            names = sorted(
                lock.name
                for lock in data.smart_locks.values()
                if lock.vendor == vendor and lock.device_key not in covered
            )
            if names:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=f"missing_provider_{kind}",
                    translation_placeholders={"account": self.config_entry.title, "locks": ", ".join(names)},
                )
            else:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    # -- what other entries ask ----------------------------------------------------------------------------

    def property_of_lock(self, device_key: str) -> str | None:
        """The property of a smart lock Kasify lists, by its device key."""
        lock = self.lock_of(device_key)
        return lock.property_id if lock is not None else None

    def stay_change_properties(self, start: datetime, end: datetime) -> set[str]:
        """The properties with a check-in or check-out in ``[start, end]`` (providers ask after each poll).

        Each property's instants are sorted once per change of its bookings, then looked up by bisection.
        """
        near = set()
        kept = self._stay_instants
        if len(kept) > 2 * len(self.data.bookings) + 16:  # properties gone: forget them
            kept.clear()
        for property_id, bookings in self.data.bookings.items():
            entry = kept.get(property_id)
            if entry is None or entry[0] is not bookings:
                instants = sorted(
                    instant
                    for booking in bookings
                    if booking.active
                    for instant in (booking.check_in, booking.check_out)
                )
                entry = kept[property_id] = (bookings, instants)
            at = bisect.bisect_left(entry[1], start)
            if at < len(entry[1]) and entry[1][at] <= end:
                near.add(property_id)
        return near

    def property_of_booking(self, booking_id: str) -> str | None:
        """The property of a booking in the current window, by its id."""
        return next(
            (
                booking.property_id
                for bookings in self.data.bookings.values()
                for booking in bookings
                if booking.id == booking_id
            ),
            None,
        )

    def stay_changes(self, property_id: str) -> list[datetime]:
        """Check-in and check-out instants of the property's active stays."""
        return [
            instant
            for booking in self.data.active_bookings(property_id)
            for instant in (booking.check_in, booking.check_out)
        ]

    # -- the read-only locks -------------------------------------------------------------------------------

    @property
    def lock_views(self) -> Mapping[str, LockView]:
        """The smart locks no provider account covers, by device key (worked out once per change)."""
        data, covered = self.data, provider_lock_keys(self.hass)
        return self.per_data.get(
            "lock_views",
            (data, covered),
            lambda: {
                lock.device_key: self._view(lock)
                for lock in data.smart_locks.values()
                if lock.device_key not in covered
            },
        )

    def _view(self, lock: SmartLock) -> LockView:
        prop = self.data.properties.get(lock.property_id)
        return LockView(
            device_key=lock.device_key,
            unique_id_base=f"kasify_lock_{lock.id}",
            # "Front door" alone repeats across a portfolio; the property makes it unique and findable.
            name=lock_device_name(lock.name, prop.name if prop else None),
            status=lock.status,
            manufacturer=VENDOR_MANUFACTURERS.get(lock.vendor, lock.vendor.title() or None),
            model="Door" if lock.vendor == "unifi" else "Smart lock",
            serial_number=lock.provider_lock_id,
            battery_level=lock.battery_level,
            battery_charging=lock.battery_charging,
            connected=not lock.offline,
        )

    def code_target(self, device_key: str, entity_id: str, name: str) -> CodeTarget | None:
        """Kasify's booking codes for a smart lock shown read-only (its rules and its vendor's)."""
        lock = self.lock_of(device_key)
        if lock is None:
            return None
        rules = VENDOR_RULES[VENDOR_KASIFY]
        if lock.vendor in VENDOR_RULES:
            rules = combine([rules, VENDOR_RULES[lock.vendor]])
        return CodeTarget(entity_id, VENDOR_KASIFY, lock.id, name, self.client, rules, KASIFY_CODES, self)

    def lock_of(self, device_key: str) -> SmartLock | None:
        """Kasify's record of a smart lock, by device key."""
        data = self.data
        return self.per_data.get(
            "by_key", (data,), lambda: first_by(data.smart_locks.values(), lambda lock: lock.device_key)
        ).get(device_key)

    def lock_parent(self, device_key: str) -> tuple[str, str] | None:
        """The property device of a read-only lock (both are this entry's)."""
        lock = self.lock_of(device_key)
        return self.property_identifier(lock.property_id) if lock is not None else None

    def hidden_lock_bases(self) -> set[str]:
        """The smart locks a provider account covers: their read-only entities here go."""
        data, covered = self.data, provider_lock_keys(self.hass)
        return self.per_data.get(
            "hidden_lock_bases",
            (data, covered),
            lambda: {
                f"kasify_lock_{lock.id}" for lock in data.smart_locks.values() if lock.device_key in covered
            },
        )

    # -- the property's calendar: bookings and iCal feeds ------------------------------------------------

    calendar_key = "bookings"

    def calendar_cached(self, property_id: str, language: str) -> list[CalendarEvent]:
        """The stays in the window, and the feeds' next events (a feed-only stay can be the current one)."""
        return BookingsCalendar(self, property_id, language).cached()

    def calendar_current(self, property_id: str, now: datetime, language: str) -> CalendarEvent | None:
        """The stay or feed event in progress, else the next (only that event is built)."""
        return BookingsCalendar(self, property_id, language).current(now)

    async def async_calendar_window(
        self, property_id: str, start: datetime, end: datetime, language: str
    ) -> list[CalendarEvent]:
        """The stays in the window and the feeds' events of the range."""
        return await BookingsCalendar(self, property_id, language).window(start, end)

    async def async_calendar_fetch(
        self, property_id: str, start: datetime, end: datetime, language: str
    ) -> list[CalendarEvent]:
        """Bookings of a range outside the window, read from Kasify, with the feeds' events."""
        return await BookingsCalendar(self, property_id, language).fetch(start, end)

    def calendar_followers(self) -> list[DataUpdateCoordinator[Any]]:
        """The iCal feeds."""
        feeds = self.config_entry.runtime_data.feeds
        return [feeds] if feeds is not None else []

    def calendar_extra(self, property_id: str) -> object:
        """What the calendar shows of the property's iCal feeds: each one's name and next events.

        A sync that found nothing new changes none of it (only the feed's own sync sensor).
        """
        feeds = self.config_entry.runtime_data.feeds
        if feeds is None:
            return None
        return tuple(
            (status.feed_id, status.name, status.upcoming) for status in feeds.statuses_for(property_id)
        )

    # -- guest stays ---------------------------------------------------------------------------------------

    has_stays = True

    def current_stay(self, property_id: str, now: datetime) -> Booking | None:
        """The stay in progress at the property at ``now``."""
        return self.data.current_booking(property_id, now)

    def next_stay(self, property_id: str, now: datetime) -> Booking | None:
        """The next stay to begin at the property after ``now``."""
        return self.data.next_booking(property_id, now)

    def last_stay(self, property_id: str, now: datetime) -> Booking | None:
        """The stay that ended last at the property, at or before ``now``."""
        return self.data.last_booking(property_id, now)

    def sync_lock_links(self) -> Iterator[None]:
        """Hang the read-only lock devices under their property's device (both are this entry's).

        One lock per step (:func:`~..links.link_lock_devices` spreads them over turns of the loop).
        """
        entry_id = self.config_entry.entry_id
        views = self.lock_views
        for lock in list(self.data.smart_locks.values()):
            yield
            device = compat.device_by_identifier(self.hass, (DOMAIN, lock.device_key), entry_id)
            parent = compat.device_by_identifier(
                self.hass, self.property_identifier(lock.property_id), entry_id
            )
            if device is not None and (view := views.get(lock.device_key)) is not None:
                place_lock(self.hass, device, parent, view.name)


# --- booking access codes -------------------------------------------------------------------------------

# Statuses of a Kasify booking access code that mean it did not reach the lock.
KASIFY_FAILED: Final = frozenset({"failed", "error"})
# The only status that says a code is on the lock now (the statuses are not documented: nothing else counts).
KASIFY_ACTIVE: Final = "active"


class KasifyBookingCodes(CodeAdapter):
    """Kasify's booking access codes: Kasify writes the code to a lock whose provider is not set up here."""

    vendor = VENDOR_KASIFY
    can_look_up = False  # Kasify lists no codes: one whose create got no clear answer is never found

    def check_create(self, target: CodeTarget, *, name: str, booking_id: str | None) -> None:
        """A Kasify code belongs to a booking, of that lock's property (when the booking is known)."""
        if not booking_id:
            raise validation_error("access_code_booking_required", lock=target.name)
        coordinator: KasifyCoordinator = target.coordinator
        smart_lock = coordinator.data.smart_locks.get(target.lock_id)
        if smart_lock is None:
            return
        for bookings in coordinator.data.bookings.values():
            for booking in bookings:
                if booking.id == booking_id and booking.property_id != smart_lock.property_id:
                    raise validation_error(
                        "access_code_booking_other_property", lock=target.name, booking=booking_id
                    )

    @staticmethod
    def _status(status: str | None) -> str:
        status = (status or "").lower()
        if status in KASIFY_FAILED:
            return CODE_FAILED
        if status == KASIFY_ACTIVE:
            return CODE_ON_LOCK
        LOGGER.debug("Kasify access code status %r: not known to be on the lock, pending", status)
        return CODE_PENDING

    async def create(self, target: CodeTarget, new: NewCode) -> Outcome:
        """A booking access code on the smart lock."""
        client: KasifyClient = target.client
        assert new.booking_id is not None  # checked before anything was sent
        created = await client.create_access_codes(
            new.booking_id,
            smartlock_ids=[target.lock_id],
            starts_at=new.starts_at,
            ends_at=new.ends_at,
            code=new.code,
        )
        if not created:
            raise MalformedResponseError(f"POST /bookings/{new.booking_id}/access-codes answered no code")
        first = created[0]
        return Outcome(first.id, self._status(first.status))

    async def remove(self, target: CodeTarget, record: CodeRecord, *, keep_history: bool) -> None:
        """Revoke the booking's code.

        Kasify lists no codes, so a 404 cannot be checked: the code may be gone, or the path wrong while the
        PIN still opens the door. It is never taken as revoked.
        """
        client: KasifyClient = target.client
        assert record.booking_id is not None
        try:
            await client.revoke_access_code(record.booking_id, record.code_id)
        except NotFoundError as err:
            raise RevokeUnverifiedError(str(err)) from err

    async def update_window(
        self, target: CodeTarget, record: CodeRecord, starts_at: datetime, ends_at: datetime
    ) -> Outcome:
        # No update endpoint: the code is replaced by one with the same PIN.
        """Kasify cannot move a code: it is replaced by one with the same PIN."""
        await self.remove(target, record, keep_history=True)
        return await self.create(
            target, NewCode(record.name, record.code, starts_at, ends_at, record.booking_id)
        )


KASIFY_CODES: Final = KasifyBookingCodes()


# --- adding the account ----------------------------------------------------------------------------------

SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_URL, default=DEFAULT_KASIFY_URL): forms.URL,
        vol.Required(CONF_API_TOKEN): forms.SECRET,
    }
)


async def async_validate(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """``GET /account`` with the entered URL and token (never over ``http://`` beyond this machine)."""
    forms.check_secure_url(CONF_URL, data[CONF_URL])
    client = KasifyClient(async_get_clientsession(hass), data[CONF_URL], data[CONF_API_TOKEN])
    return await client.get_account()


async def async_setup(hass: HomeAssistant, entry: KasifyConfigEntry) -> KasifyRuntimeData:
    """Connect and load the account (raises ConfigEntryAuthFailed / ConfigEntryNotReady); stays, feeds."""
    session = async_get_clientsession(hass)
    # The client decodes and parses within the integration's turn budget on the loop.
    client = KasifyClient(session, entry.data[CONF_URL], entry.data[CONF_API_TOKEN], turns=loop_turns(hass))
    coordinator = KasifyCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    stays = StayScheduler(hass, entry, coordinator)
    # A broken feed never stops setup: its error shows on its diagnostic sensor.
    feeds = FeedCoordinator(hass, entry, coordinator, IcalFeedClient(session, turns=loop_turns(hass)))
    await feeds.async_refresh()
    stays.async_start()
    await StayTracker(hass, entry, coordinator).async_start()
    conflicts = StayConflicts(hass, entry, coordinator, feeds)
    conflicts.async_start()
    readiness = ReadinessTracker(hass, entry, coordinator, feeds)
    readiness.async_start()

    @callback
    def _follow_feed_list() -> None:
        # A property or Kasify calendar added or removed: update the feeds now, not at the next check.
        if feeds.feeds_changed:
            entry.async_create_task(hass, feeds.async_request_refresh(), "kasify feeds refresh")

    entry.async_on_unload(coordinator.async_add_listener(_follow_feed_list))
    return KasifyRuntimeData(
        client=client,
        coordinator=coordinator,
        stays=stays,
        feeds=feeds,
        conflicts=conflicts,
        readiness=readiness,
    )


async def async_started(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """Automatic per-booking codes go on the properties' locks, whose devices exist from here on."""
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, KasifyCoordinator)
    await async_start_auto_codes(hass, entry, coordinator)


async def async_removed(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """The entry is deleted: its automatic codes' and stay facts' stores go with it."""
    await async_remove_store(hass, entry.entry_id)
    await async_remove_stay_store(hass, entry.entry_id)
