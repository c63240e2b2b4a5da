"""Async client for the RemoteLock API v1, its OAuth2 token endpoint and its webhooks.

Facts from ``../shared/seeds/remotelock-api-v1.txt`` and ``../shared/APIS.md`` §3:

- API ``https://api.remotelock.com``, OAuth ``https://connect.remotelock.com`` (both configurable, so the
  simulator and tests can point the client at loopback); every API request sends
  ``Accept: application/vnd.lockstate.v1+json`` and ``Authorization: Bearer <access token>``.
- Access tokens live 7200 s. The authorization-code grant also returns a refresh token that **rotates**: each
  refresh returns a new one and invalidates the old. The client-credentials grant has no refresh token; the
  token is requested again when it expires.
- **403 means the access token is expired or invalid** (the client refreshes it and retries once); **401 means
  "not permitted"** (:class:`PermissionDeniedError`); 402 is a general error such as
  ``billing_subscription_required`` (:class:`SubscriptionRequiredError`); 409 duplicate; 422 validation.
- Errors come as resource errors ``{"attributes": …, "errors": [{"attribute", "messages", "full_messages"}]}``
  (→ :class:`ValidationError` with ``fields``; an error not tied to an attribute is filed under ``"base"``) or
  general errors ``{"message", "type"}``.
- 120 requests per minute per account; ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (UTC epoch seconds) on
  every response, 429 when exceeded. The client waits on a :class:`SlidingWindowLimiter` before every request,
  pauses it until the reset on a 429 (and when ``Remaining`` reaches 0), and raises :class:`RateLimitedError`.
- Collections are paged with ``page`` (from 1) and ``per_page`` (at most 50) and carry
  ``meta.total_pages``; the client reads every page (``ceil(n / 50)`` requests).
- Webhooks: a ``webhook_notification_subscriber`` (HTTPS ``url``, ``content_type`` ``form`` or ``json``,
  ``secret`` echoed as ``X-Secret``) plus a ``notification_subscription`` tying it to a publisher
  (``account``: any event type) and its event types; both answer 201 on create and 204 on delete.

Inferred (not in the seed): device types that can be locked and unlocked (``lock``, ``zwave_lock``,
``schlage_home_lock``), ``jammed`` as a lock ``state``, ``model_number``, and the OAuth2 error bodies
(standard RFC 6749 ``{"error", "error_description"}``).

Usage from Home Assistant, where ``OAuth2Session`` owns the tokens::

    async def token() -> str:
        await oauth_session.async_ensure_token_valid()
        return oauth_session.token["access_token"]

    client = RemoteLockClient(async_get_clientsession(hass), token)

or with the client-credentials grant::

    auth = ClientCredentialsAuth(session, token_url(), client_id, client_secret)
    client = RemoteLockClient(session, auth)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field, replace
from datetime import datetime, time as dt_time, tzinfo
import hmac
from http import HTTPStatus
import math
import time
from typing import Any, Final, Protocol, runtime_checkable

import aiohttp

from .auth import SingleFlightToken
from .errors import (
    KasifyApiError,
    MalformedResponseError,
    NotFoundError,
    OAuthGrantError,
    PermissionDeniedError,
    RateLimitedError,
    SubscriptionRequiredError,
)
from .http import (
    HttpTransport,
    Request,
    Response,
    error_for_status,
    error_summary,
    json_object,
    quote_segment,
    retry_after_seconds,
)
from .models import LockStatus
from .parse import Reader
from .ratelimit import SlidingWindowLimiter

DEFAULT_API_URL: Final = "https://api.remotelock.com"
DEFAULT_OAUTH_URL: Final = "https://connect.remotelock.com"
AUTHORIZE_PATH: Final = "/oauth/authorize"
TOKEN_PATH: Final = "/oauth/token"  # noqa: S105 - a path, not a secret
ACCEPT: Final = "application/vnd.lockstate.v1+json"

DEFAULT_TIMEOUT: Final = 15.0
PER_PAGE: Final = 50
MAX_RESULTS: Final = 10_000
"""The API serves at most this many items of a collection (``page * per_page <= 10 000``)."""
RATE_LIMIT: Final = 120
RATE_WINDOW: Final = 60.0
TOKEN_LEEWAY: Final = 60.0
"""Renew an access token this many seconds before it expires."""
MAX_RESET_WAIT: Final = 300.0
"""Upper bound for a wait read from ``X-RateLimit-Reset`` (a skewed clock must not stall us for hours)."""
_EPOCH_CUTOFF: Final = 1_000_000_000
"""``X-RateLimit-Reset`` values below this are taken as seconds from now rather than an epoch instant."""

LOCK_TYPES: Final = ("lock", "zwave_lock", "schlage_home_lock")
"""Device types with a ``state`` that ``PUT /devices/{id}/lock|unlock`` accepts."""
DEVICE_TYPES: Final = frozenset(
    {*LOCK_TYPES, "resort_lock", "connector_lock", "igloo_lock", "acs_door", "thermostat", "power_plug"}
)
"""Event publisher/associated types that are devices (the rest are access persons, locations, ...)."""
ACCESS_PERSON_TYPES: Final = frozenset({"access_user", "access_guest"})
WEBHOOK_EVENTS: Final = (
    "unlocked",
    "locked",
    "access_denied",
    "access_person_used",
    "access_person_synced",
    "access_person_sync_failed",
    "access_guest_late_sync",
    "power_level_low",
    "connectivity",
)
"""Event types the integration's own webhook subscribes to (an ``account`` publisher takes any type)."""
WEBHOOK_SUBSCRIBER_TYPE: Final = "webhook_notification_subscriber"

_LOCK_STATES: Final = {
    "locked": LockStatus.LOCKED,
    "unlocked": LockStatus.UNLOCKED,
    "jammed": LockStatus.JAMMED,
}


