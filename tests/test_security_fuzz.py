"""Hostile input to every action, across every kind of account on the simulator (hypothesis).

Kasify, casavi, Nuki, UniFi Access and RemoteLock are set up together, so each action can be aimed at what
belongs to another entry: a lock of another account, a casavi property, a Kasify booking of another property,
a code issued on another lock. Dates (naive, aware, at the ends of the calendar, not dates at all), text
(unicode, blank, huge) and ids (``/``, ``..``, ``%2e%2e``, ``%2F``) are drawn for each field. Whatever comes
in, an action either does what it was asked or fails with the schema's ``vol.Invalid`` or Home Assistant's
``ServiceValidationError`` carrying a translation; a refused call sends nothing that changes anything
upstream, and no call acts on a code the integration did not issue.

The examples are derandomized (the same on every run) and few (the build machine has two cores).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from hypothesis import HealthCheck, example, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.kasify.const import DOMAIN
from simulator import Simulator
from simulator.unifi_access import UnifiEndpoint

from . import setup_integration
from .providers import (
    LOFT,
    NOW,
    background_done,
    casavi_entry,
    create_code,
    kasify_entry,
    list_codes,
    nuki_entry,
    on_loop,
    property_device_id,
    remotelock_device_id,
    remotelock_entry,
    unifi_entry,
    upstream_writes,
)

# The UniFi door, added after the Kasify account, is named after its property.
PORTAL = "lock.estudio_do_miradouro_principe_real_portal_rua_garrett"

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("fast_nuki", "no_heartbeat")]

FUZZ: Final = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PATH_TRICKS: Final = [
    "..", ".", "/", "//", "../..", "a/../b", "%2e%2e", "%2E%2E", "%2e%2e%2f", "%2F", "..%2f", "%252e%252e",
    "\u2024\u2024", " .. ", "?x=1", "#frag", "\x00", "\n",
]  # fmt: skip
"""Ids aimed at the URL path (dot segments, plain or encoded, separators) besides what hypothesis draws."""
TEXT: Final = st.one_of(
    st.sampled_from(PATH_TRICKS),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0x80), max_size=12),
    st.just("Ä" * 5000),
)
EXTREME_DATES: Final = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59",
    "2026-02-30T10:00:00",
    "2026-03-15T25:00:00",
    "2026-03-15",
    "",
    "now",
    "1e9",
    "\uff12\uff10\uff12\uff16-03-15T10:00:00",
]
DATES: Final = st.one_of(
    st.sampled_from(EXTREME_DATES),
    st.datetimes(timezones=st.none() | st.timezones()).map(datetime.isoformat),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.integers(min_value=-400, max_value=800).map(lambda days: (NOW + timedelta(days=days)).isoformat()),
    TEXT,
)


def _window(start_hours: int, length_hours: int) -> tuple[str, str]:
    start = NOW + timedelta(hours=start_hours)
    return start.isoformat(), (start + timedelta(hours=length_hours)).isoformat()


WINDOWS: Final = st.one_of(
    st.tuples(DATES, DATES),
    # Plausible windows too, so that some calls go through and what they do is checked.
    st.builds(_window, st.integers(-48, 24 * 400), st.integers(1, 24 * 150)),
)


# --- setting everything up ----------------------------------------------------------------------------------


def _entity_of(hass: HomeAssistant, platform: str, device_key: str) -> str:
    """The ``platform`` entity of the device ``(kasify, device_key)``."""
    device = next(d for d in dr.async_get(hass).devices.values() if (DOMAIN, device_key) in d.identifiers)
    entry = next(
        e for e in er.async_entries_for_device(er.async_get(hass), device.id) if e.domain == platform
    )
    return entry.entity_id


def _device_of(hass: HomeAssistant, device_key: str) -> str:
    return next(d.id for d in dr.async_get(hass).devices.values() if (DOMAIN, device_key) in d.identifiers)


@pytest.fixture
async def everything(hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint) -> dict[str, Any]:
    """Every kind of account set up; a code issued on each vendor's lock. What the tests aim at, by name."""
    entries: list[MockConfigEntry] = [
        kasify_entry(simulator),
        casavi_entry(simulator),
        nuki_entry(simulator),
        unifi_entry(endpoint),
        remotelock_entry(simulator),
    ]
    for entry in entries:
        await setup_integration(hass, entry)
    await background_done(hass)
    garage = _entity_of(hass, "lock", f"remotelock_{remotelock_device_id(simulator, 'Garaje')}")
    issued = {
        lock: (await create_code(hass, lock, code="58273916"[: 6 if lock == LOFT else 8]))[lock]["code_id"]
        for lock in (LOFT, PORTAL, garage)
    }
    casavi_property = next(iter(simulator.casavi.properties))
    loft_property = simulator.kasify.property_at(0)
    return {
        "locks": [LOFT, PORTAL, garage],
        "issued": issued,
        "kasify_property": property_device_id(hass, loft_property["id"]),
        "kasify_property_id": loft_property["id"],
        "other_kasify_property": property_device_id(hass, simulator.kasify.property_at(1)["id"]),
        "casavi_property": _device_of(hass, f"casavi_property_{casavi_property}"),
        "nuki_device": _device_of(hass, "nuki_17883675725"),
        "garage_device": _device_of(hass, f"remotelock_{remotelock_device_id(simulator, 'Garaje')}"),
        "other_booking": next(
            b["id"] for b in simulator.kasify.bookings.values() if b["property_id"] != loft_property["id"]
        ),
        "casavi_ids": [*simulator.casavi.appointments, *simulator.casavi.tickets][:4],
        "sensor": next(
            e.entity_id
            for e in er.async_get(hass).entities.values()
            if e.platform == DOMAIN and e.domain == "sensor"
        ),
    }


