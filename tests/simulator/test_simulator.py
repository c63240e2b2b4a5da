"""The simulator over real loopback HTTP: auth, pagination, validation, state machines, faults, the log."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
import itertools
import time

import aiohttp
import pytest

from simulator import Simulator, SimulatorConfig
from simulator.clock import iso, parse_iso
from simulator.errors import NotFoundError

from .conftest import SIM_NOW, TOKEN, Http

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def _at(value: str) -> datetime:
    return parse_iso(value)


# -- serving, auth, errors -------------------------------------------------------------------------------


async def test_serve_gives_loopback_urls(sim: Simulator) -> None:
    assert sim.base_url is not None
    assert sim.base_url.startswith("http://127.0.0.1:")
    assert sim.kasify_url == sim.base_url + "/kasify/v1"


async def test_not_serving_has_no_url() -> None:
    sim = Simulator(SimulatorConfig(properties=1, now=SIM_NOW))
    with pytest.raises(RuntimeError):
        _ = sim.kasify_url


@pytest.mark.parametrize(
    ("token", "message"),
    [(None, "Missing bearer token"), ("wrong-token", "Invalid or expired token")],
)
async def test_auth_required(http: Http, token: str | None, message: str) -> None:
    reply = await http.get("/properties", token=token)
    assert reply.status == 401
    assert reply.body == {"error": "unauthorized", "message": message}
    assert reply.headers["WWW-Authenticate"] == "Bearer"


async def test_auth_ok_and_token_rotation(http: Http, sim: Simulator) -> None:
    assert (await http.get("/account")).status == 200
    sim.kasify.token = "rotated"
    assert (await http.get("/account")).status == 401
    assert (await http.get("/account", token="rotated")).status == 200


async def test_account(http: Http, sim: Simulator) -> None:
    reply = await http.get("/account")
    assert reply.status == 200
    assert set(reply.body) == {"id", "name", "email", "language", "timezone"}
    assert reply.body["id"] == sim.kasify.account["id"]


async def test_unknown_ids_and_paths_are_404_in_the_error_shape(http: Http) -> None:
    for path in ("/properties/nope", "/bookings/nope", "/tasks/nope", "/properties/nope/smartlocks", "/x"):
        reply = await http.get(path)
        assert reply.status == 404, path
        assert reply.body["error"] == "not_found"
        assert isinstance(reply.body["message"], str)


async def test_wrong_method_is_405_json(http: Http) -> None:
    reply = await http.call("DELETE", "/account")
    assert reply.status == 405
    assert reply.body["error"] == "method_not_allowed"


async def test_invalid_json_body_is_400(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.property_at(0)
    assert sim.base_url is not None
    async with http.session.post(
        f"{sim.kasify_url}/properties/{prop['id']}/bookings",
        data=b"{nope",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "bad_request"


# -- pagination ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sim_config", [SimulatorConfig(properties=150, now=SIM_NOW)])
async def test_properties_pagination(http: Http, sim: Simulator) -> None:
    first = await http.get("/properties", params={"page": 0, "size": 100})
    second = await http.get("/properties", params={"page": 1, "size": 100})
    beyond = await http.get("/properties", params={"page": 2, "size": 100})
    assert (first.body["page"], first.body["size"], first.body["total"]) == (0, 100, 150)
    assert (second.body["page"], second.body["size"], second.body["total"]) == (1, 100, 150)
    assert len(first.body["properties"]) == 100
    assert len(second.body["properties"]) == 50
    assert beyond.body["properties"] == []
    ids = [p["id"] for p in first.body["properties"] + second.body["properties"]]
    assert ids == list(sim.kasify.properties)

    default = await http.get("/properties")
    assert (default.body["page"], default.body["size"], len(default.body["properties"])) == (0, 20, 20)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"size": 101}, "size"),
        ({"size": 0}, "size"),
        ({"size": "ten"}, "size"),
        ({"page": -1}, "page"),
    ],
)
async def test_bad_page_params_are_422(http: Http, params: dict[str, str | int], field: str) -> None:
    for path in ("/properties", "/bookings", "/tasks", "/timeline/activity"):
        reply = await http.get(path, params=params)
        assert reply.status == 422, path
        assert reply.body["error"] == "validation_failed"
        assert field in reply.body["fields"]


# -- bookings --------------------------------------------------------------------------------------------


async def test_bookings_window_and_order(http: Http, sim: Simulator) -> None:
    start, end = SIM_NOW - timedelta(days=2), SIM_NOW + timedelta(days=10)
    reply = await http.get("/bookings", params={"from": iso(start), "to": iso(end), "size": 100})
    assert reply.status == 200
    bookings = reply.body["bookings"]
    assert reply.body["total"] == len(bookings) > 0
    assert [_at(b["check_in"]) for b in bookings] == sorted(_at(b["check_in"]) for b in bookings)
    assert all(_at(b["check_in"]) < end and _at(b["check_out"]) > start for b in bookings)
    expected = {
        b["id"]
        for b in sim.kasify.bookings.values()
        if _at(b["check_in"]) < end and _at(b["check_out"]) > start
    }
    assert {b["id"] for b in bookings} == expected
    assert {b["property_id"] for b in bookings} == set(sim.kasify.properties)


async def test_bookings_accept_offsets_in_query(http: Http) -> None:
    reply = await http.get(
        "/bookings", params={"from": "2026-03-14T13:00:00+01:00", "to": "2026-03-15T00:00:00+00:00"}
    )
    assert reply.status == 200
    bad = await http.get("/bookings", params={"from": "yesterday"})
    assert bad.status == 422
    assert "from" in bad.body["fields"]


async def test_property_bookings_and_current(http: Http, sim: Simulator) -> None:
    occupied, empty = sim.kasify.property_at(0), sim.kasify.property_at(1)
    listing = await http.get(f"/properties/{occupied['id']}/bookings", params={"size": 100})
    assert listing.status == 200
    assert {b["property_id"] for b in listing.body["bookings"]} == {occupied["id"]}

    current = await http.get(f"/properties/{occupied['id']}/bookings/current")
    assert current.status == 200
    assert _at(current.body["check_in"]) <= SIM_NOW < _at(current.body["check_out"])
    assert current.body["status"] == "confirmed"

    none = await http.get(f"/properties/{empty['id']}/bookings/current")
    assert none.status == 404
    assert none.body["error"] == "not_found"


async def test_create_booking_201_409_422(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.add_property("Casa Vacía")
    path = f"/properties/{prop['id']}/bookings"
    body = {
        "guest_name": "Ana García",
        "check_in": "2026-04-01T14:00:00Z",
        "check_out": "2026-04-04T09:00:00Z",
        "guests_count": 2,
        "channel": "direct",
    }
    created = await http.post(path, body)
    assert created.status == 201
    assert created.body["status"] == "confirmed"
    assert created.body["registered_guests"] == 0
    assert created.body["check_in"] == "2026-04-01T14:00:00Z"
    assert sim.kasify.bookings[created.body["id"]] == created.body

    clash = await http.post(
        path, {**body, "check_in": "2026-04-03T14:00:00Z", "check_out": "2026-04-05T09:00:00Z"}
    )
    assert clash.status == 409
    assert clash.body["error"] == "conflict"

    back_to_back = await http.post(
        path, {**body, "check_in": "2026-04-04T14:00:00Z", "check_out": "2026-04-06T09:00:00Z"}
    )
    assert back_to_back.status == 201

    reversed_dates = await http.post(
        path, {**body, "check_in": "2026-05-04T14:00:00Z", "check_out": "2026-05-01T09:00:00Z"}
    )
    assert reversed_dates.status == 422
    assert reversed_dates.body["error"] == "validation_failed"
    assert reversed_dates.body["fields"] == {"check_out": ["must be after check_in"]}

    missing = await http.post(path, {"check_in": "2026-06-01T14:00:00Z"})
    assert missing.status == 422
    assert set(missing.body["fields"]) == {"guest_name", "check_out"}

    naive = await http.post(
        path, {**body, "check_in": "2026-07-01T14:00:00", "check_out": "2026-07-03T09:00:00Z"}
    )
    assert naive.status == 422
    assert "check_in" in naive.body["fields"]

    unknown = await http.post(
        path, {**body, "id": "mine", "check_in": "2026-08-01T14:00:00Z", "check_out": "2026-08-03T09:00:00Z"}
    )
    assert unknown.status == 422
    assert "id" in unknown.body["fields"]

    assert (await http.post("/properties/nope/bookings", body)).status == 404


async def test_cancelled_booking_does_not_block(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.add_property("Casa Cancelada")
    booking = sim.kasify.add_booking(prop["id"], "Old", "2026-04-01T14:00:00Z", "2026-04-03T09:00:00Z")
    sim.kasify.cancel_booking(booking["id"])
    reply = await http.post(
        f"/properties/{prop['id']}/bookings",
        {"guest_name": "New", "check_in": "2026-04-01T14:00:00Z", "check_out": "2026-04-03T09:00:00Z"},
    )
    assert reply.status == 201


async def test_patch_booking(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.add_property("Casa Patch")
    first = sim.kasify.add_booking(prop["id"], "A", "2026-04-01T14:00:00Z", "2026-04-03T09:00:00Z")
    second = sim.kasify.add_booking(prop["id"], "B", "2026-04-05T14:00:00Z", "2026-04-07T09:00:00Z")

    moved = await http.call(
        "PATCH", f"/bookings/{second['id']}", json_body={"check_in": "2026-04-04T14:00:00Z", "notes": "hola"}
    )
    assert moved.status == 200
    assert moved.body["check_in"] == "2026-04-04T14:00:00Z"
    assert moved.body["notes"] == "hola"

    clash = await http.call(
        "PATCH", f"/bookings/{second['id']}", json_body={"check_in": "2026-04-02T14:00:00Z"}
    )
    assert clash.status == 409

    bad = await http.call(
        "PATCH", f"/bookings/{first['id']}", json_body={"status": "gone", "guest_name": None}
    )
    assert bad.status == 422
    assert set(bad.body["fields"]) == {"status", "guest_name"}

    cancelled = await http.call("PATCH", f"/bookings/{first['id']}", json_body={"status": "cancelled"})
    assert cancelled.body["status"] == "cancelled"
    assert (await http.get(f"/bookings/{first['id']}")).body["status"] == "cancelled"


# -- check-in and access codes ---------------------------------------------------------------------------


async def test_checkin_and_guest_registration(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.property_at(0)
    booking = sim.kasify.add_booking(
        prop["id"], "Eva", "2027-01-01T14:00:00Z", "2027-01-03T10:00:00Z", guests_count=2
    )
    snapshot = await http.get(f"/bookings/{booking['id']}/checkin")
    assert snapshot.body == {
        "booking_id": booking["id"],
        "status": "pending",
        "guests_expected": 2,
        "guests": [],
    }

    guest = await http.post(
        f"/bookings/{booking['id']}/checkin/guests",
        {"first_name": "Eva", "last_name": "Luna", "nationality": "ES"},
    )
    assert guest.status == 201
    assert {"id", "first_name", "last_name", "nationality", "registered_at"} <= set(guest.body)
    assert (await http.get(f"/bookings/{booking['id']}/checkin")).body["status"] == "partial"
    await http.post(f"/bookings/{booking['id']}/checkin/guests", {"first_name": "Max"})
    assert (await http.get(f"/bookings/{booking['id']}/checkin")).body["status"] == "complete"
    assert (await http.get(f"/bookings/{booking['id']}")).body["registered_guests"] == 2

    missing = await http.post(f"/bookings/{booking['id']}/checkin/guests", {"last_name": "X"})
    assert missing.status == 422
    assert "first_name" in missing.body["fields"]


async def test_access_codes(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.property_at(0)
    lock_id = prop["smart_locks"][0]["id"]
    booking = sim.kasify.add_booking(prop["id"], "Eva", "2027-01-01T14:00:00Z", "2027-01-03T10:00:00Z")
    path = f"/bookings/{booking['id']}/access-codes"

    created = await http.post(path, {"smartlock_ids": [lock_id], "code": "123456"})
    assert created.status == 201
    (code,) = created.body["access_codes"]
    assert code["smartlock_id"] == lock_id
    assert code["code"] == "123456"
    assert (code["starts_at"], code["ends_at"]) == (booking["check_in"], booking["check_out"])
    assert code["status"] == "scheduled"

    everything = await http.post(path, {})
    assert [c["smartlock_id"] for c in everything.body["access_codes"]] == [lock_id]

    foreign = sim.kasify.property_at(1)["smart_locks"][0]["id"]
    bad = await http.post(path, {"smartlock_ids": [foreign], "code": "12"})
    assert bad.status == 422
    assert set(bad.body["fields"]) == {"smartlock_ids", "code"}

    assert (await http.call("DELETE", f"{path}/{code['id']}")).status == 204
    assert sim.kasify.access_codes[code["id"]]["status"] == "revoked"
    assert (await http.call("DELETE", f"{path}/{code['id']}")).status == 404


# -- tasks -----------------------------------------------------------------------------------------------


async def test_task_lifecycle(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.property_at(0)
    created = await http.post(
        "/tasks",
        {
            "property_id": prop["id"],
            "title": "Fix tap",
            "task_type": "maintenance",
            "due_at": "2026-03-15T10:00:00Z",
        },
    )
    assert created.status == 201
    task_id = created.body["id"]
    assert created.body["status"] == "pending"

    started = await http.post(f"/tasks/{task_id}/start")
    assert started.status == 200
    assert started.body["status"] == "in_progress"
    assert started.body["started_at"] is not None

    again = await http.post(f"/tasks/{task_id}/start")
    assert again.status == 409
    assert again.body["error"] == "conflict"

    done = await http.post(f"/tasks/{task_id}/complete")
    assert done.status == 200
    assert done.body["status"] == "completed"
    assert done.body["completed_at"] == iso(SIM_NOW)

    assert (await http.post(f"/tasks/{task_id}/complete")).status == 409
    assert (await http.post(f"/tasks/{task_id}/start")).status == 409

    patched = await http.call(
        "PATCH", f"/tasks/{task_id}", json_body={"title": "Fixed tap", "status": "pending"}
    )
    assert patched.body["title"] == "Fixed tap"
    assert patched.body["completed_at"] is None
    assert (await http.post(f"/tasks/{task_id}/complete")).status == 200

    assert (await http.call("DELETE", f"/tasks/{task_id}")).status == 204
    assert (await http.get(f"/tasks/{task_id}")).status == 404


async def test_pending_task_can_be_completed_directly(http: Http, sim: Simulator) -> None:
    task = sim.kasify.add_task(sim.kasify.property_at(0)["id"], "Quick")
    reply = await http.post(f"/tasks/{task['id']}/complete")
    assert reply.status == 200
    assert reply.body["status"] == "completed"


async def test_task_validation(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.property_at(0)
    missing = await http.post("/tasks", {"property_id": prop["id"]})
    assert missing.status == 422
    assert "title" in missing.body["fields"]
    bad_type = await http.post("/tasks", {"property_id": prop["id"], "title": "X", "task_type": "party"})
    assert bad_type.status == 422
    assert "task_type" in bad_type.body["fields"]
    no_property = await http.post("/tasks", {"property_id": "nope", "title": "X"})
    assert no_property.status == 422
    assert "property_id" in no_property.body["fields"]


async def test_task_status_filters(http: Http, sim: Simulator) -> None:
    tasks = sim.kasify.tasks.values()
    for status, expected in (
        ("open", {t["id"] for t in tasks if t["status"] in ("pending", "in_progress")}),
        ("pending", {t["id"] for t in tasks if t["status"] == "pending"}),
        ("completed", {t["id"] for t in tasks if t["status"] == "completed"}),
        ("", {t["id"] for t in tasks}),
    ):
        reply = await http.get("/tasks", params={"status": status, "size": 100})
        assert reply.status == 200
        assert {t["id"] for t in reply.body["tasks"]} == expected, status
        assert reply.body["total"] == len(expected)
    prop = sim.kasify.property_at(0)
    mine = await http.get(f"/properties/{prop['id']}/tasks", params={"status": "open"})
    assert {t["property_id"] for t in mine.body["tasks"]} == {prop["id"]}
    assert (await http.get("/tasks", params={"status": "done"})).status == 422


async def test_completed_since_and_the_answers_kasify_leaves_open(http: Http, sim: Simulator) -> None:
    """``completed_since`` keeps the tasks completed at or after it; the knobs make the listing ignore it and
    a PATCH ignore fields (also through ``PATCH /_sim/kasify/tasks``)."""
    prop = sim.kasify.property_at(0)
    recent = sim.kasify.add_task(
        prop["id"], "Recent", status="completed", completed_at=SIM_NOW - timedelta(days=1)
    )
    old = sim.kasify.add_task(
        prop["id"], "Old", status="completed", completed_at=SIM_NOW - timedelta(days=30)
    )
    params: dict[str, str | int] = {
        "status": "completed",
        "completed_since": iso(SIM_NOW - timedelta(days=7)),
    }
    listed = {t["id"] for t in (await http.get("/tasks", params=params)).body["tasks"]}
    assert recent["id"] in listed
    assert old["id"] not in listed
    assert (await http.get("/tasks", params={"completed_since": "yesterday"})).status == 422

    control = await http.call(
        "PATCH",
        "/_sim/kasify/tasks",
        json_body={"ignore_completed_since": True, "patch_ignores": ["title"]},
        raw_url=True,
    )
    assert control.body == {"ignore_completed_since": True, "patch_ignores": ["title"]}
    listed = {t["id"] for t in (await http.get("/tasks", params=params)).body["tasks"]}
    assert old["id"] in listed
    patched = await http.call(
        "PATCH", f"/tasks/{recent['id']}", json_body={"title": "New", "description": "D"}
    )
    assert (patched.status, patched.body["title"], patched.body["description"]) == (200, "Recent", "D")
    refused = await http.call(
        "PATCH", "/_sim/kasify/tasks", json_body={"patch_ignores": ["status_x"]}, raw_url=True
    )
    assert refused.status == 422
    assert sim.kasify.patch_ignores == frozenset({"title"})


# -- properties and smart locks --------------------------------------------------------------------------


async def test_property_crud(http: Http, sim: Simulator) -> None:
    cleaner = sim.kasify.property_at(0)["default_cleaner"]
    body = {
        "name": "Casa Nueva",
        "address": "Calle Feria, 3",
        "city": "Sevilla",
        "zip_code": "41003",
        "default_cleaner_id": cleaner["id"],
        "airbnb_ical_url": "https://www.airbnb.es/calendar/ical/1.ics",
        "rooms_count": 2,
    }
    created = await http.post("/properties", body)
    assert created.status == 201
    prop = created.body
    assert prop["default_cleaner"]["id"] == cleaner["id"]
    assert [c["channel"] for c in prop["calendars"]] == ["airbnb"]
    assert prop["smart_locks"] == []
    assert prop["country"] == "ES"

    updated = await http.call(
        "PUT",
        f"/properties/{prop['id']}",
        json_body={**body, "name": "Casa Renovada", "airbnb_ical_url": None},
    )
    assert updated.status == 200
    assert updated.body["name"] == "Casa Renovada"
    assert updated.body["calendars"] == []

    invalid = await http.post("/properties", {"name": "X"})
    assert invalid.status == 422
    assert set(invalid.body["fields"]) == {"address", "city", "zip_code"}

    assert (await http.call("DELETE", f"/properties/{prop['id']}")).status == 204
    assert (await http.get(f"/properties/{prop['id']}")).status == 404


async def test_smartlocks_add_remove_keep_property_in_sync(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.add_property("Casa Cerradura")
    path = f"/properties/{prop['id']}/smartlocks"
    assert (await http.get(path)).body == []

    nuki = await http.post(
        path,
        {
            "name": "Puerta",
            "nuki_smartlock_id": "18043712356",
            "nuki_integration_id": "00000000-0000-0000-0000-000000000001",
        },
    )
    assert nuki.status == 201
    assert nuki.body["vendor"] == "nuki"
    assert nuki.body["nuki_smartlock"]["nuki_smartlock_id"] == "18043712356"
    unifi = await http.post(path, {"name": "Portal", "unifi_floor_id": "f1", "unifi_door_id": "d1"})
    assert unifi.status == 201
    assert unifi.body["battery_level"] is None
    assert unifi.body["unifi_smartlock"]["assigned_property"]["property_id"] == prop["id"]

    duplicate = await http.post(path, {"name": "Otra", "unifi_floor_id": "f1", "unifi_door_id": "d1"})
    assert duplicate.status == 409
    neither = await http.post(path, {"name": "Nada"})
    assert neither.status == 422

    listed = (await http.get(path)).body
    embedded = (await http.get(f"/properties/{prop['id']}")).body["smart_locks"]
    assert embedded == [{"id": lock["id"], "vendor": lock["vendor"], "name": lock["name"]} for lock in listed]

    assert (await http.call("DELETE", f"{path}/{nuki.body['id']}")).status == 204
    embedded = (await http.get(f"/properties/{prop['id']}")).body["smart_locks"]
    assert [lock["id"] for lock in embedded] == [unifi.body["id"]]
    other = sim.kasify.property_at(0)["id"]
    assert (await http.call("DELETE", f"/properties/{other}/smartlocks/{unifi.body['id']}")).status == 404


async def test_set_lock_is_served_live(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.property_at(0)
    lock_id = prop["smart_locks"][0]["id"]
    sim.kasify.set_lock(lock_id, lock_state=3, battery_level=None, offline=True)
    (lock,) = (await http.get(f"/properties/{prop['id']}/smartlocks")).body
    assert (lock["lock_state"], lock["battery_level"], lock["offline"]) == (3, None, True)
    assert lock["battery_charging"] is False


# -- calendar and timeline -------------------------------------------------------------------------------


async def test_calendar(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.property_at(2)
    start, end = SIM_NOW - timedelta(days=70), SIM_NOW + timedelta(days=130)
    reply = await http.get(f"/properties/{prop['id']}/calendar", params={"from": iso(start), "to": iso(end)})
    events = reply.body["events"]
    kinds = {e["kind"] for e in events}
    assert "booking" in kinds
    booked = {e["booking_id"] for e in events if e["kind"] == "booking"}
    live = {
        b["id"]
        for b in sim.kasify.bookings.values()
        if b["property_id"] == prop["id"] and b["status"] != "cancelled"
    }
    assert booked == live
    assert all(e["property_id"] == prop["id"] for e in events)
    blocked = [e for e in events if e["kind"] == "blocked"]
    assert all(e["booking_id"] is None for e in blocked)

    upcoming = await http.get("/calendar/upcoming", params={"days": 7})
    assert upcoming.status == 200
    window_end = SIM_NOW + timedelta(days=7)
    assert all(_at(e["start"]) < window_end and _at(e["end"]) > SIM_NOW for e in upcoming.body["events"])
    assert {e["property_id"] for e in upcoming.body["events"]} == set(sim.kasify.properties)


async def test_any_fleet_has_blocked_events() -> None:
    sim = Simulator(SimulatorConfig(properties=20, now=SIM_NOW))
    assert sim.kasify.blocks
    assert {b["kind"] for b in sim.kasify.blocks.values()} == {"blocked"}


async def test_timeline(http: Http, sim: Simulator) -> None:
    upcoming = await http.get("/timeline/upcoming", params={"days": 3})
    assert upcoming.status == 200
    days = upcoming.body["days"]
    assert [d["date"] for d in days] == sorted(d["date"] for d in days)
    items = [item for day in days for item in day["items"]]
    assert items
    assert all(SIM_NOW <= _at(i["at"]) < SIM_NOW + timedelta(days=3) for i in items)
    assert {i["kind"] for i in items} <= {"check_in", "check_out", "task"}

    first = await http.get("/timeline/activity", params={"page": 0, "size": 5})
    assert (first.body["page"], first.body["size"]) == (0, 5)
    assert len(first.body["items"]) == 5
    assert first.body["total"] > 5
    stamps = [_at(i["at"]) for i in first.body["items"]]
    assert stamps == sorted(stamps, reverse=True)
    assert all(stamp <= SIM_NOW for stamp in stamps)


# -- faults ----------------------------------------------------------------------------------------------


async def test_fault_html_503_once_then_recovery(http: Http, sim: Simulator) -> None:
    fault = sim.faults.inject(
        "/kasify/", status=503, body="<html><body>Service Unavailable</body></html>", times=1
    )
    failed = await http.get("/properties")
    assert failed.status == 503
    assert failed.text.startswith("<html>")
    assert failed.headers["Content-Type"].startswith("text/html")
    assert fault.hits == 1
    assert len(sim.faults) == 0
    assert (await http.get("/properties")).status == 200


async def test_fault_default_body_uses_the_error_shape(http: Http, sim: Simulator) -> None:
    sim.faults.inject("/kasify/v1/tasks", status=500)
    reply = await http.get("/tasks")
    assert reply.status == 500
    assert reply.body == {"error": "internal_error", "message": "Injected fault: HTTP 500"}
    assert (await http.get("/properties")).status == 200  # other paths unaffected
    sim.faults.clear()
    assert (await http.get("/tasks")).status == 200


async def test_fault_echoing_the_request(http: Http, sim: Simulator) -> None:
    """An echo fault answers with the vendor's error body repeating the request, credentials and body
    included; the request log keeps the headers as received."""
    sim.faults.inject("/kasify/v1/tasks", method="POST", echo=True, times=1)
    reply = await http.post("/tasks", {"title": "Boiler", "notes": "PIN 583921"})
    assert reply.status == 500
    assert reply.body["error"] == "internal_error"
    message = reply.body["message"]
    assert message.startswith("Injected fault: HTTP 500 for POST /kasify/v1/tasks\n")
    assert f"Authorization: Bearer {TOKEN}" in message
    assert '"notes": "PIN 583921"' in message
    sim.faults.inject("/kasify/", echo=True, status=429, times=1)
    assert (
        (await http.get("/account", params={"q": "x"}))
        .body["message"]
        .startswith("Injected fault: HTTP 429 for GET /kasify/v1/account?q=x\n")
    )
    (logged,) = sim.requests_for("/kasify/v1/tasks", "POST")
    assert logged.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_fault_429_has_retry_after(http: Http, sim: Simulator) -> None:
    sim.faults.inject("/kasify/", status=429, times=1)
    reply = await http.get("/account")
    assert reply.status == 429
    assert reply.headers["Retry-After"] == "1"
    assert reply.body["error"] == "rate_limited"


async def test_fault_malformed_body(http: Http, sim: Simulator) -> None:
    sim.faults.inject("/kasify/v1/properties", status=200, body=b"{not json")
    reply = await http.get("/properties")
    assert reply.status == 200
    assert reply.text == "{not json"


async def test_fault_method_filter(http: Http, sim: Simulator) -> None:
    sim.faults.inject("/kasify/", method="post", status=503)
    assert (await http.get("/tasks")).status == 200
    assert (await http.post("/tasks", {"title": "x"})).status == 503


async def test_fault_delay_then_normal_answer(http: Http, sim: Simulator) -> None:
    sim.faults.inject("/kasify/", delay=0.3, times=1)
    started = time.monotonic()
    reply = await http.get("/account")
    assert reply.status == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await http.get("/account")
    assert time.monotonic() - started < 0.3


async def test_fault_delay_past_client_timeout(http: Http, sim: Simulator) -> None:
    sim.faults.inject("/kasify/", delay=30, times=1)
    with pytest.raises(TimeoutError):
        await http.get("/account", timeout_s=0.2)
    assert len(sim.requests) == 1
    for _ in range(50):  # the server notices the client left
        if sim.requests[0].status is not None:
            break
        await asyncio.sleep(0.02)
    assert sim.requests[0].status == 499


async def test_fault_disconnect(http: Http, sim: Simulator) -> None:
    sim.faults.inject("/kasify/", disconnect=True)
    with pytest.raises(aiohttp.ClientConnectionError):
        await http.get("/account")
    assert {r.status for r in sim.requests} == {0}


async def test_fault_applied_then_failed(http: Http, sim: Simulator) -> None:
    """An ambiguous answer: the API takes the change, the client sees an error, a drop or no answer."""
    prop = sim.kasify.property_at(0)["id"]
    before = set(sim.kasify.tasks)
    sim.faults.inject("/kasify/v1/tasks", method="POST", status=502, apply=True, times=1)
    reply = await http.post("/tasks", {"property_id": prop, "title": "Check the boiler"})
    assert reply.status == 502
    assert reply.body == {"error": "bad_gateway", "message": "Injected fault: HTTP 502"}
    (created,) = set(sim.kasify.tasks) - before
    assert sim.kasify.tasks[created]["title"] == "Check the boiler"

    sim.faults.inject("/kasify/v1/tasks", method="POST", disconnect=True, apply=True, times=1)
    with pytest.raises(aiohttp.ClientConnectionError):  # a POST is not sent again by aiohttp
        await http.post("/tasks", {"property_id": prop, "title": "Fix the tap"})
    assert [t["title"] for t in sim.kasify.tasks.values()].count("Fix the tap") == 1

    sim.faults.inject("/kasify/v1/tasks", method="POST", delay=30, apply=True, times=1)
    with pytest.raises(TimeoutError):
        await http.post("/tasks", {"property_id": prop, "title": "Paint the door"}, timeout_s=0.2)
    assert [t["title"] for t in sim.kasify.tasks.values()].count("Paint the door") == 1
    # Without ``apply`` a fault that answers never reaches the API.
    sim.faults.inject("/kasify/v1/tasks", method="POST", status=502, times=1)
    assert (await http.post("/tasks", {"property_id": prop, "title": "Not made"})).status == 502
    assert "Not made" not in [t["title"] for t in sim.kasify.tasks.values()]


async def test_fault_applied_answers_with_the_apis_refusal_replaced(http: Http, sim: Simulator) -> None:
    """The API refusing the request (here: a task without a title) still gets the fault's answer."""
    sim.faults.inject("/kasify/v1/tasks", method="POST", status=504, apply=True, times=1)
    reply = await http.post("/tasks", {"property_id": sim.kasify.property_at(0)["id"]})
    assert reply.status == 504


