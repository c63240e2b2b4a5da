"""Fault injection: make matching requests slow, fail, or answer garbage."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
import itertools
from typing import Any

from aiohttp import web

type ErrorBody = Callable[[int, str], bytes]

_ids = itertools.count(1)


@dataclass(slots=True)
class Fault:
    """One injected fault.

    It matches a request whose path starts with ``path`` (and whose method is ``method``, when set). A fault
    with a ``status`` (or a ``body``) answers in place of the API after ``delay`` seconds; a fault with only
    ``delay`` waits and then lets the API answer; ``disconnect`` closes the connection without an answer.
    With ``apply`` the API handles the request first (its state changes as for a normal answer), and only then
    does the fault play: the vendor took the change but the client never learns it (an error status, a
    dropped connection, or an answer later than the client waits). ``times=None`` keeps it active until
    cleared; otherwise it is used up after that many matches. ``echo``
    puts the request as received (request line, headers, body) in the vendor's error body, as a careless
    upstream or proxy does, so tests can check that the client never repeats what it sent.
    """

    path: str
    method: str | None = None
    status: int | None = None
    body: str | bytes | None = None
    content_type: str | None = None
    delay: float = 0.0
    headers: dict[str, str] | None = None
    times: int | None = None
    disconnect: bool = False
    apply: bool = False
    echo: bool = False
    hits: int = 0
    id: int = field(default_factory=lambda: next(_ids))

    def __post_init__(self) -> None:
        """Normalise the method and check the numbers."""
        if self.method is not None:
            self.method = self.method.upper()
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for until cleared)")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")

    @property
    def exhausted(self) -> bool:
        """Whether the fault has been used ``times`` times."""
        return self.times is not None and self.hits >= self.times

    @property
    def answers(self) -> bool:
        """Whether the fault answers instead of the API (rather than only delaying it)."""
        return self.status is not None or self.body is not None or self.echo

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        if self.exhausted or not path.startswith(self.path):
            return False
        return self.method is None or self.method == method.upper()

    def response(self, error_body: ErrorBody, request_text: str = "") -> web.Response:
        """The answer this fault gives.

        ``error_body`` renders the default body for an error status; its message is ``request_text`` for an
        ``echo`` fault.
        """
        status = self.status if self.status is not None else HTTPStatus.OK
        if self.echo:
            status = self.status if self.status is not None else HTTPStatus.INTERNAL_SERVER_ERROR
        headers = dict(self.headers) if self.headers is not None else {}
        if self.headers is None and status == HTTPStatus.TOO_MANY_REQUESTS:
            headers["Retry-After"] = "1"
        body: bytes
        if self.body is not None:
            body = self.body.encode() if isinstance(self.body, str) else self.body
        elif self.echo:
            body = error_body(status, f"Injected fault: HTTP {status} for {request_text}")
        elif status >= HTTPStatus.BAD_REQUEST:
            body = error_body(status, f"Injected fault: HTTP {status}")
        else:
            body = b""
        if status in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED):
            return web.Response(status=status, headers=headers)
        content_type = self.content_type or _guess_content_type(body)
        return web.Response(status=status, body=body, content_type=content_type, headers=headers)

    def as_json(self) -> dict[str, Any]:
        """A JSON-friendly description."""
        body = self.body.decode(errors="replace") if isinstance(self.body, bytes) else self.body
        return {
            "id": self.id,
            "path": self.path,
            "method": self.method,
            "status": self.status,
            "body": body,
            "content_type": self.content_type,
            "delay": self.delay,
            "headers": self.headers,
            "times": self.times,
            "disconnect": self.disconnect,
            "apply": self.apply,
            "echo": self.echo,
            "hits": self.hits,
        }


class FaultInjector:
    """The active faults, first injected first matched."""

    def __init__(self) -> None:
        """Start with no faults."""
        self._faults: list[Fault] = []

    def inject(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = None,
        body: str | bytes | None = None,
        content_type: str | None = None,
        delay: float = 0.0,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
        disconnect: bool = False,
        apply: bool = False,
        echo: bool = False,
    ) -> Fault:
        """Add a fault for requests whose path starts with ``path`` and return it.

        With ``status``, matching requests get that status and ``body`` (default: the vendor's JSON error
        body for error statuses; pass HTML for a proxy error page, or ``b"{not json"`` with status 200 for a
        malformed body). ``content_type`` defaults to ``text/html`` for a body starting with ``<`` and to
        ``application/json`` otherwise. Without ``status`` or ``body`` the fault only adds ``delay`` seconds.
        For 429 a ``Retry-After: 1`` header is added unless ``headers`` is given. ``times=None`` means until
        cleared. ``disconnect=True`` closes the connection without an answer (note that aiohttp's client
        silently retries an idempotent request once when a reused connection drops; use ``times=2`` or more
        to make it see the error). ``apply=True`` makes an ambiguous answer: the API applies the request
        first, then the fault answers (or drops, or delays the API's own answer past the client's timeout).
        ``echo=True`` answers with the vendor's error body (500 unless ``status``
        says otherwise) whose message repeats the request: request line, headers (credentials included) and
        body.
        """
        fault = Fault(
            path=path,
            method=method,
            status=status,
            body=body,
            content_type=content_type,
            delay=delay,
            headers=dict(headers) if headers is not None else None,
            times=times,
            disconnect=disconnect,
            apply=apply,
            echo=echo,
        )
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Find the first active fault for a request, count the hit and return it."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.hits += 1
                if fault.exhausted:
                    self._faults.remove(fault)
                return fault
        return None

    def remove(self, fault: Fault) -> None:
        """Deactivate one fault (no error when it is already gone)."""
        if fault in self._faults:
            self._faults.remove(fault)

    def clear(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def __iter__(self) -> Iterator[Fault]:
        """Iterate over the active faults."""
        return iter(list(self._faults))

    def __len__(self) -> int:
        """The number of active faults."""
        return len(self._faults)


def _guess_content_type(body: bytes) -> str:
    """``text/html`` for a body that looks like markup, else ``application/json``."""
    return "text/html" if body.lstrip()[:1] == b"<" else "application/json"
