"""Ready for the next guest: the binary sensor, its blocking items, its repairs, the guests registered."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.kasify.const import CONF_LOW_BATTERY, CONF_STAY_TIMES, DOMAIN
from custom_components.kasify.guest_registration import CHECKIN_MAX_AGE
from simulator import Simulator

from . import setup_integration
from .providers import (
    ATICO_ID,
    KASIFY_OPTIONS,
    LOFT_ID,
    kasify_entry,
    move_to,
    nuki_entry,
    readme_example,
    refresh,
    tick,
)

LOFT = "binary_sensor.loft_patio_lavapies_ready_for_next_guest"
STUDIO = "binary_sensor.estudio_do_miradouro_principe_real_ready_for_next_guest"
ATICO = "binary_sensor.atico_torre_malvarrosa_ready_for_next_guest"
STUDIO_GUESTS = "sensor.estudio_do_miradouro_principe_real_guests_registered"
LOFT_GUESTS = "sensor.loft_patio_lavapies_guests_registered"
# The studio's next guest (João Costa, 1 guest, registered) checks in on the 15th at 15:00 UTC.
STUDIO_CHECK_IN = datetime.fromisoformat("2026-03-15T15:00:00+00:00")
NUKI_UNLOCKED = 3
NUKI_JAMMED = 254
NUKI_DOOR_OPEN = 3


def _state(hass: HomeAssistant, entity_id: str) -> State:
    state = hass.states.get(entity_id)
    assert state is not None
    return state


def _blocking(hass: HomeAssistant, entity_id: str) -> list[str]:
    return list(_state(hass, entity_id).attributes["blocking"])


def _studio_booking(simulator: Simulator) -> dict[str, Any]:
    studio = simulator.kasify.property_at(1)["id"]
    return next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == studio and b["check_in"] == "2026-03-15T15:00:00Z"
    )


def _not_ready_issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    return {
        issue_id: issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith("not_ready_")
    }


async def _setup(hass: HomeAssistant, simulator: Simulator, **options: Any) -> MockConfigEntry:
    entry = kasify_entry(simulator, options={**KASIFY_OPTIONS, **options})
    await setup_integration(hass, entry)
    await setup_integration(hass, nuki_entry(simulator))
    await refresh(hass, entry)
    return entry


async def test_what_blocks_each_property(hass: HomeAssistant, simulator: Simulator) -> None:
    """The studio is ready; the loft and the attic lack codes and a cleaning, the attic's lock is low."""
    await _setup(hass, simulator)
    studio = _state(hass, STUDIO)
    assert studio.state == STATE_ON
    assert studio.attributes["blocking"] == []
    assert studio.attributes["check_in"] == STUDIO_CHECK_IN.isoformat()
    assert _state(hass, LOFT).state == STATE_OFF
    assert _blocking(hass, LOFT) == [
        "code_not_on_lock: Loft Patio Lavapiés - Puerta principal",
        "not_cleaned",
    ]
    assert _blocking(hass, ATICO) == [
        "code_not_on_lock: Ático Torre Malvarrosa - Puerta principal",
        "lock_battery_low: Ático Torre Malvarrosa - Puerta principal (15 %)",
        "not_cleaned",
    ]
    assert _state(hass, ATICO).attributes["blocking_reasons"] == [
        "code_not_on_lock",
        "lock_battery_low",
        "not_cleaned",
    ]
    # The studio's guest is registered (1 of 1); the loft's guest arrives in over 48 h: not read, unknown.
    guests = _state(hass, STUDIO_GUESTS)
    assert (guests.state, guests.attributes["expected"], guests.attributes["status"]) == ("1", 1, "complete")
    assert _state(hass, LOFT_GUESTS).state == STATE_UNKNOWN


