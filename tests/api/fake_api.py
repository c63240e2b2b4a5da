"""One scripted upstream API on top of aioresponses that records what the client sent.

Each ``reply`` answers exactly one request to ``METHOD origin + path`` (with any query string; ``origin``
defaults to the fake's base URL); replies for the same route are used in the order they were added, and a
``repeat`` reply answers every request to its route. A request with no reply left fails inside aioresponses
with ``ClientConnectionError``, which the clients turn into ``ApiConnectionError``, so a test that expects
fewer requests fails loudly; :meth:`FakeApi.unused_replies` catches a client that made fewer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import json
from pathlib import Path
import re
from typing import Any

from aioresponses import CallbackResult, aioresponses
from yarl import URL

FIXTURES = Path(__file__).parent.parent / "fixtures"


def load_fixture(vendor: str, name: str) -> Any:
    """Decode ``tests/fixtures/<vendor>/<name>``."""
    return json.loads((FIXTURES / vendor / name).read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Call:
    """One request as it went on the wire."""

    method: str
    url: str  # absolute, percent-encoded as sent, query included
    path: str  # percent-encoded as sent, below the fake's base URL
    query: dict[str, str]  # decoded (the last value of a repeated key)
    query_items: list[tuple[str, str]]  # decoded, every item in order
    raw_query: str  # encoded as sent
    headers: dict[str, str]
    json: Any
    form: dict[str, str] | None
    timeout_total: float | None
    ssl: Any


type Answer = Callable[[Call], Awaitable[tuple[int, Any]]]
"""Decides status and JSON payload from the request itself (and may wait)."""


class FakeApi:
    """Scripted replies plus the list of requests the client made, in order."""

    def __init__(self, mocked: aioresponses, base_url: str) -> None:
        """Register replies on ``mocked`` for the API at ``base_url``."""
        self._mocked = mocked
        self.base_url = base_url.rstrip("/")
        self._base_path = URL(self.base_url).raw_path.rstrip("/")
        self._once: set[str] = set()  # the aioresponses keys of this fake's replies that answer once
        self.calls: list[Call] = []

    def reply(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        status: int = 200,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
        exception: Exception | None = None,
        origin: str | None = None,
        answer: Answer | None = None,
        repeat: bool = False,
    ) -> None:
        """Answer the next ``method origin+path`` request with ``payload`` as JSON (or ``body`` as is).

        A callable ``payload`` is called when the request arrives; ``answer`` decides status and payload from
        the request. Without ``content_type``, a body that starts with ``<`` is sent as HTML, anything else
        as JSON. An ``exception`` is raised instead of answering (the request is not recorded).
        """
        pattern = re.compile(re.escape((origin or self.base_url) + path) + r"(?:\?.*)?$")

        async def record(url: URL, **kwargs: Any) -> CallbackResult:
            call = self._call(method, url, kwargs)
            self.calls.append(call)
            code, data = status, payload() if callable(payload) else payload
            if answer is not None:
                code, data = await answer(call)
            text = body if body is not None else "" if data is None else json.dumps(data)
            kind = content_type or ("text/html" if _looks_like_html(text) else "application/json")
            return CallbackResult(
                method=method.upper(), status=code, body=text, content_type=kind, headers=headers
            )

        before = set(self._mocked._matches)
        self._mocked.add(pattern, method=method.upper(), callback=record, exception=exception, repeat=repeat)
        if not repeat:
            self._once |= set(self._mocked._matches) - before

    def _call(self, method: str, url: URL, kwargs: dict[str, Any]) -> Call:
        # aioresponses hands over the URL with ``params`` merged in, sorted and encoded twice; the clients
        # only send ``params`` on a URL without a query, so the wire form is rebuilt from them.
        params = kwargs.get("params")
        wire = url.with_query(None).extend_query(params) if params else url
        data = kwargs.get("data")
        return Call(
            method=method.upper(),
            url=str(wire),
            path=wire.raw_path.removeprefix(self._base_path),
            query=dict(wire.query),
            query_items=list(wire.query.items()),
            raw_query=wire.raw_query_string,
            headers=dict(kwargs.get("headers") or {}),
            json=kwargs.get("json"),
            form=dict(data) if data is not None else None,
            timeout_total=getattr(kwargs.get("timeout"), "total", None),
            ssl=kwargs.get("ssl"),
        )

    @property
    def call(self) -> Call:
        """The only request made."""
        assert len(self.calls) == 1, self.calls
        return self.calls[0]

    def discard_unused(self) -> None:
        """Forget the replies no request used (a request the client cancelled may never have been sent)."""
        for key in self._once:
            self._mocked._matches.pop(key, None)

    def unused_replies(self) -> int:
        """How many of this fake's replies (``repeat`` ones aside) no request consumed."""
        return len(self._once & set(self._mocked._matches))


class Gate:
    """Holds requests until ``size`` of them have arrived, so that they are all in flight at once."""

    def __init__(self, size: int) -> None:
        """Open once ``size`` requests wait."""
        self.size = size
        self.arrived = 0
        self._full = asyncio.Event()

    async def arrive(self) -> None:
        """Wait (at most 5 s) until ``size`` requests have arrived."""
        self.arrived += 1
        if self.arrived >= self.size:
            self._full.set()
        await asyncio.wait_for(self._full.wait(), timeout=5)


def _looks_like_html(text: str | bytes) -> bool:
    head = text.lstrip()[:1]
    return head in ("<", b"<")
