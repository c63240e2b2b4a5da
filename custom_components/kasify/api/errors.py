"""One exception hierarchy for every upstream client.

The integration maps these to Home Assistant's exceptions in exactly one place per concern (the
coordinator for polling, the config flow for validation, the actions for calls), so the clients never
need to know about HA.
"""

from __future__ import annotations


class KasifyApiError(Exception):
    """Base class: any failure talking to an upstream API."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        """Keep the HTTP status (when there was one) next to the message."""
        super().__init__(message)
        self.status = status


class AuthError(KasifyApiError):
    """The credentials were refused (401) or do not reach the resource (403)."""


class NotFoundError(KasifyApiError):
    """The resource does not exist (404)."""


class ConflictError(KasifyApiError):
    """The request conflicts with the current state (409), e.g. an overlapping booking."""


class ValidationError(KasifyApiError):
    """The upstream rejected the input (400/422); ``fields`` maps field names to messages."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        """Store the per-field messages the upstream returned."""
        super().__init__(message, status=status)
        self.fields: dict[str, list[str]] = fields or {}


class RateLimitedError(KasifyApiError):
    """Too many requests (429); ``retry_after`` is the wait in seconds the upstream asked for."""

    def __init__(self, message: str, *, retry_after: float | None, status: int | None = 429) -> None:
        """Store how long to wait before the next request."""
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ServerError(KasifyApiError):
    """The upstream failed (5xx)."""


class ApiConnectionError(KasifyApiError):
    """The upstream could not be reached, or did not answer in time."""


class MalformedResponseError(KasifyApiError):
    """The upstream answered, but not with the JSON shape the API documents."""
