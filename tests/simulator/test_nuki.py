"""The Nuki client against the simulated Nuki Web API over loopback: fleet, actions, codes, logs, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from custom_components.kasify.api.errors import (
    ApiError,
    AuthError,
    BusyError,
    NotFoundError,
    OperationPendingError,
    ServerError,
    SmartHostingRequiredError,
    SubscriptionRequiredError,
    ValidationError,
)
from custom_components.kasify.api.kasify import KasifyClient
from custom_components.kasify.api.models import LockStatus
from custom_components.kasify.api.nuki import NukiClient, NukiEvent
from simulator import Simulator, SimulatorConfig
from simulator.nuki import (
    AUTHS_ADVANCED_ERROR,
    KEYPAD_CODE,
    NUKI_GARAGE_ID,
    NUKI_OPENER_ID,
    NUKI_PREFIX,
    NUKI_STORAGE_ID,
    NUKI_TOKEN,
    SMART_HOSTING_ERROR,
)

from .conftest import SIM_NOW, TOKEN, Http

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

STEP = timedelta(seconds=1.5)  # the default action delay


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(sim: Simulator, session: aiohttp.ClientSession) -> NukiClient:
    """The client against the simulator; its waits move the simulated clock instead of sleeping."""

    async def sleep(seconds: float) -> None:
        sim.advance(timedelta(seconds=seconds))

    return NukiClient(
        session, NUKI_TOKEN, base_url=sim.nuki_url, timeout=2.0, auth_poll_delays=(1.0, 1.0, 1.0), sleep=sleep
    )


def first_lock(sim: Simulator) -> int:
    """The Nuki id of property 0's lock (keypad, door sensor, history)."""
    record = sim.kasify.locks_for(sim.kasify.property_at(0)["id"])[0]
    return int(record["nuki_smartlock"]["nuki_smartlock_id"])


async def nuki_get(http: Http, path: str, **kwargs: Any) -> Any:
    return await http.call(
        "GET", NUKI_PREFIX + path, raw_url=True, token=kwargs.pop("token", NUKI_TOKEN), **kwargs
    )


# -- fleet and refresh -----------------------------------------------------------------------------------


async def test_the_nuki_url(sim: Simulator) -> None:
    assert sim.nuki_url == f"{sim.base_url}/nuki"


async def test_account(client: NukiClient, sim: Simulator) -> None:
    account = await client.get_account()
    assert account.id == str(sim.nuki.account["accountId"])
    assert account.name == "Kasify Host"


async def test_every_kasify_nuki_lock_is_a_nuki_device_with_the_same_key(
    client: NukiClient, sim: Simulator, session: aiohttp.ClientSession
) -> None:
    kasify = KasifyClient(session, sim.kasify_url, TOKEN)
    kasify_locks = [
        lock
        for prop in await kasify.list_properties()
        for lock in await kasify.list_smart_locks(prop.id)
        if lock.vendor == "nuki"
    ]
    nuki_locks = {lock.device_key: lock for lock in await client.list_smartlocks()}
    assert len(kasify_locks) == 2
    for kasify_lock in kasify_locks:
        linked = nuki_locks[kasify_lock.device_key]
        assert linked.battery_charge == kasify_lock.battery_level
        assert linked.status is kasify_lock.status
    extras = set(nuki_locks) - {lock.device_key for lock in kasify_locks}
    assert extras == {f"nuki_{NUKI_GARAGE_ID}", f"nuki_{NUKI_OPENER_ID}", f"nuki_{NUKI_STORAGE_ID}"}


