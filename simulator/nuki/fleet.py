"""The seeded Nuki account: a device per Nuki lock of the Kasify fleet, and three more Kasify lacks."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
import random

from simulator.clock import Clock
from simulator.kasify_state import KasifyState

from .records import (
    DOOR_CLOSED,
    DOOR_NONE,
    NUKI_GARAGE_ID,
    NUKI_OPENER_ID,
    NUKI_STORAGE_ID,
    NUKI_TOKEN,
    SERVER_OFFLINE,
    SERVER_OK,
    TRIGGER_APP,
    TRIGGER_AUTO_LOCK,
    TRIGGER_KEYPAD,
    TYPE_OPENER,
    TYPE_SMART_LOCK,
    TYPE_SMART_LOCK_3,
    nuki_time,
)
from .state import NukiState


def build_nuki_fleet(
    kasify: KasifyState,
    *,
    clock: Clock,
    seed: int = 1,
    token: str = NUKI_TOKEN,
    other_account: Collection[str] = (),
) -> NukiState:
    """The Nuki account behind the Kasify fleet's Nuki locks, plus three devices Kasify does not know.

    Kasify locks whose ids are in ``other_account`` belong to another Nuki account: this one lacks them.

    The first linked lock has a keypad (with the cleaners' code "Limpieza" and an app user), a door sensor
    (closed) and a short history in the log; a lock with ``battery_level`` below 20 in Kasify is battery
    critical; later linked locks are Smart Lock 3.0 or 5, some with a keypad.
    """
    state = NukiState(clock=clock, token=token, seed=seed)
    state.kasify = kasify
    rng = random.Random(f"nuki-fleet-{seed}")
    now = state.now()
    first = True
    for record in list(kasify.smart_locks.values()):
        nuki = record.get("nuki_smartlock") or {}
        nuki_id = str(nuki.get("nuki_smartlock_id") or "")
        if (
            record["vendor"] != "nuki"
            or record["id"] in other_account
            or not nuki_id.isdigit()
            or int(nuki_id) in state.locks
        ):
            continue
        prop = kasify.properties.get(record["property_id"], {})
        lock = state.add_lock(
            f"{prop.get('name', 'Nuki')} - {record['name']}",
            smartlock_id=int(nuki_id),
            type_=TYPE_SMART_LOCK_3 if first or rng.random() < 0.7 else 5,
            lock_state=record["lock_state"] if record["lock_state"] is not None else 255,
            door_state=DOOR_CLOSED if first else DOOR_NONE,
            battery_charge=record["battery_level"],
            battery_charging=record["battery_charging"],
            keypad=first or rng.random() < 0.5,
            server_state=SERVER_OFFLINE if record["offline"] else SERVER_OK,
            kasify_lock_id=record["id"],
        )
        if first:
            _seed_history(state, lock["smartlockId"], now)
        else:
            state.add_log(
                lock["smartlockId"], action=2, trigger=TRIGGER_AUTO_LOCK, date=now - timedelta(hours=5)
            )
        first = False
    state.add_lock(
        "Garaje",
        smartlock_id=NUKI_GARAGE_ID,
        type_=TYPE_SMART_LOCK,
        battery_charge=None,
        battery_charging=None,
        server_state=SERVER_OFFLINE,
    )
    state.add_lock("Portal edificio", smartlock_id=NUKI_OPENER_ID, type_=TYPE_OPENER, battery_charge=None)
    state.add_log(NUKI_OPENER_ID, action=3, date=now - timedelta(hours=2))
    state.add_lock("Trastero", smartlock_id=NUKI_STORAGE_ID, keypad=True, smart_hosting=False)
    state.add_log(NUKI_STORAGE_ID, action=1, date=now - timedelta(hours=4))
    return state


def _seed_history(state: NukiState, smartlock_id: int, now: datetime) -> None:
    cleaning = state.add_auth(smartlock_id, "Limpieza", code=345678)
    cleaning["creationDate"] = cleaning["updateDate"] = nuki_time(now - timedelta(days=30))
    state.add_auth(smartlock_id, "Propietario", type_=0)
    state.add_log(smartlock_id, action=2, trigger=TRIGGER_APP, date=now - timedelta(hours=6))
    state.add_log(
        smartlock_id,
        action=1,
        trigger=TRIGGER_KEYPAD,
        source=1,
        name="Limpieza",
        auth_id=cleaning["id"],
        date=now - timedelta(hours=3),
    )
    state.add_log(smartlock_id, action=240, trigger=0, name=None, date=now - timedelta(hours=3, minutes=-1))
    state.add_log(smartlock_id, action=241, trigger=0, name=None, date=now - timedelta(hours=2, minutes=50))
    state.add_log(
        smartlock_id, action=2, trigger=TRIGGER_AUTO_LOCK, date=now - timedelta(hours=2, minutes=45)
    )
    state.add_log(
        smartlock_id,
        action=1,
        trigger=TRIGGER_KEYPAD,
        state=224,
        source=1,
        name="",
        date=now - timedelta(hours=1),
    )