def _lock_codes(simulator: Simulator) -> dict[str, Any]:
    """The codes that open a simulated lock: Nuki keypad codes and authorisations, UniFi visitors that are not
    cancelled, RemoteLock access persons that are not deactivated (a revoked visitor or guest is kept as
    history), each as it is served."""
    unifi, remotelock = simulator.unifi, simulator.remotelock
    return {
        "nuki": {key: dict(auth) for key, auth in simulator.nuki.auths.items()},
        "unifi": {
            key: unifi.served_visitor(key)
            for key, visitor in unifi.visitors.items()
            if unifi.visitor_status(visitor) != "CANCELLED"
        },
        "remotelock": {
            key: remotelock.render_person(person)
            for key, person in remotelock.access_persons.items()
            if remotelock.person_status(person) != "deactivated"
        },
    }


async def _outcome(call: Awaitable[Any]) -> tuple[Any, Exception | None]:
    """The action's response, or the error it raised: only the schema's or a translated validation error."""
    error: vol.Invalid | ServiceValidationError
    try:
        return await call, None
    except vol.Invalid as err:
        return None, err
    except ServiceValidationError as err:
        error = err
    assert error.translation_domain == DOMAIN, repr(error)
    assert error.translation_key, repr(error)
    return None, error


def _call(hass: HomeAssistant, action: str, data: Mapping[str, Any], response: bool = True) -> Awaitable[Any]:
    return hass.services.async_call(DOMAIN, action, dict(data), blocking=True, return_response=response)


# --- access codes -------------------------------------------------------------------------------------------


async def test_create_access_code_with_any_input(
    hass: HomeAssistant, simulator: Simulator, everything: dict[str, Any]
) -> None:
    """A create either puts the code on the locks it names (revoked again here) or is refused; a refused one
    sends nothing that changes anything upstream."""
    locks: list[str] = everything["locks"]
    targets = st.one_of(
        st.sampled_from(locks).map(lambda lock: {ATTR_ENTITY_ID: lock}),
        st.just({ATTR_ENTITY_ID: locks}),
        st.sampled_from(
            [
                {ATTR_ENTITY_ID: "lock.does_not_exist"},
                {ATTR_ENTITY_ID: everything["sensor"]},
                {"device_id": everything["casavi_property"]},
                {"device_id": everything["kasify_property"]},
                {"device_id": everything["garage_device"]},
                {},
            ]
        ),
    )
    codes = st.one_of(st.none(), st.from_regex(r"[1-9]{6,8}", fullmatch=True), TEXT)
    before = _lock_codes(simulator)

    outcomes: list[bool] = []

    async def check(drawn: tuple[dict[str, Any], str, str | None, tuple[Any, Any], Any]) -> None:
        target, name, code, (starts_at, ends_at), booking_id = drawn
        simulator.reset_requests()
        data = {**target, "name": name, "starts_at": starts_at, "ends_at": ends_at}
        if code is not None:
            data["code"] = code
        if booking_id is not None:
            data["booking_id"] = booking_id
        response, error = await _outcome(_call(hass, "create_access_code", data))
        outcomes.append(error is None)
        if error is not None:
            assert upstream_writes(simulator) == [], drawn
            return
        assert set(response) <= set(locks), drawn
        for lock, issued in response.items():
            await _call(
                hass, "revoke_access_code", {ATTR_ENTITY_ID: lock, "code_id": issued["code_id"]}, False
            )

    @FUZZ
    @given(st.tuples(targets, TEXT, codes, WINDOWS, st.none() | TEXT))
    # At the ends of the calendar (in the lock's time zone or UTC, a day off is past the year 9999).
    @example(
        ({ATTR_ENTITY_ID: LOFT}, "Ana", None, ("9999-12-31T00:00:00", "9999-12-31T23:59:59-14:00"), None)
    )
    @example(({ATTR_ENTITY_ID: locks}, "Ana", None, ("9999-12-30T00:00:00Z", "9999-12-31T23:59:59"), None))
    @example(({ATTR_ENTITY_ID: PORTAL}, "Ana", None, ("0001-01-01T00:00:00+14:00", "0001-01-02"), None))
    @example(({ATTR_ENTITY_ID: locks}, "Ana", None, _window(1, 48), None))  # one that works
    def fuzz(drawn: tuple[dict[str, Any], str, str | None, tuple[Any, Any], Any]) -> None:
        on_loop(hass, check)(drawn)

    await hass.async_add_executor_job(fuzz)
    assert _lock_codes(simulator) == before
    assert True in outcomes, "no call went through: the checks of what a call does never ran"
    assert False in outcomes


