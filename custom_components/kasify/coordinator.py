"""Coordinator for a Kasify account."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api.errors import AuthError, KasifyApiError, RateLimitedError
from .api.kasify import KasifyClient, gather_bounded
from .api.models import Booking, Property, SmartLock, Task
from .const import (
    BOOKINGS_LOOKBACK,
    CONF_CALENDAR_DAYS,
    CONF_SCAN_INTERVAL,
    DEFAULT_CALENDAR_DAYS,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_CONCURRENT_REQUESTS,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from .stays import StayScheduler


@dataclass(frozen=True, slots=True)
class KasifyData:
    """Everything one refresh learned about the account, keyed for cheap lookups by entities."""

    properties: Mapping[str, Property]
    # Bookings overlapping [window_start, window_end), per property, sorted by check-in (cancelled included).
    bookings: Mapping[str, tuple[Booking, ...]]
    smart_locks: Mapping[str, SmartLock]
    # Open (pending or in progress) tasks per property.
    tasks: Mapping[str, tuple[Task, ...]]
    window_start: datetime
    window_end: datetime

    def active_bookings(self, property_id: str) -> list[Booking]:
        """The property's bookings that are not cancelled, by check-in."""
        return [b for b in self.bookings.get(property_id, ()) if b.active]

    def current_booking(self, property_id: str, now: datetime) -> Booking | None:
        """The booking whose guest is in the house at ``now``."""
        return next((b for b in self.active_bookings(property_id) if b.covers(now)), None)

    def next_booking(self, property_id: str, now: datetime) -> Booking | None:
        """The first booking that checks in after ``now``."""
        return next((b for b in self.active_bookings(property_id) if b.check_in > now), None)


@dataclass(slots=True)
class KasifyRuntimeData:
    """What a loaded Kasify entry keeps in ``entry.runtime_data``."""

    client: KasifyClient
    coordinator: KasifyCoordinator
    stays: StayScheduler = field(repr=False)


type KasifyConfigEntry = ConfigEntry[KasifyRuntimeData]


def property_identifier(property_id: str) -> tuple[str, str]:
    """Device registry identifier of a property."""
    return (DOMAIN, f"property_{property_id}")


def lock_identifier(lock: SmartLock) -> tuple[str, str]:
    """Device identifier of a lock: vendor + provider lock id, shared with the provider's own entry."""
    return (DOMAIN, lock.device_key)


def _most_relevant(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """An auth failure wins (it needs the user), then any API error, then whatever else happened."""
    leaves: list[BaseException] = []

    def flatten(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                flatten(inner)
        else:
            leaves.append(error)

    flatten(group)
    for kind in (AuthError, KasifyApiError):
        for leaf in leaves:
            if isinstance(leaf, kind):
                return leaf
    return leaves[0]


class KasifyCoordinator(DataUpdateCoordinator[KasifyData]):
    """Polls one Kasify account.

    Requests per refresh, with P properties, B bookings in the window, T open tasks and L properties that
    have smart locks::

        ceil(P / 100)   GET /properties            (all pages)
      + ceil(B / 100)   GET /bookings?from&to      (all properties in one cross-property listing)
      + ceil(T / 100)   GET /tasks?status=open
      + L               GET /properties/{id}/smartlocks, at most 4 at a time

    Properties without smart locks cost nothing beyond their share of the first listing. The three
    listings run concurrently; the lock calls start as soon as the properties are known.
    """

    config_entry: KasifyConfigEntry

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: KasifyClient) -> None:
        """Set up polling at the interval chosen in the options."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=timedelta(seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)),
            always_update=False,
        )
        self.client = client
        # Kasify's Retry-After: no request is sent before this instant.
        self._rate_limited_until: datetime | None = None
        self.calendar_days: int = entry.options.get(CONF_CALENDAR_DAYS, DEFAULT_CALENDAR_DAYS)

    async def _async_update_data(self) -> KasifyData:
        now = dt_util.utcnow()
        if self._rate_limited_until is not None and now < self._rate_limited_until:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={
                    "seconds": f"{(self._rate_limited_until - now).total_seconds():.0f}"
                },
            )
        self._rate_limited_until = None
        # The window moves once a day, so an unchanged account compares equal between refreshes and
        # listeners are only called when something really changed (always_update=False).
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        window_start = today - BOOKINGS_LOOKBACK
        window_end = today + timedelta(days=self.calendar_days + 1)
        try:
            return await self._fetch(window_start, window_end)
        except AuthError as err:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed") from err
        except RateLimitedError as err:
            if err.retry_after:
                self._rate_limited_until = now + timedelta(seconds=err.retry_after)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"seconds": f"{err.retry_after or 0:.0f}"},
            ) from err
        except KasifyApiError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err

    async def _fetch(self, window_start: datetime, window_end: datetime) -> KasifyData:
        client = self.client
        try:
            async with asyncio.TaskGroup() as group:
                bookings_task = group.create_task(client.list_bookings(window_start, window_end))
                tasks_task = group.create_task(client.list_tasks("open"))
                properties = await client.list_properties()
                lock_calls: list[Callable[[], Awaitable[list[SmartLock]]]] = [
                    partial(client.list_smart_locks, prop.id) for prop in properties if prop.smart_locks
                ]
                locks_task = group.create_task(gather_bounded(MAX_CONCURRENT_REQUESTS, lock_calls))
        except ExceptionGroup as group_error:
            # The group cancelled the sibling requests; report the most telling failure.
            raise _most_relevant(group_error) from None
        bookings, tasks, lock_lists = bookings_task.result(), tasks_task.result(), locks_task.result()

        property_map = {prop.id: prop for prop in properties}
        bookings_by_property: defaultdict[str, list[Booking]] = defaultdict(list)
        for booking in bookings:
            if booking.property_id in property_map:
                bookings_by_property[booking.property_id].append(booking)
        tasks_by_property: defaultdict[str, list[Task]] = defaultdict(list)
        for task in tasks:
            if task.property_id in property_map and task.open:
                tasks_by_property[task.property_id].append(task)
        return KasifyData(
            properties=property_map,
            bookings={
                pid: tuple(sorted(items, key=lambda b: (b.check_in, b.id)))
                for pid, items in bookings_by_property.items()
            },
            smart_locks={lock.id: lock for locks in lock_lists for lock in locks},
            tasks={pid: tuple(items) for pid, items in tasks_by_property.items()},
            window_start=window_start,
            window_end=window_end,
        )

    def _async_refresh_finished(self) -> None:
        """Drop devices whose property or lock is gone upstream (data is complete after a success)."""
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            self._remove_stale_devices(self.data)

    def _remove_stale_devices(self, data: KasifyData) -> None:
        registry = dr.async_get(self.hass)
        current = {property_identifier(pid) for pid in data.properties}
        current |= {lock_identifier(lock) for lock in data.smart_locks.values()}
        entry_id = self.config_entry.entry_id
        for device in dr.async_entries_for_config_entry(registry, entry_id):
            ours = {ident for ident in device.identifiers if ident[0] == DOMAIN}
            if ours and not ours & current:
                LOGGER.debug("Removing device %s: gone from Kasify", device.name)
                registry.async_update_device(device.id, remove_config_entry_id=entry_id)
