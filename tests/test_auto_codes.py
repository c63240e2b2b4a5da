"""Automatic per-booking access codes, driven by the Kasify bookings in the simulator.

The access-code engine is replaced here by a recording fake (the same interface), so each test can look at
exactly which codes exist; ``test_auto_codes_locks.py`` runs the same life cycle against real Nuki and
UniFi Access locks in the simulator.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify.access_codes.automatic import (
    AutoCodeScheduler,
    AutoCodeSettings,
    HeldCodes,
    async_remove_store,
    get_scheduler,
    issue_id,
    storage_key,
)
from custom_components.kasify.const import (
    CONF_AUTO_CODES,
    CONF_AUTO_CODES_END_OFFSET,
    CONF_AUTO_CODES_LEAD_HOURS,
    CONF_AUTO_CODES_START_OFFSET,
    CONF_SCAN_INTERVAL,
    DOMAIN,
)
from simulator import Simulator

from . import setup_integration
from .providers import KASIFY_OPTIONS, NOW, answer_no_bookings_once, kasify_entry, move_to, refresh

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

FRONT = "lock.casa_de_pruebas_puerta"
BACK = "lock.casa_de_pruebas_garaje"
AUTO_OPTIONS = {
    **KASIFY_OPTIONS,
    CONF_AUTO_CODES: True,
    CONF_AUTO_CODES_LEAD_HOURS: 48,
    CONF_AUTO_CODES_START_OFFSET: 60,
    CONF_AUTO_CODES_END_OFFSET: 30,
}
# Stays around NOW: a guest in the house, and one arriving tomorrow.
IN_HOUSE = (NOW - timedelta(days=1), NOW + timedelta(days=1))
TOMORROW = (NOW + timedelta(days=1), NOW + timedelta(days=2))


@dataclass(frozen=True, slots=True)
class FakeCode:
    """What the engine returns for one code on one lock."""

    entity_id: str
    code_id: str
    code: str
    starts_at: datetime
    ends_at: datetime
    status: str
    booking_id: str | None
    name: str


class FakeManager:
    """The access-code engine's interface, keeping its codes in a dict (codes on locks, by code id)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.locks: dict[str, list[str]] = {}  # Kasify property id → lock entities
        self.codes: dict[str, FakeCode] = {}
        self.calls: list[tuple[str, Any]] = []
        self.fail: set[str] = set()  # operations that raise
        self.status = "on_lock"  # status of new codes
        self._serial = 0

    async def async_load(self) -> None:
        self.calls.append(("load", None))

    def lock_entities_for_property(self, property_device_id: str) -> list[str]:
        device = dr.async_get(self.hass).async_get(property_device_id)
        assert device is not None
        for _domain, identifier in device.identifiers:
            if identifier.startswith("property_"):
                return list(self.locks.get(identifier.removeprefix("property_"), []))
        return []  # pragma: no cover

    async def async_create(
        self,
        entity_ids: Sequence[str],
        *,
        name: str,
        code: str | None,
        starts_at: datetime,
        ends_at: datetime,
        booking_id: str | None = None,
        avoid: Iterable[str] = (),
    ) -> dict[str, FakeCode]:
        self.calls.append(("create", {"locks": list(entity_ids), "code": code, "avoid": tuple(avoid)}))
        if "create" in self.fail:
            raise HomeAssistantError("Puerta failed; nothing was left behind")
        if "create_invalid" in self.fail:
            raise ServiceValidationError("bad")
        self._serial += 1
        pin = code or f"{583900 + self._serial}"
        issued = {}
        for entity_id in entity_ids:
            issued[entity_id] = FakeCode(
                entity_id,
                f"c{self._serial}-{entity_id}",
                pin,
                starts_at,
                ends_at,
                self.status,
                booking_id,
                name,
            )
            self.codes[issued[entity_id].code_id] = issued[entity_id]
        return issued

    async def async_update_window(
        self, codes: Mapping[str, str], *, starts_at: datetime, ends_at: datetime
    ) -> dict[str, FakeCode]:
        self.calls.append(("update", dict(codes)))
        if "update" in self.fail:
            raise HomeAssistantError("update failed")
        updated = {}
        for entity_id, code_id in codes.items():
            old = self.codes.pop(code_id)
            # Like a vendor without an update endpoint: a new id, the same PIN.
            new = replace(old, code_id=f"{code_id}+", starts_at=starts_at, ends_at=ends_at)
            self.codes[new.code_id] = updated[entity_id] = new
        return updated

    async def async_revoke(self, codes: Mapping[str, str]) -> None:
        self.calls.append(("revoke", dict(codes)))
        if "revoke" in self.fail:
            raise HomeAssistantError("revoke failed")
        for code_id in codes.values():
            self.codes.pop(code_id, None)

    def codes_for_booking(self, booking_id: str) -> list[FakeCode]:
        return [code for code in self.codes.values() if code.booking_id == booking_id]

    def on_locks(self, booking_id: str) -> dict[str, FakeCode]:
        """Entity → code of a booking."""
        return {code.entity_id: code for code in self.codes_for_booking(booking_id)}

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)


