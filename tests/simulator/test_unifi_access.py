"""The UniFi Access client against the simulator over loopback: HTTPS with pinning, real WebSocket push."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
import json
import logging
from typing import Any

import aiohttp
import pytest

from custom_components.kasify.api.errors import (
    ApiConnectionError,
    AuthError,
    CertificateError,
    CertificateMismatchError,
    ConflictError,
    DeviceOfflineError,
    MissingPermissionError,
    NotFoundError,
    NotSupportedError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from custom_components.kasify.api.models import LockStatus
from custom_components.kasify.api.unifi_access import (
    ActivityKind,
    DoorActivityEvent,
    DoorPosition,
    DoorStateEvent,
    LockRuleType,
    UnifiAccessClient,
    UnifiEvent,
    get_certificate_fingerprint,
)
from simulator import Simulator, UnifiAccessState, serve_unifi_https
from simulator.unifi_access import (
    LOCATION_UPDATE_V2,
    UNIFI_GARAGE_DOOR_ID,
    UNIFI_PREFIX,
    V2_LOCATION_UPDATE,
    UnifiEndpoint,
    generate_self_signed_certificate,
)

from .conftest import SIM_NOW

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

NOTIFICATIONS = f"{UNIFI_PREFIX}/devices/notifications"
WAIT = 3.0


@pytest.fixture
async def endpoint(sim: Simulator) -> AsyncIterator[UnifiEndpoint]:
    async with serve_unifi_https(sim) as endpoint:
        yield endpoint


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def make_client(session: aiohttp.ClientSession, endpoint: UnifiEndpoint, **kwargs: Any) -> UnifiAccessClient:
    settings: dict[str, Any] = {"port": endpoint.port, "fingerprint": endpoint.fingerprint, "timeout": 2.0}
    settings.update(kwargs)
    token = settings.pop("token", endpoint.token)
    return UnifiAccessClient(session, endpoint.host, token, **settings)


@pytest.fixture
def client(session: aiohttp.ClientSession, endpoint: UnifiEndpoint) -> UnifiAccessClient:
    return make_client(session, endpoint)


@pytest.fixture
def unifi(sim: Simulator) -> UnifiAccessState:
    return sim.unifi


@pytest.fixture
def portal(sim: Simulator) -> str:
    """The door of the fleet's Kasify UniFi lock (property 1)."""
    (record,) = [lock for lock in sim.kasify.smart_locks.values() if lock["vendor"] == "unifi"]
    door_id: str = record["unifi_smartlock"]["door_id"]
    return door_id


class Push:
    """Runs :meth:`UnifiAccessClient.listen` in a task and collects what it reports."""

    def __init__(self, client: UnifiAccessClient) -> None:
        self.client = client
        self.events: asyncio.Queue[UnifiEvent] = asyncio.Queue()
        self.connects = 0
        self.disconnects = 0
        self._connected = asyncio.Event()
        self._lost = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def on_event(self, event: UnifiEvent) -> None:
        self.events.put_nowait(event)

    def on_connect(self) -> None:
        self.connects += 1
        self._lost.clear()
        self._connected.set()

    async def on_disconnect(self) -> None:
        self.disconnects += 1
        self._connected.clear()
        self._lost.set()

    def start(self, **kwargs: Any) -> asyncio.Task[None]:
        options: dict[str, Any] = {"backoff_min": 0.01, "backoff_max": 0.05}
        options.update(kwargs)
        self.task = asyncio.create_task(
            self.client.listen(self.on_event, self.on_disconnect, on_connect=self.on_connect, **options)
        )
        return self.task

    async def connected(self) -> None:
        async with asyncio.timeout(WAIT):
            await self._connected.wait()

    async def lost(self) -> None:
        async with asyncio.timeout(WAIT):
            await self._lost.wait()

    async def next(self) -> UnifiEvent:
        async with asyncio.timeout(WAIT):
            return await self.events.get()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def _eventually(condition: Callable[[], bool]) -> None:
    """Wait (real time, :data:`WAIT` seconds at most) until ``condition`` holds."""
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    assert condition()


@pytest.fixture
async def push(client: UnifiAccessClient) -> AsyncIterator[Push]:
    listener = Push(client)
    yield listener
    await listener.stop()


