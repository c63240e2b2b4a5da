"""Async client for the casavi manager API v2.

casavi is a property-management platform. Its properties become :class:`~.models.Property`, its
appointments become calendar events (:class:`~.models.CalendarEvent` with ``kind="appointment"``) and its
tickets become :class:`~.models.Task`. Appointments are not guest stays, so there are no bookings here, and a
refresh returns a :class:`CasaviSnapshot` rather than a Kasify ``AccountSnapshot``.

Auth (seed): ``POST /v2/authenticate`` with ``{key, secret}`` answers ``{token, expiresAt}``; every other
request sends the token in the ``token`` header. The client renews the token shortly before ``expiresAt``,
and once more when a request is refused with 401, one renewal at a time.

Paths and shapes that are not in casavi's reference are inferred (``docs/casavi-api.md``) and live in
:class:`Paths`, the module constants and the ``parse_*`` functions only. The client takes an injected
:class:`aiohttp.ClientSession` and never closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import hashlib
from http import HTTPStatus
import json
import re
from typing import Any, Final

import aiohttp
from yarl import URL

from .auth import SingleFlightToken
from .casavi_models import (
    CasaviSnapshot as CasaviSnapshot,  # noqa: PLC0414 - re-exported
    Unit as Unit,  # noqa: PLC0414 - re-exported
    build_snapshot,
)
from .errors import (
    ApiError,
    AuthError,
    MalformedResponseError,
    ValidationError,
)
from .http import HttpTransport, Request, error_for_status, error_summary, quote_segment
from .inferred import read_inferred
from .models import (
    Account,
    CalendarEvent,
    EndpointNotUnderstood,
    Feature,
    Property,
    Task,
    TaskStatus,
    TaskType,
)
from .parse import Reader, as_list, as_object

DEFAULT_BASE_URL: Final = "https://api.mycasavi.com"
DEFAULT_TIMEOUT: Final = 15.0
PAGE_SIZE: Final = 25
"""casavi's fixed page size (seed); the API takes no size parameter."""
RENEW_MARGIN: Final = timedelta(minutes=2)
"""Renew the token this long before ``expiresAt`` (at most half its lifetime)."""
MAX_PAGES: Final = 2000
"""A listing longer than this many pages (50,000 items) is treated as a pagination fault."""
ITEMS_KEY: Final = "data"
"""The key of a page's item list (inferred; see ``docs/casavi-api.md``)."""
APPOINTMENT_KIND: Final = "appointment"
SOURCE: Final = "casavi"
DEFAULT_APPOINTMENT_DURATION: Final = timedelta(hours=1)
"""Length given to a timed appointment that has no (or no later) ``dateEnd``; all-day ones get one day."""

OPEN_TICKET_STATUSES: Final = ("OPEN", "IN_PROGRESS")
"""Ticket states that count as open; :meth:`CasaviClient.fetch_snapshot` lists each of them (inferred)."""
TICKET_STATUSES: Final[Mapping[str, TaskStatus]] = {
    "OPEN": TaskStatus.PENDING,
    "IN_PROGRESS": TaskStatus.IN_PROGRESS,
    "CLOSED": TaskStatus.COMPLETED,
}
"""casavi ticket state → task status (inferred); any other state is unknown, never counted as open."""

_TENANT: Final = re.compile(r"/tenant/([^/?#]+)")


class Paths:
    """Every casavi path the client uses. Seed-documented ones are marked; the rest are inferred."""

    AUTHENTICATE = "/v2/authenticate"  # seed
    PROPERTIES = "/v2/properties"  # seed

    @staticmethod
    def property(property_id: str) -> str:  # seed
        """One property."""
        return f"/v2/properties/{quote_segment(property_id)}"

    UNITS = "/v2/units"  # seed
    APPOINTMENTS = "/v2/appointments"  # inferred from the CreateAppointment schema
    TICKETS = "/v2/tickets"  # inferred from /v2/tickets/{ticketId}/... and /v2/tickets/orders


# --- the token ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    """A casavi token; ``renew_at`` is ``None`` when it looked expired on arrival (used until refused)."""

    value: str = field(repr=False)
    expires_at: datetime
    renew_at: datetime | None


