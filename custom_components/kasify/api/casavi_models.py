"""What the casavi client returns besides the shared models: units, and one refresh's snapshot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from .models import CalendarEvent, EndpointNotUnderstood, Property, Task, TaskStatus


@dataclass(frozen=True, slots=True)
class Unit:
    """A flat, shop or parking space inside a casavi property (seed ``Unit``)."""

    id: str
    name: str
    property_id: str | None = None
    internal_id: int | None = None
    number: str | None = None
    purpose: str | None = None  # "private" | "commercial" | "parking"
    floor: str | None = None
    area: str | None = None  # square metres, as casavi sends it (text)
    rooms: str | None = None
    address: str | None = None
    app_link: str | None = None


@dataclass(frozen=True, slots=True)
class CasaviSnapshot:
    """Everything one refresh learned about a casavi account, keyed by property id.

    Compares by value, so an unchanged account gives an equal snapshot.
    """

    properties: Mapping[str, Property]
    # Appointments overlapping [window_start, window_end), per property, sorted by (start, id). An appointment
    # shared with several properties appears under each of them.
    events: Mapping[str, tuple[CalendarEvent, ...]]
    # Open tickets (pending or in progress) per property, as tasks.
    tasks: Mapping[str, tuple[Task, ...]]
    window_start: datetime
    window_end: datetime
    # Units per property; empty unless the snapshot was fetched with ``include_units=True``.
    units: Mapping[str, tuple[Unit, ...]] = field(default_factory=dict)
    # Appointments or tickets whose listing was not understood: unknown (their mapping above is empty).
    degraded: Mapping[str, EndpointNotUnderstood] = field(default_factory=dict)
    # Tickets in states the integration does not know (not in ``tasks``): state as sent → count, per property.
    unknown_ticket_states: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def events_between(self, property_id: str, start: datetime, end: datetime) -> list[CalendarEvent]:
        """The property's events overlapping ``[start, end)``, by start."""
        return [e for e in self.events.get(property_id, ()) if e.start < end and e.end > start]

    def upcoming_event(self, property_id: str, now: datetime) -> CalendarEvent | None:
        """The event in progress at ``now``, else the next one to start."""
        return next((e for e in self.events.get(property_id, ()) if e.end > now), None)

    def open_tasks(self, property_id: str) -> tuple[Task, ...]:
        """The property's open tickets."""
        return self.tasks.get(property_id, ())

    def property_slice(self, property_id: str) -> object:
        """Everything about one property (compared by entities to skip unchanged writes)."""
        return (
            self.properties.get(property_id),
            self.events.get(property_id),
            self.tasks.get(property_id),
            self.units.get(property_id),
            self.unknown_ticket_states.get(property_id),
        )


def build_snapshot(
    properties: list[Property],
    events: list[CalendarEvent],
    tickets: list[Task],
    units: list[Unit],
    window: tuple[datetime, datetime],
    degraded: Mapping[str, EndpointNotUnderstood],
) -> CasaviSnapshot:
    """One refresh's listings keyed by property: events of the window by start, open tickets, units.

    Tickets in a state the integration does not know are not open tickets: their states are counted instead.
    """
    window_start, window_end = window
    property_map = {prop.id: prop for prop in properties}
    events_by_property: dict[str, list[CalendarEvent]] = {}
    for event in events:
        if event.property_id in property_map and event.start < window_end and event.end > window_start:
            events_by_property.setdefault(event.property_id, []).append(event)
    tasks_by_property: dict[str, list[Task]] = {}
    unknown: dict[str, Counter[str]] = {}
    for task in tickets:
        if task.property_id not in property_map:
            continue
        if task.open:
            tasks_by_property.setdefault(task.property_id, []).append(task)
        elif task.status is TaskStatus.UNKNOWN:
            unknown.setdefault(task.property_id, Counter())[task.status_text or ""] += 1
    units_by_property: dict[str, list[Unit]] = {}
    for unit in units:
        if unit.property_id in property_map:
            units_by_property.setdefault(unit.property_id, []).append(unit)
    return CasaviSnapshot(
        properties=property_map,
        events={
            pid: tuple(sorted(items, key=lambda e: (e.start, e.id)))
            for pid, items in events_by_property.items()
        },
        tasks={pid: tuple(items) for pid, items in tasks_by_property.items()},
        window_start=window_start,
        window_end=window_end,
        units={pid: tuple(items) for pid, items in units_by_property.items()},
        degraded=degraded,
        unknown_ticket_states={pid: dict(sorted(states.items())) for pid, states in unknown.items()},
    )
