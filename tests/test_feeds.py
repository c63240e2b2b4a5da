"""iCal feeds on the property calendar: merge and dedupe, blocked dates, broken feeds, 304s, time zones,
the per-feed sync sensor and the options that add and remove feeds (against the simulator)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.kasify.const import CONF_FEED_INTERVAL, CONF_ICAL_FEEDS, CONF_PROPERTY
from custom_components.kasify.providers.kasify_feeds import feed_id
from simulator import Simulator

from .providers import NOW, calendar_events, tick

LOFT_SENSOR = "sensor.loft_patio_lavapies_airbnb_calendar_sync"


def _new_property_with_airbnb(simulator: Simulator) -> dict[str, Any]:
    """An empty property whose Airbnb calendar the simulator serves (picked up at the next refresh)."""
    return simulator.kasify.add_property(
        "Casa de Pruebas",
        city="Sevilla",
        calendars=[
            {
                "channel": "airbnb",
                "url": "https://www.airbnb.es/calendar/ical/1.ics",
                "syncIntervalMinutes": 60,
            }
        ],
    )


async def test_feed_sync_sensors(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Each Kasify calendar feed has a diagnostic sensor: last sync, status, events."""
    state = hass.states.get(LOFT_SENSOR)
    assert state is not None
    assert datetime.fromisoformat(state.state) == NOW
    assert state.attributes["status"] == "ok"
    assert state.attributes["events"] > 0
    assert state.attributes["last_error"] is None
    assert "url" not in state.attributes
    booking = hass.states.get("sensor.loft_patio_lavapies_booking_com_calendar_sync")
    assert booking is not None
    assert booking.attributes["status"] == "ok"


