"""What keeps a large fleet cheap: covered properties' smart locks not read, unchanged entities not written,
listeners and new entities handled a few per turn of the loop, look-ups worked out once per refresh."""

from __future__ import annotations

import asyncio
from datetime import time, timedelta
from functools import partial
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify import compat, links, scale, stay_conflicts
from custom_components.kasify.api.models import AccountSnapshot, Booking, Property
from custom_components.kasify.api.turns import LoopTurns
from custom_components.kasify.const import DOMAIN, LOGGER
from custom_components.kasify.coordinator import property_identifier
from custom_components.kasify.providers.kasify import share_unchanged
from simulator import Simulator

from . import setup_integration
from .providers import LOFT, NOW, SCAN, nuki_entry, tick

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def _smartlock_reads(simulator: Simulator) -> set[str]:
    return {
        r.path
        for r in simulator.requests_for("/kasify/v1/properties/", "GET")
        if r.path.endswith("/smartlocks")
    }


async def test_covered_properties_cost_no_smart_lock_request(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    """With the Nuki account set up, only the property whose lock no account covers (UniFi) is read."""
    nuki = nuki_entry(simulator)
    await setup_integration(hass, nuki)
    await hass.async_block_till_done(wait_background_tasks=True)
    occupied, empty, low = (simulator.kasify.property_at(i)["id"] for i in range(3))

    simulator.reset_requests()
    await tick(hass, freezer, SCAN)

    listings = [r for r in simulator.requests if r.path == "/kasify/v1/properties"]
    assert len(listings) == 1  # the listing still comes
    assert _smartlock_reads(simulator) == {f"/kasify/v1/properties/{empty}/smartlocks"}
    # The Nuki locks are shown by the Nuki account, the UniFi door read-only by Kasify, as before.
    assert hass.states.get(LOFT) is not None
    unifi_copy = next(
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
        if e.domain == "binary_sensor"
        and e.unique_id.startswith("kasify_lock_")
        and e.unique_id.endswith("-lock")
    )
    unifi_lock = next(lock for lock in simulator.kasify.smart_locks.values() if lock["property_id"] == empty)
    assert hass.states.get(unifi_copy).state == "off"  # locked
    simulator.kasify.set_lock(unifi_lock["id"], lock_state=3)
    await tick(hass, freezer, SCAN)
    assert hass.states.get(unifi_copy).state == "on"  # unlocked: its status is still read

    # A lock that leaves its account is read again at the next refresh, and Kasify shows it again.
    loft_record = next(
        lock for lock in simulator.kasify.smart_locks.values() if lock["property_id"] == occupied
    )
    simulator.nuki.remove_lock(int(loft_record["nuki_smartlock"]["nuki_smartlock_id"]))
    await tick(hass, freezer, SCAN)  # the Nuki account drops it
    simulator.reset_requests()
    await tick(hass, freezer, SCAN)
    assert _smartlock_reads(simulator) == {
        f"/kasify/v1/properties/{occupied}/smartlocks",
        f"/kasify/v1/properties/{empty}/smartlocks",
    }


def _property_entities(hass: HomeAssistant, entry: MockConfigEntry, property_id: str) -> set[str]:
    device = compat.device_by_identifier(hass, property_identifier(property_id), entry.entry_id)
    assert device is not None
    return {e.entity_id for e in er.async_entries_for_device(er.async_get(hass), device.id)}


async def test_a_refresh_writes_only_what_changed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A booking of one property changes: no other property's entity writes its state, not even unchanged."""
    changed, others = (
        simulator.kasify.property_at(1)["id"],
        (simulator.kasify.property_at(i)["id"] for i in (0, 2)),
    )
    quiet = set().union(*(_property_entities(hass, init_integration, pid) for pid in others))
    assert quiet
    written: list[str] = []

    @callback
    def record(event: Event[Any]) -> None:
        written.append(event.data["entity_id"])

    @callback
    def every(data: Any) -> bool:
        return True

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    hass.bus.async_listen(EVENT_STATE_REPORTED, record, event_filter=every)
    booking = next(
        b
        for b in simulator.kasify.bookings_overlapping(NOW, NOW + timedelta(days=30), property_id=changed)
        if b["status"] == "confirmed"
    )
    simulator.kasify.update_booking(booking["id"], guest_name="Someone Else")
    before = init_integration.runtime_data.coordinator.data
    await tick(hass, freezer, SCAN)

    # The refresh kept the objects of what did not change (entities compare them by identity first).
    after = init_integration.runtime_data.coordinator.data
    assert after is not before
    for pid in before.properties:
        assert after.properties[pid] is before.properties[pid]
        assert (after.bookings[pid] is before.bookings[pid]) is (pid != changed)

    assert set(written) & _property_entities(hass, init_integration, changed)
    assert not set(written) & quiet

    written.clear()
    await tick(hass, freezer, SCAN)  # nothing changed at all
    assert not set(written) & (quiet | _property_entities(hass, init_integration, changed))

    # Every feed syncs (nothing new in them): their sync sensors say so, no calendar is written.
    await tick(hass, freezer, timedelta(minutes=61))
    calendars = set(hass.states.async_entity_ids("calendar"))
    assert {entity_id for entity_id in written if entity_id.startswith("sensor.") and "_sync" in entity_id}
    assert not set(written) & calendars


# --- listeners and entities a few per turn ------------------------------------------------------------------


@pytest.fixture
def turn_per_item(hass: HomeAssistant) -> LoopTurns:
    """A budget of nothing: every listener call and entity added waits for its own turn of the loop."""
    turns = scale.loop_turns(hass)
    turns.budget = 0
    return turns


class _Coordinator(scale.SlicedListeners[int]):
    pass


async def _loop_turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


@pytest.mark.usefixtures("turn_per_item")
async def test_many_listeners_are_updated_a_few_per_turn(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN)
    entry.add_to_hass(hass)
    coordinator = _Coordinator(hass, LOGGER, config_entry=entry, name="sliced", update_interval=None)
    calls: list[int] = []
    removers = [coordinator.async_add_listener(lambda i=i: calls.append(i)) for i in range(300)]

    coordinator.async_set_updated_data(1)
    assert calls == []  # not in the caller's turn
    await _loop_turns(5)
    assert 0 < len(calls) < 300
    removers[299]()  # gone before its turn: not called
    coordinator.async_set_updated_data(2)  # a newer update: the rest of the first is not run
    await hass.async_block_till_done()
    first, second = calls[: calls.index(0, 1)], calls[calls.index(0, 1) :]
    assert first == list(range(len(first)))
    assert second == list(range(299))


async def test_few_listeners_are_updated_at_once(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN)
    entry.add_to_hass(hass)
    coordinator = _Coordinator(hass, LOGGER, config_entry=entry, name="few", update_interval=None)
    calls: list[int] = []
    for i in range(scale.SLICE_ABOVE):
        coordinator.async_add_listener(lambda i=i: calls.append(i))
    coordinator.async_set_updated_data(1)
    assert calls == list(range(scale.SLICE_ABOVE))


@pytest.mark.usefixtures("turn_per_item")
async def test_many_entities_are_made_and_added_a_few_per_turn(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN)
    entry.add_to_hass(hass)
    made: list[int] = []
    added: list[Any] = []

    def group(number: int) -> list[str]:
        made.append(number)
        return [f"{number}a", f"{number}b"]

    scale.add_in_slices(hass, entry, added.extend, [partial(group, i) for i in range(5)])
    assert (made, added) == ([], [])  # not in the caller's turn: making them is work too
    await _loop_turns(4)
    assert 0 < len(added) < 10
    await scale.entities_added(hass)
    assert added == [f"{i}{x}" for i in range(5) for x in "ab"]

    scale.add_in_slices(hass, entry, added.extend, [partial(group, 9)])  # a few: at once
    assert added[-2:] == ["9a", "9b"]


async def test_loop_turns_let_the_loop_run_once_the_budget_is_spent() -> None:
    turns_seen = 0

    async def count_turns() -> None:
        nonlocal turns_seen
        while True:
            turns_seen += 1
            await asyncio.sleep(0)

    counter = asyncio.get_running_loop().create_task(count_turns())
    await asyncio.sleep(0)
    generous, none = LoopTurns(budget=3600), LoopTurns(budget=0)
    before = turns_seen
    for _ in range(5):
        await generous.take()
    assert turns_seen - before <= 1  # at most the one turn that opened its window
    before = turns_seen
    for _ in range(5):
        await none.take()
    assert turns_seen - before >= 5
    counter.cancel()


# --- look-ups -----------------------------------------------------------------------------------------------


async def test_one_pass_works_out_the_live_entries_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    live = links.live_entries

    def counted(hass: HomeAssistant) -> Any:
        nonlocal calls
        calls += 1
        return live(hass)

    monkeypatch.setattr(links, "live_entries", counted)
    with scale.one_pass(hass):
        first = links.property_sources(hass)
        assert links.property_sources(hass) is first
        with scale.one_pass(hass):  # nested: the same pass
            assert links.property_sources(hass) is first
    assert calls == 1
    links.property_sources(hass)
    links.property_sources(hass)
    assert calls == 3  # outside a pass: every time


def test_per_data_is_worked_out_again_for_other_data() -> None:
    per_data, built = scale.PerData(), []
    first, second = {"a": 1}, {"a": 1}

    def build(data: dict[str, int]) -> int:
        built.append(data)
        return len(built)

    assert per_data.get("x", (first,), lambda: build(first)) == 1
    assert per_data.get("x", (first,), lambda: build(first)) == 1
    assert per_data.get("x", (second,), lambda: build(second)) == 2  # equal, but another object
    assert per_data.get("y", (second,), lambda: build(second)) == 3


def test_first_by_keeps_the_first() -> None:
    assert scale.first_by(["ab", "ac", "b"], lambda s: s[0]) == {"a": "ab", "b": "b"}


# --- a refresh matched with the previous one ----------------------------------------------------------------


def _snapshot(**bookings: tuple[Booking, ...]) -> AccountSnapshot:
    return AccountSnapshot(
        properties={pid: Property(id=pid, name=pid.upper()) for pid in ("p1", "p2")},
        bookings=bookings,
        smart_locks={},
        tasks={},
        window_start=NOW,
        window_end=NOW + timedelta(days=90),
    )


def _booking(guest: str, property_id: str = "p1") -> Booking:
    return Booking(
        id="b1", property_id=property_id, guest_name=guest, check_in=NOW, check_out=NOW + timedelta(days=2)
    )


async def test_a_refresh_keeps_the_objects_of_what_did_not_change() -> None:
    old = _snapshot(p1=(_booking("Ana"),), p2=(_booking("Bea", "p2"),))
    new = _snapshot(p1=(_booking("Ana"),), p2=(_booking("Eva", "p2"),))

    shared = await share_unchanged(new, old)

    assert shared == new
    assert shared.bookings["p1"] is old.bookings["p1"]
    assert shared.properties["p1"] is old.properties["p1"]
    assert shared.bookings["p2"] is new.bookings["p2"]
    assert await share_unchanged(new, None) is new


def test_sliced_listeners_is_a_data_update_coordinator() -> None:
    assert issubclass(scale.SlicedListeners, DataUpdateCoordinator)


# --- double bookings and turnover gaps over many properties ------------------------------------------------


async def test_stay_conflicts_of_many_properties_are_checked_a_few_per_turn(
    hass: HomeAssistant, turn_per_item: LoopTurns, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each of 20 properties has a double booking: found property by property, the loop running meanwhile."""
    entry = MockConfigEntry(domain=DOMAIN, title="Kasify")
    entry.add_to_hass(hass)
    start = dt_util.utcnow() + timedelta(days=10)
    ids = [f"p{number}" for number in range(20)]

    def stay(booking_id: str, property_id: str, days: int) -> Booking:
        return Booking(
            id=booking_id,
            property_id=property_id,
            guest_name=booking_id,
            check_in=start,
            check_out=start + timedelta(days=days),
        )

    data = AccountSnapshot(
        properties={pid: Property(id=pid, name=pid.upper()) for pid in ids},
        bookings={pid: (stay(f"{pid}-a", pid, 2), stay(f"{pid}-b", pid, 3)) for pid in ids},
        smart_locks={},
        tasks={},
        window_start=start - timedelta(days=30),
        window_end=start + timedelta(days=90),
    )
    coordinator = SimpleNamespace(
        data=data,
        last_update_success=True,
        min_turnover=lambda _pid: timedelta(hours=3),
        stay_times=lambda _pid: (time(15), time(11), dt_util.UTC),
    )
    feeds = SimpleNamespace(data={}, async_events_by_property=AsyncMock(return_value={}))
    checked: list[str] = []
    find = stay_conflicts.find_conflicts

    def spy(property_id: str, *args: Any) -> list[stay_conflicts.Conflict]:
        checked.append(property_id)
        return find(property_id, *args)

    monkeypatch.setattr(stay_conflicts, "find_conflicts", spy)
    conflicts = stay_conflicts.StayConflicts(hass, entry, coordinator, feeds)  # type: ignore[arg-type]

    conflicts.async_request_check()
    await _loop_turns(5)
    assert 0 < len(checked) < len(ids)  # under way, not in one turn of the loop
    await hass.async_block_till_done()
    assert checked == ids
    assert sorted(c.property_id for c in conflicts.conflicts) == sorted(ids)
    assert {c.kind for c in conflicts.conflicts} == {stay_conflicts.DOUBLE_BOOKING}
    assert len(ir.async_get(hass).issues) == len(ids)
    conflicts._async_stop()  # what unloading the entry runs: the issues and the check's timer go
    assert not ir.async_get(hass).issues
