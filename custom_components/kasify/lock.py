"""Locks controlled through their provider account (Nuki Web, UniFi Access, RemoteLock)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.errors import KasifyApiError, PermissionDeniedError, SubscriptionRequiredError
from .api.models import LockStatus
from .api.nuki import NukiSmartLock
from .api.remotelock import RemoteLockLock
from .api.unifi_access import UnifiDoor
from .const import DOMAIN
from .coordinator import KasifyConfigEntry, NukiCoordinator, RemoteLockCoordinator, UnifiAccessCoordinator
from .entity import (
    NukiLockEntity,
    RemoteLockEntity,
    UnifiDoorEntity,
    async_add_nuki_entities,
    async_add_remotelock_entities,
    async_add_unifi_entities,
)

# Actions go one at a time per account: Nuki answers 423 while a lock is busy.
PARALLEL_UPDATES = 1


class _StatusLock(LockEntity):
    """Lock state from one vendor-neutral :class:`LockStatus` (each vendor's lock provides ``_record``)."""

    _pending: LockStatus | None = None
    # The id the vendor's API knows the lock by (set by each vendor's lock).
    _target: Any

    @property
    def _record(self) -> NukiSmartLock | UnifiDoor | RemoteLockLock | None:
        """The lock's latest upstream record; each vendor's lock overrides it."""
        return None  # pragma: no cover - overridden by every lock

    @property
    def _status(self) -> LockStatus:
        """The state to show: the action in progress, else the upstream state."""
        if self._pending is not None:
            return self._pending
        record = self._record
        return record.status if record else LockStatus.UNKNOWN

    @property
    def _lock_name(self) -> str:
        """How errors name the lock: its name, else its vendor id."""
        record = self._record
        return record.name if record and record.name else str(self._target)

    async def _refresh(self) -> None:
        """Read this lock again after a command; each vendor's lock overrides it."""

    def _failure(self, err: KasifyApiError, action: str) -> tuple[str, dict[str, str]]:
        """Translation key and placeholders for a refused command."""
        return f"{action}_failed", {"lock": self._lock_name, "error": str(err)}

    async def _act(self, showing: LockStatus, command: Callable[[Any], Awaitable[None]], action: str) -> None:
        """Show the transition at once, send the command, then read this lock again.

        On failure the previous state comes back and a translated error says why.
        """
        self._pending = showing
        self.async_write_ha_state()
        try:
            await command(self._target)
        except KasifyApiError as err:
            self._pending = None
            self.async_write_ha_state()
            key, placeholders = self._failure(err, action)
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
            ) from err
        self._pending = None
        try:
            await self._refresh()
        except KasifyApiError:
            # The command was accepted; push or the next poll shows where the lock ended up.
            self.async_write_ha_state()

    @property
    def is_locked(self) -> bool | None:
        """Locked; ``None`` while moving, jammed or unknown."""
        status = self._status
        if status is LockStatus.LOCKED:
            return True
        if status in (LockStatus.UNLOCKED, LockStatus.OPEN):
            return False
        return None

    @property
    def is_locking(self) -> bool:
        """The motor is locking."""
        return self._status is LockStatus.LOCKING

    @property
    def is_unlocking(self) -> bool:
        """The motor is unlocking."""
        return self._status is LockStatus.UNLOCKING

    @property
    def is_open(self) -> bool:
        """Unlatched (door released)."""
        return self._status is LockStatus.OPEN

    @property
    def is_opening(self) -> bool:
        """Unlatching."""
        return self._status is LockStatus.OPENING

    @property
    def is_jammed(self) -> bool:
        """Motor blocked."""
        return self._status is LockStatus.JAMMED


class NukiLock(NukiLockEntity, _StatusLock):
    """A Nuki lock (or Opener). Actions show at once (locking/unlocking), then that lock is read again."""

    _attr_name = None

    def __init__(self, coordinator: NukiCoordinator, lock: NukiSmartLock) -> None:
        """Create the lock entity; "open" only where the device can unlatch."""
        super().__init__(coordinator, lock, "lock")
        if lock.supports_open:
            self._attr_supported_features = LockEntityFeature.OPEN
        self._target = lock.id

    def _state_source(self) -> object:
        return (super()._state_source(), self._pending)

    @property
    def _record(self) -> NukiSmartLock | None:
        return self.nuki_lock

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock."""
        await self._act(LockStatus.LOCKING, self.coordinator.client.lock, "lock")

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock."""
        await self._act(LockStatus.UNLOCKING, self.coordinator.client.unlock, "unlock")

    async def async_open(self, **kwargs: Any) -> None:
        """Unlatch (open the door)."""
        await self._act(LockStatus.OPENING, self.coordinator.client.unlatch, "open")

    async def _refresh(self) -> None:
        await self.coordinator.async_refresh_lock(self.nuki_id)

    def _failure(self, err: KasifyApiError, action: str) -> tuple[str, dict[str, str]]:
        if isinstance(err, SubscriptionRequiredError):
            return "nuki_subscription_required", {"lock": self._lock_name}
        return super()._failure(err, action)


