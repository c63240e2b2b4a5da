"""Where lock devices go: named after their property, in its area, and what the user chose is never undone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify import compat
from custom_components.kasify.const import DOMAIN
from custom_components.kasify.coordinator import property_identifier
from custom_components.kasify.placement import SAVE_DELAY, STORAGE_KEY, lock_device_name
from simulator import Simulator

from . import setup_integration
from .providers import refresh, remotelock_device_id, remotelock_entry, remotelock_kasify_entry, tick

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

ATICO = "Ático Torre Malvarrosa"


@pytest.mark.parametrize(
    ("lock", "prop", "expected"),
    [
        ("Garaje", ATICO, f"{ATICO} Garaje"),
        (f"{ATICO} - Puerta principal", ATICO, f"{ATICO} - Puerta principal"),
        ("puerta ático torre malvarrosa", ATICO, "puerta ático torre malvarrosa"),
        ("Garaje", None, "Garaje"),
        (None, ATICO, None),
    ],
)
def test_lock_device_name(lock: str | None, prop: str | None, expected: str | None) -> None:
    """The property's name comes first, unless the lock's own name already holds it."""
    assert lock_device_name(lock, prop) == expected


def _lock(hass: HomeAssistant, simulator: Simulator, name: str) -> dr.DeviceEntry:
    key = (DOMAIN, f"remotelock_{remotelock_device_id(simulator, name)}")
    device = compat.device_by_identifier(hass, key, remotelock_entry(simulator).entry_id)
    assert device is not None
    return device


def _property(
    hass: HomeAssistant, simulator: Simulator, kasify: MockConfigEntry, index: int
) -> dr.DeviceEntry:
    identifier = property_identifier(simulator.kasify.property_at(index)["id"])
    device = compat.device_by_identifier(hass, identifier, kasify.entry_id)
    assert device is not None
    return device


async def _both(hass: HomeAssistant, simulator: Simulator) -> tuple[MockConfigEntry, MockConfigEntry]:
    kasify = remotelock_kasify_entry(simulator)
    await setup_integration(hass, kasify)
    remotelock = remotelock_entry(simulator)
    await setup_integration(hass, remotelock)
    return kasify, remotelock


async def test_new_install_names_and_places_locks_by_property(
    hass: HomeAssistant, simulator: Simulator, area_registry: ar.AreaRegistry
) -> None:
    """Each property gets an area of its name; its locks are named after it, in that area, with such ids."""
    kasify, _ = await _both(hass, simulator)
    atico = _property(hass, simulator, kasify, 2)
    area = area_registry.async_get_area(atico.area_id or "")
    assert area is not None
    assert area.name == ATICO

    garage = _lock(hass, simulator, "Garaje")
    assert garage.name == f"{ATICO} Garaje"
    assert garage.via_device_id == atico.id
    assert garage.area_id == atico.area_id
    state = hass.states.get("lock.atico_torre_malvarrosa_garaje")
    assert state is not None
    assert state.attributes["friendly_name"] == f"{ATICO} Garaje"
    battery = hass.states.get("sensor.atico_torre_malvarrosa_garaje_battery")
    assert battery is not None

    # A lock of no property keeps its own name and gets no area.
    office = _lock(hass, simulator, "Oficina")
    assert (office.name, office.via_device_id, office.area_id) == ("Oficina", None, None)


async def test_existing_install_keeps_entity_ids(
    hass: HomeAssistant, simulator: Simulator, entity_registry: er.EntityRegistry
) -> None:
    """Locks that were named before their property was known keep their entity ids and take the new names."""
    remotelock = remotelock_entry(simulator)
    await setup_integration(hass, remotelock)
    assert _lock(hass, simulator, "Garaje").name == "Garaje"
    assert hass.states.get("lock.garaje") is not None

    kasify = remotelock_kasify_entry(simulator)
    await setup_integration(hass, kasify)
    garage = _lock(hass, simulator, "Garaje")
    atico = _property(hass, simulator, kasify, 2)
    assert (garage.name, garage.via_device_id, garage.area_id) == (f"{ATICO} Garaje", atico.id, atico.area_id)
    state = hass.states.get("lock.garaje")
    assert state is not None
    assert state.attributes["friendly_name"] == f"{ATICO} Garaje"
    assert entity_registry.async_get("lock.atico_torre_malvarrosa_garaje") is None

    # A restart in the other order (the property not known when the lock's entities are added) keeps it so.
    await hass.config_entries.async_unload(kasify.entry_id)
    await hass.config_entries.async_reload(remotelock.entry_id)
    await hass.async_block_till_done()
    assert _lock(hass, simulator, "Garaje").name == f"{ATICO} Garaje"


async def test_user_choices_are_kept(
    hass: HomeAssistant,
    simulator: Simulator,
    area_registry: ar.AreaRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A lock the user moved, or took out of every area, stays so; one left where it was put follows its
    property to another area."""
    kasify, remotelock = await _both(hass, simulator)
    garage = _lock(hass, simulator, "Garaje")
    service = _lock(hass, simulator, "Puerta de servicio")
    storage = _lock(hass, simulator, "Trastero")
    yard = area_registry.async_create("Patio trasero")
    device_registry.async_update_device(service.id, area_id=yard.id)
    device_registry.async_update_device(storage.id, area_id=None)

    # The user moves the Ático to another area: its lock, still where the integration put it, follows.
    coast = area_registry.async_create("Costa")
    device_registry.async_update_device(_property(hass, simulator, kasify, 2).id, area_id=coast.id)
    await refresh(hass, remotelock)
    await refresh(hass, kasify)

    assert _lock(hass, simulator, "Garaje").area_id == coast.id
    assert _lock(hass, simulator, "Puerta de servicio").area_id == yard.id
    assert _lock(hass, simulator, "Trastero").area_id is None
    assert garage.name == _lock(hass, simulator, "Garaje").name

    # Reloading both (the property devices suggest their areas again) changes none of it.
    await hass.config_entries.async_reload(kasify.entry_id)
    await hass.config_entries.async_reload(remotelock.entry_id)
    await hass.async_block_till_done()
    assert _property(hass, simulator, kasify, 2).area_id == coast.id
    assert _lock(hass, simulator, "Puerta de servicio").area_id == yard.id
    assert _lock(hass, simulator, "Trastero").area_id is None


