"""The RemoteLock coordinator: locks, locations, events (polled or pushed), and the location mapping."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util

from ...access_codes.manager import async_get_code_manager
from ...access_codes.policy import VENDOR_REMOTELOCK, VENDOR_RULES
from ...access_codes.records import CodeTarget
from ...api.errors import ApiError, PermissionDeniedError
from ...api.models import LockStatus
from ...api.remotelock import (
    RemoteLockClient,
    RemoteLockEvent,
    RemoteLockLocation,
    RemoteLockLock,
    lock_status,
)
from ...code_use import async_report_code_use
from ...const import CONF_LOCATIONS, DOMAIN, KIND_REMOTELOCK, LOGGER, VENDOR_MANUFACTURERS
from ...coordinator import KasifyConfigEntry, LockView, ProviderCoordinator, signal_lock_activity
from ...links import STAY_CHANGE_INTERVAL, name_key, property_names, stay_change_near
from ...scale import first_by
from .codes import REMOTELOCK_CODES
from .webhook_health import WebhookHealth

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
# Names of the people whose code uses are reported: at most this many, each read again after this long (a
# guest renamed in RemoteLock shows with the new name from then on).
PERSON_NAMES: Final = 200
PERSON_NAME_MAX_AGE: Final = timedelta(hours=1)

REMOTELOCK_ACTIVITY: Final = {
    "unlocked": "unlocked",
    "locked": "locked",
    "access_person_used": "code_used",
    "access_denied": "access_denied",
    "power_level_low": "battery_low",
}
"""RemoteLock event type → the lock activity entity's event type (other events are not lock activity)."""
CODES_SYNCED: Final = "access_person_synced"
"""A lock took an access person's codes: pushed by webhook, the access codes are checked at once."""
_STATE_EVENTS: Final = {"locked": "locked", "unlocked": "unlocked"}
# Events that are someone's attempt, and what they mean when RemoteLock does not say they succeeded.
_FAILED_ATTEMPTS: Final = {
    "access_person_used": "access_denied",
    "unlocked": "access_denied",
    "access_denied": "access_denied",
    "locked": "failed",
}
_ATTEMPTS: Final = frozenset(_FAILED_ATTEMPTS)
# A code use, then the event of the same attempt at the lock: (the code use's activity, the next one's).
_SAME_ATTEMPT: Final = frozenset({("code_used", "unlocked"), ("access_denied", "access_denied")})


# How long an action sent to a lock that is not connected may wait for a read that confirms it.
ACTION_CONFIRM_TIMEOUT: Final = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class _Awaited:
    """An action a lock has not confirmed yet: the state it should reach, by when."""

    state: str
    action: str
    until: datetime


@dataclass(frozen=True, slots=True)
class RemoteLockSnapshot:
    """The locks and locations of one RemoteLock account (compares by value)."""

    locks: dict[str, RemoteLockLock]
    locations: dict[str, RemoteLockLocation]


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
    identifier = property_names(hass).get(name_key(location.name))
    return (DOMAIN, identifier) if identifier is not None else None