async def test_merge_dedupe_and_blocked(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A stay that is a Kasify booking shows once; blocks show as blocked; feed-only stays as reserved."""
    prop = _new_property_with_airbnb(simulator)
    feed = simulator.ical.feed_id(prop["id"], "airbnb")
    booking = simulator.kasify.add_booking(
        prop["id"],
        "Ana García",
        datetime(2026, 3, 16, 14, tzinfo=UTC),
        datetime(2026, 3, 19, 10, tzinfo=UTC),
        channel="airbnb",
        external_reference="HMABC12345",
    )
    simulator.kasify.add_block(
        prop["id"], datetime(2026, 3, 22, tzinfo=UTC), datetime(2026, 3, 24, tzinfo=UTC), source="airbnb"
    )
    simulator.ical.add_event(
        feed,
        "\n".join(  # noqa: FLY002 - one iCal line per list item
            [
                "BEGIN:VEVENT",
                "UID:feed-only-1@airbnb.com",
                "DTSTART;VALUE=DATE:20260326",
                "DTEND;VALUE=DATE:20260329",
                "SUMMARY:Reserved",
                "DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMZZZ99999",
                "END:VEVENT",
            ]
        ),
    )
    # The next Kasify refresh finds the property, and its feed is read at once.
    await init_integration.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)

    events = await calendar_events(hass, "calendar.casa_de_pruebas_bookings", NOW, NOW + timedelta(days=30))
    assert [e["summary"] for e in events] == ["Ana García", "Blocked (Airbnb)", "Reserved (Airbnb)"]
    assert booking["id"] in events[0]["description"]
    assert events[1]["start"] == "2026-03-22"
    assert events[2]["start"] == "2026-03-26"

    hass.config.language = "es"
    events = await calendar_events(hass, "calendar.casa_de_pruebas_bookings", NOW, NOW + timedelta(days=30))
    assert [e["summary"] for e in events][1:] == ["Bloqueado (Airbnb)", "Reservado (Airbnb)"]


async def test_seeded_calendar_shows_each_stay_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The loft's Airbnb and Booking.com feeds mirror its Kasify bookings: nothing appears twice."""
    loft = simulator.kasify.property_at(0)
    end = NOW + timedelta(days=60)
    events = await calendar_events(hass, "calendar.loft_patio_lavapies_bookings", NOW, end)
    stays = [
        b
        for b in simulator.kasify.bookings.values()
        if b["property_id"] == loft["id"]
        and b["status"] != "cancelled"
        and datetime.fromisoformat(b["check_in"]) < end
        and datetime.fromisoformat(b["check_out"]) > NOW
    ]
    guests = sorted(e["summary"] for e in events if not e["summary"].startswith("Blocked"))
    assert guests == sorted(b["guest_name"] for b in stays)
    assert not [e for e in events if e["summary"].startswith("Reserved")]


async def test_conditional_get_and_broken_feed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An unchanged feed answers 304; a broken one keeps its last events and shows its error."""
    loft = simulator.kasify.property_at(0)
    airbnb = simulator.ical.feed_id(loft["id"], "airbnb")
    before = await calendar_events(
        hass, "calendar.loft_patio_lavapies_bookings", NOW, NOW + timedelta(days=60)
    )
    assert any(e["summary"].startswith("Blocked") for e in before) or before

    simulator.reset_requests()
    await tick(hass, freezer, timedelta(minutes=61))
    feed_requests = [r for r in simulator.requests if r.path == f"/ical/{airbnb}.ics"]
    assert [r.status for r in feed_requests] == [304]
    state = hass.states.get(LOFT_SENSOR)
    assert datetime.fromisoformat(state.state) == NOW + timedelta(minutes=61)

    simulator.ical.break_feed(airbnb, "html")
    await tick(hass, freezer, timedelta(minutes=61))
    state = hass.states.get(LOFT_SENSOR)
    assert state.attributes["status"] == "error"
    assert state.attributes["last_error"]
    assert datetime.fromisoformat(state.state) == NOW + timedelta(minutes=61)  # the last good sync
    after = await calendar_events(
        hass, "calendar.loft_patio_lavapies_bookings", NOW, NOW + timedelta(days=60)
    )
    assert after == before


async def test_extra_feed_time_zones(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """An extra feed from the options: TZID times become the right instants; all-day stays dates."""
    prop = simulator.kasify.add_property("Casa Horaria", city="Madrid")
    smoobu = simulator.ical.feed_id(prop["id"], "smoobu")
    simulator.ical.set_body(
        smoobu,
        "\r\n".join(  # noqa: FLY002 - one iCal line per list item
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Test//EN",
                "BEGIN:VEVENT",
                "UID:tz-1",
                "DTSTART;TZID=America/New_York:20260320T150000",
                "DTEND;TZID=America/New_York:20260322T110000",
                "SUMMARY:John Doe",
                "DESCRIPTION:Guests: 2",
                "END:VEVENT",
                "BEGIN:VEVENT",
                "UID:day-1",
                "DTSTART;VALUE=DATE:20260401",
                "DTEND;VALUE=DATE:20260403",
                "SUMMARY:Not available",
                "END:VEVENT",
                "END:VCALENDAR",
                "",
            ]
        ),
    )
    # The URL is only known once the simulator serves, so the options are set now.
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={
            **mock_config_entry.options,
            CONF_ICAL_FEEDS: [
                {
                    CONF_PROPERTY: prop["id"],
                    CONF_URL: simulator.ical.feed_url(prop["id"], "smoobu"),
                    CONF_FEED_INTERVAL: 15,
                }
            ],
        },
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    events = await calendar_events(hass, "calendar.casa_horaria_bookings", NOW, NOW + timedelta(days=30))
    assert [e["summary"] for e in events] == ["John Doe", f"Blocked ({simulator.base_url.split('//')[1]})"]
    assert datetime.fromisoformat(events[0]["start"]) == datetime(2026, 3, 20, 19, tzinfo=UTC)
    assert datetime.fromisoformat(events[0]["end"]) == datetime(2026, 3, 22, 15, tzinfo=UTC)
    assert (events[1]["start"], events[1]["end"]) == ("2026-04-01", "2026-04-03")
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor",
        "kasify",
        f"property_{prop['id']}-feed_{feed_id(simulator.ical.feed_url(prop['id'], 'smoobu'))}",
    )
    sensor = hass.states.get(entity_id)
    assert sensor.attributes["added_in_options"] is True
    assert sensor.attributes["status"] == "ok"


async def _options_add_feed(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "add_feed"})


async def test_options_add_and_remove_feed(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A feed URL is checked by fetching it; bad ones get a clear error and change nothing."""
    loft = simulator.kasify.property_at(0)
    result = await _options_add_feed(hass, init_integration)
    assert result["step_id"] == "add_feed"
    flow_id = result["flow_id"]

    async def submit(url: str) -> dict[str, Any]:
        return await hass.config_entries.options.async_configure(
            flow_id, {CONF_PROPERTY: loft["id"], CONF_URL: url, CONF_FEED_INTERVAL: 20}
        )

    smoobu = simulator.ical.feed_id(loft["id"], "smoobu")
    smoobu_url = simulator.ical.feed_url(loft["id"], "smoobu")
    assert (await submit("ftp://example.com/cal.ics"))["errors"] == {CONF_URL: "invalid_feed_url"}
    # The export link is a secret (its token is in the URL): never fetched in clear text beyond this machine.
    assert (await submit("http://example.com/cal.ics"))["errors"] == {CONF_URL: "insecure_url"}
    airbnb_url = simulator.ical.feed_url(loft["id"], "airbnb")
    assert (await submit(airbnb_url))["errors"] == {CONF_URL: "feed_exists"}
    simulator.ical.break_feed(smoobu, "404")
    assert (await submit(smoobu_url))["errors"] == {CONF_URL: "feed_not_found"}
    simulator.ical.break_feed(smoobu, "403")
    assert (await submit(smoobu_url))["errors"] == {CONF_URL: "feed_refused"}
    simulator.ical.break_feed(smoobu, "html")
    assert (await submit(smoobu_url))["errors"] == {CONF_URL: "not_ical"}
    simulator.ical.break_feed(smoobu, "500")
    assert (await submit(smoobu_url))["errors"] == {"base": "cannot_connect"}
    assert CONF_ICAL_FEEDS not in init_integration.options

    simulator.ical.restore(smoobu)
    with patch.object(hass.config_entries, "async_schedule_reload") as reload:
        result = await submit(smoobu_url)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    reload.assert_called_once_with(init_integration.entry_id)
    assert init_integration.options[CONF_ICAL_FEEDS] == [
        {CONF_PROPERTY: loft["id"], CONF_URL: smoobu_url, CONF_FEED_INTERVAL: 20}
    ]
    assert init_integration.options["scan_interval"] == 60

    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["menu_options"] == ["settings", "stay_times", "add_feed", "access_codes", "remove_feed"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "remove_feed"}
    )
    (option,) = result["data_schema"].schema[CONF_ICAL_FEEDS].config["options"]
    assert option["value"] == feed_id(smoobu_url)
    assert smoobu_url not in option["label"]  # the secret link is not shown, only its host
    with patch.object(hass.config_entries, "async_schedule_reload"):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_ICAL_FEEDS: [feed_id(smoobu_url)]}
        )
    assert init_integration.options[CONF_ICAL_FEEDS] == []


async def test_options_need_a_loaded_entry(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    """Feeds can only be added once the account is loaded (the form lists its properties)."""
    mock_config_entry.add_to_hass(hass)
    result = await _options_add_feed(hass, mock_config_entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"


async def test_feed_only_stay_is_the_current_event(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A stay only the channel knows, happening now, is the calendar's current event."""
    prop = _new_property_with_airbnb(simulator)
    simulator.ical.add_event(
        simulator.ical.feed_id(prop["id"], "airbnb"),
        "\n".join(  # noqa: FLY002 - one iCal line per list item
            [
                "BEGIN:VEVENT",
                "UID:now-1@airbnb.com",
                "DTSTART;VALUE=DATE:20260313",
                "DTEND;VALUE=DATE:20260316",
                "SUMMARY:Reserved",
                "END:VEVENT",
            ]
        ),
    )
    await init_integration.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    state = hass.states.get("calendar.casa_de_pruebas_bookings")
    assert state.state == "on"
    assert state.attributes["message"] == "Reserved (Airbnb)"
