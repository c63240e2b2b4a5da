"""Coordinator for a Kasify account."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api.errors import AuthError, KasifyApiError, RateLimitedError
from .api.kasify import KasifyClient
from .api.models import AccountSnapshot, SmartLock
from .const import (
    BOOKINGS_LOOKBACK,
    CONF_CALENDAR_DAYS,
    CONF_SCAN_INTERVAL,
    DEFAULT_CALENDAR_DAYS,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_CONCURRENT_REQUESTS,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from .stays import StayScheduler


@dataclass(slots=True)
class KasifyRuntimeData:
    """What a loaded Kasify entry keeps in ``entry.runtime_data``."""

    client: KasifyClient
    coordinator: KasifyCoordinator
    stays: StayScheduler = field(repr=False)


type KasifyConfigEntry = ConfigEntry[KasifyRuntimeData]


def property_identifier(property_id: str) -> tuple[str, str]:
    """Device registry identifier of a property."""
    return (DOMAIN, f"property_{property_id}")


def lock_identifier(lock: SmartLock) -> tuple[str, str]:
    """Device identifier of a lock: vendor + provider lock id, shared with the provider's own entry."""
    return (DOMAIN, lock.device_key)


class KasifyCoordinator(DataUpdateCoordinator[AccountSnapshot]):
    """Polls one Kasify account.

    A refresh is one :meth:`KasifyClient.fetch_snapshot`: ceil(P/100) + ceil(B/100) + ceil(T/100) + L requests
    for P properties, B bookings in the window, T open tasks and L properties with smart locks (its docstring
    has the breakdown; ``tests/test_init.py::test_requests_per_refresh`` holds it against the simulator).
    """

    config_entry: KasifyConfigEntry

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: KasifyClient) -> None:
        """Set up polling at the interval chosen in the options."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=timedelta(seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)),
            always_update=False,
        )
        self.client = client
        # Kasify's Retry-After: no request is sent before this instant.
        self._rate_limited_until: datetime | None = None
        self.calendar_days: int = entry.options.get(CONF_CALENDAR_DAYS, DEFAULT_CALENDAR_DAYS)

    async def _async_update_data(self) -> AccountSnapshot:
        now = dt_util.utcnow()
        if self._rate_limited_until is not None and now < self._rate_limited_until:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={
                    "seconds": f"{(self._rate_limited_until - now).total_seconds():.0f}"
                },
            )
        self._rate_limited_until = None
        # The window moves once a day, so an unchanged account compares equal between refreshes and
        # listeners are only called when something really changed (always_update=False).
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        window_start = today - BOOKINGS_LOOKBACK
        window_end = today + timedelta(days=self.calendar_days + 1)
        try:
            return await self.client.fetch_snapshot(window_start, window_end, MAX_CONCURRENT_REQUESTS)
        except AuthError as err:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed") from err
        except RateLimitedError as err:
            if err.retry_after:
                self._rate_limited_until = now + timedelta(seconds=err.retry_after)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"seconds": f"{err.retry_after or 0:.0f}"},
            ) from err
        except KasifyApiError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err

    def _async_refresh_finished(self) -> None:
        """Keep the device registry in step with Kasify (data is complete after a success)."""
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            self._sync_devices(self.data)

    def _sync_devices(self, data: AccountSnapshot) -> None:
        """Remove devices whose property or lock is gone; follow property renames."""
        registry = dr.async_get(self.hass)
        names = {property_identifier(pid): prop.name for pid, prop in data.properties.items()}
        current = set(names) | {lock_identifier(lock) for lock in data.smart_locks.values()}
        entry_id = self.config_entry.entry_id
        for device in dr.async_entries_for_config_entry(registry, entry_id):
            ours = {ident for ident in device.identifiers if ident[0] == DOMAIN}
            if ours and not ours & current:
                LOGGER.debug("Removing device %s: gone from Kasify", device.name)
                registry.async_update_device(device.id, remove_config_entry_id=entry_id)
                continue
            name = next((names[ident] for ident in ours if ident in names), None)
            if name is not None and name != device.name:
                registry.async_update_device(device.id, name=name)
