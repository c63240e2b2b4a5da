"""The one HTTP transport every upstream client uses, and the helpers around it.

:class:`HttpTransport` performs a request, reads the answer, maps network failures, status codes and bodies
that are not JSON to :mod:`.errors`, and redacts secrets: a client hands it the secrets of a request (tokens,
PINs, client secrets) and every exception raised for that request already has them replaced by ``***``, in
its message and in :attr:`ValidationError.fields`.

Each vendor's error body has its own shape, so each client passes an :data:`ErrorMapper` that reads it (with
the secrets already redacted) and usually ends in :func:`error_for_status`, so that one HTTP status means the
same exception for every upstream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
import json
import math
import ssl
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from .errors import (
    MAX_RETRY_AFTER_SECONDS,
    ApiConnectionError,
    ApiError,
    AuthError,
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)

REDACTED = "***"
_DOT_SEGMENTS = frozenset({"", ".", ".."})

type Query = Mapping[str, str | int] | Sequence[tuple[str, str | int]]
type ErrorMapper = Callable[[int, str, Mapping[str, str], str], ApiError]
"""Builds the exception for an error answer from its status, body text (secrets redacted), headers and
``where`` (e.g. ``"GET /account"``)."""
type ConnectionErrorMapper = Callable[[BaseException, str], ApiConnectionError]
"""Builds the exception for a request that got no answer (a timeout or an :class:`aiohttp.ClientError`)."""
type SslSetting = ssl.SSLContext | bool | aiohttp.Fingerprint


def quote_segment(value: str | int) -> str:
    """Quote an id for use as exactly one path segment (``/`` cannot escape it).

    Raises:
        ValueError: For an empty id, ``.`` or ``..``: as a segment they would change which resource the path
            names (URLs are normalised on the way out, so even ``%2E%2E`` would climb up a level).
    """
    text = str(value)
    if text in _DOT_SEGMENTS:
        raise ValueError(f"{text!r} cannot be used as an id in a URL path")
    return quote(text, safe="")


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every non-empty secret in ``text`` with ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def redact_error(err: ApiError, secrets: Iterable[str | None]) -> None:
    """Remove ``secrets`` from the message (every text argument) and the ``fields`` of ``err``, in place."""
    hidden = [secret for secret in secrets if secret]
    if not hidden:
        return
    err.args = tuple(redact(arg, hidden) if isinstance(arg, str) else arg for arg in err.args)
    if isinstance(err, ValidationError):
        err.fields = {
            redact(key, hidden): [redact(message, hidden) for message in messages]
            for key, messages in err.fields.items()
        }


@contextlib.contextmanager
def redacting(secrets: Iterable[str | None]) -> Iterator[None]:
    """Redact ``secrets`` from any :class:`ApiError` raised inside (see :func:`redact_error`)."""
    try:
        yield
    except ApiError as err:
        redact_error(err, secrets)
        raise


def error_summary(where: str, status: int, message: str | None = None) -> str:
    """The message of an HTTP error: ``"<where>: HTTP <status>"`` plus ``": <message>"`` when there is one."""
    return f"{where}: HTTP {status}" + (f": {message}" if message else "")


def json_object(text: str) -> dict[str, Any] | None:
    """``text`` decoded as a JSON object, or ``None`` when it is not one (HTML, plain text, an array)."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def error_for_status(
    status: int,
    summary: str,
    headers: Mapping[str, str],
    fields: dict[str, list[str]] | None = None,
) -> ApiError:
    """Map an HTTP error status to the shared exception hierarchy.

    401/403 → :class:`AuthError`, 404 → :class:`NotFoundError`, 409 → :class:`ConflictError`, 400/422 →
    :class:`ValidationError` (with ``fields``), 429 → :class:`RateLimitedError` (``Retry-After`` read from
    ``headers``), 5xx → :class:`ServerError`, anything else → :class:`ApiError`.
    """
    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
        return AuthError(summary, status=status)
    if status == HTTPStatus.NOT_FOUND:
        return NotFoundError(summary, status=status)
    if status == HTTPStatus.CONFLICT:
        return ConflictError(summary, status=status)
    if status in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNPROCESSABLE_ENTITY):
        return ValidationError(summary, status=status, fields=fields)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimitedError(summary, retry_after=retry_after_seconds(headers), status=status)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ServerError(summary, status=status)
    return ApiError(summary, status=status)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Read ``Retry-After`` (seconds, or an HTTP date) as a wait in seconds (at most 15 minutes)."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return _capped(seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about the local zone
        when = when.replace(tzinfo=UTC)
    return _capped((when - datetime.now(UTC)).total_seconds())


def _capped(seconds: float) -> float:
    return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)


def status_error(status: int, text: str, headers: Mapping[str, str], where: str) -> ApiError:
    """The :data:`ErrorMapper` for an upstream whose error bodies are not read: only the status counts."""
    return error_for_status(status, error_summary(where, status), headers)


def connection_error(err: BaseException, where: str) -> ApiConnectionError:
    """The exception for a request that got no answer: it names the failure's class, never its text."""
    if isinstance(err, TimeoutError):
        return ApiConnectionError(f"{where}: timed out")
    return ApiConnectionError(f"{where}: {err.__class__.__name__}")