async def test_the_seeded_devices(client: NukiClient, sim: Simulator) -> None:
    locks = {lock.id: lock for lock in await client.list_smartlocks()}
    main = locks[first_lock(sim)]
    assert (main.status, main.battery_charge, main.battery_critical) == (LockStatus.LOCKED, 80, False)
    assert (main.keypad_paired, main.door_open, main.connected, main.smart_hosting_active) == (
        True,
        False,
        True,
        True,
    )
    assert main.name == f"{sim.kasify.property_at(0)['name']} - Puerta principal"
    low = locks[
        int(sim.kasify.locks_for(sim.kasify.property_at(2)["id"])[0]["nuki_smartlock"]["nuki_smartlock_id"])
    ]
    assert (low.battery_charge, low.battery_critical) == (15, True)
    garage = locks[NUKI_GARAGE_ID]
    assert (garage.type, garage.battery_charge, garage.battery_critical, garage.connected) == (
        0,
        None,
        False,
        False,
    )
    opener = locks[NUKI_OPENER_ID]
    assert (opener.is_opener, opener.status, opener.supports_open) == (True, LockStatus.LOCKED, True)
    storage = locks[NUKI_STORAGE_ID]
    assert storage.subscription_missing
    assert storage.error == SMART_HOSTING_ERROR
    assert not storage.state_reported


@pytest.mark.parametrize("properties", [3, 40])
async def test_a_refresh_costs_one_request_for_all_locks_plus_one_for_the_log(
    socket_enabled: None, session: aiohttp.ClientSession, properties: int
) -> None:
    sim = Simulator(SimulatorConfig(properties=properties, seed=1, token=TOKEN, now=SIM_NOW))
    async with sim.serve():
        client = NukiClient(session, NUKI_TOKEN, base_url=sim.nuki_url)
        snapshot = await client.fetch_snapshot(logs_since=SIM_NOW - timedelta(days=1))
        assert len(snapshot.locks) == len(sim.nuki.locks) >= properties // 4
        assert sim.count_requests(NUKI_PREFIX) == 2
        assert sim.count_requests(f"{NUKI_PREFIX}/smartlock", "GET") == 2
        assert [r.path for r in sim.requests_for(NUKI_PREFIX)].count("/nuki/smartlock") == 1
        assert snapshot.logs
        sim.reset_requests()
        await client.fetch_snapshot(logs=False)
        assert [r.path for r in sim.requests_for(NUKI_PREFIX)] == ["/nuki/smartlock"]


# -- actions and their state steps ----------------------------------------------------------------------


async def test_unlock_passes_through_unlocking_and_is_mirrored_into_kasify(
    client: NukiClient, sim: Simulator, session: aiohttp.ClientSession
) -> None:
    lock_id = first_lock(sim)
    await client.unlock(lock_id)
    moving = await client.get_smartlock(lock_id)
    assert (moving.status, moving.operation_pending) == (LockStatus.UNLOCKING, True)
    with pytest.raises(BusyError):
        await client.lock(lock_id)
    sim.advance(STEP)
    done = await client.get_smartlock(lock_id)
    assert (done.status, done.operation_pending) == (LockStatus.UNLOCKED, False)
    kasify = KasifyClient(session, sim.kasify_url, TOKEN)
    (kasify_lock,) = await kasify.list_smart_locks(sim.kasify.property_at(0)["id"])
    assert kasify_lock.status is LockStatus.UNLOCKED
    newest = (await client.list_logs(limit=1))[0]
    assert (newest.smartlock_id, newest.event, newest.name, newest.date) == (
        lock_id,
        NukiEvent.UNLOCKED,
        "Nuki Web",
        SIM_NOW + STEP,
    )


@pytest.mark.parametrize(
    ("method", "start", "steps"),
    [
        ("lock", 3, [LockStatus.LOCKING, LockStatus.LOCKED]),
        ("unlatch", 1, [LockStatus.OPENING, LockStatus.OPEN, LockStatus.UNLOCKED]),
    ],
)
async def test_state_steps(
    client: NukiClient, sim: Simulator, method: str, start: int, steps: list[LockStatus]
) -> None:
    lock_id = first_lock(sim)
    sim.nuki.set_lock(lock_id, lock_state=start)
    await getattr(client, method)(lock_id)
    seen = []
    for _ in steps:
        seen.append((await client.get_smartlock(lock_id)).status)
        sim.advance(STEP)
    assert seen == steps
    assert (await client.get_smartlock(lock_id)).status is steps[-1]


