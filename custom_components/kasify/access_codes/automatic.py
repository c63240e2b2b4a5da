"""Automatic access codes: one code per confirmed Kasify booking on every lock of its property.

Created ahead of the stay, moved with the booking (same PIN), removed on cancellation and after check-out;
a glitching booking feed never revokes a code, and a restart never creates one twice. Everything goes through
the access-code engine; this module never talks to a lock vendor. The rules are in ``docs/architecture.md``
(*Automatic codes per booking*).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .. import compat, links
from ..api.errors import ApiError, NotFoundError
from ..api.models import Booking, BookingStatus, Feature
from ..const import DOMAIN, LOGGER
from ..coordinator import property_identifier
from ..stay_state import early_codes_end
from .auto_records import (
    STATE_ACTIVE,
    STATE_CREATING,
    STATE_REVOKING,
    STATE_UPDATING,
    AutoCodeSettings,
    HeldCodes,
    code_name,
    left_behind_key,
    phone_digits,
)
from .manager import PIN_REFUSED_KEYS, AccessCodeManager, async_get_code_manager
from .records import CODE_ON_LOCK, EVENT_CODE_FAILED, EVENT_CODE_PROVISIONED, IssuedCode
from .revoke import PendingRevokes, RevokeIncompleteError

if TYPE_CHECKING:
    from ..coordinator import KasifyConfigEntry
    from ..providers.kasify import KasifyCoordinator

STORAGE_VERSION: Final = 1
# A booking arriving this soon without its code on every lock raises a repair issue.
ISSUE_HORIZON: Final = timedelta(hours=24)
# After a failed change upstream, the booking is tried again this much later (or at the next refresh).
RETRY_INTERVAL: Final = timedelta(minutes=5)
# While an issue is raised or a code is still on its way to a lock, its status is looked at this often.
RECHECK_INTERVAL: Final = timedelta(minutes=5)


def issue_id(entry_id: str, booking_id: str) -> str:
    """The repair issue of a booking arriving soon whose code is not on every lock."""
    return f"code_not_on_locks_{entry_id}_{booking_id}"


def storage_key(entry_id: str) -> str:
    """Where an entry's automatic codes are kept."""
    return f"{DOMAIN}.auto_codes.{entry_id}"


async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
    """Forget an entry's automatic codes (the entry is deleted; the codes expire on their own)."""
    await Store[dict[str, Any]](hass, STORAGE_VERSION, storage_key(entry_id)).async_remove()


@dataclass(slots=True)
class _Run:
    """What one reconciliation works with."""

    now: datetime
    refresh_ok: bool
    bookings: dict[str, Booking]
    # Bookings found by a direct look-up because the list lacked them.
    looked_up: dict[str, Booking] = field(default_factory=dict)


