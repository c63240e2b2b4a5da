"""Kasify config entries through the config-flow REST API, as the UI adds them, and their entities."""

from __future__ import annotations

from typing import Any

from .ha_api import HomeAssistantApi
from .processes import BootstrapError
from .settings import DOMAIN, MENU_CHOICES, Settings


async def kasify_entries(api: HomeAssistantApi) -> list[dict[str, Any]]:
    """Return the Kasify config entries."""
    entries = await api.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
    return [entry for entry in entries if entry.get("domain") == DOMAIN]


async def create_entry(api: HomeAssistantApi, settings: Settings, kind: str) -> dict[str, Any] | None:
    """Walk the config flow: menu ``user`` -> option ``kind`` -> its form; None if already configured."""
    answers = settings.account_answers(kind)
    result = await api.post(
        "/api/config/config_entries/flow", {"handler": DOMAIN, "show_advanced_options": False}
    )
    for _ in range(5):
        result_type = result.get("type")
        flow_id = result.get("flow_id")
        step = result.get("step_id")
        if result_type == "create_entry":
            entry: dict[str, Any] = result.get("result") or {}
            settings.say(f"created config entry {result.get('title')!r} ({entry.get('state')})")
            return entry
        if result_type == "menu":
            options = result.get("menu_options") or []
            choice = kind if kind in options else MENU_CHOICES.get(kind)
            if choice not in options:
                raise BootstrapError(f"config flow menu {step!r} has no {kind!r}: {options}")
            payload: dict[str, Any] = {"next_step_id": choice}
        elif result_type == "form":
            payload = _form_answers(result, answers)
        elif result_type == "abort":
            if result.get("reason") == "already_configured":
                settings.say(f"the {kind} account is already set up")
                return None
            raise BootstrapError(f"config flow aborted: {result.get('reason')}")
        else:
            raise BootstrapError(f"unexpected config flow result: {result}")
        result = await api.post(f"/api/config/config_entries/flow/{flow_id}", payload)
    raise BootstrapError(f"config flow did not finish after 5 steps: {result}")


def _form_answers(result: dict[str, Any], answers: dict[str, str]) -> dict[str, Any]:
    step = result.get("step_id")
    if result.get("errors"):
        raise BootstrapError(f"config flow step {step!r} errors: {result['errors']}")
    schema = result.get("data_schema") or []
    names = {item["name"] for item in schema}
    missing = [
        item["name"]
        for item in schema
        if item.get("required") and item["name"] not in answers and "default" not in item
    ]
    if missing:
        raise BootstrapError(f"config flow step {step!r} asks for {missing}")
    return {key: value for key, value in answers.items() if key in names}


async def kasify_entity_states(api: HomeAssistantApi) -> list[dict[str, Any]]:
    """Return the states of the entities the kasify platform provides in this run.

    Registered entities that the integration did not add this time only have a placeholder state
    restored from the registry (attribute ``restored: true``); those are left out.
    """
    registry = await api.websocket_command({"type": "config/entity_registry/list"})
    ours = {item["entity_id"] for item in registry if item.get("platform") == DOMAIN}
    states = await api.get("/api/states")
    return [
        state
        for state in states
        if state["entity_id"] in ours and not state.get("attributes", {}).get("restored")
    ]


def available(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The states that are not ``unavailable``."""
    return [state for state in states if state.get("state") != "unavailable"]
