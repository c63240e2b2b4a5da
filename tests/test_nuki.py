"""Nuki Web accounts: lock entities, actions (optimistic, then that lock only), rollback on failure,
Smart Hosting, request budget, activity events, and linking to Kasify properties (against the simulator)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.lock import DOMAIN as LOCK_DOMAIN, LockState
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify import compat
from custom_components.kasify.access_codes import CODE_ON_LOCK
from custom_components.kasify.const import DOMAIN
from custom_components.kasify.coordinator import property_identifier
from simulator import Simulator
from simulator.nuki import NUKI_GARAGE_ID, NUKI_STORAGE_ID

from . import setup_integration
from .providers import (
    ATICO,
    ATICO_ID,
    LOFT,
    LOFT_ID,
    SCAN,
    create_code,
    keypad_codes,
    list_codes,
    nuki_entry,
    tick,
)


def _loft_lock_id(simulator: Simulator) -> int:
    record = next(
        lock
        for lock in simulator.kasify.smart_locks.values()
        if lock["property_id"] == simulator.kasify.property_at(0)["id"]
    )
    return int(record["nuki_smartlock"]["nuki_smartlock_id"])


async def test_entities_and_states(
    hass: HomeAssistant, simulator: Simulator, entity_registry: er.EntityRegistry
) -> None:
    """Every lock of the account, with the entities its model reports."""
    entry = nuki_entry(simulator)
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED

    state = hass.states.get(LOFT)
    assert state.state == LockState.LOCKED
    assert hass.states.get("sensor.loft_patio_lavapies_puerta_principal_battery").state == "80"
    assert hass.states.get("binary_sensor.loft_patio_lavapies_puerta_principal_door") is not None
    ids = {e.unique_id for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)}
    # A model without a battery percentage gets no battery sensor; it is offline (connectivity off).
    assert f"nuki_{NUKI_GARAGE_ID}-battery" not in ids
    garage = entity_registry.async_get_entity_id(
        "binary_sensor", DOMAIN, f"nuki_{NUKI_GARAGE_ID}-connectivity"
    )
    assert hass.states.get(garage).state == "off"
    # The Opener and the Smart Lock can unlatch ("open").
    assert state.attributes["supported_features"] == 1


async def test_requests_per_refresh(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """One request for every lock plus one for the account's log, whatever the number of locks."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.reset_requests()
    await tick(hass, freezer)
    assert sorted(r.path for r in simulator.requests) == ["/nuki/smartlock", "/nuki/smartlock/log"]


async def test_unlock_is_optimistic_then_refreshes_that_lock(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Unlocking shows at once, sends one action and reads only that lock again."""
    await setup_integration(hass, nuki_entry(simulator))
    lock_id = _loft_lock_id(simulator)
    simulator.nuki.action_delay = 0  # the next read shows the end state
    simulator.reset_requests()
    await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: LOFT}, blocking=True)
    assert [(r.method, r.path) for r in simulator.requests] == [
        ("POST", f"/nuki/smartlock/{lock_id}/action"),
        ("GET", f"/nuki/smartlock/{lock_id}"),
    ]
    assert simulator.requests[0].body == {"action": 1}
    assert hass.states.get(LOFT).state == LockState.UNLOCKED

    simulator.reset_requests()
    await hass.services.async_call(LOCK_DOMAIN, "open", {ATTR_ENTITY_ID: LOFT}, blocking=True)
    assert simulator.requests[0].body == {"action": 3}  # unlatch


async def test_transition_shown_while_the_motor_runs(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """While Nuki still reports the motor running, the entity shows locking; then locked."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.nuki.set_lock(_loft_lock_id(simulator), lock_state=3)
    await tick(hass, freezer)
    assert hass.states.get(LOFT).state == LockState.UNLOCKED
    await hass.services.async_call(LOCK_DOMAIN, "lock", {ATTR_ENTITY_ID: LOFT}, blocking=True)
    assert hass.states.get(LOFT).state == LockState.LOCKING
    simulator.advance(timedelta(seconds=10))
    await tick(hass, freezer)
    assert hass.states.get(LOFT).state == LockState.LOCKED


@pytest.mark.parametrize(
    ("make_it_fail", "translation_key"),
    [
        (lambda sim, lock_id: sim.nuki.set_lock(lock_id, busy=True), "unlock_failed"),
        (
            lambda sim, lock_id: sim.faults.inject("/nuki/smartlock/", method="POST", status=503),
            "unlock_failed",
        ),
        (lambda sim, lock_id: sim.nuki.set_lock(lock_id, smart_hosting=False), "nuki_subscription_required"),
        # Refusals Nuki sends with status 200: the Smart Hosting page's body, its error text, any other error.
        (lambda sim, lock_id: sim.nuki.refuse_writes(lock_id), "nuki_subscription_required"),
        (lambda sim, lock_id: sim.nuki.refuse_writes(lock_id, shape="error"), "nuki_subscription_required"),
        (
            lambda sim, lock_id: sim.nuki.refuse_writes(lock_id, shape="error", message="Try again later"),
            "unlock_failed",
        ),
    ],
    ids=["busy", "503", "no-smart-hosting", "200-detailMessage", "200-error", "200-other-error"],
)
async def test_failed_action_rolls_back(
    hass: HomeAssistant,
    simulator: Simulator,
    make_it_fail: object,
    translation_key: str,
) -> None:
    """A refused action restores the previous state and says why, in the user's language."""
    await setup_integration(hass, nuki_entry(simulator))
    lock_id = _loft_lock_id(simulator)
    make_it_fail(simulator, lock_id)  # type: ignore[operator]
    with pytest.raises(HomeAssistantError) as exc_info:
        await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: LOFT}, blocking=True)
    assert exc_info.value.translation_key == translation_key
    assert hass.states.get(LOFT).state == LockState.LOCKED


