"""The casavi client against the simulator on loopback: routes, shapes, tokens, pages and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from custom_components.kasify.api.casavi import CasaviClient
from custom_components.kasify.api.errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from custom_components.kasify.api.models import TaskStatus
from simulator import Simulator

from .conftest import SIM_NOW

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

WINDOW = (SIM_NOW - timedelta(days=30), SIM_NOW + timedelta(days=30))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(session: aiohttp.ClientSession, sim: Simulator) -> CasaviClient:
    """A client on the simulator's clock, so that token expiry is simulated time on both sides."""
    return CasaviClient(
        session, sim.casavi.key, sim.casavi.secret, base_url=sim.casavi_url, timeout=1.0, now=sim.now
    )


def log(sim: Simulator) -> list[tuple[str, str, int | None]]:
    """The casavi requests the simulator saw: method, path below the prefix, status."""
    return [
        (r.method, r.path.removeprefix("/casavi"), r.status)
        for r in sim.requests
        if r.path.startswith("/casavi/")
    ]


async def test_read_methods(client: CasaviClient, sim: Simulator) -> None:
    account = await client.get_account()
    assert (account.id, account.name) == ("4711", "casavi tenant 4711")

    props = await client.list_properties()
    assert [p.id for p in props] == ["P-1001", "P-1002"]
    lake = props[0]
    assert lake.name == "Haus am See"
    assert lake.full_address == "Seestraße 12, 82319 Starnberg, Germany"
    assert lake.account_id == "4711"
    assert await client.get_property("P-1002") == props[1]

    units = await client.list_units()
    assert len(units) == 5
    assert [u.id for u in await client.list_units("P-1001")] == ["P-1001-0001", "P-1001-0002", "P-1001-0003"]
    assert units[2].purpose == "parking"

    events = await client.list_appointments()
    assert sorted({(e.id, e.property_id) for e in events}) == [
        ("appointment-chimney", "P-1002"),
        ("appointment-elevator", "P-1001"),
        ("appointment-meters", "P-1001"),
        ("appointment-owners", "P-1001"),
        ("appointment-owners", "P-1002"),
    ]
    assert [e.id for e in await client.list_appointments("P-1002")] == [
        "appointment-chimney",
        "appointment-owners",
    ]

    tickets = {t.id: t.status for t in await client.list_tickets()}
    assert tickets == {
        "T-1": TaskStatus.PENDING,
        "T-2": TaskStatus.IN_PROGRESS,
        "T-3": TaskStatus.COMPLETED,
        "T-4": TaskStatus.PENDING,
        "T-5": TaskStatus.COMPLETED,
    }
    assert [t.id for t in await client.list_tickets(status="CLOSED", property_id="P-1001")] == ["T-3"]
    assert sorted(t.id for t in await client.list_open_tickets()) == ["T-1", "T-2", "T-4"]

    assert sim.casavi.tokens_issued == 1  # one token served every call


async def test_fetch_snapshot_reads_the_seeded_account_in_five_requests(
    client: CasaviClient, sim: Simulator
) -> None:
    snapshot = await client.fetch_snapshot(*WINDOW)

    assert sorted(log(sim)) == [
        ("GET", "/v2/appointments", 200),
        ("GET", "/v2/properties", 200),
        ("GET", "/v2/tickets", 200),
        ("GET", "/v2/tickets", 200),
        ("POST", "/v2/authenticate", 200),
    ]
    assert list(snapshot.properties) == ["P-1001", "P-1002"]
    elevator = next(e for e in snapshot.events["P-1001"] if e.id == "appointment-elevator")
    # 09:00-11:00 Berlin (UTC+1 in March) two days after SIM_NOW
    assert (elevator.start, elevator.end) == (
        datetime(2026, 3, 16, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 16, 10, 0, tzinfo=UTC),
    )
    assert (elevator.location, elevator.all_day) == ("Elevator", False)
    meters = snapshot.events["P-1001"][0]
    assert (meters.id, meters.end - meters.start) == ("appointment-meters", timedelta(hours=1))
    (chimney, owners) = snapshot.events["P-1002"]
    assert (chimney.id, chimney.all_day) == ("appointment-chimney", True)
    assert chimney.start == datetime(2026, 3, 16, 23, 0, tzinfo=UTC)  # Berlin midnight of 17 March
    assert chimney.end - chimney.start == timedelta(days=1)
    assert owners.id == "appointment-owners"
    assert [t.id for t in snapshot.open_tasks("P-1001")] == ["T-1", "T-2"]
    assert [t.id for t in snapshot.open_tasks("P-1002")] == ["T-4"]
    assert snapshot.upcoming_event("P-1001", SIM_NOW) == elevator

    sim.reset_requests()
    again = await client.fetch_snapshot(*WINDOW)
    assert len(log(sim)) == 4  # the token is still good
    assert again == snapshot


