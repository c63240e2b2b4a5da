"""The rules for visitor bodies (``POST /visitors``, ``PUT /visitors/{id}``), in the controller's order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from simulator.kasify_state import Json

from .errors import UnifiError

VISIT_REASONS: Final = frozenset({"Interview", "Business", "Cooperation", "Others"})


def new_visitor(body: Any, doors: Mapping[str, Json], new_id: Callable[[], str]) -> Json:
    """The stored record of a new visitor (``_cancelled`` beside the served fields); its id from ``new_id()``.

    Raises:
        UnifiError: ``CODE_PARAMS_INVALID`` for the first field that breaks a rule.
    """
    if not isinstance(body, dict):
        raise UnifiError("CODE_PARAMS_INVALID", "The body must be a JSON object")
    for key in ("first_name", "last_name"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            raise UnifiError("CODE_PARAMS_INVALID", f"{key} is required")
    times = [t for t in (body.get("start_time"), body.get("end_time")) if type(t) is int]
    if len(times) != 2:
        raise UnifiError("CODE_PARAMS_INVALID", "start_time and end_time are unix seconds")
    if times[1] <= times[0]:
        raise UnifiError("CODE_PARAMS_INVALID", "end_time must be after start_time")
    if body.get("visit_reason") not in VISIT_REASONS:
        raise UnifiError("CODE_PARAMS_INVALID", f"visit_reason must be one of {sorted(VISIT_REASONS)}")
    resources = _resources(body, doors)
    visitor_id = new_id()
    return {
        "id": visitor_id,
        "first_name": body["first_name"].strip(),
        "last_name": body["last_name"].strip(),
        "remarks": body.get("remarks") or "",
        "mobile_phone": body.get("mobile_phone") or "",
        "email": body.get("email") or "",
        "visitor_company": body.get("visitor_company") or "",
        "visit_reason": body["visit_reason"],
        "start_time": times[0],
        "end_time": times[1],
        "resources": resources,
        "nfc_cards": [],
        "schedule_id": "",
        "_cancelled": False,
    }


def _resources(body: Json, doors: Mapping[str, Json]) -> list[Json]:
    resources = []
    for index, item in enumerate(body.get("resources") or []):
        if not isinstance(item, dict) or item.get("type") not in ("door", "door_group"):
            raise UnifiError("CODE_PARAMS_INVALID", f"resources[{index}] must be a door or door_group")
        if item["type"] == "door" and item.get("id") not in doors:
            raise UnifiError("CODE_PARAMS_INVALID", f"resources[{index}].id is not a door")
        name = doors[item["id"]]["name"] if item["type"] == "door" else "Door group"
        resources.append({"id": item["id"], "name": name, "type": item["type"]})
    return resources


def visitor_changes(body: Any, record: Json) -> Json:
    """The fields a ``PUT /visitors/{id}`` body changes: every field optional, the end after the start.

    Raises:
        UnifiError: ``CODE_PARAMS_INVALID`` for a body that is not an object or times that break a rule.
    """
    if not isinstance(body, dict):
        raise UnifiError("CODE_PARAMS_INVALID", "The body must be a JSON object")
    times = {}
    for key in ("start_time", "end_time"):
        if key in body:
            if type(body[key]) is not int:
                raise UnifiError("CODE_PARAMS_INVALID", f"{key} must be unix seconds")
            times[key] = body[key]
    if times.get("end_time", record["end_time"]) <= times.get("start_time", record["start_time"]):
        raise UnifiError("CODE_PARAMS_INVALID", "end_time must be after start_time")
    changes: Json = {}
    for key in ("first_name", "last_name", "remarks"):
        if isinstance(body.get(key), str) and body[key].strip():
            changes[key] = body[key].strip()
    return {**changes, **times}
