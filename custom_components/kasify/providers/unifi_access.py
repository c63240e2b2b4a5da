"""UniFi Access controllers: doors as locks over WebSocket push, certificate pinning, visitor PINs.

Requests: 1 (``GET /doors``) per poll while push is down, 0 per interval while it is up (push changes are
applied as they come, and the doors are read once each time push comes up, to catch what changed while it
was down). A socket that stays open but goes silent counts as down: a watchdog pings a quiet socket every
:data:`PUSH_WATCHDOG_INTERVAL` and closes it once nothing at all (no message, keep-alive or pong) arrived for
:data:`PUSH_SILENCE_TIMEOUT`; polling then takes over and the socket is reopened with back-off. A certificate
that is not the pinned one raises a repair issue and stops push, and every poll fails (the doors go
unavailable) until the entry is reconfigured with the new fingerprint; nothing is read over an unpinned
connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
)
import voluptuous as vol

from .. import forms
from ..access_codes.adapter import CodeAdapter, confirm_gone
from ..access_codes.policy import VENDOR_RULES, VENDOR_UNIFI
from ..access_codes.records import (
    CODE_FAILED,
    CODE_ON_LOCK,
    CODE_PENDING,
    CodeRecord,
    CodeTarget,
    NewCode,
    Outcome,
)
from ..api.errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    CertificateMismatchError,
    NotFoundError,
)
from ..api.models import Account
from ..api.unifi_access import (
    ActivityKind,
    DoorActivityEvent,
    DoorPosition,
    DoorStateEvent,
    UnifiAccessClient,
    UnifiDoor,
    UnifiEvent,
    Visitor,
    get_certificate_fingerprint,
    normalize_fingerprint,
)
from ..code_use import async_report_code_use
from ..const import (
    CONF_API_TOKEN,
    CONF_FINGERPRINT,
    DEFAULT_UNIFI_PORT,
    DOMAIN,
    KIND_UNIFI,
    LOGGER,
    VENDOR_MANUFACTURERS,
)
from ..coordinator import (
    KasifyConfigEntry,
    KasifyRuntimeData,
    LockView,
    ProviderCoordinator,
    signal_lock_activity,
)
from ..links import reload_property_sources
from ..scale import first_by, loop_turns

# Push that says nothing at all for this long is down, though its socket is open: a quiet controller still
# answers the watchdog's pings, so 5 minutes of silence (unanswered pings) is a broken push, not an idle one.
PUSH_SILENCE_TIMEOUT: Final = timedelta(minutes=5)
# How often the watchdog looks at the socket (and pings it when nothing arrived since it last looked).
PUSH_WATCHDOG_INTERVAL: Final = timedelta(minutes=1)


@dataclass(slots=True)
class _Watch:
    """What the push watchdog last saw: the socket's activity count, since when, and whether it pinged."""

    activity: int
    since: datetime
    pinged: bool = False


def unifi_certificate_issue_id(entry_id: str) -> str:
    """The repair issue of a UniFi Access entry whose controller's certificate is not the pinned one."""
    return f"unifi_certificate_{entry_id}"


def unifi_certificate_not_checked_issue_id(entry_id: str) -> str:
    """The repair issue of a UniFi Access entry whose certificate is neither verified nor pinned."""
    return f"unifi_certificate_not_checked_{entry_id}"


def _warn_if_certificate_not_checked(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """Verification off and no pin: anyone on the network path could pose as the controller, so say so.

    The warning stays while the entry is loaded (reconfiguring it with a pin reloads it without one).
    """
    issue_id = unifi_certificate_not_checked_issue_id(entry.entry_id)
    if entry.data.get(CONF_VERIFY_SSL, True) or entry.data.get(CONF_FINGERPRINT):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="unifi_certificate_not_checked",
        translation_placeholders={"account": entry.title},
    )
    entry.async_on_unload(lambda: ir.async_delete_issue(hass, DOMAIN, issue_id))


@dataclass(frozen=True, slots=True)
class UnifiSnapshot:
    """The doors of a UniFi Access controller, by door id (compares by value)."""

    doors: dict[str, UnifiDoor]


