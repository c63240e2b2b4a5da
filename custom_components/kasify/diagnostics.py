"""Diagnostics for a Kasify entry, with secrets and guests' personal data redacted."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from enum import Enum
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_CLIENT_SECRET
from homeassistant.core import HomeAssistant

from .const import CONF_API_TOKEN, CONF_KEY, CONF_SECRET, CONF_WEBHOOK_ID, CONF_WEBHOOK_SECRET
from .coordinator import KasifyConfigEntry

# Credentials in the entry (RemoteLock's OAuth2 "token" holds the access and refresh tokens); the API URL
# stays (it is not a secret, and helps support).
ENTRY_SECRETS = {CONF_API_TOKEN, CONF_KEY, CONF_SECRET, CONF_CLIENT_SECRET, "token"}
# In the options: extra iCal feed URLs carry a secret token; the webhook id is its URL's secret part.
OPTION_SECRETS = {"url", CONF_WEBHOOK_ID, CONF_WEBHOOK_SECRET}

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
    # Free text written by hosts often names the guest ("Cleaning after Ana's stay")
    "title",
    "description",
    # A channel's reservation number (Airbnb's HM…) finds the guest's booking there
    "external_reference",
    # Where a property or a RemoteLock location is, with the street address
    "city",
    "postal_code",
    "zip_code",
}
# Where "name" is a person's, not a lock's or a property's: the crew of a property (Kasify), and who acted in
# a lock's activity log (Nuki: a guest's keypad code carries the guest's name).
PEOPLE = frozenset({"team", "default_cleaner", "logs"})


def _without_people(data: Any, *, people: bool = False) -> Any:
    """``data`` with the ``name`` of every person (under a key of :data:`PEOPLE`) redacted."""
    if isinstance(data, list):
        return [_without_people(item, people=people) for item in data]
    if not isinstance(data, dict):
        return data
    return {
        key: REDACTED
        if people and key == "name" and value
        else _without_people(value, people=people or key in PEOPLE)
        for key, value in data.items()
    }


def _plain(value: Any) -> Any:
    """Dataclasses, dates and enums as plain JSON values (ISO-8601 text for instants)."""
    if hasattr(value, "__dataclass_fields__"):
        value = asdict(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, set | frozenset):  # e.g. a UniFi door's lock rules
        return sorted(_plain(item) for item in value)
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: KasifyConfigEntry) -> dict[str, Any]:
    """Entry, options, the coordinator's state and data, the scheduled stay timers, the stay conflicts."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    interval = coordinator.update_interval
    diagnostics: dict[str, Any] = {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), ENTRY_SECRETS),
            "options": async_redact_data(dict(entry.options), OPTION_SECRETS),
        },
        "coordinator": {
            "source": coordinator.kind,
            "last_update_success": coordinator.last_update_success,
            "update_interval": interval.total_seconds() if interval else None,
        },
        "data": _without_people(async_redact_data(_plain(coordinator.data), TO_REDACT)),
    }
    if runtime.feeds is not None:
        feeds = runtime.feeds
        # FeedState.diagnostics() shows only each feed URL's scheme and host (the rest is a secret).
        diagnostics["ical_feeds"] = {
            key: {**state.diagnostics(), "property_id": status.property_id, "added_in_options": status.extra}
            for key, status in (feeds.data or {}).items()
            if (state := feeds.state_of(key)) is not None
        }
    if runtime.stays is not None:
        diagnostics["scheduled_stay_events"] = sorted(
            [booking_id, kind, instant.isoformat()]
            for (booking_id, kind), instant in runtime.stays.scheduled.items()
        )
    if runtime.conflicts is not None:
        # Double bookings and turnover gaps reported now: stay ids and times, never guests.
        diagnostics["stay_conflicts"] = sorted(
            [conflict.kind, conflict.property_id, stay.key, stay.start.isoformat(), stay.end.isoformat()]
            for conflict in runtime.conflicts.conflicts
            for stay in (conflict.first, conflict.second)
        )
    return diagnostics
