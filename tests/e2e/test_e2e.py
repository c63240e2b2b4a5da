"""A host's day, end to end: a real Home Assistant with every account, against the simulator.

The tests run in this order on one instance (see conftest.py); the last two restart and stop Home Assistant.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import hashlib
import re
import time

from harness import (
    TIMINGS,
    VENDORS,
    HaLock,
    SimulatedUpstreams,
    entry_of,
    ha_kasify_entities,
    ha_locks,
    ha_state,
    kasify_property_devices,
    lock_of_each_vendor,
    wait_for,
)
from kasify_dev import HaWebSocket, Instance
import pytest

pytestmark = pytest.mark.e2e

NUKI_LOCKED, NUKI_UNLOCKED = 1, 3  # Nuki Web's smartlock state.state
RELOAD_SECONDS = 60


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def test_every_account_shows_its_properties_and_locks(
    ws: HaWebSocket, upstreams: SimulatedUpstreams
) -> None:
    """Each Kasify property is a device with its calendar; every lock vendor's locks hang under them.

    The Nuki locks show the names and states Nuki Web has for them.
    """
    properties = await upstreams.kasify_properties()
    devices = await kasify_property_devices(ws)
    assert {p["id"]: p["name"] for p in properties} == {pid: d["name"] for pid, d in devices.items()}
    names = {device["name"] for device in devices.values()}

    async def every_vendor_up() -> dict[str, list[HaLock]] | None:
        locks = [lock for lock in await ha_locks(ws) if lock.property_name in names]
        by_vendor = {vendor: [lock for lock in locks if lock.vendor == vendor] for vendor in VENDORS}
        up = all(
            vendor_locks and all(lock.state in ("locked", "unlocked") for lock in vendor_locks)
            for vendor_locks in by_vendor.values()
        )
        return by_vendor if up else None

    by_vendor = await wait_for("the locks of every vendor on the properties", every_vendor_up)
    for lock in by_vendor["nuki"]:
        nuki = await upstreams.nuki_lock(lock.vendor_id)
        state = await ha_state(ws, lock.entity_id)
        assert state is not None
        assert state["attributes"]["friendly_name"] == nuki["name"]
        assert state["state"] == {NUKI_LOCKED: "locked", NUKI_UNLOCKED: "unlocked"}[nuki["state"]["state"]]

    calendars = [
        entry["entity_id"]
        for entry in await ha_kasify_entities(ws)
        if entry["entity_id"].startswith("calendar.")
        and entry["device_id"] in {d["id"] for d in devices.values()}
    ]
    assert len(calendars) == len(properties)
    for entity_id in calendars:
        assert (await ha_state(ws, entity_id) or {}).get("state") in ("on", "off"), entity_id


async def test_unlocking_a_nuki_lock_moves_the_simulated_lock(
    ws: HaWebSocket, upstreams: SimulatedUpstreams
) -> None:
    """``lock.unlock`` reaches Nuki Web; Home Assistant shows the motion at once and the end state after.

    ``lock.lock`` then locks it again.
    """
    lock = (await lock_of_each_vendor(ws, ("locked",)))["nuki"]
    assert (await upstreams.nuki_lock(lock.vendor_id))["state"]["state"] == NUKI_LOCKED

    await ws.call_service("lock", "unlock", target={"entity_id": lock.entity_id})

    shown = await ha_state(ws, lock.entity_id)
    assert shown is not None
    assert shown["state"] in ("unlocking", "unlocked")

    async def simulator_unlocked() -> bool:
        return bool((await upstreams.nuki_lock(lock.vendor_id))["state"]["state"] == NUKI_UNLOCKED)

    await wait_for("the simulated Nuki lock to unlock", simulator_unlocked, 20)

    # Home Assistant reads the lock again at its next poll (a minute); ask for that poll now.
    await ws.call_service("homeassistant", "update_entity", target={"entity_id": lock.entity_id})

    async def ha_unlocked() -> bool:
        state = await ha_state(ws, lock.entity_id)
        return state is not None and state["state"] == "unlocked"

    await wait_for(f"{lock.entity_id} to show unlocked", ha_unlocked, 20)

    await ws.call_service("lock", "lock", target={"entity_id": lock.entity_id})

    async def simulator_locked() -> bool:
        return bool((await upstreams.nuki_lock(lock.vendor_id))["state"]["state"] == NUKI_LOCKED)

    await wait_for("the simulated Nuki lock to lock again", simulator_locked, 20)


async def test_one_access_code_on_locks_of_three_vendors(
    ws: HaWebSocket, upstreams: SimulatedUpstreams
) -> None:
    """One ``kasify.create_access_code`` puts the same PIN on a Nuki, a UniFi Access and a RemoteLock lock."""
    locks = await lock_of_each_vendor(ws)
    assert set(locks) == set(VENDORS), locks
    starts, ends = _now() + timedelta(hours=1), _now() + timedelta(days=2)

    response = await ws.call_service(
        "kasify",
        "create_access_code",
        {"name": "E2E Ana García", "starts_at": starts.isoformat(), "ends_at": ends.isoformat()},
        target={"entity_id": [lock.entity_id for lock in locks.values()]},
        return_response=True,
    )

    assert set(response) == {lock.entity_id for lock in locks.values()}
    pins = {issued["code"] for issued in response.values()}
    assert len(pins) == 1, response
    pin = pins.pop()
    assert re.fullmatch(r"\d{4,8}", pin)
    for issued in response.values():
        assert issued["status"] in ("pending", "on_lock")
        assert datetime.fromisoformat(issued["starts_at"]) == starts
        assert datetime.fromisoformat(issued["ends_at"]) == ends

    nuki, unifi, remotelock = locks["nuki"], locks["unifi"], locks["remotelock"]
    auths = await upstreams.nuki_auths(nuki.vendor_id)
    keypad = [a for a in auths if a["id"] == response[nuki.entity_id]["code_id"]]
    assert keypad, auths
    assert (keypad[0]["type"], keypad[0]["name"], str(keypad[0]["code"])) == (13, "E2E Ana García", pin)

    visitor = await upstreams.unifi_visitor(response[unifi.entity_id]["code_id"])
    assert visitor["pin_code"]["token"] == hashlib.sha256(pin.encode()).hexdigest()
    assert [door["id"] for door in visitor["resources"]] == [unifi.vendor_id]

    guest, accesses = await upstreams.remotelock_guest(response[remotelock.entity_id]["code_id"])
    assert (guest["name"], guest["pin"]) == ("E2E Ana García", pin)
    assert [access["attributes"]["accessible_id"] for access in accesses] == [remotelock.vendor_id]


async def test_kasify_check_in_fires_when_the_check_in_passes(
    ws: HaWebSocket, upstreams: SimulatedUpstreams
) -> None:
    """A booking made now for a check-in seconds away: ``kasify_check_in`` fires on the bus at that instant.

    Home Assistant schedules the event on its own clock from the booking's check-in, which the simulator's
    live clock passes at the same moment: after the event the simulator reports the guest in the house.
    A new property keeps the test free of the seeded bookings.
    """
    prop = await upstreams.add_kasify_property("Casa del Reloj")
    devices = await kasify_property_devices(ws)
    calendar = next(
        entry["entity_id"]
        for entry in await ha_kasify_entities(ws)
        if entry["entity_id"].startswith("calendar.")
        and entry["device_id"] in {device["id"] for device in devices.values()}
    )
    # The next poll would find the new listing within a minute; ask for it now.
    await ws.call_service("homeassistant", "update_entity", target={"entity_id": calendar})

    async def new_device() -> dict[str, object] | None:
        return (await kasify_property_devices(ws)).get(prop["id"])

    device = await wait_for("the new property's device", new_device)
    events = await ws.subscribe_events("kasify_check_in")
    check_in = _now() + timedelta(seconds=15)

    booking = await ws.call_service(
        "kasify",
        "create_booking",
        {
            "property": device["id"],
            "guest_name": "Lucía Reloj",
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(hours=3)).isoformat(),
        },
        return_response=True,
    )
    assert booking["status"] == "confirmed"
    assert await upstreams.current_booking(prop["id"]) is None

    assert _now() < check_in - timedelta(seconds=2), "the booking took too long to create to test this"
    try:
        event = await asyncio.wait_for(events.get(), 40)
    except TimeoutError:
        pytest.fail(f"no kasify_check_in event by {_now()} for the check-in at {check_in}")

    assert datetime.fromisoformat(event["time_fired"]) >= check_in
    assert event["data"] == {
        "property_id": prop["id"],
        "property_name": "Casa del Reloj",
        "device_id": device["id"],
        "booking_id": booking["booking_id"],
        "guest_name": "Lucía Reloj",
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(hours=3)).isoformat(),
    }
    in_house = await upstreams.current_booking(prop["id"])
    assert in_house is not None
    assert in_house["id"] == booking["booking_id"]
    occupied = [
        entry["entity_id"]
        for entry in await ha_kasify_entities(ws)
        if entry["device_id"] == device["id"] and entry["unique_id"].endswith("-occupied")
    ]
    assert [(await ha_state(ws, entity_id) or {}).get("state") for entity_id in occupied] == ["on"]


async def _set_options(instance: Instance, entry_id: str, answers: dict[str, int]) -> None:
    """The entry's options "Settings" step, as the UI walks it (the entry reloads after saving)."""
    api = instance.api
    flow = await api.post("/api/config/config_entries/options/flow", {"handler": entry_id})
    assert flow["type"] == "menu", flow
    form = await api.post(
        f"/api/config/config_entries/options/flow/{flow['flow_id']}", {"next_step_id": "settings"}
    )
    assert form["type"] == "form", form
    done = await api.post(f"/api/config/config_entries/options/flow/{flow['flow_id']}", answers)
    assert done["type"] == "create_entry", done


