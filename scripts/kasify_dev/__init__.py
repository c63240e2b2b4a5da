"""A real Home Assistant with the Kasify integration against the simulator (``scripts/develop``, e2e tests).

``Instance(Settings(...))`` prepares a config folder (``config/`` by default, any folder with a copy of its
``configuration.yaml`` otherwise), starts the simulator and ``hass`` on the given ports (each in its own
session), completes onboarding through Home Assistant's REST API (or logs in), adds the Kasify, Nuki Web,
casavi, UniFi Access and RemoteLock accounts through the config-flow REST API, waits for their entities, and
stops everything cleanly::

    async with Instance(Settings(config_dir=tmp, ha_port=free_port(), sim_port=free_port(), ...)) as instance:
        await instance.start()
        async with instance.api.websocket() as ws:
            await ws.call_service("lock", "unlock", target={"entity_id": "lock.x"})
"""

from .config_dir import ensure_frontend_package, prepare_config_dir
from .entries import available, create_entry, kasify_entity_states, kasify_entries
from .ha_api import HaWebSocket, HomeAssistantApi, WebSocketError
from .instance import Instance, Started, hass_environment
from .onboarding import login, onboard_or_login
from .processes import (
    REPO_ROOT,
    BootstrapError,
    Child,
    Children,
    NotReadyError,
    WaitTimeoutError,
    free_port,
    port_in_use,
    rel,
    tail,
    wait_until,
)
from .settings import ACCOUNT_KINDS, DOMAIN, KASIFY_TOKEN, NUKI_TOKEN, UNIFI_TOKEN, Settings

__all__ = [
    "ACCOUNT_KINDS",
    "DOMAIN",
    "KASIFY_TOKEN",
    "NUKI_TOKEN",
    "REPO_ROOT",
    "UNIFI_TOKEN",
    "BootstrapError",
    "Child",
    "Children",
    "HaWebSocket",
    "HomeAssistantApi",
    "Instance",
    "NotReadyError",
    "Settings",
    "Started",
    "WaitTimeoutError",
    "WebSocketError",
    "available",
    "create_entry",
    "ensure_frontend_package",
    "free_port",
    "hass_environment",
    "kasify_entity_states",
    "kasify_entries",
    "login",
    "onboard_or_login",
    "port_in_use",
    "prepare_config_dir",
    "rel",
    "tail",
    "wait_until",
]
