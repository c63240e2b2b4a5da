"""Coordinators: one per property-source account (Kasify, casavi), sharing error handling and devices."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import hashlib
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import compat
from .api.casavi import CasaviClient, CasaviSnapshot
from .api.errors import AuthError, CertificateMismatchError, KasifyApiError, RateLimitedError
from .api.ical import FeedState, IcalEvent, IcalFeedClient, channel_from_url, normalize_feed_url
from .api.kasify import KasifyClient
from .api.models import AccountSnapshot, PropertySnapshot, SmartLock
from .api.nuki import NukiClient, NukiSnapshot
from .api.remotelock import (
    RemoteLockClient,
    RemoteLockEvent,
    RemoteLockLocation,
    RemoteLockLock,
    lock_status,
)
from .api.unifi_access import DoorActivityEvent, DoorStateEvent, UnifiAccessClient, UnifiDoor, UnifiEvent
from .const import (
    BOOKINGS_LOOKBACK,
    CONF_CALENDAR_DAYS,
    CONF_FEED_INTERVAL,
    CONF_ICAL_FEEDS,
    CONF_LOCATIONS,
    CONF_PROPERTY,
    CONF_SCAN_INTERVAL,
    DEFAULT_CALENDAR_DAYS,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    KIND_CASAVI,
    KIND_KASIFY,
    KIND_NUKI,
    KIND_REMOTELOCK,
    KIND_UNIFI,
    LOGGER,
    MAX_CONCURRENT_REQUESTS,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from .stays import StayScheduler


@dataclass(slots=True)
class KasifyRuntimeData:
    """What a loaded entry keeps in ``entry.runtime_data``."""

    client: KasifyClient | CasaviClient | NukiClient | UnifiAccessClient | RemoteLockClient
    coordinator: (
        PropertySourceCoordinator[Any] | NukiCoordinator | UnifiAccessCoordinator | RemoteLockCoordinator
    )
    # Check-in/out timers; only property sources with guest stays (Kasify) have them.
    stays: StayScheduler | None = field(default=None, repr=False)
    # iCal feeds of the properties (Kasify only).
    feeds: FeedCoordinator | None = field(default=None, repr=False)


type KasifyConfigEntry = ConfigEntry[KasifyRuntimeData]


def property_identifier(property_id: str, source: str = KIND_KASIFY) -> tuple[str, str]:
    """Device registry identifier of a property (Kasify ids unprefixed, as they always were)."""
    prefix = "" if source == KIND_KASIFY else f"{source}_"
    return (DOMAIN, f"{prefix}property_{property_id}")


def lock_identifier(lock: SmartLock) -> tuple[str, str]:
    """Device identifier of a lock: vendor + provider lock id, shared with the provider's own entry."""
    return (DOMAIN, lock.device_key)


def auth_failed(service: str) -> ConfigEntryAuthFailed:
    """The upstream refused the credentials: Home Assistant starts the reauth flow."""
    return ConfigEntryAuthFailed(
        translation_domain=DOMAIN,
        translation_key="auth_failed",
        translation_placeholders={"service": service},
    )


def update_failed(service: str, err: Exception) -> UpdateFailed:
    """The upstream failed: the entities go unavailable until a refresh succeeds."""
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="update_failed",
        translation_placeholders={"service": service, "error": str(err)},
    )


class RetryAfterGate:
    """No request to an upstream before the ``Retry-After`` of its last 429 has passed."""

    def __init__(self, service: str) -> None:
        """Guard the requests to ``service`` (its name goes into the translated error)."""
        self._service = service
        self._until: datetime | None = None

    def _failure(self, seconds: float) -> UpdateFailed:
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="rate_limited",
            translation_placeholders={"service": self._service, "seconds": f"{seconds:.0f}"},
        )

    def check(self, now: datetime) -> None:
        """Raise :class:`UpdateFailed` while the upstream still wants no request."""
        if self._until is not None and now < self._until:
            raise self._failure((self._until - now).total_seconds())
        self._until = None

    def failed(self, err: RateLimitedError, now: datetime) -> UpdateFailed:
        """The upstream answered 429: remember until when, and the error to raise."""
        if err.retry_after:
            self._until = now + timedelta(seconds=err.retry_after)
        return self._failure(err.retry_after or 0)


def remove_stale_devices(
    hass: HomeAssistant, entry_id: str, current: set[tuple[str, str]]
) -> list[dr.DeviceEntry]:
    """Remove this entry's devices none of whose identifiers it should still have.

    Returns the devices that stay (the caller may update them).
    """
    registry = dr.async_get(hass)
    kept: list[dr.DeviceEntry] = []
    for device in dr.async_entries_for_config_entry(registry, entry_id):
        ours = {ident for ident in device.identifiers if ident[0] == DOMAIN}
        if ours and not ours & current:
            LOGGER.debug("Removing device %s: gone upstream or shown by another entry", device.name)
            compat.remove_device(hass, device, entry_id)
        else:
            kept.append(device)
    return kept