async def _shown_options(instance: Instance, entry_id: str) -> dict[str, object]:
    """The values the options "Settings" form shows (then the flow is abandoned, changing nothing)."""
    api = instance.api
    flow = await api.post("/api/config/config_entries/options/flow", {"handler": entry_id})
    form = await api.post(
        f"/api/config/config_entries/options/flow/{flow['flow_id']}", {"next_step_id": "settings"}
    )
    await api.delete(f"/api/config/config_entries/options/flow/{flow['flow_id']}")
    return {
        field["name"]: (field.get("description") or {}).get("suggested_value")
        for field in form["data_schema"]
    }


async def _live_states(ws: HaWebSocket) -> dict[str, str]:
    """The state of every entity of the integration that this run of Home Assistant set up (not restored)."""
    ours = {entry["entity_id"] for entry in await ha_kasify_entities(ws)}
    return {
        state["entity_id"]: state["state"]
        for state in await ws.states()
        if state["entity_id"] in ours and not state["attributes"].get("restored")
    }


async def _codes(ws: HaWebSocket) -> list[dict[str, object]]:
    listed = await ws.call_service(
        "kasify", "list_access_codes", {"include_codes": True}, return_response=True
    )
    codes: list[dict[str, object]] = listed["codes"]
    return sorted(
        (
            {key: code[key] for key in ("entity_id", "code_id", "code", "name", "starts_at", "ends_at")}
            for code in codes
        ),
        key=lambda code: (str(code["entity_id"]), str(code["code_id"])),
    )


