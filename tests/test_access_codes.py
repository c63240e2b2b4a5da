"""Access codes against the simulator: create / revoke / list actions on Nuki and UniFi Access locks and
through Kasify bookings, every validation error, all-or-nothing rollback, status settling with bus events,
the store across restarts, and the manager interface other features build on."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.kasify.access_codes import (
    CODE_FAILED,
    CODE_ON_LOCK,
    CODE_PENDING,
    EVENT_CODE_FAILED,
    EVENT_CODE_PROVISIONED,
    AccessCodeManager,
    async_get_code_manager,
    manager as access_codes,
    policy,
)
from custom_components.kasify.access_codes.manager import STORAGE_KEY
from custom_components.kasify.access_codes.policy import VENDOR_UNIFI, CodeRules, is_weak
from custom_components.kasify.access_codes.records import CodeRecord, NewCode
from custom_components.kasify.api.models import AccessCode
from custom_components.kasify.api.nuki import keypad_code_problem
from custom_components.kasify.const import DOMAIN
from custom_components.kasify.coordinator import property_identifier
from custom_components.kasify.providers.unifi_access import UNIFI_CODES
from simulator import Simulator
from simulator.unifi_access import UnifiEndpoint

from . import setup_integration
from .providers import (
    ATICO,
    ATICO_ID,
    END,
    LOFT,
    LOFT_ID,
    NOW,
    PORTAL,
    START,
    create_code,
    keypad_codes,
    list_codes,
    nuki_entry,
    remotelock_entry,
    tick,
    unifi_entry,
)

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("fast_nuki", "no_heartbeat")]

GARAJE = "lock.garaje"
KASIFY_LOFT = "binary_sensor.loft_patio_lavapies_puerta_principal"
VISITORS = "/api/v1/developer/visitors"
CHECKS = timedelta(seconds=30)  # how often pending codes are looked for
RECHECKS = timedelta(minutes=15)  # how often failed codes are looked for again


def _code_lists(simulator: Simulator) -> list[str]:
    """The keypad code lists read since the last reset."""
    return [r.path for r in simulator.requests if r.path.endswith("/auth")]


def _capture(hass: HomeAssistant, event_type: str) -> list[Event]:
    return async_capture_events(hass, event_type)


async def _setup_nuki_and_unifi(hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint) -> None:
    """The host's Nuki account and the UniFi Access controller, both set up."""
    await setup_integration(hass, nuki_entry(simulator))
    await setup_integration(hass, unifi_entry(endpoint))


# --- create, list, revoke ---------------------------------------------------------------------------------


async def test_generated_code_on_two_nuki_locks(hass: HomeAssistant, simulator: Simulator) -> None:
    """One generated code lands on both keypads with the window; the response, list and events agree."""
    await setup_integration(hass, nuki_entry(simulator))
    provisioned = _capture(hass, EVENT_CODE_PROVISIONED)
    before = {lock: set(keypad_codes(simulator, lock)) for lock in (LOFT_ID, ATICO_ID)}

    response = await create_code(hass, [LOFT, ATICO], booking_id="b-1")

    assert set(response) == {LOFT, ATICO}
    pin = response[LOFT]["code"]
    assert response[ATICO]["code"] == pin
    assert keypad_code_problem(pin) is None
    assert not is_weak(pin)
    assert pin != "345678"  # the cleaners' code already on the Loft keypad
    for entity_id, lock_id in ((LOFT, LOFT_ID), (ATICO, ATICO_ID)):
        new = {k: v for k, v in keypad_codes(simulator, lock_id).items() if k not in before[lock_id]}
        (auth_id,) = new
        assert response[entity_id] == {
            "code_id": auth_id,
            "code": pin,
            "starts_at": START.isoformat(),
            "ends_at": END.isoformat(),
            "status": CODE_ON_LOCK,
        }
        assert new[auth_id]["code"] == int(pin)
        assert new[auth_id]["name"] == "Ana García"
        assert new[auth_id]["allowedFromDate"] == "2026-03-15T12:00:00.000Z"
        assert new[auth_id]["allowedUntilDate"] == "2026-03-18T12:00:00.000Z"

    listed = await list_codes(hass)
    assert [item["entity_id"] for item in listed] == [ATICO, LOFT]
    assert all("code" not in item for item in listed)
    assert listed[1] == {
        "entity_id": LOFT,
        "lock": "Loft Patio Lavapiés - Puerta principal",
        "code_id": response[LOFT]["code_id"],
        "name": "Ana García",
        "starts_at": START.isoformat(),
        "ends_at": END.isoformat(),
        "status": CODE_ON_LOCK,
        "booking_id": "b-1",
    }
    with_pins = await list_codes(hass, entity_id=LOFT, include_codes=True)
    assert [item["code"] for item in with_pins] == [pin]
    assert await list_codes(hass, booking_id="other") == []

    assert sorted(event.data["entity_id"] for event in provisioned) == [ATICO, LOFT]
    for event in provisioned:
        assert pin not in str(event.data)
        assert event.data["booking_id"] == "b-1"
        assert event.data["name"] == "Ana García"


async def test_given_code_create_and_revoke(hass: HomeAssistant, simulator: Simulator) -> None:
    """A valid code of the user's is used as given; revoking deletes it on the lock and from the list."""
    await setup_integration(hass, nuki_entry(simulator))
    response = await create_code(hass, LOFT, code="483926")
    code_id = response[LOFT]["code_id"]
    assert simulator.nuki.auths[code_id]["code"] == 483926

    await hass.services.async_call(
        DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: LOFT, "code_id": code_id}, blocking=True
    )
    assert code_id not in simulator.nuki.auths
    assert await list_codes(hass) == []


async def test_create_without_response(hass: HomeAssistant, simulator: Simulator) -> None:
    """The response is optional."""
    await setup_integration(hass, nuki_entry(simulator))
    await hass.services.async_call(
        DOMAIN,
        "create_access_code",
        {ATTR_ENTITY_ID: LOFT, "name": "Ana", "starts_at": START, "ends_at": END},
        blocking=True,
    )
    assert len(await list_codes(hass)) == 1


async def test_a_user_who_is_not_admin_cannot_create_revoke_or_read_pins(
    hass: HomeAssistant, simulator: Simulator, hass_read_only_user: User
) -> None:
    """A non-admin user gets Unauthorized and nothing changes; listing without PINs still works for them."""
    await setup_integration(hass, nuki_entry(simulator))
    pin = "483926"
    code_id = (await create_code(hass, LOFT, code=pin))[LOFT]["code_id"]  # no user: an automation
    before = set(keypad_codes(simulator, LOFT_ID))
    context = Context(user_id=hass_read_only_user.id)
    calls: list[tuple[str, dict[str, Any], bool]] = [
        (
            "create_access_code",
            {ATTR_ENTITY_ID: LOFT, "name": "Mallory", "starts_at": START, "ends_at": END},
            True,
        ),
        ("revoke_access_code", {ATTR_ENTITY_ID: LOFT, "code_id": code_id}, False),
        ("list_access_codes", {"include_codes": True}, True),
    ]
    for action, data, with_response in calls:
        with pytest.raises(Unauthorized):
            await hass.services.async_call(
                DOMAIN, action, data, blocking=True, context=context, return_response=with_response
            )
    assert set(keypad_codes(simulator, LOFT_ID)) == before
    assert simulator.nuki.auths[code_id]["code"] == int(pin)

    response: Any = await hass.services.async_call(
        DOMAIN, "list_access_codes", {}, blocking=True, context=context, return_response=True
    )
    assert [item["code_id"] for item in response["codes"]] == [code_id]
    assert all("code" not in item for item in response["codes"])
    assert pin not in str(response)


