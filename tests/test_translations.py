"""Every translation key the code uses exists in English and Spanish, and the two files match."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re
from typing import Any

import pytest

from custom_components.kasify import config_flow
from custom_components.kasify.api.models import Feature
from custom_components.kasify.const import STAY_EVENT_TYPES

PACKAGE = Path(config_flow.__file__).parent
LANGUAGES = ("en", "es")


def _load(language: str) -> dict[str, Any]:
    return json.loads((PACKAGE / "translations" / f"{language}.json").read_text(encoding="utf-8"))


def _keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            keys |= _keys(value, path)
        else:
            keys.add(path)
    return keys


def _sources() -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for path in PACKAGE.rglob("*.py")
        if "api" not in path.relative_to(PACKAGE).parts
    }


def _string_kwargs(name: str) -> set[str]:
    """Literal string values passed as keyword ``name=...`` or assigned to ``_attr_name``-style targets."""
    found: set[str] = set()
    for tree in _sources().values():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == name
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found.add(node.value.value)
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Name)
                        and target.id == f"_attr_{name}"
                        and isinstance(node.value, ast.Constant)
                    ):
                        found.add(str(node.value.value))
    return found


FLOW_SOURCES = ("config_flow.py", "options_flow.py", "providers/unifi_access.py")


def _flow_text() -> str:
    return "\n".join((PACKAGE / name).read_text(encoding="utf-8") for name in FLOW_SOURCES)


def _flow_errors() -> set[str]:
    """Errors set in the flows: ``errors["base"] = "x"``, ``{CONF_...: "x"}`` / ``{"base": "x"}``, and the
    errors of refused fields (``InvalidFieldError(CONF_..., "x")``)."""
    text = _flow_text()
    return (
        set(re.findall(r'errors\[(?:"base"|CONF_\w+)\] = "([a-z_]+)"', text))
        | set(re.findall(r'return \{(?:"base"|CONF_\w+): "([a-z_]+)"\}', text))
        | set(re.findall(r'InvalidFieldError\(CONF_\w+, "([a-z_]+)"', text))
    )


def _flow_aborts() -> set[str]:
    text = _flow_text()
    return set(re.findall(r'reason="([a-z_]+)"', text)) | {
        "already_configured",
        "reauth_successful",
        "reconfigure_successful",
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_code_keys_exist(language: str) -> None:
    """Exceptions, flow errors/aborts and entity names used in code are all translated."""
    strings = _load(language)
    translation_keys = _string_kwargs("translation_key")
    assert translation_keys, "the scan found no translation keys"

    entity_keys = {key for platform in strings["entity"].values() for key in platform}
    for key in translation_keys:
        assert key in strings["exceptions"] or key in entity_keys or key in strings["issues"], (
            f"{language}: {key} missing"
        )
    flow_errors = {**strings["config"]["error"], **strings["options"]["error"]}
    assert _flow_errors() >= {"invalid_auth", "feed_not_found"}, "the scan missed flow errors"
    for key in _flow_errors():
        assert key in flow_errors, f"{language}: error {key} missing"
    for key in _flow_aborts():
        aborts = {**strings["config"]["abort"], **strings["options"]["abort"]}
        assert key in aborts, f"{language}: abort {key} missing"
    # Keys built at run time (f"{action}_failed") and repair issues.
    for key in ("lock_failed", "unlock_failed", "open_failed"):
        assert key in strings["exceptions"], f"{language}: {key} missing"
    inferred = [f"endpoint_not_understood_{feature}" for feature in Feature]
    for issue in ("nuki_smart_hosting", "missing_provider_nuki", "missing_provider_unifi_access", *inferred):
        assert issue in strings["issues"], f"{language}: issue {issue} missing"
    for event_type in STAY_EVENT_TYPES:
        states = strings["entity"]["event"]["stay"]["state_attributes"]["event_type"]["state"]
        assert event_type in states


def test_languages_have_the_same_keys() -> None:
    """Spanish has exactly the English keys (nothing untranslated, nothing stale)."""
    english, spanish = (_keys(_load(language)) for language in LANGUAGES)
    assert english == spanish


def test_placeholders_match() -> None:
    """A placeholder in English is in the Spanish text too."""
    english, spanish = (_load(language) for language in LANGUAGES)

    def walk(en: Any, es: Any, path: str) -> None:
        if isinstance(en, dict):
            for key, value in en.items():
                walk(value, es[key], f"{path}.{key}")
            return
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", es)), path

    walk(english, spanish, "")


def test_icons_reference_translated_entities() -> None:
    """Every icon hangs on an entity translation key that exists."""
    icons = json.loads((PACKAGE / "icons.json").read_text(encoding="utf-8"))
    strings = _load("en")
    for platform, entities in icons["entity"].items():
        for key in entities:
            assert key in strings["entity"][platform], f"icon for unknown {platform}.{key}"
