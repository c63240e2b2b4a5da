"""The seeded controller: a door per UniFi lock of the Kasify fleet, and a garage door Kasify lacks."""

from __future__ import annotations

from typing import Final

from simulator.clock import Clock
from simulator.kasify_state import KasifyState

from .state import UNIFI_TOKEN, UnifiAccessState

UNIFI_GARAGE_DOOR_ID: Final = "5785e97b-6123-4596-ba49-b6e51164db9b"
"""The door that is not in Kasify: no hub, no door position sensor."""


def build_unifi_fleet(
    kasify: KasifyState, *, clock: Clock, seed: int = 1, token: str = UNIFI_TOKEN
) -> UnifiAccessState:
    """The controller behind the Kasify fleet's UniFi doors, plus :data:`UNIFI_GARAGE_DOOR_ID`.

    Linked doors have a hub and a door position sensor (closed); a Kasify ``lock_state`` 3 becomes a
    ``keep_unlock`` rule, an ``offline`` Kasify lock an offline hub.
    """
    state = UnifiAccessState(clock=clock, token=token, seed=seed)
    state.kasify = kasify
    for record in list(kasify.smart_locks.values()):
        unifi = record.get("unifi_smartlock") or {}
        door_id = unifi.get("door_id")
        if record["vendor"] != "unifi" or not door_id or door_id in state.doors:
            continue
        state.add_door(
            unifi.get("name") or record["name"],
            door_id=door_id,
            floor_id=unifi.get("floor_id"),
            relay="unlock" if record["lock_state"] == 3 else "lock",
            offline=bool(record["offline"]),
            kasify_lock_id=record["id"],
        )
    state.add_door("Garaje", door_id=UNIFI_GARAGE_DOOR_ID, is_bind_hub=False, position=None)
    return state