async def test_remembered_across_restarts(
    hass: HomeAssistant,
    simulator: Simulator,
    hass_storage: dict[str, Any],
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """What was given is stored; after a restart a lock the user took out of its area stays out."""
    remotelock = remotelock_entry(simulator)
    remotelock.add_to_hass(hass)
    key = (DOMAIN, f"remotelock_{remotelock_device_id(simulator, 'Trastero')}")
    cleared = device_registry.async_get_or_create(config_entry_id=remotelock.entry_id, identifiers={key})
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "key": STORAGE_KEY,
        "data": {"devices": {cleared.id: "estudio_do_miradouro_principe_real", "gone-device": "x"}},
    }

    kasify = remotelock_kasify_entry(simulator)
    await setup_integration(hass, kasify)  # sets up every entry of the integration: the RemoteLock one too

    storage = _lock(hass, simulator, "Trastero")
    assert storage.id == cleared.id
    assert storage.via_device_id == _property(hass, simulator, kasify, 1).id
    assert storage.area_id is None
    garage = _lock(hass, simulator, "Garaje")
    assert garage.area_id is not None

    await tick(hass, freezer, timedelta(seconds=SAVE_DELAY))
    stored = hass_storage[STORAGE_KEY]["data"]["devices"]
    assert stored[garage.id] == garage.area_id
    assert stored[cleared.id] == "estudio_do_miradouro_principe_real"
    assert "gone-device" not in stored


async def test_an_area_set_before_or_missing(
    hass: HomeAssistant,
    simulator: Simulator,
    area_registry: ar.AreaRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A lock already in an area when the integration first sees it stays there, even once taken out of it;
    a property without an area gives its locks none until it has one."""
    kasify = remotelock_kasify_entry(simulator)
    await setup_integration(hass, kasify)
    estudio = _property(hass, simulator, kasify, 1)
    device_registry.async_update_device(estudio.id, area_id=None)
    remotelock = remotelock_entry(simulator)
    remotelock.add_to_hass(hass)
    garage_block = area_registry.async_create("Cocheras")
    key = (DOMAIN, f"remotelock_{remotelock_device_id(simulator, 'Garaje')}")
    own = device_registry.async_get_or_create(config_entry_id=remotelock.entry_id, identifiers={key})
    device_registry.async_update_device(own.id, area_id=garage_block.id)
    await hass.config_entries.async_setup(remotelock.entry_id)
    await hass.async_block_till_done()

    assert _lock(hass, simulator, "Garaje").area_id == garage_block.id
    storage = _lock(hass, simulator, "Trastero")
    assert (storage.via_device_id, storage.area_id) == (estudio.id, None)

    device_registry.async_update_device(own.id, area_id=None)
    studio_area = area_registry.async_create("Estudio")
    device_registry.async_update_device(estudio.id, area_id=studio_area.id)
    await refresh(hass, remotelock)
    assert _lock(hass, simulator, "Garaje").area_id is None
    assert _lock(hass, simulator, "Trastero").area_id == studio_area.id
