"""The fault matrix: every upstream x every fault x every operation ends safe, told and recoverable.

For each provider and operation one test sets the account up against the simulator once and then plays every
fault of :mod:`tests.fault_matrix` in turn. For each fault it asserts what the host would see:

- a refresh: the upstream's entities go unavailable (never stale values shown as current), one log line for
  the outage however many refreshes fail, reauthentication only for refused credentials, and everything back
  on the next good refresh;
- an action (lock, create or revoke a code, create a booking or task): a translated error, the lock's shown
  state as it was, nothing left behind upstream (no orphaned code, access guest, visitor, booking or task),
  reauthentication only for refused credentials, and the same action working once the fault is gone;
- a RemoteLock webhook delivery: answered 200 at once whatever RemoteLock's API does meanwhile (RemoteLock
  deactivates webhooks that keep failing), and the event applied.

The outcomes are printed as a table at the end of the run (``conftest.pytest_terminal_summary``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.kasify.const import CONF_WEBHOOK, CONF_WEBHOOK_ID, CONF_WEBHOOK_SECRET, DOMAIN
from simulator import Simulator
from simulator.unifi_access import UnifiEndpoint

from . import setup_integration
from .fault_matrix import (
    COMMON_FAULTS,
    Expect,
    FaultCase,
    body_fault,
    inferred_fault,
    record,
    token_expired_once,
    write_fault,
)
from .providers import (
    LOFT,
    PORTAL,
    SCAN,
    WEBHOOK_ID,
    WEBHOOK_SECRET,
    casavi_entry,
    create_code,
    kasify_entry,
    list_codes,
    nuki_entry,
    property_device_id,
    remotelock_device_id,
    remotelock_entry,
    settle,
    tick,
    unifi_entry,
)

pytestmark = [
    pytest.mark.allow_hosts(["127.0.0.1"]),
    pytest.mark.usefixtures("fast_nuki", "no_heartbeat"),
]

CLIENT_TIMEOUT = timedelta(seconds=16)  # every client gives up after 15 s
TRANSLATIONS = json.loads(
    (Path(__file__).parents[1] / "custom_components/kasify/translations/en.json").read_text(encoding="utf-8")
)
KASIFY_LOFT = "binary_sensor.loft_patio_lavapies_puerta_principal"
KASIFY_NEXT = "sensor.loft_patio_lavapies_next_check_in"
KASIFY_TASKS = "sensor.loft_patio_lavapies_open_tasks"
CASAVI_APPOINTMENTS = "calendar.haus_am_see_appointments"
CASAVI_TICKETS = "sensor.haus_am_see_open_tickets"
RL_FRONT = "lock.puerta_de_servicio"


@dataclass(slots=True)
class Ctx:
    """One account set up against the simulator, and the tools to drive it."""

    hass: HomeAssistant
    simulator: Simulator
    freezer: FrozenDateTimeFactory
    entry: MockConfigEntry
    client: Any = None
    scratch: dict[str, Any] = field(default_factory=dict)


type Undo = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Provider:
    """An upstream the matrix faults: its paths in the simulator, its account, what it shows and holds."""

    name: str
    prefix: str
    setup: Callable[[HomeAssistant, Simulator, Any], Awaitable[MockConfigEntry]]
    watched: tuple[str, ...]
    holdings: Callable[[Simulator], object]
    faults: tuple[FaultCase, ...]
    push: bool = False


# --- accounts -----------------------------------------------------------------------------------------------


async def _kasify(hass: HomeAssistant, simulator: Simulator, _: UnifiEndpoint) -> MockConfigEntry:
    await hass.config.async_set_time_zone("Europe/Madrid")
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    return entry


async def _casavi(hass: HomeAssistant, simulator: Simulator, _: UnifiEndpoint) -> MockConfigEntry:
    entry = casavi_entry(simulator)
    await setup_integration(hass, entry)
    return entry


async def _nuki(hass: HomeAssistant, simulator: Simulator, _: UnifiEndpoint) -> MockConfigEntry:
    entry = nuki_entry(simulator)
    await setup_integration(hass, entry)
    return entry


async def _unifi(hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint) -> MockConfigEntry:
    entry = unifi_entry(endpoint)
    await setup_integration(hass, entry)
    return entry


async def _remotelock(hass: HomeAssistant, simulator: Simulator, _: UnifiEndpoint) -> MockConfigEntry:
    entry = remotelock_entry(
        simulator, **{CONF_WEBHOOK: True, CONF_WEBHOOK_ID: WEBHOOK_ID, CONF_WEBHOOK_SECRET: WEBHOOK_SECRET}
    )
    await setup_integration(hass, entry)
    return entry


def _kasify_holdings(simulator: Simulator) -> object:
    codes = sorted(i for i, c in simulator.kasify.access_codes.items() if c["status"] != "revoked")
    return (sorted(simulator.kasify.bookings), sorted(simulator.kasify.tasks), codes)


def _remotelock_holdings(simulator: Simulator) -> object:
    return (sorted(simulator.remotelock.access_persons), sorted(simulator.remotelock.accesses))


SMART_HOSTING = (
    '{"detailMessage": "No active Smart Hosting subscription for the Smart Lock, please get one!", '
    '"stackTrace": [], "suppressedExceptions": []}'
)
RL_ERROR = '{"errors": [{"type": "invalid_request", "message": "Invalid request"}]}'

PROVIDERS: dict[str, Provider] = {
    "kasify": Provider(
        "kasify",
        "/kasify/v1",
        _kasify,
        (KASIFY_NEXT, KASIFY_TASKS, KASIFY_LOFT),
        _kasify_holdings,
        (
            *COMMON_FAULTS,
            inferred_fault("/bookings", 404, (KASIFY_NEXT,)),
            inferred_fault("/bookings", 400, (KASIFY_NEXT,)),
            inferred_fault("/tasks", 404, (KASIFY_TASKS,)),
        ),
    ),
    "casavi": Provider(
        "casavi",
        "/casavi",
        _casavi,
        (CASAVI_APPOINTMENTS, CASAVI_TICKETS),
        lambda simulator: None,
        (
            *COMMON_FAULTS,
            token_expired_once(Expect.OK),
            inferred_fault("/v2/appointments", 404, (CASAVI_APPOINTMENTS,)),
            inferred_fault("/v2/tickets", 400, (CASAVI_TICKETS,)),
        ),
    ),
    "nuki": Provider(
        "nuki",
        "/nuki",
        _nuki,
        (LOFT, "sensor.loft_patio_lavapies_puerta_principal_battery"),
        lambda simulator: sorted(simulator.nuki.auths),
        (
            *COMMON_FAULTS,
            body_fault("smart-hosting-403", 403, SMART_HOSTING),
            body_fault("smart-hosting-200", 200, SMART_HOSTING),
            write_fault("smart-hosting-200-writes", 200, SMART_HOSTING),
        ),
    ),
    "unifi_access": Provider(
        "unifi_access",
        "/api/v1/developer",
        _unifi,
        (PORTAL,),
        lambda simulator: sorted(simulator.unifi.visitors),
        COMMON_FAULTS,
        push=True,
    ),
    "remotelock": Provider(
        "remotelock",
        "/remotelock/api",
        _remotelock,
        (RL_FRONT, "sensor.puerta_de_servicio_battery"),
        _remotelock_holdings,
        (
            *COMMON_FAULTS,
            token_expired_once(Expect.OK, status=403),
            body_fault("error-body-400", 400, RL_ERROR),
        ),
    ),
}


# --- operations ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Operation:
    """What the host does; ``prepare`` runs before the fault (e.g. the code a revoke then removes)."""

    run: Callable[[Ctx], Awaitable[Undo | None]]
    prepare: Callable[[Ctx], Awaitable[None]] | None = None
    kept: Callable[[Ctx], Awaitable[bool]] | None = None
    """After a failed run: whether what the host asked to remove is still listed by Home Assistant."""


def _lock(entity_id: str) -> Operation:
    async def run(ctx: Ctx) -> Undo | None:
        state = ctx.hass.states.get(entity_id)
        assert state is not None
        service = "lock" if state.state == "unlocked" else "unlock"
        await ctx.hass.services.async_call("lock", service, {ATTR_ENTITY_ID: entity_id}, blocking=True)
        return None

    return Operation(run)


def _code_data(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    return {key: value(ctx) if callable(value) else value for key, value in data.items()}


async def _revoke_service(ctx: Ctx, entity_id: str, code_id: str) -> None:
    await ctx.hass.services.async_call(
        DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: entity_id, "code_id": code_id}, blocking=True
    )


def _create_code(entity_id: str, **data: Any) -> Operation:
    async def run(ctx: Ctx) -> Undo | None:
        code_id = (await create_code(ctx.hass, entity_id, **_code_data(ctx, data)))[entity_id]["code_id"]

        async def undo() -> None:
            await _revoke_service(ctx, entity_id, code_id)

        return undo

    return Operation(run)


def _revoke_code(entity_id: str, **data: Any) -> Operation:
    """Revoke a code created before the fault."""

    async def prepare(ctx: Ctx) -> None:
        response = await create_code(ctx.hass, entity_id, **_code_data(ctx, data))
        ctx.scratch["code_id"] = response[entity_id]["code_id"]

    async def run(ctx: Ctx) -> Undo | None:
        await _revoke_service(ctx, entity_id, ctx.scratch["code_id"])
        return None

    async def kept(ctx: Ctx) -> bool:
        return ctx.scratch["code_id"] in [item["code_id"] for item in await list_codes(ctx.hass)]

    return Operation(run, prepare, kept)


def _kasify_booking(ctx: Ctx) -> str:
    loft = ctx.simulator.kasify.property_at(0)["id"]
    return next(
        b["id"]
        for b in ctx.simulator.kasify.bookings.values()
        if b["property_id"] == loft and b["status"] == "confirmed"
    )


async def _create_booking(ctx: Ctx) -> Undo | None:
    prop = ctx.simulator.kasify.property_at(2)["id"]
    ctx.scratch["nights"] = nights = ctx.scratch.get("nights", 0) + 1
    response = await ctx.hass.services.async_call(
        DOMAIN,
        "create_booking",
        {
            "property": property_device_id(ctx.hass, prop),
            "guest_name": "Fault Matrix",
            "check_in": f"2026-09-{nights:02d} 15:00",
            "check_out": f"2026-09-{nights + 1:02d} 11:00",
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    booking_id = str(response["booking_id"])

    async def undo() -> None:
        del ctx.simulator.kasify.bookings[booking_id]

    return undo


async def _create_task(ctx: Ctx) -> Undo | None:
    prop = ctx.simulator.kasify.property_at(1)["id"]
    response = await ctx.hass.services.async_call(
        DOMAIN,
        "create_task",
        {"property": property_device_id(ctx.hass, prop), "title": "Fault matrix", "task_type": "cleaning"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    task_id = str(response["task_id"])

    async def undo() -> None:
        del ctx.simulator.kasify.tasks[task_id]

    return undo


OPERATIONS: dict[str, dict[str, Operation]] = {
    "kasify": {
        "create code": _create_code(KASIFY_LOFT, booking_id=_kasify_booking),
        "revoke code": _revoke_code(KASIFY_LOFT, booking_id=_kasify_booking),
        "create booking": Operation(_create_booking),
        "create task": Operation(_create_task),
    },
    "casavi": {},
    "nuki": {
        "lock action": _lock(LOFT),
        "create code": _create_code(LOFT),
        "revoke code": _revoke_code(LOFT),
    },
    "unifi_access": {
        "lock action": _lock(PORTAL),
        "create code": _create_code(PORTAL),
        "revoke code": _revoke_code(PORTAL),
    },
    "remotelock": {
        "lock action": _lock(RL_FRONT),
        "create code": _create_code(RL_FRONT),
        "revoke code": _revoke_code(RL_FRONT),
    },
}

CASES = [
    pytest.param(provider, operation, id=f"{provider}-{operation.replace(' ', '_')}")
    for provider in PROVIDERS
    for operation in ("refresh", *OPERATIONS[provider], *(["webhook"] if provider == "remotelock" else []))
]


# --- the cell runner ----------------------------------------------------------------------------------------


class _Warnings(logging.Handler):
    """Counts the integration's warnings and errors."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("custom_components.kasify"):
            self.lines.append(record.getMessage())


