"""The simulator: one aiohttp application that hosts every emulated vendor API on loopback.

Each vendor is a sub-application under its own prefix (Kasify: ``/kasify/v1``). A root middleware records
every vendor request, applies the configured latency and the injected faults; ``/_sim`` holds the control
endpoints, which are neither recorded nor subject to faults or latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
import json
from typing import Any, Final

from aiohttp import web

from .casavi import CasaviApi
from .casavi_state import CasaviState, build_casavi_fleet
from .clock import Clock, as_instant, iso, utc_hour
from .control import CONTROL_PREFIX, build_control_app
from .errors import code_for
from .faults import FaultInjector
from .fleet import LockMix, build_fleet
from .ical import ICAL_PREFIX, IcalApi
from .ical_state import CHANNELS as ICAL_CHANNELS, IcalFeeds
from .kasify import KasifyApi
from .kasify_state import KasifyState
from .nuki import NukiApi, build_nuki_fleet
from .recorder import RecordedRequest
from .remotelock import RemoteLockApi, RemoteLockState, build_remotelock_fleet, fleet_from_kasify
from .unifi_access import UnifiAccessApi, build_unifi_fleet
from .vendor import Vendor

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATUS_CLIENT_GONE: Final = 499
"""Recorded status when the client went away before the answer (e.g. its timeout fired)."""
STATUS_DROPPED: Final = 0
"""Recorded status when a ``disconnect`` fault closed the connection without an answer."""


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """How to build a :class:`Simulator`.

    Attributes:
        properties: Number of Kasify properties in the seeded fleet.
        seed: Seed for the fleet (same seed and ``now`` → same fleet, same ids).
        token: The Kasify bearer token the API accepts.
        latency: Seconds added to every vendor request.
        now: Freeze the simulator's clock at this aware instant and build the fleet around it; ``None`` uses
            the live clock and builds the fleet around the current UTC hour.
        locks: Locks per vendor for a scale fleet (:class:`~simulator.fleet.LockMix`); ``None`` keeps the
            seeded fleet's (about one lock for every other property, three RemoteLock locks).
    """

    properties: int = 3
    seed: int = 1
    token: str = "sim-kasify-token"  # noqa: S105 - the simulator's well-known test token
    latency: float = 0.0
    now: datetime | None = None
    locks: LockMix | None = None


class Simulator:
    """All emulated upstream APIs, their in-memory state, the request log and fault injection."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        """Build the state and the application (nothing listens until :meth:`serve` or :meth:`start`)."""
        self.config = config or SimulatorConfig()
        if self.config.properties < 0:
            raise ValueError("properties must not be negative")
        self.clock = Clock(self.config.now)
        self.latency: float = self.config.latency
        self.faults = FaultInjector()
        self.requests: list[RecordedRequest] = []
        self.kasify = KasifyState(token=self.config.token, clock=self.clock, seed=self.config.seed)
        anchor = as_instant(self.config.now) if self.config.now is not None else utc_hour()
        other_account = build_fleet(
            self.kasify,
            properties=self.config.properties,
            seed=self.config.seed,
            now=anchor,
            locks=self.config.locks,
        )
        self.casavi = CasaviState(clock=self.clock, seed=self.config.seed)
        build_casavi_fleet(self.casavi, now=anchor)
        self.vendors: dict[str, Vendor] = {}
        self.app = web.Application(middlewares=[self._observe])
        self.app.add_subapp(CONTROL_PREFIX, build_control_app(self))
        self.add_vendor(KasifyApi(self.kasify, calendar_url=self._served_feed_url))
        self.ical = IcalFeeds(self.kasify, self.clock, base_url=lambda: self._url(ICAL_PREFIX))
        self.add_vendor(IcalApi(self.ical))
        self.nuki = build_nuki_fleet(
            self.kasify, clock=self.clock, seed=self.config.seed, other_account=other_account
        )
        self.add_vendor(NukiApi(self.nuki))
        self.add_vendor(CasaviApi(self.casavi))
        self.remotelock = RemoteLockState(clock=self.clock, seed=self.config.seed)
        build_remotelock_fleet(
            self.remotelock,
            fleet_from_kasify(self.kasify),
            now=anchor,
            locks=self.config.locks.remotelock if self.config.locks is not None else None,
        )
        self.add_vendor(RemoteLockApi(self.remotelock))
        self.unifi = build_unifi_fleet(self.kasify, clock=self.clock, seed=self.config.seed)
        self.add_vendor(UnifiAccessApi(self.unifi))
        self.base_url: str | None = None
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    # -- vendors ---------------------------------------------------------------------------------------------

    def _served_feed_url(self, property_id: str, channel: str) -> str | None:
        """The simulator's own iCal feed for a property's channel, while serving (else None)."""
        if self.base_url is None or channel not in ICAL_CHANNELS:
            return None
        return self.ical.feed_url(property_id, channel)

    def add_vendor(self, vendor: Vendor) -> None:
        """Mount another emulated API under its prefix (before serving)."""
        if vendor.name in self.vendors:
            raise ValueError(f"Vendor {vendor.name} is already mounted")
        self.vendors[vendor.name] = vendor
        self.app.add_subapp(vendor.prefix, vendor.build_app())

    def vendor_for(self, path: str) -> Vendor | None:
        """The vendor whose prefix the path starts with."""
        for vendor in self.vendors.values():
            if path == vendor.prefix or path.startswith(vendor.prefix + "/"):
                return vendor
        return None

    # -- time ------------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated current instant."""
        return self.clock.now()

    def set_now(self, when: datetime) -> None:
        """Freeze the simulated clock at ``when``."""
        self.clock.set(when)

    def advance(self, delta: timedelta) -> None:
        """Move the simulated clock forward."""
        self.clock.advance(delta)

    # -- request log -----------------------------------------------------------------------------------------

    def reset_requests(self) -> None:
        """Forget every recorded request."""
        self.requests.clear()

    def requests_for(self, path_prefix: str = "", method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests whose path starts with ``path_prefix`` (and whose method is ``method``)."""
        wanted = method.upper() if method else None
        return [
            record
            for record in self.requests
            if record.path.startswith(path_prefix) and (wanted is None or record.method == wanted)
        ]

    def count_requests(self, path_prefix: str = "", method: str | None = None) -> int:
        """How many recorded requests match (see :meth:`requests_for`)."""
        return len(self.requests_for(path_prefix, method))

    # -- serving ---------------------------------------------------------------------------------------------

    @property
    def kasify_url(self) -> str:
        """The Kasify API base URL (``http://127.0.0.1:PORT/kasify/v1``) while serving."""
        return self._url(self.vendors["kasify"].prefix)

    @property
    def casavi_url(self) -> str:
        """The casavi API root (``http://127.0.0.1:PORT/casavi``; paths start with ``/v2``) while serving."""
        return self._url(self.vendors["casavi"].prefix)

    @property
    def nuki_url(self) -> str:
        """The Nuki Web API base URL (``http://127.0.0.1:PORT/nuki``) while serving."""
        return self._url(self.vendors["nuki"].prefix)

    @property
    def remotelock_api_url(self) -> str:
        """The RemoteLock API base URL (``http://127.0.0.1:PORT/remotelock/api``) while serving."""
        return self._url(self.vendors["remotelock"].prefix + "/api")

    @property
    def remotelock_oauth_url(self) -> str:
        """The RemoteLock OAuth base URL (token endpoint at ``.../oauth/token``) while serving."""
        return self._url(self.vendors["remotelock"].prefix + "/connect")

    def _url(self, prefix: str) -> str:
        if self.base_url is None:
            raise RuntimeError("The simulator is not serving; use `async with sim.serve()` first")
        return self.base_url + prefix

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 picks a free port) and return the base URL, e.g. ``http://127.0.0.1:45123``."""
        if self._runner is not None:
            raise RuntimeError("The simulator is already serving")
        self._closing = asyncio.Event()
        runner = web.AppRunner(self.app, handler_cancellation=True, shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        netloc = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.base_url = f"http://{netloc}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening; requests held in a delay are released at once."""
        runner, self._runner = self._runner, None
        self.base_url = None
        self._closing.set()
        if runner is not None:
            await runner.cleanup()

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve while the block runs; yields the base URL (``http://127.0.0.1:PORT``)."""
        url = await self.start(host, port)
        try:
            yield url
        finally:
            await self.stop()

    async def _sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the simulator stops."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=seconds)

    # -- the root middleware ---------------------------------------------------------------------------------

    @web.middleware
    async def _observe(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record the request, then apply latency and faults before the vendor answers."""
        if request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + "/"):
            return await handler(request)
        record = RecordedRequest(
            request.method,
            request.path,
            dict(request.query),
            body=await _body(request),
            headers=dict(request.headers),
        )
        self.requests.append(record)
        try:
            response = await self._answer(request, handler, record)
        except asyncio.CancelledError:
            record.status = STATUS_CLIENT_GONE
            raise
        except web.HTTPException as err:
            record.status = err.status
            if err.status < 400:
                raise
            return self._generic_error(err.status, err.reason)
        except Exception:
            record.status = 500
            raise
        if record.status is None:
            record.status = response.status
        return response

    async def _answer(
        self, request: web.Request, handler: Handler, record: RecordedRequest
    ) -> web.StreamResponse:
        await self._sleep(self.latency)
        fault = self.faults.take(request.method, request.path)
        if fault is None:
            return await handler(request)
        record.fault_id = fault.id
        applied = await self._apply(request, handler) if fault.apply else None
        await self._sleep(fault.delay)
        if fault.disconnect:
            record.status = STATUS_DROPPED
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        if not fault.answers:
            return applied if applied is not None else await handler(request)
        vendor = self.vendor_for(request.path)
        echoed = await _request_text(request) if fault.echo else ""
        return fault.response(vendor.error_body if vendor else _generic_error_body, echoed)

    @staticmethod
    async def _apply(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Let the API handle the request (its state changes) before a fault answers in its place."""
        try:
            return await handler(request)
        except web.HTTPException as err:  # the API's own refusal: the client still gets the fault's answer
            return web.Response(status=err.status)

    @staticmethod
    def _generic_error(status: int, message: str) -> web.Response:
        return web.Response(
            status=status, body=_generic_error_body(status, message), content_type="application/json"
        )

    # -- summary ---------------------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """What ``GET /_sim/state`` answers."""
        return {
            "now": iso(self.now()),
            "clock_frozen": self.clock.frozen,
            "base_url": self.base_url,
            "latency": self.latency,
            "faults": [fault.as_json() for fault in self.faults],
            "requests": len(self.requests),
            "vendors": {name: vendor.summary() for name, vendor in self.vendors.items()},
        }


def _generic_error_body(status: int, message: str) -> bytes:
    return json.dumps({"error": code_for(status), "message": message}).encode()


async def _request_text(request: web.Request) -> str:
    """The request as received, for a fault that echoes it: request line, headers and body."""
    headers = "\n".join(f"{name}: {value}" for name, value in request.headers.items())
    body = (await request.read()).decode(errors="replace") if request.body_exists else ""
    return f"{request.method} {request.path_qs}\n{headers}\n\n{body}"


async def _body(request: web.Request) -> Any:
    """The request body for the log: decoded JSON, else text, else ``None``."""
    if not request.body_exists:
        return None
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