# --- doors --------------------------------------------------------------------------------------


async def test_doors_come_from_the_kasify_fleet(
    client: UnifiAccessClient, sim: Simulator, portal: str
) -> None:
    sim.reset_requests()
    doors = {door.id: door for door in await client.list_doors()}
    assert sim.count_requests(UNIFI_PREFIX) == 1
    assert sim.count_requests(f"{UNIFI_PREFIX}/doors", "GET") == 1
    assert set(doors) == {portal, UNIFI_GARAGE_DOOR_ID}
    record = next(lock for lock in sim.kasify.smart_locks.values() if lock["vendor"] == "unifi")
    door = doors[portal]
    assert door.name == record["unifi_smartlock"]["name"]
    assert door.floor_id == record["unifi_smartlock"]["floor_id"]
    assert (door.status, door.position, door.can_unlock, door.can_lock) == (
        LockStatus.LOCKED,
        DoorPosition.CLOSED,
        True,
        True,
    )
    garage = doors[UNIFI_GARAGE_DOOR_ID]
    assert (garage.can_unlock, garage.has_position_sensor, garage.supported_lock_rules) == (
        False,
        False,
        frozenset(),
    )
    assert await client.get_door(portal) == door


async def test_unlock_flips_the_relay_and_relocks_on_the_simulated_clock(
    client: UnifiAccessClient, sim: Simulator, portal: str, push: Push
) -> None:
    push.start()
    await push.connected()
    kasify_id = sim.unifi.kasify_links[portal]
    await client.unlock(portal, actor_id="kasify", actor_name="Kasify")
    unlocked = await push.next()
    assert isinstance(unlocked, DoorStateEvent)
    assert (unlocked.door_id, unlocked.status, unlocked.event) == (
        portal,
        LockStatus.UNLOCKED,
        LOCATION_UPDATE_V2,
    )
    remote = await push.next()
    assert isinstance(remote, DoorActivityEvent)
    assert (remote.door_id, remote.kind, remote.method) == (portal, ActivityKind.UNLOCKED, "REMOTE")
    assert (await client.get_door(portal)).status is LockStatus.UNLOCKED
    assert sim.kasify.smart_locks[kasify_id]["lock_state"] == 3

    sim.advance(timedelta(seconds=sim.unifi.relock_delay - 1))
    assert (await client.get_door(portal)).status is LockStatus.UNLOCKED
    sim.advance(timedelta(seconds=1))
    sim.unifi.settle()
    relocked = await push.next()
    assert isinstance(relocked, DoorStateEvent)
    assert relocked.status is LockStatus.LOCKED
    assert sim.kasify.smart_locks[kasify_id]["lock_state"] == 1
    assert push.events.empty()


@pytest.mark.parametrize("http_200", [False, True])
async def test_unlock_is_refused_without_hub_or_when_offline(
    client: UnifiAccessClient, sim: Simulator, portal: str, http_200: bool
) -> None:
    sim.unifi.errors_as_http_200 = http_200
    with pytest.raises(NotSupportedError, match="CODE_OPERATION_FORBIDDEN"):
        await client.unlock(UNIFI_GARAGE_DOOR_ID)
    with pytest.raises(NotSupportedError):
        await client.lock(UNIFI_GARAGE_DOOR_ID)
    sim.unifi.set_offline(portal)
    kasify_id = sim.unifi.kasify_links[portal]
    assert sim.kasify.smart_locks[kasify_id]["offline"] is True
    with pytest.raises(DeviceOfflineError) as err:
        await client.unlock(portal)
    assert err.value.status == (200 if http_200 else 402)
    sim.unifi.set_offline(portal, False)
    await client.unlock(portal)
    with pytest.raises(NotFoundError):
        await client.unlock("no-such-door")
    sim.unifi.set_bind_hub(portal, False)
    with pytest.raises(NotSupportedError):
        await client.unlock(portal)
    sim.unifi.set_bind_hub(portal, True)
    await client.unlock(portal)


