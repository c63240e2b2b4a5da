"""Codes a create left on a lock without a clear answer: found again and removed, never left untracked.

The simulator plays the ambiguous answers (the vendor takes the code, the client sees an error, a dropped
connection or no answer in time: ``apply=True`` faults), cancellations in the middle of a call, rollbacks
that cannot remove what they made, and a Home Assistant stopped in the middle of a create. What is asserted is
the simulator's own state: no code on a lock that the engine does not track.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.kasify.access_codes import CODE_ON_LOCK, CODE_PENDING, async_get_code_manager
from custom_components.kasify.access_codes.manager import _DATA_MANAGER, STORAGE_KEY, AccessCodeManager
from custom_components.kasify.api.errors import ServerError
from custom_components.kasify.api.nuki import NukiClient
from simulator import Simulator
from simulator.unifi_access import UnifiEndpoint

from . import setup_integration
from .providers import (
    ATICO,
    ATICO_ID,
    END,
    LOFT,
    LOFT_ID,
    NOW,
    PORTAL,
    START,
    background_done,
    create_code,
    keypad_codes,
    list_codes,
    nuki_entry,
    tick,
    unifi_entry,
)

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("fast_nuki", "no_heartbeat")]

VISITORS = "/api/v1/developer/visitors"
CHECKS = timedelta(seconds=30)  # how often unsettled codes are looked at
CLIENT_TIMEOUT = timedelta(seconds=16)  # every client gives up after 15 s
KASIFY_LOFT = "binary_sensor.loft_patio_lavapies_puerta_principal"


async def _sent(simulator: Simulator, path: str, method: str) -> None:
    """Wait until the simulator has received such a request."""
    for _ in range(500):
        if simulator.requests_for(path, method):
            return
        await asyncio.sleep(0)
    raise AssertionError(f"no {method} {path}")


def _visitors(simulator: Simulator, name: str = "Ana García") -> list[dict[str, Any]]:
    """The simulated controller's visitors called ``name``."""
    return [v for v in simulator.unifi.visitors.values() if f"{v['first_name']} {v['last_name']}" == name]


def _leftover_issues(issue_registry: ir.IssueRegistry) -> list[ir.IssueEntry]:
    return [
        issue
        for issue in issue_registry.issues.values()
        if issue.domain == "kasify" and issue.translation_key == "access_code_leftover"
    ]


async def _nuki_and_unifi(hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint) -> None:
    await setup_integration(hass, nuki_entry(simulator))
    await setup_integration(hass, unifi_entry(endpoint))


# --- the vendor took the code, the answer never said so ---------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 502},
        {"delay": 3600.0},  # the answer comes later than the client waits
    ],
    ids=["502", "timeout"],
)
async def test_a_code_taken_without_a_clear_answer_is_removed(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    fault: dict[str, Any],
) -> None:
    """The Loft keypad takes the code but the answer is lost: the call fails and undoes itself on both locks,
    the Loft's code included, so nothing stays that the engine does not track."""
    await setup_integration(hass, nuki_entry(simulator))
    before = {lock: dict(keypad_codes(simulator, lock)) for lock in (ATICO_ID, LOFT_ID)}
    simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth", method="PUT", apply=True, times=1, **fault)

    call = hass.async_create_task(create_code(hass, [ATICO, LOFT]))
    await _sent(simulator, f"/nuki/smartlock/{LOFT_ID}/auth", "PUT")
    if "delay" in fault:  # the only request under way: move on past the client's wait for its answer
        freezer.tick(CLIENT_TIMEOUT)
        async_fire_time_changed(hass)
    with pytest.raises(HomeAssistantError) as err:
        await call

    assert err.value.translation_key == "access_code_create_failed"
    assert err.value.translation_placeholders["lock"] == "Loft Patio Lavapiés - Puerta principal"
    assert simulator.count_requests(f"/nuki/smartlock/{LOFT_ID}/auth", "PUT") == 1  # it was taken...
    assert {
        lock: dict(keypad_codes(simulator, lock)) for lock in (ATICO_ID, LOFT_ID)
    } == before  # ...and removed
    assert await list_codes(hass) == []
    assert _leftover_issues(issue_registry) == []


