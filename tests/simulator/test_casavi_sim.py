"""The simulator's casavi API over plain HTTP: authentication, the token header, pages, error shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from simulator import CasaviState, Simulator
from simulator.casavi import build_casavi_fleet, casavi_time
from simulator.clock import Clock

from .conftest import SIM_NOW, Reply

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


class CasaviHttp:
    """Raw calls to the simulator's casavi API."""

    def __init__(self, session: aiohttp.ClientSession, sim: Simulator) -> None:
        self.session = session
        self.sim = sim

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: str | None = None,
        params: dict[str, str] | None = None,
        token: str | None = None,
        url: str | None = None,
    ) -> Reply:
        headers = {"token": token} if token is not None else {}
        async with self.session.request(
            method,
            url or self.sim.casavi_url + path,
            json=json_body,
            data=data,
            params=params,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=5),
        ) as resp:
            text = await resp.text()
            body = await resp.json(content_type=None) if text else None
            return Reply(resp.status, body, dict(resp.headers), text)

    async def token(self) -> str:
        reply = await self.call(
            "POST", "/v2/authenticate", json_body={"key": "sim-casavi-key", "secret": "sim-casavi-secret"}
        )
        assert reply.status == 200, reply
        token: str = reply.body["token"]
        return token


@pytest.fixture
async def casavi(sim: Simulator) -> AsyncIterator[CasaviHttp]:
    async with aiohttp.ClientSession() as session:
        yield CasaviHttp(session, sim)


def boom(status: int, error: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"statusCode": status, "error": error, "message": message, **extra}


# --- authentication -----------------------------------------------------------------------------------------


async def test_authenticate_issues_a_token_that_expires(casavi: CasaviHttp, sim: Simulator) -> None:
    reply = await casavi.call(
        "POST", "/v2/authenticate", json_body={"key": "sim-casavi-key", "secret": "sim-casavi-secret"}
    )

    assert reply.status == 200
    assert set(reply.body) == {"token", "expiresAt"}
    assert reply.body["expiresAt"] == "2026-03-14T13:00:00Z"  # SIM_NOW + 1 hour
    token = reply.body["token"]
    assert (await casavi.call("GET", "/v2/properties", token=token)).status == 200

    sim.advance(timedelta(minutes=59, seconds=59))
    assert (await casavi.call("GET", "/v2/properties", token=token)).status == 200
    sim.advance(timedelta(seconds=1))
    expired = await casavi.call("GET", "/v2/properties", token=token)
    assert (expired.status, expired.body) == (401, boom(401, "Unauthorized", "Invalid or expired token"))


async def test_the_token_ttl_is_configurable(casavi: CasaviHttp, sim: Simulator) -> None:
    sim.casavi.token_ttl = timedelta(seconds=30)

    reply = await casavi.call(
        "POST", "/v2/authenticate", json_body={"key": "sim-casavi-key", "secret": "sim-casavi-secret"}
    )

    assert reply.body["expiresAt"] == "2026-03-14T12:00:30Z"


async def test_the_deprecated_parameters_still_authenticate(casavi: CasaviHttp) -> None:
    body = {"apiKey": "sim-casavi-key", "email": "ignored@example.com", "password": "sim-casavi-secret"}

    reply = await casavi.call("POST", "/v2/authenticate", json_body=body)

    assert reply.status == 200
    assert "token" in reply.body


@pytest.mark.parametrize(
    ("body", "keys"),
    [
        ({"key": "sim-casavi-key"}, ["secret"]),
        ({"secret": 7}, ["key", "secret"]),
        ({"key": "", "secret": ""}, ["key", "secret"]),
    ],
)
async def test_authenticate_with_missing_input(
    casavi: CasaviHttp, body: dict[str, Any], keys: list[str]
) -> None:
    reply = await casavi.call("POST", "/v2/authenticate", json_body=body)

    assert reply.status == 400
    assert reply.body == boom(
        400, "Bad Request", "Invalid input", validation={"source": "payload", "keys": keys}
    )


async def test_authenticate_with_a_body_that_is_not_json(casavi: CasaviHttp) -> None:
    reply = await casavi.call("POST", "/v2/authenticate", data="key=x&secret=y")

    assert reply.status == 400
    assert reply.body == boom(400, "Bad Request", "The request body is not valid JSON")


