"""Rental meaning of feed entries: classification, description lines, channels, stay markers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from custom_components.kasify.api.ical import EventKind, IcalEvent
from custom_components.kasify.api.ical_rental import (
    channel_from_prodid,
    channel_from_url,
    drop_stay_markers,
    marker_role,
    rental_details,
)


@pytest.mark.parametrize(
    "summary",
    [
        "Blocked",
        "Not available",
        "Airbnb (Not available)",
        "CLOSED - Not available",
        "CLOSED",
        "closed \u2013 not available",
        "Unavailable",
        "No disponible",
        "Bloqueado",
        "Blocked - owner stay",
    ],
)
def test_blocked_titles(summary: str) -> None:
    details = rental_details(summary, "Guests: 3", "x@airbnb.com", None, marker_sized=False)
    assert details.kind is EventKind.BLOCKED
    assert details.guests is None  # blocked entries carry no guest details
    assert details.channel == "airbnb"


@pytest.mark.parametrize(
    ("summary", "guest"),
    [
        ("Reserved", None),
        ("Airbnb (Reserved)", None),
        ("Reserved - Jane D", "Jane D"),
        ("Reserved: Jane Doe", "Jane Doe"),
        ("Booked", None),
        ("Reserva - Ana", "Ana"),
    ],
)
def test_reserved_titles(summary: str, guest: str | None) -> None:
    details = rental_details(summary, None, "1", None, marker_sized=False)
    assert details.kind is EventKind.RESERVATION
    assert details.guest_name == guest


def test_description_lines_become_attributes() -> None:
    description = (
        "Reservation URL: https://www.airbnb.com/hosting/reservations/details/HM2ABCDEFG\n"
        "Phone Number (Last 4 Digits): 1234\n"
        "Guests: 3\n"
        "Booking ID: 98765\n"
        "Guest name: Pat O'Brien\n"
    )
    details = rental_details("Reserved", description, "1", "airbnb", marker_sized=False)
    assert details.reservation_code == "HM2ABCDEFG"
    assert details.phone_last4 == "1234"
    assert details.guests == 3
    assert details.booking_id == "98765"
    assert details.guest_name == "Pat O'Brien"


@pytest.mark.parametrize(
    ("description", "field", "value"),
    [
        ("Reservation ID: ABC-123", "booking_id", "ABC-123"),
        ("Booking number: 42", "booking_id", "42"),
        ("Confirmation code: XK12PQ", "reservation_code", "XK12PQ"),
        ("Adults: 2\nChildren: 2", "guests", 4),
        ("Number of guests: 5", "guests", 5),
        ("Huéspedes: 2", "guests", 2),
        ("Last 4 digits: 0042", "phone_last4", "0042"),
        ("Guest: 3", "guests", 3),
        ("Name: 12345", "guest_name", None),
        ("Booking ID: ---\nGuests: 2", "booking_id", None),
    ],
)
def test_description_variants(description: str, field: str, value: object) -> None:
    details = rental_details("Somebody", description, "1", None, marker_sized=False)
    assert getattr(details, field) == value
    # Any of these details makes the entry a reservation; a name alone (and a numeric one at that) does not.
    assert details.kind is (EventKind.OTHER if field == "guest_name" else EventKind.RESERVATION)


def test_plain_entries_of_unknown_channels_are_other_and_of_booking_channels_reservations() -> None:
    assert rental_details("Cleaning", None, "1", None, marker_sized=True).kind is EventKind.OTHER
    stay = rental_details("Anna Schmidt", None, "1", "smoobu", marker_sized=False)
    assert (stay.kind, stay.guest_name) == (EventKind.RESERVATION, "Anna Schmidt")
    code_only = rental_details("HM2ABCDEFG", None, "1", "airbnb", marker_sized=False)
    assert (code_only.guest_name, code_only.reservation_code) == (None, "HM2ABCDEFG")


def test_channels_from_urls_and_prodids() -> None:
    assert channel_from_url("https://www.airbnb.co.uk/calendar/ical/1.ics?s=x") == "airbnb"
    assert channel_from_url("https://ical.booking.com/v1/export?t=x") == "booking"
    assert channel_from_url("http://www.vrbo.com/icalendar/x.ics") == "vrbo"
    assert channel_from_url("https://example.org/x.ics") is None
    assert channel_from_url(None) is None
    assert channel_from_prodid("-//Airbnb Inc//Hosting Calendar 0.8.8//EN") == "airbnb"
    assert channel_from_prodid("-//HomeAway.com, Inc.//EN") == "vrbo"
    assert channel_from_prodid(None) is None


def _event(summary: str, start: date, end: date, kind: EventKind = EventKind.OTHER) -> IcalEvent:
    return IcalEvent(uid=summary, start=start, end=end, summary=summary, kind=kind)


def test_markers_drop_only_next_to_a_stay() -> None:
    stay = _event("Ana", date(2026, 3, 1), date(2026, 3, 5), EventKind.RESERVATION)
    check_in = _event("Check-in: Ana", date(2026, 3, 1), date(2026, 3, 2))
    check_out = _event("Checkout", date(2026, 3, 5), date(2026, 3, 6))
    lonely = _event("Arrival", date(2026, 3, 9), date(2026, 3, 10))
    cleaning = _event("Cleaning", date(2026, 3, 9), date(2026, 3, 10))
    assert marker_role(check_in) == "check_in"
    assert marker_role(check_out) == "check_out"
    assert marker_role(stay) is None
    events = [stay, check_in, check_out, lonely, cleaning]
    # A one-day "other" entry is not a stay: "Arrival" next to "Cleaning" stays.
    assert drop_stay_markers(events, events, UTC) == [stay, lonely, cleaning]
    timed = IcalEvent(
        uid="t",
        start=datetime(2026, 3, 9, 15, tzinfo=UTC),
        end=datetime(2026, 3, 9, 15, tzinfo=UTC),
        summary="Check-in",
        kind=EventKind.OTHER,
    )
    assert marker_role(timed) == "check_in"
    assert timed.local_dates(UTC) == (date(2026, 3, 9), date(2026, 3, 9))
    assert timed.mentions("abc") is False  # too short to mean anything
    assert drop_stay_markers([timed], [timed], UTC) == [timed]