async def test_latency(socket_enabled: None) -> None:
    sim = Simulator(SimulatorConfig(properties=1, now=SIM_NOW, latency=0.2))
    async with sim.serve(), aiohttp.ClientSession() as session:
        started = time.monotonic()
        async with session.get(
            sim.kasify_url + "/account", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as resp:
            assert resp.status == 200
        assert time.monotonic() - started >= 0.2


async def test_stop_releases_delayed_requests(socket_enabled: None) -> None:
    sim = Simulator(SimulatorConfig(properties=1, now=SIM_NOW))
    sim.faults.inject("/kasify/", delay=60)
    started = time.monotonic()

    async def fetch(session: aiohttp.ClientSession, url: str) -> int:
        async with session.get(url) as resp:
            return resp.status

    async with aiohttp.ClientSession() as session:
        async with sim.serve():
            request = asyncio.ensure_future(fetch(session, sim.kasify_url + "/account"))
            await asyncio.sleep(0.2)
        with contextlib.suppress(aiohttp.ClientError):
            await request
    assert time.monotonic() - started < 10
    assert sim.requests[0].fault_id is not None


# -- request log -----------------------------------------------------------------------------------------


async def test_request_log(http: Http, sim: Simulator) -> None:
    prop = sim.kasify.property_at(0)
    await http.get("/properties", params={"page": 0, "size": 100})
    await http.get(f"/properties/{prop['id']}/smartlocks")
    sim.faults.inject("/kasify/v1/tasks", status=502, times=1)
    await http.get("/tasks", params={"status": "open"})
    await http.post("/tasks", {"property_id": prop["id"], "title": "Log me"})
    await http.get("/_sim/state", raw_url=True)  # control calls are not recorded

    assert [(r.method, r.path, r.status) for r in sim.requests] == [
        ("GET", "/kasify/v1/properties", 200),
        ("GET", f"/kasify/v1/properties/{prop['id']}/smartlocks", 200),
        ("GET", "/kasify/v1/tasks", 502),
        ("POST", "/kasify/v1/tasks", 201),
    ]
    assert sim.requests[0].query == {"page": "0", "size": "100"}
    assert sim.requests[2].fault_id is not None
    assert sim.requests[3].body == {"property_id": prop["id"], "title": "Log me"}
    assert sim.count_requests("/kasify/v1/tasks") == 2
    assert sim.count_requests("/kasify/v1/tasks", "post") == 1
    sim.reset_requests()
    assert sim.requests == []


# -- control endpoints -----------------------------------------------------------------------------------


async def test_control_endpoints(http: Http, sim: Simulator) -> None:
    state = await http.get("/_sim/state", raw_url=True, token=None)
    assert state.status == 200
    assert state.body["vendors"]["kasify"]["properties"] == 3
    assert state.body["vendors"]["kasify"]["prefix"] == "/kasify/v1"
    assert state.body["now"] == iso(SIM_NOW)

    added = await http.post(
        "/_sim/faults",
        {"path": "/kasify/", "status": 503, "body": "<html>down</html>", "times": 1},
        raw_url=True,
        token=None,
    )
    assert added.status == 201
    assert (await http.get("/account")).status == 503
    assert (await http.get("/account")).status == 200

    applied = await http.post(
        "/_sim/faults",
        {"path": "/kasify/v1/account", "status": 502, "apply": True, "times": 1},
        raw_url=True,
        token=None,
    )
    assert applied.body["apply"] is True
    assert (await http.get("/account")).status == 502

    await http.post("/_sim/faults", {"path": "/kasify/", "status": 500}, raw_url=True, token=None)
    assert len((await http.get("/_sim/faults", raw_url=True)).body["faults"]) == 1
    assert (await http.call("DELETE", "/_sim/faults", raw_url=True)).status == 204
    assert (await http.get("/account")).status == 200

    bad = await http.post("/_sim/faults", {"status": 503}, raw_url=True)
    assert bad.status == 422

    log = await http.get("/_sim/requests", raw_url=True)
    assert [r["status"] for r in log.body["requests"]] == [503, 200, 502, 200]
    assert (await http.call("DELETE", "/_sim/requests", raw_url=True)).status == 204
    assert sim.requests == []

    lock_id = sim.kasify.property_at(0)["smart_locks"][0]["id"]
    patched = await http.call(
        "PATCH",
        f"/_sim/kasify/smartlocks/{lock_id}",
        json_body={"lock_state": 3, "battery_level": 5},
        raw_url=True,
    )
    assert patched.status == 200
    assert (
        sim.kasify.smart_locks[lock_id]["lock_state"],
        sim.kasify.smart_locks[lock_id]["battery_level"],
    ) == (3, 5)

    moved = await http.post("/_sim/clock", {"advance_seconds": 3600}, raw_url=True)
    assert moved.body["now"] == iso(SIM_NOW + timedelta(hours=1))
    assert sim.now() == SIM_NOW + timedelta(hours=1)


# -- fleet -----------------------------------------------------------------------------------------------


async def test_fleet_invariants_over_http(http: Http, sim: Simulator) -> None:
    props = (await http.get("/properties")).body["properties"]
    occupied, empty, low = props[0], props[1], props[2]

    current = await http.get(f"/properties/{occupied['id']}/bookings/current")
    assert current.status == 200
    assert (await http.get(f"/properties/{empty['id']}/bookings/current")).status == 404

    upcoming = await http.get(
        f"/properties/{empty['id']}/bookings",
        params={"from": iso(SIM_NOW), "to": iso(SIM_NOW + timedelta(days=3))},
    )
    arrivals = [b for b in upcoming.body["bookings"] if b["status"] != "cancelled"]
    assert arrivals
    assert SIM_NOW < _at(arrivals[0]["check_in"]) <= SIM_NOW + timedelta(days=3)

    (nuki,) = (await http.get(f"/properties/{occupied['id']}/smartlocks")).body
    assert nuki["vendor"] == "nuki"
    assert nuki["nuki_smartlock"]["nuki_smartlock_id"].isdigit()
    assert (nuki["lock_state"], nuki["battery_level"], nuki["battery_charging"]) == (1, 80, False)
    (unifi,) = (await http.get(f"/properties/{empty['id']}/smartlocks")).body
    assert unifi["vendor"] == "unifi"
    assert (unifi["lock_state"], unifi["battery_level"], unifi["battery_charging"]) == (1, None, None)
    assert set(unifi["unifi_smartlock"]) == {"floor_id", "door_id", "name", "assigned_property"}
    (weak,) = (await http.get(f"/properties/{low['id']}/smartlocks")).body
    assert (weak["vendor"], weak["battery_level"]) == ("nuki", 15)


@pytest.mark.parametrize("sim_config", [SimulatorConfig(properties=40, seed=7, now=SIM_NOW)])
async def test_embedded_smart_locks_agree_with_endpoint(http: Http, sim: Simulator) -> None:
    props = (await http.get("/properties", params={"size": 100})).body["properties"]
    without = 0
    for prop in props:
        locks = (await http.get(f"/properties/{prop['id']}/smartlocks")).body
        assert prop["smart_locks"] == [
            {"id": x["id"], "vendor": x["vendor"], "name": x["name"]} for x in locks
        ]
        assert all(x["property_id"] == prop["id"] for x in locks)
        without += not locks
    assert 0 < without < len(props) - 3


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 14, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 14, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 15, 4, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # the night clocks go forward in Europe
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # and back
        datetime(2026, 7, 1, 10, 0, tzinfo=UTC),  # check-out time in Madrid
        datetime(2026, 7, 1, 13, 0, tzinfo=UTC),  # between check-out and check-in
    ],
)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fleet_guarantees(now: datetime, seed: int) -> None:
    kasify = Simulator(SimulatorConfig(properties=5, seed=seed, now=now)).kasify
    occupied, empty, low = kasify.property_at(0), kasify.property_at(1), kasify.property_at(2)

    current = kasify.current_booking(occupied["id"])
    assert current is not None
    assert _at(current["check_in"]) <= now < _at(current["check_out"])
    assert kasify.checkins[current["id"]]["status"] == "partial"

    assert kasify.current_booking(empty["id"]) is None
    arrivals = [
        b
        for b in kasify.bookings_overlapping(now, None, property_id=empty["id"])
        if b["status"] != "cancelled"
    ]
    assert now < _at(arrivals[0]["check_in"]) <= now + timedelta(days=3)

    assert [lock["vendor"] for lock in kasify.locks_for(occupied["id"])] == ["nuki"]
    assert [lock["vendor"] for lock in kasify.locks_for(empty["id"])] == ["unifi"]
    assert [lock["battery_level"] for lock in kasify.locks_for(low["id"])] == [15]