class UnifiAccessCoordinator(ProviderCoordinator[UnifiSnapshot, UnifiAccessClient]):
    """Keeps the doors of one UniFi Access controller: WebSocket push, polling only while push is down."""

    kind = KIND_UNIFI
    vendor = "unifi"
    upstream_name = "UniFi Access"
    activity_event_types = tuple(activity.value for activity in ActivityKind)
    # Seconds between WebSocket pings (a connection that stops answering is dropped and polling resumes).
    push_heartbeat: float = 30.0
    # How often the push watchdog looks (see PUSH_WATCHDOG_INTERVAL).
    push_watchdog: timedelta = PUSH_WATCHDOG_INTERVAL

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: UnifiAccessClient) -> None:
        """Poll ``client``'s controller at the interval chosen in the options until push is up."""
        super().__init__(hass, entry, client)
        self._watch: _Watch | None = None

    @property
    def issue_id(self) -> str:
        """The repair issue raised when the controller's certificate is not the pinned one."""
        return unifi_certificate_issue_id(self.config_entry.entry_id)

    async def _fetch(self) -> UnifiSnapshot:
        doors = await self.client.list_doors()
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
        return UnifiSnapshot(doors={door.id: door for door in doors})

    def _on_api_error(self, err: ApiError) -> None:
        if isinstance(err, CertificateMismatchError):
            self._certificate_changed(err)

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
        """Listen to the controller's WebSocket, and watch it, for as long as the entry is loaded."""
        self.config_entry.async_create_background_task(
            self.hass, self._async_listen(), name=f"{DOMAIN} {self.config_entry.title} push"
        )
        self.config_entry.async_on_unload(
            async_track_time_interval(
                self.hass,
                self._async_watch_push,
                self.push_watchdog,
                name=f"{DOMAIN} {self.config_entry.title} push watchdog",
            )
        )

    async def _async_watch_push(self, now: datetime) -> None:
        """Ping a socket quiet since the last look; close one silent for :data:`PUSH_SILENCE_TIMEOUT`.

        A socket counts as silent only after a ping of ours went unanswered, so a long gap between two looks
        (a suspended host) is not mistaken for silence. Closing it makes the listener fall back to polling
        and reconnect.
        """
        client = self.client
        if not client.push_open:
            self._watch = None
            return
        watch = self._watch
        if watch is None or watch.activity != client.push_activity:
            self._watch = _Watch(client.push_activity, now)
            return
        if watch.pinged and now - watch.since >= PUSH_SILENCE_TIMEOUT:
            self._watch = None
            await client.close_silent_push((now - watch.since).total_seconds())
            return
        watch.pinged = True
        await client.ping_push()

    async def _async_listen(self) -> None:
        try:
            await self.client.listen(
                self._on_event,
                self._on_disconnect,
                on_connect=self._on_connect,
                heartbeat=self.push_heartbeat,
            )
        except AuthError:
            # The reauth card and the poll's own failure tell the host; one line per outage is enough.
            LOGGER.debug("UniFi Access push: %s refused the API token", self.config_entry.title)
            self.config_entry.async_start_reauth(self.hass)
        except CertificateMismatchError as err:
            LOGGER.error("UniFi Access push stopped: %s", err)
            self._certificate_changed(err)
        except ApiError as err:
            # No WebSocket API (old controller) or a certificate refused: polling goes on.
            LOGGER.warning("UniFi Access push unavailable, polling instead: %s", err)
        self._restore_polling()

    async def _on_connect(self) -> None:
        """Push is up: read the doors once (changes made while it was down were not pushed), stop polling."""
        try:
            doors = await self.client.list_doors()
        except ApiError as err:
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
            device_key = self.data.doors[event.door_id].device_key
            async_dispatcher_send(
                self.hass,
                signal_lock_activity(self.config_entry.entry_id, device_key),
                event.kind.value,
                attributes,
            )
            if event.method == "PIN_CODE" and event.at is not None:
                # The log's actor is the visitor holding the PIN: the code the engine issued.
                async_report_code_use(
                    self.hass,
                    device_key,
                    event.actor_id,
                    granted=event.kind is ActivityKind.CODE_USED,
                    at=event.at,
                )

    # -- devices and actions ------------------------------------------------------------------------

    def device_keys(self, data: UnifiSnapshot) -> set[str]:
        """The controller's doors."""
        return {door.device_key for door in data.doors.values()}

    async def async_refresh_door(self, door_id: str) -> None:
        """After an action, read that one door again (1 request) instead of every door."""
        door = await self.client.get_door(door_id)
        self.async_set_updated_data(replace(self.data, doors={**self.data.doors, door_id: door}))

    # -- the doors as entities show them, and what they do ---------------------------------------------------

    def _lock_views(self, data: UnifiSnapshot) -> dict[str, LockView]:
        return {door.device_key: _view(door) for door in data.doors.values()}

    def door_of(self, device_key: str) -> UnifiDoor | None:
        """The controller's record of a door, by device key."""
        data = self.data
        return self.per_data.get(
            "by_key", (data,), lambda: first_by(data.doors.values(), lambda door: door.device_key)
        ).get(device_key)

    def check_action(self, device_key: str, action: str) -> None:
        """A door without a hub can neither unlock nor lock remotely; no door "opens" (unlock releases it)."""
        door = self.door_of(device_key)
        able = door is not None and (door.can_lock if action == "lock" else door.can_unlock)
        if door is None or not able or action not in ("lock", "unlock"):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=f"unifi_{action}_not_supported",
                translation_placeholders={"lock": (door.name or door.id) if door else device_key},
            )

    async def async_send_action(self, device_key: str, action: str) -> None:
        """Unlock momentarily, or lock now (the ``lock_now`` rule)."""
        self.check_action(device_key, action)
        door = self.door_of(device_key)
        assert door is not None  # checked above
        await (self.client.lock if action == "lock" else self.client.unlock)(door.id)

    def code_target(self, device_key: str, entity_id: str, name: str) -> CodeTarget | None:
        """Visitor PINs for one of the controller's doors."""
        door_id = device_key.removeprefix(f"{self.vendor}_")
        return CodeTarget(
            entity_id, VENDOR_UNIFI, door_id, name, self.client, VENDOR_RULES[VENDOR_UNIFI], UNIFI_CODES, self
        )

    async def async_show_after_action(self, device_key: str) -> None:
        """Read that one door again; should that fail, push or the next poll shows it."""
        if (door := self.door_of(device_key)) is not None:
            with contextlib.suppress(ApiError):
                await self.async_refresh_door(door.id)


