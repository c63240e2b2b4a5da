"""The access-code engine: timed codes on the locks of every vendor, all or nothing, tracked until settled.

One :class:`AccessCodeManager` per Home Assistant instance (:func:`async_get_code_manager`). How it works is
described in ``docs/architecture.md`` (*Access codes*). PINs live only in its store and in the create action's
response: never in logs, events, attributes or diagnostics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
import logging
import secrets
from typing import Any, Final, NoReturn

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .. import compat, links
from ..api.errors import ApiError, ConflictError, OperationPendingError, ValidationError
from ..api.http import redact
from ..const import DOMAIN
from .adapter import RevokeUnverifiedError, validation_error as _validation_error
from .checker import KEEP_ENDED, CodeChecker, fire_settled
from .cleanup import Removal, answer_unknown
from .policy import (
    MAX_WINDOW,
    MAX_WINDOW_DAYS,
    RULE_DIGITS,
    RULE_LENGTH,
    RULE_NOT_DIGITS,
    RULE_PREFIX,
    NoCodeAvailableError,
    code_problem,
    combine,
    generate_code,
)
from .records import (
    CODE_PENDING,
    PENDING_PREFIX,
    CodeRecord,
    CodeTarget,
    IssuedCode,
    NewCode,
)
from .revoke import LockFailure, RevokeIncompleteError

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.access_codes"
STORAGE_VERSION: Final = 1
GENERATE_ATTEMPTS: Final = 3
"""A generated code a lock refuses as taken is replaced (everything rolled back first) this many times."""

_DATA_MANAGER: HassKey[AccessCodeManager] = HassKey(f"{DOMAIN}_access_codes")
_RULE_KEYS: Final = {
    RULE_NOT_DIGITS: "access_code_not_digits",
    RULE_LENGTH: "access_code_length",
    RULE_DIGITS: "access_code_digits",
    RULE_PREFIX: "access_code_prefix",
}
PIN_REFUSED_KEYS: Final = frozenset(_RULE_KEYS.values())
"""The translation keys of a create refused because a lock's format does not allow the PIN."""


def _masked(err: Exception, code: str | None) -> str:
    """The error's text, with the PIN blotted out should an upstream have echoed it."""
    return redact(str(err) or err.__class__.__name__, [code])


def _code_taken(err: ApiError) -> bool:
    """Whether a vendor refused the PIN because something else already has it."""
    if isinstance(err, ConflictError):
        return True
    return isinstance(err, ValidationError) and any(key in err.fields for key in ("code", "pin", "pin_code"))


def _aware(value: datetime) -> datetime:
    """A naive time from the UI is Home Assistant's local time."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt_util.get_default_time_zone())


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    """A window must end after it starts and last at most ``MAX_WINDOW`` (ServiceValidationError)."""
    if ends_at <= starts_at:
        raise _validation_error("access_code_window_invalid")
    if ends_at - starts_at > MAX_WINDOW:
        raise _validation_error("access_code_window_too_long", days=str(MAX_WINDOW_DAYS))


def _entity_name(hass: HomeAssistant, entry: er.RegistryEntry) -> str:
    if entry.device_id and (device := dr.async_get(hass).async_get(entry.device_id)) is not None:
        return device.name_by_user or device.name or entry.entity_id
    state = hass.states.get(entry.entity_id)
    return state.name if state is not None else entry.entity_id


def is_code_lock(entry: er.RegistryEntry) -> bool:
    """Whether a registry entry is one of our locks: a provider's lock, or a lock shown read-only."""
    return entry.platform == DOMAIN and (
        entry.domain == "lock" or (entry.domain == "binary_sensor" and entry.original_device_class == "lock")
    )


def lock_device_key(hass: HomeAssistant, entry: er.RegistryEntry) -> str | None:
    """The device key (``<vendor>_<id>``) of the lock device an entity belongs to."""
    device = dr.async_get(hass).async_get(entry.device_id) if entry.device_id else None
    if device is None:
        return None
    return next((ident[1] for ident in device.identifiers if ident[0] == DOMAIN), None)


@callback
def async_get_code_manager(hass: HomeAssistant) -> AccessCodeManager:
    """The access-code manager of this Home Assistant instance (created on first use)."""
    if (manager := hass.data.get(_DATA_MANAGER)) is None:
        manager = hass.data[_DATA_MANAGER] = AccessCodeManager(hass)
    return manager


