"""Webhook deliveries: each event POSTed (JSON, ``X-Secret``) in the background to the subscribers it reaches.

Delivery is a fire-and-forget task on the running event loop (no loop running: skipped); no retries. Form
subscribers are recorded as ``unsupported`` and not sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import json

import aiohttp

from simulator.kasify_state import Json


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One webhook delivery attempt: the answer's ``status``, or ``error`` (``unsupported``: form content)."""

    subscriber_id: str
    event_id: str
    url: str
    status: int | None
    error: str | None = None


class WebhookSender:
    """Sends webhooks in the background and records every attempt."""

    def __init__(self) -> None:
        self.deliveries: list[WebhookDelivery] = []
        """Every delivery attempt, in the order they finished (see :meth:`drain`)."""
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, subscriber: Json, event_id: str, payload: Callable[[], Json]) -> None:
        """Deliver ``payload()`` to a webhook subscriber (form content: recorded as ``unsupported``)."""
        attributes = subscriber["attributes"]
        url = str(attributes["url"])
        if attributes.get("content_type") != "json":
            self.deliveries.append(WebhookDelivery(subscriber["id"], event_id, url, None, "unsupported"))
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        body = json.loads(json.dumps(payload()))  # as it is now
        task = loop.create_task(
            self._deliver(subscriber["id"], event_id, url, attributes.get("secret"), body)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, subscriber_id: str, event_id: str, url: str, secret: str | None, payload: Json
    ) -> None:
        status: int | None = None
        error: str | None = None
        try:
            async with aiohttp.ClientSession() as session:
                status = await deliver_webhook(session, url, secret, payload)
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            error = err.__class__.__name__
        self.deliveries.append(WebhookDelivery(subscriber_id, event_id, url, status, error))

    async def drain(self) -> list[WebhookDelivery]:
        """Wait for the deliveries under way; every attempt recorded so far."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        return list(self.deliveries)


async def deliver_webhook(
    session: aiohttp.ClientSession, url: str, secret: str | None, payload: Json, *, deadline: float = 3.0
) -> int:
    """POST a webhook payload to ``url`` as RemoteLock does (JSON content type, ``X-Secret`` header).

    Returns the answer's status; the real service expects 2xx within 3 seconds (``deadline``).
    """
    headers = {"X-Secret": secret} if secret is not None else {}
    async with session.post(
        url, json=payload, headers=headers, timeout=aiohttp.ClientTimeout(total=deadline)
    ) as resp:
        await resp.read()
        return resp.status