class Paths:
    """Every RemoteLock API path the client uses (all from the seed page)."""

    USER = "/user"
    ACCOUNT = "/account"
    DEVICES = "/devices"
    EVENTS = "/events"
    LOCATIONS = "/locations"
    ACCESS_PERSONS = "/access_persons"

    @staticmethod
    def device(device_id: str) -> str:
        """One device."""
        return f"/devices/{quote_segment(device_id)}"

    @staticmethod
    def lock(device_id: str) -> str:
        """Lock a lock."""
        return f"/devices/{quote_segment(device_id)}/lock"

    @staticmethod
    def unlock(device_id: str) -> str:
        """Unlock a lock."""
        return f"/devices/{quote_segment(device_id)}/unlock"

    @staticmethod
    def device_accesses(device_id: str) -> str:
        """The access grants that reach a device."""
        return f"/devices/{quote_segment(device_id)}/access_person_accesses"

    @staticmethod
    def access_person(person_id: str) -> str:
        """One access person."""
        return f"/access_persons/{quote_segment(person_id)}"

    @staticmethod
    def deactivate(person_id: str) -> str:
        """Deactivate an access person (kept in the history, unlike DELETE)."""
        return f"/access_persons/{quote_segment(person_id)}/deactivate"

    @staticmethod
    def accesses(person_id: str) -> str:
        """An access person's access grants."""
        return f"/access_persons/{quote_segment(person_id)}/accesses"

    @staticmethod
    def access(person_id: str, access_id: str) -> str:
        """One access grant."""
        return f"/access_persons/{quote_segment(person_id)}/accesses/{quote_segment(access_id)}"

    NOTIFICATION_SUBSCRIBERS = "/notification_subscribers"
    NOTIFICATION_SUBSCRIPTIONS = "/notification_subscriptions"

    @staticmethod
    def notification_subscriber(subscriber_id: str) -> str:
        """One notification subscriber (e.g. a webhook)."""
        return f"/notification_subscribers/{quote_segment(subscriber_id)}"

    @staticmethod
    def notification_subscription(subscription_id: str) -> str:
        """One notification subscription (publisher + subscriber + event types)."""
        return f"/notification_subscriptions/{quote_segment(subscription_id)}"


# --- models -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemoteLockUser:
    """The signed-in user (``GET /user``)."""

    id: str
    name: str
    handle: str | None = None
    primary_account_id: str | None = None
    default_account_id: str | None = None

    @property
    def account_id(self) -> str:
        """The account the API works on (default, else primary account; else the user id)."""
        return self.default_account_id or self.primary_account_id or self.id


@dataclass(frozen=True, slots=True)
class RemoteLockAccount:
    """The current account (``GET /account``)."""

    id: str
    name: str
    default_guest_start_time: str | None = None
    default_guest_end_time: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteLockLocation:
    """A location: what the integration maps to a Kasify property."""

    id: str
    name: str
    time_zone: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteLockLock:
    """A lock device. ``state`` is the raw upstream value, ``status`` its vendor-neutral reading.

    Secrets the device carries (``programming_code``, ``local_pins``) are never read.
    """

    id: str
    name: str
    type: str
    status: LockStatus
    state: str | None = None
    battery_level: int | None = None
    power_source: str | None = None
    connected: bool | None = None
    alive: bool | None = None
    connected_at: datetime | None = None
    location_id: str | None = None
    model_id: str | None = None
    model_number: str | None = None
    serial_number: str | None = None
    signal_quality: int | None = None

    @property
    def can_lock(self) -> bool:
        """Whether ``PUT /devices/{id}/lock|unlock`` applies to this device type."""
        return self.type in LOCK_TYPES

    @property
    def device_key(self) -> str:
        """The lock device's identifier ``remotelock_<device id>`` (DESIGN.md)."""
        return f"remotelock_{self.id}"


@dataclass(frozen=True, slots=True)
class RemoteLockEvent:
    """One event (polled from ``GET /events`` or pushed by a webhook). PINs and card numbers are dropped.

    ``type`` is the event name without the ``_event`` suffix (``unlocked``, ``access_person_used``, ...).
    ``lock_id`` is the device the event is about, whichever side (publisher or associated resource) it is
    on; ``access_person_id`` likewise names the code's owner.
    """

    id: str
    type: str
    occurred_at: datetime
    created_at: datetime | None = None
    lock_id: str | None = None
    status: str | None = None
    source: str | None = None
    method: str | None = None
    access_person_id: str | None = None
    access_person_type: str | None = None
    associated_name: str | None = None
    power_level: int | None = None
    time_zone: str | None = None
    status_info: str | None = None


@dataclass(frozen=True, slots=True)
class EventBatch:
    """New events, oldest first (ties in the order they were recorded), each id once.

    ``cursor`` is the id of the newest event the API has (by creation): pass it as ``since_id`` next time.
    ``complete`` is false when ``max_pages`` ran out before reaching ``since_id`` or the time bound, i.e. some
    events in between may have been skipped.
    """

    events: tuple[RemoteLockEvent, ...]
    cursor: str | None
    complete: bool


@dataclass(frozen=True, slots=True)
class RemoteLockAccessPerson:
    """An access guest (timed) or access user (permanent).

    ``starts_at``/``ends_at`` are naive: the lock's local time, as the API keeps them. ``pin`` is only filled
    in on the value :meth:`RemoteLockClient.create_access_guest` returns (so a generated PIN can be handed to
    the caller once); it is left out of ``repr`` and comparisons, and lists never carry it.
    """

    id: str
    type: str
    name: str
    status: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    created_at: datetime | None = None
    pin: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class RemoteLockAccess:
    """An access grant of an access person to a lock (or door group, location, ...), with its sync counts."""

    id: str
    access_person_id: str | None
    access_person_type: str | None
    accessible_id: str | None
    accessible_type: str | None
    devices_count: int = 0
    devices_synced_count: int = 0
    devices_pending_sync_count: int = 0
    devices_failed_sync_count: int = 0
    guest_start_time: str | None = None
    guest_end_time: str | None = None

    @property
    def sync_status(self) -> str:
        """``failed`` when any device failed, ``pending`` while any waits, else ``synced``."""
        if self.devices_failed_sync_count:
            return "failed"
        if self.devices_pending_sync_count:
            return "pending"
        return "synced"


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    """A webhook set up by :meth:`RemoteLockClient.create_webhook`: keep both ids to remove it again."""

    subscriber_id: str
    subscription_id: str


