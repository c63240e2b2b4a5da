"""The notification WebSockets of the controller: who gets each push, dropping and closing them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, web


@dataclass(eq=False, slots=True)
class Connection:
    """One open WebSocket: its response, the request (for its transport) and the outgoing queue."""

    ws: web.WebSocketResponse
    request: web.Request
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)


class PushSockets:
    """The open WebSockets; each message sent is queued for every one of them."""

    def __init__(self) -> None:
        self._connections: set[Connection] = set()
        self._changed = asyncio.Event()

    @property
    def count(self) -> int:
        """How many WebSockets are open."""
        return len(self._connections)

    def send(self, text: str) -> None:
        """Queue ``text`` for every open WebSocket."""
        for connection in self._connections:
            connection.queue.put_nowait(text)

    def attach(self, ws: web.WebSocketResponse, request: web.Request) -> Connection:
        """Register a WebSocket for pushes (before its handshake answer, so nothing pushed after is lost)."""
        connection = Connection(ws, request)
        self._connections.add(connection)
        self._changed.set()
        return connection

    def detach(self, connection: Connection) -> None:
        """Forget a closed WebSocket."""
        self._connections.discard(connection)
        self._changed.set()

    def drop(self, *, abrupt: bool = True) -> int:
        """Drop every open WebSocket: cut the connection (``abrupt``) or close it cleanly; return how many."""
        connections = list(self._connections)
        for connection in connections:
            transport = connection.request.transport
            if abrupt and transport is not None:
                transport.abort()
            else:
                connection.queue.put_nowait(None)
        return len(connections)

    async def wait_for(self, count: int, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until ``count`` WebSockets are open.

        Raises:
            TimeoutError: When they are not within ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while len(self._connections) < count:
                self._changed.clear()
                await self._changed.wait()

    async def close_all(self) -> None:
        """Close every WebSocket (server shutdown)."""
        for connection in list(self._connections):
            await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutdown")


async def pump(connection: Connection) -> None:
    """Send what is queued for one WebSocket until it is dropped (``None``) or gone."""
    while True:
        text = await connection.queue.get()
        if text is None:
            await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Dropped")
            return
        try:
            await connection.ws.send_str(text)
        except ConnectionError:
            return