async def test_the_low_battery_level_is_a_property_setting(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """At 10 % the attic's lock (15 %) no longer blocks; the loft's (80 %) does at 90 %."""
    atico = simulator.kasify.property_at(2)["id"]
    loft = simulator.kasify.property_at(0)["id"]
    await _setup(
        hass, simulator, **{CONF_STAY_TIMES: {atico: {CONF_LOW_BATTERY: 10}, loft: {CONF_LOW_BATTERY: 90}}}
    )
    # The attic's lock reports its battery critical (Nuki's flag): that blocks whatever the level.
    assert "lock_battery_low: Ático Torre Malvarrosa - Puerta principal (15 %)" in _blocking(hass, ATICO)
    simulator.nuki.set_lock(ATICO_ID, battery_critical=False)
    await tick(hass, freezer, timedelta(minutes=5))
    await tick(hass, freezer, timedelta(minutes=1))
    assert not any(item.startswith("lock_battery_low") for item in _blocking(hass, ATICO))
    assert "lock_battery_low: Loft Patio Lavapiés - Puerta principal (80 %)" in _blocking(hass, LOFT)


async def test_locks_and_doors_block(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A lock left unlocked, a door open, a jammed or critical lock: each named; gone once resolved."""
    await _setup(hass, simulator)
    name = "Loft Patio Lavapiés - Puerta principal"
    simulator.nuki.set_lock(
        LOFT_ID, lock_state=NUKI_UNLOCKED, door_state=NUKI_DOOR_OPEN, battery_critical=True
    )
    await tick(hass, freezer, timedelta(minutes=5))
    await tick(hass, freezer, timedelta(minutes=1))
    blocking = _blocking(hass, LOFT)
    assert f"door_unlocked: {name}" in blocking
    assert f"door_open: {name}" in blocking
    assert f"lock_battery_low: {name} (80 %)" in blocking
    simulator.nuki.set_lock(LOFT_ID, lock_state=NUKI_JAMMED, door_state=2, battery_critical=False)
    await tick(hass, freezer, timedelta(minutes=5))
    await tick(hass, freezer, timedelta(minutes=1))
    blocking = _blocking(hass, LOFT)
    assert f"lock_jammed: {name}" in blocking
    assert not any(item.startswith(("door_", "lock_battery_low")) for item in blocking)
    # The lock's account cannot be reached: the lock counts as offline.
    simulator.faults.inject("/nuki", status=503)
    await tick(hass, freezer, timedelta(minutes=5))
    await tick(hass, freezer, timedelta(minutes=1))
    assert f"lock_offline: {name}" in _blocking(hass, LOFT)


async def test_a_repair_from_24_h_and_again_from_2_h_before_check_in(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """The studio's guest has 3 guests booked but 1 registered: a warning 24 h before, an error 2 h before,
    both gone once every guest is registered."""
    simulator.kasify.update_booking(_studio_booking(simulator)["id"], guests_count=3)
    entry = await _setup(hass, simulator)
    assert _blocking(hass, STUDIO) == ["guests_not_registered: 1/3"]
    assert _not_ready_issues(hass) == {}  # 27 h before check-in

    await move_to(hass, freezer, STUDIO_CHECK_IN - timedelta(hours=23))
    (issue_id,) = _not_ready_issues(hass)
    issue = _not_ready_issues(hass)[issue_id]
    assert issue_id.endswith("_24h")
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "not_ready"
    assert issue.translation_placeholders == {
        "property": "Estúdio do Miradouro Príncipe Real",
        "guest": "João Costa",
        "check_in": "2026-03-15 08:00",  # the property's zone: Home Assistant's (the tests': US/Pacific)
        "blocking": "- Not every guest registered: 1/3",
    }

    await move_to(hass, freezer, STUDIO_CHECK_IN - timedelta(hours=1, minutes=30))
    (issue_id,) = _not_ready_issues(hass)
    assert issue_id.endswith("_2h")
    assert _not_ready_issues(hass)[issue_id].severity is ir.IssueSeverity.ERROR

    # Restarted: the issue is raised again from what is found, not from a store.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert list(_not_ready_issues(hass)) == [issue_id]

    booking_id = _studio_booking(simulator)["id"]
    for guest in ("Ana", "Luis"):
        simulator.kasify.register_guest(booking_id, guest)
    await refresh(hass, entry)
    assert _state(hass, STUDIO).state == STATE_ON
    assert _state(hass, STUDIO_GUESTS).state == "3"
    assert _not_ready_issues(hass) == {}


async def test_a_check_under_way_when_the_entry_unloads_raises_no_repair_again(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check still reading check-in snapshots while the entry unloads (a reload, Home Assistant stopping)
    ends without raising its repair again after the unload cleared it."""
    simulator.kasify.update_booking(_studio_booking(simulator)["id"], guests_count=3)
    entry = await _setup(hass, simulator)
    await move_to(hass, freezer, STUDIO_CHECK_IN - timedelta(hours=23))
    assert len(_not_ready_issues(hass)) == 1
    readiness = entry.runtime_data.readiness
    assert readiness is not None
    update = readiness.registrations.async_update
    reading, release = asyncio.Event(), asyncio.Event()

    async def slow_update(*args: Any) -> Any:
        reading.set()
        await release.wait()
        return await update(*args)

    monkeypatch.setattr(readiness.registrations, "async_update", slow_update)
    readiness.async_request_check()
    await reading.wait()
    unload = hass.async_create_task(hass.config_entries.async_unload(entry.entry_id))
    await asyncio.sleep(0)
    release.set()
    assert await unload
    await hass.async_block_till_done()

    assert _not_ready_issues(hass) == {}


async def test_a_check_in_snapshot_not_understood_is_never_registered(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An answer of another shape: the sensor is unavailable, a repair and a log line say what; it blocks."""
    booking_id = _studio_booking(simulator)["id"]
    path = f"/kasify/v1/bookings/{booking_id}/checkin"
    simulator.faults.inject(path, status=200, body='{"registered": true, "count": 1}')
    with caplog.at_level(logging.WARNING):
        entry = await _setup(hass, simulator)
    assert _state(hass, STUDIO_GUESTS).state == STATE_UNAVAILABLE
    assert _blocking(hass, STUDIO) == ["guests_unknown"]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"checkin_not_understood_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"account": "Kasify Demo", "bookings": "1"}
    assert f"check-in snapshot of booking {booking_id} was not understood" in caplog.text
    assert ".guests: missing" in caplog.text

    simulator.faults.clear()
    await tick(hass, freezer, CHECKIN_MAX_AGE)
    assert _state(hass, STUDIO_GUESTS).state == "1"
    assert _state(hass, STUDIO).state == STATE_ON
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"checkin_not_understood_{entry.entry_id}") is None


async def test_check_in_snapshots_are_read_only_for_arrivals_within_48_h_and_not_every_refresh(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """One request for the one arrival within 48 h; none for a refresh that changed nothing; again after
    15 minutes, or at once when the booking changes."""
    await _setup(hass, simulator)
    # (Setting up the Nuki account reloaded the Kasify entry: each load read the one snapshot once.)
    assert {r.path for r in simulator.requests_for("/kasify/v1/bookings/")} == {
        f"/kasify/v1/bookings/{_studio_booking(simulator)['id']}/checkin"
    }
    simulator.reset_requests()
    await tick(hass, freezer, timedelta(minutes=1))
    await tick(hass, freezer, timedelta(minutes=1))
    assert simulator.requests_for("/kasify/v1/bookings") != []  # the listing is read
    assert simulator.count_requests("/kasify/v1/bookings/") == 0
    simulator.kasify.register_guest(_studio_booking(simulator)["id"], "Ana")
    await tick(hass, freezer, timedelta(minutes=1))
    assert simulator.count_requests("/kasify/v1/bookings/") == 1
    assert _state(hass, STUDIO_GUESTS).state == "2"
    await tick(hass, freezer, CHECKIN_MAX_AGE)
    assert simulator.count_requests("/kasify/v1/bookings/") == 2


async def test_the_low_battery_level_is_set_in_property_settings(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """The form shows 25 % by default; at 90 % the loft's 80 % lock blocks; a form without it keeps it."""
    entry = await _setup(hass, simulator)
    loft = simulator.kasify.property_at(0)["id"]
    assert not any(item.startswith("lock_battery_low") for item in _blocking(hass, LOFT))

    async def _form(data: dict[str, Any]) -> None:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "stay_times"}
        )
        result = await hass.config_entries.options.async_configure(result["flow_id"], {"property": loft})
        shown = {str(key): key.description for key in result["data_schema"].schema}
        assert shown[CONF_LOW_BATTERY] == {
            "suggested_value": entry.options.get(CONF_STAY_TIMES, {}).get(loft, {}).get(CONF_LOW_BATTERY, 25)
        }
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"check_in_time": "15:00:00", "check_out_time": "11:00:00", **data}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()

    await _form({CONF_LOW_BATTERY: 90})
    assert entry.options[CONF_STAY_TIMES][loft][CONF_LOW_BATTERY] == 90
    await tick(hass, freezer, timedelta(minutes=1))
    assert "lock_battery_low: Loft Patio Lavapiés - Puerta principal (80 %)" in _blocking(hass, LOFT)
    await _form({})
    assert entry.options[CONF_STAY_TIMES][loft][CONF_LOW_BATTERY] == 90


