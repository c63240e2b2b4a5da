"""UniFi Access client against scripted responses (aioresponses): REST methods, every error shape, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import re
import ssl
from typing import Any

import aiohttp
import pytest

from custom_components.kasify.api.errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    BusyError,
    CertificateMismatchError,
    ConflictError,
    DeviceOfflineError,
    MalformedResponseError,
    MissingPermissionError,
    NotFoundError,
    NotSupportedError,
    PartialWriteError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from custom_components.kasify.api.models import LockStatus
from custom_components.kasify.api.unifi_access import (
    SETTABLE_LOCK_RULES,
    ActivityKind,
    DoorActivityEvent,
    DoorPosition,
    DoorStateEvent,
    LockRuleType,
    UnifiAccessClient,
    UnifiDoor,
    format_fingerprint,
    normalize_fingerprint,
    parse_event,
)
from custom_components.kasify.api.unifi_access_envelope import _permission_for

from .conftest import MakeFake
from .fake_api import Call, FakeApi, load_fixture

HOST = "controller.local"
BASE = f"https://{HOST}:12445/api/v1/developer"
TOKEN = "uat_Zq8Rt5Yp2Wn7Kc4Lm9Xv"  # distinctive, so a leak into a message is easy to spot
A2 = "0ed545f8-2fcd-4839-9021-b39e707f6aa9"
D3855 = "5785e97b-6123-4596-ba49-b6e51164db9b"
VISITOR = "fbe8d920-47d3-4cdf-bda7-bf4b0e26f73c"
NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
FINGERPRINT = "AB:" * 31 + "CD"


def load(name: str) -> Any:
    return load_fixture("unifi", name)


def ok(data: Any = None) -> dict[str, Any]:
    return {"code": "SUCCESS", "msg": "success", "data": data}


def fail(code: str, msg: str = "failed") -> dict[str, Any]:
    return {"code": code, "msg": msg}


@pytest.fixture
def unifi(fake_api: MakeFake) -> FakeApi:
    """The scripted controller API."""
    return fake_api(BASE)


@pytest.fixture
def client(session: aiohttp.ClientSession, unifi: FakeApi) -> UnifiAccessClient:
    return UnifiAccessClient(session, HOST, TOKEN)


def sent(unifi: FakeApi, method: str, path: str) -> list[Call]:
    """The requests made to ``METHOD path`` (with its query string, if ``path`` has one)."""
    return [c for c in unifi.calls if c.method == method and c.url.removeprefix(BASE) == path]


# --- construction -------------------------------------------------------------------------------


def test_constructor_builds_url_and_normalises_the_fingerprint(session: aiohttp.ClientSession) -> None:
    client = UnifiAccessClient(session, "fe80::1", TOKEN, port=8443, fingerprint="ab" * 31 + "cd")
    assert client.base_url == "https://[fe80::1]:8443"
    assert client.fingerprint == FINGERPRINT
    assert not client.push_connected
    assert UnifiAccessClient(session, "[::1]", TOKEN).base_url == "https://[::1]:12445"


@pytest.mark.parametrize(
    ("host", "port", "fingerprint"),
    [
        ("", 12445, None),
        ("https://controller", 12445, None),
        ("controller", 0, None),
        ("controller", 70000, None),
        ("controller", 12445, "AB:CD"),
        ("controller", 12445, "zz" * 32),
    ],
)
def test_constructor_refuses_bad_settings(
    session: aiohttp.ClientSession, host: str, port: int, fingerprint: str | None
) -> None:
    with pytest.raises(ValueError):
        UnifiAccessClient(session, host, TOKEN, port=port, fingerprint=fingerprint)


def test_fingerprint_helpers() -> None:
    assert normalize_fingerprint(" ab-" * 31 + "cd") == FINGERPRINT
    assert format_fingerprint(bytes([0, 255])) == "00:FF"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, True),
        ({"verify_ssl": False}, False),
        ({"verify_ssl": False, "fingerprint": FINGERPRINT}, aiohttp.Fingerprint),
        ({"ssl_context": "context"}, "context"),
    ],
)
async def test_tls_settings_reach_every_request(
    session: aiohttp.ClientSession, unifi: FakeApi, kwargs: dict[str, Any], expected: Any
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if kwargs.get("ssl_context") == "context":
        kwargs = {"ssl_context": context}
        expected = context
    client = UnifiAccessClient(session, HOST, TOKEN, **kwargs)
    unifi.reply("GET", "/doors", payload=ok([]))
    await client.list_doors()
    (call,) = sent(unifi, "GET", "/doors")
    if isinstance(expected, type):
        assert isinstance(call.ssl, expected)
        assert call.ssl.fingerprint == bytes.fromhex(FINGERPRINT.replace(":", ""))
    else:
        assert call.ssl is expected


# --- doors --------------------------------------------------------------------------------------


async def test_list_doors_is_one_request_and_parses_every_shape(
    client: UnifiAccessClient, unifi: FakeApi
) -> None:
    unifi.reply("GET", "/doors", payload=load("doors.json"))
    doors = await client.list_doors()
    assert len(unifi.calls) == 1
    (call,) = sent(unifi, "GET", "/doors")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    a2, d3855, storage, garage = doors
    assert a2 == UnifiDoor(
        id=A2,
        name="A2 Door",
        full_name="UNVR - 2F - A2 Door",
        floor_id="23c5db06-b59b-494d-94f1-23e88fbe4909",
        status=LockStatus.UNLOCKED,
        position=DoorPosition.OPEN,
        is_bind_hub=True,
        supported_lock_rules=SETTABLE_LOCK_RULES,
    )
    assert (a2.can_unlock, a2.can_lock, a2.has_position_sensor) == (True, True, True)
    assert a2.device_key == f"unifi_{A2}"
    assert (d3855.status, d3855.position) == (LockStatus.LOCKED, DoorPosition.CLOSED)
    # "" and null both mean: no door position sensor; "false" (the doc's String type) is no hub.
    assert (storage.position, storage.has_position_sensor) == (None, False)
    assert (storage.name, storage.full_name, storage.floor_id) == ("Trastero", "Trastero", None)
    assert (storage.is_bind_hub, storage.can_unlock, storage.can_lock) == (False, False, False)
    assert storage.supported_lock_rules == frozenset()
    assert (garage.position, garage.is_bind_hub) == (None, True)


async def test_get_door(client: UnifiAccessClient, unifi: FakeApi) -> None:
    unifi.reply("GET", f"/doors/{A2}", payload=load("door.json"))
    door = await client.get_door(A2)
    assert (door.name, door.status, door.position) == ("Main Door", LockStatus.LOCKED, None)


async def test_unlock_sends_no_body_unless_an_actor_is_named(
    client: UnifiAccessClient, unifi: FakeApi
) -> None:
    unifi.reply("PUT", f"/doors/{A2}/unlock", payload=ok("success"), repeat=True)
    await client.unlock(A2)
    await client.unlock(A2, actor_id="kasify", actor_name="Kasify")
    first, second = sent(unifi, "PUT", f"/doors/{A2}/unlock")
    assert first.json is None
    assert second.json == {"actor_id": "kasify", "actor_name": "Kasify"}
    with pytest.raises(ValueError):
        await client.unlock(A2, actor_id="only-id")


async def test_door_ids_are_one_path_segment(client: UnifiAccessClient, unifi: FakeApi) -> None:
    unifi.reply("PUT", "/doors/..%2Fvisitors/unlock", payload=ok("success"))
    await client.unlock("../visitors")
    assert len(unifi.calls) == 1


@pytest.mark.parametrize("door_id", ["..", ".", ""])
async def test_dot_segments_never_reach_a_path(
    client: UnifiAccessClient, unifi: FakeApi, door_id: str
) -> None:
    with pytest.raises(ValueError, match="cannot be used as an id"):
        await client.unlock(door_id)
    with pytest.raises(ValueError, match="cannot be used as an id"):
        await client.delete_visitor(door_id)
    assert len(unifi.calls) == 0


async def test_lock_rules(client: UnifiAccessClient, unifi: FakeApi) -> None:
    path = f"/doors/{A2}/lock_rule"
    unifi.reply("PUT", path, payload=ok("success"), repeat=True)
    await client.lock(A2)
    await client.set_lock_rule(A2, LockRuleType.CUSTOM, 15)
    await client.set_lock_rule(A2, "keep_unlock")
    assert [call.json for call in sent(unifi, "PUT", path)] == [
        {"type": "lock_now"},
        {"type": "custom", "interval": 15},
        {"type": "keep_unlock"},
    ]
    ends = 1773500400
    unifi.reply("GET", path, payload=ok({"type": "custom", "ended_time": ends}))
    unifi.reply("GET", path, payload=ok({"type": "", "ended_time": 0}))
    rule = await client.get_lock_rule(A2)
    assert (rule.type, rule.ends_at) == (LockRuleType.CUSTOM, datetime.fromtimestamp(ends, UTC))
    none = await client.get_lock_rule(A2)
    assert (none.type, none.ends_at) == (LockRuleType.NONE, None)


@pytest.mark.parametrize(
    ("rule", "interval"),
    [("custom", None), ("custom", 0), ("keep_lock", 5), ("schedule", None), ("sometimes", None)],
)
async def test_lock_rule_arguments_are_checked(
    client: UnifiAccessClient, unifi: FakeApi, rule: str, interval: int | None
) -> None:
    with pytest.raises(ValueError):
        await client.set_lock_rule(A2, rule, interval)
    assert len(unifi.calls) == 0


# --- visitors -----------------------------------------------------------------------------------


async def test_create_visitor(client: UnifiAccessClient, unifi: FakeApi) -> None:
    unifi.reply("POST", "/visitors", payload=load("visitor_created.json"))
    visitor = await client.create_visitor(
        first_name=" Ana ",
        last_name="García López",
        starts_at=NOW,
        ends_at=NOW + timedelta(days=3),
        door_ids=[A2],
        door_group_ids=["group-1"],
        remarks="Booking 42",
    )
    (call,) = sent(unifi, "POST", "/visitors")
    assert call.json == {
        "first_name": "Ana",
        "last_name": "García López",
        "start_time": int(NOW.timestamp()),
        "end_time": int((NOW + timedelta(days=3)).timestamp()),
        "visit_reason": "Others",
        "resources": [{"id": A2, "type": "door"}, {"id": "group-1", "type": "door_group"}],
        "remarks": "Booking 42",
    }
    assert visitor.id == VISITOR
    assert visitor.name == "Ana García López"
    assert visitor.status == "UPCOMING"
    assert visitor.door_ids == (A2,)
    assert visitor.starts_at == datetime.fromtimestamp(1773500400, UTC)
    assert not visitor.has_pin


@pytest.mark.parametrize(
    "kwargs",
    [
        {"starts_at": NOW.replace(tzinfo=None)},
        {"ends_at": NOW},
        {"first_name": " "},
        {"visit_reason": "Holidays"},
    ],
)
async def test_create_visitor_checks_its_arguments(
    client: UnifiAccessClient, unifi: FakeApi, kwargs: dict[str, Any]
) -> None:
    arguments: dict[str, Any] = {
        "first_name": "Ana",
        "last_name": "García",
        "starts_at": NOW,
        "ends_at": NOW + timedelta(days=1),
        "door_ids": [A2],
        **kwargs,
    }
    with pytest.raises(ValueError):
        await client.create_visitor(**arguments)
    assert len(unifi.calls) == 0


async def test_get_visitor_reads_numeric_status_and_pin_hash(
    client: UnifiAccessClient, unifi: FakeApi
) -> None:
    visitor_id = "3566867c-fa04-4752-98f6-43cf9a342d4a"
    unifi.reply("GET", f"/visitors/{visitor_id}", payload=load("visitor_with_pin.json"))
    visitor = await client.get_visitor(visitor_id)
    assert (visitor.status, visitor.has_pin, visitor.door_ids) == ("VISITED", True, ())
    assert visitor.starts_at is None


async def test_visitor_pin_calls(client: UnifiAccessClient, unifi: FakeApi) -> None:
    pin_path = f"/visitors/{VISITOR}/pin_codes"
    # The documented answer to a PIN assignment has no "data" key.
    unifi.reply("PUT", pin_path, payload={"code": "SUCCESS", "msg": "success"})
    unifi.reply("DELETE", pin_path, payload={"code": "SUCCESS", "msg": "success"})
    unifi.reply("DELETE", f"/visitors/{VISITOR}?is_force=true", payload=ok(None))
    unifi.reply("DELETE", f"/visitors/{VISITOR}", payload=ok(None))
    unifi.reply("POST", "/credentials/pin_codes", payload=ok("67203419"))
    await client.assign_visitor_pin(VISITOR, "57301208")
    await client.unassign_visitor_pin(VISITOR)
    await client.delete_visitor(VISITOR)
    await client.delete_visitor(VISITOR, force=False)
    assert await client.generate_pin() == "67203419"
    (assign,) = sent(unifi, "PUT", pin_path)
    assert assign.json == {"pin_code": "57301208"}
    assert len(unifi.calls) == 5
    with pytest.raises(ValueError):
        await client.assign_visitor_pin(VISITOR, "12ab")


@pytest.mark.parametrize("data", [None, "12a4", True, {"pin": "1234"}])
async def test_generate_pin_refuses_odd_data(client: UnifiAccessClient, unifi: FakeApi, data: Any) -> None:
    unifi.reply("POST", "/credentials/pin_codes", payload=ok(data))
    with pytest.raises(MalformedResponseError):
        await client.generate_pin()


async def test_create_timed_pin(client: UnifiAccessClient, unifi: FakeApi) -> None:
    unifi.reply("POST", "/visitors", payload=load("visitor_created.json"))
    unifi.reply("PUT", f"/visitors/{VISITOR}/pin_codes", payload={"code": "SUCCESS", "msg": "success"})
    visitor = await client.create_timed_pin(
        name="Limpieza", pin="246810", starts_at=NOW, ends_at=NOW + timedelta(hours=4), door_ids=[A2]
    )
    assert visitor.has_pin
    (create,) = sent(unifi, "POST", "/visitors")
    assert (create.json["first_name"], create.json["last_name"]) == ("Limpieza", "Kasify")


async def test_create_timed_pin_removes_the_visitor_when_the_pin_is_refused(
    client: UnifiAccessClient, unifi: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    unifi.reply("POST", "/visitors", payload=load("visitor_created.json"), repeat=True)
    unifi.reply(
        "PUT",
        f"/visitors/{VISITOR}/pin_codes",
        status=400,
        payload=fail("CODE_CREDS_PIN_CODE_CREDS_ALREADY_EXIST", "PIN 246810 already exists"),
        repeat=True,
    )
    unifi.reply("DELETE", f"/visitors/{VISITOR}?is_force=true", payload=ok(None))
    unifi.reply("DELETE", f"/visitors/{VISITOR}?is_force=true", status=503, body="down")
    args: dict[str, Any] = {
        "name": "Ana García",
        "pin": "246810",
        "starts_at": NOW,
        "ends_at": NOW + timedelta(days=2),
        "door_ids": [A2],
    }
    with pytest.raises(ConflictError) as err:
        await client.create_timed_pin(**args)
    assert "246810" not in str(err.value)
    assert len(sent(unifi, "DELETE", f"/visitors/{VISITOR}?is_force=true")) == 1
    # When the clean-up fails too, the visitor is left: the error says so (the PIN's error in it), and the
    # leftover is logged.
    with pytest.raises(PartialWriteError) as partial:
        await client.create_timed_pin(**args)
    assert isinstance(partial.value.__cause__, ConflictError)
    assert VISITOR in str(partial.value)
    assert "246810" not in str(partial.value)
    assert f"Could not remove UniFi Access visitor {VISITOR}" in caplog.text


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "fragment"),
    [
        (401, fail("CODE_UNAUTHORIZED", "Unauthorized"), AuthError, "HTTP 401"),
        (200, fail("CODE_AUTH_FAILED", "Authentication failed."), AuthError, "CODE_AUTH_FAILED"),
        (400, fail("CODE_ACCESS_TOKEN_INVALID"), AuthError, "CODE_ACCESS_TOKEN_INVALID"),
        (404, fail("CODE_RESOURCE_NOT_FOUND", "not found"), NotFoundError, "CODE_RESOURCE_NOT_FOUND"),
        (200, fail("CODE_NOT_EXISTS", "gone"), NotFoundError, "gone"),
        (400, fail("CODE_PARAMS_INVALID", "Invalid parameters."), ValidationError, "CODE_PARAMS_INVALID"),
        (200, fail("CODE_DEVICE_DEVICE_OFFLINE"), DeviceOfflineError, "HTTP 200"),
        (402, fail("CODE_OPERATION_FORBIDDEN", "not bound"), NotSupportedError, "not bound"),
        (200, fail("CODE_DEVICE_API_NOT_SUPPORTED"), NotSupportedError, "API_NOT_SUPPORTED"),
        (200, fail("CODE_DEVICE_DEVICE_BUSY"), BusyError, "BUSY"),
        (500, fail("CODE_SYSTEM_ERROR", "boom"), ServerError, "boom"),
        (502, "<html><body>Bad gateway</body></html>", ServerError, "Bad gateway"),
        (503, "", ServerError, "Service Unavailable"),
        (200, fail("CODE_SOMETHING_NEW", "new"), ApiError, "CODE_SOMETHING_NEW"),
        (402, {"msg": "Request Failed"}, ApiError, "Request Failed"),
        (404, "", NotFoundError, "Not Found"),
        (400, "nonsense", ValidationError, "nonsense"),
        (499, "", ApiError, "error"),
    ],
)
async def test_error_shapes(
    client: UnifiAccessClient,
    unifi: FakeApi,
    status: int,
    body: Any,
    error: type[ApiError],
    fragment: str,
) -> None:
    if isinstance(body, dict):
        unifi.reply("PUT", f"/doors/{A2}/unlock", status=status, payload=body)
    else:
        unifi.reply("PUT", f"/doors/{A2}/unlock", status=status, body=body)
    with pytest.raises(error) as err:
        await client.unlock(A2)
    assert fragment in str(err.value)
    assert str(err.value).startswith(f"PUT /doors/{A2}/unlock: ")
    assert err.value.status == status
    if error in (ApiError, AuthError):
        assert type(err.value) is error


async def test_403_names_the_missing_permission(client: UnifiAccessClient, unifi: FakeApi) -> None:
    unifi.reply("GET", "/doors", status=403, payload=fail("CODE_UNAUTHORIZED", "Forbidden"))
    unifi.reply("PUT", f"/doors/{A2}/unlock", status=403, payload=fail("CODE_UNAUTHORIZED"))
    unifi.reply("POST", "/visitors", status=200, payload=fail("CODE_UNAUTHORIZED"))
    unifi.reply("GET", f"/visitors/{VISITOR}", status=403, body="")
    unifi.reply("POST", "/credentials/pin_codes", status=403, body="")
    cases = [
        (client.list_doors(), "view:space"),
        (client.unlock(A2), "edit:space"),
        (
            client.create_visitor(
                first_name="A", last_name="B", starts_at=NOW, ends_at=NOW + timedelta(hours=1)
            ),
            "edit:visitor",
        ),
        (client.get_visitor(VISITOR), "view:visitor"),
        (client.generate_pin(), "view:credential"),
    ]
    for call, permission in cases:
        with pytest.raises(MissingPermissionError) as err:
            await call
        assert isinstance(err.value, AuthError)
        assert err.value.permission == permission
        assert f"lacks the '{permission}' permission" in str(err.value)


async def test_pin_errors(client: UnifiAccessClient, unifi: FakeApi) -> None:
    path = f"/visitors/{VISITOR}/pin_codes"
    unifi.reply(
        "PUT", path, status=400, payload=fail("CODE_CREDS_PIN_CODE_CREDS_LENGTH_INVALID", "PIN 12 too short")
    )
    unifi.reply(
        "PUT", path, status=200, payload=fail("CODE_CREDS_PIN_CODE_CREDS_ALREADY_EXIST", "12345678 in use")
    )
    with pytest.raises(ValidationError) as length:
        await client.assign_visitor_pin(VISITOR, "12")
    assert length.value.fields == {"pin_code": ["PIN *** too short"]}
    with pytest.raises(ConflictError) as taken:
        await client.assign_visitor_pin(VISITOR, "12345678")
    assert "12345678" not in str(taken.value)


async def test_rate_limit_reads_retry_after(client: UnifiAccessClient, unifi: FakeApi) -> None:
    unifi.reply("GET", "/doors", status=429, body="slow down", headers={"Retry-After": "7"})
    with pytest.raises(RateLimitedError) as err:
        await client.list_doors()
    assert err.value.retry_after == 7.0


async def test_the_token_never_appears_in_messages(client: UnifiAccessClient, unifi: FakeApi) -> None:
    unifi.reply(
        "GET", "/doors", status=401, payload=fail("CODE_ACCESS_TOKEN_INVALID", f"Bearer {TOKEN} expired")
    )
    unifi.reply("PUT", f"/doors/{A2}/unlock", status=500, body=f"<html>token={TOKEN}</html>")
    for call in (client.list_doors(), client.unlock(A2)):
        with pytest.raises(ApiError) as err:
            await call
        assert TOKEN not in str(err.value)
        assert "***" in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"body": "not json"}, "envelope"),
        ({"payload": [1, 2]}, "envelope"),
        ({"payload": {"data": []}}, "envelope"),
        ({"payload": ok([{"name": "no id"}])}, "id"),
        (
            {"payload": ok([{"id": "x", "name": "Door", "door_lock_relay_status": "jammed"}])},
            "door_lock_relay",
        ),
        ({"payload": ok({"id": "x"})}, "unexpected door data"),
    ],
)
async def test_malformed_answers(
    client: UnifiAccessClient, unifi: FakeApi, kwargs: dict[str, Any], fragment: str
) -> None:
    unifi.reply("GET", "/doors", **kwargs)
    with pytest.raises(MalformedResponseError) as err:
        await client.list_doors()
    assert fragment in str(err.value)


async def test_malformed_single_door_and_lock_rule(client: UnifiAccessClient, unifi: FakeApi) -> None:
    unifi.reply("GET", f"/doors/{A2}", payload=ok({"name": "no id"}))
    unifi.reply("GET", f"/doors/{A2}/lock_rule", payload=ok({"type": "forever", "ended_time": 1}))
    unifi.reply("GET", f"/visitors/{VISITOR}", payload=ok({"first_name": "no id"}))
    with pytest.raises(MalformedResponseError, match="unexpected door data"):
        await client.get_door(A2)
    with pytest.raises(MalformedResponseError, match="lock_rule"):
        await client.get_lock_rule(A2)
    with pytest.raises(MalformedResponseError, match="id"):
        await client.get_visitor(VISITOR)


async def test_network_failures(session: aiohttp.ClientSession, unifi: FakeApi) -> None:
    client = UnifiAccessClient(session, HOST, TOKEN, fingerprint=FINGERPRINT)
    unifi.reply("GET", "/doors", exception=aiohttp.ClientConnectionError("refused"))
    unifi.reply("GET", "/doors", exception=TimeoutError())
    unifi.reply(
        "GET",
        "/doors",
        exception=aiohttp.ClientSSLError(
            aiohttp.client_reqrep.ConnectionKey(HOST, 12445, True, True, None, None, None),
            OSError("handshake"),
        ),
    )
    with pytest.raises(ApiConnectionError, match="ClientConnectionError"):
        await client.list_doors()
    with pytest.raises(ApiConnectionError, match="timed out"):
        await client.list_doors()
    with pytest.raises(ApiConnectionError, match="TLS failed"):
        await client.list_doors()


async def test_fingerprint_mismatch_is_its_own_error(session: aiohttp.ClientSession, unifi: FakeApi) -> None:
    client = UnifiAccessClient(session, HOST, TOKEN, fingerprint=FINGERPRINT)
    got = bytes(range(32))
    unifi.reply(
        "GET",
        "/doors",
        exception=aiohttp.ServerFingerprintMismatch(bytes.fromhex("ab" * 31 + "cd"), got, HOST, 12445),
    )
    with pytest.raises(CertificateMismatchError) as err:
        await client.list_doors()
    assert err.value.expected == FINGERPRINT
    assert err.value.actual == format_fingerprint(got)
    assert isinstance(err.value, ApiConnectionError)


# --- push events --------------------------------------------------------------------------------


def test_location_update_v2() -> None:
    (event,) = parse_event(load("ws_location_update_v2.json"))
    assert event == DoorStateEvent(
        A2, LockStatus.UNLOCKED, DoorPosition.OPEN, True, "access.data.device.location_update_v2"
    )


def test_v2_location_update() -> None:
    (event,) = parse_event(load("ws_v2_location_update.json"))
    assert isinstance(event, DoorStateEvent)
    assert (event.door_id, event.status, event.position) == (D3855, LockStatus.LOCKED, DoorPosition.CLOSED)


def test_v2_device_update_has_a_state_per_door() -> None:
    first, second = parse_event(load("ws_v2_device_update.json"))
    assert first == DoorStateEvent(
        A2, LockStatus.LOCKED, DoorPosition.CLOSED, True, "access.data.v2.device.update"
    )
    # Only what the message carried: nothing about the lock of the second door.
    assert second == DoorStateEvent(D3855, None, DoorPosition.OPEN, True, "access.data.v2.device.update")


@pytest.mark.parametrize(
    ("state", "status", "position", "reported"),
    [
        ({"dps": None}, None, None, True),
        ({"dps": "none"}, None, None, True),
        ({"lock": "locked"}, LockStatus.LOCKED, None, False),
        ({"lock": "Jammed"}, LockStatus.UNKNOWN, None, False),
        ({"dps": "close", "lock": "unlocked"}, LockStatus.UNLOCKED, DoorPosition.CLOSED, True),
    ],
)
def test_location_states_keep_what_was_said(
    state: dict[str, Any], status: LockStatus | None, position: DoorPosition | None, reported: bool
) -> None:
    message = {
        "event": "access.data.device.location_update_v2",
        "data": {"id": A2, "location_type": "door", "state": state},
    }
    (event,) = parse_event(message)
    assert isinstance(event, DoorStateEvent)
    assert (event.status, event.position, event.position_reported) == (status, position, reported)


def test_state_events_apply_to_doors() -> None:
    door = UnifiDoor(A2, "A2", "A2", None, LockStatus.LOCKED, DoorPosition.CLOSED, True, SETTABLE_LOCK_RULES)
    opened = DoorStateEvent(A2, None, DoorPosition.OPEN, True, "e").apply(door)
    assert (opened.status, opened.position) == (LockStatus.LOCKED, DoorPosition.OPEN)
    unlocked = DoorStateEvent(A2, LockStatus.UNLOCKED, None, False, "e").apply(opened)
    assert (unlocked.status, unlocked.position) == (LockStatus.UNLOCKED, DoorPosition.OPEN)
    no_sensor = DoorStateEvent(A2, None, None, True, "e").apply(unlocked)
    assert no_sensor.position is None
    assert DoorStateEvent(A2, LockStatus.UNLOCKED, None, False, "e").apply(unlocked) is unlocked


def test_access_logs() -> None:
    (used,) = parse_event(load("ws_logs_add_pin.json"))
    assert used == DoorActivityEvent(
        door_id=A2,
        kind=ActivityKind.CODE_USED,
        actor="Ana García López",
        method="PIN_CODE",
        at=datetime.fromtimestamp(1773500531, UTC),
        event="access.logs.add",
    )
    (denied,) = parse_event(load("ws_logs_add_blocked.json"))
    assert isinstance(denied, DoorActivityEvent)
    assert (denied.kind, denied.actor, denied.method) == (ActivityKind.ACCESS_DENIED, None, "PIN_CODE")


def test_other_credentials_and_remote_unlocks_are_unlocks() -> None:
    message = load("ws_logs_add_pin.json")
    message["data"]["_source"]["authentication"]["credential_provider"] = "NFC"
    del message["data"]["_source"]["event"]["published"]
    (nfc,) = parse_event(message)
    assert isinstance(nfc, DoorActivityEvent)
    assert (nfc.kind, nfc.method, nfc.at) == (ActivityKind.UNLOCKED, "NFC", None)
    (remote,) = parse_event(load("ws_remote_unlock.json"))
    assert remote == DoorActivityEvent(
        "5d600936-8618-4f2d-a1b7-d786865b70ba",
        ActivityKind.UNLOCKED,
        None,
        "REMOTE",
        None,
        "access.data.device.remote_unlock",
    )


def _without_door_target() -> dict[str, Any]:
    message = load("ws_logs_add_pin.json")
    message["data"]["_source"]["target"] = [{"type": "UAH", "id": "e4388384236b"}]
    return message


def _other_log_type() -> dict[str, Any]:
    message = load("ws_logs_add_pin.json")
    message["data"]["_source"]["event"]["type"] = "access.doorbell.incoming"
    return message


@pytest.mark.parametrize(
    "message",
    [
        load("ws_remote_view.json"),
        {"event": "access.data.device.location_update_v2", "data": {"location_type": "door"}},
        {
            "event": "access.data.device.location_update_v2",
            "data": {"id": A2, "location_type": "floor", "state": {"lock": "locked"}},
        },
        {"event": "access.data.device.location_update_v2", "data": {"id": A2, "location_type": "door"}},
        {
            "event": "access.data.device.location_update_v2",
            "data": {"id": A2, "location_type": "door", "state": {}},
        },
        {"event": "access.data.device.remote_unlock", "data": {"name": "no door id"}},
        {"event": "access.base.info", "data": {"top_log_count": 3}},
        {"no": "event"},
        _without_door_target(),
        _other_log_type(),
    ],
)
def test_messages_without_door_events(message: dict[str, Any]) -> None:
    assert parse_event(message) == ()


def test_unknown_settable_rules_cover_the_api() -> None:
    assert {rule.value for rule in SETTABLE_LOCK_RULES} == {
        "keep_lock",
        "keep_unlock",
        "custom",
        "reset",
        "lock_early",
        "lock_now",
    }
    assert re.fullmatch(r"[A-F0-9:]+", FINGERPRINT)


def test_permissions_named_in_403_messages() -> None:
    assert _permission_for("GET", "/devices") == "view:device"
    assert _permission_for("GET", "/system/logs") is None
