"""HTTP helpers every upstream client shares: status → exception mapping, ``Retry-After``, redaction.

Each client reads its vendor's error body itself (the shapes differ) and hands the message and per-field
problems to :func:`error_for_status`, so that one HTTP status means the same exception for every upstream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
import math
from urllib.parse import quote

from .errors import (
    AuthError,
    ConflictError,
    KasifyApiError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)

REDACTED = "***"


def quote_segment(value: str) -> str:
    """Quote an id for use as exactly one path segment (``/`` and ``..`` cannot escape it)."""
    return quote(value, safe="")


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every non-empty secret in ``text`` with ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def error_for_status(
    status: int,
    summary: str,
    headers: Mapping[str, str],
    fields: dict[str, list[str]] | None = None,
) -> KasifyApiError:
    """Map an HTTP error status to the shared exception hierarchy.

    401/403 → :class:`AuthError`, 404 → :class:`NotFoundError`, 409 → :class:`ConflictError`, 400/422 →
    :class:`ValidationError` (with ``fields``), 429 → :class:`RateLimitedError` (``Retry-After`` read from
    ``headers``), 5xx → :class:`ServerError`, anything else → :class:`KasifyApiError`.
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
    return KasifyApiError(summary, status=status)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Read ``Retry-After`` (seconds, or an HTTP date) as a wait in seconds."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about the local zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
