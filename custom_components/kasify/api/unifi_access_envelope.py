"""The ``{code, msg, data}`` envelope and what each HTTP status and envelope code means."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
import json
from typing import Any, Final

import aiohttp

from .errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    BusyError,
    ConflictError,
    DeviceOfflineError,
    MalformedResponseError,
    MissingPermissionError,
    NotFoundError,
    NotSupportedError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from .http import Response, error_for_status, redact, retry_after_seconds
from .unifi_access_models import SUCCESS

# Envelope codes and the exception each one means.
_AUTH_CODES: Final = frozenset({"CODE_AUTH_FAILED", "CODE_ACCESS_TOKEN_INVALID"})
_PERMISSION_CODES: Final = frozenset({"CODE_UNAUTHORIZED"})
_CODE_ERRORS: Final[dict[str, type[ApiError]]] = {
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


def _permission_for(method: str, path: str) -> str | None:
    """The permission key the API documents for a call, for 403 messages."""
    if path.startswith("/doors"):
        return "view:space" if method == "GET" else "edit:space"
    if path.startswith("/devices"):
        return "view:device"
    if path.startswith("/visitors"):
        return "view:visitor" if method == "GET" else "edit:visitor"
    if path.startswith("/credentials"):
        return "view:credential"
    return None


def unwrap_envelope(response: Response, method: str, path: str, secrets: Sequence[str | None]) -> Any:
    """Check status and envelope of an answer; raise the matching error or return ``data``.

    The code is checked on any HTTP status (controllers also answer 200 with a non-``SUCCESS`` code).
    """
    status, raw = response.status, response.body
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
            message = redact(response.text, secrets)[:200]
        text = redact(str(message), secrets) if message else None
        raise envelope_error(status, code, text, response.headers, method, path)
    if not isinstance(body, dict) or code != SUCCESS:
        raise MalformedResponseError(f"{method} {path}: not a {{code, msg, data}} envelope", status=status)
    return body.get("data")


def envelope_error(
    status: int,
    code: str | None,
    message: str | None,
    headers: Mapping[str, str],
    method: str,
    path: str,
) -> ApiError:
    """The exception for an HTTP error status and/or an envelope ``code`` other than ``SUCCESS``."""
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
    return ApiError(summary, status=status)


def handshake_error(err: aiohttp.WSServerHandshakeError, where: str) -> ApiError:
    """Map a refused WebSocket handshake (the push connection) to the shared hierarchy."""
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


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"
