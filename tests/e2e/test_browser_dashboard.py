"""The Kasify dashboard (the ``custom:kasify`` strategy the integration serves) in headless Chromium.

A dashboard made the way *Settings → Dashboards → Add dashboard* makes one, with the strategy as its
configuration; then the page is checked against the simulator: a section per property under its name, a tile
per lock with its state, the bookings calendar with the guests, and a lock tile's *Unlock* opening the lock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import re
from typing import Any

from harness import (
    HaLock,
    SimulatedUpstreams,
    ha_devices,
    ha_locks,
    ha_state,
    kasify_property_devices,
    lock_of_each_vendor,
    wait_for,
)
from kasify_dev import HaWebSocket, Instance
import pytest
from ui import WARNINGS, save_screenshot

playwright = pytest.importorskip(
    "playwright.async_api", reason="BROWSER TESTS SKIPPED: the playwright package is missing"
)
expect = playwright.expect

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

NUKI_LOCKED, NUKI_UNLOCKED = 1, 3  # Nuki Web's smartlock state.state
SHOWN = {"locked": "Locked", "unlocked": "Unlocked"}  # how Home Assistant writes a lock's state (English)
URL_PATH = "kasify-e2e"
MODULE_LOAD_ATTEMPTS, MODULE_WAIT_MS = 3, 15_000
CLICK_ATTEMPTS, CLICK_WAIT_MS = 3, 10_000


def _name(device: dict[str, Any]) -> str:
    return str(device.get("name_by_user") or device["name"])


def _tile_name(lock: str, prop: str) -> str:
    """A lock tile's name: the lock device's without its property's name in front (the strategy's rule)."""
    if lock.startswith(prop) and (rest := re.sub(r"^[\s\-\u2013\u2014\u00b7:|,]+", "", lock[len(prop) :])):
        return rest
    return lock


@pytest.fixture(scope="module")
async def dashboard(instance: Instance) -> str:
    """A storage dashboard whose configuration is the Kasify strategy; its URL."""
    await instance.api.websocket_command(
        {
            "type": "lovelace/dashboards/create",
            "url_path": URL_PATH,
            "title": "Kasify",
            "icon": "mdi:home-city",
            "mode": "storage",
            "show_in_sidebar": True,
            "require_admin": False,
        }
    )
    config = {"strategy": {"type": "custom:kasify"}}
    await instance.api.websocket_command(
        {"type": "lovelace/config/save", "url_path": URL_PATH, "config": config}
    )
    return f"{instance.settings.ha_url}/{URL_PATH}"


def _lock_of(lock: HaLock, device: dict[str, Any]) -> bool:
    return ["kasify", f"{lock.vendor}_{lock.vendor_id}"] in device["identifiers"]


async def _locks_up(ws: HaWebSocket) -> bool:
    locks = [lock for lock in await ha_locks(ws) if lock.property_name]
    return bool(locks) and all(lock.state in SHOWN for lock in locks)


async def _open(page: Any, instance: Instance, dashboard: str) -> None:
    """Open the dashboard from the sidebar, once the page has the strategy's module.

    Opened before the module is there, the frontend waits 5 s for it, then shows "Timeout waiting for strategy
    element". Seen here under load: now and then a page load never finished importing the module (the request
    answered, the element never defined); that page is loaded again, with a warning in the run's summary.
    """
    defined = "customElements.get('ll-strategy-dashboard-kasify') !== undefined"
    for attempt in range(1, MODULE_LOAD_ATTEMPTS + 1):
        await page.goto(f"{instance.settings.ha_url}/")
        try:
            await page.wait_for_function(defined, timeout=MODULE_WAIT_MS)
            break
        except playwright.TimeoutError:
            WARNINGS.append(f"page load {attempt}: the dashboard strategy's module was not defined in 15 s")
            if attempt == MODULE_LOAD_ATTEMPTS:
                raise
    link = page.locator(f'a[href="/{URL_PATH}"]')
    for attempt in range(1, CLICK_ATTEMPTS + 1):
        await link.click()
        try:
            await page.wait_for_url(f"{dashboard}/**", timeout=CLICK_WAIT_MS)
            return
        except playwright.TimeoutError:
            # Seen once in CI under load: the click reached the sidebar link and the page stayed where it was.
            WARNINGS.append(f"sidebar click {attempt}: the dashboard did not open in 10 s")
            if attempt == CLICK_ATTEMPTS:
                raise


def _section(page: Any, heading: str) -> Any:
    return page.locator("hui-grid-section", has=page.locator("hui-heading-card", has_text=heading))


async def test_dashboard_shows_every_property_with_its_locks_and_bookings(
    instance: Instance, ws: HaWebSocket, upstreams: SimulatedUpstreams, page: Any, dashboard: str
) -> None:
    """Every Kasify property: its section, a tile per lock with its state, its next guests in the calendar."""
    await wait_for("the locks on the properties", lambda: _locks_up(ws))
    devices = await ha_devices(ws)
    by_property = await kasify_property_devices(ws)
    locks = await ha_locks(ws)
    now = datetime.now(UTC)

    await _open(page, instance, dashboard)

    guests_seen = 0
    for prop in await upstreams.kasify_properties():
        section = _section(page, prop["name"])
        await expect(section).to_have_count(1)
        device = by_property[prop["id"]]
        for lock_device in [d for d in devices if d.get("via_device_id") == device["id"]]:
            lock = next(lock for lock in locks if _lock_of(lock, lock_device))
            shown = SHOWN[lock.state]
            if lock.vendor == "nuki":
                nuki = (await upstreams.nuki_lock(lock.vendor_id))["state"]["state"]
                assert shown == {NUKI_LOCKED: "Locked", NUKI_UNLOCKED: "Unlocked"}[nuki]
            tile = section.locator("hui-tile-card", has_text=_tile_name(_name(lock_device), prop["name"]))
            await expect(tile.filter(has_text=re.compile(rf"\b{shown}\b"))).to_have_count(1)
        calendar = section.locator("hui-calendar-card")
        for booking in await upstreams.kasify_bookings(prop["id"], now, now + timedelta(days=3)):
            if booking["status"] != "cancelled":
                await expect(calendar.get_by_text(booking["guest_name"], exact=True).first).to_be_visible()
                guests_seen += 1
    assert guests_seen, "no booking in the next three days to find in a calendar"
    await save_screenshot(page, "dashboard")


async def test_unlock_on_a_lock_tile_unlocks_the_simulated_lock(
    instance: Instance, ws: HaWebSocket, upstreams: SimulatedUpstreams, page: Any, dashboard: str
) -> None:
    """*Unlock* pressed on a Nuki lock's tile opens the lock at Nuki Web."""
    lock = (await lock_of_each_vendor(ws, ("locked",)))["nuki"]
    devices = await ha_devices(ws)
    lock_device = next(d for d in devices if _lock_of(lock, d))
    prop_name = _name(next(d for d in devices if d["id"] == lock_device["via_device_id"]))
    await _open(page, instance, dashboard)
    tile = _section(page, prop_name).locator(
        "hui-tile-card", has_text=_tile_name(_name(lock_device), prop_name)
    )

    try:
        await tile.get_by_role("button", name="Unlock", exact=True).click()

        async def simulator_unlocked() -> bool:
            return bool((await upstreams.nuki_lock(lock.vendor_id))["state"]["state"] == NUKI_UNLOCKED)

        await wait_for("the simulated Nuki lock to unlock", simulator_unlocked, 20)
        await save_screenshot(page, "dashboard-unlocked")
    finally:
        await ws.call_service("lock", "lock", target={"entity_id": lock.entity_id})

        async def simulator_locked() -> bool:
            return bool((await upstreams.nuki_lock(lock.vendor_id))["state"]["state"] == NUKI_LOCKED)

        await wait_for("the simulated Nuki lock to lock again", simulator_locked, 20)
        await ws.call_service("homeassistant", "update_entity", target={"entity_id": lock.entity_id})

        async def ha_locked() -> bool:
            return bool((await ha_state(ws, lock.entity_id) or {}).get("state") == "locked")

        await wait_for(f"{lock.entity_id} to show locked", ha_locked, 20)
