"""Reading RemoteLock answers: resources (``{type, id, attributes}``), webhook payloads and error bodies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
import hmac
from http import HTTPStatus
from typing import Any, Final

from .errors import (
    ApiError,
    MalformedResponseError,
    PermissionDeniedError,
    RateLimitedError,
    SubscriptionRequiredError,
)
from .http import error_for_status, error_summary, json_object
from .models import LockStatus
from .parse import Reader
from .remotelock_models import (
    ACCESS_PERSON_TYPES,
    DEVICE_TYPES,
    RemoteLockAccess,
    RemoteLockAccessPerson,
    RemoteLockAccount,
    RemoteLockEvent,
    RemoteLockLocation,
    RemoteLockLock,
    RemoteLockUser,
    WebhookSubscriber,
)

_LOCK_STATES: Final = {
    "locked": LockStatus.LOCKED,
    "unlocked": LockStatus.UNLOCKED,
    "jammed": LockStatus.JAMMED,
}


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


def parse_webhook_subscriber(item: Reader) -> WebhookSubscriber:
    """Parse a webhook notification subscriber (``active`` defaults to true, as documented; no secret)."""
    item, attrs = _resource(item)
    return WebhookSubscriber(id=item.str("id"), active=attrs.bool("active", True), url=attrs.opt_str("url"))


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


# --- error bodies ---


def error_for_answer(
    status: int, text: str, headers: Mapping[str, str], where: str, retry_after: float | None
) -> ApiError:
    """Map a RemoteLock error answer to the shared hierarchy (the :mod:`.remotelock` docstring says how)."""
    message, fields, error_type = error_details(text)
    summary = error_summary(where, status, message)
    if status == HTTPStatus.UNAUTHORIZED:
        return PermissionDeniedError(summary, status=status)
    if status == HTTPStatus.PAYMENT_REQUIRED:
        return SubscriptionRequiredError(summary, status=status, error_type=error_type)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimitedError(summary, retry_after=retry_after, status=status)
    return error_for_status(status, summary, headers, fields)


def error_details(text: str) -> tuple[str | None, dict[str, list[str]], str | None]:
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