def _revokes(
    simulator: Simulator, everything: dict[str, Any]
) -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    """A revoke's target and code id: hostile text, another record's id, an issued code aimed elsewhere."""
    locks: list[str] = everything["locks"]
    issued: dict[str, str] = everything["issued"]
    foreign = [
        *simulator.nuki.auths,  # the Nuki account's own authorisations (app users, fobs, keypad codes)
        *simulator.unifi.visitors,
        *simulator.remotelock.access_persons,
        *everything["casavi_ids"],
        everything["other_booking"],
    ]
    crossed = [(lock, code_id) for lock in locks for other, code_id in issued.items() if other != lock]
    code_ids = st.one_of(TEXT, st.sampled_from(foreign), st.sampled_from(list(issued.values())))
    elsewhere = [
        {"device_id": everything["casavi_property"]},
        {"device_id": everything["nuki_device"]},
        {ATTR_ENTITY_ID: everything["sensor"]},
    ]
    return st.one_of(
        st.tuples(st.sampled_from(locks).map(lambda lock: {ATTR_ENTITY_ID: lock}), code_ids),
        st.sampled_from(crossed).map(lambda pair: ({ATTR_ENTITY_ID: pair[0]}, pair[1])),
        st.tuples(st.sampled_from(elsewhere), code_ids),
    )


async def _fuzz_revokes(hass: HomeAssistant, simulator: Simulator, everything: dict[str, Any]) -> None:
    """Revokes of ids not issued on the locks they name: refused, no request; the issued codes stay."""
    issued: dict[str, str] = everything["issued"]
    devices = {everything["nuki_device"]: LOFT, everything["garage_device"]: everything["locks"][2]}
    before = _lock_codes(simulator)

    async def check(drawn: tuple[dict[str, Any], str]) -> None:
        target, code_id = drawn
        lock = target.get(ATTR_ENTITY_ID) or devices.get(target.get("device_id", ""))
        if lock in issued and code_id.strip() == issued[lock]:
            return  # revoking a code on the lock it was issued for is what the action is for
        simulator.reset_requests()
        _, error = await _outcome(_call(hass, "revoke_access_code", {**target, "code_id": code_id}, False))
        assert error is not None, f"revoked {drawn!r}"
        assert simulator.requests == [], drawn

    @FUZZ
    @given(_revokes(simulator, everything))
    def fuzz(drawn: tuple[dict[str, Any], str]) -> None:
        on_loop(hass, check)(drawn)

    await hass.async_add_executor_job(fuzz)
    assert _lock_codes(simulator) == before


async def _fuzz_lists(hass: HomeAssistant, simulator: Simulator, everything: dict[str, Any]) -> None:
    """A list answers only with the integration's own codes (of the property asked for: any device or text
    given as the property), without PINs unless asked, and sends nothing that changes anything."""
    listed_before = await list_codes(hass)
    issued_ids = {item["code_id"] for item in listed_before}
    keys = [
        "kasify_property",
        "other_kasify_property",
        "casavi_property",
        "nuki_device",
        "kasify_property_id",
    ]
    properties = st.one_of(st.none(), TEXT, st.sampled_from([everything[key] for key in keys]))

    async def check(drawn: tuple[str | None, str | None, bool]) -> None:
        prop, booking_id, include = drawn
        data: dict[str, Any] = {"include_codes": include}
        if prop is not None:
            data["property"] = prop
        if booking_id is not None:
            data["booking_id"] = booking_id
        simulator.reset_requests()
        response, _error = await _outcome(_call(hass, "list_access_codes", data))
        assert upstream_writes(simulator) == [], drawn
        for item in response["codes"] if response is not None else []:
            assert item["code_id"] in issued_ids, drawn
            assert ("code" in item) is include, drawn
            assert prop in (None, everything["kasify_property"]), drawn  # the only property with codes

    @FUZZ
    @given(st.tuples(properties, st.none() | TEXT, st.booleans()))
    def fuzz(drawn: tuple[str | None, str | None, bool]) -> None:
        on_loop(hass, check)(drawn)

    await hass.async_add_executor_job(fuzz)
    assert await list_codes(hass) == listed_before


