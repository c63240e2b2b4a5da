"""The coordinators' common ground: one error ladder, the Retry-After gate, devices, and lock views.

Every upstream account is polled by an :class:`ApiCoordinator`: a property source (Kasify, casavi) through
:class:`PropertySourceCoordinator`, a lock provider (Nuki Web, UniFi Access, RemoteLock) through
:class:`ProviderCoordinator`. The kinds themselves live in ``providers/``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.calendar import CalendarEvent
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import compat
from .api.errors import MAX_RETRY_AFTER_SECONDS, ApiError, AuthError, RateLimitedError
from .api.models import Booking, EndpointNotUnderstood, LockStatus, PropertySnapshot
from .const import (
    BOOKINGS_LOOKBACK,
    CONF_CALENDAR_DAYS,
    CONF_SCAN_INTERVAL,
    DEFAULT_CALENDAR_DAYS,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    KIND_KASIFY,
    LOGGER,
)
from .placement import place_lock
from .scale import PerData, SlicedListeners, one_pass

if TYPE_CHECKING:
    from .access_codes.records import CodeTarget
    from .providers.kasify_feeds import FeedCoordinator
    from .readiness import ReadinessTracker
    from .stay_conflicts import StayConflicts
    from .stays import StayScheduler


@dataclass(slots=True)
class KasifyRuntimeData:
    """What a loaded entry keeps in ``entry.runtime_data``."""

    client: Any
    coordinator: PropertySourceCoordinator[Any] | ProviderCoordinator[Any, Any]
    # Check-in/out timers; only property sources with guest stays (Kasify) have them.
    stays: StayScheduler | None = field(default=None, repr=False)
    # iCal feeds of the properties (Kasify only).
    feeds: FeedCoordinator | None = field(default=None, repr=False)
    # Double bookings and turnover gaps (Kasify only).
    conflicts: StayConflicts | None = field(default=None, repr=False)
    # Ready for the next guest, and the guests' registration (Kasify only).
    readiness: ReadinessTracker | None = field(default=None, repr=False)


type KasifyConfigEntry = ConfigEntry[KasifyRuntimeData]


def property_identifier(property_id: str, kind: str = KIND_KASIFY) -> tuple[str, str]:
    """Device registry identifier of a property (Kasify ids unprefixed, as they always were)."""
    prefix = "" if kind == KIND_KASIFY else f"{kind}_"
    return (DOMAIN, f"{prefix}property_{property_id}")


def signal_lock_activity(entry_id: str, device_key: str) -> str:
    """Dispatcher signal for a lock's new activity; payload ``(event_type, attributes)``."""
    return f"kasify_lock_activity_{entry_id}_{device_key}"


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


# A Retry-After longer than this is not believed: polling resumes after 15 minutes at the latest.
MAX_RETRY_AFTER: Final = timedelta(seconds=MAX_RETRY_AFTER_SECONDS)


class RetryAfterGate:
    """No request to an upstream before the ``Retry-After`` of its last 429 has passed (at most 15 min)."""

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
        wait = min(timedelta(seconds=err.retry_after or 0), MAX_RETRY_AFTER)
        if wait:
            self._until = now + wait
        return self._failure(wait.total_seconds())


def remove_stale_devices(
    hass: HomeAssistant, entry_id: str, current: set[tuple[str, str]]
) -> list[dr.DeviceEntry]:
    """Remove this entry's devices none of whose identifiers it should still have.

    Returns the devices that stay (the caller may update them).
    """
    kept: list[dr.DeviceEntry] = []
    for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id):
        ours = {ident for ident in device.identifiers if ident[0] == DOMAIN}
        if ours and not ours & current:
            LOGGER.debug("Removing device %s: gone upstream or shown by another entry", device.name)
            compat.remove_device(hass, device, entry_id)
        else:
            kept.append(device)
    return kept