async def test_authenticate_with_wrong_credentials(casavi: CasaviHttp, sim: Simulator) -> None:
    reply = await casavi.call(
        "POST", "/v2/authenticate", json_body={"key": "sim-casavi-key", "secret": "nope"}
    )

    assert (reply.status, reply.body) == (401, boom(401, "Unauthorized", "Unauthorized"))
    assert sim.casavi.tokens_issued == 0


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing authentication token"),
        ({"token": "made-up"}, "Invalid or expired token"),
        ({"Authorization": "Bearer sim-casavi-key"}, "Missing authentication token"),
    ],
)
async def test_routes_want_a_valid_token_header(
    casavi: CasaviHttp, sim: Simulator, headers: dict[str, str], message: str
) -> None:
    async with casavi.session.get(sim.casavi_url + "/v2/tickets", headers=headers) as resp:
        assert resp.status == 401
        assert await resp.json() == boom(401, "Unauthorized", message)


async def test_revoked_tokens_are_refused(casavi: CasaviHttp, sim: Simulator) -> None:
    token = await casavi.token()
    sim.casavi.revoke_tokens()

    assert (await casavi.call("GET", "/v2/units", token=token)).status == 401


# --- resources ----------------------------------------------------------------------------------------------


async def test_a_property_as_the_seed_describes_it(casavi: CasaviHttp) -> None:
    token = await casavi.token()

    reply = await casavi.call("GET", "/v2/properties/P-1001", token=token)

    assert reply.status == 200
    prop = reply.body
    assert {"id", "internalId", "name", "addresses", "appLink"} <= set(prop)
    assert prop["addresses"] == [
        {"street": "Seestraße 12", "units": ["P-1001-0001", "P-1001-0002", "P-1001-0003"]}
    ]
    assert prop["appLink"] == f"https://app.mycasavi.com/tenant/4711/manage/communities/{prop['internalId']}"
    assert (prop["city"], prop["postalCode"], prop["country"]) == ("Starnberg", "82319", "Germany")


async def test_an_unknown_property(casavi: CasaviHttp) -> None:
    reply = await casavi.call("GET", "/v2/properties/P-0", token=await casavi.token())

    assert (reply.status, reply.body) == (404, boom(404, "Not Found", "Property not found"))


async def test_an_unknown_route_answers_in_the_same_shape(casavi: CasaviHttp) -> None:
    reply = await casavi.call("GET", "/v2/nothing-here", token=await casavi.token())

    assert (reply.status, reply.body) == (404, boom(404, "Not Found", "Not Found"))


async def test_appointments_and_tickets_are_filtered(casavi: CasaviHttp) -> None:
    token = await casavi.token()

    appointments = await casavi.call("GET", "/v2/appointments", token=token, params={"propertyId": "P-1002"})
    open_tickets = await casavi.call("GET", "/v2/tickets", token=token, params={"status": "OPEN"})
    lake_tickets = await casavi.call("GET", "/v2/tickets", token=token, params={"propertyId": "P-1001"})
    bogus = await casavi.call("GET", "/v2/tickets", token=token, params={"status": "open"})

    assert [a["id"] for a in appointments.body["data"]] == ["appointment-chimney", "appointment-owners"]
    chimney = appointments.body["data"][0]
    assert (chimney["allDay"], chimney["dateEnd"], chimney["dateStart"]) == (
        True,
        None,
        "2026-03-16T23:00:00.000Z",
    )
    assert [t["id"] for t in open_tickets.body["data"]] == ["T-1", "T-4"]
    assert [t["id"] for t in lake_tickets.body["data"]] == ["T-1", "T-2", "T-3"]
    assert bogus.status == 400
    assert bogus.body["validation"] == {"source": "query", "keys": ["status"]}


# --- pagination ---------------------------------------------------------------------------------------------


async def test_lists_are_paged_by_25_with_a_next_link(casavi: CasaviHttp, sim: Simulator) -> None:
    for i in range(25):
        sim.casavi.add_unit("P-1002", f"P-1002-1{i:03d}", f"Flat {i}")  # 30 units with the 5 seeded
    token = await casavi.token()

    first = await casavi.call("GET", "/v2/units", token=token, params={"includeInactiveContracts": "true"})
    next_url = first.body["_links"]["next"]
    second = await casavi.call("GET", "", token=token, url=next_url)

    assert len(first.body["data"]) == 25
    assert next_url == sim.casavi_url + "/v2/units?includeInactiveContracts=true&page=1"
    assert [u["id"] for u in second.body["data"]] == [f"P-1002-10{i}" for i in range(20, 25)]
    assert second.body["_links"] == {}


