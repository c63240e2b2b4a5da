"""Automatic per-booking codes end to end: Kasify bookings, the access-code engine and real Nuki keypads and
a UniFi Access door in the simulator. What the guest would type is checked on the simulated locks; what the
host sees through ``kasify.list_access_codes``."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime, timedelta
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.kasify.access_codes import async_get_code_manager
from custom_components.kasify.access_codes.automatic import get_scheduler, issue_id, storage_key
from custom_components.kasify.access_codes.manager import _DATA_MANAGER, STORAGE_KEY
from custom_components.kasify.const import (
    CONF_AUTO_CODES,
    CONF_AUTO_CODES_END_OFFSET,
    CONF_AUTO_CODES_LEAD_HOURS,
    CONF_AUTO_CODES_START_OFFSET,
    DOMAIN,
)
from custom_components.kasify.providers.nuki import NUKI_CODES
from simulator import Simulator
from simulator.unifi_access import UnifiEndpoint

from . import setup_integration
from .providers import (
    ATICO_ID,
    ENTRY_ID,
    KASIFY_OPTIONS,
    LOFT,
    LOFT_ID,
    NOW,
    answer_no_bookings_once,
    background_done,
    kasify_entry,
    keypad_codes,
    list_codes,
    move_to,
    nuki_entry,
    refresh,
    remotelock_device_id,
    remotelock_entry,
    unifi_entry,
)

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("fast_nuki", "no_heartbeat")]

# The UniFi door, added after the Kasify account, is named after the property it belongs to.
PORTAL = "lock.estudio_do_miradouro_principe_real_portal_rua_garrett"
LOFT_PORTAL = "lock.loft_patio_lavapies_portal_rua_garrett"  # moved to the Loft (_portal_at_the_loft)
# Added before the Kasify account: no property to be named after yet, so the id keeps the door's own name.
UNIFI_FIRST_PORTAL = "lock.portal_rua_garrett"

AUTO_OPTIONS = {
    **KASIFY_OPTIONS,
    CONF_AUTO_CODES: True,
    CONF_AUTO_CODES_LEAD_HOURS: 48,
    CONF_AUTO_CODES_START_OFFSET: 0,
    CONF_AUTO_CODES_END_OFFSET: 30,
}


async def _move_to(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, instant: datetime
) -> None:
    """Home Assistant's clock and the simulator's move together."""
    simulator.clock.set(instant)
    await move_to(hass, freezer, instant, push=True)


def _keypad(simulator: Simulator, smartlock_id: int) -> dict[str, dict[str, Any]]:
    """Guest name → the keypad code on a Nuki lock in the simulator."""
    return {auth["name"]: auth for auth in keypad_codes(simulator, smartlock_id).values()}


def _booking(simulator: Simulator, property_index: int, guest: str) -> dict[str, Any]:
    """The guest's booking at that property that has not ended yet (guests come back)."""
    prop = simulator.kasify.property_at(property_index)
    return next(
        booking
        for booking in simulator.kasify.bookings.values()
        if booking["property_id"] == prop["id"]
        and booking["guest_name"] == guest
        and datetime.fromisoformat(booking["check_out"]) > NOW
    )


async def _setup_all(hass: HomeAssistant, simulator: Simulator, *entries: MockConfigEntry) -> MockConfigEntry:
    kasify = kasify_entry(simulator, options=AUTO_OPTIONS)
    await setup_integration(hass, kasify)
    for entry in entries:
        await setup_integration(hass, entry)
    # The provider entries reload the Kasify entry, whose scheduler then finds their locks.
    await background_done(hass)
    return kasify