async def test_lock_rules(client: UnifiAccessClient, sim: Simulator, portal: str) -> None:
    await client.set_lock_rule(portal, LockRuleType.KEEP_UNLOCK)
    assert (await client.get_door(portal)).status is LockStatus.UNLOCKED
    rule = await client.get_lock_rule(portal)
    assert rule.type is LockRuleType.KEEP_UNLOCK
    assert rule.ends_at is not None
    assert rule.ends_at.year == 2084
    await client.lock(portal)
    assert (await client.get_door(portal)).status is LockStatus.LOCKED
    assert (await client.get_lock_rule(portal)).type is LockRuleType.NONE

    await client.set_lock_rule(portal, "custom", 10)
    custom = await client.get_lock_rule(portal)
    assert (custom.type, custom.ends_at) == (LockRuleType.CUSTOM, SIM_NOW + timedelta(minutes=10))
    assert (await client.get_door(portal)).status is LockStatus.UNLOCKED
    sim.advance(timedelta(minutes=10))
    assert (await client.get_door(portal)).status is LockStatus.LOCKED

    with pytest.raises(ValidationError, match="not in an unlock schedule"):
        await client.set_lock_rule(portal, LockRuleType.LOCK_EARLY)
    sim.unifi.start_unlock_schedule(portal, sim.now() + timedelta(hours=2))
    assert (await client.get_lock_rule(portal)).type is LockRuleType.SCHEDULE
    assert (await client.get_door(portal)).status is LockStatus.UNLOCKED
    await client.set_lock_rule(portal, LockRuleType.LOCK_EARLY)
    assert (await client.get_door(portal)).status is LockStatus.LOCKED
    assert (await client.get_lock_rule(portal)).type is LockRuleType.LOCK_EARLY

    await client.set_lock_rule(portal, LockRuleType.KEEP_LOCK)
    await client.set_lock_rule(portal, LockRuleType.RESET)
    assert (await client.get_lock_rule(portal)).type is LockRuleType.NONE


# --- push ---------------------------------------------------------------------------------------


async def test_door_position_changes_are_pushed(
    client: UnifiAccessClient, sim: Simulator, portal: str, push: Push
) -> None:
    sim.unifi.location_events = (LOCATION_UPDATE_V2, V2_LOCATION_UPDATE)
    push.start()
    await push.connected()
    sim.reset_requests()
    sim.unifi.set_door_position(portal, "open")
    first, second = await push.next(), await push.next()
    assert isinstance(first, DoorStateEvent)
    assert isinstance(second, DoorStateEvent)
    assert (first.event, second.event) == (LOCATION_UPDATE_V2, V2_LOCATION_UPDATE)
    assert first.position is second.position is DoorPosition.OPEN
    sim.unifi.set_door_position(portal, None)  # the sensor was removed
    gone = await push.next()
    assert isinstance(gone, DoorStateEvent)
    assert (gone.position, gone.position_reported) == (None, True)
    # Push costs no REST call.
    assert sim.count_requests(UNIFI_PREFIX) == 0
    with pytest.raises(ValueError):
        sim.unifi.set_door_position(portal, "ajar")


async def test_pin_use_at_the_door_is_pushed(
    client: UnifiAccessClient, sim: Simulator, portal: str, push: Push
) -> None:
    push.start()
    await push.connected()
    visitor = await client.create_timed_pin(
        name="Ana García",
        pin="135790",
        starts_at=SIM_NOW - timedelta(hours=1),
        ends_at=SIM_NOW + timedelta(days=2),
        door_ids=[portal],
    )
    assert sim.unifi.pins[visitor.id] == "135790"
    assert sim.unifi.use_pin(portal, "135790") is True
    state = await push.next()
    assert isinstance(state, DoorStateEvent)
    assert state.status is LockStatus.UNLOCKED
    used = await push.next()
    assert isinstance(used, DoorActivityEvent)
    assert (used.kind, used.actor, used.method, used.at) == (
        ActivityKind.CODE_USED,
        "Ana García",
        "PIN_CODE",
        SIM_NOW,
    )
    assert sim.unifi.use_pin(portal, "000000") is False
    denied = await push.next()
    assert isinstance(denied, DoorActivityEvent)
    assert (denied.kind, denied.actor) == (ActivityKind.ACCESS_DENIED, None)
    assert sim.unifi.use_pin(UNIFI_GARAGE_DOOR_ID, "135790") is False  # not one of the visitor's doors


