"""The casavi manager API v2 (``docs/casavi-api.md``): state, seeded data and routes.

Mounted under :data:`CASAVI_PREFIX`: the API root a client is given is ``http://127.0.0.1:PORT/casavi`` and
its paths start with ``/v2``. ``POST /v2/authenticate`` trades the key and secret for a token that expires
after :attr:`CasaviState.token_ttl` of simulated time; every other route wants it in the ``token`` header.
Lists are paged 25 at a time with ``_links.next`` (:attr:`CasaviState.link_style` picks its form). Errors are
JSON in the hapi/Boom shape ``{"statusCode", "error", "message"}``, plus ``validation: {"source", "keys"}``
on a 400.

Records are kept as the JSON objects the API returns; the ``add_*`` and ``set_*`` helpers are what tests call
to set up a scenario.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from http import HTTPStatus
import json
import random
from typing import Any, Final, Literal
import uuid
from zoneinfo import ZoneInfo

from aiohttp import web

from .clock import Clock, as_instant, iso
from .errors import ApiError, NotFoundError, UnauthorizedError
from .validation import read_json

type Json = dict[str, Any]
type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
type LinkStyle = Literal["url", "path", "page"]

CASAVI_PREFIX: Final = "/casavi"
DEFAULT_KEY: Final = "sim-casavi-key"
DEFAULT_SECRET: Final = "sim-casavi-secret"  # noqa: S105 - the simulator's well-known test secret
DEFAULT_TOKEN_TTL: Final = timedelta(hours=1)
DEFAULT_TENANT: Final = "4711"
PAGE_SIZE: Final = 25
TICKET_STATUSES: Final = ("OPEN", "IN_PROGRESS", "CLOSED")
APP_ORIGIN: Final = "https://app.mycasavi.com"
LOCAL_ZONE: Final = ZoneInfo("Europe/Berlin")


def casavi_time(value: datetime) -> str:
    """Format an instant as casavi's date-time text: UTC with milliseconds (``2017-04-11T09:53:42.891Z``)."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class InvalidDataError(ApiError):
    """400 "Invalid data supplied", naming the offending ``keys`` of the request's ``source``."""

    status = HTTPStatus.BAD_REQUEST
    code = "bad_request"

    def __init__(self, source: str, keys: Sequence[str], message: str = "Invalid data supplied") -> None:
        """Report ``keys`` of ``source`` (``query``, ``payload`` or ``params``) as invalid."""
        super().__init__(message)
        self.source = source
        self.keys = list(keys)


