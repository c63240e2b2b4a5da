"""API errors raised by vendor state and handlers, rendered by each vendor in its own error shape."""

from __future__ import annotations

from http import HTTPStatus


class ApiError(Exception):
    """An error answer: HTTP ``status``, a short ``code``, a ``message`` and, for 422, ``fields``."""

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR
    code: str = "internal_error"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        """Describe the error; ``fields`` maps a body field to its problems."""
        super().__init__(message)
        self.message = message
        self.fields = fields


class BadRequestError(ApiError):
    """400: the body is not a JSON object."""

    status = HTTPStatus.BAD_REQUEST
    code = "bad_request"


class UnauthorizedError(ApiError):
    """401: missing or wrong credentials."""

    status = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"


class NotFoundError(ApiError):
    """404: an unknown id."""

    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class ConflictError(ApiError):
    """409: the request clashes with the current state (overlap, illegal transition)."""

    status = HTTPStatus.CONFLICT
    code = "conflict"


class ValidationFailedError(ApiError):
    """422: validation failed; ``fields`` says where."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "validation_failed"

    def __init__(self, fields: dict[str, list[str]], message: str = "Validation failed") -> None:
        """Report the invalid ``fields``."""
        super().__init__(message, fields=fields)


ERROR_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def code_for(status: int) -> str:
    """A short snake_case error code for an HTTP status."""
    if status in ERROR_CODES:
        return ERROR_CODES[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"
