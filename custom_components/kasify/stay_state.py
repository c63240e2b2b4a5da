"""Each property's stay state, guests' arrivals by their own code, and early check-outs.

:class:`StayTracker` (one per Kasify entry) keeps what only Home Assistant knows about a stay in
``.storage/kasify.stay_state.<entry id>``: when a booking's guest first used their code (and every use and
refused attempt after that, by lock and time, never the PIN), when the host checked a guest out early, and
which turnovers were seen cleaned. The *Stay state* sensor is derived from the bookings, the tasks and those
facts at every instant (:func:`stay_state`), so a restart shows the same state at once: a Store, not a
restored entity state, because the state must follow the bookings while Home Assistant was down and the
facts behind it (arrivals, early check-outs, access logs) are per booking, not per entity.

A code use is tied to a booking through the access-code engine's records: the lock account names the
credential (Nuki's authorization id, UniFi Access's visitor id, RemoteLock's access guest id,
:mod:`.code_use`), the engine knows which booking it issued it for. The arrival is stored before
``kasify_guest_arrived`` fires, so it fires once per booking, across restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect, async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from . import compat
from .api.models import Booking, Feature, Task, TaskType
from .code_use import SIGNAL_CODE_USE, CodeUse
from .const import DOMAIN, EVENT_CHECK_OUT, LOGGER, STAY_CHECK_OUT, STAY_GUEST_ARRIVED
from .coordinator import property_identifier
from .stays import signal_stay

if TYPE_CHECKING:
    from .api.models import AccountSnapshot
    from .coordinator import KasifyConfigEntry
    from .providers.kasify import KasifyCoordinator

EVENT_GUEST_ARRIVED: Final = "kasify_guest_arrived"
STORAGE_VERSION: Final = 1
_DATA_TRACKERS: Final = f"{DOMAIN}_stay_trackers"
# Per booking, the access log keeps this many entries (the first one is kept apart, as the arrival).
MAX_LOG_ENTRIES: Final = 200
# What is remembered of a booking goes this long after its last word (a use, an early check-out).
KEEP_FOR: Final = timedelta(days=30)


class StayState(StrEnum):
    """A property's stay state."""

    VACANT = "vacant"
    GUEST_ARRIVING = "guest_arriving"
    OCCUPIED = "occupied"
    CHECKED_OUT = "checked_out"
    READY = "ready"


STAY_STATES: Final = [state.value for state in StayState]


def storage_key(entry_id: str) -> str:
    """The store of one Kasify entry's stay facts."""
    return f"{DOMAIN}.stay_state.{entry_id}"


async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
    """The entry is deleted: its stay facts go with it."""
    await Store[dict[str, Any]](hass, STORAGE_VERSION, storage_key(entry_id)).async_remove()


def signal_stay_state(entry_id: str) -> str:
    """Dispatcher signal: the entry's stay facts changed (the sensors read them again)."""
    return f"kasify_stay_state_{entry_id}"


@dataclass(frozen=True, slots=True)
class Facts:
    """What Home Assistant knows of a property's stays beyond the bookings and tasks."""

    early: Mapping[str, datetime]
    cleaned: frozenset[str]


def stay_end(booking: Booking, early: Mapping[str, datetime]) -> datetime:
    """When the stay ends: its check-out, or the early check-out before it."""
    cut = early.get(booking.id)
    return min(booking.check_out, cut) if cut is not None else booking.check_out


def turnover_cleaned(booking: Booking, end: datetime, data: AccountSnapshot, cleaned: frozenset[str]) -> bool:
    """Whether the cleaning task after ``booking`` is completed (a task unknown is not).

    The turnover's task is a cleaning task of the booking, or one of the property tied to no booking and
    completed after the stay ended. While Kasify's tasks are not understood, no turnover counts as cleaned.
    """
    if booking.id in cleaned:
        return True
    if Feature.TASKS in data.degraded or Feature.COMPLETED_TASKS in data.degraded:
        return False

    def ours(task: Task) -> bool:
        return task.task_type == TaskType.CLEANING and task.booking_id in (booking.id, None)

    return any(
        ours(task) and (task.booking_id == booking.id or (task.completed_at or end) >= end)
        for task in data.completed_tasks.get(booking.property_id, ())
    )