async def test_a_nuki_create_sent_twice_by_the_client_is_one_code(
    hass: HomeAssistant, simulator: Simulator, issue_registry: ir.IssueRegistry
) -> None:
    """The connection drops after Nuki took the code; the HTTP client sends the PUT again by itself and Nuki
    refuses it (the PIN is on the keypad now, the first one's). That refusal is the code made: it is kept,
    once, and nothing else is created."""
    await setup_integration(hass, nuki_entry(simulator))
    before = set(keypad_codes(simulator, LOFT_ID))
    simulator.faults.inject(
        f"/nuki/smartlock/{LOFT_ID}/auth", method="PUT", disconnect=True, apply=True, times=1
    )
    response = await create_code(hass, [ATICO, LOFT])
    assert simulator.count_requests(f"/nuki/smartlock/{LOFT_ID}/auth", "PUT") == 2
    (auth_id,) = set(keypad_codes(simulator, LOFT_ID)) - before
    assert response[LOFT]["code_id"] == auth_id
    assert (
        simulator.nuki.auths[auth_id]["code"] == int(response[LOFT]["code"]) == int(response[ATICO]["code"])
    )
    assert {item["entity_id"] for item in await list_codes(hass)} == {ATICO, LOFT}
    assert _leftover_issues(issue_registry) == []


async def test_a_pin_nuki_refuses_is_not_taken_for_one_it_made(
    hass: HomeAssistant, simulator: Simulator, issue_registry: ir.IssueRegistry
) -> None:
    """Nuki refuses the PIN and the keypad has no code with that name and PIN: a refusal, nothing created.
    When the keypad cannot be read to tell, the code is looked for like any unclear answer."""
    await setup_integration(hass, nuki_entry(simulator))
    before = dict(keypad_codes(simulator, LOFT_ID))
    refused = "{\"detailMessage\": \"The supplied value '483926' for parameter 'code' is not valid\"}"
    simulator.faults.inject(
        f"/nuki/smartlock/{LOFT_ID}/auth", method="PUT", status=400, body=refused, times=1
    )
    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, LOFT, code="483926")
    assert err.value.translation_key == "access_code_in_use"
    assert keypad_codes(simulator, LOFT_ID) == before

    simulator.faults.inject(
        f"/nuki/smartlock/{LOFT_ID}/auth", method="PUT", status=400, body=refused, times=1
    )
    with (
        patch.object(NukiClient, "find_keypad_code", side_effect=ServerError("Nuki is busy", status=503)),
        pytest.raises(HomeAssistantError) as err,
    ):
        await create_code(hass, LOFT, code="483926")
    assert err.value.translation_key == "access_code_create_failed"  # looked for (the list works): not there
    assert keypad_codes(simulator, LOFT_ID) == before
    assert await list_codes(hass) == []
    assert _leftover_issues(issue_registry) == []


async def test_a_nuki_code_whose_first_look_fails_is_followed(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Nuki accepted the code (204) but the read that looks for its id fails: the code is not lost, it is
    pending, and the checker finds it on the keypad."""
    await setup_integration(hass, nuki_entry(simulator))
    before = set(keypad_codes(simulator, LOFT_ID))
    with patch.object(NukiClient, "find_keypad_code", side_effect=ServerError("Nuki is busy", status=503)):
        response = await create_code(hass, LOFT, booking_id="b-1")
    assert response[LOFT]["status"] == CODE_PENDING
    (auth_id,) = set(keypad_codes(simulator, LOFT_ID)) - before

    await tick(hass, freezer, CHECKS, push=True)
    listed = await list_codes(hass, include_codes=True)
    assert [(item["code_id"], item["status"]) for item in listed] == [(auth_id, CODE_ON_LOCK)]
    assert simulator.nuki.auths[auth_id]["code"] == int(listed[0]["code"])


async def test_a_kasify_code_taken_without_an_answer_is_named_in_a_repair(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Kasify lists no codes: one it took while the answer was lost cannot be looked for. The error and a
    repair say so (the lock and the guest, never the PIN) until the code's window is over."""
    loft = simulator.kasify.property_at(0)["id"]
    booking = next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == loft and b["status"] == "confirmed"
    )
    before = set(simulator.kasify.access_codes)
    simulator.faults.inject(
        f"/kasify/v1/bookings/{booking['id']}/access-codes", method="POST", status=504, apply=True, times=1
    )
    ends = NOW + timedelta(hours=2)
    with pytest.raises(HomeAssistantError) as err:
        await create_code(
            hass, KASIFY_LOFT, booking_id=booking["id"], starts_at=NOW.isoformat(), ends_at=ends.isoformat()
        )
    assert err.value.translation_key == "access_code_create_unanswered"
    (code_id,) = set(simulator.kasify.access_codes) - before
    pin = simulator.kasify.access_codes[code_id]["code"]
    (issue,) = _leftover_issues(issue_registry)
    assert issue.translation_placeholders["lock"] == "Loft Patio Lavapiés Puerta principal"
    assert issue.translation_placeholders["name"] == "Ana García"
    assert pin not in str(issue.translation_placeholders)
    assert await list_codes(hass) == []

    await tick(hass, freezer, timedelta(hours=2, minutes=1))
    assert _leftover_issues(issue_registry) == []
    assert async_get_code_manager(hass)._records == {}


