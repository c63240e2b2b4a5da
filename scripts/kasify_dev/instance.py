"""One running instance: the simulator and Home Assistant, onboarded, with the Kasify accounts added."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import os
import sys
from types import TracebackType
from typing import Any, Self

import aiohttp

from .config_dir import ensure_frontend_package, prepare_config_dir
from .entries import available, create_entry, kasify_entity_states, kasify_entries
from .ha_api import HTTP_NOT_FOUND, HTTP_OK, HTTP_TIMEOUT, HomeAssistantApi
from .onboarding import onboard_or_login, remove_onboarding_entries
from .processes import (
    REPO_ROOT,
    BootstrapError,
    Child,
    Children,
    NotReadyError,
    WaitTimeoutError,
    port_in_use,
    wait_until,
)
from .settings import DOMAIN, ENV_HA_INTERNAL_URL, ENV_HA_PORT, SIM_HOST, Settings


@dataclass(frozen=True)
class Started:
    """What :meth:`Instance.start` found."""

    created_user: bool
    entry_state: str
    states: list[dict[str, Any]]


def hass_environment(settings: Settings) -> dict[str, str]:
    """The environment of both processes: this checkout importable, the port for configuration.yaml."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env[ENV_HA_PORT] = str(settings.ha_port)
    # The address the simulated RemoteLock posts webhooks to (plain http is accepted on loopback only).
    env[ENV_HA_INTERNAL_URL] = settings.ha_api
    env.update(settings.extra_env)
    return env