async def _settle(ctx: Ctx, provider: Provider) -> None:
    await settle(ctx.hass, provider.push)


async def _under(ctx: Ctx, fault: FaultCase, call: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``call``; for a fault that never answers, move time on until the client's timeout ends it."""
    if not fault.stalls:
        return await call()
    task = asyncio.ensure_future(call())
    for _ in range(8):
        for _ in range(50):
            if task.done():
                break
            await asyncio.sleep(0)
        if task.done():
            break
        ctx.freezer.tick(CLIENT_TIMEOUT)
        async_fire_time_changed(ctx.hass)
    return await task


def _reauth_flows(ctx: Ctx) -> list[str]:
    return [
        flow["flow_id"]
        for flow in ctx.hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"].get("source") == SOURCE_REAUTH
        and flow["context"].get("entry_id") == ctx.entry.entry_id
    ]


def _abort_reauth(ctx: Ctx) -> None:
    for flow_id in _reauth_flows(ctx):
        ctx.hass.config_entries.flow.async_abort(flow_id)


def _states(ctx: Ctx, provider: Provider) -> dict[str, str]:
    return {e: s.state for e in provider.watched if (s := ctx.hass.states.get(e)) is not None}


def _translated(err: HomeAssistantError) -> str | None:
    """The error's translation key when English has a text for it."""
    key = err.translation_key
    if key is None or err.translation_domain != DOMAIN or key not in TRANSLATIONS["exceptions"]:
        return None
    return key


async def _refresh_cell(ctx: Ctx, provider: Provider, fault: FaultCase, problems: list[str]) -> str:
    """Two refreshes under the fault, then one good one."""
    coordinator = ctx.entry.runtime_data.coordinator
    warnings = _Warnings()
    logging.getLogger().addHandler(warnings)
    try:
        injected = fault.inject(ctx.simulator, provider.prefix)
        for _ in range(2):
            await _under(ctx, fault, coordinator.async_refresh)
            await _settle(ctx, provider)
        shown = _states(ctx, provider)
        for item in injected:
            ctx.simulator.faults.remove(item)
    finally:
        logging.getLogger().removeHandler(warnings)
    reauth = bool(_reauth_flows(ctx))
    _abort_reauth(ctx)
    ok = coordinator.last_update_success
    if fault.expect is Expect.OK:
        if not ok or reauth:
            problems.append(f"{fault.name}: expected a transparent recovery, got ok={ok} reauth={reauth}")
        return "ok"
    if fault.expect is Expect.DEGRADED:
        return _degraded(
            ctx, fault, ok=ok, reauth=reauth, shown=shown, warnings=warnings.lines, problems=problems
        )
    if ok:
        problems.append(f"{fault.name}: the refresh counted as a success")
    still_shown = {e: s for e, s in shown.items() if s != STATE_UNAVAILABLE}
    if still_shown:
        problems.append(f"{fault.name}: still shown while the upstream fails: {still_shown}")
    if reauth != (fault.expect is Expect.REAUTH):
        problems.append(f"{fault.name}: reauth={reauth}, expected {fault.expect is Expect.REAUTH}")
    if len(warnings.lines) != 1:
        problems.append(f"{fault.name}: {len(warnings.lines)} log lines for one outage: {warnings.lines}")
    return "reauth" if reauth else "unavailable"


def _endpoint_repairs(ctx: Ctx) -> list[str]:
    return [
        issue_id
        for (domain, issue_id) in ir.async_get(ctx.hass).issues
        if domain == DOMAIN and issue_id.startswith("endpoint_not_understood")
    ]


def _degraded(
    ctx: Ctx,
    fault: FaultCase,
    *,
    ok: bool,
    reauth: bool,
    shown: dict[str, str],
    warnings: list[str],
    problems: list[str],
) -> str:
    """Only the feature of the listing not understood is off; the rest is current; one repair, one line."""
    if not ok or reauth:
        problems.append(f"{fault.name}: the whole account failed (ok={ok}, reauth={reauth})")
    wrong = {e: s for e, s in shown.items() if (s == STATE_UNAVAILABLE) != (e in fault.degrades)}
    if wrong:
        problems.append(f"{fault.name}: expected only {fault.degrades} unavailable, got {wrong}")
    if len(_endpoint_repairs(ctx)) != 1:
        problems.append(f"{fault.name}: repairs {_endpoint_repairs(ctx)}, expected one")
    if len(warnings) != 1:
        problems.append(f"{fault.name}: {len(warnings)} log lines: {warnings}")
    return "feature off, repair"


async def _action_cell(
    ctx: Ctx, provider: Provider, operation: Operation, fault: FaultCase, problems: list[str]
) -> str:
    """The action under the fault (after its preparation, if any)."""
    if operation.prepare is not None:
        await operation.prepare(ctx)
    holdings = provider.holdings(ctx.simulator)
    shown = _states(ctx, provider)
    injected = fault.inject(ctx.simulator, provider.prefix)
    error: HomeAssistantError | None = None
    undo: Undo | None = None
    try:
        undo = await _under(ctx, fault, lambda: operation.run(ctx))
    except HomeAssistantError as err:
        error = err
    for item in injected:
        ctx.simulator.faults.remove(item)
    await _settle(ctx, provider)
    reauth = bool(_reauth_flows(ctx))
    _abort_reauth(ctx)
    if fault.expect is Expect.OK:
        if error is not None:
            problems.append(f"{fault.name}: expected success, got {error!r}")
        if undo is not None:
            await undo()
        return "ok"
    outcome = _failed_action(ctx, provider, fault, error, holdings, shown, problems)
    if undo is not None:
        await undo()
    if error is not None and operation.kept is not None and not await operation.kept(ctx):
        problems.append(f"{fault.name}: no longer listed although the revoke failed")
    if reauth and fault.expect is not Expect.REAUTH:
        problems.append(f"{fault.name}: reauth started")
    return outcome + (" +reauth" if reauth else "")


def _failed_action(
    ctx: Ctx,
    provider: Provider,
    fault: FaultCase,
    error: HomeAssistantError | None,
    holdings: object,
    shown: dict[str, str],
    problems: list[str],
) -> str:
    if error is None:
        problems.append(f"{fault.name}: the action succeeded")
        return "SUCCEEDED"
    key = _translated(error)
    if key is None:
        problems.append(f"{fault.name}: untranslated error {error!r}")
    if provider.holdings(ctx.simulator) != holdings:
        problems.append(f"{fault.name}: left something behind upstream")
    now_shown = {e: s for e, s in _states(ctx, provider).items() if e in shown}
    changed = {e: (shown[e], s) for e, s in now_shown.items() if s not in (shown[e], STATE_UNAVAILABLE)}
    if changed:
        problems.append(f"{fault.name}: shown state changed: {changed}")
    return key or "UNTRANSLATED"


async def _webhook_cell(ctx: Ctx, provider: Provider, fault: FaultCase, problems: list[str]) -> str:
    """RemoteLock delivers an event while its API fails: answered 200 at once, the event applied."""
    device = remotelock_device_id(ctx.simulator, "Puerta de servicio")
    before = ctx.hass.states.get(RL_FRONT)
    assert before is not None
    wanted = "locked" if before.state == "unlocked" else "unlocked"
    ctx.simulator.remotelock.lock_action(device, wanted.removesuffix("ed"))
    events = ctx.simulator.remotelock.events
    newest = max(events, key=lambda i: events[i]["attributes"]["created_at"])
    payload = ctx.simulator.remotelock.webhook_payload(newest)
    injected = fault.inject(ctx.simulator, provider.prefix)
    response = await ctx.client.post(
        f"/api/webhook/{WEBHOOK_ID}", json=payload, headers={"X-Secret": WEBHOOK_SECRET}
    )
    await ctx.hass.async_block_till_done()
    shown = ctx.hass.states.get(RL_FRONT)
    await _under(ctx, fault, lambda: _settle(ctx, provider))
    for item in injected:
        ctx.simulator.faults.remove(item)
    await _settle(ctx, provider)
    if response.status != 200:
        problems.append(f"{fault.name}: webhook answered {response.status}")
    if shown is None or shown.state != wanted:
        problems.append(f"{fault.name}: the event was not applied ({shown and shown.state} != {wanted})")
    return f"{response.status} {shown.state if shown else None}"


async def _recover(
    ctx: Ctx, provider: Provider, operation: Operation | None, fault: FaultCase, problems: list[str]
) -> None:
    """The next scheduled refresh brings everything back, and the action works again (a revoke the fault did
    not stop gets a new code first: only codes the engine issued can be revoked). After refused
    credentials Home Assistant stops polling until the host signs in again, which reloads the entry."""
    if fault.expect is Expect.REAUTH:
        assert await ctx.hass.config_entries.async_reload(ctx.entry.entry_id)
        await _settle(ctx, provider)
    interval = max(ctx.entry.runtime_data.coordinator.update_interval or SCAN, SCAN)
    ctx.simulator.advance(interval)  # motors stop, rate-limit windows roll over, events get new times
    await tick(ctx.hass, ctx.freezer, interval, push=provider.push)
    if not ctx.entry.runtime_data.coordinator.last_update_success:
        problems.append(f"{fault.name}: the next good refresh did not recover")
    gone = [e for e, s in _states(ctx, provider).items() if s == STATE_UNAVAILABLE]
    if gone:
        problems.append(f"{fault.name}: still unavailable after the fault: {gone}")
    if _endpoint_repairs(ctx):
        problems.append(f"{fault.name}: repairs left after the fault: {_endpoint_repairs(ctx)}")
    if operation is None:
        return
    if operation.prepare is not None and operation.kept is not None and not await operation.kept(ctx):
        await operation.prepare(ctx)  # the revoke worked despite the fault: a new code to revoke
    try:
        undo = await operation.run(ctx)
    except HomeAssistantError as err:
        problems.append(f"{fault.name}: the action still fails after the fault: {err!r}")
        return
    if undo is not None:
        await undo()
    await _settle(ctx, provider)


@pytest.mark.parametrize(("provider_name", "operation_name"), CASES)
async def test_fault_matrix(
    hass: HomeAssistant,
    simulator: Simulator,
    endpoint: UnifiEndpoint,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: Any,
    provider_name: str,
    operation_name: str,
) -> None:
    """Every fault of the provider, in turn, against one operation (see the module docstring)."""
    provider = PROVIDERS[provider_name]
    ctx = Ctx(hass, simulator, freezer, await provider.setup(hass, simulator, endpoint))
    if operation_name == "webhook":
        ctx.client = await hass_client_no_auth()
    operation = OPERATIONS[provider_name].get(operation_name)
    problems: list[str] = []
    for fault in provider.faults:
        if fault.writes_only and operation_name in ("refresh", "webhook"):
            continue
        if fault.refresh_only and operation_name != "refresh":
            continue
        cell: list[str] = []
        if operation_name == "refresh":
            outcome = await _refresh_cell(ctx, provider, fault, cell)
        elif operation_name == "webhook":
            outcome = await _webhook_cell(ctx, provider, fault, cell)
        else:
            assert operation is not None
            outcome = await _action_cell(ctx, provider, operation, fault, cell)
        await _recover(ctx, provider, operation, fault, cell)
        record(provider_name, operation_name, fault.name, f"{outcome} !" if cell else outcome)
        problems.extend(cell)
    assert not problems, "\n".join(problems)
