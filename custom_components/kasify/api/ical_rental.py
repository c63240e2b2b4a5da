"""Rental meaning of feed events: reservation or blocked, guest details, channel, duplicate markers.

Pure functions over unescaped text; the parser calls :func:`rental_details` once per event and
:func:`drop_stay_markers` on the events of a query window.

What hosts meet in real feeds:

- Airbnb: ``SUMMARY:Reserved`` with only the confirmation code in the description
  (``Reservation URL: https://www.airbnb.com/hosting/reservations/details/HM4XK2PQ9Z`` and
  ``Phone Number (Last 4 Digits): 1234``); host blocks are ``Airbnb (Not available)``.
- Booking.com: every closed night is ``CLOSED - Not available`` (guest stays cannot be told from host blocks).
- VRBO: ``Reserved - Jane D`` or ``Blocked``.
- Channel managers (Smoobu, Lodgify, ...): the guest name as summary, ``Guests: 3``, ``Booking ID: 4711``,
  and sometimes separate one-day ``Check-in`` / ``Check-out`` entries next to the stay itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
import re
from typing import Final
from urllib.parse import urlsplit

from .ical_models import EventKind, IcalEvent

_BLOCKED: Final = re.compile(
    r"^\W*(?:airbnb\s*\(\s*)?"
    r"(?:blocked|block|not\s+available|unavailable|closed|no\s+disponible|bloquead[oa]|"
    r"nicht\s+verf[uü]gbar|indisponible|owner\s+block)\b",
    re.IGNORECASE,
)
_RESERVED: Final = re.compile(
    r"^\W*(?:airbnb\s*\(\s*)?"
    r"(?:reserved|reservation|booked|booking|reserva|reservad[oa]|r[ée]serv[ée]|gebucht|belegt)\b"
    r"\s*\)?\s*(?:[-\u2013\u2014:|]\s*(?P<rest>.*?))?\s*$",
    re.IGNORECASE,
)
_MARKER: Final = re.compile(
    r"^\W*(?P<role>check[\s-]?in|check[\s-]?out|arrival|departure|anreise|abreise|llegada|salida)\b"
    r"\s*(?:[-\u2013\u2014:|]\s*)?(?P<rest>.*?)\s*$",
    re.IGNORECASE,
)
_AIRBNB_CODE: Final = re.compile(r"\b(HM[A-Z0-9]{8})\b")
_LABELLED: Final = re.compile(r"\s*([^:=#\n]{1,48}?)\s*[:=#]\s*(.*?)\s*$")
_PHONE_LABEL: Final = re.compile(r"last\s*(?:4|four)")
_FOUR_DIGITS: Final = re.compile(r"\d{4}")
_NUMBER: Final = re.compile(r"(\d{1,3})\b")
_BOOKING_LABEL: Final = re.compile(
    r"(?:booking|reservation|reserva|buchung)\s*(?:id|number|no\.?|nr\.?|n[ºo°]\.?|#|ref(?:erence)?)$"
)
_CODE_LABEL: Final = re.compile(r"(?:confirmation|reservation|booking)\s*code$")
_TOKEN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_GUEST_COUNT_LABELS: Final = frozenset(
    {
        "guests",
        "guest",
        "number of guests",
        "no. of guests",
        "no of guests",
        "guest count",
        "huéspedes",
        "huespedes",
        "personas",
        "gäste",
        "gaste",
        "pax",
        "occupancy",
    }
)
_ADULT_LABELS: Final = frozenset({"adults", "adult", "adultos", "erwachsene"})
_CHILD_LABELS: Final = frozenset({"children", "child", "kids", "niños", "ninos", "kinder"})
_NAME_LABELS: Final = frozenset({"guest", "guest name", "name", "nombre", "huésped", "huesped", "gast"})

BOOKING_CHANNELS: Final = frozenset(
    {"airbnb", "vrbo", "booking", "smoobu", "lodgify", "hostaway", "guesty", "beds24", "expedia", "holidu"}
)
"""Channels whose feeds list only stays and closed dates: an entry that is not blocked is a reservation."""

_HOST_CHANNELS: Final = (
    ("airbnb.", "airbnb"),
    ("booking.com", "booking"),
    ("vrbo.", "vrbo"),
    ("homeaway.", "vrbo"),
    ("abritel.", "vrbo"),
    ("fewo-direkt.", "vrbo"),
    ("smoobu.", "smoobu"),
    ("lodgify.", "lodgify"),
    ("hostaway.", "hostaway"),
    ("guesty.", "guesty"),
    ("beds24.", "beds24"),
    ("google.com", "google"),
)
_PRODID_CHANNELS: Final = (
    ("airbnb", "airbnb"),
    ("booking.com", "booking"),
    ("homeaway", "vrbo"),
    ("vrbo", "vrbo"),
    ("smoobu", "smoobu"),
    ("lodgify", "lodgify"),
    ("hostaway", "hostaway"),
    ("guesty", "guesty"),
    ("beds24", "beds24"),
    ("google", "google"),
)
_MAX_MARKER_LENGTH: Final = timedelta(days=1)


def channel_from_url(url: str | None) -> str | None:
    """The channel a feed URL belongs to, from its host (``None`` when unknown)."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return next((channel for needle, channel in _HOST_CHANNELS if needle in host), None)


