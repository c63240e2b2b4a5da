"""Options of an entry: polling, calendar window, property settings, automatic codes, iCal feeds, RemoteLock.

Saving stores the options and schedules one reload of the entry (no update listener: one reload mechanism for
every flow).
"""

from __future__ import annotations

from collections.abc import Mapping
import contextlib
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_URL
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TimeSelector,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .api.errors import ApiError, AuthError, MalformedResponseError, NotFoundError, ValidationError
from .api.ical import IcalFeedClient, InvalidFeedUrlError, normalize_feed_url, redact_url
from .const import (
    CONF_AUTO_CODES,
    CONF_AUTO_CODES_END_OFFSET,
    CONF_AUTO_CODES_LEAD_HOURS,
    CONF_AUTO_CODES_START_OFFSET,
    CONF_CALENDAR_DAYS,
    CONF_CHECK_IN_TIME,
    CONF_CHECK_OUT_TIME,
    CONF_FEED_INTERVAL,
    CONF_ICAL_FEEDS,
    CONF_KIND,
    CONF_LOCATIONS,
    CONF_LOW_BATTERY,
    CONF_MIN_TURNOVER,
    CONF_PROPERTY,
    CONF_SCAN_INTERVAL,
    CONF_STAY_TIMES,
    CONF_TIME_ZONE,
    CONF_WEBHOOK,
    CONF_WEBHOOK_ID,
    DEFAULT_AUTO_CODES_END_OFFSET,
    DEFAULT_AUTO_CODES_LEAD_HOURS,
    DEFAULT_AUTO_CODES_START_OFFSET,
    DEFAULT_CALENDAR_DAYS,
    DEFAULT_CHECK_IN_TIME,
    DEFAULT_CHECK_OUT_TIME,
    DEFAULT_LOW_BATTERY,
    DEFAULT_MIN_TURNOVER_HOURS,
    KIND_KASIFY,
    KIND_REMOTELOCK,
    LOGGER,
    MAX_AUTO_CODES_LEAD_HOURS,
    MAX_AUTO_CODES_OFFSET,
    MAX_CALENDAR_DAYS,
    MAX_FEED_INTERVAL_MINUTES,
    MAX_MIN_TURNOVER_HOURS,
    MAX_SCAN_INTERVAL,
    MIN_AUTO_CODES_LEAD_HOURS,
    MIN_CALENDAR_DAYS,
    MIN_FEED_INTERVAL_MINUTES,
    MIN_SCAN_INTERVAL,
)
from .forms import TEXT, URL, insecure_url, whole_number
from .links import property_choices
from .providers import PROVIDERS
from .providers.kasify import KasifyCoordinator
from .providers.kasify_feeds import DEFAULT_FEED_INTERVAL_MINUTES, feed_id
from .providers.remotelock.coordinator import RemoteLockCoordinator, location_property
from .providers.remotelock.webhook import async_disable_webhook, async_enable_webhook

# The "no property" choice of a RemoteLock location.
NO_PROPERTY: Final = "none"

OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_SCAN_INTERVAL): whole_number(MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL, "s"),
        vol.Required(CONF_CALENDAR_DAYS): whole_number(MIN_CALENDAR_DAYS, MAX_CALENDAR_DAYS, "d"),
    }
)
# A property's settings (the step keeps its first name, "stay_times"; further per-property settings go here).
STAY_TIMES_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_CHECK_IN_TIME): TimeSelector(),
        vol.Required(CONF_CHECK_OUT_TIME): TimeSelector(),
        vol.Optional(CONF_TIME_ZONE): TEXT,
        vol.Optional(CONF_MIN_TURNOVER): NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=MAX_MIN_TURNOVER_HOURS,
                step=0.5,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement="h",
            )
        ),
        vol.Optional(CONF_LOW_BATTERY): NumberSelector(
            NumberSelectorConfig(min=0, max=100, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="%")
        ),
    }
)
ACCESS_CODES_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_AUTO_CODES): BooleanSelector(),
        vol.Required(CONF_AUTO_CODES_LEAD_HOURS): whole_number(
            MIN_AUTO_CODES_LEAD_HOURS, MAX_AUTO_CODES_LEAD_HOURS, "h"
        ),
        vol.Required(CONF_AUTO_CODES_START_OFFSET): whole_number(0, MAX_AUTO_CODES_OFFSET, "min"),
        vol.Required(CONF_AUTO_CODES_END_OFFSET): whole_number(0, MAX_AUTO_CODES_OFFSET, "min"),
    }
)


def _is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _kind_of(entry: Any) -> str:
    return str(entry.data.get(CONF_KIND, KIND_KASIFY))


