"""The translated errors of actions: the user's mistakes, and upstream failures."""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api.errors import ValidationError
from .const import DOMAIN


def invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """The user's mistake (nothing was changed), as the translation ``key`` says it."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def failed(key: str, **placeholders: str) -> HomeAssistantError:
    """An upstream failure, as the translation ``key`` says it."""
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def field_errors(err: ValidationError, names: Mapping[str, str]) -> str:
    """The upstream's per-field messages, its field names shown as ``names`` says ("email: is not valid")."""
    parts = [f"{names.get(name, name)}: {', '.join(messages)}" for name, messages in err.fields.items()]
    return "; ".join(parts) or str(err)
