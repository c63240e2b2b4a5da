"""casavi accounts: properties (customer references) with appointments and open tickets.

Property management changes slowly: polled every 5 minutes by default; 4 requests a refresh for a small
account (see ``CasaviClient.fetch_snapshot``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.components.calendar import CalendarEvent
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .. import forms
from ..api.casavi import CasaviClient, CasaviSnapshot
from ..api.models import Account, CalendarEvent as Appointment
from ..const import CONF_KEY, CONF_SECRET, DEFAULT_CASAVI_URL, KIND_CASAVI, LOGGER
from ..coordinator import KasifyConfigEntry, KasifyRuntimeData, PropertySourceCoordinator

CASAVI_DEFAULT_SCAN_INTERVAL: Final = 300


class CasaviCoordinator(PropertySourceCoordinator[CasaviSnapshot]):
    """Polls one casavi account."""

    kind = KIND_CASAVI
    upstream_name = "casavi"
    task_noun = "tickets"

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: CasaviClient) -> None:
        """Poll ``client``'s account; property management changes slowly, so every 5 minutes by default."""
        super().__init__(hass, entry, default_interval=CASAVI_DEFAULT_SCAN_INTERVAL)
        self.client = client
        # Ticket states not known to the integration that the log has named already.
        self._unknown_states_seen: set[str] = set()

    async def _fetch_window(self, window_start: datetime, window_end: datetime) -> CasaviSnapshot:
        return await self.client.fetch_snapshot(window_start, window_end)

    # -- tickets in states the integration does not know ------------------------------------------------

    def unknown_task_states(self, property_id: str) -> Mapping[str, int]:
        """The property's tickets in states the integration does not know, by state (not counted open)."""
        return self.data.unknown_ticket_states.get(property_id, {})

    def _refreshed(self, data: CasaviSnapshot) -> None:
        """Name each ticket state the integration does not know in the log, once."""
        states = {state for counts in data.unknown_ticket_states.values() for state in counts}
        for state in sorted(states - self._unknown_states_seen):
            LOGGER.debug("casavi ticket state %r is not known: those tickets are not counted as open", state)
        self._unknown_states_seen |= states

    # -- the property's calendar: appointments (owners' meetings, inspections, contractor visits) -------

    calendar_key = "appointments"

    def calendar_cached(self, property_id: str, language: str) -> list[CalendarEvent]:
        """The property's appointments in the window."""
        return [self._to_event(property_id, e) for e in self.data.events.get(property_id, ())]

    async def async_calendar_fetch(
        self, property_id: str, start: datetime, end: datetime, language: str
    ) -> list[CalendarEvent]:
        """Casavi has no date filter on appointments: the client reads them all for this property."""
        appointments = await self.client.list_appointments(property_id)
        return [self._to_event(property_id, e) for e in sorted(appointments, key=lambda e: (e.start, e.id))]

    def _to_event(self, property_id: str, appointment: Appointment) -> CalendarEvent:
        start: Any = appointment.start
        end: Any = appointment.end
        if appointment.all_day:
            # casavi sends all-day appointments as UTC instants; their days are the local dates.
            start = dt_util.as_local(appointment.start).date()
            end = max(dt_util.as_local(appointment.end).date(), start + timedelta(days=1))
        prop = self.data.properties.get(property_id)
        return CalendarEvent(
            start=start,
            end=end,
            summary=appointment.title,
            description=appointment.description,
            location=appointment.location or (prop.full_address if prop else None),
            uid=appointment.id,
        )


# --- adding the account ----------------------------------------------------------------------------------

SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_URL, default=DEFAULT_CASAVI_URL): forms.URL,
        vol.Required(CONF_KEY): forms.TEXT,
        vol.Required(CONF_SECRET): forms.SECRET,
    }
)


async def async_validate(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """Authenticate with the entered key and secret and name the casavi tenant (https, or loopback)."""
    forms.check_secure_url(CONF_URL, data[CONF_URL])
    client = CasaviClient(
        async_get_clientsession(hass), data[CONF_KEY], data[CONF_SECRET], base_url=data[CONF_URL]
    )
    return await client.get_account()


async def async_setup(hass: HomeAssistant, entry: KasifyConfigEntry) -> KasifyRuntimeData:
    """Connect and load the account (raises ConfigEntryAuthFailed / ConfigEntryNotReady)."""
    client = CasaviClient(
        async_get_clientsession(hass),
        entry.data[CONF_KEY],
        entry.data[CONF_SECRET],
        base_url=entry.data[CONF_URL],
    )
    coordinator = CasaviCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    return KasifyRuntimeData(client=client, coordinator=coordinator)
