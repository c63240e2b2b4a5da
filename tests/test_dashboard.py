"""The Kasify dashboard strategy: the module is served and loaded, and what it generates from a live instance.

The strategy is JavaScript (``custom_components/kasify/frontend/kasify-dashboard.js``). The tests that run it
use Node (``tests/dashboard/generate.mjs`` loads the module as the frontend does and calls the strategy's
``generate``) on a snapshot of a test instance set up against the simulator; the markdown templates it writes
are then rendered by Home Assistant's own template engine at the frozen test time.
"""

from __future__ import annotations

from datetime import timedelta
import hashlib
import json
from pathlib import Path
import shutil
import subprocess
from typing import Any

from homeassistant.components.onboarding import STEPS
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.json import JSONEncoder
from homeassistant.helpers.template import Template
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.kasify.const import DOMAIN
from custom_components.kasify.frontend import MODULE_PATH, MODULE_URL
from simulator import Simulator

from . import setup_integration
from .providers import LOFT, NOW, casavi_entry, create_code, nuki_entry, refresh, remotelock_entry

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("fast_nuki")]

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="running the strategy needs Node.js (node on PATH)")
GENERATE = Path(__file__).parent / "dashboard" / "generate.mjs"
SERVICE_DOOR = "lock.loft_patio_lavapies_puerta_de_servicio"  # RemoteLock, added after the Kasify account


def _hass_snapshot(hass: HomeAssistant, language: str) -> dict[str, Any]:
    """What the strategy reads: ``hass`` as the frontend has it and the device registry's list."""
    devices: dict[str, dict[str, Any]] = {}
    entities: dict[str, dict[str, Any]] = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id):
            devices[device.id] = device.dict_repr
        for registered in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
            if registered.disabled_by is None:
                entities[registered.entity_id] = {
                    "entity_id": registered.entity_id,
                    "device_id": registered.device_id,
                    "platform": registered.platform,
                    "translation_key": registered.translation_key,
                    "hidden": registered.hidden_by is not None,
                    "entity_category": registered.entity_category,
                }
    states = {
        state.entity_id: {
            "entity_id": state.entity_id,
            "state": state.state,
            "attributes": dict(state.attributes),
        }
        for state in hass.states.async_all()
    }
    return {
        "hass": {
            "states": states,
            "entities": entities,
            "language": language,
            "locale": {"language": language},
        },
        "devices": list(devices.values()),
    }


async def _generate(hass: HomeAssistant, language: str = "en") -> dict[str, Any]:
    """Run the strategy in Node on this instance; its dashboard, registrations and websocket calls."""
    assert NODE is not None
    snapshot = json.dumps(_hass_snapshot(hass, language), cls=JSONEncoder)

    def _run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [NODE, str(GENERATE), str(MODULE_PATH)],
            input=snapshot,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    done = await hass.async_add_executor_job(_run)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _sections(result: dict[str, Any]) -> list[dict[str, Any]]:
    (view,) = result["config"]["views"]
    assert view["type"] == "sections"
    sections: list[dict[str, Any]] = view["sections"]
    return sections