async def test_with_no_delay_the_next_read_shows_the_end_state(client: NukiClient, sim: Simulator) -> None:
    sim.nuki.action_delay = 0
    lock_id = first_lock(sim)
    await client.unlatch(lock_id)
    assert (await client.get_smartlock(lock_id)).status is LockStatus.UNLOCKED
    await client.lock(lock_id)  # not busy any more
    assert (await client.get_smartlock(lock_id)).status is LockStatus.LOCKED


async def test_a_jammed_lock(client: NukiClient, sim: Simulator) -> None:
    lock_id = first_lock(sim)
    sim.nuki.jam_next_action(lock_id)
    await client.unlock(lock_id)
    sim.advance(STEP)
    assert (await client.get_smartlock(lock_id)).status is LockStatus.JAMMED
    assert (await client.list_smartlock_logs(lock_id, limit=1))[0].event is NukiEvent.JAMMED


async def test_the_opener(client: NukiClient, sim: Simulator) -> None:
    await client.unlock(NUKI_OPENER_ID)  # ring to open on
    sim.advance(STEP)
    assert (await client.get_smartlock(NUKI_OPENER_ID)).status is LockStatus.UNLOCKED
    await client.unlatch(NUKI_OPENER_ID)  # buzz the door
    seen = []
    for _ in range(3):
        seen.append((await client.get_smartlock(NUKI_OPENER_ID)).status)
        sim.advance(STEP)
    assert seen == [LockStatus.OPENING, LockStatus.OPEN, LockStatus.UNLOCKED]
    await client.lock(NUKI_OPENER_ID)  # ring to open off
    sim.advance(STEP)
    assert (await client.get_smartlock(NUKI_OPENER_ID)).status is LockStatus.LOCKED
    await client.action(NUKI_OPENER_ID, 6)  # continuous mode
    sim.advance(STEP)
    assert (await client.get_smartlock(NUKI_OPENER_ID)).status is LockStatus.UNLOCKED
    with pytest.raises(ValidationError) as caught:
        await client.action(NUKI_OPENER_ID, 4)  # lock 'n' go is not an Opener action
    assert list(caught.value.fields) == ["action"]


async def test_an_offline_lock_accepts_an_action_and_does_nothing(client: NukiClient, sim: Simulator) -> None:
    before = await client.get_smartlock(NUKI_GARAGE_ID)
    await client.unlock(NUKI_GARAGE_ID)
    sim.advance(STEP * 3)
    assert await client.get_smartlock(NUKI_GARAGE_ID) == before


async def test_a_busy_lock_refuses_actions_and_code_changes(client: NukiClient, sim: Simulator) -> None:
    lock_id = first_lock(sim)
    sim.nuki.set_lock(lock_id, busy=True)
    assert (await client.get_smartlock(lock_id)).operation_pending
    with pytest.raises(BusyError, match="HTTP 423: Locked"):
        await client.unlock(lock_id)
    with pytest.raises(BusyError):
        await client.create_keypad_code(lock_id, name="Ana", code=456789)
    (cleaning,) = await client.list_keypad_codes(lock_id)
    with pytest.raises(BusyError):
        await client.delete_keypad_code(lock_id, cleaning.id)
    sim.nuki.set_lock(lock_id, busy=False)
    await client.unlock(lock_id)


async def test_the_live_clock_settles_without_a_read(client: NukiClient, sim: Simulator) -> None:
    sim.clock.unfreeze()
    sim.nuki.action_delay = 0.05
    lock_id = first_lock(sim)
    await client.unlock(lock_id)
    record = sim.kasify.locks_for(sim.kasify.property_at(0)["id"])[0]
    for _ in range(100):
        if record["lock_state"] == 3:
            break
        await asyncio.sleep(0.01)
    assert record["lock_state"] == 3


# -- Smart Hosting, payment ------------------------------------------------------------------------------