class PropertySourceCoordinator[SnapshotT: PropertySnapshot](DataUpdateCoordinator[SnapshotT]):
    """Polls one account of a property source.

    Shared by every source: the booking window (moved once a day, so an unchanged account compares equal and
    listeners only run on real changes), auth failures → reauth, 429 → no request until ``Retry-After`` has
    passed, other API failures → unavailable, and the device registry kept in step (new, renamed, removed).
    """

    config_entry: KasifyConfigEntry
    source: str
    upstream_name: str

    def __init__(
        self, hass: HomeAssistant, entry: KasifyConfigEntry, *, default_interval: int = DEFAULT_SCAN_INTERVAL
    ) -> None:
        """Set up polling at the interval chosen in the options."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=timedelta(seconds=entry.options.get(CONF_SCAN_INTERVAL, default_interval)),
            always_update=False,
        )
        self.calendar_days: int = entry.options.get(CONF_CALENDAR_DAYS, DEFAULT_CALENDAR_DAYS)
        self._rate_limit_gate = RetryAfterGate(self.upstream_name)

    @abstractmethod
    async def _fetch(self, window_start: datetime, window_end: datetime) -> SnapshotT:
        """Read the account for one refresh."""

    def property_identifier(self, property_id: str) -> tuple[str, str]:
        """Device identifier of one of this source's properties."""
        return property_identifier(property_id, self.source)

    def _device_identifiers(self, data: SnapshotT) -> set[tuple[str, str]]:
        """Identifiers of every device this entry should have (properties; subclasses add locks)."""
        return {self.property_identifier(pid) for pid in data.properties}

    async def _async_update_data(self) -> SnapshotT:
        now = dt_util.utcnow()
        self._rate_limit_gate.check(now)
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        window_start = today - BOOKINGS_LOOKBACK
        window_end = today + timedelta(days=self.calendar_days + 1)
        try:
            return await self._fetch(window_start, window_end)
        except AuthError as err:
            raise auth_failed(self.upstream_name) from err
        except RateLimitedError as err:
            raise self._rate_limit_gate.failed(err, now) from err
        except KasifyApiError as err:
            raise update_failed(self.upstream_name, err) from err

    def _async_refresh_finished(self) -> None:
        """Keep the device registry in step with the upstream (data is complete after a success)."""
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            self._sync_devices(self.data)
            # Properties came, went or took other locks: the lock devices follow.
            link_lock_devices(self.hass)

    def _sync_devices(self, data: SnapshotT) -> None:
        """Remove devices whose property or lock is gone; follow property renames."""
        names = {self.property_identifier(pid): prop.name for pid, prop in data.properties.items()}
        registry = dr.async_get(self.hass)
        for device in remove_stale_devices(
            self.hass, self.config_entry.entry_id, self._device_identifiers(data)
        ):
            name = next((names[ident] for ident in device.identifiers if ident in names), None)
            if name is not None and name != device.name:
                registry.async_update_device(device.id, name=name)

    def has_device(self, identifiers: set[tuple[str, str]]) -> bool:
        """Whether any of ``identifiers`` is a device this entry still has upstream."""
        return bool(identifiers & self._device_identifiers(self.data))


class KasifyCoordinator(PropertySourceCoordinator[AccountSnapshot]):
    """Polls one Kasify account.

    A refresh is one :meth:`KasifyClient.fetch_snapshot`: ceil(P/100) + ceil(B/100) + ceil(T/100) + L requests
    for P properties, B bookings in the window, T open tasks and L properties with smart locks (its docstring
    has the breakdown; ``tests/test_init.py::test_requests_per_refresh`` holds it against the simulator).
    """

    source = KIND_KASIFY
    upstream_name = "Kasify"

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: KasifyClient) -> None:
        """Poll ``client``'s account."""
        super().__init__(hass, entry)
        self.client = client

    async def _fetch(self, window_start: datetime, window_end: datetime) -> AccountSnapshot:
        return await self.client.fetch_snapshot(window_start, window_end, MAX_CONCURRENT_REQUESTS)

    def _device_identifiers(self, data: AccountSnapshot) -> set[tuple[str, str]]:
        # A lock a provider account controls is that account's device, not this entry's.
        covered = provider_lock_keys(self.hass)
        return super()._device_identifiers(data) | {
            lock_identifier(lock) for lock in data.smart_locks.values() if lock.device_key not in covered
        }

    def _async_refresh_finished(self) -> None:
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            self._suggest_provider_accounts(self.data)

    def sync_lock_links(self) -> None:
        """Hang the read-only lock devices under their property's device (both are this entry's)."""
        registry = dr.async_get(self.hass)
        entry_id = self.config_entry.entry_id
        for lock in self.data.smart_locks.values():
            device = compat.device_by_identifier(self.hass, lock_identifier(lock), entry_id)
            parent = compat.device_by_identifier(self.hass, property_identifier(lock.property_id), entry_id)
            if device is not None and parent is not None and device.via_device_id != parent.id:
                registry.async_update_device(device.id, via_device_id=parent.id)

    def _suggest_provider_accounts(self, data: AccountSnapshot) -> None:
        """One repair issue per lock vendor whose locks are read-only here because its account is missing."""
        covered = provider_lock_keys(self.hass)
        for vendor, kind in PROVIDER_KINDS.items():
            issue_id = f"missing_provider_{vendor}_{self.config_entry.entry_id}"
            names = sorted(
                lock.name
                for lock in data.smart_locks.values()
                if lock.vendor == vendor and lock.device_key not in covered
            )
            if names:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=f"missing_provider_{kind}",
                    translation_placeholders={"account": self.config_entry.title, "locks": ", ".join(names)},
                )
            else:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)