class Instance:
    """The simulator and Home Assistant of one :class:`Settings`; ``async with`` stops both at the end.

    :meth:`start` does everything ``scripts/develop`` does before it waits; the steps are public so a test can
    stop and start Home Assistant again on the same config folder (:meth:`restart_home_assistant`).
    """

    def __init__(self, settings: Settings) -> None:
        """Nothing runs until :meth:`start`."""
        self.settings = settings
        self.children = Children(settings.say)
        self.simulator: Child | None = None
        self.hass: Child | None = None
        self.creds: dict[str, str] = {}
        self._session: aiohttp.ClientSession | None = None
        self._api: HomeAssistantApi | None = None
        self._background: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Self:
        """Nothing to do yet: :meth:`start` brings things up."""
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop everything."""
        await self.stop()

    @property
    def api(self) -> HomeAssistantApi:
        """Home Assistant's REST API, logged in as the owner once Home Assistant is up."""
        if self._api is None:
            raise BootstrapError("the instance is not prepared (call start() first)")
        return self._api

    @property
    def session(self) -> aiohttp.ClientSession:
        """The HTTP session of every request the instance makes."""
        return self.api.session

    @property
    def watched(self) -> list[Child]:
        """The processes that must keep running."""
        return [child for child in (self.simulator, self.hass) if child is not None]

    async def start(self) -> Started:
        """Prepare, start the simulator and Home Assistant, onboard or log in, add the accounts."""
        self.prepare()
        if self.settings.start_simulator and self.settings.accounts:
            await self.start_simulator()
        if self.settings.accounts:
            await self.wait_for_simulator()
        created_user = await self.start_home_assistant()
        entry_state, states = await self.set_up_entries()
        return Started(created_user, entry_state, states)

    def prepare(self) -> None:
        """Check the ports are free, prepare the config folder and the frontend, open the HTTP session."""
        settings = self.settings
        ports = [(settings.ha_port, "Home Assistant")]
        if settings.start_simulator and settings.accounts:
            ports += [
                (settings.sim_port, "the simulator"),
                (settings.unifi_port, "the simulated UniFi Access"),
            ]
        for port, name in ports:
            if port_in_use(port):
                raise BootstrapError(
                    f"port {port} (for {name}) is already in use; is another scripts/develop running?"
                )
        self.creds = prepare_config_dir(settings)
        ensure_frontend_package(settings)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        self._api = HomeAssistantApi(self._session, settings.ha_api, settings.client_id)

    async def start_simulator(self) -> None:
        """Start ``python -m simulator`` on the configured ports."""
        settings = self.settings
        if not (REPO_ROOT / "simulator" / "__main__.py").is_file():
            raise BootstrapError("simulator/__main__.py does not exist (yet?)")
        argv = [sys.executable, "-m", "simulator", "--host", SIM_HOST, "--port", str(settings.sim_port)]
        argv += ["--unifi-port", str(settings.unifi_port), "--properties", str(settings.sim_properties)]
        argv += list(settings.sim_args)
        self.simulator = await self.children.start(
            "simulator", argv, settings.sim_log, hass_environment(settings), stop_timeout=10
        )

    async def wait_for_simulator(self) -> None:
        """Wait until the simulator answers ``GET /_sim/state``."""

        async def sim_ready() -> None:
            async with self.session.get(f"{self.settings.sim_url}/_sim/state") as response:
                if response.status != HTTP_OK:
                    raise NotReadyError(f"GET /_sim/state answered HTTP {response.status}")

        await wait_until("the simulator (GET /_sim/state)", sim_ready, 60, self.watched)
        self.settings.say(f"simulator ready at {self.settings.kasify_url}")

    async def start_home_assistant(self, *, append_logs: bool = False) -> bool:
        """Start ``hass``, wait for it, onboard or log in, wait until it runs; True if the user is new."""
        settings = self.settings
        argv = [sys.executable, "-m", "homeassistant", "--config", str(settings.config_dir)]
        argv += ["--log-file", str(settings.ha_log), "--log-no-color"]
        self.hass = await self.children.start(
            "Home Assistant",
            argv,
            settings.ha_console_log,
            hass_environment(settings),
            stop_timeout=90,
            append=append_logs,
        )
        api = self.api
        api.token = None

        async def http_answers() -> None:
            # The HTTP server starts once the frontend (which depends on onboarding) is set up.
            async with api.session.get(f"{api.base_url}/api/onboarding") as response:
                if response.status not in (HTTP_OK, HTTP_NOT_FOUND):
                    raise NotReadyError(f"GET /api/onboarding answered HTTP {response.status}")

        async def core_running() -> None:
            state = (await api.get("/api/core/state")).get("state")
            if state != "RUNNING":
                raise NotReadyError(f"core state is {state}")

        timeout = settings.start_timeout
        await wait_until(f"Home Assistant at {settings.ha_url}", http_answers, timeout, self.watched)
        settings.say(f"Home Assistant answers at {settings.ha_url}")
        created_user, core_config_now = await onboard_or_login(api, settings, self.creds)
        cleanup = remove_onboarding_entries(api, settings, seconds=180 if core_config_now else 0)
        self._background.append(asyncio.create_task(cleanup))
        await wait_until("Home Assistant to finish starting", core_running, timeout, self.watched)
        return created_user

    async def set_up_entries(self) -> tuple[str, list[dict[str, Any]]]:
        """Add the accounts that are missing; return the entries' states and the Kasify entity states."""
        if not self.settings.accounts:
            return "not created (--no-entry)", []
        # Each flow aborts with already_configured when its account exists, so this is safe to repeat.
        for kind in self.settings.accounts:
            await create_entry(self.api, self.settings, kind)
        return await self.wait_for_entries()

    async def wait_for_entries(self) -> tuple[str, list[dict[str, Any]]]:
        """Wait until the entries are set up and an entity has a state; their states and those states."""
        api = self.api

        async def entries_settled() -> list[dict[str, Any]]:
            current = await kasify_entries(api)
            if not current:
                raise NotReadyError(f"no {DOMAIN} config entry")
            if any(e.get("state") in ("not_loaded", "setup_in_progress") for e in current):
                raise NotReadyError(f"entry states: {[e.get('state') for e in current]}")
            return current

        async def some_kasify_states() -> list[dict[str, Any]]:
            states = await kasify_entity_states(api)
            if not available(states):
                raise NotReadyError(
                    f"{len(states)} entities of the {DOMAIN} platform have a state, none available"
                )
            return states

        settled = await wait_until("the kasify entries to set up", entries_settled, 60, self.watched)
        entry_state = ", ".join(f"{e.get('title')}: {e.get('state')}" for e in settled)
        states: list[dict[str, Any]] = []
        with contextlib.suppress(WaitTimeoutError):
            states = await wait_until(
                "kasify entity states", some_kasify_states, self.settings.entity_timeout, self.watched
            )
        if not states:
            states = await kasify_entity_states(api)
        return entry_state, states

    async def stop_home_assistant(self) -> int:
        """Stop Home Assistant (SIGTERM, as a service manager does); its exit code."""
        if self.hass is None:
            raise BootstrapError("Home Assistant is not running")
        await self.wait_background(30)
        hass, self.hass = self.hass, None
        return await self.children.stop(hass)

    async def restart_home_assistant(self) -> int:
        """Stop Home Assistant, start it again on the same config folder, wait for the entries.

        Returns:
            The exit code of the stopped process.
        """
        code = await self.stop_home_assistant()
        await self.start_home_assistant(append_logs=True)
        if self.settings.accounts:
            await self.wait_for_entries()
        return code

    async def wait_background(self, seconds: float) -> None:
        """Let the removal of the onboarding entries finish (at most ``seconds``)."""
        if pending := [task for task in self._background if not task.done()]:
            await asyncio.wait(pending, timeout=seconds)

    async def wait_for_exit(self) -> None:
        """Block until a process exits (a failure: it should run until stopped)."""
        waits = [asyncio.create_task(child.process.wait()) for child in self.watched]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()

    async def stop(self) -> None:
        """Stop both processes (Home Assistant first) and close the HTTP session."""
        for task in self._background:
            task.cancel()
        self._background.clear()
        self.hass = self.simulator = None
        await self.children.stop_all()
        if self._session is not None:
            await self._session.close()
            self._session = None
