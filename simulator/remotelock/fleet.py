"""The seeded RemoteLock account: a location per Kasify property, some locks and other devices, a history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import random
from typing import Final

from simulator.clock import parse_iso
from simulator.kasify_state import Json, KasifyState

from .records import DEFAULT_TIME_ZONE
from .state import RemoteLockState


@dataclass(frozen=True, slots=True)
class FleetProperty:
    """What the RemoteLock fleet needs of a Kasify property: its name, time zone and current guest."""

    name: str
    time_zone: str
    guest: tuple[str, datetime, datetime] | None = None


def fleet_from_kasify(kasify: KasifyState) -> list[FleetProperty]:
    """The Kasify fleet's properties, in order, with the guest in the house now (times in local wall time)."""
    fleet: list[FleetProperty] = []
    for property_id, prop in kasify.properties.items():
        zone = kasify.property_zone(property_id)
        booking = kasify.current_booking(property_id)
        guest = None
        if booking is not None:
            guest = (
                booking["guest_name"],
                parse_iso(booking["check_in"]).astimezone(zone),
                parse_iso(booking["check_out"]).astimezone(zone),
            )
        fleet.append(FleetProperty(prop["name"], str(zone.key), guest))
    return fleet


def build_remotelock_fleet(
    state: RemoteLockState, properties: Sequence[FleetProperty], *, now: datetime, locks: int | None = None
) -> None:
    """Seed ``state`` with one location per Kasify property (same name and zone) and some devices.

    - property 0: a ``lock`` "Puerta de servicio" (locked, battery 76) with its current guest as an access
      guest (PIN ``2468``, synced) and a past PIN unlock, access use and auto-lock in the events;
    - property 1: a ``zwave_lock`` "Trastero" (unlocked, battery 54) and a denied PIN attempt;
    - property 2: a ``lock`` "Garaje", offline (not connected, not alive) with battery 12 and a
      ``power_level_low`` event;
    - a location "Oficina Sol y Mar" that matches no property, with a ``lock`` "Oficina" and two non-lock
      devices (a ``thermostat`` and a ``resort_lock``) that a ``type[]=lock`` filter must leave out;
    - with ``locks`` (scale runs), that many locks in the properties' locations in all: the three above, then
      ``lock`` devices dealt round-robin from the fourth location on (then the first, ...), named after their
      location ("<location> - Garaje"), locked, with batteries of 20-100.
    """
    locations = [state.add_location(prop.name, time_zone=prop.time_zone) for prop in properties]
    plan: list[tuple[str, str, Json]] = [
        ("Puerta de servicio", "lock", {"state": "locked", "power_level": 76}),
        ("Trastero", "zwave_lock", {"state": "unlocked", "power_level": 54}),
        ("Garaje", "lock", {"state": "locked", "power_level": 12, "connected": False, "alive": False}),
    ]
    if locks is not None and locks < min(len(plan), len(locations)):
        raise ValueError(f"{locks} RemoteLock locks are fewer than the ones the fleet always has")
    planned = [
        state.add_lock(name, location["id"], device_type=kind, **attributes)
        for location, (name, kind, attributes) in zip(locations, plan, strict=False)
    ]
    if locks is not None:
        _deal_locks(state, locations, locks - len(planned))
    _add_office(state)
    if planned:
        _seed_front_door(state, planned[0]["id"], properties[0].guest, now)
    if len(planned) > 1:
        state.add_event(
            "access_denied",
            planned[1]["id"],
            method="pin",
            pin="0000",
            status="failed",
            source="user",
            occurred_at=now - timedelta(hours=3),
            created_at=now - timedelta(hours=3, seconds=-2),
        )
    if len(planned) > 2:
        state.add_event(
            "power_level_low",
            planned[2]["id"],
            power_level=12,
            occurred_at=now - timedelta(hours=26),
            created_at=now - timedelta(hours=2),
        )


_DEALT_NAMES: Final = ("Puerta de servicio", "Trastero", "Garaje", "Portal", "Entrada")


def _deal_locks(state: RemoteLockState, locations: Sequence[Json], count: int) -> None:
    """``count`` more locks over ``locations``, round-robin from the fourth one on."""
    if count and not locations:
        raise ValueError("RemoteLock locks need at least one property to go in")
    rng = random.Random(f"remotelock-deal-{len(locations)}-{count}")
    for position in range(count):
        location = locations[(position + 3) % len(locations)]
        name = f"{location['attributes']['name']} - {rng.choice(_DEALT_NAMES)}"
        state.add_lock(name, location["id"], state="locked", power_level=rng.randint(20, 100))


def _add_office(state: RemoteLockState) -> None:
    """The office location that matches no property, its lock and two devices that are no locks."""
    office = state.add_location(
        "Oficina Sol y Mar",
        time_zone=DEFAULT_TIME_ZONE,
        address="Calle Mayor, 1",
        city="Madrid",
        country="ES",
    )
    state.add_lock("Oficina", office["id"], state="locked", power_level=90)
    state.add_device(
        "thermostat",
        office["id"],
        name="Termostato oficina",
        connected=True,
        alive=True,
        temperature=21.5,
        unit="C",
        power_source="hardwire",
    )
    state.add_device("resort_lock", office["id"], name="RL-4000 Buzón", serial_number="91K6C7OO0B4FBE01")


def _seed_front_door(
    state: RemoteLockState, front: str, guest: tuple[str, datetime, datetime] | None, now: datetime
) -> None:
    """The current guest's access to the first lock, their PIN unlock five hours ago and the auto-lock."""
    if guest is not None:
        name, check_in, check_out = guest
        person = state.add_access_person(
            "access_guest", name, pin="2468", starts_at=check_in, ends_at=check_out
        )
        state.grant(person["id"], front, synced=True)
        for kind in ("access_person_used", "unlocked"):
            state.add_event(
                kind,
                front,
                access_person_id=person["id"],
                method="pin",
                pin="2468",
                source="user",
                occurred_at=now - timedelta(hours=5),
                created_at=now - timedelta(hours=5, seconds=-2),
            )
    state.add_event(
        "locked",
        front,
        source="device",
        occurred_at=now - timedelta(hours=5, seconds=-20),
        created_at=now - timedelta(hours=5, seconds=-22),
    )