def error_payload(status: int, message: str, validation: Json | None = None) -> Json:
    """The Boom-style error object."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    payload: Json = {"statusCode": status, "error": phrase, "message": message}
    if validation is not None:
        payload["validation"] = validation
    return payload


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
            "prefix": CASAVI_PREFIX,
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
    if len(ids) > 1:
        second = ids[1]
        state.add_unit(second, f"{second}-0001", "Wohnung 1", floor="1", area="54.0", rooms="2")
        state.add_unit(second, f"{second}-0002", "Laden", purpose="commercial", floor="0", area="120.0")
        state.add_appointment(
            "Chimney sweep",
            _local(now + 3 * day, 0),
            property_ids=[second],
            all_day=True,
            appointment_id="appointment-chimney",
        )
        state.add_ticket(second, "Heating makes noise", ticket_id="T-4")
        state.add_ticket(second, "Graffiti on the facade", status="CLOSED", ticket_id="T-5")
    if len(ids) > 2:
        third = ids[2]
        state.add_unit(third, f"{third}-0001", "Loft A", floor="2", area="95.0", rooms="3")
        state.add_unit(third, f"{third}-0002", "Loft B", floor="3", area="97.5", rooms="3")
        state.add_ticket(third, "Courtyard gate sticks", ticket_id="T-6")


# --- the API ------------------------------------------------------------------------------------------------


class CasaviApi:
    """The casavi vendor: routes, token auth and error rendering over one :class:`CasaviState`."""

    name = "casavi"
    prefix = CASAVI_PREFIX

    def __init__(self, state: CasaviState) -> None:
        """Serve ``state``."""
        self.state = state

    # -- vendor protocol -------------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> bytes:
        """The Boom-style JSON error body for ``status``."""
        return json.dumps(error_payload(status, message)).encode()

    def summary(self) -> Json:
        """Counts of the state's records, the prefix and the credentials."""
        return self.state.summary()

    def build_app(self) -> web.Application:
        """The sub-application with every route."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/v2/authenticate", self.authenticate)
        app.router.add_get("/v2/properties", self.list_properties)
        app.router.add_get("/v2/properties/{propertyId}", self.get_property)
        app.router.add_get("/v2/units", self.list_units)
        app.router.add_get("/v2/appointments", self.list_appointments)
        app.router.add_get("/v2/tickets", self.list_tickets)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the ``token`` header (except to authenticate); render errors in the Boom shape."""
        try:
            if request.path != f"{CASAVI_PREFIX}/v2/authenticate":
                self._check_token(request)
            return await handler(request)
        except InvalidDataError as err:
            validation = {"source": err.source, "keys": err.keys}
            return web.json_response(error_payload(err.status, err.message, validation), status=err.status)
        except ApiError as err:
            return web.json_response(error_payload(err.status, err.message), status=err.status)
        except web.HTTPException as err:
            if err.status < HTTPStatus.BAD_REQUEST:
                raise
            return web.json_response(error_payload(err.status, err.reason), status=err.status)

    def _check_token(self, request: web.Request) -> None:
        token = request.headers.get("token")
        if not token:
            raise UnauthorizedError("Missing authentication token")
        if not self.state.token_valid(token):
            raise UnauthorizedError("Invalid or expired token")

    # -- pagination ------------------------------------------------------------------------------------------

    def _page(self, request: web.Request, items: Sequence[Json]) -> web.Response:
        """One page of ``items`` for ``?page=N`` (0-based), with ``_links.next`` while more remain."""
        raw = request.query.get("page", "0") or "0"
        if not raw.isdigit():
            raise InvalidDataError("query", ["page"])
        page = int(raw)
        start = page * PAGE_SIZE
        body: Json = {"data": list(items[start : start + PAGE_SIZE]), "_links": {}}
        if start + PAGE_SIZE < len(items):
            next_url = request.url.update_query(page=str(page + 1))
            links: dict[LinkStyle, Any] = {
                "url": str(next_url),
                "path": next_url.path_qs,
                "page": page + 1,
            }
            body["_links"]["next"] = links[self.state.link_style]
        return web.json_response(body)

    # -- routes ----------------------------------------------------------------------------------------------

    async def authenticate(self, request: web.Request) -> web.Response:
        """``POST /v2/authenticate`` ``{key, secret}`` (or the deprecated ``{apiKey, email, password}``)."""
        data = await read_json(request)
        key = data.get("key", data.get("apiKey"))
        secret = data.get("secret", data.get("password"))
        missing = [name for name, value in (("key", key), ("secret", secret)) if not isinstance(value, str)]
        if missing or not key or not secret:
            raise InvalidDataError("payload", missing or ["key", "secret"], "Invalid input")
        if key != self.state.key or secret != self.state.secret:
            raise UnauthorizedError("Unauthorized")
        return web.json_response(self.state.issue_token())

    async def list_properties(self, request: web.Request) -> web.Response:
        """``GET /v2/properties?page``."""
        return self._page(request, list(self.state.properties.values()))

    async def get_property(self, request: web.Request) -> web.Response:
        """``GET /v2/properties/{propertyId}``."""
        return web.json_response(self.state.get_property(request.match_info["propertyId"]))

    async def list_units(self, request: web.Request) -> web.Response:
        """``GET /v2/units?page`` (``includeInactiveContracts`` and ``modifiedAfter`` are ignored)."""
        return self._page(request, list(self.state.units.values()))

    async def list_appointments(self, request: web.Request) -> web.Response:
        """``GET /v2/appointments?propertyId&page``, by start."""
        property_id = request.query.get("propertyId")
        items = [
            a
            for a in self.state.appointments.values()
            if property_id is None or property_id in a["propertyIds"]
        ]
        return self._page(request, sorted(items, key=lambda a: (a["dateStart"], a["id"])))

    async def list_tickets(self, request: web.Request) -> web.Response:
        """``GET /v2/tickets?status&propertyId&page``."""
        status = request.query.get("status")
        if status is not None and status not in TICKET_STATUSES:
            raise InvalidDataError("query", ["status"])
        property_id = request.query.get("propertyId")
        items = [
            t
            for t in self.state.tickets.values()
            if (status is None or t["status"] == status)
            and (property_id is None or t["propertyId"] == property_id)
        ]
        return self._page(request, items)
