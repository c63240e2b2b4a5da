"""Double bookings and turnover gaps: repair issues raised, cleared and raised again after a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.kasify.const import (
    CONF_FEED_INTERVAL,
    CONF_ICAL_FEEDS,
    CONF_MIN_TURNOVER,
    CONF_PROPERTY,
    CONF_STAY_TIMES,
    DOMAIN,
)
from custom_components.kasify.stay_conflicts import Stay, find_conflicts
from simulator import Simulator
from simulator.clock import parse_iso

from . import setup_integration
from .providers import ENTRY_ID, KASIFY_OPTIONS, NOW, kasify_entry, move_to, readme_example, refresh


@pytest.fixture(autouse=True)
async def madrid(hass: HomeAssistant) -> None:
    """Home Assistant runs in Madrid (UTC+1 in March), like the host."""
    await hass.config.async_set_time_zone("Europe/Madrid")


def _issues(hass: HomeAssistant, kind: str) -> list[ir.IssueEntry]:
    return [
        issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith(f"{kind}_") and issue.active
    ]


def _studio_stays(simulator: Simulator) -> tuple[dict[str, Any], dict[str, Any]]:
    """The studio's next two stays (back to back: 11:00 out, 15:00 in)."""
    studio = simulator.kasify.property_at(1)
    upcoming = sorted(
        (
            b
            for b in simulator.kasify.bookings.values()
            if b["property_id"] == studio["id"]
            and b["status"] == "confirmed"
            and parse_iso(b["check_in"]) > NOW
        ),
        key=lambda b: b["check_in"],
    )
    return upcoming[0], upcoming[1]


def _reserved(uid: str, start: str, end: str, summary: str = "Reserved") -> str:
    return "\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTART;VALUE=DATE:{start}",
            f"DTEND;VALUE=DATE:{end}",
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    )


async def test_the_seeded_fleet_has_none(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Back-to-back stays 4 hours apart, each seen by Kasify and its channels' feeds: no issue."""
    assert _issues(hass, "double_booking") == []
    assert _issues(hass, "turnover_gap") == []
    assert init_integration.runtime_data.conflicts.conflicts == []


async def test_extended_stay_overlaps_the_next(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A stay extended into the next one: a double booking naming both guests and their times (no e-mail or
    phone); cut back, the issue goes."""
    first, second = _studio_stays(simulator)
    original_check_out = first["check_out"]
    simulator.kasify.update_booking(first["id"], check_out=parse_iso(second["check_in"]) + timedelta(days=1))
    await refresh(hass, init_integration)

    (issue,) = _issues(hass, "double_booking")
    assert issue.translation_key == "double_booking"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    placeholders = issue.translation_placeholders
    assert placeholders is not None
    assert placeholders["property"] == simulator.kasify.property_at(1)["name"]
    assert (placeholders["first"], placeholders["second"]) == (first["guest_name"], second["guest_name"])
    assert (placeholders["first_source"], placeholders["second_source"]) == ("Kasify", "Kasify")
    # Madrid time.
    local_check_in = dt_util.as_local(parse_iso(second["check_in"]))
    assert placeholders["second_check_in"] == local_check_in.strftime("%Y-%m-%d %H:%M")
    text = " ".join(placeholders.values())
    for booking in (first, second):
        assert booking["guest_email"] not in text
        assert booking["guest_phone"] not in text
    assert _issues(hass, "turnover_gap") == []

    simulator.kasify.update_booking(first["id"], check_out=original_check_out)
    await refresh(hass, init_integration)
    assert _issues(hass, "double_booking") == []


async def test_moved_check_out_leaves_too_little_turnover(hass: HomeAssistant, simulator: Simulator) -> None:
    """A check-out moved to 1 hour before the next check-in: a turnover-gap issue (minimum 3 h by default);
    the property's own minimum in the options decides (0.5 h: fine)."""
    first, second = _studio_stays(simulator)
    studio = simulator.kasify.property_at(1)["id"]
    simulator.kasify.update_booking(first["id"], check_out=parse_iso(second["check_in"]) - timedelta(hours=1))
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)

    (issue,) = _issues(hass, "turnover_gap")
    placeholders = issue.translation_placeholders
    assert placeholders is not None
    assert (placeholders["gap"], placeholders["minimum"]) == ("1 h", "3 h")
    assert (placeholders["first"], placeholders["second"]) == (first["guest_name"], second["guest_name"])
    assert _issues(hass, "double_booking") == []

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "stay_times"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"property": studio})
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"check_in_time": "15:00:00", "check_out_time": "11:00:00", CONF_MIN_TURNOVER: 0.5},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_STAY_TIMES][studio][CONF_MIN_TURNOVER] == 0.5
    await hass.async_block_till_done()
    assert _issues(hass, "turnover_gap") == []

    # The form shows the property's own minimum; a form sent without it keeps it.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "stay_times"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"property": studio})
    shown = {str(key): key.description for key in result["data_schema"].schema}
    assert shown[CONF_MIN_TURNOVER] == {"suggested_value": 0.5}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"check_in_time": "16:00:00", "check_out_time": "11:00:00"}
    )
    assert entry.options[CONF_STAY_TIMES][studio][CONF_MIN_TURNOVER] == 0.5