# --- parsing ------------------------------------------------------------------------------------------------


def _resource(item: Reader) -> tuple[Reader, Reader]:
    """A resource and its ``attributes`` (an empty reader when absent)."""
    attrs = item.opt_object("attributes")
    return item, attrs if attrs is not None else Reader({}, "attributes")


def _local_time(r: Reader, key: str) -> datetime | None:
    """A lock-local timestamp: kept naive; an offset, if one is sent, is dropped (the wall time is kept)."""
    value = r.opt_str(key)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError as err:
        raise MalformedResponseError(f"{key}: not an ISO-8601 date-time: {value!r}") from err


def parse_user(item: Reader) -> RemoteLockUser:
    """Parse ``GET /user``'s ``data``."""
    item, attrs = _resource(item)
    return RemoteLockUser(
        id=item.str("id"),
        name=attrs.opt_str("name") or attrs.opt_str("handle") or item.str("id"),
        handle=attrs.opt_str("handle"),
        primary_account_id=attrs.opt_str("primary_account_id"),
        default_account_id=attrs.opt_str("default_account_id"),
    )


def parse_account(item: Reader) -> RemoteLockAccount:
    """Parse ``GET /account``'s ``data``."""
    item, attrs = _resource(item)
    return RemoteLockAccount(
        id=item.str("id"),
        name=attrs.opt_str("name") or item.str("id"),
        default_guest_start_time=attrs.opt_str("default_guest_start_time"),
        default_guest_end_time=attrs.opt_str("default_guest_end_time"),
    )


def parse_location(item: Reader) -> RemoteLockLocation:
    """Parse a location resource."""
    item, attrs = _resource(item)
    return RemoteLockLocation(
        id=item.str("id"),
        name=attrs.opt_str("name") or "",
        time_zone=attrs.opt_str("time_zone"),
        address=attrs.opt_str("address"),
        city=attrs.opt_str("city"),
        state=attrs.opt_str("state"),
        postal_code=attrs.opt_str("postal_code"),
        country=attrs.opt_str("country"),
    )


def lock_status(state: str | None) -> LockStatus:
    """Map a RemoteLock ``state`` to a :class:`LockStatus` (anything unknown, or none, is UNKNOWN)."""
    return _LOCK_STATES.get(state or "", LockStatus.UNKNOWN)


def parse_lock(item: Reader) -> RemoteLockLock:
    """Parse a device resource as a lock."""
    item, attrs = _resource(item)
    state = attrs.opt_str("state")
    return RemoteLockLock(
        id=item.str("id"),
        name=attrs.opt_str("name") or "",
        type=item.opt_str("type") or "",
        status=lock_status(state),
        state=state,
        battery_level=attrs.opt_int("power_level"),
        power_source=attrs.opt_str("power_source"),
        connected=attrs.opt_bool("connected"),
        alive=attrs.opt_bool("alive"),
        connected_at=attrs.opt_datetime("connected_at"),
        location_id=attrs.opt_str("location_id"),
        model_id=attrs.opt_str("model_id"),
        model_number=attrs.opt_str("model_number"),
        serial_number=attrs.opt_str("serial_number"),
        signal_quality=attrs.opt_int("signal_quality"),
    )


def parse_event(item: Reader) -> RemoteLockEvent:
    """Parse an event resource; ``pin``, ``card`` and ``smart_card_serial_number`` are not read."""
    item, attrs = _resource(item)
    kind = item.str("type").removesuffix("_event")
    publisher_id, publisher_type = attrs.opt_str("publisher_id"), attrs.opt_str("publisher_type")
    associated_id = attrs.opt_str("associated_resource_id")
    associated_type = attrs.opt_str("associated_resource_type")
    lock_id: str | None = None
    person_id: str | None = None
    person_type: str | None = None
    for resource_id, resource_type in ((publisher_id, publisher_type), (associated_id, associated_type)):
        if resource_type in DEVICE_TYPES and lock_id is None:
            lock_id = resource_id
        elif resource_type in ACCESS_PERSON_TYPES and person_id is None:
            person_id, person_type = resource_id, resource_type
    return RemoteLockEvent(
        id=item.str("id"),
        type=kind,
        occurred_at=attrs.datetime("occurred_at"),
        created_at=attrs.opt_datetime("created_at"),
        lock_id=lock_id,
        status=attrs.opt_str("status"),
        source=attrs.opt_str("source"),
        method=attrs.opt_str("method"),
        access_person_id=person_id,
        access_person_type=person_type,
        associated_name=attrs.opt_str("associated_resource_name"),
        power_level=attrs.opt_int("power_level"),
        time_zone=attrs.opt_str("time_zone"),
        status_info=attrs.opt_str("status_info"),
    )


def parse_access_person(item: Reader, *, keep_pin: bool = False) -> RemoteLockAccessPerson:
    """Parse an access person; the PIN only with ``keep_pin``."""
    item, attrs = _resource(item)
    return RemoteLockAccessPerson(
        id=item.str("id"),
        type=item.opt_str("type") or "",
        name=attrs.opt_str("name") or "",
        status=attrs.opt_str("status"),
        starts_at=_local_time(attrs, "starts_at"),
        ends_at=_local_time(attrs, "ends_at"),
        created_at=attrs.opt_datetime("created_at"),
        pin=attrs.opt_str("pin") if keep_pin else None,
    )


