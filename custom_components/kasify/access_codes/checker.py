"""The access-code checker: asks the locks about codes that have not settled, and tells automations.

Pending codes are looked for every :data:`CHECK_INTERVAL` until they are on their lock, or failed after
:data:`SETTLE_TIMEOUT`. Failed codes whose window has not ended are looked for again every
:data:`RECHECK_INTERVAL` (a Wi-Fi lock waking up, a bridge back online): one that turns up is on the lock.

Doomed codes (see :mod:`.cleanup`: rolled back, or left by a create that did not finish) are looked for and
removed on the same rhythm, every :data:`CHECK_INTERVAL` for :data:`SETTLE_TIMEOUT`, then every
:data:`RECHECK_INTERVAL` until their window ends; records whose window ended over :data:`KEEP_ENDED` ago are
dropped at each run.

One run at a time: an interval that fires while a run still waits for a lock's answer is skipped. The lock
reads happen outside the engine's lock (a vendor's rate limiter may hold them for minutes, and a revoke must
not wait that long); what a run changes is done under it, and only to records still as the run found them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
import logging
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..api.errors import ApiError, OperationPendingError
from .cleanup import Leftovers, Removal
from .records import (
    CODE_FAILED,
    CODE_ON_LOCK,
    CODE_PENDING,
    EVENT_CODE_FAILED,
    EVENT_CODE_PROVISIONED,
    CodeRecord,
    CodeTarget,
    Outcome,
)

_LOGGER = logging.getLogger(__name__)

CHECK_INTERVAL: Final = timedelta(seconds=30)
"""How often pending codes are checked again."""
SETTLE_TIMEOUT: Final = timedelta(minutes=10)
"""A code still pending this long after it was created counts as failed."""
RECHECK_INTERVAL: Final = timedelta(minutes=15)
"""How often failed codes whose window has not ended are looked for again."""
KEEP_ENDED: Final = timedelta(days=7)
"""Codes whose window ended longer ago than this are dropped from the records."""

type RecordKey = tuple[str, str]


@callback
def fire_settled(hass: HomeAssistant, record: CodeRecord) -> None:
    """Tell automations a code settled (never with the PIN)."""
    hass.bus.async_fire(
        EVENT_CODE_PROVISIONED if record.status == CODE_ON_LOCK else EVENT_CODE_FAILED,
        {
            "entity_id": record.entity_id,
            "code_id": record.code_id,
            "name": record.name,
            "booking_id": record.booking_id,
            "lock": record.lock,
        },
    )


class CodeChecker:
    """Checks the engine's unsettled codes on a timer, one run at a time; removes the doomed ones."""

    def __init__(
        self,
        hass: HomeAssistant,
        records: dict[RecordKey, CodeRecord],
        lock: asyncio.Lock,
        resolve: Callable[[str], CodeTarget],
        save: Callable[[], Awaitable[None]],
    ) -> None:
        """Check ``records`` (the engine's own dict), changing them under ``lock``.

        ``resolve`` turns a lock entity into its target (ServiceValidationError when it cannot); ``save``
        stores the records.
        """
        self.hass = hass
        self._records = records
        self._lock = lock
        self._resolve = resolve
        self._save = save
        self.leftovers = Leftovers(hass)
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._running = False
        self._recheck_at: datetime | None = None
        self._soon: set[str] = set()

    @staticmethod
    def _failed_live(record: CodeRecord, now: datetime) -> bool:
        return record.status == CODE_FAILED and record.ends_at > now and not record.doomed

    @staticmethod
    def _pending(record: CodeRecord) -> bool:
        return record.status == CODE_PENDING and not record.doomed and not record.creating

    @callback
    def schedule(self) -> None:
        """Run every :data:`CHECK_INTERVAL` while codes are pending, doomed, or failed with an open window."""
        now = dt_util.utcnow()
        pending = any(self._pending(record) or record.doomed for record in self._records.values())
        failed = any(self._failed_live(record, now) or record.doomed for record in self._records.values())
        if not failed:
            self._recheck_at = None
        elif self._recheck_at is None:
            self._recheck_at = now + RECHECK_INTERVAL
        if (pending or failed) and self._unsub_timer is None:
            self._unsub_timer = async_track_time_interval(
                self.hass,
                self.async_check,
                CHECK_INTERVAL,
                name="kasify access codes",
                cancel_on_shutdown=True,
            )
        elif not (pending or failed) and self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None

    @callback
    def check_soon(self, entity_ids: set[str]) -> None:
        """Locks say they synced codes: look for their failed codes (and every pending one) now."""
        self._soon |= entity_ids
        self.hass.async_create_background_task(self.async_check(), "kasify access codes check")

    async def async_check(self, _now: datetime | None = None) -> None:
        """One run, unless one is already under way."""
        if self._running:
            _LOGGER.debug("Access codes are still being checked: skipping this round")
            return
        self._running = True
        try:
            await self._async_run()
        finally:
            self._running = False
            self.schedule()

    def _wanted(self, now: datetime) -> dict[str, list[CodeRecord]]:
        """The codes to look at, by lock: the pending ones, and the failed and doomed ones when they are due.

        Failed codes are due every :data:`RECHECK_INTERVAL`, and on the locks that said they synced codes;
        doomed ones at every run for :data:`SETTLE_TIMEOUT` after they were made, then as failed ones.
        """
        recheck = self._recheck_at is not None and now >= self._recheck_at
        if recheck:
            self._recheck_at = now + RECHECK_INTERVAL
        soon, self._soon = self._soon, set()
        by_lock: dict[str, list[CodeRecord]] = {}
        for record in self._records.values():
            due = recheck or record.entity_id in soon
            if (
                self._pending(record)
                or (due and self._failed_live(record, now))
                or (record.doomed and (due or now - record.created_at < SETTLE_TIMEOUT))
            ):
                by_lock.setdefault(record.entity_id, []).append(record)
        return by_lock

    def prune(self, now: datetime) -> bool:
        """Drop the records whose window ended over :data:`KEEP_ENDED` ago; whether there were any."""
        old = [key for key, record in self._records.items() if record.ends_at < now - KEEP_ENDED]
        for key in old:
            self.leftovers.settled(self._records.pop(key))
        return bool(old)

    async def _async_run(self) -> None:
        """Ask each lock about all its codes at once (one list call per lock), then settle what it said."""
        now = dt_util.utcnow()
        async with self._lock:
            changed = self.prune(now)
        for entity_id, records in self._wanted(now).items():
            target, outcomes = await self._async_ask(entity_id, records)
            async with self._lock:
                for record in records:
                    if record.doomed:
                        changed |= await self._async_finish_doomed(target, record, outcomes, now)
                    else:
                        outcome = outcomes.get(record.code_id) if outcomes is not None else None
                        changed |= await self._async_settle(target, record, outcome, now)
        if changed:
            async with self._lock:
                await self._save()

    async def _async_ask(
        self, entity_id: str, records: Sequence[CodeRecord]
    ) -> tuple[CodeTarget | None, dict[str, Outcome] | None]:
        """The lock's target and its answer (``None`` when it cannot be reached now).

        A doomed code whose vendor id is known needs no answer: it is removed by that id.
        """
        target: CodeTarget | None = None
        asked = [record for record in records if not record.doomed or record.provisional]
        try:
            target = self._resolve(entity_id)
            return target, await target.adapter.statuses(target, asked) if asked else {}
        except (ServiceValidationError, ApiError) as err:
            _LOGGER.debug("Could not check the codes on %s: %s", entity_id, err.__class__.__name__)
            return target, None

    def _rekey(self, record: CodeRecord, outcome: Outcome) -> None:
        del self._records[record.key]
        record.code_id, record.status = outcome.code_id, outcome.status
        record.provisional = outcome.provisional
        self._records[record.key] = record

    async def _async_settle(
        self, target: CodeTarget | None, record: CodeRecord, outcome: Outcome | None, now: datetime
    ) -> bool:
        """Apply one lock's answer about one code (under the engine's lock); whether anything changed.

        A code revoked, changed or settled since the lock was asked is not this run's any more: left alone.
        """
        if self._records.get(record.key) is not record:
            return False
        if record.status == CODE_FAILED:
            if outcome is None or outcome.status != CODE_ON_LOCK:
                return False
            self._rekey(record, outcome)
            fire_settled(self.hass, record)
            return True
        if record.status != CODE_PENDING:
            return False
        if outcome is not None and (outcome.status != CODE_PENDING or outcome.code_id != record.code_id):
            self._rekey(record, outcome)
            if record.status != CODE_PENDING:
                fire_settled(self.hass, record)
            return True
        if now - record.created_at >= SETTLE_TIMEOUT:
            record.status = CODE_FAILED
            fire_settled(self.hass, record)
            return True
        return False

    async def _async_finish_doomed(
        self,
        target: CodeTarget | None,
        record: CodeRecord,
        outcomes: dict[str, Outcome] | None,
        now: datetime,
    ) -> bool:
        """A doomed code is removed once found; one whose window has ended opens nothing and is forgotten.

        ``outcomes`` is the lock's answer (``None``: it could not be asked, so a code not known by its id is
        not looked for this time). Under the engine's lock; whether anything changed.
        """
        if self._records.get(record.key) is not record:
            return False
        if now >= record.ends_at:
            self._records.pop(record.key, None)
            self.leftovers.settled(record)
            return True
        if target is None or (record.provisional and outcomes is None):
            return False
        outcome = outcomes.get(record.code_id) if outcomes is not None else None
        return await self.async_take_off(target, record, outcome, asked=True) is Removal.GONE

    async def async_take_off(
        self, target: CodeTarget, record: CodeRecord, outcome: Outcome | None = None, *, asked: bool = False
    ) -> Removal:
        """Look for a doomed code (unless ``asked``: ``outcome`` is the lock's answer) and remove it.

        Call under the engine's lock. A removed code's record is forgotten; one that is there (or cannot be
        looked for) and stays gets its repair issue.
        """
        found = record
        if record.provisional:
            if not target.adapter.can_look_up:
                self.leftovers.stuck(record, None)
                return Removal.UNKNOWN
            if not asked:
                try:
                    outcome = (await target.adapter.statuses(target, [record])).get(record.code_id)
                except Exception as err:  # noqa: BLE001 - whatever it is, the code is looked for again
                    self.leftovers.stuck(record, err)
                    return Removal.STUCK
            if outcome is None or outcome.code_id == record.code_id or self._claimed(record, outcome):
                self.leftovers.settled(record)
                return Removal.ABSENT
            found = replace(record, code_id=outcome.code_id, provisional=False)
        try:
            await target.adapter.remove(target, found, keep_history=False)
        except OperationPendingError:
            return Removal.ABSENT
        except Exception as err:  # noqa: BLE001 - kept, and tried again at the next check
            self.leftovers.stuck(record, err)
            return Removal.STUCK
        self._records.pop(record.key, None)
        self.leftovers.settled(record)
        return Removal.GONE

    async def async_clean(self, entity_ids: set[str] | None) -> dict[str, Removal]:
        """Look for the doomed codes (of ``entity_ids``, or all) and remove them; how it went per lock.

        Call under the engine's lock. A lock's result is the worst of its codes; one whose account is not
        loaded is stuck for now. The code of a lock deleted from Home Assistant is forgotten (nothing can
        reach it any more). Empty when there was nothing to do.
        """
        results: dict[str, Removal] = {}
        doomed = [
            record
            for record in self._records.values()
            if record.doomed and (entity_ids is None or record.entity_id in entity_ids)
        ]
        ent_reg = er.async_get(self.hass)
        for record in doomed:
            if ent_reg.async_get(record.entity_id) is None:
                _LOGGER.info(
                    "%s is no longer in Home Assistant: forgetting a code to remove there", record.lock
                )
                self._records.pop(record.key, None)
                self.leftovers.settled(record)
                results.setdefault(record.entity_id, Removal.GONE)
                continue
            try:
                target = self._resolve(record.entity_id)
            except ServiceValidationError:
                results[record.entity_id] = Removal.STUCK
                continue
            result = await self.async_take_off(target, record)
            if results.get(record.entity_id) is not Removal.STUCK:  # a lock's worst
                results[record.entity_id] = result
        return results

    def _claimed(self, record: CodeRecord, outcome: Outcome) -> bool:
        """Whether the code found for a doomed one is another record's (it stays)."""
        return (record.entity_id, outcome.code_id) in self._records
