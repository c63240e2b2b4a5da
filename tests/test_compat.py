"""The version-dependent Home Assistant calls behave the same on the release the tests run on.

The suite runs on the oldest supported release and on the newest installable one, so each path of
``compat.py`` is exercised by one of the two runs. The deprecation guard of ``conftest.py`` is tested here
too: a guard that never fires would let a deprecated call through.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.deprecation import deprecated_function
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.frame import report_usage
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify import compat
from custom_components.kasify.const import DOMAIN

from .conftest import DeprecationReports

PROPERTY = (DOMAIN, "property_1")
LOCK = (DOMAIN, "nuki_42")


def _entry(hass: HomeAssistant, title: str) -> MockConfigEntry:
    entry = MockConfigEntry(domain=DOMAIN, title=title)
    entry.add_to_hass(hass)
    return entry


async def test_targets_named_and_reached_through_a_device(hass: HomeAssistant) -> None:
    entry = _entry(hass, "Nuki")
    device = dr.async_get(hass).async_get_or_create(config_entry_id=entry.entry_id, identifiers={LOCK})
    lock = er.async_get(hass).async_get_or_create(
        "lock", DOMAIN, "nuki_42-lock", config_entry=entry, device_id=device.id
    )
    call = ServiceCall(hass, DOMAIN, "x", {"entity_id": ["lock.named"], "device_id": [device.id]})
    assert compat.referenced_entity_ids(hass, call) == ({"lock.named"}, {lock.entity_id})


async def test_devices_are_looked_up_and_removed_per_entry(hass: HomeAssistant) -> None:
    """Two entries with a device of one identifier: each finds its own; removing one keeps the other."""
    kasify, nuki, other = _entry(hass, "Kasify"), _entry(hass, "Nuki"), _entry(hass, "Other")
    registry = dr.async_get(hass)
    registry.async_get_or_create(config_entry_id=kasify.entry_id, identifiers={LOCK}, name="Door")
    registry.async_get_or_create(config_entry_id=nuki.entry_id, identifiers={LOCK}, name="Door")

    for entry in (kasify, nuki):
        device = compat.device_by_identifier(hass, LOCK, entry.entry_id)
        assert device is not None
        assert entry.entry_id in compat.device_config_entry_ids(device)
    assert compat.device_by_identifier(hass, LOCK, other.entry_id) is None

    device = compat.device_by_identifier(hass, LOCK, kasify.entry_id)
    assert device is not None
    compat.remove_device(hass, device, kasify.entry_id)
    assert compat.device_by_identifier(hass, LOCK, kasify.entry_id) is None
    kept = compat.device_by_identifier(hass, LOCK, nuki.entry_id)
    assert kept is not None
    assert compat.device_config_entry_ids(kept) == {nuki.entry_id}

    compat.remove_device(hass, kept, nuki.entry_id)
    assert registry.async_get(kept.id) is None


async def test_a_device_hangs_under_its_parent_of_another_entry(hass: HomeAssistant) -> None:
    kasify, nuki = _entry(hass, "Kasify"), _entry(hass, "Nuki")
    registry = dr.async_get(hass)
    parent = registry.async_get_or_create(config_entry_id=kasify.entry_id, identifiers={PROPERTY})

    info = DeviceInfo(identifiers={LOCK}, name="Door")
    compat.set_via_device(info, parent, PROPERTY)
    child = registry.async_get_or_create(config_entry_id=nuki.entry_id, **info)
    assert child.via_device_id == parent.id

    unlinked = DeviceInfo(identifiers={(DOMAIN, "nuki_43")}, name="Back door")
    compat.set_via_device(unlinked, None, PROPERTY)
    assert registry.async_get_or_create(config_entry_id=nuki.entry_id, **unlinked).via_device_id is None


# -- the deprecation guard -----------------------------------------------------------------------------------

# Code that Home Assistant's frame inspection attributes to this integration (its file is in the package).
_PROBE = compile(
    "def call(function, *args, **kwargs):\n    return function(*args, **kwargs)\n",
    str(Path(compat.__file__).with_name("_deprecation_probe.py")),
    "exec",
)


def _from_the_integration(function: object, *args: object, **kwargs: object) -> None:
    namespace: dict[str, object] = {}
    exec(_PROBE, namespace)  # a fixed two-line helper compiled above
    namespace["call"](function, *args, **kwargs)  # type: ignore[operator]


async def test_the_guard_catches_a_usage_report(
    hass: HomeAssistant, fail_on_deprecation_reports: DeprecationReports
) -> None:
    _from_the_integration(report_usage, "uses an API that goes away", breaks_in_ha_version="2099.1")
    assert len(fail_on_deprecation_reports.reports) == 1
    assert "custom integration 'kasify' uses an API that goes away" in fail_on_deprecation_reports.reports[0]
    fail_on_deprecation_reports.reports.clear()  # caught: this test passes


async def test_the_guard_catches_a_deprecated_function(
    hass: HomeAssistant, fail_on_deprecation_reports: DeprecationReports
) -> None:
    @deprecated_function("something_new", breaks_in_ha_version="2099.1")
    def something_old() -> None:
        """Stand in for a deprecated Home Assistant helper."""

    _from_the_integration(something_old)
    assert len(fail_on_deprecation_reports.reports) == 1
    assert "something_old was called from kasify" in fail_on_deprecation_reports.reports[0]
    fail_on_deprecation_reports.reports.clear()
