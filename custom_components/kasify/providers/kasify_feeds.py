"""The iCal feeds of a Kasify account's properties: Kasify's own channel calendars plus extra URLs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import hashlib
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..api.ical import FeedState, IcalEvent, IcalFeedClient, channel_from_url, normalize_feed_url
from ..const import CONF_FEED_INTERVAL, CONF_ICAL_FEEDS, CONF_PROPERTY, DOMAIN, LOGGER
from ..coordinator import KasifyConfigEntry
from ..scale import SlicedListeners, loop_turns

if TYPE_CHECKING:
    from .kasify import KasifyCoordinator

FEED_CHECK_INTERVAL: Final = timedelta(minutes=1)
MIN_FEED_INTERVAL: Final = timedelta(minutes=5)
DEFAULT_FEED_INTERVAL_MINUTES: Final = 30
CHANNEL_TITLES: Final = {"airbnb": "Airbnb", "booking": "Booking.com", "vrbo": "Vrbo", "smoobu": "Smoobu"}


def feed_id(url: str) -> str:
    """A stable id for a feed that does not reveal its URL (which embeds a secret token)."""
    return hashlib.sha256(url.strip().encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """What entities need to know about one iCal feed after a refresh (compares by value)."""

    feed_id: str
    property_id: str
    # Stable within the property: the channel for Kasify's own calendars (so a regenerated export link
    # keeps its sensor), the URL's hash for feeds added in the options.
    slug: str
    name: str
    channel: str | None
    status: str
    last_success: datetime | None
    last_change: datetime | None
    last_error: str | None
    event_count: int
    # The event in progress and the next few, for the calendar's current event.
    upcoming: tuple[IcalEvent, ...]
    extra: bool


@dataclass(frozen=True, slots=True)
class _FeedConfig:
    property_id: str
    slug: str
    url: str
    channel: str | None
    interval: timedelta
    extra: bool


class FeedCoordinator(SlicedListeners[dict[str, FeedStatus]]):
    """Keeps the iCal feeds of a Kasify account's properties (Kasify's own calendars plus extra URLs).

    Checks every minute which feeds are due (each has its own interval: Kasify's ``syncIntervalMinutes``,
    or the one set in the options) and refreshes only those, conditionally: an unchanged feed costs one
    request that answers 304, and no parse. Parsing runs in the executor. A broken feed never fails the
    refresh (its error is shown on its diagnostic sensor) and never takes the other sources down.
    """

    config_entry: KasifyConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KasifyConfigEntry,
        kasify: KasifyCoordinator,
        client: IcalFeedClient,
    ) -> None:
        """Follow ``kasify``'s properties; fetch with ``client``."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title} iCal feeds",
            update_interval=FEED_CHECK_INTERVAL,
            always_update=False,
        )
        self.kasify = kasify
        self.client = client
        self._states: dict[str, FeedState] = {}
        self._configs: dict[str, _FeedConfig] = {}
        self._turns = loop_turns(hass)
        # The statuses of each property, for the data they were indexed from.
        self._by_property: tuple[object, dict[str, tuple[FeedStatus, ...]]] = (None, {})

    def _wanted(self) -> dict[str, _FeedConfig]:
        """The feeds the account and the options ask for, by feed id."""
        wanted: dict[str, _FeedConfig] = {}
        for prop in self.kasify.data.properties.values():
            for index, calendar in enumerate(prop.calendars):
                if calendar.url:
                    minutes = calendar.sync_interval_minutes or DEFAULT_FEED_INTERVAL_MINUTES
                    slug = calendar.channel or f"calendar_{index}"
                    if f"{prop.id}-{slug}" in wanted:  # a second feed of the same channel
                        slug = f"{slug}_{index}"
                    wanted[f"{prop.id}-{slug}"] = _FeedConfig(
                        prop.id, slug, calendar.url, calendar.channel, timedelta(minutes=minutes), extra=False
                    )
        for extra in self.config_entry.options.get(CONF_ICAL_FEEDS, []):
            if extra[CONF_PROPERTY] in self.kasify.data.properties:
                slug = feed_id(extra[CONF_URL])
                wanted[f"{extra[CONF_PROPERTY]}-{slug}"] = _FeedConfig(
                    extra[CONF_PROPERTY],
                    slug,
                    extra[CONF_URL],
                    channel_from_url(extra[CONF_URL]),
                    timedelta(minutes=extra.get(CONF_FEED_INTERVAL, DEFAULT_FEED_INTERVAL_MINUTES)),
                    extra=True,
                )
        return wanted

    @property
    def feeds_changed(self) -> bool:
        """Whether the account or options now ask for other feeds than the ones kept."""
        return self._wanted().keys() != self._configs.keys()

    async def _async_update_data(self) -> dict[str, FeedStatus]:
        wanted = self._wanted()
        for key in self._states.keys() - wanted.keys():
            del self._states[key]
        for key, config in wanted.items():
            if key not in self._states or self._configs[key].url != config.url:
                self._states[key] = FeedState(config.url, channel=config.channel)
        self._configs = wanted

        now = dt_util.utcnow()
        due = [
            state
            for key, state in self._states.items()
            if state.last_attempt is None
            or now - state.last_attempt >= max(self._configs[key].interval, MIN_FEED_INTERVAL)
        ]
        if due:
            await self.client.refresh_many(
                due,
                default_zone=dt_util.get_default_time_zone(),
                run_in_executor=self.hass.async_add_executor_job,
            )
        # Each status reads the feed's next events: hundreds of feeds get the loop's turns in between.
        statuses: dict[str, FeedStatus] = {}
        for key, state in self._states.items():
            await self._turns.take()
            statuses[key] = self._status(key, state, now)
        return statuses

    def _status(self, key: str, state: FeedState, now: datetime) -> FeedStatus:
        config = self._configs[key]
        channel = state.channel
        return FeedStatus(
            feed_id=key,
            property_id=config.property_id,
            slug=config.slug,
            name=CHANNEL_TITLES.get(channel or "") or urlsplit(normalize_feed_url(config.url)).netloc,
            channel=channel,
            status=state.status,
            last_success=state.last_success,
            last_change=state.last_change,
            last_error=state.last_error,
            event_count=state.event_count,
            upcoming=tuple(state.upcoming(now, limit=3)),
            extra=config.extra,
        )

    async def async_events_between(
        self, property_id: str, start: datetime, end: datetime
    ) -> list[tuple[FeedStatus, IcalEvent]]:
        """Every feed event of a property overlapping ``[start, end)`` (queried in the executor)."""
        results: list[tuple[FeedStatus, IcalEvent]] = []
        for key, status in (self.data or {}).items():
            state = self._states.get(key)
            if status.property_id != property_id or state is None:
                continue
            events = await self.hass.async_add_executor_job(state.events_between, start, end)
            results.extend((status, event) for event in events)
        return results

    def statuses_for(self, property_id: str) -> tuple[FeedStatus, ...]:
        """The statuses of the property's feeds (indexed once per refresh: hundreds of calendars ask)."""
        data = self.data
        if self._by_property[0] is not data:
            index: dict[str, list[FeedStatus]] = {}
            for status in (data or {}).values():
                index.setdefault(status.property_id, []).append(status)
            self._by_property = (data, {pid: tuple(statuses) for pid, statuses in index.items()})
        return self._by_property[1].get(property_id, ())

    async def async_events_by_property(
        self, start: datetime, end: datetime
    ) -> dict[str, list[tuple[FeedStatus, IcalEvent]]]:
        """Every feed event overlapping ``[start, end)``, by property (one executor job for all feeds)."""
        feeds = [
            (status, state)
            for key, status in (self.data or {}).items()
            if (state := self._states.get(key)) is not None
        ]

        def read() -> dict[str, list[tuple[FeedStatus, IcalEvent]]]:
            results: dict[str, list[tuple[FeedStatus, IcalEvent]]] = {}
            for status, state in feeds:
                events = state.events_between(start, end)
                results.setdefault(status.property_id, []).extend((status, event) for event in events)
            return results

        return await self.hass.async_add_executor_job(read)

    def interval_of(self, key: str) -> timedelta:
        """How often a feed is read (its interval, at least the minimum)."""
        config = self._configs.get(key)
        return max(config.interval, MIN_FEED_INTERVAL) if config is not None else MIN_FEED_INTERVAL

    def state_of(self, key: str) -> FeedState | None:
        """The kept state of one feed (for diagnostics)."""
        return self._states.get(key)
