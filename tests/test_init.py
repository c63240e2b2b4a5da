"""Setup, unload, failures, request budget, and devices that come and go (against the simulator)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
import logging
import math

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.kasify import async_remove_config_entry_device
from custom_components.kasify.coordinator import KasifyRuntimeData, property_identifier
from simulator import Simulator

from . import setup_integration
from .providers import tick


def _entity_id(entity_registry: er.EntityRegistry, platform: str, unique_id: str) -> str:
    entity_id = entity_registry.async_get_entity_id(platform, "kasify", unique_id)
    assert entity_id is not None, unique_id
    return entity_id


async def test_setup_and_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The entry loads with its runtime data and unloads cleanly."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    assert isinstance(entry.runtime_data, KasifyRuntimeData)
    assert set(entry.runtime_data.coordinator.data.properties) == set(simulator.kasify.properties)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.NOT_LOADED
    # Nothing keeps polling after unload.
    simulator.reset_requests()
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert simulator.requests == []


@pytest.mark.parametrize("status", [500, 503])
async def test_setup_retry_when_down(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: Simulator, status: int
) -> None:
    """An unreachable API at startup retries later instead of failing for good."""
    simulator.faults.inject("/kasify/", status=status, body="<html>Bad gateway</html>")
    await setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_auth_failure_starts_reauth(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """A refused token at startup stops setup and asks the user to re-authenticate."""
    simulator.faults.inject("/kasify/", status=401)
    await setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_requests_per_refresh(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One refresh costs exactly the listing pages plus one smart-lock call per property with locks."""
    kasify = simulator.kasify
    simulator.reset_requests()
    await tick(hass, freezer)

    coordinator = init_integration.runtime_data.coordinator
    data = coordinator.data
    with_locks = sum(1 for prop in kasify.properties.values() if prop["smart_locks"])
    bookings_in_window = sum(len(items) for items in data.bookings.values())
    open_tasks = sum(len(items) for items in data.tasks.values())
    completed_lately = sum(len(items) for items in data.completed_tasks.values())
    expected = (
        max(1, math.ceil(len(kasify.properties) / 100))
        + max(1, math.ceil(bookings_in_window / 100))
        + max(1, math.ceil(open_tasks / 100))
        + max(1, math.ceil(completed_lately / 100))
        + with_locks
    )
    paths = sorted(request.path for request in simulator.requests)
    assert len(simulator.requests) == expected, paths
    assert paths.count("/kasify/v1/properties") == 1
    assert paths.count("/kasify/v1/bookings") == 1
    assert paths.count("/kasify/v1/tasks") == 2  # open, and completed in the last 7 days
    assert sum(path.endswith("/smartlocks") for path in paths) == with_locks
    assert with_locks < len(kasify.properties) or len(kasify.properties) <= 3


async def test_unavailable_and_recovery(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Entities go unavailable while Kasify is down, with one log line each way."""
    property_id = next(iter(simulator.kasify.properties))
    entity_id = _entity_id(entity_registry, "binary_sensor", f"property_{property_id}-occupied")
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE

    caplog.set_level(logging.INFO, logger="custom_components.kasify")
    simulator.faults.inject("/kasify/", status=503, body="<html>Service unavailable</html>")
    for _ in range(3):
        await tick(hass, freezer)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    failures = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.kasify") and r.levelno >= logging.WARNING
    ]
    assert len(failures) == 1
    assert "503" in failures[0].getMessage()

    simulator.faults.clear()
    await tick(hass, freezer)
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE
    assert sum("recovered" in r.getMessage() for r in caplog.records) == 1


async def test_rate_limited_is_reported(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 429 holds every request back for Kasify's Retry-After, then polling resumes."""
    simulator.faults.inject("/kasify/", status=429, headers={"Retry-After": "150"}, times=1)
    await tick(hass, freezer)
    coordinator = init_integration.runtime_data.coordinator
    assert not coordinator.last_update_success
    assert coordinator.last_exception.translation_key == "rate_limited"
    assert coordinator.last_exception.translation_placeholders == {"service": "Kasify", "seconds": "150"}

    simulator.reset_requests()
    await tick(hass, freezer)  # 60 s later: still inside the wait, nothing is sent
    assert simulator.requests == []
    assert coordinator.last_exception.translation_placeholders == {"service": "Kasify", "seconds": "90"}
    await tick(hass, freezer)
    assert simulator.requests == []
    await tick(hass, freezer)  # 180 s after the 429
    assert simulator.requests
    assert coordinator.last_update_success


@pytest.mark.parametrize("http_date", [False, True], ids=["seconds", "http-date"])
async def test_a_retry_after_of_a_day_waits_15_minutes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    http_date: bool,
) -> None:
    """A Retry-After far beyond reason (a day, in seconds or as a date) does not silence the account for a
    day: polling resumes after 15 minutes at the latest."""
    day = timedelta(days=1)
    value = format_datetime(dt_util.utcnow() + day, usegmt=True) if http_date else "86400"
    simulator.faults.inject("/kasify/", status=429, headers={"Retry-After": value}, times=1)
    await tick(hass, freezer)
    coordinator = init_integration.runtime_data.coordinator
    assert coordinator.last_exception.translation_placeholders == {"service": "Kasify", "seconds": "900"}
    simulator.reset_requests()
    for _ in range(14):
        await tick(hass, freezer)
    assert simulator.count_requests("/kasify/") == 0
    await tick(hass, freezer)  # 15 minutes after the 429
    assert simulator.count_requests("/kasify/") > 0
    assert coordinator.last_update_success


async def test_token_refused_later_starts_reauth(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 401 during polling starts the reauth flow."""
    simulator.faults.inject("/kasify/", status=401)
    await tick(hass, freezer)
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == init_integration.entry_id


async def test_dynamic_and_stale_devices(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A new property gets its device and entities without a reload; a removed one loses them."""
    new = simulator.kasify.add_property("Ático Nuevo")
    await tick(hass, freezer)
    device = device_registry.async_get_device(identifiers={property_identifier(new["id"])})
    assert device is not None
    assert device.name == "Ático Nuevo"
    occupied = _entity_id(entity_registry, "binary_sensor", f"property_{new['id']}-occupied")
    assert hass.states.get(occupied).state == "off"

    simulator.kasify.update_property(new["id"], name="Ático Renovado")
    await tick(hass, freezer)
    device = device_registry.async_get(device.id)
    assert device.name == "Ático Renovado"

    simulator.kasify.remove_property(new["id"])
    await tick(hass, freezer)
    assert device_registry.async_get_device(identifiers={property_identifier(new["id"])}) is None
    assert entity_registry.async_get(occupied) is None
    assert hass.states.get(occupied) is None


async def test_remove_config_entry_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The user may delete a device only once Kasify no longer has it."""
    property_id = next(iter(simulator.kasify.properties))
    device = device_registry.async_get_device(identifiers={property_identifier(property_id)})
    assert device is not None
    assert not await async_remove_config_entry_device(hass, init_integration, device)

    orphan = device_registry.async_get_or_create(
        config_entry_id=init_integration.entry_id,
        identifiers={property_identifier("gone")},
        name="Gone",
    )
    assert await async_remove_config_entry_device(hass, init_integration, orphan)
