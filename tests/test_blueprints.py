"""The automation blueprints, loaded by Home Assistant's blueprint machinery and run against the simulator:
a stay is booked through ``kasify.create_booking``, its check-in and check-out fire at their instants, and the
automations built from the blueprints act on them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.components.blueprint import models
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.kasify.const import DOMAIN
from simulator import Simulator

from . import setup_integration
from .providers import ATICO, NOW, move_to, nuki_entry, property_device_id

BLUEPRINTS = Path(__file__).parent.parent / "blueprints" / "automation"
CODE_BLUEPRINT = "kasify/notify_access_code_at_check_in.yaml"
CLEANING_BLUEPRINT = "kasify/cleaning_task_at_check_out.yaml"
ARRIVAL_BLUEPRINT = "kasify/notify_guest_arrived.yaml"
NOT_READY_BLUEPRINT = "kasify/warn_not_ready_before_check_in.yaml"
DASH = "\N{EN DASH}"
# Ático: Oliver Taylor leaves on the 15th at 10:00 UTC, Jonas Schmidt arrives on the 18th.
CHECK_IN = datetime.fromisoformat("2026-03-15T14:00:00+00:00")
CHECK_OUT = datetime.fromisoformat("2026-03-16T10:00:00+00:00")


@pytest.fixture(autouse=True)
def repository_blueprints() -> Iterator[None]:
    """Home Assistant reads automation blueprints from this repository's ``blueprints/automation``."""
    with patch.object(
        models.DomainBlueprints, "blueprint_folder", new_callable=PropertyMock, return_value=BLUEPRINTS
    ):
        yield


@pytest.fixture(autouse=True)
async def madrid(hass: HomeAssistant) -> None:
    """Home Assistant runs in Madrid, like the host."""
    await hass.config.async_set_time_zone("Europe/Madrid")


async def _book_atico(hass: HomeAssistant, simulator: Simulator) -> dict[str, Any]:
    """Ana García's stay at the Ático, booked through the action (so the check-in and -out get scheduled)."""
    response = await hass.services.async_call(
        DOMAIN,
        "create_booking",
        {
            "property": property_device_id(hass, simulator.kasify.property_at(2)["id"]),
            "guest_name": "Ana García",
            "check_in": CHECK_IN,
            "check_out": CHECK_OUT,
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return simulator.kasify.bookings[str(response["booking_id"])]


async def _automations(hass: HomeAssistant, blueprint: str, *inputs: dict[str, Any]) -> None:
    config = [
        {
            "id": f"kasify_{index}",
            "alias": f"Kasify {index}",
            "use_blueprint": {"path": blueprint, "input": data},
        }
        for index, data in enumerate(inputs)
    ]
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: config})
    await hass.async_block_till_done()
    for index in range(len(inputs)):
        assert hass.states.get(f"automation.kasify_{index}") is not None


async def test_blueprints_load(hass: HomeAssistant) -> None:
    """Both files are valid automation blueprints with the inputs the README documents."""
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {})
    domain_blueprints: models.DomainBlueprints = hass.data["blueprint"][AUTOMATION_DOMAIN]
    assert sorted(str(p.relative_to(BLUEPRINTS)) for p in BLUEPRINTS.glob("**/*.yaml")) == sorted(
        (ARRIVAL_BLUEPRINT, CLEANING_BLUEPRINT, CODE_BLUEPRINT, NOT_READY_BLUEPRINT)
    )
    blueprints = {
        path: await domain_blueprints.async_get_blueprint(path)
        for path in (CODE_BLUEPRINT, CLEANING_BLUEPRINT, ARRIVAL_BLUEPRINT, NOT_READY_BLUEPRINT)
    }
    for blueprint in blueprints.values():
        assert blueprint.domain == AUTOMATION_DOMAIN
        assert blueprint.metadata["homeassistant"]["min_version"] == "2025.4.0"
    assert set(blueprints[CODE_BLUEPRINT].inputs) == {"properties", "notify_action", "title"}
    # The message holds PINs: the host picks the notifier, there is no default (never notify.notify).
    notify_action = blueprints[CODE_BLUEPRINT].inputs["notify_action"]
    assert notify_action is not None
    assert "default" not in notify_action
    assert "notify.notify" not in str(blueprints[CODE_BLUEPRINT].data)
    assert set(blueprints[ARRIVAL_BLUEPRINT].inputs) == {"properties", "notify_action", "title"}
    assert set(blueprints[CLEANING_BLUEPRINT].inputs) == {
        "properties",
        "due_hours",
        "assignee",
        "title_prefix",
        "start_now",
    }
    assert set(blueprints[NOT_READY_BLUEPRINT].inputs) == {
        "sensors",
        "hours_before",
        "notify_action",
        "title",
    }


