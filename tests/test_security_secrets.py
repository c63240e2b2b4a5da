"""No secret reaches anything a user, an automation or a log can see.

Every kind of account is set up against the simulator: Kasify (automatic codes on, iCal feeds whose links
carry a token, one added in the options), casavi, Nuki Web, UniFi Access (pinned certificate, WebSocket push)
and RemoteLock (signed in with OAuth, its webhook on, delivering to this Home Assistant). A busy stretch
follows:
refreshes, renewed tokens, upstream errors whose bodies repeat the request they answer (credentials, PINs and
guest details included), 401, 429 and 500, codes created and revoked, some failing on the way, webhook
deliveries, bookings and tasks, calls by a user who is not an administrator, reloads.

Everything that comes out is captured: every log record at debug level (the integration's and Home
Assistant's), every event on the bus, every state with its attributes, the registries' names, the diagnostics
of every entry, every repair issue and every action's response or error. None of it may hold a token, a
refresh token, a client or webhook secret, a feed link's token, a guest's e-mail or phone, or a PIN (PINs are
looked for as whole numbers of six digits or more, so a PIN is not found inside some other number). The only
PINs that leave are those an administrator (or an automation) creates or lists with ``include_codes``.

Each secret is first shown to have flowed (it is in a request the simulator received, or in the data the
integration read), and the search is shown to find a PIN where one is allowed: the test cannot pass by
looking for strings that never were there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
import json
import logging
import re
from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, CONF_URL, EVENT_CALL_SERVICE, MATCH_ALL
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, Unauthorized
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.kasify import application_credentials
from custom_components.kasify.const import (
    CONF_AUTO_CODES,
    CONF_AUTO_CODES_END_OFFSET,
    CONF_AUTO_CODES_LEAD_HOURS,
    CONF_AUTO_CODES_START_OFFSET,
    CONF_FEED_INTERVAL,
    CONF_ICAL_FEEDS,
    CONF_PROPERTY,
    CONF_SCAN_INTERVAL,
    CONF_WEBHOOK,
    CONF_WEBHOOK_SECRET,
    DOMAIN,
)
from custom_components.kasify.diagnostics import async_get_config_entry_diagnostics
from simulator import Simulator
from simulator.remotelock import CLIENT_ID, CLIENT_SECRET
from simulator.unifi_access import UnifiEndpoint

from . import setup_integration
from .providers import (
    KASIFY_OPTIONS,
    LOFT,
    NOW,
    background_done,
    calendar_events,
    casavi_entry,
    kasify_entry,
    list_codes,
    nuki_entry,
    property_device_id,
    remotelock_device_id,
    remotelock_oauth_entry,
    tick,
    unifi_entry,
)

# The UniFi door, added after the Kasify account, is named after its property.
PORTAL = "lock.estudio_do_miradouro_principe_real_portal_rua_garrett"

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("fast_nuki", "no_heartbeat")]

FRONT: Final = "Puerta de servicio"
# PINs of the scenario, long enough not to turn up by chance among other numbers.
ADMIN_PIN: Final = "748215"  # Nuki: six digits, 1-9
SHARED_PIN: Final = "83917246"  # UniFi Access and RemoteLock
# Creates that fail upstream (Nuki, UniFi Access, RemoteLock).
FAILING_PINS: Final = ("391784", "46182937", "58273914")
MIN_PIN_LENGTH: Final = 6
GUEST_EMAIL: Final = "marta.ruiz.4471@example.org"
GUEST_PHONE: Final = "+34 611 482 937"


@dataclass
class Seen:
    """What the user and automations got back: action responses, and the errors actions raised."""

    responses: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    """What the integration was handed (not searched: the secrets it holds)."""

    async def call(
        self,
        hass: HomeAssistant,
        action: str,
        data: dict[str, Any],
        *,
        context: Context | None = None,
        response: bool = True,
        keep: bool = True,
    ) -> Any:
        """Call an action; keep its response (``keep``: it is not one allowed to hold PINs) or its error."""
        try:
            result = await hass.services.async_call(
                DOMAIN, action, data, blocking=True, context=context, return_response=response
            )
        except (HomeAssistantError, vol.Invalid) as err:
            self.errors.append(_error_text(err))
            return err
        if keep:
            self.responses.append(result)
        return result


def _error_text(err: Exception) -> str:
    """An action's error as a user sees it: its message, translation placeholders and cause."""
    parts = [str(err), repr(err), json.dumps(getattr(err, "translation_placeholders", None) or {})]
    if err.__cause__ is not None:
        parts.append(str(err.__cause__))
    return "\n".join(parts)


