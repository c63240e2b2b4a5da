"""The client methods the access-code engine added, against the simulator: Nuki keypad code update
(``POST /smartlock/{id}/auth/{authId}``) and UniFi Access visitor update (``PUT /visitors/{id}``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from custom_components.kasify.api.errors import (
    BusyError,
    MalformedResponseError,
    NotFoundError,
    ValidationError,
)
from custom_components.kasify.api.nuki import NukiClient
from custom_components.kasify.api.unifi_access import UnifiAccessClient
from simulator import Simulator, serve_unifi_https
from simulator.nuki import NUKI_TOKEN, NukiError

from .providers import END, LOFT_ID, START

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def test_nuki_update_keypad_code(simulator: Simulator, session: aiohttp.ClientSession) -> None:
    """The window and name change, the PIN stays; errors map to the client's exceptions."""
    simulator.nuki.auth_delay = 0
    client = NukiClient(session, NUKI_TOKEN, base_url=simulator.nuki_url, auth_poll_delays=(0,))
    code = await client.create_keypad_code(
        LOFT_ID, name="Ana", code=483926, allowed_from=START, allowed_until=END
    )

    await client.update_keypad_code(
        LOFT_ID,
        code.id,
        name="Ana B",
        allowed_from=START,
        allowed_until=END + timedelta(days=1),
        enabled=False,
    )
    auth = simulator.nuki.auths[code.id]
    assert (auth["name"], auth["code"], auth["enabled"]) == ("Ana B", 483926, False)
    assert auth["allowedUntilDate"] == "2026-03-19T12:00:00.000Z"
    assert simulator.requests[-1].body == {
        "name": "Ana B",
        "allowedFromDate": "2026-03-15T12:00:00.000Z",
        "allowedUntilDate": "2026-03-19T12:00:00.000Z",
        "enabled": False,
    }
    # Only the name: the window stays.
    await client.update_keypad_code(LOFT_ID, code.id, name="Ana")
    assert simulator.nuki.auths[code.id]["allowedUntilDate"] == "2026-03-19T12:00:00.000Z"

    with pytest.raises(ValidationError):  # refused before any request
        await client.update_keypad_code(LOFT_ID, code.id, name="Ana", allowed_from=END, allowed_until=START)
    with pytest.raises(ValidationError):
        await client.update_keypad_code(LOFT_ID, code.id, name="")
    with pytest.raises(NotFoundError):
        await client.update_keypad_code(LOFT_ID, "65ff00000000000000000077", name="Ana")
    simulator.nuki.set_lock(LOFT_ID, busy=True)
    with pytest.raises(BusyError):
        await client.update_keypad_code(LOFT_ID, code.id, name="Ana")


async def test_nuki_simulator_update_rules(simulator: Simulator) -> None:
    """The simulated update checks the body like creation does."""
    state = simulator.nuki
    state.auth_delay = 0
    first = state.add_auth(LOFT_ID, "Uno", code=483926)
    second = state.add_auth(LOFT_ID, "Dos", code=739152, allowed_from=START, allowed_until=END)
    for body in (
        {"name": ""},
        {"name": "Dos", "enabled": "yes"},
        {"name": "Dos", "code": 483926},  # another code's PIN
        {"name": "Dos", "code": 120000},
        {"name": "Dos", "allowedUntilDate": "2026-03-15T11:00:00.000Z"},  # before the start
    ):
        with pytest.raises(NukiError) as err:
            state.update_auth(LOFT_ID, second["id"], body)
        assert err.value.status == 400
    state.update_auth(LOFT_ID, second["id"], {"name": "Dos", "code": 739153, "allowedWeekDays": 64})
    assert (second["code"], second["allowedWeekDays"]) == (739153, 64)
    assert first["code"] == 483926


async def test_unifi_update_visitor(simulator: Simulator, session: aiohttp.ClientSession) -> None:
    """The visit moves, its PIN stays; bad windows are refused before any request."""
    async with serve_unifi_https(simulator) as endpoint:
        client = UnifiAccessClient(
            session, endpoint.host, endpoint.token, port=endpoint.port, fingerprint=endpoint.fingerprint
        )
        door_id = next(iter(simulator.unifi.doors))
        visitor = await client.create_timed_pin(
            name="Ana García", pin="483926", starts_at=START, ends_at=END, door_ids=[door_id]
        )
        moved = await client.update_visitor(visitor.id, starts_at=START, ends_at=END + timedelta(days=1))
        assert moved.ends_at == END + timedelta(days=1)
        assert moved.has_pin
        assert simulator.unifi.pins[visitor.id] == "483926"
        only_end = await client.update_visitor(visitor.id, ends_at=END)
        assert (only_end.starts_at, only_end.ends_at) == (START, END)
        with pytest.raises(ValueError, match="after"):
            await client.update_visitor(visitor.id, starts_at=END, ends_at=START)
        with pytest.raises(ValidationError):  # the controller refuses an end before the start
            await client.update_visitor(visitor.id, ends_at=START - timedelta(days=1))
        with pytest.raises(NotFoundError):
            await client.update_visitor("no-such-visitor", ends_at=END)


async def test_unifi_list_visitors_pages(simulator: Simulator, session: aiohttp.ClientSession) -> None:
    """Every visitor, over as many pages as needed; a body that is not a list is refused."""
    async with serve_unifi_https(simulator) as endpoint:
        client = UnifiAccessClient(
            session, endpoint.host, endpoint.token, port=endpoint.port, fingerprint=endpoint.fingerprint
        )
        door_id = next(iter(simulator.unifi.doors))
        created = [
            await client.create_timed_pin(
                name=f"Guest {n}", pin=f"48392{n}", starts_at=START, ends_at=END, door_ids=[door_id]
            )
            for n in range(5)
        ]
        simulator.reset_requests()
        listed = await client.list_visitors(page_size=2)
        assert [visitor.id for visitor in listed] == [visitor.id for visitor in created]
        assert all(visitor.has_pin for visitor in listed)
        assert simulator.count_requests("/api/v1/developer/visitors", "GET") == 3
        simulator.faults.inject(
            "/api/v1/developer/visitors", method="GET", status=200, body='{"code": "SUCCESS", "data": {}}'
        )
        with pytest.raises(MalformedResponseError):
            await client.list_visitors()