class RemoteLockCoordinator(ProviderCoordinator[RemoteLockSnapshot, RemoteLockClient]):
    """Polls one RemoteLock account: ``ceil(locks / 50)`` requests for the locks + 1 for new events.

    Every request of the account (polls, actions, access codes) goes through the client's one 120/min
    limiter. New events feed the locks' activity entities, whether polled or pushed by the webhook, each
    event id once; an ``unlocked`` that comes with an ``access_person_used`` is one ``code_used``.
    """

    kind = KIND_REMOTELOCK
    vendor = "remotelock"
    upstream_name = "RemoteLock"
    activity_event_types = tuple(sorted(set(REMOTELOCK_ACTIVITY.values()) | set(_FAILED_ATTEMPTS.values())))
    # The options' location mapping decides: a location mapped to no property unhangs its locks.
    unlink_when_unknown = True

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: RemoteLockClient) -> None:
        """Poll ``client``'s account at the interval chosen in the options."""
        super().__init__(hass, entry, client)
        self._locations: dict[str, RemoteLockLocation] | None = None
        self._locations_read: datetime | None = None
        self._cursor: str | None = None
        self._seen: dict[str, None] = {}
        self._code_used_at: dict[str, tuple[datetime, str]] = {}
        self._person_names: dict[str, tuple[datetime, str | None]] = {}  # oldest first
        self.last_push: datetime | None = None
        self._answers: dict[str, tuple[str, RemoteLockLock, RemoteLockLock]] = {}
        # Per lock, when the state shown was established: the read of the locks, a confirmed action's
        # answer, or the ``occurred_at`` of the pushed event that set it. An older pushed event (RemoteLock
        # retries a failed delivery hourly) does not move the lock.
        self._state_at: dict[str, datetime] = {}
        self._awaiting: dict[str, _Awaited] = {}
        self.webhook_health = WebhookHealth(hass, entry, client)

    @property
    def location_mapping(self) -> dict[str, str]:
        """Location id → property device identifier, as set in the options."""
        return dict(self.config_entry.options.get(CONF_LOCATIONS, {}))

    @property
    def push_healthy(self) -> bool:
        """Whether the webhook delivered an event within the last hour."""
        return self.last_push is not None and dt_util.utcnow() - self.last_push < WEBHOOK_HEALTHY

    async def _fetch(self) -> RemoteLockSnapshot:
        now = dt_util.utcnow()
        locks = {lock.id: lock for lock in await self.client.list_locks()}
        self._established(locks, now)
        if (
            self._locations is None
            or self._locations_read is None
            or now - self._locations_read >= LOCATIONS_MAX_AGE
            or any(lock.location_id and lock.location_id not in self._locations for lock in locks.values())
        ):
            self._locations = {loc.id: loc for loc in await self.client.list_locations()}
            self._locations_read = now
        if await self.webhook_health.async_check(now):
            self.last_push = None  # RemoteLock does not deliver to the webhook: the events are polled now
        if not self.push_healthy:
            await self._poll_events()
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
        """Who a code use was (read once an hour at most per person; the newest names kept)."""
        now = dt_util.utcnow()
        known = self._person_names.get(person_id)
        if known is not None and now - known[0] < PERSON_NAME_MAX_AGE:
            return known[1]
        try:
            person = await self.client.get_access_person(person_id)
        except ApiError as err:
            LOGGER.debug("RemoteLock: could not name access person %s: %s", person_id, err)
            return known[1] if known is not None else None
        self._person_names.pop(person_id, None)
        self._person_names[person_id] = (now, person.name or None)
        while len(self._person_names) > PERSON_NAMES:
            del self._person_names[next(iter(self._person_names))]
        return person.name or None

    def _remember(self, ids: Iterable[str]) -> None:
        for event_id in ids:
            self._seen[event_id] = None
        while len(self._seen) > SEEN_EVENTS:
            del self._seen[next(iter(self._seen))]

    async def async_handle_events(self, events: Sequence[RemoteLockEvent], *, pushed: bool = False) -> None:
        """Hand new lock events (oldest first) to their activity entities; pushed ones also move the lock.

        The one handler for polled events and webhook deliveries (see :meth:`_accept`).
        """
        changed: dict[str, RemoteLockLock] = {}
        for event in events:
            if (accepted := self._accept(event, pushed=pushed, changed=changed)) is not None:
                await self._report(*accepted)
        self._apply(changed)

    @callback
    def async_handle_pushed_event(self, event: RemoteLockEvent) -> None:
        """A webhook delivered ``event``: push is healthy; the lock moves now, its activity follows.

        Nothing here waits for RemoteLock (which wants the delivery answered within 3 seconds): naming the
        person of a code use, which may ask RemoteLock, runs afterwards.
        """
        self.last_push = dt_util.utcnow()
        self.webhook_health.delivered()
        if event.type == CODES_SYNCED and event.lock_id and event.id not in self._seen:
            async_get_code_manager(self.hass).async_check_soon(
                f"{self.vendor}_{event.lock_id}", self.config_entry.entry_id
            )
        changed: dict[str, RemoteLockLock] = {}
        accepted = self._accept(event, pushed=True, changed=changed)
        self._apply(changed)
        if accepted is not None:
            self.config_entry.async_create_task(self.hass, self._report(*accepted), "kasify RemoteLock event")

    def _accept(
        self, event: RemoteLockEvent, *, pushed: bool, changed: dict[str, RemoteLockLock]
    ) -> tuple[RemoteLockLock, str, RemoteLockEvent] | None:
        """What an event means: ``(lock, activity type, event)`` to report, or None (seen, or not activity).

        An event already seen is dropped. Only an event RemoteLock says ``succeeded`` is a success: a failed
        (or unstated) code use or unlock is a denial, a failed lock a failure, and neither moves the lock. A
        code use and the unlock or denial that comes with it are one event.
        """
        if event.id in self._seen:
            return None
        self._remember((event.id,))
        activity = REMOTELOCK_ACTIVITY.get(event.type)
        lock = (self.data.locks if self.data is not None else {}).get(event.lock_id or "")
        if activity is None or lock is None:
            return None
        succeeded = event.status == "succeeded"
        if not succeeded and event.type in _ATTEMPTS:
            if event.status != "failed":
                LOGGER.debug("RemoteLock event %s has status %r: read as failed", event.id, event.status)
            activity = _FAILED_ATTEMPTS[event.type]
        if succeeded and pushed and (state := _STATE_EVENTS.get(event.type)) is not None:
            self._move(lock, state, event, changed)
        if event.type == "access_person_used":
            self._code_used_at[lock.id] = (event.occurred_at, activity)
        elif (
            event.type in ("unlocked", "access_denied")
            and (used := self._code_used_at.get(lock.id)) is not None
            and (used[1], activity) in _SAME_ATTEMPT
            and abs(event.occurred_at - used[0]) <= CODE_USE_PAIRING
        ):
            return None  # the same attempt as the code use already reported
        return lock, activity, event

    def _established(self, locks: Iterable[str], at: datetime) -> None:
        """The state of ``locks`` shown from now on is as of ``at`` (a read, an action's answer).

        RemoteLock stamps events to the second: one stamped in the second of ``at`` is not older.
        """
        at = at.replace(microsecond=0)
        for lock_id in locks:
            self._state_at[lock_id] = max(at, self._state_at.get(lock_id, at))

    def _move(
        self, lock: RemoteLockLock, state: str, event: RemoteLockEvent, changed: dict[str, RemoteLockLock]
    ) -> None:
        """A pushed lock/unlock moves the lock, unless it is older than the state already shown.

        A late delivery (RemoteLock retries a failed one every hour) of an event that happened before the
        last read, the last pushed move or a confirmed action would show a state the lock has since left.
        """
        shown_at = self._state_at.get(lock.id)
        if shown_at is not None and event.occurred_at < shown_at:
            LOGGER.debug(
                "RemoteLock event %s (%s at %s) is older than the state shown (%s): the lock stays",
                event.id, event.type, event.occurred_at.isoformat(), shown_at.isoformat(),
            )  # fmt: skip
            return
        self._state_at[lock.id] = event.occurred_at
        current = changed.get(lock.id, lock)
        if current.state != state:
            changed[lock.id] = replace(current, state=state, status=lock_status(state))
        if (awaited := self._awaiting.get(lock.id)) is not None and awaited.state == state:
            # The lock itself reports the move: the action is confirmed.
            del self._awaiting[lock.id]
            ir.async_delete_issue(self.hass, DOMAIN, self._unconfirmed_issue(lock.id))
            self._views = None

    async def _report(self, lock: RemoteLockLock, activity: str, event: RemoteLockEvent) -> None:
        """Tell the lock's activity entity, naming the person of a code use (never the PIN)."""
        attributes: dict[str, Any] = {"at": event.occurred_at.isoformat()}
        if event.access_person_id and (name := await self._person_name(event.access_person_id)):
            attributes["by"] = name
        if event.method:
            attributes["method"] = event.method
        if event.power_level is not None:
            attributes["battery_level"] = event.power_level
        async_dispatcher_send(
            self.hass, signal_lock_activity(self.config_entry.entry_id, lock.device_key), activity, attributes
        )
        if event.type == "access_person_used":
            # The access person is the access guest the engine issued (by its id, never the PIN).
            async_report_code_use(
                self.hass,
                lock.device_key,
                event.access_person_id,
                granted=activity == "code_used",
                at=event.occurred_at,
            )

    def _apply(self, changed: dict[str, RemoteLockLock]) -> None:
        if changed and self.data is not None:
            self.async_set_updated_data(replace(self.data, locks={**self.data.locks, **changed}))

    def device_keys(self, data: RemoteLockSnapshot) -> set[str]:
        """The account's locks."""
        return {lock.device_key for lock in data.locks.values()}

    def _refreshed(self, data: RemoteLockSnapshot) -> None:
        self._settle_actions(data)
        near = not self.push_healthy and stay_change_near(
            self.hass,
            set(),
            {prop for lock in data.locks.values() if (prop := self.location_of(lock)) is not None},
        )
        self.update_interval = STAY_CHANGE_INTERVAL if near else self._normal_interval

    def lock_parent(self, device_key: str) -> tuple[str, str] | None:
        """The property device of a lock, through its location."""
        lock = self.lock_of(device_key)
        return self.location_of(lock) if lock is not None else None

    def location_of(self, lock: RemoteLockLock) -> tuple[str, str] | None:
        """The property device of a lock's location (the options' mapping, else the same name)."""
        if self.data is None or lock.location_id is None:
            return None
        return location_property(self.hass, self.location_mapping, self.data.locations.get(lock.location_id))

    def apply_lock(self, lock: RemoteLockLock) -> None:
        """Show a lock as an action's answer returned it (no extra request)."""
        self.async_set_updated_data(replace(self.data, locks={**self.data.locks, lock.id: lock}))

    # -- the locks as entities show them, and what they do ---------------------------------------------------

    def _lock_views(self, data: RemoteLockSnapshot) -> dict[str, LockView]:
        views = {lock.device_key: _view(lock) for lock in data.locks.values()}
        for lock_id, awaited in self._awaiting.items():
            if (lock := data.locks.get(lock_id)) is not None:
                # Sent to a lock that has not confirmed it yet: the move is still in progress.
                status = LockStatus.UNLOCKING if awaited.state == "unlocked" else LockStatus.LOCKING
                views[lock.device_key] = replace(views[lock.device_key], status=status)
        return views

    def lock_of(self, device_key: str) -> RemoteLockLock | None:
        """RemoteLock's record of a lock, by device key."""
        data = self.data
        return self.per_data.get(
            "by_key", (data,), lambda: first_by(data.locks.values(), lambda lock: lock.device_key)
        ).get(device_key)

    async def async_send_action(self, device_key: str, action: str) -> None:
        """Lock or unlock; the answer is the device as it is now, kept to be shown (no extra read).

        A Wi-Fi lock takes the command when it next wakes up: until then the answer shows the old state
        and the next poll settles it.
        """
        lock = self.lock_of(device_key)
        if lock is None:
            raise ApiError(f"RemoteLock lock {device_key} is gone")
        answer = await (self.client.lock if action == "lock" else self.client.unlock)(lock.id)
        self._answers[device_key] = (action, lock, answer)

    async def async_show_after_action(self, device_key: str) -> None:
        """Show the action's answer, when the lock confirms it.

        A lock that is not connected (a sleeping Wi-Fi lock) takes the command when it wakes up, or never: its
        answer proves nothing. The action then shows as in progress, with the state it had before, until a
        read from the connected lock (or a pushed event) confirms it, for :data:`ACTION_CONFIRM_TIMEOUT` at
        most; then the lock shows what RemoteLock reports and a repair issue says the action was not
        confirmed.
        """
        if (sent := self._answers.pop(device_key, None)) is None:
            return
        action, before, answer = sent
        wanted = "locked" if action == "lock" else "unlocked"
        if answer.connected is not False and answer.state == wanted:
            self._awaiting.pop(answer.id, None)
            ir.async_delete_issue(self.hass, DOMAIN, self._unconfirmed_issue(answer.id))
            self._established((answer.id,), dt_util.utcnow())
            self.apply_lock(answer)
            return
        self._awaiting[answer.id] = _Awaited(wanted, action, dt_util.utcnow() + ACTION_CONFIRM_TIMEOUT)
        self.apply_lock(replace(answer, state=before.state, status=before.status))

    def _unconfirmed_issue(self, lock_id: str) -> str:
        return f"remotelock_unconfirmed_{self.config_entry.entry_id}_{lock_id}"

    def _settle_actions(self, data: RemoteLockSnapshot) -> None:
        """Actions a read confirms are done; those unconfirmed for too long are given up, with a repair."""
        now, settled = dt_util.utcnow(), False
        for lock_id, awaited in list(self._awaiting.items()):
            lock = data.locks.get(lock_id)
            if lock is None or (lock.connected is not False and lock.state == awaited.state):
                del self._awaiting[lock_id]
                settled = True
                ir.async_delete_issue(self.hass, DOMAIN, self._unconfirmed_issue(lock_id))
            elif now >= awaited.until:
                del self._awaiting[lock_id]
                settled = True
                LOGGER.warning(
                    "RemoteLock lock %s did not confirm the %s sent to it", lock.name, awaited.action
                )
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    self._unconfirmed_issue(lock_id),
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key="remotelock_action_unconfirmed",
                    translation_placeholders={"lock": lock.name, "action": awaited.action},
                )
        if settled:
            self._views = None
            self.async_update_listeners()

    def code_target(self, device_key: str, entity_id: str, name: str) -> CodeTarget | None:
        """Access guests for one of the account's locks."""
        lock_id = device_key.removeprefix(f"{self.vendor}_")
        return CodeTarget(
            entity_id,
            VENDOR_REMOTELOCK,
            lock_id,
            name,
            self.client,
            VENDOR_RULES[VENDOR_REMOTELOCK],
            REMOTELOCK_CODES,
            self,
        )

    def action_failure(self, err: ApiError, action: str, lock: str) -> HomeAssistantError:
        """A user without the right to operate the lock gets its own message."""
        if isinstance(err, PermissionDeniedError):
            return HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="remotelock_not_permitted",
                translation_placeholders={"lock": lock},
            )
        return super().action_failure(err, action, lock)


def _view(lock: RemoteLockLock) -> LockView:
    return LockView(
        device_key=lock.device_key,
        unique_id_base=lock.device_key,
        name=lock.name or None,
        status=lock.status,
        manufacturer=VENDOR_MANUFACTURERS["remotelock"],
        model=lock.model_number or lock.type,
        serial_number=lock.serial_number,
        # Hard-wired locks have no battery to show.
        battery_level=None if lock.power_source == "hardwire" else lock.battery_level,
        connected=lock.connected,
    )
