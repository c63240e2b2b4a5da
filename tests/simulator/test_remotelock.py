"""The RemoteLock simulator over loopback: OAuth and rotation, auth, rate limit, devices, events, access.

Most tests drive it with the integration's own client, so the client and the simulator check each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
import json
import math
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
import pytest

from custom_components.kasify.api.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    OAuthGrantError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    SubscriptionRequiredError,
    ValidationError,
)
from custom_components.kasify.api.models import LockStatus
from custom_components.kasify.api.ratelimit import SlidingWindowLimiter
from custom_components.kasify.api.remotelock import (
    ACCEPT,
    WEBHOOK_EVENTS,
    ClientCredentialsAuth,
    OAuthToken,
    RefreshTokenAuth,
    RemoteLockClient,
    exchange_authorization_code,
    parse_webhook_event,
    token_url,
    webhook_secret_matches,
)
from simulator import Simulator, SimulatorConfig
from simulator.kasify_state import Json
from simulator.remotelock import (
    CLIENT_SECRET,
    OOB_REDIRECT_URI,
    RemoteLockState,
    WebhookDelivery,
    deliver_webhook,
)

from .conftest import SIM_NOW

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def state(sim: Simulator) -> RemoteLockState:
    return sim.remotelock


def sim_clock(sim: Simulator) -> float:
    return sim.now().timestamp()


@pytest.fixture
def client(sim: Simulator, session: aiohttp.ClientSession) -> RemoteLockClient:
    """A client with a day-long token issued directly by the state (no OAuth round trip)."""
    sim.remotelock.access_token_ttl = 86_400
    token = sim.remotelock.issue_tokens()["access_token"]
    sim.remotelock.access_token_ttl = 7200

    async def get() -> str:
        return str(token)

    return RemoteLockClient(
        session, get, base_url=sim.remotelock_api_url, timeout=2.0, wall_clock=lambda: sim_clock(sim)
    )


async def call(
    session: aiohttp.ClientSession,
    url: str,
    method: str = "GET",
    *,
    token: str | None = None,
    accept: str | None = ACCEPT,
    json_body: Any = None,
    data: dict[str, str] | None = None,
    params: Any = None,
    redirects: bool = True,
) -> Reply:
    headers: dict[str, str] = {}
    if accept is not None:
        headers["Accept"] = accept
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with session.request(
        method, url, headers=headers, json=json_body, data=data, params=params, allow_redirects=redirects
    ) as resp:
        text = await resp.text()
        try:
            body: Any = json.loads(text) if text else None
        except ValueError:
            body = text
        return Reply(resp.status, body, dict(resp.headers))


def form(state: RemoteLockState, **fields: str) -> dict[str, str]:
    return {"client_id": state.client_id, "client_secret": state.client_secret, **fields}


# --- serving ------------------------------------------------------------------------------------------------


async def test_urls_summary_and_seeded_fleet(sim: Simulator, state: RemoteLockState) -> None:
    assert sim.base_url is not None
    assert sim.remotelock_api_url == sim.base_url + "/remotelock/api"
    assert sim.remotelock_oauth_url == sim.base_url + "/remotelock/connect"
    summary = sim.summary()["vendors"]["remotelock"]
    assert summary["prefix"] == "/remotelock"
    assert (summary["locations"], summary["devices"], summary["locks"]) == (4, 6, 4)
    names = [loc["attributes"]["name"] for loc in state.locations.values()]
    assert names[:3] == [sim.kasify.property_at(i)["name"] for i in range(3)]  # same names as the properties
    assert state.locations[next(iter(state.locations))]["attributes"]["time_zone"] == str(
        sim.kasify.property_zone(sim.kasify.property_at(0)["id"]).key
    )


def test_not_serving_has_no_url() -> None:
    sim = Simulator()
    with pytest.raises(RuntimeError):
        _ = sim.remotelock_api_url


async def test_small_fleets_get_fewer_locks(socket_enabled: None) -> None:
    for properties, locks in ((0, 1), (1, 2), (2, 3)):
        sim = Simulator(SimulatorConfig(properties=properties, seed=1, now=SIM_NOW))
        assert sim.summary()["vendors"]["remotelock"]["locks"] == locks


# --- API auth, Accept header, error shapes ------------------------------------------------------------------


async def test_accept_and_bearer_are_required(sim: Simulator, session: aiohttp.ClientSession) -> None:
    url = sim.remotelock_api_url + "/user"
    token = sim.remotelock.issue_tokens()["access_token"]
    no_accept = await call(session, url, token=token, accept="application/json")
    assert no_accept.status == 406
    assert no_accept.body["type"] == "not_acceptable"
    for accept in ("application/vnd.lockstate+json; version=1", "application/vnd.remotelock.v1+json", ACCEPT):
        assert (await call(session, url, token=token, accept=accept)).status == 200
    missing = await call(session, url)
    assert missing.status == 401
    wrong = await call(session, url, token="nope")
    assert (wrong.status, wrong.body["type"]) == (403, "invalid_token")
    for reply in (no_accept, missing, wrong):
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(reply.headers)
    unknown = await call(session, sim.remotelock_api_url + "/nothing", token=token)
    assert (unknown.status, set(unknown.body)) == (404, {"message", "type"})


async def test_user_account_and_locations(client: RemoteLockClient, sim: Simulator) -> None:
    user = await client.get_user()
    account = await client.get_account()
    assert user.account_id == account.id == sim.remotelock.account["id"]
    locations = await client.list_locations()
    assert [loc.name for loc in locations] == sorted(loc.name for loc in locations)
    assert "Oficina Sol y Mar" in {loc.name for loc in locations}


# --- OAuth --------------------------------------------------------------------------------------------------


async def test_authorize_redirects_with_a_code(sim: Simulator, session: aiohttp.ClientSession) -> None:
    state = sim.remotelock
    redirect = "https://ha.local/auth/external/callback"
    params = {"client_id": state.client_id, "response_type": "code", "redirect_uri": redirect, "state": "abc"}
    reply = await call(session, sim.remotelock_oauth_url + "/oauth/authorize", params=params, redirects=False)
    assert reply.status == 302
    location = reply.headers["Location"]
    assert location.startswith(redirect + "?code=")
    assert location.endswith("&state=abc")
    code = location.split("code=")[1].split("&")[0]
    token = await exchange_authorization_code(
        session,
        token_url(sim.remotelock_oauth_url),
        client_id=state.client_id,
        client_secret=state.client_secret,
        code=code,
        redirect_uri=redirect,
        clock=lambda: sim_clock(sim),
    )
    assert token.refresh_token is not None
    assert token.expires_at == sim_clock(sim) + 7200
    oob = await call(
        session,
        sim.remotelock_oauth_url + "/oauth/authorize",
        params={**params, "redirect_uri": OOB_REDIRECT_URI},
    )
    assert oob.status == 200
    assert set(oob.body) == {"code", "state"}


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"client_id": "other"}, 401, "invalid_client"),
        ({"response_type": "token"}, 400, "unsupported_response_type"),
        ({"redirect_uri": ""}, 400, "invalid_request"),
    ],
)
async def test_authorize_refusals(
    sim: Simulator, session: aiohttp.ClientSession, params: dict[str, str], status: int, error: str
) -> None:
    query = {
        "client_id": sim.remotelock.client_id,
        "response_type": "code",
        "redirect_uri": "https://x",
        **params,
    }
    reply = await call(session, sim.remotelock_oauth_url + "/oauth/authorize", params=query)
    assert (reply.status, reply.body["error"]) == (status, error)


async def test_token_endpoint_refusals(sim: Simulator, session: aiohttp.ClientSession) -> None:
    state = sim.remotelock
    url = token_url(sim.remotelock_oauth_url)
    code = state.issue_authorization_code("https://ha.local/cb")
    wrong_uri = await call(
        session,
        url,
        "POST",
        data=form(state, grant_type="authorization_code", code=code, redirect_uri="https://x"),
    )
    assert (wrong_uri.status, wrong_uri.body["error"]) == (400, "invalid_grant")
    ok = await call(session, url, "POST", data=form(state, grant_type="authorization_code", code=code))
    assert ok.status == 200
    reused = await call(session, url, "POST", data=form(state, grant_type="authorization_code", code=code))
    assert (reused.status, reused.body["error"]) == (400, "invalid_grant")
    late = state.issue_authorization_code()
    sim.advance(timedelta(minutes=10))
    expired = await call(session, url, "POST", data=form(state, grant_type="authorization_code", code=late))
    assert expired.body["error"] == "invalid_grant"
    bad_client = await call(
        session,
        url,
        "POST",
        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
    )
    assert (bad_client.status, bad_client.body["error"]) == (401, "invalid_client")
    unsupported = await call(session, url, "POST", data=form(state, grant_type="password"))
    assert (unsupported.status, unsupported.body["error"]) == (400, "unsupported_grant_type")


async def test_client_credentials_in_a_basic_header(sim: Simulator, session: aiohttp.ClientSession) -> None:
    state = sim.remotelock
    auth = aiohttp.BasicAuth(state.client_id, state.client_secret)
    async with session.post(
        token_url(sim.remotelock_oauth_url), data={"grant_type": "client_credentials"}, auth=auth
    ) as resp:
        body = await resp.json()
    assert resp.status == 200
    assert "refresh_token" not in body
    async with session.post(
        token_url(sim.remotelock_oauth_url),
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic !!!"},
    ) as resp:
        assert resp.status == 401


async def test_refresh_token_rotation_and_expiry(sim: Simulator, session: aiohttp.ClientSession) -> None:
    """Refresh twice (on expiry, then on a 403); the first refresh token is dead after its one use."""
    state = sim.remotelock
    state.access_token_ttl = 600
    issued = state.issue_tokens()
    first = OAuthToken.from_dict(issued, sim_clock(sim))
    persisted: list[OAuthToken] = []

    async def persist(token: OAuthToken) -> None:
        persisted.append(token)

    auth_clock = [sim_clock(sim)]
    auth = RefreshTokenAuth(
        session,
        token_url(sim.remotelock_oauth_url),
        state.client_id,
        state.client_secret,
        first,
        on_new_token=persist,
        clock=lambda: auth_clock[0],
    )
    client = RemoteLockClient(
        session, auth, base_url=sim.remotelock_api_url, wall_clock=lambda: sim_clock(sim)
    )
    await client.get_user()

    # 1. Expired as the client sees it: it refreshes before the request.
    sim.advance(timedelta(seconds=600))
    auth_clock[0] = sim_clock(sim)
    await client.get_user()
    # 2. Expired upstream while the client still believes in it: 403, refresh, retry.
    sim.advance(timedelta(seconds=600))
    await client.get_user()

    assert len(persisted) == 2
    assert len({first.refresh_token, *(t.refresh_token for t in persisted)}) == 3
    assert [r.status for r in sim.requests_for("/remotelock/api/user")] == [200, 200, 403, 200]
    assert sim.count_requests("/remotelock/connect/oauth/token", "POST") == 2

    stale = RefreshTokenAuth(
        session,
        token_url(sim.remotelock_oauth_url),
        state.client_id,
        state.client_secret,
        OAuthToken("dead", expires_at=0.0, refresh_token=first.refresh_token),
        on_new_token=persist,
    )
    with pytest.raises(OAuthGrantError) as caught:
        await stale.access_token()
    assert caught.value.error == "invalid_grant"


async def test_revoked_authorization_needs_reauth(sim: Simulator, session: aiohttp.ClientSession) -> None:
    state = sim.remotelock
    token = OAuthToken.from_dict(state.issue_tokens(), sim_clock(sim))

    async def persist(token: OAuthToken) -> None:  # pragma: no cover - refresh fails first
        raise AssertionError

    auth = RefreshTokenAuth(
        session,
        token_url(sim.remotelock_oauth_url),
        state.client_id,
        state.client_secret,
        token,
        on_new_token=persist,
    )
    client = RemoteLockClient(session, auth, base_url=sim.remotelock_api_url)
    state.revoke_authorization()
    with pytest.raises(OAuthGrantError):  # 403, then the refresh is refused: reauth
        await client.get_user()


async def test_client_credentials_token_is_requested_again_on_expiry(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    state = sim.remotelock
    state.access_token_ttl = 120
    auth = ClientCredentialsAuth(
        session,
        token_url(sim.remotelock_oauth_url),
        state.client_id,
        CLIENT_SECRET,
        clock=lambda: sim_clock(sim),
    )
    client = RemoteLockClient(session, auth, base_url=sim.remotelock_api_url)
    await client.get_account()
    await client.get_account()
    sim.advance(timedelta(seconds=61))  # inside the 60 s leeway of the 120 s token
    await client.get_account()
    assert sim.count_requests("/remotelock/connect/oauth/token") == 2
    assert auth.token is not None
    assert auth.token.refresh_token is None


async def test_revoke_endpoint(sim: Simulator, session: aiohttp.ClientSession) -> None:
    state = sim.remotelock
    token = state.issue_tokens()["access_token"]
    url = sim.remotelock_oauth_url + "/oauth/revoke"
    refused = await call(session, url, "POST", data={"token": token, "client_id": "x", "client_secret": "y"})
    assert refused.status == 401
    reply = await call(session, url, "POST", data=form(state, token=token))
    assert (reply.status, reply.body) == (200, {})
    assert (await call(session, sim.remotelock_api_url + "/user", token=token)).status == 403


# --- rate limit ---------------------------------------------------------------------------------------------


async def test_the_server_enforces_120_per_minute(
    sim: Simulator, session: aiohttp.ClientSession, client: RemoteLockClient
) -> None:
    client.limiter = SlidingWindowLimiter(1000)  # let the client burst, to see the server say no
    for _ in range(120):
        await client.get_account()
    assert client.rate_limit_remaining == 0
    client.limiter = SlidingWindowLimiter(1000)  # forget the "remaining: 0" pause the client took
    with pytest.raises(RateLimitedError) as caught:
        await client.get_account()
    assert caught.value.retry_after == 60.0  # SIM_NOW is on a minute boundary: reset in 60 s
    assert client.limiter.paused_until is not None
    records = sim.requests_for("/remotelock/api/account")
    assert [r.status for r in records].count(429) == 1
    sim.advance(timedelta(seconds=60))
    client.limiter = SlidingWindowLimiter(1000)
    await client.get_account()
    sim.remotelock.rate_limit = None
    sim.remotelock.reset_rate_limit()
    assert sim.summary()["vendors"]["remotelock"]["rate_limit_used"] == 0


async def test_the_client_limiter_keeps_a_burst_of_200_under_the_server_limit(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    """The limiter's clock and sleep are the simulator's: 200 calls take one simulated minute, no 429."""

    async def sleep(seconds: float) -> None:
        sim.advance(timedelta(seconds=seconds))

    token = sim.remotelock.issue_tokens()["access_token"]
    sim.remotelock.access_token_ttl = 10**6

    async def get() -> str:
        return str(token)

    limiter = SlidingWindowLimiter(clock=lambda: sim_clock(sim), sleep=sleep)
    client = RemoteLockClient(
        session, get, base_url=sim.remotelock_api_url, limiter=limiter, wall_clock=lambda: sim_clock(sim)
    )
    sim.remotelock.access_tokens[token].expires_at = SIM_NOW + timedelta(days=1)
    stamps: list[float] = []
    for _ in range(200):
        await client.get_user()
        stamps.append(sim_clock(sim))
    statuses = [r.status for r in sim.requests_for("/remotelock/api/user")]
    assert statuses == [200] * 200
    assert stamps[119] - stamps[0] == 0.0
    assert stamps[120] - stamps[0] == 60.0
    per_minute: dict[int, int] = {}
    for stamp in stamps:
        per_minute[math.floor(stamp / 60)] = per_minute.get(math.floor(stamp / 60), 0) + 1
    assert max(per_minute.values()) <= 120


# --- devices ------------------------------------------------------------------------------------------------


async def test_the_type_filter_leaves_other_devices_out(
    sim: Simulator, session: aiohttp.ClientSession, client: RemoteLockClient
) -> None:
    token = sim.remotelock.issue_tokens()["access_token"]
    url = sim.remotelock_api_url + "/devices"
    everything = await call(session, url, token=token)
    assert {d["type"] for d in everything.body["data"]} == {"lock", "zwave_lock", "thermostat", "resort_lock"}
    locks_only = await call(session, url, token=token, params=[("type[]", "lock"), ("type[]", "zwave_lock")])
    assert {d["type"] for d in locks_only.body["data"]} == {"lock", "zwave_lock"}
    assert (await call(session, url, token=token, params={"type": "ResortLock"})).body["meta"][
        "total_count"
    ] == 1

    locks = await client.list_locks()
    assert [lock.name for lock in locks] == ["Puerta de servicio", "Trastero", "Garaje", "Oficina"]
    front, store, garage, _ = locks
    assert (front.status, front.battery_level, front.connected, front.model_number) == (
        LockStatus.LOCKED,
        76,
        True,
        "LS-6i",
    )
    assert (store.type, store.status, store.alive) == ("zwave_lock", LockStatus.UNLOCKED, None)
    assert (garage.connected, garage.alive, garage.battery_level) == (False, False, 12)
    location_names = {loc.id: loc.name for loc in await client.list_locations()}
    assert location_names[front.location_id or ""] == sim.kasify.property_at(0)["name"]
    # The shared log keeps the first value of a repeated key.
    assert sim.requests_for("/remotelock/api/devices")[-1].query == {
        "type[]": "lock",
        "page": "1",
        "per_page": "50",
    }


async def test_locks_page_at_50(sim: Simulator, client: RemoteLockClient) -> None:
    office = next(
        loc["id"]
        for loc in sim.remotelock.locations.values()
        if loc["attributes"]["name"] == "Oficina Sol y Mar"
    )
    for number in range(120):
        sim.remotelock.add_lock(f"Taquilla {number:03d}", office, power_level=number % 100)
    sim.reset_requests()
    locks = await client.list_locks()
    assert len(locks) == 124
    assert sim.count_requests("/remotelock/api/devices", "GET") == 3  # ceil(124 / 50)


async def test_device_query_validation(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = sim.remotelock.issue_tokens()["access_token"]
    url = sim.remotelock_api_url + "/devices"
    for params in ({"per_page": "51"}, {"page": "0"}, {"page": "x"}, {"sort": "power_level"}):
        reply = await call(session, url, token=token, params=params)
        assert (reply.status, reply.body["type"]) == (422, "invalid_parameter"), params
    by_name = await call(session, url, token=token, params={"sort": "-name", "per_page": "2", "page": "2"})
    assert by_name.body["meta"] == {"page": 2, "per_page": 2, "total_pages": 3, "total_count": 6}
    lock_id = next(iter(sim.remotelock.devices))
    location = sim.remotelock.devices[lock_id]["attributes"]["location_id"]
    one = await call(session, url, token=token, params={"id[]": lock_id})
    assert [d["id"] for d in one.body["data"]] == [lock_id]
    here = await call(session, url, token=token, params={"attributes[location_id]": location})
    assert [d["id"] for d in here.body["data"]] == [lock_id]
    far = await call(session, url, token=token, params={"page": "300", "per_page": "50"})
    assert far.body["data"] == []


async def test_lock_and_unlock(sim: Simulator, client: RemoteLockClient) -> None:
    front, store, *_ = await client.list_locks()
    unlocked = await client.unlock(front.id)
    assert unlocked.status == LockStatus.UNLOCKED
    assert (await client.get_lock(front.id)).status == LockStatus.UNLOCKED
    locked = await client.lock(store.id)
    assert locked.status == LockStatus.LOCKED
    batch = await client.list_events()
    assert [(e.type, e.lock_id, e.source) for e in batch.events[-2:]] == [
        ("unlocked", front.id, "user"),
        ("locked", store.id, "user"),
    ]


async def test_lock_errors(sim: Simulator, client: RemoteLockClient) -> None:
    state = sim.remotelock
    thermostat = next(d["id"] for d in state.devices.values() if d["type"] == "thermostat")
    with pytest.raises(ValidationError) as caught:
        await client.lock(thermostat)
    assert caught.value.fields == {"base": ["thermostat does not support lock"]}
    with pytest.raises(NotFoundError):
        await client.unlock("no-such-lock")
    front = next(iter(state.devices))
    state.restricted.add(front)
    with pytest.raises(PermissionDeniedError):
        await client.unlock(front)
    state.restricted.clear()
    state.remove_device(front)
    with pytest.raises(NotFoundError):
        await client.get_lock(front)


# --- events -------------------------------------------------------------------------------------------------


async def test_seeded_events_and_pins_dropped(
    sim: Simulator, session: aiohttp.ClientSession, client: RemoteLockClient
) -> None:
    token = sim.remotelock.issue_tokens()["access_token"]
    raw = await call(session, sim.remotelock_api_url + "/events", token=token)
    assert raw.body["data"][0]["type"] == "access_denied_event"  # default order: newest occurrence first
    assert {item["attributes"].get("pin") for item in raw.body["data"]} >= {
        "2468",
        "0000",
    }  # the feed has them
    one = await call(session, sim.remotelock_api_url + f"/events/{raw.body['data'][0]['id']}", token=token)
    assert one.body["data"] == raw.body["data"][0]
    assert (await call(session, sim.remotelock_api_url + "/events/nope", token=token)).status == 404

    batch = await client.list_events()
    assert "2468" not in repr(batch)
    assert [e.type for e in batch.events] == [
        "power_level_low",  # occurred 26 h ago, created 2 h ago (the lock was offline)
        "access_person_used",
        "unlocked",
        "locked",
        "access_denied",
    ]
    guest = next(iter(sim.remotelock.access_persons))
    used = batch.events[1]
    assert (used.access_person_id, used.method) == (guest, "pin")
    assert batch.cursor == batch.events[0].id  # created last

    with pytest.raises(ValidationError):
        await client._request("GET", "/events", params=[("sort", "name")])


async def test_new_events_since_the_cursor(sim: Simulator, client: RemoteLockClient) -> None:
    state = sim.remotelock
    first = await client.list_events()
    front = next(iter(state.devices))
    events = state.use_pin(front, "2468")  # the guest in the house
    assert [e["type"] for e in events] == ["access_person_used_event", "unlocked_event"]
    denied = state.use_pin(front, "1111")
    assert [e["type"] for e in denied] == ["access_denied_event"]
    sim.advance(timedelta(seconds=5))
    state.set_lock(front, power_level=9)
    state.add_event("power_level_low", front)
    batch = await client.list_events(since_id=first.cursor)
    assert [e.type for e in batch.events] == [
        "access_person_used",
        "unlocked",
        "access_denied",
        "power_level_low",
    ]
    assert batch.events[-1].power_level == 9
    assert sim.count_requests("/remotelock/api/events") == 2  # one per poll
    again = await client.list_events(since_id=batch.cursor)
    assert again.events == ()


async def test_webhook_delivery_with_the_secret(sim: Simulator, session: aiohttp.ClientSession) -> None:
    received: list[Any] = []

    async def hook(request: web.Request) -> web.Response:
        if not webhook_secret_matches(request.headers.get("X-Secret"), "hook-secret"):
            return web.Response(status=401)
        received.append(await request.json())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/hook"
        state = sim.remotelock
        event = state.add_event("unlocked", next(iter(state.devices)), method="pin", pin="2468")
        payload = state.webhook_payload(event["id"])
        assert await deliver_webhook(session, url, "hook-secret", payload) == 200
        assert await deliver_webhook(session, url, "wrong", payload) == 401
        assert await deliver_webhook(session, url, None, payload) == 401
    finally:
        await runner.cleanup()
    (body,) = received
    pushed = parse_webhook_event(body)
    assert pushed.id == event["id"]
    assert pushed.type == "unlocked"
    with pytest.raises(Exception, match="not found"):
        state.webhook_payload("nope")


# --- access guests ------------------------------------------------------------------------------------------


async def test_access_guest_lifecycle(sim: Simulator, client: RemoteLockClient) -> None:
    state = sim.remotelock
    front = next(iter(state.devices))
    zone = state.zone_of_device(front)
    local_now = SIM_NOW.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    guest = await client.create_access_guest(
        "Ana García", local_now + timedelta(hours=3), local_now + timedelta(days=3), generate_pin=True
    )
    assert guest.status == "upcoming"
    assert guest.pin is not None
    assert len(guest.pin) == 6
    access = await client.grant_access(guest.id, front)
    assert (access.devices_count, access.sync_status) == (1, "pending")
    sim.advance(timedelta(seconds=29))
    assert (await client.get_access(guest.id, access.id)).sync_status == "pending"
    sim.advance(timedelta(seconds=1))
    synced = await client.get_access(guest.id, access.id)
    assert (synced.sync_status, synced.devices_synced_count) == ("synced", 1)
    batch = await client.list_events(occurred_after=SIM_NOW)
    assert [(e.type, e.access_person_id) for e in batch.events] == [("access_person_synced", guest.id)]

    sim.advance(timedelta(hours=3))
    assert (await client.get_access_person(guest.id)).status == "current"
    opened = state.use_pin(front, guest.pin)
    assert opened[-1]["attributes"]["method"] == "pin"
    assert [p.id for p in await client.list_access_guests()] == [next(iter(state.access_persons)), guest.id]

    with pytest.raises(ConflictError):
        await client.grant_access(guest.id, front)
    updated = await client.update_access_guest(guest.id, name="Ana G.", ends_at=local_now + timedelta(days=4))
    assert (updated.name, updated.ends_at) == ("Ana G.", local_now + timedelta(days=4))

    deactivated = await client.deactivate_access_person(guest.id)
    assert deactivated.status == "deactivated"
    assert guest.id not in [p.id for p in await client.list_access_guests()]
    assert guest.id in [p.id for p in await client.list_access_guests(["deactivated"])]
    with pytest.raises(ValidationError):  # a deactivated guest cannot be changed any more
        await client.update_access_guest(guest.id, name="again")
    denied = state.use_pin(front, guest.pin)
    assert denied[-1]["type"] == "access_denied_event"

    await client.revoke_access(guest.id, access.id)
    assert await client.list_accesses(guest.id) == []
    await client.delete_access_person(guest.id)
    with pytest.raises(NotFoundError):
        await client.get_access_person(guest.id)


async def test_a_new_guest_is_judged_in_the_zone_of_the_lock_it_is_granted(
    sim: Simulator, client: RemoteLockClient
) -> None:
    """A guest's times are lock-local: a guest made for a lock in Lisbon whose stay ends in half an hour there
    (already past in Madrid, the account's zone) can still be granted that lock; one whose stay is over there
    cannot."""
    state = sim.remotelock
    lisbon = state.add_location("Casa do Rio", time_zone="Europe/Lisbon")
    door = state.add_lock("Entrada", lisbon["id"])
    zone = ZoneInfo("Europe/Lisbon")
    stay = await client.create_access_guest(
        "Rita Sousa",
        SIM_NOW - timedelta(days=2),
        SIM_NOW + timedelta(minutes=30),
        pin="24681",
        time_zone=zone,
    )
    access = await client.grant_access(stay.id, door["id"])
    assert access.devices_count == 1
    assert (await client.get_access_person(stay.id)).status == "current"
    over = await client.create_access_guest(
        "Rui Lopes", SIM_NOW - timedelta(days=2), SIM_NOW - timedelta(minutes=1), pin="13572", time_zone=zone
    )
    with pytest.raises(ValidationError, match="no longer active"):
        await client.grant_access(over.id, door["id"])


async def test_offline_and_failing_locks_and_locations(sim: Simulator, client: RemoteLockClient) -> None:
    state = sim.remotelock
    _, _, garage, office = await client.list_locks()
    guest = await client.create_access_guest(
        "Luis", SIM_NOW, SIM_NOW + timedelta(days=2), pin="97531", time_zone=ZoneInfo("Europe/Madrid")
    )
    offline = await client.grant_access(guest.id, garage.id)
    sim.advance(timedelta(minutes=5))
    assert (await client.get_access(guest.id, offline.id)).sync_status == "pending"  # asleep
    state.set_lock(garage.id, connected=True)
    assert (await client.get_access(guest.id, offline.id)).sync_status == "synced"
    late = [e.type for e in (await client.list_events(occurred_after=SIM_NOW)).events]
    assert late == ["access_person_synced", "access_guest_late_sync"]

    state.failing_sync.add(office.id)
    failing = await client.grant_access(guest.id, office.id)
    sim.advance(timedelta(minutes=1))
    assert (await client.get_access(guest.id, failing.id)).sync_status == "failed"
    assert office.location_id is not None
    whole = await client.grant_access(guest.id, office.location_id, accessible_type="location")
    assert whole.devices_count == 1
    accesses = await client.list_lock_accesses(garage.id)
    assert [a.id for a in accesses] == [offline.id]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"type": "access_guest", "attributes": {"name": " ", "pin": "1234"}},
            {"name", "starts_at", "ends_at"},
        ),
        ({"type": "visitor", "attributes": {"name": "x", "pin": "1234"}}, {"type"}),
        (
            {
                "type": "access_guest",
                "attributes": {
                    "name": "x",
                    "starts_at": "2026-03-15T10:00:00",
                    "ends_at": "2026-03-14T10:00:00",
                },
            },
            {"ends_at", "base"},
        ),
        (
            {
                "type": "access_guest",
                "attributes": {"name": "x", "starts_at": 5, "ends_at": "soon", "pin": "12"},
            },
            {"starts_at", "ends_at", "pin"},
        ),
        ({"type": "access_user", "attributes": {"name": "x", "pin": "2468", "email": 5}}, {"pin", "email"}),
    ],
)
async def test_create_validation_gives_resource_errors(
    sim: Simulator, session: aiohttp.ClientSession, body: dict[str, Any], fields: set[str]
) -> None:
    token = sim.remotelock.issue_tokens()["access_token"]
    reply = await call(
        session, sim.remotelock_api_url + "/access_persons", "POST", token=token, json_body=body
    )
    assert reply.status == 422
    assert reply.body["attributes"] == body["attributes"]
    assert {e["attribute"] or "base" for e in reply.body["errors"]} == fields
    for error in reply.body["errors"]:
        assert error["full_messages"]


async def test_access_person_odds_and_ends(
    sim: Simulator, session: aiohttp.ClientSession, client: RemoteLockClient
) -> None:
    state = sim.remotelock
    token = state.issue_tokens()["access_token"]
    url = sim.remotelock_api_url + "/access_persons"
    user = await call(
        session,
        url,
        "POST",
        token=token,
        json_body={"type": "access_user", "attributes": {"name": "Owner", "card_number": "555"}},
    )
    assert (user.status, user.body["data"]["attributes"]["status"]) == (201, "current")
    person = user.body["data"]["id"]
    for body, status in (
        ("not json", 400),
        ([1], 400),
        ({"attributes": [1]}, 400),
    ):
        async with session.post(
            url,
            data=json.dumps(body) if not isinstance(body, str) else body,
            headers={
                "Accept": ACCEPT,
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            },
        ) as resp:
            assert resp.status == status
    async with session.post(
        url,
        data="name=x",
        headers={"Accept": ACCEPT, "Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
    ) as resp:
        assert resp.status == 415
    bad_grant = await call(
        session,
        f"{url}/{person}/accesses",
        "POST",
        token=token,
        json_body={
            "attributes": {"accessible_type": "lock", "accessible_id": "nope", "guest_start_time": "25:00"}
        },
    )
    assert {e["attribute"] for e in bad_grant.body["errors"]} == {"accessible_id", "guest_start_time"}
    wrong_type = await call(
        session,
        f"{url}/{person}/accesses",
        "POST",
        token=token,
        json_body={"attributes": {"accessible_type": "door"}},
    )
    assert wrong_type.status == 422
    front = next(iter(state.devices))
    timed = await client.grant_access(person, front, guest_start_time=datetime(2026, 1, 1, 9, 30).time())
    assert timed.guest_start_time == "09:30:00"
    taken = await call(
        session, f"{url}/{person}", "PUT", token=token, json_body={"attributes": {"pin": "2468", "name": ""}}
    )
    assert {e["attribute"] for e in taken.body["errors"]} == {"pin", "name"}
    renewed = await call(
        session,
        f"{url}/{person}",
        "PUT",
        token=token,
        json_body={"attributes": {"generate_pin": True, "email": "o@x.es"}},
    )
    assert renewed.status == 200
    assert len(renewed.body["data"]["attributes"]["pin"]) == 6
    with pytest.raises(NotFoundError):
        await client.get_access(person, "nope")
    with pytest.raises(NotFoundError):
        await client.list_accesses("nope")
    state.subscription_required = True
    with pytest.raises(SubscriptionRequiredError) as caught:
        await client.create_access_guest(
            "x", SIM_NOW, SIM_NOW + timedelta(days=1), pin="1357", time_zone=ZoneInfo("UTC")
        )
    assert caught.value.error_type == "billing_subscription_required"
    state.subscription_required = False
    await client.deactivate_access_person(person)
    after = await call(
        session,
        f"{url}/{person}/accesses",
        "POST",
        token=token,
        json_body={"attributes": {"accessible_type": "lock", "accessible_id": front}},
    )
    assert after.body["errors"][0]["attribute"] is None
    expired = state.add_access_person(
        "access_guest", "Past", pin="8080", starts_at="2026-01-01T15:00:00", ends_at="2026-01-03T11:00:00"
    )
    served = state.render_person(expired)
    assert (served["attributes"]["status"], served["meta"]) == ("expired", {"restricted_actions": ["update"]})
    with pytest.raises(ValueError):
        state.add_event("access_person_used", front)
    with pytest.raises(ValueError):
        state.add_lock("Nope", device_type="thermostat")
    state.add_event("connectivity", front)
    with pytest.raises(NotFoundError):
        await client.get_access_person("nope")


async def test_state_helpers_and_remaining_routes(
    sim: Simulator, session: aiohttp.ClientSession, client: RemoteLockClient
) -> None:
    state = sim.remotelock
    token = state.issue_tokens()["access_token"]
    api = sim.remotelock_api_url
    location = next(iter(state.locations.values()))
    got = await call(session, f"{api}/locations/{location['id']}", token=token)
    assert got.body["data"] == location
    assert (await call(session, f"{api}/locations/nope", token=token)).status == 404
    assert (await call(session, f"{api}/user", "DELETE", token=token)).status == 405

    schlage = state.add_lock("Portal", location["id"], device_type="schlage_home_lock", state="unlocked")
    assert schlage["attributes"]["serial_number"].startswith("AC000W")
    assert (await client.lock(schlage["id"])).status == LockStatus.LOCKED

    refresh = state.issue_tokens()["refresh_token"]
    url = sim.remotelock_oauth_url + "/oauth/revoke"
    assert (await call(session, url, "POST", data=form(state, token=refresh))).status == 200
    again = await call(
        session,
        token_url(sim.remotelock_oauth_url),
        "POST",
        data=form(state, grant_type="refresh_token", refresh_token=refresh),
    )
    assert again.body["error"] == "invalid_grant"

    state.expire_access_tokens()
    assert (await call(session, f"{api}/user", token=token)).status == 403

    guest = state.add_access_person(
        "access_guest", "Eva", pin="5555", starts_at=SIM_NOW, ends_at=SIM_NOW + timedelta(days=2)
    )
    access = state.grant(guest["id"], schlage["id"])
    state.delete_person(guest["id"])
    assert access["id"] not in state.accesses
    with pytest.raises(ValueError):
        state.add_access_person("access_guest", "No dates")

    fresh = state.issue_tokens()["access_token"]
    person = state.add_access_person(
        "access_guest", "Leo", pin="6666", starts_at=SIM_NOW, ends_at=SIM_NOW + timedelta(days=2)
    )
    backwards = await call(
        session,
        f"{api}/access_persons/{person['id']}",
        "PUT",
        token=fresh,
        json_body={"attributes": {"ends_at": "2026-03-01T10:00:00"}},
    )
    assert backwards.body["errors"][0]["attribute"] == "ends_at"
    empty = await call(session, f"{api}/access_persons/{person['id']}/accesses", "POST", token=fresh)
    assert empty.status == 422


# --- faults and the request log -----------------------------------------------------------------------------


async def test_faults_apply_under_the_prefix(sim: Simulator, client: RemoteLockClient) -> None:
    fault = sim.faults.inject("/remotelock/api/devices", status=503, times=1)
    with pytest.raises(ServerError) as caught:
        await client.list_locks()
    assert "Injected fault" in str(caught.value)
    (record,) = sim.requests_for("/remotelock/api/devices")
    assert (record.status, record.fault_id) == (503, fault.id)
    sim.faults.inject("/remotelock/api/user", status=429, times=1)
    with pytest.raises(RateLimitedError) as limited:
        await client.get_user()
    assert limited.value.retry_after == 1.0  # the fault's Retry-After
    sim.faults.inject("/remotelock/api/account", status=403, times=2)
    with pytest.raises(AuthError):
        await client.get_account()
    assert len(await client.list_locks()) == 4


# --- notification subscribers, subscriptions and webhook deliveries -----------------------------------------


@dataclass
class Receiver:
    url: str
    secret: str
    received: list[tuple[str | None, Any]]
    status: int = 200


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A tiny webhook endpoint on loopback that records ``(X-Secret, body)`` of every POST."""
    hook = Receiver(url="", secret="hook-secret-4711", received=[])

    async def handle(request: web.Request) -> web.Response:
        hook.received.append((request.headers.get("X-Secret"), await request.json()))
        ok = webhook_secret_matches(request.headers.get("X-Secret"), hook.secret)
        return web.Response(status=hook.status if ok else 401)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield hook
    finally:
        await runner.cleanup()


async def test_create_webhook_list_get_and_delete(
    sim: Simulator, session: aiohttp.ClientSession, client: RemoteLockClient, receiver: Receiver
) -> None:
    state = sim.remotelock
    token = state.issue_tokens()["access_token"]
    api = sim.remotelock_api_url
    webhook = await client.create_webhook(
        name="Kasify", url=receiver.url, secret=receiver.secret, publisher_id=state.account["id"]
    )
    subscriber = state.notification_subscribers[webhook.subscriber_id]
    assert subscriber["type"] == "webhook_notification_subscriber"
    assert subscriber["attributes"] | {"created_at": None, "updated_at": None} == {
        "active": True,
        "name": "Kasify",
        "url": receiver.url,
        "content_type": "json",
        "secret": receiver.secret,
        "created_at": None,
        "updated_at": None,
    }
    assert subscriber["links"]["self"] == f"/remotelock/api/notification_subscribers/{webhook.subscriber_id}"
    subscription = state.notification_subscriptions[webhook.subscription_id]
    assert subscription["type"] == "notification_subscription"
    assert [e["event_type"] for e in subscription["attributes"]["events"]] == list(WEBHOOK_EVENTS)
    assert subscription["attributes"]["publisher_type"] == "account"
    assert subscription["attributes"]["subscriber_type"] == "webhook_notification_subscriber"
    assert subscription["links"] == {
        "self": f"/remotelock/api/notification_subscriptions/{webhook.subscription_id}",
        "subscriber": subscriber["links"]["self"],
        "publisher": f"/remotelock/api/accounts/{state.account['id']}",
    }

    listed = await call(session, f"{api}/notification_subscribers", token=token)
    assert listed.status == 200
    assert [s["id"] for s in listed.body["data"]] == [webhook.subscriber_id]
    assert listed.body["meta"]["total_count"] == 1
    only_text = await call(
        session,
        f"{api}/notification_subscribers",
        token=token,
        params={"type": "text_notification_subscriber"},
    )
    assert only_text.body["data"] == []
    one = await call(session, f"{api}/notification_subscribers/{webhook.subscriber_id}", token=token)
    assert one.body["data"] == subscriber
    subs = await call(session, f"{api}/notification_subscriptions", token=token)
    assert [s["id"] for s in subs.body["data"]] == [webhook.subscription_id]
    one_sub = await call(session, f"{api}/notification_subscriptions/{webhook.subscription_id}", token=token)
    assert one_sub.body["data"] == subscription

    await client.delete_webhook(webhook)
    assert state.notification_subscribers == {}
    assert state.notification_subscriptions == {}
    await client.delete_webhook(webhook)  # 404s: gone already
    assert sim.count_requests("/remotelock/api/notification_subscribers", "DELETE") == 2
    for path in (
        f"/notification_subscribers/{webhook.subscriber_id}",
        f"/notification_subscriptions/{webhook.subscription_id}",
    ):
        for method in ("GET", "DELETE"):
            missing = await call(session, f"{api}{path}", method, token=token)
            assert (missing.status, missing.body["type"]) == (404, "not_found")


async def test_deleting_a_subscriber_drops_its_subscriptions(
    sim: Simulator, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    state = sim.remotelock
    token = state.issue_tokens()["access_token"]
    subscriber = state.add_webhook_subscriber("Hook", receiver.url, secret=receiver.secret)
    state.subscribe(subscriber["id"], "account", state.account["id"], ["unlocked"])
    gone = await call(
        session,
        f"{sim.remotelock_api_url}/notification_subscribers/{subscriber['id']}",
        "DELETE",
        token=token,
    )
    assert (gone.status, gone.body) == (204, None)
    assert state.notification_subscriptions == {}


async def test_other_subscriber_kinds_and_sorting(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = sim.remotelock.issue_tokens()["access_token"]
    url = f"{sim.remotelock_api_url}/notification_subscribers"
    email = await call(
        session,
        url,
        "POST",
        token=token,
        json_body={"type": "email_notification_subscriber", "attributes": {"name": "Rob", "email": "r@x.es"}},
    )
    assert email.status == 201
    assert email.body["data"]["attributes"]["active"] is True
    text = await call(
        session,
        url,
        "POST",
        token=token,
        json_body={
            "type": "text_notification_subscriber",
            "attributes": {"active": False, "name": "Ana", "phone": "303-317-3422", "carrier": "att"},
        },
    )
    assert text.status == 201
    assert text.body["data"]["attributes"]["active"] is False
    hook = await call(
        session,
        url,
        "POST",
        token=token,
        json_body={
            "type": "webhook_notification_subscriber",
            "attributes": {"name": "H", "url": "https://x.es"},
        },
    )
    attributes = hook.body["data"]["attributes"]
    assert (attributes["content_type"], len(attributes["secret"])) == ("form", 32)  # the defaults
    by_name = await call(session, url, token=token, params={"sort": "name"})
    assert [s["attributes"]["name"] for s in by_name.body["data"]] == ["Ana", "H", "Rob"]
    assert (await call(session, url, token=token, params={"sort": "-name"})).body["data"][0]["attributes"][
        "name"
    ] == "Rob"
    assert (await call(session, url, token=token, params={"sort": "url"})).status == 422
    subs = f"{sim.remotelock_api_url}/notification_subscriptions"
    assert (await call(session, subs, token=token, params={"sort": "-created_at"})).status == 200
    assert (await call(session, subs, token=token, params={"sort": "name"})).status == 422


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"type", "name"}),
        ({"type": "sms_subscriber", "attributes": {"name": "X"}}, {"type"}),
        ({"type": "webhook_notification_subscriber", "attributes": {"name": " "}}, {"name", "url"}),
        (
            {
                "type": "webhook_notification_subscriber",
                "attributes": {"name": "X", "url": "http://example.org/h"},
            },
            {"url"},
        ),
        (
            {
                "type": "webhook_notification_subscriber",
                "attributes": {"name": "X", "url": "ftp://example.org/h"},
            },
            {"url"},
        ),
        (
            {"type": "webhook_notification_subscriber", "attributes": {"name": "X", "url": "https://"}},
            {"url"},
        ),
        (
            {"type": "webhook_notification_subscriber", "attributes": {"name": "X", "url": "http://[::1"}},
            {"url"},
        ),
        (
            {
                "type": "webhook_notification_subscriber",
                "attributes": {"name": "X", "url": "https://a.es", "content_type": "xml", "secret": 5},
            },
            {"content_type", "secret"},
        ),
        (
            {
                "type": "email_notification_subscriber",
                "attributes": {"name": "X", "active": "yes"},
            },
            {"email", "active"},
        ),
        ({"type": "text_notification_subscriber", "attributes": {"name": "X", "phone": "1"}}, {"carrier"}),
    ],
)
async def test_subscriber_validation(
    sim: Simulator, session: aiohttp.ClientSession, body: Any, errors: set[str]
) -> None:
    token = sim.remotelock.issue_tokens()["access_token"]
    url = f"{sim.remotelock_api_url}/notification_subscribers"
    answer = await call(session, url, "POST", token=token, json_body=body)
    assert answer.status == 422
    assert {e["attribute"] for e in answer.body["errors"]} == errors
    assert sim.remotelock.notification_subscribers == {}


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8123/api/webhook/x", "http://localhost/h", "http://[::1]:9/h"]
)
async def test_plain_http_is_tolerated_for_loopback_only(
    sim: Simulator, session: aiohttp.ClientSession, url: str
) -> None:
    token = sim.remotelock.issue_tokens()["access_token"]
    answer = await call(
        session,
        f"{sim.remotelock_api_url}/notification_subscribers",
        "POST",
        token=token,
        json_body={"type": "webhook_notification_subscriber", "attributes": {"name": "HA", "url": url}},
    )
    assert answer.status == 201


