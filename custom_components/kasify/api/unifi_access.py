"""UniFi Access developer API client (local controller, ``https://<host>:12445/api/v1/developer``).

Built on ``py-unifi-access`` (``unifi_access_api``, the client Home Assistant core uses): its
:class:`~unifi_access_api.UnifiAccessApiClient` performs the door calls (list, unlock, lock rules) and parses
them into its pydantic models, and its WebSocket models parse the push messages. Three things it lacks are
added here, without forking it:

- **Error detail.** The library turns every non-``SUCCESS`` envelope into one generic ``ApiError`` (the
  ``code`` is dropped), reads no ``Retry-After`` and insists on a ``data`` key that some calls (visitor PIN)
  do not send. Its single HTTP seam, ``_request``, is therefore routed through
  :meth:`UnifiAccessClient._call`, which maps status *and* envelope code into :mod:`.errors`, scrubs the token
  (and PINs) from messages and applies the TLS settings below.
- **TLS pinning.** The library accepts an ``ssl.SSLContext`` or verify on/off; a pinned certificate needs
  ``aiohttp.Fingerprint``. The library only forwards the value to aiohttp's ``ssl=`` argument, so the
  fingerprint is handed over as is (one ``cast`` for its narrower annotation).
- **Push that surfaces fatal errors, and visitors.** The library's WebSocket loop retries forever, also on a
  revoked token or a wrong certificate, logs every failed attempt as an error and fetches ``/devices`` on each
  connect. :meth:`UnifiAccessClient.listen` runs its own loop over the injected session (reconnect with
  backoff is done here: see there), reusing the library's message models. Visitors with PIN codes (timed
  access codes) are not in the library at all and are added over the same transport.

TLS: ``fingerprint`` (SHA-256 of the controller's certificate) wins over ``verify_ssl``: the chain is not
checked but the certificate must be exactly that one, else :class:`CertificateMismatchError`. With
``verify_ssl=True`` and no ``ssl_context`` the request uses aiohttp's ``ssl=True``, which verifies only if the
injected session does (Home Assistant's default ``async_get_clientsession(hass)`` does; the one made with
``verify_ssl=False`` does not): inject the default session, or pass ``ssl_context``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
import hashlib
from http import HTTPStatus
import inspect
import json
import logging
import math
import ssl
from typing import Any, Final, cast

import aiohttp
import pydantic
from unifi_access_api import (
    Door,
    DoorLockRelayStatus,
    DoorLockRule,
    DoorLockRuleStatus,
    DoorLockRuleType,
    DoorPositionStatus,
    UnifiAccessApiClient,
)
from unifi_access_api.const import DEVICE_NOTIFICATIONS_URL
from unifi_access_api.models.websocket import (
    LocationUpdateState,
    LocationUpdateV2,
    LogAdd,
    RemoteUnlock,
    V2DeviceUpdate,
    V2LocationState,
    V2LocationUpdate,
    create_from_unifi_dict,
)
from yarl import URL

from .errors import (
    ApiConnectionError,
    AuthError,
    BusyError,
    CertificateError,
    CertificateMismatchError,
    ConflictError,
    DeviceOfflineError,
    KasifyApiError,
    MalformedResponseError,
    MissingPermissionError,
    NotFoundError,
    NotSupportedError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from .http import (
    HttpTransport,
    Request,
    error_for_status,
    quote_segment,
    redact,
    redacting,
    retry_after_seconds,
)
from .models import LockStatus
from .parse import Reader

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT: Final = 12445
DEFAULT_TIMEOUT: Final = 10.0
API_ROOT: Final = "/api/v1/developer"
NOTIFICATIONS_PATH: Final = DEVICE_NOTIFICATIONS_URL
SUCCESS: Final = "SUCCESS"

# Envelope codes (APIS.md 2.1) and the exception each one means.
_AUTH_CODES: Final = frozenset({"CODE_AUTH_FAILED", "CODE_ACCESS_TOKEN_INVALID"})
_PERMISSION_CODES: Final = frozenset({"CODE_UNAUTHORIZED"})
_CODE_ERRORS: Final[dict[str, type[KasifyApiError]]] = {
    "CODE_RESOURCE_NOT_FOUND": NotFoundError,
    "CODE_NOT_EXISTS": NotFoundError,
    "CODE_DEVICE_DEVICE_NOT_FOUND": NotFoundError,
    "CODE_USER_ACCOUNT_NOT_EXIST": NotFoundError,
    "CODE_USER_WORKER_NOT_EXISTS": NotFoundError,
    "CODE_PARAMS_INVALID": ValidationError,
    "CODE_USER_EMAIL_ERROR": ValidationError,
    "CODE_CREDS_PIN_CODE_CREDS_LENGTH_INVALID": ValidationError,
    "CODE_CREDS_PIN_CODE_CREDS_ALREADY_EXIST": ConflictError,
    "CODE_USER_NAME_DUPLICATED": ConflictError,
    "CODE_DEVICE_WEBHOOK_ENDPOINT_DUPLICATED": ConflictError,
    "CODE_DEVICE_DEVICE_OFFLINE": DeviceOfflineError,
    "CODE_DEVICE_DEVICE_BUSY": BusyError,
    "CODE_OPERATION_FORBIDDEN": NotSupportedError,
    "CODE_DEVICE_API_NOT_SUPPORTED": NotSupportedError,
    "CODE_OTHERS_UID_ADOPTED_NOT_SUPPORTED": NotSupportedError,
    "CODE_SYSTEM_ERROR": ServerError,
}
_FIELD_OF_CODE: Final = {"CODE_CREDS_PIN_CODE_CREDS_LENGTH_INVALID": "pin_code"}

_UNLOCK_LOG_EVENT: Final = "access.door.unlock"
_VISIT_REASONS: Final = frozenset({"Interview", "Business", "Cooperation", "Others"})
_VISITOR_STATUSES: Final = {
    "1": "UPCOMING",
    "2": "VISITED",
    "3": "VISITING",
    "4": "CANCELLED",
    "5": "NO_VISIT",
    "6": "ACTIVE",
}


# --- models -------------------------------------------------------------------------------------


class LockRuleType(StrEnum):
    """Temporary lock rules of a door (``PUT/GET /doors/{id}/lock_rule``).

    ``SCHEDULE`` and ``NONE`` are only ever read; the others can be set (:data:`SETTABLE_LOCK_RULES`).
    """

    KEEP_LOCK = "keep_lock"
    KEEP_UNLOCK = "keep_unlock"
    CUSTOM = "custom"
    RESET = "reset"
    LOCK_EARLY = "lock_early"
    LOCK_NOW = "lock_now"
    SCHEDULE = "schedule"
    NONE = ""


SETTABLE_LOCK_RULES: Final = frozenset(
    {
        LockRuleType.KEEP_LOCK,
        LockRuleType.KEEP_UNLOCK,
        LockRuleType.CUSTOM,
        LockRuleType.RESET,
        LockRuleType.LOCK_EARLY,
        LockRuleType.LOCK_NOW,
    }
)


class DoorPosition(StrEnum):
    """What the door position sensor (DPS) reports."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class UnifiDoor:
    """A door of the controller, as one ``GET /doors`` item.

    Attributes:
        id: The door id (used for unlock; Kasify's ``unifi_smartlock.door_id``).
        name: Short name, e.g. "Main Door".
        full_name: Name with console and floor, e.g. "UNVR - 1F - Main Door" (``name`` when absent).
        floor_id: The floor the door is on, when given.
        status: The lock relay: ``lock`` → LOCKED, ``unlock`` → UNLOCKED.
        position: The DPS sensor: open or closed; ``None`` when the door has no sensor.
        is_bind_hub: Whether a hub drives the door, which remote unlock and lock rules need.
        supported_lock_rules: The rule types :meth:`UnifiAccessClient.set_lock_rule` can set on this door
            (all settable ones with a hub, none without). ``lock_early`` only acts during an unlock schedule.
    """

    id: str
    name: str
    full_name: str
    floor_id: str | None
    status: LockStatus
    position: DoorPosition | None
    is_bind_hub: bool
    supported_lock_rules: frozenset[LockRuleType]

    @property
    def can_unlock(self) -> bool:
        """Whether ``PUT /doors/{id}/unlock`` can work (the door is bound to a hub)."""
        return self.is_bind_hub

    @property
    def can_lock(self) -> bool:
        """Whether the door can be locked at once (the ``lock_now`` rule; the API has no lock endpoint)."""
        return LockRuleType.LOCK_NOW in self.supported_lock_rules

    @property
    def has_position_sensor(self) -> bool:
        """Whether the door reports open/closed."""
        return self.position is not None

    @property
    def device_key(self) -> str:
        """The lock device's identifier (DESIGN.md), the same as a Kasify ``SmartLock.device_key`` for it."""
        return f"unifi_{self.id}"