async def test_unknown_messages_are_skipped(
    client: UnifiAccessClient, sim: Simulator, portal: str, push: Push
) -> None:
    push.start()
    await push.connected()
    sim.unifi.push({"event": "access.remote_view", "data": {"door_name": "Portal"}})
    sim.unifi.push({"event": "access.data.device.location_update_v2", "data": "not an object"})
    sim.unifi.set_door_position(portal, "open")
    event = await push.next()
    assert isinstance(event, DoorStateEvent)
    assert event.position is DoorPosition.OPEN


async def test_a_silent_controller_keeps_the_socket_open_but_sends_nothing(
    session: aiohttp.ClientSession, sim: Simulator, portal: str
) -> None:
    """``push_silent``: no Hello, no pushes and no pongs on open or new sockets; then all resumes."""
    assert sim.base_url is not None
    url = sim.base_url + NOTIFICATIONS
    auth = {"Authorization": f"Bearer {sim.unifi.token}"}
    async with session.ws_connect(url, headers=auth, autoping=False) as ws:
        assert (await ws.receive(timeout=WAIT)).data == "Hello"
        await ws.ping(b"1")
        pong = await ws.receive(timeout=WAIT)
        assert (pong.type, pong.data) == (aiohttp.WSMsgType.PONG, b"1")

        sim.unifi.push_silent = True
        async with session.ws_connect(url, headers=auth, autoping=False) as quiet:
            assert sim.unifi.websockets == 2  # accepted, and open
            sim.unifi.set_door_position(portal, "open")
            await ws.ping(b"2")
            await quiet.ping(b"2")
            await asyncio.sleep(0.2)  # time for the (unsent) answers to arrive
            assert sim.unifi.pushed == []

            sim.unifi.push_silent = False
            await ws.ping(b"3")
            await quiet.ping(b"3")
            # The very next frame on each is the pong to the ping sent after the silence: nothing before.
            for socket in (ws, quiet):
                after = await socket.receive(timeout=WAIT)
                assert (after.type, after.data) == (aiohttp.WSMsgType.PONG, b"3")
            sim.unifi.set_door_position(portal, "close")
            pushed = await ws.receive(timeout=WAIT)
            assert json.loads(pushed.data)["data"]["state"]["dps"] == "close"
            assert not quiet.closed


