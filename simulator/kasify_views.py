"""Read-only views of the Kasify state the API serves: the calendar, the upcoming timeline and the activity.

Each is derived on request from the bookings, blocks and tasks of a
:class:`~simulator.kasify_state.KasifyState`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .kasify_state import Json, KasifyState, instant_at, overlaps
from .kasify_tasks import OPEN_TASK_STATUSES


def calendar_events(
    state: KasifyState,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    property_id: str | None = None,
) -> list[Json]:
    """Booking events (not cancelled) and blocks overlapping ``[start, end)``, sorted by start."""
    events = [
        {
            "id": f"booking-{booking['id']}",
            "property_id": booking["property_id"],
            "kind": "booking",
            "title": booking["guest_name"],
            "start": booking["check_in"],
            "end": booking["check_out"],
            "booking_id": booking["id"],
            "source": booking["channel"],
        }
        for booking in state.bookings_overlapping(start, end, property_id=property_id)
        if booking["status"] != "cancelled"
    ]
    events.extend(
        block
        for block in state.blocks.values()
        if (property_id is None or block["property_id"] == property_id)
        and overlaps(block, start, end, "start", "end")
    )
    return sorted(events, key=lambda e: (instant_at(e, "start"), e["id"]))


def _timeline_items(state: KasifyState) -> list[Json]:
    """Every check-in, check-out (non-cancelled bookings) and dated task as a TimelineItem."""
    items: list[Json] = []
    for booking in state.bookings.values():
        if booking["status"] == "cancelled":
            continue
        place = state.properties[booking["property_id"]]["name"]
        for kind, key in (("check_in", "check_in"), ("check_out", "check_out")):
            label = "Check-in" if kind == "check_in" else "Check-out"
            items.append(
                {
                    "id": f"{kind}-{booking['id']}",
                    "kind": kind,
                    "at": booking[key],
                    "property_id": booking["property_id"],
                    "booking_id": booking["id"],
                    "task_id": None,
                    "title": f"{label}: {booking['guest_name']} · {place}",
                }
            )
    for task in state.tasks.values():
        at = task["completed_at"] if task["status"] == "completed" else task["due_at"]
        if at is None:
            continue
        items.append(
            {
                "id": f"task-{task['id']}",
                "kind": "task",
                "at": at,
                "property_id": task["property_id"],
                "booking_id": task["booking_id"],
                "task_id": task["id"],
                "title": f"{task['title']} · {state.properties[task['property_id']]['name']}",
            }
        )
    return items


def upcoming_timeline(state: KasifyState, days: int) -> list[Json]:
    """Check-ins, check-outs and open tasks due in ``[now, now + days)``, grouped by local day.

    Days follow the account's time zone; only days with items are listed, in order.
    """
    now = state.now()
    end = now + timedelta(days=days)
    open_task_ids = {task["id"] for task in state.list_tasks(OPEN_TASK_STATUSES)}
    items = [
        item
        for item in _timeline_items(state)
        if now <= instant_at(item, "at") < end
        and (item["task_id"] is None or item["task_id"] in open_task_ids)
    ]
    items.sort(key=lambda item: (instant_at(item, "at"), item["id"]))
    zone = ZoneInfo(state.account["timezone"])
    days_out: dict[str, list[Json]] = {}
    for item in items:
        days_out.setdefault(instant_at(item, "at").astimezone(zone).date().isoformat(), []).append(item)
    return [{"date": day, "items": day_items} for day, day_items in days_out.items()]


def activity(state: KasifyState) -> list[Json]:
    """What already happened (check-ins, check-outs, completed tasks), newest first."""
    now = state.now()
    items = [
        item
        for item in _timeline_items(state)
        if instant_at(item, "at") <= now
        and (item["task_id"] is None or state.tasks[item["task_id"]]["status"] == "completed")
    ]
    items.sort(key=lambda item: (instant_at(item, "at"), item["id"]), reverse=True)
    return items
