"""In-memory casavi state: one manager account (tenant), its seeded data and the tokens issued.

Records are kept as the JSON objects the casavi manager API v2 returns, so the routes in
:mod:`simulator.casavi` serve them as they are; the ``add_*`` and ``set_*`` helpers are what tests call to set
up a scenario. Tokens expire after :attr:`CasaviState.token_ttl` of simulated time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
import random
from typing import Any, Final, Literal
import uuid
from zoneinfo import ZoneInfo

from .clock import Clock, as_instant, iso
from .errors import NotFoundError

type Json = dict[str, Any]
type LinkStyle = Literal["url", "path", "page"]

DEFAULT_KEY: Final = "sim-casavi-key"
DEFAULT_SECRET: Final = "sim-casavi-secret"  # noqa: S105 - the simulator's well-known test secret
DEFAULT_TOKEN_TTL: Final = timedelta(hours=1)
DEFAULT_TENANT: Final = "4711"
TICKET_STATUSES: Final = ("OPEN", "IN_PROGRESS", "CLOSED")
APP_ORIGIN: Final = "https://app.mycasavi.com"
LOCAL_ZONE: Final = ZoneInfo("Europe/Berlin")


def casavi_time(value: datetime) -> str:
    """Format an instant as casavi's date-time text: UTC with milliseconds (``2017-04-11T09:53:42.891Z``)."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class CasaviState:
    """One casavi account (tenant): properties, units, appointments, tickets and the tokens issued."""

    def __init__(
        self,
        *,
        clock: Clock,
        seed: int = 1,
        key: str = DEFAULT_KEY,
        secret: str = DEFAULT_SECRET,
        token_ttl: timedelta = DEFAULT_TOKEN_TTL,
        tenant_id: str = DEFAULT_TENANT,
    ) -> None:
        """Create an empty account that accepts ``key`` and ``secret``."""
        self.clock = clock
        self.key = key
        self.secret = secret
        self.token_ttl = token_ttl
        self.tenant_id = tenant_id
        self.link_style: LinkStyle = "url"
        self.properties: dict[str, Json] = {}
        self.units: dict[str, Json] = {}
        self.appointments: dict[str, Json] = {}
        self.tickets: dict[str, Json] = {}
        self.tokens: dict[str, datetime] = {}
        self.tokens_issued = 0
        self._rng = random.Random(f"casavi-{seed}")
        self._internal_ids = iter(range(41000, 1_000_000))

    # -- basics ----------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated current instant."""
        return self.clock.now()

    def _internal_id(self) -> int:
        return next(self._internal_ids)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def summary(self) -> Json:
        """Counts of every kind of record, plus the credentials (it is a simulator)."""
        return {
            "key": self.key,
            "secret": self.secret,
            "tenant": self.tenant_id,
            "token_ttl_seconds": self.token_ttl.total_seconds(),
            "tokens_issued": self.tokens_issued,
            "properties": len(self.properties),
            "units": len(self.units),
            "appointments": len(self.appointments),
            "tickets": len(self.tickets),
        }

    # -- tokens ----------------------------------------------------------------------------------------------

    def issue_token(self) -> Json:
        """A new token valid for :attr:`token_ttl` from now: ``{"token", "expiresAt"}``."""
        token = self._uuid()
        expires_at = self.now() + self.token_ttl
        self.tokens[token] = expires_at
        self.tokens_issued += 1
        return {"token": token, "expiresAt": iso(expires_at)}

    def token_valid(self, token: str | None) -> bool:
        """Whether ``token`` was issued here and has not expired."""
        if token is None or token not in self.tokens:
            return False
        return self.now() < self.tokens[token]

    def revoke_tokens(self) -> None:
        """Forget every token (the next request with one gets 401)."""
        self.tokens.clear()

    # -- records ---------------------------------------------------------------------------------------------

    def add_property(
        self,
        property_id: str,
        name: str,
        *,
        street: str,
        city: str,
        postal_code: str,
        country: str = "Germany",
        note: str | None = None,
        images: Iterable[str] = (),
    ) -> Json:
        """Add a property with one address."""
        internal = self._internal_id()
        record: Json = {
            "id": property_id,
            "internalId": internal,
            "name": name,
            "note": note,
            "country": country,
            "city": city,
            "postalCode": postal_code,
            "number": property_id.rsplit("-", 1)[-1],
            "images": list(images),
            "addresses": [{"street": street, "units": []}],
            "responsibilities": [],
            "customFields": {},
            "appLink": f"{APP_ORIGIN}/tenant/{self.tenant_id}/manage/communities/{internal}",
        }
        self.properties[property_id] = record
        return record

    def get_property(self, property_id: str) -> Json:
        """The property, or a 404 "Property not found"."""
        if property_id not in self.properties:
            raise NotFoundError("Property not found")
        return self.properties[property_id]

    def add_unit(
        self,
        property_id: str,
        unit_id: str,
        name: str,
        *,
        purpose: str = "private",
        floor: str | None = None,
        area: str | None = None,
        rooms: str | None = None,
    ) -> Json:
        """Add a unit to a property (and to its first address's unit list)."""
        prop = self.get_property(property_id)
        internal = self._internal_id()
        record: Json = {
            "id": unit_id,
            "internalId": internal,
            "number": unit_id.rsplit("-", 1)[-1],
            "area": area,
            "floor": floor,
            "rooms": rooms,
            "purpose": purpose,
            "name": name,
            "note": None,
            "propertyId": property_id,
            "address": prop["addresses"][0]["street"],
            "contracts": [],
            "customFields": {},
            "appLink": f"{prop['appLink']}/units/{internal}",
        }
        prop["addresses"][0]["units"].append(unit_id)
        self.units[unit_id] = record
        return record

    def add_appointment(
        self,
        title: str,
        start: datetime | str,
        end: datetime | str | None = None,
        *,
        property_ids: Sequence[str],
        all_day: bool = False,
        text: str | None = None,
        location: str | None = None,
        appointment_id: str | None = None,
    ) -> Json:
        """Add an appointment shared with ``property_ids``."""
        record: Json = {
            "id": appointment_id or f"appointment-{self._internal_id()}",
            "internalId": self._internal_id(),
            "title": title,
            "text": text,
            "location": location,
            "authorId": "staff-1",
            "allDay": all_day,
            "showOnInfoboard": True,
            "propertyIds": list(property_ids),
            "roles": ["owner", "renter", "resident"],
            "dateStart": casavi_time(as_instant(start)),
            "dateEnd": casavi_time(as_instant(end)) if end is not None else None,
            "createdAt": casavi_time(self.now()),
        }
        self.appointments[record["id"]] = record
        return record

    def add_ticket(
        self,
        property_id: str,
        title: str,
        *,
        status: str = "OPEN",
        description: str | None = None,
        unit_id: str | None = None,
        due: datetime | None = None,
        ticket_id: str | None = None,
    ) -> Json:
        """Add a ticket to a property."""
        if status not in TICKET_STATUSES:
            raise ValueError(f"status must be one of {TICKET_STATUSES}")
        internal = self._internal_id()
        stamp = casavi_time(self.now())
        record: Json = {
            "id": ticket_id or self._uuid(),
            "internalId": internal,
            "title": title,
            "description": description,
            "status": status,
            "propertyId": property_id,
            "unitId": unit_id,
            "assignedToId": "staff-1" if status != "OPEN" else None,
            "dueDate": casavi_time(due) if due is not None else None,
            "createdAt": stamp,
            "updatedAt": stamp,
            "appLink": f"{APP_ORIGIN}/tenant/{self.tenant_id}/manage/tickets/{internal}",
        }
        self.tickets[record["id"]] = record
        return record

    def set_ticket_status(self, ticket_id: str, status: str) -> Json:
        """Move a ticket to another state."""
        if status not in TICKET_STATUSES:
            raise ValueError(f"status must be one of {TICKET_STATUSES}")
        record = self.tickets[ticket_id]
        record["status"] = status
        record["updatedAt"] = casavi_time(self.now())
        return record