async def test_a_lock_without_smart_hosting(client: NukiClient, sim: Simulator) -> None:
    for call in (
        client.lock(NUKI_STORAGE_ID),
        client.get_smartlock(NUKI_STORAGE_ID),
        client.list_keypad_codes(NUKI_STORAGE_ID),
        client.create_keypad_code(NUKI_STORAGE_ID, name="Ana", code=456789),
        client.list_smartlock_logs(NUKI_STORAGE_ID),
    ):
        with pytest.raises(SmartHostingRequiredError) as caught:
            await call
        assert caught.value.lock_id == str(NUKI_STORAGE_ID)
        assert caught.value.status == 402
    storage_logs = [entry for entry in await client.list_logs() if entry.smartlock_id == NUKI_STORAGE_ID]
    assert storage_logs
    assert all(entry.error == SMART_HOSTING_ERROR and entry.event is None for entry in storage_logs)


async def test_the_docs_error_shape_and_another_status(client: NukiClient, sim: Simulator) -> None:
    sim.nuki.shs_error_shape = "error"
    sim.nuki.shs_error_status = 403
    with pytest.raises(SmartHostingRequiredError) as caught:
        await client.unlock(NUKI_STORAGE_ID)
    assert caught.value.status == 403


async def test_a_subscription_brings_the_lock_back(client: NukiClient, sim: Simulator) -> None:
    sim.nuki.set_lock(NUKI_STORAGE_ID, smart_hosting=True)
    lock = await client.get_smartlock(NUKI_STORAGE_ID)
    assert (lock.smart_hosting_active, lock.status, lock.name) == (True, LockStatus.LOCKED, "Trastero")
    await client.unlock(NUKI_STORAGE_ID)
    sim.nuki.set_lock(NUKI_OPENER_ID, smart_hosting=False)
    assert (await client.get_smartlock(NUKI_STORAGE_ID)).status is LockStatus.UNLOCKING
    opener = {lock.id: lock for lock in await client.list_smartlocks()}[NUKI_OPENER_ID]
    assert opener.subscription_missing


async def _refused_writes(http: Http, lock_id: int, auth_id: str) -> list[tuple[int, Any]]:
    """Every action and authorization write on the lock, raw: (status, body) of each."""
    base = f"{NUKI_PREFIX}/smartlock/{lock_id}"
    calls: list[tuple[str, str, Any]] = [
        ("POST", f"{base}/action", {"action": 1}),
        ("POST", f"{base}/action/unlock", None),
        ("POST", f"{base}/action/lock", None),
        ("PUT", f"{base}/auth", {"name": "Ana", "type": 13, "code": 456789, "remoteAllowed": False}),
        ("POST", f"{base}/auth/{auth_id}", {"name": "Otra", "enabled": False}),
        ("DELETE", f"{base}/auth/{auth_id}", None),
    ]
    answers = []
    for method, path, body in calls:
        reply = await http.call(method, path, json_body=body, raw_url=True, token=NUKI_TOKEN)
        answers.append((reply.status, reply.body))
    return answers


async def test_refused_writes_answer_200_with_the_refusal_and_change_nothing(
    http: Http, sim: Simulator
) -> None:
    lock_id = first_lock(sim)
    (cleaning,) = sim.nuki.auths_for(lock_id, {KEYPAD_CODE})
    auths, state = dict(sim.nuki.auths), dict(sim.nuki.get_lock(lock_id)["state"])
    sim.nuki.refuse_writes(lock_id)
    refusal = {"detailMessage": SMART_HOSTING_ERROR, "stackTrace": [], "suppressedExceptions": []}
    assert await _refused_writes(http, lock_id, cleaning["id"]) == [(200, refusal)] * 6
    sim.advance(STEP * 3)
    assert sim.nuki.auths == auths
    assert sim.nuki.get_lock(lock_id)["state"] == state
    assert sim.nuki.auths_for(lock_id, {KEYPAD_CODE}) == [cleaning]
    # Reads and the listing stay as they are.
    reply = await nuki_get(http, f"/smartlock/{lock_id}")
    assert (reply.status, reply.body["currentSubscription"]["state"]) == (200, "ACTIVE")
    assert (await nuki_get(http, f"/smartlock/{lock_id}/auth")).status == 200

    sim.nuki.allow_writes(lock_id)
    reply = await http.call(
        "POST",
        f"{NUKI_PREFIX}/smartlock/{lock_id}/action",
        json_body={"action": 1},
        raw_url=True,
        token=NUKI_TOKEN,
    )
    assert reply.status == 204


