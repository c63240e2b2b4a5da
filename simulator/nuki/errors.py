"""Nuki's error answers: the web framework's status objects, the parameter-error body and the refusals."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Final

from simulator.kasify_state import Json

SMART_HOSTING_ERROR: Final = "No active Smart Hosting subscription for the Smart Lock, please get one!"
AUTHS_ADVANCED_ERROR: Final = (
    "Auths cannot be created. Please get Smart Hosting subscription for the Smart Locks with ID: {ids}"
)
"""The ``error`` text ``PUT /smartlock/auth/advanced`` answers with status 200 (``{ids}``: the lock ids)."""
REFUSAL_SHAPES: Final = ("detailMessage", "error")

_STATUS_URI: Final = "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"
_WEBDAV_422: Final = "http://www.webdav.org/specs/rfc2518.html#STATUS_422"
_DESCRIPTION_422: Final = (
    "The server understands the content type of the request entity and the syntax of the request entity is "
    "correct but was unable to process the contained instructions"
)


class NukiError(Exception):
    """An error answer: HTTP ``status`` and the JSON ``payload`` Nuki sends with it.

    The status may be 2xx: a refusal Nuki sends with 200 (see ``NukiState.refuse_writes``).
    """

    def __init__(self, status: int, payload: Json) -> None:
        """Answer ``status`` with ``payload``."""
        super().__init__(f"HTTP {status}: {payload}")
        self.status = status
        self.payload = payload


def status_object(status: int, description: str | None = None) -> Json:
    """The web framework's status object (401, 404, 405, 422, 423, ...)."""
    try:
        phrase, default = HTTPStatus(status).phrase, HTTPStatus(status).description
    except ValueError:
        phrase, default = "Error", ""
    if status == HTTPStatus.UNPROCESSABLE_ENTITY:
        phrase, default = "Unprocessable Entity", _DESCRIPTION_422  # Nuki's wording, not RFC 9110's
    return {
        "code": status,
        "description": description or default,
        "reasonPhrase": phrase,
        "uri": _WEBDAV_422 if status == HTTPStatus.UNPROCESSABLE_ENTITY else _STATUS_URI,
        "homeRef": "/",
    }


def detail(message: str) -> Json:
    """The parameter-error body ``{"detailMessage", "stackTrace", "suppressedExceptions"}``."""
    return {"detailMessage": message, "stackTrace": [], "suppressedExceptions": []}


def refusal(shape: str, message: str = SMART_HOSTING_ERROR) -> Json:
    """A refusal body: ``detailMessage`` (the Smart Hosting page's) or ``{"error": message}``."""
    if shape not in REFUSAL_SHAPES:
        raise ValueError(f"unknown refusal shape {shape!r}; use one of {REFUSAL_SHAPES}")
    return detail(message) if shape == "detailMessage" else {"error": message}


def fail(status: int, description: str | None = None) -> NukiError:
    """The error answering ``status`` with a status object."""
    return NukiError(status, status_object(status, description))


def bad_parameter(name: str, value: Any) -> NukiError:
    """The 400 ``detailMessage`` answer for a parameter with an invalid value."""
    shown = "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return NukiError(400, detail(f"The supplied value '{shown}' for parameter '{name}' is not valid"))


def busy_error() -> NukiError:
    """The 423 answer while the device is held by another operation."""
    return fail(HTTPStatus.LOCKED, "The smartlock is locked by another operation")