async def test_the_client_gets_a_validation_error_for_an_http_url(
    sim: Simulator, client: RemoteLockClient
) -> None:
    with pytest.raises(ValidationError) as caught:
        await client.create_webhook(
            name="Kasify",
            url="http://ha.example.org/hook",
            secret="s3cr3t-x",
            publisher_id=sim.remotelock.account["id"],
        )
    assert caught.value.fields == {"url": ["must be a secure (HTTPS) URL"]}
    assert "s3cr3t-x" not in str(caught.value)


async def test_the_client_rolls_back_when_the_subscription_is_refused(
    sim: Simulator, client: RemoteLockClient, receiver: Receiver
) -> None:
    with pytest.raises(ValidationError) as caught:
        await client.create_webhook(
            name="Kasify", url=receiver.url, secret=receiver.secret, publisher_id="not-our-account"
        )
    assert caught.value.fields == {"publisher_id": ["does not exist"]}
    assert sim.remotelock.notification_subscribers == {}
    assert sim.count_requests("/remotelock/api/notification_subscribers", "DELETE") == 1


async def test_subscription_validation(
    sim: Simulator, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    state = sim.remotelock
    token = state.issue_tokens()["access_token"]
    url = f"{sim.remotelock_api_url}/notification_subscriptions"
    hook = state.add_webhook_subscriber("Hook", receiver.url)
    lock_id = next(d["id"] for d in state.devices.values() if d["type"] == "lock")
    thermostat_id = next(d["id"] for d in state.devices.values() if d["type"] == "thermostat")
    person_id = next(iter(state.access_persons))
    person_type = state.access_persons[person_id]["type"]

    def body(publisher_type: str, publisher_id: str, *events: Any, **extra: Any) -> Any:
        return {
            "attributes": {
                "events": [e if isinstance(e, dict) else {"event_type": e} for e in events],
                "publisher_type": publisher_type,
                "publisher_id": publisher_id,
                "subscriber_type": "webhook_notification_subscriber",
                "subscriber_id": hook["id"],
                **extra,
            }
        }

    async def errors(payload: Any) -> dict[str, list[str]]:
        answer = await call(session, url, "POST", token=token, json_body=payload)
        assert answer.status == 422, answer.body
        return {e["attribute"]: e["messages"] for e in answer.body["errors"]}

    assert set(await errors({})) == {"publisher_type", "subscriber_type", "events"}
    assert await errors(body("lock", lock_id, "temperature_changed")) == {
        "events": ["temperature_changed is not a valid event type for lock"]
    }
    assert await errors(body("thermostat", thermostat_id, "unlocked")) == {
        "events": ["unlocked is not a valid event type for thermostat"]
    }
    assert await errors(body("account", state.account["id"], "teleported")) == {
        "events": ["teleported is not a valid event type for account"]
    }
    assert await errors(
        body("account", state.account["id"], {"event_type": "unlocked", "first_access": True})
    ) == {"events": ["unlocked has unknown properties: first_access"]}
    assert await errors(
        body(person_type, person_id, {"event_type": "access_person_used", "first_access": 1})
    ) == {"events": ["access_person_used: first_access and created_by_integration must be booleans"]}
    assert await errors(body("account", state.account["id"], "x", "y")) == {
        "events": ["x is not a valid event type for account", "y is not a valid event type for account"]
    }
    assert await errors(body("account", state.account["id"], ["bad"])) == {
        "events": ["must be objects with an event_type"]
    }
    assert await errors(body("lock", thermostat_id, "unlocked")) == {"publisher_id": ["does not exist"]}
    assert await errors(body("location", "nope", "unlocked")) == {"publisher_id": ["does not exist"]}
    assert await errors(body("account", "", "unlocked")) == {"publisher_id": ["can't be blank"]}
    planet = await errors(body("planet", "x", "unlocked"))
    assert planet["publisher_type"][0].startswith("must be one of")
    assert await errors(body("account", state.account["id"], "unlocked", subscriber_id="nope")) == {
        "subscriber_id": ["does not exist"]
    }
    assert await errors(
        body("account", state.account["id"], "unlocked", subscriber_type="email_notification_subscriber")
    ) == {"subscriber_id": ["does not exist"]}
    assert await errors(body("account", state.account["id"], "unlocked", subscriber_id="")) == {
        "subscriber_id": ["can't be blank"]
    }
    assert state.notification_subscriptions == {}

    ok = [
        body(person_type, person_id, {"event_type": "access_person_used", "first_access": True}),
        body("lock", lock_id, "unlocked", "battery_replaced"),
        body("thermostat", thermostat_id, "temperature_changed"),
        body("location", next(iter(state.locations)), "acs_door_opened", "relay_enabled"),
    ]
    for payload in ok:
        created = await call(session, url, "POST", token=token, json_body=payload)
        assert created.status == 201, created.body
        assert created.body["data"]["attributes"]["events"] == payload["attributes"]["events"]
    assert len(state.notification_subscriptions) == 4
    links = [s["links"]["publisher"] for s in state.notification_subscriptions.values()]
    assert links[1] == f"/remotelock/api/devices/{lock_id}"
    assert links[0] == f"/remotelock/api/access_persons/{person_id}"


async def test_events_are_delivered_to_matching_webhooks(
    sim: Simulator, client: RemoteLockClient, receiver: Receiver
) -> None:
    state = sim.remotelock
    webhook = await client.create_webhook(
        name="Kasify", url=receiver.url, secret=receiver.secret, publisher_id=state.account["id"]
    )
    front = next(d for d in state.devices.values() if d["type"] == "lock")
    await client.unlock(front["id"])  # records an "unlocked" event while the loop runs
    deliveries = await state.drain_webhooks()
    unlocked = [e for e in state.events.values() if e["type"] == "unlocked_event"][-1]
    assert deliveries == [WebhookDelivery(webhook.subscriber_id, unlocked["id"], receiver.url, 200)]
    ((secret, body),) = receiver.received
    assert secret == receiver.secret
    pushed = parse_webhook_event(body)
    assert (pushed.id, pushed.type, pushed.lock_id) == (unlocked["id"], "unlocked", front["id"])

    # Events the subscription does not list, and inactive subscribers, deliver nothing.
    state.add_event("reset", front["id"])
    state.notification_subscribers[webhook.subscriber_id]["attributes"]["active"] = False
    state.lock_action(front["id"], "lock")
    assert await state.drain_webhooks() == deliveries
    assert len(receiver.received) == 1


async def test_delivery_follows_the_publisher(sim: Simulator, receiver: Receiver) -> None:
    state = sim.remotelock
    locks = [d for d in state.devices.values() if d["type"] in ("lock", "zwave_lock")]
    first, second = locks[0], locks[1]
    hook = state.add_webhook_subscriber("Hook", receiver.url, secret=receiver.secret)
    state.subscribe(hook["id"], "lock", first["id"], ["unlocked", "locked"])
    state.subscribe(hook["id"], "location", second["attributes"]["location_id"], ["locked"])
    person_id = next(iter(state.access_persons))
    state.subscribe(hook["id"], state.access_persons[person_id]["type"], person_id, ["access_person_used"])
    state.lock_action(first["id"], "unlock")  # lock publisher: delivered
    state.lock_action(second["id"], "unlock")  # not subscribed for the second lock's unlocks
    state.lock_action(second["id"], "lock")  # location publisher: delivered
    state.add_event("access_person_used", second["id"], access_person_id=person_id)  # person: delivered
    deliveries = await state.drain_webhooks()
    assert {d.status for d in deliveries} == {200}
    kinds = sorted(body["data"]["type"] for _, body in receiver.received)
    assert kinds == ["access_person_used_event", "locked_event", "unlocked_event"]
    assert all(secret == receiver.secret for secret, _ in receiver.received)


async def test_delivery_failures_and_form_subscribers_are_recorded(
    sim: Simulator, receiver: Receiver
) -> None:
    state = sim.remotelock
    front = next(d for d in state.devices.values() if d["type"] == "lock")
    wrong = state.add_webhook_subscriber("Wrong secret", receiver.url, secret="not-it")
    form_hook = state.add_webhook_subscriber("Form", receiver.url, content_type="form")
    dead = state.add_webhook_subscriber("Dead", "http://127.0.0.1:9/hook")
    text = state.add_subscriber("text_notification_subscriber", name="Ana", phone="1", carrier="att")
    for subscriber in (wrong, form_hook, dead, text):
        state.subscribe(subscriber["id"], "account", state.account["id"], ["locked"])
    event = state.lock_action(front["id"], "lock")
    assert event["attributes"]["state"] == "locked"
    deliveries = {d.subscriber_id: d for d in await state.drain_webhooks()}
    assert set(deliveries) == {wrong["id"], form_hook["id"], dead["id"]}  # texts are not webhooks
    assert deliveries[wrong["id"]].status == 401
    assert (deliveries[form_hook["id"]].status, deliveries[form_hook["id"]].error) == (None, "unsupported")
    assert deliveries[dead["id"]].status is None
    assert deliveries[dead["id"]].error
    assert len(receiver.received) == 1  # only the wrong-secret JSON delivery reached it


def test_no_running_loop_means_no_delivery() -> None:
    sim = Simulator(SimulatorConfig(properties=1, seed=3))
    state = sim.remotelock
    hook = state.add_webhook_subscriber("Hook", "http://127.0.0.1:9/hook")
    state.subscribe(hook["id"], "account", state.account["id"], ["unlocked"])
    state.lock_action(next(iter(state.devices)), "unlock")
    assert state.webhook_deliveries == []


# --- retries and deactivation ------------------------------------------------------------------------------


def _hooked(sim: Simulator, receiver: Receiver) -> tuple[Json, str]:
    """A webhook subscriber for the account's lock events, and a lock to make them with."""
    state = sim.remotelock
    hook = state.add_webhook_subscriber("Hook", receiver.url, secret=receiver.secret)
    state.subscribe(hook["id"], "account", state.account["id"], ["unlocked", "locked"])
    return hook, next(d["id"] for d in state.devices.values() if d["type"] == "lock")


async def test_failed_deliveries_are_retried_hourly_then_the_webhook_is_deactivated(
    sim: Simulator, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """Not 2xx: tried again every hour; still failing 72 hours after the first failure: deactivated."""
    state = sim.remotelock
    hook, front = _hooked(sim, receiver)
    receiver.status = 503
    state.lock_action(front, "unlock")
    [first] = await state.drain_webhooks()
    assert (first.status, first.attempt, first.acknowledged) == (503, 1, False)
    sim.advance(timedelta(minutes=59))
    state.retry_webhooks()
    assert await state.drain_webhooks() == [first]  # not due yet
    sim.advance(timedelta(minutes=1))
    state.retry_webhooks()
    assert [(d.event_id, d.attempt) for d in await state.drain_webhooks()] == [
        (first.event_id, 1),
        (first.event_id, 2),
    ]
    sim.advance(timedelta(hours=1))
    token = state.issue_tokens()["access_token"]
    await call(session, f"{sim.remotelock_api_url}/devices", token=token)  # a request runs due retries too
    assert (await state.drain_webhooks())[-1].attempt == 3
    assert state.get_subscriber(hook["id"])["attributes"]["active"] is True

    sim.advance(timedelta(hours=70))  # 72 hours after the first failure
    state.retry_webhooks()
    deliveries = await state.drain_webhooks()
    assert (deliveries[-1].attempt, deliveries[-1].status) == (4, 503)
    assert state.get_subscriber(hook["id"])["attributes"]["active"] is False
    assert state.webhooks.failing == {}
    receiver.status = 200
    state.lock_action(front, "lock")
    assert await state.drain_webhooks() == deliveries  # an inactive webhook gets nothing

    url = f"{sim.remotelock_api_url}/notification_subscribers/{hook['id']}"
    token = state.issue_tokens()["access_token"]
    answer = await call(session, url, "PUT", token=token, json_body={"attributes": {"active": True}})
    assert (answer.status, answer.body["data"]["attributes"]["active"]) == (200, True)
    state.lock_action(front, "unlock")
    assert (await state.drain_webhooks())[-1].acknowledged


async def test_an_acknowledged_retry_ends_the_retries(sim: Simulator, receiver: Receiver) -> None:
    """A retry answered 2xx is the end of it; a dead URL (no answer) is a failure like any other."""
    state = sim.remotelock
    hook, front = _hooked(sim, receiver)
    dead = state.add_webhook_subscriber("Dead", "http://127.0.0.1:9/hook")
    state.subscribe(dead["id"], "account", state.account["id"], ["unlocked"])
    receiver.status = 500
    state.lock_action(front, "unlock")
    await state.drain_webhooks()
    assert {key[0] for key in state.webhooks.failing} == {hook["id"], dead["id"]}
    receiver.status = 204
    sim.advance(timedelta(hours=1))
    state.retry_webhooks()
    retried = {d.subscriber_id: d for d in (await state.drain_webhooks())[2:]}
    assert retried[hook["id"]].status == 204
    assert retried[dead["id"]].error
    assert {key[0] for key in state.webhooks.failing} == {dead["id"]}
    state.delete_subscriber(dead["id"])
    assert state.webhooks.failing == {}


async def test_updating_a_subscriber(sim: Simulator, session: aiohttp.ClientSession) -> None:
    """``PUT`` takes the attributes of create; bad values are 422, an unknown id 404."""
    state = sim.remotelock
    token = state.issue_tokens()["access_token"]
    hook = state.add_webhook_subscriber("Hook", "https://ha.example/hook", active=False)
    url = f"{sim.remotelock_api_url}/notification_subscribers/{hook['id']}"
    for bad in ({"active": "yes"}, {"url": "http://ha.example/hook"}, {"name": " "}, {"content_type": "xml"}):
        answer = await call(session, url, "PUT", token=token, json_body={"attributes": bad})
        assert answer.status == 422, bad
    changes = {"active": True, "url": "https://ha2.example/hook", "id": "ignored"}
    answer = await call(session, url, "PUT", token=token, json_body={"attributes": changes})
    assert answer.status == 200
    attributes = state.get_subscriber(hook["id"])["attributes"]
    assert (attributes["active"], attributes["url"], attributes["name"]) == (True, changes["url"], "Hook")
    missing = await call(session, f"{url}x", "PUT", token=token, json_body={"attributes": {"active": True}})
    assert missing.status == 404
