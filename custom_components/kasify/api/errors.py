"""One exception hierarchy for every upstream client.

The integration maps these to Home Assistant's exceptions in exactly one place per concern (the
coordinator for polling, the config flow for validation, the actions for calls), so the clients never
need to know about HA.
"""

from __future__ import annotations

from typing import Final


class ApiError(Exception):
    """Base class: any failure talking to an upstream API."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        """Keep the HTTP status (when there was one) next to the message."""
        super().__init__(message)
        self.status = status


class AuthError(ApiError):
    """The credentials were refused (401) or do not reach the resource (403)."""


class NotFoundError(ApiError):
    """The resource does not exist (404)."""


class ConflictError(ApiError):
    """The request conflicts with the current state (409), e.g. an overlapping booking."""


class ValidationError(ApiError):
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


# The longest wait an upstream's Retry-After (or rate-limit reset) is believed, in seconds: a longer one (a
# day, a far HTTP date from a proxy) would stop polling, and so the revoking of cancelled codes, for that
# long. Every place that honours such a wait caps it here.
MAX_RETRY_AFTER_SECONDS: Final = 15 * 60.0


class RateLimitedError(ApiError):
    """Too many requests (429); ``retry_after`` is the wait in seconds the upstream asked for."""

    def __init__(self, message: str, *, retry_after: float | None, status: int | None = 429) -> None:
        """Store how long to wait before the next request."""
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ServerError(ApiError):
    """The upstream failed (5xx)."""


class ApiConnectionError(ApiError):
    """The upstream could not be reached, or did not answer in time."""


class MalformedResponseError(ApiError):
    """The upstream answered, but not with the JSON shape the API documents."""


class PermissionDeniedError(AuthError):
    """The credentials are valid but not allowed to do this (RemoteLock answers 401 "not permitted")."""


class OAuthGrantError(AuthError):
    """The OAuth2 token endpoint refused the grant (``invalid_grant``, ``invalid_client``, ...): re-authorize.

    ``error`` is the OAuth2 error code the server gave, when it gave one.
    """

    def __init__(self, message: str, *, status: int | None = None, error: str | None = None) -> None:
        """Keep the OAuth2 error code next to the message."""
        super().__init__(message, status=status)
        self.error = error


class SubscriptionRequiredError(ApiError):
    """The account lacks the paid plan this needs (402, e.g. RemoteLock ``billing_subscription_required``).

    ``error_type`` is the upstream's machine-readable reason, when it gave one.
    """

    def __init__(self, message: str, *, status: int | None = 402, error_type: str | None = None) -> None:
        """Keep the upstream's reason next to the message."""
        super().__init__(message, status=status)
        self.error_type = error_type


class SmartHostingRequiredError(SubscriptionRequiredError):
    """A Nuki lock has no active Smart Hosting subscription, so the Web API refuses to operate it.

    ``lock_id`` is the Nuki ``smartlockId`` (as text) the refused request was about, when known.
    """

    def __init__(self, message: str, *, status: int | None = None, lock_id: str | None = None) -> None:
        """Keep the lock the subscription is missing for next to the message."""
        super().__init__(message, status=status, error_type="no_active_smart_hosting")
        self.lock_id = lock_id


class BusyError(ApiError):
    """The device or record is busy with another operation (423 Locked); try again in a few seconds."""


class NotSupportedError(ApiError):
    """The upstream does not allow this operation on this resource (405), e.g. an action the device lacks."""


class OperationPendingError(ApiError):
    """The upstream accepted a change but it has not shown up yet; it may still take effect later.

    ``lock_id`` names the lock the change was for, when there is one.
    """

    def __init__(self, message: str, *, status: int | None = None, lock_id: str | None = None) -> None:
        """Keep the lock the pending change is for next to the message."""
        super().__init__(message, status=status)
        self.lock_id = lock_id


class MissingPermissionError(PermissionDeniedError):
    """The token is valid but lacks the permission scope the call needs (UniFi Access answers 403).

    ``permission`` names the missing scope (e.g. ``edit:space``), when known.
    """

    def __init__(self, message: str, *, status: int | None = 403, permission: str | None = None) -> None:
        """Keep the missing permission next to the message."""
        super().__init__(message, status=status)
        self.permission = permission


class PartialWriteError(ApiError):
    """A change of several requests went part of the way, and undoing that part failed: something is left."""


class DeviceOfflineError(ApiError):
    """The upstream is reachable, but the device behind the resource is offline (UniFi ``DEVICE_OFFLINE``)."""


class CertificateError(ApiConnectionError):
    """The server's TLS certificate was refused (not trusted, or not the pinned one); retrying won't help."""


class CertificateMismatchError(CertificateError):
    """The server's certificate is not the pinned one.

    ``expected`` and ``actual`` are SHA-256 fingerprints (``AA:BB:...``); ``actual`` is ``None`` when unknown.
    """

    def __init__(self, message: str, *, expected: str, actual: str | None) -> None:
        """Keep both fingerprints next to the message."""
        super().__init__(message)
        self.expected = expected
        self.actual = actual