# --- setting everything up ----------------------------------------------------------------------------------


async def _oauth_credentials(
    hass: HomeAssistant, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(application_credentials, "OAUTH_URL", simulator.remotelock_oauth_url)
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), "remotelock"
    )


async def _set_up_everything(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    hass_client_no_auth: Any,
    monkeypatch: pytest.MonkeyPatch,
    seen: Seen,
) -> dict[str, MockConfigEntry]:
    """Every kind of account; the RemoteLock webhook turned on in its options. ``seen.held`` gets what the
    entries hold before they are set up (RemoteLock's first tokens are replaced at once)."""
    await _oauth_credentials(hass, simulator, monkeypatch)
    loft = simulator.kasify.property_at(0)
    options = {
        **KASIFY_OPTIONS,
        CONF_AUTO_CODES: True,
        CONF_AUTO_CODES_LEAD_HOURS: 48,
        CONF_AUTO_CODES_START_OFFSET: 0,
        CONF_AUTO_CODES_END_OFFSET: 30,
        CONF_ICAL_FEEDS: [
            {
                CONF_PROPERTY: loft["id"],
                CONF_URL: simulator.ical.feed_url(loft["id"], "smoobu"),
                CONF_FEED_INTERVAL: 5,
            }
        ],
    }
    entries = {
        "kasify": kasify_entry(simulator, options=options),
        "casavi": casavi_entry(simulator),
        "nuki": nuki_entry(simulator),
        "unifi": unifi_entry(endpoint),
        "remotelock": remotelock_oauth_entry(simulator, expires_at=0, options={CONF_SCAN_INTERVAL: 60}),
    }
    seen.held.append(_blob([entry.data for entry in entries.values()]))
    for entry in entries.values():
        await setup_integration(hass, entry)
        assert entry.state is ConfigEntryState.LOADED, entry.title
    await background_done(hass)
    # The webhook, turned on in the options: RemoteLock (the simulator) then delivers to this Home Assistant.
    hass.config.internal_url = str((await hass_client_no_auth()).make_url("")).rstrip("/")
    hass.config.external_url = hass.config.internal_url
    remotelock = entries["remotelock"]
    result = await hass.config_entries.options.async_init(remotelock.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "webhook"})
    await hass.config_entries.options.async_configure(result["flow_id"], {CONF_WEBHOOK: True})
    await background_done(hass)
    assert remotelock.options[CONF_WEBHOOK_SECRET]
    return entries


# --- the busy stretch ---------------------------------------------------------------------------------------