class AutoCodeScheduler:
    """Keeps the automatic codes of one Kasify entry in step with its bookings."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KasifyConfigEntry,
        coordinator: KasifyCoordinator,
        manager: AccessCodeManager,
        settings: AutoCodeSettings | None = None,
    ) -> None:
        """Follow ``coordinator``'s bookings, creating and revoking through ``manager``."""
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self._manager = manager
        self.settings = settings or AutoCodeSettings.from_options(entry.options)
        self._store = Store[dict[str, Any]](hass, STORAGE_VERSION, storage_key(entry.entry_id))
        self._held: dict[str, HeldCodes] = {}
        self._retry_at: dict[str, datetime] = {}
        self._issues: set[str] = set()
        self._pending_revokes = PendingRevokes(hass, entry.entry_id)
        # Bookings with codes that the last successful refresh did not list: looked up again each interval.
        self._missing: set[str] = set()
        self._lock = asyncio.Lock()
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self._timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None
        self._stopped = False

    # -- lifecycle -----------------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Load what was created before, then reconcile now, after every refresh and at each instant."""
        stored = await self._store.async_load() or {}
        for booking_id, record in stored.get("bookings", {}).items():
            try:
                self._held[booking_id] = HeldCodes.from_dict(record)
            except (KeyError, TypeError, ValueError, AttributeError):
                LOGGER.warning("Ignoring a damaged automatic-code record for booking %s", booking_id)
        # The engine's codes (and their status) are needed before anything is decided.
        await self._manager.async_load()
        self._entry.async_on_unload(self._coordinator.async_add_listener(self.async_request_reconcile))
        for event_type in (EVENT_CODE_PROVISIONED, EVENT_CODE_FAILED):
            self._entry.async_on_unload(self._hass.bus.async_listen(event_type, self._on_code_settled))
        self._entry.async_on_unload(self._async_stop)
        self.async_request_reconcile()

    @callback
    def _on_code_settled(self, event: Event[dict[str, Any]]) -> None:
        """A code reached its lock (or failed to): its booking's repair issue may change."""
        if event.data.get("booking_id") in self._held:
            self.async_request_reconcile()

    @callback
    def _async_stop(self) -> None:
        self._stopped = True
        self._cancel_timer()
        if self._task is not None and not self._task.done():
            # A run under way stops here: the engine undoes a half-made change, the next start finishes it.
            self._task.cancel()
        # Raised again by the next run once the entry is back; a deleted entry leaves none behind.
        for booking_id in self._issues:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id(self._entry.entry_id, booking_id))
        self._issues.clear()
        self._pending_revokes.clear()

    @property
    def held(self) -> dict[str, HeldCodes]:
        """Booking id → its automatic codes (for diagnostics and tests; PINs are not kept here)."""
        return self._held

    @property
    def next_run(self) -> datetime | None:
        """When the timer runs the next reconciliation."""
        return self._timer_at

    @callback
    def async_retry_now(self) -> None:
        """Reconcile now, changes waiting for their retry included."""
        self._retry_at.clear()
        self.async_request_reconcile()

    @callback
    def async_request_reconcile(self) -> None:
        """Reconcile soon (coalesced: a request during a run makes one more run)."""
        if self._stopped:
            return
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = self._entry.async_create_task(
                self._hass, self._async_run(), f"{DOMAIN} {self._entry.title} automatic codes"
            )

    async def _async_run(self) -> None:
        async with self._lock:
            while self._dirty and not self._stopped:
                self._dirty = False
                # The property's locks are the lock devices linked to it: links being made (right after
                # set-up, in turns of the loop) are waited for.
                await links.lock_links_done(self._hass)
                await self._async_reconcile_once()
            if not self._stopped:
                self._schedule_timer()

    # -- timers --------------------------------------------------------------------------------------

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer()
        self._timer = None
        self._timer_at = None

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._timer = None
        self._timer_at = None
        self.async_request_reconcile()

    def _schedule_timer(self) -> None:
        instant = self._next_instant(dt_util.utcnow())
        if instant == self._timer_at:
            return
        self._cancel_timer()
        if instant is not None:
            self._timer_at = instant
            self._timer = async_track_point_in_utc_time(self._hass, self._on_timer, instant)

    def _next_instant(self, now: datetime) -> datetime | None:
        """The earliest future instant at which a run would do something."""
        candidates: list[datetime] = [at for at in self._retry_at.values() if at > now]
        interval = self._coordinator.update_interval or RECHECK_INTERVAL
        for held in self._held.values():
            candidates.append(held.ends_at)
            if held.gone_checked_at is not None:
                candidates.append(held.gone_checked_at + interval)
        if self._missing:
            candidates.append(now + interval)
        if self._issues or self._codes_on_their_way(now):
            candidates.append(now + RECHECK_INTERVAL)
        data = self._coordinator.data
        if self.settings.enabled and data is not None:
            for property_id, items in data.bookings.items():
                if not self._property_locks(property_id):
                    continue
                for booking in items:
                    if booking.status is not BookingStatus.CONFIRMED:
                        continue
                    if booking.id not in self._held:
                        candidates.append(self.settings.creation_time(booking))
                    candidates.append(booking.check_in - ISSUE_HORIZON)
        future = [at for at in candidates if at > now]
        return min(future) if future else None

    def _codes_on_their_way(self, now: datetime) -> bool:
        """Whether a code of a booking arriving within the issue horizon is not on its lock yet."""
        return any(
            held.starts_at + self.settings.start_offset - ISSUE_HORIZON <= now < held.ends_at
            and any(code.status != CODE_ON_LOCK for code in self._issued(booking_id, held))
            for booking_id, held in self._held.items()
        )

    # -- reconciliation ------------------------------------------------------------------------------

    async def _async_reconcile_once(self) -> None:
        data = self._coordinator.data
        # Bookings Kasify did not list (an inferred path it did not understand) are unknown, as in an outage:
        # nothing is revoked, and nothing is created, not even from the bookings known before.
        unknown = data is not None and Feature.BOOKINGS in data.degraded
        run = _Run(
            now=dt_util.utcnow(),
            refresh_ok=self._coordinator.last_update_success and not unknown,
            bookings={b.id: b for items in data.bookings.values() for b in items} if data else {},
        )
        if run.refresh_ok:
            own = {key for key, held in self._held.items() if held.booking_id is None}
            self._missing = own - run.bookings.keys()
        for booking_id in list(self._held):
            await self._async_follow(booking_id, run)
        if self.settings.enabled:
            for booking in run.bookings.values():
                if booking.id not in self._held and self._wants_code(booking, run.now):
                    await self._async_create(booking, run.now)
        if not unknown:  # the issues raised stay as they are while the bookings are unknown
            self._update_issues(run)

    def _wants_code(self, booking: Booking, now: datetime) -> bool:
        if booking.status is not BookingStatus.CONFIRMED or self._retry_at.get(booking.id, now) > now:
            return False
        return self.settings.creation_time(booking) <= now < self._window(booking)[1]

    def _window(self, booking: Booking) -> tuple[datetime, datetime]:
        """The code's window: the booking's, ending when an early check-out cut it short."""
        starts_at, ends_at = self.settings.window(booking)
        if (cut := early_codes_end(self._hass, booking.id)) is not None and cut < ends_at:
            return min(starts_at, cut), cut
        return starts_at, ends_at

    async def _async_follow(self, booking_id: str, run: _Run) -> None:
        """Bring one booking's codes in step: finish an interrupted change, move, add locks or revoke."""
        held = self._held[booking_id]
        if self._retry_at.get(booking_id, run.now) > run.now:
            return
        if held.state == STATE_REVOKING:
            await self._async_revoke(booking_id, held, run.now)
            return
        if held.state in (STATE_CREATING, STATE_UPDATING) and not await self._async_recover(booking_id, held):
            return
        if self._sync_ids(booking_id, held):
            await self._async_save()
        booking = run.bookings.get(booking_id)
        if booking is None:
            if not run.refresh_ok:
                return
            booking = await self._async_look_up(booking_id, held, run)
            if booking is None:
                return
        elif held.gone_checks:
            held.gone_checks, held.gone_checked_at = 0, None
            await self._async_save()
        if booking.property_id != held.property_id and run.refresh_ok:
            # Moved to another property: off the old locks now, onto the new ones in this same run (not only
            # once every old lock could be reached: those are tried again apart).
            await self._async_leave(booking_id, held, run.now)
            return
        starts_at, ends_at = self._window(booking)
        if not booking.active or ends_at <= run.now:
            # Cancelled, or the stay (and the code's window) is over; never on the word of a failed refresh.
            if run.refresh_ok:
                await self._async_revoke(booking_id, held, run.now)
            return
        moved = (starts_at, ends_at) != (held.starts_at, held.ends_at)
        if moved and not await self._async_move(booking_id, held, starts_at, ends_at, run.now):
            return
        await self._async_add_locks(booking, held, run.now)

    async def _async_look_up(self, booking_id: str, held: HeldCodes, run: _Run) -> Booking | None:
        """A booking with codes is missing from a successful refresh: ask Kasify about it directly.

        Returns the booking when Kasify still has it (not cancelled). Revokes only when it is gone or
        cancelled at two checks one polling interval apart; anything else keeps the codes.
        """
        interval = self._coordinator.update_interval or RECHECK_INTERVAL
        if held.gone_checked_at is not None and run.now < held.gone_checked_at + interval:
            return None
        try:
            booking: Booking | None = self._coordinator.localize(
                await self._coordinator.client.get_booking(booking_id)
            )
        except NotFoundError:
            booking = None
        except ApiError as err:
            LOGGER.debug("Could not look up booking %s, its codes stay: %s", booking_id, err)
            return None
        if booking is not None and booking.active:
            run.looked_up[booking_id] = booking
            if held.gone_checks:
                held.gone_checks, held.gone_checked_at = 0, None
                await self._async_save()
            return booking
        held.gone_checks += 1
        held.gone_checked_at = run.now
        if held.gone_checks >= 2:
            LOGGER.info("Booking %s is gone from Kasify: revoking its automatic codes", booking_id)
            await self._async_revoke(booking_id, held, run.now)
        else:
            await self._async_save()
        return None

    async def _async_recover(self, booking_id: str, held: HeldCodes) -> bool:
        """Finish a change a restart interrupted; False when the booking's record was dropped."""
        left = {
            (entity_id, code_id)
            for other in self._held.values()
            if other.booking_id == booking_id
            for entity_id, code_id in other.codes.items()
        }
        known = {
            code.entity_id: code
            for code in self._manager.codes_for_booking(booking_id)
            if (code.entity_id, code.code_id) not in left
            and (held.state == STATE_CREATING or code.entity_id in held.codes)
        }
        if known:
            # The engine completed it: follow what it has.
            held.codes = {entity_id: code.code_id for entity_id, code in known.items()}
            first = next(iter(known.values()))
            held.starts_at, held.ends_at = first.starts_at, first.ends_at
        elif held.state == STATE_CREATING and not held.codes:
            # Nothing was created (the engine rolls back a failed creation): create it again.
            del self._held[booking_id]
            await self._async_save()
            return False
        held.state = STATE_ACTIVE
        await self._async_save()
        return True

    async def _async_create(self, booking: Booking, now: datetime) -> None:
        locks = self._property_locks(booking.property_id)
        if not locks:
            return
        starts_at, ends_at = self._window(booking)
        held = HeldCodes(booking.property_id, {}, starts_at, ends_at, STATE_CREATING)
        self._held[booking.id] = held
        await self._async_save()
        try:
            issued = await self._manager.async_create(
                locks,
                name=code_name(booking),
                code=None,
                starts_at=starts_at,
                ends_at=ends_at,
                booking_id=booking.id,
                avoid=phone_digits(booking),
            )
        except HomeAssistantError as err:
            LOGGER.warning("Could not create the access code of booking %s: %s", booking.id, err)
            del self._held[booking.id]
            self._retry_at[booking.id] = now + RETRY_INTERVAL
            await self._async_save()
            return
        self._retry_at.pop(booking.id, None)
        held.codes = {entity_id: code.code_id for entity_id, code in issued.items()}
        held.state = STATE_ACTIVE
        await self._async_save()
        LOGGER.debug("Created the access code of booking %s on %d locks", booking.id, len(issued))

    async def _async_move(
        self, booking_id: str, held: HeldCodes, starts_at: datetime, ends_at: datetime, now: datetime
    ) -> bool:
        """The booking moved: move the code's window on every lock (same PIN)."""
        there = self._issued(booking_id, held)
        if len(there) == len(held.codes) and all(
            (c.starts_at, c.ends_at) == (starts_at, ends_at) for c in there
        ):
            # The engine moved them already (an early check-out cut them short): nothing to send.
            held.starts_at, held.ends_at = starts_at, ends_at
            await self._async_save()
            return True
        held.state = STATE_UPDATING
        await self._async_save()
        try:
            issued = await self._manager.async_update_window(held.codes, starts_at=starts_at, ends_at=ends_at)
        except HomeAssistantError as err:
            LOGGER.warning("Could not move the access code of booking %s: %s", booking_id, err)
            held.state = STATE_ACTIVE
            self._retry_at[booking_id] = now + RETRY_INTERVAL
            await self._async_save()
            return False
        self._retry_at.pop(booking_id, None)
        held.codes = {**held.codes, **{entity_id: code.code_id for entity_id, code in issued.items()}}
        held.starts_at, held.ends_at = starts_at, ends_at
        held.state = STATE_ACTIVE
        await self._async_save()
        LOGGER.debug("Moved the access code of booking %s", booking_id)
        return True

    async def _async_add_locks(self, booking: Booking, held: HeldCodes, now: datetime) -> None:
        """A lock joined the property: give it the booking's PIN too."""
        missing = [
            entity_id
            for entity_id in self._property_locks(booking.property_id)
            if entity_id not in held.codes
        ]
        if not missing:
            return
        pin = next((code.code for code in self._issued(booking.id, held)), None)
        if pin is None:
            return
        try:
            issued = await self._manager.async_create(
                missing,
                name=code_name(booking),
                code=pin,
                starts_at=held.starts_at,
                ends_at=held.ends_at,
                booking_id=booking.id,
                avoid=phone_digits(booking),
            )
        except ServiceValidationError as err:
            if err.translation_key not in PIN_REFUSED_KEYS:
                self._add_failed(booking.id, err, now)
                return
            # The PIN was made without the new lock's format (a keypad taking only 1-9): the booking gets a
            # new one that suits all its locks, the old one revoked first (one PIN per booking).
            LOGGER.info(
                "A new lock refuses the PIN of booking %s: it gets a new one on every lock", booking.id
            )
            await self._async_revoke(booking.id, held, now)
            if booking.id not in self._held:
                await self._async_create(booking, now)
            return
        except HomeAssistantError as err:
            self._add_failed(booking.id, err, now)
            return
        held.codes.update({entity_id: code.code_id for entity_id, code in issued.items()})
        await self._async_save()

    def _add_failed(self, booking_id: str, err: HomeAssistantError, now: datetime) -> None:
        LOGGER.warning("Could not add the access code of booking %s to a new lock: %s", booking_id, err)
        self._retry_at[booking_id] = now + RETRY_INTERVAL

    async def _async_leave(self, booking_id: str, held: HeldCodes, now: datetime) -> None:
        """The booking moved to another property: its codes on the old one are left behind, to revoke."""
        key = left_behind_key(booking_id, held.property_id)
        del self._held[booking_id]
        if (earlier := self._held.get(key)) is not None:
            held.codes = {**earlier.codes, **held.codes}
        held.booking_id = booking_id
        self._held[key] = held
        self._retry_at.pop(booking_id, None)
        await self._async_revoke(key, held, now)

    async def _async_revoke(self, key: str, held: HeldCodes, now: datetime) -> None:
        """Revoke the codes held under ``key``; the locks that cannot be reached now are tried again later."""
        booking_id = held.booking_id or key
        if held.state != STATE_REVOKING:
            held.state = STATE_REVOKING
            await self._async_save()
        if self._drop_unrecorded(booking_id, held):
            await self._async_save()
        try:
            await self._manager.async_revoke(held.codes)
        except HomeAssistantError as err:
            await self._async_revoke_failed(booking_id, held, err)
            self._retry_at[key] = now + RETRY_INTERVAL
            return
        self._retry_at.pop(key, None)
        self._pending_revokes.done(booking_id)
        del self._held[key]
        await self._async_save()
        LOGGER.debug("Revoked the access code of booking %s", booking_id)

    def _drop_unrecorded(self, booking_id: str, held: HeldCodes) -> bool:
        """Forget held codes the engine has no record of any more (True when there were some).

        The engine revokes only codes on record, and one such code must not keep the booking's others on
        their locks; a warning says where to remove it by hand.
        """
        self._sync_ids(booking_id, held)
        known = {(code.entity_id, code.code_id) for code in self._manager.codes_for_booking(booking_id)}
        lost = sorted(
            entity_id for entity_id, code_id in held.codes.items() if (entity_id, code_id) not in known
        )
        if not lost:
            return False
        LOGGER.warning(
            "The access code of booking %s is no longer on record for %s: it is not revoked there; remove "
            "it in the lock's app if it is still on the lock",
            booking_id,
            ", ".join(self._lock_name(entity_id) for entity_id in lost),
        )
        held.codes = {
            entity_id: code_id for entity_id, code_id in held.codes.items() if entity_id not in lost
        }
        return True

    async def _async_revoke_failed(self, booking_id: str, held: HeldCodes, err: HomeAssistantError) -> None:
        """Keep only the locks the code is still on (all when the engine did not say which); one repair."""
        if isinstance(err, RevokeIncompleteError):
            failed, dropped = err.failed, list(err.dropped.values())
        else:
            failed, dropped = {entity_id: self._lock_name(entity_id) for entity_id in held.codes}, []
        if held.codes.keys() - failed.keys():
            held.codes = {
                entity_id: code_id for entity_id, code_id in held.codes.items() if entity_id in failed
            }
            await self._async_save()
        self._pending_revokes.failed(booking_id, self._guest(booking_id), list(failed.values()), dropped, err)

    async def _async_save(self) -> None:
        await self._store.async_save(
            {"bookings": {booking_id: held.as_dict() for booking_id, held in self._held.items()}}
        )

    # -- helpers -------------------------------------------------------------------------------------

    def _property_device_id(self, property_id: str) -> str | None:
        device = compat.device_by_identifier(
            self._hass, property_identifier(property_id), self._entry.entry_id
        )
        return device.id if device else None

    def _property_locks(self, property_id: str) -> list[str]:
        device_id = self._property_device_id(property_id)
        return self._manager.lock_entities_for_property(device_id) if device_id else []

    def _sync_ids(self, booking_id: str, held: HeldCodes) -> bool:
        """Follow code ids the engine changed on its own (a Nuki code gets its real id once it shows up).

        A held id the engine no longer has is replaced by the booking's one other code on that lock (the
        one with the held window when there are several); True when something changed.
        """
        engine = self._manager.codes_for_booking(booking_id)
        known = {(code.entity_id, code.code_id) for code in engine}
        claimed = set(held.codes.values())
        changed = False
        for entity_id, code_id in list(held.codes.items()):
            if (entity_id, code_id) in known:
                continue
            others = [c for c in engine if c.entity_id == entity_id and c.code_id not in claimed]
            same_window = [c for c in others if (c.starts_at, c.ends_at) == (held.starts_at, held.ends_at)]
            pick = same_window or others
            if len(pick) == 1:
                held.codes[entity_id] = pick[0].code_id
                claimed.add(pick[0].code_id)
                changed = True
        return changed

    def _lock_name(self, entity_id: str) -> str:
        state = self._hass.states.get(entity_id)
        return state.name if state is not None else entity_id

    def _guest(self, booking_id: str) -> str:
        """Who a booking is for (Kasify's name for the guest, else the name its codes carry)."""
        data = self._coordinator.data
        for items in data.bookings.values() if data else ():
            for booking in items:
                if booking.id == booking_id and booking.guest_name.strip():
                    return booking.guest_name
        return next(
            (code.name for code in self._manager.codes_for_booking(booking_id) if code.name), booking_id
        )

    def _issued(self, booking_id: str, held: HeldCodes) -> list[IssuedCode]:
        """The engine's records of this booking's automatic codes."""
        return [
            code
            for code in self._manager.codes_for_booking(booking_id)
            if held.codes.get(code.entity_id) == code.code_id
        ]

    # -- repair issues -------------------------------------------------------------------------------

    def _update_issues(self, run: _Run) -> None:
        wanted: dict[str, tuple[Booking, list[str]]] = {}
        if self.settings.enabled:
            for booking in (*run.bookings.values(), *run.looked_up.values()):
                if booking.status is not BookingStatus.CONFIRMED:
                    continue
                if not booking.check_in - ISSUE_HORIZON <= run.now < booking.check_out:
                    continue
                locks = self._property_locks(booking.property_id)
                held = self._held.get(booking.id)
                on_lock = (
                    {code.entity_id for code in self._issued(booking.id, held) if code.status == CODE_ON_LOCK}
                    if held is not None and held.state == STATE_ACTIVE
                    else set()
                )
                missing = [entity_id for entity_id in locks if entity_id not in on_lock]
                if missing:
                    wanted[booking.id] = (booking, missing)
        for booking_id in self._issues - wanted.keys():
            ir.async_delete_issue(self._hass, DOMAIN, issue_id(self._entry.entry_id, booking_id))
        data = self._coordinator.data
        names = {pid: prop.name for pid, prop in data.properties.items()} if data else {}
        for booking, missing in wanted.values():
            self._raise_issue(booking, missing, names)
        self._issues = set(wanted)

    def _raise_issue(self, booking: Booking, missing: list[str], names: Mapping[str, str]) -> None:
        lock_names = [self._lock_name(entity_id) for entity_id in missing]
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id(self._entry.entry_id, booking.id),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="code_not_on_locks",
            translation_placeholders={
                "guest": booking.guest_name,
                "property": names.get(booking.property_id, booking.property_id),
                "check_in": dt_util.as_local(booking.check_in).strftime("%Y-%m-%d %H:%M"),
                "locks": ", ".join(lock_names),
            },
        )