@pytest.mark.parametrize(
    ("style", "expected"),
    [("url", None), ("path", "/casavi/v2/units?page=1"), ("page", 1)],
)
async def test_the_form_of_the_next_link(
    casavi: CasaviHttp, sim: Simulator, style: Any, expected: Any
) -> None:
    sim.casavi.link_style = style
    for i in range(30):
        sim.casavi.add_unit("P-1001", f"P-1001-1{i:03d}", f"Flat {i}")

    reply = await casavi.call("GET", "/v2/units", token=await casavi.token())

    assert reply.body["_links"]["next"] == (expected or sim.casavi_url + "/v2/units?page=1")


@pytest.mark.parametrize("page", ["-1", "abc", "1.5"])
async def test_a_bad_page_is_invalid_data(casavi: CasaviHttp, page: str) -> None:
    reply = await casavi.call("GET", "/v2/properties", token=await casavi.token(), params={"page": page})

    assert reply.status == 400
    assert reply.body == boom(
        400, "Bad Request", "Invalid data supplied", validation={"source": "query", "keys": ["page"]}
    )


async def test_a_page_past_the_end_is_empty(casavi: CasaviHttp) -> None:
    reply = await casavi.call("GET", "/v2/properties", token=await casavi.token(), params={"page": "3"})

    assert reply.body == {"data": [], "_links": {}}


# --- request log, faults, state -----------------------------------------------------------------------------


async def test_requests_are_logged_and_faults_use_the_casavi_shape(
    casavi: CasaviHttp, sim: Simulator
) -> None:
    token = await casavi.token()
    sim.faults.inject("/casavi/v2/appointments", status=503, times=1)

    failed = await casavi.call("GET", "/v2/appointments", token=token)
    ok = await casavi.call("GET", "/v2/appointments", token=token)

    assert (failed.status, failed.body) == (503, boom(503, "Service Unavailable", "Injected fault: HTTP 503"))
    assert ok.status == 200
    assert [(r.method, r.path, r.status) for r in sim.requests_for("/casavi/")] == [
        ("POST", "/casavi/v2/authenticate", 200),
        ("GET", "/casavi/v2/appointments", 503),
        ("GET", "/casavi/v2/appointments", 200),
    ]
    assert sim.requests_for("/casavi/")[0].body == {"key": "sim-casavi-key", "secret": "sim-casavi-secret"}


async def test_sim_state_summarises_casavi(casavi: CasaviHttp, sim: Simulator) -> None:
    await casavi.token()

    reply = await casavi.call("GET", "", url=sim.base_url + "/_sim/state")  # type: ignore[operator]

    assert reply.body["vendors"]["casavi"] == {
        "prefix": "/casavi",
        "key": "sim-casavi-key",
        "secret": "sim-casavi-secret",
        "tenant": "4711",
        "token_ttl_seconds": 3600.0,
        "tokens_issued": 1,
        "properties": 2,
        "units": 5,
        "appointments": 4,
        "tickets": 5,
    }


# --- seeding ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "units", "tickets"), [(1, 3, 3), (2, 5, 5), (3, 7, 6)])
def test_the_seeded_fleet_sizes(count: int, units: int, tickets: int) -> None:
    state = CasaviState(clock=Clock(SIM_NOW))

    build_casavi_fleet(state, now=SIM_NOW, properties=count)

    assert list(state.properties) == ["P-1001", "P-1002", "P-1003"][:count]
    assert (len(state.units), len(state.tickets)) == (units, tickets)
    assert state.appointments["appointment-owners"]["propertyIds"] == list(state.properties)


@pytest.mark.parametrize("count", [0, 4])
def test_the_seeded_fleet_has_one_to_three_properties(count: int) -> None:
    with pytest.raises(ValueError, match="properties must be 1..3"):
        build_casavi_fleet(CasaviState(clock=Clock(SIM_NOW)), now=SIM_NOW, properties=count)


def test_ticket_states_are_checked() -> None:
    state = CasaviState(clock=Clock(SIM_NOW))
    build_casavi_fleet(state, now=SIM_NOW, properties=1)

    with pytest.raises(ValueError, match="status must be one of"):
        state.add_ticket("P-1001", "x", status="DONE")
    with pytest.raises(ValueError, match="status must be one of"):
        state.set_ticket_status("T-1", "open")
    assert state.set_ticket_status("T-1", "CLOSED")["status"] == "CLOSED"


def test_casavi_time_has_milliseconds() -> None:
    assert casavi_time(SIM_NOW + timedelta(microseconds=891_500)) == "2026-03-14T12:00:00.891Z"