async def test_revoke_and_list_never_reach_what_was_not_issued(
    hass: HomeAssistant, simulator: Simulator, everything: dict[str, Any]
) -> None:
    """A revoke of an id not issued on the locks it names (path tricks, another lock's code, another
    account's record) is refused before any request; the issued codes stay on their locks. A list answers
    only with the integration's own codes."""
    await _fuzz_revokes(hass, simulator, everything)
    await _fuzz_lists(hass, simulator, everything)


# --- bookings and tasks -------------------------------------------------------------------------------------


def _booking_and_task_actions(everything: dict[str, Any]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """An action and its data, aimed at a Kasify property, another account's property or lock, or text."""
    keys = ["kasify_property", "casavi_property", "nuki_device", "garage_device", "kasify_property_id"]
    targets = st.sampled_from([*(everything[key] for key in keys), ""])
    others = [everything["other_booking"], *everything["casavi_ids"]]
    phones = st.none() | TEXT | st.from_regex(r"\+[0-9 ]{6,14}", fullmatch=True)
    bookings = st.builds(
        lambda prop, name, window, email, phone, notes: {
            "property": prop,
            "guest_name": name,
            "check_in": window[0],
            "check_out": window[1],
            "email": email,
            "phone": phone,
            "notes": notes,
        },
        targets, TEXT, WINDOWS, st.none() | TEXT, phones, st.none() | TEXT,
    )  # fmt: skip
    booking_ids = st.one_of(st.none(), TEXT, st.sampled_from(others))
    tasks = st.builds(
        lambda prop, title, due, assignee, booking: {
            "property": prop, "title": title, "due": due, "assignee": assignee, "booking_id": booking
        },
        targets, TEXT, st.none() | DATES, st.none() | TEXT, booking_ids,
    )  # fmt: skip
    task_ids = st.one_of(TEXT, st.sampled_from(others)).map(lambda task_id: {"task_id": task_id})
    return st.one_of(
        st.tuples(st.just("create_booking"), bookings),
        st.tuples(st.just("create_task"), tasks),
        st.tuples(st.sampled_from(["start_task", "complete_task"]), task_ids),
    )


async def test_booking_and_task_actions_with_any_input(
    hass: HomeAssistant, simulator: Simulator, everything: dict[str, Any]
) -> None:
    """``create_booking``, ``create_task``, ``start_task`` and ``complete_task`` either do what they are asked
    at the Kasify property they name or are refused; a refused call changes nothing upstream, and none of them
    acts on a lock, a casavi record or a task it was not given."""
    loft = everything["kasify_property_id"]
    outcomes: list[tuple[str, bool]] = []

    async def check(drawn: tuple[str, dict[str, Any]]) -> None:
        action, data = drawn
        data = {key: value for key, value in data.items() if value is not None}
        simulator.reset_requests()
        _, error = await _outcome(_call(hass, action, data))
        outcomes.append((action, error is None))
        if error is not None:
            assert upstream_writes(simulator) == [], drawn
            return
        # Done: only a booking or a task of the Kasify property named.
        for request in simulator.requests:
            if request.method == "GET":
                continue
            assert request.method == "POST", drawn
            if request.path == "/kasify/v1/tasks":
                assert request.body["property_id"] == loft, drawn
            else:
                assert request.path == f"/kasify/v1/properties/{loft}/bookings", drawn

    booking = {"property": everything["kasify_property"], "guest_name": "Ana", "email": "ana@example.com"}
    task = {"property": everything["kasify_property"], "title": "Check the boiler", "booking_id": None}

    @FUZZ
    @given(_booking_and_task_actions(everything))
    @example(
        ("create_booking", {**booking, "check_in": "9999-12-31T20:00:00", "check_out": "9999-12-31T23:00"})
    )
    @example(("create_booking", {**booking, "check_in": "2026-10-01T15:00", "check_out": "2026-10-03T11:00"}))
    @example(("create_task", {**task, "due": "0001-01-01T00:00:00+14:00"}))
    @example(("create_task", {**task, "due": "2026-10-01T15:00"}))
    @example(("start_task", {"task_id": ".."}))
    @example(("complete_task", {"task_id": "x" * 129}))
    def fuzz(drawn: tuple[str, dict[str, Any]]) -> None:
        on_loop(hass, check)(drawn)

    before = _lock_codes(simulator)
    tasks_before = {k: dict(v) for k, v in simulator.kasify.tasks.items()}
    await hass.async_add_executor_job(fuzz)
    assert _lock_codes(simulator) == before
    assert {k: v for k, v in simulator.kasify.tasks.items() if k in tasks_before} == tasks_before
    assert {action for action, done in outcomes if done} >= {"create_booking", "create_task"}