async def test_a_channel_only_stay_and_two_feeds(hass: HomeAssistant, simulator: Simulator) -> None:
    """An Airbnb reservation that is no Kasify booking overlapping one: a double booking (the feed's days at
    the property's check-in and check-out times); two feeds' reservations overlapping each other: another."""
    prop = simulator.kasify.add_property(
        "Casa de Pruebas",
        city="Sevilla",
        calendars=[{"channel": "airbnb", "url": "https://www.airbnb.es/calendar/ical/1.ics"}],
    )
    simulator.kasify.add_booking(
        prop["id"], "Ana García", datetime(2026, 3, 16, 14, tzinfo=UTC), datetime(2026, 3, 19, 10, tzinfo=UTC)
    )
    airbnb = simulator.ical.feed_id(prop["id"], "airbnb")
    simulator.ical.add_event(airbnb, _reserved("only-1@airbnb.com", "20260318", "20260321"))
    simulator.ical.add_event(airbnb, _reserved("only-2@airbnb.com", "20260326", "20260329"))
    simulator.ical.set_body(
        simulator.ical.feed_id(prop["id"], "smoobu"),
        "\r\n".join(  # noqa: FLY002 - one iCal line per list item
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Smoobu//EN",
                "BEGIN:VEVENT",
                "UID:smoobu-9",
                "DTSTART;TZID=Europe/Madrid:20260328T160000",
                "DTEND;TZID=Europe/Madrid:20260331T100000",
                "SUMMARY:Jane Roe",
                "END:VEVENT",
                "END:VCALENDAR",
                "",
            ]
        ),
    )
    entry = kasify_entry(simulator)
    entry.add_to_hass(hass)
    smoobu = {
        CONF_PROPERTY: prop["id"],
        CONF_URL: simulator.ical.feed_url(prop["id"], "smoobu"),
        CONF_FEED_INTERVAL: 15,
    }
    hass.config_entries.async_update_entry(entry, options={**KASIFY_OPTIONS, CONF_ICAL_FEEDS: [smoobu]})
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    issues = [issue.translation_placeholders or {} for issue in _issues(hass, "double_booking")]
    channel, feeds = sorted(issues, key=lambda placeholders: placeholders["first_check_in"])
    assert (channel["first"], channel["first_source"]) == ("Ana García", "Kasify")
    assert (channel["second"], channel["second_source"]) == ("Reserved", "Airbnb")
    # The feed's days are at the property's times (15:00 / 11:00 in Madrid).
    assert (channel["second_check_in"], channel["second_check_out"]) == (
        "2026-03-18 15:00",
        "2026-03-21 11:00",
    )
    assert (feeds["first"], feeds["first_source"]) == ("Reserved", "Airbnb")
    assert feeds["second"] == "Jane Roe"
    assert feeds["second_source"] not in ("Kasify", "Airbnb")
    # A feed's own times are kept.
    assert (feeds["first_check_in"], feeds["second_check_in"]) == ("2026-03-26 15:00", "2026-03-28 16:00")


