"""Hostile requests to the RemoteLock webhook change nothing.

Whoever can reach Home Assistant can post to the webhook URL. A request without the right ``X-Secret``
(401), a body over the size limit (413), a body that is not an event (400), an event type the integration
does not know, or an event about a device of another RemoteLock account (200, ignored): none of them moves a
lock, fires an activity, touches an access code or makes a request to RemoteLock, and none of them makes
Home Assistant log an error. The same event with the right secret is then accepted, so the payloads used
here are ones that would have worked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import logging
from typing import Any, Final

from homeassistant.components.lock import LockState
from homeassistant.const import MATCH_ALL
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.kasify.const import CONF_WEBHOOK, CONF_WEBHOOK_ID, CONF_WEBHOOK_SECRET, DOMAIN
from custom_components.kasify.providers.remotelock.webhook import MAX_WEBHOOK_BODY
from simulator import Simulator, SimulatorConfig

from . import setup_integration
from .providers import (
    NOW,
    WEBHOOK_ID,
    WEBHOOK_SECRET,
    create_code,
    list_codes,
    remotelock_device_id,
    remotelock_entry,
)

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"])]

FRONT: Final = "lock.puerta_de_servicio"
GARAGE: Final = "lock.garaje"
URL: Final = f"/api/webhook/{WEBHOOK_ID}"
RIGHT: Final = {"X-Secret": WEBHOOK_SECRET}


def _kasify_states(hass: HomeAssistant) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every state of the integration's entities: (state, attributes)."""
    ours = {entry.entity_id for entry in er.async_get(hass).entities.values() if entry.platform == DOMAIN}
    return {
        state.entity_id: (state.state, dict(state.attributes))
        for state in hass.states.async_all()
        if state.entity_id in ours
    }


def _record_events(hass: HomeAssistant) -> list[Event]:
    """Every event on the bus from now on (Home Assistant's own bookkeeping left out)."""
    seen: list[Event] = []
    quiet = {"call_service", "service_registered", "component_loaded", "core_config_updated"}

    @callback
    def _record(event: Event) -> None:
        if event.event_type not in quiet:
            seen.append(event)

    hass.bus.async_listen(MATCH_ALL, _record)
    return seen


@pytest.fixture
async def webhook_client(hass: HomeAssistant, simulator: Simulator, hass_client_no_auth: Any) -> Any:
    """A RemoteLock account with its webhook on, a code issued on its garage, and an HTTP client."""
    entry = remotelock_entry(
        simulator, **{CONF_WEBHOOK: True, CONF_WEBHOOK_ID: WEBHOOK_ID, CONF_WEBHOOK_SECRET: WEBHOOK_SECRET}
    )
    await setup_integration(hass, entry)
    await create_code(hass, GARAGE, code="73915824")
    await hass.async_block_till_done(wait_background_tasks=True)
    return await hass_client_no_auth()


def _unlocked_payload(simulator: Simulator) -> dict[str, Any]:
    """The webhook body of a real ``unlocked`` event of the front door (that would unlock it in Home
    Assistant)."""
    front = remotelock_device_id(simulator, "Puerta de servicio")
    event = simulator.remotelock.add_event("unlocked", front, occurred_at=NOW)
    return simulator.remotelock.webhook_payload(event["id"])


def _foreign_payloads() -> list[dict[str, Any]]:
    """Real events of a device of another RemoteLock account (another simulated fleet): an unlock and a
    "codes synced"."""
    other = Simulator(SimulatorConfig(properties=3, seed=7, now=NOW))
    device = next(d for d in other.remotelock.devices.values() if d["type"] in ("lock", "zwave_lock"))
    unlocked = other.remotelock.add_event("unlocked", device["id"], occurred_at=NOW)
    synced = other.remotelock.add_event("access_person_synced", device["id"], occurred_at=NOW)
    return [other.remotelock.webhook_payload(unlocked["id"]), other.remotelock.webhook_payload(synced["id"])]


def _padded(payload: dict[str, Any], size: int) -> bytes:
    """``payload`` as JSON, made ``size`` bytes long with an extra attribute (still a valid event)."""
    body = json.dumps(payload).encode()
    padded = json.loads(body)
    padded["data"]["attributes"]["padding"] = ""
    filler = size - len(json.dumps(padded).encode())
    padded["data"]["attributes"]["padding"] = "x" * filler
    out = json.dumps(padded).encode()
    assert len(out) == size
    return out


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    """The body as a chunked upload (no Content-Length)."""
    for start in range(0, len(body), 8192):
        yield body[start : start + 8192]