async def _refreshes_and_renewals(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Polls; RemoteLock's access token and casavi's token renewed; errors whose bodies echo the request."""
    await tick(hass, freezer, push=True)
    simulator.remotelock.expire_access_tokens()  # 403: renewed with the rotating refresh token
    simulator.casavi.revoke_tokens()  # 401: signed in again with the key and secret
    await tick(hass, freezer, timedelta(minutes=5), push=True)
    for path, status in (
        ("/kasify/v1/properties", 500),
        ("/casavi/v2/", 429),
        ("/nuki/smartlock", 500),
        ("/remotelock/api/devices", 500),
        ("/ical/", 500),
    ):
        simulator.faults.inject(path, method="GET", status=status, echo=True, times=1)
    await tick(hass, freezer, timedelta(minutes=5), push=True)
    # A renewal that fails: the token endpoint's answer repeats the client secret and the refresh token.
    simulator.remotelock.expire_access_tokens()
    simulator.faults.inject("/remotelock/connect/oauth/token", status=500, echo=True, times=1)
    await tick(hass, freezer, push=True)
    await tick(hass, freezer, timedelta(minutes=15), push=True)  # past any Retry-After: renewed after all


def _remotelock_lock(hass: HomeAssistant, simulator: Simulator, name: str) -> str:
    """The lock entity of a RemoteLock device (UniFi Access has a door of the same name)."""
    key = (DOMAIN, f"remotelock_{remotelock_device_id(simulator, name)}")
    device = next(d for d in dr.async_get(hass).devices.values() if key in d.identifiers)
    return next(
        e.entity_id for e in er.async_entries_for_device(er.async_get(hass), device.id) if e.domain == "lock"
    )


async def _codes(hass: HomeAssistant, simulator: Simulator, seen: Seen, admin: User, guest: User) -> None:
    """Codes created and revoked by an administrator and by automations; some creates and a revoke fail
    upstream with an answer that repeats the request, PIN included."""
    garage = _remotelock_lock(hass, simulator, "Garaje")
    as_admin, as_guest = Context(user_id=admin.id), Context(user_id=guest.id)
    start, end = (NOW + timedelta(hours=2)).isoformat(), (NOW + timedelta(days=3)).isoformat()
    window = {"name": "Marta Ruiz", "starts_at": start, "ends_at": end}

    async def create(locks: str | list[str], pin: str | None, context: Context | None) -> Any:
        data = {ATTR_ENTITY_ID: locks, **window, **({"code": pin} if pin else {})}
        return await seen.call(hass, "create_access_code", data, context=context, keep=False)

    loft = await create(LOFT, ADMIN_PIN, as_admin)
    await create([PORTAL, garage], SHARED_PIN, None)
    await create([LOFT, PORTAL], None, None)  # a generated PIN
    for path, method, locks, pin in (
        ("/nuki/smartlock/", "PUT", LOFT, FAILING_PINS[0]),
        ("/api/v1/developer/visitors", "PUT", PORTAL, FAILING_PINS[1]),
        ("/remotelock/api/access_persons", "POST", garage, FAILING_PINS[2]),
    ):
        simulator.faults.inject(path, method=method, status=500, echo=True, times=1)
        failed = await create(locks, pin, None)
        assert isinstance(failed, HomeAssistantError)
        assert failed.translation_key == "access_code_create_failed", failed
    # A user who is not an administrator can neither create nor read PINs.
    assert isinstance(await create(LOFT, None, as_guest), Unauthorized)
    refused = await seen.call(hass, "list_access_codes", {"include_codes": True}, context=as_guest)
    assert isinstance(refused, Unauthorized)
    await seen.call(hass, "list_access_codes", {}, context=as_guest)
    await seen.call(hass, "list_access_codes", {}, context=as_admin)
    # A revoke that fails once, upstream, with the request echoed; then done.
    revoke = {ATTR_ENTITY_ID: LOFT, "code_id": loft[LOFT]["code_id"]}
    simulator.faults.inject("/nuki/smartlock/", method="DELETE", status=500, echo=True, times=1)
    assert isinstance(await seen.call(hass, "revoke_access_code", revoke, response=False), HomeAssistantError)
    await seen.call(hass, "revoke_access_code", revoke, context=as_admin, response=False)
    await background_done(hass)


async def _webhook_and_push(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """RemoteLock delivers lock events and a PIN typed on the garage (the event carries it); UniFi pushes
    a visitor's PIN at the portal."""
    garage = remotelock_device_id(simulator, "Garaje")
    simulator.remotelock.set_lock(garage, connected=True, alive=True)
    simulator.remotelock.lock_action(remotelock_device_id(simulator, FRONT), "unlock")
    simulator.remotelock.use_pin(garage, SHARED_PIN)
    simulator.remotelock.use_pin(garage, "9999999999")
    deliveries = await simulator.remotelock.drain_webhooks()
    assert deliveries
    assert all(delivery.acknowledged for delivery in deliveries), deliveries
    portal = next(lock for lock in simulator.kasify.smart_locks.values() if lock["vendor"] == "unifi")
    simulator.unifi.use_pin(portal["unifi_smartlock"]["door_id"], SHARED_PIN)
    await tick(hass, freezer, timedelta(seconds=30), push=True)


async def _bookings_and_tasks(hass: HomeAssistant, simulator: Simulator, seen: Seen) -> None:
    """A booking with the guest's e-mail and phone, two refused with them repeated, a task, the calendar."""
    loft = simulator.kasify.property_at(0)
    booking = {
        "property": property_device_id(hass, loft["id"]),
        "guest_name": "Marta Ruiz",
        "check_in": "2026-09-01T15:00:00+02:00",
        "check_out": "2026-09-04T11:00:00+02:00",
        "email": GUEST_EMAIL,
        "phone": GUEST_PHONE,
    }
    await seen.call(hass, "create_booking", booking)
    simulator.faults.inject("/kasify/v1/properties/", method="POST", status=422, echo=True, times=1)
    await seen.call(
        hass,
        "create_booking",
        {**booking, "check_in": "2026-10-01T15:00:00+02:00"} | {"check_out": "2026-10-03T11:00:00+02:00"},
    )
    simulator.faults.inject("/kasify/v1/properties/", method="POST", status=500, echo=True, times=1)
    await seen.call(
        hass,
        "create_booking",
        {**booking, "check_in": "2026-11-01T15:00:00+01:00"} | {"check_out": "2026-11-03T11:00:00+01:00"},
    )
    await seen.call(hass, "create_task", {"property": booking["property"], "title": "Repasar la caldera"})
    (calendar,) = [
        entry.entity_id
        for entry in er.async_get(hass).entities.values()
        if entry.domain == "calendar" and entry.unique_id.startswith(f"property_{loft['id']}-")
    ]
    seen.responses.append(await calendar_events(hass, calendar, NOW, NOW + timedelta(days=30)))


async def _reloads_and_reauth(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    entries: dict[str, MockConfigEntry],
) -> None:
    """Every entry reloaded; then Kasify refuses the token with a body repeating it (reauth)."""
    assert list(simulator.faults) == []  # every fault injected so far was met
    for entry in entries.values():
        assert await hass.config_entries.async_reload(entry.entry_id)
        await background_done(hass)
    simulator.faults.inject("/kasify/v1/", status=401, echo=True)
    await tick(hass, freezer, push=True)
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN)


