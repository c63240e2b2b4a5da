"""What a host sees in the browser: Home Assistant's pages with the simulator's data; a lock pressed there.

Headless Chromium logs in through Home Assistant's login page (conftest.py); every step leaves a screenshot in
``artifacts/e2e/``. These tests run first on the shared instance and leave the simulator's locks as they found
them.
"""

from __future__ import annotations

from typing import Any

from harness import (
    HaLock,
    SimulatedUpstreams,
    ha_devices,
    ha_state,
    kasify_property_devices,
    lock_of_each_vendor,
    wait_for,
)
from kasify_dev import HaWebSocket, Instance
import pytest
from ui import save_screenshot

playwright = pytest.importorskip(
    "playwright.async_api", reason="BROWSER TESTS SKIPPED: the playwright package is missing"
)
expect = playwright.expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

NUKI_LOCKED, NUKI_UNLOCKED = 1, 3  # Nuki Web's smartlock state.state


def _name(device: dict[str, Any]) -> str:
    return str(device.get("name_by_user") or device["name"])


async def _nuki_lock_and_property(ws: HaWebSocket) -> tuple[HaLock, dict[str, Any], dict[str, Any]]:
    """A locked Nuki lock of a Kasify property: the lock, the property's device and the lock's device."""
    lock = (await lock_of_each_vendor(ws, ("locked",)))["nuki"]
    devices = await ha_devices(ws)
    lock_device = next(d for d in devices if ["kasify", f"nuki_{lock.vendor_id}"] in d["identifiers"])
    prop_device = next(d for d in devices if d["id"] == lock_device["via_device_id"])
    return lock, prop_device, lock_device


async def test_property_device_page_shows_the_property_its_guest_and_locks(
    instance: Instance, ws: HaWebSocket, upstreams: SimulatedUpstreams, page: Any
) -> None:
    """The property's device page: the simulator's property name, its current guest, the locks under it."""
    _, prop_device, _ = await _nuki_lock_and_property(ws)
    property_id = next(
        pid for pid, d in (await kasify_property_devices(ws)).items() if d["id"] == prop_device["id"]
    )
    record = next(p for p in await upstreams.kasify_properties() if p["id"] == property_id)
    in_house = await upstreams.current_booking(property_id)
    locks_under = [_name(d) for d in await ha_devices(ws) if d.get("via_device_id") == prop_device["id"]]
    assert locks_under

    await page.goto(f"{instance.settings.ha_url}/config/devices/device/{prop_device['id']}")

    await expect(page.locator(".main-title")).to_have_text(record["name"])
    guest = page.locator("hui-generic-entity-row", has_text="Current guest")
    await expect(guest).to_contain_text(in_house["guest_name"] if in_house else "Unknown")
    connected = page.locator("ha-card", has_text="Connected devices")
    for name in locks_under:
        await expect(connected.get_by_text(name, exact=True)).to_be_visible()
    await save_screenshot(page, "property-device-page")


async def test_unlock_pressed_on_the_lock_page_unlocks_the_simulated_lock(
    instance: Instance, ws: HaWebSocket, upstreams: SimulatedUpstreams, page: Any
) -> None:
    """From the property's page to its Nuki lock's page (Nuki Web's battery level); *Unlock* pressed there."""
    lock, prop_device, lock_device = await _nuki_lock_and_property(ws)
    nuki = await upstreams.nuki_lock(lock.vendor_id)
    assert nuki["state"]["state"] == NUKI_LOCKED

    await page.goto(f"{instance.settings.ha_url}/config/devices/device/{prop_device['id']}")
    await (
        page.locator("ha-card", has_text="Connected devices")
        .get_by_text(_name(lock_device), exact=True)
        .click()
    )
    await page.wait_for_url(f"**/config/devices/device/{lock_device['id']}")
    await expect(page.locator(".main-title")).to_have_text(_name(lock_device))
    battery = page.locator("hui-generic-entity-row", has_text="%")
    await expect(battery).to_contain_text(f"{nuki['state']['batteryCharge']}%")
    await save_screenshot(page, "lock-device-page")

    try:
        await page.locator("ha-card", has_text="Controls").get_by_role("button", name="Unlock").click()

        async def simulator_unlocked() -> bool:
            return bool((await upstreams.nuki_lock(lock.vendor_id))["state"]["state"] == NUKI_UNLOCKED)

        await wait_for("the simulated Nuki lock to unlock", simulator_unlocked, 20)
        shown = await ha_state(ws, lock.entity_id)
        assert shown is not None
        assert shown["state"] in ("unlocking", "unlocked")
        await save_screenshot(page, "lock-device-page-unlocked")
    finally:
        await ws.call_service("lock", "lock", target={"entity_id": lock.entity_id})

        async def simulator_locked() -> bool:
            return bool((await upstreams.nuki_lock(lock.vendor_id))["state"]["state"] == NUKI_LOCKED)

        await wait_for("the simulated Nuki lock to lock again", simulator_locked, 20)
        # Home Assistant shows "locking" until its next poll; ask for it now so the lock looks as it was.
        await ws.call_service("homeassistant", "update_entity", target={"entity_id": lock.entity_id})

        async def ha_locked() -> bool:
            return bool((await ha_state(ws, lock.entity_id) or {}).get("state") == "locked")

        await wait_for(f"{lock.entity_id} to show locked", ha_locked, 20)