def _hostile_requests(payload: dict[str, Any]) -> list[tuple[int, str, str, dict[str, Any]]]:
    """``(answer, method, url, request)`` for each hostile request built around a real event's body."""
    wrong = [
        {},
        {"X-Secret": ""},
        {"X-Secret": "wrong"},
        {"X-Secret": WEBHOOK_SECRET.upper()},
        {"X-Secret": WEBHOOK_SECRET + " "},
        {"X-Secret": WEBHOOK_SECRET[:-1]},
        {"Authorization": f"Bearer {WEBHOOK_SECRET}"},
    ]
    not_events = [
        b"",
        b"{not json",
        b"\xff\xfe\xfa",
        b"[]",
        b'"data"',
        b"null",
        b'{"data": null}',
        b'{"data": []}',
        b'{"data": {"type": "unlocked_event"}}',
        b'{"data": {"id": "x", "type": "unlocked_event", "attributes": {"occurred_at": "yesterday"}}}',
        b'{"data": {"id": 5, "type": ["unlocked_event"], "attributes": {}}}',
        json.dumps({"data": {**payload["data"], "attributes": None}}).encode(),
        b"[" * 20000 + b"]" * 20000,  # deeper than the JSON decoder goes
    ]
    unknown = json.loads(json.dumps(payload))
    unknown["data"]["id"] = "evt-unknown-type"
    unknown["data"]["type"] = "door_sang_a_song_event"
    return [
        # Without the right secret: 401, whatever the body (a huge one is not read); not in the query either.
        *((401, "POST", URL, {"json": payload, "headers": headers}) for headers in wrong),
        (401, "POST", URL, {"data": _padded(payload, 2 * MAX_WEBHOOK_BODY), "headers": {"X-Secret": "x"}}),
        (401, "POST", f"{URL}?X-Secret={WEBHOOK_SECRET}", {"json": payload}),
        (405, "PUT", URL, {"json": payload, "headers": RIGHT}),  # only POST is served
        # The right secret, a body over the limit: 413, with or without a Content-Length.
        (413, "POST", URL, {"data": _padded(payload, MAX_WEBHOOK_BODY + 1), "headers": RIGHT}),
        (413, "POST", URL, {"data": _chunks(_padded(payload, 4 * MAX_WEBHOOK_BODY)), "headers": RIGHT}),
        # The right secret, but not an event: 400.
        *((400, "POST", URL, {"data": body, "headers": RIGHT}) for body in not_events),
        # An event of a type the integration does not know, events of another account's device: accepted
        # (RemoteLock would otherwise send them again) and ignored.
        (200, "POST", URL, {"json": unknown, "headers": RIGHT}),
        *((200, "POST", URL, {"json": foreign, "headers": RIGHT}) for foreign in _foreign_payloads()),
    ]


async def test_hostile_requests_change_nothing(
    hass: HomeAssistant, simulator: Simulator, webhook_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Each hostile request gets its documented answer and changes nothing; the real event then works."""
    payload = _unlocked_payload(simulator)
    codes_before = await list_codes(hass)
    states_before = _kasify_states(hass)
    assert states_before[FRONT][0] == LockState.LOCKED
    events = _record_events(hass)
    simulator.reset_requests()
    caplog.set_level(logging.DEBUG)

    for expected, method, url, request in _hostile_requests(payload):
        resp = await webhook_client.request(method, url, **request)
        assert resp.status == expected, (method, url, request.get("headers"))
        await hass.async_block_till_done(wait_background_tasks=True)

    assert _kasify_states(hass) == states_before
    assert [e.event_type for e in events] == []
    assert await list_codes(hass) == codes_before
    assert simulator.requests == []  # nothing was asked of RemoteLock
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    # The real event, with the right secret: accepted, the door shows unlocked.
    assert (await webhook_client.post(URL, json=payload, headers=RIGHT)).status == 200
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == LockState.UNLOCKED


async def test_a_body_at_the_limit_is_read(
    hass: HomeAssistant, simulator: Simulator, webhook_client: Any
) -> None:
    """The limit refuses only what is over it: an event padded to exactly the limit is accepted."""
    resp = await webhook_client.post(
        URL, data=_padded(_unlocked_payload(simulator), MAX_WEBHOOK_BODY), headers=RIGHT
    )
    assert resp.status == 200
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == LockState.UNLOCKED


JSON: Final = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


async def test_any_json_is_answered_without_error(
    hass: HomeAssistant, simulator: Simulator, webhook_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Any JSON in place of an event, or of one of its parts, is answered 200 or 400 and never makes Home
    Assistant log an error; the access codes stay as they were."""
    payload = _unlocked_payload(simulator)
    codes_before = await list_codes(hass)
    keys = ["data", "id", "type", "attributes", "occurred_at", "publisher_id", "publisher_type", "status"]
    statuses: set[int] = set()

    async def check(drawn: tuple[str | None, Any]) -> None:
        key, value = drawn
        body: Any = value
        if key is not None:
            body = json.loads(json.dumps(payload))
            data = body["data"]
            if key == "data":
                body["data"] = value
            elif key in ("id", "type", "attributes"):
                data[key] = value
            else:
                data["attributes"][key] = value
        resp = await webhook_client.post(URL, data=json.dumps(body), headers=RIGHT)
        statuses.add(resp.status)
        assert resp.status in (200, 400), drawn
        await hass.async_block_till_done()

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.tuples(st.none() | st.sampled_from(keys), JSON))
    def fuzz(drawn: tuple[str | None, Any]) -> None:
        asyncio.run_coroutine_threadsafe(check(drawn), hass.loop).result(timeout=60)

    with caplog.at_level(logging.WARNING):
        await hass.async_add_executor_job(fuzz)
    assert statuses >= {400}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await list_codes(hass) == codes_before
