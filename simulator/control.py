"""``/_sim`` control endpoints for out-of-process use (``scripts/develop``, manual poking). No auth.

- ``GET /_sim/state`` — clock, faults, request count and a summary per vendor.
- ``GET|POST|DELETE /_sim/faults``, ``DELETE /_sim/faults/{id}`` — the body of ``POST`` has the keyword
  arguments of :meth:`FaultInjector.inject` (``path`` required).
- ``GET|DELETE /_sim/requests`` — the request log.
- ``POST /_sim/clock`` — ``{"now": iso}`` freezes, ``{"advance_seconds": n}`` moves,
  ``{"live": true}`` unfreezes.
- ``PATCH /_sim/kasify/smartlocks/{id}`` — ``lock_state``, ``battery_level``, ``battery_charging``,
  ``offline``.
- ``PATCH /_sim/settings`` — ``latency`` (seconds added to every vendor request), ``nuki_action_delay``
  (simulated seconds per lock state step after a Nuki action), ``remotelock_rate_limit`` (requests per
  minute, ``null`` for none); answers the settings as they are now.
- ``PATCH /_sim/kasify/tasks`` — how Kasify answers where its pages are silent: ``ignore_completed_since``
  (bool), ``patch_ignores`` (task fields a ``PATCH`` leaves unchanged); see ``kasify_tasks.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .errors import ApiError, BadRequestError
from .kasify_tasks import TASK_PATCH_FIELDS
from .validation import Body, read_json

if TYPE_CHECKING:
    from .app import Simulator

CONTROL_PREFIX: Final = "/_sim"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_FAULT_FIELDS: Final = (
    "path",
    "method",
    "status",
    "body",
    "content_type",
    "delay",
    "headers",
    "times",
    "disconnect",
    "apply",
    "echo",
)
_LOCK_FIELDS: Final = ("lock_state", "battery_level", "battery_charging", "offline")
_SECONDS_SETTINGS: Final = ("latency", "nuki_action_delay")


def build_control_app(sim: Simulator) -> web.Application:
    """The ``/_sim`` sub-application for ``sim``."""
    return ControlApi(sim).build_app()


class ControlApi:
    """The ``/_sim`` routes over one :class:`~simulator.app.Simulator`."""

    def __init__(self, sim: Simulator) -> None:
        """Control ``sim``."""
        self.sim = sim

    def build_app(self) -> web.Application:
        """The sub-application with every control route."""
        app = web.Application(middlewares=[self._errors])
        app.router.add_get("/state", self.state)
        app.router.add_get("/faults", self.list_faults)
        app.router.add_post("/faults", self.add_fault)
        app.router.add_delete("/faults", self.clear_faults)
        app.router.add_delete("/faults/{id}", self.remove_fault)
        app.router.add_get("/requests", self.list_requests)
        app.router.add_delete("/requests", self.clear_requests)
        app.router.add_post("/clock", self.clock)
        app.router.add_patch("/kasify/smartlocks/{id}", self.patch_lock)
        app.router.add_patch("/settings", self.settings)
        app.router.add_patch("/kasify/tasks", self.patch_task_answers)
        app.router.add_post("/nuki/smartlocks/{id}/keypad", self.nuki_keypad)
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as err:
            payload: dict[str, Any] = {"error": err.code, "message": err.message}
            if err.fields is not None:
                payload["fields"] = err.fields
            return web.json_response(payload, status=err.status)

    async def state(self, request: web.Request) -> web.Response:
        """``GET /_sim/state``."""
        return web.json_response(self.sim.summary())

    async def list_faults(self, request: web.Request) -> web.Response:
        """``GET /_sim/faults``."""
        return web.json_response({"faults": [fault.as_json() for fault in self.sim.faults]})

    async def add_fault(self, request: web.Request) -> web.Response:
        """``POST /_sim/faults`` with the keyword arguments of :meth:`FaultInjector.inject` → 201."""
        data = await read_json(request)
        body = Body(data, _FAULT_FIELDS)
        path = body.text("path", required=True)
        headers = data.get("headers")
        if headers is not None and not (
            isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())
        ):
            body.add("headers", "must be an object of strings")
        delay = data.get("delay", 0.0)
        if not isinstance(delay, int | float) or isinstance(delay, bool):
            body.add("delay", "must be a number")
        status = body.integer("status", minimum=100, maximum=599)
        times = body.integer("times", minimum=1)
        method, content = body.text("method"), body.text("content_type")
        payload, disconnect = body.text("body", max_length=1_000_000), body.boolean("disconnect")
        apply = body.boolean("apply")
        echo = body.boolean("echo")
        body.check()
        assert path is not None
        try:
            fault = self.sim.faults.inject(
                path,
                method=method,
                status=status,
                body=payload,
                content_type=content,
                delay=float(delay),
                headers=headers,
                times=times,
                disconnect=bool(disconnect),
                apply=bool(apply),
                echo=bool(echo),
            )
        except ValueError as err:
            raise BadRequestError(str(err)) from err
        return web.json_response(fault.as_json(), status=201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        """``DELETE /_sim/faults`` → 204."""
        self.sim.faults.clear()
        return web.Response(status=204)

    async def remove_fault(self, request: web.Request) -> web.Response:
        """``DELETE /_sim/faults/{id}`` → 204 (also when there is no such fault)."""
        wanted = request.match_info["id"]
        for fault in self.sim.faults:
            if str(fault.id) == wanted:
                self.sim.faults.remove(fault)
        return web.Response(status=204)

    async def list_requests(self, request: web.Request) -> web.Response:
        """``GET /_sim/requests``."""
        return web.json_response({"requests": [record.as_json() for record in self.sim.requests]})

    async def clear_requests(self, request: web.Request) -> web.Response:
        """``DELETE /_sim/requests`` → 204."""
        self.sim.reset_requests()
        return web.Response(status=204)

    async def clock(self, request: web.Request) -> web.Response:
        """``POST /_sim/clock``: ``now`` freezes, ``advance_seconds`` moves, ``live`` unfreezes."""
        data = await read_json(request)
        body = Body(data, ("now", "advance_seconds", "live"))
        when = body.instant("now")
        seconds = data.get("advance_seconds")
        if seconds is not None and (not isinstance(seconds, int | float) or isinstance(seconds, bool)):
            body.add("advance_seconds", "must be a number")
        live = body.boolean("live")
        body.check()
        if live:
            self.sim.clock.unfreeze()
        if when is not None:
            self.sim.clock.set(when)
        if isinstance(seconds, int | float):
            self.sim.clock.advance(timedelta(seconds=seconds))
        return web.json_response(self.sim.summary())

    async def patch_lock(self, request: web.Request) -> web.Response:
        """``PATCH /_sim/kasify/smartlocks/{id}``: a Kasify lock's live status."""
        data = await read_json(request)
        body = Body(data, _LOCK_FIELDS)
        for key in ("lock_state", "battery_level"):
            if data.get(key) is not None:
                body.integer(key, minimum=0, maximum=255)
        for key in ("battery_charging", "offline"):
            body.boolean(key)
        if data.get("offline", False) is None:
            body.add("offline", "must not be null")
        body.check()
        record = self.sim.kasify.set_lock(request.match_info["id"], **data)
        return web.json_response(record)

    async def nuki_keypad(self, request: web.Request) -> web.Response:
        """``POST /_sim/nuki/smartlocks/{id}/keypad`` ``{"code": 123456}``: a code typed on the keypad.

        Answers the log entry written (a guest's arrival in a development session).
        """
        data = await read_json(request)
        body = Body(data, ("code", "unlatch"))
        code = body.integer("code", required=True, minimum=0, maximum=999_999_999)
        unlatch = body.boolean("unlatch")
        body.check()
        assert code is not None  # required, checked above
        lock_id = request.match_info["id"]
        if not lock_id.isdigit() or int(lock_id) not in self.sim.nuki.locks:
            return web.json_response({"error": "not_found", "message": f"No Nuki lock {lock_id}"}, status=404)
        entry = self.sim.nuki.use_code(int(lock_id), code, unlatch=bool(unlatch))
        return web.json_response(entry)

    async def settings(self, request: web.Request) -> web.Response:
        """``PATCH /_sim/settings``: latency, Nuki action steps, the RemoteLock rate limit."""
        data = await read_json(request)
        body = Body(data, (*_SECONDS_SETTINGS, "remotelock_rate_limit"))
        for key in _SECONDS_SETTINGS:
            value = data.get(key, 0.0)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                body.add(key, "must be a number of seconds, 0 or more")
        if data.get("remotelock_rate_limit") is not None:
            body.integer("remotelock_rate_limit", minimum=1)
        body.check()
        if "latency" in data:
            self.sim.latency = float(data["latency"])
        if "nuki_action_delay" in data:
            self.sim.nuki.action_delay = float(data["nuki_action_delay"])
        if "remotelock_rate_limit" in data:
            self.sim.remotelock.rate.limit = data["remotelock_rate_limit"]
        return web.json_response(
            {
                "latency": self.sim.latency,
                "nuki_action_delay": self.sim.nuki.action_delay,
                "remotelock_rate_limit": self.sim.remotelock.rate.limit,
            }
        )

    async def patch_task_answers(self, request: web.Request) -> web.Response:
        """``PATCH /_sim/kasify/tasks``: Kasify's task answers where its pages are silent."""
        data = await read_json(request)
        body = Body(data, ("ignore_completed_since", "patch_ignores"))
        ignore = body.boolean("ignore_completed_since")
        fields = body.text_list("patch_ignores")
        for field in fields or ():
            if field not in TASK_PATCH_FIELDS:
                body.add("patch_ignores", f"{field} is not a task field")
        body.check()
        kasify = self.sim.kasify
        if ignore is not None:
            kasify.ignore_completed_since = ignore
        if fields is not None:
            kasify.patch_ignores = frozenset(fields)
        return web.json_response(
            {
                "ignore_completed_since": kasify.ignore_completed_since,
                "patch_ignores": sorted(kasify.patch_ignores),
            }
        )
