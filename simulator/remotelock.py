"""RemoteLock API v1 and its OAuth2 server, emulated (``../shared/seeds/remotelock-api-v1.txt``, APIS.md §3).

Mounted under :data:`REMOTELOCK_PREFIX`: the API at ``/remotelock/api`` (stands for https://api.remotelock.com)
and the OAuth2 server at ``/remotelock/connect`` (stands for https://connect.remotelock.com, so the token
endpoint is ``/remotelock/connect/oauth/token``).

What it enforces, as the real service documents it:

- ``Accept: application/vnd.lockstate.v1+json`` (or ``application/vnd.lockstate+json; version=1``) on every
  API request (else 406) and ``Authorization: Bearer``: no header → 401, an unknown, revoked or expired access
  token → **403** (access tokens live :attr:`RemoteLockState.access_token_ttl` seconds of simulated time).
- 120 requests per minute per account (fixed windows of the simulated clock; ``rate_limit=None`` turns it
  off), ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` on every API answer and 429 beyond the limit.
- Grants ``authorization_code`` (codes from ``GET /oauth/authorize`` or :meth:`issue_authorization_code`,
  single use, 10 minutes), ``refresh_token`` (rotating: the used refresh token is dead, reuse → 400
  ``invalid_grant``) and ``client_credentials`` (no refresh token); wrong client credentials → 401
  ``invalid_client``.
- Resource errors ``{"attributes", "errors": [{"attribute", "messages", "full_messages"}]}`` (422) and general
  errors ``{"message", "type"}``; pages of ``page``/``per_page`` (max 50) with ``meta``.
- Access grants start pending and sync :attr:`RemoteLockState.sync_delay` seconds later when the lock is
  connected (an ``access_person_synced`` event is recorded then); an offline lock keeps them pending.
- Notification subscribers (email, text, webhook) and subscriptions (publisher + subscriber + event
  types valid for the publisher type): 201 on create, 204 on delete, 404 for unknown ids, 422 resource
  errors. Webhook URLs must be HTTPS, **except** plain ``http`` to a loopback host (``127.0.0.1``, ``::1``,
  ``localhost``), a deliberate deviation so tests and a local Home Assistant can receive deliveries. Every
  recorded event is POSTed (JSON, ``X-Secret``) in the background to the active webhook subscribers whose
  subscriptions match it; attempts land in :attr:`RemoteLockState.webhook_deliveries` (form content type:
  ``unsupported``, not sent). No retries.

Events carry the ``pin`` attribute like the real feed does, so tests can check that clients drop it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import hmac
import json
import math
import random
import re
from typing import Any, Final
from urllib.parse import urlencode, urlsplit
import uuid
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from .clock import Clock, iso, parse_iso
from .errors import ApiError, code_for
from .kasify_state import KasifyState

type Json = dict[str, Any]
type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REMOTELOCK_PREFIX: Final = "/remotelock"
API_PATH: Final = "/api"
OAUTH_PATH: Final = "/connect"
CLIENT_ID: Final = "sim-remotelock-client"
CLIENT_SECRET: Final = "sim-remotelock-secret"  # noqa: S105 - the simulator's well-known test secret
OOB_REDIRECT_URI: Final = "urn:ietf:wg:oauth:2.0:oob"
ACCESS_TOKEN_TTL: Final = 7200
CODE_TTL: Final = timedelta(minutes=10)
RATE_LIMIT: Final = 120
RATE_WINDOW: Final = 60
SYNC_DELAY: Final = 30.0
MAX_PER_PAGE: Final = 50
DEFAULT_PER_PAGE: Final = 25
DEFAULT_TIME_ZONE: Final = "Europe/Madrid"

LOCK_TYPES: Final = ("lock", "zwave_lock", "schlage_home_lock")
ACCESSIBLE_TYPES: Final = (*LOCK_TYPES, "location")
_TYPE_ALIASES: Final = {
    "Lock": "lock",
    "PowerPlug": "power_plug",
    "Thermostat": "thermostat",
    "ResortLock": "resort_lock",
    "ACS::Door": "acs_door",
}
_PIN: Final = re.compile(r"^\d{4,10}$")
_TIME_OF_DAY: Final = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")

SUBSCRIBER_TYPES: Final = (
    "email_notification_subscriber",
    "text_notification_subscriber",
    "webhook_notification_subscriber",
)
WEBHOOK_SUBSCRIBER: Final = "webhook_notification_subscriber"
CONTENT_TYPES: Final = ("form", "json")
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})
"""Hosts a webhook ``url`` may use plain ``http`` for (a deliberate deviation: the seed requires HTTPS)."""
_LOCK_EVENTS: Final = (
    "unlocked",
    "locked",
    "access_denied",
    "access_person_synced",
    "access_person_sync_failed",
    "access_guest_late_sync",
    "reset",
    "connectivity",
    "power_level_low",
    "battery_replaced",
)
_DOOR_EVENTS: Final = (
    "unlocked",
    "locked",
    "access_denied",
    "access_person_synced",
    "access_person_sync_failed",
    "access_guest_late_sync",
    "reset",
    "acs_door_opened",
    "acs_door_closed",
    "acs_door_held_open",
    "acs_requested_to_exit",
)
_PERSON_EVENTS: Final = ("access_person_used",)
PUBLISHER_EVENTS: Final[dict[str, tuple[str, ...]]] = {
    "lock": _LOCK_EVENTS,
    "acs_door": _DOOR_EVENTS,
    "thermostat": ("connectivity", "power_level_low", "temperature_changed", "humidity_changed"),
    "power_plug": ("connectivity", "relay_enabled", "relay_disabled"),
    "acs_controller": ("connectivity",),
    "access_user": _PERSON_EVENTS,
    "access_guest": _PERSON_EVENTS,
}
"""Event types a subscription may list per publisher type (the seed's JSON schemas)."""
EVENT_TYPES: Final = frozenset(event for events in PUBLISHER_EVENTS.values() for event in events)
"""Every event type; ``account`` and ``location`` publishers take any of them."""
PUBLISHER_TYPES: Final = ("account", "location", *PUBLISHER_EVENTS)


# --- errors -------------------------------------------------------------------------------------------------


class GeneralError(ApiError):
    """A general error: ``{"message", "type"}`` with any status."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        """Answer ``status`` with ``type`` = ``error_type``."""
        super().__init__(message)
        self.status = status
        self.code = error_type


class ResourceError(ApiError):
    """A resource error (422): the request's attributes echoed back and per-attribute messages."""

    status = 422
    code = "unprocessable_entity"

    def __init__(self, attributes: Json, errors: Sequence[tuple[str | None, str]]) -> None:
        """``errors`` are ``(attribute or None, message)`` pairs, e.g. ``("name", "is empty")``."""
        super().__init__("; ".join(f"{attr or ''} {msg}".strip() for attr, msg in errors))
        self.attributes = attributes
        self.errors = list(errors)

    def payload(self) -> Json:
        """The resource error body."""
        grouped: dict[str | None, list[str]] = {}
        for attribute, message in self.errors:
            grouped.setdefault(attribute, []).append(message)
        return {
            "attributes": self.attributes,
            "errors": [
                {
                    "attribute": attribute,
                    "messages": messages,
                    "full_messages": [f"{attribute} {m}" if attribute else m for m in messages],
                }
                for attribute, messages in grouped.items()
            ],
        }


class OAuthError(Exception):
    """An RFC 6749 error answer of the token endpoint."""

    def __init__(self, status: int, error: str, description: str) -> None:
        """Answer ``status`` with ``{"error", "error_description"}``."""
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def _get(records: Mapping[str, Json], kind: str, record_id: str) -> Json:
    """A record by id; 404 ``not_found`` naming ``kind`` when there is none."""
    try:
        return records[record_id]
    except KeyError:
        raise _not_found(kind, record_id) from None


def _not_found(kind: str, record_id: str) -> GeneralError:
    return GeneralError(404, "not_found", f"{kind} {record_id} not found")


def general_payload(status: int, message: str, error_type: str | None = None) -> Json:
    """A general error body."""
    return {"message": message, "type": error_type or code_for(status)}


# --- state --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class AccessToken:
    """An issued access token."""

    value: str
    grant: str
    expires_at: datetime
    revoked: bool = False


@dataclass(slots=True)
class RefreshToken:
    """An issued refresh token; ``used`` once it has been exchanged (rotation)."""

    value: str
    used: bool = False
    revoked: bool = False


@dataclass(slots=True)
class AuthorizationCode:
    """A code from ``/oauth/authorize``: single use, valid for 10 minutes."""

    value: str
    client_id: str
    redirect_uri: str
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One webhook delivery attempt: the answer's ``status``, or ``error`` (``unsupported``: form content)."""

    subscriber_id: str
    event_id: str
    url: str
    status: int | None
    error: str | None = None


class RemoteLockState:
    """One RemoteLock account: locations, devices, events, access persons and grants, tokens, rate budget.

    Records are kept as the resources the API serves (``{"type", "id", "attributes", "links"}``). The helper
    methods are what the routes use and what tests call to set up a scenario.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        seed: int = 1,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
    ) -> None:
        """An empty account reading time from ``clock``; ids are deterministic for a ``seed``."""
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_ttl: int = ACCESS_TOKEN_TTL
        """Seconds an access token stays valid (simulated time)."""
        self.rate_limit: int | None = RATE_LIMIT
        """Requests per minute per account; ``None`` disables the limit."""
        self.sync_delay: float = SYNC_DELAY
        """Seconds until a new access grant syncs to a connected lock."""
        self.subscription_required = False
        """When set, creating access persons answers 402 ``billing_subscription_required``."""
        self._rng = random.Random(f"remotelock-ids-{seed}")
        self.user: Json = _resource(
            "user",
            self.new_id(),
            {
                "name": "Alojamientos Sol y Mar",
                "email": "locks@solymar-alojamientos.es",
                "handle": "solymar",
                "created_at": iso(self.now()),
                "updated_at": iso(self.now()),
            },
            "/user",
        )
        self.account: Json = _resource(
            "account",
            self.new_id(),
            {
                "name": "Alojamientos Sol y Mar S.L.",
                "created_at": iso(self.now()),
                "updated_at": iso(self.now()),
                "default_guest_start_time": "15:00:00",
                "default_guest_end_time": "11:00:00",
                "rental_guest_time_override": False,
                "primary_owner_id": self.user["id"],
            },
            "/account",
        )
        self.user["attributes"]["primary_account_id"] = self.account["id"]
        self.user["attributes"]["default_account_id"] = self.account["id"]
        self.locations: dict[str, Json] = {}
        self.devices: dict[str, Json] = {}
        self.events: dict[str, Json] = {}
        self._event_seq: dict[str, int] = {}
        self.access_persons: dict[str, Json] = {}
        self.accesses: dict[str, Json] = {}
        self.restricted: set[str] = set()
        """Device ids whose lock/unlock answers 401 "not permitted"."""
        self.failing_sync: set[str] = set()
        """Device ids where access syncs fail (``access_person_sync_failed``)."""
        self._deactivated: set[str] = set()
        self._sync: dict[str, dict[str, str]] = {}  # access id → device id → pending/synced/failed
        self._sync_due: dict[str, datetime] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.notification_subscribers: dict[str, Json] = {}
        self.notification_subscriptions: dict[str, Json] = {}
        self.webhook_deliveries: list[WebhookDelivery] = []
        """Every webhook delivery attempt, in the order they finished (see :meth:`drain_webhooks`)."""
        self._delivery_tasks: set[asyncio.Task[None]] = set()
        self.codes: dict[str, AuthorizationCode] = {}
        self._window = -1
        self._window_count = 0

    # -- basics ----------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated current instant."""
        return self.clock.now()

    def new_id(self) -> str:
        """A fresh UUID (deterministic for a given seed and call order)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _secret(self, kind: str) -> str:
        return f"{kind}-{self._rng.getrandbits(128):032x}"

    def stamp(self) -> str:
        """The current instant as the API writes timestamps."""
        return iso(self.now())

    def summary(self) -> Json:
        """Counts of every kind of record, and the rate budget."""
        return {
            "client_id": self.client_id,
            "locations": len(self.locations),
            "devices": len(self.devices),
            "locks": sum(1 for d in self.devices.values() if d["type"] in LOCK_TYPES),
            "events": len(self.events),
            "access_persons": len(self.access_persons),
            "accesses": len(self.accesses),
            "access_tokens": len(self.access_tokens),
            "rate_limit": self.rate_limit,
            "rate_limit_used": self._window_count,
        }

    # -- OAuth -----------------------------------------------------------------------------------------------

    def issue_authorization_code(
        self, redirect_uri: str = OOB_REDIRECT_URI, client_id: str | None = None
    ) -> str:
        """A fresh authorization code, as if the user had signed in and approved the app."""
        code = AuthorizationCode(
            value=self._secret("code"),
            client_id=client_id or self.client_id,
            redirect_uri=redirect_uri,
            expires_at=self.now() + CODE_TTL,
        )
        self.codes[code.value] = code
        return code.value

    def issue_tokens(self, grant: str = "authorization_code") -> Json:
        """Issue an access token (plus a refresh token unless ``client_credentials``); the token response."""
        token = AccessToken(
            value=self._secret("rl-at"),
            grant=grant,
            expires_at=self.now() + timedelta(seconds=self.access_token_ttl),
        )
        self.access_tokens[token.value] = token
        response: Json = {
            "access_token": token.value,
            "token_type": "Bearer",
            "expires_in": self.access_token_ttl,
            "created_at": math.floor(self.now().timestamp()),
        }
        if grant != "client_credentials":
            refresh = RefreshToken(self._secret("rl-rt"))
            self.refresh_tokens[refresh.value] = refresh
            response["refresh_token"] = refresh.value
        return response

    def access_token_valid(self, value: str) -> bool:
        """Whether an access token is known, not revoked and not expired."""
        token = self.access_tokens.get(value)
        return token is not None and not token.revoked and self.now() < token.expires_at

    def expire_access_tokens(self) -> None:
        """Make every access token expired now (the next API request gets 403)."""
        for token in self.access_tokens.values():
            token.expires_at = min(token.expires_at, self.now())

    def revoke_authorization(self) -> None:
        """The user revokes the app: every access and refresh token stops working."""
        for token in self.access_tokens.values():
            token.revoked = True
        for refresh in self.refresh_tokens.values():
            refresh.revoked = True

    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        """Refuse unknown client credentials.

        Raises:
            OAuthError: 401 ``invalid_client``.
        """
        if not (
            client_id
            and client_secret
            and hmac.compare_digest(client_id, self.client_id)
            and hmac.compare_digest(client_secret, self.client_secret)
        ):
            raise OAuthError(
                401,
                "invalid_client",
                "Client authentication failed due to unknown client, no client authentication included, "
                "or unsupported authentication method.",
            )

    def token_grant(self, form: dict[str, str], basic: tuple[str, str] | None = None) -> Json:
        """Answer a token request (``form`` as posted, ``basic`` = HTTP Basic client credentials).

        Raises:
            OAuthError: For any refused request, with the RFC 6749 error code.
        """
        client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
        self.check_client(client_id, client_secret)
        grant = form.get("grant_type")
        invalid_grant = OAuthError(
            400,
            "invalid_grant",
            "The provided authorization grant is invalid, expired, revoked, does not match the redirection "
            "URI used in the authorization request, or was issued to another client.",
        )
        if grant == "authorization_code":
            code = self.codes.get(form.get("code") or "")
            if (
                code is None
                or code.used
                or code.client_id != client_id
                or self.now() >= code.expires_at
                or form.get("redirect_uri", code.redirect_uri) != code.redirect_uri
            ):
                raise invalid_grant
            code.used = True
            return self.issue_tokens("authorization_code")
        if grant == "refresh_token":
            refresh = self.refresh_tokens.get(form.get("refresh_token") or "")
            if refresh is None or refresh.used or refresh.revoked:
                raise invalid_grant
            refresh.used = True
            return self.issue_tokens("refresh_token")
        if grant == "client_credentials":
            return self.issue_tokens("client_credentials")
        raise OAuthError(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )

    def revoke_token(self, value: str) -> None:
        """``POST /oauth/revoke``: an access or refresh token stops working (unknown ones are ignored)."""
        if value in self.access_tokens:
            self.access_tokens[value].revoked = True
        if value in self.refresh_tokens:
            self.refresh_tokens[value].revoked = True

    # -- rate limit ------------------------------------------------------------------------------------------

    def _window_index(self) -> int:
        return math.floor(self.now().timestamp() / RATE_WINDOW)

    def rate_headers(self) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers for the current window."""
        window = self._window_index()
        used = self._window_count if window == self._window else 0
        limit = self.rate_limit if self.rate_limit is not None else 0
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - used)),
            "X-RateLimit-Reset": str((window + 1) * RATE_WINDOW),
        }

    def take_request(self) -> bool:
        """Count one API request against the account; ``False`` (and not counted) when over the limit."""
        window = self._window_index()
        if window != self._window:
            self._window, self._window_count = window, 0
        if self.rate_limit is not None and self._window_count >= self.rate_limit:
            return False
        self._window_count += 1
        return True

    def reset_rate_limit(self) -> None:
        """Forget the requests counted in the current window."""
        self._window_count = 0

    # -- locations and devices -------------------------------------------------------------------------------

    def add_location(self, name: str, *, time_zone: str = DEFAULT_TIME_ZONE, **attributes: Any) -> Json:
        """Add a location (``address``, ``city``, ``country``, ... may be given)."""
        ZoneInfo(time_zone)  # fail early on a typo
        record = _resource(
            "location",
            self.new_id(),
            {
                "name": name,
                "phone": None,
                "address": None,
                "address2": None,
                "city": None,
                "state": None,
                "postal_code": None,
                "country": None,
                "time_zone": time_zone,
                "created_at": self.stamp(),
                "updated_at": self.stamp(),
                **attributes,
            },
            "/locations/{id}",
        )
        self.locations[record["id"]] = record
        return record

    def get_location(self, location_id: str) -> Json:
        """The location with that id.

        Raises:
            GeneralError: 404 when there is none.
        """
        return _get(self.locations, "Location", location_id)

    def add_lock(
        self,
        name: str,
        location_id: str | None = None,
        *,
        device_type: str = "lock",
        state: str = "locked",
        power_level: int = 100,
        connected: bool = True,
        alive: bool = True,
        **attributes: Any,
    ) -> Json:
        """Add a lock device of ``type`` (``lock``, ``zwave_lock`` or ``schlage_home_lock``)."""
        if device_type not in LOCK_TYPES:
            raise ValueError(f"not a lock type: {device_type}")
        serial = f"AC000W{self._rng.randint(0, 10**9 - 1):09d}"
        base: Json
        if device_type == "lock":
            base = {
                "name": name,
                "heartbeat_interval": 1200,
                "wifi_level": 0,
                "signal_quality": 3,
                "connected": connected,
                "alive": alive,
                "power_source": "alkaline_battery",
                "connected_at": self.stamp(),
                "serial_number": serial,
                "wake_wifi": "user_action",
                "muted": False,
                "auto_lock": True,
                "auto_lock_timeout": 20,
                "programming_code": "123456",
                "state": state,
                "power_level": power_level,
                "default_guest_start_time": None,
                "default_guest_end_time": None,
                "local_pins": ["1234"],
                "model_number": "LS-6i",
                "lock_action_schedule_id": None,
            }
        elif device_type == "zwave_lock":
            base = {
                "name": name,
                "state": state,
                "connected": connected,
                "power_level": power_level,
                "protocol": "zwave",
            }
        else:
            base = {
                "name": name,
                "state": state,
                "alive": alive,
                "connected": connected,
                "connected_at": self.stamp(),
                "power_level": power_level,
                "serial_number": serial,
            }
        return self.add_device(device_type, location_id, **{**base, **attributes})

    def add_device(self, device_type: str, location_id: str | None = None, **attributes: Any) -> Json:
        """Add a device of any type (``thermostat``, ``resort_lock``, ...) with the given attributes."""
        if location_id is not None:
            self.get_location(location_id)
        record = _resource(
            device_type,
            self.new_id(),
            {
                **attributes,
                "created_at": self.stamp(),
                "updated_at": self.stamp(),
                "model_id": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                "location_id": location_id,
            },
            "/devices/{id}",
        )
        self.devices[record["id"]] = record
        return record

    def get_device(self, device_id: str) -> Json:
        """The device with that id.

        Raises:
            GeneralError: 404 when there is none.
        """
        return _get(self.devices, "Device", device_id)

    def set_lock(self, device_id: str, **attributes: Any) -> Json:
        """Change a device's attributes in place (``state``, ``power_level``, ``connected``, ...)."""
        device = self.get_device(device_id)
        device["attributes"].update(attributes, updated_at=self.stamp())
        if attributes.get("connected"):
            device["attributes"]["connected_at"] = self.stamp()
        self.tick()
        return device

    def remove_device(self, device_id: str) -> None:
        """Deregister a device."""
        self.get_device(device_id)
        del self.devices[device_id]

    def lock_action(self, device_id: str, action: str) -> Json:
        """``lock`` or ``unlock`` a lock as the API does; records the event.

        Raises:
            GeneralError: 404 unknown device, 401 restricted device.
            ResourceError: The device type cannot be locked.
        """
        device = self.get_device(device_id)
        if device["type"] not in LOCK_TYPES:
            raise ResourceError({}, [(None, f"{device['type']} does not support {action}")])
        if device_id in self.restricted:
            raise GeneralError(401, "not_permitted", "You are not permitted to perform this action")
        state = "locked" if action == "lock" else "unlocked"
        device["attributes"].update(state=state, updated_at=self.stamp())
        self.add_event(state, device_id, source="user")
        return device

    def zone_of_device(self, device_id: str | None) -> str:
        """The time zone of a device's location (the account default when it has none)."""
        device = self.devices.get(device_id or "")
        location = self.locations.get((device or {}).get("attributes", {}).get("location_id") or "")
        return str(location["attributes"]["time_zone"]) if location else DEFAULT_TIME_ZONE

    # -- events ----------------------------------------------------------------------------------------------

    def add_event(
        self,
        kind: str,
        device_id: str,
        *,
        access_person_id: str | None = None,
        method: str | None = None,
        pin: str | None = None,
        status: str = "succeeded",
        source: str = "device",
        occurred_at: datetime | None = None,
        created_at: datetime | None = None,
        power_level: int | None = None,
        status_info: str | None = None,
    ) -> Json:
        """Record an event about a device (``kind`` without ``_event``: ``unlocked``, ``access_denied``, ...).

        ``access_person_used`` is published by the access person with the lock as associated resource; every
        other kind is published by the lock (with the access person, if any, as associated resource).
        """
        device = self.get_device(device_id)
        occurred = occurred_at or self.now()
        created = created_at or max(occurred, self.now())
        person = self.access_persons.get(access_person_id or "")
        attributes: Json = {
            "source": source,
            "status": status,
            "time_zone": self.zone_of_device(device_id),
            "occurred_at": iso(occurred),
            "created_at": iso(created),
            "updated_at": iso(created),
        }
        links: Json = {}
        publisher: Json
        associated: Json | None
        if kind == "access_person_used":
            if person is None:
                raise ValueError("access_person_used needs an access person")
            publisher, associated = person, device
        else:
            publisher, associated = device, person
        if kind == "power_level_low":
            attributes["power_level"] = (
                power_level if power_level is not None else device["attributes"].get("power_level")
            )
        elif kind == "connectivity":
            attributes["connected_at"] = device["attributes"].get("connected_at")
        else:
            attributes.update(associated_resource_name=None, status_info=status_info)
            if kind not in ("access_person_synced", "access_person_sync_failed", "access_guest_late_sync"):
                attributes.update(method=method, card=None, pin=pin, smart_card_serial_number=None)
        attributes.update(publisher_id=publisher["id"], publisher_type=publisher["type"])
        links["publisher"] = publisher["links"]["self"]
        if associated is not None:
            attributes.update(
                associated_resource_id=associated["id"], associated_resource_type=associated["type"]
            )
            links["associated_resource"] = associated["links"]["self"]
        record = _resource(f"{kind}_event", self.new_id(), attributes, "/events/{id}")
        record["links"].update(links)
        self.events[record["id"]] = record
        self._event_seq[record["id"]] = len(self._event_seq)
        self._notify(record, device, person)
        return record

    def sorted_events(self, sort: str) -> list[Json]:
        """Events in the API's order for ``sort`` (``occurred_at``/``created_at``, ``-`` for descending)."""
        key = sort.removeprefix("-")
        # Ties (same second) keep the order the events were recorded in, newest first for "-".
        return sorted(
            self.events.values(),
            key=lambda e: (e["attributes"][key], self._event_seq[e["id"]]),
            reverse=sort.startswith("-"),
        )

    def use_pin(self, device_id: str, pin: str) -> list[Json]:
        """Someone types ``pin`` on a lock's keypad; returns the events recorded.

        A current access person whose grant to the lock has synced opens it (``access_person_used`` plus
        ``unlocked`` with method ``pin``); anyone else gets ``access_denied``.
        """
        self.tick()
        device = self.get_device(device_id)
        for person in self.access_persons.values():
            if person["attributes"].get("pin") != pin:
                continue
            allowed = self.person_status(person) == "current" and any(
                access["attributes"]["access_person_id"] == person["id"]
                and self._sync.get(access["id"], {}).get(device_id) == "synced"
                for access in self.accesses.values()
            )
            if allowed:
                device["attributes"].update(state="unlocked", updated_at=self.stamp())
                return [
                    self.add_event(
                        "access_person_used", device_id, access_person_id=person["id"], method="pin", pin=pin
                    ),
                    self.add_event(
                        "unlocked", device_id, access_person_id=person["id"], method="pin", pin=pin
                    ),
                ]
            return [
                self.add_event(
                    "access_person_used",
                    device_id,
                    access_person_id=person["id"],
                    method="pin",
                    pin=pin,
                    status="failed",
                ),
                self.add_event("access_denied", device_id, method="pin", pin=pin, status="failed"),
            ]
        return [self.add_event("access_denied", device_id, method="pin", pin=pin, status="failed")]

    # -- access persons and grants ---------------------------------------------------------------------------

    def get_person(self, person_id: str) -> Json:
        """The access person with that id.

        Raises:
            GeneralError: 404 when there is none.
        """
        return _get(self.access_persons, "Access person", person_id)

    def _person_zone(self, person_id: str) -> ZoneInfo:
        for access in self.accesses.values():
            if access["attributes"]["access_person_id"] == person_id:
                return ZoneInfo(self.zone_of_device(access["attributes"]["accessible_id"]))
        return ZoneInfo(DEFAULT_TIME_ZONE)

    def person_status(self, person: Json) -> str:
        """``deactivated``, else for a guest ``upcoming``/``current``/``expired`` by its lock-local times."""
        if person["id"] in self._deactivated:
            return "deactivated"
        if person["type"] != "access_guest":
            return "current"
        local_now = self.now().astimezone(self._person_zone(person["id"])).replace(tzinfo=None)
        if local_now < datetime.fromisoformat(person["attributes"]["starts_at"]):
            return "upcoming"
        if local_now >= datetime.fromisoformat(person["attributes"]["ends_at"]):
            return "expired"
        return "current"

    def render_person(self, person: Json) -> Json:
        """An access person as served, with its current status (and restricted actions when it is over)."""
        status = self.person_status(person)
        served = {**person, "attributes": {**person["attributes"], "status": status}}
        if status in ("deactivated", "expired"):
            served["meta"] = {"restricted_actions": ["update"]}
        return served

    def add_access_person(
        self,
        person_type: str,
        name: str,
        *,
        pin: str | None = None,
        starts_at: datetime | str | None = None,
        ends_at: datetime | str | None = None,
        email: str | None = None,
    ) -> Json:
        """Add an access user or guest; ``starts_at``/``ends_at`` are lock-local (an offset is dropped)."""
        attributes: Json = {
            "name": name,
            "email": email,
            "phone": None,
            "pin": pin,
            "card_number": None,
            "department": None,
            "status": None,
            "rental_source": None,
            "created_at": self.stamp(),
            "updated_at": self.stamp(),
        }
        if person_type == "access_guest":
            if starts_at is None or ends_at is None:
                raise ValueError("an access guest needs starts_at and ends_at")
            attributes["starts_at"] = _local_text(starts_at)
            attributes["ends_at"] = _local_text(ends_at)
        record = _resource(person_type, self.new_id(), attributes, "/access_persons/{id}")
        self.access_persons[record["id"]] = record
        return record

    def active_pins(self, exclude_id: str | None = None) -> set[str]:
        """PINs of access persons that are neither deactivated nor expired."""
        return {
            person["attributes"]["pin"]
            for person in self.access_persons.values()
            if person["id"] != exclude_id
            and person["attributes"].get("pin")
            and self.person_status(person) not in ("deactivated", "expired")
        }

    def generate_pin(self) -> str:
        """A random 6-digit PIN no active access person has."""
        taken = self.active_pins()
        while (pin := f"{self._rng.randint(0, 999_999):06d}") in taken:
            pass  # pragma: no cover - a clash among a million is rare
        return pin

    def deactivate(self, person_id: str) -> Json:
        """Deactivate an access person: status ``deactivated``, the lock forgets the code."""
        person = self.get_person(person_id)
        self._deactivated.add(person_id)
        person["attributes"]["updated_at"] = self.stamp()
        return person

    def delete_person(self, person_id: str) -> None:
        """Delete an access person and its grants."""
        self.get_person(person_id)
        del self.access_persons[person_id]
        self._deactivated.discard(person_id)
        for access_id in [
            a["id"] for a in self.accesses.values() if a["attributes"]["access_person_id"] == person_id
        ]:
            self.revoke_access(access_id)

    def grant(
        self,
        person_id: str,
        accessible_id: str,
        accessible_type: str = "lock",
        *,
        guest_start_time: str | None = None,
        guest_end_time: str | None = None,
        synced: bool = False,
    ) -> Json:
        """Give an access person access to a lock or a location; pending until it syncs (or ``synced``)."""
        person = self.get_person(person_id)
        if accessible_type == "location":
            self.get_location(accessible_id)
            device_ids = [
                d["id"]
                for d in self.devices.values()
                if d["type"] in LOCK_TYPES and d["attributes"].get("location_id") == accessible_id
            ]
        else:
            self.get_device(accessible_id)
            device_ids = [accessible_id]
        access_id = self.new_id()
        record = _resource(
            "access_person_access",
            access_id,
            {
                "guest_start_time": guest_start_time,
                "guest_end_time": guest_end_time,
                "devices_count": len(device_ids),
                "devices_synced_count": 0,
                "devices_pending_sync_count": len(device_ids),
                "devices_failed_sync_count": 0,
                "accessible_type": accessible_type,
                "created_at": self.stamp(),
                "updated_at": self.stamp(),
                "access_person_id": person_id,
                "access_person_type": person["type"],
                "accessible_id": accessible_id,
            },
            f"/access_persons/{person_id}/accesses/{{id}}",
        )
        self.accesses[access_id] = record
        self._sync[access_id] = dict.fromkeys(device_ids, "synced" if synced else "pending")
        self._sync_due[access_id] = self.now() + timedelta(seconds=self.sync_delay)
        self._count(access_id)
        return record

    def revoke_access(self, access_id: str) -> None:
        """Remove an access grant."""
        self.get_access(access_id)
        del self.accesses[access_id]
        self._sync.pop(access_id, None)
        self._sync_due.pop(access_id, None)

    def get_access(self, access_id: str, person_id: str | None = None) -> Json:
        """The access grant with that id (of ``person_id``, when given).

        Raises:
            GeneralError: 404 when there is none.
        """
        access = self.accesses.get(access_id)
        if access is None or (
            person_id is not None and access["attributes"]["access_person_id"] != person_id
        ):
            raise _not_found("Access", access_id)
        return access

    def access_devices(self, access_id: str) -> dict[str, str]:
        """The devices a grant reaches, each with its sync state (``pending``, ``synced``, ``failed``)."""
        return dict(self._sync.get(access_id, {}))

    def _count(self, access_id: str) -> None:
        states = list(self._sync[access_id].values())
        self.accesses[access_id]["attributes"].update(
            devices_count=len(states),
            devices_synced_count=states.count("synced"),
            devices_pending_sync_count=states.count("pending"),
            devices_failed_sync_count=states.count("failed"),
        )

    def tick(self) -> None:
        """Sync the grants that are due to connected locks (called before every API request)."""
        now = self.now()
        for access_id, devices in self._sync.items():
            due = self._sync_due[access_id]
            if now < due:
                continue
            person_id = self.accesses[access_id]["attributes"]["access_person_id"]
            person = self.access_persons.get(person_id)
            changed = False
            for device_id, sync_state in devices.items():
                device = self.devices.get(device_id)
                if sync_state != "pending" or device is None or not device["attributes"].get("connected"):
                    continue
                connected_at = device["attributes"].get("connected_at")
                when = max(due, parse_iso(connected_at)) if connected_at else due
                if device_id in self.failing_sync:
                    devices[device_id] = "failed"
                    self.add_event(
                        "access_person_sync_failed",
                        device_id,
                        access_person_id=person_id,
                        occurred_at=when,
                        status_info="timeout",
                    )
                else:
                    devices[device_id] = "synced"
                    self.add_event(
                        "access_person_synced", device_id, access_person_id=person_id, occurred_at=when
                    )
                    if (
                        person is not None
                        and self.person_status(person) == "current"
                        and person["type"] == ("access_guest")
                    ):
                        self.add_event(
                            "access_guest_late_sync", device_id, access_person_id=person_id, occurred_at=when
                        )
                changed = True
            if changed:
                self._count(access_id)
                self.accesses[access_id]["attributes"]["updated_at"] = self.stamp()

    # -- webhooks --------------------------------------------------------------------------------------------

    def webhook_payload(self, event_id: str) -> Json:
        """The body a webhook delivery of an event carries: ``{"data": event}`` (a single object)."""
        return {"data": _get(self.events, "Event", event_id)}

    def add_subscriber(self, subscriber_type: str, **attributes: Any) -> Json:
        """Add a notification subscriber as given (no validation; the route validates first).

        A webhook subscriber gets ``content_type`` ``form`` and a random ``secret`` unless given.
        """
        base: Json = {"active": True}
        if subscriber_type == WEBHOOK_SUBSCRIBER:
            base.update(content_type="form", secret=f"{self._rng.getrandbits(128):032x}")
        record = _resource(
            subscriber_type,
            self.new_id(),
            {**base, **{k: v for k, v in attributes.items() if v is not None}, "created_at": self.stamp()},
            "/notification_subscribers/{id}",
        )
        record["attributes"]["updated_at"] = self.stamp()
        self.notification_subscribers[record["id"]] = record
        return record

    def add_webhook_subscriber(
        self,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        content_type: str = "json",
        active: bool = True,
    ) -> Json:
        """Add a webhook subscriber (a test shortcut for ``POST /notification_subscribers``)."""
        return self.add_subscriber(
            WEBHOOK_SUBSCRIBER, name=name, url=url, content_type=content_type, secret=secret, active=active
        )

    def get_subscriber(self, subscriber_id: str) -> Json:
        """The notification subscriber with that id.

        Raises:
            GeneralError: 404 when there is none.
        """
        return _get(self.notification_subscribers, "Notification subscriber", subscriber_id)

    def delete_subscriber(self, subscriber_id: str) -> None:
        """Delete a subscriber and the subscriptions that notify it."""
        self.get_subscriber(subscriber_id)
        del self.notification_subscribers[subscriber_id]
        for subscription_id in [
            sub["id"]
            for sub in self.notification_subscriptions.values()
            if sub["attributes"]["subscriber_id"] == subscriber_id
        ]:
            del self.notification_subscriptions[subscription_id]

    def find_publisher(self, publisher_type: str, publisher_id: str) -> Json | None:
        """The account, location, device or access person a subscription listens to (``None``: unknown)."""
        if publisher_type == "account":
            return self.account if publisher_id == self.account["id"] else None
        if publisher_type == "location":
            return self.locations.get(publisher_id)
        if publisher_type in ("access_user", "access_guest"):
            person = self.access_persons.get(publisher_id)
            return person if person is not None and person["type"] == publisher_type else None
        device = self.devices.get(publisher_id)
        if device is None:
            return None
        kinds = LOCK_TYPES if publisher_type == "lock" else (publisher_type,)
        return device if device["type"] in kinds else None

    def _publisher_link(self, publisher_type: str, publisher_id: str) -> str:
        if publisher_type == "account":
            return f"{REMOTELOCK_PREFIX}{API_PATH}/accounts/{publisher_id}"
        publisher = self.find_publisher(publisher_type, publisher_id)
        return str(publisher["links"]["self"]) if publisher is not None else ""

    def subscribe(
        self,
        subscriber_id: str,
        publisher_type: str,
        publisher_id: str,
        events: Sequence[str | Json],
    ) -> Json:
        """Add a notification subscription (``events`` as type names or ``{"event_type": ...}`` objects).

        Raises:
            GeneralError: 404 for an unknown subscriber.
        """
        subscriber = self.get_subscriber(subscriber_id)
        record = _resource(
            "notification_subscription",
            self.new_id(),
            {
                "events": [{"event_type": e} if isinstance(e, str) else dict(e) for e in events],
                "created_at": self.stamp(),
                "updated_at": self.stamp(),
                "subscriber_id": subscriber_id,
                "subscriber_type": subscriber["type"],
                "publisher_id": publisher_id,
                "publisher_type": publisher_type,
            },
            "/notification_subscriptions/{id}",
        )
        record["links"].update(
            subscriber=subscriber["links"]["self"],
            publisher=self._publisher_link(publisher_type, publisher_id),
        )
        self.notification_subscriptions[record["id"]] = record
        return record

    def get_subscription(self, subscription_id: str) -> Json:
        """The notification subscription with that id.

        Raises:
            GeneralError: 404 when there is none.
        """
        return _get(self.notification_subscriptions, "Notification subscription", subscription_id)

    def unsubscribe(self, subscription_id: str) -> None:
        """Delete a notification subscription."""
        self.get_subscription(subscription_id)
        del self.notification_subscriptions[subscription_id]

    def _publishes(self, subscription: Json, event: Json, device: Json, person: Json | None) -> bool:
        """Whether an event reaches a subscription: its type is listed and its publisher is concerned."""
        attributes = subscription["attributes"]
        kind = event["type"].removesuffix("_event")
        if not any(e.get("event_type") == kind for e in attributes["events"]):
            return False
        publisher_type, publisher_id = attributes["publisher_type"], attributes["publisher_id"]
        if publisher_type == "account":
            return bool(publisher_id == self.account["id"])
        if publisher_type == "location":
            return bool(device["attributes"].get("location_id") == publisher_id)
        if publisher_type in ("access_user", "access_guest"):
            return person is not None and person["id"] == publisher_id
        return bool(device["id"] == publisher_id)

    def _notify(self, event: Json, device: Json, person: Json | None) -> None:
        """Deliver an event to the active webhook subscribers whose subscriptions it matches.

        JSON subscribers are POSTed in a background task on the running loop (none running: skipped); form
        subscribers are recorded as ``unsupported`` without a request.
        """
        subscriber_ids = {
            sub["attributes"]["subscriber_id"]
            for sub in self.notification_subscriptions.values()
            if self._publishes(sub, event, device, person)
        }
        for subscriber_id in sorted(subscriber_ids):
            subscriber = self.notification_subscribers.get(subscriber_id)
            if subscriber is None or subscriber["type"] != WEBHOOK_SUBSCRIBER:
                continue
            attributes = subscriber["attributes"]
            if not attributes.get("active", True):
                continue
            url = str(attributes["url"])
            if attributes.get("content_type") != "json":
                self.webhook_deliveries.append(
                    WebhookDelivery(subscriber_id, event["id"], url, None, "unsupported")
                )
                continue
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                continue
            payload = json.loads(json.dumps(self.webhook_payload(event["id"])))  # as it is now
            task = loop.create_task(
                self._deliver(subscriber_id, event["id"], url, attributes.get("secret"), payload)
            )
            self._delivery_tasks.add(task)
            task.add_done_callback(self._delivery_tasks.discard)

    async def _deliver(
        self, subscriber_id: str, event_id: str, url: str, secret: str | None, payload: Json
    ) -> None:
        status: int | None = None
        error: str | None = None
        try:
            async with aiohttp.ClientSession() as session:
                status = await deliver_webhook(session, url, secret, payload)
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            error = err.__class__.__name__
        self.webhook_deliveries.append(WebhookDelivery(subscriber_id, event_id, url, status, error))

    async def drain_webhooks(self) -> list[WebhookDelivery]:
        """Wait for the deliveries under way; every attempt recorded so far."""
        while self._delivery_tasks:
            await asyncio.gather(*self._delivery_tasks, return_exceptions=True)
        return list(self.webhook_deliveries)