# Lock vendors in Kasify smart-lock records → the account kind that controls them.
PROVIDER_KINDS: Final = {"nuki": KIND_NUKI, "unifi": KIND_UNIFI}

CASAVI_DEFAULT_SCAN_INTERVAL: Final = 300


class CasaviCoordinator(PropertySourceCoordinator[CasaviSnapshot]):
    """Polls one casavi account: 4 requests a refresh for a small account (see ``fetch_snapshot``)."""

    source = KIND_CASAVI
    upstream_name = "casavi"

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: CasaviClient) -> None:
        """Poll ``client``'s account; property management changes slowly, so every 5 minutes by default."""
        super().__init__(hass, entry, default_interval=CASAVI_DEFAULT_SCAN_INTERVAL)
        self.client = client

    async def _fetch(self, window_start: datetime, window_end: datetime) -> CasaviSnapshot:
        return await self.client.fetch_snapshot(window_start, window_end)


FEED_CHECK_INTERVAL: Final = timedelta(minutes=1)
MIN_FEED_INTERVAL: Final = timedelta(minutes=5)
DEFAULT_FEED_INTERVAL_MINUTES: Final = 30
CHANNEL_TITLES: Final = {"airbnb": "Airbnb", "booking": "Booking.com", "vrbo": "Vrbo", "smoobu": "Smoobu"}


def feed_id(url: str) -> str:
    """A stable id for a feed that does not reveal its URL (which embeds a secret token)."""
    return hashlib.sha256(url.strip().encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """What entities need to know about one iCal feed after a refresh (compares by value)."""

    feed_id: str
    property_id: str
    # Stable within the property: the channel for Kasify's own calendars (so a regenerated export link
    # keeps its sensor), the URL's hash for feeds added in the options.
    slug: str
    name: str
    channel: str | None
    status: str
    last_success: datetime | None
    last_change: datetime | None
    last_error: str | None
    event_count: int
    # The event in progress and the next few, for the calendar's current event.
    upcoming: tuple[IcalEvent, ...]
    extra: bool


@dataclass(frozen=True, slots=True)
class _FeedConfig:
    property_id: str
    slug: str
    url: str
    channel: str | None
    interval: timedelta
    extra: bool


class FeedCoordinator(DataUpdateCoordinator[dict[str, FeedStatus]]):
    """Keeps the iCal feeds of a Kasify account's properties (Kasify's own calendars plus extra URLs).

    Checks every minute which feeds are due (each has its own interval: Kasify's ``syncIntervalMinutes``,
    or the one set in the options) and refreshes only those, conditionally: an unchanged feed costs one
    request that answers 304, and no parse. Parsing runs in the executor. A broken feed never fails the
    refresh (its error is shown on its diagnostic sensor) and never takes the other sources down.
    """

    config_entry: KasifyConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KasifyConfigEntry,
        kasify: KasifyCoordinator,
        client: IcalFeedClient,
    ) -> None:
        """Follow ``kasify``'s properties; fetch with ``client``."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title} iCal feeds",
            update_interval=FEED_CHECK_INTERVAL,
            always_update=False,
        )
        self.kasify = kasify
        self.client = client
        self._states: dict[str, FeedState] = {}
        self._configs: dict[str, _FeedConfig] = {}

    def _wanted(self) -> dict[str, _FeedConfig]:
        """The feeds the account and the options ask for, by feed id."""
        wanted: dict[str, _FeedConfig] = {}
        for prop in self.kasify.data.properties.values():
            for index, calendar in enumerate(prop.calendars):
                if calendar.url:
                    minutes = calendar.sync_interval_minutes or DEFAULT_FEED_INTERVAL_MINUTES
                    slug = calendar.channel or f"calendar_{index}"
                    if f"{prop.id}-{slug}" in wanted:  # a second feed of the same channel
                        slug = f"{slug}_{index}"
                    wanted[f"{prop.id}-{slug}"] = _FeedConfig(
                        prop.id, slug, calendar.url, calendar.channel, timedelta(minutes=minutes), extra=False
                    )
        for extra in self.config_entry.options.get(CONF_ICAL_FEEDS, []):
            if extra[CONF_PROPERTY] in self.kasify.data.properties:
                slug = feed_id(extra[CONF_URL])
                wanted[f"{extra[CONF_PROPERTY]}-{slug}"] = _FeedConfig(
                    extra[CONF_PROPERTY],
                    slug,
                    extra[CONF_URL],
                    channel_from_url(extra[CONF_URL]),
                    timedelta(minutes=extra.get(CONF_FEED_INTERVAL, DEFAULT_FEED_INTERVAL_MINUTES)),
                    extra=True,
                )
        return wanted

    @property
    def feeds_changed(self) -> bool:
        """Whether the account or options now ask for other feeds than the ones kept."""
        return self._wanted().keys() != self._configs.keys()

    async def _async_update_data(self) -> dict[str, FeedStatus]:
        wanted = self._wanted()
        for key in self._states.keys() - wanted.keys():
            del self._states[key]
        for key, config in wanted.items():
            if key not in self._states or self._configs[key].url != config.url:
                self._states[key] = FeedState(config.url, channel=config.channel)
        self._configs = wanted

        now = dt_util.utcnow()
        due = [
            state
            for key, state in self._states.items()
            if state.last_attempt is None
            or now - state.last_attempt >= max(self._configs[key].interval, MIN_FEED_INTERVAL)
        ]
        if due:
            await self.client.refresh_many(
                due,
                default_zone=dt_util.get_default_time_zone(),
                run_in_executor=self.hass.async_add_executor_job,
            )
        return {key: self._status(key, state, now) for key, state in self._states.items()}

    def _status(self, key: str, state: FeedState, now: datetime) -> FeedStatus:
        config = self._configs[key]
        channel = state.channel
        return FeedStatus(
            feed_id=key,
            property_id=config.property_id,
            slug=config.slug,
            name=CHANNEL_TITLES.get(channel or "") or urlsplit(normalize_feed_url(config.url)).netloc,
            channel=channel,
            status=state.status,
            last_success=state.last_success,
            last_change=state.last_change,
            last_error=state.last_error,
            event_count=state.event_count,
            upcoming=tuple(state.upcoming(now, limit=3)),
            extra=config.extra,
        )

    async def async_events_between(
        self, property_id: str, start: datetime, end: datetime
    ) -> list[tuple[FeedStatus, IcalEvent]]:
        """Every feed event of a property overlapping ``[start, end)`` (queried in the executor)."""
        results: list[tuple[FeedStatus, IcalEvent]] = []
        for key, status in (self.data or {}).items():
            state = self._states.get(key)
            if status.property_id != property_id or state is None:
                continue
            events = await self.hass.async_add_executor_job(state.events_between, start, end)
            results.extend((status, event) for event in events)
        return results

    def state_of(self, key: str) -> FeedState | None:
        """The kept state of one feed (for diagnostics)."""
        return self._states.get(key)


def signal_lock_activity(entry_id: str, device_key: str) -> str:
    """Dispatcher signal for a lock's new activity; payload ``(event_type, attributes)``."""
    return f"kasify_lock_activity_{entry_id}_{device_key}"