def code_manager(hass: HomeAssistant) -> AccessCodeManager:
    """The access-code engine of this Home Assistant."""
    return async_get_code_manager(hass)


AUTO_CODES: Final[HassKey[dict[str, AutoCodeScheduler]]] = HassKey(f"{DOMAIN}_auto_codes")


def get_scheduler(hass: HomeAssistant, entry_id: str) -> AutoCodeScheduler | None:
    """The automatic-code scheduler of a loaded Kasify entry."""
    return hass.data.get(AUTO_CODES, {}).get(entry_id)


@callback
def async_locks_changed(hass: HomeAssistant) -> None:
    """An account's locks joined their properties (it was set up): every booking's locks are looked at now.

    Not only at the next booking change, which may be hours away, nor at the next retry of a change that
    failed because the account was not loaded.
    """
    for scheduler in hass.data.get(AUTO_CODES, {}).values():
        scheduler.async_retry_now()


async def async_start_auto_codes(
    hass: HomeAssistant, entry: KasifyConfigEntry, coordinator: KasifyCoordinator
) -> AutoCodeScheduler:
    """Start following a Kasify entry's bookings (call once its platforms, hence its devices, are set up)."""
    scheduler = AutoCodeScheduler(hass, entry, coordinator, code_manager(hass))
    schedulers = hass.data.setdefault(AUTO_CODES, {})
    schedulers[entry.entry_id] = scheduler

    @callback
    def _forget() -> None:
        schedulers.pop(entry.entry_id, None)

    entry.async_on_unload(_forget)
    await scheduler.async_start()
    return scheduler
