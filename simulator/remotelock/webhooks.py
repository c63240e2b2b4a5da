"""Webhook deliveries: each event POSTed (JSON, ``X-Secret``) in the background to the subscribers it reaches.

Delivery is a task on the running event loop (no loop running: skipped). Form subscribers are recorded as
``unsupported`` and not sent.

Retries, as RemoteLock documents them: a delivery that is not answered with a 2xx status within 3 seconds
(another status, a timeout, no connection) is tried again every hour (:data:`RETRY_INTERVAL`) on the
simulated clock, and a message still not acknowledged 72 hours (:data:`DEACTIVATE_AFTER`) after its first
failure makes RemoteLock deactivate the subscriber: ``active`` becomes ``false``, its other pending retries
are dropped, and it receives nothing more until it is activated again (``PUT``, ``"active": true``).

The simulator's choices where the documentation is silent: the retries that are due run when
:meth:`WebhookSender.retry_due` is called (before every API request, and on a live clock also when they fall
due); after a jump of the clock the hours skipped make one attempt, not one each, and the message counts as
failing for as long as the jump; a retry carries the event as it is then and goes to the subscriber's URL
as it is then; an acknowledged retry ends that message's retries and nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import json
from typing import Final

import aiohttp

from simulator.clock import Clock
from simulator.kasify_state import Json

RETRY_INTERVAL: Final = timedelta(hours=1)
DEACTIVATE_AFTER: Final = timedelta(hours=72)
DEADLINE: Final = 3.0
"""Seconds RemoteLock waits for the answer to a delivery."""


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One webhook delivery attempt: the answer's ``status``, or ``error`` (``unsupported``: form content).

    ``attempt`` counts from 1 (the first delivery) for each subscriber and event.
    """

    subscriber_id: str
    event_id: str
    url: str
    status: int | None
    error: str | None = None
    attempt: int = 1

    @property
    def acknowledged(self) -> bool:
        """Whether the webhook answered with a 2xx status."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(slots=True)
class _Failing:
    """A message not acknowledged yet: when it first failed, when it is tried next, how often it was tried."""

    subscriber: Json
    payload: Callable[[], Json]
    first_failure: datetime
    next_at: datetime | None
    attempts: int


class WebhookSender:
    """Sends webhooks in the background, retries failed ones hourly and records every attempt."""

    def __init__(self, clock: Clock | None = None, deactivate: Callable[[str], None] | None = None) -> None:
        """Retry on ``clock`` (a live clock when none); ``deactivate(subscriber_id)`` after 72 hours."""
        self.deliveries: list[WebhookDelivery] = []
        """Every delivery attempt, in the order they finished (see :meth:`drain`)."""
        self._clock = clock if clock is not None else Clock()
        self._deactivate = deactivate
        self._failing: dict[tuple[str, str], _Failing] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def failing(self) -> dict[tuple[str, str], datetime | None]:
        """``(subscriber id, event id)`` of each message not acknowledged yet → when it is tried next."""
        return {key: failing.next_at for key, failing in self._failing.items()}

    def send(self, subscriber: Json, event_id: str, payload: Callable[[], Json], attempt: int = 1) -> bool:
        """Deliver ``payload()`` to a webhook subscriber; whether it is under way.

        Form content is recorded as ``unsupported`` and not sent; without a running loop nothing is sent.
        """
        attributes = subscriber["attributes"]
        url = str(attributes["url"])
        if attributes.get("content_type") != "json":
            self.deliveries.append(WebhookDelivery(subscriber["id"], event_id, url, None, "unsupported"))
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        body = json.loads(json.dumps(payload()))  # as it is now
        task = loop.create_task(self._deliver(subscriber, event_id, payload, body, attempt))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _deliver(
        self, subscriber: Json, event_id: str, payload: Callable[[], Json], body: Json, attempt: int
    ) -> None:
        attributes = subscriber["attributes"]
        url = str(attributes["url"])
        status: int | None = None
        error: str | None = None
        try:
            async with aiohttp.ClientSession() as session:
                status = await deliver_webhook(session, url, attributes.get("secret"), body)
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            error = err.__class__.__name__
        delivery = WebhookDelivery(subscriber["id"], event_id, url, status, error, attempt)
        self.deliveries.append(delivery)
        self._settle(subscriber, event_id, payload, delivery)

    def _settle(
        self, subscriber: Json, event_id: str, payload: Callable[[], Json], done: WebhookDelivery
    ) -> None:
        """Forget an acknowledged message; schedule a failed one again, or deactivate after 72 hours."""
        key = (subscriber["id"], event_id)
        if done.acknowledged:
            self._failing.pop(key, None)
            return
        now = self._clock.now()
        failing = self._failing.setdefault(key, _Failing(subscriber, payload, now, None, 0))
        failing.attempts = done.attempt
        if now - failing.first_failure >= DEACTIVATE_AFTER:
            self._failing = {k: f for k, f in self._failing.items() if k[0] != subscriber["id"]}
            if self._deactivate is not None:
                self._deactivate(subscriber["id"])
            return
        failing.next_at = now + RETRY_INTERVAL
        self._clock.wake_at(failing.next_at, self.retry_due)

    def retry_due(self) -> None:
        """Try again the failed messages whose hour has come (to subscribers still there and active)."""
        now = self._clock.now()
        for key, failing in list(self._failing.items()):
            if failing.next_at is None or failing.next_at > now:
                continue
            failing.next_at = None  # under way
            active = failing.subscriber["attributes"].get("active", True)
            if not active or not self.send(failing.subscriber, key[1], failing.payload, failing.attempts + 1):
                del self._failing[key]

    def forget(self, subscriber_id: str) -> None:
        """Drop the pending retries of a subscriber (it was deleted)."""
        self._failing = {k: f for k, f in self._failing.items() if k[0] != subscriber_id}

    async def drain(self) -> list[WebhookDelivery]:
        """Wait for the deliveries under way; every attempt recorded so far."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        return list(self.deliveries)


async def deliver_webhook(
    session: aiohttp.ClientSession, url: str, secret: str | None, payload: Json, *, deadline: float = DEADLINE
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