@pytest.fixture
def manager(hass: HomeAssistant) -> Iterator[FakeManager]:
    """The fake engine, handed to every scheduler."""
    fake = FakeManager(hass)
    with patch("custom_components.kasify.access_codes.automatic.code_manager", return_value=fake):
        yield fake


@pytest.fixture
def house(simulator: Simulator, manager: FakeManager) -> dict[str, Any]:
    """An empty property with two locks (nothing booked around NOW, so each test books it)."""
    prop = simulator.kasify.add_property("Casa de Pruebas")
    manager.locks[prop["id"]] = [FRONT, BACK]
    return prop


def _entry(simulator: Simulator, options: Mapping[str, Any] = AUTO_OPTIONS) -> MockConfigEntry:
    return kasify_entry(simulator, entry_id=None, options=options)


async def _setup(hass: HomeAssistant, simulator: Simulator, **options: Any) -> MockConfigEntry:
    entry = _entry(simulator, {**AUTO_OPTIONS, **options})
    await setup_integration(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def _setup_with_store(
    hass: HomeAssistant, hass_storage: dict[str, Any], entry: MockConfigEntry, bookings: dict[str, Any]
) -> None:
    """Set ``entry`` up with the scheduler's store holding ``bookings`` (as left by an earlier run)."""
    hass_storage[storage_key(entry.entry_id)] = {
        "version": 1,
        "key": storage_key(entry.entry_id),
        "data": {"bookings": bookings},
    }
    await setup_integration(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)


def _scheduler(hass: HomeAssistant, entry: MockConfigEntry) -> AutoCodeScheduler:
    scheduler = get_scheduler(hass, entry.entry_id)
    assert scheduler is not None
    return scheduler


async def test_code_created_lead_time_before_check_in(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nothing 49 h ahead; at exactly 48 h before check-in one PIN on both locks, valid check-in - 1 h to
    check-out +30 min, never ending in the guest's phone digits."""
    check_in, check_out = NOW + timedelta(days=3), NOW + timedelta(days=6)
    booking = simulator.kasify.add_booking(
        house["id"], "Ana García", check_in, check_out, guest_phone="+34 600 123 456"
    )
    entry = await _setup(hass, simulator)
    assert manager.on_locks(booking["id"]) == {}
    assert _scheduler(hass, entry).next_run == check_in - timedelta(hours=48)

    await move_to(hass, freezer, check_in - timedelta(hours=48, seconds=1))
    assert manager.on_locks(booking["id"]) == {}
    await move_to(hass, freezer, check_in - timedelta(hours=48))
    codes = manager.on_locks(booking["id"])
    assert set(codes) == {FRONT, BACK}
    assert len({code.code for code in codes.values()}) == 1
    front = codes[FRONT]
    assert (front.starts_at, front.ends_at) == (
        check_in - timedelta(hours=1),
        check_out + timedelta(minutes=30),
    )
    assert front.name == "Ana García"
    assert manager.calls[-1][1]["avoid"] == ("34600123456",)
    assert manager.count("create") == 1


async def test_booking_inside_lead_time_gets_its_code_at_setup(
    hass: HomeAssistant, simulator: Simulator, house: dict[str, Any], manager: FakeManager
) -> None:
    """A guest in the house and one arriving tomorrow get codes at once; pending, cancelled and past
    bookings get none."""
    current = simulator.kasify.add_booking(house["id"], "En Casa", *IN_HOUSE)
    soon = simulator.kasify.add_booking(house["id"], "Mañana", *TOMORROW)
    pending = simulator.kasify.add_booking(house["id"], "Pendiente", *TOMORROW, status="pending")
    cancelled = simulator.kasify.add_booking(
        house["id"], "Anulada", NOW + timedelta(hours=5), NOW + timedelta(days=1), status="cancelled"
    )
    past = simulator.kasify.add_booking(
        house["id"], "Pasada", NOW - timedelta(days=5), NOW - timedelta(days=2)
    )
    await _setup(hass, simulator)
    assert set(manager.on_locks(current["id"])) == {FRONT, BACK}
    assert set(manager.on_locks(soon["id"])) == {FRONT, BACK}
    for booking in (pending, cancelled, past):
        assert manager.on_locks(booking["id"]) == {}

    # Confirmed later: its code comes with the next refresh.
    simulator.kasify.update_booking(pending["id"], status="confirmed")
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await refresh(hass, entry)
    assert set(manager.on_locks(pending["id"])) == {FRONT, BACK}


async def test_moved_booking_moves_the_code_keeping_the_pin(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An extension while the guest is in the house, then a shortened stay: same PIN, new window, and the
    code is revoked after the new check-out (plus its margin)."""
    booking = simulator.kasify.add_booking(house["id"], "Ana", *IN_HOUSE)
    entry = await _setup(hass, simulator)
    pin = manager.on_locks(booking["id"])[FRONT].code

    extended = NOW + timedelta(days=3)
    simulator.kasify.move_booking(booking["id"], NOW - timedelta(days=1), extended)
    await refresh(hass, entry)
    codes = manager.on_locks(booking["id"])
    assert codes[FRONT].ends_at == extended + timedelta(minutes=30)
    assert {code.code for code in codes.values()} == {pin}
    assert manager.count("update") == 1
    assert manager.count("create") == 1

    shortened = NOW + timedelta(hours=6)
    simulator.kasify.move_booking(booking["id"], NOW - timedelta(days=1), shortened)
    await refresh(hass, entry)
    assert manager.on_locks(booking["id"])[BACK].ends_at == shortened + timedelta(minutes=30)
    held = _scheduler(hass, entry).held[booking["id"]]
    assert held.codes == {entity: code.code_id for entity, code in manager.on_locks(booking["id"]).items()}

    await move_to(hass, freezer, shortened + timedelta(minutes=29))
    assert manager.on_locks(booking["id"]) != {}
    await move_to(hass, freezer, shortened + timedelta(minutes=30))
    assert manager.on_locks(booking["id"]) == {}
    assert booking["id"] not in _scheduler(hass, entry).held


async def test_early_arrival_moves_the_start(
    hass: HomeAssistant, simulator: Simulator, house: dict[str, Any], manager: FakeManager
) -> None:
    """Arriving a day early: the code opens a day earlier."""
    check_in = NOW + timedelta(days=1)
    booking = simulator.kasify.add_booking(house["id"], "Ana", check_in, check_in + timedelta(days=2))
    entry = await _setup(hass, simulator)
    early = NOW + timedelta(hours=2)
    simulator.kasify.move_booking(booking["id"], early, check_in + timedelta(days=2))
    await refresh(hass, entry)
    assert manager.on_locks(booking["id"])[FRONT].starts_at == early - timedelta(hours=1)


async def test_cancelled_booking_loses_its_code(
    hass: HomeAssistant, simulator: Simulator, house: dict[str, Any], manager: FakeManager
) -> None:
    """Cancelled in Kasify: the code is removed from both locks at the next refresh, and forgotten."""
    booking = simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    entry = await _setup(hass, simulator)
    codes = manager.on_locks(booking["id"])
    simulator.kasify.cancel_booking(booking["id"])
    await refresh(hass, entry)
    assert manager.on_locks(booking["id"]) == {}
    assert manager.calls[-1] == ("revoke", {entity: code.code_id for entity, code in codes.items()})
    assert _scheduler(hass, entry).held == {}


@pytest.mark.parametrize("change", ["window_ends", "cancelled"])
async def test_nothing_is_revoked_while_kasify_is_down(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
    change: str,
) -> None:
    """While Kasify fails, a code stays, even past its end (a guest in the house) or after its booking was
    cancelled upstream; once Kasify answers again the code is revoked."""
    if change == "window_ends":
        booking = simulator.kasify.add_booking(
            house["id"], "Ana", NOW - timedelta(days=1), NOW + timedelta(hours=1)
        )
    else:
        booking = simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    entry = await _setup(hass, simulator)
    simulator.faults.inject("/kasify/", status=503)
    if change == "cancelled":
        simulator.kasify.cancel_booking(booking["id"])
    await move_to(hass, freezer, NOW + timedelta(minutes=10))
    assert not entry.runtime_data.coordinator.last_update_success
    await move_to(hass, freezer, NOW + timedelta(hours=2))
    assert set(manager.on_locks(booking["id"])) == {FRONT, BACK}
    assert manager.count("revoke") == 0

    simulator.faults.clear()
    await move_to(hass, freezer, NOW + timedelta(hours=2, minutes=2))
    assert entry.runtime_data.coordinator.last_update_success
    assert manager.on_locks(booking["id"]) == {}


async def test_booking_list_not_understood_keeps_the_codes_and_creates_none(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Kasify answers 404 to the (inferred) booking list while the rest of the account reads fine: the
    bookings are unknown, so, as in an outage, no code is revoked (not even one whose booking was cancelled
    meanwhile), and none is created (not even from the bookings known before); both happen once the list
    answers again."""
    staying = simulator.kasify.add_booking(house["id"], "Ana", *IN_HOUSE)
    arriving = simulator.kasify.add_booking(
        house["id"], "Luis", NOW + timedelta(days=3), NOW + timedelta(days=4)
    )
    entry = await _setup(hass, simulator)
    assert set(manager.on_locks(staying["id"])) == {FRONT, BACK}
    assert manager.on_locks(arriving["id"]) == {}  # its code is due 48 hours before check-in
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=404)
    simulator.kasify.cancel_booking(staying["id"])
    await refresh(hass, entry)
    assert entry.runtime_data.coordinator.last_update_success

    await move_to(hass, freezer, NOW + timedelta(days=1, minutes=1))  # past the time Luis's code is due
    assert set(manager.on_locks(staying["id"])) == {FRONT, BACK}
    assert manager.count("revoke") == 0
    assert manager.on_locks(arriving["id"]) == {}

    simulator.faults.clear()
    await move_to(hass, freezer, NOW + timedelta(days=1, minutes=3))
    assert manager.on_locks(staying["id"]) == {}
    assert set(manager.on_locks(arriving["id"])) == {FRONT, BACK}


async def test_empty_booking_list_keeps_the_codes(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A refresh whose booking list comes back empty: Kasify is asked about the booking directly, still
    has it, and the code stays."""
    booking = simulator.kasify.add_booking(house["id"], "Ana", *IN_HOUSE)
    entry = await _setup(hass, simulator)
    answer_no_bookings_once(simulator)
    simulator.reset_requests()
    await refresh(hass, entry)
    assert entry.runtime_data.coordinator.last_update_success
    assert simulator.count_requests(f"/kasify/v1/bookings/{booking['id']}", "GET") == 1
    assert set(manager.on_locks(booking["id"])) == {FRONT, BACK}
    assert manager.count("revoke") == 0


async def test_missing_booking_revoked_after_two_checks(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A booking deleted in Kasify (404): one check is not enough; the second, a polling interval later,
    revokes. A booking that comes back after one 404 keeps its code."""
    glitch = simulator.kasify.add_booking(house["id"], "Ana", *IN_HOUSE)
    gone = simulator.kasify.add_booking(house["id"], "Luis", *TOMORROW)
    entry = await _setup(hass, simulator)
    scheduler = _scheduler(hass, entry)
    saved_glitch = simulator.kasify.bookings.pop(glitch["id"])
    saved_gone = simulator.kasify.bookings.pop(gone["id"])
    await refresh(hass, entry)
    assert scheduler.held[glitch["id"]].gone_checks == 1
    assert manager.count("revoke") == 0

    simulator.kasify.bookings[glitch["id"]] = saved_glitch  # back: it was a glitch
    await move_to(hass, freezer, NOW + timedelta(seconds=30))
    assert manager.count("revoke") == 0  # not yet one interval after the first check
    await move_to(hass, freezer, NOW + timedelta(seconds=61))
    assert scheduler.held[glitch["id"]].gone_checks == 0
    assert set(manager.on_locks(glitch["id"])) == {FRONT, BACK}
    assert manager.on_locks(gone["id"]) == {}
    assert gone["id"] not in scheduler.held
    assert saved_gone["guest_name"] == "Luis"


async def test_missing_booking_found_cancelled_or_moved(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Missing from the list but Kasify has it, moved: the code follows it. Missing and cancelled twice:
    revoked. Kasify not answering the look-up: kept."""
    booking = simulator.kasify.add_booking(house["id"], "Ana", *IN_HOUSE)
    entry = await _setup(hass, simulator)
    later = NOW + timedelta(days=2)
    simulator.kasify.move_booking(booking["id"], NOW - timedelta(days=1), later)
    answer_no_bookings_once(simulator)
    await refresh(hass, entry)
    assert manager.on_locks(booking["id"])[FRONT].ends_at == later + timedelta(minutes=30)

    # The look-up fails: nothing happens.
    answer_no_bookings_once(simulator)
    simulator.faults.inject(f"/kasify/v1/bookings/{booking['id']}", status=500, times=1)
    await refresh(hass, entry)
    assert _scheduler(hass, entry).held[booking["id"]].gone_checks == 0

    # From now on the list lacks it, and Kasify says it is cancelled.
    listed = simulator.kasify.bookings_overlapping

    def without_it(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return [b for b in listed(*args, **kwargs) if b["id"] != booking["id"]]

    monkeypatch.setattr(simulator.kasify, "bookings_overlapping", without_it)
    simulator.kasify.cancel_booking(booking["id"])
    await move_to(hass, freezer, NOW + timedelta(seconds=61))
    assert manager.on_locks(booking["id"]) != {}
    await move_to(hass, freezer, NOW + timedelta(seconds=122))
    assert manager.on_locks(booking["id"]) == {}


async def test_restart_neither_duplicates_nor_orphans(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a reload the same codes are followed: none created again, a cancellation while Home Assistant
    was down is applied, and the store holds what is on the locks."""
    stay = simulator.kasify.add_booking(house["id"], "Ana", *IN_HOUSE)
    other = simulator.kasify.add_booking(house["id"], "Luis", *TOMORROW)
    entry = await _setup(hass, simulator)
    stored = hass_storage[storage_key(entry.entry_id)]["data"]["bookings"]
    assert stored[stay["id"]]["codes"] == {e: c.code_id for e, c in manager.on_locks(stay["id"]).items()}
    assert stored[stay["id"]]["state"] == "active"
    assert "583" not in str(stored)  # the PIN is never stored

    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    simulator.kasify.cancel_booking(other["id"])
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert manager.count("create") == 2
    assert set(manager.on_locks(stay["id"])) == {FRONT, BACK}
    assert manager.on_locks(other["id"]) == {}
    assert set(hass_storage[storage_key(entry.entry_id)]["data"]["bookings"]) == {stay["id"]}


@pytest.mark.parametrize("engine_finished", [True, False])
async def test_restart_during_creation(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    hass_storage: dict[str, Any],
    engine_finished: bool,
) -> None:
    """Home Assistant stopped while a code was being created: what the engine made is adopted (not made
    twice); if it made nothing, the code is created."""
    booking = simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    entry = _entry(simulator)
    window = AutoCodeSettings.from_options(AUTO_OPTIONS).window
    if engine_finished:
        await manager.async_create(
            [FRONT, BACK], name="Ana", code=None, starts_at=NOW, ends_at=NOW, booking_id=booking["id"]
        )
    await _setup_with_store(
        hass,
        hass_storage,
        entry,
        {
            booking["id"]: {
                "property_id": house["id"],
                "codes": {},
                "starts_at": NOW.isoformat(),
                "ends_at": NOW.isoformat(),
                "state": "creating",
            },
            "damaged": {"codes": 3},
            "bad-time": {"property_id": "x", "codes": {}, "starts_at": "soon", "ends_at": "later"},
        },
    )
    codes = manager.on_locks(booking["id"])
    assert set(codes) == {FRONT, BACK}
    assert manager.count("create") == 1
    held = _scheduler(hass, entry).held
    assert set(held) == {booking["id"]}
    # Adopted with the engine's window, then moved to the booking's.
    assert (codes[FRONT].starts_at, codes[FRONT].ends_at) == window(
        entry.runtime_data.coordinator.data.bookings[house["id"]][0]
    )


async def test_restart_during_a_move(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    hass_storage: dict[str, Any],
) -> None:
    """Stopped while moving: the engine's codes are followed and the move is finished; stopped while
    revoking: the revocation is finished."""
    moving = simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    revoking = simulator.kasify.add_booking(
        house["id"], "Luis", NOW + timedelta(days=3), NOW + timedelta(days=4)
    )
    entry = _entry(simulator)
    moved = await manager.async_create(
        [FRONT, BACK], name="Ana", code=None, starts_at=NOW, ends_at=NOW, booking_id=moving["id"]
    )
    doomed = await manager.async_create(
        [FRONT], name="Luis", code=None, starts_at=NOW, ends_at=NOW, booking_id=revoking["id"]
    )
    records = {
        moving["id"]: HeldCodes(house["id"], {e: c.code_id for e, c in moved.items()}, NOW, NOW, "updating"),
        revoking["id"]: HeldCodes(house["id"], {FRONT: doomed[FRONT].code_id}, NOW, NOW, "revoking"),
    }
    await _setup_with_store(hass, hass_storage, entry, {key: held.as_dict() for key, held in records.items()})
    assert manager.on_locks(moving["id"])[FRONT].ends_at == NOW + timedelta(days=2, minutes=30)
    assert manager.on_locks(revoking["id"]) == {}
    assert manager.count("create") == 2  # the two above; nothing new


async def test_upstream_failures_are_retried(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A lock that refuses: nothing is kept, a repair issue names the locks, and the creation is retried
    5 minutes later; a failed move and a failed revocation are retried too."""
    check_in = NOW + timedelta(hours=20)
    booking = simulator.kasify.add_booking(house["id"], "Ana García", check_in, check_in + timedelta(days=2))
    manager.fail = {"create"}
    entry = await _setup(hass, simulator)
    assert manager.on_locks(booking["id"]) == {}
    issue = issue_registry.async_get_issue(DOMAIN, issue_id(entry.entry_id, booking["id"]))
    assert issue is not None
    assert issue.translation_key == "code_not_on_locks"
    assert issue.translation_placeholders["guest"] == "Ana García"
    assert issue.translation_placeholders["property"] == "Casa de Pruebas"
    assert issue.translation_placeholders["locks"] == f"{FRONT}, {BACK}"

    manager.fail = set()
    await move_to(hass, freezer, NOW + timedelta(minutes=4))
    assert manager.on_locks(booking["id"]) == {}
    await move_to(hass, freezer, NOW + timedelta(minutes=5))
    assert set(manager.on_locks(booking["id"])) == {FRONT, BACK}
    assert issue_registry.async_get_issue(DOMAIN, issue_id(entry.entry_id, booking["id"])) is None

    manager.fail = {"update", "revoke"}
    simulator.kasify.move_booking(booking["id"], check_in, check_in + timedelta(days=3))
    await refresh(hass, entry)
    assert manager.on_locks(booking["id"])[FRONT].ends_at == check_in + timedelta(days=2, minutes=30)
    simulator.kasify.cancel_booking(booking["id"])
    manager.fail = {"revoke"}
    await move_to(hass, freezer, NOW + timedelta(minutes=10, seconds=1))
    assert manager.on_locks(booking["id"]) != {}
    manager.fail = set()
    await move_to(hass, freezer, NOW + timedelta(minutes=16))
    assert manager.on_locks(booking["id"]) == {}


async def test_invalid_request_is_not_a_crash(
    hass: HomeAssistant, simulator: Simulator, house: dict[str, Any], manager: FakeManager
) -> None:
    """The engine refusing the request (ServiceValidationError) leaves the booking without a code."""
    booking = simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    manager.fail = {"create_invalid"}
    await _setup(hass, simulator)
    assert manager.on_locks(booking["id"]) == {}


async def test_repair_issue_until_the_code_is_on_every_lock(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A code still pending on its lock 24 h before arrival raises the issue; it clears once the engine
    reports the code on every lock. A lock added to the property later gets the same PIN."""
    check_in = NOW + timedelta(hours=30)
    booking = simulator.kasify.add_booking(house["id"], "Ana", check_in, check_in + timedelta(days=2))
    manager.status = "pending"
    entry = await _setup(hass, simulator)
    key = issue_id(entry.entry_id, booking["id"])
    assert issue_registry.async_get_issue(DOMAIN, key) is None  # more than 24 h ahead

    await move_to(hass, freezer, check_in - timedelta(hours=24))
    issue = issue_registry.async_get_issue(DOMAIN, key)
    assert issue is not None
    assert issue.translation_placeholders["locks"] == f"{FRONT}, {BACK}"

    for code_id, code in list(manager.codes.items()):
        if code.entity_id == FRONT:
            manager.codes[code_id] = replace(code, status="on_lock")
    await move_to(hass, freezer, check_in - timedelta(hours=23, minutes=55))
    assert issue_registry.async_get_issue(DOMAIN, key).translation_placeholders["locks"] == BACK

    manager.codes = {code_id: replace(code, status="on_lock") for code_id, code in manager.codes.items()}
    await move_to(hass, freezer, check_in - timedelta(hours=23, minutes=50))
    assert issue_registry.async_get_issue(DOMAIN, key) is None

    side = "lock.casa_de_pruebas_lateral"
    manager.locks[house["id"]].append(side)
    simulator.kasify.update_booking(booking["id"], guests_count=3)  # any change makes a refresh notify
    await refresh(hass, entry)
    codes = manager.on_locks(booking["id"])
    assert set(codes) == {FRONT, BACK, side}
    assert len({code.code for code in codes.values()}) == 1
    assert manager.calls[-1][1]["code"] == codes[FRONT].code

    # Unloading withdraws the issues of this entry (the next setup raises them again if still true).
    manager.codes = {code_id: replace(code, status="failed") for code_id, code in manager.codes.items()}
    await move_to(hass, freezer, check_in - timedelta(hours=23, minutes=45))
    assert issue_registry.async_get_issue(DOMAIN, key) is not None
    await hass.config_entries.async_unload(entry.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, key) is None


async def test_disabled_creates_nothing_but_cleans_up(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    hass_storage: dict[str, Any],
) -> None:
    """With the option off no code is created, but a code made earlier is still revoked on cancellation."""
    old = simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    new = simulator.kasify.add_booking(house["id"], "Luis", *TOMORROW)
    entry = _entry(simulator, {**AUTO_OPTIONS, CONF_AUTO_CODES: False})
    made = await manager.async_create(
        [FRONT, BACK], name="Ana", code=None, starts_at=NOW, ends_at=NOW, booking_id=old["id"]
    )
    held = HeldCodes(house["id"], {e: c.code_id for e, c in made.items()}, NOW, NOW + timedelta(days=2))
    await _setup_with_store(hass, hass_storage, entry, {old["id"]: held.as_dict()})
    assert manager.on_locks(new["id"]) == {}
    simulator.kasify.cancel_booking(old["id"])
    await refresh(hass, entry)
    assert manager.on_locks(old["id"]) == {}
    assert _scheduler(hass, entry).next_run is None


async def test_property_without_locks(
    hass: HomeAssistant, simulator: Simulator, manager: FakeManager
) -> None:
    """The seeded properties have no controllable locks here: nothing is created, no issue is raised."""
    entry = await _setup(hass, simulator)
    assert [name for name, _ in manager.calls] == ["load"]
    assert ir.async_get(hass).issues == {} or all(
        not key[1].startswith("code_not_on_locks") for key in ir.async_get(hass).issues
    )
    assert _scheduler(hass, entry).held == {}


async def test_removing_the_entry_forgets_the_codes(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    hass_storage: dict[str, Any],
) -> None:
    """Deleting the Kasify entry deletes its store (the codes on the locks expire at their end)."""
    simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    entry = await _setup(hass, simulator)
    assert storage_key(entry.entry_id) in hass_storage
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert storage_key(entry.entry_id) not in hass_storage
    await async_remove_store(hass, entry.entry_id)  # idempotent


async def test_settings_from_options() -> None:
    """Defaults: off, 48 h ahead, from check-in to 30 minutes after check-out."""
    settings = AutoCodeSettings.from_options({})
    assert settings == AutoCodeSettings(False, timedelta(hours=48), timedelta(0), timedelta(minutes=30))


async def test_options_flow(hass: HomeAssistant, simulator: Simulator, manager: FakeManager) -> None:
    """The Kasify options menu has the access-code step; saving stores the four options and reloads."""
    entry = await _setup(hass, simulator, **{CONF_AUTO_CODES: False})
    entry_options = dict(entry.options)
    for key in (CONF_AUTO_CODES_LEAD_HOURS, CONF_AUTO_CODES_START_OFFSET, CONF_AUTO_CODES_END_OFFSET):
        entry_options.pop(key)
    hass.config_entries.async_update_entry(entry, options=entry_options)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "access_codes" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "access_codes"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "access_codes"
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description
    }
    assert suggested == {
        CONF_AUTO_CODES: False,
        CONF_AUTO_CODES_LEAD_HOURS: 48,
        CONF_AUTO_CODES_START_OFFSET: 0,
        CONF_AUTO_CODES_END_OFFSET: 30,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_AUTO_CODES: True,
            CONF_AUTO_CODES_LEAD_HOURS: 24.0,
            CONF_AUTO_CODES_START_OFFSET: 15.0,
            CONF_AUTO_CODES_END_OFFSET: 60.0,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options[CONF_AUTO_CODES] is True
    assert entry.options[CONF_AUTO_CODES_LEAD_HOURS] == 24
    assert entry.options[CONF_SCAN_INTERVAL] == 60
    assert _scheduler(hass, entry).settings == AutoCodeSettings(
        True, timedelta(hours=24), timedelta(minutes=15), timedelta(minutes=60)
    )


async def test_booking_back_in_the_list_after_one_miss(
    hass: HomeAssistant, simulator: Simulator, house: dict[str, Any], manager: FakeManager
) -> None:
    """Missing once (404), then listed again: the miss is forgotten and the code stays."""
    booking = simulator.kasify.add_booking(house["id"], "Ana", *IN_HOUSE)
    entry = await _setup(hass, simulator)
    held = _scheduler(hass, entry).held[booking["id"]]
    saved = simulator.kasify.bookings.pop(booking["id"])
    await refresh(hass, entry)
    assert held.gone_checks == 1
    simulator.kasify.bookings[booking["id"]] = saved
    await refresh(hass, entry)
    assert held.gone_checks == 0
    assert set(manager.on_locks(booking["id"])) == {FRONT, BACK}


async def test_code_ids_changed_by_the_engine_are_followed(
    hass: HomeAssistant, simulator: Simulator, house: dict[str, Any], manager: FakeManager
) -> None:
    """A code gets its real id once it shows up on the lock (Nuki): the held id follows, so the
    cancellation removes the right code."""
    booking = simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    entry = await _setup(hass, simulator)
    front = manager.on_locks(booking["id"])[FRONT]
    del manager.codes[front.code_id]
    manager.codes["real-id"] = replace(front, code_id="real-id")
    simulator.kasify.update_booking(booking["id"], guests_count=4)
    await refresh(hass, entry)
    assert _scheduler(hass, entry).held[booking["id"]].codes[FRONT] == "real-id"
    simulator.kasify.cancel_booking(booking["id"])
    await refresh(hass, entry)
    assert manager.codes == {}


async def test_new_lock_that_refuses_is_retried(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A lock added to the property that refuses the booking's PIN is tried again 5 minutes later."""
    booking = simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    entry = await _setup(hass, simulator)
    side = "lock.casa_de_pruebas_lateral"
    manager.locks[house["id"]].append(side)
    manager.fail = {"create"}
    simulator.kasify.update_booking(booking["id"], guests_count=4)
    await refresh(hass, entry)
    assert side not in manager.on_locks(booking["id"])
    manager.fail = set()
    await move_to(hass, freezer, NOW + timedelta(minutes=5))
    assert side in manager.on_locks(booking["id"])


async def test_booking_moved_to_another_property(
    hass: HomeAssistant, simulator: Simulator, house: dict[str, Any], manager: FakeManager
) -> None:
    """A booking moved to another house: its code leaves the old locks and a new one goes on the new ones."""
    booking = simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    other = simulator.kasify.add_property("Casa Nueva")
    manager.locks[other["id"]] = ["lock.casa_nueva_puerta"]
    entry = await _setup(hass, simulator)
    assert set(manager.on_locks(booking["id"])) == {FRONT, BACK}
    simulator.kasify.bookings[booking["id"]]["property_id"] = other["id"]
    await refresh(hass, entry)
    assert set(manager.on_locks(booking["id"])) == {"lock.casa_nueva_puerta"}
    assert _scheduler(hass, entry).held[booking["id"]].property_id == other["id"]


async def test_only_confirmed_bookings_get_codes_whatever_the_spelling(
    hass: HomeAssistant,
    simulator: Simulator,
    house: dict[str, Any],
    manager: FakeManager,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A status Kasify spells otherwise (``CANCELED``) is read as what it is; one the integration does not
    know (``declined``) gets no new code, keeps a code it has until Kasify says cancelled, and a repair issue
    names it."""
    known = simulator.kasify.add_booking(house["id"], "Ana", *TOMORROW)
    unknown = simulator.kasify.add_booking(
        house["id"], "Luis", NOW + timedelta(days=3), NOW + timedelta(days=4)
    )
    simulator.kasify.bookings[unknown["id"]]["status"] = "declined"
    entry = await _setup(hass, simulator)
    assert set(manager.on_locks(known["id"])) == {FRONT, BACK}
    assert manager.on_locks(unknown["id"]) == {}
    issue = issue_registry.async_get_issue(DOMAIN, f"booking_status_unknown_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders["statuses"] == "declined"

    simulator.kasify.bookings[known["id"]]["status"] = "Confirmed-Ish"
    await refresh(hass, entry)
    assert set(manager.on_locks(known["id"])) == {FRONT, BACK}  # unknown now: kept, not revoked
    simulator.kasify.bookings[known["id"]]["status"] = "CANCELED"
    simulator.kasify.bookings[unknown["id"]]["status"] = "Confirmed"
    await refresh(hass, entry)
    assert manager.on_locks(known["id"]) == {}
    assert issue_registry.async_get_issue(DOMAIN, f"booking_status_unknown_{entry.entry_id}") is None