@pytest.mark.usefixtures("fast_nuki")
async def test_code_sent_at_check_in(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """At Ana's check-in the host is told, once, her name, the property and the code on its door."""
    assert hass.services.has_service(DOMAIN, "list_access_codes"), "the real action is expected"
    nuki = nuki_entry(simulator, entry_id=None)
    await setup_integration(hass, nuki)
    assert hass.states.get(ATICO) is not None
    booking = await _book_atico(hass, simulator)
    issued = await hass.services.async_call(
        DOMAIN,
        "create_access_code",
        {
            ATTR_ENTITY_ID: ATICO,
            "name": "Ana García",
            "starts_at": CHECK_IN - timedelta(hours=1),
            "ends_at": CHECK_OUT + timedelta(hours=1),
            "booking_id": booking["id"],
        },
        blocking=True,
        return_response=True,
    )
    assert issued is not None
    code = issued[ATICO]["code"]  # type: ignore[index]

    host = async_mock_service(hass, "notify", "host")
    other = async_mock_service(hass, "notify", "other_host")
    atico = simulator.kasify.property_at(2)
    await _automations(
        hass,
        CODE_BLUEPRINT,
        {
            "properties": [property_device_id(hass, atico["id"])],
            "notify_action": "notify.host",
            "title": "Llegada",
        },
        # Another host's automation, for the loft only: not told about the Ático.
        {
            "properties": [property_device_id(hass, simulator.kasify.property_at(0)["id"])],
            "notify_action": "notify.other_host",
        },
    )

    await move_to(hass, freezer, CHECK_IN - timedelta(minutes=1))
    assert host == []
    await move_to(hass, freezer, CHECK_IN)
    assert other == []
    assert len(host) == 1
    call: ServiceCall = host[0]
    assert call.data["title"] == "Llegada"
    message = call.data["message"]
    assert message.startswith(f"Ana García checks in at {atico['name']} now.")
    assert message.endswith(f"Door code: {code} ({atico['name']} - Puerta principal).")


@pytest.mark.usefixtures("fast_nuki")
async def test_guest_arrived_notified_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Oliver opens the Ático's door with his own code: the host is told once who, where, which lock and
    when (no PIN); a second use, and the host's own code, tell nobody."""
    nuki = nuki_entry(simulator, entry_id=None)
    await setup_integration(hass, nuki)
    atico = simulator.kasify.property_at(2)
    oliver = next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == atico["id"] and b["guest_name"] == "Oliver Taylor"
    )
    issued = await hass.services.async_call(
        DOMAIN,
        "create_access_code",
        {
            ATTR_ENTITY_ID: ATICO,
            "name": "Oliver Taylor",
            "starts_at": NOW - timedelta(hours=1),
            "ends_at": datetime.fromisoformat(oliver["check_out"]),
            "booking_id": oliver["id"],
        },
        blocking=True,
        return_response=True,
    )
    assert issued is not None
    code = int(issued[ATICO]["code"])  # type: ignore[index]
    host = async_mock_service(hass, "notify", "host")
    await _automations(
        hass,
        ARRIVAL_BLUEPRINT,
        {"properties": [property_device_id(hass, atico["id"])], "notify_action": "notify.host"},
    )
    lock_id = next(
        int(lock["nuki_smartlock"]["nuki_smartlock_id"]) for lock in simulator.kasify.locks_for(atico["id"])
    )
    simulator.nuki.use_code(lock_id, code)
    await nuki.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    simulator.nuki.use_code(lock_id, code)
    await nuki.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()

    assert len(host) == 1
    assert host[0].data["title"] == "Guest arrived"
    assert host[0].data["message"] == (
        f"Oliver Taylor arrived at {atico['name']}: {atico['name']} - Puerta principal opened with their code"
        " at 13:00."
    )
    assert str(code) not in str(host[0].data)


async def test_no_code_for_the_booking(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without a code for the stay the host still hears of the check-in, and that there is no code."""
    await _book_atico(hass, simulator)
    host = async_mock_service(hass, "notify", "host")
    await _automations(hass, CODE_BLUEPRINT, {"notify_action": "notify.host"})
    await move_to(hass, freezer, CHECK_IN)
    assert len(host) == 1
    assert host[0].data["title"] == "Guest checking in"
    assert host[0].data["message"] == (
        f"Ana García checks in at {simulator.kasify.property_at(2)['name']} now. "
        "No access code was issued for this booking."
    )


async def test_no_notifier_no_automation(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without a chosen notifier the automation does not load, so no PIN goes to every notifier."""
    await _book_atico(hass, simulator)
    everyone = async_mock_service(hass, "notify", "notify")
    config = {"id": "kasify_0", "alias": "Kasify 0", "use_blueprint": {"path": CODE_BLUEPRINT, "input": {}}}
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: [config]})
    await hass.async_block_till_done()
    state = hass.states.get("automation.kasify_0")
    assert state is None or state.state == "unavailable"
    await move_to(hass, freezer, CHECK_IN)
    assert everyone == []


