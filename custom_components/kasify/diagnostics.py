"""Diagnostics for a Kasify entry, with secrets and guests' personal data redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_API_TOKEN
from .coordinator import KasifyConfigEntry

TO_REDACT = {
    CONF_API_TOKEN,
    # Guests
    "guest_name",
    "guest_email",
    "guest_phone",
    "notes",
    # Crew and account
    "email",
    "last_name",
    # iCal export URLs carry a secret token in their query
    "url",
    "address",
}


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: KasifyConfigEntry) -> dict[str, Any]:
    """Entry, options, coordinator state and the scheduled stay timers."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    data = coordinator.data
    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "update_interval": coordinator.update_interval.total_seconds()
            if coordinator.update_interval
            else None,
            "window": [data.window_start.isoformat(), data.window_end.isoformat()],
        },
        "properties": async_redact_data([asdict(prop) for prop in data.properties.values()], TO_REDACT),
        "bookings": async_redact_data(
            {pid: [asdict(b) for b in items] for pid, items in data.bookings.items()}, TO_REDACT
        ),
        "smart_locks": [asdict(lock) for lock in data.smart_locks.values()],
        "open_tasks": {pid: [asdict(t) for t in items] for pid, items in data.tasks.items()},
        "scheduled_stay_events": sorted(
            [booking_id, kind, instant.isoformat()]
            for (booking_id, kind), instant in runtime.stays.scheduled.items()
        ),
    }