async def deliver_webhook(
    session: aiohttp.ClientSession, url: str, secret: str | None, payload: Json, *, deadline: float = 3.0
) -> int:
    """POST a webhook payload to ``url`` as RemoteLock does (JSON content type, ``X-Secret`` header).

    Returns the answer's status; the real service expects 2xx within 3 seconds (``deadline``).
    """
    headers = {"X-Secret": secret} if secret is not None else {}
    async with session.post(
        url, json=payload, headers=headers, timeout=aiohttp.ClientTimeout(total=deadline)
    ) as resp:
        await resp.read()
        return resp.status


# --- fleet --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FleetProperty:
    """What the RemoteLock fleet needs of a Kasify property: its name, time zone and current guest."""

    name: str
    time_zone: str
    guest: tuple[str, datetime, datetime] | None = None


def fleet_from_kasify(kasify: KasifyState) -> list[FleetProperty]:
    """The Kasify fleet's properties, in order, with the guest in the house now (times in local wall time)."""
    fleet: list[FleetProperty] = []
    for property_id, prop in kasify.properties.items():
        zone = kasify.property_zone(property_id)
        booking = kasify.current_booking(property_id)
        guest = None
        if booking is not None:
            guest = (
                booking["guest_name"],
                parse_iso(booking["check_in"]).astimezone(zone),
                parse_iso(booking["check_out"]).astimezone(zone),
            )
        fleet.append(FleetProperty(prop["name"], str(zone.key), guest))
    return fleet