@dataclass(frozen=True, slots=True)
class LockRule:
    """The door's current temporary lock rule; ``ends_at`` is ``None`` when the API gave no end."""

    type: LockRuleType
    ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class VisitorResource:
    """A door or door group a visitor may open."""

    id: str
    type: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Visitor:
    """A visitor: the UniFi Access way to give someone a timed PIN code.

    ``has_pin`` says whether a PIN is assigned; the API never returns the PIN itself.
    """

    id: str
    first_name: str
    last_name: str
    status: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    resources: tuple[VisitorResource, ...]
    has_pin: bool

    @property
    def name(self) -> str:
        """First and last name, as the controller shows the visitor."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def door_ids(self) -> tuple[str, ...]:
        """The doors among the resources (door groups are not expanded)."""
        return tuple(resource.id for resource in self.resources if resource.type == "door")


class ActivityKind(StrEnum):
    """What happened at a door, for the lock activity event entity."""

    UNLOCKED = "unlocked"
    CODE_USED = "code_used"
    ACCESS_DENIED = "access_denied"


@dataclass(frozen=True, slots=True)
class DoorStateEvent:
    """A pushed change of a door's lock relay and/or position sensor.

    Only what the message carried is set: ``status`` is ``None`` when it said nothing about the lock, and
    ``position_reported`` tells whether ``position`` (``None`` = no sensor) came with it. Use :meth:`apply`.
    """

    door_id: str
    status: LockStatus | None
    position: DoorPosition | None
    position_reported: bool
    event: str

    def apply(self, door: UnifiDoor) -> UnifiDoor:
        """The door with this change applied (the same object when nothing changes)."""
        status = door.status if self.status is None else self.status
        position = self.position if self.position_reported else door.position
        if status == door.status and position == door.position:
            return door
        return replace(door, status=status, position=position)


@dataclass(frozen=True, slots=True)
class DoorActivityEvent:
    """Someone used a door: a remote unlock, a credential (``code_used`` for a PIN) or a refused attempt.

    ``actor`` is who the controller names (a visitor's or user's name; never a PIN); ``method`` the credential
    provider it reports (``PIN_CODE``, ``NFC``, ``REMOTE``, ...).
    """

    door_id: str
    kind: ActivityKind
    actor: str | None
    method: str | None
    at: datetime | None
    event: str


type UnifiEvent = DoorStateEvent | DoorActivityEvent
type EventCallback = Callable[[UnifiEvent], Awaitable[None] | None]
type Callback = Callable[[], Awaitable[None] | None]


# --- fingerprints -------------------------------------------------------------------------------


def normalize_fingerprint(value: str) -> str:
    """Normalise a SHA-256 certificate fingerprint to ``AA:BB:...`` (64 hex digits, any separators).

    Raises:
        ValueError: When it is not 32 bytes of hex.
    """
    digits = "".join(ch for ch in value if ch not in ": -").lower()
    if len(digits) != 64 or any(ch not in "0123456789abcdef" for ch in digits):
        raise ValueError("a SHA-256 fingerprint has 64 hex digits")
    return format_fingerprint(bytes.fromhex(digits))


def format_fingerprint(digest: bytes) -> str:
    """Format a digest as ``AA:BB:...``."""
    return ":".join(f"{byte:02X}" for byte in digest)


async def get_certificate_fingerprint(host: str, port: int = DEFAULT_PORT) -> str:
    """The SHA-256 fingerprint (``AA:BB:...``) of the certificate ``host:port`` presents, unverified.

    For a config flow to show it and let the user pin it (trust on first use: compare it with the one the
    controller's UI shows). Gives up after :data:`DEFAULT_TIMEOUT` seconds.

    Raises:
        ApiConnectionError: When no TLS connection can be made.
    """
    host = host.strip().removeprefix("[").removesuffix("]")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    where = f"TLS {host}:{port}"
    try:
        async with asyncio.timeout(DEFAULT_TIMEOUT):
            _reader, writer = await asyncio.open_connection(host, port, ssl=context)
    except TimeoutError as err:
        raise ApiConnectionError(f"{where}: timed out") from err
    except (OSError, ssl.SSLError) as err:
        raise ApiConnectionError(f"{where}: {err.__class__.__name__}: {err}") from err
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if not der:
        raise ApiConnectionError(f"{where}: the server presented no certificate")
    return format_fingerprint(hashlib.sha256(der).digest())


# --- parsing ------------------------------------------------------------------------------------

_RELAY: Final = {DoorLockRelayStatus.LOCK: LockStatus.LOCKED, DoorLockRelayStatus.UNLOCK: LockStatus.UNLOCKED}
_POSITION: Final = {DoorPositionStatus.OPEN: DoorPosition.OPEN, DoorPositionStatus.CLOSE: DoorPosition.CLOSED}
_WS_LOCK: Final = {
    "locked": LockStatus.LOCKED,
    "lock": LockStatus.LOCKED,
    "unlocked": LockStatus.UNLOCKED,
    "unlock": LockStatus.UNLOCKED,
}


def door_from_library(door: Door) -> UnifiDoor:
    """Our door from the library's ``Door`` model."""
    return UnifiDoor(
        id=door.id,
        name=door.name,
        full_name=door.full_name or door.name,
        floor_id=door.floor_id or None,
        status=_RELAY.get(door.door_lock_relay_status, LockStatus.UNKNOWN),
        position=_POSITION.get(door.door_position_status),
        is_bind_hub=door.is_bind_hub,
        supported_lock_rules=SETTABLE_LOCK_RULES if door.is_bind_hub else frozenset(),
    )


def _lock_rule(status: DoorLockRuleStatus) -> LockRule:
    ends = datetime.fromtimestamp(status.ended_time, UTC) if status.ended_time > 0 else None
    return LockRule(type=LockRuleType(status.type.value), ends_at=ends)


def _unix(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def parse_visitor(r: Reader) -> Visitor:
    """Parse a Visitor object (``POST/GET /visitors``)."""
    status = r.opt_str("status")
    pin = r.opt_object("pin_code")
    return Visitor(
        id=r.str("id"),
        first_name=r.opt_str("first_name") or "",
        last_name=r.opt_str("last_name") or "",
        status=_VISITOR_STATUSES.get(status, status) if status is not None else None,
        starts_at=_unix(r.opt_int("start_time")),
        ends_at=_unix(r.opt_int("end_time")),
        resources=tuple(
            VisitorResource(id=res.str("id"), type=res.opt_str("type") or "", name=res.opt_str("name"))
            for res in r.objects("resources")
        ),
        has_pin=pin is not None or bool(r.opt_str("pin_code_token")),
    )


def _state_event(
    door_id: str, state: LocationUpdateState | V2LocationState, event: str
) -> DoorStateEvent | None:
    """Translate the fields a location state message really carried (absent ones stay unknown)."""
    present = state.model_fields_set
    status = _WS_LOCK.get(state.lock.lower(), LockStatus.UNKNOWN) if "lock" in present else None
    reported = "dps" in present
    if status is None and not reported:
        return None
    position = _POSITION.get(state.dps) if reported else None
    return DoorStateEvent(door_id, status, position, reported, event)


def _activity_from_log(message: LogAdd) -> DoorActivityEvent | None:
    source = message.data.source
    if source.event.type and source.event.type != _UNLOCK_LOG_EVENT:
        return None
    door = next((target for target in source.target if target.type == "door" and target.id), None)
    if door is None:
        return None
    method = source.authentication.credential_provider or None
    if source.event.result and source.event.result.upper() != "ACCESS":
        kind = ActivityKind.ACCESS_DENIED
    elif method == "PIN_CODE":
        kind = ActivityKind.CODE_USED
    else:
        kind = ActivityKind.UNLOCKED
    published = source.event.published
    return DoorActivityEvent(
        door_id=door.id,
        kind=kind,
        actor=source.actor.display_name or None,
        method=method,
        at=datetime.fromtimestamp(published / 1000, UTC) if published else None,
        event=message.event or "",
    )


def parse_event(message: Mapping[str, Any]) -> tuple[UnifiEvent, ...]:
    """Translate one WebSocket message into typed events (none for messages this integration ignores).

    - ``access.data.device.location_update_v2`` and ``access.data.v2.location.update`` (a door's ``state``)
      and ``access.data.v2.device.update`` (its ``location_states``) → :class:`DoorStateEvent`;
    - ``access.logs.add`` of ``access.door.unlock`` → :class:`DoorActivityEvent` (``ACCESS`` with a PIN →
      ``code_used``, other credentials → ``unlocked``, any other result → ``access_denied``);
    - ``access.data.device.remote_unlock`` → :class:`DoorActivityEvent` ``unlocked`` by ``REMOTE``.
    """
    try:
        parsed = create_from_unifi_dict(dict(message))
    except pydantic.ValidationError:
        _LOGGER.debug("Ignoring a UniFi Access message of unexpected shape: %s", message.get("event"))
        return ()
    event = parsed.event or ""
    if isinstance(parsed, LocationUpdateV2 | V2LocationUpdate):
        data = parsed.data
        if data.state is None or not data.id or data.location_type.lower() not in ("", "door"):
            return ()
        state_event = _state_event(data.id, data.state, event)
        return (state_event,) if state_event is not None else ()
    if isinstance(parsed, V2DeviceUpdate):
        events = (_state_event(s.location_id, s, event) for s in parsed.data.location_states if s.location_id)
        return tuple(e for e in events if e is not None)
    if isinstance(parsed, LogAdd):
        activity = _activity_from_log(parsed)
        return (activity,) if activity is not None else ()
    if isinstance(parsed, RemoteUnlock) and parsed.data.unique_id:
        unlock = DoorActivityEvent(parsed.data.unique_id, ActivityKind.UNLOCKED, None, "REMOTE", None, event)
        return (unlock,)
    return ()


# --- the library, with its HTTP seam routed through our transport --------------------------------

type _Transport = Callable[..., Awaitable[Any]]


class _LibraryClient(UnifiAccessApiClient):
    """``py-unifi-access``'s client whose one HTTP method goes through :meth:`UnifiAccessClient._call`."""

    def __init__(self, transport: _Transport, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._transport = transport

    async def _request(
        self,
        url: str,
        method: str = "GET",
        data: dict[str, Any] | None = None,
        *,
        params: dict[str, Any] | None = None,
    ) -> Any:
        return await self._transport(method, url, json_body=data, params=params)


def _permission_for(method: str, path: str) -> str | None:
    """The permission key the API documents for a call (APIS.md 2.x), for 403 messages."""
    if path.startswith("/doors"):
        return "view:space" if method == "GET" else "edit:space"
    if path.startswith("/devices"):
        return "view:device"
    if path.startswith("/visitors"):
        return "view:visitor" if method == "GET" else "edit:visitor"
    if path.startswith("/credentials"):
        return "view:credential"
    return None


async def _invoke(callback: Callable[..., Awaitable[None] | None] | None, *args: Any) -> None:
    """Call a sync or async callback; its failure is logged, never raised into the push loop."""
    if callback is None:
        return
    try:
        result = callback(*args)
        if inspect.isawaitable(result):
            await result
    except Exception:
        _LOGGER.exception("Error in a UniFi Access push callback")


# --- client -------------------------------------------------------------------------------------


class UnifiAccessClient:
    """UniFi Access developer API client over an injected :class:`aiohttp.ClientSession` (not owned).

    Every REST method makes exactly one request. Errors are :mod:`.errors` exceptions:
    ``CODE_AUTH_FAILED``/``CODE_ACCESS_TOKEN_INVALID``/401 → :class:`AuthError`; 403 or ``CODE_UNAUTHORIZED``
    → :class:`MissingPermissionError` naming the scope; not found codes → :class:`NotFoundError`;
    ``CODE_PARAMS_INVALID`` and the PIN length code → :class:`ValidationError`; PIN already used →
    :class:`ConflictError`; device offline → :class:`DeviceOfflineError`; forbidden / unsupported →
    :class:`NotSupportedError`; 429 → :class:`RateLimitedError`; 5xx → :class:`ServerError`; network, TLS
    → :class:`ApiConnectionError` (:class:`CertificateError`, :class:`CertificateMismatchError`); a body that
    is not the envelope → :class:`MalformedResponseError`. The code is checked on any HTTP status (controllers
    also answer 200 with a non-``SUCCESS`` code).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        token: str,
        *,
        port: int = DEFAULT_PORT,
        verify_ssl: bool = True,
        fingerprint: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Talk to ``https://host:port`` with the bearer ``token``.

        Args:
            session: The shared session (Home Assistant's ``async_get_clientsession(hass)``).
            host: Controller host name or IP address (no scheme, no port).
            token: API token from Access → Settings → General → Advanced.
            port: API port (12445 on real controllers).
            verify_ssl: Check the certificate chain and host name (ignored when ``fingerprint`` is set).
            fingerprint: SHA-256 of the controller's certificate to pin (any ``AA:BB``/hex spelling).
            ssl_context: Context to verify against when ``verify_ssl`` (default: the session's own).
            timeout: Seconds per request (and per WebSocket handshake).

        Raises:
            ValueError: For a malformed host, port or fingerprint.
        """
        host = host.strip().removeprefix("[").removesuffix("]")
        if not host or "/" in host or " " in host:
            raise ValueError(f"Invalid host: {host!r}")
        if not 0 < port < 65536:
            raise ValueError(f"Invalid port: {port!r}")
        self._session = session
        self._token = token
        self._fingerprint = normalize_fingerprint(fingerprint) if fingerprint else None
        self._ssl: ssl.SSLContext | bool | aiohttp.Fingerprint
        if self._fingerprint is not None:
            self._ssl = aiohttp.Fingerprint(bytes.fromhex(self._fingerprint.replace(":", "")))
        elif not verify_ssl:
            self._ssl = False
        else:
            self._ssl = ssl_context if ssl_context is not None else True
        netloc = f"[{host}]" if ":" in host else host
        self._base_url = f"https://{netloc}:{port}"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._http = HttpTransport(
            session,
            timeout=timeout,
            headers=self._headers,
            secrets=(token,),
            on_connection_error=self._transport_error,
        )
        self._push_connected = False
        # The library forwards ``ssl_context`` untouched to aiohttp's ``ssl=``, which also takes a Fingerprint
        # or a bool; all of its requests come back through ``_call`` anyway.
        self._lib = _LibraryClient(
            self._call,
            host=self._base_url,
            api_token=token,
            session=session,
            ssl_context=cast("ssl.SSLContext", self._ssl),
            request_timeout=max(1, math.ceil(timeout)),
        )

    @property
    def base_url(self) -> str:
        """``https://host:port``."""
        return self._base_url

    @property
    def fingerprint(self) -> str | None:
        """The pinned SHA-256 certificate fingerprint (``AA:BB:...``), if any."""
        return self._fingerprint

    @property
    def push_connected(self) -> bool:
        """Whether :meth:`listen` currently holds an open WebSocket."""
        return self._push_connected

    # -- transport --------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        secrets: Sequence[str] = (),
    ) -> Any:
        """Perform one request and return the envelope's ``data`` (``None`` when it has none)."""
        path = URL(url).path.removeprefix(API_ROOT) or "/"
        # The TLS setting is read per request: it is the one the client holds now.
        request = Request(
            method,
            url,
            f"{method} {path}",
            params=params,
            json=json_body,
            secrets=tuple(secrets),
            ssl=self._ssl,
        )
        response = await self._http.send(request)
        secrets_ = self._http.secrets_of(request)
        with redacting(secrets_):
            return self._unwrap(response.status, response.body, response.headers, method, path, secrets_)

    def _unwrap(
        self,
        status: int,
        raw: bytes,
        headers: Mapping[str, str],
        method: str,
        path: str,
        secrets: Sequence[str | None],
    ) -> Any:
        """Check status and envelope; raise the matching error or return ``data``."""
        where = f"{method} {path}"
        try:
            body: Any = json.loads(raw) if raw.strip() else None
        except ValueError:  # also UnicodeDecodeError
            body = None
        envelope = body if isinstance(body, dict) else {}
        code = envelope.get("code")
        code = str(code) if code is not None else None
        if status >= HTTPStatus.BAD_REQUEST or (code is not None and code != SUCCESS):
            message = envelope.get("msg")
            if message is None and not envelope and raw.strip():
                # e.g. a proxy's HTML page; redacted before it is cut, so no part of a secret is left
                message = redact(raw.decode("utf-8", errors="replace"), secrets)[:200]
            text = redact(str(message), secrets) if message else None
            raise self._api_error(status, code, text, headers, method, path)
        if not isinstance(body, dict) or code != SUCCESS:
            raise MalformedResponseError(f"{where}: not a {{code, msg, data}} envelope", status=status)
        return body.get("data")

    def _api_error(
        self,
        status: int,
        code: str | None,
        message: str | None,
        headers: Mapping[str, str],
        method: str,
        path: str,
    ) -> KasifyApiError:
        where = f"{method} {path}"
        shown_code = code if code != SUCCESS else None
        detail = ": ".join(part for part in (shown_code, message) if part) or _phrase(status)
        summary = f"{where}: {detail} (HTTP {status})"
        if status == HTTPStatus.UNAUTHORIZED or code in _AUTH_CODES:
            return AuthError(summary, status=status)
        if status == HTTPStatus.FORBIDDEN or code in _PERMISSION_CODES:
            permission = _permission_for(method, path)
            needs = f"the '{permission}' permission" if permission else "a permission this call needs"
            return MissingPermissionError(
                f"{where}: the API token lacks {needs} ({detail}, HTTP {status})",
                status=status,
                permission=permission,
            )
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            return RateLimitedError(summary, retry_after=retry_after_seconds(headers), status=status)
        error_class = _CODE_ERRORS.get(code) if code is not None else None
        if error_class is ValidationError and code is not None:
            field = _FIELD_OF_CODE.get(code)
            fields = {field: [message or code]} if field else None
            return ValidationError(summary, status=status, fields=fields)
        if error_class is not None:
            return error_class(summary, status=status)
        if status >= HTTPStatus.BAD_REQUEST:
            return error_for_status(status, summary, headers)
        return KasifyApiError(summary, status=status)

    def _transport_error(self, err: BaseException, where: str) -> ApiConnectionError:
        """Map a network or TLS failure; a refused certificate gets its own, non-retryable class."""
        if isinstance(err, aiohttp.ServerFingerprintMismatch):
            actual = format_fingerprint(err.got)
            expected = self._fingerprint or format_fingerprint(err.expected)
            return CertificateMismatchError(
                f"{where}: the controller's certificate ({actual}) is not the pinned one ({expected})",
                expected=expected,
                actual=actual,
            )
        if isinstance(err, aiohttp.ClientConnectorCertificateError):
            return CertificateError(
                f"{where}: the controller's certificate is not trusted ({err.certificate_error}); pin its "
                "fingerprint or turn certificate verification off"
            )
        if isinstance(err, aiohttp.ClientSSLError):
            return ApiConnectionError(f"{where}: TLS failed: {err.__class__.__name__}")
        if isinstance(err, TimeoutError):
            return ApiConnectionError(f"{where}: timed out")
        return ApiConnectionError(f"{where}: {err.__class__.__name__}")

    def _url(self, path: str) -> str:
        return f"{self._base_url}{API_ROOT}{path}"

    # -- doors ------------------------------------------------------------------------------------

    async def list_doors(self) -> list[UnifiDoor]:
        """``GET /doors`` — every door, in one request."""
        try:
            doors = await self._lib.get_doors()
        except (pydantic.ValidationError, TypeError) as err:
            raise MalformedResponseError(f"GET /doors: unexpected door data: {_first_error(err)}") from err
        return [door_from_library(door) for door in doors]

    async def get_door(self, door_id: str) -> UnifiDoor:
        """``GET /doors/{id}`` — one door (to refresh only it after an action)."""
        path = f"/doors/{quote_segment(door_id)}"
        data = await self._call("GET", self._url(path))
        try:
            return door_from_library(Door.model_validate(data))
        except pydantic.ValidationError as err:
            raise MalformedResponseError(f"GET {path}: unexpected door data: {_first_error(err)}") from err

    async def unlock(
        self, door_id: str, *, actor_id: str | None = None, actor_name: str | None = None
    ) -> None:
        """``PUT /doors/{id}/unlock`` — a momentary unlock; the controller locks again by itself.

        ``actor_id`` and ``actor_name`` (both or neither) name who unlocked in the controller's logs (default:
        the API token's name). A door without a hub answers :class:`NotSupportedError`.
        """
        await self._lib.unlock_door(quote_segment(door_id), actor_id=actor_id, actor_name=actor_name)

    async def lock(self, door_id: str) -> None:
        """Lock now: the ``lock_now`` rule ends temporary unlocks and schedules (the API has no lock call)."""
        await self.set_lock_rule(door_id, LockRuleType.LOCK_NOW)

    async def set_lock_rule(
        self, door_id: str, rule: LockRuleType | str, interval: int | None = None
    ) -> None:
        """``PUT /doors/{id}/lock_rule`` — set a temporary rule (Access 1.24.6 or later).

        ``keep_lock``/``keep_unlock`` until ``reset``; ``custom`` unlocks for ``interval`` minutes;
        ``lock_early`` ends an unlock schedule; ``lock_now`` ends schedule and temporary unlock.

        Raises:
            ValueError: For a rule that cannot be set, or ``interval`` missing (custom) or given (others).
        """
        rule_type = LockRuleType(rule)
        if rule_type not in SETTABLE_LOCK_RULES:
            raise ValueError(f"{rule_type.value!r} is not a rule that can be set")
        if rule_type is LockRuleType.CUSTOM:
            if interval is None or interval < 1:
                raise ValueError("the custom rule needs an interval of at least 1 minute")
            body = DoorLockRule(type=DoorLockRuleType(rule_type.value), interval=interval)
        elif interval is not None:
            raise ValueError("only the custom rule takes an interval")
        else:
            body = DoorLockRule(type=DoorLockRuleType(rule_type.value))
        await self._lib.set_door_lock_rule(quote_segment(door_id), body)

    async def get_lock_rule(self, door_id: str) -> LockRule:
        """``GET /doors/{id}/lock_rule`` — the temporary rule in force (``NONE`` when there is none)."""
        try:
            status = await self._lib.get_door_lock_rule(quote_segment(door_id))
        except (pydantic.ValidationError, TypeError) as err:
            raise MalformedResponseError(f"GET /doors/{door_id}/lock_rule: {_first_error(err)}") from err
        return _lock_rule(status)

    # -- visitors (timed PIN codes) ---------------------------------------------------------------

    async def create_visitor(
        self,
        *,
        first_name: str,
        last_name: str,
        starts_at: datetime,
        ends_at: datetime,
        door_ids: Sequence[str] = (),
        door_group_ids: Sequence[str] = (),
        visit_reason: str = "Others",
        remarks: str | None = None,
    ) -> Visitor:
        """``POST /visitors`` — a one-time visit from ``starts_at`` to ``ends_at`` to the given doors.

        Raises:
            ValueError: For naive times, ``ends_at`` not after ``starts_at``, an empty name or an unknown
                visit reason.
        """
        start, end = _unix_seconds(starts_at, "starts_at"), _unix_seconds(ends_at, "ends_at")
        if end <= start:
            raise ValueError("ends_at must be after starts_at")
        if not first_name.strip() or not last_name.strip():
            raise ValueError("a visitor needs a first and a last name")
        if visit_reason not in _VISIT_REASONS:
            raise ValueError(f"visit_reason must be one of {sorted(_VISIT_REASONS)}")
        body: dict[str, Any] = {
            "first_name": first_name.strip(),
            "last_name": last_name.strip(),
            "start_time": start,
            "end_time": end,
            "visit_reason": visit_reason,
            "resources": [{"id": door_id, "type": "door"} for door_id in door_ids]
            + [{"id": group_id, "type": "door_group"} for group_id in door_group_ids],
        }
        if remarks:
            body["remarks"] = remarks
        data = await self._call("POST", self._url("/visitors"), json_body=body)
        return parse_visitor(Reader(data, "POST /visitors"))

    async def get_visitor(self, visitor_id: str) -> Visitor:
        """``GET /visitors/{id}``."""
        path = f"/visitors/{quote_segment(visitor_id)}"
        return parse_visitor(Reader(await self._call("GET", self._url(path)), f"GET {path}"))

    async def list_visitors(self, *, page_size: int = 100, max_pages: int = 50) -> list[Visitor]:
        """``GET /visitors?page_num=&page_size=`` — every visitor, page by page (1 request per page).

        Stops at the first page with fewer than ``page_size`` visitors (or after ``max_pages``).
        """
        visitors: list[Visitor] = []
        for page in range(1, max_pages + 1):
            params = {"page_num": page, "page_size": page_size}
            data = await self._call("GET", self._url("/visitors"), params=params)
            if not isinstance(data, list):
                raise MalformedResponseError("GET /visitors: expected a list of visitors")
            items: list[Any] = data
            visitors.extend(
                parse_visitor(Reader(item, f"GET /visitors[{page}:{i}]")) for i, item in enumerate(items)
            )
            if len(items) < page_size:
                break
        return visitors

    async def update_visitor(
        self, visitor_id: str, *, starts_at: datetime | None = None, ends_at: datetime | None = None
    ) -> Visitor:
        """``PUT /visitors/{id}`` — move the visit (its PIN stays); returns the visitor as it is now.

        Raises:
            ValueError: For naive times, or ``ends_at`` not after ``starts_at`` when both are given.
        """
        body: dict[str, Any] = {}
        if starts_at is not None:
            body["start_time"] = _unix_seconds(starts_at, "starts_at")
        if ends_at is not None:
            body["end_time"] = _unix_seconds(ends_at, "ends_at")
        if "start_time" in body and "end_time" in body and body["end_time"] <= body["start_time"]:
            raise ValueError("ends_at must be after starts_at")
        path = f"/visitors/{quote_segment(visitor_id)}"
        data = await self._call("PUT", self._url(path), json_body=body)
        return parse_visitor(Reader(data, f"PUT {path}"))

    async def delete_visitor(self, visitor_id: str, *, force: bool = True) -> None:
        """``DELETE /visitors/{id}`` — ``force`` deletes it (freeing its PIN); else it is only cancelled."""
        params = {"is_force": "true"} if force else None
        await self._call("DELETE", self._url(f"/visitors/{quote_segment(visitor_id)}"), params=params)

    async def assign_visitor_pin(self, visitor_id: str, pin: str) -> None:
        """``PUT /visitors/{id}/pin_codes`` — give the visitor a PIN (digits only).

        A PIN another user or visitor has → :class:`ConflictError`; a length the controller's settings
        refuse → :class:`ValidationError` (``fields["pin_code"]``). The PIN never appears in an error message.
        """
        if not pin.isdigit():
            raise ValueError("a PIN code has digits only")
        url = self._url(f"/visitors/{quote_segment(visitor_id)}/pin_codes")
        await self._call("PUT", url, json_body={"pin_code": pin}, secrets=(pin,))

    async def unassign_visitor_pin(self, visitor_id: str) -> None:
        """``DELETE /visitors/{id}/pin_codes``."""
        await self._call("DELETE", self._url(f"/visitors/{quote_segment(visitor_id)}/pin_codes"))

    async def generate_pin(self) -> str:
        """``POST /credentials/pin_codes`` — a fresh PIN of the length the controller is set to."""
        data = await self._call("POST", self._url("/credentials/pin_codes"))
        if not isinstance(data, str | int) or isinstance(data, bool) or not str(data).isdigit():
            raise MalformedResponseError("POST /credentials/pin_codes: expected a string of digits")
        return str(data)

    async def create_timed_pin(
        self,
        *,
        name: str,
        pin: str,
        starts_at: datetime,
        ends_at: datetime,
        door_ids: Sequence[str],
        remarks: str | None = None,
    ) -> Visitor:
        """Create a visitor for ``door_ids`` valid from ``starts_at`` to ``ends_at`` and give it ``pin``.

        ``name`` becomes first and last name (its first word and the rest; a one-word name gets the last
        name "Kasify"), so the controller's logs show it. If the PIN is refused, the visitor is deleted again
        and the PIN's error is raised: nothing is left behind. Revoke with :meth:`delete_visitor` (the
        visitor's id).
        """
        first, _, last = name.strip().partition(" ")
        visitor = await self.create_visitor(
            first_name=first,
            last_name=last.strip() or "Kasify",
            starts_at=starts_at,
            ends_at=ends_at,
            door_ids=door_ids,
            remarks=remarks,
        )
        try:
            await self.assign_visitor_pin(visitor.id, pin)
        except BaseException:
            try:
                await self.delete_visitor(visitor.id)
            except KasifyApiError as cleanup:
                _LOGGER.warning("Could not remove UniFi Access visitor %s: %s", visitor.id, cleanup)
            raise
        return replace(visitor, has_pin=True)

    # -- push -------------------------------------------------------------------------------------

    async def listen(
        self,
        on_event: EventCallback,
        on_disconnect: Callback | None = None,
        *,
        on_connect: Callback | None = None,
        reconnect: bool = True,
        backoff_min: float = 1.0,
        backoff_max: float = 60.0,
        heartbeat: float = 30.0,
    ) -> None:
        """Receive the controller's push messages (``wss://.../devices/notifications``) until cancelled.

        Reconnecting is done here: after a drop, or a failed attempt, it waits ``backoff_min`` seconds,
        doubling up to ``backoff_max`` (at least a 429's ``Retry-After``), and starts over at ``backoff_min``
        once connected. Callbacks may be sync or async; their exceptions are logged, not raised.

        - ``on_connect()`` — the socket is up: push is healthy. Changes made while it was down were not
          pushed, so call :meth:`list_doors` once here, then stop polling.
        - ``on_event(event)`` — a :class:`DoorStateEvent` or :class:`DoorActivityEvent` (see
          :func:`parse_event`); unknown messages and keepalives are skipped.
        - ``on_disconnect()`` — an open socket was lost: fall back to polling until ``on_connect``.

        Logged once when the push connection is lost (warning) and once when it is back (info).

        Raises:
            AuthError: The token was refused (401), or lacks ``view:device`` (403,
                :class:`MissingPermissionError`); not retried.
            CertificateError: The certificate was refused (:class:`CertificateMismatchError` for a pin); not
                retried.
            NotSupportedError: The controller has no WebSocket API (404; Access older than 1.20.11).
            KasifyApiError: With ``reconnect=False``, the first connection attempt failed (with
                ``reconnect=False`` it returns after the first connection ends).
        """
        delay = backoff_min
        outage_logged = False
        while True:
            try:
                ws = await self._ws_connect(heartbeat)
            except (AuthError, CertificateError, NotSupportedError):
                raise
            except KasifyApiError as err:
                if not reconnect:
                    raise
                if not outage_logged:
                    _LOGGER.warning("UniFi Access push: cannot connect to %s (%s)", self._base_url, err)
                    outage_logged = True
                else:
                    _LOGGER.debug("UniFi Access push: still cannot connect: %s", err)
                retry_after = err.retry_after if isinstance(err, RateLimitedError) else None
                await asyncio.sleep(max(delay, retry_after or 0.0))
                delay = min(delay * 2, backoff_max)
                continue
            if outage_logged:
                _LOGGER.info("UniFi Access push: connected to %s again", self._base_url)
                outage_logged = False
            delay = backoff_min
            self._push_connected = True
            try:
                await _invoke(on_connect)
                await self._pump(ws, on_event)
            finally:
                self._push_connected = False
                await ws.close()
            _LOGGER.warning("UniFi Access push: connection to %s lost; reconnecting", self._base_url)
            outage_logged = True
            await _invoke(on_disconnect)
            if not reconnect:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, backoff_max)

    async def _ws_connect(self, heartbeat: float) -> aiohttp.ClientWebSocketResponse:
        where = f"GET {NOTIFICATIONS_PATH.removeprefix(API_ROOT)} (WebSocket)"
        try:
            async with asyncio.timeout(self._timeout.total):
                return await self._session.ws_connect(
                    f"{self._base_url}{NOTIFICATIONS_PATH}",
                    headers=self._headers,
                    ssl=self._ssl,
                    heartbeat=heartbeat,
                    timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
                )
        except aiohttp.WSServerHandshakeError as err:
            raise self._handshake_error(err, where) from err
        except (TimeoutError, aiohttp.ClientError) as err:
            raise self._transport_error(err, where) from err

    def _handshake_error(self, err: aiohttp.WSServerHandshakeError, where: str) -> KasifyApiError:
        status = err.status
        summary = f"{where}: refused with HTTP {status}"
        if status == HTTPStatus.UNAUTHORIZED:
            return AuthError(summary, status=status)
        if status == HTTPStatus.FORBIDDEN:
            return MissingPermissionError(
                f"{where}: the API token lacks the 'view:device' permission (HTTP 403)",
                status=status,
                permission="view:device",
            )
        if status == HTTPStatus.NOT_FOUND:
            return NotSupportedError(f"{summary}: no WebSocket API (needs Access 1.20.11)", status=status)
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            headers = err.headers if isinstance(err.headers, Mapping) else {}
            return RateLimitedError(summary, retry_after=retry_after_seconds(headers), status=status)
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return ServerError(summary, status=status)
        return ApiConnectionError(summary, status=status)

    async def _pump(self, ws: aiohttp.ClientWebSocketResponse, on_event: EventCallback) -> None:
        """Hand every message to ``on_event`` until the socket closes."""
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                for event in _decode(message.data):
                    await _invoke(on_event, event)
            elif message.type is aiohttp.WSMsgType.ERROR:
                _LOGGER.debug("UniFi Access push: socket error: %s", ws.exception())
                return


def _decode(text: str) -> tuple[UnifiEvent, ...]:
    """Events in one text frame; keepalives ("Hello") and non-JSON frames give none."""
    try:
        raw = json.loads(text)
    except ValueError:
        return ()
    return parse_event(raw) if isinstance(raw, dict) else ()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


def _unix_seconds(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return int(value.timestamp())


def _first_error(err: Exception) -> str:
    if isinstance(err, pydantic.ValidationError) and err.errors():
        first = err.errors()[0]
        location = ".".join(str(part) for part in first.get("loc", ()))
        return f"{location}: {first.get('msg', '')}"
    return str(err)


__all__ = [
    "API_ROOT",
    "DEFAULT_PORT",
    "SETTABLE_LOCK_RULES",
    "ActivityKind",
    "DoorActivityEvent",
    "DoorPosition",
    "DoorStateEvent",
    "LockRule",
    "LockRuleType",
    "UnifiAccessClient",
    "UnifiDoor",
    "UnifiEvent",
    "Visitor",
    "VisitorResource",
    "format_fingerprint",
    "get_certificate_fingerprint",
    "normalize_fingerprint",
    "parse_event",
    "parse_visitor",
]