async def test_an_admin_user_creates_reads_and_revokes(
    hass: HomeAssistant, simulator: Simulator, hass_admin_user: User
) -> None:
    """An administrator may do everything: create, read the PINs, revoke."""
    await setup_integration(hass, nuki_entry(simulator))
    context = Context(user_id=hass_admin_user.id)
    created: Any = await hass.services.async_call(
        DOMAIN,
        "create_access_code",
        {ATTR_ENTITY_ID: LOFT, "name": "Ana", "code": "483926", "starts_at": START, "ends_at": END},
        blocking=True,
        context=context,
        return_response=True,
    )
    code_id = created[LOFT]["code_id"]
    listed: Any = await hass.services.async_call(
        DOMAIN,
        "list_access_codes",
        {"include_codes": True},
        blocking=True,
        context=context,
        return_response=True,
    )
    assert [item["code"] for item in listed["codes"]] == ["483926"]
    await hass.services.async_call(
        DOMAIN,
        "revoke_access_code",
        {ATTR_ENTITY_ID: LOFT, "code_id": code_id},
        blocking=True,
        context=context,
    )
    assert code_id not in simulator.nuki.auths


async def test_naive_times_are_local(hass: HomeAssistant, simulator: Simulator) -> None:
    """A time without zone (the UI's datetime selector) is Home Assistant's local time."""
    await hass.config.async_set_time_zone("Europe/Madrid")
    await setup_integration(hass, nuki_entry(simulator))
    response = await create_code(hass, LOFT, starts_at="2026-03-20 15:00:00", ends_at="2026-03-23 11:00:00")
    assert response[LOFT]["starts_at"] == "2026-03-20T14:00:00+00:00"
    assert simulator.nuki.auths[response[LOFT]["code_id"]]["allowedUntilDate"] == "2026-03-23T10:00:00.000Z"


async def test_revoking_a_code_already_gone(hass: HomeAssistant, simulator: Simulator) -> None:
    """A code deleted on the lock meanwhile (or never issued here) counts as revoked."""
    await setup_integration(hass, nuki_entry(simulator))
    response = await create_code(hass, LOFT)
    code_id = response[LOFT]["code_id"]
    simulator.nuki.delete_auth(LOFT_ID, code_id)
    await hass.services.async_call(
        DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: LOFT, "code_id": code_id}, blocking=True
    )
    assert await list_codes(hass) == []


async def test_a_code_not_issued_here_is_not_revoked(hass: HomeAssistant, simulator: Simulator) -> None:
    """A keypad code Home Assistant did not issue (the cleaners' here), or a dot segment, is refused before
    anything is sent: foreign codes are removed in the vendor's app."""
    await setup_integration(hass, nuki_entry(simulator))
    (cleaning,) = [k for k, v in keypad_codes(simulator, LOFT_ID).items() if v["name"] == "Limpieza"]
    before = dict(simulator.nuki.auths)
    simulator.reset_requests()
    for code_id in (cleaning, "..", ".", "%2e%2e", "../../smartlock"):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: LOFT, "code_id": code_id}, blocking=True
            )
        assert err.value.translation_key == "access_code_not_issued"
    assert simulator.nuki.auths == before
    assert simulator.count_requests("/nuki", method="DELETE") == 0


async def test_foreign_visitors_and_guests_are_not_revoked(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """A UniFi visitor, even one whose remarks say Kasify, or a RemoteLock guest, that the engine has no
    record of stays: the revoke is refused before any request."""
    await setup_integration(hass, unifi_entry(endpoint))
    await setup_integration(hass, remotelock_entry(simulator, title="RemoteLock"))
    door = next(iter(simulator.unifi.doors))
    start = int(START.timestamp())
    visitor = simulator.unifi.create_visitor(
        {
            "first_name": "Ana",
            "last_name": "Visitor",
            "remarks": "Kasify",
            "start_time": start,
            "end_time": start + 3600,
            "visit_reason": "Others",
            "resources": [{"type": "door", "id": door}],
        }
    )
    guest = simulator.remotelock.add_access_person(
        "access_guest", "Ana", pin="1357", starts_at=START, ends_at=END
    )
    simulator.reset_requests()
    for entity_id, code_id in ((PORTAL, visitor["id"]), ("lock.puerta_de_servicio", guest["id"])):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: entity_id, "code_id": code_id}, blocking=True
            )
        assert err.value.translation_key == "access_code_not_issued"
    assert visitor["id"] in simulator.unifi.visitors
    assert (
        simulator.remotelock.person_status(simulator.remotelock.access_persons[guest["id"]]) != "deactivated"
    )
    assert not [r for r in simulator.requests if r.method in ("POST", "PUT", "DELETE")]


@pytest.mark.parametrize("list_answers", [True, False], ids=["still-listed", "list-unreadable"])
async def test_a_404_on_revoke_counts_only_when_the_code_is_seen_gone(
    hass: HomeAssistant, simulator: Simulator, issue_registry: ir.IssueRegistry, list_answers: bool
) -> None:
    """A 404 to the delete (a wrong path, a proxy) while the lock still lists the code, or while its codes
    cannot be read, is not a revoke: a translated error, the code kept, a repair."""
    await setup_integration(hass, nuki_entry(simulator))
    code_id = (await create_code(hass, LOFT))[LOFT]["code_id"]
    simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth", method="DELETE", status=404)
    if not list_answers:
        simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth", method="GET", status=404)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: LOFT, "code_id": code_id}, blocking=True
        )
    assert err.value.translation_key == "access_code_revoke_unverified"
    assert code_id in simulator.nuki.auths
    simulator.faults.clear()
    assert [item["code_id"] for item in await list_codes(hass)] == [code_id]
    assert any(
        issue.translation_key == "access_code_revoke_unverified" for issue in issue_registry.issues.values()
    )


async def test_revoke_failure(hass: HomeAssistant, simulator: Simulator) -> None:
    """Nuki refusing the delete is a translated error naming the lock; the code stays listed."""
    await setup_integration(hass, nuki_entry(simulator))
    code_id = (await create_code(hass, LOFT))[LOFT]["code_id"]
    simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth", method="DELETE", status=500)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: LOFT, "code_id": code_id}, blocking=True
        )
    assert err.value.translation_key == "access_code_revoke_failed"
    assert err.value.translation_placeholders["lock"] == "Loft Patio Lavapiés - Puerta principal"
    assert [item["code_id"] for item in await list_codes(hass)] == [code_id]


async def _code_on_loft_and_portal(hass: HomeAssistant) -> dict[str, str]:
    """One code on the Nuki Loft and the UniFi Portal: lock → its code id there."""
    issued = await async_get_code_manager(hass).async_create(
        [LOFT, PORTAL], name="Ana García", code=None, starts_at=START, ends_at=END
    )
    return {entity_id: code.code_id for entity_id, code in issued.items()}