async def test_fetch_snapshot_sees_changes(client: CasaviClient, sim: Simulator) -> None:
    sim.casavi.set_ticket_status("T-1", "CLOSED")
    sim.casavi.add_ticket("P-1002", "Bell broken", status="IN_PROGRESS", ticket_id="T-7")
    sim.casavi.add_appointment(
        "Roof check", SIM_NOW + timedelta(days=1), property_ids=["P-1002"], appointment_id="appointment-roof"
    )

    snapshot = await client.fetch_snapshot(*WINDOW, include_units=True)

    assert [t.id for t in snapshot.open_tasks("P-1001")] == ["T-2"]
    assert sorted(t.id for t in snapshot.open_tasks("P-1002")) == ["T-4", "T-7"]
    assert [e.id for e in snapshot.events["P-1002"]] == [
        "appointment-roof",
        "appointment-chimney",
        "appointment-owners",
    ]
    assert {pid: len(units) for pid, units in snapshot.units.items()} == {"P-1001": 3, "P-1002": 2}


async def test_the_token_is_renewed_before_it_expires(session: aiohttp.ClientSession, sim: Simulator) -> None:
    sim.casavi.token_ttl = timedelta(minutes=10)
    client = CasaviClient(
        session,
        sim.casavi.key,
        sim.casavi.secret,
        base_url=sim.casavi_url,
        renew_margin=timedelta(minutes=2),
        now=sim.now,
    )

    await client.list_properties()
    sim.advance(timedelta(minutes=7, seconds=59))
    await client.list_properties()
    assert sim.casavi.tokens_issued == 1
    sim.advance(timedelta(seconds=1))
    await client.list_properties()

    assert sim.casavi.tokens_issued == 2
    assert client.token_expires_at == SIM_NOW + timedelta(minutes=18)
    assert all(status == 200 for _, _, status in log(sim))  # never refused


async def test_a_token_the_server_dropped_is_renewed_after_the_401(
    client: CasaviClient, sim: Simulator
) -> None:
    await client.get_property("P-1001")
    sim.casavi.revoke_tokens()
    sim.reset_requests()

    prop = await client.get_property("P-1001")

    assert prop.id == "P-1001"
    assert log(sim) == [
        ("GET", "/v2/properties/P-1001", 401),
        ("POST", "/v2/authenticate", 200),
        ("GET", "/v2/properties/P-1001", 200),
    ]


async def test_a_token_that_expired_on_the_server_clock_is_renewed(
    session: aiohttp.ClientSession, sim: Simulator
) -> None:
    # The client's own clock knows nothing of the simulated time: only the 401 tells it.
    client = CasaviClient(session, sim.casavi.key, sim.casavi.secret, base_url=sim.casavi_url)
    await client.list_units()
    sim.advance(timedelta(hours=2))
    sim.reset_requests()

    assert len(await client.list_units()) == 5
    assert [status for _, _, status in log(sim)] == [401, 200, 200]


async def test_wrong_credentials_are_an_auth_error(session: aiohttp.ClientSession, sim: Simulator) -> None:
    client = CasaviClient(session, sim.casavi.key, "not-the-secret", base_url=sim.casavi_url)

    with pytest.raises(AuthError, match="casavi refused the API key and secret") as caught:
        await client.get_account()

    assert caught.value.status == 401
    assert "not-the-secret" not in str(caught.value)
    assert log(sim) == [("POST", "/v2/authenticate", 401)]


