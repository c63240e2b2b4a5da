"""RemoteLock's OAuth2 token endpoint and the token sources a client gets its bearer token from."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
import time
from typing import Any, Protocol, runtime_checkable

import aiohttp

from .auth import SingleFlightToken
from .errors import ApiError, MalformedResponseError, OAuthGrantError
from .http import HttpTransport, Request, error_for_status, error_summary, json_object
from .parse import Reader
from .remotelock_models import DEFAULT_OAUTH_URL, DEFAULT_TIMEOUT, TOKEN_LEEWAY, TOKEN_PATH


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


def _token_error(status: int, text: str, headers: Mapping[str, str], where: str) -> ApiError:
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

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token_url: str,
        client_id: str,
        client_secret: str,
        clock: Callable[[], float],
        leeway: float,
        token: OAuthToken | None = None,
    ) -> None:
        self._session = session
        self._url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
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
        super().__init__(session, token_url, client_id, client_secret, clock, leeway)

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
        super().__init__(session, token_url, client_id, client_secret, clock, leeway, token)
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
