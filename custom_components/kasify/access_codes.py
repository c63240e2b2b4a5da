"""Timed access codes on the locks: one engine for Nuki, UniFi Access, RemoteLock and Kasify booking codes.

The :class:`AccessCodeManager` (one per Home Assistant instance, :func:`async_get_code_manager`) creates a
code on several locks at once, all or nothing; keeps every issued code in a ``Store``
(``.storage/kasify.access_codes``) with its status (pending until the lock confirms it, then on the lock, or
failed); re-checks pending codes on a timer with one list call per lock; and fires
``kasify_code_provisioned`` / ``kasify_code_failed`` when a code settles. The actions
``kasify.create_access_code``, ``kasify.revoke_access_code`` and ``kasify.list_access_codes`` are thin
wrappers around it.

PINs live only in the store and in the create action's response (and ``list_access_codes`` with
``include_codes: true``): never in logs, events, attributes or diagnostics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
import logging
import secrets
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    CALLBACK_TYPE,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from . import compat
from .api.errors import ConflictError, KasifyApiError, NotFoundError, OperationPendingError, ValidationError
from .api.http import redact
from .api.kasify import KasifyClient
from .api.nuki import KEYPAD_NAME_MAX_LENGTH, NukiClient, NukiKeypadCode
from .api.remotelock import RemoteLockClient
from .api.unifi_access import UnifiAccessClient, Visitor
from .code_policy import (
    RULE_DIGITS,
    RULE_LENGTH,
    RULE_NOT_DIGITS,
    RULE_PREFIX,
    VENDOR_KASIFY,
    VENDOR_NUKI,
    VENDOR_REMOTELOCK,
    VENDOR_RULES,
    VENDOR_UNIFI,
    CodeRules,
    NoCodeAvailableError,
    code_problem,
    combine,
    generate_code,
)
from .const import DOMAIN
from .providers.kasify import KasifyCoordinator
from .providers.nuki import NukiCoordinator

_LOGGER = logging.getLogger(__name__)

CODE_PENDING: Final = "pending"
CODE_ON_LOCK: Final = "on_lock"
CODE_FAILED: Final = "failed"

EVENT_CODE_PROVISIONED: Final = "kasify_code_provisioned"
EVENT_CODE_FAILED: Final = "kasify_code_failed"

SERVICE_CREATE_ACCESS_CODE: Final = "create_access_code"
SERVICE_REVOKE_ACCESS_CODE: Final = "revoke_access_code"
SERVICE_LIST_ACCESS_CODES: Final = "list_access_codes"

ATTR_NAME: Final = "name"
ATTR_CODE: Final = "code"
ATTR_CODE_ID: Final = "code_id"
ATTR_STARTS_AT: Final = "starts_at"
ATTR_ENDS_AT: Final = "ends_at"
ATTR_BOOKING_ID: Final = "booking_id"
ATTR_PROPERTY: Final = "property"
ATTR_INCLUDE_CODES: Final = "include_codes"

STORAGE_KEY: Final = f"{DOMAIN}.access_codes"
STORAGE_VERSION: Final = 1
CHECK_INTERVAL: Final = timedelta(seconds=30)
"""How often pending codes are checked again."""
SETTLE_TIMEOUT: Final = timedelta(minutes=10)
"""A code still pending this long after it was created counts as failed."""
KEEP_ENDED: Final = timedelta(days=7)
"""Codes whose window ended longer ago than this are dropped from the store when it loads."""
NUKI_CREATE_POLLS: Final[tuple[float, ...]] = (0.5, 1.0, 2.0)
"""Seconds to wait before each look for a new Nuki keypad code while the action runs (then: pending)."""
GENERATE_ATTEMPTS: Final = 3
"""A generated code a lock refuses as taken is replaced (everything rolled back first) this many times."""

_DATA_MANAGER: HassKey[AccessCodeManager] = HassKey(f"{DOMAIN}_access_codes")
_LOCK_SUFFIX: Final = "-lock"
_KASIFY_LOCK_PREFIX: Final = "kasify_lock_"
_PROVIDER_VENDORS: Final = (VENDOR_NUKI, VENDOR_UNIFI, VENDOR_REMOTELOCK)
_PENDING_PREFIX: Final = "pending-"
_RULE_KEYS: Final = {
    RULE_NOT_DIGITS: "access_code_not_digits",
    RULE_LENGTH: "access_code_length",
    RULE_DIGITS: "access_code_digits",
    RULE_PREFIX: "access_code_prefix",
}
_KASIFY_FAILED: Final = frozenset({"failed", "error"})


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A code on one lock, as the actions and the automatic per-booking codes see it."""

    entity_id: str
    code_id: str
    code: str
    starts_at: datetime
    ends_at: datetime
    status: str


