"""UniFi Access error answers: an envelope ``code`` and ``msg``, and the HTTP status of each code."""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

# HTTP status of each error code unless errors_as_http_200 (unconfirmed: see the package docstring).
_CODE_STATUS: Final = {
    "CODE_ACCESS_TOKEN_INVALID": HTTPStatus.UNAUTHORIZED,
    "CODE_UNAUTHORIZED": HTTPStatus.FORBIDDEN,
    "CODE_PARAMS_INVALID": HTTPStatus.BAD_REQUEST,
    "CODE_CREDS_PIN_CODE_CREDS_LENGTH_INVALID": HTTPStatus.BAD_REQUEST,
    "CODE_CREDS_PIN_CODE_CREDS_ALREADY_EXIST": HTTPStatus.BAD_REQUEST,
    "CODE_RESOURCE_NOT_FOUND": HTTPStatus.NOT_FOUND,
    "CODE_NOT_EXISTS": HTTPStatus.NOT_FOUND,
    "CODE_OPERATION_FORBIDDEN": HTTPStatus.PAYMENT_REQUIRED,
    "CODE_DEVICE_DEVICE_OFFLINE": HTTPStatus.PAYMENT_REQUIRED,
    "CODE_SYSTEM_ERROR": HTTPStatus.INTERNAL_SERVER_ERROR,
}
_MESSAGES: Final = {
    "CODE_ACCESS_TOKEN_INVALID": "The provided access token is invalid.",
    "CODE_UNAUTHORIZED": "You are not allowed to perform this action.",
    "CODE_PARAMS_INVALID": "The provided parameters are invalid.",
    "CODE_RESOURCE_NOT_FOUND": "The requested resource was not found.",
    "CODE_NOT_EXISTS": "The requested item does not exist.",
    "CODE_OPERATION_FORBIDDEN": "The requested operation is not allowed.",
    "CODE_DEVICE_DEVICE_OFFLINE": "The device is currently offline.",
    "CODE_CREDS_PIN_CODE_CREDS_ALREADY_EXIST": "The PIN code already exists.",
    "CODE_CREDS_PIN_CODE_CREDS_LENGTH_INVALID": "The PIN code length does not meet the preset requirements.",
    "CODE_SYSTEM_ERROR": "An error occurred on the server's end.",
}


class UnifiError(Exception):
    """An error answer: an envelope ``code`` and ``msg``; the HTTP status follows from the code."""

    def __init__(self, code: str, message: str | None = None) -> None:
        """Describe the error; the message defaults to the documented one for ``code``."""
        super().__init__(message or _MESSAGES.get(code, code))
        self.code = code
        self.message = message or _MESSAGES.get(code, code)


_STATUS_CODES: Final[dict[int, str]] = {
    HTTPStatus.BAD_REQUEST: "CODE_PARAMS_INVALID",
    HTTPStatus.UNAUTHORIZED: "CODE_ACCESS_TOKEN_INVALID",
    HTTPStatus.PAYMENT_REQUIRED: "CODE_OPERATION_FORBIDDEN",
    HTTPStatus.FORBIDDEN: "CODE_UNAUTHORIZED",
    HTTPStatus.NOT_FOUND: "CODE_RESOURCE_NOT_FOUND",
}


def code_for_status(status: int) -> str:
    """The error code a bare HTTP error status (an injected fault) is rendered with."""
    return _STATUS_CODES.get(status, "CODE_SYSTEM_ERROR")


def status_for(code: str) -> int:
    """The HTTP status an error ``code`` is sent with (400 for a code without one)."""
    return _CODE_STATUS.get(code, HTTPStatus.BAD_REQUEST)