# --- the seeded account -------------------------------------------------------------------------------------

_PROPERTIES: Final = (
    ("P-1001", "Haus am See", "Seestraße 12", "Starnberg", "82319"),
    ("P-1002", "Altbau Schwabing", "Germaniastraße 5", "München", "80802"),
    ("P-1003", "Lofts Ehrenfeld", "Venloer Straße 300", "Köln", "50823"),
)


def _local(day: datetime, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` Berlin time on ``day``'s Berlin date, as UTC."""
    local_day = day.astimezone(LOCAL_ZONE).date()
    return datetime.combine(local_day, time(hour, minute), LOCAL_ZONE).astimezone(UTC)


def build_casavi_fleet(state: CasaviState, *, now: datetime, properties: int = 2) -> None:
    """Seed ``properties`` (1-3) properties around ``now``.

    Guarantees tests rely on:

    - ``P-1001`` has 3 units, a timed appointment in 2 days (09:00-11:00 Berlin), a past appointment without
      an end (10 days ago) and tickets ``T-1`` OPEN, ``T-2`` IN_PROGRESS and ``T-3`` CLOSED;
    - ``P-1002`` has 2 units, an all-day appointment without an end in 3 days (Berlin midnight) and tickets
      ``T-4`` OPEN and ``T-5`` CLOSED;
    - ``P-1003`` has 2 units and ticket ``T-6`` OPEN;
    - the owners' meeting in 7 days (18:00-20:00 Berlin) is shared by every seeded property.
    """
    if not 1 <= properties <= len(_PROPERTIES):
        raise ValueError(f"properties must be 1..{len(_PROPERTIES)}")
    ids: list[str] = []
    for prop_id, name, street, city, postal_code in _PROPERTIES[:properties]:
        state.add_property(prop_id, name, street=street, city=city, postal_code=postal_code)
        ids.append(prop_id)
    _seed_first(state, ids, now)
    if len(ids) > 1:
        _seed_second(state, ids[1], now)
    if len(ids) > 2:
        _seed_third(state, ids[2])


def _seed_first(state: CasaviState, ids: list[str], now: datetime) -> None:
    """``P-1001``'s units, appointments and tickets, and the owners' meeting every property shares."""
    first = ids[0]
    state.add_unit(first, f"{first}-0001", "Wohnung 1 EG links", floor="0", area="62.5", rooms="2")
    state.add_unit(first, f"{first}-0002", "Wohnung 2 OG", floor="1", area="88.0", rooms="3")
    state.add_unit(first, f"{first}-0003", "Stellplatz 1", purpose="parking")
    day = timedelta(days=1)
    state.add_appointment(
        "Elevator maintenance",
        _local(now + 2 * day, 9),
        _local(now + 2 * day, 11),
        property_ids=[first],
        text="The elevator is out of service during the maintenance.",
        location="Elevator",
        appointment_id="appointment-elevator",
    )
    state.add_appointment(
        "Water meter reading",
        _local(now - 10 * day, 8),
        property_ids=[first],
        appointment_id="appointment-meters",
    )
    state.add_appointment(
        "Owners' meeting",
        _local(now + 7 * day, 18),
        _local(now + 7 * day, 20),
        property_ids=ids,
        location="Community room",
        appointment_id="appointment-owners",
    )
    state.add_ticket(first, "Dripping tap in the kitchen", unit_id=f"{first}-0001", ticket_id="T-1")
    state.add_ticket(
        first, "Stairwell light broken", status="IN_PROGRESS", due=now + 3 * day, ticket_id="T-2"
    )
    state.add_ticket(first, "Door intercom crackles", status="CLOSED", ticket_id="T-3")


def _seed_second(state: CasaviState, second: str, now: datetime) -> None:
    state.add_unit(second, f"{second}-0001", "Wohnung 1", floor="1", area="54.0", rooms="2")
    state.add_unit(second, f"{second}-0002", "Laden", purpose="commercial", floor="0", area="120.0")
    state.add_appointment(
        "Chimney sweep",
        _local(now + timedelta(days=3), 0),
        property_ids=[second],
        all_day=True,
        appointment_id="appointment-chimney",
    )
    state.add_ticket(second, "Heating makes noise", ticket_id="T-4")
    state.add_ticket(second, "Graffiti on the facade", status="CLOSED", ticket_id="T-5")


def _seed_third(state: CasaviState, third: str) -> None:
    state.add_unit(third, f"{third}-0001", "Loft A", floor="2", area="95.0", rooms="3")
    state.add_unit(third, f"{third}-0002", "Loft B", floor="3", area="97.5", rooms="3")
    state.add_ticket(third, "Courtyard gate sticks", ticket_id="T-6")