def parse_access(item: Reader) -> RemoteLockAccess:
    """Parse an ``access_person_access`` resource."""
    item, attrs = _resource(item)
    return RemoteLockAccess(
        id=item.str("id"),
        access_person_id=attrs.opt_str("access_person_id"),
        access_person_type=attrs.opt_str("access_person_type"),
        accessible_id=attrs.opt_str("accessible_id"),
        accessible_type=attrs.opt_str("accessible_type"),
        devices_count=attrs.int("devices_count", 0),
        devices_synced_count=attrs.int("devices_synced_count", 0),
        devices_pending_sync_count=attrs.int("devices_pending_sync_count", 0),
        devices_failed_sync_count=attrs.int("devices_failed_sync_count", 0),
        guest_start_time=attrs.opt_str("guest_start_time"),
        guest_end_time=attrs.opt_str("guest_end_time"),
    )


def parse_webhook_event(payload: Any) -> RemoteLockEvent:
    """Parse a webhook body (``{"data": {...event...}}``, JSON content type) into the same event as polling.

    Raises:
        MalformedResponseError: When the payload is not an event.
    """
    data = Reader(payload, "webhook").opt_object("data")
    if data is None:
        raise MalformedResponseError("webhook.data: missing")
    return parse_event(data)


def webhook_secret_matches(received: str | None, expected: str) -> bool:
    """Whether a webhook's ``X-Secret`` header equals the configured secret (constant-time compare)."""
    if received is None or not expected:
        return False
    return hmac.compare_digest(received.encode(), expected.encode())


def _local_iso(value: datetime, zone: tzinfo | None) -> str:
    """Format an instant as the lock-local, zone-less ISO-8601 text of ``starts_at``/``ends_at``.

    Raises:
        ValueError: When ``value`` is aware but no ``zone`` was given to convert it to.
    """
    if value.tzinfo is not None:
        if zone is None:
            raise ValueError("an aware datetime needs the lock's time zone to be sent as lock-local time")
        value = value.astimezone(zone)
    return value.replace(tzinfo=None, microsecond=0).isoformat(timespec="seconds")


# --- OAuth2 -------------------------------------------------------------------------------------------------


def token_url(oauth_url: str = DEFAULT_OAUTH_URL) -> str:
    """The token endpoint under an OAuth base URL."""
    return oauth_url.rstrip("/") + TOKEN_PATH


@dataclass(frozen=True, slots=True)
class OAuthToken:
    """An OAuth2 token; ``expires_at`` is in epoch seconds (``None``: the server gave no lifetime)."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"  # noqa: S105 - the token kind, not a secret
    expires_at: float | None = None
    refresh_token: str | None = field(default=None, repr=False)

    def expired(self, now: float, leeway: float = TOKEN_LEEWAY) -> bool:
        """Whether the token is expired, or will be within ``leeway`` seconds of ``now``."""
        return self.expires_at is not None and now + leeway >= self.expires_at

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], now: float) -> OAuthToken:
        """Read a token response, or a stored token (``expires_at`` wins over ``expires_in``).

        Raises:
            MalformedResponseError: When there is no access token or a field has the wrong type.
        """
        r = Reader(data, "token")
        expires_at: float | None = None
        raw_at, raw_in = data.get("expires_at"), data.get("expires_in")
        if isinstance(raw_at, int | float) and not isinstance(raw_at, bool):
            expires_at = float(raw_at)
        elif isinstance(raw_in, int | float) and not isinstance(raw_in, bool):
            expires_at = now + float(raw_in)
        elif raw_in is not None or raw_at is not None:
            raise MalformedResponseError("token.expires_in: expected a number")
        return cls(
            access_token=r.str("access_token"),
            token_type=r.opt_str("token_type") or "Bearer",
            expires_at=expires_at,
            refresh_token=r.opt_str("refresh_token"),
        )


async def request_token(
    session: aiohttp.ClientSession,
    url: str,
    form: Mapping[str, str],
    *,
    clock: Callable[[], float] = time.time,
    http_timeout: float = DEFAULT_TIMEOUT,
) -> OAuthToken:
    """``POST`` a form-encoded grant to the token endpoint and return the token.

    Raises:
        OAuthGrantError: 400/401 (``invalid_grant``, ``invalid_client``, ...): the credentials or the grant
            are refused; the user has to authorize again.
        RateLimitedError: 429.
        ServerError: 5xx.
        ApiConnectionError: The endpoint could not be reached in time.
        MalformedResponseError: The answer is not a token.
    """
    secrets = tuple(form.get(key) for key in ("client_secret", "refresh_token", "code"))
    transport = HttpTransport(
        session, timeout=http_timeout, error_for=_token_error, headers={"Accept": "application/json"}
    )
    request = Request("POST", url, f"POST {TOKEN_PATH}", form=dict(form), secrets=secrets)
    response = await transport.send(request)
    body = transport.decode_json(request, response)
    if not isinstance(body, Mapping):
        raise MalformedResponseError(f"{request.where}: expected an object", status=response.status)
    return OAuthToken.from_dict(body, clock())


def _token_error(status: int, text: str, headers: Mapping[str, str], where: str) -> KasifyApiError:
    body = json_object(text) or {}
    code = str(body["error"]) if body.get("error") else None
    description = str(body["error_description"]) if body.get("error_description") else None
    detail = ": ".join(part for part in (code, description) if part)
    summary = error_summary(where, status, detail)
    if status in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
        return OAuthGrantError(summary, status=status, error=code)
    return error_for_status(status, summary, headers)


async def exchange_authorization_code(
    session: aiohttp.ClientSession,
    url: str,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    clock: Callable[[], float] = time.time,
) -> OAuthToken:
    """The authorization-code grant: trade the code from the redirect for access and refresh tokens."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return await request_token(session, url, form, clock=clock)