def _on_lock(simulator: Simulator, codes: dict[str, str]) -> set[str]:
    """The locks (of the Loft and the Portal) that still have their code in the simulator."""
    found = {LOFT} if codes[LOFT] in simulator.nuki.auths else set()
    return found | ({PORTAL} if codes[PORTAL] in simulator.unifi.visitors else set())


@pytest.mark.parametrize("fault", ["nuki-500", "unifi-unloaded"])
async def test_revoke_goes_on_past_a_failing_lock(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, fault: str
) -> None:
    """One lock failing (its vendor refuses, or its account is unloaded) does not leave the code on the
    others: it is removed wherever it can be, one translated error names the lock left, whose record is kept
    for another try; that try removes it once the lock is reachable."""
    nuki, unifi = nuki_entry(simulator), unifi_entry(endpoint)
    await setup_integration(hass, nuki)
    await setup_integration(hass, unifi)
    codes = await _code_on_loft_and_portal(hass)
    pin = (await list_codes(hass, include_codes=True))[0]["code"]
    if fault == "nuki-500":
        simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth", method="DELETE", status=500)
        failed, name = LOFT, "Loft Patio Lavapiés - Puerta principal"
    else:
        await hass.config_entries.async_unload(unifi.entry_id)
        failed, name = PORTAL, "Portal Rua Garrett"
    manager = async_get_code_manager(hass)
    with pytest.raises(HomeAssistantError) as err:
        await manager.async_revoke(codes)
    assert err.value.translation_key == "access_code_revoke_incomplete"
    assert err.value.translation_placeholders["locks"] == name
    assert pin not in str(err.value.translation_placeholders)
    assert _on_lock(simulator, codes) == {failed}
    assert [(item["entity_id"], item["code_id"]) for item in await list_codes(hass)] == [
        (failed, codes[failed])
    ]

    simulator.faults.clear()
    if fault == "unifi-unloaded":
        assert await hass.config_entries.async_setup(unifi.entry_id)
        await hass.async_block_till_done()
    await manager.async_revoke({failed: codes[failed]})
    assert _on_lock(simulator, codes) == set()
    assert await list_codes(hass) == []


async def test_revoke_forgets_a_deleted_lock(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    """A lock entity deleted from Home Assistant cannot be reached any more: its record is dropped (logged,
    naming the lock), and the code is still removed from the other lock."""
    await _setup_nuki_and_unifi(hass, simulator, endpoint)
    codes = await _code_on_loft_and_portal(hass)
    pin = (await list_codes(hass, include_codes=True))[0]["code"]
    er.async_get(hass).async_remove(PORTAL)
    await hass.async_block_till_done()
    with caplog.at_level(logging.INFO, logger="custom_components.kasify"):
        await async_get_code_manager(hass).async_revoke(codes)
    assert codes[LOFT] not in simulator.nuki.auths
    assert await list_codes(hass) == []
    assert "Portal Rua Garrett" in caplog.text
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components.kasify")]
    assert not any(pin in message for message in ours)


# --- validation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"name": "  "}, "access_code_name_empty"),
        ({"name": "A name that is far too long"}, "access_code_name_too_long"),
        ({"ends_at": START.isoformat()}, "access_code_window_invalid"),
        (
            {
                "starts_at": (NOW - timedelta(days=3)).isoformat(),
                "ends_at": (NOW - timedelta(days=1)).isoformat(),
            },
            "access_code_window_past",
        ),
        ({"ends_at": (START + timedelta(days=120, seconds=1)).isoformat()}, "access_code_window_too_long"),
        ({"ends_at": (START + timedelta(days=36500)).isoformat()}, "access_code_window_too_long"),
        ({"code": "48a926"}, "access_code_not_digits"),
        ({"code": "4839"}, "access_code_length"),
        ({"code": "483906"}, "access_code_digits"),
        ({"code": "124689"}, "access_code_prefix"),
        ({"code": "345678"}, "access_code_in_use"),  # the cleaners' code on the Loft keypad
        ({ATTR_ENTITY_ID: [LOFT, GARAJE]}, "access_code_no_keypad"),
        (
            {ATTR_ENTITY_ID: [LOFT, "sensor.loft_patio_lavapies_puerta_principal_battery"]},
            "access_code_not_a_lock",
        ),
        ({ATTR_ENTITY_ID: []}, "access_code_no_locks"),
    ],
)
async def test_validation_errors(
    hass: HomeAssistant, simulator: Simulator, data: dict[str, Any], key: str
) -> None:
    """Bad input is a translated validation error and nothing is created upstream."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.reset_requests()
    auths = dict(simulator.nuki.auths)
    targets = data.pop(ATTR_ENTITY_ID, [LOFT, ATICO])
    with pytest.raises(ServiceValidationError) as err:
        await create_code(hass, targets, **data)
    assert err.value.translation_key == key
    assert err.value.translation_domain == DOMAIN
    assert simulator.nuki.auths == auths
    assert simulator.count_requests("/nuki", "PUT") == 0
    assert await list_codes(hass) == []


async def test_window_of_at_most_120_days(hass: HomeAssistant, simulator: Simulator) -> None:
    """A window of 120 days is accepted; moving it past 120 days is refused (the maximum in the message)
    and the code keeps its window."""
    await setup_integration(hass, nuki_entry(simulator))
    response = await create_code(hass, [LOFT], ends_at=(START + timedelta(days=120)).isoformat())
    code_id = response[LOFT]["code_id"]
    with pytest.raises(ServiceValidationError) as err:
        await async_get_code_manager(hass).async_update_window(
            {LOFT: code_id}, starts_at=START, ends_at=START + timedelta(days=121)
        )
    assert err.value.translation_key == "access_code_window_too_long"
    assert err.value.translation_placeholders == {"days": "120"}
    (listed,) = await list_codes(hass)
    assert listed["ends_at"] == (START + timedelta(days=120)).isoformat()


async def test_validation_error_names_the_lock(hass: HomeAssistant, simulator: Simulator) -> None:
    """The message says which lock's rule the code breaks."""
    await setup_integration(hass, nuki_entry(simulator))
    with pytest.raises(ServiceValidationError) as err:
        await create_code(hass, [LOFT], code="4839")
    assert err.value.translation_placeholders == {
        "lock": "Loft Patio Lavapiés - Puerta principal",
        "detail": "6",
    }


async def test_code_used_by_another_kasify_code_is_refused(hass: HomeAssistant, simulator: Simulator) -> None:
    """A code this integration already put on a targeted lock is refused as in use."""
    await setup_integration(hass, nuki_entry(simulator))
    pin = (await create_code(hass, LOFT))[LOFT]["code"]
    with pytest.raises(ServiceValidationError) as err:
        await create_code(hass, [ATICO, LOFT], code=pin)
    assert err.value.translation_key == "access_code_in_use"