def linked_property(hass: HomeAssistant, device_key: str) -> tuple[str, str] | None:
    """The property device a lock belongs to, from a loaded Kasify entry's smart-lock records."""
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        coordinator = entry.runtime_data.coordinator
        if isinstance(coordinator, KasifyCoordinator) and coordinator.data is not None:
            for lock in coordinator.data.smart_locks.values():
                if lock.device_key == device_key:
                    return property_identifier(lock.property_id)
    return None


def property_device(hass: HomeAssistant, identifier: tuple[str, str] | None) -> dr.DeviceEntry | None:
    """The registered device of a property, in the loaded Kasify or casavi entry that has the property."""
    if identifier is None:
        return None
    for entry in _live_entries(hass):
        coordinator = entry.runtime_data.coordinator
        if (
            isinstance(coordinator, PropertySourceCoordinator)
            and coordinator.data is not None
            and any(coordinator.property_identifier(pid) == identifier for pid in coordinator.data.properties)
        ):
            return compat.device_by_identifier(hass, identifier, entry.entry_id)
    return None


# Around a check-in or check-out guests and cleaners use the door: poll the lock this often then.
STAY_CHANGE_INTERVAL: Final = timedelta(seconds=15)
STAY_CHANGE_MARGIN: Final = timedelta(minutes=30)


def stay_change_near(
    hass: HomeAssistant, device_keys: set[str], properties: set[tuple[str, str]] | None = None
) -> bool:
    """Whether a property with one of these locks, or one of ``properties``, has a stay change soon.

    Soon: a check-in or check-out within half an hour.
    """
    now = dt_util.utcnow()
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        coordinator = entry.runtime_data.coordinator
        if not isinstance(coordinator, KasifyCoordinator) or coordinator.data is None:
            continue
        data = coordinator.data
        property_ids = {
            lock.property_id for lock in data.smart_locks.values() if lock.device_key in device_keys
        } | {pid for pid in data.properties if property_identifier(pid) in (properties or set())}
        for property_id in property_ids:
            for booking in data.active_bookings(property_id):
                if any(
                    abs(instant - now) <= STAY_CHANGE_MARGIN
                    for instant in (booking.check_in, booking.check_out)
                ):
                    return True
    return False


def _live_entries(hass: HomeAssistant) -> list[KasifyConfigEntry]:
    """Entries that are loaded or far enough in their setup to hold their runtime data.

    An entry still setting up counts (it links devices and asks the Kasify entries to reload from its setup);
    one unloading does not (its locks go back to Kasify).
    """
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_IN_PROGRESS)
        and getattr(entry, "runtime_data", None) is not None
    ]