@pytest.mark.parametrize("abrupt", [True, False])
async def test_push_reconnects_after_a_drop(
    client: UnifiAccessClient,
    sim: Simulator,
    portal: str,
    push: Push,
    abrupt: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.kasify.api.unifi_access")
    push.start()
    await push.connected()
    assert client.push_connected
    await sim.unifi.wait_for_websockets(1)
    assert sim.unifi.drop_websockets(abrupt=abrupt) == 1
    await push.lost()
    await push.connected()
    await sim.unifi.wait_for_websockets(1)
    assert (push.connects, push.disconnects) == (2, 1)
    assert sim.count_requests(NOTIFICATIONS, "GET") == 2
    sim.unifi.set_door_position(portal, "open")
    event = await push.next()
    assert isinstance(event, DoorStateEvent)
    assert event.position is DoorPosition.OPEN
    assert caplog.text.count("connection to") == 1  # one line when it went, none per retry
    await push.stop()
    assert not client.push_connected


async def test_push_is_up_once_the_controller_speaks_and_a_silent_socket_is_closed(
    client: UnifiAccessClient, sim: Simulator, push: Push, caplog: pytest.LogCaptureFixture
) -> None:
    """An open socket that says nothing is not push; closed as silent: one warning, reconnect; a pong to a
    ping is a frame like any other and puts push up."""
    caplog.set_level(logging.INFO, logger="custom_components.kasify.api.unifi_access")
    sim.unifi.push_silent = True
    push.start()
    await _eventually(lambda: client.push_open)
    activity = client.push_activity
    await client.ping_push()
    await asyncio.sleep(0.2)
    assert (client.push_activity, client.push_connected, push.connects) == (activity, False, 0)

    await client.close_silent_push(300)
    await _eventually(lambda: sim.count_requests(NOTIFICATIONS, "GET") == 2 and client.push_open)
    assert not client.push_connected
    sim.unifi.push_silent = False
    await client.ping_push()
    await push.connected()
    assert client.push_connected
    assert client.push_activity > activity
    assert (push.connects, push.disconnects) == (1, 0)  # never up before: nothing to report lost
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "nothing received" in warnings[0]
    assert caplog.text.count("connected to") == 1

    # Up, then silent again: closing it reports the loss to the caller, which polls meanwhile.
    await client.close_silent_push(300)
    await push.lost()
    assert push.disconnects == 1


async def test_push_retries_refused_handshakes_with_backoff(
    client: UnifiAccessClient, sim: Simulator, push: Push, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.kasify.api.unifi_access")
    sim.faults.inject(NOTIFICATIONS, status=503, times=2)
    sim.faults.inject(NOTIFICATIONS, status=429, headers={"Retry-After": "0"}, times=1)
    sim.faults.inject(NOTIFICATIONS, disconnect=True, times=1)
    push.start()
    await push.connected()
    assert sim.count_requests(NOTIFICATIONS, "GET") == 5
    assert (push.connects, push.disconnects) == (1, 0)
    assert caplog.text.count("cannot connect") == 1
    assert caplog.text.count("connected to") == 1


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        ("token", AuthError),
        ("permission", MissingPermissionError),
        ("fingerprint", CertificateMismatchError),
        ("verify", CertificateError),
        ("not_found", NotSupportedError),
    ],
)
async def test_push_raises_errors_retrying_cannot_fix(
    session: aiohttp.ClientSession,
    endpoint: UnifiEndpoint,
    sim: Simulator,
    setup: str,
    error: type[Exception],
) -> None:
    kwargs: dict[str, Any] = {}
    if setup == "token":
        kwargs["token"] = "revoked"
    elif setup == "permission":
        sim.unifi.permissions.discard("view:device")
    elif setup == "fingerprint":
        kwargs["fingerprint"] = "00" * 32
    elif setup == "verify":
        kwargs["fingerprint"] = None
    else:
        sim.faults.inject(NOTIFICATIONS, status=404)
    listener = Push(make_client(session, endpoint, **kwargs))
    with pytest.raises(error) as err:
        async with asyncio.timeout(WAIT):
            await listener.start()
    if isinstance(err.value, MissingPermissionError):
        assert err.value.permission == "view:device"
    assert listener.connects == 0
    assert sim.count_requests(NOTIFICATIONS) <= 1


async def test_push_without_reconnect(client: UnifiAccessClient, sim: Simulator, push: Push) -> None:
    sim.faults.inject(NOTIFICATIONS, status=503, times=1)
    with pytest.raises(ServerError):
        await push.start(reconnect=False)
    task = push.start(reconnect=False)
    await push.connected()
    await sim.unifi.wait_for_websockets(1)
    sim.unifi.drop_websockets()
    async with asyncio.timeout(WAIT):
        await task  # returns once the connection ends
    assert push.disconnects == 1