class AccessCodeManager:
    """Creates, tracks, changes and revokes timed codes on every lock the integration manages."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Nothing is read until the first use (or :meth:`async_load`)."""
        self.hass = hass
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._records: dict[tuple[str, str], CodeRecord] = {}
        self._loaded = False
        # Engine-wide: create, revoke, window changes and the checker's changes never interleave.
        self._lock = asyncio.Lock()
        self._checker = CodeChecker(hass, self._records, self._lock, self._target, self._async_save)
        self._load_lock = asyncio.Lock()

    # -- store -------------------------------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the stored codes (once), and resume checking the pending ones.

        A code saved while its create call was under way (Home Assistant stopped in the middle) belongs to a
        call that never finished: it is doomed, looked for and removed (see :mod:`.cleanup`).
        """
        async with self._load_lock:
            if self._loaded:
                return
            data = await self._store.async_load() or {}
            cutoff = dt_util.utcnow() - KEEP_ENDED
            interrupted = 0
            for raw in data.get("codes", []):
                try:
                    record = CodeRecord.from_dict(raw)
                except (KeyError, TypeError, ValueError):
                    _LOGGER.warning("Ignoring an unreadable stored access code")
                    continue
                if record.creating:
                    record.creating, record.doomed = False, True
                    interrupted += 1
                if record.ends_at >= cutoff:
                    self._records[record.key] = record
            self._loaded = True
        if interrupted:
            _LOGGER.warning(
                "%d access codes were being created when Home Assistant stopped: removing what was made",
                interrupted,
            )
            self.hass.async_create_background_task(self.async_cleanup(), "kasify access codes cleanup")
        self._schedule_checks()

    async def _async_save(self) -> None:
        """Store the records, without those whose window ended over :data:`KEEP_ENDED` ago."""
        self._checker.prune(dt_util.utcnow())
        await self._store.async_save({"codes": [record.as_dict() for record in self._records.values()]})

    async def async_cleanup(self, entity_ids: Iterable[str] | None = None) -> dict[str, Removal]:
        """Look for the doomed codes (of ``entity_ids``' locks, or all) and remove them where they are.

        Returns how it went per lock entity (the worst of its codes); a lock whose account is not loaded is
        left for a later try.
        """
        await self.async_load()
        async with self._lock:
            return await self._async_cleanup(None if entity_ids is None else set(entity_ids))

    async def _async_cleanup(self, entity_ids: set[str] | None) -> dict[str, Removal]:
        results = await self._checker.async_clean(entity_ids)
        if results:
            await self._async_save()
            self._schedule_checks()
        return results

    # -- lookups -----------------------------------------------------------------------------------------

    def codes_for_booking(self, booking_id: str) -> list[IssuedCode]:
        """Every code issued for a booking (on any lock)."""
        return [
            record.issued()
            for record in self._records.values()
            if record.booking_id == booking_id and not record.doomed and not record.creating
        ]

    def lock_entities_for_property(self, property_device_id: str) -> list[str]:
        """Controllable lock entities (Nuki / UniFi Access / RemoteLock) of the property device."""
        ent_reg, dev_reg = er.async_get(self.hass), dr.async_get(self.hass)
        found: list[str] = []
        # Only loaded accounts can put a code on a lock: their devices hanging under the property.
        for config_entry in self.hass.config_entries.async_loaded_entries(DOMAIN):
            for device in dr.async_entries_for_config_entry(dev_reg, config_entry.entry_id):
                if device.via_device_id != property_device_id:
                    continue
                found.extend(
                    entry.entity_id
                    for entry in er.async_entries_for_device(ent_reg, device.id)
                    if entry.platform == DOMAIN and entry.domain == "lock"
                )
        return sorted(found)

    def records(
        self, entity_ids: Iterable[str] | None = None, booking_id: str | None = None
    ) -> list[CodeRecord]:
        """Stored codes (optionally of some locks and/or one booking), by lock then start."""
        wanted = set(entity_ids) if entity_ids is not None else None
        return sorted(
            (
                record
                for record in self._records.values()
                if not record.doomed
                and not record.creating
                and (wanted is None or record.entity_id in wanted)
                and (booking_id is None or record.booking_id == booking_id)
            ),
            key=lambda record: (record.entity_id, record.starts_at, record.code_id),
        )

    # -- targets -----------------------------------------------------------------------------------------

    def _target(self, entity_id: str) -> CodeTarget:
        """Resolve one lock entity (a provider lock, or a lock shown read-only) through its device.

        Raises:
            ServiceValidationError: Not one of our locks, or its account is not loaded.
        """
        entry = er.async_get(self.hass).async_get(entity_id)
        device_key = lock_device_key(self.hass, entry) if entry is not None and is_code_lock(entry) else None
        if entry is None or device_key is None:
            raise _validation_error("access_code_not_a_lock", entity=entity_id)
        name = _entity_name(self.hass, entry)
        config_entry = (
            self.hass.config_entries.async_get_entry(entry.config_entry_id) if entry.config_entry_id else None
        )
        if config_entry is None or config_entry.state is not ConfigEntryState.LOADED:
            raise _validation_error("access_code_lock_not_loaded", lock=name)
        target: CodeTarget | None = config_entry.runtime_data.coordinator.code_target(
            device_key, entity_id, name
        )
        if target is None:
            raise _validation_error("access_code_not_a_lock", entity=entity_id)
        return target

    def _targets(self, entity_ids: Sequence[str]) -> list[CodeTarget]:
        unique = list(dict.fromkeys(entity_ids))
        if not unique:
            raise _validation_error("access_code_no_locks")
        return [self._target(entity_id) for entity_id in unique]

    # -- create ------------------------------------------------------------------------------------------

    async def async_create(
        self,
        entity_ids: Sequence[str],
        *,
        name: str,
        code: str | None,
        starts_at: datetime,
        ends_at: datetime,
        booking_id: str | None = None,
        avoid: Iterable[str] = (),
    ) -> dict[str, IssuedCode]:
        """Create one code on every lock, all or nothing; a PIN is generated when ``code`` is None.

        Calls run one at a time (and never with a revoke or window change), so two concurrent calls never
        pick the same code. A window longer than ``MAX_WINDOW`` (a typo in the year) is refused before
        anything is sent.
        """
        await self.async_load()
        draft = NewCode(name.strip(), (code or "").strip(), _aware(starts_at), _aware(ends_at), booking_id)
        async with self._lock:
            return await self._async_create(entity_ids, draft, generate=code is None, avoid=list(avoid))

    async def _async_create(
        self, entity_ids: Sequence[str], draft: NewCode, *, generate: bool, avoid: list[str]
    ) -> dict[str, IssuedCode]:
        await links.lock_links_done(self.hass)  # the booking check below reads the lock devices' links
        targets = self._checked_targets(entity_ids, draft, generate=generate)
        rules = combine(target.rules for target in targets)
        if generate and not rules.satisfiable:
            raise _validation_error(
                "access_code_no_common_format", locks=", ".join(target.name for target in targets)
            )
        await self._clear_the_way(targets, draft.booking_id)
        on_locks = await self._codes_on(targets)
        if not generate:
            for target in targets:
                if draft.code in on_locks[target.entity_id]:
                    raise _validation_error("access_code_in_use", lock=target.name)
        taken = {record.code for record in self._records.values()}
        for codes in on_locks.values():
            taken |= codes
        for attempt in range(GENERATE_ATTEMPTS):
            pin = draft.code
            if generate:
                try:
                    pin = generate_code(rules, taken=taken, avoid=avoid)
                except NoCodeAvailableError as err:
                    raise _validation_error(
                        "access_code_no_common_format", locks=", ".join(target.name for target in targets)
                    ) from err
            try:
                created = await self._create_all(targets, replace(draft, code=pin))
            except _CodeTakenError:
                if not generate or attempt == GENERATE_ATTEMPTS - 1:
                    raise
                taken.add(pin)
                continue
            break
        for record in created:
            record.creating = False  # the call is complete: the codes are the booking's now
        await self._async_save()
        for record in created:
            if record.status != CODE_PENDING:
                self._fire(record)
        self._schedule_checks()
        return {record.entity_id: record.issued() for record in created}

    async def _clear_the_way(self, targets: Sequence[CodeTarget], booking_id: str | None) -> None:
        """Remove the doomed codes on these locks first; refuse while one of the booking's cannot be.

        A code an unfinished create left for the same booking must be gone before the booking gets another
        one on that lock (HomeAssistantError naming the locks where it could not be removed yet).
        """
        ids = {target.entity_id for target in targets}
        if not any(record.doomed and record.entity_id in ids for record in self._records.values()):
            return
        booked = {r.entity_id for r in self._records.values() if r.doomed and r.booking_id == booking_id}
        results = await self._async_cleanup(ids)
        stuck = [
            target.name
            for target in targets
            if booking_id is not None
            and target.entity_id in booked
            and results.get(target.entity_id) is Removal.STUCK
        ]
        if stuck:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="access_code_cleanup_pending",
                translation_placeholders={"locks": ", ".join(stuck)},
            )

    def _checked_targets(
        self, entity_ids: Sequence[str], draft: NewCode, *, generate: bool
    ) -> list[CodeTarget]:
        """The locks of a create call, after every check that needs no request (ServiceValidationError)."""
        if not draft.name:
            raise _validation_error("access_code_name_empty")
        _check_window(draft.starts_at, draft.ends_at)
        if draft.ends_at <= dt_util.utcnow():
            raise _validation_error("access_code_window_past")
        targets = self._targets(entity_ids)
        for target in targets:
            target.adapter.check_create(target, name=draft.name, booking_id=draft.booking_id)
        ids = [target.entity_id for target in targets]
        if draft.booking_id and (stray := links.off_booking_property(self.hass, ids, draft.booking_id)):
            lock = next(target.name for target in targets if target.entity_id == stray)
            raise _validation_error("access_code_booking_other_property", lock=lock, booking=draft.booking_id)
        if not generate:
            for target in targets:
                if (problem := code_problem(draft.code, target.rules)) is not None:
                    raise _validation_error(_RULE_KEYS[problem.rule], lock=target.name, detail=problem.detail)
        return targets

    async def _codes_on(self, targets: Sequence[CodeTarget]) -> dict[str, set[str]]:
        """PINs already on each lock (stored ones, plus what the vendor lists where it can)."""
        found: dict[str, set[str]] = {}
        for target in targets:
            try:
                listed = await target.adapter.existing_codes(target)
            except ApiError as err:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="access_code_lookup_failed",
                    translation_placeholders={"lock": target.name, "error": _masked(err, None)},
                ) from err
            stored = {r.code for r in self._records.values() if r.entity_id == target.entity_id}
            found[target.entity_id] = listed | stored
        return found

    async def _create_all(self, targets: Sequence[CodeTarget], new: NewCode) -> list[CodeRecord]:
        """Create the code on each lock in turn, each saved before it is asked for (see :mod:`.cleanup`).

        On any failure, or a cancellation, what this call created is removed again (:meth:`_async_abort`).
        """
        new = replace(new, ref=secrets.token_hex(4))
        created: list[tuple[CodeTarget, CodeRecord]] = []
        now = dt_util.utcnow()
        for target in targets:
            record = CodeRecord(
                entity_id=target.entity_id,
                code_id=f"{PENDING_PREFIX}{secrets.token_hex(6)}",
                code=new.code,
                name=new.name,
                starts_at=new.starts_at,
                ends_at=new.ends_at,
                status=CODE_PENDING,
                vendor=target.vendor,
                lock=target.name,
                created_at=now,
                booking_id=new.booking_id,
                provisional=True,
                ref=new.ref,
                creating=True,
            )
            try:
                self._records[record.key] = record
                await self._async_save()
                outcome = await target.adapter.create(target, new)
            except BaseException as err:  # noqa: BLE001 - a cancellation too: undone, then raised again
                await self._async_abort(created, target, record, err)
            del self._records[record.key]
            record.code_id, record.status = outcome.code_id, outcome.status
            record.provisional = outcome.provisional
            self._records[record.key] = record
            created.append((target, record))
        return [record for _target, record in created]

    async def _async_abort(
        self,
        created: list[tuple[CodeTarget, CodeRecord]],
        target: CodeTarget,
        record: CodeRecord,
        err: BaseException,
    ) -> NoReturn:
        """A lock failed (or the call was cancelled): remove what the call made, then raise.

        The code on the failing lock is removed too when the answer does not say it was refused.
        """
        unknown = answer_unknown(err)
        if unknown:
            created = [*created, (target, record)]
        else:
            self._records.pop(record.key, None)
        results = await self._rollback(created)
        if not isinstance(err, Exception):
            raise err
        pin = record.code
        unanswered = unknown and results[-1][1] in (Removal.STUCK, Removal.UNKNOWN)
        made = results[:-1] if unknown else results
        if any(result is Removal.STUCK for _name, result in made):
            leftover = [name for name, result in results if result is Removal.STUCK]
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="access_code_rollback_failed",
                translation_placeholders={
                    "lock": target.name,
                    "error": _masked(err, pin),
                    "leftover": ", ".join(leftover),
                },
            ) from err
        if isinstance(err, ApiError) and _code_taken(err):
            raise _CodeTakenError(target, _masked(err, pin)) from err
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="access_code_create_unanswered" if unanswered else "access_code_create_failed",
            translation_placeholders={"lock": target.name, "error": _masked(err, pin)},
        ) from err

    async def _rollback(self, created: Sequence[tuple[CodeTarget, CodeRecord]]) -> list[tuple[str, Removal]]:
        """Remove the codes of an unfinished call, last first; how it went per lock name.

        They are saved as doomed before anything is sent: what cannot be removed now (or is cancelled) is
        looked for and removed by the checker, and at the next start.
        """
        for _target, record in created:
            record.creating, record.doomed = False, True
        results: list[tuple[str, Removal]] = []
        try:
            await self._async_save()
            for target, record in reversed(created):
                results.append((target.name, await self._checker.async_take_off(target, record)))
            await self._async_save()
        finally:
            self._schedule_checks()
        results.reverse()
        return results

    # -- change and revoke -------------------------------------------------------------------------------

    async def async_update_window(
        self, codes: Mapping[str, str], *, starts_at: datetime, ends_at: datetime
    ) -> dict[str, IssuedCode]:
        """Move the validity window of codes (``entity_id → code_id``), keeping each PIN."""
        await self.async_load()
        starts_at, ends_at = _aware(starts_at), _aware(ends_at)
        _check_window(starts_at, ends_at)
        async with self._lock:
            return await self._async_update_window(codes, starts_at, ends_at)

    async def _async_update_window(
        self, codes: Mapping[str, str], starts_at: datetime, ends_at: datetime
    ) -> dict[str, IssuedCode]:
        work = []
        for entity_id, code_id in codes.items():
            target = self._target(entity_id)
            record = self._records.get((entity_id, code_id))
            if record is None:
                raise _validation_error("access_code_unknown", lock=target.name, code_id=code_id)
            work.append((target, record))
        result: dict[str, IssuedCode] = {}
        for target, record in work:
            try:
                outcome = await target.adapter.update_window(target, record, starts_at, ends_at)
            except RevokeUnverifiedError as err:
                await self._async_save()
                raise self._unverified(target, record) from err
            except ApiError as err:
                await self._async_save()
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="access_code_update_failed",
                    translation_placeholders={"lock": target.name, "error": _masked(err, record.code)},
                ) from err
            del self._records[(record.entity_id, record.code_id)]
            updated = replace(
                record,
                code_id=outcome.code_id,
                status=outcome.status,
                provisional=outcome.provisional,
                starts_at=starts_at,
                ends_at=ends_at,
            )
            if updated.status == CODE_PENDING:
                updated.created_at = dt_util.utcnow()
            self._records[(updated.entity_id, updated.code_id)] = updated
            result[entity_id] = updated.issued()
        await self._async_save()
        self._schedule_checks()
        return result

    async def async_revoke(self, codes: Mapping[str, str]) -> None:
        """Revoke codes (``entity_id → code_id``) lock by lock; a code gone upstream counts as revoked.

        RemoteLock guests are deactivated (their history stays); the others are deleted. A lock that fails
        (its vendor, or its account not loaded) does not stop the others: its record stays for another try,
        and one :class:`RevokeIncompleteError` names every such lock at the end. The record of a lock whose
        entity was deleted is dropped: nothing can reach it through Home Assistant any more.
        """
        await self.async_load()
        async with self._lock:
            await self._async_revoke(codes)

    async def _async_revoke(self, codes: Mapping[str, str]) -> None:
        work, failures, dropped = self._revoke_plan(codes)
        for record in dropped:
            _LOGGER.info(
                "%s (%s) is no longer in Home Assistant: forgetting its code %s (%s)",
                record.lock,
                record.entity_id,
                record.code_id,
                record.name,
            )
            self._records.pop((record.entity_id, record.code_id), None)
        try:
            for target, record in work:
                if (failure := await self._revoke_one(target, record)) is not None:
                    failures.append(failure)
        finally:
            await self._async_save()
            self._schedule_checks()
        if failures:
            names = {record.entity_id: record.lock for record in dropped}
            raise RevokeIncompleteError(failures, names, single=len(codes) == 1)

    def _revoke_plan(
        self, codes: Mapping[str, str]
    ) -> tuple[list[tuple[CodeTarget, CodeRecord]], list[LockFailure], list[CodeRecord]]:
        """What to remove where, the stored codes whose lock is out of reach now, and those of deleted locks.

        Raises:
            ServiceValidationError: A code the engine has no record of (it did not issue it, or forgot it), or
                on something that is not one of our locks (nothing is sent, nothing is changed).
        """
        ent_reg = er.async_get(self.hass)
        work: list[tuple[CodeTarget, CodeRecord]] = []
        failures: list[LockFailure] = []
        dropped: list[CodeRecord] = []
        for entity_id, code_id in codes.items():
            record = self._records.get((entity_id, code_id))
            if record is not None and ent_reg.async_get(entity_id) is None:
                dropped.append(record)
                continue
            try:
                target = self._target(entity_id)
            except ServiceValidationError as err:
                if record is None:
                    raise
                failures.append(LockFailure(entity_id, record.lock, err))
                continue
            if record is None:
                # Only codes this engine issued: an id it has no record of may be a fob, the owner's app, a
                # cleaner's permanent user or another visitor; those are removed in the vendor's app.
                raise _validation_error("access_code_not_issued", lock=target.name, code_id=code_id)
            work.append((target, record))
        return work, failures, dropped

    async def _revoke_one(self, target: CodeTarget, record: CodeRecord) -> LockFailure | None:
        """Take one code off its lock and forget it; what failed, if anything (the record then stays)."""
        try:
            await target.adapter.remove(target, record, keep_history=True)
        except OperationPendingError:
            record.doomed = True
            return None
        except RevokeUnverifiedError:
            return LockFailure(target.entity_id, target.name, self._unverified(target, record))
        except ApiError as err:
            error = HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="access_code_revoke_failed",
                translation_placeholders={
                    "lock": target.name,
                    "code_id": record.code_id,
                    "error": _masked(err, record.code),
                },
            )
            error.__cause__ = err
            return LockFailure(target.entity_id, target.name, error)
        self._records.pop((record.entity_id, record.code_id), None)
        return None

    def _unverified(self, target: CodeTarget, record: CodeRecord) -> HomeAssistantError:
        """A revoke the vendor answered "not found" and nothing can check: a repair issue, and the error."""
        placeholders = {"lock": target.name, "code_id": record.code_id, "name": record.name}
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"access_code_unverified_{record.entity_id}_{record.code_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="access_code_revoke_unverified",
            translation_placeholders=placeholders,
        )
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="access_code_revoke_unverified",
            translation_placeholders=placeholders,
        )

    # -- settling ----------------------------------------------------------------------------------------

    @callback
    def _schedule_checks(self) -> None:
        """Check unsettled codes while there are any (see :mod:`.checker`)."""
        self._checker.schedule()

    @callback
    def async_check_soon(self, device_key: str, config_entry_id: str) -> None:
        """A lock (``<vendor>_<id>`` of that entry) reported synced codes: check them now, failed ones too."""
        device = compat.device_by_identifier(self.hass, (DOMAIN, device_key), config_entry_id)
        if device is None:
            return
        ent_reg = er.async_get(self.hass)
        entity_ids = {e.entity_id for e in er.async_entries_for_device(ent_reg, device.id) if is_code_lock(e)}
        if any(record.entity_id in entity_ids for record in self._records.values()):
            self._checker.check_soon(entity_ids)

    async def _async_check(self, _now: datetime | None = None) -> None:
        """One run of the checker (skipped while one is under way)."""
        await self._checker.async_check(_now)

    @callback
    def _fire(self, record: CodeRecord) -> None:
        fire_settled(self.hass, record)


class _CodeTakenError(HomeAssistantError):
    """A lock refused a PIN as already taken (after everything created so far was removed again)."""

    def __init__(self, target: CodeTarget, error: str) -> None:
        super().__init__(
            translation_domain=DOMAIN,
            translation_key="access_code_in_use",
            translation_placeholders={"lock": target.name, "error": error},
        )