# --- parsing ------------------------------------------------------------------------------------


def _strings(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of strings (missing or ``null`` → empty)."""
    value = obj.get(key)
    if value is None:
        return ()
    items = as_list(value, f"{where}.{key}")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise MalformedResponseError(f"{where}.{key}[{i}]: expected a string, got {type(item).__name__}")
    return tuple(items)


def tenant_from_app_link(app_link: str | None) -> str | None:
    """The casavi tenant (account) id in an ``appLink`` such as ``https://app.mycasavi.com/tenant/1/manage/...``."""
    if not app_link:
        return None
    match = _TENANT.search(app_link)
    return match.group(1) if match else None


def parse_property(item: Any, where: str) -> Property:
    """Parse a casavi Property (seed shape); the address is the first entry of ``addresses``."""
    r = Reader(item, where)
    addresses = r.objects("addresses")
    images = _strings(item, "images", where)
    return Property(
        id=r.str("id"),
        name=r.str("name"),
        account_id=tenant_from_app_link(r.opt_str("appLink")),
        address=addresses[0].opt_str("street") if addresses else None,
        city=r.opt_str("city"),
        zip_code=r.opt_str("postalCode"),
        country=r.opt_str("country"),
        cover_image_url=images[0] if images else None,
    )


def parse_unit(item: Any, where: str) -> Unit:
    """Parse a casavi Unit (seed shape)."""
    r = Reader(item, where)
    return Unit(
        id=r.str("id"),
        name=r.opt_str("name") or r.str("id"),
        property_id=r.opt_str("propertyId"),
        internal_id=r.opt_int("internalId"),
        number=r.opt_str("number"),
        purpose=r.opt_str("purpose"),
        floor=r.opt_str("floor"),
        area=r.opt_str("area"),
        rooms=r.opt_str("rooms"),
        address=r.opt_str("address"),
        app_link=r.opt_str("appLink"),
    )


def parse_appointment(item: Any, where: str) -> list[CalendarEvent]:
    """Parse an appointment into one calendar event per property it is shared with.

    The shape is casavi's CreateAppointment (``propertyIds``, ``dateStart``, ``dateEnd``, ``allDay``, ...);
    a single ``propertyId`` is accepted too. A missing ``dateEnd`` (or one not after ``dateStart``) gives one
    day for an all-day appointment and :data:`DEFAULT_APPOINTMENT_DURATION` otherwise.
    """
    r = Reader(item, where)
    start = r.datetime("dateStart")
    all_day = r.bool("allDay")
    end = r.opt_datetime("dateEnd")
    if end is None or end <= start:
        end = start + (timedelta(days=1) if all_day else DEFAULT_APPOINTMENT_DURATION)
    property_ids = _strings(item, "propertyIds", where)
    if not property_ids and (single := r.opt_str("propertyId")) is not None:
        property_ids = (single,)
    appointment_id = r.str("id")
    title = r.opt_str("title") or ""
    text = r.opt_str("text")
    location = r.opt_str("location")
    return [
        CalendarEvent(
            id=appointment_id,
            property_id=property_id,
            kind=APPOINTMENT_KIND,
            title=title,
            start=start,
            end=end,
            source=SOURCE,
            description=text,
            location=location,
            all_day=all_day,
        )
        for property_id in dict.fromkeys(property_ids)
    ]


def ticket_status(value: str | None) -> TaskStatus:
    """Map a casavi ticket state (any case) to a task status; other states are unknown (no state: open)."""
    return TICKET_STATUSES.get((value or "OPEN").strip().upper(), TaskStatus.UNKNOWN)


def parse_ticket(item: Any, where: str) -> Task | None:
    """Parse a ticket as a task; ``None`` for a ticket that belongs to no property (inferred shape)."""
    r = Reader(item, where)
    ticket_id = r.str("id")
    property_id = r.opt_str("propertyId")
    if property_id is None:
        return None
    state = r.opt_str("status")
    status = ticket_status(state)
    return Task(
        id=ticket_id,
        property_id=property_id,
        title=r.opt_str("title") or "",
        status=status,
        task_type=TaskType.OTHER,
        description=r.opt_str("description"),
        due_at=r.opt_datetime("dueDate"),
        assignee_id=r.opt_str("assignedToId"),
        status_text=state if status is TaskStatus.UNKNOWN else None,
    )


# --- errors -------------------------------------------------------------------------------------


def _error_for(status: int, text: str, headers: Mapping[str, str], where: str) -> ApiError:
    message, fields = _error_details(text)
    return error_for_status(status, error_summary(where, status, message), headers, fields)


def _error_details(text: str) -> tuple[str | None, dict[str, list[str]]]:
    """Message and per-field problems of an error body.

    JSON objects give ``message`` (else ``error``) and, for a 400, the field names in ``validation.keys``
    (inferred, hapi/Boom style). A short plain-text body (casavi's "Property not found") is the message;
    markup (a proxy's error page) and anything else give nothing.
    """
    stripped = text.strip()
    if not stripped:
        return None, {}
    try:
        body = json.loads(stripped)
    except ValueError:
        if stripped.startswith("<"):
            return None, {}
        return _short(stripped), {}
    if isinstance(body, str):
        return _short(body) or None, {}
    if not isinstance(body, dict):
        return None, {}
    raw_message = body.get("message") or body.get("error")
    message = _short(str(raw_message)) if raw_message else None
    fields: dict[str, list[str]] = {}
    validation = body.get("validation")
    if isinstance(validation, dict) and isinstance(validation.get("keys"), list):
        for key in validation["keys"]:
            fields[str(key)] = [message or "is invalid"]
    return message, fields


def _short(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --- client -------------------------------------------------------------------------------------


class CasaviClient:
    """casavi manager API v2 client.

    Every method's docstring states its requests. List methods follow ``_links.next`` to the end, which costs
    ``max(1, ceil(N / 25))`` requests for N items; any method may add one ``POST /v2/authenticate`` when there
    is no token yet or it is due for renewal, and one more plus a repeat of the refused request on a 401.

    Example::

        client = CasaviClient(async_get_clientsession(hass), key, secret)
        account = await client.get_account()            # validates key + secret; account.id is the tenant
        snapshot = await client.fetch_snapshot(start, end)
        for prop in snapshot.properties.values():
            events = snapshot.events_between(prop.id, start, end)
            open_tickets = snapshot.open_tasks(prop.id)
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        key: str,
        secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        renew_margin: timedelta = RENEW_MARGIN,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """Use ``session`` (not owned) against ``base_url`` (the API root, without ``/v2``).

        Args:
            session: The HTTP session; the client never closes it.
            key: The casavi API key.
            secret: The casavi API secret.
            base_url: The API root (``https://api.mycasavi.com``).
            timeout: Seconds each request may take, in total.
            renew_margin: Renew the token this long before it expires (at most half its lifetime).
            now: The clock that decides when the token is due (default: the system's UTC clock).
        """
        self._key = key
        self._secret = secret
        self._base_url = base_url.rstrip("/")
        self._base = URL(self._base_url)
        self._transport = HttpTransport(
            session,
            timeout=timeout,
            error_for=_error_for,
            headers={"Accept": "application/json"},
            secrets=(secret, key),
        )
        self._renew_margin = renew_margin
        self._now = now or (lambda: datetime.now(UTC))
        self._tokens = SingleFlightToken(self._authenticate_now, secret=lambda t: t.value, fresh=self._fresh)

    @property
    def base_url(self) -> str:
        """The API root the client talks to."""
        return self._base_url

    @property
    def token_expires_at(self) -> datetime | None:
        """When the current token expires (``None`` before the first request)."""
        token = self._tokens.value
        return token.expires_at if token is not None else None

    # -- token ------------------------------------------------------------------------------------

    async def authenticate(self) -> datetime:
        """``POST /v2/authenticate`` now (1 request), replacing any token; returns its ``expiresAt``.

        Raises:
            AuthError: casavi refused the key and secret (400 or 401).
        """
        return (await self._tokens.renew()).expires_at

    def _fresh(self, token: _Token) -> bool:
        return token.renew_at is None or self._now() < token.renew_at

    async def _current_token(self) -> str:
        """The token to send; authenticates first when there is none or it is due for renewal."""
        return (await self._tokens.get()).value

    async def _renew_after_refusal(self, refused: str) -> str:
        """A fresh token after ``refused`` got a 401, unless another call has already replaced it."""
        return (await self._tokens.renew(refused)).value

    async def _authenticate_now(self, _previous: _Token | None) -> _Token:
        """Get a new token (one caller at a time: see :class:`.auth.SingleFlightToken`)."""
        where = f"POST {Paths.AUTHENTICATE}"
        credentials = {"key": self._key, "secret": self._secret}
        try:
            body = await self._http(
                "POST", self._url(Paths.AUTHENTICATE), where, token=None, json_body=credentials
            )
        except (AuthError, ValidationError) as err:
            # The only input is the credentials: "Invalid input" means they are unusable, like a 401.
            raise AuthError(f"casavi refused the API key and secret ({err})", status=err.status) from err
        r = Reader(body, where)
        token = r.str("token")
        expires_at = r.datetime("expiresAt")
        lifetime = expires_at - self._now()
        # A token that looks expired on arrival (clock skew) is used until casavi refuses it.
        renew_at = expires_at - min(self._renew_margin, lifetime / 2) if lifetime > timedelta(0) else None
        return _Token(token, expires_at, renew_at)

    # -- transport --------------------------------------------------------------------------------

    def _url(self, path: str) -> URL:
        return URL(f"{self._base_url}{path}", encoded=False)

    async def _http(
        self,
        method: str,
        url: URL,
        where: str,
        *,
        token: str | None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Any:
        """Perform one request and return the decoded JSON body (``None`` when empty)."""
        headers = {"token": token} if token is not None else {}
        request = Request(
            method, url, where, headers=headers, params=params, json=json_body, secrets=(token,)
        )
        return await self._transport.request_json(request)

    async def _get(self, url: URL, where: str, params: Mapping[str, str] | None = None) -> Any:
        """``GET`` with the token; on a 401 the token is renewed once and the request repeated."""
        token = await self._current_token()
        try:
            return await self._http("GET", url, where, token=token, params=params)
        except AuthError as err:
            if err.status != HTTPStatus.UNAUTHORIZED:
                raise
        token = await self._renew_after_refusal(token)
        return await self._http("GET", url, where, token=token, params=params)

    async def _pages(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[tuple[Any, str]]:
        """Yield ``(item, where)`` for every item of a listing, following ``_links.next`` to the end."""
        url: URL = self._url(path)
        query: dict[str, str] | None = dict(params) if params else None
        seen: set[tuple[str, str]] = set()
        for page in range(1, MAX_PAGES + 1):
            key = (str(url), json.dumps(query, sort_keys=True))
            if key in seen:
                raise MalformedResponseError(
                    f"GET {path}: _links.next on page {page - 1} points back to a page"
                )
            seen.add(key)
            where = f"GET {path}" if page == 1 else f"GET {path} (page {page})"
            body = await self._get(url, where, query)
            items, next_ref = _split_page(body, where)
            for i, item in enumerate(items):
                yield item, f"{where}.{ITEMS_KEY}[{i}]"
            if next_ref is None:
                return
            url, query = self._follow(next_ref, path, params, where)
        raise MalformedResponseError(f"GET {path}: more than {MAX_PAGES} pages")

    def _follow(
        self, next_ref: str | int, path: str, params: Mapping[str, str] | None, where: str
    ) -> tuple[URL, dict[str, str] | None]:
        """The request for the next page.

        ``_links.next`` may be an absolute link (it must stay on the API's origin: the token is never sent
        elsewhere), a path (``/v2/...``, relative to the API root, or below the root's own path), or a cursor,
        which is sent as ``page`` with the listing's other parameters.
        """
        if isinstance(next_ref, str):
            base_path = self._base.path.rstrip("/")
            if next_ref.startswith(("http://", "https://")):
                link = URL(next_ref)
                if link.origin() != self._base.origin():
                    raise MalformedResponseError(f"{where}: _links.next leaves the API: {link.origin()}")
                return link, None
            if base_path and next_ref.startswith(base_path + "/v2/"):
                return self._base.origin().join(URL(next_ref)), None
            if next_ref.startswith("/v2/"):
                return URL(self._base_url + next_ref), None
        return self._url(path), {**(params or {}), "page": str(next_ref)}

    # -- account ----------------------------------------------------------------------------------

    async def get_account(self) -> Account:
        """Check the key and secret and name the casavi account (tenant); for config-flow validation.

        Requests: ``POST /v2/authenticate`` (unless a token is held) + 1 ``GET /v2/properties`` (first
        page only). ``Account.id`` is the tenant id in the first property's ``appLink``
        (``.../tenant/<id>/...``), so it is the same for every key of one casavi account. An account with no
        property (or no tenant in the link) gets ``"key-"`` + a hash of the API key instead.

        Raises:
            AuthError: The key and secret were refused.
        """
        where = f"GET {Paths.PROPERTIES}"
        body = await self._get(self._url(Paths.PROPERTIES), where)
        items, _ = _split_page(body, where)
        tenant = None
        for i, item in enumerate(items):
            tenant = tenant_from_app_link(Reader(item, f"{where}.{ITEMS_KEY}[{i}]").opt_str("appLink"))
            if tenant:
                break
        if tenant is None:
            digest = hashlib.sha256(self._key.encode()).hexdigest()[:16]
            return Account(id=f"key-{digest}", name="casavi")
        return Account(id=tenant, name=f"casavi tenant {tenant}")

    # -- properties and units ---------------------------------------------------------------------

    async def list_properties(self) -> list[Property]:
        """``GET /v2/properties`` — every property, all pages."""
        return [parse_property(item, where) async for item, where in self._pages(Paths.PROPERTIES)]

    async def get_property(self, property_id: str) -> Property:
        """``GET /v2/properties/{id}`` (1 request; 404 → :class:`NotFoundError`)."""
        path = Paths.property(property_id)
        where = f"GET {path}"
        return parse_property(await self._get(self._url(path), where), where)

    async def list_units(self, property_id: str | None = None) -> list[Unit]:
        """``GET /v2/units`` — every unit, all pages.

        ``property_id`` is applied on this side: the endpoint has no such parameter.
        """
        units = [parse_unit(item, where) async for item, where in self._pages(Paths.UNITS)]
        return units if property_id is None else [u for u in units if u.property_id == property_id]

    # -- appointments and tickets -----------------------------------------------------------------

    async def list_appointments(self, property_id: str | None = None) -> list[CalendarEvent]:
        """``GET /v2/appointments`` — all pages, one event per (appointment, property), in API order.

        With ``property_id``, ``propertyId`` is sent and only that property's events are returned.
        """
        params = {"propertyId": property_id} if property_id is not None else None
        events = [
            event
            async for item, where in self._pages(Paths.APPOINTMENTS, params)
            for event in parse_appointment(item, where)
        ]
        return events if property_id is None else [e for e in events if e.property_id == property_id]

    async def list_tickets(self, *, status: str | None = None, property_id: str | None = None) -> list[Task]:
        """``GET /v2/tickets`` — all pages, as tasks; tickets of no property are left out.

        ``status`` (a casavi state such as ``"OPEN"``) and ``property_id`` are sent as ``status`` and
        ``propertyId`` and also applied on this side, so the answer is right even if casavi ignores them. A
        ticket in a state the integration does not know is kept (as :attr:`TaskStatus.UNKNOWN`): whether it
        matches ``status`` cannot be told.
        """
        params: dict[str, str] = {}
        if status is not None:
            params["status"] = status
        if property_id is not None:
            params["propertyId"] = property_id
        tasks: list[Task] = []
        async for item, where in self._pages(Paths.TICKETS, params or None):
            task = parse_ticket(item, where)
            if task is None or (property_id is not None and task.property_id != property_id):
                continue
            if status is not None and task.status not in (ticket_status(status), TaskStatus.UNKNOWN):
                continue
            tasks.append(task)
        return tasks

    async def list_open_tickets(self) -> list[Task]:
        """Open tickets as tasks, without duplicates.

        One ``GET /v2/tickets?status=<s>`` listing per state in :data:`OPEN_TICKET_STATUSES`, concurrently.
        """
        lists = await _gather_all([self.list_tickets(status=status) for status in OPEN_TICKET_STATUSES])
        merged: dict[str, Task] = {}
        for tasks in lists:
            for task in tasks:
                merged.setdefault(task.id, task)
        return list(merged.values())

    # -- one refresh ------------------------------------------------------------------------------

    async def fetch_snapshot(
        self, window_start: datetime, window_end: datetime, *, include_units: bool = False
    ) -> CasaviSnapshot:
        """Read the whole account for one refresh, in as few requests as the API allows.

        Requests, with P properties, A appointments (casavi has no date filter, so all of them), T_s tickets
        in each open state s (``OPEN``, ``IN_PROGRESS``) and U units, where ``n(N) = max(1, ceil(N / 25))``::

              0 or 1          POST /v2/authenticate         (no token yet, or it is due for renewal)
            + n(P)            GET /v2/properties            (all pages)
            + n(A)            GET /v2/appointments          (all pages; the window is applied on this side)
            + n(T_OPEN)       GET /v2/tickets?status=OPEN
            + n(T_IN_PROGRESS) GET /v2/tickets?status=IN_PROGRESS
           [+ n(U)            GET /v2/units                 (only with ``include_units``)]

        so 4 requests (5 with a token renewal) for a small account. The listings run concurrently once the
        token is known. An inferred listing (appointments, tickets) that answers 404 or 400 leaves its feature
        without data, named in ``degraded``; any other failure cancels the other listings and is raised as is.
        A 401 costs one authenticate (shared by every listing refused with the same token) plus each refused
        request once more.
        """
        await self._current_token()  # one authentication for all the concurrent listings
        try:
            async with asyncio.TaskGroup() as group:
                properties_task = group.create_task(self.list_properties())
                events_task = group.create_task(
                    read_inferred(f"GET {Paths.APPOINTMENTS}", self.list_appointments())
                )
                tickets_task = group.create_task(
                    read_inferred(f"GET {Paths.TICKETS}", self.list_open_tickets())
                )
                units_task = group.create_task(self.list_units()) if include_units else None
        except ExceptionGroup as group_error:
            # The group has cancelled the sibling listings; the first failure is the one to report.
            raise group_error.exceptions[0] from None
        (events, events_off), (tickets, tickets_off) = events_task.result(), tickets_task.result()
        off: dict[str, EndpointNotUnderstood | None] = {
            Feature.APPOINTMENTS: events_off,
            Feature.TICKETS: tickets_off,
        }
        return build_snapshot(
            properties_task.result(),
            events,
            tickets,
            units_task.result() if units_task is not None else [],
            (window_start, window_end),
            {feature: why for feature, why in off.items() if why is not None},
        )


def _split_page(body: Any, where: str) -> tuple[list[Any], str | int | None]:
    """A page's items and its ``_links.next`` (``None`` on the last page); a bare array is a single page."""
    if isinstance(body, list):
        return body, None
    page = as_object(body, where)
    if page.get(ITEMS_KEY) is None:
        raise MalformedResponseError(f"{where}.{ITEMS_KEY}: missing")
    items = as_list(page[ITEMS_KEY], f"{where}.{ITEMS_KEY}")
    links = page.get("_links")
    if links is None:
        return items, None
    raw = as_object(links, f"{where}._links").get("next")
    if isinstance(raw, Mapping):  # HAL style: {"next": {"href": "..."}}
        raw = Reader(raw, f"{where}._links.next").opt_str("href")
    if raw is None or raw == "":
        return items, None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise MalformedResponseError(
            f"{where}._links.next: expected a cursor or a link, got {type(raw).__name__}"
        )
    return items, raw


async def _gather_all[T](calls: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run coroutines concurrently and return their results in order.

    The first failure cancels the others and is raised as is.
    """
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]
    except ExceptionGroup as group_error:
        raise group_error.exceptions[0] from None
    return [task.result() for task in tasks]