async def test_booking_codes_on_nuki_keypads_across_a_stay(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Current guests get a keypad code at once (check-in to check-out + 30 min); an extension moves it
    with the same PIN; it is gone from the keypad 30 minutes after check-out."""
    await _setup_all(hass, simulator, nuki_entry(simulator))
    louis = _booking(simulator, 0, "Louis Lefebvre")
    oliver = _booking(simulator, 2, "Oliver Taylor")
    loft = _keypad(simulator, LOFT_ID)
    code = loft["Louis Lefebvre"]
    assert code["allowedFromDate"] == "2026-03-12T14:00:00.000Z"
    assert code["allowedUntilDate"] == "2026-03-19T10:30:00.000Z"
    assert code["enabled"] is True
    assert "Oliver Taylor" in _keypad(simulator, ATICO_ID)
    # Jonas Schmidt arrives at the Ático on the 18th: more than 48 h away, no code yet.
    assert "Jonas Schmidt" not in _keypad(simulator, ATICO_ID)

    listed = await list_codes(hass, booking_id=louis["id"], include_codes=True)
    assert [(item["entity_id"], item["status"]) for item in listed] == [(LOFT, "on_lock")]
    assert listed[0]["code"] == str(code["code"])
    assert not str(code["code"]).endswith(louis["guest_phone"].replace(" ", "")[-4:])

    # Extended by two nights while in the house: same PIN, new end.
    kasify = hass.config_entries.async_get_entry(ENTRY_ID)
    simulator.kasify.move_booking(louis["id"], louis["check_in"], "2026-03-21T10:00:00Z")
    await refresh(hass, kasify, push=True)
    moved = _keypad(simulator, LOFT_ID)["Louis Lefebvre"]
    assert moved["code"] == code["code"]
    assert moved["allowedUntilDate"] == "2026-03-21T10:30:00.000Z"
    listed = await list_codes(hass, booking_id=louis["id"])
    assert listed[0]["ends_at"] == "2026-03-21T10:30:00+00:00"

    # Oliver leaves the Ático at 10:00 on the 15th: his code goes at 10:30, Jonas's comes 48 h ahead.
    await _move_to(hass, simulator, freezer, datetime.fromisoformat("2026-03-15T10:29:00+00:00"))
    assert "Oliver Taylor" in _keypad(simulator, ATICO_ID)
    await _move_to(hass, simulator, freezer, datetime.fromisoformat("2026-03-15T10:30:00+00:00"))
    assert "Oliver Taylor" not in _keypad(simulator, ATICO_ID)
    assert await list_codes(hass, booking_id=oliver["id"]) == []
    await _move_to(hass, simulator, freezer, datetime.fromisoformat("2026-03-16T14:00:00+00:00"))
    jonas = _keypad(simulator, ATICO_ID)["Jonas Schmidt"]
    assert jonas["allowedFromDate"] == "2026-03-18T14:00:00.000Z"


async def test_new_booking_cancelled_and_restart(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """A booking made for tomorrow gets its code at the next refresh; an early arrival moves it; a
    cancellation removes it from the keypad; restarting Home Assistant creates nothing twice."""
    kasify = await _setup_all(hass, simulator, nuki_entry(simulator))
    loft = simulator.kasify.property_at(0)
    check_in = datetime.fromisoformat("2026-03-21T14:00:00+00:00")
    booking = simulator.kasify.add_booking(
        loft["id"], "Marta Ruiz", check_in, check_in + timedelta(days=2), guest_phone="+34 611 222 333"
    )
    await refresh(hass, kasify, push=True)
    assert "Marta Ruiz" not in _keypad(simulator, LOFT_ID)  # 7 days ahead
    await _move_to(hass, simulator, freezer, check_in - timedelta(hours=48))
    code = _keypad(simulator, LOFT_ID)["Marta Ruiz"]
    assert code["allowedFromDate"] == "2026-03-21T14:00:00.000Z"
    assert not str(code["code"]).endswith("2333")

    # Restart: the same code is followed, not created again.
    before = len(simulator.nuki.auths)
    assert await hass.config_entries.async_reload(kasify.entry_id)
    await background_done(hass)
    assert len(simulator.nuki.auths) == before
    assert hass_storage[f"kasify.auto_codes.{kasify.entry_id}"]["data"]["bookings"][booking["id"]][
        "codes"
    ] == {LOFT: code["id"]}

    simulator.kasify.move_booking(booking["id"], check_in - timedelta(hours=4), check_in + timedelta(days=2))
    await refresh(hass, kasify, push=True)
    moved = _keypad(simulator, LOFT_ID)["Marta Ruiz"]
    assert (moved["code"], moved["allowedFromDate"]) == (code["code"], "2026-03-21T10:00:00.000Z")

    simulator.kasify.cancel_booking(booking["id"])
    await refresh(hass, kasify, push=True)
    assert "Marta Ruiz" not in _keypad(simulator, LOFT_ID)
    assert await list_codes(hass, booking_id=booking["id"]) == []
    scheduler = get_scheduler(hass, kasify.entry_id)
    assert scheduler is not None
    assert booking["id"] not in scheduler.held


async def test_kasify_outage_keeps_the_guest_code(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Kasify failing, then answering with an empty booking list: the guest in the house keeps the code."""
    kasify = await _setup_all(hass, simulator, nuki_entry(simulator))
    simulator.faults.inject("/kasify/", status=503)
    await _move_to(hass, simulator, freezer, NOW + timedelta(minutes=2))
    assert not kasify.runtime_data.coordinator.last_update_success
    assert "Louis Lefebvre" in _keypad(simulator, LOFT_ID)
    simulator.faults.clear()
    answer_no_bookings_once(simulator)
    await _move_to(hass, simulator, freezer, NOW + timedelta(minutes=4))
    assert kasify.runtime_data.coordinator.last_update_success
    assert "Louis Lefebvre" in _keypad(simulator, LOFT_ID)


async def test_unifi_door_and_repair_issue(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """João arrives at the Estúdio tomorrow: a visitor PIN on its UniFi door. While the door refuses, a
    repair issue names it; it clears once the code is on the door."""
    joao = _booking(simulator, 1, "João Costa")
    simulator.faults.inject("/api/v1/developer/visitors", method="POST", status=500)
    kasify = await _setup_all(hass, simulator, unifi_entry(endpoint))
    assert await list_codes(hass, booking_id=joao["id"]) == []
    key = issue_id(kasify.entry_id, joao["id"])
    assert issue_registry.async_get_issue(DOMAIN, key) is None  # 27 hours ahead

    arrival = datetime.fromisoformat(joao["check_in"])
    await _move_to(hass, simulator, freezer, arrival - timedelta(hours=24))
    issue = issue_registry.async_get_issue(DOMAIN, key)
    assert issue is not None
    assert issue.translation_key == "code_not_on_locks"
    assert issue.translation_placeholders["locks"] == "Estúdio do Miradouro Príncipe Real Portal Rua Garrett"
    assert issue.translation_placeholders["guest"] == "João Costa"

    simulator.faults.clear()
    await _move_to(hass, simulator, freezer, arrival - timedelta(hours=23, minutes=55))
    visitors = [
        v for v in simulator.unifi.visitors.values() if f"{v['first_name']} {v['last_name']}" == "João Costa"
    ]
    assert len(visitors) == 1
    assert visitors[0]["start_time"] == int(arrival.timestamp())
    assert visitors[0]["end_time"] == int(
        (datetime.fromisoformat(joao["check_out"]) + timedelta(minutes=30)).timestamp()
    )
    listed = await list_codes(hass, booking_id=joao["id"])
    assert [(item["entity_id"], item["status"]) for item in listed] == [(PORTAL, "on_lock")]
    assert issue_registry.async_get_issue(DOMAIN, key) is None


def _portal_at_the_loft(simulator: Simulator) -> None:
    """The UniFi door of the Estúdio is moved to the Loft, which then has a Nuki lock and a UniFi door."""
    state = simulator.kasify
    loft, estudio = state.property_at(0), state.property_at(1)
    (door,) = state.locks_for(estudio["id"])
    state.remove_lock(door["id"])
    unifi = door["unifi_smartlock"]
    state.add_unifi_lock(
        loft["id"],
        door["name"],
        floor_id=unifi["floor_id"],
        door_id=unifi["door_id"],
        door_name=unifi["name"],
    )


def _pending_revokes(issue_registry: ir.IssueRegistry) -> list[ir.IssueEntry]:
    """The repairs about codes a revocation left on some locks."""
    return [
        issue
        for issue in issue_registry.issues.values()
        if issue.domain == DOMAIN and issue.translation_key == "access_code_revoke_pending"
    ]


@pytest.mark.parametrize("fault", ["unifi-unloaded", "nuki-500"])
async def test_cancelled_booking_leaves_no_code_on_reachable_locks(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    """Louis's booking at the Loft (a Nuki lock and a UniFi door) is cancelled while one of them cannot be
    reached: his code goes from the other at once; only the lock left is retried, every 5 minutes, with one
    repair (naming the lock and the guest, never the PIN) and one warning; once the lock is reachable
    again the code goes from it too and the repair with it."""
    _portal_at_the_loft(simulator)
    unifi = unifi_entry(endpoint)
    kasify = await _setup_all(hass, simulator, nuki_entry(simulator), unifi)
    louis = _booking(simulator, 0, "Louis Lefebvre")
    listed = await list_codes(hass, booking_id=louis["id"], include_codes=True)
    codes = {item["entity_id"]: item["code_id"] for item in listed}
    assert set(codes) == {LOFT, LOFT_PORTAL}
    pin = listed[0]["code"]
    if fault == "unifi-unloaded":
        await hass.config_entries.async_unload(unifi.entry_id)
        await background_done(hass)
        failed, name = LOFT_PORTAL, "Loft Patio Lavapiés Portal Rua Garrett"
    else:
        simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth", method="DELETE", status=500)
        failed, name = LOFT, "Loft Patio Lavapiés - Puerta principal"

    def on_locks() -> set[str]:
        found = {LOFT} if codes[LOFT] in simulator.nuki.auths else set()
        return found | ({LOFT_PORTAL} if codes[LOFT_PORTAL] in simulator.unifi.visitors else set())

    caplog.set_level(logging.DEBUG, logger="custom_components.kasify")
    caplog.clear()
    simulator.kasify.cancel_booking(louis["id"])
    await refresh(hass, kasify, push=True)
    assert on_locks() == {failed}
    assert [item["entity_id"] for item in await list_codes(hass, booking_id=louis["id"])] == [failed]
    (issue,) = _pending_revokes(issue_registry)
    assert issue.translation_placeholders["locks"] == name
    assert issue.translation_placeholders["guest"] == "Louis Lefebvre"
    assert pin not in str(issue.translation_placeholders)

    simulator.reset_requests()
    for minutes in (5, 10, 15):
        await _move_to(hass, simulator, freezer, NOW + timedelta(minutes=minutes, seconds=1))
    assert on_locks() == {failed}
    if fault == "nuki-500":  # the door whose code is gone is not asked again
        assert simulator.count_requests("/api/v1/developer/visitors", "DELETE") == 0
    else:
        assert simulator.count_requests(f"/nuki/smartlock/{LOFT_ID}/auth", "DELETE") == 0
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and louis["id"] in r.getMessage()]
    assert len(warnings) == 1
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components.kasify")]
    assert not any(pin in message for message in ours)
    assert _pending_revokes(issue_registry) == [issue]

    simulator.faults.clear()
    if fault == "unifi-unloaded":
        assert await hass.config_entries.async_setup(unifi.entry_id)
        await background_done(hass)
    await _move_to(hass, simulator, freezer, NOW + timedelta(minutes=20, seconds=2))
    assert on_locks() == set()
    assert await list_codes(hass, booking_id=louis["id"]) == []
    assert _pending_revokes(issue_registry) == []
    scheduler = get_scheduler(hass, kasify.entry_id)
    assert scheduler is not None
    assert louis["id"] not in scheduler.held


async def test_a_held_code_the_engine_forgot_is_not_revoked_upstream(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The engine lost the record of Louis's Loft code (its store): on cancellation his code still goes from
    the UniFi door at once; nothing is sent for the Loft code (only codes on record are revoked), the
    booking is forgotten with one warning, and no repair is left retrying it."""
    _portal_at_the_loft(simulator)
    kasify = await _setup_all(hass, simulator, nuki_entry(simulator), unifi_entry(endpoint))
    louis = _booking(simulator, 0, "Louis Lefebvre")
    listed = await list_codes(hass, booking_id=louis["id"])
    codes = {item["entity_id"]: item["code_id"] for item in listed}
    assert set(codes) == {LOFT, LOFT_PORTAL}
    async_get_code_manager(hass)._records.pop((LOFT, codes[LOFT]))
    simulator.reset_requests()
    caplog.clear()
    simulator.kasify.cancel_booking(louis["id"])
    await refresh(hass, kasify, push=True)
    assert codes[LOFT_PORTAL] not in simulator.unifi.visitors
    assert codes[LOFT] in simulator.nuki.auths
    assert simulator.count_requests("/nuki", "DELETE") == 0
    assert await list_codes(hass, booking_id=louis["id"]) == []
    assert _pending_revokes(issue_registry) == []
    scheduler = get_scheduler(hass, kasify.entry_id)
    assert scheduler is not None
    assert louis["id"] not in scheduler.held
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and louis["id"] in r.getMessage()]
    assert len(warnings) == 1


async def test_stays_longer_than_120_days(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stay of 120 days gets a code for the stay itself (the offsets would pass the maximum); a longer one
    (a typo in the year) never gets a century-long code: a move is refused and the code keeps its window, a
    new booking gets no code and its repair issue says so."""
    kasify = await _setup_all(hass, simulator, nuki_entry(simulator))
    louis = _booking(simulator, 0, "Louis Lefebvre")
    check_in = datetime.fromisoformat(louis["check_in"])
    simulator.kasify.move_booking(louis["id"], louis["check_in"], check_in + timedelta(days=120))
    await refresh(hass, kasify, push=True)
    code = _keypad(simulator, LOFT_ID)["Louis Lefebvre"]
    assert code["allowedFromDate"] == "2026-03-12T14:00:00.000Z"
    assert code["allowedUntilDate"] == "2026-07-10T14:00:00.000Z"

    with caplog.at_level(logging.WARNING):
        simulator.kasify.move_booking(louis["id"], louis["check_in"], "2126-03-19T10:00:00Z")
        await refresh(hass, kasify, push=True)
    assert "Could not move the access code of booking" in caplog.text
    assert _keypad(simulator, LOFT_ID)["Louis Lefebvre"] == code

    jonas = _booking(simulator, 2, "Jonas Schmidt")
    simulator.kasify.move_booking(jonas["id"], jonas["check_in"], "2126-03-25T10:00:00Z")
    await refresh(hass, kasify, push=True)
    arrival = datetime.fromisoformat(jonas["check_in"])
    await _move_to(hass, simulator, freezer, arrival - timedelta(hours=24))
    assert "Jonas Schmidt" not in _keypad(simulator, ATICO_ID)
    assert await list_codes(hass, booking_id=jonas["id"]) == []
    issue = issue_registry.async_get_issue(DOMAIN, issue_id(kasify.entry_id, jonas["id"]))
    assert issue is not None
    assert issue.translation_key == "code_not_on_locks"


VISITORS = "/api/v1/developer/visitors"
# Loop turns a test waits for something under way (it stops as soon as it happens; loaded machines need many).
POLL_TURNS = 20_000


async def _reload(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, simulator: Simulator, entry_id: str
) -> None:
    """Reload an entry. Should the reload wait on a timer alone (nothing under way upstream: an unload waiting
    for a task that does not end), time moves on so the timer can fire."""
    task = hass.async_create_task(hass.config_entries.async_reload(entry_id))
    for _ in range(10):
        for _ in range(200):
            if task.done():
                assert task.result()
                return
            await asyncio.sleep(0)
        if all(request.status is not None for request in simulator.requests):
            freezer.tick(timedelta(seconds=11))
            async_fire_time_changed(hass)
    assert await task


async def test_a_reload_in_the_middle_of_a_create_leaves_one_scheduler_and_one_code(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """The Kasify entry reloads (as it does whenever a Nuki or UniFi entry loads or unloads) while Louis's
    code is on its way to the Loft keypad. The scheduler stops with the entry: its create is undone, and the
    scheduler that starts makes the code. Only one runs: Louis ends with one code on the keypad, on record."""
    gate = asyncio.Event()
    real = NUKI_CODES.create
    held_back: list[str] = []

    async def slow_loft(target: Any, new: Any) -> Any:
        if target.entity_id == LOFT and not held_back:
            held_back.append(new.name)
            await gate.wait()  # the keypad's answer takes longer than the entry's unload waits
        return await real(target, new)

    kasify = kasify_entry(simulator, options=AUTO_OPTIONS)
    await setup_integration(hass, kasify)
    nuki = nuki_entry(simulator)
    with patch.object(NUKI_CODES, "create", slow_loft):
        nuki.add_to_hass(hass)
        assert await hass.config_entries.async_setup(nuki.entry_id)  # the Kasify entry reloads: its locks
        for _ in range(POLL_TURNS):  # the locks are linked to their property in slices of the loop's turns
            if held_back:
                break
            await asyncio.sleep(0)
        assert held_back == ["Louis Lefebvre"]
        await _reload(hass, freezer, simulator, kasify.entry_id)
        for _ in range(200):  # the scheduler that started gets as far as it can
            await asyncio.sleep(0)
        gate.set()
        await background_done(hass)

    louis = _booking(simulator, 0, "Louis Lefebvre")
    listed = await list_codes(hass, booking_id=louis["id"])
    on_loft = [a["id"] for a in keypad_codes(simulator, LOFT_ID).values() if a["name"] == "Louis Lefebvre"]
    assert [item["code_id"] for item in listed] == on_loft
    assert len(on_loft) == 1
    assert simulator.count_requests(f"/nuki/smartlock/{LOFT_ID}/auth", "PUT") == 1
    scheduler = get_scheduler(hass, kasify.entry_id)
    assert scheduler is not None
    assert scheduler.held[louis["id"]].codes == {LOFT: on_loft[0]}


async def test_a_reload_in_the_middle_of_a_two_lock_create_leaves_one_code_per_lock(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """Louis's code is on the Loft keypad and the UniFi controller took his visitor but has not answered
    when the Kasify entry reloads: both are undone, and the scheduler that starts makes the code again.
    What the locks hold in the end: one code per lock for Louis, the same PIN on both, each on record."""
    _portal_at_the_loft(simulator)
    await setup_integration(hass, nuki_entry(simulator))
    await setup_integration(hass, unifi_entry(endpoint))
    simulator.faults.inject(VISITORS, method="POST", apply=True, delay=3600.0, times=1)
    kasify = kasify_entry(simulator, options=AUTO_OPTIONS)
    kasify.add_to_hass(hass)
    assert await hass.config_entries.async_setup(kasify.entry_id)
    for _ in range(POLL_TURNS):  # the scheduler made the Loft code and waits for the controller's answer
        if simulator.requests_for(VISITORS, "POST"):
            break
        await asyncio.sleep(0)
    louis = _booking(simulator, 0, "Louis Lefebvre")
    assert [a["name"] for a in keypad_codes(simulator, LOFT_ID).values()].count("Louis Lefebvre") == 1

    assert await hass.config_entries.async_reload(kasify.entry_id)
    await background_done(hass)

    listed = await list_codes(hass, booking_id=louis["id"], include_codes=True)
    codes = {item["entity_id"]: item["code_id"] for item in listed}
    assert set(codes) == {LOFT, UNIFI_FIRST_PORTAL}
    assert len({item["code"] for item in listed}) == 1
    on_loft = [a["id"] for a in keypad_codes(simulator, LOFT_ID).values() if a["name"] == "Louis Lefebvre"]
    assert on_loft == [codes[LOFT]]
    visitors = [
        vid
        for vid, v in simulator.unifi.visitors.items()
        if f"{v['first_name']} {v['last_name']}" == "Louis Lefebvre"
    ]
    assert visitors == [codes[UNIFI_FIRST_PORTAL]]
    assert simulator.unifi.pins[codes[UNIFI_FIRST_PORTAL]] == listed[0]["code"]
    await hass.config_entries.async_unload(kasify.entry_id)  # before the providers, whose unload reloads it


async def test_home_assistant_stopped_in_the_middle_of_a_create(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    hass_storage: dict[str, Any],
) -> None:
    """Home Assistant stops while Louis's code is being made: the Loft keypad has it, the UniFi controller
    took the visitor without answering, and nothing more reaches the locks. At the next start both are
    found and removed before Louis gets his code again: one per lock, the same PIN, each on record."""
    _portal_at_the_loft(simulator)
    await setup_integration(hass, nuki_entry(simulator))
    await setup_integration(hass, unifi_entry(endpoint))
    simulator.faults.inject(VISITORS, method="POST", apply=True, delay=3600.0, times=1)
    kasify = kasify_entry(simulator, options=AUTO_OPTIONS)
    kasify.add_to_hass(hass)
    assert await hass.config_entries.async_setup(kasify.entry_id)
    for _ in range(POLL_TURNS):
        if simulator.requests_for(VISITORS, "POST"):
            break
        await asyncio.sleep(0)
    louis = _booking(simulator, 0, "Louis Lefebvre")
    stores = {key: copy.deepcopy(hass_storage[key]) for key in (STORAGE_KEY, storage_key(kasify.entry_id))}
    first_pin = next(
        a["code"] for a in keypad_codes(simulator, LOFT_ID).values() if a["name"] == "Louis Lefebvre"
    )

    # The stop: nothing reaches the locks any more, and this run's memory is gone.
    simulator.faults.inject("/nuki", status=503)
    simulator.faults.inject("/api/v1/developer", status=503)
    await hass.config_entries.async_unload(kasify.entry_id)
    stopped = hass.data.pop(_DATA_MANAGER)
    stopped._records.clear()
    stopped._checker.schedule()
    simulator.faults.clear()
    assert len([v for v in simulator.unifi.visitors.values() if v["first_name"] == "Louis"]) == 1
    hass_storage.update(stores)

    assert await hass.config_entries.async_setup(kasify.entry_id)
    await background_done(hass)

    listed = await list_codes(hass, booking_id=louis["id"], include_codes=True)
    codes = {item["entity_id"]: item["code_id"] for item in listed}
    assert set(codes) == {LOFT, UNIFI_FIRST_PORTAL}
    pins = {item["code"] for item in listed}
    assert len(pins) == 1
    assert pins != {str(first_pin)}
    on_loft = [a["id"] for a in keypad_codes(simulator, LOFT_ID).values() if a["name"] == "Louis Lefebvre"]
    assert on_loft == [codes[LOFT]]
    visitors = [vid for vid, v in simulator.unifi.visitors.items() if v["first_name"] == "Louis"]
    assert visitors == [codes[UNIFI_FIRST_PORTAL]]
    await hass.config_entries.async_unload(kasify.entry_id)  # before the providers, whose unload reloads it


async def test_a_lock_account_added_later_gets_the_guests_codes_at_once(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """The RemoteLock account is added once Louis has his code on the Loft's Nuki lock: its lock at the Loft
    (the location of the same name) gets his PIN as soon as it is set up, not at the next booking change."""
    await _setup_all(hass, simulator, nuki_entry(simulator))
    louis = _booking(simulator, 0, "Louis Lefebvre")
    (nuki_code,) = await list_codes(hass, booking_id=louis["id"], include_codes=True)
    await setup_integration(hass, remotelock_entry(simulator))
    await background_done(hass)
    listed = await list_codes(hass, booking_id=louis["id"], include_codes=True)
    assert {(item["entity_id"], item["code"]) for item in listed} == {
        (LOFT, nuki_code["code"]),
        ("lock.loft_patio_lavapies_puerta_de_servicio", nuki_code["code"]),
    }
    front = remotelock_device_id(simulator, "Puerta de servicio")
    state = simulator.remotelock
    granted = {
        state.access_persons[access["attributes"]["access_person_id"]]["attributes"]["pin"]
        for access in state.accesses.values()
        if access["attributes"]["accessible_id"] == front
    }
    assert nuki_code["code"] in granted


async def test_a_booking_moved_to_another_property_gets_its_code_there_at_once(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Louis is moved from the Loft to the Estúdio while the Loft's Nuki lock refuses deletions: the Estúdio's
    UniFi door gets his code at once; the Loft's is revoked once the lock takes deletions again (also after
    a reload), and only then does the repair about it go."""
    kasify = await _setup_all(hass, simulator, nuki_entry(simulator), unifi_entry(endpoint))
    louis = _booking(simulator, 0, "Louis Lefebvre")
    old = _keypad(simulator, LOFT_ID)["Louis Lefebvre"]
    simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth", method="DELETE", status=500)
    estudio = simulator.kasify.property_at(1)
    simulator.kasify.move_booking(
        louis["id"], louis["check_in"], louis["check_out"], property_id=estudio["id"]
    )
    await refresh(hass, kasify, push=True)

    def visitors() -> list[dict[str, Any]]:
        return [
            v
            for v in simulator.unifi.visitors.values()
            if f"{v['first_name']} {v['last_name']}" == "Louis Lefebvre"
        ]

    assert len(visitors()) == 1
    assert old["id"] in simulator.nuki.auths
    assert {item["entity_id"] for item in await list_codes(hass, booking_id=louis["id"])} == {LOFT, PORTAL}
    assert len(_pending_revokes(issue_registry)) == 1

    assert await hass.config_entries.async_reload(kasify.entry_id)
    await background_done(hass)
    simulator.faults.clear()
    await _move_to(hass, simulator, freezer, NOW + timedelta(minutes=5, seconds=1))
    assert old["id"] not in simulator.nuki.auths
    assert len(visitors()) == 1
    assert [item["entity_id"] for item in await list_codes(hass, booking_id=louis["id"])] == [PORTAL]
    assert _pending_revokes(issue_registry) == []
    scheduler = get_scheduler(hass, kasify.entry_id)
    assert scheduler is not None
    assert [key for key in scheduler.held if louis["id"] in key] == [louis["id"]]
    assert scheduler.held[louis["id"]].codes.keys() == {PORTAL}


async def test_a_move_refused_while_an_account_was_unloaded_is_done_when_it_loads(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Louis's stay is extended while the RemoteLock account is unloaded: the move waits (all his locks move
    together); once the account is loaded again his code moves on both locks at once, not at the next
    retry five minutes later."""
    rl = remotelock_entry(simulator)
    await _setup_all(hass, simulator, nuki_entry(simulator), rl)
    kasify = hass.config_entries.async_get_entry(ENTRY_ID)
    louis = _booking(simulator, 0, "Louis Lefebvre")
    assert await hass.config_entries.async_unload(rl.entry_id)
    await background_done(hass)
    simulator.kasify.move_booking(louis["id"], louis["check_in"], "2026-03-21T10:00:00Z")
    await refresh(hass, kasify, push=True)
    assert _keypad(simulator, LOFT_ID)["Louis Lefebvre"]["allowedUntilDate"] == "2026-03-19T10:30:00.000Z"

    assert await hass.config_entries.async_setup(rl.entry_id)
    await background_done(hass)
    assert _keypad(simulator, LOFT_ID)["Louis Lefebvre"]["allowedUntilDate"] == "2026-03-21T10:30:00.000Z"
    listed = await list_codes(hass, booking_id=louis["id"])
    assert {(item["entity_id"], item["ends_at"]) for item in listed} == {
        (LOFT, "2026-03-21T10:30:00+00:00"),
        ("lock.loft_patio_lavapies_puerta_de_servicio", "2026-03-21T10:30:00+00:00"),
    }


async def test_a_lock_that_refuses_the_bookings_pin_gets_a_new_pin_with_the_others(
    hass: HomeAssistant, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mia's PIN is made while the Loft's Nuki lock is not yet listed under the property (its account was
    reloading): only the Loft's RemoteLock lock has it, and it has a 0, which Nuki keypads refuse. Once the
    Nuki lock is back under the property, the booking gets a new PIN that suits both locks, on both, and the
    old one is gone (found by the soak: the keypad was asked for the old PIN every five minutes and never got
    a code, so the guest could not open the Loft's door)."""
    await _setup_all(hass, simulator, nuki_entry(simulator), remotelock_entry(simulator))
    manager = async_get_code_manager(hass)
    listed_locks = manager.lock_entities_for_property
    monkeypatch.setattr(
        manager,
        "lock_entities_for_property",
        lambda device_id: [e for e in listed_locks(device_id) if e != LOFT],
    )
    loft = simulator.kasify.property_at(0)
    mia = simulator.kasify.add_booking(
        loft["id"], "Mia Wagner", "2026-03-15T15:00:00Z", "2026-03-16T10:00:00Z", guest_phone="+49 151 000"
    )
    kasify = hass.config_entries.async_get_entry(ENTRY_ID)
    with patch("custom_components.kasify.access_codes.manager.generate_code", return_value="508213"):
        await refresh(hass, kasify, push=True)
    service = "lock.loft_patio_lavapies_puerta_de_servicio"
    listed = await list_codes(hass, booking_id=mia["id"], include_codes=True)
    assert {(item["entity_id"], item["code"]) for item in listed} == {(service, "508213")}

    monkeypatch.setattr(manager, "lock_entities_for_property", listed_locks)
    simulator.kasify.update_booking(mia["id"], guests_count=3)  # a change, for the scheduler to look again
    await refresh(hass, kasify, push=True)
    await background_done(hass)
    listed = await list_codes(hass, booking_id=mia["id"], include_codes=True)
    assert {item["entity_id"] for item in listed} == {LOFT, service}
    (pin,) = {item["code"] for item in listed}
    assert pin != "508213"
    assert "0" not in pin
    assert str(_keypad(simulator, LOFT_ID)["Mia Wagner"]["code"]) == pin
    state = simulator.remotelock
    front = remotelock_device_id(simulator, "Puerta de servicio")
    persons = [
        state.access_persons[access["attributes"]["access_person_id"]]
        for access in state.accesses.values()
        if access["attributes"]["accessible_id"] == front
    ]
    granted = [p["attributes"]["pin"] for p in persons if state.person_status(p) != "deactivated"]
    assert pin in granted
    assert "508213" not in granted