class UnifiDoorLock(UnifiDoorEntity, _StatusLock):
    """A UniFi Access door.

    Unlock is momentary: the controller locks the door again by itself after its unlock time (pushed, so
    the entity follows). The API has no lock call; on doors bound to a hub, lock sets the ``lock_now`` rule
    (ends a temporary unlock or schedule at once). A door without a hub can do neither remotely: both
    actions are refused with a translated error before anything is sent. No "open" feature: unlocking
    already releases the door.
    """

    _attr_name = None

    def __init__(self, coordinator: UnifiAccessCoordinator, door: UnifiDoor) -> None:
        """Create the lock entity of ``door``."""
        super().__init__(coordinator, door, "lock")
        self._target = door.id

    def _state_source(self) -> object:
        return (super()._state_source(), self._pending)

    @property
    def _record(self) -> UnifiDoor | None:
        return self.door

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock now (the ``lock_now`` rule)."""
        door = self.door
        if door is None or not door.can_lock:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unifi_lock_not_supported",
                translation_placeholders={"lock": self._lock_name},
            )
        await self._act(LockStatus.LOCKING, self.coordinator.client.lock, "lock")

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock momentarily."""
        door = self.door
        if door is None or not door.can_unlock:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unifi_unlock_not_supported",
                translation_placeholders={"lock": self._lock_name},
            )
        await self._act(LockStatus.UNLOCKING, self.coordinator.client.unlock, "unlock")

    async def _refresh(self) -> None:
        await self.coordinator.async_refresh_door(self.door_id)


class RemoteLockDoorLock(RemoteLockEntity, _StatusLock):
    """A RemoteLock lock. The action's answer is the device as it is now, so no extra read follows.

    A Wi-Fi lock takes the command when it next wakes up: until the answer shows the new state the
    entity keeps showing the transition (locking / unlocking) and the next poll settles it.
    """

    _attr_name = None

    def __init__(self, coordinator: RemoteLockCoordinator, lock: RemoteLockLock) -> None:
        """Create the lock entity of ``lock``."""
        super().__init__(coordinator, lock, "lock")
        self._target = lock.id

    def _state_source(self) -> object:
        return (super()._state_source(), self._pending)

    @property
    def _record(self) -> RemoteLockLock | None:
        return self.remotelock

    _answer: RemoteLockLock | None = None

    async def _command(self, send: Callable[[str], Awaitable[RemoteLockLock]], lock_id: str) -> None:
        self._answer = await send(lock_id)

    async def _refresh(self) -> None:
        if self._answer is not None:
            self.coordinator.apply_lock(self._answer)
            self._answer = None

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock."""
        await self._act(
            LockStatus.LOCKING, lambda lock_id: self._command(self.coordinator.client.lock, lock_id), "lock"
        )

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock."""
        await self._act(
            LockStatus.UNLOCKING,
            lambda lock_id: self._command(self.coordinator.client.unlock, lock_id),
            "unlock",
        )

    def _failure(self, err: KasifyApiError, action: str) -> tuple[str, dict[str, str]]:
        if isinstance(err, PermissionDeniedError):
            return "remotelock_not_permitted", {"lock": self._lock_name}
        return super()._failure(err, action)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a lock entity for every lock of a provider account, now and as they appear."""
    async_add_nuki_entities(
        entry, async_add_entities, lambda coordinator, lock: [NukiLock(coordinator, lock)]
    )
    async_add_unifi_entities(
        entry, async_add_entities, lambda coordinator, door: [UnifiDoorLock(coordinator, door)]
    )
    async_add_remotelock_entities(
        entry, async_add_entities, lambda coordinator, lock: [RemoteLockDoorLock(coordinator, lock)]
    )