def _section_of(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    for section in _sections(result):
        if section["cards"][0] == {**section["cards"][0], "type": "heading", "heading": name}:
            cards: list[dict[str, Any]] = section["cards"]
            return cards
    raise AssertionError(f"no section for {name}")


def _today(hass: HomeAssistant, result: dict[str, Any]) -> dict[str, str]:
    """The today section's lists as Home Assistant renders them now: heading → markdown."""
    cards = _sections(result)[0]["cards"]
    rendered: dict[str, str] = {}
    for heading, markdown in zip(cards[1::2], cards[2::2], strict=True):
        assert markdown["type"] == "markdown"
        rendered[heading["heading"]] = Template(markdown["content"], hass).async_render(parse_result=False)
    return rendered


async def test_module_is_served(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    """The strategy module is served by the integration, as a JavaScript file."""
    client = await hass_client()
    response = await client.get(MODULE_URL)
    assert response.status == 200
    assert response.content_type in ("application/javascript", "text/javascript")
    assert await response.text() == MODULE_PATH.read_text(encoding="utf-8")


async def test_module_is_loaded_on_every_page(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: Simulator,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
) -> None:
    """With the frontend running, every page loads the module (its URL names its content, for caches) once
    per Home Assistant run: a second account adds nothing, and it stays after the accounts are removed (the
    dashboard then says how to add one)."""
    pytest.importorskip(
        "hass_frontend", reason="the frontend package is not installed with this Home Assistant"
    )
    hass_storage["onboarding"] = {
        "version": 4,
        "minor_version": 1,
        "key": "onboarding",
        "data": {"done": STEPS},
    }
    assert await async_setup_component(hass, "frontend", {})
    await setup_integration(hass, mock_config_entry)
    await setup_integration(hass, casavi_entry(simulator))
    digest = hashlib.sha256(MODULE_PATH.read_bytes()).hexdigest()[:16]
    url = f"{MODULE_URL}?v={digest}"

    client = await hass_client()
    assert (await (await client.get("/")).text()).count(url) == 1

    for entry in hass.config_entries.async_entries(DOMAIN):
        assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert (await (await client.get("/")).text()).count(url) == 1


async def _portfolio(hass: HomeAssistant, simulator: Simulator, kasify: MockConfigEntry) -> None:
    """Kasify, casavi, Nuki Web and RemoteLock accounts, with a code on a lock (its PIN must never show)."""
    await setup_integration(hass, kasify)
    for entry in (casavi_entry(simulator), nuki_entry(simulator), remotelock_entry(simulator)):
        await setup_integration(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)


@needs_node
async def test_strategy_generates_the_dashboard(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: Simulator, snapshot: SnapshotAssertion
) -> None:
    """Today first, then a section per property (rentals with stays first, by name): who is in and next, its
    locks with their commands, battery, door and connectivity, open tasks and the bookings as a list;
    built-in cards only; no PIN."""
    await _portfolio(hass, simulator, mock_config_entry)
    response = await create_code(hass, [LOFT, SERVICE_DOOR], code="482915")
    assert {issued["code"] for issued in response.values()} == {"482915"}

    result = await _generate(hass)
    assert result["calls"] == ["config/device_registry/list"]
    assert result["suggestions"] == {"title": "Kasify", "icon": "mdi:home-city"}
    assert [(s["type"], s["strategyType"], s["name"]) for s in result["strategies"]] == [
        ("kasify", "dashboard", "Kasify")
    ]
    assert [section["cards"][0]["heading"] for section in _sections(result)] == [
        "Today",
        "Ático Torre Malvarrosa",
        "Estúdio do Miradouro Príncipe Real",
        "Loft Patio Lavapiés",
        "Altbau Schwabing",
        "Haus am See",
    ]
    loft = _section_of(result, "Loft Patio Lavapiés")
    tiles = {card["entity"]: card for card in loft if card["type"] == "tile"}
    assert tiles[LOFT]["name"] == "Puerta principal"
    assert tiles[LOFT]["features"] == [{"type": "lock-commands"}, {"type": "lock-open-door"}]
    assert tiles[SERVICE_DOOR]["name"] == "Puerta de servicio"
    assert tiles[SERVICE_DOOR]["features"] == [{"type": "lock-commands"}]
    assert tiles["sensor.loft_patio_lavapies_next_check_in"]["state_content"] == ["state", "guest_name"]
    # Each lock's status entities, named as the lock's device names them (entity ids vary: a Kasify copy of
    # the Nuki lock had some of them until the Nuki account took the lock over).
    registry = er.async_get(hass)
    nuki_lock, service_door = (registry.async_get(lock).device_id for lock in (LOFT, SERVICE_DOOR))

    def _status(glance: dict[str, Any]) -> list[tuple[str | None, str]]:
        return [
            (registry.async_get(shown["entity"]).device_id, shown["name"]) for shown in glance["entities"]
        ]

    assert [_status(card) for card in loft if card["type"] == "glance"] == [
        [(nuki_lock, "Battery"), (nuki_lock, "Door"), (nuki_lock, "Connectivity")],
        [(service_door, "Battery"), (service_door, "Connectivity")],
    ]
    (calendar,) = [card for card in loft if card["type"] == "calendar"]
    assert calendar == {
        "type": "calendar",
        "title": "Bookings",
        "entities": ["calendar.loft_patio_lavapies_bookings"],
        "initial_view": "listWeek",
    }
    cards = [card for section in _sections(result) for card in section["cards"]]
    assert {card["type"] for card in cards} <= {"heading", "tile", "glance", "markdown", "calendar"}
    generated = json.dumps(result, ensure_ascii=False)
    assert "482915" not in generated
    assert "access_code" not in generated
    assert result["config"] == snapshot


@needs_node
async def test_today_lists_check_ins_check_outs_and_turnovers(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """The today lists, rendered now: who arrived or arrives, who left or leaves, and where a guest leaves and
    the next arrives the same day; in the host's language."""
    turnover = simulator.kasify.add_property("Casa de Pruebas")
    simulator.kasify.add_booking(
        turnover["id"], "Ana García", NOW - timedelta(days=3), NOW - timedelta(hours=2)
    )
    simulator.kasify.add_booking(
        turnover["id"], "Luis Pérez", NOW + timedelta(hours=4), NOW + timedelta(days=2)
    )
    arrival = simulator.kasify.add_property("Casa Nueva")
    simulator.kasify.add_booking(
        arrival["id"], "Eva Martín", NOW - timedelta(hours=1), NOW + timedelta(days=2)
    )
    await setup_integration(hass, mock_config_entry)
    await refresh(hass, mock_config_entry)

    # 12:00 UTC is 05:00 in the test instance's time zone (US/Pacific): the day runs 07:00 to 07:00 UTC.
    assert _today(hass, await _generate(hass)) == {
        "Check-ins": (
            "- **Casa de Pruebas** · Luis Pérez · 09:00\n- **Casa Nueva** · Eva Martín · 04:00 ✓ arrived"
        ),
        "Check-outs": "- **Casa de Pruebas** · Ana García · 03:00 ✓ left",
        "Turnovers": "- **Casa de Pruebas** · out 03:00 → in 09:00",
    }
    assert _today(hass, await _generate(hass, "es")) == {
        "Entradas": (
            "- **Casa de Pruebas** · Luis Pérez · 09:00\n"
            "- **Casa Nueva** · Eva Martín · 04:00 ✓ ya ha llegado"
        ),
        "Salidas": "- **Casa de Pruebas** · Ana García · 03:00 ✓ ya se ha ido",
        "Cambios de huésped": "- **Casa de Pruebas** · sale 03:00 → entra 09:00",
    }


@needs_node
async def test_nothing_today_and_no_properties(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """A quiet day says so; while Kasify is down the lists say which properties are not known (never "none");
    without any property (only a lock account) the dashboard says how to add one."""
    nuki = nuki_entry(simulator)
    await setup_integration(hass, nuki)
    (section,) = _sections(await _generate(hass, "es"))
    (card,) = section["cards"]
    assert card["type"] == "markdown"
    assert "Dispositivos y servicios" in card["content"]

    assert await hass.config_entries.async_remove(nuki.entry_id)
    await setup_integration(hass, mock_config_entry)
    result = await _generate(hass)
    quiet = {"Check-ins": "None today.", "Check-outs": "None today.", "Turnovers": "None today."}
    assert _today(hass, result) == quiet

    simulator.faults.inject("/kasify/", status=503)
    await refresh(hass, mock_config_entry)
    assert hass.states.get("binary_sensor.loft_patio_lavapies_occupied").state == STATE_UNAVAILABLE
    names = "Ático Torre Malvarrosa, Estúdio do Miradouro Príncipe Real, Loft Patio Lavapiés"
    unknown = f"_Not known now for {names}_"
    assert _today(hass, result) == dict.fromkeys(quiet, unknown)
