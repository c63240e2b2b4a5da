"""The RemoteLock API and its OAuth2 server over a :class:`~simulator.remotelock.state.RemoteLockState`.

Mounted under :data:`REMOTELOCK_PREFIX`: the API at ``/remotelock/api`` and the OAuth2 server at
``/remotelock/connect`` (so the token endpoint is ``/remotelock/connect/oauth/token``). Every API request
needs ``Accept: application/vnd.lockstate.v1+json`` (or ``application/vnd.lockstate+json; version=1``;
else 406) and ``Authorization: Bearer`` (no header → 401, an unknown, revoked or expired access token →
**403**), and counts against the rate limit (429 beyond it); ``X-RateLimit-Limit``/``-Remaining``/``-Reset``
are on every API answer. The access person and notification routes are in
:mod:`~simulator.remotelock.api_access` and :mod:`~simulator.remotelock.api_notifications`, the OAuth2 routes
in :mod:`~simulator.remotelock.api_oauth`.
"""

from __future__ import annotations

import json
from typing import Final

from aiohttp import web

from simulator.errors import ApiError
from simulator.kasify_state import Json

from .api_access import AccessRoutes
from .api_common import Handler, Routes, collection, json_response, values
from .api_notifications import NotificationRoutes
from .api_oauth import OAuthRoutes
from .errors import GeneralError, ResourceError, general_payload, not_found
from .records import API_PATH, OAUTH_PATH, REMOTELOCK_PREFIX
from .state import RemoteLockState

_TYPE_ALIASES: Final = {
    "Lock": "lock",
    "PowerPlug": "power_plug",
    "Thermostat": "thermostat",
    "ResortLock": "resort_lock",
    "ACS::Door": "acs_door",
}


def _accepts_v1(header: str) -> bool:
    lowered = header.lower().replace(" ", "")
    return (
        "application/vnd.lockstate.v1+json" in lowered
        or "application/vnd.remotelock.v1+json" in lowered
        or ("application/vnd.lockstate+json" in lowered and "version=1" in lowered)
    )


