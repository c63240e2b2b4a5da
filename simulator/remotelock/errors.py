"""RemoteLock error answers: general errors ``{"message", "type"}``, resource errors (422), OAuth errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simulator.errors import ApiError, code_for
from simulator.kasify_state import Json


class GeneralError(ApiError):
    """A general error: ``{"message", "type"}`` with any status."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        """Answer ``status`` with ``type`` = ``error_type``."""
        super().__init__(message)
        self.status = status
        self.code = error_type


class ResourceError(ApiError):
    """A resource error (422): the request's attributes echoed back and per-attribute messages."""

    status = 422
    code = "unprocessable_entity"

    def __init__(self, attributes: Json, errors: Sequence[tuple[str | None, str]]) -> None:
        """``errors`` are ``(attribute or None, message)`` pairs, e.g. ``("name", "is empty")``."""
        super().__init__("; ".join(f"{attr or ''} {msg}".strip() for attr, msg in errors))
        self.attributes = attributes
        self.errors = list(errors)

    def payload(self) -> Json:
        """The resource error body."""
        grouped: dict[str | None, list[str]] = {}
        for attribute, message in self.errors:
            grouped.setdefault(attribute, []).append(message)
        return {
            "attributes": self.attributes,
            "errors": [
                {
                    "attribute": attribute,
                    "messages": messages,
                    "full_messages": [f"{attribute} {m}" if attribute else m for m in messages],
                }
                for attribute, messages in grouped.items()
            ],
        }


class OAuthError(Exception):
    """An RFC 6749 error answer of the token endpoint."""

    def __init__(self, status: int, error: str, description: str) -> None:
        """Answer ``status`` with ``{"error", "error_description"}``."""
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def get_record(records: Mapping[str, Json], kind: str, record_id: str) -> Json:
    """A record by id; 404 ``not_found`` naming ``kind`` when there is none.

    Raises:
        GeneralError: 404 when there is none.
    """
    try:
        return records[record_id]
    except KeyError:
        raise not_found(kind, record_id) from None


def not_found(kind: str, record_id: str) -> GeneralError:
    """The 404 ``not_found`` answer for an unknown ``kind`` id."""
    return GeneralError(404, "not_found", f"{kind} {record_id} not found")


def general_payload(status: int, message: str, error_type: str | None = None) -> Json:
    """A general error body."""
    return {"message": message, "type": error_type or code_for(status)}
