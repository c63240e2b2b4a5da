"""The UniFi Access developer API routes over a :class:`~simulator.unifi_access.state.UnifiAccessState`.

Mounted under :data:`UNIFI_PREFIX`, the real API path, so a client that only takes a host and a port finds
every route. Bearer token and per-route permissions; every answer is the envelope ``{"code", "msg",
"data"}``; every request first applies the timers that are due. ``GET /devices/notifications`` is the push
WebSocket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from http import HTTPStatus
import json
from typing import Any, Final

from aiohttp import WSMsgType, web

from simulator.kasify_state import Json

from .errors import UnifiError, code_for_status, status_for
from .push import pump
from .state import UnifiAccessState

UNIFI_PREFIX: Final = "/api/v1/developer"
NOTIFICATIONS_PATH: Final = "/devices/notifications"
VISITOR_STATUS_NUMBERS: Final = {
    "UPCOMING": 1,
    "VISITED": 2,
    "VISITING": 3,
    "CANCELLED": 4,
    "NO_VISIT": 5,
    "ACTIVE": 6,
}

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def envelope(data: Any = None, *, msg: str = "success", with_data: bool = True) -> Json:
    """The response envelope."""
    body: Json = {"code": "SUCCESS", "msg": msg}
    if with_data:
        body["data"] = data
    return body


def permission_for(method: str, path: str) -> str | None:
    """The permission key a route needs (``path`` relative to :data:`UNIFI_PREFIX`)."""
    if path.startswith("/doors"):
        return "view:space" if method == "GET" else "edit:space"
    if path.startswith("/devices"):
        return "view:device"
    if path.startswith("/visitors"):
        return "view:visitor" if method == "GET" else "edit:visitor"
    if path.startswith("/credentials"):
        return "view:credential"
    return None


def _json(data: Any, status: int = HTTPStatus.OK) -> web.Response:
    return web.json_response(data, status=status)


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise UnifiError("CODE_PARAMS_INVALID", "The request body is not valid JSON") from None


def _query_int(request: web.Request, key: str, default: int) -> int:
    value = request.query.get(key)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise UnifiError("CODE_PARAMS_INVALID", f"{key} must be an integer") from None
    if number < 1:
        raise UnifiError("CODE_PARAMS_INVALID", f"{key} must be at least 1")
    return number


class UnifiAccessApi:
    """The UniFi Access vendor: routes, bearer auth, permissions and the envelope over one state."""

    name = "unifi_access"
    prefix = UNIFI_PREFIX

    def __init__(self, state: UnifiAccessState) -> None:
        """Serve ``state``."""
        self.state = state

    # -- vendor protocol -------------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> bytes:
        """The envelope for an error status."""
        return json.dumps({"code": code_for_status(status), "msg": message}).encode()

    def summary(self) -> Json:
        """Counts, the prefix and the token."""
        return {"prefix": self.prefix, "token": self.state.token, **self.state.summary()}

    def build_app(self) -> web.Application:
        """The sub-application with the developer API routes."""
        app = web.Application(middlewares=[self._middleware])
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/doors", self.list_doors),
            ("GET", "/doors/{id}", self.get_door),
            ("PUT", "/doors/{id}/unlock", self.unlock),
            ("GET", "/doors/{id}/lock_rule", self.get_lock_rule),
            ("PUT", "/doors/{id}/lock_rule", self.put_lock_rule),
            ("GET", "/devices", self.list_devices),
            ("GET", NOTIFICATIONS_PATH, self.notifications),
            ("GET", "/visitors", self.list_visitors),
            ("POST", "/visitors", self.create_visitor),
            ("GET", "/visitors/{id}", self.get_visitor),
            ("PUT", "/visitors/{id}", self.update_visitor),
            ("DELETE", "/visitors/{id}", self.delete_visitor),
            ("PUT", "/visitors/{id}/pin_codes", self.assign_pin),
            ("DELETE", "/visitors/{id}/pin_codes", self.unassign_pin),
            ("POST", "/credentials/pin_codes", self.generate_pin),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        # aiohttp 3.11 annotates its signals for the older aiosignal; the handler has the right signature.
        app.on_shutdown.append(self._on_shutdown)  # type: ignore[arg-type]
        return app

    async def _on_shutdown(self, app: web.Application) -> None:
        await self.state.close_websockets()

    def _error(self, err: UnifiError) -> web.Response:
        status = status_for(err.code)
        if self.state.errors_as_http_200 and status not in (HTTPStatus.UNAUTHORIZED,):
            status = HTTPStatus.OK
        headers = {"WWW-Authenticate": "Bearer"} if status == HTTPStatus.UNAUTHORIZED else None
        return web.json_response({"code": err.code, "msg": err.message}, status=status, headers=headers)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check token and permission, settle due timers, render errors as envelopes."""
        try:
            self._check_access(request)
            self.state.settle()
            return await handler(request)
        except UnifiError as err:
            return self._error(err)
        except web.HTTPException as err:
            if err.status < HTTPStatus.BAD_REQUEST:
                raise
            code = code_for_status(err.status)
            return web.json_response({"code": code, "msg": err.reason}, status=err.status)

    def _check_access(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.state.token:
            raise UnifiError("CODE_ACCESS_TOKEN_INVALID")
        permission = permission_for(request.method, request.path.removeprefix(UNIFI_PREFIX))
        if permission is not None and permission not in self.state.permissions:
            raise UnifiError("CODE_UNAUTHORIZED", f"The API token lacks the {permission} permission.")

    # -- doors and devices -----------------------------------------------------------------------------------

    async def list_doors(self, request: web.Request) -> web.Response:
        """``GET /doors``."""
        return _json(envelope([dict(door) for door in self.state.doors.values()]))

    async def get_door(self, request: web.Request) -> web.Response:
        """``GET /doors/{id}``."""
        return _json(envelope(dict(self.state.get_door(request.match_info["id"]))))

    async def unlock(self, request: web.Request) -> web.Response:
        """``PUT /doors/{id}/unlock`` (optional body ``{actor_id, actor_name, extra}``)."""
        body = await _body(request)
        if not isinstance(body, dict):
            raise UnifiError("CODE_PARAMS_INVALID", "The body must be a JSON object")
        if ("actor_id" in body) != ("actor_name" in body):
            raise UnifiError("CODE_PARAMS_INVALID", "actor_id and actor_name go together")
        self.state.unlock(request.match_info["id"], actor_name=body.get("actor_name"))
        return _json(envelope("success"))

    async def get_lock_rule(self, request: web.Request) -> web.Response:
        """``GET /doors/{id}/lock_rule``."""
        return _json(envelope(self.state.lock_rule(request.match_info["id"])))

    async def put_lock_rule(self, request: web.Request) -> web.Response:
        """``PUT /doors/{id}/lock_rule`` with ``{type, interval?}``."""
        body = await _body(request)
        if not isinstance(body, dict):
            raise UnifiError("CODE_PARAMS_INVALID", "The body must be a JSON object")
        self.state.set_lock_rule(request.match_info["id"], body.get("type"), body.get("interval"))
        return _json(envelope("success"))

    async def list_devices(self, request: web.Request) -> web.Response:
        """``GET /devices`` (an array of arrays, one per door)."""
        return _json(envelope(self.state.devices()))

    async def notifications(self, request: web.Request) -> web.StreamResponse:
        """``GET /devices/notifications``: the push WebSocket."""
        # Pings are answered here (not by aiohttp) so that a silent controller can leave them unanswered.
        ws = web.WebSocketResponse(timeout=2.0, autoping=False)
        if not ws.can_prepare(request).ok:
            raise UnifiError("CODE_PARAMS_INVALID", "This endpoint is a WebSocket")
        connection = self.state.attach(ws, request)
        try:
            await ws.prepare(request)
            if not self.state.push_silent:
                await ws.send_str("Hello")
            sender = asyncio.create_task(pump(connection))
            try:
                async for message in ws:
                    if message.type is WSMsgType.ERROR:
                        break
                    if message.type is WSMsgType.PING and not self.state.push_silent:
                        await ws.pong(message.data)
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
        finally:
            self.state.detach(connection)
        return ws

    # -- visitors --------------------------------------------------------------------------------------------

    async def list_visitors(self, request: web.Request) -> web.Response:
        """``GET /visitors?status=&keyword=&page_num=&page_size=``."""
        state = self.state
        served = [state.served_visitor(vid) for vid in state.visitors]
        keyword = request.query.get("keyword")
        if keyword:
            served = [
                v for v in served if v["first_name"].startswith(keyword) or v["last_name"].startswith(keyword)
            ]
        elif "status" in request.query:
            wanted = _query_int(request, "status", 0)
            served = [v for v in served if VISITOR_STATUS_NUMBERS[v["status"]] == wanted]
        page, size = _query_int(request, "page_num", 1), _query_int(request, "page_size", 25)
        body = envelope(served[(page - 1) * size : page * size])
        body["pagination"] = {"page_num": page, "page_size": size, "total": len(served)}
        return _json(body)

    async def create_visitor(self, request: web.Request) -> web.Response:
        """``POST /visitors``."""
        return _json(envelope(self.state.create_visitor(await _body(request))))

    async def get_visitor(self, request: web.Request) -> web.Response:
        """``GET /visitors/{id}``."""
        return _json(envelope(self.state.served_visitor(request.match_info["id"])))

    async def update_visitor(self, request: web.Request) -> web.Response:
        """``PUT /visitors/{id}``."""
        return _json(envelope(self.state.update_visitor(request.match_info["id"], await _body(request))))

    async def delete_visitor(self, request: web.Request) -> web.Response:
        """``DELETE /visitors/{id}?is_force=true``."""
        force = request.query.get("is_force", "").lower() in ("true", "1")
        self.state.delete_visitor(request.match_info["id"], force=force)
        return _json(envelope(None))

    async def assign_pin(self, request: web.Request) -> web.Response:
        """``PUT /visitors/{id}/pin_codes`` with ``{"pin_code"}``: answers without ``data``."""
        body = await _body(request)
        pin = body.get("pin_code") if isinstance(body, dict) else None
        self.state.assign_pin(request.match_info["id"], pin)
        return _json(envelope(with_data=False))

    async def unassign_pin(self, request: web.Request) -> web.Response:
        """``DELETE /visitors/{id}/pin_codes``."""
        self.state.unassign_pin(request.match_info["id"])
        return _json(envelope(with_data=False))

    async def generate_pin(self, request: web.Request) -> web.Response:
        """``POST /credentials/pin_codes``."""
        return _json(envelope(self.state.generate_pin()))
