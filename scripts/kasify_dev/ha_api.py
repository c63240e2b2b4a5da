"""Just enough of Home Assistant's REST and WebSocket APIs, as the frontend uses them."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import itertools
from typing import Any

import aiohttp

from .processes import BootstrapError

HTTP_OK = 200
HTTP_NOT_FOUND = 404
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)
# How long a WebSocket command may take (wrap a call in asyncio.timeout() for less).
COMMAND_TIMEOUT = 120


async def read_json(response: aiohttp.ClientResponse, what: str) -> Any:
    """The decoded body of an HTTP 200 answer; a :class:`BootstrapError` naming ``what`` otherwise."""
    if response.status != HTTP_OK:
        body = (await response.text())[:500]
        raise BootstrapError(f"{what}: HTTP {response.status}: {body}")
    return await response.json(content_type=None)


class WebSocketError(BootstrapError):
    """A WebSocket command answered ``success: false``."""

    def __init__(self, command: str, error: dict[str, Any] | None) -> None:
        """Keep Home Assistant's error code and message."""
        self.code = str((error or {}).get("code", ""))
        self.error_message = str((error or {}).get("message", ""))
        super().__init__(f"websocket {command}: {self.code}: {self.error_message}")


class HaWebSocket:
    """One authenticated ``/api/websocket`` connection: commands, and event subscriptions as queues."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str) -> None:
        """Connect with :meth:`connect` (or ``async with``)."""
        self._session = session
        self._url = f"{base_url}/api/websocket"
        self._token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> HaWebSocket:
        """Connect and authenticate."""
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close."""
        await self.close()

    async def connect(self) -> None:
        """Open the socket and authenticate with the access token."""
        self._ws = await self._session.ws_connect(self._url, max_msg_size=0)
        hello = await self._ws.receive_json()
        if hello.get("type") != "auth_required":
            raise BootstrapError(f"websocket: unexpected greeting {hello}")
        await self._ws.send_json({"type": "auth", "access_token": self._token})
        auth = await self._ws.receive_json()
        if auth.get("type") != "auth_ok":
            raise BootstrapError(f"websocket: authentication failed: {auth}")
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        """Close the socket; pending commands fail."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        self._fail_pending(BootstrapError("websocket closed"))

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    continue
                data = message.json()
                for item in data if isinstance(data, list) else [data]:
                    self._dispatch(item)
        finally:
            self._fail_pending(BootstrapError("websocket closed by Home Assistant"))

    def _dispatch(self, item: dict[str, Any]) -> None:
        if item.get("type") == "event" and (queue := self._events.get(item.get("id", -1))) is not None:
            queue.put_nowait(item["event"])
            return
        future = self._pending.pop(item.get("id", -1), None)
        if future is not None and not future.done():
            future.set_result(item)

    def _fail_pending(self, error: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    async def command(self, command: dict[str, Any]) -> Any:
        """Send one command and return its ``result``; :class:`WebSocketError` when it failed."""
        if self._ws is None:
            raise BootstrapError("websocket not connected")
        message_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self._ws.send_json({"id": message_id, **command})
        answer = await asyncio.wait_for(future, COMMAND_TIMEOUT)
        if not answer.get("success"):
            raise WebSocketError(str(command.get("type")), answer.get("error"))
        return answer.get("result")

    async def subscribe_events(self, event_type: str) -> asyncio.Queue[dict[str, Any]]:
        """A queue that receives every ``event_type`` event fired on the bus from now on."""
        if self._ws is None:
            raise BootstrapError("websocket not connected")
        message_id = next(self._ids)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._events[message_id] = queue
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self._ws.send_json({"id": message_id, "type": "subscribe_events", "event_type": event_type})
        answer = await asyncio.wait_for(future, COMMAND_TIMEOUT)
        if not answer.get("success"):
            raise WebSocketError("subscribe_events", answer.get("error"))
        return queue

    async def call_service(
        self,
        domain: str,
        service: str,
        data: dict[str, Any] | None = None,
        *,
        target: dict[str, Any] | None = None,
        return_response: bool = False,
    ) -> Any:
        """``call_service``; with ``return_response`` the action's response, else the call's result."""
        command: dict[str, Any] = {"type": "call_service", "domain": domain, "service": service}
        command["service_data"] = data or {}
        if target is not None:
            command["target"] = target
        if return_response:
            command["return_response"] = True
        result = await self.command(command)
        return result.get("response") if return_response else result

    async def states(self) -> list[dict[str, Any]]:
        """``get_states``: every entity's state object."""
        states: list[dict[str, Any]] = await self.command({"type": "get_states"})
        return states


@dataclass
class HomeAssistantApi:
    """Home Assistant's REST API at ``base_url``, logged in once :attr:`token` is set."""

    session: aiohttp.ClientSession
    base_url: str
    client_id: str
    token: str | None = None

    @property
    def _auth(self) -> dict[str, str]:
        if self.token is None:
            raise BootstrapError("not logged in")
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, *, auth: bool = True) -> Any:
        """GET ``path`` and return the decoded JSON body (HTTP 200 only)."""
        headers = self._auth if auth else {}
        async with self.session.get(f"{self.base_url}{path}", headers=headers) as response:
            return await read_json(response, f"GET {path}")

    async def post(self, path: str, payload: Any = None, *, auth: bool = True) -> Any:
        """POST JSON to ``path`` and return the decoded JSON body (HTTP 200 only)."""
        headers = self._auth if auth else {}
        async with self.session.post(
            f"{self.base_url}{path}", json=payload if payload is not None else {}, headers=headers
        ) as response:
            return await read_json(response, f"POST {path}")

    async def delete(self, path: str) -> Any:
        """DELETE ``path`` and return the decoded JSON body (HTTP 200 only)."""
        async with self.session.delete(f"{self.base_url}{path}", headers=self._auth) as response:
            return await read_json(response, f"DELETE {path}")

    async def exchange_auth_code(self, code: str) -> None:
        """Trade an authorization code for an access token (``/auth/token``)."""
        form = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        async with self.session.post(f"{self.base_url}/auth/token", data=form) as response:
            tokens = await read_json(response, "POST /auth/token")
        self.token = str(tokens["access_token"])

    def websocket(self) -> HaWebSocket:
        """A WebSocket connection with this login (``async with api.websocket() as ws``)."""
        if self.token is None:
            raise BootstrapError("not logged in")
        return HaWebSocket(self.session, self.base_url, self.token)

    async def websocket_command(self, command: dict[str, Any]) -> Any:
        """Run one WebSocket command on a connection of its own and return its result."""
        async with self.websocket() as ws:
            return await ws.command(command)
