"""Tests for the Nuki Web API client: requests sent, models returned, every documented error shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import random
import re
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from custom_components.kasify.api.errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    BusyError,
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    NotSupportedError,
    OperationPendingError,
    RateLimitedError,
    ServerError,
    SmartHostingRequiredError,
    SubscriptionRequiredError,
    ValidationError,
)
from custom_components.kasify.api.models import LockStatus, SmartLock
from custom_components.kasify.api.nuki import (
    DEFAULT_BASE_URL,
    NukiAction,
    NukiClient,
    NukiEvent,
    NukiKeypadCode,
    NukiSmartLock,
    generate_keypad_code,
    keypad_code_problem,
    nuki_time,
    parse_smartlock,
    validate_keypad_code,
)

from .conftest import MakeFake
from .fake_api import FakeApi, load_fixture

BASE_URL = "https://api.nuki.test"
TOKEN = "nuki_9F8e7D6c5B4a3F2e1D0c7b6a5f4e3d2c1b0a"  # distinctive, so a leak into a message is easy to spot
LOCK_ID = 18043712356
SHS_LOCK_ID = 13434261644
SHS_MESSAGE = "No active Smart Hosting subscription for the Smart Lock, please get one!"
MADRID = ZoneInfo("Europe/Madrid")


def load(name: str) -> Any:
    return load_fixture("nuki", name)


@pytest.fixture
def nuki(fake_api: MakeFake) -> FakeApi:
    """The scripted Nuki Web API; every request must carry the token."""
    return fake_api(BASE_URL, headers={"Authorization": f"Bearer {TOKEN}"})


class Sleeps:
    """An injected sleep that records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(session: aiohttp.ClientSession, nuki: FakeApi, sleeps: Sleeps) -> NukiClient:
    return NukiClient(session, TOKEN, base_url=BASE_URL, auth_poll_delays=(0.5, 1.0, 2.0), sleep=sleeps)


def lock_json(**overrides: Any) -> dict[str, Any]:
    """The first fixture lock (Smart Lock 3.0 with keypad and door sensor) with changes."""
    first: dict[str, Any] = load("smartlocks.json")[0]
    return first | overrides


def with_state(**state: Any) -> dict[str, Any]:
    base = lock_json()
    return base | {"state": base["state"] | state}


# -- transport -------------------------------------------------------------------------------------------


