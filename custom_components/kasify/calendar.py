"""A calendar per property: what its source keeps (Kasify bookings and iCal feeds, casavi appointments)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .api.errors import ApiError
from .api.models import Property
from .const import DOMAIN
from .coordinator import KasifyConfigEntry, PropertySourceCoordinator
from .entity import PropertyEntity, async_add_property_entities

PARALLEL_UPDATES = 0


class PropertyCalendar(PropertyEntity, CalendarEntity):
    """``event`` from cached data; ranges from the cache or, outside the source's window, from its API.

    The event in progress (else the next) is worked out once per change of what it comes from, and again
    only when it ends: Home Assistant asks for it several times per state write, for hundreds of calendars.
    """

    # What the event was worked out from (the property's data, the followers', the language), and the event.
    _current: tuple[tuple[object, str], CalendarEvent | None] | None = None

    def __init__(self, coordinator: PropertySourceCoordinator[Any], prop: Property) -> None:
        """Create the calendar of ``prop``, named after what its source keeps on it."""
        super().__init__(coordinator, prop.id, coordinator.calendar_key)
        self._attr_translation_key = coordinator.calendar_key
        self.feature = coordinator.calendar_key

    async def async_added_to_hass(self) -> None:
        """Also follow what else feeds the calendar (a feed-only stay can be the current event)."""
        await super().async_added_to_hass()
        for follower in self.coordinator.calendar_followers():
            self.async_on_remove(follower.async_add_listener(self._handle_coordinator_update))

    def _state_source(self) -> object:
        """The property's data and what the followers know of it (a change elsewhere writes nothing)."""
        return (super()._state_source(), self.coordinator.calendar_extra(self.property_id))

    @property
    def event(self) -> CalendarEvent | None:
        """The event in progress, else the next one."""
        now = dt_util.now()
        language = self.hass.config.language
        sources = (self._state_source(), language)
        if (current := self._current) is not None and current[0] == sources:
            event = current[1]
            if event is None or event.end_datetime_local > now:
                return event
        event = self.coordinator.calendar_current(self.property_id, now, language)
        self._current = (sources, event)
        return event

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Events overlapping the range (an error while the calendar's feature is off: nothing is known)."""
        coordinator, language = self.coordinator, hass.config.language
        if (off := coordinator.feature_off(coordinator.calendar_key)) is not None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="calendar_fetch_failed",
                translation_placeholders={
                    "service": coordinator.upstream_name,
                    "error": f"{off.endpoint}: HTTP {off.status}",
                },
            )
        data = coordinator.data
        if data.window_start <= start_date and end_date <= data.window_end:
            events = await coordinator.async_calendar_window(self.property_id, start_date, end_date, language)
        else:
            try:
                events = await coordinator.async_calendar_fetch(
                    self.property_id, start_date, end_date, language
                )
            except ApiError as err:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="calendar_fetch_failed",
                    translation_placeholders={"service": coordinator.upstream_name, "error": str(err)},
                ) from err
        return [
            event
            for event in events
            if event.start_datetime_local < end_date and event.end_datetime_local > start_date
        ]


def _property_entities(
    coordinator: PropertySourceCoordinator[Any], prop: Property
) -> Iterable[CalendarEntity]:
    return [PropertyCalendar(coordinator, prop)]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: KasifyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a calendar for every property, now and as they appear."""
    async_add_property_entities(entry, async_add_entities, _property_entities)