@dataclass(slots=True)
class _Record:
    """What the store keeps per code on one lock."""

    entity_id: str
    code_id: str
    code: str
    name: str
    starts_at: datetime
    ends_at: datetime
    status: str
    vendor: str
    lock: str
    created_at: datetime
    booking_id: str | None = None
    provisional: bool = False
    """The vendor's id is not known yet (a Nuki code that has not shown up): ``code_id`` is ours."""
    doomed: bool = False
    """Rolled back or revoked while still provisional: delete it upstream as soon as it shows up."""

    def issued(self) -> IssuedCode:
        return IssuedCode(
            entity_id=self.entity_id,
            code_id=self.code_id,
            code=self.code,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            status=self.status,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "code_id": self.code_id,
            "code": self.code,
            "name": self.name,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "status": self.status,
            "vendor": self.vendor,
            "lock": self.lock,
            "created_at": self.created_at.isoformat(),
            "booking_id": self.booking_id,
            "provisional": self.provisional,
            "doomed": self.doomed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _Record:
        return cls(
            entity_id=str(data["entity_id"]),
            code_id=str(data["code_id"]),
            code=str(data["code"]),
            name=str(data["name"]),
            starts_at=datetime.fromisoformat(data["starts_at"]),
            ends_at=datetime.fromisoformat(data["ends_at"]),
            status=str(data["status"]),
            vendor=str(data["vendor"]),
            lock=str(data["lock"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            booking_id=data.get("booking_id"),
            provisional=bool(data.get("provisional", False)),
            doomed=bool(data.get("doomed", False)),
        )


@dataclass(frozen=True, slots=True)
class _Target:
    """A lock entity resolved to its vendor, the vendor's lock id and the client that reaches it."""

    entity_id: str
    vendor: str
    lock_id: str
    name: str
    client: Any
    rules: CodeRules
    keypad_paired: bool = True


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a vendor said about a code it created or was asked about."""

    code_id: str
    status: str
    provisional: bool = False


# --- vendor adapters --------------------------------------------------------------------------------------


class _Adapter(ABC):
    """How one vendor creates, checks, changes and removes a code (every method may raise KasifyApiError)."""

    async def existing_codes(self, target: _Target) -> set[str]:
        """PINs already on the lock, where the vendor lets us read them."""
        return set()

    @abstractmethod
    async def create(
        self,
        target: _Target,
        *,
        name: str,
        code: str,
        starts_at: datetime,
        ends_at: datetime,
        booking: str | None,
    ) -> _Outcome:
        """Put ``code`` on the lock for the window; the vendor's id and how far it got."""

    @abstractmethod
    async def remove(self, target: _Target, record: _Record, *, keep_history: bool) -> None:
        """Take the code off the lock (``keep_history``: deactivate where the vendor can, not delete)."""

    @abstractmethod
    async def update_window(
        self, target: _Target, record: _Record, starts_at: datetime, ends_at: datetime
    ) -> _Outcome:
        """Move the code's window, keeping its PIN."""

    async def statuses(self, target: _Target, records: Sequence[_Record]) -> dict[str, _Outcome]:
        """The current outcome per ``code_id`` of ``records`` (all on ``target``); missing: no news."""
        return {}


class _NukiAdapter(_Adapter):
    """Keypad codes (authorization type 13); 204 without an id, so the new code is looked up by name + PIN."""

    @staticmethod
    def _outcome(found: NukiKeypadCode) -> _Outcome:
        if found.error:
            return _Outcome(found.id, CODE_FAILED)
        pending = found.pending or found.updated_at is None
        return _Outcome(found.id, CODE_PENDING if pending else CODE_ON_LOCK)

    async def existing_codes(self, target: _Target) -> set[str]:
        client: NukiClient = target.client
        listed = await client.list_keypad_codes(target.lock_id, include_codes=True)
        return {str(item.code) for item in listed if item.code is not None}

    async def create(
        self,
        target: _Target,
        *,
        name: str,
        code: str,
        starts_at: datetime,
        ends_at: datetime,
        booking: str | None,
    ) -> _Outcome:
        client: NukiClient = target.client
        try:
            found = await client.create_keypad_code(
                target.lock_id,
                name=name,
                code=code,
                allowed_from=starts_at,
                allowed_until=ends_at,
                poll_delays=NUKI_CREATE_POLLS,
            )
        except OperationPendingError:
            return _Outcome(f"{_PENDING_PREFIX}{secrets.token_hex(6)}", CODE_PENDING, provisional=True)
        return self._outcome(found)

    async def _resolve(self, target: _Target, record: _Record) -> NukiKeypadCode | None:
        client: NukiClient = target.client
        return await client.find_keypad_code(target.lock_id, name=record.name, code=record.code)

    async def remove(self, target: _Target, record: _Record, *, keep_history: bool) -> None:
        client: NukiClient = target.client
        auth_id: str | None = record.code_id
        if record.provisional:
            found = await self._resolve(target, record)
            if found is None:
                raise OperationPendingError("the code has not shown up yet", lock_id=target.lock_id)
            auth_id = found.id
        assert auth_id is not None
        with contextlib.suppress(NotFoundError):
            await client.delete_keypad_code(target.lock_id, auth_id)

    async def update_window(
        self, target: _Target, record: _Record, starts_at: datetime, ends_at: datetime
    ) -> _Outcome:
        client: NukiClient = target.client
        code_id = record.code_id
        if record.provisional:
            found = await self._resolve(target, record)
            if found is None:
                raise OperationPendingError("the code has not shown up yet", lock_id=target.lock_id)
            code_id = found.id
        await client.update_keypad_code(
            target.lock_id, code_id, name=record.name, allowed_from=starts_at, allowed_until=ends_at
        )
        return _Outcome(code_id, record.status if record.status != CODE_FAILED else CODE_PENDING)

    async def statuses(self, target: _Target, records: Sequence[_Record]) -> dict[str, _Outcome]:
        client: NukiClient = target.client
        listed = await client.list_keypad_codes(target.lock_id, include_codes=True)
        by_id = {item.id: item for item in listed}
        by_pin = {(item.name.strip(), str(item.code)): item for item in listed if item.code is not None}
        outcomes: dict[str, _Outcome] = {}
        for record in records:
            if record.provisional:
                found = by_pin.get((record.name.strip(), record.code))
                if found is not None:
                    outcomes[record.code_id] = self._outcome(found)
            elif (item := by_id.get(record.code_id)) is not None:
                outcomes[record.code_id] = self._outcome(item)
            else:
                outcomes[record.code_id] = _Outcome(record.code_id, CODE_FAILED)
        return outcomes


class _UnifiAdapter(_Adapter):
    """A visitor for the door with a PIN; the controller pushes it to its readers at once."""

    @staticmethod
    def _outcome(visitor: Visitor) -> _Outcome:
        if visitor.status == "CANCELLED":
            return _Outcome(visitor.id, CODE_FAILED)
        return _Outcome(visitor.id, CODE_ON_LOCK if visitor.has_pin else CODE_PENDING)

    async def create(
        self,
        target: _Target,
        *,
        name: str,
        code: str,
        starts_at: datetime,
        ends_at: datetime,
        booking: str | None,
    ) -> _Outcome:
        client: UnifiAccessClient = target.client
        visitor = await client.create_timed_pin(
            name=name,
            pin=code,
            starts_at=starts_at,
            ends_at=ends_at,
            door_ids=[target.lock_id],
            remarks=f"Kasify booking {booking}" if booking else "Kasify",
        )
        return self._outcome(visitor)

    async def remove(self, target: _Target, record: _Record, *, keep_history: bool) -> None:
        client: UnifiAccessClient = target.client
        with contextlib.suppress(NotFoundError):
            await client.delete_visitor(record.code_id, force=True)

    async def update_window(
        self, target: _Target, record: _Record, starts_at: datetime, ends_at: datetime
    ) -> _Outcome:
        client: UnifiAccessClient = target.client
        return self._outcome(
            await client.update_visitor(record.code_id, starts_at=starts_at, ends_at=ends_at)
        )

    async def statuses(self, target: _Target, records: Sequence[_Record]) -> dict[str, _Outcome]:
        client: UnifiAccessClient = target.client
        visitors = {visitor.id: visitor for visitor in await client.list_visitors()}
        return {
            record.code_id: self._outcome(visitors[record.code_id])
            if record.code_id in visitors
            else _Outcome(record.code_id, CODE_FAILED)
            for record in records
        }


class _RemoteLockAdapter(_Adapter):
    """An access guest with the PIN plus an access grant to the lock; the grant syncs when the lock wakes."""

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

    async def create(
        self,
        target: _Target,
        *,
        name: str,
        code: str,
        starts_at: datetime,
        ends_at: datetime,
        booking: str | None,
    ) -> _Outcome:
        client: RemoteLockClient = target.client
        zone = await self._zone(client, target.lock_id)
        person = await client.create_access_guest(name, starts_at, ends_at, pin=code, time_zone=zone)
        try:
            access = await client.grant_access(person.id, target.lock_id)
        except BaseException:
            try:
                await client.delete_access_person(person.id)
            except KasifyApiError as cleanup:
                _LOGGER.warning("Could not remove RemoteLock access guest %s: %s", person.id, cleanup)
            raise
        return _Outcome(person.id, self._status(access.sync_status))

    async def remove(self, target: _Target, record: _Record, *, keep_history: bool) -> None:
        client: RemoteLockClient = target.client
        try:
            if keep_history:
                await client.deactivate_access_person(record.code_id)
            else:
                await client.delete_access_person(record.code_id)
        except NotFoundError:
            pass

    async def update_window(
        self, target: _Target, record: _Record, starts_at: datetime, ends_at: datetime
    ) -> _Outcome:
        client: RemoteLockClient = target.client
        zone = await self._zone(client, target.lock_id)
        await client.update_access_guest(record.code_id, starts_at=starts_at, ends_at=ends_at, time_zone=zone)
        return _Outcome(record.code_id, record.status)

    async def statuses(self, target: _Target, records: Sequence[_Record]) -> dict[str, _Outcome]:
        client: RemoteLockClient = target.client
        grants = {
            access.access_person_id: access.sync_status
            for access in await client.list_lock_accesses(target.lock_id)
            if access.access_person_id
        }
        return {
            record.code_id: _Outcome(record.code_id, self._status(grants[record.code_id]))
            for record in records
            if record.code_id in grants
        }


class _KasifyAdapter(_Adapter):
    """Kasify's booking access codes: Kasify writes the code to a lock whose provider is not set up here."""

    @staticmethod
    def _status(status: str | None) -> str:
        return CODE_FAILED if (status or "").lower() in _KASIFY_FAILED else CODE_ON_LOCK

    async def create(
        self,
        target: _Target,
        *,
        name: str,
        code: str,
        starts_at: datetime,
        ends_at: datetime,
        booking: str | None,
    ) -> _Outcome:
        client: KasifyClient = target.client
        assert booking is not None
        created = await client.create_access_codes(
            booking, smartlock_ids=[target.lock_id], starts_at=starts_at, ends_at=ends_at, code=code
        )
        first = created[0]
        return _Outcome(first.id, self._status(first.status))

    async def remove(self, target: _Target, record: _Record, *, keep_history: bool) -> None:
        client: KasifyClient = target.client
        assert record.booking_id is not None
        with contextlib.suppress(NotFoundError):
            await client.revoke_access_code(record.booking_id, record.code_id)

    async def update_window(
        self, target: _Target, record: _Record, starts_at: datetime, ends_at: datetime
    ) -> _Outcome:
        # No update endpoint: the code is replaced by one with the same PIN.
        await self.remove(target, record, keep_history=True)
        return await self.create(
            target,
            name=record.name,
            code=record.code,
            starts_at=starts_at,
            ends_at=ends_at,
            booking=record.booking_id,
        )


_ADAPTERS: Final[dict[str, _Adapter]] = {
    VENDOR_NUKI: _NukiAdapter(),
    VENDOR_UNIFI: _UnifiAdapter(),
    VENDOR_REMOTELOCK: _RemoteLockAdapter(),
    VENDOR_KASIFY: _KasifyAdapter(),
}


# --- helpers ----------------------------------------------------------------------------------------------


def _masked(err: Exception, code: str | None) -> str:
    """The error's text, with the PIN blotted out should an upstream have echoed it."""
    return redact(str(err) or err.__class__.__name__, [code])


def _code_taken(err: KasifyApiError) -> bool:
    """Whether a vendor refused the PIN because something else already has it."""
    if isinstance(err, ConflictError):
        return True
    return isinstance(err, ValidationError) and any(key in err.fields for key in ("code", "pin", "pin_code"))


def _aware(value: datetime) -> datetime:
    """A naive time from the UI is Home Assistant's local time."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt_util.get_default_time_zone())


def _validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _entity_name(hass: HomeAssistant, entry: er.RegistryEntry) -> str:
    if entry.device_id and (device := dr.async_get(hass).async_get(entry.device_id)) is not None:
        return device.name_by_user or device.name or entry.entity_id
    state = hass.states.get(entry.entity_id)
    return state.name if state is not None else entry.entity_id


def _provider_key(entry: er.RegistryEntry) -> tuple[str, str] | None:
    """``(vendor, lock id)`` of one of our lock entities, from its unique id (``<vendor>_<id>-lock``)."""
    if entry.platform != DOMAIN or not entry.unique_id.endswith(_LOCK_SUFFIX):
        return None
    key = entry.unique_id.removesuffix(_LOCK_SUFFIX)
    if entry.domain == "binary_sensor" and key.startswith(_KASIFY_LOCK_PREFIX):
        return VENDOR_KASIFY, key.removeprefix(_KASIFY_LOCK_PREFIX)
    vendor, _, lock_id = key.partition("_")
    if entry.domain == "lock" and vendor in _PROVIDER_VENDORS and lock_id:
        return vendor, lock_id
    return None


# --- the manager ------------------------------------------------------------------------------------------


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
        self._records: dict[tuple[str, str], _Record] = {}
        self._loaded = False
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._create_lock = asyncio.Lock()
        self._load_lock = asyncio.Lock()

    # -- store -------------------------------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the stored codes (once), and resume checking the pending ones."""
        async with self._load_lock:
            if self._loaded:
                return
            data = await self._store.async_load() or {}
            cutoff = dt_util.utcnow() - KEEP_ENDED
            for raw in data.get("codes", []):
                try:
                    record = _Record.from_dict(raw)
                except (KeyError, TypeError, ValueError):
                    _LOGGER.warning("Ignoring an unreadable stored access code")
                    continue
                if record.ends_at >= cutoff:
                    self._records[(record.entity_id, record.code_id)] = record
            self._loaded = True
        self._schedule_checks()

    async def _async_save(self) -> None:
        await self._store.async_save({"codes": [record.as_dict() for record in self._records.values()]})

    # -- lookups -----------------------------------------------------------------------------------------

    def codes_for_booking(self, booking_id: str) -> list[IssuedCode]:
        """Every code issued for a booking (on any lock)."""
        return [
            record.issued()
            for record in self._records.values()
            if record.booking_id == booking_id and not record.doomed
        ]

    def lock_entities_for_property(self, property_device_id: str) -> list[str]:
        """Controllable lock entities (Nuki / UniFi Access / RemoteLock) of the property device."""
        ent_reg, dev_reg = er.async_get(self.hass), dr.async_get(self.hass)
        found = []
        # Only loaded accounts can put a code on a lock: their devices hanging under the property.
        for config_entry in self.hass.config_entries.async_loaded_entries(DOMAIN):
            for device in dr.async_entries_for_config_entry(dev_reg, config_entry.entry_id):
                if device.via_device_id != property_device_id:
                    continue
                for entry in er.async_entries_for_device(ent_reg, device.id):
                    key = _provider_key(entry)
                    if key is not None and key[0] != VENDOR_KASIFY:
                        found.append(entry.entity_id)
        return sorted(found)

    def records(
        self, entity_ids: Iterable[str] | None = None, booking_id: str | None = None
    ) -> list[_Record]:
        """Stored codes (optionally of some locks and/or one booking), by lock then start."""
        wanted = set(entity_ids) if entity_ids is not None else None
        return sorted(
            (
                record
                for record in self._records.values()
                if not record.doomed
                and (wanted is None or record.entity_id in wanted)
                and (booking_id is None or record.booking_id == booking_id)
            ),
            key=lambda record: (record.entity_id, record.starts_at, record.code_id),
        )

    # -- targets -----------------------------------------------------------------------------------------

    def _target(self, entity_id: str) -> _Target:
        """Resolve one lock entity (a provider lock, or a Kasify read-only lock sensor).

        Raises:
            ServiceValidationError: Not one of our locks, or its account is not loaded.
        """
        entry = er.async_get(self.hass).async_get(entity_id)
        key = _provider_key(entry) if entry is not None else None
        if entry is None or key is None:
            raise _validation_error("access_code_not_a_lock", entity=entity_id)
        vendor, lock_id = key
        name = _entity_name(self.hass, entry)
        config_entry = (
            self.hass.config_entries.async_get_entry(entry.config_entry_id) if entry.config_entry_id else None
        )
        if config_entry is None or config_entry.state is not ConfigEntryState.LOADED:
            raise _validation_error("access_code_lock_not_loaded", lock=name)
        runtime = config_entry.runtime_data
        client = runtime.client
        expected: dict[str, type] = {
            VENDOR_NUKI: NukiClient,
            VENDOR_UNIFI: UnifiAccessClient,
            VENDOR_REMOTELOCK: RemoteLockClient,
            VENDOR_KASIFY: KasifyClient,
        }
        if not isinstance(client, expected[vendor]):
            raise _validation_error("access_code_not_a_lock", entity=entity_id)
        rules = VENDOR_RULES[vendor]
        keypad = True
        coordinator = runtime.coordinator
        if vendor == VENDOR_NUKI and isinstance(coordinator, NukiCoordinator) and coordinator.data:
            nuki_lock = coordinator.data.locks.get(int(lock_id)) if lock_id.isdigit() else None
            keypad = nuki_lock is None or nuki_lock.keypad_paired
        if vendor == VENDOR_KASIFY and isinstance(coordinator, KasifyCoordinator) and coordinator.data:
            smart_lock = coordinator.data.smart_locks.get(lock_id)
            if smart_lock is not None and smart_lock.vendor in VENDOR_RULES:
                rules = combine([rules, VENDOR_RULES[smart_lock.vendor]])
        return _Target(entity_id, vendor, lock_id, name, client, rules, keypad)

    def _targets(self, entity_ids: Sequence[str]) -> list[_Target]:
        unique = list(dict.fromkeys(entity_ids))
        if not unique:
            raise _validation_error("access_code_no_locks")
        return [self._target(entity_id) for entity_id in unique]

    def _check_booking(self, target: _Target, booking_id: str) -> None:
        """A Kasify lock's booking must be one of that lock's property (when the booking is known)."""
        for config_entry in self.hass.config_entries.async_loaded_entries(DOMAIN):
            coordinator = config_entry.runtime_data.coordinator
            if not isinstance(coordinator, KasifyCoordinator) or coordinator.data is None:
                continue
            smart_lock = coordinator.data.smart_locks.get(target.lock_id)
            if smart_lock is None:
                continue
            for bookings in coordinator.data.bookings.values():
                for booking in bookings:
                    if booking.id == booking_id and booking.property_id != smart_lock.property_id:
                        raise _validation_error(
                            "access_code_booking_other_property", lock=target.name, booking=booking_id
                        )

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
        """Create one code on every lock, all or nothing (see the module docstring).

        Calls run one at a time, so two concurrent calls never pick the same code.
        """
        await self.async_load()
        async with self._create_lock:
            return await self._async_create(
                entity_ids,
                name=name,
                code=code,
                starts_at=starts_at,
                ends_at=ends_at,
                booking_id=booking_id,
                avoid=avoid,
            )

    async def _async_create(
        self,
        entity_ids: Sequence[str],
        *,
        name: str,
        code: str | None,
        starts_at: datetime,
        ends_at: datetime,
        booking_id: str | None,
        avoid: Iterable[str],
    ) -> dict[str, IssuedCode]:
        name = name.strip()
        code = code.strip() if code is not None else None
        starts_at, ends_at = _aware(starts_at), _aware(ends_at)
        if not name:
            raise _validation_error("access_code_name_empty")
        if ends_at <= starts_at:
            raise _validation_error("access_code_window_invalid")
        if ends_at <= dt_util.utcnow():
            raise _validation_error("access_code_window_past")
        targets = self._targets(entity_ids)
        for target in targets:
            if target.vendor == VENDOR_KASIFY:
                if not booking_id:
                    raise _validation_error("access_code_booking_required", lock=target.name)
                self._check_booking(target, booking_id)
            if target.vendor == VENDOR_NUKI:
                if not target.keypad_paired:
                    raise _validation_error("access_code_no_keypad", lock=target.name)
                if len(name) > KEYPAD_NAME_MAX_LENGTH:
                    raise _validation_error(
                        "access_code_name_too_long", lock=target.name, max=str(KEYPAD_NAME_MAX_LENGTH)
                    )
        if code is not None:
            for target in targets:
                if (problem := code_problem(code, target.rules)) is not None:
                    raise _validation_error(_RULE_KEYS[problem.rule], lock=target.name, detail=problem.detail)
        rules = combine(target.rules for target in targets)
        if code is None and not rules.satisfiable:
            raise _validation_error(
                "access_code_no_common_format", locks=", ".join(target.name for target in targets)
            )
        on_locks = await self._codes_on(targets)
        if code is not None:
            for target in targets:
                if code in on_locks[target.entity_id]:
                    raise _validation_error("access_code_in_use", lock=target.name)
        taken = {record.code for record in self._records.values()}
        for codes in on_locks.values():
            taken |= codes
        avoid = list(avoid)
        for attempt in range(GENERATE_ATTEMPTS):
            pin = code
            if pin is None:
                try:
                    pin = generate_code(rules, taken=taken, avoid=avoid)
                except NoCodeAvailableError as err:
                    raise _validation_error(
                        "access_code_no_common_format", locks=", ".join(target.name for target in targets)
                    ) from err
            try:
                created = await self._create_all(targets, name, pin, starts_at, ends_at, booking_id)
            except _CodeTakenError:
                if code is not None or attempt == GENERATE_ATTEMPTS - 1:
                    raise
                taken.add(pin)
                continue
            break
        await self._async_save()
        for record in created:
            if record.status != CODE_PENDING:
                self._fire(record)
        self._schedule_checks()
        return {record.entity_id: record.issued() for record in created}

    async def _codes_on(self, targets: Sequence[_Target]) -> dict[str, set[str]]:
        """PINs already on each lock (stored ones, plus what the vendor lists where it can)."""
        found: dict[str, set[str]] = {}
        for target in targets:
            try:
                listed = await _ADAPTERS[target.vendor].existing_codes(target)
            except KasifyApiError as err:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="access_code_lookup_failed",
                    translation_placeholders={"lock": target.name, "error": _masked(err, None)},
                ) from err
            stored = {r.code for r in self._records.values() if r.entity_id == target.entity_id}
            found[target.entity_id] = listed | stored
        return found

    async def _create_all(
        self,
        targets: Sequence[_Target],
        name: str,
        pin: str,
        starts_at: datetime,
        ends_at: datetime,
        booking_id: str | None,
    ) -> list[_Record]:
        """Create the code on each lock in turn; on a failure remove what this call created, then raise."""
        created: list[tuple[_Target, _Record]] = []
        now = dt_util.utcnow()
        for target in targets:
            try:
                outcome = await _ADAPTERS[target.vendor].create(
                    target, name=name, code=pin, starts_at=starts_at, ends_at=ends_at, booking=booking_id
                )
            except asyncio.CancelledError:
                await self._rollback(created)
                raise
            except (KasifyApiError, ValueError) as err:
                leftover = await self._rollback(created)
                if leftover:
                    raise HomeAssistantError(
                        translation_domain=DOMAIN,
                        translation_key="access_code_rollback_failed",
                        translation_placeholders={
                            "lock": target.name,
                            "error": _masked(err, pin),
                            "leftover": ", ".join(leftover),
                        },
                    ) from err
                if isinstance(err, KasifyApiError) and _code_taken(err):
                    raise _CodeTakenError(target, _masked(err, pin)) from err
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="access_code_create_failed",
                    translation_placeholders={"lock": target.name, "error": _masked(err, pin)},
                ) from err
            record = _Record(
                entity_id=target.entity_id,
                code_id=outcome.code_id,
                code=pin,
                name=name,
                starts_at=starts_at,
                ends_at=ends_at,
                status=outcome.status,
                vendor=target.vendor,
                lock=target.name,
                created_at=now,
                booking_id=booking_id,
                provisional=outcome.provisional,
            )
            created.append((target, record))
        for _target, record in created:
            self._records[(record.entity_id, record.code_id)] = record
        return [record for _target, record in created]

    async def _rollback(self, created: Sequence[tuple[_Target, _Record]]) -> list[str]:
        """Remove the codes of an unfinished call; the names of the locks where that failed."""
        leftover = []
        for target, record in reversed(created):
            try:
                await _ADAPTERS[target.vendor].remove(target, record, keep_history=False)
            except OperationPendingError:
                # Not visible yet: deleted by the checker as soon as it shows up.
                record.doomed = True
                self._records[(record.entity_id, record.code_id)] = record
            except KasifyApiError as err:
                _LOGGER.warning(
                    "Could not remove the new code on %s again: %s", target.name, _masked(err, record.code)
                )
                leftover.append(target.name)
        if any(record.doomed for _target, record in created):
            await self._async_save()
            self._schedule_checks()
        return leftover

    # -- change and revoke -------------------------------------------------------------------------------

    async def async_update_window(
        self, codes: Mapping[str, str], *, starts_at: datetime, ends_at: datetime
    ) -> dict[str, IssuedCode]:
        """Move the validity window of codes (``entity_id → code_id``), keeping each PIN."""
        await self.async_load()
        starts_at, ends_at = _aware(starts_at), _aware(ends_at)
        if ends_at <= starts_at:
            raise _validation_error("access_code_window_invalid")
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
                outcome = await _ADAPTERS[target.vendor].update_window(target, record, starts_at, ends_at)
            except KasifyApiError as err:
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
        """Revoke codes (``entity_id → code_id``); a code already gone upstream counts as revoked.

        RemoteLock guests are deactivated (their history stays); the others are deleted.
        """
        await self.async_load()
        work = []
        for entity_id, code_id in codes.items():
            target = self._target(entity_id)
            record = self._records.get((entity_id, code_id))
            if record is None:
                if target.vendor == VENDOR_KASIFY or code_id.startswith(_PENDING_PREFIX):
                    raise _validation_error("access_code_unknown", lock=target.name, code_id=code_id)
                record = _Record(
                    entity_id=entity_id,
                    code_id=code_id,
                    code="",
                    name="",
                    starts_at=dt_util.utcnow(),
                    ends_at=dt_util.utcnow(),
                    status=CODE_ON_LOCK,
                    vendor=target.vendor,
                    lock=target.name,
                    created_at=dt_util.utcnow(),
                )
            work.append((target, record))
        try:
            for target, record in work:
                try:
                    await _ADAPTERS[target.vendor].remove(target, record, keep_history=True)
                except OperationPendingError:
                    record.doomed = True
                    continue
                except KasifyApiError as err:
                    raise HomeAssistantError(
                        translation_domain=DOMAIN,
                        translation_key="access_code_revoke_failed",
                        translation_placeholders={
                            "lock": target.name,
                            "code_id": record.code_id,
                            "error": _masked(err, record.code),
                        },
                    ) from err
                self._records.pop((record.entity_id, record.code_id), None)
        finally:
            await self._async_save()
            self._schedule_checks()

    # -- settling ----------------------------------------------------------------------------------------

    @callback
    def _schedule_checks(self) -> None:
        """Check pending codes every :data:`CHECK_INTERVAL` while there are any."""
        pending = any(record.status == CODE_PENDING for record in self._records.values())
        if pending and self._unsub_timer is None:
            self._unsub_timer = async_track_time_interval(
                self.hass,
                self._async_check,
                CHECK_INTERVAL,
                name="kasify access codes",
                cancel_on_shutdown=True,
            )
        elif not pending and self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None

    async def _async_check(self, _now: datetime | None = None) -> None:
        """Ask each lock with pending codes about all of them at once (one list call per lock)."""
        now = dt_util.utcnow()
        by_lock: dict[str, list[_Record]] = {}
        for record in self._records.values():
            if record.status == CODE_PENDING:
                by_lock.setdefault(record.entity_id, []).append(record)
        changed = False
        for entity_id, records in by_lock.items():
            outcomes: dict[str, _Outcome] = {}
            target: _Target | None = None
            try:
                target = self._target(entity_id)
                outcomes = await _ADAPTERS[target.vendor].statuses(target, records)
            except (ServiceValidationError, KasifyApiError) as err:
                _LOGGER.debug(
                    "Could not check the pending codes on %s: %s", entity_id, err.__class__.__name__
                )
            for record in records:
                outcome = outcomes.get(record.code_id)
                key = (record.entity_id, record.code_id)
                if record.doomed:
                    changed |= await self._async_finish_doomed(target, record, outcome, now)
                    continue
                if outcome is not None and (
                    outcome.status != CODE_PENDING or outcome.code_id != record.code_id
                ):
                    del self._records[key]
                    record.code_id, record.status = outcome.code_id, outcome.status
                    record.provisional = outcome.provisional
                    self._records[(record.entity_id, record.code_id)] = record
                    changed = True
                    if record.status != CODE_PENDING:
                        self._fire(record)
                elif now - record.created_at >= SETTLE_TIMEOUT:
                    record.status = CODE_FAILED
                    changed = True
                    self._fire(record)
        if changed:
            await self._async_save()
        self._schedule_checks()

    async def _async_finish_doomed(
        self, target: _Target | None, record: _Record, outcome: _Outcome | None, now: datetime
    ) -> bool:
        """A rolled-back code that has shown up is deleted; one that never does is forgotten."""
        key = (record.entity_id, record.code_id)
        if target is not None and outcome is not None and outcome.code_id != record.code_id:
            gone = replace(record, code_id=outcome.code_id, provisional=False)
            try:
                await _ADAPTERS[target.vendor].remove(target, gone, keep_history=False)
            except KasifyApiError:
                return False
            del self._records[key]
            return True
        if now - record.created_at >= SETTLE_TIMEOUT:
            del self._records[key]
            return True
        return False

    @callback
    def _fire(self, record: _Record) -> None:
        """Tell automations a code settled (never with the PIN)."""
        self.hass.bus.async_fire(
            EVENT_CODE_PROVISIONED if record.status == CODE_ON_LOCK else EVENT_CODE_FAILED,
            {
                "entity_id": record.entity_id,
                "code_id": record.code_id,
                "name": record.name,
                "booking_id": record.booking_id,
                "lock": record.lock,
            },
        )


class _CodeTakenError(HomeAssistantError):
    """A lock refused a PIN as already taken (after everything created so far was removed again)."""

    def __init__(self, target: _Target, error: str) -> None:
        super().__init__(
            translation_domain=DOMAIN,
            translation_key="access_code_in_use",
            translation_placeholders={"lock": target.name, "error": error},
        )


# --- actions ----------------------------------------------------------------------------------------------

_CODE_SCHEMA = vol.All(cv.string, vol.Strip, vol.Length(min=1))


def _entity_schema(fields: dict[Any, Any]) -> vol.Schema:
    """Target fields (entity, device, area, ...) plus ``fields``; the action checks a target is given."""
    return vol.Schema({**cv.ENTITY_SERVICE_FIELDS, **fields})


CREATE_SCHEMA: Final = _entity_schema(
    {
        vol.Required(ATTR_NAME): vol.All(cv.string, vol.Strip),
        vol.Optional(ATTR_CODE): _CODE_SCHEMA,
        vol.Required(ATTR_STARTS_AT): cv.datetime,
        vol.Required(ATTR_ENDS_AT): cv.datetime,
        vol.Optional(ATTR_BOOKING_ID): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
    }
)
REVOKE_SCHEMA: Final = _entity_schema(
    {vol.Required(ATTR_CODE_ID): vol.All(cv.string, vol.Strip, vol.Length(min=1))}
)
LIST_SCHEMA: Final = _entity_schema(
    {
        vol.Optional(ATTR_PROPERTY): cv.string,
        vol.Optional(ATTR_BOOKING_ID): cv.string,
        vol.Optional(ATTR_INCLUDE_CODES, default=False): cv.boolean,
    }
)


def _target_entities(hass: HomeAssistant, call: ServiceCall) -> list[str]:
    """The lock entities the call targets: explicit ones as given, and ours among devices/areas."""
    referenced, indirectly_referenced = compat.referenced_entity_ids(hass, call)
    ent_reg = er.async_get(hass)
    indirect = [
        entity_id
        for entity_id in sorted(indirectly_referenced)
        if (entry := ent_reg.async_get(entity_id)) is not None and _provider_key(entry) is not None
    ]
    return sorted(referenced) + [e for e in indirect if e not in referenced]


def _iso(value: datetime) -> str:
    return dt_util.as_utc(value).isoformat()


async def _async_create(call: ServiceCall) -> ServiceResponse:
    manager = async_get_code_manager(call.hass)
    issued = await manager.async_create(
        _target_entities(call.hass, call),
        name=call.data[ATTR_NAME],
        code=call.data.get(ATTR_CODE),
        starts_at=call.data[ATTR_STARTS_AT],
        ends_at=call.data[ATTR_ENDS_AT],
        booking_id=call.data.get(ATTR_BOOKING_ID),
    )
    return {
        entity_id: {
            "code_id": code.code_id,
            "code": code.code,
            "starts_at": _iso(code.starts_at),
            "ends_at": _iso(code.ends_at),
            "status": code.status,
        }
        for entity_id, code in issued.items()
    }


async def _async_revoke(call: ServiceCall) -> None:
    manager = async_get_code_manager(call.hass)
    entity_ids = _target_entities(call.hass, call)
    if not entity_ids:
        raise _validation_error("access_code_no_locks")
    await manager.async_revoke(dict.fromkeys(entity_ids, call.data[ATTR_CODE_ID]))


async def _async_list(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    manager = async_get_code_manager(hass)
    await manager.async_load()
    entity_ids: set[str] | None = None
    if any(call.data.get(key) for key in (ATTR_ENTITY_ID, "device_id", "area_id", "floor_id", "label_id")):
        entity_ids = set(_target_entities(hass, call))
    if (property_id := call.data.get(ATTR_PROPERTY)) is not None:
        if dr.async_get(hass).async_get(property_id) is None:
            raise _validation_error("access_code_property_unknown", property=property_id)
        # Any lock of the property that has codes: provider locks and Kasify's own, loaded or not.
        ent_reg, dev_reg = er.async_get(hass), dr.async_get(hass)
        of_property = set()
        for record in manager.records():
            entry = ent_reg.async_get(record.entity_id)
            device = dev_reg.async_get(entry.device_id) if entry is not None and entry.device_id else None
            if device is not None and device.via_device_id == property_id:
                of_property.add(record.entity_id)
        entity_ids = of_property if entity_ids is None else entity_ids & of_property
    include = call.data[ATTR_INCLUDE_CODES]
    listed: list[JsonValueType] = []
    for record in manager.records(entity_ids, call.data.get(ATTR_BOOKING_ID)):
        item: dict[str, JsonValueType] = {
            "entity_id": record.entity_id,
            "lock": record.lock,
            "code_id": record.code_id,
            "name": record.name,
            "starts_at": _iso(record.starts_at),
            "ends_at": _iso(record.ends_at),
            "status": record.status,
            "booking_id": record.booking_id,
        }
        if include:
            item["code"] = record.code
        listed.append(item)
    return {"codes": listed}


@callback
def async_setup_access_code_services(hass: HomeAssistant) -> None:
    """Register the three access-code actions (once, from ``async_setup``) and load the stored codes."""
    manager = async_get_code_manager(hass)
    hass.async_create_task(manager.async_load(), "kasify access codes load")
    hass.services.async_register(
        DOMAIN,
        SERVICE_CREATE_ACCESS_CODE,
        _async_create,
        schema=CREATE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(DOMAIN, SERVICE_REVOKE_ACCESS_CODE, _async_revoke, schema=REVOKE_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_ACCESS_CODES,
        _async_list,
        schema=LIST_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
