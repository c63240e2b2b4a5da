"""The soak's fleet in the simulator: the locks of every property and the codes on them, read from the
simulator's own state (never from the integration).

:func:`equip_fleet` makes every property of the seeded Kasify fleet reachable by at least one lock vendor
and some by two or three (all or nothing across vendors); :func:`live_codes` lists what a guest could type
at each lock right now, as the vendors hold it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
import random
from zoneinfo import ZoneInfo

from simulator import Simulator
from simulator.nuki.records import KEYPAD_CODE, SERVER_OK
from simulator.remotelock.records import LOCK_TYPES

NUKI, UNIFI, REMOTELOCK = "nuki", "unifi", "remotelock"
VENDORS = (NUKI, UNIFI, REMOTELOCK)


@dataclass(frozen=True, slots=True)
class LockRef:
    """One lock of a property, as its vendor knows it."""

    vendor: str
    lock_id: str
    property_id: str


@dataclass(frozen=True, slots=True)
class LiveCode:
    """A code a vendor holds for a lock: its id, the name it carries, its PIN and window (UTC)."""

    vendor: str
    lock_id: str
    code_id: str
    name: str
    pin: str | None
    starts_at: datetime
    ends_at: datetime

    @property
    def key(self) -> tuple[str, str, str]:
        """Vendor, lock and code: one code on one lock."""
        return (self.vendor, self.lock_id, self.code_id)


def equip_fleet(sim: Simulator, rng: random.Random) -> None:
    """Make the seeded fleet fit for the soak.

    Every Nuki lock gets a keypad and every lock is online (a lock that cannot take a code at all keeps
    every code off its property by design: all or nothing); every property without a Kasify lock gets a
    RemoteLock lock, about a third of the others one too (two vendors at one property), and the first Nuki
    property a UniFi door as well (three vendors).
    """
    kasify = sim.kasify
    for prop in kasify.properties.values():
        prop["calendars"] = []  # channel feeds do not touch codes (and would cost a third of the run)
    for record in kasify.smart_locks.values():
        record["offline"] = False
        if record["vendor"] == NUKI:
            lock_id = int(record["nuki_smartlock"]["nuki_smartlock_id"])
            sim.nuki.set_lock(lock_id, keypad=True, server_state=SERVER_OK)
        else:
            sim.unifi.set_offline(record["unifi_smartlock"]["door_id"], False)
    for device in sim.remotelock.devices.values():
        if device["type"] in LOCK_TYPES:
            sim.remotelock.set_lock(device["id"], connected=True, alive=True)
    locations = {
        location["attributes"]["name"]: location["id"] for location in sim.remotelock.locations.values()
    }
    have_remotelock = {
        location_id
        for device in sim.remotelock.devices.values()
        if device["type"] in LOCK_TYPES and (location_id := device["attributes"].get("location_id"))
    }
    three_vendors = False
    for property_id, prop in kasify.properties.items():
        kinds = {lock["vendor"] for lock in kasify.locks_for(property_id)}
        location_id = locations[prop["name"]]
        if not three_vendors and kinds == {NUKI}:
            door = sim.unifi.add_door(f"Portal {prop['name']}")
            record = kasify.add_unifi_lock(property_id, "Portal", door_id=door["id"], door_name=door["name"])
            sim.unifi.kasify_links[door["id"]] = record["id"]
            kinds.add(UNIFI)
            three_vendors = True
            if location_id not in have_remotelock:
                sim.remotelock.add_lock("Puerta de servicio", location_id)
                have_remotelock.add(location_id)
        if location_id not in have_remotelock and (not kinds or rng.random() < 0.33):
            sim.remotelock.add_lock(rng.choice(("Entrada", "Puerta de servicio", "Garaje")), location_id)
            have_remotelock.add(location_id)


def property_locks(sim: Simulator) -> dict[str, list[LockRef]]:
    """Every property's locks that take codes, by the vendors' own records (Kasify's lock records link Nuki
    locks and UniFi doors; RemoteLock locks sit in the location named after the property)."""
    found: dict[str, list[LockRef]] = {property_id: [] for property_id in sim.kasify.properties}
    for record in sim.kasify.smart_locks.values():
        if record["vendor"] == NUKI:
            lock_id = record["nuki_smartlock"]["nuki_smartlock_id"]
        else:
            lock_id = record["unifi_smartlock"]["door_id"]
        found[record["property_id"]].append(LockRef(record["vendor"], str(lock_id), record["property_id"]))
    by_name = {prop["name"]: property_id for property_id, prop in sim.kasify.properties.items()}
    for device in sim.remotelock.devices.values():
        if device["type"] not in LOCK_TYPES:
            continue
        location = sim.remotelock.locations.get(device["attributes"].get("location_id") or "")
        property_id = by_name.get(location["attributes"]["name"]) if location else None
        if property_id is not None:
            found[property_id].append(LockRef(REMOTELOCK, device["id"], property_id))
    return found


def live_codes(sim: Simulator) -> list[LiveCode]:
    """Every code the vendors hold for a lock now: keypad codes, visitors not cancelled with their doors,
    access guests and users not deactivated with their lock grants (pending or synced)."""
    return [*_nuki(sim), *_unifi(sim), *_remotelock(sim)]


def _nuki(sim: Simulator) -> Iterator[LiveCode]:
    for auth_id, auth in sim.nuki.auths.items():
        if auth["type"] != KEYPAD_CODE:
            continue
        yield LiveCode(
            NUKI,
            str(auth["smartlockId"]),
            auth_id,
            auth["name"],
            str(auth["code"]) if auth.get("code") is not None else None,
            _instant(auth.get("allowedFromDate")),
            _instant(auth.get("allowedUntilDate")),
        )


def _unifi(sim: Simulator) -> Iterator[LiveCode]:
    for visitor_id, visitor in sim.unifi.visitors.items():
        if visitor["_cancelled"]:
            continue
        for resource in visitor["resources"]:
            if resource.get("type") != "door":
                continue
            yield LiveCode(
                UNIFI,
                resource["id"],
                visitor_id,
                f"{visitor['first_name']} {visitor['last_name']}",
                sim.unifi.pins.get(visitor_id),
                datetime.fromtimestamp(visitor["start_time"], UTC),
                datetime.fromtimestamp(visitor["end_time"], UTC),
            )


def _remotelock(sim: Simulator) -> Iterator[LiveCode]:
    state = sim.remotelock
    for access in state.accesses.values():
        attributes = access["attributes"]
        person = state.access_persons.get(attributes["access_person_id"])
        if person is None or state.person_status(person) == "deactivated":
            continue
        if attributes["accessible_type"] not in LOCK_TYPES:
            continue
        zone = ZoneInfo(state.zone_of_device(attributes["accessible_id"]))
        details = person["attributes"]
        yield LiveCode(
            REMOTELOCK,
            attributes["accessible_id"],
            person["id"],
            details["name"],
            details.get("pin"),
            _local(details.get("starts_at"), zone),
            _local(details.get("ends_at"), zone),
        )


def _instant(text: str | None) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else datetime.max.replace(tzinfo=UTC)


def _local(text: str | None, zone: ZoneInfo) -> datetime:
    if not text:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)