async def test_refused_writes_in_the_error_shape_with_any_text(http: Http, sim: Simulator) -> None:
    lock_id = first_lock(sim)
    (cleaning,) = sim.nuki.auths_for(lock_id, {KEYPAD_CODE})
    text = AUTHS_ADVANCED_ERROR.format(ids=lock_id)
    sim.nuki.refuse_writes(lock_id, shape="error", message=text)
    assert await _refused_writes(http, lock_id, cleaning["id"]) == [(200, {"error": text})] * 6
    sim.nuki.refuse_writes(lock_id, shape="error", message="Something else went wrong", status=202)
    assert (await _refused_writes(http, lock_id, cleaning["id"]))[0] == (
        202,
        {"error": "Something else went wrong"},
    )
    with pytest.raises(ValueError, match="unknown refusal shape"):
        sim.nuki.refuse_writes(lock_id, shape="html")


async def test_the_client_takes_writes_refused_with_200_as_refusals(
    client: NukiClient, sim: Simulator
) -> None:
    lock_id = first_lock(sim)
    (cleaning,) = await client.list_keypad_codes(lock_id)
    sim.nuki.refuse_writes(lock_id)
    for call in (
        client.lock(lock_id),
        client.unlock(lock_id),
        client.unlatch(lock_id),
        client.create_keypad_code(lock_id, name="Ana", code=456789),
        client.update_keypad_code(lock_id, cleaning.id, name="Limpieza", enabled=False),
        client.delete_keypad_code(lock_id, cleaning.id),
    ):
        with pytest.raises(SmartHostingRequiredError) as caught:
            await call
        assert (caught.value.lock_id, caught.value.status) == (str(lock_id), 200)
    assert await client.list_keypad_codes(lock_id) == [cleaning]
    assert (await client.get_smartlock(lock_id)).status is LockStatus.LOCKED

    sim.nuki.refuse_writes(lock_id, shape="error", message="Try again later")
    with pytest.raises(ApiError, match=r"HTTP 200: Try again later$") as other:
        await client.unlock(lock_id)
    assert not isinstance(other.value, SubscriptionRequiredError)


async def test_an_unpaid_account(client: NukiClient, sim: Simulator) -> None:
    sim.nuki.account_paid = False
    with pytest.raises(SubscriptionRequiredError, match="Account not payed") as caught:
        await client.unlock(first_lock(sim))
    assert caught.value.error_type == "account_not_paid"
    assert not isinstance(caught.value, SmartHostingRequiredError)


# -- keypad codes ----------------------------------------------------------------------------------------


async def test_create_a_keypad_code_and_find_it_once_it_shows_up(client: NukiClient, sim: Simulator) -> None:
    lock_id = first_lock(sim)
    sim.reset_requests()
    check_in = SIM_NOW + timedelta(hours=3)
    code = await client.create_keypad_code(
        lock_id, name="Ana", code=456789, allowed_from=check_in, allowed_until=check_in + timedelta(days=3)
    )
    assert (code.name, code.code, code.allowed_from, code.allowed_until) == (
        "Ana",
        456789,
        check_in,
        check_in + timedelta(days=3),
    )
    put, *lists = sim.requests_for(NUKI_PREFIX)
    assert (put.method, put.status, put.body["code"]) == ("PUT", 204, 456789)
    assert [(r.method, r.query) for r in lists] == [("GET", {"types": "13"})] * 2  # shows up 2 s later
    listed = await client.list_keypad_codes(lock_id)
    assert [item.name for item in listed] == ["Limpieza", "Ana"]
    await client.delete_keypad_code(lock_id, code.id)
    assert [item.name for item in await client.list_keypad_codes(lock_id)] == ["Limpieza"]
    with pytest.raises(NotFoundError):
        await client.delete_keypad_code(lock_id, code.id)