@pytest.mark.parametrize("style", ["url", "path", "page"])
async def test_every_page_is_read_in_every_link_style(
    client: CasaviClient, sim: Simulator, style: Any
) -> None:
    sim.casavi.link_style = style
    for i in range(60):
        sim.casavi.add_appointment(
            f"Visit {i}",
            SIM_NOW + timedelta(hours=i),
            property_ids=["P-1002"],
            appointment_id=f"visit-{i:02d}",
        )
    sim.reset_requests()

    events = await client.list_appointments("P-1002")

    assert len(events) == 62
    assert events == sorted(events, key=lambda e: e.start)
    assert [e.id for e in events if e.id.startswith("visit")] == [f"visit-{i:02d}" for i in range(60)]
    assert [r.query for r in sim.requests_for("/casavi/v2/appointments")] == [
        {"propertyId": "P-1002"},
        {"propertyId": "P-1002", "page": "1"},
        {"propertyId": "P-1002", "page": "2"},
    ]


async def test_the_snapshot_request_count_grows_with_the_pages(client: CasaviClient, sim: Simulator) -> None:
    for i in range(30):
        sim.casavi.add_ticket("P-1001", f"Leak {i}")
    for i in range(50):
        sim.casavi.add_appointment(f"Visit {i}", SIM_NOW + timedelta(hours=i), property_ids=["P-1001"])

    snapshot = await client.fetch_snapshot(*WINDOW)

    # 1 authenticate + 1 property page + ceil(54 / 25) appointment pages + ceil(31 / 25) + 1 ticket pages
    assert len(log(sim)) == 1 + 1 + 3 + 2 + 1
    assert len(snapshot.open_tasks("P-1001")) == 32


async def test_bad_input_names_the_field(client: CasaviClient) -> None:
    with pytest.raises(ValidationError, match="HTTP 400: Invalid data supplied") as caught:
        await client.list_tickets(status="BOGUS")

    assert caught.value.fields == {"status": ["Invalid data supplied"]}


async def test_an_unknown_property_is_not_found(client: CasaviClient) -> None:
    with pytest.raises(NotFoundError, match=r"^GET /v2/properties/nope: HTTP 404: Property not found$"):
        await client.get_property("nope")


@pytest.mark.parametrize(
    ("fault", "error", "match"),
    [
        ({"status": 503, "body": "<html>down</html>"}, ServerError, r"^GET /v2/tickets: HTTP 503$"),
        ({"status": 500}, ServerError, r"^GET /v2/tickets: HTTP 500: Injected fault: HTTP 500$"),
        ({"status": 429}, RateLimitedError, r"HTTP 429: Injected fault"),
        ({"status": 403}, AuthError, r"HTTP 403"),
        ({"status": 200, "body": "{not json"}, MalformedResponseError, r"the body is not JSON"),
        ({"status": 200, "body": '{"items": []}'}, MalformedResponseError, r"\.data: missing"),
        ({"disconnect": True, "times": 2}, ApiConnectionError, r"ServerDisconnectedError|ClientOSError"),
        ({"delay": 2.0}, ApiConnectionError, r"timed out"),
    ],
)
async def test_injected_faults_map_to_the_hierarchy(
    client: CasaviClient, sim: Simulator, fault: dict[str, Any], error: type[ApiError], match: str
) -> None:
    await client.authenticate()
    sim.faults.inject("/casavi/v2/tickets", **fault)

    with pytest.raises(error, match=match) as caught:
        await client.list_tickets()

    if isinstance(caught.value, RateLimitedError):
        assert caught.value.retry_after == 1.0


async def test_a_failing_authentication_is_not_an_auth_error(client: CasaviClient, sim: Simulator) -> None:
    sim.faults.inject("/casavi/v2/authenticate", status=502, times=1)

    with pytest.raises(ServerError):
        await client.fetch_snapshot(*WINDOW)
    assert [status for _, _, status in log(sim)] == [502]  # the listings never started

    snapshot = await client.fetch_snapshot(*WINDOW)
    assert len(snapshot.properties) == 2
