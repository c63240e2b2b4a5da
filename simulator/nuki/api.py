"""The Nuki Web API routes over a :class:`~simulator.nuki.state.NukiState`, mounted under :data:`NUKI_PREFIX`.

Bearer token auth; errors are Restlet status objects, parameter errors ``detailMessage`` bodies (400), bodies
that cannot be read a 422 status object. Every request first applies the state steps that are due.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from http import HTTPStatus
import json
from typing import Any, Final

from aiohttp import web

from simulator.clock import parse_iso
from simulator.kasify_state import Json

from .errors import NukiError, bad_parameter, fail, status_object
from .records import MAX_LOG_LIMIT, TYPE_OPENER, allowed_actions
from .state import NukiState

NUKI_PREFIX: Final = "/nuki"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _no_content() -> web.Response:
    return web.Response(status=204)


def _lock_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _query_time(request: web.Request, key: str) -> datetime | None:
    value = request.query.get(key)
    if not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise bad_parameter(key, value) from None


async def _read_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise fail(HTTPStatus.UNPROCESSABLE_ENTITY) from None


class NukiApi:
    """The Nuki vendor: routes, bearer auth and error rendering over one :class:`NukiState`."""

    name = "nuki"
    prefix = NUKI_PREFIX

    def __init__(self, state: NukiState) -> None:
        """Serve ``state``."""
        self.state = state

    # -- vendor protocol -------------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> bytes:
        """The framework status object for ``status``."""
        return json.dumps(status_object(status, message)).encode()

    def summary(self) -> Json:
        """Counts, the prefix and the token."""
        return {"prefix": self.prefix, "token": self.state.token, **self.state.summary()}

    def build_app(self) -> web.Application:
        """The sub-application with the Nuki routes the integration uses."""
        app = web.Application(middlewares=[self._middleware])
        lock = r"/smartlock/{id:\d+}"
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/account", self.get_account),
            ("GET", "/smartlock", self.list_smartlocks),
            ("GET", "/smartlock/log", self.list_logs),
            ("GET", lock, self.get_smartlock),
            ("POST", f"{lock}/action", self.action),
            ("POST", f"{lock}/action/lock", self.action_lock),
            ("POST", f"{lock}/action/unlock", self.action_unlock),
            ("GET", f"{lock}/auth", self.list_auths),
            ("PUT", f"{lock}/auth", self.create_auth),
            ("POST", lock + "/auth/{auth_id}", self.update_auth),
            ("DELETE", lock + "/auth/{auth_id}", self.delete_auth),
            ("GET", f"{lock}/log", self.list_lock_logs),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the bearer token, settle due state steps, render errors in Nuki's shapes."""
        try:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or token.strip() != self.state.token:
                raise fail(HTTPStatus.UNAUTHORIZED)
            self.state.settle()
            return await handler(request)
        except NukiError as err:
            return _json(err.payload, err.status)
        except web.HTTPException as err:
            if err.status < 400:
                raise
            return _json(status_object(err.status), err.status)

    # -- routes ----------------------------------------------------------------------------------------------

    async def get_account(self, request: web.Request) -> web.Response:
        """``GET /account``."""
        return _json(self.state.account)

    async def list_smartlocks(self, request: web.Request) -> web.Response:
        """``GET /smartlock?type=`` — every device."""
        wanted = request.query.get("type")
        served = [self.state.served_lock(lock_id) for lock_id in list(self.state.locks)]
        if wanted is not None:
            served = [lock for lock in served if str(lock["type"]) == wanted]
        return _json(served)

    async def get_smartlock(self, request: web.Request) -> web.Response:
        """``GET /smartlock/{id}``."""
        lock_id = _lock_id(request)
        self.state.get_lock(lock_id)
        self.state.require_smart_hosting(lock_id)
        return _json(self.state.served_lock(lock_id))

    async def action(self, request: web.Request) -> web.Response:
        """``POST /smartlock/{id}/action`` ``{"action", "option"?}`` → 204."""
        body = await _read_body(request)
        data = body if isinstance(body, dict) else {}
        self.state.perform(_lock_id(request), data.get("action"), data.get("option"))
        return _no_content()

    async def action_lock(self, request: web.Request) -> web.Response:
        """``POST /smartlock/{id}/action/lock`` → 204 (405 for an Opener or a Box)."""
        return self._shortcut(request, 2)

    async def action_unlock(self, request: web.Request) -> web.Response:
        """``POST /smartlock/{id}/action/unlock`` → 204 (405 for an Opener)."""
        return self._shortcut(request, 1)

    def _shortcut(self, request: web.Request, action: int) -> web.Response:
        lock_id = _lock_id(request)
        record = self.state.get_lock(lock_id)
        if action not in allowed_actions(record["type"]) or record["type"] == TYPE_OPENER:
            raise fail(HTTPStatus.METHOD_NOT_ALLOWED)
        self.state.perform(lock_id, action)
        return _no_content()

    async def list_auths(self, request: web.Request) -> web.Response:
        """``GET /smartlock/{id}/auth?types=13,0``."""
        lock_id = _lock_id(request)
        self.state.get_lock(lock_id)
        self.state.require_smart_hosting(lock_id)
        raw = request.query.get("types")
        try:
            types = {int(part) for part in raw.split(",") if part.strip()} if raw else None
        except ValueError:
            raise bad_parameter("types", raw) from None
        return _json(self.state.auths_for(lock_id, types))

    async def create_auth(self, request: web.Request) -> web.Response:
        """``PUT /smartlock/{id}/auth`` → 204 without a body (the new auth shows up later)."""
        self.state.create_auth(_lock_id(request), await _read_body(request))
        return _no_content()

    async def update_auth(self, request: web.Request) -> web.Response:
        """``POST /smartlock/{id}/auth/{authId}`` → 204."""
        self.state.update_auth(_lock_id(request), request.match_info["auth_id"], await _read_body(request))
        return _no_content()

    async def delete_auth(self, request: web.Request) -> web.Response:
        """``DELETE /smartlock/{id}/auth/{authId}`` → 204."""
        self.state.delete_auth(_lock_id(request), request.match_info["auth_id"])
        return _no_content()

    async def list_logs(self, request: web.Request) -> web.Response:
        """``GET /smartlock/log?fromDate&toDate&id&limit``."""
        return _json(self._logs(request, None))

    async def list_lock_logs(self, request: web.Request) -> web.Response:
        """``GET /smartlock/{id}/log?...``."""
        lock_id = _lock_id(request)
        self.state.get_lock(lock_id)
        self.state.require_smart_hosting(lock_id)
        return _json(self._logs(request, lock_id))

    def _logs(self, request: web.Request, lock_id: int | None) -> list[Json]:
        raw_limit = request.query.get("limit", "20")
        try:
            limit = int(raw_limit)
        except ValueError:
            raise bad_parameter("limit", raw_limit) from None
        if not 1 <= limit <= MAX_LOG_LIMIT:
            raise bad_parameter("limit", raw_limit)
        return self.state.query_logs(
            smartlock_id=lock_id,
            from_date=_query_time(request, "fromDate"),
            to_date=_query_time(request, "toDate"),
            before_id=request.query.get("id") or None,
            limit=limit,
        )
