"""UniFi Access developer API client (local controller, ``https://<host>:12445/api/v1/developer``).

Built on ``py-unifi-access`` (``unifi_access_api``, the client Home Assistant core uses): its
:class:`~unifi_access_api.UnifiAccessApiClient` performs the door calls (list, unlock, lock rules) and parses
them into its pydantic models, and its WebSocket models parse the push messages. Three things it lacks are
added here, without forking it:

- **Error detail.** The library turns every non-``SUCCESS`` envelope into one generic ``ApiError`` (the
  ``code`` is dropped), reads no ``Retry-After`` and insists on a ``data`` key that some calls (visitor PIN)
  do not send. Its single HTTP seam, ``_request``, is therefore routed through
  :meth:`UnifiAccessClient._call`, which maps status *and* envelope code into the shared exceptions, scrubs
  the token (and PINs) from messages and applies the TLS settings below.
- **TLS pinning.** The library accepts an ``ssl.SSLContext`` or verify on/off; a pinned certificate needs
  ``aiohttp.Fingerprint``. The library only forwards the value to aiohttp's ``ssl=`` argument, so the
  fingerprint is handed over as is (one ``cast`` for its narrower annotation).
- **Push that surfaces fatal errors, and visitors.** The library's WebSocket loop retries forever, also on a
  revoked token or a wrong certificate, logs every failed attempt as an error and fetches ``/devices`` on each
  connect. :meth:`UnifiAccessClient.listen` runs its own loop over the injected session (reconnect with
  backoff, and liveness for a watchdog: see there and :mod:`.unifi_access_push`), reusing the library's
  message models. Visitors with PIN codes (timed
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
from dataclasses import replace
from datetime import datetime
import logging
import math
import ssl
from typing import Any, Final, cast

import aiohttp
import pydantic
from unifi_access_api import Door, DoorLockRule, DoorLockRuleType, UnifiAccessApiClient
from yarl import URL

from .errors import (
    ApiConnectionError,
    ApiError,
    CertificateError,
    CertificateMismatchError,
    MalformedResponseError,
    PartialWriteError,
)
from .http import HttpTransport, Request, connection_error, quote_segment, redacting
from .parse import Reader
from .turns import LoopTurns
from .unifi_access_envelope import handshake_error, unwrap_envelope
from .unifi_access_models import (
    API_ROOT,
    DEFAULT_PORT,
    DEFAULT_TIMEOUT,
    NOTIFICATIONS_PATH,
    SETTABLE_LOCK_RULES,
    SUCCESS,
    ActivityKind,
    Callback,
    DoorActivityEvent,
    DoorPosition,
    DoorStateEvent,
    EventCallback,
    LockRule,
    LockRuleType,
    UnifiDoor,
    UnifiEvent,
    Visitor,
    VisitorResource,
)
from .unifi_access_parse import (
    door_from_library,
    first_error,
    lock_rule_from_library,
    parse_event,
    parse_visitor,
)
from .unifi_access_push import Backoff, PushLink
from .unifi_access_tls import (
    format_fingerprint,
    get_certificate_fingerprint,
    normalize_fingerprint,
    tls_setting,
)

_LOGGER = logging.getLogger(__name__)


_VISIT_REASONS: Final = frozenset({"Interview", "Business", "Cooperation", "Others"})


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


def _base_url(host: str, port: int) -> str:
    """``https://host:port`` (IPv6 hosts in brackets).

    Raises:
        ValueError: For a malformed host or port.
    """
    host = host.strip().removeprefix("[").removesuffix("]")
    if not host or "/" in host or " " in host:
        raise ValueError(f"Invalid host: {host!r}")
    if not 0 < port < 65536:
        raise ValueError(f"Invalid port: {port!r}")
    netloc = f"[{host}]" if ":" in host else host
    return f"https://{netloc}:{port}"


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
        turns: LoopTurns | None = None,
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
            turns: The event loop's turn budget to read long listings within (a budget of its own by
                default).

        Raises:
            ValueError: For a malformed host, port or fingerprint.
        """
        self._session = session
        self._token = token
        self._turns = turns if turns is not None else LoopTurns()
        self._fingerprint = normalize_fingerprint(fingerprint) if fingerprint else None
        self._ssl = tls_setting(self._fingerprint, verify_ssl, ssl_context)
        self._base_url = _base_url(host, port)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._http = HttpTransport(
            session,
            timeout=timeout,
            headers=self._headers,
            secrets=(token,),
            on_connection_error=self._transport_error,
        )
        self._push = PushLink(self._base_url)
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
        """Whether push is up: :meth:`listen` holds an open WebSocket and the controller has spoken on it."""
        return self._push.up

    @property
    def push_open(self) -> bool:
        """Whether :meth:`listen` holds an open WebSocket (push up or not)."""
        return self._push.open

    @property
    def push_activity(self) -> int:
        """A number that changes whenever a frame arrives on the push socket or a new one opens.

        Read it twice to tell whether anything arrived in between (a watchdog keeps its own clock).
        """
        return self._push.activity

    async def ping_push(self) -> None:
        """Ping the open push socket: a controller that is only quiet answers with a pong (a frame)."""
        await self._push.ping()

    async def close_silent_push(self, silent_for: float) -> None:
        """Close the open push socket because nothing arrived on it for ``silent_for`` seconds.

        :meth:`listen` then logs it (one warning per outage), calls ``on_disconnect`` if push was up, and
        reconnects with back-off; push is up again once the controller speaks on a new socket.
        """
        await self._push.close_silent(silent_for)

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
            return unwrap_envelope(response, method, path, secrets_)

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
        return connection_error(err, where)

    def _url(self, path: str) -> str:
        return f"{self._base_url}{API_ROOT}{path}"

    # -- doors ------------------------------------------------------------------------------------

    async def list_doors(self) -> list[UnifiDoor]:
        """``GET /doors`` — every door, in one request (read door by door within the loop's turn budget)."""
        data = await self._call("GET", self._url("/doors"))
        found = []
        try:
            for item in data:
                await self._turns.take()
                found.append(door_from_library(Door.model_validate(item)))
        except (pydantic.ValidationError, TypeError) as err:
            raise MalformedResponseError(f"GET /doors: unexpected door data: {first_error(err)}") from err
        return found

    async def get_door(self, door_id: str) -> UnifiDoor:
        """``GET /doors/{id}`` — one door (to refresh only it after an action)."""
        path = f"/doors/{quote_segment(door_id)}"
        data = await self._call("GET", self._url(path))
        try:
            return door_from_library(Door.model_validate(data))
        except pydantic.ValidationError as err:
            raise MalformedResponseError(f"GET {path}: unexpected door data: {first_error(err)}") from err

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
            raise MalformedResponseError(f"GET /doors/{door_id}/lock_rule: {first_error(err)}") from err
        return lock_rule_from_library(status)

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
        and the PIN's error is raised: nothing is left behind (:class:`PartialWriteError` when the visitor
        could not be deleted). Revoke with :meth:`delete_visitor` (the visitor's id).
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
        except BaseException as err:
            try:
                await self.delete_visitor(visitor.id)
            except ApiError as cleanup:
                _LOGGER.warning("Could not remove UniFi Access visitor %s: %s", visitor.id, cleanup)
                if isinstance(err, Exception):
                    raise PartialWriteError(
                        f"{err}; the visitor {visitor.id} could not be removed again: {cleanup}"
                    ) from err
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

        - ``on_connect()`` — push is up: a socket is open and the controller has spoken on it (its
          ``Hello``, or any frame). Changes made while it was down were not pushed, so call
          :meth:`list_doors` once here, then stop polling.
        - ``on_event(event)`` — a :class:`DoorStateEvent` or :class:`DoorActivityEvent` (see
          :func:`parse_event`); unknown messages and keepalives are skipped.
        - ``on_disconnect()`` — push was up and its socket ended (dropped, or closed by
          :meth:`close_silent_push`): fall back to polling until ``on_connect``.

        Every frame is a sign of life (see :attr:`push_activity`); silence is for the caller's watchdog to
        judge (:meth:`ping_push`, :meth:`close_silent_push`). Logged once when push goes down (warning: lost,
        cannot connect, or silent) and once when it is back (info); retries in between at debug.

        Raises:
            AuthError: The token was refused (401), or lacks ``view:device`` (403,
                :class:`MissingPermissionError`); not retried.
            CertificateError: The certificate was refused (:class:`CertificateMismatchError` for a pin); not
                retried.
            NotSupportedError: The controller has no WebSocket API (404; Access older than 1.20.11).
            ApiError: With ``reconnect=False``, the first connection attempt failed (with
                ``reconnect=False`` it returns after the first connection ends).
        """
        await self._push.run(
            self._ws_connect,
            on_event,
            on_disconnect,
            on_connect,
            reconnect=reconnect,
            backoff=Backoff(backoff_min, backoff_max),
            heartbeat=heartbeat,
        )

    async def _ws_connect(self, heartbeat: float) -> aiohttp.ClientWebSocketResponse:
        where = f"GET {NOTIFICATIONS_PATH.removeprefix(API_ROOT)} (WebSocket)"
        try:
            async with asyncio.timeout(self._timeout.total):
                return await self._session.ws_connect(
                    f"{self._base_url}{NOTIFICATIONS_PATH}",
                    headers=self._headers,
                    ssl=self._ssl,
                    heartbeat=heartbeat,
                    autoping=False,  # pings are answered by the push loop, and pongs counted
                    timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
                )
        except aiohttp.WSServerHandshakeError as err:
            raise handshake_error(err, where) from err
        except (TimeoutError, aiohttp.ClientError) as err:
            raise self._transport_error(err, where) from err


def _unix_seconds(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return int(value.timestamp())


__all__ = [
    "API_ROOT",
    "DEFAULT_PORT",
    "DEFAULT_TIMEOUT",
    "NOTIFICATIONS_PATH",
    "SETTABLE_LOCK_RULES",
    "SUCCESS",
    "ActivityKind",
    "Callback",
    "DoorActivityEvent",
    "DoorPosition",
    "DoorStateEvent",
    "EventCallback",
    "LockRule",
    "LockRuleType",
    "UnifiAccessClient",
    "UnifiDoor",
    "UnifiEvent",
    "Visitor",
    "VisitorResource",
    "door_from_library",
    "format_fingerprint",
    "get_certificate_fingerprint",
    "normalize_fingerprint",
    "parse_event",
    "parse_visitor",
]