def test_fleet_shape() -> None:
    kasify = Simulator(SimulatorConfig(properties=12, seed=5, now=SIM_NOW)).kasify
    for prop in kasify.properties.values():
        assert prop["country"] in {"ES", "PT"}
        assert 2 <= len(prop["team"]) <= 3
        assert prop["default_cleaner"] in prop["team"]
        assert {c["channel"] for c in prop["calendars"]} <= {"airbnb", "booking"}
        for calendar in prop["calendars"]:
            assert set(calendar) == {"channel", "url", "syncIntervalMinutes", "lastSyncAt", "lastError"}
        bookings = kasify.bookings_overlapping(property_id=prop["id"])
        live = [b for b in bookings if b["status"] != "cancelled"]
        assert _at(bookings[0]["check_in"]) <= SIM_NOW - timedelta(days=40)
        assert _at(bookings[-1]["check_out"]) >= SIM_NOW + timedelta(days=100)
        for before, after in itertools.pairwise(live):
            assert _at(before["check_out"]) <= _at(after["check_in"])
        for booking in bookings:
            nights = (_at(booking["check_out"]) - _at(booking["check_in"])).total_seconds() / 86400
            assert 1.5 < nights < 7
            assert 1 <= booking["guests_count"] <= 6
            assert booking["channel"] in {"airbnb", "booking", "direct"}
            assert booking["guest_email"]
            assert booking["guest_phone"]
    statuses = {b["status"] for b in kasify.bookings.values()}
    assert {"confirmed", "cancelled"} <= statuses
    task_statuses = {t["status"] for t in kasify.tasks.values()}
    assert {"pending", "completed"} <= task_statuses
    assert {t["task_type"] for t in kasify.tasks.values()} >= {"cleaning", "maintenance"}


