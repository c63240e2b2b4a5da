"""Shared fixtures.

The integration is imported at module level so that the project's ``custom_components`` package is the one in
``sys.modules`` before Home Assistant looks for it (see PITFALLS.md).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from datetime import UTC, datetime
from unittest.mock import AsyncMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify.const import (
    CONF_API_TOKEN,
    CONF_CALENDAR_DAYS,
    CONF_KIND,
    CONF_SCAN_INTERVAL,
    DOMAIN,
    KIND_KASIFY,
)
from simulator import Simulator, SimulatorConfig

from . import setup_integration

# Every simulator-backed test runs at this instant, so seeded data and snapshots are stable.
NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TOKEN = "sim-kasify-token"
ENTRY_ID = "01JKASIFYENTRY000000000000"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/kasify in every test."""


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
    ):
        yield


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep config-flow tests from setting the entry up."""
    with patch("custom_components.kasify.async_setup_entry", return_value=True) as mock_setup:
        yield mock_setup


@pytest.fixture
def frozen_now(freezer: FrozenDateTimeFactory) -> datetime:
    """Freeze time at :data:`NOW`."""
    freezer.move_to(NOW)
    return NOW


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Three seeded properties around :data:`NOW` (override per module for other fleets)."""
    return SimulatorConfig(properties=3, seed=1, token=TOKEN, now=NOW)


@pytest.fixture
async def simulator(
    socket_enabled: None, frozen_now: datetime, simulator_config: SimulatorConfig
) -> AsyncGenerator[Simulator]:
    """The upstream simulator on a real loopback port."""
    sim = Simulator(simulator_config)
    async with sim.serve(host="127.0.0.1", port=0):
        yield sim


@pytest.fixture
def mock_config_entry(simulator: Simulator) -> MockConfigEntry:
    """A Kasify entry pointing at the simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Kasify Demo",
        unique_id=simulator.kasify.account["id"],
        entry_id=ENTRY_ID,
        version=1,
        minor_version=1,
        data={CONF_KIND: KIND_KASIFY, CONF_URL: simulator.kasify_url, CONF_API_TOKEN: TOKEN},
        options={CONF_SCAN_INTERVAL: 60, CONF_CALENDAR_DAYS: 90},
    )


@pytest.fixture
async def init_integration(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """The Kasify entry, set up against the simulator."""
    await setup_integration(hass, mock_config_entry)
    return mock_config_entry
