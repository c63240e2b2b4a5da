"""Access codes on RemoteLock locks against the simulator: access guest + grant, sync status settling with
events, deactivation on revoke (history kept), window changes, and rollback across vendors."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events, async_fire_time_changed

from custom_components.kasify.access_codes import (
    CODE_FAILED,
    CODE_ON_LOCK,
    CODE_PENDING,
    EVENT_CODE_FAILED,
    EVENT_CODE_PROVISIONED,
    async_get_code_manager,
)
from custom_components.kasify.const import CONF_WEBHOOK, CONF_WEBHOOK_ID, CONF_WEBHOOK_SECRET, DOMAIN
from custom_components.kasify.providers.remotelock.codes import REMOTELOCK_CODES
from simulator import Simulator

from . import setup_integration
from .providers import (
    ATICO,
    END,
    LOFT,
    START,
    WEBHOOK_ID,
    WEBHOOK_SECRET,
    create_code,
    nuki_entry,
    remotelock_device_id,
    remotelock_entry,
    tick,
)

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("fast_nuki")]

FRONT = "lock.puerta_de_servicio"
GARAGE = "lock.garaje"
PERSONS = "/remotelock/api/access_persons"
CHECKS = timedelta(seconds=30)  # how often pending codes are looked for
RECHECKS = timedelta(minutes=15)  # how often failed codes are looked for again


def _guests(simulator: Simulator) -> dict[str, dict[str, Any]]:
    """Access guests other than the seeded one (PIN 2468)."""
    return {
        pid: person
        for pid, person in simulator.remotelock.access_persons.items()
        if person["attributes"].get("pin") != "2468"
    }


async def test_guest_with_grant_syncs_then_is_on_the_lock(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """An access guest with the PIN (lock-local times) and a grant; pending until the lock syncs it."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    provisioned = async_capture_events(hass, EVENT_CODE_PROVISIONED)
    response = await create_code(hass, FRONT, booking_id="b-1")

    person_id = response[FRONT]["code_id"]
    person = simulator.remotelock.access_persons[person_id]
    assert person["type"] == "access_guest"
    assert person["attributes"]["pin"] == response[FRONT]["code"]
    assert person["attributes"]["starts_at"] == "2026-03-15T13:00:00"  # Europe/Madrid wall time
    assert person["attributes"]["ends_at"] == "2026-03-18T13:00:00"
    front = remotelock_device_id(simulator, "Puerta de servicio")
    (grant,) = [
        a for a in simulator.remotelock.accesses.values() if a["attributes"]["access_person_id"] == person_id
    ]
    assert grant["attributes"]["accessible_id"] == front
    assert response[FRONT]["status"] == CODE_PENDING

    simulator.remotelock.clock.advance(timedelta(seconds=31))
    simulator.reset_requests()
    await tick(hass, freezer, CHECKS)
    code_checks = [r.path for r in simulator.requests if "access_person_accesses" in r.path]
    assert code_checks == [f"/remotelock/api/devices/{front}/access_person_accesses"]
    manager = async_get_code_manager(hass)
    assert [record.status for record in manager.records()] == [CODE_ON_LOCK]
    assert [event.data["entity_id"] for event in provisioned] == [FRONT]
    assert response[FRONT]["code"] not in str(provisioned[0].data)


