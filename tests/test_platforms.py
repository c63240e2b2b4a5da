"""Entity snapshots per platform, and the states a host reads off them (against the simulator)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
import json
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from simulator import Simulator

from . import setup_integration
from .providers import NOW, refresh, snapshot_platform


@pytest.mark.parametrize(
    "platform", [Platform.BINARY_SENSOR, Platform.CALENDAR, Platform.EVENT, Platform.SENSOR, Platform.TODO]
)
async def test_snapshots(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: Simulator,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """Registry entries (unique id, device class, category, translation key) and states."""
    with patch("custom_components.kasify.PLATFORMS", [platform]):
        await setup_integration(hass, mock_config_entry)
    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


async def test_devices(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """A device per property, and per lock linked to its property."""
    devices = dr.async_entries_for_config_entry(device_registry, init_integration.entry_id)
    by_id = {device.id: device for device in devices}
    assert [
        {
            "name": device.name,
            "identifiers": sorted(device.identifiers),
            "manufacturer": device.manufacturer,
            "model": device.model,
            "serial_number": device.serial_number,
            "via": by_id[device.via_device_id].name if device.via_device_id else None,
        }
        for device in sorted(devices, key=lambda d: d.name or "")
    ] == snapshot


async def test_property_states(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The seeded fleet: the loft is occupied now, the studio is empty with a check-in soon."""
    assert hass.states.get("binary_sensor.loft_patio_lavapies_occupied").state == "on"
    guest = hass.states.get("sensor.loft_patio_lavapies_current_guest")
    assert guest.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE, "")
    assert "guest_email" not in guest.attributes
    assert "guest_phone" not in guest.attributes

    studio = "estudio_do_miradouro_principe_real"
    assert hass.states.get(f"binary_sensor.{studio}_occupied").state == "off"
    assert hass.states.get(f"sensor.{studio}_current_guest").state == STATE_UNKNOWN
    next_check_in = hass.states.get(f"sensor.{studio}_next_check_in").state
    arrival = dt_util.parse_datetime(next_check_in)
    assert arrival is not None
    assert NOW < arrival <= NOW + timedelta(days=3)


async def test_lock_states_follow_kasify(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The read-only lock follows Kasify's live status: unlocked, jammed (unknown), offline."""
    lock = next(lock for lock in simulator.kasify.smart_locks.values() if lock["vendor"] == "nuki")
    entity_id = "binary_sensor.loft_patio_lavapies_puerta_principal"
    assert hass.states.get(entity_id).state == "off"  # locked
    assert hass.states.get("sensor.loft_patio_lavapies_puerta_principal_battery").state == "80"

    async def refresh() -> None:
        freezer.tick(timedelta(seconds=60))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

    simulator.kasify.set_lock(lock["id"], lock_state=3, battery_level=42)
    await refresh()
    assert hass.states.get(entity_id).state == "on"  # unlocked
    assert hass.states.get("sensor.loft_patio_lavapies_puerta_principal_battery").state == "42"

    simulator.kasify.set_lock(lock["id"], lock_state=254)
    await refresh()
    assert hass.states.get(entity_id).state == STATE_UNKNOWN  # motor blocked

    simulator.kasify.set_lock(lock["id"], offline=True)
    await refresh()
    connectivity = "binary_sensor.loft_patio_lavapies_puerta_principal_connectivity"
    assert hass.states.get(connectivity).state == "off"


async def test_unifi_door_has_no_battery(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Mains-powered doors get no battery sensor rather than a forever-unknown one."""
    entities = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
        if "portal" in entry.entity_id
    }
    assert entities == {
        "binary_sensor.estudio_do_miradouro_principe_real_portal",
        "binary_sensor.estudio_do_miradouro_principe_real_portal_connectivity",
    }


async def test_unchanged_refresh_writes_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    """An unchanged refresh writes no state; a changed lock writes only that lock's entities."""
    entity_ids = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
    }
    writes: list[str] = []

    @callback
    def record(event: Event) -> None:
        writes.append(event.data["entity_id"])

    @callback
    def ours(event_data: Mapping[str, Any]) -> bool:
        return event_data["entity_id"] in entity_ids

    hass.bus.async_listen("state_changed", record, event_filter=ours)
    hass.bus.async_listen("state_reported", record, event_filter=ours)
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert init_integration.runtime_data.coordinator.last_update_success
    assert writes == []

    lock = next(lock for lock in simulator.kasify.smart_locks.values() if lock["vendor"] == "nuki")
    simulator.kasify.set_lock(lock["id"], battery_level=79)
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert writes
    assert {w.rsplit("_puerta_principal", 1)[0] for w in writes} == {
        "sensor.loft_patio_lavapies",
        "binary_sensor.loft_patio_lavapies",
    }


@pytest.mark.parametrize(
    ("status", "still_open"),
    [("COMPLETED", False), (" Completed ", False), ("archived", True), (None, True)],
)
async def test_task_status_spelled_otherwise_or_unknown(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    status: str,
    still_open: bool,
) -> None:
    """A task Kasify lists as completed in another case is done; a status the integration does not know keeps
    the task open (a house is never shown ready on a guess)."""
    loft = simulator.kasify.property_at(0)["id"]
    task = {"id": "t-odd", "property_id": loft, "title": "Odd", "task_type": "cleaning", "status": status}
    body = json.dumps({"tasks": [task], "page": 0, "size": 100, "total": 1})
    simulator.faults.inject("/kasify/v1/tasks", method="GET", status=200, body=body, times=1)
    await refresh(hass, init_integration)
    state = hass.states.get("sensor.loft_patio_lavapies_open_tasks")
    assert state is not None
    assert state.state == ("1" if still_open else "0")