def link_lock_devices(hass: HomeAssistant) -> None:
    """Hang every lock device of every live entry under its property's device.

    Run after an entry's platforms are set up (its devices exist from then on) and after property sources
    refresh (properties come and go, locks move between them).
    """
    for entry in _live_entries(hass):
        coordinator = entry.runtime_data.coordinator
        if isinstance(coordinator, ProviderCoordinator | KasifyCoordinator) and coordinator.data is not None:
            coordinator.sync_lock_links()


def provider_lock_keys(hass: HomeAssistant) -> set[str]:
    """Device keys of every lock a live provider entry (Nuki Web, UniFi Access, RemoteLock) controls."""
    keys: set[str] = set()
    for entry in _live_entries(hass):
        coordinator = entry.runtime_data.coordinator
        if isinstance(coordinator, ProviderCoordinator) and coordinator.data is not None:
            keys |= coordinator.device_keys(coordinator.data)  # type: ignore[arg-type]  # its own data
    return keys


class ProviderCoordinator[DataT, ClientT](DataUpdateCoordinator[DataT]):
    """One lock-provider account (Nuki Web, UniFi Access, RemoteLock).

    Holds the client, polls at the options' interval, and keeps the account's lock devices in step (a lock the
    upstream dropped leaves the registry).
    """

    config_entry: KasifyConfigEntry
    source: str
    upstream_name: str

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: ClientT) -> None:
        """Poll ``client``'s account at the interval chosen in the options."""
        self._normal_interval = timedelta(
            seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=self._normal_interval,
            always_update=False,
        )
        self.client = client

    @abstractmethod
    def device_keys(self, data: DataT) -> set[str]:
        """The device keys (``<vendor>_<id>``) of the account's locks in ``data``."""

    def has_device(self, identifiers: set[tuple[str, str]]) -> bool:
        """Whether any of ``identifiers`` is a lock the account still has."""
        return any((DOMAIN, key) in identifiers for key in self.device_keys(self.data))

    def _async_refresh_finished(self) -> None:
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            remove_stale_devices(
                self.hass, self.config_entry.entry_id, {(DOMAIN, key) for key in self.device_keys(self.data)}
            )
            self.sync_lock_links()
            self._refreshed(self.data)

    def _refreshed(self, data: DataT) -> None:
        """After a successful refresh (devices and links already in step): repairs, polling pace."""

    def lock_property(self, device_key: str) -> tuple[str, str] | None:
        """The property device a lock of this account belongs to (a Kasify smart-lock record names it)."""
        return linked_property(self.hass, device_key)

    # A lock whose property is not known keeps the property it was linked to (a Kasify entry that reloads
    # must not unhang every lock); accounts whose own settings decide the link say so.
    unlink_when_unknown: bool = False

    def sync_lock_links(self) -> None:
        """Hang each lock device under its property's device (a property loaded later, a changed mapping)."""
        registry = dr.async_get(self.hass)
        for key in self.device_keys(self.data):
            device = compat.device_by_identifier(self.hass, (DOMAIN, key), self.config_entry.entry_id)
            if device is None:
                continue  # its entities are being added; the link follows once they are
            parent = property_device(self.hass, self.lock_property(key))
            if parent is None and not self.unlink_when_unknown:
                continue
            parent_id = parent.id if parent is not None else None
            if device.via_device_id != parent_id:
                registry.async_update_device(device.id, via_device_id=parent_id)


class NukiCoordinator(ProviderCoordinator[NukiSnapshot, NukiClient]):
    """Polls one Nuki Web account: 1 request for every lock (``GET /smartlock``) + 1 for the account's log.

    New log entries (never seen before, newer than the first refresh) are handed to the locks' activity
    event entities; locks without an active Smart Hosting subscription get a repair issue.
    """

    source = KIND_NUKI
    upstream_name = "Nuki"

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: NukiClient) -> None:
        """Poll ``client``'s account at the interval chosen in the options."""
        super().__init__(hass, entry, client)
        self._seen_logs: set[str] | None = None
        self._logs_since: datetime | None = None

    async def _async_update_data(self) -> NukiSnapshot:
        try:
            snapshot = await self.client.fetch_snapshot(logs_since=self._logs_since)
        except AuthError as err:
            raise auth_failed(self.upstream_name) from err
        except KasifyApiError as err:
            raise update_failed(self.upstream_name, err) from err
        self._dispatch_new_logs(snapshot)
        return snapshot

    def _dispatch_new_logs(self, snapshot: NukiSnapshot) -> None:
        """New activity entries go to their lock's event entity (the first refresh only learns them)."""
        first = self._seen_logs is None
        seen = self._seen_logs or set()
        for entry in reversed(snapshot.logs):  # oldest first
            if entry.id in seen:
                continue
            seen.add(entry.id)
            event = entry.event
            if first or event is None:
                continue
            async_dispatcher_send(
                self.hass,
                signal_lock_activity(self.config_entry.entry_id, f"nuki_{entry.smartlock_id}"),
                event.value,
                {"by": entry.name, "at": entry.date.isoformat()},
            )
        self._seen_logs = seen
        if snapshot.logs:
            # The API's since is inclusive: the newest entry comes again and is skipped as seen.
            self._logs_since = max(entry.date for entry in snapshot.logs)

    def device_keys(self, data: NukiSnapshot) -> set[str]:
        """The account's locks."""
        return {lock.device_key for lock in data.locks.values()}

    def _refreshed(self, data: NukiSnapshot) -> None:
        for lock in data.locks.values():
            issue_id = f"nuki_smart_hosting_{lock.id}"
            if lock.subscription_missing:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key="nuki_smart_hosting",
                    translation_placeholders={"lock": lock.name or str(lock.id)},
                )
            else:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        self.update_interval = (
            STAY_CHANGE_INTERVAL
            if stay_change_near(self.hass, self.device_keys(data))
            else self._normal_interval
        )

    async def async_refresh_lock(self, lock_id: int) -> None:
        """After an action, read that one lock again (1 request) instead of the whole account."""
        lock = await self.client.get_smartlock(lock_id)
        locks = {**self.data.locks, lock_id: lock}
        self.async_set_updated_data(replace(self.data, locks=locks))