async def test_sync_failure_fails_the_code(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """The lock reports the sync failed: the code is failed and automations hear of it."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    simulator.remotelock.failing_sync.add(remotelock_device_id(simulator, "Puerta de servicio"))
    failed = async_capture_events(hass, EVENT_CODE_FAILED)
    await create_code(hass, FRONT)
    simulator.remotelock.clock.advance(timedelta(seconds=31))
    await tick(hass, freezer, CHECKS)
    assert [record.status for record in async_get_code_manager(hass).records()] == [CODE_FAILED]
    assert [event.data["entity_id"] for event in failed] == [FRONT]


async def _past_the_settle_timeout(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Ten and a half minutes of 30 s checks, the simulator's clock moving along."""
    for _ in range(21):
        simulator.remotelock.clock.advance(timedelta(seconds=30))
        await tick(hass, freezer, CHECKS)


async def test_offline_lock_times_out(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """An offline lock never syncs: the code is failed after the settle timeout."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    failed = async_capture_events(hass, EVENT_CODE_FAILED)
    await create_code(hass, GARAGE)
    await _past_the_settle_timeout(hass, simulator, freezer)
    assert [record.status for record in async_get_code_manager(hass).records()] == [CODE_FAILED]
    assert len(failed) == 1


async def test_failed_code_on_a_lock_back_online_is_on_the_lock(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A code failed on an offline lock is on the lock once the lock is back and syncs it (one event)."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    provisioned = async_capture_events(hass, EVENT_CODE_PROVISIONED)
    await create_code(hass, GARAGE)
    await _past_the_settle_timeout(hass, simulator, freezer)
    manager = async_get_code_manager(hass)
    assert [record.status for record in manager.records()] == [CODE_FAILED]

    simulator.remotelock.set_lock(remotelock_device_id(simulator, "Garaje"), connected=True, alive=True)
    simulator.remotelock.clock.advance(timedelta(minutes=1))
    await tick(hass, freezer, RECHECKS)
    assert [record.status for record in manager.records()] == [CODE_ON_LOCK]
    assert [event.data["entity_id"] for event in provisioned] == [GARAGE]
    await tick(hass, freezer, RECHECKS)
    assert len(provisioned) == 1


async def test_synced_event_by_webhook_checks_the_failed_code_at_once(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, hass_client_no_auth: Any
) -> None:
    """With the webhook on, RemoteLock's "synced" event has the codes checked at once, not in 15 minutes."""
    options = {CONF_WEBHOOK: True, CONF_WEBHOOK_ID: WEBHOOK_ID, CONF_WEBHOOK_SECRET: WEBHOOK_SECRET}
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock", **options))
    client = await hass_client_no_auth()
    provisioned = async_capture_events(hass, EVENT_CODE_PROVISIONED)
    await create_code(hass, GARAGE)
    await _past_the_settle_timeout(hass, simulator, freezer)
    manager = async_get_code_manager(hass)
    assert [record.status for record in manager.records()] == [CODE_FAILED]

    simulator.remotelock.set_lock(remotelock_device_id(simulator, "Garaje"), connected=True, alive=True)
    (synced,) = [e for e in simulator.remotelock.events.values() if e["type"] == "access_person_synced_event"]
    resp = await client.post(
        f"/api/webhook/{WEBHOOK_ID}",
        json=simulator.remotelock.webhook_payload(synced["id"]),
        headers={"X-Secret": WEBHOOK_SECRET},
    )
    assert resp.status == 200
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [record.status for record in manager.records()] == [CODE_ON_LOCK]
    assert [event.data["entity_id"] for event in provisioned] == [GARAGE]


async def test_revoke_deactivates_and_window_updates(hass: HomeAssistant, simulator: Simulator) -> None:
    """Changing the window updates the guest; revoking deactivates it, keeping its history."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    response = await create_code(hass, FRONT)
    person_id = response[FRONT]["code_id"]
    manager = async_get_code_manager(hass)
    updated = await manager.async_update_window(
        {FRONT: person_id}, starts_at=START, ends_at=END + timedelta(days=1)
    )
    assert updated[FRONT].code == response[FRONT]["code"]
    assert simulator.remotelock.access_persons[person_id]["attributes"]["ends_at"] == "2026-03-19T13:00:00"

    await hass.services.async_call(
        DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: FRONT, "code_id": person_id}, blocking=True
    )
    assert person_id in simulator.remotelock.access_persons  # kept, with its history
    assert simulator.remotelock.person_status(simulator.remotelock.access_persons[person_id]) == "deactivated"
    assert manager.records() == []
    # Revoked, so no longer the engine's: a second revoke is refused and sends nothing.
    simulator.reset_requests()
    with pytest.raises(ServiceValidationError) as err:
        await manager.async_revoke({FRONT: person_id})
    assert err.value.translation_key == "access_code_not_issued"
    assert simulator.count_requests(PERSONS) == 0
    # Gone for good upstream meanwhile: still counts as revoked.
    other_id = (await create_code(hass, FRONT))[FRONT]["code_id"]
    simulator.remotelock.delete_person(other_id)
    await manager.async_revoke({FRONT: other_id})
    assert manager.records() == []


async def test_pin_taken_in_the_account(hass: HomeAssistant, simulator: Simulator) -> None:
    """A user's PIN another guest of the account has is refused, and the new guest is not left behind."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    before = dict(simulator.remotelock.access_persons)
    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, FRONT, code="2468")
    assert err.value.translation_key == "access_code_in_use"
    assert simulator.remotelock.access_persons == before


async def test_failing_grant_removes_the_guest(hass: HomeAssistant, simulator: Simulator) -> None:
    """The guest is created but the grant fails: the guest is deleted again, nothing is listed."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    simulator.remotelock.remove_device(remotelock_device_id(simulator, "Puerta de servicio"))
    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, FRONT)
    assert err.value.translation_key == "access_code_create_failed"
    assert _guests(simulator) == {}
    assert async_get_code_manager(hass).records() == []


@pytest.mark.parametrize("step", ["guest", "grant"])
async def test_a_guest_taken_without_a_clear_answer_is_removed(
    hass: HomeAssistant, simulator: Simulator, step: str
) -> None:
    """RemoteLock takes the guest (or its grant, and then refuses to delete the guest) but the answer is
    lost: the guest is found by its name and PIN and deleted, so nothing stays that nothing tracks."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    if step == "guest":
        simulator.faults.inject(PERSONS, method="POST", status=502, apply=True, times=1)
    else:
        simulator.faults.inject(f"{PERSONS}/", method="POST", status=504, apply=True, times=1)
        simulator.faults.inject(f"{PERSONS}/", method="DELETE", status=500, times=1)
    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, FRONT)
    assert err.value.translation_key == "access_code_create_failed"
    assert simulator.count_requests(PERSONS, "POST") >= 1
    assert _guests(simulator) == {}
    assert async_get_code_manager(hass).records() == []