async def test_restart_keeps_codes_entities_and_options(instance: Instance, ws: HaWebSocket) -> None:
    """After Home Assistant restarts on the same config folder, the codes, entities and options are there."""
    # Taken before saving the options: saving reloads the Kasify entry, whose entities go and come back.
    before = await _live_states(ws)
    entry_id = entry_of(next(iter((await kasify_property_devices(ws)).values())))
    await _set_options(instance, entry_id, {"scan_interval": 45, "calendar_days": 120})
    door = (await lock_of_each_vendor(ws))["unifi"]
    starts = _now() + timedelta(days=1)
    await ws.call_service(
        "kasify",
        "create_access_code",
        {
            "name": "E2E Restart",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(days=1)).isoformat(),
        },
        target={"entity_id": door.entity_id},
        return_response=True,
    )
    codes = await _codes(ws)
    assert "E2E Restart" in {code["name"] for code in codes}

    await ws.close()

    restarting_at = time.monotonic()
    assert await instance.restart_home_assistant() == 0
    TIMINGS["restart (stop, start, log in, entries loaded)"] = time.monotonic() - restarting_at

    async with instance.api.websocket() as after:

        async def same_entities_live() -> dict[str, str] | None:
            # The same entities set up again, none unavailable that worked before the restart.
            states = await _live_states(after)
            if set(states) != set(before):
                return None
            broken = {entity_id for entity_id, state in states.items() if state == "unavailable"}
            return states if broken <= {e for e, state in before.items() if state == "unavailable"} else None

        await wait_for("the same entities, live again", same_entities_live, RELOAD_SECONDS)
        assert await _codes(after) == codes
    assert await _shown_options(instance, entry_id) == {"scan_interval": 45, "calendar_days": 120}


async def test_home_assistant_stops_cleanly(instance: Instance) -> None:
    """SIGTERM: Home Assistant exits with 0 and nothing of the integration complained in either run."""
    stopping_at = time.monotonic()
    assert await instance.stop_home_assistant() == 0
    TIMINGS["stop Home Assistant"] = time.monotonic() - stopping_at

    settings = instance.settings
    runs = [settings.ha_log.with_suffix(".log.1"), settings.ha_log]
    complaints = [
        line
        for path in runs
        for line in path.read_text(encoding="utf-8").splitlines()
        if "custom_components.kasify" in line and (" ERROR " in line or " WARNING " in line)
    ]
    assert complaints == []
    last_run = settings.ha_log.read_text(encoding="utf-8")
    for sign in ("Traceback", "Unclosed", "Task was destroyed", "Error doing job"):
        assert sign not in last_run