class KasifyOptionsFlow(OptionsFlow):
    """Tunables of an entry, and a Kasify entry's extra iCal feeds; saving reloads the entry once."""

    # The property whose stay times are being set (between the two steps).
    _stay_property: str = ""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Kasify and RemoteLock: choose what to change; the others have only the polling settings."""
        if _kind_of(self.config_entry) == KIND_REMOTELOCK:
            return self.async_show_menu(step_id="init", menu_options=["settings", "locations", "webhook"])
        if _kind_of(self.config_entry) != KIND_KASIFY:
            return await self.async_step_settings(user_input)
        menu = ["settings", "stay_times", "add_feed", "access_codes"]
        if self.config_entry.options.get(CONF_ICAL_FEEDS):
            menu.append("remove_feed")
        return self.async_show_menu(step_id="init", menu_options=menu)

    def _save(self, changes: Mapping[str, Any]) -> ConfigFlowResult:
        # One reload mechanism for every flow (no update listener): store, then schedule the reload.
        options = {**self.config_entry.options, **changes}
        self.hass.config_entries.async_update_entry(self.config_entry, options=options)
        self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
        return self.async_create_entry(data=options)

    async def async_step_settings(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Polling interval and how many days of calendar to keep ahead."""
        if user_input is not None:
            return self._save(
                {
                    CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
                    CONF_CALENDAR_DAYS: int(user_input[CONF_CALENDAR_DAYS]),
                }
            )
        default_interval = PROVIDERS[_kind_of(self.config_entry)].default_scan_interval
        current = {
            CONF_SCAN_INTERVAL: self.config_entry.options.get(CONF_SCAN_INTERVAL, default_interval),
            CONF_CALENDAR_DAYS: self.config_entry.options.get(CONF_CALENDAR_DAYS, DEFAULT_CALENDAR_DAYS),
        }
        return self.async_show_form(
            step_id="settings", data_schema=self.add_suggested_values_to_schema(OPTIONS_SCHEMA, current)
        )

    async def async_step_access_codes(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Automatic per-booking codes on the properties' locks: on/off, lead time and validity margins."""
        keys = (CONF_AUTO_CODES_LEAD_HOURS, CONF_AUTO_CODES_START_OFFSET, CONF_AUTO_CODES_END_OFFSET)
        if user_input is not None:
            return self._save(
                {CONF_AUTO_CODES: bool(user_input[CONF_AUTO_CODES])}
                | {key: int(user_input[key]) for key in keys}
            )
        defaults = {
            CONF_AUTO_CODES: False,
            CONF_AUTO_CODES_LEAD_HOURS: DEFAULT_AUTO_CODES_LEAD_HOURS,
            CONF_AUTO_CODES_START_OFFSET: DEFAULT_AUTO_CODES_START_OFFSET,
            CONF_AUTO_CODES_END_OFFSET: DEFAULT_AUTO_CODES_END_OFFSET,
        }
        current = {key: self.config_entry.options.get(key, default) for key, default in defaults.items()}
        return self.async_show_form(
            step_id="access_codes",
            data_schema=self.add_suggested_values_to_schema(ACCESS_CODES_SCHEMA, current),
        )

    async def async_step_stay_times(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the property whose check-in and check-out times and time zone to set."""
        properties = self._properties()
        if not properties:
            return self.async_abort(reason="not_loaded")
        if user_input is not None:
            self._stay_property = str(user_input[CONF_PROPERTY])
            return await self.async_step_stay_times_property()
        schema = vol.Schema(
            {
                vol.Required(CONF_PROPERTY): SelectSelector(
                    SelectSelectorConfig(
                        options=[SelectOptionDict(value=pid, label=name) for pid, name in properties.items()],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                )
            }
        )
        return self.async_show_form(step_id="stay_times", data_schema=schema)

    async def async_step_stay_times_property(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A property's settings: its check-in and check-out times and time zone, and its turnover time.

        The times apply when Kasify gives a stay's days without times; the turnover time is the shortest the
        house needs between a check-out and the next check-in.
        """
        property_id = self._stay_property
        stored: dict[str, dict[str, Any]] = dict(self.config_entry.options.get(CONF_STAY_TIMES, {}))
        errors: dict[str, str] = {}
        if user_input is not None:
            zone = str(user_input.get(CONF_TIME_ZONE) or "").strip()
            if zone and not _is_time_zone(zone):
                errors[CONF_TIME_ZONE] = "invalid_time_zone"
            else:
                stored[property_id] = {
                    **stored.get(property_id, {}),
                    CONF_CHECK_IN_TIME: str(user_input[CONF_CHECK_IN_TIME]),
                    CONF_CHECK_OUT_TIME: str(user_input[CONF_CHECK_OUT_TIME]),
                    CONF_TIME_ZONE: zone or str(self.hass.config.time_zone),
                    CONF_MIN_TURNOVER: float(
                        user_input.get(
                            CONF_MIN_TURNOVER,
                            stored.get(property_id, {}).get(CONF_MIN_TURNOVER, DEFAULT_MIN_TURNOVER_HOURS),
                        )
                    ),
                    CONF_LOW_BATTERY: int(
                        user_input.get(
                            CONF_LOW_BATTERY,
                            stored.get(property_id, {}).get(CONF_LOW_BATTERY, DEFAULT_LOW_BATTERY),
                        )
                    ),
                }
                return self._save({CONF_STAY_TIMES: stored})
        current = {
            CONF_CHECK_IN_TIME: DEFAULT_CHECK_IN_TIME,
            CONF_CHECK_OUT_TIME: DEFAULT_CHECK_OUT_TIME,
            CONF_TIME_ZONE: str(self.hass.config.time_zone),
            CONF_MIN_TURNOVER: DEFAULT_MIN_TURNOVER_HOURS,
            CONF_LOW_BATTERY: DEFAULT_LOW_BATTERY,
            **stored.get(property_id, {}),
            **(user_input or {}),
        }
        return self.async_show_form(
            step_id="stay_times_property",
            data_schema=self.add_suggested_values_to_schema(STAY_TIMES_SCHEMA, current),
            errors=errors,
            description_placeholders={"property": self._properties().get(property_id, property_id)},
        )

    def _properties(self) -> dict[str, str]:
        """Property id → name, from the loaded entry."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return {}
        coordinator = self.config_entry.runtime_data.coordinator
        if not isinstance(coordinator, KasifyCoordinator):  # pragma: no cover - the menu is Kasify-only
            return {}
        return {pid: prop.name for pid, prop in coordinator.data.properties.items()}

    def _known_feed_urls(self) -> set[str]:
        urls = {
            normalize_feed_url(feed[CONF_URL]) for feed in self.config_entry.options.get(CONF_ICAL_FEEDS, [])
        }
        coordinator = (
            self.config_entry.runtime_data.coordinator
            if self.config_entry.state is ConfigEntryState.LOADED
            else None
        )
        if isinstance(coordinator, KasifyCoordinator):
            for prop in coordinator.data.properties.values():
                urls |= {normalize_feed_url(c.url) for c in prop.calendars if c.url}
        return urls

    async def async_step_add_feed(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """An Airbnb / Booking.com / VRBO export URL for one property, checked by fetching it once."""
        properties = self._properties()
        if not properties:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            url = str(user_input[CONF_URL]).strip()
            try:
                normalized = normalize_feed_url(url)
            except InvalidFeedUrlError:
                errors[CONF_URL] = "invalid_feed_url"
            else:
                if insecure_url(normalized):
                    errors[CONF_URL] = "insecure_url"
                elif normalized in self._known_feed_urls():
                    errors[CONF_URL] = "feed_exists"
                else:
                    errors.update(await self._check_feed(url))
            if not errors:
                feed = {
                    CONF_PROPERTY: user_input[CONF_PROPERTY],
                    CONF_URL: url,
                    CONF_FEED_INTERVAL: int(user_input[CONF_FEED_INTERVAL]),
                }
                return self._save(
                    {CONF_ICAL_FEEDS: [*self.config_entry.options.get(CONF_ICAL_FEEDS, []), feed]}
                )
        schema = vol.Schema(
            {
                vol.Required(CONF_PROPERTY): SelectSelector(
                    SelectSelectorConfig(
                        options=[SelectOptionDict(value=pid, label=name) for pid, name in properties.items()],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Required(CONF_URL): URL,
                vol.Required(CONF_FEED_INTERVAL, default=DEFAULT_FEED_INTERVAL_MINUTES): whole_number(
                    MIN_FEED_INTERVAL_MINUTES, MAX_FEED_INTERVAL_MINUTES, "min"
                ),
            }
        )
        return self.async_show_form(
            step_id="add_feed",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def _check_feed(self, url: str) -> dict[str, str]:
        """Fetch and parse the feed once; the form error for what went wrong (the URL is never logged)."""
        client = IcalFeedClient(async_get_clientsession(self.hass))
        try:
            await client.validate(
                url,
                default_zone=dt_util.get_default_time_zone(),
                run_in_executor=self.hass.async_add_executor_job,
            )
        except NotFoundError:
            return {CONF_URL: "feed_not_found"}
        except AuthError:
            return {CONF_URL: "feed_refused"}
        except MalformedResponseError:
            return {CONF_URL: "not_ical"}
        except ApiError as err:
            LOGGER.debug("Checking an iCal feed failed: %s", err)
            return {"base": "cannot_connect"}
        return {}

    async def async_step_remove_feed(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Remove extra feeds added here (Kasify's own calendars are managed in Kasify)."""
        feeds: list[dict[str, Any]] = self.config_entry.options.get(CONF_ICAL_FEEDS, [])
        if user_input is not None:
            remove = set(user_input[CONF_ICAL_FEEDS])
            return self._save({CONF_ICAL_FEEDS: [f for f in feeds if feed_id(f[CONF_URL]) not in remove]})
        names = self._properties()
        options = [
            SelectOptionDict(
                value=feed_id(feed[CONF_URL]),
                label=f"{names.get(feed[CONF_PROPERTY], feed[CONF_PROPERTY])}: {redact_url(feed[CONF_URL])}",
            )
            for feed in feeds
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_ICAL_FEEDS): SelectSelector(
                    SelectSelectorConfig(options=options, multiple=True, mode=SelectSelectorMode.LIST)
                )
            }
        )
        return self.async_show_form(step_id="remove_feed", data_schema=schema)

    # -- RemoteLock ----------------------------------------------------------------------------------------

    def _remotelock(self) -> RemoteLockCoordinator | None:
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return None
        coordinator = self.config_entry.runtime_data.coordinator
        return coordinator if isinstance(coordinator, RemoteLockCoordinator) else None

    async def async_step_locations(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Which property each RemoteLock location is (default: the property with the same name)."""
        coordinator = self._remotelock()
        if coordinator is None:
            return self.async_abort(reason="remotelock_not_loaded")
        locations = sorted(coordinator.data.locations.values(), key=lambda loc: loc.name.casefold())
        # The form's fields are the locations, labelled by name (made unique when two share one).
        labels: dict[str, str] = {}
        for location in locations:
            label = location.name or location.id
            labels[location.id] = label if label not in labels.values() else f"{label} ({location.id[:8]})"
        choices = property_choices(self.hass)
        if user_input is not None:
            mapping = {
                location_id: "" if user_input[label] == NO_PROPERTY else user_input[label]
                for location_id, label in labels.items()
            }
            return self._save({CONF_LOCATIONS: mapping})
        mapping = coordinator.location_mapping
        options = [SelectOptionDict(value=NO_PROPERTY, label="—")] + [
            SelectOptionDict(value=identifier, label=name)
            for identifier, name in sorted(choices.items(), key=lambda item: item[1].casefold())
        ]
        selector = SelectSelector(SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN))
        current: dict[str, str] = {}
        for location in locations:
            linked = location_property(self.hass, mapping, location)
            current[labels[location.id]] = (
                linked[1] if linked is not None and linked[1] in choices else NO_PROPERTY
            )
        schema = vol.Schema({vol.Required(label): selector for label in labels.values()})
        return self.async_show_form(
            step_id="locations", data_schema=self.add_suggested_values_to_schema(schema, current)
        )

    async def async_step_webhook(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Receive RemoteLock's events by webhook: the integration creates (or removes) it at RemoteLock."""
        coordinator = self._remotelock()
        if coordinator is None:
            return self.async_abort(reason="remotelock_not_loaded")
        options = self.config_entry.options
        enabled = bool(options.get(CONF_WEBHOOK))
        errors: dict[str, str] = {}
        placeholders = {"url": "-", "error": ""}
        if user_input is not None:
            wanted = bool(user_input[CONF_WEBHOOK])
            if wanted == enabled:
                return self._save({})
            try:
                changes = await (
                    async_enable_webhook(self.hass, self.config_entry, coordinator)
                    if wanted
                    else async_disable_webhook(self.config_entry, coordinator)
                )
            except NoURLAvailableError:
                errors["base"] = "webhook_no_url"
            except ValidationError as err:
                errors["base"] = "webhook_refused"
                placeholders["error"] = f"\n\nRemoteLock: {err}"
            except ApiError as err:
                LOGGER.debug("RemoteLock webhook change failed: %s", err)
                errors["base"] = "webhook_failed"
            else:
                return self._save(changes)
        if enabled and options.get(CONF_WEBHOOK_ID):
            with contextlib.suppress(NoURLAvailableError):
                placeholders["url"] = webhook.async_generate_url(self.hass, options[CONF_WEBHOOK_ID])
        schema = vol.Schema({vol.Required(CONF_WEBHOOK): BooleanSelector()})
        return self.async_show_form(
            step_id="webhook",
            data_schema=self.add_suggested_values_to_schema(schema, {CONF_WEBHOOK: enabled}),
            errors=errors,
            description_placeholders=placeholders,
        )