def _view(door: UnifiDoor) -> LockView:
    return LockView(
        device_key=door.device_key,
        unique_id_base=door.device_key,
        name=door.name or None,
        status=door.status,
        manufacturer=VENDOR_MANUFACTURERS["unifi"],
        model="Door",
        serial_number=door.id,
        has_door_sensor=door.has_position_sensor,
        door_open=None if door.position is None else door.position is DoorPosition.OPEN,
    )


# --- visitor PINs ---------------------------------------------------------------------------------------


# Visitor statuses (UniFi Access API): a PIN works for these; CANCELLED visitors' never will.
VISITOR_VALID: Final = frozenset({"UPCOMING", "VISITING", "VISITED", "ACTIVE", "NO_VISIT"})
VISITOR_ENDED: Final = frozenset({"CANCELLED"})
# Before the create call's reference in a visitor's remarks.
REF_MARK: Final = "ref "


class UnifiVisitorCodes(CodeAdapter):
    """A visitor for the door with a PIN; the controller pushes it to its readers at once."""

    vendor = VENDOR_UNIFI

    @staticmethod
    def _outcome(visitor: Visitor) -> Outcome:
        if visitor.status in VISITOR_ENDED:
            return Outcome(visitor.id, CODE_FAILED)
        if visitor.status not in VISITOR_VALID:
            # Not known to let the visitor in: pending, and failed if it never becomes so.
            LOGGER.debug("UniFi Access visitor status %r: not counted as on the lock", visitor.status)
            return Outcome(visitor.id, CODE_PENDING)
        return Outcome(visitor.id, CODE_ON_LOCK if visitor.has_pin else CODE_PENDING)

    async def create(self, target: CodeTarget, new: NewCode) -> Outcome:
        """A visitor with the PIN, allowed at this door for the window."""
        client: UnifiAccessClient = target.client
        visitor = await client.create_timed_pin(
            name=new.name,
            pin=new.code,
            starts_at=new.starts_at,
            ends_at=new.ends_at,
            door_ids=[target.lock_id],
            remarks=self._remarks(new),
        )
        return self._outcome(visitor)

    @staticmethod
    def _remarks(new: NewCode) -> str:
        """The visitor's remarks: the booking, and the create call's reference it is found by again."""
        remarks = f"Kasify booking {new.booking_id}" if new.booking_id else "Kasify"
        return f"{remarks} ({REF_MARK}{new.ref})" if new.ref else remarks

    async def remove(self, target: CodeTarget, record: CodeRecord, *, keep_history: bool) -> None:
        """Delete the visitor."""
        client: UnifiAccessClient = target.client
        try:
            await client.delete_visitor(record.code_id, force=True)
        except NotFoundError as err:
            await confirm_gone(err, lambda: self._listed(client, record.code_id))

    @staticmethod
    async def _listed(client: UnifiAccessClient, visitor_id: str) -> bool:
        return any(visitor.id == visitor_id for visitor in await client.list_visitors())

    async def update_window(
        self, target: CodeTarget, record: CodeRecord, starts_at: datetime, ends_at: datetime
    ) -> Outcome:
        """Move the visitor's window."""
        client: UnifiAccessClient = target.client
        return self._outcome(
            await client.update_visitor(record.code_id, starts_at=starts_at, ends_at=ends_at)
        )

    async def statuses(self, target: CodeTarget, records: Sequence[CodeRecord]) -> dict[str, Outcome]:
        """One list of the visitors answers for every pending code (one not known by id: by its reference)."""
        client: UnifiAccessClient = target.client
        listed = await client.list_visitors()
        visitors = {visitor.id: visitor for visitor in listed}
        outcomes: dict[str, Outcome] = {}
        for record in records:
            if record.provisional:
                mark = f"({REF_MARK}{record.ref})"
                found = next(
                    (
                        visitor
                        for visitor in listed
                        if record.ref and mark in visitor.remarks and target.lock_id in visitor.door_ids
                    ),
                    None,
                )
                if found is not None:
                    outcomes[record.code_id] = self._outcome(found)
            elif record.code_id in visitors:
                outcomes[record.code_id] = self._outcome(visitors[record.code_id])
            else:
                outcomes[record.code_id] = Outcome(record.code_id, CODE_FAILED)
        return outcomes


