"""Onboarding a fresh Home Assistant through its REST API, or logging in to one already onboarded."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Final

import aiohttp

from .ha_api import HTTP_NOT_FOUND, HomeAssistantApi, read_json
from .processes import BootstrapError, rel
from .settings import USER_DISPLAY_NAME, Settings

ONBOARDING_STEPS: Final = ("user", "core_config", "analytics", "integration")  # in Home Assistant's order
# Entries the core_config onboarding step creates that cannot work here (internet, ffmpeg).
ONBOARDING_DOMAINS_TO_REMOVE: Final = ("met", "radio_browser", "google_translate")


async def onboarding_steps_done(api: HomeAssistantApi) -> set[str] | None:
    """Return the finished onboarding steps, or None when onboarding is complete.

    A Home Assistant that starts fully onboarded does not register ``/api/onboarding`` (HTTP 404).
    """
    async with api.session.get(f"{api.base_url}/api/onboarding") as response:
        if response.status == HTTP_NOT_FOUND:
            return None
        steps = await read_json(response, "GET /api/onboarding")
    done = {step["step"] for step in steps if step["done"]}
    return None if done >= set(ONBOARDING_STEPS) else done


async def onboard_or_login(
    api: HomeAssistantApi, settings: Settings, creds: dict[str, str]
) -> tuple[bool, bool]:
    """Finish onboarding (creating the user) or log in.

    Returns:
        (user created now, ``core_config`` step finished now)
    """
    done = await onboarding_steps_done(api)
    if done is None:
        settings.say("already onboarded; logging in")
        await login(api, settings, creds)
        return False, False
    created = False

    if "user" not in done:
        settings.say(f"onboarding: creating the owner user {creds['username']!r}")
        result = await api.post(
            "/api/onboarding/users",
            {
                "client_id": settings.client_id,
                "name": USER_DISPLAY_NAME,
                "username": creds["username"],
                "password": creds["password"],
                "language": "en",
            },
            auth=False,
        )
        await api.exchange_auth_code(result["auth_code"])
        created = True
    else:
        await login(api, settings, creds)

    for step in ONBOARDING_STEPS[1:]:
        if step in done:
            continue
        settings.say(f"onboarding: finishing step {step!r}")
        payload: dict[str, str] = {}
        if step == "integration":
            payload = {"client_id": settings.client_id, "redirect_uri": settings.redirect_uri}
        await api.post(f"/api/onboarding/{step}", payload)

    if (partly := await onboarding_steps_done(api)) is not None:
        raise BootstrapError(f"onboarding did not complete; steps done: {sorted(partly)}")
    return created, "core_config" not in done


async def remove_onboarding_entries(api: HomeAssistantApi, settings: Settings, seconds: float) -> None:
    """Remove the entries that finishing onboarding adds and that cannot work here.

    The ``core_config`` onboarding step starts config flows for met, radio_browser,
    google_translate and shopping_list. Weather and radio need the internet and would retry (and
    log) forever; text-to-speech needs ffmpeg. They are removed as soon as they appear (polling
    for ``seconds`` after onboarding; one pass on later starts).
    """
    deadline = time.monotonic() + seconds
    pending = set(ONBOARDING_DOMAINS_TO_REMOVE)
    while True:
        with contextlib.suppress(BootstrapError, aiohttp.ClientError, TimeoutError):
            for entry in await api.get("/api/config/config_entries/entry"):
                domain = entry.get("domain")
                if domain in pending and entry.get("source") == "onboarding":
                    await api.delete(f"/api/config/config_entries/entry/{entry['entry_id']}")
                    pending.discard(domain)
                    settings.say(f"removed the {domain!r} entry that onboarding adds")
        if not pending or time.monotonic() >= deadline:
            return
        await asyncio.sleep(2)


async def login(api: HomeAssistantApi, settings: Settings, creds: dict[str, str]) -> None:
    """Log in through the login flow with the stored credentials."""
    flow = await api.post(
        "/auth/login_flow",
        {
            "client_id": settings.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": settings.redirect_uri,
        },
        auth=False,
    )
    result = await api.post(
        f"/auth/login_flow/{flow['flow_id']}",
        {"client_id": settings.client_id, "username": creds["username"], "password": creds["password"]},
        auth=False,
    )
    if result.get("type") != "create_entry":
        raise BootstrapError(
            f"login as {creds['username']!r} failed ({result.get('errors')}). The instance in "
            f"{rel(settings.config_dir)} was onboarded with other credentials than "
            f"{rel(settings.credentials_file)}; delete {rel(settings.config_dir / '.storage')} (and that "
            "file) to start from a fresh instance"
        )
    await api.exchange_auth_code(result["result"])