# --- what came out ------------------------------------------------------------------------------------------


def _blob(value: Any) -> str:
    return json.dumps(value, default=repr, ensure_ascii=False, sort_keys=True)


def _record_events(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = []

    @callback
    def _record(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(MATCH_ALL, _record)
    return events


def _log_text(records: Iterable[logging.LogRecord]) -> str:
    """Every record, with its traceback. The test harness's own stand-in for Home Assistant's storage logs
    what it writes (Home Assistant does not): those records are left out."""
    formatter = logging.Formatter()
    lines = []
    for record in records:
        if record.name.startswith("pytest_homeassistant_custom_component"):
            continue
        lines.append(f"{record.name} {record.getMessage()}")
        if record.exc_info:
            lines.append(formatter.formatException(record.exc_info))
    return "\n".join(lines)


async def _outputs(
    hass: HomeAssistant, events: list[Event], records: list[logging.LogRecord], seen: Seen
) -> dict[str, str]:
    """Everything that came out, by where it came out."""
    entries = hass.config_entries.async_entries(DOMAIN)
    diagnostics = [
        await async_get_config_entry_diagnostics(hass, e)
        for e in entries
        if e.state is ConfigEntryState.LOADED
    ]
    issues = [
        (
            issue.issue_id,
            issue.translation_key,
            issue.translation_placeholders,
            issue.data,
            issue.learn_more_url,
        )
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    ]
    devices = [
        (d.name, d.model, d.manufacturer, d.configuration_url, sorted(d.identifiers))
        for d in dr.async_get(hass).devices.values()
    ]
    entities = [(e.entity_id, e.unique_id, e.original_name) for e in er.async_get(hass).entities.values()]
    return {
        "logs": _log_text(records),
        "events": _blob([(e.event_type, e.data) for e in events if not _caller_input(e)]),
        "states": _blob([(s.entity_id, s.state, s.attributes) for s in hass.states.async_all()]),
        "registries": _blob([devices, entities, [e.title for e in entries]]),
        "diagnostics": _blob(diagnostics),
        "repairs": _blob(issues),
        "responses": _blob(seen.responses),
        "errors": "\n".join(seen.errors),
    }


def _caller_input(event: Event) -> bool:
    """Home Assistant's record of a call of one of the integration's actions: the caller's own input (a PIN
    given to ``create_access_code``, a guest's e-mail given to ``create_booking``), not the integration's
    output. The README says so, and how to keep a PIN out of it (let the integration pick it)."""
    return event.event_type == EVENT_CALL_SERVICE and event.data.get("domain") == DOMAIN


def _found(secret: str, text: str) -> bool:
    """Whether ``secret`` is in ``text``; a PIN only as a whole number (not inside a longer one)."""
    if secret.isdigit():
        return re.search(rf"(?<!\d){secret}(?!\d)", text) is not None
    return secret in text


# --- the simulator's secrets --------------------------------------------------------------------------------


def _secrets(simulator: Simulator, endpoint: UnifiEndpoint, pins: Iterable[str], read: str) -> dict[str, str]:
    """Name → secret, for every secret the simulator knows of, the details of the guests whose bookings are in
    ``read`` (what the integration read), and the PINs of the scenario."""
    secrets: dict[str, str] = {
        "kasify token": simulator.kasify.token,
        "casavi key": simulator.casavi.key,
        "casavi secret": simulator.casavi.secret,
        "nuki token": simulator.nuki.token,
        "unifi token": endpoint.token,
        "remotelock client secret": CLIENT_SECRET,
    }
    secrets |= {f"casavi token {i}": token for i, token in enumerate(simulator.casavi.tokens)}
    secrets |= {f"remotelock access token {i}": t for i, t in enumerate(simulator.remotelock.access_tokens)}
    secrets |= {f"remotelock refresh token {i}": t for i, t in enumerate(simulator.remotelock.refresh_tokens)}
    for subscriber in simulator.remotelock.notification_subscribers.values():
        if secret := subscriber["attributes"].get("secret"):
            secrets[f"webhook secret {subscriber['id']}"] = secret
    for request in simulator.requests_for("/ical/"):
        for name, value in request.query.items():
            secrets[f"feed token {request.path} {name}"] = value
    for booking in simulator.kasify.bookings.values():
        if booking["id"] not in read:
            continue  # outside what the integration asked Kasify for
        if booking["guest_email"]:
            secrets[f"e-mail of {booking['id']}"] = booking["guest_email"]
        if booking["guest_phone"]:
            secrets[f"phone of {booking['id']}"] = booking["guest_phone"]
            secrets[f"phone digits of {booking['id']}"] = re.sub(r"\D", "", booking["guest_phone"])
    secrets |= {"e-mail given": GUEST_EMAIL, "phone given": GUEST_PHONE, "phone digits given": "34611482937"}
    secrets |= {f"PIN {pin}": pin for pin in pins if len(pin) >= MIN_PIN_LENGTH}
    return secrets


def _held(hass: HomeAssistant) -> str:
    """What the integration holds: its entries' data and options, and what the Kasify account read."""
    entries = hass.config_entries.async_entries(DOMAIN)
    kasify = next(entry for entry in entries if entry.title == "Kasify Demo")
    return _blob([[e.data, e.options] for e in entries] + [kasify.runtime_data.coordinator.data])


def _flowed(simulator: Simulator, held: str, secret: str) -> bool:
    """Whether ``secret`` was sent to the simulator, or is held by the integration (a token just issued, a
    guest's details it read); a phone also as its digits."""
    requests = _blob([(r.method, r.path, r.query, r.headers, r.body) for r in simulator.requests])
    return any(_found(secret, text) for text in (requests, held)) or any(
        secret in re.sub(r"[^\d\n]", "", text) for text in (requests, held)
    )


# --- the test -----------------------------------------------------------------------------------------------


async def test_no_secret_reaches_logs_states_events_diagnostics_repairs_or_responses(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    hass_client_no_auth: Any,
    hass_admin_user: User,
    hass_read_only_user: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The busy stretch, then a search of everything that came out for every secret that flowed."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="custom_components.kasify")
    events = _record_events(hass)
    seen = Seen()
    entries = await _set_up_everything(hass, simulator, endpoint, hass_client_no_auth, monkeypatch, seen)
    await _refreshes_and_renewals(hass, simulator, freezer)
    await _codes(hass, simulator, seen, hass_admin_user, hass_read_only_user)
    await _webhook_and_push(hass, simulator, freezer)
    await _bookings_and_tasks(hass, simulator, seen)
    listed = await list_codes(hass, include_codes=True)  # as an automation: PINs allowed (not searched)
    assert any(item["booking_id"] for item in listed), "no automatic code: its generated PIN is not tested"
    await _reloads_and_reauth(hass, simulator, freezer, entries)

    pins = {item["code"] for item in listed} | {ADMIN_PIN, SHARED_PIN, *FAILING_PINS}
    held = _held(hass) + "\n".join(seen.held)
    secrets = _secrets(simulator, endpoint, pins, held)
    assert [name for name, secret in secrets.items() if not _flowed(simulator, held, secret)] == []
    assert {name.split(" ")[0] for name in secrets} >= {
        "kasify",
        "casavi",
        "nuki",
        "unifi",
        "remotelock",
        "webhook",
        "feed",
        "e-mail",
        "phone",
        "PIN",
    }
    # The search does find what is there: the PINs in the listing an automation asked for.
    assert all(_found(item["code"], _blob(listed)) for item in listed)

    outputs = await _outputs(hass, events, caplog.records, seen)
    leaks = sorted(
        f"{name} in {where}"
        for where, text in outputs.items()
        for name, secret in secrets.items()
        if _found(secret, text)
    )
    assert leaks == []
