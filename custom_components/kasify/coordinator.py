"""Coordinators: one per property-source account (Kasify, casavi), sharing error handling and devices."""

from __future__ import annotations

from abc import abstractmethod
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

from .api.casavi import CasaviClient, CasaviSnapshot
from .api.errors import AuthError, CertificateMismatchError, KasifyApiError, RateLimitedError
from .api.ical import FeedState, IcalEvent, IcalFeedClient, channel_from_url, normalize_feed_url
from .api.kasify import KasifyClient
from .api.models import AccountSnapshot, PropertySnapshot, SmartLock
from .api.nuki import NukiClient, NukiSnapshot
from .api.unifi_access import DoorActivityEvent, DoorStateEvent, UnifiAccessClient, UnifiDoor, UnifiEvent
from .const import (
    BOOKINGS_LOOKBACK,
    CONF_CALENDAR_DAYS,
    CONF_FEED_INTERVAL,
    CONF_ICAL_FEEDS,
    CONF_PROPERTY,
    CONF_SCAN_INTERVAL,
    DEFAULT_CALENDAR_DAYS,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    KIND_CASAVI,
    KIND_KASIFY,
    KIND_NUKI,
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

    client: KasifyClient | CasaviClient | NukiClient | UnifiAccessClient
    coordinator: PropertySourceCoordinator[Any] | NukiCoordinator | UnifiAccessCoordinator
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


def remove_stale_devices(
    hass: HomeAssistant, entry_id: str, current: set[tuple[str, str]]
) -> list[dr.DeviceEntry]:
    """Detach this entry from devices none of whose identifiers the upstream still has.

    Returns the devices that stay (the caller may update them). A device shared with another entry (a lock
    device of both a Kasify and a provider entry) only loses this entry.
    """
    registry = dr.async_get(hass)
    kept: list[dr.DeviceEntry] = []
    for device in dr.async_entries_for_config_entry(registry, entry_id):
        ours = {ident for ident in device.identifiers if ident[0] == DOMAIN}
        if ours and not ours & current:
            LOGGER.debug("Removing device %s: gone upstream", device.name)
            registry.async_update_device(device.id, remove_config_entry_id=entry_id)
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
        # The upstream's Retry-After: no request is sent before this instant.
        self._rate_limited_until: datetime | None = None

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
        if self._rate_limited_until is not None and now < self._rate_limited_until:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={
                    "service": self.upstream_name,
                    "seconds": f"{(self._rate_limited_until - now).total_seconds():.0f}",
                },
            )
        self._rate_limited_until = None
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        window_start = today - BOOKINGS_LOOKBACK
        window_end = today + timedelta(days=self.calendar_days + 1)
        try:
            return await self._fetch(window_start, window_end)
        except AuthError as err:
            raise auth_failed(self.upstream_name) from err
        except RateLimitedError as err:
            if err.retry_after:
                self._rate_limited_until = now + timedelta(seconds=err.retry_after)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={
                    "service": self.upstream_name,
                    "seconds": f"{err.retry_after or 0:.0f}",
                },
            ) from err
        except KasifyApiError as err:
            raise update_failed(self.upstream_name, err) from err

    def _async_refresh_finished(self) -> None:
        """Keep the device registry in step with the upstream (data is complete after a success)."""
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            self._sync_devices(self.data)

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
        return super()._device_identifiers(data) | {
            lock_identifier(lock) for lock in data.smart_locks.values()
        }

    def _async_refresh_finished(self) -> None:
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            self._suggest_provider_accounts(self.data)

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


# Around a check-in or check-out guests and cleaners use the door: poll the lock this often then.
STAY_CHANGE_INTERVAL: Final = timedelta(seconds=15)
STAY_CHANGE_MARGIN: Final = timedelta(minutes=30)


def stay_change_near(hass: HomeAssistant, device_keys: set[str]) -> bool:
    """Whether a property with one of these locks has a check-in or check-out within half an hour."""
    now = dt_util.utcnow()
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        coordinator = entry.runtime_data.coordinator
        if not isinstance(coordinator, KasifyCoordinator) or coordinator.data is None:
            continue
        data = coordinator.data
        properties = {
            lock.property_id for lock in data.smart_locks.values() if lock.device_key in device_keys
        }
        for property_id in properties:
            for booking in data.active_bookings(property_id):
                if any(
                    abs(instant - now) <= STAY_CHANGE_MARGIN
                    for instant in (booking.check_in, booking.check_out)
                ):
                    return True
    return False


