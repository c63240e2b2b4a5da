"""The casavi manager API v2 (``docs/casavi-api.md``) over a :class:`~simulator.casavi_state.CasaviState`.

Mounted under :data:`CASAVI_PREFIX`: the API root a client is given is ``http://127.0.0.1:PORT/casavi`` and
its paths start with ``/v2``. ``POST /v2/authenticate`` trades the key and secret for a token that expires
after :attr:`CasaviState.token_ttl` of simulated time; every other route wants it in the ``token`` header.
Lists are paged 25 at a time with ``_links.next`` (:attr:`CasaviState.link_style` picks its form). Errors are
JSON in the hapi/Boom shape ``{"statusCode", "error", "message"}``, plus ``validation: {"source", "keys"}``
on a 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
import json
from typing import Any, Final

from aiohttp import web

from .casavi_state import (
    APP_ORIGIN,
    DEFAULT_KEY,
    DEFAULT_SECRET,
    DEFAULT_TENANT,
    DEFAULT_TOKEN_TTL,
    LOCAL_ZONE,
    TICKET_STATUSES,
    CasaviState,
    Json,
    LinkStyle,
    build_casavi_fleet,
    casavi_time,
)
from .errors import ApiError, UnauthorizedError
from .validation import read_json

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

__all__ = [
    "APP_ORIGIN",
    "CASAVI_PREFIX",
    "DEFAULT_KEY",
    "DEFAULT_SECRET",
    "DEFAULT_TENANT",
    "DEFAULT_TOKEN_TTL",
    "LOCAL_ZONE",
    "PAGE_SIZE",
    "TICKET_STATUSES",
    "CasaviApi",
    "CasaviState",
    "InvalidDataError",
    "build_casavi_fleet",
    "casavi_time",
    "error_payload",
]

CASAVI_PREFIX: Final = "/casavi"
PAGE_SIZE: Final = 25


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
        return {"prefix": self.prefix, **self.state.summary()}

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