def build_remotelock_fleet(
    state: RemoteLockState, properties: Sequence[FleetProperty], *, now: datetime
) -> None:
    """Seed ``state`` with one location per Kasify property (same name and zone) and some devices.

    - property 0: a ``lock`` "Puerta de servicio" (locked, battery 76) with its current guest as an access
      guest (PIN ``2468``, synced) and a past PIN unlock, access use and auto-lock in the events;
    - property 1: a ``zwave_lock`` "Trastero" (unlocked, battery 54) and a denied PIN attempt;
    - property 2: a ``lock`` "Garaje", offline (not connected, not alive) with battery 12 and a
      ``power_level_low`` event;
    - a location "Oficina Sol y Mar" that matches no property, with a ``lock`` "Oficina" and two non-lock
      devices (a ``thermostat`` and a ``resort_lock``) that a ``type[]=lock`` filter must leave out.
    """
    locations = [state.add_location(prop.name, time_zone=prop.time_zone) for prop in properties]
    plan: list[tuple[str, str, Json]] = [
        ("Puerta de servicio", "lock", {"state": "locked", "power_level": 76}),
        ("Trastero", "zwave_lock", {"state": "unlocked", "power_level": 54}),
        ("Garaje", "lock", {"state": "locked", "power_level": 12, "connected": False, "alive": False}),
    ]
    locks = [
        state.add_lock(name, location["id"], device_type=kind, **attributes)
        for location, (name, kind, attributes) in zip(locations, plan, strict=False)
    ]
    office = state.add_location(
        "Oficina Sol y Mar",
        time_zone=DEFAULT_TIME_ZONE,
        address="Calle Mayor, 1",
        city="Madrid",
        country="ES",
    )
    state.add_lock("Oficina", office["id"], state="locked", power_level=90)
    state.add_device(
        "thermostat",
        office["id"],
        name="Termostato oficina",
        connected=True,
        alive=True,
        temperature=21.5,
        unit="C",
        power_source="hardwire",
    )
    state.add_device("resort_lock", office["id"], name="RL-4000 Buzón", serial_number="91K6C7OO0B4FBE01")
    if locks:
        front = locks[0]["id"]
        guest = properties[0].guest
        if guest is not None:
            name, check_in, check_out = guest
            person = state.add_access_person(
                "access_guest", name, pin="2468", starts_at=check_in, ends_at=check_out
            )
            state.grant(person["id"], front, synced=True)
            state.add_event(
                "access_person_used",
                front,
                access_person_id=person["id"],
                method="pin",
                pin="2468",
                source="user",
                occurred_at=now - timedelta(hours=5),
                created_at=now - timedelta(hours=5, seconds=-2),
            )
            state.add_event(
                "unlocked",
                front,
                access_person_id=person["id"],
                method="pin",
                pin="2468",
                source="user",
                occurred_at=now - timedelta(hours=5),
                created_at=now - timedelta(hours=5, seconds=-2),
            )
        state.add_event(
            "locked",
            front,
            source="device",
            occurred_at=now - timedelta(hours=5, seconds=-20),
            created_at=now - timedelta(hours=5, seconds=-22),
        )
    if len(locks) > 1:
        state.add_event(
            "access_denied",
            locks[1]["id"],
            method="pin",
            pin="0000",
            status="failed",
            source="user",
            occurred_at=now - timedelta(hours=3),
            created_at=now - timedelta(hours=3, seconds=-2),
        )
    if len(locks) > 2:
        state.add_event(
            "power_level_low",
            locks[2]["id"],
            power_level=12,
            occurred_at=now - timedelta(hours=26),
            created_at=now - timedelta(hours=2),
        )


