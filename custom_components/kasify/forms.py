"""What the config and options forms share: field selectors, secrets, and a refused field."""

from __future__ import annotations

from typing import Final

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


class InvalidFieldError(ValueError):
    """A field the user typed is not acceptable; the form shows ``error`` (a translation key) on it."""

    def __init__(self, field: str, error: str, message: str = "") -> None:
        """The field and the error to show on it."""
        super().__init__(message or error)
        self.field = field
        self.error = error