def unifi_certificate_issue_id(entry_id: str) -> str:
    """The repair issue of a UniFi Access entry whose controller's certificate is not the pinned one."""
    return f"unifi_certificate_{entry_id}"


@dataclass(frozen=True, slots=True)
class UnifiSnapshot:
    """The doors of a UniFi Access controller, by door id (compares by value)."""

    doors: dict[str, UnifiDoor]


class UnifiAccessCoordinator(ProviderCoordinator[UnifiSnapshot, UnifiAccessClient]):
    """Keeps the doors of one UniFi Access controller: WebSocket push, polling only while push is down.

    Requests: 1 (``GET /doors``) per poll while push is down, 0 per interval while it is up (push changes are
    applied as they come, and the doors are read once each time the socket connects, to catch what changed
    while it was down). A refused token starts reauth; a certificate that is not the pinned one raises a
    repair issue and stops push, and every poll fails (the doors go unavailable) until the entry is
    reconfigured with the new fingerprint; nothing is read over an unpinned connection.
    """

    source = KIND_UNIFI
    upstream_name = "UniFi Access"
    # Seconds between WebSocket pings (a connection that stops answering is dropped and polling resumes).
    push_heartbeat: float = 30.0

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: UnifiAccessClient) -> None:
        """Poll ``client``'s controller at the interval chosen in the options until push is up."""
        super().__init__(hass, entry, client)

    @property
    def issue_id(self) -> str:
        """The repair issue raised when the controller's certificate is not the pinned one."""
        return unifi_certificate_issue_id(self.config_entry.entry_id)

    async def _async_update_data(self) -> UnifiSnapshot:
        try:
            doors = await self.client.list_doors()
        except AuthError as err:
            raise auth_failed(self.upstream_name) from err
        except CertificateMismatchError as err:
            self._certificate_changed(err)
            raise update_failed(self.upstream_name, err) from err
        except KasifyApiError as err:
            raise update_failed(self.upstream_name, err) from err
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
        return UnifiSnapshot(doors={door.id: door for door in doors})

    def _certificate_changed(self, err: CertificateMismatchError) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="unifi_certificate_changed",
            translation_placeholders={
                "account": self.config_entry.title,
                "expected": err.expected,
                "actual": err.actual or "?",
            },
        )

    # -- push -------------------------------------------------------------------------------------

    def async_start_push(self) -> None:
        """Listen to the controller's WebSocket for as long as the entry is loaded."""
        self.config_entry.async_create_background_task(
            self.hass, self._async_listen(), name=f"{DOMAIN} {self.config_entry.title} push"
        )

    async def _async_listen(self) -> None:
        try:
            await self.client.listen(
                self._on_event,
                self._on_disconnect,
                on_connect=self._on_connect,
                heartbeat=self.push_heartbeat,
            )
        except AuthError:
            LOGGER.warning("UniFi Access push: %s refused the API token", self.config_entry.title)
            self.config_entry.async_start_reauth(self.hass)
        except CertificateMismatchError as err:
            LOGGER.error("UniFi Access push stopped: %s", err)
            self._certificate_changed(err)
        except KasifyApiError as err:
            # No WebSocket API (old controller) or a certificate refused: polling goes on.
            LOGGER.warning("UniFi Access push unavailable, polling instead: %s", err)
        self._restore_polling()

    async def _on_connect(self) -> None:
        """Push is up: read the doors once (changes made while it was down were not pushed), stop polling."""
        try:
            doors = await self.client.list_doors()
        except KasifyApiError as err:
            LOGGER.debug("UniFi Access: resync after connecting failed, polling goes on: %s", err)
            return
        self.update_interval = None
        self.async_set_updated_data(UnifiSnapshot(doors={door.id: door for door in doors}))

    def _on_disconnect(self) -> None:
        """Push is down: poll again until it is back."""
        self._restore_polling()

    def _restore_polling(self) -> None:
        if self.update_interval is None:
            self.update_interval = self._normal_interval
            self._schedule_refresh()

    def _on_event(self, event: UnifiEvent) -> None:
        if isinstance(event, DoorStateEvent):
            door = self.data.doors.get(event.door_id)
            if door is None:
                return
            updated = event.apply(door)
            if updated is not door:
                self.async_set_updated_data(replace(self.data, doors={**self.data.doors, door.id: updated}))
        elif isinstance(event, DoorActivityEvent) and event.door_id in self.data.doors:
            attributes: dict[str, Any] = {"by": event.actor, "method": event.method}
            if event.at is not None:
                attributes["at"] = event.at.isoformat()
            async_dispatcher_send(
                self.hass,
                signal_lock_activity(self.config_entry.entry_id, self.data.doors[event.door_id].device_key),
                event.kind.value,
                attributes,
            )

    # -- devices and actions ------------------------------------------------------------------------

    def device_keys(self, data: UnifiSnapshot) -> set[str]:
        """The controller's doors."""
        return {door.device_key for door in data.doors.values()}

    async def async_refresh_door(self, door_id: str) -> None:
        """After an action, read that one door again (1 request) instead of every door."""
        door = await self.client.get_door(door_id)
        self.async_set_updated_data(replace(self.data, doors={**self.data.doors, door_id: door}))