class ApiCoordinator[DataT](SlicedListeners[DataT]):
    """Polls one upstream account; the one place upstream failures become Home Assistant's.

    Refused credentials → reauth; 429 → no request until its ``Retry-After`` has passed (capped); any other
    API failure → the entities go unavailable (Home Assistant logs once when it goes and once when it
    comes back). Subclasses read the account in :meth:`_fetch` and may react to an error in
    :meth:`_on_api_error` (a repair issue, say). Listeners are updated in slices (:mod:`.scale`), and look-ups
    over the data are worked out once per refresh (:attr:`per_data`).
    """

    config_entry: KasifyConfigEntry
    # The account kind (``kasify``, ``casavi``, ``nuki``, ``unifi_access``, ``remotelock``).
    kind: str
    upstream_name: str

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, *, interval: timedelta) -> None:
        """Poll every ``interval``; only a changed result reaches the entities."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=interval,
            always_update=False,
        )
        self._rate_limit_gate = RetryAfterGate(self.upstream_name)
        self.per_data = PerData()

    @abstractmethod
    async def _fetch(self) -> DataT:
        """Read the account for one refresh (raises :class:`ApiError`)."""

    def _on_api_error(self, err: ApiError) -> None:
        """A refresh failed with ``err`` (neither refused credentials nor a 429)."""

    def code_target(self, device_key: str, entity_id: str, name: str) -> CodeTarget | None:
        """How the access-code engine reaches a lock this entry shows (None: codes cannot go there)."""
        return None

    async def _async_update_data(self) -> DataT:
        now = dt_util.utcnow()
        self._rate_limit_gate.check(now)
        try:
            return await self._fetch()
        except AuthError as err:
            raise auth_failed(self.upstream_name) from err
        except RateLimitedError as err:
            raise self._rate_limit_gate.failed(err, now) from err
        except ApiError as err:
            self._on_api_error(err)
            raise update_failed(self.upstream_name, err) from err


@dataclass(frozen=True, slots=True, kw_only=True)
class LockView:
    """One lock as its entities show it, whatever the vendor (compares by value).

    ``unique_id_base`` prefixes the lock's entity unique ids; ``device_key`` (``<vendor>_<id>``) is its
    device identifier, the same in every entry that shows the lock.
    """

    device_key: str
    unique_id_base: str
    name: str | None
    status: LockStatus
    manufacturer: str | None
    model: str | None
    serial_number: str | None
    sw_version: str | None = None
    can_open: bool = False
    battery_level: int | None = None
    # Whether the vendor has a battery-critical flag (its value may be unknown for a while).
    has_battery_critical: bool = False
    battery_critical: bool | None = None
    battery_charging: bool | None = None
    connected: bool | None = None
    has_door_sensor: bool = False
    door_open: bool | None = None


def endpoint_issue_id(entry_id: str, feature: str) -> str:
    """The repair issue of an entry whose ``feature`` is off (its inferred endpoint was not understood)."""
    return f"endpoint_not_understood_{entry_id}_{feature}"


class PropertySourceCoordinator[SnapshotT: PropertySnapshot](ApiCoordinator[SnapshotT]):
    """Polls one account of a property source.

    The booking window moves once a day, so an unchanged account compares equal and listeners only run on
    real changes. The device registry is kept in step (new, renamed, removed properties). A feature read
    through an inferred endpoint that the upstream did not understand (``data.degraded``) is off: its entities
    are unavailable, one repair issue per feature says so (gone once the endpoint answers again or the entry
    unloads), and the log has one warning when it goes and one info line when it comes back.
    """

    kind: str
    # What the source calls its tasks ("tasks", "tickets"): the open-tasks sensor's key and name, and the
    # feature (:class:`Feature`) the sensor reads.
    task_noun: str = "tasks"

    def __init__(
        self, hass: HomeAssistant, entry: KasifyConfigEntry, *, default_interval: int = DEFAULT_SCAN_INTERVAL
    ) -> None:
        """Set up polling at the interval chosen in the options."""
        super().__init__(
            hass,
            entry,
            interval=timedelta(seconds=entry.options.get(CONF_SCAN_INTERVAL, default_interval)),
        )
        self.calendar_days: int = entry.options.get(CONF_CALENDAR_DAYS, DEFAULT_CALENDAR_DAYS)
        # The features that were off at the last successful refresh (reported as such).
        self._degraded: Mapping[str, EndpointNotUnderstood] = {}
        entry.async_on_unload(self._clear_degraded_issues)

    @abstractmethod
    async def _fetch_window(self, window_start: datetime, window_end: datetime) -> SnapshotT:
        """Read the account, with bookings/appointments in the window."""

    async def _fetch(self) -> SnapshotT:
        today = dt_util.utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        return await self._fetch_window(
            today - BOOKINGS_LOOKBACK, today + timedelta(days=self.calendar_days + 1)
        )

    def property_identifier(self, property_id: str) -> tuple[str, str]:
        """Device identifier of one of this source's properties."""
        return property_identifier(property_id, self.kind)

    def property_identifiers(self) -> frozenset[tuple[str, str]]:
        """Device identifiers of this source's properties now."""
        data = self.data
        return self.per_data.get(
            "property_identifiers",
            (data,),
            lambda: frozenset(self.property_identifier(pid) for pid in data.properties),
        )

    def _device_identifiers(self, data: SnapshotT) -> set[tuple[str, str]]:
        """Identifiers of every device this entry should have (properties; subclasses add locks)."""
        return {self.property_identifier(pid) for pid in data.properties}

    def _async_refresh_finished(self) -> None:
        """Keep the device registry in step with the upstream (data is complete after a success)."""
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            with one_pass(self.hass):
                self._sync_devices(self.data)
                self._report_degraded(self.data.degraded)
                self._refreshed(self.data)

    def _refreshed(self, data: SnapshotT) -> None:
        """After a successful refresh, devices in step: repairs, links."""

    # Whether the source's tasks can be changed from Home Assistant (to-do items): Kasify's can, casavi's
    # tickets are read-only.
    tasks_writable: bool = False

    def property_zone(self, property_id: str) -> tzinfo:
        """The property's time zone (Home Assistant's, unless the source knows better)."""
        return dt_util.get_default_time_zone()

    def unknown_task_states(self, property_id: str) -> Mapping[str, int]:
        """States the integration does not know of the property's tasks (not counted open), with counts."""
        return {}

    def feature_off(self, feature: str) -> EndpointNotUnderstood | None:
        """Why ``feature`` is off (its data unknown), or None when the last refresh read it."""
        return self.data.degraded.get(feature) if self.data is not None else None

    def _report_degraded(self, degraded: Mapping[str, EndpointNotUnderstood]) -> None:
        """One warning and one repair issue per feature that went off; one info line when it is back."""
        title = self.config_entry.title
        for feature, why in degraded.items():
            if self._degraded.get(feature) == why:
                continue
            if feature not in self._degraded:
                LOGGER.warning(
                    "%s: %s answers %s to %s (a path the integration inferred): %s are off until it answers"
                    " again; everything else keeps working",
                    title, self.upstream_name, why.status, why.endpoint, feature,
                )  # fmt: skip
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                endpoint_issue_id(self.config_entry.entry_id, feature),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=f"endpoint_not_understood_{feature}",
                translation_placeholders={
                    "account": title,
                    "endpoint": why.endpoint,
                    "status": str(why.status),
                },
            )
        for feature, why in self._degraded.items():
            if feature not in degraded:
                LOGGER.info(
                    "%s: %s answers %s again: %s are back", title, self.upstream_name, why.endpoint, feature
                )
                ir.async_delete_issue(
                    self.hass, DOMAIN, endpoint_issue_id(self.config_entry.entry_id, feature)
                )
        self._degraded = dict(degraded)

    def _clear_degraded_issues(self) -> None:
        """The entry unloads: its issues go (raised again by the first refresh if still true)."""
        for feature in self._degraded:
            ir.async_delete_issue(self.hass, DOMAIN, endpoint_issue_id(self.config_entry.entry_id, feature))
        self._degraded = {}

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

    # -- what other entries ask of a property source --------------------------------------------------

    def property_of_lock(self, device_key: str) -> str | None:
        """The id of the property a lock (by device key) belongs to, where this source says so."""
        return None

    def stay_changes(self, property_id: str) -> list[datetime]:
        """Check-in and check-out instants of the property's stays (none for sources without stays)."""
        return []

    def stay_change_properties(self, start: datetime, end: datetime) -> set[str]:
        """The properties with a check-in or check-out in ``[start, end]``."""
        return {pid for pid in self.data.properties if any(start <= i <= end for i in self.stay_changes(pid))}

    def property_of_booking(self, booking_id: str) -> str | None:
        """The id of the property a booking this source lists is for (none for sources without bookings)."""
        return None

    @property
    def lock_views(self) -> Mapping[str, LockView]:
        """Locks this entry shows itself, read-only, by device key (none for most sources)."""
        return {}

    def lock_parent(self, device_key: str) -> tuple[str, str] | None:
        """The property device a lock this entry shows hangs under."""
        return None

    def hidden_lock_bases(self) -> set[str]:
        """Unique id bases of locks this entry knows but leaves to another entry (their entities go)."""
        return set()

    def sync_lock_links(self) -> Iterator[None]:
        """Hang this entry's own lock devices under their property's device (one lock per step)."""
        return iter(())

    # -- the property's calendar ---------------------------------------------------------------------------

    # The calendar entity's key and translation key ("bookings", "appointments"), and the feature
    # (:class:`Feature`) the calendar reads.
    calendar_key: str

    @abstractmethod
    def calendar_cached(self, property_id: str, language: str) -> list[CalendarEvent]:
        """Every event of the property in the coordinator's window, sorted by start."""

    def calendar_current(self, property_id: str, now: datetime, language: str) -> CalendarEvent | None:
        """The first event of :meth:`calendar_cached` that ends after ``now`` (the calendar's state)."""
        return next(
            (
                event
                for event in self.calendar_cached(property_id, language)
                if event.end_datetime_local > now
            ),
            None,
        )

    async def async_calendar_window(
        self, property_id: str, start: datetime, end: datetime, language: str
    ) -> list[CalendarEvent]:
        """Events of ``[start, end)`` inside the coordinator's window (the caller filters the range)."""
        return self.calendar_cached(property_id, language)

    @abstractmethod
    async def async_calendar_fetch(
        self, property_id: str, start: datetime, end: datetime, language: str
    ) -> list[CalendarEvent]:
        """Events of ``[start, end)`` outside the coordinator's window, read from the API."""

    def calendar_followers(self) -> list[DataUpdateCoordinator[Any]]:
        """Other coordinators whose changes change the calendar (Kasify's iCal feeds)."""
        return []

    def calendar_extra(self, property_id: str) -> object:
        """What the followers know of the property (compared to skip writing an unchanged calendar)."""
        return None

    # -- guest stays (sources that have them) ---------------------------------------------------------------

    # Whether the source has guest stays: check-in/out timers, occupancy, current and next guest.
    has_stays: bool = False

    def current_stay(self, property_id: str, now: datetime) -> Booking | None:
        """The stay in progress at the property at ``now``."""
        return None

    def next_stay(self, property_id: str, now: datetime) -> Booking | None:
        """The next stay to begin at the property after ``now``."""
        return None

    def last_stay(self, property_id: str, now: datetime) -> Booking | None:
        """The stay that ended last at the property, at or before ``now``."""
        return None