UNIFI_CODES: Final = UnifiVisitorCodes()


# --- adding the account ----------------------------------------------------------------------------------

SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT, default=DEFAULT_UNIFI_PORT): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_API_TOKEN): forms.SECRET,
        vol.Required(CONF_VERIFY_SSL, default=True): BooleanSelector(),
        vol.Optional(CONF_FINGERPRINT): TextSelector(),
    }
)


async def async_validate(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """List the controller's doors with the entered host, token and certificate settings.

    The host is the account: one entry per controller.
    """
    fingerprint = data.get(CONF_FINGERPRINT) or None
    if fingerprint is not None:
        try:
            normalize_fingerprint(fingerprint)
        except ValueError as err:
            raise forms.InvalidFieldError(CONF_FINGERPRINT, "invalid_fingerprint", str(err)) from err
    client = UnifiAccessClient(
        async_get_clientsession(hass),
        data[CONF_HOST],
        data[CONF_API_TOKEN],
        port=int(data[CONF_PORT]),
        verify_ssl=data[CONF_VERIFY_SSL],
        fingerprint=fingerprint,
    )
    await client.list_doors()
    return Account(id=data[CONF_HOST].lower(), name=f"UniFi Access {data[CONF_HOST]}")


async def async_suggest(hass: HomeAssistant, data: Mapping[str, Any], error: str) -> dict[str, Any]:
    """Trust on first use: with an untrusted certificate, offer the one the controller presents to pin.

    The user compares it with the one the UniFi console shows. Empty when it cannot be read.
    """
    if error != "untrusted_certificate":
        return {}
    try:
        return {CONF_FINGERPRINT: await get_certificate_fingerprint(data[CONF_HOST], int(data[CONF_PORT]))}
    except ApiConnectionError as err:
        LOGGER.debug("Could not read the controller's certificate: %s", err)
        return {CONF_FINGERPRINT: ""}


async def async_setup(hass: HomeAssistant, entry: KasifyConfigEntry) -> KasifyRuntimeData:
    """Connect (a wrong pinned certificate fails like any unreachable controller, with a repair issue).

    Push starts once the entry holds its data; the Kasify accounts stop showing these doors read-only.
    """
    client = UnifiAccessClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data[CONF_API_TOKEN],
        port=int(entry.data.get(CONF_PORT, DEFAULT_UNIFI_PORT)),
        verify_ssl=entry.data.get(CONF_VERIFY_SSL, True),
        fingerprint=entry.data.get(CONF_FINGERPRINT) or None,
        turns=loop_turns(hass),
    )
    coordinator = UnifiAccessCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    reload_property_sources(hass, entry)
    return KasifyRuntimeData(client=client, coordinator=coordinator)


async def async_started(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """Listen to the controller's WebSocket for as long as the entry is loaded.

    A certificate neither verified nor pinned gets a repair warning for as long too.
    """
    _warn_if_certificate_not_checked(hass, entry)
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, UnifiAccessCoordinator)
    coordinator.async_start_push()


async def async_removed(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """The entry is deleted: its certificate repair issues go with it."""
    ir.async_delete_issue(hass, DOMAIN, unifi_certificate_issue_id(entry.entry_id))
    ir.async_delete_issue(hass, DOMAIN, unifi_certificate_not_checked_issue_id(entry.entry_id))
