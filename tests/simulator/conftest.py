"""Fixtures for the simulator's own tests: a simulator on a real loopback port and a plain HTTP helper."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
import json
from typing import Any

import aiohttp
import pytest

from simulator import Simulator, SimulatorConfig

SIM_NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TOKEN = "sim-kasify-token"


@dataclass
class Reply:
    """One HTTP answer: status, decoded body (JSON, else text) and headers."""

    status: int
    body: Any
    headers: dict[str, str]
    text: str


class Http:
    """A thin wrapper over ``aiohttp.ClientSession`` for the Kasify API of a running simulator."""

    def __init__(self, session: aiohttp.ClientSession, sim: Simulator) -> None:
        self.session = session
        self.sim = sim

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, str | int] | None = None,
        token: str | None = TOKEN,
        raw_url: bool = False,
        timeout_s: float = 10.0,
    ) -> Reply:
        """Call ``path`` under the Kasify base URL (or under the server root when ``raw_url``)."""
        assert self.sim.base_url is not None
        url = (self.sim.base_url if raw_url else self.sim.kasify_url) + path
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with self.session.request(
            method,
            url,
            json=json_body,
            params=params,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as resp:
            text = await resp.text()
            try:
                body: Any = json.loads(text) if text else None
            except ValueError:
                body = text
            return Reply(resp.status, body, dict(resp.headers), text)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, json_body: Any = None, **kwargs: Any) -> Reply:
        return await self.call("POST", path, json_body=json_body, **kwargs)


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """Three seeded properties around :data:`SIM_NOW` (override in a module for other fleets)."""
    return SimulatorConfig(properties=3, seed=1, token=TOKEN, now=SIM_NOW)


@pytest.fixture
async def sim(socket_enabled: None, sim_config: SimulatorConfig) -> AsyncIterator[Simulator]:
    """A simulator listening on a free loopback port."""
    simulator = Simulator(sim_config)
    async with simulator.serve(host="127.0.0.1", port=0):
        yield simulator


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[Http]:
    """Plain HTTP access to the running simulator."""
    async with aiohttp.ClientSession() as session:
        yield Http(session, sim)