async def test_a_slow_code_is_pending_and_can_be_found_later(client: NukiClient, sim: Simulator) -> None:
    lock_id = first_lock(sim)
    sim.nuki.auth_delay = 60
    with pytest.raises(OperationPendingError):
        await client.create_keypad_code(lock_id, name="Ana", code=456789)
    assert await client.find_keypad_code(lock_id, name="Ana", code=456789) is None
    sim.advance(timedelta(minutes=1))
    found = await client.find_keypad_code(lock_id, name="Ana", code=456789)
    assert found is not None
    assert found.updated_at is not None


async def test_a_code_already_on_the_lock_is_refused_without_showing_it(
    client: NukiClient, sim: Simulator
) -> None:
    with pytest.raises(ValidationError) as caught:
        await client.create_keypad_code(first_lock(sim), name="Otra limpieza", code=345678)
    assert "345678" not in f"{caught.value} {caught.value.fields}"
    assert list(caught.value.fields) == ["code"]


async def test_a_lock_without_keypad_refuses_codes(client: NukiClient, sim: Simulator) -> None:
    lock_id = int(
        sim.kasify.locks_for(sim.kasify.property_at(2)["id"])[0]["nuki_smartlock"]["nuki_smartlock_id"]
    )
    sim.nuki.set_lock(lock_id, keypad=False)
    with pytest.raises(ValidationError, match="The supplied value '13' for parameter 'type' is not valid"):
        await client.create_keypad_code(lock_id, name="Ana", code=456789)


@pytest.mark.parametrize(
    ("body", "status", "parameter"),
    [
        ({"name": "Ana", "remoteAllowed": False, "type": 13}, 400, "code"),
        ({"name": "Ana", "remoteAllowed": False, "type": 13, "code": 123456}, 400, "code"),
        ({"name": "Ana", "remoteAllowed": False, "type": 13, "code": 405060}, 400, "code"),
        ({"name": "", "remoteAllowed": False, "type": 13, "code": 456789}, 400, "name"),
        ({"name": "A" * 33, "remoteAllowed": False, "type": 13, "code": 456789}, 400, "name"),
        ({"name": "Ana", "type": 13, "code": 456789}, 400, "remoteAllowed"),
        ({"name": "Ana", "remoteAllowed": True}, 400, "accountUserId"),
        ({"name": "Ana", "remoteAllowed": False, "type": 7}, 400, "type"),
        (
            {"name": "Ana", "remoteAllowed": False, "type": 13, "code": 456789, "allowedWeekDays": 200},
            400,
            None,
        ),
        (
            {"name": "Ana", "remoteAllowed": False, "type": 13, "code": 456789, "allowedFromTime": 2000},
            400,
            None,
        ),
        ({"name": "Ana", "remoteAllowed": False, "type": 13, "code": "456789"}, 422, None),
        (
            {"name": "Ana", "remoteAllowed": False, "type": 13, "code": 456789, "allowedFromDate": "soon"},
            422,
            None,
        ),
        ([1, 2], 422, None),
    ],
)
async def test_auth_validation_shapes(
    http: Http, sim: Simulator, body: Any, status: int, parameter: str | None
) -> None:
    reply = await http.call(
        "PUT",
        f"{NUKI_PREFIX}/smartlock/{first_lock(sim)}/auth",
        json_body=body,
        raw_url=True,
        token=NUKI_TOKEN,
    )
    assert reply.status == status
    if status == 400:
        assert set(reply.body) == {"detailMessage", "stackTrace", "suppressedExceptions"}
        if parameter:
            assert f"for parameter '{parameter}' is not valid" in reply.body["detailMessage"]
    else:
        assert reply.body["code"] == 422
        assert reply.body["reasonPhrase"] == "Unprocessable Entity"


# -- logs ------------------------------------------------------------------------------------------------


async def test_log_cursor_pages_back_without_overlap(client: NukiClient, sim: Simulator) -> None:
    everything = await client.list_logs()
    assert len(everything) >= 8
    first_page = await client.list_logs(limit=3)
    second_page = await client.list_logs(limit=3, before_id=first_page[-1].id)
    assert [e.id for e in first_page + second_page] == [e.id for e in everything[:6]]
    assert [e.date for e in everything] == sorted((e.date for e in everything), reverse=True)


