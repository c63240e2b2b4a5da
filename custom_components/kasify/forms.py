"""What the config and options forms share: field selectors, secrets, and a refused field."""

from __future__ import annotations

import ipaddress
from typing import Final
from urllib.parse import urlsplit

from homeassistant.const import CONF_CLIENT_SECRET
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .const import CONF_API_TOKEN, CONF_SECRET

URL: Final = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
SECRET: Final = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
TEXT: Final = TextSelector()

# Never pre-filled in a form.
SECRETS: Final = frozenset({CONF_API_TOKEN, CONF_SECRET, CONF_CLIENT_SECRET})


def whole_number(minimum: int, maximum: int, unit: str) -> NumberSelector:
    """A number box for whole numbers in ``[minimum, maximum]`` with a unit."""
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement=unit
        )
    )


def insecure_url(url: str) -> bool:
    """An ``http://`` URL to anything but this machine: a token or secret feed link would go in clear text.

    Loopback (``127.0.0.0/8``, ``::1``, ``localhost``) stays allowed for local development and the simulator.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def check_secure_url(field: str, url: str) -> None:
    """Refuse :func:`insecure_url` on ``field`` (InvalidFieldError ``insecure_url``)."""
    if insecure_url(url):
        raise InvalidFieldError(field, "insecure_url", "http:// only to this machine")


class InvalidFieldError(ValueError):
    """A field the user typed is not acceptable; the form shows ``error`` (a translation key) on it."""

    def __init__(self, field: str, error: str, message: str = "") -> None:
        """The field and the error to show on it."""
        super().__init__(message or error)
        self.field = field
        self.error = error
