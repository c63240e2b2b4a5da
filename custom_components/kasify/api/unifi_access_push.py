"""The push WebSocket of a UniFi Access controller: the listening loop, back-off, outage logs and liveness.

Push is *up* once the controller has said something on an open socket (real controllers send ``Hello`` at
once), not merely when the handshake succeeded: a socket that opens but carries nothing is no proof that
pushes arrive. Every frame counts as a sign of life: a message, a keep-alive string, a ping from the
controller, or the pong to a ping of ours. The loop has no clock of its own for silence: a watchdog outside
(the integration's, on Home Assistant's clock) reads :attr:`PushLink.activity`, pings a quiet socket with
:meth:`PushLink.ping` and, when nothing at all arrived for too long, closes it with
:meth:`PushLink.close_silent`; the loop then reconnects with back-off like after any drop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import inspect
import logging
from typing import Any

import aiohttp

from .errors import (
    MAX_RETRY_AFTER_SECONDS,
    ApiError,
    AuthError,
    CertificateError,
    NotSupportedError,
    RateLimitedError,
)
from .unifi_access_models import Callback, EventCallback
from .unifi_access_parse import decode_frame

# The client's logger: one name for everything the UniFi Access client logs.
_LOGGER = logging.getLogger(__name__.removesuffix("_push"))

type Connect = Callable[[float], Awaitable[aiohttp.ClientWebSocketResponse]]


class Backoff:
    """Waits between push connection attempts: from ``low`` seconds, doubling up to ``high``."""

    def __init__(self, low: float, high: float) -> None:
        self._low = low
        self._high = high
        self._delay = low

    def reset(self) -> None:
        """Start over at ``low`` (a connection succeeded)."""
        self._delay = self._low

    def next(self, at_least: float | None = None) -> float:
        """The wait before the next attempt (at least ``at_least``, e.g. a 429's ``Retry-After``).

        ``at_least`` counts up to :data:`MAX_RETRY_AFTER_SECONDS` (15 minutes), never more.
        """
        wait = max(self._delay, min(at_least or 0.0, MAX_RETRY_AFTER_SECONDS))
        self._delay = min(self._delay * 2, self._high)
        return wait


class OutageLog:
    """Logs a push outage once when it starts (warning) and once when it ends (info); retries at debug."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._logged = False

    def cannot_connect(self, err: ApiError) -> None:
        """A connection attempt failed."""
        if self._logged:
            _LOGGER.debug("UniFi Access push: still cannot connect: %s", err)
            return
        _LOGGER.warning("UniFi Access push: cannot connect to %s (%s)", self._base_url, err)
        self._logged = True

    def connected(self) -> None:
        """Push is up (the controller spoke on an open socket)."""
        if self._logged:
            _LOGGER.info("UniFi Access push: connected to %s again", self._base_url)
            self._logged = False

    def lost(self) -> None:
        """An open connection was lost."""
        _LOGGER.warning("UniFi Access push: connection to %s lost; reconnecting", self._base_url)
        self._logged = True

    def silent(self, seconds: float) -> None:
        """A socket was closed because nothing arrived on it for ``seconds``."""
        if self._logged:
            _LOGGER.debug("UniFi Access push: still silent after %.0f s; reconnecting", seconds)
            return
        _LOGGER.warning(
            "UniFi Access push: nothing received from %s for %.0f s although the socket was open; "
            "polling until push is back, reconnecting",
            self._base_url,
            seconds,
        )
        self._logged = True

    def closed_unheard(self) -> None:
        """A socket closed before the controller said anything on it."""
        _LOGGER.debug("UniFi Access push: %s closed the socket before saying anything", self._base_url)


async def invoke_callback(callback: Callable[..., Awaitable[None] | None] | None, *args: Any) -> None:
    """Call a sync or async callback; its failure is logged, never raised into the push loop."""
    if callback is None:
        return
    try:
        result = callback(*args)
        if inspect.isawaitable(result):
            await result
    except Exception:
        _LOGGER.exception("Error in a UniFi Access push callback")


class PushLink:
    """The push loop of one client, the socket it holds, and what arrived on it."""

    def __init__(self, base_url: str) -> None:
        """Log outages naming ``base_url``."""
        self._base_url = base_url
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._silent_for: float | None = None
        self.up = False
        """Whether the controller has spoken on the open socket."""
        self.activity = 0
        """Changes whenever a frame arrives or a socket opens: read it twice to tell if anything came."""

    @property
    def open(self) -> bool:
        """Whether a socket is open (push up or not)."""
        return self._ws is not None

    async def ping(self) -> None:
        """Ping the open socket (the pong is a frame like any other); nothing when none is open."""
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(aiohttp.ClientError, ConnectionError, RuntimeError):
                await self._ws.ping()

    async def close_silent(self, seconds: float) -> None:
        """Close the open socket because nothing arrived on it for ``seconds`` (the loop reconnects)."""
        if self._ws is not None:
            self._silent_for = seconds
            await self._ws.close()

    async def run(
        self,
        connect: Connect,
        on_event: EventCallback,
        on_disconnect: Callback | None,
        on_connect: Callback | None,
        *,
        reconnect: bool,
        backoff: Backoff,
        heartbeat: float,
    ) -> None:
        """Connect, serve each socket until it ends, reconnect after ``backoff`` (see ``listen``)."""
        outage = OutageLog(self._base_url)

        async def _up() -> None:
            outage.connected()
            backoff.reset()
            await invoke_callback(on_connect)

        while True:
            try:
                ws = await connect(heartbeat)
            except (AuthError, CertificateError, NotSupportedError):
                raise
            except ApiError as err:
                if not reconnect:
                    raise
                outage.cannot_connect(err)
                retry_after = err.retry_after if isinstance(err, RateLimitedError) else None
                await asyncio.sleep(backoff.next(retry_after))
                continue
            was_up, silent_for = await self._hold(ws, on_event, _up)
            if silent_for is not None:
                outage.silent(silent_for)
            elif was_up:
                outage.lost()
            else:
                outage.closed_unheard()
            if was_up:
                await invoke_callback(on_disconnect)
            if not reconnect:
                return
            await asyncio.sleep(backoff.next())

    async def _hold(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        on_event: EventCallback,
        on_up: Callable[[], Awaitable[None]],
    ) -> tuple[bool, float | None]:
        """Serve one open socket until it ends, then close it.

        Returns whether push was up on it, and the silence it was closed for (``None``: it ended otherwise).
        """
        self._ws, self._silent_for, self.up = ws, None, False
        self.activity += 1
        try:
            await self._pump(ws, on_event, on_up)
        finally:
            was_up, silent_for = self.up, self._silent_for
            self._ws, self._silent_for, self.up = None, None, False
            await ws.close()
        return was_up, silent_for

    async def _pump(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        on_event: EventCallback,
        on_up: Callable[[], Awaitable[None]],
    ) -> None:
        """Hand every message to ``on_event`` until the socket closes; the first frame puts push up.

        Pings are answered here: the socket is opened without ``autoping``, so that pongs can be counted.
        """
        async for message in ws:
            self.activity += 1
            if not self.up and message.type is not aiohttp.WSMsgType.ERROR:
                self.up = True
                await on_up()
            if message.type is aiohttp.WSMsgType.TEXT:
                for event in decode_frame(message.data):
                    await invoke_callback(on_event, event)
            elif message.type is aiohttp.WSMsgType.PING:
                with contextlib.suppress(aiohttp.ClientError, ConnectionError):
                    await ws.pong(message.data)
            elif message.type is aiohttp.WSMsgType.ERROR:
                _LOGGER.debug("UniFi Access push: socket error: %s", ws.exception())
                return