# -- RemoteLock ---------------------------------------------------------------------------------------------

# Locations change rarely: read them on the first refresh, when a lock names an unknown one, and this often.
LOCATIONS_MAX_AGE: Final = timedelta(hours=6)
# A webhook delivery this recent means push is healthy: the events poll is skipped (the cursor-based poll
# catches up with anything missed once it resumes) and polling does not tighten around stays. RemoteLock
# retries a failed delivery every hour, so a silent hour is when polling takes over again.
WEBHOOK_HEALTHY: Final = timedelta(hours=1)
# An ``unlocked`` event this close to an ``access_person_used`` on the same lock is the same door opening.
CODE_USE_PAIRING: Final = timedelta(seconds=10)
# Event ids remembered to drop the same event arriving again (webhook retry, webhook + poll).
SEEN_EVENTS: Final = 1000

REMOTELOCK_ACTIVITY: Final = {
    "unlocked": "unlocked",
    "locked": "locked",
    "access_person_used": "code_used",
    "access_denied": "access_denied",
    "power_level_low": "battery_low",
}
"""RemoteLock event type → the lock activity entity's event type (other events are not lock activity)."""
_STATE_EVENTS: Final = {"locked": "locked", "unlocked": "unlocked"}


@dataclass(frozen=True, slots=True)
class RemoteLockSnapshot:
    """The locks and locations of one RemoteLock account (compares by value)."""

    locks: dict[str, RemoteLockLock]
    locations: dict[str, RemoteLockLocation]


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def property_choices(hass: HomeAssistant) -> dict[str, str]:
    """Every property of the loaded Kasify and casavi entries: device identifier → name."""
    choices: dict[str, str] = {}
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        coordinator = entry.runtime_data.coordinator
        if isinstance(coordinator, PropertySourceCoordinator) and coordinator.data is not None:
            for pid, prop in coordinator.data.properties.items():
                choices[coordinator.property_identifier(pid)[1]] = prop.name
    return choices


def location_property(
    hass: HomeAssistant, mapping: dict[str, str], location: RemoteLockLocation | None
) -> tuple[str, str] | None:
    """The property device a RemoteLock location belongs to.

    The options' mapping wins ("" = deliberately none); otherwise the property with the same name.
    """
    if location is None:
        return None
    if location.id in mapping:
        return (DOMAIN, mapping[location.id]) if mapping[location.id] else None
    wanted = _name_key(location.name)
    for identifier, name in property_choices(hass).items():
        if _name_key(name) == wanted:
            return (DOMAIN, identifier)
    return None