def provider_lock_keys(hass: HomeAssistant) -> set[str]:
    """Device keys of every lock a loaded provider entry (Nuki, ...) controls."""
    keys: set[str] = set()
    for entry in hass.config_entries.async_entries(DOMAIN):
        # An entry still setting up counts (it asks the Kasify entries to reload from its setup); one
        # unloading does not (its locks go back to Kasify).
        if entry.state not in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_IN_PROGRESS):
            continue
        coordinator = getattr(entry, "runtime_data", None) and entry.runtime_data.coordinator
        if isinstance(coordinator, NukiCoordinator) and coordinator.data is not None:
            keys |= {lock.device_key for lock in coordinator.data.locks.values()}
        elif isinstance(coordinator, UnifiAccessCoordinator) and coordinator.data is not None:
            keys |= {door.device_key for door in coordinator.data.doors.values()}
    return keys


class NukiCoordinator(DataUpdateCoordinator[NukiSnapshot]):
    """Polls one Nuki Web account: 1 request for every lock (``GET /smartlock``) + 1 for the account's log.

    New log entries (never seen before, newer than the first refresh) are handed to the locks' activity
    event entities; locks without an active Smart Hosting subscription get a repair issue.
    """

    config_entry: KasifyConfigEntry
    source = KIND_NUKI
    upstream_name = "Nuki"

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: NukiClient) -> None:
        """Poll ``client``'s account at the interval chosen in the options."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=timedelta(seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)),
            always_update=False,
        )
        self.client = client
        self._normal_interval = self.update_interval
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

    def _async_refresh_finished(self) -> None:
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            self._sync_devices_and_issues(self.data)
            self.update_interval = (
                STAY_CHANGE_INTERVAL
                if stay_change_near(self.hass, {lock.device_key for lock in self.data.locks.values()})
                else self._normal_interval
            )

    def _sync_devices_and_issues(self, data: NukiSnapshot) -> None:
        remove_stale_devices(
            self.hass, self.config_entry.entry_id, {(DOMAIN, lock.device_key) for lock in data.locks.values()}
        )
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

    def has_device(self, identifiers: set[tuple[str, str]]) -> bool:
        """Whether any of ``identifiers`` is a lock this account still has."""
        return any((DOMAIN, lock.device_key) in identifiers for lock in self.data.locks.values())

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


class UnifiAccessCoordinator(DataUpdateCoordinator[UnifiSnapshot]):
    """Keeps the doors of one UniFi Access controller: WebSocket push, polling only while push is down.

    Requests: 1 (``GET /doors``) per poll while push is down, 0 per interval while it is up (push changes are
    applied as they come, and the doors are read once each time the socket connects, to catch what changed
    while it was down). A refused token starts reauth; a certificate that is not the pinned one raises a
    repair issue and stops push, and every poll fails (the doors go unavailable) until the entry is
    reconfigured with the new fingerprint; nothing is read over an unpinned connection.
    """

    config_entry: KasifyConfigEntry
    source = KIND_UNIFI
    upstream_name = "UniFi Access"
    # Seconds between WebSocket pings (a connection that stops answering is dropped and polling resumes).
    push_heartbeat: float = 30.0

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: UnifiAccessClient) -> None:
        """Poll ``client``'s controller at the interval chosen in the options until push is up."""
        self._poll_interval = timedelta(seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL))
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=self._poll_interval,
            always_update=False,
        )
        self.client = client

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
            self.update_interval = self._poll_interval
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

    def _async_refresh_finished(self) -> None:
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            self._sync_devices(self.data)

    def _sync_devices(self, data: UnifiSnapshot) -> None:
        remove_stale_devices(
            self.hass, self.config_entry.entry_id, {(DOMAIN, door.device_key) for door in data.doors.values()}
        )

    def has_device(self, identifiers: set[tuple[str, str]]) -> bool:
        """Whether any of ``identifiers`` is a door the controller still has."""
        return any((DOMAIN, door.device_key) in identifiers for door in self.data.doors.values())

    async def async_refresh_door(self, door_id: str) -> None:
        """After an action, read that one door again (1 request) instead of every door."""
        door = await self.client.get_door(door_id)
        self.async_set_updated_data(replace(self.data, doors={**self.data.doors, door_id: door}))