async def test_the_readme_example_tells_what_is_missing(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """The README's automation, for the studio: told once, an hour before the check-in, what blocks it."""
    simulator.kasify.update_booking(_studio_booking(simulator)["id"], guests_count=3)
    await _setup(hass, simulator)
    example = readme_example(
        "Ready for the next guest", {"binary_sensor.casa_azul_ready_for_next_guest": STUDIO}
    )
    host = async_mock_service(hass, "notify", "mobile_app_host_phone")
    assert await async_setup_component(
        hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: [{"id": "ready", "alias": "Ready", **example}]}
    )
    await move_to(hass, freezer, STUDIO_CHECK_IN - timedelta(hours=1, minutes=1))
    assert host == []
    await move_to(hass, freezer, STUDIO_CHECK_IN - timedelta(hours=1))
    await move_to(hass, freezer, STUDIO_CHECK_IN - timedelta(minutes=59))
    assert [call.data["message"] for call in host] == ["guests_not_registered: 1/3"]


async def test_a_check_in_that_cannot_be_read(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 503 keeps what was read before; with nothing read before the count is unknown (blocks, no repair);
    a 404 says the path is not Kasify's: not understood, with its repair."""
    booking_id = _studio_booking(simulator)["id"]
    path = f"/kasify/v1/bookings/{booking_id}/checkin"
    entry = await _setup(hass, simulator)
    simulator.faults.inject(path, status=503)
    await tick(hass, freezer, CHECKIN_MAX_AGE)
    assert _state(hass, STUDIO_GUESTS).state == "1"
    assert _state(hass, STUDIO).state == STATE_ON

    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _state(hass, STUDIO_GUESTS).state == STATE_UNAVAILABLE
    assert _blocking(hass, STUDIO) == ["guests_unknown"]
    issue_id = f"checkin_not_understood_{entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

    simulator.faults.clear()
    simulator.faults.inject(path, status=404)
    await tick(hass, freezer, CHECKIN_MAX_AGE)
    assert _state(hass, STUDIO_GUESTS).state == STATE_UNAVAILABLE
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_cleaning_and_feeds(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A cleaning completed after the attic's last check-out clears ``not_cleaned``; tasks not understood
    block as ``cleaning_unknown``; a failing calendar feed blocks its property."""
    entry = await _setup(hass, simulator)
    atico = simulator.kasify.property_at(2)["id"]
    # Oliver Taylor leaves the attic on the 15th at 10:00; the next guest arrives on the 18th.
    simulator.kasify.add_task(
        atico, "Limpieza", task_type="cleaning", status="completed", completed_at="2026-03-15T09:00:00Z"
    )
    await refresh(hass, entry)
    assert "not_cleaned" in _blocking(hass, ATICO)
    simulator.kasify.add_task(
        atico, "Limpieza", task_type="cleaning", status="completed", completed_at="2026-03-15T12:00:00Z"
    )
    await refresh(hass, entry)
    assert "not_cleaned" not in _blocking(hass, ATICO)

    simulator.faults.inject("/kasify/v1/tasks", status=404)
    await refresh(hass, entry)
    assert "cleaning_unknown" in _blocking(hass, ATICO)
    simulator.faults.clear()

    simulator.faults.inject("/ical", status=500)
    await tick(hass, freezer, timedelta(hours=1))
    await tick(hass, freezer, timedelta(minutes=1))
    blocking = [*_blocking(hass, LOFT), *_blocking(hass, STUDIO), *_blocking(hass, ATICO)]
    assert any(item.startswith("feed_error: ") for item in blocking)
