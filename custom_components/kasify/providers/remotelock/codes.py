"""RemoteLock access codes: an access guest with the PIN, granted access to the lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from homeassistant.util import dt as dt_util

from ...access_codes.adapter import CodeAdapter, confirm_gone
from ...access_codes.policy import VENDOR_REMOTELOCK
from ...access_codes.records import (
    CODE_FAILED,
    CODE_ON_LOCK,
    CODE_PENDING,
    CodeRecord,
    CodeTarget,
    NewCode,
    Outcome,
)
from ...api.errors import ApiError, NotFoundError, PartialWriteError
from ...api.remotelock import RemoteLockClient
from ...const import LOGGER


class RemoteLockGuestCodes(CodeAdapter):
    """An access guest with the PIN plus an access grant to the lock; the grant syncs when the lock wakes."""

    vendor = VENDOR_REMOTELOCK

    @staticmethod
    async def _zone(client: RemoteLockClient, lock_id: str) -> tzinfo:
        lock = await client.get_lock(lock_id)
        zone_name = next(
            (loc.time_zone for loc in await client.list_locations() if loc.id == lock.location_id), None
        )
        try:
            return ZoneInfo(zone_name) if zone_name else dt_util.get_default_time_zone()
        except ZoneInfoNotFoundError:
            return dt_util.get_default_time_zone()

    @staticmethod
    def _status(sync_status: str) -> str:
        return {"synced": CODE_ON_LOCK, "failed": CODE_FAILED}.get(sync_status, CODE_PENDING)

    async def create(self, target: CodeTarget, new: NewCode) -> Outcome:
        """An access guest with the PIN (its window in the lock's time zone) granted access to the lock."""
        client: RemoteLockClient = target.client
        zone = await self._zone(client, target.lock_id)
        person = await client.create_access_guest(
            new.name, new.starts_at, new.ends_at, pin=new.code, time_zone=zone
        )
        try:
            access = await client.grant_access(person.id, target.lock_id)
        except BaseException as err:
            try:
                await client.delete_access_person(person.id)
            except ApiError as cleanup:
                LOGGER.warning("Could not remove RemoteLock access guest %s: %s", person.id, cleanup)
                if isinstance(err, Exception):
                    # The guest and its PIN stay: the engine looks for it (by name and PIN) and removes it.
                    raise PartialWriteError(
                        f"{err}; the guest could not be removed again: {cleanup}"
                    ) from err
            raise
        return Outcome(person.id, self._status(access.sync_status))

    async def remove(self, target: CodeTarget, record: CodeRecord, *, keep_history: bool) -> None:
        """Deactivate the guest, keeping its history, or delete it."""
        client: RemoteLockClient = target.client
        try:
            if keep_history:
                await client.deactivate_access_person(record.code_id)
            else:
                await client.delete_access_person(record.code_id)
        except NotFoundError as err:
            await confirm_gone(err, lambda: self._listed(client, target.lock_id, record.code_id))

    @staticmethod
    async def _listed(client: RemoteLockClient, lock_id: str, person_id: str) -> bool:
        return any(
            access.access_person_id == person_id for access in await client.list_lock_accesses(lock_id)
        )

    async def update_window(
        self, target: CodeTarget, record: CodeRecord, starts_at: datetime, ends_at: datetime
    ) -> Outcome:
        """Move the guest's window (in the lock's time zone)."""
        client: RemoteLockClient = target.client
        zone = await self._zone(client, target.lock_id)
        await client.update_access_guest(record.code_id, starts_at=starts_at, ends_at=ends_at, time_zone=zone)
        return Outcome(record.code_id, record.status)

    async def statuses(self, target: CodeTarget, records: Sequence[CodeRecord]) -> dict[str, Outcome]:
        """The sync status of the lock's access grants; a guest whose id is not known, by its name and PIN."""
        client: RemoteLockClient = target.client
        grants = {
            access.access_person_id: access.sync_status
            for access in await client.list_lock_accesses(target.lock_id)
            if access.access_person_id
        }
        outcomes: dict[str, Outcome] = {}
        for record in records:
            if record.provisional:
                guest = await client.find_access_guest(record.name, record.code)
                if guest is not None:
                    outcomes[record.code_id] = Outcome(guest.id, self._status(grants.get(guest.id, "")))
            elif record.code_id in grants:
                outcomes[record.code_id] = Outcome(record.code_id, self._status(grants[record.code_id]))
        return outcomes


REMOTELOCK_CODES: Final = RemoteLockGuestCodes()