async def test_every_request_carries_the_token_asks_for_json_and_has_a_timeout(
    session: aiohttp.ClientSession, nuki: FakeApi
) -> None:
    client = NukiClient(session, TOKEN, base_url=BASE_URL + "/", timeout=7.5)
    assert client.base_url == BASE_URL
    nuki.reply("GET", "/account", load("account.json"))
    await client.get_account()
    assert nuki.call.headers == {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    assert nuki.call.timeout_total == 7.5


def test_the_default_base_url_is_nukis(session: aiohttp.ClientSession) -> None:
    assert NukiClient(session, TOKEN).base_url == DEFAULT_BASE_URL == "https://api.nuki.io"


async def test_the_session_is_not_closed(
    session: aiohttp.ClientSession, client: NukiClient, nuki: FakeApi
) -> None:
    nuki.reply("GET", "/account", load("account.json"))
    await client.get_account()
    assert not session.closed


async def test_ids_are_quoted_as_one_path_segment(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock/..%2Faccount", lock_json())
    await client.get_smartlock("../account")
    assert nuki.call.path == "/smartlock/..%2Faccount"


@pytest.mark.parametrize("auth_id", ["..", ".", ""])
async def test_dot_segments_never_reach_a_path(client: NukiClient, nuki: FakeApi, auth_id: str) -> None:
    # DELETE /smartlock/{id}/auth/.. would be normalised to DELETE /smartlock/{id}/: the lock itself.
    with pytest.raises(ValueError, match="cannot be used as an id"):
        await client.delete_keypad_code(LOCK_ID, auth_id)
    assert nuki.calls == []


# -- account and locks -----------------------------------------------------------------------------------


async def test_get_account_gives_the_unique_id(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/account", load("account.json"))
    account = await client.get_account()
    assert (account.id, account.name, account.email, account.language) == (
        "4711",
        "Apartamentos Kasify",
        "host@example.com",
        "es",
    )


async def test_account_without_a_name_falls_back_to_the_email(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/account", {"accountId": 5, "email": "a@b.c"})
    assert (await client.get_account()).name == "a@b.c"


async def test_list_smartlocks_is_one_request_for_every_lock(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock", load("smartlocks.json"))
    locks = await client.list_smartlocks()
    assert nuki.call.path == "/smartlock"
    assert [lock.id for lock in locks] == [LOCK_ID, 17913012514, 16000000101, SHS_LOCK_ID]


async def test_a_full_smart_lock(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock", load("smartlocks.json"))
    lock = (await client.list_smartlocks())[0]
    assert lock == NukiSmartLock(
        id=LOCK_ID,
        name="Casa Azul - Puerta principal",
        type=4,
        lock_state=1,
        mode=2,
        door_state=2,
        battery_charge=78,
        battery_critical=False,
        battery_charging=True,
        keypad_battery_critical=True,
        door_sensor_battery_critical=False,
        keypad_paired=True,
        server_state=0,
        firmware_version=199175,
        hardware_version=1291,
        subscription_state="ACTIVE",
        subscription_type="BUSINESS",
        subscription_expires_at=datetime(2027, 1, 10, 9, tzinfo=UTC),
        smart_hosting_active=True,
        operation_pending=False,
        error=None,
    )
    assert lock.status is LockStatus.LOCKED
    assert (lock.door_open, lock.has_door_sensor, lock.connected) == (False, True, True)
    assert (lock.supports_lock, lock.supports_unlock, lock.supports_open) == (True, True, True)
    assert (lock.model, lock.firmware, lock.device_key) == (
        "Smart Lock 3.0/4th gen",
        "3.10.7",
        f"nuki_{LOCK_ID}",
    )
    assert not lock.subscription_missing
    assert lock.state_reported


async def test_an_opener_has_ring_to_open_and_open_only(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock", load("smartlocks.json"))
    opener = (await client.list_smartlocks())[1]
    assert opener.is_opener
    assert opener.model == "Opener"
    assert opener.status is LockStatus.UNLOCKED  # ring to open active
    assert opener.supported_actions == {NukiAction.UNLOCK, NukiAction.LOCK, NukiAction.UNLATCH}
    assert (opener.battery_charge, opener.battery_charging, opener.keypad_paired) == (None, None, False)
    assert not opener.has_door_sensor
    assert opener.smart_hosting_active is None  # nothing said about a subscription


async def test_an_old_offline_lock_without_battery_charge(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock", load("smartlocks.json"))
    garage = (await client.list_smartlocks())[2]
    assert (garage.battery_charge, garage.battery_critical) == (None, True)
    assert garage.server_state == 4
    assert not garage.connected
    assert garage.operation_pending
    assert garage.firmware is None
    assert garage.model == "Smart Lock"


async def test_the_seed_item_without_smart_hosting_still_parses(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock", load("smartlocks.json"))
    shs = (await client.list_smartlocks())[3]
    assert shs.id == SHS_LOCK_ID
    assert shs.name == f"Nuki {SHS_LOCK_ID}"
    assert shs.subscription_missing
    assert shs.smart_hosting_active is False
    assert shs.error == SHS_MESSAGE
    assert not shs.state_reported
    assert shs.status is LockStatus.UNKNOWN
    assert (shs.battery_charge, shs.battery_critical, shs.door_open) == (None, None, None)
    assert not shs.connected  # serverState 1: unregistered


async def test_get_smartlock(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", f"/smartlock/{LOCK_ID}", lock_json())
    lock = await client.get_smartlock(LOCK_ID)
    assert lock.id == LOCK_ID
    assert nuki.call.method == "GET"


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (0, LockStatus.UNKNOWN),
        (1, LockStatus.LOCKED),
        (2, LockStatus.UNLOCKING),
        (3, LockStatus.UNLOCKED),
        (4, LockStatus.LOCKING),
        (5, LockStatus.OPEN),
        (6, LockStatus.UNLOCKED),
        (7, LockStatus.OPENING),
        (224, LockStatus.UNKNOWN),
        (254, LockStatus.JAMMED),
        (255, LockStatus.UNKNOWN),
    ],
)
def test_lock_states(state: int, status: LockStatus) -> None:
    assert parse_smartlock(with_state(state=state), "lock").status is status


@pytest.mark.parametrize(
    ("state", "mode", "status"),
    [
        (0, 2, LockStatus.UNKNOWN),  # untrained
        (1, 2, LockStatus.LOCKED),  # online, ring to open off
        (3, 2, LockStatus.UNLOCKED),  # ring to open active
        (5, 2, LockStatus.OPEN),
        (7, 2, LockStatus.OPENING),
        (253, 2, LockStatus.UNKNOWN),  # boot run
        (1, 3, LockStatus.UNLOCKED),  # continuous mode
    ],
)
def test_opener_states(state: int, mode: int, status: LockStatus) -> None:
    opener = parse_smartlock(load("smartlocks.json")[1] | {"state": {"state": state, "mode": mode}}, "opener")
    assert opener.status is status


@pytest.mark.parametrize(
    ("door_state", "door_open", "sensor"),
    [
        (0, None, False),
        (1, None, False),
        (2, False, True),
        (3, True, True),
        (4, None, True),
        (240, None, True),
    ],
)
def test_door_states(door_state: int, door_open: bool | None, sensor: bool) -> None:
    lock = parse_smartlock(with_state(doorState=door_state), "lock")
    assert (lock.door_open, lock.has_door_sensor) == (door_open, sensor)


@pytest.mark.parametrize(
    ("subscription", "error", "active"),
    [
        ({"state": "ACTIVE"}, None, True),
        ({"state": "PENDING_CANCEL"}, None, True),
        ({"state": "EXPIRED"}, None, False),
        ({"state": "CANCELLED"}, None, False),
        (None, None, None),
        ({"state": "ACTIVE"}, SHS_MESSAGE, False),
    ],
)
def test_smart_hosting_state(
    subscription: dict[str, str] | None, error: str | None, active: bool | None
) -> None:
    lock = parse_smartlock(lock_json(currentSubscription=subscription, error=error), "lock")
    assert lock.smart_hosting_active is active
    assert lock.subscription_missing is (active is False)


@pytest.mark.parametrize(
    ("type_", "actions", "model"),
    [
        (0, set(NukiAction), "Smart Lock"),
        (1, {NukiAction.UNLOCK}, "Box"),
        (2, {NukiAction.UNLOCK, NukiAction.LOCK, NukiAction.UNLATCH}, "Opener"),
        (3, set(NukiAction), "Smart Door"),
        (4, set(NukiAction), "Smart Lock 3.0/4th gen"),
        (5, set(NukiAction), "Smart Lock 5"),
        (9, set(NukiAction), "Nuki device type 9"),
    ],
)
def test_actions_and_model_per_device_type(type_: int, actions: set[NukiAction], model: str) -> None:
    lock = parse_smartlock({"smartlockId": 1, "type": type_}, "lock")
    assert lock.supported_actions == actions
    assert lock.model == model
    assert lock.supports_lock is (NukiAction.LOCK in actions)


def test_the_device_key_matches_kasifys_for_the_same_lock() -> None:
    kasify_lock = SmartLock(
        id="k1", vendor="nuki", name="Puerta", property_id="p", provider_lock_id=str(LOCK_ID)
    )
    assert parse_smartlock(lock_json(), "lock").device_key == kasify_lock.device_key


def test_keypad2_counts_as_a_keypad() -> None:
    config = lock_json()["config"] | {"keypadPaired": False, "keypad2Paired": True}
    assert parse_smartlock(lock_json(config=config), "lock").keypad_paired


# -- actions ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "action"), [("lock", 2), ("unlock", 1), ("unlatch", 3)])
async def test_actions_post_the_documented_code(
    client: NukiClient, nuki: FakeApi, method: str, action: int
) -> None:
    nuki.reply("POST", f"/smartlock/{LOCK_ID}/action", status=204)
    assert await getattr(client, method)(LOCK_ID) is None
    assert (nuki.call.method, nuki.call.path, nuki.call.json) == (
        "POST",
        f"/smartlock/{LOCK_ID}/action",
        {"action": action},
    )


async def test_action_with_an_option(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("POST", f"/smartlock/{LOCK_ID}/action", status=204)
    await client.action(LOCK_ID, NukiAction.LOCK_N_GO, option=2)
    assert nuki.call.json == {"action": 4, "option": 2}


# -- errors ----------------------------------------------------------------------------------------------


def status_object(code: int, reason: str, description: str) -> dict[str, Any]:
    return {
        "code": code,
        "description": description,
        "reasonPhrase": reason,
        "uri": "http://x",
        "homeRef": "/",
    }


SHS_DETAIL = {"detailMessage": SHS_MESSAGE, "stackTrace": [], "suppressedExceptions": []}


@pytest.mark.parametrize(
    ("status", "payload", "error", "message"),
    [
        (
            401,
            status_object(401, "Unauthorized", "The request requires user authentication"),
            AuthError,
            "HTTP 401: Unauthorized: The request requires user authentication",
        ),
        (403, None, AuthError, "HTTP 403"),
        (
            402,
            status_object(402, "Payment Required", "Account not payed"),
            SubscriptionRequiredError,
            "HTTP 402: Payment Required: Account not payed",
        ),
        (404, status_object(404, "Not Found", "Smartlock not found"), NotFoundError, "Smartlock not found"),
        (405, None, NotSupportedError, "HTTP 405"),
        (409, {"detailMessage": "Parameter conflict"}, ConflictError, "HTTP 409: Parameter conflict"),
        (423, status_object(423, "Locked", "Locked by another operation"), BusyError, "Locked"),
        (426, None, SubscriptionRequiredError, "HTTP 426"),
        (500, {"message": "boom"}, ServerError, "HTTP 500: boom"),
        (502, "<html><body>Bad Gateway</body></html>", ServerError, "HTTP 502"),
        (503, None, ServerError, "HTTP 503"),
        (418, None, ApiError, "HTTP 418"),
    ],
)
async def test_http_errors_map_to_the_hierarchy(
    client: NukiClient,
    nuki: FakeApi,
    status: int,
    payload: Any,
    error: type[ApiError],
    message: str,
) -> None:
    body = payload if isinstance(payload, str) else None
    nuki.reply("POST", f"/smartlock/{LOCK_ID}/action", None if body else payload, status=status, body=body)
    with pytest.raises(error, match=re.escape(message)) as caught:
        await client.lock(LOCK_ID)
    assert type(caught.value) is error
    assert caught.value.status == status
    assert str(caught.value).startswith(f"POST /smartlock/{LOCK_ID}/action: HTTP {status}")


@pytest.mark.parametrize(("status", "reason"), [(402, "account_not_paid"), (426, "upgrade_required")])
async def test_plan_errors_say_why(client: NukiClient, nuki: FakeApi, status: int, reason: str) -> None:
    nuki.reply("POST", f"/smartlock/{LOCK_ID}/action", status=status)
    with pytest.raises(SubscriptionRequiredError) as caught:
        await client.unlock(LOCK_ID)
    assert caught.value.error_type == reason


@pytest.mark.parametrize(
    "payload",
    [SHS_DETAIL, {"error": SHS_MESSAGE}],
    ids=["seed-detailMessage", "docs-error"],
)
@pytest.mark.parametrize("status", [400, 402, 403, 409])
async def test_smart_hosting_refusal_names_the_lock_whatever_the_status(
    client: NukiClient, nuki: FakeApi, payload: dict[str, Any], status: int
) -> None:
    nuki.reply("POST", f"/smartlock/{SHS_LOCK_ID}/action", payload, status=status)
    with pytest.raises(SmartHostingRequiredError) as caught:
        await client.unlock(SHS_LOCK_ID)
    error = caught.value
    assert isinstance(error, SubscriptionRequiredError)
    assert error.lock_id == str(SHS_LOCK_ID)
    assert error.error_type == "no_active_smart_hosting"
    assert error.status == status
    assert SHS_MESSAGE in str(error)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get_smartlock", f"/smartlock/{SHS_LOCK_ID}"),
        ("list_keypad_codes", f"/smartlock/{SHS_LOCK_ID}/auth"),
        ("list_smartlock_logs", f"/smartlock/{SHS_LOCK_ID}/log"),
    ],
)
async def test_seed_smart_hosting_refusal_on_reads(
    client: NukiClient, nuki: FakeApi, method: str, path: str
) -> None:
    nuki.reply("GET", path, SHS_DETAIL, status=402)
    with pytest.raises(SmartHostingRequiredError) as caught:
        await getattr(client, method)(SHS_LOCK_ID)
    assert caught.value.lock_id == str(SHS_LOCK_ID)


async def test_an_advanced_refusal_names_the_lock_in_its_text(client: NukiClient, nuki: FakeApi) -> None:
    message = (
        "Auths cannot be created. Please get Smart Hosting subscription for the Smart Locks "
        "with ID: 12121212121"
    )
    nuki.reply("GET", "/smartlock/log", {"error": message}, status=402)
    with pytest.raises(SmartHostingRequiredError) as caught:
        await client.list_logs()
    assert caught.value.lock_id == "12121212121"


async def test_parameter_errors_are_validation_errors_with_the_field(
    client: NukiClient, nuki: FakeApi
) -> None:
    nuki.reply(
        "POST",
        f"/smartlock/{LOCK_ID}/action",
        {
            "detailMessage": "The supplied value '9' for parameter 'action' is not valid",
            "stackTrace": [],
            "suppressedExceptions": [],
        },
        status=400,
    )
    with pytest.raises(ValidationError) as caught:
        await client.action(LOCK_ID, 9)
    assert caught.value.fields == {"action": ["The supplied value '9' for parameter 'action' is not valid"]}
    assert str(caught.value).endswith("HTTP 400: The supplied value '9' for parameter 'action' is not valid")


async def test_the_framework_422_status_object_is_a_validation_error(
    client: NukiClient, nuki: FakeApi
) -> None:
    nuki.reply(
        "PUT",
        f"/smartlock/{LOCK_ID}/auth",
        {
            "code": 422,
            "description": "The server understands the content type of the request entity and the syntax of "
            "the request entity is correct but was unable to process the contained instructions",
            "reasonPhrase": "Unprocessable Entity",
            "uri": "http://www.webdav.org/specs/rfc2518.html#STATUS_422",
            "homeRef": "/",
        },
        status=422,
    )
    with pytest.raises(
        ValidationError, match=r"HTTP 422: Unprocessable Entity: The server understands"
    ) as caught:
        await client.create_keypad_code(LOCK_ID, name="Ana", code=456789)
    assert caught.value.fields == {}


async def test_rate_limited_reports_how_long_to_wait(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock", status=429, headers={"Retry-After": "30"})
    with pytest.raises(RateLimitedError) as caught:
        await client.list_smartlocks()
    assert caught.value.retry_after == 30.0


async def test_the_token_and_the_pin_never_reach_the_message(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply(
        "PUT",
        f"/smartlock/{LOCK_ID}/auth",
        {"detailMessage": f"The supplied value '456789' for parameter 'code' is not valid (token {TOKEN})"},
        status=400,
    )
    with pytest.raises(ValidationError) as caught:
        await client.create_keypad_code(LOCK_ID, name="Ana", code="456789")
    text = f"{caught.value} {caught.value.fields}"
    assert "456789" not in text
    assert TOKEN not in text
    assert "The supplied value '***' for parameter 'code'" in text


@pytest.mark.parametrize(
    ("exception", "message"),
    [(TimeoutError(), "timed out"), (aiohttp.ClientConnectionError("refused"), "ClientConnectionError")],
)
async def test_transport_failures_are_connection_errors(
    client: NukiClient, nuki: FakeApi, exception: Exception, message: str
) -> None:
    nuki.reply("GET", "/smartlock", exception=exception)
    with pytest.raises(ApiConnectionError, match=message):
        await client.list_smartlocks()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "GET /smartlock: the body is not JSON"),
        ('{"smartlockId": 1}', "GET /smartlock: expected an array, got dict"),
        ('[{"name": "no id"}]', r"GET /smartlock\[0\].smartlockId: missing"),
        (
            '[{"smartlockId": 1, "state": {"batteryCharge": "80"}}]',
            r"smartlock\[0\].state.batteryCharge: expected",
        ),
        ('[{"smartlockId": 1, "state": 1}]', r"GET /smartlock\[0\].state: expected an object"),
    ],
)
async def test_malformed_bodies_name_the_field(
    client: NukiClient, nuki: FakeApi, body: str, message: str
) -> None:
    nuki.reply("GET", "/smartlock", body=body)
    with pytest.raises(MalformedResponseError, match=message):
        await client.list_smartlocks()


# -- refusals sent with a 2xx status ---------------------------------------------------------------------

AUTH_ID = "65ff00000000000000000077"
ADVANCED_MESSAGE = (
    "Auths cannot be created. Please get Smart Hosting subscription for the Smart Locks with ID: "
    f"{SHS_LOCK_ID}"
)
# Every write the client makes: (id, method, path below the lock, the call).
WRITES: list[tuple[str, str, str, Callable[[NukiClient, int], Awaitable[object]]]] = [
    ("lock", "POST", "/action", lambda client, lock: client.lock(lock)),
    ("unlock", "POST", "/action", lambda client, lock: client.unlock(lock)),
    ("unlatch", "POST", "/action", lambda client, lock: client.unlatch(lock)),
    ("action", "POST", "/action", lambda client, lock: client.action(lock, NukiAction.LOCK_N_GO, option=2)),
    ("create", "PUT", "/auth", lambda client, lock: client.create_keypad_code(lock, name="Ana", code=456789)),
    (
        "update",
        "POST",
        f"/auth/{AUTH_ID}",
        lambda client, lock: client.update_keypad_code(lock, AUTH_ID, name="Ana", enabled=False),
    ),
    ("delete", "DELETE", f"/auth/{AUTH_ID}", lambda client, lock: client.delete_keypad_code(lock, AUTH_ID)),
]
WRITE_PARAMS = [pytest.param(method, path, call, id=name) for name, method, path, call in WRITES]


@pytest.mark.parametrize(("method", "path", "call"), WRITE_PARAMS)
@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (200, SHS_DETAIL),
        (200, {"error": SHS_MESSAGE}),
        (200, {"error": ADVANCED_MESSAGE}),
        (202, SHS_DETAIL),
    ],
    ids=["seed-detailMessage", "docs-error", "advanced-error", "202"],
)
async def test_a_smart_hosting_refusal_sent_with_2xx_is_not_success(
    client: NukiClient,
    nuki: FakeApi,
    sleeps: Sleeps,
    method: str,
    path: str,
    call: Callable[[NukiClient, int], Awaitable[object]],
    status: int,
    payload: dict[str, Any],
) -> None:
    nuki.reply(method, f"/smartlock/{SHS_LOCK_ID}{path}", payload, status=status)
    with pytest.raises(SmartHostingRequiredError) as caught:
        await call(client, SHS_LOCK_ID)
    error = caught.value
    assert (error.lock_id, error.status, error.error_type) == (
        str(SHS_LOCK_ID),
        status,
        "no_active_smart_hosting",
    )
    assert str(error).startswith(f"{method} /smartlock/{SHS_LOCK_ID}{path}: HTTP {status}: ")
    assert payload.get("detailMessage", payload.get("error")) in str(error)
    assert len(nuki.calls) == 1  # a refused new code is not looked for
    assert sleeps.waits == []


@pytest.mark.parametrize(("method", "path", "call"), WRITE_PARAMS)
@pytest.mark.parametrize(
    "payload",
    [
        {"error": "Authorization could not be stored"},
        {"detailMessage": "Internal error", "stackTrace": [], "suppressedExceptions": []},
    ],
    ids=["error", "detailMessage"],
)
async def test_another_error_text_sent_with_200_is_an_api_error_naming_it(
    client: NukiClient,
    nuki: FakeApi,
    method: str,
    path: str,
    call: Callable[[NukiClient, int], Awaitable[object]],
    payload: dict[str, Any],
) -> None:
    nuki.reply(method, f"/smartlock/{LOCK_ID}{path}", payload, status=200)
    with pytest.raises(ApiError) as caught:
        await call(client, LOCK_ID)
    assert type(caught.value) is ApiError
    assert caught.value.status == 200
    text = payload.get("error", payload.get("detailMessage"))
    assert str(caught.value) == f"{method} /smartlock/{LOCK_ID}{path}: HTTP 200: {text}"
    assert len(nuki.calls) == 1


async def test_a_refusal_sent_with_200_never_shows_the_pin_or_the_token(
    client: NukiClient, nuki: FakeApi
) -> None:
    nuki.reply(
        "PUT",
        f"/smartlock/{LOCK_ID}/auth",
        {"error": f"Code 456789 could not be written (token {TOKEN})"},
        status=200,
    )
    with pytest.raises(ApiError) as caught:
        await client.create_keypad_code(LOCK_ID, name="Ana", code="456789")
    assert "456789" not in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert str(caught.value).endswith("HTTP 200: Code *** could not be written (token ***)")


@pytest.mark.parametrize(("method", "path", "call"), [p for p in WRITE_PARAMS if p.id != "create"])
@pytest.mark.parametrize(
    ("status", "payload"),
    [(204, None), (200, None), (200, {}), (200, {"requestId": "r-1"}), (200, {"error": ""}), (202, [])],
    ids=["204", "200-empty", "200-object", "200-other-body", "200-empty-error", "202-array"],
)
async def test_writes_without_a_refusal_still_succeed(
    client: NukiClient,
    nuki: FakeApi,
    method: str,
    path: str,
    call: Callable[[NukiClient, int], Awaitable[object]],
    status: int,
    payload: Any,
) -> None:
    nuki.reply(method, f"/smartlock/{LOCK_ID}{path}", payload, status=status)
    assert await call(client, LOCK_ID) is None


@pytest.mark.parametrize(("status", "payload"), [(204, None), (200, None), (200, {"requestId": "r-1"})])
async def test_a_new_code_accepted_without_a_refusal_is_looked_for(
    client: NukiClient, nuki: FakeApi, status: int, payload: Any
) -> None:
    path = f"/smartlock/{LOCK_ID}/auth"
    nuki.reply("PUT", path, payload, status=status)
    nuki.reply("GET", path, [created_auth()])
    code = await client.create_keypad_code(LOCK_ID, name="Ana", code=456789, poll_delays=(0.0,))
    assert code.id == AUTH_ID


# -- logs ------------------------------------------------------------------------------------------------


async def test_list_logs_is_account_wide_newest_first(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock/log", load("logs.json"))
    entries = await client.list_logs()
    assert nuki.call.query == {"limit": "50"}
    assert [entry.id for entry in entries] == [
        "65f2e0a1c0ffee0000000004",
        "65f2e0a1c0ffee0000000003",
        "65f2e0a1c0ffee0000000002",
        "64704a031599fa2b8a6f2920",
    ]
    locked, code_used, denied, shs = entries
    assert (locked.event, locked.name) == (NukiEvent.LOCKED, "Kasify Host")
    assert (code_used.event, code_used.name, code_used.auth_id) == (
        NukiEvent.CODE_USED,
        "Ana (huésped)",
        "65aa00000000000000000013",
    )
    assert code_used.date == datetime(2026, 3, 14, 11, 30, 5, 120000, tzinfo=UTC)
    assert denied.event is NukiEvent.ACCESS_DENIED
    assert (shs.error, shs.name, shs.event, shs.smartlock_id) == (SHS_MESSAGE, None, None, SHS_LOCK_ID)


async def test_list_logs_sends_the_window_and_the_cursor(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock/log", [])
    since = datetime(2026, 3, 14, 12, 30, 0, 123456, tzinfo=MADRID)
    await client.list_logs(since=since, until=since + timedelta(hours=1), before_id="65f2e0a1", limit=10)
    assert nuki.call.query == {
        "limit": "10",
        "fromDate": "2026-03-14T11:30:00.123Z",
        "toDate": "2026-03-14T12:30:00.123Z",
        "id": "65f2e0a1",
    }


@pytest.mark.parametrize(("limit", "sent"), [(0, "1"), (-5, "1"), (20, "20"), (80, "50")])
async def test_the_log_limit_is_clamped(client: NukiClient, nuki: FakeApi, limit: int, sent: str) -> None:
    nuki.reply("GET", "/smartlock/log", [])
    await client.list_logs(limit=limit)
    assert nuki.call.query["limit"] == sent


async def test_list_smartlock_logs(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", f"/smartlock/{LOCK_ID}/log", load("logs.json")[1:])
    entries = await client.list_smartlock_logs(LOCK_ID, limit=5)
    assert nuki.call.path == f"/smartlock/{LOCK_ID}/log"
    assert {entry.smartlock_id for entry in entries} == {LOCK_ID}


def log_entry(**fields: Any) -> dict[str, Any]:
    base = {"id": "x", "smartlockId": 1, "deviceType": 4, "action": 1, "trigger": 5, "state": 0}
    return base | {"autoUnlock": False, "date": "2026-03-14T11:00:00Z"} | fields


@pytest.mark.parametrize(
    ("fields", "event"),
    [
        ({"action": 1}, NukiEvent.UNLOCKED),
        ({"action": 2}, NukiEvent.LOCKED),
        ({"action": 3}, NukiEvent.OPENED),
        ({"action": 4}, NukiEvent.LOCKED),
        ({"action": 5}, NukiEvent.LOCKED),
        ({"action": 1, "trigger": 255}, NukiEvent.CODE_USED),
        ({"action": 3, "source": 1}, NukiEvent.CODE_USED),
        ({"action": 2, "trigger": 255}, NukiEvent.LOCKED),
        ({"action": 1, "trigger": 255, "state": 224}, NukiEvent.ACCESS_DENIED),
        ({"action": 1, "state": 225}, NukiEvent.ACCESS_DENIED),
        ({"action": 1, "trigger": 253, "state": 0}, NukiEvent.ACCESS_DENIED),
        ({"action": 240}, NukiEvent.DOOR_OPENED),
        ({"action": 241}, NukiEvent.DOOR_CLOSED),
        ({"action": 2, "state": 1}, NukiEvent.JAMMED),
        ({"action": 1, "state": 4}, NukiEvent.FAILED),
        ({"action": 243}, None),
        ({"action": 252}, None),
        ({"action": 1, "error": SHS_MESSAGE}, None),
    ],
)
async def test_log_events(
    client: NukiClient, nuki: FakeApi, fields: dict[str, Any], event: NukiEvent | None
) -> None:
    nuki.reply("GET", "/smartlock/log", [log_entry(**fields)])
    (entry,) = await client.list_logs()
    assert entry.event is event
    if event is not None:
        assert event == event.value  # a plain string for HA's event types


# -- snapshot --------------------------------------------------------------------------------------------


async def test_a_refresh_of_every_lock_costs_one_request_plus_the_log(
    client: NukiClient, nuki: FakeApi
) -> None:
    nuki.reply("GET", "/smartlock", load("smartlocks.json"))
    nuki.reply("GET", "/smartlock/log", load("logs.json"))
    since = datetime(2026, 3, 14, 11, tzinfo=UTC)
    snapshot = await client.fetch_snapshot(logs_since=since)
    assert sorted(call.path for call in nuki.calls) == ["/smartlock", "/smartlock/log"]
    assert list(snapshot.locks) == [LOCK_ID, 17913012514, 16000000101, SHS_LOCK_ID]
    assert [entry.id for entry in snapshot.logs if entry.smartlock_id == LOCK_ID] == [
        "65f2e0a1c0ffee0000000004",
        "65f2e0a1c0ffee0000000003",
        "65f2e0a1c0ffee0000000002",
    ]
    log_call = next(call for call in nuki.calls if call.path == "/smartlock/log")
    assert log_call.query["fromDate"] == "2026-03-14T11:00:00.000Z"


async def test_a_refresh_without_the_log_is_one_request(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock", load("smartlocks.json"))
    snapshot = await client.fetch_snapshot(logs=False)
    assert len(nuki.calls) == 1
    assert snapshot.logs == ()


async def test_a_refresh_fails_as_a_whole_with_the_first_error(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock", status=401)
    nuki.reply("GET", "/smartlock/log", [])
    with pytest.raises(AuthError):
        await client.fetch_snapshot()
    nuki.discard_unused()  # the log request may have been cancelled before it was sent


# -- keypad codes ----------------------------------------------------------------------------------------


async def test_list_keypad_codes_hides_the_pins(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", f"/smartlock/{LOCK_ID}/auth", load("keypad_auths.json"))
    codes = await client.list_keypad_codes(LOCK_ID)
    assert nuki.call.query == {"types": "13"}
    assert [code.name for code in codes] == ["Limpieza", "Ana (huésped)"]  # the app user is left out
    cleaning, guest = codes
    assert (cleaning.has_code, cleaning.code) == (True, None)
    assert "345678" not in repr(cleaning)
    assert cleaning.slot_id == 3000013
    assert cleaning.last_active_at == datetime(2026, 3, 14, 9, tzinfo=UTC)
    assert not cleaning.pending
    assert guest.pending  # operationId is an ObjectId object on auths
    assert (guest.allowed_from, guest.allowed_until) == (
        datetime(2026, 3, 14, 14, tzinfo=UTC),
        datetime(2026, 3, 17, 10, tzinfo=UTC),
    )
    assert guest.updated_at is None


async def test_list_keypad_codes_with_pins(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", f"/smartlock/{LOCK_ID}/auth", load("keypad_auths.json"))
    codes = await client.list_keypad_codes(LOCK_ID, include_codes=True)
    assert [code.code for code in codes] == [345678, 456789]
    assert "456789" not in repr(codes)


async def test_find_keypad_code_needs_name_and_pin(client: NukiClient, nuki: FakeApi) -> None:
    auths = load("keypad_auths.json")
    nuki.reply("GET", f"/smartlock/{LOCK_ID}/auth", auths)
    nuki.reply("GET", f"/smartlock/{LOCK_ID}/auth", auths)
    nuki.reply("GET", f"/smartlock/{LOCK_ID}/auth", auths)
    found = await client.find_keypad_code(LOCK_ID, name=" Limpieza ", code="345678")
    assert found is not None
    assert (found.id, found.code) == ("65aa00000000000000000013", 345678)
    assert await client.find_keypad_code(LOCK_ID, name="Limpieza", code=456789) is None
    assert await client.find_keypad_code(LOCK_ID, name="Otra", code=345678) is None


def created_auth(**fields: Any) -> dict[str, Any]:
    return {
        "id": "65ff00000000000000000077",
        "smartlockId": LOCK_ID,
        "authId": 3000077,
        "type": 13,
        "code": 456789,
        "name": "Ana",
        "enabled": True,
        "remoteAllowed": False,
        "lockCount": 0,
        "allowedFromDate": "2026-03-14T14:00:00.000Z",
        "allowedUntilDate": "2026-03-17T10:00:00.000Z",
    } | fields


async def test_create_keypad_code_finds_the_new_code_after_it_shows_up(
    client: NukiClient, nuki: FakeApi, sleeps: Sleeps
) -> None:
    path = f"/smartlock/{LOCK_ID}/auth"
    nuki.reply("PUT", path, status=204)
    nuki.reply("GET", path, load("keypad_auths.json"))  # not there yet
    nuki.reply("GET", path, [*load("keypad_auths.json"), created_auth(name="Ana", code=111111)])  # other code
    nuki.reply("GET", path, [*load("keypad_auths.json"), created_auth()])
    check_in = datetime(2026, 3, 14, 15, tzinfo=MADRID)
    code = await client.create_keypad_code(
        LOCK_ID,
        name=" Ana ",
        code="456789",
        allowed_from=check_in,
        allowed_until=check_in + timedelta(days=3),
    )
    assert (code.id, code.code, code.name, code.smartlock_id) == (
        "65ff00000000000000000077",
        456789,
        "Ana",
        LOCK_ID,
    )
    put = nuki.calls[0]
    assert put.json == {
        "name": "Ana",
        "type": 13,
        "code": 456789,
        "remoteAllowed": False,
        "allowedWeekDays": 127,
        "allowedFromTime": 0,
        "allowedUntilTime": 0,
        "allowedFromDate": "2026-03-14T14:00:00.000Z",
        "allowedUntilDate": "2026-03-17T14:00:00.000Z",
    }
    assert [call.method for call in nuki.calls] == ["PUT", "GET", "GET", "GET"]
    assert all(call.query == {"types": "13"} for call in nuki.calls[1:])
    assert sleeps.waits == [0.5, 1.0, 2.0]


async def test_create_keypad_code_with_a_daily_window(
    client: NukiClient, nuki: FakeApi, sleeps: Sleeps
) -> None:
    path = f"/smartlock/{LOCK_ID}/auth"
    nuki.reply("PUT", path, status=204)
    nuki.reply("GET", path, [created_auth()])
    await client.create_keypad_code(
        LOCK_ID,
        name="Ana",
        code=456789,
        allowed_weekdays=64 | 4,
        allowed_from_time=8 * 60,
        allowed_until_time=18 * 60,
        poll_delays=(0.0,),
    )
    assert {
        key: nuki.calls[0].json[key] for key in ("allowedWeekDays", "allowedFromTime", "allowedUntilTime")
    } == {
        "allowedWeekDays": 68,
        "allowedFromTime": 480,
        "allowedUntilTime": 1080,
    }
    assert "allowedFromDate" not in nuki.calls[0].json
    assert sleeps.waits == [0.0]


async def test_a_code_that_never_shows_up_is_pending(
    client: NukiClient, nuki: FakeApi, sleeps: Sleeps
) -> None:
    path = f"/smartlock/{LOCK_ID}/auth"
    nuki.reply("PUT", path, status=204)
    for _ in range(3):
        nuki.reply("GET", path, [])
    with pytest.raises(OperationPendingError) as caught:
        await client.create_keypad_code(LOCK_ID, name="Ana", code=456789)
    assert caught.value.lock_id == str(LOCK_ID)
    assert "456789" not in str(caught.value)
    assert "after 3 checks" in str(caught.value)
    assert len(nuki.calls) == 4


async def test_a_look_that_fails_after_the_code_was_accepted_is_not_a_refusal(
    client: NukiClient, nuki: FakeApi, sleeps: Sleeps
) -> None:
    """Nuki took the code (204); a read that looks for it fails: looked for again, then it is pending (it was
    accepted: never reported as refused)."""
    path = f"/smartlock/{LOCK_ID}/auth"
    nuki.reply("PUT", path, status=204)
    nuki.reply("GET", path, status=503, body="down")
    nuki.reply("GET", path, [*load("keypad_auths.json"), created_auth()])
    code = await client.create_keypad_code(LOCK_ID, name="Ana", code=456789, poll_delays=(0.0, 0.0))
    assert code.id == "65ff00000000000000000077"

    nuki.reply("PUT", path, status=204)
    nuki.reply("GET", path, status=503, body="down")
    with pytest.raises(OperationPendingError) as caught:
        await client.create_keypad_code(LOCK_ID, name="Ana", code=456789, poll_delays=(0.0,))
    assert "the last look failed" in str(caught.value)
    assert "456789" not in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"code": 123456}, "code"),
        ({"code": 456780}, "code"),
        ({"code": "45678"}, "code"),
        ({"code": "4567890"}, "code"),
        ({"code": "45a789"}, "code"),
        ({"code": True}, "code"),
        ({"name": "  "}, "name"),
        ({"name": "A name longer than 20"}, "name"),
        ({"allowed_weekdays": 0}, "allowed_weekdays"),
        ({"allowed_weekdays": 128}, "allowed_weekdays"),
        ({"allowed_from_time": -1}, "allowed_from_time"),
        ({"allowed_until_time": 1441}, "allowed_until_time"),
        (
            {
                "allowed_from": datetime(2026, 3, 17, tzinfo=UTC),
                "allowed_until": datetime(2026, 3, 14, tzinfo=UTC),
            },
            "allowed_until",
        ),
    ],
)
async def test_bad_keypad_codes_are_refused_before_any_request(
    client: NukiClient, nuki: FakeApi, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"name": "Ana", "code": 456789} | kwargs
    with pytest.raises(ValidationError) as caught:
        await client.create_keypad_code(LOCK_ID, **arguments)
    assert list(caught.value.fields) == [field]
    assert caught.value.status is None
    assert nuki.calls == []


async def test_naive_datetimes_are_a_programming_error(client: NukiClient, nuki: FakeApi) -> None:
    with pytest.raises(ValueError, match="naive"):
        await client.create_keypad_code(
            LOCK_ID,
            name="Ana",
            code=456789,
            allowed_from=datetime(2026, 3, 14, 15),
        )


@pytest.mark.parametrize(
    ("detail_message", "field"),
    [
        ("The supplied value '13' for parameter 'type' is not valid", "type"),  # no keypad paired
        ("The supplied value 'null' for parameter 'code' is not valid", "code"),
    ],
)
async def test_create_refused_by_the_api(
    client: NukiClient, nuki: FakeApi, detail_message: str, field: str
) -> None:
    nuki.reply("PUT", f"/smartlock/{LOCK_ID}/auth", {"detailMessage": detail_message}, status=400)
    with pytest.raises(ValidationError) as caught:
        await client.create_keypad_code(LOCK_ID, name="Ana", code=456789)
    assert list(caught.value.fields) == [field]


async def test_create_on_a_lock_without_smart_hosting(
    client: NukiClient, nuki: FakeApi, sleeps: Sleeps
) -> None:
    nuki.reply("PUT", f"/smartlock/{SHS_LOCK_ID}/auth", SHS_DETAIL, status=402)
    with pytest.raises(SmartHostingRequiredError) as caught:
        await client.create_keypad_code(SHS_LOCK_ID, name="Ana", code=456789)
    assert caught.value.lock_id == str(SHS_LOCK_ID)
    assert sleeps.waits == []


async def test_delete_keypad_code(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("DELETE", f"/smartlock/{LOCK_ID}/auth/65ff00000000000000000077", status=204)
    await client.delete_keypad_code(LOCK_ID, "65ff00000000000000000077")
    assert nuki.call.method == "DELETE"


@pytest.mark.parametrize(("status", "error"), [(404, NotFoundError), (423, BusyError), (401, AuthError)])
async def test_delete_keypad_code_errors(
    client: NukiClient, nuki: FakeApi, status: int, error: type[ApiError]
) -> None:
    nuki.reply("DELETE", f"/smartlock/{LOCK_ID}/auth/a1", status=status)
    with pytest.raises(error):
        await client.delete_keypad_code(LOCK_ID, "a1")


def test_keypad_code_valid_at() -> None:
    code = NukiKeypadCode(
        id="a",
        smartlock_id=1,
        name="Ana",
        allowed_from=datetime(2026, 3, 14, 14, tzinfo=UTC),
        allowed_until=datetime(2026, 3, 17, 10, tzinfo=UTC),
    )
    assert not code.valid_at(datetime(2026, 3, 14, 13, tzinfo=UTC))
    assert code.valid_at(datetime(2026, 3, 15, tzinfo=UTC))
    assert not code.valid_at(datetime(2026, 3, 17, 10, tzinfo=UTC))
    assert NukiKeypadCode(id="b", smartlock_id=1, name="Limpieza").valid_at(datetime(2030, 1, 1, tzinfo=UTC))
    assert not NukiKeypadCode(id="c", smartlock_id=1, name="Off", enabled=False).valid_at(datetime.now(UTC))


# -- keypad rules ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (456789, None),
        ("987654", None),
        (" 111111 ", None),
        (211111, None),
        (123456, "must not start with 12"),
        ("129999", "must not start with 12"),
        (405060, "must not contain the digit 0"),
        (45678, "must be exactly 6 digits"),
        ("4567890", "must be exactly 6 digits"),
        ("45-789", "must be exactly 6 digits"),
        ("", "must be exactly 6 digits"),
        (False, "must be a number"),
    ],
)
def test_keypad_code_rules(code: int | str, problem: str | None) -> None:
    assert keypad_code_problem(code) == problem


def test_validate_keypad_code_returns_the_integer_and_keeps_the_pin_out_of_the_error() -> None:
    assert validate_keypad_code(" 456789") == 456789
    with pytest.raises(ValidationError) as caught:
        validate_keypad_code("120789")
    assert "120789" not in f"{caught.value} {caught.value.fields}"


def test_generated_codes_follow_the_rules_and_avoid_existing_ones() -> None:
    rng = random.Random(7)
    codes = [generate_keypad_code(rng=rng) for _ in range(500)]
    assert all(keypad_code_problem(code) is None for code in codes)
    first = generate_keypad_code(rng=random.Random(1))
    assert generate_keypad_code([first], rng=random.Random(1)) != first
    assert generate_keypad_code(rng=random.Random(1)) == first  # reproducible with a seeded rng
    assert keypad_code_problem(generate_keypad_code()) is None  # system randomness by default


def test_nuki_time() -> None:
    assert nuki_time(datetime(2026, 3, 14, 15, 0, 0, 999999, tzinfo=MADRID)) == "2026-03-14T14:00:00.999Z"
    with pytest.raises(ValueError, match="naive"):
        nuki_time(datetime(2026, 3, 14))


async def test_an_error_body_that_is_json_but_not_an_object(client: NukiClient, nuki: FakeApi) -> None:
    nuki.reply("GET", "/smartlock", ["oops"], status=500)
    with pytest.raises(ServerError, match=r"^GET /smartlock: HTTP 500$"):
        await client.list_smartlocks()