async def refresh_token_grant(
    session: aiohttp.ClientSession,
    url: str,
    *,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    clock: Callable[[], float] = time.time,
) -> OAuthToken:
    """The refresh-token grant. The answer carries a **new** refresh token; the one sent is now invalid.

    When the server sends no refresh token (not what RemoteLock does), the one sent is kept (RFC 6749 §6).
    """
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    token = await request_token(session, url, form, clock=clock)
    return token if token.refresh_token else replace(token, refresh_token=refresh_token)


async def client_credentials_grant(
    session: aiohttp.ClientSession,
    url: str,
    *,
    client_id: str,
    client_secret: str,
    clock: Callable[[], float] = time.time,
) -> OAuthToken:
    """The client-credentials grant (the application owner's own account; no refresh token)."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    return await request_token(session, url, form, clock=clock)


@runtime_checkable
class TokenSource(Protocol):
    """Where a :class:`RemoteLockClient` gets its bearer token."""

    async def access_token(self) -> str:
        """A token that is valid now, as far as the source knows (renewing it first when it has expired)."""

    async def refresh_access_token(self, rejected: str) -> str:
        """A token other than ``rejected``, which the API just refused with 403 (renew it if need be)."""


class CallbackTokenSource:
    """A :class:`TokenSource` over callables, e.g. Home Assistant's ``OAuth2Session``.

    ``get`` returns a valid token (``async_ensure_token_valid()``, then ``token["access_token"]``);
    ``refresh``, when given, forces a renewal after a 403. Without it the client asks ``get`` again and
    retries only if the token changed.
    """

    def __init__(
        self, get: Callable[[], Awaitable[str]], refresh: Callable[[], Awaitable[str]] | None = None
    ) -> None:
        """Wrap the callables."""
        self._get = get
        self._refresh = refresh

    async def access_token(self) -> str:
        """Ask ``get``."""
        return await self._get()

    async def refresh_access_token(self, rejected: str) -> str:
        """Ask ``refresh`` (or ``get`` again)."""
        return await (self._refresh or self._get)()


class _GrantTokenSource(ABC):
    """A cached token renewed by a grant: once, however many requests need it at the same time."""

    def __init__(self, clock: Callable[[], float], leeway: float, token: OAuthToken | None = None) -> None:
        self._clock = clock
        self._leeway = leeway
        self._tokens = SingleFlightToken(
            self._renew, secret=lambda token: token.access_token, fresh=self._usable, value=token
        )

    @property
    def token(self) -> OAuthToken | None:
        """The current token (``None`` before the first request)."""
        return self._tokens.value

    def _usable(self, token: OAuthToken) -> bool:
        return not token.expired(self._clock(), self._leeway)

    @abstractmethod
    async def _renew(self, current: OAuthToken | None) -> OAuthToken:
        """Obtain a new token by this source's grant."""

    async def access_token(self) -> str:
        """The cached token, renewed first when it is (about to be) expired."""
        return (await self._tokens.get()).access_token

    async def refresh_access_token(self, rejected: str) -> str:
        """Renew the token, unless another request already replaced ``rejected``."""
        return (await self._tokens.renew(rejected)).access_token


class ClientCredentialsAuth(_GrantTokenSource):
    """Tokens from the client-credentials grant, requested anew when they expire (no refresh token)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        leeway: float = TOKEN_LEEWAY,
    ) -> None:
        """Request tokens from ``token_url`` for the application ``client_id``."""
        super().__init__(clock, leeway)
        self._session = session
        self._url = token_url
        self._client_id = client_id
        self._client_secret = client_secret

    async def _renew(self, current: OAuthToken | None) -> OAuthToken:
        return await client_credentials_grant(
            self._session,
            self._url,
            client_id=self._client_id,
            client_secret=self._client_secret,
            clock=self._clock,
        )


class RefreshTokenAuth(_GrantTokenSource):
    """Tokens from the authorization-code grant, renewed with the rotating refresh token.

    Each renewal yields a new refresh token and invalidates the old one, so ``on_new_token`` is awaited with
    the new token **before** it replaces the old one here: persist it there (Home Assistant: update the
    config entry). If ``on_new_token`` raises, the new token is still used (the old refresh token is dead
    upstream) and the error is raised to the caller.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token_url: str,
        client_id: str,
        client_secret: str,
        token: OAuthToken,
        *,
        on_new_token: Callable[[OAuthToken], Awaitable[None]],
        clock: Callable[[], float] = time.time,
        leeway: float = TOKEN_LEEWAY,
    ) -> None:
        """Start from ``token`` (from the code exchange, or as stored)."""
        super().__init__(clock, leeway, token)
        self._session = session
        self._url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._on_new_token = on_new_token

    async def _renew(self, current: OAuthToken | None) -> OAuthToken:
        if current is None or not current.refresh_token:
            raise OAuthGrantError("No refresh token to renew the access token with", error="invalid_grant")
        token = await refresh_token_grant(
            self._session,
            self._url,
            client_id=self._client_id,
            client_secret=self._client_secret,
            refresh_token=current.refresh_token,
            clock=self._clock,
        )
        try:
            await self._on_new_token(token)
        except BaseException:
            self._tokens.store(token)  # the old refresh token is dead upstream: keep the new one anyway
            raise
        return token


# --- client -------------------------------------------------------------------------------------------------

type Query = list[tuple[str, str | int]]