def test_fleet_local_times() -> None:
    kasify = Simulator(SimulatorConfig(properties=6, seed=3, now=SIM_NOW)).kasify
    for booking in kasify.bookings.values():
        zone = kasify.property_zone(booking["property_id"])
        assert _at(booking["check_in"]).astimezone(zone).hour == 15
        assert _at(booking["check_out"]).astimezone(zone).hour == 11
        assert booking["check_in"].endswith("Z")


def test_fleet_is_deterministic() -> None:
    def snapshot(seed: int) -> tuple[object, ...]:
        k = Simulator(SimulatorConfig(properties=10, seed=seed, now=SIM_NOW)).kasify
        return (k.account, k.properties, k.bookings, k.tasks, k.smart_locks, k.checkins, k.blocks)

    assert snapshot(4) == snapshot(4)
    assert snapshot(4) != snapshot(5)


def test_fleet_of_zero_and_one() -> None:
    assert Simulator(SimulatorConfig(properties=0, now=SIM_NOW)).kasify.properties == {}
    one = Simulator(SimulatorConfig(properties=1, now=SIM_NOW)).kasify
    assert one.current_booking(one.property_at(0)["id"]) is not None


def test_default_now_is_the_current_hour() -> None:
    sim = Simulator(SimulatorConfig(properties=1))
    assert not sim.clock.frozen
    assert abs(sim.now() - datetime.now(UTC)) < timedelta(seconds=5)
    occupied = sim.kasify.property_at(0)
    assert sim.kasify.current_booking(occupied["id"]) is not None


