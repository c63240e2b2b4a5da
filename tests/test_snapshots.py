"""Snapshots of every platform of every account kind: registry entries, states and devices.

What a host sees of each account (entity ids, names, device classes, categories, states and attributes, the
devices and how they hang together) is held here, so a restructuring that changes any of it shows up.
The Kasify account's own platforms are in ``test_platforms.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from simulator import Simulator
from simulator.unifi_access import UnifiEndpoint

from . import setup_integration
from .providers import (
    background_done,
    casavi_entry,
    nuki_entry,
    remotelock_entry,
    snapshot_platform,
    unifi_entry,
)

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("no_heartbeat")]

KIND_PLATFORMS: dict[str, list[Platform]] = {
    "casavi": [Platform.CALENDAR, Platform.SENSOR],
    "nuki": [Platform.BINARY_SENSOR, Platform.EVENT, Platform.LOCK, Platform.SENSOR],
    "unifi_access": [Platform.BINARY_SENSOR, Platform.EVENT, Platform.LOCK],
    "remotelock": [Platform.BINARY_SENSOR, Platform.EVENT, Platform.LOCK, Platform.SENSOR],
}
CASES = [(kind, platform) for kind, platforms in KIND_PLATFORMS.items() for platform in platforms]


@pytest.fixture
async def entry_of(
    simulator: Simulator, endpoint: UnifiEndpoint
) -> AsyncIterator[Callable[[str], MockConfigEntry]]:
    """The config entry of an account kind, on the simulator."""
    builders: dict[str, Callable[[], MockConfigEntry]] = {
        "casavi": lambda: casavi_entry(simulator),
        "nuki": lambda: nuki_entry(simulator),
        "unifi_access": lambda: unifi_entry(endpoint),
        "remotelock": lambda: remotelock_entry(simulator),
    }
    return lambda kind: builders[kind]()


async def _set_up(hass: HomeAssistant, entry: MockConfigEntry, platforms: list[Platform]) -> None:
    with patch("custom_components.kasify.PLATFORMS", platforms):
        await setup_integration(hass, entry)
    await background_done(hass)
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(("kind", "platform"), CASES, ids=[f"{kind}-{platform}" for kind, platform in CASES])
async def test_platform(
    hass: HomeAssistant,
    entry_of: Callable[[str], MockConfigEntry],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    kind: str,
    platform: Platform,
) -> None:
    """Registry entries and states of one platform of one account kind."""
    entry = entry_of(kind)
    await _set_up(hass, entry, [platform])
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


@pytest.mark.parametrize("kind", list(KIND_PLATFORMS))
async def test_devices(
    hass: HomeAssistant,
    entry_of: Callable[[str], MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    kind: str,
) -> None:
    """The devices of one account kind on its own: names, makers, models, serials."""
    entry = entry_of(kind)
    await _set_up(hass, entry, KIND_PLATFORMS[kind])
    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    described: list[dict[str, Any]] = [
        {
            "name": device.name,
            "identifiers": sorted(device.identifiers),
            "manufacturer": device.manufacturer,
            "model": device.model,
            "serial_number": device.serial_number,
            "sw_version": device.sw_version,
            "via": device.via_device_id is not None,
        }
        for device in devices
    ]
    assert sorted(described, key=lambda device: str(device["identifiers"])) == snapshot