class RemoteLockClient:
    """RemoteLock API v1 client for one account.

    Every request waits on the account's :class:`SlidingWindowLimiter` first (one is created per client unless
    one is passed in to share). A 403 renews the token through the :class:`TokenSource` and retries once.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        auth: TokenSource | Callable[[], Awaitable[str]],
        *,
        base_url: str = DEFAULT_API_URL,
        limiter: SlidingWindowLimiter | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """Use ``session`` (not owned) against ``base_url``; ``auth`` is a token source or an async getter.

        ``wall_clock`` (epoch seconds) turns ``X-RateLimit-Reset`` into a wait.
        """
        self._auth: TokenSource = auth if isinstance(auth, TokenSource) else CallbackTokenSource(auth)
        self._base_url = base_url.rstrip("/")
        self._http = HttpTransport(
            session, timeout=timeout, error_for=self._error_for, headers={"Accept": ACCEPT}
        )
        self._wall_clock = wall_clock
        self.limiter = limiter if limiter is not None else SlidingWindowLimiter(RATE_LIMIT, RATE_WINDOW)
        self.rate_limit_remaining: int | None = None
        """``X-RateLimit-Remaining`` of the last answer (``None`` before the first)."""

    @property
    def base_url(self) -> str:
        """The API root the client talks to."""
        return self._base_url

    # -- transport -------------------------------------------------------------------------------------------

    async def _send(self, request: Request) -> Response:
        """One request after the limiter let it through; the limiter learns from the rate-limit headers."""
        await self.limiter.acquire()
        response = await self._http.send(request)
        remaining = _header_int(response.headers, "X-RateLimit-Remaining")
        if remaining is not None:
            self.rate_limit_remaining = remaining
        reset_after = self._reset_after(response.headers)
        if response.status == HTTPStatus.TOO_MANY_REQUESTS:
            self.limiter.pause_for(reset_after if reset_after is not None else self.limiter.window)
        else:
            self.limiter.observe(remaining, reset_after)
        return response

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        json_body: Any = None,
        secrets: Sequence[str] = (),
    ) -> Any:
        """Perform one request (two when a 403 made the token be renewed) and decode the JSON answer."""
        request = Request(
            method,
            f"{self._base_url}{path}",
            f"{method} {path}",
            params=params,
            json=json_body,
            secrets=(*secrets,),
        )
        token = await self._auth.access_token()
        request = _bearer(request, token)
        response = await self._send(request)
        if response.status == HTTPStatus.FORBIDDEN:
            fresh = await self._auth.refresh_access_token(token)
            if fresh != token:
                request = _bearer(request, fresh)
                response = await self._send(request)
        return self._http.decode_json(request, response)

    def _error_for(self, status: int, text: str, headers: Mapping[str, str], where: str) -> KasifyApiError:
        return _error_for(status, text, headers, where, self._reset_after(headers))

    def _reset_after(self, headers: Mapping[str, str]) -> float | None:
        """Seconds until the rate-limit window resets (``X-RateLimit-Reset``, else ``Retry-After``)."""
        reset = _header_float(headers, "X-RateLimit-Reset")
        if reset is None:
            return retry_after_seconds(headers)
        wait = reset if reset < _EPOCH_CUTOFF else reset - self._wall_clock()
        return min(max(0.0, wait), MAX_RESET_WAIT)

    async def _data(self, method: str, path: str, **kwargs: Any) -> Reader:
        """The ``data`` object of a single-resource answer."""
        where = f"{method} {path}"
        body = Reader(await self._request(method, path, **kwargs), where)
        data = body.opt_object("data")
        if data is None:
            raise MalformedResponseError(f"{where}.data: missing")
        return data

    async def _collect[T](
        self, path: str, parse: Callable[[Reader], T], params: Query | None = None
    ) -> list[T]:
        """Every item of a collection: pages of 50 until ``meta.total_pages`` (or a short page)."""
        items: list[T] = []
        page = 1
        while True:
            query: Query = [*(params or ()), ("page", page), ("per_page", PER_PAGE)]
            body = Reader(await self._request("GET", path, params=query), f"GET {path}")
            data = body.objects("data", required=True)
            items.extend(parse(item) for item in data)
            meta = body.opt_object("meta")
            total_pages = meta.opt_int("total_pages") if meta is not None else None
            if (
                len(data) < PER_PAGE
                or (total_pages is not None and page >= total_pages)
                or (page + 1) * PER_PAGE > MAX_RESULTS
            ):
                return items
            page += 1

    # -- user, account, locations ----------------------------------------------------------------------------

    async def get_user(self) -> RemoteLockUser:
        """``GET /user`` — the signed-in user; ``.account_id`` is the config entry's unique id (1 request)."""
        return parse_user(await self._data("GET", Paths.USER))

    async def get_account(self) -> RemoteLockAccount:
        """``GET /account`` — the current account (1 request)."""
        return parse_account(await self._data("GET", Paths.ACCOUNT))

    async def list_locations(self) -> list[RemoteLockLocation]:
        """``GET /locations`` — every location, all pages."""
        return await self._collect(Paths.LOCATIONS, parse_location)

    # -- locks -----------------------------------------------------------------------------------------------

    async def list_locks(self, types: Sequence[str] = LOCK_TYPES) -> list[RemoteLockLock]:
        """``GET /devices?type[]=lock&…`` — every lock of the account: ``ceil(locks / 50)`` requests.

        Devices of other types are dropped even if the server ignored the filter.
        """
        params: Query = [("type[]", kind) for kind in types]
        devices = await self._collect(Paths.DEVICES, parse_lock, params)
        return [lock for lock in devices if lock.type in types]

    async def get_lock(self, lock_id: str) -> RemoteLockLock:
        """``GET /devices/{id}`` (1 request)."""
        return parse_lock(await self._data("GET", Paths.device(lock_id)))

    async def lock(self, lock_id: str) -> RemoteLockLock:
        """``PUT /devices/{id}/lock`` → the device as it is now (1 request)."""
        return parse_lock(await self._data("PUT", Paths.lock(lock_id)))

    async def unlock(self, lock_id: str) -> RemoteLockLock:
        """``PUT /devices/{id}/unlock`` → the device as it is now (1 request)."""
        return parse_lock(await self._data("PUT", Paths.unlock(lock_id)))

    # -- events ----------------------------------------------------------------------------------------------

    async def list_events(
        self,
        *,
        since_id: str | None = None,
        occurred_after: datetime | None = None,
        max_pages: int = 4,
    ) -> EventBatch:
        """``GET /events?sort=-created_at`` — events newer than ``since_id`` and after ``occurred_after``.

        Pages are read newest first (by creation, so a lock that syncs its log late is not missed) until the
        event ``since_id`` is met, or one created before ``occurred_after``, or ``max_pages`` pages were read.
        Usually 1 request. Without either bound, one page: use it to learn the ``cursor`` on first start.
        """
        collected: dict[str, RemoteLockEvent] = {}
        cursor: str | None = None
        complete = False
        pages = max_pages if (since_id is not None or occurred_after is not None) else 1
        for page in range(1, max(1, pages) + 1):
            query: Query = [("sort", "-created_at"), ("page", page), ("per_page", PER_PAGE)]
            body = Reader(await self._request("GET", Paths.EVENTS, params=query), "GET /events")
            data = body.objects("data", required=True)
            for item in data:
                event = parse_event(item)
                cursor = cursor or event.id
                if event.id == since_id or (
                    occurred_after is not None
                    and event.created_at is not None
                    and event.created_at < occurred_after
                ):
                    complete = True
                    break
                if occurred_after is None or event.occurred_at > occurred_after:
                    collected.setdefault(event.id, event)
            meta = body.opt_object("meta")
            total_pages = meta.opt_int("total_pages") if meta is not None else None
            if complete or len(data) < PER_PAGE or (total_pages is not None and page >= total_pages):
                complete = True
                break
        # The feed is newest-created first, so reversed it is creation order; the stable sort keeps that
        # order among events that occurred at the same instant.
        created_order = list(collected.values())[::-1]
        events = tuple(sorted(created_order, key=lambda e: e.occurred_at))
        return EventBatch(events=events, cursor=cursor or since_id, complete=complete)

    # -- access guests ---------------------------------------------------------------------------------------

    async def create_access_guest(
        self,
        name: str,
        starts_at: datetime,
        ends_at: datetime,
        *,
        pin: str | None = None,
        generate_pin: bool = False,
        email: str | None = None,
        time_zone: tzinfo | None = None,
    ) -> RemoteLockAccessPerson:
        """``POST /access_persons`` (type ``access_guest``) → the guest, with its PIN (1 request).

        ``starts_at``/``ends_at`` are sent in lock-local time: naive values as they are, aware ones converted
        to ``time_zone`` (the lock's location's zone). Give ``pin`` or ``generate_pin=True``.

        Raises:
            ValueError: Neither or both of ``pin`` and ``generate_pin``; an aware time without ``time_zone``;
                ``ends_at`` not after ``starts_at``.
        """
        if (pin is None) == (not generate_pin):
            raise ValueError("give either pin or generate_pin=True")
        start, end = _local_iso(starts_at, time_zone), _local_iso(ends_at, time_zone)
        if end <= start:
            raise ValueError("ends_at must be after starts_at")
        attributes: dict[str, Any] = {"name": name, "starts_at": start, "ends_at": end}
        if pin is not None:
            attributes["pin"] = pin
        else:
            attributes["generate_pin"] = True
        if email is not None:
            attributes["email"] = email
        body = {"type": "access_guest", "attributes": attributes}
        data = await self._data("POST", Paths.ACCESS_PERSONS, json_body=body)
        return parse_access_person(data, keep_pin=True)

    async def update_access_guest(
        self,
        person_id: str,
        *,
        name: str | None = None,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        time_zone: tzinfo | None = None,
    ) -> RemoteLockAccessPerson:
        """``PUT /access_persons/{id}`` — change the name or the stay (lock-local, as for create)."""
        attributes: dict[str, Any] = {}
        if name is not None:
            attributes["name"] = name
        if starts_at is not None:
            attributes["starts_at"] = _local_iso(starts_at, time_zone)
        if ends_at is not None:
            attributes["ends_at"] = _local_iso(ends_at, time_zone)
        data = await self._data("PUT", Paths.access_person(person_id), json_body={"attributes": attributes})
        return parse_access_person(data)

    async def get_access_person(self, person_id: str) -> RemoteLockAccessPerson:
        """``GET /access_persons/{id}`` (1 request)."""
        return parse_access_person(await self._data("GET", Paths.access_person(person_id)))

    async def list_access_guests(self, statuses: Sequence[str] | None = None) -> list[RemoteLockAccessPerson]:
        """``GET /access_persons?type=access_guest`` — current and upcoming (or ``statuses``), all pages."""
        params: Query = [("type", "access_guest")]
        params += [("attributes[status][]", status) for status in statuses or ()]
        return await self._collect(Paths.ACCESS_PERSONS, parse_access_person, params)

    async def deactivate_access_person(self, person_id: str) -> RemoteLockAccessPerson:
        """``PUT /access_persons/{id}/deactivate`` — revoke everywhere but keep the history (recommended)."""
        return parse_access_person(await self._data("PUT", Paths.deactivate(person_id)))

    async def delete_access_person(self, person_id: str) -> None:
        """``DELETE /access_persons/{id}`` — gone for good (prefer :meth:`deactivate_access_person`)."""
        await self._request("DELETE", Paths.access_person(person_id))

    async def grant_access(
        self,
        person_id: str,
        accessible_id: str,
        *,
        accessible_type: str = "lock",
        guest_start_time: dt_time | None = None,
        guest_end_time: dt_time | None = None,
    ) -> RemoteLockAccess:
        """``POST /access_persons/{id}/accesses`` — let the person open a lock (syncs when it wakes up)."""
        attributes: dict[str, Any] = {"accessible_id": accessible_id, "accessible_type": accessible_type}
        if guest_start_time is not None:
            attributes["guest_start_time"] = guest_start_time.strftime("%H:%M")
        if guest_end_time is not None:
            attributes["guest_end_time"] = guest_end_time.strftime("%H:%M")
        data = await self._data("POST", Paths.accesses(person_id), json_body={"attributes": attributes})
        return parse_access(data)

    async def list_accesses(self, person_id: str) -> list[RemoteLockAccess]:
        """``GET /access_persons/{id}/accesses`` — all pages."""
        return await self._collect(Paths.accesses(person_id), parse_access)

    async def get_access(self, person_id: str, access_id: str) -> RemoteLockAccess:
        """``GET /access_persons/{id}/accesses/{access_id}`` — e.g. to watch the sync counts (1 request)."""
        return parse_access(await self._data("GET", Paths.access(person_id, access_id)))

    async def revoke_access(self, person_id: str, access_id: str) -> None:
        """``DELETE /access_persons/{id}/accesses/{access_id}`` → 204."""
        await self._request("DELETE", Paths.access(person_id, access_id))

    async def list_lock_accesses(
        self, lock_id: str, access_person_type: str | None = "access_guest"
    ) -> list[RemoteLockAccess]:
        """``GET /devices/{id}/access_person_accesses`` — the grants that reach a lock, all pages."""
        params: Query = []
        if access_person_type is not None:
            params.append(("attributes[access_person_type]", access_person_type))
        return await self._collect(Paths.device_accesses(lock_id), parse_access, params)

    # -- webhooks --------------------------------------------------------------------------------------------

    async def create_webhook(
        self,
        *,
        name: str,
        url: str,
        secret: str,
        publisher_id: str,
        events: Sequence[str] = WEBHOOK_EVENTS,
    ) -> WebhookSubscription:
        """Have RemoteLock POST ``events`` of the account ``publisher_id`` to ``url`` (2 requests).

        ``POST /notification_subscribers`` (an active ``webhook_notification_subscriber``, JSON content type,
        ``secret`` sent back as ``X-Secret``), then ``POST /notification_subscriptions`` tying it to the
        ``account`` publisher. If the subscription is refused, the subscriber is deleted again (best effort)
        and the subscription's error is raised: nothing is left half set up. ``secret`` never appears in an
        exception's message or fields.

        Raises:
            ValidationError: 422, e.g. ``fields["url"]`` for a URL that is not HTTPS, or an event type the
                publisher does not have.
            KasifyApiError: Any other failure, mapped as for every request.
        """
        subscriber_body = {
            "type": WEBHOOK_SUBSCRIBER_TYPE,
            "attributes": {
                "active": True,
                "name": name,
                "url": url,
                "content_type": "json",
                "secret": secret,
            },
        }
        subscriber = await self._data(
            "POST", Paths.NOTIFICATION_SUBSCRIBERS, json_body=subscriber_body, secrets=(secret,)
        )
        subscriber_id = subscriber.str("id")
        subscription_body = {
            "attributes": {
                "events": [{"event_type": event} for event in events],
                "publisher_type": "account",
                "publisher_id": publisher_id,
                "subscriber_type": WEBHOOK_SUBSCRIBER_TYPE,
                "subscriber_id": subscriber_id,
            }
        }
        try:
            subscription = await self._data(
                "POST", Paths.NOTIFICATION_SUBSCRIPTIONS, json_body=subscription_body, secrets=(secret,)
            )
            subscription_id = subscription.str("id")
        except KasifyApiError:
            with contextlib.suppress(KasifyApiError):
                await self._request("DELETE", Paths.notification_subscriber(subscriber_id))
            raise
        return WebhookSubscription(subscriber_id=subscriber_id, subscription_id=subscription_id)

    async def delete_webhook(self, webhook: WebhookSubscription) -> None:
        """Remove a webhook: ``DELETE`` its subscription, then its subscriber (2 requests; 404: gone).

        Raises:
            KasifyApiError: Any failure other than 404, mapped as for every request.
        """
        for path in (
            Paths.notification_subscription(webhook.subscription_id),
            Paths.notification_subscriber(webhook.subscriber_id),
        ):
            with contextlib.suppress(NotFoundError):
                await self._request("DELETE", path)