async def test_generated_codes_are_unique_across_the_portfolio(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A new code on any lock never repeats one issued before on any lock, nor one already on its keypad."""
    await setup_integration(hass, nuki_entry(simulator))
    seen: list[str] = []
    with patch.object(access_codes, "generate_code", wraps=access_codes.generate_code) as generator:
        for target in (LOFT, ATICO, LOFT):
            response = await create_code(hass, target)
            seen += [response[target]["code"]]
    assert len(set(seen)) == 3
    # The last call was told about the first two codes (stored) and the cleaners' code (on the keypad).
    assert {"345678", seen[0], seen[1]} <= generator.call_args.kwargs["taken"]


async def test_not_loaded_account(hass: HomeAssistant, simulator: Simulator) -> None:
    """A lock whose account is unloaded is refused with a translated error."""
    entry = nuki_entry(simulator)
    await setup_integration(hass, entry)
    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await create_code(hass, LOFT)
    assert err.value.translation_key == "access_code_lock_not_loaded"


async def test_no_common_format(hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint) -> None:
    """Locks whose formats exclude each other cannot share a generated code."""
    await _setup_nuki_and_unifi(hass, simulator, endpoint)
    with (
        patch.dict(policy.VENDOR_RULES, {VENDOR_UNIFI: CodeRules(8, 8)}),
        pytest.raises(ServiceValidationError) as err,
    ):
        await create_code(hass, [LOFT, PORTAL])
    assert err.value.translation_key == "access_code_no_common_format"
    assert simulator.unifi.visitors == {}


async def test_existing_codes_unreadable(hass: HomeAssistant, simulator: Simulator) -> None:
    """When the lock's codes cannot be read, nothing is created and the error says so."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth", method="GET", status=503)
    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, LOFT)
    assert err.value.translation_key == "access_code_lookup_failed"
    assert simulator.count_requests("/nuki", "PUT") == 0


# --- all or nothing ---------------------------------------------------------------------------------------


async def test_failure_on_the_third_lock_rolls_back(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """Two Nuki codes are created, the UniFi door fails: both are deleted again, nothing stays anywhere."""
    await _setup_nuki_and_unifi(hass, simulator, endpoint)
    before = {lock: dict(keypad_codes(simulator, lock)) for lock in (LOFT_ID, ATICO_ID)}
    simulator.faults.inject(VISITORS, method="POST", status=500)

    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, [LOFT, ATICO, PORTAL])

    assert err.value.translation_key == "access_code_create_failed"
    assert err.value.translation_placeholders["lock"] == "Portal Rua Garrett"
    assert simulator.count_requests("/nuki/smartlock", "PUT") == 2  # created on both Nuki locks first...
    assert {
        lock: dict(keypad_codes(simulator, lock)) for lock in (LOFT_ID, ATICO_ID)
    } == before  # ...then removed
    assert simulator.unifi.visitors == {}
    assert await list_codes(hass) == []


async def test_failure_on_the_second_lock_rolls_back(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """The Loft keypad refuses midway: the Ático code is removed, the UniFi door is never asked."""
    await _setup_nuki_and_unifi(hass, simulator, endpoint)
    before = dict(keypad_codes(simulator, ATICO_ID))
    simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth", method="PUT", status=502)

    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, [ATICO, LOFT, PORTAL])

    assert err.value.translation_placeholders["lock"] == "Loft Patio Lavapiés - Puerta principal"
    assert keypad_codes(simulator, ATICO_ID) == before
    assert simulator.count_requests(VISITORS) == 0
    assert await list_codes(hass) == []


async def test_rollback_that_fails_names_the_leftovers(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """If removing an earlier code fails too, the error says where a code was left."""
    await _setup_nuki_and_unifi(hass, simulator, endpoint)
    simulator.faults.inject(VISITORS, method="POST", status=500)
    simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth/", method="DELETE", status=500)
    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, [LOFT, PORTAL])
    assert err.value.translation_key == "access_code_rollback_failed"
    assert err.value.translation_placeholders["leftover"] == "Loft Patio Lavapiés - Puerta principal"


async def test_generated_code_taken_elsewhere_is_replaced(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """UniFi refuses a generated PIN a user holds: everything is rolled back and a new code is used."""
    await _setup_nuki_and_unifi(hass, simulator, endpoint)
    simulator.unifi.user_pins.add("583927")
    with patch.object(access_codes, "generate_code", side_effect=["583927", "749263"]):
        response = await create_code(hass, [LOFT, PORTAL])
    assert {item["code"] for item in response.values()} == {"749263"}
    assert sorted(str(auth.get("code")) for auth in keypad_codes(simulator, LOFT_ID).values()) == [
        "345678",
        "749263",
    ]
    assert list(simulator.unifi.pins.values()) == ["749263"]


async def test_given_code_taken_elsewhere(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint
) -> None:
    """A user's code another UniFi user holds is refused; nothing is left behind."""
    await _setup_nuki_and_unifi(hass, simulator, endpoint)
    simulator.unifi.user_pins.add("583927")
    before = dict(keypad_codes(simulator, LOFT_ID))
    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, [LOFT, PORTAL], code="583927")
    assert err.value.translation_key == "access_code_in_use"
    assert keypad_codes(simulator, LOFT_ID) == before
    assert simulator.unifi.visitors == {}


# --- settling ---------------------------------------------------------------------------------------------


