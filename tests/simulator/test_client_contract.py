"""The integration's Kasify client against the simulator: every client method finds its route and shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from custom_components.kasify.api.errors import (
    ApiConnectionError,
    AuthError,
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from custom_components.kasify.api.kasify import KasifyClient
from custom_components.kasify.api.models import BookingStatus, TaskStatus
from simulator import Simulator, SimulatorConfig

from .conftest import SIM_NOW, TOKEN

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[KasifyClient]:
    async with aiohttp.ClientSession() as session:
        yield KasifyClient(session, sim.kasify_url, TOKEN, timeout=1.0)


async def test_read_methods(client: KasifyClient, sim: Simulator) -> None:
    account = await client.get_account()
    assert account.id == sim.kasify.account["id"]

    props = await client.list_properties()
    assert [p.id for p in props] == list(sim.kasify.properties)
    occupied, empty = props[0], props[1]
    assert occupied.smart_locks[0].vendor == "nuki"
    assert occupied.default_cleaner is not None
    assert occupied.calendars[0].last_sync_at is not None

    (lock,) = await client.list_smart_locks(occupied.id)
    assert (lock.lock_state, lock.battery_level, lock.provider_lock_id) == (
        1,
        80,
        sim.kasify.locks_for(occupied.id)[0]["nuki_smartlock"]["nuki_smartlock_id"],
    )

    bookings = await client.list_bookings(SIM_NOW - timedelta(days=1), SIM_NOW + timedelta(days=30))
    assert bookings
    one = await client.list_property_bookings(occupied.id, SIM_NOW, SIM_NOW + timedelta(days=1))
    current = next(booking for booking in one if booking.registered_guests == 1)
    assert (await client.get_booking(current.id)) == current
    assert not await client.list_property_bookings(empty.id, SIM_NOW, SIM_NOW + timedelta(hours=1))

    open_tasks = await client.list_tasks()
    assert open_tasks
    assert all(t.status != TaskStatus.COMPLETED for t in open_tasks)
    assert await client.list_property_tasks(occupied.id, None)


async def test_write_methods(client: KasifyClient, sim: Simulator) -> None:
    prop_id = sim.kasify.property_at(0)["id"]
    start = SIM_NOW + timedelta(days=200)
    booking = await client.create_booking(
        prop_id, guest_name="Ana", check_in=start, check_out=start + timedelta(days=2), guests_count=2
    )
    assert booking.status == BookingStatus.CONFIRMED
    with pytest.raises(ConflictError):
        await client.create_booking(
            prop_id, guest_name="Bob", check_in=start, check_out=start + timedelta(days=1)
        )
    with pytest.raises(ValidationError) as err:
        await client.create_booking(prop_id, guest_name="Bob", check_in=start, check_out=start)
    assert "check_out" in err.value.fields

    codes = await client.create_access_codes(booking.id, code="2468")
    assert [c.code for c in codes] == ["2468"]
    await client.revoke_access_code(booking.id, codes[0].id)
    with pytest.raises(NotFoundError):
        await client.revoke_access_code(booking.id, codes[0].id)

    task = await client.create_task(prop_id, title="Check boiler", task_type="maintenance")
    assert (await client.start_task(task.id)).status == TaskStatus.IN_PROGRESS
    assert (await client.complete_task(task.id)).status == TaskStatus.COMPLETED
    with pytest.raises(ConflictError):
        await client.complete_task(task.id)
    assert (await client.get_task(task.id)).title == "Check boiler"
    with pytest.raises(NotFoundError):
        await client.get_task("no-such-task")


@pytest.mark.parametrize("sim_config", [SimulatorConfig(properties=150, now=SIM_NOW)])
async def test_pagination_request_count(client: KasifyClient, sim: Simulator) -> None:
    sim.reset_requests()
    assert len(await client.list_properties()) == 150
    assert [r.query["page"] for r in sim.requests] == ["0", "1"]


async def test_errors_map_to_client_exceptions(client: KasifyClient, sim: Simulator) -> None:
    cases: list[tuple[dict[str, object], type[Exception]]] = [
        ({"status": 503, "body": "<html>down</html>"}, ServerError),
        ({"status": 401}, AuthError),
        ({"status": 429}, RateLimitedError),
        ({"status": 200, "body": b"{not json"}, MalformedResponseError),
        ({"delay": 5.0}, ApiConnectionError),
    ]
    for fault, error in cases:
        sim.faults.clear()
        sim.faults.inject("/kasify/", **fault)  # type: ignore[arg-type]
        with pytest.raises(error):
            await client.get_account()
    sim.faults.clear()
    assert (await client.get_account()).id == sim.kasify.account["id"]
