"""Locks controlled through their provider account (Nuki Web, UniFi Access)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.errors import KasifyApiError, SubscriptionRequiredError
from .api.models import LockStatus
from .api.nuki import NukiSmartLock
from .api.unifi_access import UnifiDoor
from .const import DOMAIN
from .coordinator import KasifyConfigEntry, NukiCoordinator, UnifiAccessCoordinator
from .entity import NukiLockEntity, UnifiDoorEntity, async_add_nuki_entities, async_add_unifi_entities

# Actions go one at a time per account: Nuki answers 423 while a lock is busy.
PARALLEL_UPDATES = 1


class _StatusLock(LockEntity):
    """Lock state properties from one vendor-neutral :class:`LockStatus` (subclasses provide ``_status``)."""

    _pending: LockStatus | None = None
    # The id the vendor's API knows the lock by (set by each vendor's lock).
    _target: Any

    @property
    def _status(self) -> LockStatus:
        """The state to show; each vendor's lock overrides it (pending action, else the upstream state)."""
        return LockStatus.UNKNOWN  # pragma: no cover - overridden by every lock

    @property
    def _lock_name(self) -> str:
        """How errors name the lock; each vendor's lock overrides it."""
        return str(self.entity_id)  # pragma: no cover - overridden by every lock

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
    def _status(self) -> LockStatus:
        if self._pending is not None:
            return self._pending
        lock = self.nuki_lock
        return lock.status if lock else LockStatus.UNKNOWN

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

    @property
    def _lock_name(self) -> str:
        lock = self.nuki_lock
        return lock.name if lock and lock.name else str(self.nuki_id)


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
    def _status(self) -> LockStatus:
        if self._pending is not None:
            return self._pending
        door = self.door
        return door.status if door else LockStatus.UNKNOWN

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

    @property
    def _lock_name(self) -> str:
        door = self.door
        return door.name if door and door.name else self.door_id


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
