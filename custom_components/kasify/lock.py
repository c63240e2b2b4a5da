"""Locks controlled through their provider account (Nuki Web, UniFi Access, RemoteLock)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.errors import ApiError
from .api.models import LockStatus
from .coordinator import KasifyConfigEntry, LockView, ProviderCoordinator
from .entity import LockCoordinator, LockDeviceEntity, async_add_lock_entities

# Actions go one at a time per account: Nuki answers 423 while a lock is busy.
PARALLEL_UPDATES = 1


class ProviderLock(LockDeviceEntity, LockEntity):
    """A lock its provider account controls.

    An action shows at once (locking / unlocking / opening), is sent, and the account then shows the lock
    as it is now; a refused action brings the previous state back and says why.
    """

    _attr_name = None
    coordinator: ProviderCoordinator[Any, Any]
    _pending: LockStatus | None = None

    def __init__(self, coordinator: ProviderCoordinator[Any, Any], view: LockView) -> None:
        """Create the lock entity; "open" only where the device can unlatch."""
        super().__init__(coordinator, view, "lock")
        if view.can_open:
            self._attr_supported_features = LockEntityFeature.OPEN

    def _state_source(self) -> object:
        return (super()._state_source(), self._pending)

    @property
    def _status(self) -> LockStatus:
        """The state to show: the action in progress, else the upstream state."""
        if self._pending is not None:
            return self._pending
        view = self.view
        return view.status if view else LockStatus.UNKNOWN

    async def _act(self, showing: LockStatus, action: str) -> None:
        view = self.view
        name = (view.name if view else None) or view_id(self.device_key)
        self.coordinator.check_action(self.device_key, action)
        self._pending = showing
        self.async_write_ha_state()
        # However it ends (done, refused, another error, cancelled, while sending or reading after), the
        # transition goes and the lock shows as the account last showed it.
        try:
            try:
                await self.coordinator.async_send_action(self.device_key, action)
            except ApiError as err:
                raise self.coordinator.action_failure(err, action, name) from err
            self._pending = None
            await self.coordinator.async_show_after_action(self.device_key)
        finally:
            self._pending = None
            self.async_write_ha_state()

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock."""
        await self._act(LockStatus.LOCKING, "lock")

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock."""
        await self._act(LockStatus.UNLOCKING, "unlock")

    async def async_open(self, **kwargs: Any) -> None:
        """Unlatch (open the door)."""
        await self._act(LockStatus.OPENING, "open")

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


def view_id(device_key: str) -> str:
    """The vendor's id of a lock, from its device key (``<vendor>_<id>``), for messages."""
    return device_key.partition("_")[2] or device_key


def _locks(coordinator: LockCoordinator, view: LockView) -> list[ProviderLock]:
    # A lock shown read-only (by a Kasify account) cannot be acted on: it gets a lock binary sensor.
    return [ProviderLock(coordinator, view)] if isinstance(coordinator, ProviderCoordinator) else []


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a lock entity for every lock of a provider account, now and as they appear."""
    async_add_lock_entities(entry, async_add_entities, _locks)