def stay_state(
    data: AccountSnapshot, property_id: str, now: datetime, zone: tzinfo, facts: Facts
) -> tuple[StayState, Booking | None]:
    """The property's stay state at ``now`` and the booking it is about.

    Occupied while a stay is under way; checked out from a stay's end until its turnover is cleaned; guest
    arriving on a check-in's day (the property's time zone); ready when a next guest is due; vacant else.
    """
    bookings = data.active_bookings(property_id)
    for booking in bookings:
        if booking.check_in <= now < stay_end(booking, facts.early):
            return StayState.OCCUPIED, booking
    ended = [b for b in bookings if stay_end(b, facts.early) <= now]
    if ended:
        last = max(ended, key=lambda b: stay_end(b, facts.early))
        if not turnover_cleaned(last, stay_end(last, facts.early), data, facts.cleaned):
            return StayState.CHECKED_OUT, last
    upcoming = next((b for b in bookings if b.check_in > now), None)
    if upcoming is None:
        return StayState.VACANT, None
    if upcoming.check_in.astimezone(zone).date() == now.astimezone(zone).date():
        return StayState.GUEST_ARRIVING, upcoming
    return StayState.READY, upcoming


def next_change(data: AccountSnapshot, now: datetime, zones: Mapping[str, tzinfo]) -> datetime | None:
    """The next instant a stay state can change by time alone: a check-in day, a check-in, a check-out."""
    # Bookings are by check-in, and the start of a check-in's day never comes before an earlier check-in's:
    # of the check-ins (and their days) only the first after ``now`` can be the next change. Thousands of
    # bookings are gone through after every refresh, so the others cost a comparison each, no zone.
    instants: list[datetime] = []
    for property_id in data.properties:
        upcoming: Booking | None = None
        for booking in data.active_bookings(property_id):
            if booking.check_out > now:
                instants.append(booking.check_out)
            if upcoming is None and booking.check_in > now:
                upcoming = booking
        if upcoming is not None:
            local = upcoming.check_in.astimezone(zones[property_id])
            day = datetime.combine(local.date(), datetime.min.time(), zones[property_id])
            instants.extend(i for i in (day, upcoming.check_in) if i > now)
    return min(instants, default=None)


