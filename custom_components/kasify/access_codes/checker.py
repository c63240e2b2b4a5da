"""The access-code checker: asks the locks about codes that have not settled, and tells automations.

Pending codes are looked for every :data:`CHECK_INTERVAL` until they are on their lock, or failed after
:data:`SETTLE_TIMEOUT`. Failed codes whose window has not ended are looked for again every
:data:`RECHECK_INTERVAL` (a Wi-Fi lock waking up, a bridge back online): one that turns up is on the lock.

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
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..api.errors import ApiError
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
    """Checks the engine's unsettled codes on a timer, one run at a time."""

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
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._running = False
        self._recheck_at: datetime | None = None
        self._soon: set[str] = set()

    @staticmethod
    def _failed_live(record: CodeRecord, now: datetime) -> bool:
        return record.status == CODE_FAILED and record.ends_at > now

    @callback
    def schedule(self) -> None:
        """Run every :data:`CHECK_INTERVAL` while codes are pending, or failed with their window open."""
        now = dt_util.utcnow()
        pending = any(record.status == CODE_PENDING for record in self._records.values())
        failed = any(self._failed_live(record, now) for record in self._records.values())
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
        """The codes to ask about, by lock: the pending ones, and the failed ones when they are due.

        Failed codes are due every :data:`RECHECK_INTERVAL`, and on the locks that said they synced codes.
        """
        recheck = self._recheck_at is not None and now >= self._recheck_at
        if recheck:
            self._recheck_at = now + RECHECK_INTERVAL
        soon, self._soon = self._soon, set()
        by_lock: dict[str, list[CodeRecord]] = {}
        for record in self._records.values():
            if record.status == CODE_PENDING or (
                (recheck or record.entity_id in soon) and self._failed_live(record, now)
            ):
                by_lock.setdefault(record.entity_id, []).append(record)
        return by_lock

    async def _async_run(self) -> None:
        """Ask each lock about all its codes at once (one list call per lock), then settle what it said."""
        now = dt_util.utcnow()
        changed = False
        for entity_id, records in self._wanted(now).items():
            target, outcomes = await self._async_ask(entity_id, records)
            async with self._lock:
                for record in records:
                    changed |= await self._async_settle(target, record, outcomes.get(record.code_id), now)
        if changed:
            async with self._lock:
                await self._save()

    async def _async_ask(
        self, entity_id: str, records: Sequence[CodeRecord]
    ) -> tuple[CodeTarget | None, dict[str, Outcome]]:
        """The lock's target and its answer (none when it cannot be reached now)."""
        target: CodeTarget | None = None
        try:
            target = self._resolve(entity_id)
            return target, await target.adapter.statuses(target, records)
        except (ServiceValidationError, ApiError) as err:
            _LOGGER.debug("Could not check the codes on %s: %s", entity_id, err.__class__.__name__)
            return target, {}

    def _rekey(self, record: CodeRecord, outcome: Outcome) -> None:
        del self._records[(record.entity_id, record.code_id)]
        record.code_id, record.status = outcome.code_id, outcome.status
        record.provisional = outcome.provisional
        self._records[(record.entity_id, record.code_id)] = record

    async def _async_settle(
        self, target: CodeTarget | None, record: CodeRecord, outcome: Outcome | None, now: datetime
    ) -> bool:
        """Apply one lock's answer about one code (under the engine's lock); whether anything changed.

        A code revoked, changed or settled since the lock was asked is not this run's any more: left alone.
        """
        if self._records.get((record.entity_id, record.code_id)) is not record:
            return False
        if record.doomed:
            return await self._async_finish_doomed(target, record, outcome, now)
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
        self, target: CodeTarget | None, record: CodeRecord, outcome: Outcome | None, now: datetime
    ) -> bool:
        """A rolled-back code that has shown up is deleted; one that never does is forgotten."""
        key = (record.entity_id, record.code_id)
        if target is not None and outcome is not None and outcome.code_id != record.code_id:
            gone = replace(record, code_id=outcome.code_id, provisional=False)
            try:
                await target.adapter.remove(target, gone, keep_history=False)
            except ApiError:
                return False
            self._records.pop(key, None)
            return True
        if now - record.created_at >= SETTLE_TIMEOUT:
            self._records.pop(key, None)
            return True
        return False