async def test_log_window(client: NukiClient, sim: Simulator) -> None:
    recent = await client.list_logs(since=SIM_NOW - timedelta(hours=2, minutes=50), until=SIM_NOW)
    events = [entry.event for entry in recent if entry.smartlock_id == first_lock(sim)]
    assert events == [NukiEvent.ACCESS_DENIED, NukiEvent.LOCKED, NukiEvent.DOOR_CLOSED]
    history = await client.list_smartlock_logs(first_lock(sim))
    code_used = next(entry for entry in history if entry.event is NukiEvent.CODE_USED)
    (cleaning,) = await client.list_keypad_codes(first_lock(sim))
    assert (code_used.name, code_used.auth_id) == ("Limpieza", cleaning.id)


@pytest.mark.parametrize("limit", ["0", "51", "many"])
async def test_the_log_limit_is_checked(http: Http, limit: str) -> None:
    reply = await nuki_get(http, "/smartlock/log", params={"limit": limit})
    assert reply.status == 400
    assert reply.body["detailMessage"] == f"The supplied value '{limit}' for parameter 'limit' is not valid"


# -- HTTP shapes, auth, faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong"])
async def test_auth_is_required(http: Http, token: str | None) -> None:
    reply = await nuki_get(http, "/smartlock", token=token)
    assert reply.status == 401
    assert reply.body["code"] == 401
    assert reply.body["reasonPhrase"] == "Unauthorized"
    assert reply.body["homeRef"] == "/"


async def test_a_wrong_token_is_an_auth_error(sim: Simulator, session: aiohttp.ClientSession) -> None:
    with pytest.raises(AuthError):
        await NukiClient(session, "wrong", base_url=sim.nuki_url).list_smartlocks()


async def test_unknown_devices_and_routes(http: Http, client: NukiClient) -> None:
    with pytest.raises(NotFoundError, match="Smartlock 1 not found"):
        await client.get_smartlock(1)
    reply = await nuki_get(http, "/smartlock/not-a-number")
    assert (reply.status, reply.body["code"]) == (404, 404)
    reply = await http.call("DELETE", f"{NUKI_PREFIX}/smartlock", raw_url=True, token=NUKI_TOKEN)
    assert (reply.status, reply.body["code"]) == (405, 405)


async def test_lock_shortcuts(http: Http, sim: Simulator) -> None:
    async def post(path: str) -> int:
        reply = await http.call("POST", f"{NUKI_PREFIX}{path}", raw_url=True, token=NUKI_TOKEN)
        return reply.status

    lock_id = first_lock(sim)
    assert await post(f"/smartlock/{lock_id}/action/unlock") == 204
    assert await post(f"/smartlock/{NUKI_OPENER_ID}/action/lock") == 405
    sim.advance(STEP)
    assert sim.nuki.get_lock(lock_id)["state"]["state"] == 3


async def test_list_filters_by_type(http: Http) -> None:
    reply = await nuki_get(http, "/smartlock", params={"type": "2"})
    assert [lock["smartlockId"] for lock in reply.body] == [NUKI_OPENER_ID]


async def test_faults_use_the_shared_injector(client: NukiClient, sim: Simulator) -> None:
    sim.faults.inject("/nuki/smartlock", method="GET", status=503, body="<html>down</html>", times=1)
    with pytest.raises(ServerError):
        await client.list_smartlocks()
    assert await client.list_smartlocks()
    sim.faults.inject("/nuki/smartlock", method="POST", status=423, times=1)
    with pytest.raises(BusyError, match="Injected fault"):
        await client.unlock(first_lock(sim))


async def test_the_state_summary_includes_nuki(http: Http, sim: Simulator) -> None:
    reply = await http.get("/_sim/state", raw_url=True)
    assert reply.body["vendors"]["nuki"] == {
        "prefix": "/nuki",
        "token": NUKI_TOKEN,
        "account_id": sim.nuki.account["accountId"],
        "locks": 5,
        "auths": 2,
        "logs": len(sim.nuki.logs),
    }


