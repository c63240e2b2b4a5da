"""A scripted Kasify server on top of aioresponses that records what the client sent.

Each ``reply`` answers exactly one request to ``METHOD BASE_URL + path`` (with any query string);
replies for the same route are used in the order they were added. A request with no reply left
fails inside aioresponses with ``ClientConnectionError``, which the client turns into
``ApiConnectionError``, so a test that expects fewer requests fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import re
from typing import Any

from aioresponses import CallbackResult, aioresponses
from yarl import URL

BASE_URL = "https://api.kasify.test/v1"
TOKEN = "kfy_live_9F8e7D6c5B4a3F2e1D0c"  # distinctive, so a leak into a message is easy to spot

FIXTURES = Path(__file__).parent.parent / "fixtures" / "kasify"


def load_fixture(name: str) -> Any:
    """Decode ``tests/fixtures/kasify/<name>``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Call:
    """One request as it would go on the wire."""

    method: str
    path: str  # below BASE_URL, percent-encoded as sent
    query: dict[str, str]  # decoded
    raw_query: str  # encoded as sent
    headers: dict[str, str]
    json: Any
    timeout_total: float | None


class FakeKasify:
    """Scripted replies plus the list of requests the client made, in order."""

    def __init__(self, mocked: aioresponses) -> None:
        """Register replies on ``mocked``."""
        self._mocked = mocked
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
        content_type: str = "application/json",
        exception: Exception | None = None,
    ) -> None:
        """Answer the next ``method path`` request with ``payload`` as JSON (or ``body`` as is)."""
        if body is None:
            body = "" if payload is None else json.dumps(payload)
        pattern = re.compile(re.escape(BASE_URL + path) + r"(?:\?.*)?$")

        def record(url: URL, **kwargs: Any) -> CallbackResult:
            params = kwargs.get("params") or {}
            wire = URL(str(url.with_query(None))).extend_query(params)
            timeout = kwargs.get("timeout")
            self.calls.append(
                Call(
                    method=method.upper(),
                    path=wire.raw_path.removeprefix(URL(BASE_URL).raw_path),
                    query=dict(wire.query),
                    raw_query=wire.raw_query_string,
                    headers=dict(kwargs.get("headers") or {}),
                    json=kwargs.get("json"),
                    timeout_total=getattr(timeout, "total", None),
                )
            )
            return CallbackResult(
                method=method.upper(),
                status=status,
                body=body,
                content_type=content_type,
                headers=headers,
            )

        self._mocked.add(pattern, method=method.upper(), callback=record, exception=exception)

    @property
    def call(self) -> Call:
        """The only request made."""
        assert len(self.calls) == 1, self.calls
        return self.calls[0]

    def unused_replies(self) -> int:
        """How many scripted replies no request consumed."""
        return len(self._mocked._matches)
