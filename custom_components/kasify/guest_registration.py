"""Guest registration: how many guests of a booking arriving soon are registered in Kasify's check-in.

Kasify's reference only names the endpoint (``GET /bookings/{id}/checkin``, "the guest check-in snapshot");
its shape is inferred (``docs/kasify-api.md``). The snapshot is read only for active bookings checking in
within :data:`CHECKIN_HORIZON`, once when such a booking is first seen, again when Kasify's listing shows the
booking changed (a guest registered, new dates, another guest count) and otherwise at most every
:data:`CHECKIN_MAX_AGE`, at most :data:`CHECKIN_CONCURRENCY` at a time: a refresh costs no request for the
others. An answer whose shape is not understood
(or a 404 / 400: the inferred path is wrong) is never read as registered: the booking's registration is
*not understood*, the log names what was not understood, and one repair issue per entry
(``checkin_not_understood``) says so until every snapshot is understood again. Another failure (network,
5xx, 429) keeps what was read before; with nothing read before, the count is unknown.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .api.errors import ApiError, MalformedResponseError
from .api.inferred import not_understood
from .api.models import Booking
from .const import DOMAIN, LOGGER

if TYPE_CHECKING:
    from .coordinator import KasifyConfigEntry
    from .providers.kasify import KasifyCoordinator

# Check-in snapshots are read for bookings checking in this soon.
CHECKIN_HORIZON: Final = timedelta(hours=48)
# A snapshot is read again after this long (sooner when the booking changed in Kasify's listing).
CHECKIN_MAX_AGE: Final = timedelta(minutes=15)
# Check-in snapshots read at once (their own small bound, beside the refresh's listings).
CHECKIN_CONCURRENCY: Final = 4


def checkin_issue_id(entry_id: str) -> str:
    """The repair issue of an entry with a check-in snapshot it did not understand."""
    return f"checkin_not_understood_{entry_id}"


@dataclass(frozen=True, slots=True)
class Registration:
    """What is known of one booking's guest registration."""

    booking_id: str
    registered: int | None  # None: not known (never read, or not understood)
    expected: int | None  # the check-in's count, else the booking's; None: neither says
    understood: bool = True
    status: str | None = None

    @property
    def complete(self) -> bool | None:
        """Every expected guest registered (None: it cannot be told)."""
        if not self.understood or self.registered is None or self.expected is None:
            return None
        return self.registered >= self.expected


@dataclass(slots=True)
class _Read:
    booking: Booking
    at: datetime
    registration: Registration


class GuestRegistrations:
    """The check-in snapshots of one Kasify entry's bookings arriving soon."""

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, coordinator: KasifyCoordinator) -> None:
        """Read through ``coordinator``'s client; call :meth:`async_update` after each refresh."""
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self._reads: dict[str, _Read] = {}
        self._issue = False

    def get(self, booking_id: str) -> Registration | None:
        """The booking's registration, if the booking arrives soon and its snapshot was asked for."""
        read = self._reads.get(booking_id)
        return read.registration if read is not None else None

    @staticmethod
    def arriving(bookings: list[Booking], now: datetime) -> list[Booking]:
        """The bookings whose check-in snapshot is read: active, checking in within the horizon."""
        return [b for b in bookings if b.active and now < b.check_in <= now + CHECKIN_HORIZON]

    async def async_update(self, now: datetime) -> None:
        """Read the snapshots that are due; forget bookings no longer arriving soon."""
        data = self._coordinator.data
        arriving = {b.id: b for pid in data.properties for b in self.arriving(data.active_bookings(pid), now)}
        for booking_id in self._reads.keys() - arriving.keys():
            del self._reads[booking_id]
        due = [
            (booking, read)
            for booking_id, booking in arriving.items()
            if (read := self._reads.get(booking_id)) is None
            or read.booking != booking
            or now - read.at >= CHECKIN_MAX_AGE
        ]
        gate = asyncio.Semaphore(CHECKIN_CONCURRENCY)

        async def _one(booking: Booking, read: _Read | None) -> _Read:
            async with gate:
                return await self._async_read(booking, read, now)

        for new in await asyncio.gather(*(_one(booking, read) for booking, read in due)):
            self._reads[new.booking.id] = new
        self._report()

    async def _async_read(self, booking: Booking, before: _Read | None, now: datetime) -> _Read:
        try:
            snapshot = await self._coordinator.client.get_checkin(booking.id)
        except MalformedResponseError as err:
            return self._not_understood(booking, str(err), now)
        except ApiError as err:
            if not_understood(err):
                return self._not_understood(
                    booking, f"GET /bookings/{{id}}/checkin answered {err.status}", now
                )
            LOGGER.debug("Check-in snapshot of booking %s not read: %s", booking.id, err)
            if before is not None and before.registration.understood:
                return _Read(booking, now, before.registration)
            return _Read(booking, now, Registration(booking.id, None, booking.guests_count))
        expected = snapshot.expected if snapshot.expected is not None else booking.guests_count
        return _Read(
            booking, now, Registration(booking.id, snapshot.registered, expected, True, snapshot.status)
        )

    def _not_understood(self, booking: Booking, what: str, now: datetime) -> _Read:
        before = self._reads.get(booking.id)
        if before is None or before.registration.understood:
            LOGGER.warning(
                "Kasify's check-in snapshot of booking %s was not understood (%s): its guests are not counted"
                " as registered",
                booking.id,
                what,
            )
        return _Read(booking, now, Registration(booking.id, None, booking.guests_count, understood=False))

    def _report(self) -> None:
        """One repair issue while any snapshot is not understood."""
        issue_id = checkin_issue_id(self._entry.entry_id)
        broken = [read for read in self._reads.values() if not read.registration.understood]
        if not broken:
            if self._issue:
                LOGGER.info("Kasify's check-in snapshots are understood again")
                ir.async_delete_issue(self._hass, DOMAIN, issue_id)
            self._issue = False
            return
        self._issue = True
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="checkin_not_understood",
            translation_placeholders={"account": self._entry.title, "bookings": str(len(broken))},
        )

    def clear(self) -> None:
        """The entry unloads: its issue goes."""
        ir.async_delete_issue(self._hass, DOMAIN, checkin_issue_id(self._entry.entry_id))
        self._reads.clear()
        self._issue = False