def test_state_helpers() -> None:
    sim = Simulator(SimulatorConfig(properties=3, now=SIM_NOW))
    kasify = sim.kasify
    prop = kasify.property_at(0)
    booking = kasify.add_booking(
        prop["id"], "Ana", SIM_NOW + timedelta(days=300), SIM_NOW + timedelta(days=302), channel="airbnb"
    )
    moved = kasify.move_booking(booking["id"], SIM_NOW + timedelta(days=310), SIM_NOW + timedelta(days=312))
    assert moved["check_in"] == iso(SIM_NOW + timedelta(days=310))
    other = kasify.property_at(1)
    relocated = kasify.move_booking(
        booking["id"], SIM_NOW + timedelta(days=311), SIM_NOW + timedelta(days=312), property_id=other["id"]
    )
    assert (relocated["property_id"], relocated["check_in"]) == (
        other["id"],
        iso(SIM_NOW + timedelta(days=311)),
    )
    assert booking["id"] in {b["id"] for b in kasify.bookings_overlapping(property_id=other["id"])}
    with pytest.raises(NotFoundError):
        kasify.move_booking(booking["id"], SIM_NOW, SIM_NOW + timedelta(days=1), property_id="nowhere")
    assert kasify.cancel_booking(booking["id"])["status"] == "cancelled"
    with pytest.raises(TypeError):
        kasify.add_booking(prop["id"], "Ana", SIM_NOW, SIM_NOW + timedelta(days=1), colour="red")
    with pytest.raises(ValueError):
        kasify.add_booking(prop["id"], "Ana", datetime(2026, 1, 1), SIM_NOW)

    lock_id = prop["smart_locks"][0]["id"]
    kasify.set_lock(lock_id, name="Entrada")
    assert prop["smart_locks"][0]["name"] == "Entrada"
    kasify.remove_lock(lock_id)
    assert prop["smart_locks"] == []

    kasify.remove_property(prop["id"])
    assert all(b["property_id"] != prop["id"] for b in kasify.bookings.values())
    assert all(t["property_id"] != prop["id"] for t in kasify.tasks.values())

    sim.advance(timedelta(hours=2))
    assert sim.now() == SIM_NOW + timedelta(hours=2)
    sim.set_now(SIM_NOW)
    assert kasify.now() == SIM_NOW