@dataclass(frozen=True, slots=True)
class Response:
    """An answer as read off the wire (any status)."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    @property
    def text(self) -> str:
        """The body as text (invalid UTF-8 replaced: error pages only feed messages)."""
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Request:
    """One request; ``where`` names it in error messages (``"GET /account"``), never with a secret."""

    method: str
    url: str | URL
    where: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    params: Query | None = None
    json: Any = field(default=None, repr=False)
    form: Mapping[str, str] | None = field(default=None, repr=False)
    secrets: tuple[str | None, ...] = field(default=(), repr=False)
    ssl: SslSetting | None = None
    """aiohttp's ``ssl=`` for this request (``None``: the session's default)."""


class HttpTransport:
    """How one client talks HTTP.

    It holds an injected session (never closed here), a timeout, the headers and secrets every request
    carries and the vendor's error mapping.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout: float,
        base_url: str = "",
        error_for: ErrorMapper = status_error,
        headers: Mapping[str, str] | None = None,
        bearer: str | None = None,
        secrets: Iterable[str | None] = (),
        on_connection_error: ConnectionErrorMapper = connection_error,
    ) -> None:
        """Send through ``session``.

        Args:
            session: The HTTP session; never closed here.
            timeout: Seconds each request may take, in total.
            base_url: The API root that :meth:`request` puts before a path (a trailing ``/`` is dropped).
            error_for: Builds the exception for an error answer (default: by status only).
            headers: Headers of every request.
            bearer: A token every request sends as ``Authorization: Bearer``; it is a secret too.
            secrets: Texts no exception may show, for every request.
            on_connection_error: Maps a request that got no answer.
        """
        self._session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.base_url = base_url.rstrip("/")
        self._error_for = error_for
        self._headers = dict(headers or {})
        self._secrets = tuple(secrets)
        if bearer is not None:
            self._headers["Authorization"] = f"Bearer {bearer}"
            self._secrets += (bearer,)
        self._on_connection_error = on_connection_error

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str | None] = (),
    ) -> Request:
        """A request for ``path`` below :attr:`base_url`, named ``"<method> <path>"`` in errors."""
        return Request(
            method,
            f"{self.base_url}{path}",
            f"{method} {path}",
            headers=dict(headers or {}),
            params=params,
            json=json_body,
            secrets=tuple(secrets),
        )

    def secrets_of(self, request: Request) -> tuple[str | None, ...]:
        """Every secret an error of ``request`` must not show: the transport's and the request's own."""
        return (*self._secrets, *request.secrets)

    async def send(
        self, request: Request, *, max_bytes: int | None = None, body_name: str = "body"
    ) -> Response:
        """Perform ``request`` and read the whole answer, whatever its status.

        Raises:
            ApiConnectionError: No answer (network failure, timeout), mapped by ``on_connection_error``.
            MalformedResponseError: The body is larger than ``max_bytes`` (``body_name`` names it).
        """
        extra: dict[str, Any] = {} if request.ssl is None else {"ssl": request.ssl}
        with redacting(self.secrets_of(request)):
            try:
                async with self._session.request(
                    request.method,
                    request.url,
                    params=request.params,
                    json=request.json,
                    data=request.form,
                    headers={**self._headers, **request.headers},
                    timeout=self.timeout,
                    **extra,
                ) as resp:
                    body = await _read(resp, f"{request.where}: the {body_name}", max_bytes)
                    return Response(resp.status, resp.headers.copy(), body)
            except ApiError:
                raise
            except (TimeoutError, aiohttp.ClientError) as err:
                raise self._on_connection_error(err, request.where) from err

    def decode_json(self, request: Request, response: Response, error_for: ErrorMapper | None = None) -> Any:
        """The JSON body of ``response`` (``None`` for 204 or an empty body).

        Raises:
            ApiError: A status of 400 or more, built by ``error_for`` (default: the transport's).
            MalformedResponseError: A body that is not JSON.
        """
        secrets = self.secrets_of(request)
        with redacting(secrets):
            if response.status >= HTTPStatus.BAD_REQUEST:
                mapper = error_for or self._error_for
                raise mapper(response.status, redact(response.text, secrets), response.headers, request.where)
            if response.status == HTTPStatus.NO_CONTENT or not response.body.strip():
                return None
            try:
                return json.loads(response.body)
            except ValueError as err:  # also UnicodeDecodeError
                raise MalformedResponseError(
                    f"{request.where}: the body is not JSON", status=response.status
                ) from err

    async def request_json(self, request: Request, error_for: ErrorMapper | None = None) -> Any:
        """Send ``request`` and return its JSON body (see :meth:`send` and :meth:`decode_json`)."""
        return self.decode_json(request, await self.send(request), error_for)


async def _read(resp: aiohttp.ClientResponse, what: str, max_bytes: int | None) -> bytes:
    """The whole body; with ``max_bytes``, refused as soon as it is known to be larger.

    A 304 has no body, whatever its ``Content-Length`` says about the representation it stands for.
    """
    if max_bytes is None or resp.status == HTTPStatus.NOT_MODIFIED:
        return await resp.read()
    too_large = MalformedResponseError(f"{what} is larger than {max_bytes} bytes")
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
