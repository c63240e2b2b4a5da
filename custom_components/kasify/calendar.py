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
    """``event`` from cached data; ranges from the cache or, outside the source's window, from its API."""

    def __init__(self, coordinator: PropertySourceCoordinator[Any], prop: Property) -> None:
        """Create the calendar of ``prop``, named after what its source keeps on it."""
        super().__init__(coordinator, prop.id, coordinator.calendar_key)
        self._attr_translation_key = coordinator.calendar_key
        self.feature = coordinator.calendar_key

    async def async_added_to_hass(self) -> None:
        """Also follow what else feeds the calendar (a feed-only stay can be the current event)."""
        await super().async_added_to_hass()
        for follower in self.coordinator.calendar_followers():
            self.async_on_remove(follower.async_add_listener(self.async_write_ha_state))

    @property
    def event(self) -> CalendarEvent | None:
        """The event in progress, else the next one."""
        now = dt_util.now()
        events = self.coordinator.calendar_cached(self.property_id, self.hass.config.language)
        return next((event for event in events if event.end_datetime_local > now), None)

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