# --- rollback -------------------------------------------------------------------------------------------


async def test_a_code_the_rollback_could_not_remove_is_removed_later(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The UniFi door fails and the Loft keypad refuses to delete the code just made: the error names the
    Loft, a repair says a code may still work there (never the PIN), and once the keypad answers again the
    code goes and the repair with it."""
    await _nuki_and_unifi(hass, simulator, endpoint)
    before = dict(keypad_codes(simulator, LOFT_ID))
    simulator.faults.inject(VISITORS, method="POST", status=500, times=1)
    delete = simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth/", method="DELETE", status=500)
    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, [LOFT, PORTAL])
    assert err.value.translation_key == "access_code_rollback_failed"
    assert err.value.translation_placeholders["leftover"] == "Loft Patio Lavapiés - Puerta principal"
    (left,) = set(keypad_codes(simulator, LOFT_ID)) - set(before)
    (issue,) = _leftover_issues(issue_registry)
    assert issue.translation_placeholders["lock"] == "Loft Patio Lavapiés - Puerta principal"
    assert str(simulator.nuki.auths[left]["code"]) not in str(issue.translation_placeholders)
    assert await list_codes(hass) == []

    await tick(hass, freezer, CHECKS, push=True)  # still refused
    assert left in simulator.nuki.auths
    simulator.faults.remove(delete)
    await tick(hass, freezer, CHECKS, push=True)
    assert keypad_codes(simulator, LOFT_ID) == before
    assert _leftover_issues(issue_registry) == []


async def test_a_booking_gets_no_second_code_while_its_first_is_stuck(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, issue_registry: ir.IssueRegistry
) -> None:
    """While the code a failed call left on the Loft cannot be removed, the booking gets no new code there
    (one code per lock and booking); once it can, the old one goes first and the new one comes."""
    await _nuki_and_unifi(hass, simulator, endpoint)
    before = dict(keypad_codes(simulator, LOFT_ID))
    simulator.faults.inject(VISITORS, method="POST", status=500, times=1)
    delete = simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth/", method="DELETE", status=500)
    with pytest.raises(HomeAssistantError):
        await create_code(hass, [LOFT, PORTAL], booking_id="b-1")
    (left,) = set(keypad_codes(simulator, LOFT_ID)) - set(before)

    simulator.reset_requests()
    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, [LOFT], booking_id="b-1")
    assert err.value.translation_key == "access_code_cleanup_pending"
    assert err.value.translation_placeholders["locks"] == "Loft Patio Lavapiés - Puerta principal"
    assert simulator.count_requests("/nuki", "PUT") == 0
    # Another booking's code is not held up by it.
    other = await create_code(hass, [LOFT], booking_id="b-2", name="Luis")
    simulator.faults.remove(delete)

    response = await create_code(hass, [LOFT], booking_id="b-1")
    assert left not in simulator.nuki.auths
    assert set(keypad_codes(simulator, LOFT_ID)) - set(before) == {
        response[LOFT]["code_id"],
        other[LOFT]["code_id"],
    }
    assert _leftover_issues(issue_registry) == []


# --- cancelled in the middle ----------------------------------------------------------------------------


async def test_a_create_cancelled_in_the_middle_leaves_nothing(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """Cancelled while the UniFi controller (which already made the visitor) has not answered: the Loft
    code and the visitor are both removed, and the cancellation goes on to the caller."""
    await _nuki_and_unifi(hass, simulator, endpoint)
    before = dict(keypad_codes(simulator, LOFT_ID))
    simulator.faults.inject(VISITORS, method="POST", apply=True, delay=3600.0, times=1)
    manager = async_get_code_manager(hass)
    task = hass.async_create_task(
        manager.async_create([LOFT, PORTAL], name="Ana García", code=None, starts_at=START, ends_at=END)
    )
    await _sent(simulator, VISITORS, "POST")
    assert len(_visitors(simulator)) == 1  # the controller made it; its answer has not come
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert keypad_codes(simulator, LOFT_ID) == before
    assert _visitors(simulator) == []
    assert manager._records == {}


# --- Home Assistant stopped in the middle ---------------------------------------------------------------


async def test_a_create_interrupted_by_a_restart_is_undone_at_the_next_start(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    hass_storage: dict[str, Any],
) -> None:
    """The store as a stop in the middle of a create leaves it: the Loft code made and saved, the UniFi
    visitor asked for and never answered. The next start looks for both and removes them."""
    await _nuki_and_unifi(hass, simulator, endpoint)
    before = dict(keypad_codes(simulator, LOFT_ID))
    simulator.faults.inject(VISITORS, method="POST", apply=True, delay=3600.0, times=1)
    manager = async_get_code_manager(hass)
    task = hass.async_create_task(
        manager.async_create([LOFT, PORTAL], name="Ana García", code=None, starts_at=START, ends_at=END)
    )
    await _sent(simulator, VISITORS, "POST")
    at_stop = copy.deepcopy(hass_storage[STORAGE_KEY]["data"])
    assert [(item["entity_id"], item["creating"]) for item in at_stop["codes"]] == [
        (LOFT, True),
        (PORTAL, True),
    ]
    # The stop: nothing more reaches the locks from this run, and the next start reads what was saved.
    simulator.faults.inject("/nuki", status=503)
    simulator.faults.inject("/api/v1/developer", status=503)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    simulator.faults.clear()
    assert len(set(keypad_codes(simulator, LOFT_ID)) - set(before)) == 1
    assert len(_visitors(simulator)) == 1
    hass_storage[STORAGE_KEY]["data"] = at_stop
    stopped = hass.data.pop(_DATA_MANAGER)  # this run's memory is gone with it
    stopped._records.clear()
    stopped._checker.schedule()

    restarted = async_get_code_manager(hass)
    assert isinstance(restarted, AccessCodeManager)
    await restarted.async_load()
    await background_done(hass)
    assert keypad_codes(simulator, LOFT_ID) == before
    assert _visitors(simulator) == []
    assert restarted._records == {}
    assert hass_storage[STORAGE_KEY]["data"]["codes"] == []


async def test_a_restart_removes_what_it_can_reach_and_the_rest_once_it_can(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a stop in the middle of a create, the Nuki account is not loaded yet at the next start: its
    half-made code is removed once it is. The UniFi door was deleted from Home Assistant meanwhile: nothing
    can reach it through Home Assistant any more, so its record is forgotten."""
    nuki = nuki_entry(simulator)
    await setup_integration(hass, nuki)
    await setup_integration(hass, unifi_entry(endpoint))
    before = dict(keypad_codes(simulator, LOFT_ID))
    simulator.faults.inject(VISITORS, method="POST", apply=True, delay=3600.0, times=1)
    manager = async_get_code_manager(hass)
    task = hass.async_create_task(
        manager.async_create([LOFT, PORTAL], name="Ana García", code=None, starts_at=START, ends_at=END)
    )
    await _sent(simulator, VISITORS, "POST")
    at_stop = copy.deepcopy(hass_storage[STORAGE_KEY]["data"])
    simulator.faults.inject("/nuki", status=503)
    simulator.faults.inject("/api/v1/developer", status=503)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    simulator.faults.clear()
    hass_storage[STORAGE_KEY]["data"] = at_stop
    stopped = hass.data.pop(_DATA_MANAGER)  # this run's memory is gone with it
    stopped._records.clear()
    stopped._checker.schedule()
    await hass.config_entries.async_unload(nuki.entry_id)
    er.async_get(hass).async_remove(PORTAL)

    restarted = async_get_code_manager(hass)
    await restarted.async_load()
    await background_done(hass)
    assert [record.entity_id for record in restarted._records.values()] == [LOFT]
    assert len(set(keypad_codes(simulator, LOFT_ID)) - set(before)) == 1  # its account is not loaded

    assert await hass.config_entries.async_setup(nuki.entry_id)
    await tick(hass, freezer, CHECKS, push=True)
    assert keypad_codes(simulator, LOFT_ID) == before
    assert restarted._records == {}
