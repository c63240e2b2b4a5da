"""Scale runs of the simulator: a fleet with a lock mix, booking listings kept between pages, settings."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from simulator import LockMix, Simulator, SimulatorConfig
from simulator.remotelock.records import LOCK_TYPES

from .conftest import SIM_NOW, Http

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

MIX = LockMix(nuki=30, unifi=20, remotelock=25, nuki_other_account=4)


def _remotelock_locks(sim: Simulator) -> list[dict[str, object]]:
    return [device for device in sim.remotelock.devices.values() if device["type"] in LOCK_TYPES]


def test_lock_mix_is_dealt_over_every_property() -> None:
    sim = Simulator(SimulatorConfig(properties=20, seed=4, now=SIM_NOW, locks=MIX))
    kasify = sim.kasify
    vendors = Counter(lock["vendor"] for lock in kasify.smart_locks.values())
    assert vendors == {"nuki": 30, "unifi": 20}
    per_property = Counter(len(prop["smart_locks"]) for prop in kasify.properties.values())
    assert set(per_property) == {2, 3}  # 50 locks round-robin over 20 properties
    # The guarantees of properties 0-2 hold, with more locks beside them.
    assert kasify.locks_for(kasify.property_at(0)["id"])[0]["battery_level"] == 80
    assert kasify.locks_for(kasify.property_at(1)["id"])[0]["vendor"] == "unifi"
    assert kasify.locks_for(kasify.property_at(2)["id"])[0]["battery_level"] == 15

    # The Nuki account lacks the locks of the other account and has its three of its own.
    kasify_nuki_ids = {
        int(lock["nuki_smartlock"]["nuki_smartlock_id"])
        for lock in kasify.smart_locks.values()
        if lock["vendor"] == "nuki"
    }
    assert len(kasify_nuki_ids & set(sim.nuki.locks)) == 26
    assert len(set(sim.nuki.locks) - kasify_nuki_ids) == 3
    # Every UniFi lock is a door of the controller, plus its garage door.
    assert len(sim.unifi.doors) == 21

    # RemoteLock: 25 locks in the properties' locations, and the office's.
    locations = {loc["id"]: loc["attributes"]["name"] for loc in sim.remotelock.locations.values()}
    names = {prop["name"] for prop in kasify.properties.values()}
    in_properties = [
        lock for lock in _remotelock_locks(sim) if locations[lock["attributes"]["location_id"]] in names
    ]
    assert len(in_properties) == 25
    assert len(_remotelock_locks(sim)) == 26
    assert len({lock["attributes"]["location_id"] for lock in in_properties}) == 20


def test_lock_mix_is_deterministic_and_leaves_the_default_fleet_alone() -> None:
    def locks(config: SimulatorConfig) -> list[tuple[str, str]]:
        kasify = Simulator(config).kasify
        return [(lock["property_id"], lock["vendor"]) for lock in kasify.smart_locks.values()]

    mixed = SimulatorConfig(properties=12, seed=2, now=SIM_NOW, locks=MIX)
    assert locks(mixed) == locks(mixed)
    plain = SimulatorConfig(properties=12, seed=2, now=SIM_NOW)
    assert locks(plain) == locks(SimulatorConfig(properties=12, seed=2, now=SIM_NOW, locks=None))
    assert len(locks(plain)) < len(locks(mixed))


@pytest.mark.parametrize(
    ("properties", "mix"),
    [
        (2, LockMix(nuki=3, unifi=0)),  # property 1's UniFi door is guaranteed
        (3, LockMix(nuki=1, unifi=1)),  # properties 0 and 2 have a Nuki lock each
        (0, LockMix(nuki=1)),
        (3, LockMix(nuki=2, unifi=1, remotelock=2)),  # the RemoteLock fleet always has three
    ],
)
def test_lock_mix_that_cannot_be_dealt_is_refused(properties: int, mix: LockMix) -> None:
    with pytest.raises(ValueError, match="lock"):
        Simulator(SimulatorConfig(properties=properties, now=SIM_NOW, locks=mix))


@pytest.mark.parametrize("fields", [{"nuki": -1}, {"nuki": 1, "nuki_other_account": 2}])
def test_lock_mix_refuses_impossible_counts(fields: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must not"):
        LockMix(**fields)


@pytest.mark.parametrize("sim_config", [SimulatorConfig(properties=4, seed=3, now=SIM_NOW)])
async def test_booking_pages_follow_every_change(http: Http, sim: Simulator) -> None:
    """Listings are kept between pages, yet any change to the bookings shows on the next page read."""
    window = {"from": "2026-03-01T00:00:00Z", "to": "2026-04-30T00:00:00Z", "size": 100}

    async def listed() -> list[tuple[str, str]]:
        body = (await http.get("/bookings", params=window)).body
        return [(b["id"], b["property_id"]) for b in body["bookings"]]

    first = await listed()
    assert first == await listed()
    booking_id, property_id = first[0]
    other = next(pid for pid in sim.kasify.properties if pid != property_id)

    sim.kasify.bookings[booking_id]["property_id"] = other  # changed in place, as tests do
    assert (booking_id, other) in await listed()
    saved = sim.kasify.bookings.pop(booking_id)
    assert booking_id not in dict(await listed())
    sim.kasify.bookings[booking_id] = saved
    assert booking_id in dict(await listed())
    sim.kasify.move_booking(booking_id, SIM_NOW + timedelta(days=400), SIM_NOW + timedelta(days=402))
    assert booking_id not in dict(await listed())
    added = sim.kasify.add_booking(property_id, "Ana", SIM_NOW, SIM_NOW + timedelta(days=2))
    assert added["id"] in dict(await listed())
    sim.kasify.remove_property(property_id)
    assert property_id not in {pid for _, pid in await listed()}


async def test_settings_change_latency_nuki_steps_and_the_remotelock_limit(
    http: Http, sim: Simulator
) -> None:
    answer = await http.call(
        "PATCH",
        "/_sim/settings",
        json_body={"latency": 0.05, "nuki_action_delay": 0, "remotelock_rate_limit": None},
        raw_url=True,
    )
    assert answer.status == 200
    assert answer.body == {"latency": 0.05, "nuki_action_delay": 0.0, "remotelock_rate_limit": None}
    assert (sim.latency, sim.nuki.action_delay, sim.remotelock.rate.limit) == (0.05, 0.0, None)

    partial = await http.call(
        "PATCH", "/_sim/settings", json_body={"remotelock_rate_limit": 500}, raw_url=True
    )
    assert partial.body == {"latency": 0.05, "nuki_action_delay": 0.0, "remotelock_rate_limit": 500}

    for bad in ({"latency": -1}, {"latency": "fast"}, {"remotelock_rate_limit": 0}, {"colour": "red"}):
        refused = await http.call("PATCH", "/_sim/settings", json_body=bad, raw_url=True)
        assert refused.status == 422, bad
    assert (sim.latency, sim.remotelock.rate.limit) == (0.05, 500)


@pytest.mark.parametrize("sim_config", [SimulatorConfig(properties=4, seed=3, now=SIM_NOW)])
async def test_task_pages_follow_every_change(http: Http, sim: Simulator) -> None:
    """Task listings are kept between pages too, and follow any change."""

    async def open_ids() -> list[str]:
        body = (await http.get("/tasks", params={"status": "open", "size": 100})).body
        return [task["id"] for task in body["tasks"]]

    first = await open_ids()
    assert first == await open_ids()
    task_id = first[0]
    sim.kasify.complete_task(task_id)
    assert task_id not in await open_ids()
    sim.kasify.tasks[task_id]["status"] = "pending"  # changed in place, as tests do
    assert task_id in await open_ids()
    added = sim.kasify.add_task(sim.kasify.property_at(0)["id"], "Fix the tap", due_at=SIM_NOW)
    assert added["id"] in await open_ids()
    sim.kasify.remove_task(added["id"])
    assert added["id"] not in await open_ids()