class RemoteLockCoordinator(ProviderCoordinator[RemoteLockSnapshot, RemoteLockClient]):
    """Polls one RemoteLock account: ``ceil(locks / 50)`` requests for the locks + 1 for new events.

    Every request of the account (polls, actions, access codes) goes through the client's one 120/min
    limiter. New events feed the locks' activity entities, whether polled or pushed by the webhook, each
    event id once; an ``unlocked`` that comes with an ``access_person_used`` is one ``code_used``.
    """

    source = KIND_REMOTELOCK
    upstream_name = "RemoteLock"

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: RemoteLockClient) -> None:
        """Poll ``client``'s account at the interval chosen in the options."""
        super().__init__(hass, entry, client)
        self._locations: dict[str, RemoteLockLocation] | None = None
        self._locations_read: datetime | None = None
        self._cursor: str | None = None
        self._seen: dict[str, None] = {}
        self._code_used_at: dict[str, datetime] = {}
        self._person_names: dict[str, str | None] = {}
        self.last_push: datetime | None = None
        self._rate_limit_gate = RetryAfterGate(self.upstream_name)

    @property
    def location_mapping(self) -> dict[str, str]:
        """Location id → property device identifier, as set in the options."""
        return dict(self.config_entry.options.get(CONF_LOCATIONS, {}))

    @property
    def push_healthy(self) -> bool:
        """Whether the webhook delivered an event within the last hour."""
        return self.last_push is not None and dt_util.utcnow() - self.last_push < WEBHOOK_HEALTHY

    async def _async_update_data(self) -> RemoteLockSnapshot:
        now = dt_util.utcnow()
        self._rate_limit_gate.check(now)
        try:
            locks = {lock.id: lock for lock in await self.client.list_locks()}
            if (
                self._locations is None
                or self._locations_read is None
                or now - self._locations_read >= LOCATIONS_MAX_AGE
                or any(
                    lock.location_id and lock.location_id not in self._locations for lock in locks.values()
                )
            ):
                self._locations = {loc.id: loc for loc in await self.client.list_locations()}
                self._locations_read = now
            if not self.push_healthy:
                await self._poll_events()
        except RateLimitedError as err:
            raise self._rate_limit_gate.failed(err, now) from err
        except AuthError as err:
            raise auth_failed(self.upstream_name) from err
        except KasifyApiError as err:
            raise update_failed(self.upstream_name, err) from err
        return RemoteLockSnapshot(locks=locks, locations=dict(self._locations))

    async def _poll_events(self) -> None:
        """Read the events since the last one seen (the first refresh only learns where the feed is)."""
        first = self._cursor is None
        batch = await self.client.list_events(since_id=self._cursor)
        self._cursor = batch.cursor
        if first:
            self._remember(event.id for event in batch.events)
            return
        await self.async_handle_events(batch.events)

    async def _person_name(self, person_id: str) -> str | None:
        if person_id not in self._person_names:
            try:
                person = await self.client.get_access_person(person_id)
            except KasifyApiError as err:
                LOGGER.debug("RemoteLock: could not name access person %s: %s", person_id, err)
                return None
            self._person_names[person_id] = person.name or None
        return self._person_names[person_id]

    def _remember(self, ids: Iterable[str]) -> None:
        for event_id in ids:
            self._seen[event_id] = None
        while len(self._seen) > SEEN_EVENTS:
            del self._seen[next(iter(self._seen))]

    async def async_handle_events(self, events: Sequence[RemoteLockEvent], *, pushed: bool = False) -> None:
        """Hand new lock events (oldest first) to their activity entities; pushed ones also move the lock.

        The one handler for polled events and webhook deliveries. An event already seen is dropped. A code use
        is named after its access person (read once per person, then remembered; never the PIN).
        """
        locks = self.data.locks if self.data is not None else {}
        changed: dict[str, RemoteLockLock] = {}
        for event in events:
            if event.id in self._seen:
                continue
            self._remember((event.id,))
            activity = REMOTELOCK_ACTIVITY.get(event.type)
            lock = locks.get(event.lock_id or "")
            if activity is None or lock is None:
                continue
            if pushed and (state := _STATE_EVENTS.get(event.type)) is not None:
                current = changed.get(lock.id, lock)
                if current.state != state:
                    changed[lock.id] = replace(current, state=state, status=lock_status(state))
            if event.type == "access_person_used":
                self._code_used_at[lock.id] = event.occurred_at
            elif event.type == "unlocked" and (
                (used := self._code_used_at.get(lock.id)) is not None
                and abs(event.occurred_at - used) <= CODE_USE_PAIRING
            ):
                continue  # the same opening as the code use already reported
            attributes: dict[str, Any] = {"at": event.occurred_at.isoformat()}
            if event.access_person_id and (name := await self._person_name(event.access_person_id)):
                attributes["by"] = name
            if event.method:
                attributes["method"] = event.method
            if event.power_level is not None:
                attributes["battery_level"] = event.power_level
            async_dispatcher_send(
                self.hass,
                signal_lock_activity(self.config_entry.entry_id, lock.device_key),
                activity,
                attributes,
            )
        if changed and self.data is not None:
            self.async_set_updated_data(replace(self.data, locks={**self.data.locks, **changed}))

    async def async_handle_pushed_event(self, event: RemoteLockEvent) -> None:
        """A webhook delivered ``event``: push is healthy; handle it like a polled one."""
        self.last_push = dt_util.utcnow()
        await self.async_handle_events([event], pushed=True)

    def device_keys(self, data: RemoteLockSnapshot) -> set[str]:
        """The account's locks."""
        return {lock.device_key for lock in data.locks.values()}

    def _refreshed(self, data: RemoteLockSnapshot) -> None:
        near = not self.push_healthy and stay_change_near(
            self.hass,
            set(),
            {prop for lock in data.locks.values() if (prop := self.location_of(lock)) is not None},
        )
        self.update_interval = STAY_CHANGE_INTERVAL if near else self._normal_interval

    # The options' location mapping decides: a location mapped to no property unhangs its locks.
    unlink_when_unknown = True

    def lock_property(self, device_key: str) -> tuple[str, str] | None:
        """The property device of a lock, through its location."""
        lock = next((lock for lock in self.data.locks.values() if lock.device_key == device_key), None)
        return self.location_of(lock) if lock is not None else None

    def location_of(self, lock: RemoteLockLock) -> tuple[str, str] | None:
        """The property device of a lock's location (the options' mapping, else the same name)."""
        if self.data is None or lock.location_id is None:
            return None
        return location_property(self.hass, self.location_mapping, self.data.locations.get(lock.location_id))

    def apply_lock(self, lock: RemoteLockLock) -> None:
        """Show a lock as an action's answer returned it (no extra request)."""
        self.async_set_updated_data(replace(self.data, locks={**self.data.locks, lock.id: lock}))