def channel_from_prodid(prodid: str | None) -> str | None:
    """The channel a feed comes from, from its ``PRODID`` (``-//Airbnb Inc//Hosting Calendar//EN``)."""
    if not prodid:
        return None
    text = prodid.lower()
    return next((channel for needle, channel in _PRODID_CHANNELS if needle in text), None)


def _channel_from_uid(uid: str) -> str | None:
    _, at, domain = uid.rpartition("@")
    if not at:
        return None
    domain = domain.lower()
    return next((channel for needle, channel in _HOST_CHANNELS if needle in domain), None)


@dataclass(frozen=True, slots=True)
class RentalDetails:
    """What :func:`rental_details` read from one event."""

    kind: EventKind
    guest_name: str | None = None
    reservation_code: str | None = None
    booking_id: str | None = None
    phone_last4: str | None = None
    guests: int | None = None
    channel: str | None = None


def _clean_name(value: str | None) -> str | None:
    if not value:
        return None
    name = value.strip(" \t-\u2013\u2014:|()")
    if not name or name.isdigit() or _AIRBNB_CODE.fullmatch(name) or len(name) > 120:
        return None
    return name


@dataclass(slots=True)
class _Described:
    """What the labelled lines of a description said."""

    code: str | None = None
    booking_id: str | None = None
    phone_last4: str | None = None
    guests: int | None = None
    adults: int | None = None
    children: int | None = None
    name: str | None = None

    def guest_count(self) -> int | None:
        if self.guests is not None:
            return self.guests
        if self.adults is None and self.children is None:
            return None
        return (self.adults or 0) + (self.children or 0)


def _read_line(found: _Described, label: str, value: str) -> None:
    """Record what one ``Label: value`` line of a description says."""
    if _PHONE_LABEL.search(label):
        if found.phone_last4 is None and (digits := _FOUR_DIGITS.search(value)):
            found.phone_last4 = digits.group()
        return
    number = _NUMBER.match(value)
    if label in _GUEST_COUNT_LABELS and number:
        if found.guests is None:
            found.guests = int(number.group(1))
        return
    if label in _ADULT_LABELS and number:
        found.adults = found.adults if found.adults is not None else int(number.group(1))
        return
    if label in _CHILD_LABELS and number:
        found.children = found.children if found.children is not None else int(number.group(1))
        return
    if label in _NAME_LABELS:
        found.name = found.name or _clean_name(value)
        return
    token = _TOKEN.match(value)
    if token is None:
        return
    if _CODE_LABEL.search(label):
        found.code = found.code or token.group()
    elif _BOOKING_LABEL.search(label):
        found.booking_id = found.booking_id or token.group()