@pytest.mark.parametrize(
    "error", [RuntimeError("boom"), asyncio.CancelledError()], ids=["error", "cancelled"]
)
@pytest.mark.parametrize("step", ["async_send_action", "async_refresh_lock"], ids=["send", "read-after"])
async def test_an_action_that_fails_otherwise_never_leaves_the_lock_moving(
    hass: HomeAssistant, simulator: Simulator, error: BaseException, step: str
) -> None:
    """A non-API failure or a cancellation, while sending or while reading the lock after, shows the lock as
    it is (not stuck in "unlocking"), also once the coordinator refreshes with an unchanged lock."""
    entry = nuki_entry(simulator)
    await setup_integration(hass, entry)
    simulator.nuki.action_delay = 0  # the next read shows the end state
    coordinator = entry.runtime_data.coordinator
    with (
        patch.object(coordinator, step, side_effect=error),
        pytest.raises(type(error)),
    ):
        await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: LOFT}, blocking=True)
    assert hass.states.get(LOFT).state != LockState.UNLOCKING
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(LOFT).state == (
        LockState.LOCKED if step == "async_send_action" else LockState.UNLOCKED
    )


async def test_smart_hosting_missing(
    hass: HomeAssistant,
    simulator: Simulator,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A lock without Smart Hosting stays visible with a repair issue, which goes when it is renewed."""
    await setup_integration(hass, nuki_entry(simulator))
    issue = issue_registry.async_get_issue(DOMAIN, f"nuki_smart_hosting_{NUKI_STORAGE_ID}")
    assert issue is not None
    assert issue.translation_key == "nuki_smart_hosting"
    storage = er.async_get(hass).async_get_entity_id("lock", DOMAIN, f"nuki_{NUKI_STORAGE_ID}-lock")
    assert hass.states.get(storage).state != STATE_UNAVAILABLE

    simulator.nuki.set_lock(NUKI_STORAGE_ID, smart_hosting=True)
    await tick(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, f"nuki_smart_hosting_{NUKI_STORAGE_ID}") is None


async def test_an_action_refused_with_200_is_no_success_and_raises_the_repair(
    hass: HomeAssistant,
    simulator: Simulator,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nuki answering an action with 200 and the Smart Hosting refusal: the door did not move, HA says so.

    The lock's listing still looks fine, so the repair comes from the refusal; it stays over polls and goes
    once Nuki accepts an action on the lock again.
    """
    await setup_integration(hass, nuki_entry(simulator))
    lock_id = _loft_lock_id(simulator)
    issue_id = f"nuki_smart_hosting_{lock_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    simulator.nuki.refuse_writes(lock_id)
    for action in ("unlock", "open"):
        with pytest.raises(HomeAssistantError) as caught:
            await hass.services.async_call(LOCK_DOMAIN, action, {ATTR_ENTITY_ID: LOFT}, blocking=True)
        assert caught.value.translation_key == "nuki_subscription_required"
        assert caught.value.translation_placeholders == {"lock": "Loft Patio Lavapiés - Puerta principal"}
        assert hass.states.get(LOFT).state == LockState.LOCKED
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "nuki_smart_hosting"
    assert issue.translation_placeholders == {"lock": "Loft Patio Lavapiés - Puerta principal"}

    simulator.advance(timedelta(seconds=10))
    await tick(hass, freezer)
    assert hass.states.get(LOFT).state == LockState.LOCKED  # nothing moved on the lock either
    assert simulator.nuki.get_lock(lock_id)["state"]["state"] == 1
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None  # the listing cannot clear it

    simulator.nuki.allow_writes(lock_id)
    simulator.nuki.action_delay = 0
    await hass.services.async_call(LOCK_DOMAIN, "unlock", {ATTR_ENTITY_ID: LOFT}, blocking=True)
    assert hass.states.get(LOFT).state == LockState.UNLOCKED
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.usefixtures("fast_nuki")
async def test_a_keypad_code_refused_with_200_is_not_created(
    hass: HomeAssistant, simulator: Simulator, issue_registry: ir.IssueRegistry
) -> None:
    """A refused new code fails (the code made on the other lock in the same call is removed again)."""
    await setup_integration(hass, nuki_entry(simulator))
    before = {lock: dict(keypad_codes(simulator, lock)) for lock in (LOFT_ID, ATICO_ID)}
    simulator.nuki.refuse_writes(LOFT_ID)
    with pytest.raises(HomeAssistantError) as caught:
        await create_code(hass, [ATICO, LOFT], code="483926")
    assert caught.value.translation_key == "access_code_create_failed"
    placeholders = caught.value.translation_placeholders
    assert placeholders["lock"] == "Loft Patio Lavapiés - Puerta principal"
    assert "No active Smart Hosting subscription" in placeholders["error"]
    assert "483926" not in str(placeholders)
    assert await list_codes(hass) == []
    assert {lock: keypad_codes(simulator, lock) for lock in (LOFT_ID, ATICO_ID)} == before
    assert issue_registry.async_get_issue(DOMAIN, f"nuki_smart_hosting_{LOFT_ID}") is not None


@pytest.mark.usefixtures("fast_nuki")
async def test_a_keypad_code_revoke_refused_with_200_keeps_the_code(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A refused delete is a translated error; the code stays listed and on the lock."""
    await setup_integration(hass, nuki_entry(simulator))
    code_id = (await create_code(hass, LOFT, code="483926"))[LOFT]["code_id"]
    simulator.nuki.refuse_writes(LOFT_ID, shape="error")
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: LOFT, "code_id": code_id}, blocking=True
        )
    assert caught.value.translation_key == "access_code_revoke_failed"
    assert "No active Smart Hosting subscription" in caught.value.translation_placeholders["error"]
    assert [(item["code_id"], item["status"]) for item in await list_codes(hass)] == [(code_id, CODE_ON_LOCK)]
    assert code_id in keypad_codes(simulator, LOFT_ID)


async def test_activity_event(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A new log entry fires the lock's activity event with who acted (never a PIN)."""
    await setup_integration(hass, nuki_entry(simulator))
    entity_id = "event.loft_patio_lavapies_puerta_principal_activity"
    before = hass.states.get(entity_id).state
    simulator.nuki.add_log(_loft_lock_id(simulator), action=1, trigger=255, source=1, name="Limpieza")
    await tick(hass, freezer)
    state = hass.states.get(entity_id)
    assert state.state != before
    assert state.attributes["event_type"] == "code_used"
    assert state.attributes["by"] == "Limpieza"


async def test_activity_seen_is_bounded_over_many_refreshes(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Each new log entry fires once, however many refreshes read it; what is remembered to tell new from
    seen stays at the entries the next read can return again (the newest instant's), not the whole log."""
    entry = nuki_entry(simulator)
    await setup_integration(hass, entry)
    entity_id = "event.loft_patio_lavapies_puerta_principal_activity"
    fired: list[str] = []

    @callback
    def _fired(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if event.data["entity_id"] == entity_id and state is not None and "by" in state.attributes:
            fired.append(state.attributes["by"])

    hass.bus.async_listen("state_changed", _fired)
    lock_id = _loft_lock_id(simulator)
    for guest in range(15):
        simulator.clock.advance(timedelta(minutes=1))
        simulator.nuki.add_log(lock_id, action=1, trigger=255, source=1, name=f"Guest {guest}")
        await tick(hass, freezer)
        await tick(hass, freezer)  # read again: nothing new
    assert fired == [f"Guest {guest}" for guest in range(15)]
    assert len(entry.runtime_data.coordinator._seen_logs) == 1


async def test_linked_to_kasify_property_and_shown_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """With both accounts the Nuki lock hangs under its property and Kasify's copy goes (back on removal)."""
    kasify_copy = "binary_sensor.loft_patio_lavapies_puerta_principal"
    assert entity_registry.async_get(kasify_copy) is not None
    issues = ir.async_get(hass)
    missing = f"missing_provider_nuki_{init_integration.entry_id}"
    issue = issues.async_get_issue(DOMAIN, missing)
    assert issue is not None
    assert issue.translation_key == "missing_provider_nuki"
    assert "Puerta principal" in issue.translation_placeholders["locks"]

    nuki = nuki_entry(simulator)
    await setup_integration(hass, nuki)
    await hass.async_block_till_done(wait_background_tasks=True)
    lock = (DOMAIN, f"nuki_{_loft_lock_id(simulator)}")
    lock_device = compat.device_by_identifier(hass, lock, nuki.entry_id)
    property_device = compat.device_by_identifier(
        hass, property_identifier(simulator.kasify.property_at(0)["id"]), init_integration.entry_id
    )
    assert lock_device is not None
    assert property_device is not None
    assert lock_device.via_device_id == property_device.id
    assert entity_registry.async_get(kasify_copy) is None
    # The lock is the Nuki account's device only: the Kasify entry keeps no empty copy of it.
    assert compat.device_config_entry_ids(lock_device) == {nuki.entry_id}
    assert compat.device_by_identifier(hass, lock, init_integration.entry_id) is None
    assert lock not in {
        identifier
        for device in dr.async_entries_for_config_entry(device_registry, init_integration.entry_id)
        for identifier in device.identifiers
    }
    assert hass.states.get(LOFT).state == LockState.LOCKED
    # The Kasify entry (reloaded) no longer asks for a Nuki account.
    assert issues.async_get_issue(DOMAIN, missing) is None

    assert await hass.config_entries.async_remove(nuki.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entity_registry.async_get(kasify_copy) is not None


async def test_polls_faster_around_a_stay_change(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Within half an hour of a check-in or check-out on its property, a lock is polled every 15 s."""
    nuki = nuki_entry(simulator)
    await setup_integration(hass, nuki)
    coordinator = nuki.runtime_data.coordinator
    assert coordinator.update_interval == SCAN

    loft = simulator.kasify.property_at(0)
    arrival = dt_util.utcnow() + timedelta(minutes=20)
    simulator.kasify.add_booking(loft["id"], "Llegada Pronto", arrival, arrival + timedelta(days=2))
    await init_integration.runtime_data.coordinator.async_refresh()
    await coordinator.async_refresh()
    assert coordinator.update_interval == timedelta(seconds=15)

    await tick(hass, freezer, timedelta(hours=2))  # well past the arrival
    await coordinator.async_refresh()
    assert coordinator.update_interval == SCAN


async def test_rate_limit_is_honoured(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 429 from Nuki holds every request back for its Retry-After; the locks go unavailable, then return."""
    entry = nuki_entry(simulator)
    await setup_integration(hass, entry)
    simulator.faults.inject("/nuki/", status=429, headers={"Retry-After": "100"}, times=1)
    await tick(hass, freezer)
    assert hass.states.get(LOFT).state == STATE_UNAVAILABLE
    assert entry.runtime_data.coordinator.last_exception.translation_key == "rate_limited"
    simulator.reset_requests()
    await tick(hass, freezer)  # 60 s after the 429: nothing is sent
    assert simulator.requests == []
    await tick(hass, freezer)  # 120 s after
    assert simulator.requests
    assert hass.states.get(LOFT).state == LockState.LOCKED
