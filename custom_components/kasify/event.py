"""The stay event entity of each property: check-in, check-out and booking changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.models import Booking, Property
from .api.nuki import NukiEvent, NukiSmartLock
from .api.remotelock import RemoteLockLock
from .api.unifi_access import ActivityKind, UnifiDoor
from .const import STAY_EVENT_TYPES
from .coordinator import (
    REMOTELOCK_ACTIVITY,
    KasifyConfigEntry,
    KasifyCoordinator,
    NukiCoordinator,
    PropertySourceCoordinator,
    RemoteLockCoordinator,
    UnifiAccessCoordinator,
    signal_lock_activity,
)
from .entity import (
    KasifyPropertyEntity,
    NukiLockEntity,
    RemoteLockEntity,
    UnifiDoorEntity,
    async_add_entities_dynamically,
    async_add_nuki_entities,
    async_add_remotelock_entities,
    async_add_unifi_entities,
)

PARALLEL_UPDATES = 0


class KasifyStayEvent(KasifyPropertyEntity, EventEntity):
    """Mirrors the ``kasify_check_in`` / ``kasify_check_out`` bus events, plus booking changes."""

    _attr_translation_key = "stay"
    _attr_event_types = STAY_EVENT_TYPES

    def __init__(self, coordinator: KasifyCoordinator, prop: Property) -> None:
        """Create the stay event entity of ``prop``."""
        super().__init__(coordinator, prop.id, "stay")

    @callback
    def _async_stay_event(self, event_type: str, booking: Booking) -> None:
        self._trigger_event(
            event_type,
            {
                "booking_id": booking.id,
                "guest_name": booking.guest_name,
                "check_in": booking.check_in.isoformat(),
                "check_out": booking.check_out.isoformat(),
            },
        )
        self.async_write_ha_state()


class _ActivityEvent(EventEntity):
    """What happened at a lock, as its provider coordinator dispatches it (``signal_lock_activity``)."""

    _attr_translation_key = "lock_activity"
    device_key: str

    async def async_added_to_hass(self) -> None:
        """Receive the lock's new activity from the coordinator."""
        await super().async_added_to_hass()
        entry = self.platform.config_entry
        assert entry is not None  # lock entities always belong to a config entry
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_lock_activity(entry.entry_id, self.device_key),
                self._async_activity,
            )
        )

    @callback
    def _async_activity(self, event_type: str, attributes: dict[str, Any]) -> None:
        self._trigger_event(event_type, attributes)
        self.async_write_ha_state()


NUKI_EVENT_TYPES: Final = [event.value for event in NukiEvent]


class NukiActivityEvent(NukiLockEntity, _ActivityEvent):
    """What happened at a Nuki lock: unlocked, locked, opened, code used (by the code's name), denied, ..."""

    _attr_event_types = NUKI_EVENT_TYPES

    def __init__(self, coordinator: NukiCoordinator, lock: NukiSmartLock) -> None:
        """Create the activity event entity of ``lock``."""
        super().__init__(coordinator, lock, "activity")


UNIFI_EVENT_TYPES: Final = [kind.value for kind in ActivityKind]


class UnifiActivityEvent(UnifiDoorEntity, _ActivityEvent):
    """What happened at a UniFi Access door: unlocked, code used (by the visitor's name), access denied."""

    _attr_event_types = UNIFI_EVENT_TYPES

    def __init__(self, coordinator: UnifiAccessCoordinator, door: UnifiDoor) -> None:
        """Create the activity event entity of ``door``."""
        super().__init__(coordinator, door, "activity")


REMOTELOCK_EVENT_TYPES: Final = sorted(set(REMOTELOCK_ACTIVITY.values()))


class RemoteLockActivityEvent(RemoteLockEntity, _ActivityEvent):
    """What happened at a RemoteLock lock: unlocked, locked, code used (by name), denied, battery low.

    Polled events and webhook deliveries arrive the same way, each event once.
    """

    _attr_event_types = REMOTELOCK_EVENT_TYPES

    def __init__(self, coordinator: RemoteLockCoordinator, lock: RemoteLockLock) -> None:
        """Create the activity event entity of ``lock``."""
        super().__init__(coordinator, lock, "activity")


def _property_entities(coordinator: PropertySourceCoordinator[Any], prop: Property) -> Iterable[EventEntity]:
    # Stays (check-in, check-out, bookings) only exist in Kasify.
    if isinstance(coordinator, KasifyCoordinator):
        return [KasifyStayEvent(coordinator, prop)]
    return []


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a stay event entity for every property, now and as they appear."""
    async_add_entities_dynamically(entry, async_add_entities, for_property=_property_entities)
    async_add_nuki_entities(
        entry, async_add_entities, lambda coordinator, lock: [NukiActivityEvent(coordinator, lock)]
    )
    async_add_unifi_entities(
        entry, async_add_entities, lambda coordinator, door: [UnifiActivityEvent(coordinator, door)]
    )
    async_add_remotelock_entities(
        entry, async_add_entities, lambda coordinator, lock: [RemoteLockActivityEvent(coordinator, lock)]
    )