async def test_issues_are_derived_again_after_a_restart(hass: HomeAssistant, simulator: Simulator) -> None:
    """Unloading takes the issues away; while down, one conflict is resolved and another appears; setting the
    entry up again raises exactly the ones that are true now."""
    first, second = _studio_stays(simulator)
    simulator.kasify.update_booking(first["id"], check_out=parse_iso(second["check_in"]) + timedelta(hours=2))
    entry = kasify_entry(simulator)
    await setup_integration(hass, entry)
    assert len(_issues(hass, "double_booking")) == 1

    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert _issues(hass, "double_booking") == []

    simulator.kasify.update_booking(
        first["id"], check_out=parse_iso(second["check_in"]) - timedelta(minutes=30)
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _issues(hass, "double_booking") == []
    (gap,) = _issues(hass, "turnover_gap")
    assert gap.translation_placeholders["gap"] == "30 min"  # type: ignore[index]


async def test_issues_stay_while_bookings_are_unknown(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Kasify does not understand the booking listing, or fails: the issues stay as they were."""
    first, second = _studio_stays(simulator)
    simulator.kasify.update_booking(first["id"], check_out=parse_iso(second["check_in"]) + timedelta(hours=2))
    await refresh(hass, init_integration)
    assert len(_issues(hass, "double_booking")) == 1
    simulator.faults.inject("/kasify/v1/bookings", method="GET", status=404)
    await refresh(hass, init_integration)
    assert len(_issues(hass, "double_booking")) == 1
    simulator.faults.clear()
    simulator.faults.inject("/kasify/", status=503)
    await refresh(hass, init_integration)
    assert len(_issues(hass, "double_booking")) == 1


async def test_issue_goes_once_the_overlap_is_over(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nothing to act on once the overlap has ended: the issue goes at that instant."""
    first, second = _studio_stays(simulator)
    overlap_end = parse_iso(second["check_in"]) + timedelta(hours=2)
    simulator.kasify.update_booking(first["id"], check_out=overlap_end)
    await refresh(hass, init_integration)
    assert len(_issues(hass, "double_booking")) == 1
    await move_to(hass, freezer, overlap_end - timedelta(minutes=1))
    assert len(_issues(hass, "double_booking")) == 1
    await move_to(hass, freezer, overlap_end + timedelta(seconds=1))
    assert _issues(hass, "double_booking") == []


@pytest.mark.parametrize("language", ["en", "es"])
async def test_issue_texts_render(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator, language: str
) -> None:
    """Both issues read in English and Spanish with every placeholder filled."""
    first, second = _studio_stays(simulator)
    simulator.kasify.update_booking(first["id"], check_out=parse_iso(second["check_in"]) + timedelta(hours=2))
    third = simulator.kasify.add_booking(
        simulator.kasify.property_at(1)["id"],
        "Late Guest",
        parse_iso(second["check_out"]) + timedelta(hours=1),
        parse_iso(second["check_out"]) + timedelta(days=2),
    )
    await refresh(hass, init_integration)
    translations = await async_get_translations(hass, language, "issues", [DOMAIN])
    for kind in ("double_booking", "turnover_gap"):
        issues = _issues(hass, kind)
        assert issues
        for issue in issues:
            for part in ("title", "description"):
                text = translations[f"component.{DOMAIN}.issues.{kind}.{part}"]
                rendered = text.format(**(issue.translation_placeholders or {}))
                assert "{" not in rendered
    gaps = [issue.translation_placeholders or {} for issue in _issues(hass, "turnover_gap")]
    assert {"second": third["guest_name"], "gap": "1 h"}.items() <= gaps[0].items()


def test_find_conflicts() -> None:
    """Overlaps pairwise; the gap to the next check-in only; nothing that no longer matters; 0 h: no gaps."""
    at = datetime(2026, 3, 14, tzinfo=UTC)

    def stay(key: str, start: float, end: float) -> Stay:
        return Stay(key, key, "Kasify", at + timedelta(hours=start), at + timedelta(hours=end))

    stays = [stay("a", 0, 10), stay("b", 12, 20), stay("c", 15, 30), stay("d", 31, 40), stay("e", 50, 60)]
    found = find_conflicts("p", stays, timedelta(hours=3), at)
    assert sorted((c.kind, c.first.key, c.second.key) for c in found) == [
        ("double_booking", "b", "c"),
        ("turnover_gap", "a", "b"),
        ("turnover_gap", "c", "d"),
    ]
    assert find_conflicts("p", stays, timedelta(0), at) == [c for c in found if c.kind == "double_booking"]
    later = find_conflicts("p", stays, timedelta(hours=3), at + timedelta(hours=21))
    assert sorted((c.kind, c.first.key, c.second.key) for c in later) == [("turnover_gap", "c", "d")]


async def test_readme_example_notifies_the_host(hass: HomeAssistant, simulator: Simulator) -> None:
    """The README's automation: a notification for each double booking or turnover gap, none for other
    repair cards (the missing lock accounts raised at setup)."""
    notified = async_mock_service(hass, "notify", "mobile_app_host_phone")
    example = readme_example("Double bookings and turnover gaps", {})
    assert await async_setup_component(hass, "automation", {"automation": [{"id": "readme", **example}]})
    first, second = _studio_stays(simulator)
    simulator.kasify.update_booking(first["id"], check_out=parse_iso(second["check_in"]) - timedelta(hours=1))
    await setup_integration(hass, kasify_entry(simulator))
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"missing_provider_nuki_{ENTRY_ID}") is not None
    assert len(notified) == 1
    assert notified[0].data["title"] == "Kasify"