# --- HTTP ---------------------------------------------------------------------------------------------------


def _resource(kind: str, record_id: str, attributes: Json, self_path: str) -> Json:
    return {
        "type": kind,
        "id": record_id,
        "attributes": attributes,
        "links": {"self": REMOTELOCK_PREFIX + API_PATH + self_path.replace("{id}", record_id)},
    }


def _local_text(value: datetime | str) -> str:
    """Lock-local time as served: ISO-8601 without a zone, to the second (an offset given is dropped)."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=None, microsecond=0).isoformat(timespec="seconds")


def _accepts_v1(header: str) -> bool:
    lowered = header.lower().replace(" ", "")
    return (
        "application/vnd.lockstate.v1+json" in lowered
        or "application/vnd.remotelock.v1+json" in lowered
        or ("application/vnd.lockstate+json" in lowered and "version=1" in lowered)
    )


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _page_params(request: web.Request) -> tuple[int, int]:
    def number(key: str, default: int) -> int:
        raw = request.query.get(key)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise GeneralError(422, "invalid_parameter", f"{key} must be an integer") from None

    page, per_page = number("page", 1), number("per_page", DEFAULT_PER_PAGE)
    if page < 1:
        raise GeneralError(422, "invalid_parameter", "page must be at least 1")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise GeneralError(422, "invalid_parameter", f"per_page must be between 1 and {MAX_PER_PAGE}")
    return page, per_page


def _collection(request: web.Request, items: Sequence[Json]) -> web.Response:
    page, per_page = _page_params(request)
    start = (page - 1) * per_page
    return _json(
        {
            "data": list(items[start : start + per_page]) if page * per_page <= 10_000 else [],
            "meta": {
                "page": page,
                "per_page": per_page,
                "total_pages": math.ceil(len(items) / per_page),
                "total_count": len(items),
            },
        }
    )


def _values(request: web.Request, key: str) -> list[str]:
    """A query filter given as ``key=v`` or ``key[]=v1&key[]=v2``."""
    return [*request.query.getall(key, []), *request.query.getall(f"{key}[]", [])]


async def _body(request: web.Request) -> tuple[Json, Json]:
    """The JSON body and its ``attributes`` object."""
    raw = await request.read()
    if not raw.strip():
        return {}, {}
    if request.content_type != "application/json":
        raise GeneralError(415, "unsupported_media_type", "Content-Type must be application/json")
    try:
        data = json.loads(raw)
    except ValueError:
        raise GeneralError(400, "bad_request", "The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise GeneralError(400, "bad_request", "The request body must be a JSON object")
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise GeneralError(400, "bad_request", "attributes must be an object")
    return data, attributes


def _local_attribute(attributes: Json, key: str, errors: list[tuple[str | None, str]]) -> str | None:
    value = attributes.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.append((key, "is invalid"))
        return None
    try:
        return _local_text(value)
    except ValueError:
        errors.append((key, "is invalid"))
        return None


def _webhook_url_error(url: Any) -> str | None:
    """Why a webhook ``url`` is refused (``None``: fine): HTTPS only, plain HTTP to loopback tolerated."""
    if not isinstance(url, str) or not url.strip():
        return "can't be blank"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is invalid"
    if not host or parts.scheme not in ("http", "https"):
        return "is invalid"
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return "must be a secure (HTTPS) URL"
    return None


def _events_errors(events: Any, publisher_type: Any) -> list[str]:
    """What is wrong with a subscription's ``events`` for a publisher type (the seed's schemas)."""
    if not isinstance(events, list) or not events:
        return ["can't be blank"]
    allowed = PUBLISHER_EVENTS.get(str(publisher_type), tuple(EVENT_TYPES))
    extra = (
        {"first_access", "created_by_integration"}
        if publisher_type in ("access_user", "access_guest")
        else set()
    )
    problems: list[str] = []
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("event_type"), str):
            problems.append("must be objects with an event_type")
            continue
        kind = event["event_type"]
        if kind not in allowed:
            problems.append(f"{kind} is not a valid event type for {publisher_type}")
        unknown = set(event) - {"event_type"} - extra
        if unknown:
            problems.append(f"{kind} has unknown properties: {', '.join(sorted(unknown))}")
        elif any(not isinstance(event[key], bool) for key in extra & set(event)):
            problems.append(f"{kind}: first_access and created_by_integration must be booleans")
    return problems


class RemoteLockApi:
    """The RemoteLock vendor: API and OAuth2 routes over one :class:`RemoteLockState`."""

    name = "remotelock"
    prefix = REMOTELOCK_PREFIX

    def __init__(self, state: RemoteLockState) -> None:
        """Serve ``state``."""
        self.state = state

    # -- vendor protocol -------------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> bytes:
        """A general error body for ``status``."""
        return json.dumps(general_payload(status, message)).encode()

    def summary(self) -> Json:
        """Counts of the state's records and the prefix."""
        return {"prefix": self.prefix, **self.state.summary()}

    def build_app(self) -> web.Application:
        """``/api`` and ``/connect`` sub-applications."""
        api = web.Application(middlewares=[self._api_middleware])
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/user", self.get_user),
            ("GET", "/account", self.get_account),
            ("GET", "/locations", self.list_locations),
            ("GET", "/locations/{id}", self.get_location),
            ("GET", "/devices", self.list_devices),
            ("GET", "/devices/{id}", self.get_device),
            ("PUT", "/devices/{id}/lock", self.lock),
            ("PUT", "/devices/{id}/unlock", self.unlock),
            ("GET", "/devices/{id}/access_person_accesses", self.device_accesses),
            ("GET", "/events", self.list_events),
            ("GET", "/events/{id}", self.get_event),
            ("GET", "/access_persons", self.list_persons),
            ("POST", "/access_persons", self.create_person),
            ("GET", "/access_persons/{id}", self.get_person),
            ("PUT", "/access_persons/{id}", self.update_person),
            ("DELETE", "/access_persons/{id}", self.delete_person),
            ("PUT", "/access_persons/{id}/deactivate", self.deactivate),
            ("GET", "/access_persons/{id}/accesses", self.list_accesses),
            ("POST", "/access_persons/{id}/accesses", self.create_access),
            ("GET", "/access_persons/{id}/accesses/{access_id}", self.get_access),
            ("DELETE", "/access_persons/{id}/accesses/{access_id}", self.delete_access),
            ("GET", "/notification_subscribers", self.list_subscribers),
            ("POST", "/notification_subscribers", self.create_subscriber),
            ("GET", "/notification_subscribers/{id}", self.get_subscriber),
            ("DELETE", "/notification_subscribers/{id}", self.delete_subscriber),
            ("GET", "/notification_subscriptions", self.list_subscriptions),
            ("POST", "/notification_subscriptions", self.create_subscription),
            ("GET", "/notification_subscriptions/{id}", self.get_subscription),
            ("DELETE", "/notification_subscriptions/{id}", self.delete_subscription),
        ]
        for method, path, handler in routes:
            api.router.add_route(method, path, handler)
        oauth = web.Application(middlewares=[self._oauth_middleware])
        oauth.router.add_get("/oauth/authorize", self.authorize)
        oauth.router.add_post("/oauth/token", self.token)
        oauth.router.add_post("/oauth/revoke", self.revoke)
        app = web.Application()
        app.add_subapp(API_PATH, api)
        app.add_subapp(OAUTH_PATH, oauth)
        return app

    # -- middlewares -----------------------------------------------------------------------------------------

    @web.middleware
    async def _api_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Accept header, bearer token, rate limit; errors in RemoteLock's shapes; rate headers always."""
        try:
            response = await self._guarded(request, handler)
        except ResourceError as err:
            response = _json(err.payload(), err.status)
        except ApiError as err:
            response = _json(general_payload(err.status, err.message, err.code), err.status)
        except web.HTTPException as err:  # no route (404), wrong method (405): the API never redirects
            response = _json(general_payload(err.status, err.reason), err.status)
        response.headers.update(self.state.rate_headers())
        return response

    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not _accepts_v1(request.headers.get("Accept", "")):
            raise GeneralError(
                406, "not_acceptable", "Send Accept: application/vnd.lockstate.v1+json to use API version 1"
            )
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise GeneralError(401, "unauthorized", "An access token is required")
        if scheme.lower() != "bearer" or not self.state.access_token_valid(token.strip()):
            raise GeneralError(403, "invalid_token", "The access token is invalid or expired")
        if not self.state.take_request():
            raise GeneralError(
                429,
                "rate_limited",
                "Your account has exceeded the rate limit. Check the X-RateLimit-* headers.",
            )
        self.state.tick()
        return await handler(request)

    @web.middleware
    async def _oauth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except OAuthError as err:
            headers = {"WWW-Authenticate": "Basic"} if err.status == 401 else None
            return web.json_response(
                {"error": err.error, "error_description": err.description}, status=err.status, headers=headers
            )

    # -- user, account, locations ----------------------------------------------------------------------------

    async def get_user(self, request: web.Request) -> web.Response:
        """``GET /user``."""
        return _json({"data": self.state.user})

    async def get_account(self, request: web.Request) -> web.Response:
        """``GET /account``."""
        return _json({"data": self.state.account})

    async def list_locations(self, request: web.Request) -> web.Response:
        """``GET /locations`` (sorted by name)."""
        items = sorted(self.state.locations.values(), key=lambda loc: (loc["attributes"]["name"], loc["id"]))
        return _collection(request, items)

    async def get_location(self, request: web.Request) -> web.Response:
        """``GET /locations/{id}``."""
        return _json({"data": self.state.get_location(request.match_info["id"])})

    # -- devices ---------------------------------------------------------------------------------------------

    async def list_devices(self, request: web.Request) -> web.Response:
        """``GET /devices?type[]=&id[]=&attributes[location_id]=&sort=``."""
        types = {_TYPE_ALIASES.get(t, t) for t in _values(request, "type")}
        ids = set(_values(request, "id"))
        location = request.query.get("attributes[location_id]")
        items = [
            device
            for device in self.state.devices.values()
            if (not types or device["type"] in types)
            and (not ids or device["id"] in ids)
            and (location is None or device["attributes"].get("location_id") == location)
        ]
        sort = request.query.get("sort", "created_at")
        if sort.removeprefix("-") not in ("created_at", "name"):
            raise GeneralError(422, "invalid_parameter", "sort must be created_at or name")
        items.sort(key=lambda d: d["attributes"][sort.removeprefix("-")], reverse=sort.startswith("-"))
        return _collection(request, items)

    async def get_device(self, request: web.Request) -> web.Response:
        """``GET /devices/{id}``."""
        return _json({"data": self.state.get_device(request.match_info["id"])})

    async def lock(self, request: web.Request) -> web.Response:
        """``PUT /devices/{id}/lock`` → 200 with the device."""
        return _json({"data": self.state.lock_action(request.match_info["id"], "lock")})

    async def unlock(self, request: web.Request) -> web.Response:
        """``PUT /devices/{id}/unlock`` → 200 with the device."""
        return _json({"data": self.state.lock_action(request.match_info["id"], "unlock")})

    async def device_accesses(self, request: web.Request) -> web.Response:
        """``GET /devices/{id}/access_person_accesses?attributes[access_person_type]=``."""
        device = self.state.get_device(request.match_info["id"])
        kind = request.query.get("attributes[access_person_type]")
        items = [
            access
            for access_id, access in self.state.accesses.items()
            if device["id"] in self.state.access_devices(access_id)
            and (kind is None or access["attributes"]["access_person_type"] == kind)
        ]
        return _collection(request, items)

    # -- events ----------------------------------------------------------------------------------------------

    async def list_events(self, request: web.Request) -> web.Response:
        """``GET /events?sort=`` (default ``-occurred_at``)."""
        sort = request.query.get("sort", "-occurred_at")
        if sort.removeprefix("-") not in ("occurred_at", "created_at"):
            raise GeneralError(422, "invalid_parameter", "sort must be created_at or occurred_at")
        return _collection(request, self.state.sorted_events(sort))

    async def get_event(self, request: web.Request) -> web.Response:
        """``GET /events/{id}``."""
        event_id = request.match_info["id"]
        if event_id not in self.state.events:
            raise _not_found("Event", event_id)
        return _json({"data": self.state.events[event_id]})

    # -- access persons --------------------------------------------------------------------------------------

    async def list_persons(self, request: web.Request) -> web.Response:
        """``GET /access_persons?type=&attributes[status][]=`` (default: current and upcoming)."""
        types = set(_values(request, "type"))
        statuses = set(_values(request, "attributes[status]")) or {"current", "upcoming"}
        items = [
            served
            for person in self.state.access_persons.values()
            if (not types or person["type"] in types)
            and (served := self.state.render_person(person))["attributes"]["status"] in statuses
        ]
        return _collection(request, items)

    async def get_person(self, request: web.Request) -> web.Response:
        """``GET /access_persons/{id}``."""
        return _json({"data": self.state.render_person(self.state.get_person(request.match_info["id"]))})

    async def create_person(self, request: web.Request) -> web.Response:
        """``POST /access_persons`` → 201 (access_user or access_guest)."""
        data, attributes = await _body(request)
        if self.state.subscription_required:
            raise GeneralError(402, "billing_subscription_required", "Please create a subscription")
        errors: list[tuple[str | None, str]] = []
        kind = data.get("type")
        if kind not in ("access_user", "access_guest"):
            errors.append(("type", "must be access_user or access_guest"))
        name = attributes.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(("name", "is empty"))
        starts_at = ends_at = None
        if kind == "access_guest":
            starts_at = _local_attribute(attributes, "starts_at", errors)
            ends_at = _local_attribute(attributes, "ends_at", errors)
            for key, value in (("starts_at", starts_at), ("ends_at", ends_at)):
                if value is None and not any(attr == key for attr, _ in errors):
                    errors.append((key, "can't be blank"))
            if starts_at and ends_at and ends_at <= starts_at:
                errors.append(("ends_at", "must be after starts_at"))
        pin = self._pin(attributes, errors)
        email = attributes.get("email")
        if email is not None and not isinstance(email, str):
            errors.append(("email", "is invalid"))
        if errors:
            raise ResourceError(attributes, errors)
        assert isinstance(name, str)
        assert isinstance(kind, str)
        person = self.state.add_access_person(
            kind, name, pin=pin, starts_at=starts_at, ends_at=ends_at, email=email
        )
        return _json({"data": self.state.render_person(person)}, 201)

    def _pin(
        self, attributes: Json, errors: list[tuple[str | None, str]], exclude_id: str | None = None
    ) -> str | None:
        pin = attributes.get("pin")
        if attributes.get("generate_pin") is True:
            return self.state.generate_pin()
        if pin is None and exclude_id is None and not attributes.get("card_number"):
            errors.append((None, "pin, generate_pin or card_number is required"))
            return None
        if pin is None:
            return None
        if not isinstance(pin, str) or not _PIN.match(pin):
            errors.append(("pin", "must be 4 to 10 digits"))
            return None
        if pin in self.state.active_pins(exclude_id):
            errors.append(("pin", "has already been taken"))
            return None
        return pin

    async def update_person(self, request: web.Request) -> web.Response:
        """``PUT /access_persons/{id}`` — name, email, pin and (guests) times."""
        person = self.state.get_person(request.match_info["id"])
        _, attributes = await _body(request)
        errors: list[tuple[str | None, str]] = []
        if self.state.person_status(person) in ("deactivated", "expired"):
            raise ResourceError(attributes, [(None, "Access person can no longer be updated")])
        changes: Json = {}
        if "name" in attributes:
            name = attributes["name"]
            if not isinstance(name, str) or not name.strip():
                errors.append(("name", "is empty"))
            changes["name"] = name
        if "email" in attributes:
            changes["email"] = attributes["email"]
        if "pin" in attributes or attributes.get("generate_pin") is True:
            changes["pin"] = self._pin(attributes, errors, exclude_id=person["id"])
        if person["type"] == "access_guest":
            for key in ("starts_at", "ends_at"):
                if key in attributes:
                    changes[key] = _local_attribute(attributes, key, errors)
            start = changes.get("starts_at") or person["attributes"]["starts_at"]
            end = changes.get("ends_at") or person["attributes"]["ends_at"]
            if end <= start:
                errors.append(("ends_at", "must be after starts_at"))
        if errors:
            raise ResourceError(attributes, errors)
        person["attributes"].update(changes, updated_at=self.state.stamp())
        return _json({"data": self.state.render_person(person)})

    async def deactivate(self, request: web.Request) -> web.Response:
        """``PUT /access_persons/{id}/deactivate`` → 200 with the person, status ``deactivated``."""
        person = self.state.deactivate(request.match_info["id"])
        return _json({"data": self.state.render_person(person)})

    async def delete_person(self, request: web.Request) -> web.Response:
        """``DELETE /access_persons/{id}`` → 204."""
        self.state.delete_person(request.match_info["id"])
        return web.Response(status=204)

    # -- accesses --------------------------------------------------------------------------------------------

    async def list_accesses(self, request: web.Request) -> web.Response:
        """``GET /access_persons/{id}/accesses``."""
        person = self.state.get_person(request.match_info["id"])
        items = [
            a for a in self.state.accesses.values() if a["attributes"]["access_person_id"] == person["id"]
        ]
        return _collection(request, items)

    async def create_access(self, request: web.Request) -> web.Response:
        """``POST /access_persons/{id}/accesses`` → 201; 409 when the same access exists already."""
        person = self.state.get_person(request.match_info["id"])
        _, attributes = await _body(request)
        errors: list[tuple[str | None, str]] = []
        accessible_type = attributes.get("accessible_type")
        accessible_id = attributes.get("accessible_id")
        if accessible_type not in ACCESSIBLE_TYPES:
            errors.append(("accessible_type", f"must be one of: {', '.join(ACCESSIBLE_TYPES)}"))
        elif not isinstance(accessible_id, str) or not (
            accessible_id in self.state.locations
            if accessible_type == "location"
            else (self.state.devices.get(accessible_id) or {}).get("type") in LOCK_TYPES
        ):
            errors.append(("accessible_id", "does not exist"))
        times: Json = {}
        for key in ("guest_start_time", "guest_end_time"):
            value = attributes.get(key)
            if value is not None and not (isinstance(value, str) and _TIME_OF_DAY.match(value)):
                errors.append((key, "is invalid"))
            elif value is not None:
                times[key] = value if value.count(":") == 2 else f"{value}:00"
        if self.state.person_status(person) in ("deactivated", "expired"):
            errors.append((None, "Access person is no longer active"))
        if errors:
            raise ResourceError(attributes, errors)
        assert isinstance(accessible_id, str)
        assert isinstance(accessible_type, str)
        for access in self.state.accesses.values():
            if (
                access["attributes"]["access_person_id"] == person["id"]
                and access["attributes"]["accessible_id"] == accessible_id
            ):
                raise GeneralError(409, "duplicate", "This access person already has access to it")
        record = self.state.grant(person["id"], accessible_id, accessible_type, **times)
        return _json({"data": record}, 201)

    async def get_access(self, request: web.Request) -> web.Response:
        """``GET /access_persons/{id}/accesses/{access_id}``."""
        access = self.state.get_access(request.match_info["access_id"], request.match_info["id"])
        return _json({"data": access})

    async def delete_access(self, request: web.Request) -> web.Response:
        """``DELETE /access_persons/{id}/accesses/{access_id}`` → 204."""
        access = self.state.get_access(request.match_info["access_id"], request.match_info["id"])
        self.state.revoke_access(access["id"])
        return web.Response(status=204)

    # -- notification subscribers and subscriptions ----------------------------------------------------------

    async def list_subscribers(self, request: web.Request) -> web.Response:
        """``GET /notification_subscribers?type=&sort=`` (default ``created_at`` ascending)."""
        types = set(_values(request, "type"))
        sort = request.query.get("sort", "created_at")
        key = sort.removeprefix("-")
        if key not in ("created_at", "name"):
            raise GeneralError(422, "invalid_parameter", "sort must be created_at or name")
        items = [s for s in self.state.notification_subscribers.values() if not types or s["type"] in types]
        items.sort(key=lambda s: str(s["attributes"].get(key) or ""), reverse=sort.startswith("-"))
        return _collection(request, items)

    async def get_subscriber(self, request: web.Request) -> web.Response:
        """``GET /notification_subscribers/{id}``."""
        return _json({"data": self.state.get_subscriber(request.match_info["id"])})

    async def create_subscriber(self, request: web.Request) -> web.Response:
        """``POST /notification_subscribers`` → 201 (email, text or webhook subscriber)."""
        data, attributes = await _body(request)
        errors: list[tuple[str | None, str]] = []
        kind = data.get("type")
        if kind not in SUBSCRIBER_TYPES:
            errors.append(("type", f"must be one of: {', '.join(SUBSCRIBER_TYPES)}"))
        name = attributes.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(("name", "can't be blank"))
        active = attributes.get("active", True)
        if not isinstance(active, bool):
            errors.append(("active", "is invalid"))
        required = {
            "email_notification_subscriber": ("email",),
            "text_notification_subscriber": ("phone", "carrier"),
        }.get(str(kind), ())
        for key in required:
            value = attributes.get(key)
            if not isinstance(value, str) or not value.strip():
                errors.append((key, "can't be blank"))
        fields: Json = {key: attributes.get(key) for key in required}
        if kind == WEBHOOK_SUBSCRIBER:
            url_error = _webhook_url_error(attributes.get("url"))
            if url_error is not None:
                errors.append(("url", url_error))
            content_type = attributes.get("content_type", "form")
            if content_type not in CONTENT_TYPES:
                errors.append(("content_type", "must be form or json"))
            secret = attributes.get("secret")
            if secret is not None and not isinstance(secret, str):
                errors.append(("secret", "is invalid"))
            fields = {"url": attributes.get("url"), "content_type": content_type, "secret": secret or None}
        if errors:
            raise ResourceError(attributes, errors)
        assert isinstance(kind, str)
        record = self.state.add_subscriber(kind, name=name, **fields, active=active)
        return _json({"data": record}, 201)

    async def delete_subscriber(self, request: web.Request) -> web.Response:
        """``DELETE /notification_subscribers/{id}`` → 204 (its subscriptions go too)."""
        self.state.delete_subscriber(request.match_info["id"])
        return web.Response(status=204)

    async def list_subscriptions(self, request: web.Request) -> web.Response:
        """``GET /notification_subscriptions?sort=`` (``created_at``, default ascending)."""
        sort = request.query.get("sort", "created_at")
        if sort.removeprefix("-") != "created_at":
            raise GeneralError(422, "invalid_parameter", "sort must be created_at")
        items = list(self.state.notification_subscriptions.values())
        if sort.startswith("-"):
            items.reverse()
        return _collection(request, items)

    async def get_subscription(self, request: web.Request) -> web.Response:
        """``GET /notification_subscriptions/{id}``."""
        return _json({"data": self.state.get_subscription(request.match_info["id"])})

    async def create_subscription(self, request: web.Request) -> web.Response:
        """``POST /notification_subscriptions`` → 201; event types must suit the publisher type."""
        _, attributes = await _body(request)
        errors: list[tuple[str | None, str]] = []
        publisher_type = attributes.get("publisher_type")
        publisher_id = attributes.get("publisher_id")
        subscriber_type = attributes.get("subscriber_type")
        subscriber_id = attributes.get("subscriber_id")
        if publisher_type not in PUBLISHER_TYPES:
            errors.append(("publisher_type", f"must be one of: {', '.join(PUBLISHER_TYPES)}"))
        elif not isinstance(publisher_id, str) or not publisher_id:
            errors.append(("publisher_id", "can't be blank"))
        elif self.state.find_publisher(str(publisher_type), publisher_id) is None:
            errors.append(("publisher_id", "does not exist"))
        if subscriber_type not in SUBSCRIBER_TYPES:
            errors.append(("subscriber_type", f"must be one of: {', '.join(SUBSCRIBER_TYPES)}"))
        elif not isinstance(subscriber_id, str) or not subscriber_id:
            errors.append(("subscriber_id", "can't be blank"))
        elif (self.state.notification_subscribers.get(subscriber_id) or {}).get("type") != subscriber_type:
            errors.append(("subscriber_id", "does not exist"))
        errors.extend(
            ("events", message) for message in _events_errors(attributes.get("events"), publisher_type)
        )
        if errors:
            raise ResourceError(attributes, errors)
        assert isinstance(subscriber_id, str)
        assert isinstance(publisher_id, str)
        record = self.state.subscribe(subscriber_id, str(publisher_type), publisher_id, attributes["events"])
        return _json({"data": record}, 201)

    async def delete_subscription(self, request: web.Request) -> web.Response:
        """``DELETE /notification_subscriptions/{id}`` → 204."""
        self.state.unsubscribe(request.match_info["id"])
        return web.Response(status=204)

    # -- OAuth -----------------------------------------------------------------------------------------------

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        """``GET /oauth/authorize`` — the user signs in and approves at once: redirect with a code.

        With the out-of-band redirect URI the code is answered as JSON ``{"code", "state"}``.
        """
        query = request.query
        if query.get("client_id") != self.state.client_id:
            raise OAuthError(401, "invalid_client", "Unknown client")
        if query.get("response_type") != "code":
            raise OAuthError(400, "unsupported_response_type", "Only response_type=code is supported")
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            raise OAuthError(400, "invalid_request", "redirect_uri is required")
        code = self.state.issue_authorization_code(redirect_uri)
        state = query.get("state", "")
        if redirect_uri == OOB_REDIRECT_URI:
            return _json({"code": code, "state": state})
        separator = "&" if "?" in redirect_uri else "?"
        raise web.HTTPFound(f"{redirect_uri}{separator}{urlencode({'code': code, 'state': state})}")

    async def token(self, request: web.Request) -> web.Response:
        """``POST /oauth/token`` (form-encoded; client credentials in the form or HTTP Basic)."""
        form = {key: str(value) for key, value in (await request.post()).items()}
        basic: tuple[str, str] | None = None
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                decoded = aiohttp.BasicAuth.decode(auth)
            except ValueError:
                raise OAuthError(401, "invalid_client", "Malformed Basic credentials") from None
            basic = (decoded.login, decoded.password)
        return _json(self.state.token_grant(form, basic))

    async def revoke(self, request: web.Request) -> web.Response:
        """``POST /oauth/revoke`` → 200 ``{}``."""
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.state.check_client(form.get("client_id"), form.get("client_secret"))
        self.state.revoke_token(form.get("token", ""))
        return _json({})