async def test_pending_code_settles_on_the_lock(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A Nuki code that has not shown up yet is pending; the timer finds it (one list per lock) and tells."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.nuki.auth_delay = 20
    provisioned = _capture(hass, EVENT_CODE_PROVISIONED)
    response = await create_code(hass, [LOFT, ATICO], booking_id="b-7")
    assert {item["status"] for item in response.values()} == {CODE_PENDING}
    assert [item["status"] for item in await list_codes(hass)] == [CODE_PENDING, CODE_PENDING]

    simulator.reset_requests()
    await tick(hass, freezer, CHECKS, push=True)  # not there yet
    assert sorted(r.path for r in simulator.requests) == [
        f"/nuki/smartlock/{ATICO_ID}/auth",
        f"/nuki/smartlock/{LOFT_ID}/auth",
    ]
    assert provisioned == []

    simulator.clock.advance(timedelta(seconds=30))
    await tick(hass, freezer, CHECKS, push=True)
    listed = await list_codes(hass, include_codes=True)
    assert [item["status"] for item in listed] == [CODE_ON_LOCK, CODE_ON_LOCK]
    (loft,) = [item for item in listed if item["entity_id"] == LOFT]
    assert simulator.nuki.auths[loft["code_id"]]["code"] == int(loft["code"])  # the real id now
    assert sorted(event.data["entity_id"] for event in provisioned) == [ATICO, LOFT]
    assert provisioned[0].data["booking_id"] == "b-7"
    assert loft["code"] not in str([event.data for event in provisioned])

    simulator.reset_requests()
    await tick(hass, freezer, CHECKS, push=True)  # nothing pending: no more checks
    assert simulator.requests == []


async def test_pending_code_fails_after_the_timeout(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A code that never shows up is failed after some minutes, with an event."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.nuki.auth_delay = 100_000
    failed = _capture(hass, EVENT_CODE_FAILED)
    await create_code(hass, LOFT)
    for _ in range(19):
        await tick(hass, freezer, CHECKS, push=True)
    assert failed == []
    await tick(hass, freezer, timedelta(seconds=31), push=True)
    assert [item["status"] for item in await list_codes(hass)] == [CODE_FAILED]
    assert [event.data["entity_id"] for event in failed] == [LOFT]
    assert failed[0].data["lock"] == "Loft Patio Lavapiés - Puerta principal"


async def test_failed_code_that_shows_up_later_is_on_the_lock(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A failed code is looked for again, slower: once it shows up it is on the lock, with one event."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.nuki.auth_delay = 3600  # the keypad's bridge is offline for an hour
    provisioned = _capture(hass, EVENT_CODE_PROVISIONED)
    await create_code(hass, LOFT, booking_id="b-3")
    for _ in range(21):
        await tick(hass, freezer, CHECKS, push=True)
    assert [item["status"] for item in await list_codes(hass)] == [CODE_FAILED]

    simulator.clock.advance(timedelta(hours=1))  # there now
    simulator.reset_requests()
    for _ in range(4):
        await tick(hass, freezer, CHECKS, push=True)
    assert _code_lists(simulator) == []  # not every 30 seconds
    await tick(hass, freezer, RECHECKS, push=True)
    listed = await list_codes(hass, include_codes=True)
    assert [item["status"] for item in listed] == [CODE_ON_LOCK]
    assert simulator.nuki.auths[listed[0]["code_id"]]["code"] == int(listed[0]["code"])  # the real id
    assert [(event.data["entity_id"], event.data["booking_id"]) for event in provisioned] == [(LOFT, "b-3")]

    simulator.reset_requests()
    await tick(hass, freezer, RECHECKS, push=True)  # settled: not looked for again
    assert _code_lists(simulator) == []
    assert len(provisioned) == 1


async def test_failed_code_past_its_window_is_not_looked_for(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A failed code whose window has ended is not checked again."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.nuki.auth_delay = 100_000
    await create_code(
        hass, LOFT, starts_at=NOW.isoformat(), ends_at=(NOW + timedelta(minutes=20)).isoformat()
    )
    for _ in range(21):
        await tick(hass, freezer, CHECKS, push=True)
    assert [item["status"] for item in await list_codes(hass)] == [CODE_FAILED]
    simulator.clock.advance(timedelta(seconds=100_000))
    simulator.reset_requests()
    for _ in range(3):
        await tick(hass, freezer, RECHECKS, push=True)
    assert _code_lists(simulator) == []
    assert [item["status"] for item in await list_codes(hass)] == [CODE_FAILED]


async def test_pending_code_rolled_back_is_deleted_when_it_shows_up(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, endpoint: UnifiEndpoint
) -> None:
    """A rolled-back Nuki code that had not shown up yet is deleted as soon as it does."""
    await _setup_nuki_and_unifi(hass, simulator, endpoint)
    simulator.nuki.auth_delay = 20
    simulator.faults.inject(VISITORS, method="POST", status=500)
    before = dict(keypad_codes(simulator, LOFT_ID))
    with pytest.raises(HomeAssistantError) as err:
        await create_code(hass, [LOFT, PORTAL])
    assert err.value.translation_key == "access_code_create_failed"
    assert await list_codes(hass) == []
    simulator.clock.advance(timedelta(seconds=30))
    await tick(hass, freezer, CHECKS, push=True)
    assert keypad_codes(simulator, LOFT_ID) == before


async def test_revoking_a_pending_code(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Revoking a code that has not shown up yet removes it once it does."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.nuki.auth_delay = 20
    before = dict(keypad_codes(simulator, LOFT_ID))
    code_id = (await create_code(hass, LOFT))[LOFT]["code_id"]
    await hass.services.async_call(
        DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: LOFT, "code_id": code_id}, blocking=True
    )
    assert await list_codes(hass) == []
    simulator.clock.advance(timedelta(seconds=30))
    await tick(hass, freezer, CHECKS, push=True)
    assert keypad_codes(simulator, LOFT_ID) == before


async def test_code_removed_on_the_lock_while_pending_fails(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A known code that disappears from the lock while not yet confirmed is failed."""
    await setup_integration(hass, nuki_entry(simulator))
    manager = async_get_code_manager(hass)
    issued = await manager.async_create([LOFT], name="Ana", code=None, starts_at=START, ends_at=END)
    record = manager.records()[0]
    record.status = CODE_PENDING  # as if Nuki still reported it being written
    manager._schedule_checks()
    simulator.nuki.delete_auth(LOFT_ID, issued[LOFT].code_id)
    await tick(hass, freezer, CHECKS, push=True)
    assert manager.records()[0].status == CODE_FAILED


# --- store ------------------------------------------------------------------------------------------------


async def test_codes_survive_a_restart(
    hass: HomeAssistant, simulator: Simulator, hass_storage: dict[str, Any], freezer: FrozenDateTimeFactory
) -> None:
    """Codes and their status are in .storage; a new manager reads them and resumes checking pending ones."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.nuki.auth_delay = 20
    response = await create_code(hass, LOFT, booking_id="b-9")
    stored = hass_storage[STORAGE_KEY]["data"]["codes"]
    assert [(item["entity_id"], item["status"], item["booking_id"]) for item in stored] == [
        (LOFT, CODE_PENDING, "b-9")
    ]

    restarted = AccessCodeManager(hass)
    await restarted.async_load()
    await restarted.async_load()  # once only
    (code,) = restarted.codes_for_booking("b-9")
    assert code.code == response[LOFT]["code"]
    assert code.status == CODE_PENDING
    assert code.starts_at == START


async def test_store_drops_long_ended_and_unreadable_codes(
    hass: HomeAssistant, simulator: Simulator, hass_storage: dict[str, Any]
) -> None:
    """Codes that ended over a week ago, and broken records, are not loaded."""
    base = {
        "entity_id": LOFT,
        "code": "483926",
        "name": "Ana",
        "starts_at": "2026-02-01T12:00:00+00:00",
        "status": CODE_ON_LOCK,
        "vendor": "nuki",
        "lock": "Loft",
        "created_at": "2026-02-01T12:00:00+00:00",
    }
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "key": STORAGE_KEY,
        "data": {
            "codes": [
                {**base, "code_id": "old", "ends_at": "2026-02-03T12:00:00+00:00"},
                {**base, "code_id": "recent", "ends_at": "2026-03-10T12:00:00+00:00"},
                {"code_id": "broken"},
            ]
        },
    }
    manager = AccessCodeManager(hass)
    await manager.async_load()
    assert [record.code_id for record in manager.records()] == ["recent"]


async def test_long_ended_codes_leave_without_a_restart(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    """A code whose window ended over a week ago is dropped at the next change, as at a restart: the list and
    the store do not keep growing while Home Assistant runs."""
    await setup_integration(hass, nuki_entry(simulator))
    await create_code(hass, LOFT, starts_at=NOW.isoformat(), ends_at=(NOW + timedelta(hours=1)).isoformat())
    freezer.move_to(NOW + timedelta(days=6))
    later = dt_util.utcnow()
    await create_code(
        hass, ATICO, starts_at=later.isoformat(), ends_at=(later + timedelta(days=1)).isoformat()
    )
    assert [item["entity_id"] for item in await list_codes(hass)] == [ATICO, LOFT]  # ended 6 days ago: kept

    freezer.move_to(NOW + timedelta(days=8))
    later = dt_util.utcnow()
    await create_code(
        hass, ATICO, starts_at=later.isoformat(), ends_at=(later + timedelta(days=1)).isoformat()
    )
    assert [item["entity_id"] for item in await list_codes(hass)] == [ATICO, ATICO]
    assert {item["entity_id"] for item in hass_storage[STORAGE_KEY]["data"]["codes"]} == {ATICO}


# --- the manager interface --------------------------------------------------------------------------------


async def test_update_window_keeps_the_pin(hass: HomeAssistant, simulator: Simulator) -> None:
    """Nuki: the code is updated in place, same id and PIN, new window."""
    await setup_integration(hass, nuki_entry(simulator))
    manager = async_get_code_manager(hass)
    issued = await manager.async_create([LOFT], name="Ana", code=None, starts_at=START, ends_at=END)
    new_end = END + timedelta(days=2)
    updated = await manager.async_update_window(
        {LOFT: issued[LOFT].code_id}, starts_at=START, ends_at=new_end
    )
    assert updated[LOFT].code_id == issued[LOFT].code_id
    assert updated[LOFT].code == issued[LOFT].code
    assert updated[LOFT].ends_at == new_end
    auth = simulator.nuki.auths[issued[LOFT].code_id]
    assert auth["allowedUntilDate"] == "2026-03-20T12:00:00.000Z"
    assert auth["code"] == int(issued[LOFT].code)
    assert manager.records()[0].ends_at == new_end


async def test_update_window_errors(hass: HomeAssistant, simulator: Simulator) -> None:
    """Unknown codes and bad windows are refused; an upstream refusal is a translated error."""
    await setup_integration(hass, nuki_entry(simulator))
    manager = async_get_code_manager(hass)
    issued = await manager.async_create([LOFT], name="Ana", code=None, starts_at=START, ends_at=END)
    with pytest.raises(ServiceValidationError) as err:
        await manager.async_update_window({LOFT: "nope"}, starts_at=START, ends_at=END)
    assert err.value.translation_key == "access_code_unknown"
    with pytest.raises(ServiceValidationError) as err:
        await manager.async_update_window({LOFT: issued[LOFT].code_id}, starts_at=END, ends_at=START)
    assert err.value.translation_key == "access_code_window_invalid"
    simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth/", method="POST", status=500)
    with pytest.raises(HomeAssistantError) as err:
        await manager.async_update_window(
            {LOFT: issued[LOFT].code_id}, starts_at=START, ends_at=END + timedelta(days=1)
        )
    assert err.value.translation_key == "access_code_update_failed"


async def test_manager_avoids_the_guests_phone(hass: HomeAssistant, simulator: Simulator) -> None:
    """``avoid`` reaches the generator: the code never contains the phone's last four digits."""
    await setup_integration(hass, nuki_entry(simulator))
    manager = async_get_code_manager(hass)
    with patch.object(access_codes, "generate_code", wraps=access_codes.generate_code) as generator:
        issued = await manager.async_create(
            [LOFT], name="Ana", code=None, starts_at=START, ends_at=END, avoid=["+34 600 123 456"]
        )
    assert generator.call_args.kwargs["avoid"] == ["+34 600 123 456"]
    assert "3456" not in issued[LOFT].code


async def test_lock_entities_for_property_and_list_by_property(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The Nuki lock hangs under its Kasify property: found by property device, and listed by it."""
    await setup_integration(hass, nuki_entry(simulator))
    await hass.async_block_till_done()
    loft_property = simulator.kasify.property_at(0)["id"]
    device = device_registry.async_get_device(identifiers={property_identifier(loft_property)})
    assert device is not None
    manager = async_get_code_manager(hass)
    assert manager.lock_entities_for_property(device.id) == [LOFT]

    await create_code(hass, [LOFT, ATICO])
    assert [item["entity_id"] for item in await list_codes(hass, property=device.id)] == [LOFT]
    with pytest.raises(ServiceValidationError) as err:
        await list_codes(hass, property="not-a-device")
    assert err.value.translation_key == "access_code_property_unknown"


# --- UniFi Access -----------------------------------------------------------------------------------------


async def test_unifi_visitor_code(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, freezer: FrozenDateTimeFactory
) -> None:
    """A UniFi door gets a visitor with the PIN for the window; window changes and revoke reach it."""
    await setup_integration(hass, unifi_entry(endpoint))
    response = await create_code(hass, PORTAL)
    visitor_id = response[PORTAL]["code_id"]
    visitor = simulator.unifi.visitors[visitor_id]
    assert (visitor["first_name"], visitor["last_name"]) == ("Ana", "García")
    assert visitor["start_time"] == int(START.timestamp())
    assert visitor["end_time"] == int(END.timestamp())
    assert simulator.unifi.pins[visitor_id] == response[PORTAL]["code"]
    assert response[PORTAL]["status"] == CODE_ON_LOCK

    manager = async_get_code_manager(hass)
    new_end = END + timedelta(hours=3)
    updated = await manager.async_update_window({PORTAL: visitor_id}, starts_at=START, ends_at=new_end)
    assert updated[PORTAL].code == response[PORTAL]["code"]
    assert simulator.unifi.visitors[visitor_id]["end_time"] == int(new_end.timestamp())

    await hass.services.async_call(
        DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: PORTAL, "code_id": visitor_id}, blocking=True
    )
    assert simulator.unifi.visitors == {}
    # Revoked, so no longer the engine's: a second revoke is refused.
    with pytest.raises(ServiceValidationError) as err:
        await manager.async_revoke({PORTAL: visitor_id})
    assert err.value.translation_key == "access_code_not_issued"


async def test_unifi_pending_visitor_is_checked(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, freezer: FrozenDateTimeFactory
) -> None:
    """A visitor reported without its PIN is pending until the controller shows it; a vanished one fails."""
    await setup_integration(hass, unifi_entry(endpoint))
    manager = async_get_code_manager(hass)
    issued = await manager.async_create([PORTAL], name="Ana", code=None, starts_at=START, ends_at=END)
    second = await manager.async_create([PORTAL], name="Luis", code=None, starts_at=START, ends_at=END)
    for record in manager.records():
        record.status = CODE_PENDING
    manager._schedule_checks()
    simulator.unifi.delete_visitor(second[PORTAL].code_id, force=True)
    await tick(hass, freezer, CHECKS, push=True)
    statuses = {record.code_id: record.status for record in manager.records()}
    assert statuses == {issued[PORTAL].code_id: CODE_ON_LOCK, second[PORTAL].code_id: CODE_FAILED}


async def test_unifi_visitor_in_a_status_not_known_is_not_counted_on_the_lock(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, freezer: FrozenDateTimeFactory
) -> None:
    """A visitor status the integration does not know does not prove the PIN opens the door: pending."""
    await setup_integration(hass, unifi_entry(endpoint))
    manager = async_get_code_manager(hass)
    issued = await manager.async_create([PORTAL], name="Ana", code=None, starts_at=START, ends_at=END)
    (record,) = manager.records()
    record.status = CODE_PENDING
    manager._schedule_checks()
    simulator.unifi.visitors[issued[PORTAL].code_id]["_status"] = "SUSPENDED"
    await tick(hass, freezer, CHECKS, push=True)
    assert [r.status for r in manager.records()] == [CODE_PENDING]
    del simulator.unifi.visitors[issued[PORTAL].code_id]["_status"]  # UPCOMING again
    await tick(hass, freezer, CHECKS, push=True)
    assert [r.status for r in manager.records()] == [CODE_ON_LOCK]


# --- Kasify booking codes ---------------------------------------------------------------------------------


async def test_kasify_booking_code(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A lock only Kasify knows gets its code through the booking endpoint; revoke marks it revoked."""
    loft = simulator.kasify.property_at(0)["id"]
    booking = next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == loft and b["status"] == "confirmed"
    )
    before = set(simulator.kasify.access_codes)
    response = await create_code(hass, KASIFY_LOFT, booking_id=booking["id"])
    (code_id,) = set(simulator.kasify.access_codes) - before
    record = simulator.kasify.access_codes[code_id]
    assert response[KASIFY_LOFT]["code_id"] == code_id
    assert record["code"] == response[KASIFY_LOFT]["code"]
    # Kasify's own rules and the Nuki lock's behind it at once.
    assert keypad_code_problem(record["code"]) is None
    assert record["booking_id"] == booking["id"]
    property_device = dr.async_get(hass).async_get_device(identifiers={property_identifier(loft)})
    assert property_device is not None
    listed = await list_codes(hass, property=property_device.id, booking_id=booking["id"])
    assert [item["entity_id"] for item in listed] == [KASIFY_LOFT]

    manager = async_get_code_manager(hass)
    moved = await manager.async_update_window(
        {KASIFY_LOFT: code_id}, starts_at=START, ends_at=END + timedelta(days=1)
    )
    assert moved[KASIFY_LOFT].code == record["code"]
    assert simulator.kasify.access_codes[code_id]["status"] == "revoked"
    new_id = moved[KASIFY_LOFT].code_id
    assert simulator.kasify.access_codes[new_id]["code"] == record["code"]

    await hass.services.async_call(
        DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: KASIFY_LOFT, "code_id": new_id}, blocking=True
    )
    assert simulator.kasify.access_codes[new_id]["status"] == "revoked"
    assert await list_codes(hass) == []


async def test_kasify_lock_needs_a_booking_of_its_property(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Without a booking, or with another property's, nothing is sent to Kasify."""
    other = simulator.kasify.property_at(1)["id"]
    booking = next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == other and b["check_out"] > NOW.isoformat()
    )
    simulator.reset_requests()
    with pytest.raises(ServiceValidationError) as err:
        await create_code(hass, KASIFY_LOFT)
    assert err.value.translation_key == "access_code_booking_required"
    with pytest.raises(ServiceValidationError) as err:
        await create_code(hass, KASIFY_LOFT, booking_id=booking["id"])
    assert err.value.translation_key == "access_code_booking_other_property"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: KASIFY_LOFT, "code_id": "x"}, blocking=True
        )
    assert err.value.translation_key == "access_code_not_issued"
    assert simulator.count_requests("/kasify/v1/bookings") == 0


async def test_provider_lock_takes_codes_only_for_bookings_of_its_property(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A booking of another property is refused on a Nuki lock, before anything is sent (a booking Kasify
    does not list is not checked); the lock's own property's booking is fine."""
    await setup_integration(hass, nuki_entry(simulator))
    loft, estudio = simulator.kasify.property_at(0)["id"], simulator.kasify.property_at(1)["id"]
    elsewhere = next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == estudio and b["check_out"] > NOW.isoformat()
    )
    simulator.reset_requests()
    with pytest.raises(ServiceValidationError) as err:
        await create_code(hass, [ATICO, LOFT], booking_id=elsewhere["id"])
    assert err.value.translation_key == "access_code_booking_other_property"
    assert err.value.translation_placeholders == {
        "lock": "Ático Torre Malvarrosa - Puerta principal",
        "booking": elsewhere["id"],
    }
    assert simulator.count_requests("/nuki", "PUT") == 0
    assert await list_codes(hass) == []

    here = _loft_booking(simulator)
    assert here["property_id"] == loft
    response = await create_code(hass, LOFT, booking_id=here["id"])
    assert response[LOFT]["status"] == CODE_ON_LOCK
    await create_code(hass, ATICO, booking_id="not-a-kasify-booking")


async def test_revoke_without_locks(hass: HomeAssistant, simulator: Simulator) -> None:
    """Revoke needs a lock."""
    await setup_integration(hass, nuki_entry(simulator))
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "revoke_access_code", {"code_id": "x"}, blocking=True)
    assert err.value.translation_key == "access_code_no_locks"


async def test_services_registered(hass: HomeAssistant, simulator: Simulator) -> None:
    """The three actions exist once the integration is set up."""
    await setup_integration(hass, nuki_entry(simulator))
    for name in ("create_access_code", "revoke_access_code", "list_access_codes"):
        assert hass.services.has_service(DOMAIN, name)


async def test_update_window_of_a_code_not_shown_yet(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A Nuki code that has not shown up cannot be changed yet; once it has, it is changed in place."""
    await setup_integration(hass, nuki_entry(simulator))
    simulator.nuki.auth_delay = 20
    manager = async_get_code_manager(hass)
    issued = await manager.async_create([LOFT], name="Ana", code=None, starts_at=START, ends_at=END)
    with pytest.raises(HomeAssistantError) as err:
        await manager.async_update_window({LOFT: issued[LOFT].code_id}, starts_at=START, ends_at=END)
    assert err.value.translation_key == "access_code_update_failed"
    simulator.clock.advance(timedelta(seconds=30))
    updated = await manager.async_update_window(
        {LOFT: issued[LOFT].code_id}, starts_at=START, ends_at=END + timedelta(days=1)
    )
    real_id = updated[LOFT].code_id
    assert simulator.nuki.auths[real_id]["allowedUntilDate"] == "2026-03-19T12:00:00.000Z"
    assert [record.code_id for record in manager.records()] == [real_id]


async def test_checks_survive_upstream_errors_and_unloaded_accounts(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A failing check leaves codes pending (and retried); an unloaded account's codes time out."""
    entry = nuki_entry(simulator)
    await setup_integration(hass, entry)
    simulator.nuki.auth_delay = 20
    await create_code(hass, LOFT)
    simulator.clock.advance(timedelta(seconds=30))
    fault = simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth", method="GET", status=503, times=1)
    await tick(hass, freezer, CHECKS, push=True)
    assert fault.exhausted
    assert [item["status"] for item in await list_codes(hass)] == [CODE_PENDING]
    await tick(hass, freezer, CHECKS, push=True)
    assert [item["status"] for item in await list_codes(hass)] == [CODE_ON_LOCK]

    # Pending: it shows up 20 simulated seconds later, and that clock stands still.
    await create_code(hass, ATICO)
    await hass.config_entries.async_unload(entry.entry_id)
    for _ in range(21):
        await tick(hass, freezer, CHECKS, push=True)
    statuses = {item["entity_id"]: item["status"] for item in await list_codes(hass)}
    assert statuses == {LOFT: CODE_ON_LOCK, ATICO: CODE_FAILED}


async def test_rolled_back_code_is_looked_for_until_its_window_ends(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory, endpoint: UnifiEndpoint
) -> None:
    """A rolled-back Nuki code is deleted once it shows up (a failed delete is tried again), also when it
    shows up long after the 10 minutes a code has to settle; one that never shows up is forgotten when its
    window ends (it opens nothing after that)."""
    await _setup_nuki_and_unifi(hass, simulator, endpoint)
    before = dict(keypad_codes(simulator, LOFT_ID))
    simulator.nuki.auth_delay = 20
    simulator.faults.inject(VISITORS, method="POST", status=500)
    with pytest.raises(HomeAssistantError):
        await create_code(hass, [LOFT, PORTAL])
    manager = async_get_code_manager(hass)

    def loft() -> list[CodeRecord]:
        """The engine's records on the Loft (the UniFi door's are looked for too: a 500 is no clear no)."""
        return [record for record in manager._records.values() if record.entity_id == LOFT]

    assert len(loft()) == 1  # kept (hidden) until it can be deleted
    simulator.clock.advance(timedelta(seconds=30))
    delete = simulator.faults.inject(f"/nuki/smartlock/{LOFT_ID}/auth/", method="DELETE", status=500, times=1)
    await tick(hass, freezer, CHECKS, push=True)
    assert delete.exhausted
    assert len(loft()) == 1
    await tick(hass, freezer, CHECKS, push=True)
    assert loft() == []
    assert keypad_codes(simulator, LOFT_ID) == before

    simulator.nuki.auth_delay = 1800  # the keypad's bridge is offline for half an hour
    with pytest.raises(HomeAssistantError):
        await create_code(hass, [LOFT, PORTAL])
    for _ in range(21):
        await tick(hass, freezer, CHECKS, push=True)
    assert len(loft()) == 1
    assert await list_codes(hass) == []
    simulator.clock.advance(timedelta(seconds=1800))
    await tick(hass, freezer, RECHECKS, push=True)
    assert keypad_codes(simulator, LOFT_ID) == before
    assert loft() == []

    simulator.nuki.auth_delay = 100_000
    now = dt_util.utcnow()
    with pytest.raises(HomeAssistantError) as err:  # this one never shows up
        await create_code(
            hass, [LOFT, PORTAL], starts_at=now.isoformat(), ends_at=(now + timedelta(hours=1)).isoformat()
        )
    assert err.value.translation_key == "access_code_create_failed"
    await tick(hass, freezer, timedelta(minutes=50), push=True)
    assert len(loft()) == 1
    await tick(hass, freezer, RECHECKS, push=True)
    assert loft() == []


@pytest.mark.parametrize(
    "error",
    [asyncio.CancelledError(), ValueError("refused by the client"), IndexError("list index out of range")],
)
async def test_cancelled_or_refused_call_rolls_back(
    hass: HomeAssistant, simulator: Simulator, endpoint: UnifiEndpoint, error: BaseException
) -> None:
    """Cancelled midway (or refused before any request, or failed in a way nobody expected), the codes
    already created are removed."""
    await _setup_nuki_and_unifi(hass, simulator, endpoint)
    before = dict(keypad_codes(simulator, LOFT_ID))
    manager = async_get_code_manager(hass)
    with (
        patch.object(UNIFI_CODES, "create", side_effect=error),
        pytest.raises((asyncio.CancelledError, HomeAssistantError)),
    ):
        await manager.async_create([LOFT, PORTAL], name="Ana", code=None, starts_at=START, ends_at=END)
    assert keypad_codes(simulator, LOFT_ID) == before
    assert manager.records() == []


def _loft_booking(simulator: Simulator) -> dict[str, Any]:
    loft = simulator.kasify.property_at(0)["id"]
    return next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == loft and b["status"] == "confirmed"
    )


async def test_a_kasify_code_counts_only_once_kasify_says_it_is_active(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Kasify accepting a code is not the code being on the lock: a code Kasify calls anything but active
    stays pending, and like any code never confirmed, counts as failed after 10 minutes."""
    booking = _loft_booking(simulator)
    response = await create_code(
        hass,
        KASIFY_LOFT,
        booking_id=booking["id"],
        starts_at=(NOW + timedelta(days=1)).isoformat(),
        ends_at=END.isoformat(),
    )
    code_id = response[KASIFY_LOFT]["code_id"]
    assert simulator.kasify.access_codes[code_id]["status"] == "scheduled"
    assert response[KASIFY_LOFT]["status"] == CODE_PENDING
    failed = async_capture_events(hass, EVENT_CODE_FAILED)
    freezer.tick(timedelta(minutes=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert [item["status"] for item in await list_codes(hass)] == [CODE_FAILED]
    assert [event.data["code_id"] for event in failed] == [code_id]

    active = await create_code(
        hass, KASIFY_LOFT, booking_id=booking["id"], starts_at=NOW.isoformat(), ends_at=END.isoformat()
    )
    assert active[KASIFY_LOFT]["status"] == CODE_ON_LOCK


async def test_a_kasify_code_kasify_does_not_know_is_not_counted_revoked(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Kasify answering 404 to a revoke cannot be checked (Kasify lists no codes): it may be a wrong path
    while the PIN still opens the door. The revoke fails, the code stays listed, a repair issue names it."""
    booking = _loft_booking(simulator)
    response = await create_code(
        hass, KASIFY_LOFT, booking_id=booking["id"], starts_at=NOW.isoformat(), ends_at=END.isoformat()
    )
    code_id = response[KASIFY_LOFT]["code_id"]
    simulator.faults.inject(f"/kasify/v1/bookings/{booking['id']}/access-codes/{code_id}", status=404)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: KASIFY_LOFT, "code_id": code_id}, blocking=True
        )
    assert err.value.translation_key == "access_code_revoke_unverified"
    assert [item["code_id"] for item in await list_codes(hass)] == [code_id]
    (issue,) = [
        issue
        for issue in ir.async_get(hass).issues.values()
        if issue.translation_key == "access_code_revoke_unverified"
    ]
    assert issue.translation_placeholders["code_id"] == code_id
    # Nor is a new window one more valid code: the old one cannot be removed, so nothing is created.
    before = set(simulator.kasify.access_codes)
    with pytest.raises(HomeAssistantError):
        await async_get_code_manager(hass).async_update_window(
            {KASIFY_LOFT: code_id}, starts_at=NOW, ends_at=END + timedelta(days=1)
        )
    assert set(simulator.kasify.access_codes) == before


def test_records_do_not_show_their_pin() -> None:
    """A record logged by accident (``repr``, an f-string, a traceback) does not print its PIN."""
    pin = "90817263"
    at = dt_util.utcnow()
    record = CodeRecord(
        entity_id="lock.door",
        code_id="c1",
        code=pin,
        name="Guest",
        starts_at=at,
        ends_at=at + timedelta(days=1),
        status="on_lock",
        vendor="unifi",
        lock="d1",
        created_at=at,
    )
    records: list[object] = [
        record,
        record.issued(),
        NewCode(name="Guest", code=pin, starts_at=at, ends_at=at + timedelta(days=1)),
        AccessCode(id="a1", booking_id="b1", lock_id="l1", name="Guest", code=pin, starts_at=at, ends_at=at),
    ]
    for item in records:
        assert pin not in repr(item), type(item).__name__
        assert pin not in str(item), type(item).__name__
    assert record.issued().code == pin  # still there for whoever asks for it
    assert CodeRecord.from_dict(record.as_dict()) == record