async def test_remotelock_failure_after_two_nuki_locks_rolls_back(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Three locks, two vendors: RemoteLock fails last, both Nuki codes are deleted, no guest remains."""
    await setup_integration(hass, nuki_entry(simulator))
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    auths = dict(simulator.nuki.auths)
    simulator.faults.inject(PERSONS, method="POST", status=503)

    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, [LOFT, ATICO, FRONT])

    assert err.value.translation_key == "access_code_create_failed"
    assert err.value.translation_placeholders["lock"] == "Puerta de servicio"
    assert simulator.count_requests("/nuki/smartlock", "PUT") == 2
    assert simulator.nuki.auths == auths
    assert _guests(simulator) == {}
    assert async_get_code_manager(hass).records() == []


async def test_shared_code_on_nuki_and_remotelock(hass: HomeAssistant, simulator: Simulator) -> None:
    """One generated code valid for both vendors' rules lands on both."""
    await setup_integration(hass, nuki_entry(simulator))
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    response = await create_code(hass, [LOFT, FRONT])
    pin = response[LOFT]["code"]
    assert response[FRONT]["code"] == pin
    assert simulator.remotelock.access_persons[response[FRONT]["code_id"]]["attributes"]["pin"] == pin
    assert simulator.nuki.auths[response[LOFT]["code_id"]]["code"] == int(pin)


# --- the checker against everything else ------------------------------------------------------------------


class _SlowStatuses:
    """RemoteLock's ``statuses``, held at its start until the test lets it go (as behind the rate limiter)."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.calls = 0
        self._real = REMOTELOCK_CODES.statuses

    async def __call__(self, target: Any, records: Any) -> Any:
        self.calls += 1
        self.started.set()
        await self.release.wait()
        return await self._real(target, records)


async def _settle_loop(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_checker_runs_one_at_a_time(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A check still waiting for its answer when the interval fires again: no second run, one event."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    provisioned = async_capture_events(hass, EVENT_CODE_PROVISIONED)
    await create_code(hass, FRONT)
    simulator.remotelock.clock.advance(timedelta(seconds=31))
    slow = _SlowStatuses()
    with patch.object(REMOTELOCK_CODES, "statuses", slow):
        freezer.tick(CHECKS)
        async_fire_time_changed(hass)
        await asyncio.wait_for(slow.started.wait(), 5)
        freezer.tick(CHECKS)
        async_fire_time_changed(hass)
        await _settle_loop()
        assert slow.calls == 1
        slow.release.set()
        await hass.async_block_till_done(wait_background_tasks=True)
    assert [record.status for record in async_get_code_manager(hass).records()] == [CODE_ON_LOCK]
    assert [event.data["entity_id"] for event in provisioned] == [FRONT]


async def test_revoke_while_a_check_is_in_flight(hass: HomeAssistant, simulator: Simulator) -> None:
    """A code revoked while the checker waits for its lock's answer stays revoked; the check carries on."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    provisioned = async_capture_events(hass, EVENT_CODE_PROVISIONED)
    person_id = (await create_code(hass, FRONT))[FRONT]["code_id"]
    simulator.remotelock.clock.advance(timedelta(seconds=31))
    manager = async_get_code_manager(hass)
    slow = _SlowStatuses()
    with patch.object(REMOTELOCK_CODES, "statuses", slow):
        check = hass.async_create_task(manager._async_check())
        await asyncio.wait_for(slow.started.wait(), 5)
        await manager.async_revoke({FRONT: person_id})
        slow.release.set()
        await check  # no KeyError
    assert manager.records() == []
    assert provisioned == []


async def test_window_change_while_a_check_is_in_flight(hass: HomeAssistant, simulator: Simulator) -> None:
    """A window moved while the checker waits stays moved: the check does not put the old record back."""
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    person_id = (await create_code(hass, FRONT))[FRONT]["code_id"]
    simulator.remotelock.clock.advance(timedelta(seconds=31))
    manager = async_get_code_manager(hass)
    slow = _SlowStatuses()
    later = END + timedelta(days=1)
    with patch.object(REMOTELOCK_CODES, "statuses", slow):
        check = hass.async_create_task(manager._async_check())
        await asyncio.wait_for(slow.started.wait(), 5)
        await manager.async_update_window({FRONT: person_id}, starts_at=START, ends_at=later)
        slow.release.set()
        await check
    assert [record.ends_at for record in manager.records()] == [later]