class StayTracker:
    """Stay facts of one Kasify entry: arrivals, access logs, early check-outs, cleaned turnovers."""

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, coordinator: KasifyCoordinator) -> None:
        """Follow ``coordinator``'s bookings and the code uses at every lock."""
        self._hass = hass
        self._entry = entry
        self.coordinator = coordinator
        self._store = Store[dict[str, Any]](hass, STORAGE_VERSION, storage_key(entry.entry_id))
        self.arrivals: dict[str, dict[str, Any]] = {}
        self.access: dict[str, list[dict[str, Any]]] = {}
        self.early: dict[str, datetime] = {}
        self.codes_end: dict[str, datetime] = {}
        self.cleaned: set[str] = set()
        self._timer: CALLBACK_TYPE | None = None

    async def async_start(self) -> None:
        """Load the facts, then follow refreshes, code uses and the instants that change a state."""
        self._load(await self._store.async_load() or {})
        self._hass.data.setdefault(_DATA_TRACKERS, {})[self._entry.entry_id] = self
        self._entry.async_on_unload(self._async_stop)
        self._entry.async_on_unload(self.coordinator.async_add_listener(self._async_refreshed))
        self._entry.async_on_unload(async_dispatcher_connect(self._hass, SIGNAL_CODE_USE, self._on_code_use))
        self._async_refreshed()

    def _load(self, stored: Mapping[str, Any]) -> None:
        try:
            self.arrivals = {str(k): dict(v) for k, v in stored.get("arrivals", {}).items()}
            self.access = {str(k): [dict(e) for e in v] for k, v in stored.get("access", {}).items()}
            self.early = {str(k): datetime.fromisoformat(v) for k, v in stored.get("early", {}).items()}
            self.codes_end = {
                str(k): datetime.fromisoformat(v) for k, v in stored.get("codes_end", {}).items()
            }
            self.cleaned = {str(k) for k in stored.get("cleaned", [])}
        except (AttributeError, TypeError, ValueError):
            LOGGER.warning("Ignoring the damaged stay facts of %s", self._entry.title)
            self.arrivals, self.access, self.early, self.codes_end, self.cleaned = {}, {}, {}, {}, set()

    def _data_to_store(self) -> dict[str, Any]:
        return {
            "arrivals": self.arrivals,
            "access": self.access,
            "early": {k: v.isoformat() for k, v in self.early.items()},
            "codes_end": {k: v.isoformat() for k, v in self.codes_end.items()},
            "cleaned": sorted(self.cleaned),
        }

    async def async_save(self) -> None:
        """Write the facts now (before an event that must not fire twice)."""
        await self._store.async_save(self._data_to_store())

    @callback
    def _async_stop(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None
        trackers: dict[str, StayTracker] = self._hass.data.get(_DATA_TRACKERS, {})
        if trackers.get(self._entry.entry_id) is self:
            del trackers[self._entry.entry_id]

    def facts(self) -> Facts:
        """What the state of a property is derived from besides the snapshot."""
        return Facts(dict(self.early), frozenset(self.cleaned))

    def state(self, property_id: str, now: datetime) -> tuple[StayState, Booking | None]:
        """The property's stay state now."""
        zone = self.coordinator.property_zone(property_id)
        return stay_state(self.coordinator.data, property_id, now, zone, self.facts())

    # -- refreshes and time ------------------------------------------------------------------------

    @callback
    def _async_refreshed(self) -> None:
        """Remember turnovers seen cleaned, forget old facts, and wake at the next instant that matters."""
        data = self.coordinator.data
        if Feature.BOOKINGS in data.degraded:
            return
        now = dt_util.utcnow()
        changed = self._remember_cleaned(data, now) | self._forget_old(now)
        if changed:
            self._hass.async_create_task(self.async_save(), eager_start=True)
        self._schedule(data, now)

    def _remember_cleaned(self, data: AccountSnapshot, now: datetime) -> bool:
        """A turnover seen cleaned stays cleaned (completed tasks are only listed for 7 days)."""
        found = False
        for property_id in data.properties:
            for booking in data.active_bookings(property_id):
                end = stay_end(booking, self.early)
                if (
                    booking.id not in self.cleaned
                    and end <= now
                    and turnover_cleaned(booking, end, data, frozenset())
                ):
                    self.cleaned.add(booking.id)
                    found = True
        return found

    def _forget_old(self, now: datetime) -> bool:
        cutoff = (now - KEEP_FOR).isoformat()
        old = [k for k, v in self.access.items() if not v or v[-1]["at"] < cutoff]
        old += [k for k, v in self.arrivals.items() if v["at"] < cutoff and k not in self.access]
        old += [k for k, v in self.early.items() if v.isoformat() < cutoff]
        for key in old:
            self.access.pop(key, None)
            self.arrivals.pop(key, None)
            self.early.pop(key, None)
            self.codes_end.pop(key, None)
        return bool(old)

    def _schedule(self, data: AccountSnapshot, now: datetime) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None
        zones = {pid: self.coordinator.property_zone(pid) for pid in data.properties}
        if (instant := next_change(data, now, zones)) is not None:
            self._timer = async_track_point_in_utc_time(self._hass, self._on_time, instant)

    @callback
    def _on_time(self, _now: datetime) -> None:
        self._timer = None
        self.async_notify()
        self._schedule(self.coordinator.data, dt_util.utcnow())

    @callback
    def async_notify(self) -> None:
        """Tell the sensors to read their state again."""
        async_dispatcher_send(self._hass, signal_stay_state(self._entry.entry_id))

    # -- code uses ---------------------------------------------------------------------------------

    def _booking(self, booking_id: str) -> Booking | None:
        data = self.coordinator.data
        return next((b for items in data.bookings.values() for b in items if b.id == booking_id), None)

    @callback
    def _on_code_use(self, use: CodeUse) -> None:
        """A credential was used at a lock: if it is a code issued for one of our bookings, log it."""
        from .access_codes.manager import async_get_code_manager, lock_device_key  # builds on this module

        registry = er.async_get(self._hass)

        def issued_here(entity_id: str) -> bool:
            entry = registry.async_get(entity_id)
            return entry is not None and lock_device_key(self._hass, entry) == use.device_key

        record = next(
            (
                r
                for r in async_get_code_manager(self._hass).records()
                if r.booking_id and r.code_id == use.credential_id and issued_here(r.entity_id)
            ),
            None,
        )
        booking = self._booking(record.booking_id) if record is not None and record.booking_id else None
        if record is None or booking is None:
            return
        entry = {"at": use.at.isoformat(), "lock": record.entity_id, "granted": use.granted}
        log = self.access.setdefault(booking.id, [])
        log.append(entry)
        del log[:-MAX_LOG_ENTRIES]
        first = use.granted and booking.id not in self.arrivals
        if first:
            self.arrivals[booking.id] = entry
        self._hass.async_create_task(self._async_logged(booking, entry, first=first), eager_start=True)

    async def _async_logged(self, booking: Booking, entry: dict[str, Any], *, first: bool) -> None:
        """Save, then (the first use only) tell automations the guest arrived."""
        await self.async_save()
        if not first:
            return
        extra = {"lock": entry["lock"], "at": entry["at"]}
        lock_name = state.name if (state := self._hass.states.get(entry["lock"])) else entry["lock"]
        self._hass.bus.async_fire(
            EVENT_GUEST_ARRIVED, {**self._event_data(booking), **extra, "lock_name": lock_name}
        )
        LOGGER.debug("%s for booking %s", EVENT_GUEST_ARRIVED, booking.id)
        async_dispatcher_send(
            self._hass,
            signal_stay(self._entry.entry_id, booking.property_id),
            STAY_GUEST_ARRIVED,
            booking,
            extra,
        )
        self.async_notify()

    def _event_data(self, booking: Booking) -> dict[str, Any]:
        """What the stay bus events say of a booking (never the guest's e-mail or phone)."""
        prop = self.coordinator.data.properties.get(booking.property_id)
        device = compat.device_by_identifier(
            self._hass, property_identifier(booking.property_id), self._entry.entry_id
        )
        return {
            "property_id": booking.property_id,
            "property_name": prop.name if prop else None,
            "device_id": device.id if device else None,
            "booking_id": booking.id,
            "guest_name": booking.guest_name,
            "check_in": booking.check_in.isoformat(),
            "check_out": booking.check_out.isoformat(),
        }

    # -- early check-out ---------------------------------------------------------------------------

    async def async_checked_out(self, booking: Booking, at: datetime, codes_end: datetime) -> None:
        """The host checked the guest out early: stored first, then the state and the events follow."""
        self.early[booking.id] = at
        self.codes_end[booking.id] = codes_end
        await self.async_save()
        extra = {"early": True, "checked_out_at": at.isoformat(), "codes_end": codes_end.isoformat()}
        self._hass.bus.async_fire(EVENT_CHECK_OUT, {**self._event_data(booking), **extra})
        async_dispatcher_send(
            self._hass, signal_stay(self._entry.entry_id, booking.property_id), STAY_CHECK_OUT, booking, extra
        )
        self.async_notify()
        self._schedule(self.coordinator.data, dt_util.utcnow())

    def knows(self, booking_id: str) -> bool:
        """Whether the booking is this entry's (listed now, or with an access log kept)."""
        return (
            booking_id in self.access or booking_id in self.arrivals or self._booking(booking_id) is not None
        )

    def access_log(self, booking_id: str) -> dict[str, Any]:
        """The booking's access log across vendors (never a PIN)."""
        entries = list(self.access.get(booking_id, ()))
        granted = [e for e in entries if e["granted"]]
        booking = self._booking(booking_id)
        return {
            "booking_id": booking_id,
            "guest_name": booking.guest_name if booking else None,
            "first_entry": self.arrivals.get(booking_id, {}).get("at"),
            "entries": [{"at": e["at"], "lock": e["lock"]} for e in granted],
            "last_entry": granted[-1]["at"] if granted else None,
            "denied_attempts": [{"at": e["at"], "lock": e["lock"]} for e in entries if not e["granted"]],
            "locks_used": sorted({e["lock"] for e in granted}),
        }


def get_tracker(hass: HomeAssistant, entry_id: str) -> StayTracker | None:
    """The stay tracker of a loaded Kasify entry."""
    trackers: dict[str, StayTracker] = hass.data.get(_DATA_TRACKERS, {})
    return trackers.get(entry_id)


def trackers(hass: HomeAssistant) -> list[StayTracker]:
    """The stay trackers of every loaded Kasify entry."""
    found: dict[str, StayTracker] = hass.data.get(_DATA_TRACKERS, {})
    return list(found.values())


def checked_out_early(hass: HomeAssistant, booking_id: str) -> datetime | None:
    """When the host checked a booking's guest out early (any Kasify entry), or ``None``."""
    trackers: dict[str, StayTracker] = hass.data.get(_DATA_TRACKERS, {})
    return next((t.early[booking_id] for t in trackers.values() if booking_id in t.early), None)


def early_codes_end(hass: HomeAssistant, booking_id: str) -> datetime | None:
    """When an early check-out made a booking's codes end (any Kasify entry), or ``None``."""
    trackers: dict[str, StayTracker] = hass.data.get(_DATA_TRACKERS, {})
    return next((t.codes_end[booking_id] for t in trackers.values() if booking_id in t.codes_end), None)