async def test_battery_fields_can_be_changed_and_removed(client: NukiClient, sim: Simulator) -> None:
    lock_id = first_lock(sim)
    sim.nuki.set_lock(
        lock_id, battery_charge=None, battery_critical=True, battery_charging=None, name="Puerta"
    )
    lock = await client.get_smartlock(lock_id)
    assert (lock.battery_charge, lock.battery_critical, lock.battery_charging, lock.name) == (
        None,
        True,
        None,
        "Puerta",
    )
    assert sim.kasify.locks_for(sim.kasify.property_at(0)["id"])[0]["battery_level"] is None


async def test_going_offline_and_removal(client: NukiClient, sim: Simulator) -> None:
    lock_id = first_lock(sim)
    kasify_record = sim.kasify.locks_for(sim.kasify.property_at(0)["id"])[0]
    sim.nuki.set_lock(lock_id, server_state=4)
    assert not (await client.get_smartlock(lock_id)).connected
    assert kasify_record["offline"] is True
    sim.kasify.remove_lock(kasify_record["id"])
    sim.nuki.set_lock(lock_id, server_state=0)  # no Kasify record to mirror into any more
    assert lock_id not in sim.nuki.kasify_links
    sim.nuki.remove_lock(lock_id)
    assert lock_id not in {lock.id for lock in await client.list_smartlocks()}
    assert all(auth["smartlockId"] != lock_id for auth in sim.nuki.auths.values())
    with pytest.raises(ValueError, match="already exists"):
        sim.nuki.add_lock("Again", smartlock_id=NUKI_OPENER_ID)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/action", "{not json", 422),
        ("POST", "/action", '{"action": 1, "option": -1}', 400),
        ("POST", "/action", '{"action": true}', 400),
        ("POST", "/action", "", 400),
        ("GET", "/auth?types=abc", None, 400),
    ],
)
async def test_bad_requests(
    http: Http, sim: Simulator, method: str, path: str, body: str | None, status: int
) -> None:
    url = f"{sim.nuki_url}/smartlock/{first_lock(sim)}{path}"
    headers = {"Authorization": f"Bearer {NUKI_TOKEN}", "Content-Type": "application/json"}
    async with http.session.request(method, url, data=body, headers=headers) as resp:
        assert resp.status == status
        payload = await resp.json()
    assert ("detailMessage" in payload) is (status == 400)


async def test_a_keypad_code_typed_at_the_lock(client: NukiClient, sim: Simulator) -> None:
    """A valid keypad code unlocks and logs its name and authorization id; a code outside its dates, a
    disabled code or an unknown one log an invalid code naming nobody."""
    lock_id = first_lock(sim)
    now = sim.clock.now()
    guest = sim.nuki.add_auth(
        lock_id,
        "Ana",
        code=246813,
        allowed_from=now - timedelta(hours=1),
        allowed_until=now + timedelta(days=1),
    )
    later = sim.nuki.add_auth(lock_id, "Later", code=357913, allowed_from=now + timedelta(days=1))
    off = sim.nuki.add_auth(lock_id, "Off", code=468135, enabled=False)

    sim.nuki.use_code(lock_id, 246813)
    entry = (await client.list_smartlock_logs(lock_id, limit=1))[0]
    assert (entry.event, entry.name, entry.auth_id) == (NukiEvent.CODE_USED, "Ana", guest["id"])
    assert (await client.get_smartlock(lock_id)).status is LockStatus.UNLOCKED

    for code in (357913, 468135, 111111):
        sim.nuki.use_code(lock_id, code)
        entry = (await client.list_smartlock_logs(lock_id, limit=1))[0]
        assert (entry.event, entry.name, entry.auth_id) == (NukiEvent.ACCESS_DENIED, "", None)
    assert {later["id"], off["id"]}.isdisjoint({e.auth_id for e in await client.list_smartlock_logs(lock_id)})