@pytest.mark.parametrize(("start_now", "status"), [(True, "in_progress"), (False, "pending")])
async def test_cleaning_task_at_check_out(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    start_now: bool,
    status: str,
) -> None:
    """At check-out a cleaning task for the stay appears in Kasify and on the open-tasks sensor."""
    atico = simulator.kasify.property_at(2)
    javier = next(m for m in atico["team"] if m["name"] == "Javier")
    booking = await _book_atico(hass, simulator)
    await _automations(
        hass,
        CLEANING_BLUEPRINT,
        {
            "properties": [property_device_id(hass, atico["id"])],
            "due_hours": 3,
            "assignee": "Javier Ortega",
            "title_prefix": "Limpieza tras",
            "start_now": start_now,
        },
        # Another property only: no second task.
        {"properties": [property_device_id(hass, simulator.kasify.property_at(1)["id"])]},
    )
    # Oliver Taylor leaves the Ático before Ana arrives: his cleaning task comes first.
    await move_to(hass, freezer, CHECK_IN)
    before = set(simulator.kasify.tasks)

    await move_to(hass, freezer, CHECK_OUT - timedelta(minutes=1))
    assert set(simulator.kasify.tasks) == before
    await move_to(hass, freezer, CHECK_OUT)

    (task_id,) = set(simulator.kasify.tasks) - before
    task = simulator.kasify.tasks[task_id]
    assert task["title"] == f"Limpieza tras Ana García {DASH} {atico['name']}"
    assert (task["property_id"], task["task_type"], task["status"]) == (atico["id"], "cleaning", status)
    assert (task["assignee_id"], task["booking_id"]) == (javier["id"], booking["id"])
    assert datetime.fromisoformat(task["due_at"]) == CHECK_OUT + timedelta(hours=3)
    sensor_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"property_{atico['id']}-open_tasks")
    assert sensor_id is not None
    state = hass.states.get(sensor_id)
    assert state is not None
    listed = {t["id"]: t for t in state.attributes["tasks"]}
    assert listed[task_id]["status"] == status


async def test_cleaning_task_defaults(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With no input at all: every property, due 4 hours after check-out, unassigned, left pending."""
    atico = simulator.kasify.property_at(2)
    await _book_atico(hass, simulator)
    await _automations(hass, CLEANING_BLUEPRINT, {})
    await move_to(hass, freezer, CHECK_OUT)
    tasks = [
        t
        for t in simulator.kasify.tasks.values()
        if t["title"] == f"Cleaning after Ana García {DASH} {atico['name']}"
    ]
    assert len(tasks) == 1
    assert (tasks[0]["assignee_id"], tasks[0]["status"]) == (None, "pending")
    assert datetime.fromisoformat(tasks[0]["due_at"]) == CHECK_OUT + timedelta(hours=4)
    assert NOW < CHECK_OUT


async def test_warned_once_when_not_ready_2_h_before_check_in(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """João Costa (3 guests booked, 1 registered) arrives at the studio on the 15th at 16:00 Madrid time: the
    host hears of it once, at 14:00, with what blocks; the ready loft's host hears nothing."""
    studio = simulator.kasify.property_at(1)
    booking = next(
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == studio["id"] and b["check_in"] == "2026-03-15T15:00:00Z"
    )
    simulator.kasify.update_booking(booking["id"], guests_count=3)
    check_in = datetime.fromisoformat("2026-03-15T15:00:00+00:00")
    await move_to(hass, freezer, check_in - timedelta(hours=3))
    sensor = "binary_sensor.estudio_do_miradouro_principe_real_ready_for_next_guest"
    state = hass.states.get(sensor)
    assert state is not None
    assert state.state == "off"
    host = async_mock_service(hass, "notify", "host")
    await _automations(hass, NOT_READY_BLUEPRINT, {"sensors": [sensor], "notify_action": "notify.host"})

    await move_to(hass, freezer, check_in - timedelta(hours=2, minutes=1))
    assert host == []
    await move_to(hass, freezer, check_in - timedelta(hours=2))
    await move_to(hass, freezer, check_in - timedelta(hours=1, minutes=59))
    assert len(host) == 1
    assert host[0].data["title"] == "Property not ready"
    assert host[0].data["message"] == (
        f"{studio['name']} is not ready for the check-in at 2026-03-15 16:00: guests_not_registered: 1/3."
    )
    # The time pattern's timer goes with the automation.
    await hass.services.async_call(
        AUTOMATION_DOMAIN, "turn_off", {ATTR_ENTITY_ID: "automation.kasify_0"}, blocking=True
    )
