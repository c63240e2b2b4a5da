"""A large portfolio: pagination is followed and a refresh still costs only the listing pages + lock calls."""

from __future__ import annotations

from datetime import timedelta
import math

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from simulator import Simulator, SimulatorConfig

from .providers import NOW, TOKEN


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """150 properties: two pages of properties, several of bookings."""
    return SimulatorConfig(properties=150, seed=3, token=TOKEN, now=NOW)


async def test_refresh_cost_at_scale(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every property, booking and lock arrives; the request count follows the documented formula."""
    coordinator = init_integration.runtime_data.coordinator
    data = coordinator.data
    assert len(data.properties) == 150
    simulator.reset_requests()
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)

    kasify_requests = simulator.requests_for("/kasify/")
    bookings = sum(len(items) for items in data.bookings.values())
    tasks = sum(len(items) for items in data.tasks.values())
    completed = sum(len(items) for items in data.completed_tasks.values())
    with_locks = sum(1 for prop in data.properties.values() if prop.smart_locks)
    assert bookings > 100  # several pages
    expected = (
        2
        + math.ceil(bookings / 100)
        + max(1, math.ceil(tasks / 100))
        + max(1, math.ceil(completed / 100))
        + with_locks
    )
    assert len(kasify_requests) == expected
    pages = sorted(int(r.query["page"]) for r in kasify_requests if r.path == "/kasify/v1/properties")
    assert pages == [0, 1]
    assert len(data.smart_locks) >= with_locks