# --- errors -------------------------------------------------------------------------------------------------


def _bearer(request: Request, token: str) -> Request:
    """``request`` sent with the bearer ``token`` (one more secret to keep out of its errors)."""
    headers = {**request.headers, "Authorization": f"Bearer {token}"}
    return replace(request, headers=headers, secrets=(*request.secrets, token))


def _header_float(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    number = _header_float(headers, name)
    return None if number is None else int(number)


def _error_for(
    status: int, text: str, headers: Mapping[str, str], where: str, retry_after: float | None
) -> KasifyApiError:
    """Map a RemoteLock error answer to the shared hierarchy (see the module docstring)."""
    message, fields, error_type = _error_details(text)
    summary = error_summary(where, status, message)
    if status == HTTPStatus.UNAUTHORIZED:
        return PermissionDeniedError(summary, status=status)
    if status == HTTPStatus.PAYMENT_REQUIRED:
        return SubscriptionRequiredError(summary, status=status, error_type=error_type)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimitedError(summary, retry_after=retry_after, status=status)
    return error_for_status(status, summary, headers, fields)


def _error_details(text: str) -> tuple[str | None, dict[str, list[str]], str | None]:
    """``(message, fields, type)`` from a resource or general error body; nothing for HTML or empty bodies.

    The ``attributes`` echo of a resource error is never read: it repeats the request, PIN included.
    """
    body = json_object(text)
    if body is None:
        return None, {}, None
    errors = body.get("errors")
    if isinstance(errors, list):
        fields: dict[str, list[str]] = {}
        sentences: list[str] = []
        for error in errors:
            if not isinstance(error, Mapping):
                continue
            attribute = str(error.get("attribute") or "base")
            messages = [str(m) for m in error.get("messages") or () if m is not None]
            full = [str(m) for m in error.get("full_messages") or () if m is not None]
            fields.setdefault(attribute, []).extend(messages or full)
            sentences.extend(full or [f"{attribute} {m}" for m in messages])
        return ("; ".join(sentences) or None), fields, None
    message = body.get("message")
    error_type = body.get("type")
    parts = [str(part) for part in (message, f"({error_type})" if error_type else None) if part]
    return (" ".join(parts) or None), {}, (str(error_type) if error_type else None)
