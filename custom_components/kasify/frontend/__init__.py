"""The Kasify dashboard strategy: a small JavaScript module this integration serves and loads on every page.

``kasify-dashboard.js`` defines the ``custom:kasify`` dashboard strategy (and lists it under *Add dashboard*
on Home Assistant 2026.5 and newer). It is registered once per Home Assistant run, from ``async_setup``, and
stays registered while Home Assistant runs: without a Kasify or casavi account the dashboard says how to add
one. The URL carries a digest of the file, so browsers fetch it again after an update and cache it otherwise.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from ..const import DOMAIN

MODULE_PATH: Final = Path(__file__).parent / "kasify-dashboard.js"
MODULE_URL: Final = f"/{DOMAIN}_frontend/kasify-dashboard.js"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


async def async_setup_frontend(hass: HomeAssistant) -> None:
    """Serve the strategy module and, where the frontend runs, load it on every page."""
    version = await hass.async_add_executor_job(_digest, MODULE_PATH)
    await hass.http.async_register_static_paths([StaticPathConfig(MODULE_URL, str(MODULE_PATH), True)])
    if "frontend" in hass.config.components:
        add_extra_js_url(hass, f"{MODULE_URL}?v={version}")
