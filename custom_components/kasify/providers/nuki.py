"""Nuki Web accounts: Smart Locks and Openers, their keypad codes, activity log and Smart Hosting repairs.

A refresh is 2 requests: every lock (``GET /smartlock``) and the account's log since the last entry seen.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
import contextlib
from dataclasses import replace
from datetime import datetime
import secrets
from typing import Any, Final

from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
import voluptuous as vol

from .. import forms
from ..access_codes.adapter import CodeAdapter, confirm_gone, validation_error
from ..access_codes.policy import VENDOR_NUKI, VENDOR_RULES
from ..access_codes.records import (
    CODE_FAILED,
    CODE_ON_LOCK,
    CODE_PENDING,
    PENDING_PREFIX,
    CodeRecord,
    CodeTarget,
    NewCode,
    Outcome,
)
from ..api.errors import (
    ApiError,
    NotFoundError,
    OperationPendingError,
    PartialWriteError,
    SmartHostingRequiredError,
    SubscriptionRequiredError,
    ValidationError,
)
from ..api.models import Account
from ..api.nuki import (
    KEYPAD_NAME_MAX_LENGTH,
    NukiClient,
    NukiEvent,
    NukiKeypadCode,
    NukiSmartLock,
    NukiSnapshot,
)
from ..code_use import async_report_code_use
from ..const import CONF_API_TOKEN, DEFAULT_NUKI_URL, DOMAIN, KIND_NUKI
from ..coordinator import (
    KasifyConfigEntry,
    KasifyRuntimeData,
    LockView,
    ProviderCoordinator,
    signal_lock_activity,
)
from ..links import STAY_CHANGE_INTERVAL, reload_property_sources, stay_change_near
from ..scale import first_by, loop_turns


class NukiCoordinator(ProviderCoordinator[NukiSnapshot, NukiClient]):
    """Polls one Nuki Web account: 1 request for every lock (``GET /smartlock``) + 1 for the account's log.

    New log entries (never seen before, newer than the first refresh) are handed to the locks' activity
    event entities; locks without an active Smart Hosting subscription get a repair issue: when the listing
    says so, and when Nuki refuses an action or keypad code write for it (the listing may not say so then:
    that repair stays until Nuki accepts a write on the lock again).
    """

    kind = KIND_NUKI
    vendor = "nuki"
    upstream_name = "Nuki"
    activity_event_types = tuple(event.value for event in NukiEvent)

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: NukiClient) -> None:
        """Poll ``client``'s account at the interval chosen in the options."""
        super().__init__(hass, entry, client)
        self._seen_logs: set[str] | None = None
        self._logs_since: datetime | None = None
        self._refused_writes: set[int] = set()

    async def _fetch(self) -> NukiSnapshot:
        snapshot = await self.client.fetch_snapshot(logs_since=self._logs_since)
        self._dispatch_new_logs(snapshot)
        return snapshot

    def _dispatch_new_logs(self, snapshot: NukiSnapshot) -> None:
        """New activity entries go to their lock's event entity (the first refresh only learns them).

        Only the entries the next read can return again are remembered: the API's ``since`` is inclusive,
        so those of the newest instant come again and are skipped as seen; older ones never come back.
        """
        first = self._seen_logs is None
        seen = self._seen_logs or set()
        for entry in reversed(snapshot.logs):  # oldest first
            if entry.id in seen:
                continue
            seen.add(entry.id)
            event = entry.event
            if first or event is None:
                continue
            device_key = f"nuki_{entry.smartlock_id}"
            async_dispatcher_send(
                self.hass,
                signal_lock_activity(self.config_entry.entry_id, device_key),
                event.value,
                {"by": entry.name, "at": entry.date.isoformat()},
            )
            if event in (NukiEvent.CODE_USED, NukiEvent.ACCESS_DENIED):
                # The entry's authId is the keypad authorization's id: the code the engine issued.
                async_report_code_use(
                    self.hass, device_key, entry.auth_id, granted=event is NukiEvent.CODE_USED, at=entry.date
                )
        if snapshot.logs:
            newest = max(entry.date for entry in snapshot.logs)
            self._logs_since = newest
            seen = {entry.id for entry in snapshot.logs if entry.date >= newest}
        self._seen_logs = seen

    def device_keys(self, data: NukiSnapshot) -> set[str]:
        """The account's locks."""
        return {lock.device_key for lock in data.locks.values()}

    def _refreshed(self, data: NukiSnapshot) -> None:
        for lock_id in data.locks:
            self._sync_smart_hosting_issue(lock_id)
        self.update_interval = (
            STAY_CHANGE_INTERVAL
            if stay_change_near(self.hass, self.device_keys(data))
            else self._normal_interval
        )

    def _sync_smart_hosting_issue(self, lock_id: int) -> None:
        """Show the lock's Smart Hosting repair while the listing says it is missing or writes are refused."""
        lock = self.data.locks.get(lock_id) if self.data is not None else None
        issue_id = f"nuki_smart_hosting_{lock_id}"
        if (lock is not None and lock.subscription_missing) or lock_id in self._refused_writes:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="nuki_smart_hosting",
                translation_placeholders={"lock": (lock.name if lock else None) or str(lock_id)},
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    @contextlib.contextmanager
    def writing(self, lock_id: int | str) -> Iterator[None]:
        """Around an action or a keypad code write to one lock.

        A Smart Hosting refusal (whatever its status) raises the lock's repair; a write that goes through
        takes back the repair an earlier refusal raised (the listing's own verdict stays).
        """
        key = int(lock_id) if str(lock_id).isdigit() else None
        try:
            yield
        except SmartHostingRequiredError:
            if key is not None:
                self._refused_writes.add(key)
                self._sync_smart_hosting_issue(key)
            raise
        if key is not None and key in self._refused_writes:
            self._refused_writes.discard(key)
            self._sync_smart_hosting_issue(key)

    async def async_refresh_lock(self, lock_id: int) -> None:
        """After an action, read that one lock again (1 request) instead of the whole account."""
        lock = await self.client.get_smartlock(lock_id)
        locks = {**self.data.locks, lock_id: lock}
        self.async_set_updated_data(replace(self.data, locks=locks))

    # -- the locks as entities show them, and what they do ---------------------------------------------------

    def _lock_views(self, data: NukiSnapshot) -> dict[str, LockView]:
        return {lock.device_key: _view(lock) for lock in data.locks.values()}

    def lock_of(self, device_key: str) -> NukiSmartLock | None:
        """The Nuki record of a lock, by device key."""
        data = self.data
        return self.per_data.get(
            "by_key", (data,), lambda: first_by(data.locks.values(), lambda lock: lock.device_key)
        ).get(device_key)

    async def async_send_action(self, device_key: str, action: str) -> None:
        """Lock, unlock or unlatch (``open``)."""
        lock = self.lock_of(device_key)
        if lock is None:
            raise ApiError(f"Nuki lock {device_key} is gone")
        send = {"lock": self.client.lock, "unlock": self.client.unlock, "open": self.client.unlatch}[action]
        with self.writing(lock.id):
            await send(lock.id)

    async def async_show_after_action(self, device_key: str) -> None:
        """Read that one lock again (1 request, not the account); should that fail, the next poll shows it."""
        if (lock := self.lock_of(device_key)) is not None:
            with contextlib.suppress(ApiError):
                await self.async_refresh_lock(lock.id)

    def action_failure(self, err: ApiError, action: str, lock: str) -> HomeAssistantError:
        """Smart Hosting missing gets its own message (the fix is a subscription, not a retry)."""
        if isinstance(err, SubscriptionRequiredError):
            return HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="nuki_subscription_required",
                translation_placeholders={"lock": lock},
            )
        return super().action_failure(err, action, lock)

    def code_target(self, device_key: str, entity_id: str, name: str) -> CodeTarget | None:
        """Keypad codes of one of the account's locks."""
        lock_id = device_key.removeprefix(f"{self.vendor}_")
        return CodeTarget(
            entity_id, VENDOR_NUKI, lock_id, name, self.client, VENDOR_RULES[VENDOR_NUKI], NUKI_CODES, self
        )