class ProviderCoordinator[DataT, ClientT](ApiCoordinator[DataT]):
    """One lock-provider account (Nuki Web, UniFi Access, RemoteLock).

    Holds the client, polls at the options' interval, shows its locks as :class:`LockView` s, acts on them,
    and keeps the account's lock devices in step (a lock the upstream dropped leaves the registry; each
    lock hangs under its property's device).
    """

    # Locks whose property is not known keep the property they were linked to (a Kasify entry that reloads
    # must not unhang every lock); accounts whose own settings decide the link say so (and unhang a lock only
    # while a property source is loaded to decide it).
    unlink_when_unknown: bool = False
    # The lock activity event types of this vendor.
    activity_event_types: tuple[str, ...] = ()
    # The vendor part of this account's device keys (``<vendor>_<id>``).
    vendor: str

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: ClientT) -> None:
        """Poll ``client``'s account at the interval chosen in the options."""
        self._normal_interval = timedelta(
            seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        )
        super().__init__(hass, entry, interval=self._normal_interval)
        self.client = client
        self._views: tuple[object, dict[str, LockView]] | None = None

    # -- the locks ------------------------------------------------------------------------------------

    @abstractmethod
    def device_keys(self, data: DataT) -> set[str]:
        """The device keys (``<vendor>_<id>``) of the account's locks in ``data``."""

    @abstractmethod
    def _lock_views(self, data: DataT) -> dict[str, LockView]:
        """Every lock of ``data`` as a view, by device key."""

    @property
    def lock_views(self) -> Mapping[str, LockView]:
        """The account's locks as their entities show them (worked out once per data)."""
        if self.data is None:
            return {}
        if self._views is None or self._views[0] is not self.data:
            # A lock that did not change keeps its view object: its entities compare it by identity.
            before = self._views[1] if self._views is not None else {}
            views = {
                key: previous if (previous := before.get(key)) == view else view
                for key, view in self._lock_views(self.data).items()
            }
            self._views = (self.data, views)
        return self._views[1]

    def has_device(self, identifiers: set[tuple[str, str]]) -> bool:
        """Whether any of ``identifiers`` is a lock the account still has."""
        return any((DOMAIN, key) in identifiers for key in self.device_keys(self.data))

    def check_action(self, device_key: str, action: str) -> None:
        """Refuse (ServiceValidationError) an action the lock cannot do, before anything is shown or sent."""

    @abstractmethod
    async def async_send_action(self, device_key: str, action: str) -> None:
        """Send lock, unlock or open (``action``) to one lock.

        Raises:
            ServiceValidationError: The lock cannot do that (nothing was sent).
            ApiError: The upstream refused or failed.
        """

    @abstractmethod
    async def async_show_after_action(self, device_key: str) -> None:
        """An action was accepted: show the lock as it is now (never raises; push or a poll catch up)."""

    def action_failure(self, err: ApiError, action: str, lock: str) -> HomeAssistantError:
        """The translated error of a refused lock action (vendors name their own special cases)."""
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=f"{action}_failed",
            translation_placeholders={"lock": lock, "error": str(err)},
        )

    # -- after a refresh ------------------------------------------------------------------------------

    def _async_refresh_finished(self) -> None:
        super()._async_refresh_finished()
        if self.last_update_success and self.data is not None:
            from .links import link_lock_devices  # links imports this module: imported when first needed

            with one_pass(self.hass):
                remove_stale_devices(
                    self.hass,
                    self.config_entry.entry_id,
                    {(DOMAIN, key) for key in self.device_keys(self.data)},
                )
                link_lock_devices(self.hass, self)
                self._refreshed(self.data)

    def _refreshed(self, data: DataT) -> None:
        """After a successful refresh (devices and links already in step): repairs, polling pace."""

    def lock_parent(self, device_key: str) -> tuple[str, str] | None:
        """The property device a lock of this account belongs to (a Kasify smart-lock record names it)."""
        from .links import linked_property  # links imports this module: imported when first needed

        return linked_property(self.hass, device_key)

    def hidden_lock_bases(self) -> set[str]:
        """A provider shows every lock it has."""
        return set()

    def sync_lock_links(self) -> Iterator[None]:
        """Hang each lock device under its property's device (a property loaded later, a changed mapping).

        One lock per step (:func:`~.links.link_lock_devices` spreads them over turns of the loop).

        The device is named after its property and put in the property's area (``placement.py``).
        """
        from .links import property_device, property_sources  # links imports this module: imported late

        # With no property source loaded (Home Assistant starting, a Kasify entry reloading) nothing is known.
        unlink = self.unlink_when_unknown and bool(property_sources(self.hass))
        views = self.lock_views
        for key in self.device_keys(self.data):
            yield
            device = compat.device_by_identifier(self.hass, (DOMAIN, key), self.config_entry.entry_id)
            if device is None or (view := views.get(key)) is None:
                continue  # its entities are being added; the link follows once they are
            parent = property_device(self.hass, self.lock_parent(key))
            place_lock(self.hass, device, parent, view.name, unlink=unlink)