async def test_callback_failures_are_logged_not_raised(
    client: UnifiAccessClient, sim: Simulator, portal: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[UnifiEvent] = []
    connected, both = asyncio.Event(), asyncio.Event()

    def on_event(event: UnifiEvent) -> None:
        seen.append(event)
        if len(seen) == 2:
            both.set()
        raise RuntimeError("bug in the integration")

    async def on_connect() -> None:
        connected.set()
        raise RuntimeError("bug in on_connect")

    task = asyncio.create_task(client.listen(on_event, on_connect=on_connect))
    try:
        async with asyncio.timeout(WAIT):
            await connected.wait()
            sim.unifi.set_door_position(portal, "open")
            sim.unifi.set_door_position(portal, "close")
            await both.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert caplog.text.count("Error in a UniFi Access push callback") == 3


# --- TLS ----------------------------------------------------------------------------------------


async def test_pinned_fingerprint_is_enforced(
    session: aiohttp.ClientSession, endpoint: UnifiEndpoint, sim: Simulator
) -> None:
    sim.reset_requests()
    wrong = make_client(session, endpoint, fingerprint="11" * 32)
    with pytest.raises(CertificateMismatchError) as err:
        await wrong.list_doors()
    assert err.value.actual == endpoint.fingerprint
    assert err.value.expected == "11:" * 31 + "11"
    assert sim.count_requests() == 0  # refused before a request was sent
    assert len(await make_client(session, endpoint).list_doors()) == 2


async def test_verification_against_a_self_signed_certificate(
    session: aiohttp.ClientSession, endpoint: UnifiEndpoint, sim: Simulator
) -> None:
    with pytest.raises(CertificateError) as err:
        await make_client(session, endpoint, fingerprint=None).list_doors()
    assert not isinstance(err.value, CertificateMismatchError)
    assert "not trusted" in str(err.value)
    assert sim.count_requests(UNIFI_PREFIX) == 0
    # Verification off, or against a context that trusts this certificate, both get through.
    assert await make_client(session, endpoint, fingerprint=None, verify_ssl=False).list_doors()
    trusting = endpoint.certificate.trusting_context()
    assert await make_client(session, endpoint, fingerprint=None, ssl_context=trusting).list_doors()


async def test_certificate_fingerprint_helper(endpoint: UnifiEndpoint, sim: Simulator) -> None:
    assert await get_certificate_fingerprint(endpoint.host, endpoint.port) == endpoint.fingerprint
    assert await get_certificate_fingerprint(f"[{endpoint.host}]", endpoint.port) == endpoint.fingerprint
    assert sim.base_url is not None
    plain_port = int(sim.base_url.rsplit(":", 1)[1])
    with pytest.raises(ApiConnectionError):
        await get_certificate_fingerprint("127.0.0.1", plain_port)  # plain HTTP: no TLS handshake


# --- visitors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("http_200", [False, True])
async def test_visitor_pins_are_unique_and_of_valid_length(
    client: UnifiAccessClient, sim: Simulator, portal: str, http_200: bool
) -> None:
    sim.unifi.errors_as_http_200 = http_200
    window: dict[str, Any] = {
        "starts_at": SIM_NOW,
        "ends_at": SIM_NOW + timedelta(days=3),
        "door_ids": [portal],
    }
    first = await client.create_timed_pin(name="Ana García", pin="482916", **window)
    with pytest.raises(ConflictError) as taken:
        await client.create_timed_pin(name="Luis Pérez", pin="482916", **window)
    assert "482916" not in str(taken.value)
    assert list(sim.unifi.visitors) == [first.id]  # the second visitor was removed again
    sim.unifi.user_pins.add("777777")
    with pytest.raises(ConflictError):
        await client.create_timed_pin(name="Luis Pérez", pin="777777", **window)
    with pytest.raises(ValidationError) as short:
        await client.create_timed_pin(name="Luis Pérez", pin="123", **window)
    assert "pin_code" in short.value.fields
    assert list(sim.unifi.visitors) == [first.id]

    await client.delete_visitor(first.id)
    assert sim.unifi.visitors == {}
    second = await client.create_timed_pin(name="Luis Pérez", pin="482916", **window)
    assert (await client.get_visitor(second.id)).has_pin
    with pytest.raises(NotFoundError):
        await client.get_visitor(first.id)


async def test_visitor_lifecycle(client: UnifiAccessClient, sim: Simulator, portal: str) -> None:
    visitor = await client.create_visitor(
        first_name="Ana",
        last_name="García",
        starts_at=SIM_NOW + timedelta(days=1),
        ends_at=SIM_NOW + timedelta(days=3),
        door_ids=[portal],
    )
    assert (visitor.status, visitor.door_ids, visitor.has_pin) == ("UPCOMING", (portal,), False)
    pin = await client.generate_pin()
    assert len(pin) == 8
    await client.assign_visitor_pin(visitor.id, pin)
    await client.assign_visitor_pin(visitor.id, pin)  # the same visitor may set its own PIN again
    assert sim.unifi.use_pin(portal, pin) is False  # not yet
    sim.advance(timedelta(days=1))
    assert (await client.get_visitor(visitor.id)).status == "ACTIVE"
    assert sim.unifi.use_pin(portal, pin) is True
    await client.unassign_visitor_pin(visitor.id)
    assert not (await client.get_visitor(visitor.id)).has_pin
    await client.delete_visitor(visitor.id, force=False)
    assert (await client.get_visitor(visitor.id)).status == "CANCELLED"
    sim.advance(timedelta(days=3))
    with pytest.raises(ValidationError):
        await client.create_visitor(
            first_name="Ana",
            last_name="García",
            starts_at=SIM_NOW,
            ends_at=SIM_NOW + timedelta(days=1),
            door_ids=["x"],
        )


# --- errors through the simulator ---------------------------------------------------------------


async def test_errors_through_the_simulator(
    session: aiohttp.ClientSession,
    endpoint: UnifiEndpoint,
    client: UnifiAccessClient,
    sim: Simulator,
    portal: str,
) -> None:
    with pytest.raises(AuthError):
        await make_client(session, endpoint, token="wrong").list_doors()
    sim.unifi.permissions.discard("edit:space")
    with pytest.raises(MissingPermissionError) as err:
        await client.unlock(portal)
    assert err.value.permission == "edit:space"
    assert "edit:space" in str(err.value)
    sim.faults.inject(f"{UNIFI_PREFIX}/doors", status=503, body="<html>maintenance</html>", times=1)
    with pytest.raises(ServerError, match="maintenance"):
        await client.list_doors()
    sim.faults.inject(f"{UNIFI_PREFIX}/doors", status=429, times=1)
    with pytest.raises(RateLimitedError) as limited:
        await client.list_doors()
    assert limited.value.retry_after == 1.0
    sim.faults.inject(f"{UNIFI_PREFIX}/doors", status=404, times=1)
    with pytest.raises(NotFoundError, match="CODE_RESOURCE_NOT_FOUND"):
        await client.list_doors()
    sim.faults.inject(f"{UNIFI_PREFIX}/doors", disconnect=True, times=2)
    with pytest.raises(ApiConnectionError):
        await client.list_doors()
    assert len(await client.list_doors()) == 2


# --- the simulator's own API, over plain HTTP ---------------------------------------------------


async def test_plain_http_api(session: aiohttp.ClientSession, sim: Simulator, portal: str) -> None:
    assert sim.base_url is not None
    base = sim.base_url + UNIFI_PREFIX
    auth = {"Authorization": f"Bearer {sim.unifi.token}"}

    async def call(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with session.request(method, base + path, **kwargs) as resp:
            return resp.status, await resp.json(content_type=None)

    status, body = await call("GET", "/doors")
    assert (status, body["code"]) == (401, "CODE_ACCESS_TOKEN_INVALID")
    status, body = await call("GET", "/devices", headers=auth)
    assert status == 200
    (group,) = body["data"]
    assert {device["type"] for device in group} == {"UAH-DOOR", "UA-G2-PRO"}
    assert {device["location_id"] for device in group} == {portal}
    status, body = await call("GET", "/nowhere", headers=auth)
    assert (status, body["code"]) == (404, "CODE_RESOURCE_NOT_FOUND")
    status, body = await call("GET", "/devices/notifications", headers=auth)
    assert (status, body["code"]) == (400, "CODE_PARAMS_INVALID")
    status, body = await call("PUT", f"/doors/{portal}/unlock", headers=auth, data=b"{not json")
    assert (status, body["code"]) == (400, "CODE_PARAMS_INVALID")
    status, body = await call("PUT", f"/doors/{portal}/unlock", headers=auth, json={"actor_id": "a"})
    assert (status, body["code"]) == (400, "CODE_PARAMS_INVALID")
    status, body = await call("PUT", f"/doors/{portal}/lock_rule", headers=auth, json=["keep_lock"])
    assert (status, body["code"]) == (400, "CODE_PARAMS_INVALID")
    status, body = await call("PUT", f"/doors/{portal}/lock_rule", headers=auth, json={"type": "custom"})
    assert (status, body["code"]) == (400, "CODE_PARAMS_INVALID")

    window = {"start_time": int(SIM_NOW.timestamp()), "end_time": int(SIM_NOW.timestamp()) + 3600}
    visitor = {"first_name": "Ana", "last_name": "García", "visit_reason": "Others", **window}
    for bad in (
        [],
        {**visitor, "first_name": ""},
        {**visitor, "end_time": window["start_time"]},
        {**visitor, "start_time": "noon"},
        {**visitor, "visit_reason": "Party"},
        {**visitor, "resources": [{"id": portal, "type": "floor"}]},
    ):
        status, body = await call("POST", "/visitors", headers=auth, json=bad)
        assert (status, body["code"]) == (400, "CODE_PARAMS_INVALID"), bad
    status, body = await call(
        "POST", "/visitors", headers=auth, json={**visitor, "resources": [{"id": "g1", "type": "door_group"}]}
    )
    visitor_id = body["data"]["id"]
    status, body = await call(
        "PUT", f"/visitors/{visitor_id}/pin_codes", headers=auth, json={"pin_code": "24680"}
    )
    assert (status, body) == (200, {"code": "SUCCESS", "msg": "success"})  # no "data", as documented
    status, body = await call(
        "PUT", f"/visitors/{visitor_id}/pin_codes", headers=auth, json={"pin_code": 24680}
    )
    assert (status, body["code"]) == (400, "CODE_PARAMS_INVALID")
    await call("POST", "/visitors", headers=auth, json={**visitor, "first_name": "Bea"})
    status, body = await call("GET", "/visitors?page_num=2&page_size=1", headers=auth)
    assert body["pagination"] == {"page_num": 2, "page_size": 1, "total": 2}
    assert [v["first_name"] for v in body["data"]] == ["Bea"]
    status, body = await call("GET", "/visitors?keyword=An", headers=auth)
    assert [v["first_name"] for v in body["data"]] == ["Ana"]
    assert body["data"][0]["pin_code"]["token"]
    status, body = await call("GET", "/visitors?status=6", headers=auth)
    assert len(body["data"]) == 2
    status, body = await call("GET", "/visitors?status=abc", headers=auth)
    assert (status, body["code"]) == (400, "CODE_PARAMS_INVALID")
    status, body = await call("GET", "/visitors?page_num=0", headers=auth)
    assert (status, body["code"]) == (400, "CODE_PARAMS_INVALID")
    status, body = await call("DELETE", "/visitors/nobody", headers=auth)
    assert (status, body["code"]) == (404, "CODE_NOT_EXISTS")

    sim.faults.inject(f"{UNIFI_PREFIX}/doors", status=502, times=1)
    status, body = await call("GET", "/doors", headers=auth)
    assert (status, body["code"]) == (502, "CODE_SYSTEM_ERROR")
    summary = sim.summary()["vendors"]["unifi_access"]
    assert summary["prefix"] == UNIFI_PREFIX
    assert summary["doors"] == 2


async def test_listen_with_only_an_event_callback(client: UnifiAccessClient, sim: Simulator) -> None:
    sim.faults.inject(NOTIFICATIONS, status=400, times=1)
    with pytest.raises(ApiConnectionError, match="HTTP 400"):
        await client.listen(print, reconnect=False)
    task = asyncio.create_task(client.listen(print, reconnect=False))
    await sim.unifi.wait_for_websockets(1)
    sim.unifi.drop_websockets()
    async with asyncio.timeout(WAIT):
        await task


async def test_certificates(sim: Simulator, session: aiohttp.ClientSession) -> None:
    seeded = generate_self_signed_certificate(seed=7)
    assert seeded == generate_self_signed_certificate(seed=7)  # a pinned fingerprint survives restarts
    assert seeded.fingerprint != generate_self_signed_certificate(seed=8).fingerprint
    fresh = generate_self_signed_certificate(("127.0.0.1", "controller.local"))
    assert fresh.fingerprint != generate_self_signed_certificate().fingerprint
    async with serve_unifi_https(sim, certificate=fresh) as endpoint:
        assert endpoint.fingerprint == fresh.fingerprint
        assert endpoint.url == f"https://127.0.0.1:{endpoint.port}"
        assert await make_client(session, endpoint).list_doors()
        verified = make_client(session, endpoint, fingerprint=None, ssl_context=fresh.trusting_context())
        assert await verified.list_doors()


async def test_https_needs_a_serving_simulator() -> None:
    with pytest.raises(RuntimeError):
        async with serve_unifi_https(Simulator()):
            pass