def _view(lock: NukiSmartLock) -> LockView:
    return LockView(
        device_key=lock.device_key,
        unique_id_base=lock.device_key,
        name=lock.name or None,
        status=lock.status,
        manufacturer="Nuki",
        model=lock.model,
        serial_number=str(lock.id),
        sw_version=lock.firmware,
        can_open=lock.supports_open,
        battery_level=lock.battery_charge,
        has_battery_critical=True,
        battery_critical=lock.battery_critical,
        battery_charging=lock.battery_charging,
        connected=lock.connected,
        has_door_sensor=lock.has_door_sensor,
        door_open=lock.door_open,
    )


# --- adding the account ----------------------------------------------------------------------------------

SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_URL, default=DEFAULT_NUKI_URL): forms.URL,
        vol.Required(CONF_API_TOKEN): forms.SECRET,
    }
)


async def async_validate(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """``GET /account`` on the Nuki Web API with the entered token."""
    forms.check_secure_url(CONF_URL, data[CONF_URL])
    client = NukiClient(async_get_clientsession(hass), data[CONF_API_TOKEN], base_url=data[CONF_URL])
    account = await client.get_account()
    return Account(id=account.id, name=f"Nuki {account.name}")


async def async_setup(hass: HomeAssistant, entry: KasifyConfigEntry) -> KasifyRuntimeData:
    """Connect and load the account; the Kasify accounts stop showing these locks read-only."""
    client = NukiClient(
        async_get_clientsession(hass),
        entry.data[CONF_API_TOKEN],
        base_url=entry.data[CONF_URL],
        turns=loop_turns(hass),
    )
    coordinator = NukiCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    reload_property_sources(hass, entry)
    return KasifyRuntimeData(client=client, coordinator=coordinator)


# --- keypad codes ---------------------------------------------------------------------------------------

NUKI_CREATE_POLLS: Final[tuple[float, ...]] = (0.5, 1.0, 2.0)
"""Seconds to wait before each look for a new Nuki keypad code while the action runs (then: pending)."""


def _coordinator(target: CodeTarget) -> NukiCoordinator:
    coordinator: NukiCoordinator = target.coordinator
    return coordinator


class NukiCodes(CodeAdapter):
    """Keypad codes (authorization type 13); 204 without an id, so the new code is looked up by name + PIN."""

    vendor = VENDOR_NUKI

    def check_create(self, target: CodeTarget, *, name: str, booking_id: str | None) -> None:
        """The lock needs a paired keypad, and the keypad takes names up to its length."""
        coordinator = _coordinator(target)
        lock = coordinator.data.locks.get(int(target.lock_id)) if target.lock_id.isdigit() else None
        if lock is not None and not lock.keypad_paired:
            raise validation_error("access_code_no_keypad", lock=target.name)
        if len(name) > KEYPAD_NAME_MAX_LENGTH:
            raise validation_error(
                "access_code_name_too_long", lock=target.name, max=str(KEYPAD_NAME_MAX_LENGTH)
            )

    @staticmethod
    def _outcome(found: NukiKeypadCode) -> Outcome:
        if found.error:
            return Outcome(found.id, CODE_FAILED)
        pending = found.pending or found.updated_at is None
        return Outcome(found.id, CODE_PENDING if pending else CODE_ON_LOCK)

    async def existing_codes(self, target: CodeTarget) -> set[str]:
        """The PINs of the keypad codes on the lock."""
        client: NukiClient = target.client
        listed = await client.list_keypad_codes(target.lock_id, include_codes=True)
        return {str(item.code) for item in listed if item.code is not None}

    async def create(self, target: CodeTarget, new: NewCode) -> Outcome:
        """A keypad code; Nuki answers 204 without an id, so the new code is looked up by name and PIN.

        The create is a ``PUT``, which the HTTP client sends again once when the connection drops before the
        answer: the second one is then refused because the first one made the code. A refused PIN whose code
        carries this name is that code (the engine checked the PIN was free on the lock just before).
        """
        client: NukiClient = target.client
        try:
            with _coordinator(target).writing(target.lock_id):
                found = await client.create_keypad_code(
                    target.lock_id,
                    name=new.name,
                    code=new.code,
                    allowed_from=new.starts_at,
                    allowed_until=new.ends_at,
                    poll_delays=NUKI_CREATE_POLLS,
                )
        except OperationPendingError:
            return Outcome(f"{PENDING_PREFIX}{secrets.token_hex(6)}", CODE_PENDING, provisional=True)
        except ValidationError as err:
            if "code" not in err.fields:
                raise
            return self._outcome(await self._ours(client, target, new, err))
        return self._outcome(found)

    @staticmethod
    async def _ours(
        client: NukiClient, target: CodeTarget, new: NewCode, err: ValidationError
    ) -> NukiKeypadCode:
        """The code with this name and PIN a refused create found on the lock (else the refusal is raised)."""
        try:
            found = await client.find_keypad_code(target.lock_id, name=new.name, code=new.code)
        except ApiError as read_err:
            raise PartialWriteError(f"{err}; whether the code is on the lock could not be read") from read_err
        if found is None:
            raise err
        return found

    async def _resolve(self, target: CodeTarget, record: CodeRecord) -> NukiKeypadCode | None:
        client: NukiClient = target.client
        return await client.find_keypad_code(target.lock_id, name=record.name, code=record.code)

    async def remove(self, target: CodeTarget, record: CodeRecord, *, keep_history: bool) -> None:
        """Delete the keypad code (looked up first while it has no id yet)."""
        client: NukiClient = target.client
        auth_id: str | None = record.code_id
        if record.provisional:
            found = await self._resolve(target, record)
            if found is None:
                raise OperationPendingError("the code has not shown up yet", lock_id=target.lock_id)
            auth_id = found.id
        assert auth_id is not None
        try:
            with _coordinator(target).writing(target.lock_id):
                await client.delete_keypad_code(target.lock_id, auth_id)
        except NotFoundError as err:
            await confirm_gone(err, lambda: self._listed(client, target.lock_id, auth_id))

    @staticmethod
    async def _listed(client: NukiClient, lock_id: str, auth_id: str) -> bool:
        return any(item.id == auth_id for item in await client.list_keypad_codes(lock_id))

    async def update_window(
        self, target: CodeTarget, record: CodeRecord, starts_at: datetime, ends_at: datetime
    ) -> Outcome:
        """Move the keypad code's window (looked up first while it has no id yet)."""
        client: NukiClient = target.client
        code_id = record.code_id
        if record.provisional:
            found = await self._resolve(target, record)
            if found is None:
                raise OperationPendingError("the code has not shown up yet", lock_id=target.lock_id)
            code_id = found.id
        with _coordinator(target).writing(target.lock_id):
            await client.update_keypad_code(
                target.lock_id, code_id, name=record.name, allowed_from=starts_at, allowed_until=ends_at
            )
        return Outcome(code_id, record.status if record.status != CODE_FAILED else CODE_PENDING)

    async def statuses(self, target: CodeTarget, records: Sequence[CodeRecord]) -> dict[str, Outcome]:
        """One list of the lock's keypad codes answers for every pending code."""
        client: NukiClient = target.client
        listed = await client.list_keypad_codes(target.lock_id, include_codes=True)
        by_id = {item.id: item for item in listed}
        by_pin = {(item.name.strip(), str(item.code)): item for item in listed if item.code is not None}
        outcomes: dict[str, Outcome] = {}
        for record in records:
            if record.provisional:
                found = by_pin.get((record.name.strip(), record.code))
                if found is not None:
                    outcomes[record.code_id] = self._outcome(found)
            elif (item := by_id.get(record.code_id)) is not None:
                outcomes[record.code_id] = self._outcome(item)
            else:
                outcomes[record.code_id] = Outcome(record.code_id, CODE_FAILED)
        return outcomes


NUKI_CODES: Final = NukiCodes()