class RemoteLockApi:
    """The RemoteLock vendor: API and OAuth2 routes over one :class:`RemoteLockState`."""

    name = "remotelock"
    prefix = REMOTELOCK_PREFIX

    def __init__(self, state: RemoteLockState) -> None:
        """Serve ``state``."""
        self.state = state

    # -- vendor protocol -------------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> bytes:
        """A general error body for ``status``."""
        return json.dumps(general_payload(status, message)).encode()

    def summary(self) -> Json:
        """Counts of the state's records and the prefix."""
        return {"prefix": self.prefix, **self.state.summary()}

    def build_app(self) -> web.Application:
        """``/api`` and ``/connect`` sub-applications."""
        api = web.Application(middlewares=[self._api_middleware])
        routes: Routes = [
            ("GET", "/user", self.get_user),
            ("GET", "/account", self.get_account),
            ("GET", "/locations", self.list_locations),
            ("GET", "/locations/{id}", self.get_location),
            ("GET", "/devices", self.list_devices),
            ("GET", "/devices/{id}", self.get_device),
            ("PUT", "/devices/{id}/lock", self.lock),
            ("PUT", "/devices/{id}/unlock", self.unlock),
            ("GET", "/devices/{id}/access_person_accesses", self.device_accesses),
            ("GET", "/events", self.list_events),
            ("GET", "/events/{id}", self.get_event),
        ]
        for method, path, handler in [
            *routes,
            *AccessRoutes(self.state).routes(),
            *NotificationRoutes(self.state).routes(),
        ]:
            api.router.add_route(method, path, handler)
        app = web.Application()
        app.add_subapp(API_PATH, api)
        app.add_subapp(OAUTH_PATH, OAuthRoutes(self.state.oauth).build_app())
        return app

    # -- middlewares -----------------------------------------------------------------------------------------

    @web.middleware
    async def _api_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Accept header, bearer token, rate limit; errors in RemoteLock's shapes; rate headers always."""
        try:
            response = await self._guarded(request, handler)
        except ResourceError as err:
            response = json_response(err.payload(), err.status)
        except ApiError as err:
            response = json_response(general_payload(err.status, err.message, err.code), err.status)
        except web.HTTPException as err:  # no route (404), wrong method (405): the API never redirects
            response = json_response(general_payload(err.status, err.reason), err.status)
        response.headers.update(self.state.rate.headers())
        return response

    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not _accepts_v1(request.headers.get("Accept", "")):
            raise GeneralError(
                406, "not_acceptable", "Send Accept: application/vnd.lockstate.v1+json to use API version 1"
            )
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise GeneralError(401, "unauthorized", "An access token is required")
        if scheme.lower() != "bearer" or not self.state.access_token_valid(token.strip()):
            raise GeneralError(403, "invalid_token", "The access token is invalid or expired")
        if not self.state.rate.take():
            raise GeneralError(
                429,
                "rate_limited",
                "Your account has exceeded the rate limit. Check the X-RateLimit-* headers.",
            )
        self.state.tick()
        return await handler(request)

    # -- user, account, locations ----------------------------------------------------------------------------

    async def get_user(self, request: web.Request) -> web.Response:
        """``GET /user``."""
        return json_response({"data": self.state.user})

    async def get_account(self, request: web.Request) -> web.Response:
        """``GET /account``."""
        return json_response({"data": self.state.account})

    async def list_locations(self, request: web.Request) -> web.Response:
        """``GET /locations`` (sorted by name)."""
        items = sorted(self.state.locations.values(), key=lambda loc: (loc["attributes"]["name"], loc["id"]))
        return collection(request, items)

    async def get_location(self, request: web.Request) -> web.Response:
        """``GET /locations/{id}``."""
        return json_response({"data": self.state.get_location(request.match_info["id"])})

    # -- devices ---------------------------------------------------------------------------------------------

    async def list_devices(self, request: web.Request) -> web.Response:
        """``GET /devices?type[]=&id[]=&attributes[location_id]=&sort=``."""
        types = {_TYPE_ALIASES.get(t, t) for t in values(request, "type")}
        ids = set(values(request, "id"))
        location = request.query.get("attributes[location_id]")
        items = [
            device
            for device in self.state.devices.values()
            if (not types or device["type"] in types)
            and (not ids or device["id"] in ids)
            and (location is None or device["attributes"].get("location_id") == location)
        ]
        sort = request.query.get("sort", "created_at")
        if sort.removeprefix("-") not in ("created_at", "name"):
            raise GeneralError(422, "invalid_parameter", "sort must be created_at or name")
        items.sort(key=lambda d: d["attributes"][sort.removeprefix("-")], reverse=sort.startswith("-"))
        return collection(request, items)

    async def get_device(self, request: web.Request) -> web.Response:
        """``GET /devices/{id}``."""
        return json_response({"data": self.state.get_device(request.match_info["id"])})

    async def lock(self, request: web.Request) -> web.Response:
        """``PUT /devices/{id}/lock`` → 200 with the device."""
        return json_response({"data": self.state.lock_action(request.match_info["id"], "lock")})

    async def unlock(self, request: web.Request) -> web.Response:
        """``PUT /devices/{id}/unlock`` → 200 with the device."""
        return json_response({"data": self.state.lock_action(request.match_info["id"], "unlock")})

    async def device_accesses(self, request: web.Request) -> web.Response:
        """``GET /devices/{id}/access_person_accesses?attributes[access_person_type]=``."""
        device = self.state.get_device(request.match_info["id"])
        kind = request.query.get("attributes[access_person_type]")
        items = [
            access
            for access_id, access in self.state.accesses.items()
            if device["id"] in self.state.access_devices(access_id)
            and (kind is None or access["attributes"]["access_person_type"] == kind)
        ]
        return collection(request, items)

    # -- events ----------------------------------------------------------------------------------------------

    async def list_events(self, request: web.Request) -> web.Response:
        """``GET /events?sort=`` (default ``-occurred_at``)."""
        sort = request.query.get("sort", "-occurred_at")
        if sort.removeprefix("-") not in ("occurred_at", "created_at"):
            raise GeneralError(422, "invalid_parameter", "sort must be created_at or occurred_at")
        return collection(request, self.state.sorted_events(sort))

    async def get_event(self, request: web.Request) -> web.Response:
        """``GET /events/{id}``."""
        event_id = request.match_info["id"]
        if event_id not in self.state.events:
            raise not_found("Event", event_id)
        return json_response({"data": self.state.events[event_id]})