def _describe(description: str) -> _Described:
    found = _Described()
    for line in description.splitlines():
        match = _LABELLED.match(line)
        if match is not None:
            label = " ".join(match.group(1).casefold().split())
            _read_line(found, label, match.group(2))
    return found


def rental_details(
    summary: str, description: str | None, uid: str, channel: str | None, *, marker_sized: bool
) -> RentalDetails:
    """Classify one event and pull the guest details out of its summary and description.

    ``marker_sized`` tells whether the event lasts at most a day (only such entries can be "Check-in" /
    "Check-out" markers). Blocked entries carry no guest details.
    """
    channel = channel or _channel_from_uid(uid)
    if _BLOCKED.match(summary):
        return RentalDetails(EventKind.BLOCKED, channel=channel)
    text = description or ""
    found = _describe(text) if text else _Described()
    code_match = _AIRBNB_CODE.search(text) or _AIRBNB_CODE.search(summary)
    code = code_match.group(1) if code_match else found.code
    guests = found.guest_count()

    marker = _MARKER.match(summary) if marker_sized else None
    reserved = _RESERVED.match(summary) if marker is None else None
    if marker is not None:
        kind = EventKind.OTHER
        guest_name = _clean_name(marker.group("rest")) or found.name
    elif reserved is not None:
        kind = EventKind.RESERVATION
        guest_name = _clean_name(reserved.group("rest")) or found.name
    elif code or found.booking_id or found.phone_last4 or guests is not None or channel in BOOKING_CHANNELS:
        kind = EventKind.RESERVATION
        guest_name = found.name or _clean_name(summary)
    else:
        return RentalDetails(EventKind.OTHER, channel=channel)
    return RentalDetails(
        kind,
        guest_name=guest_name,
        reservation_code=code,
        booking_id=found.booking_id,
        phone_last4=found.phone_last4,
        guests=guests,
        channel=channel,
    )


def marker_role(event: IcalEvent) -> str | None:
    """``"check_in"`` / ``"check_out"`` for a one-day "Check-in"/"Check-out" marker entry, else ``None``."""
    if event.kind is not EventKind.OTHER:
        return None
    match = _MARKER.match(event.summary)
    if match is None or not marker_sized(event.start, event.end):
        return None
    role = match.group("role").lower().replace(" ", "").replace("-", "")
    return "check_in" if role in ("checkin", "arrival", "anreise", "llegada") else "check_out"


def marker_sized(start: date, end: date) -> bool:
    """Whether an event from ``start`` to ``end`` is short enough (a day at most) to be a check-in marker."""
    if isinstance(start, datetime) and isinstance(end, datetime):
        return end - start <= _MAX_MARKER_LENGTH
    return (end - start).days <= 1


def drop_stay_markers(
    events: Sequence[IcalEvent], context: Sequence[IcalEvent], zone: tzinfo
) -> list[IcalEvent]:
    """Remove "Check-in"/"Check-out" markers that duplicate a stay's arrival or departure.

    A marker goes when some stay in ``context`` (a reservation, or another entry longer than a day, that is
    not itself a marker) starts (check-in) or ends (check-out) on the marker's local date in ``zone``. Markers
    with no such stay stay visible. ``context`` must contain every event within a day of each marker.
    """
    roles = [marker_role(event) for event in events]
    if not any(roles):
        return list(events)
    arrivals: set[date] = set()
    departures: set[date] = set()
    for event in context:
        if event.kind is EventKind.BLOCKED or marker_role(event) is not None:
            continue
        if event.kind is not EventKind.RESERVATION and marker_sized(event.start, event.end):
            continue
        first, last = event.local_dates(zone)
        arrivals.add(first)
        departures.add(last)
    kept: list[IcalEvent] = []
    for event, role in zip(events, roles, strict=True):
        if role is not None:
            day = event.local_dates(zone)[0]
            if day in (arrivals if role == "check_in" else departures):
                continue
        kept.append(event)
    return kept
