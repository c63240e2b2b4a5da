"""Check-in / check-out at the exact instant, and booking changes, for automations.

Polling would notice a check-in up to one scan interval late, so every upcoming check-in and check-out inside
:data:`SCHEDULE_HORIZON` gets its own timer. Each refresh reconciles the timers with the bookings: a moved
booking is rescheduled, a cancelled one unscheduled. Only future instants are ever scheduled, so nothing fires
again for instants that passed while Home Assistant was down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from . import compat
from .api.models import Feature
from .const import (
    EVENT_CHECK_IN,
    EVENT_CHECK_OUT,
    LOGGER,
    STAY_BOOKING_CANCELLED,
    STAY_BOOKING_CREATED,
    STAY_CHECK_IN,
    STAY_CHECK_OUT,
    STAY_GUEST_REGISTERED,
)
from .coordinator import property_identifier

if TYPE_CHECKING:
    from .api.models import AccountSnapshot, Booking
    from .coordinator import KasifyConfigEntry
    from .providers.kasify import KasifyCoordinator

# Instants further ahead are scheduled by a later refresh; this keeps the number of timers small.
SCHEDULE_HORIZON: Final = timedelta(days=2)


def signal_stay(entry_id: str, property_id: str) -> str:
    """Dispatcher signal for stay events of one property; payload ``(event_type, booking)``."""
    return f"kasify_stay_{entry_id}_{property_id}"


@dataclass(slots=True)
class _Timer:
    instant: datetime
    cancel: CALLBACK_TYPE


class StayScheduler:
    """Schedules check-in/out events and reports booking changes for one Kasify entry."""

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, coordinator: KasifyCoordinator) -> None:
        """Bind to the entry's coordinator; call :meth:`async_start` to begin."""
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self._timers: dict[tuple[str, str], _Timer] = {}
        self._previous: AccountSnapshot | None = None

    @callback
    def async_start(self) -> None:
        """Reconcile now and after every refresh; stop everything when the entry unloads."""
        self._entry.async_on_unload(self._coordinator.async_add_listener(self._async_reconcile))
        self._entry.async_on_unload(self._async_stop)
        self._async_reconcile()

    @property
    def scheduled(self) -> dict[tuple[str, str], datetime]:
        """``(booking_id, kind) → instant`` of every pending timer (for diagnostics and tests)."""
        return {key: timer.instant for key, timer in self._timers.items()}

    @callback
    def _async_stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    @callback
    def _async_reconcile(self) -> None:
        data = self._coordinator.data
        if data is None or data is self._previous:
            return
        if Feature.BOOKINGS in data.degraded:
            # Kasify did not list the bookings: unknown, not gone. No timers, and nothing is reported as
            # created or cancelled until they are known again (compared then with the last ones known).
            self._async_stop()
            return
        now = dt_util.utcnow()
        horizon = now + SCHEDULE_HORIZON
        wanted: dict[tuple[str, str], tuple[datetime, Booking]] = {}
        for property_id, bookings in data.bookings.items():
            if property_id not in data.properties:
                continue
            for booking in bookings:  # by check-in: none after the horizon counts
                if booking.check_in > horizon:
                    break
                if not booking.active or booking.check_out <= now:
                    continue
                if now < booking.check_in:
                    wanted[(booking.id, STAY_CHECK_IN)] = (booking.check_in, booking)
                if booking.check_out <= horizon:
                    wanted[(booking.id, STAY_CHECK_OUT)] = (booking.check_out, booking)

        for key in [key for key in self._timers if key not in wanted]:
            self._timers.pop(key).cancel()
        for key, (instant, booking) in wanted.items():
            timer = self._timers.get(key)
            if timer is not None and timer.instant == instant:
                continue
            if timer is not None:
                timer.cancel()
            self._timers[key] = _Timer(
                instant,
                async_track_point_in_utc_time(self._hass, self._make_fire(key, booking.property_id), instant),
            )

        if self._previous is not None:
            self._report_changes(self._previous, data, now)
        self._previous = data

    def _make_fire(self, key: tuple[str, str], property_id: str) -> Any:
        @callback
        def _fire(_now: datetime) -> None:
            self._timers.pop(key, None)
            booking_id, kind = key
            data = self._coordinator.data
            booking = next((b for b in data.bookings.get(property_id, ()) if b.id == booking_id), None)
            if booking is None or not booking.active:  # pragma: no cover - reconcile unschedules these
                return
            from .stay_state import checked_out_early  # stay_state builds on this module

            if kind == STAY_CHECK_OUT and checked_out_early(self._hass, booking_id) is not None:
                return  # the host checked the guest out already (kasify_check_out fired then)
            self._fire_stay(kind, booking)

        return _fire

    @callback
    def _fire_stay(self, kind: str, booking: Booking) -> None:
        """Fire the bus event (check-in/out only) and tell the property's entities."""
        prop = self._coordinator.data.properties.get(booking.property_id)
        if kind in (STAY_CHECK_IN, STAY_CHECK_OUT):
            device = compat.device_by_identifier(
                self._hass, property_identifier(booking.property_id), self._entry.entry_id
            )
            event_data: dict[str, Any] = {
                "property_id": booking.property_id,
                "property_name": prop.name if prop else None,
                "device_id": device.id if device else None,
                "booking_id": booking.id,
                "guest_name": booking.guest_name,
                "check_in": booking.check_in.isoformat(),
                "check_out": booking.check_out.isoformat(),
            }
            event_type = EVENT_CHECK_IN if kind == STAY_CHECK_IN else EVENT_CHECK_OUT
            LOGGER.debug("%s for booking %s", event_type, booking.id)
            self._hass.bus.async_fire(event_type, event_data)
        async_dispatcher_send(
            self._hass, signal_stay(self._entry.entry_id, booking.property_id), kind, booking
        )

    @callback
    def _report_changes(self, old: AccountSnapshot, new: AccountSnapshot, now: datetime) -> None:
        """Tell the stay entities about bookings created, cancelled or with newly registered guests.

        Only properties whose bookings changed are looked at (a refresh keeps the objects of the others).
        """
        changed = {
            property_id
            for property_id in old.bookings.keys() | new.bookings.keys()
            if old.bookings.get(property_id) is not new.bookings.get(property_id)
        }
        old_bookings = {b.id: b for pid in changed for b in old.bookings.get(pid, ())}
        new_bookings = {b.id: b for pid in changed for b in new.bookings.get(pid, ())}
        for booking_id, booking in new_bookings.items():
            before = old_bookings.get(booking_id)
            if before is None:
                if booking.active and booking.check_out > now:
                    self._fire_stay(STAY_BOOKING_CREATED, booking)
            elif before.active and not booking.active:
                self._fire_stay(STAY_BOOKING_CANCELLED, booking)
            elif booking.registered_guests > before.registered_guests:
                self._fire_stay(STAY_GUEST_REGISTERED, booking)
        for booking_id, booking in old_bookings.items():
            # Gone from a window that still covers it: deleted upstream.
            if (
                booking_id not in new_bookings
                and booking.active
                and booking.check_out > now
                and booking.check_in < new.window_end
                and booking.property_id in new.properties
            ):
                self._fire_stay(STAY_BOOKING_CANCELLED, booking)
