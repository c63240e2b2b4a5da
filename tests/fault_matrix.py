"""The upstream faults the fault matrix plays, and the table it prints.

Each fault is injected into the simulator for every request to one upstream (``simulator.faults``), the
operation under test runs, the fault is cleared, and the test asserts what a host would see. The outcome of
every cell (provider x fault x operation) is recorded here and printed at the end of the run by
``pytest_terminal_summary`` in ``conftest.py``. Faults that need a scenario of their own record their cell
from their test: a UniFi Access push that stays open but goes silent (``test_unifi_access.py``) and a
RemoteLock webhook that RemoteLock retries and then deactivates (``test_remotelock.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from simulator import Simulator
from simulator.faults import Fault

HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


class Expect(StrEnum):
    """What a fault must lead to, as the host sees it."""

    REAUTH = "reauth"
    """Refused credentials: the operation fails (entities unavailable / a translated error) and Home
    Assistant asks the host to sign in again."""
    FAIL = "fail"
    """The upstream is down or answers something the integration does not understand: the operation fails
    safe and says so, nothing is half done, no reauth."""
    OK = "ok"
    """The client recovers on its own (a token that expired mid-cycle is renewed once)."""
    DEGRADED = "degraded"
    """An inferred endpoint is not understood (404/400): that feature's entities go unavailable, the rest
    stays current, one repair names the endpoint."""


@dataclass(frozen=True, slots=True)
class FaultCase:
    """One fault: how to inject it into one upstream's paths and what it should lead to."""

    name: str
    inject: Callable[[Simulator, str], list[Fault]]
    expect: Expect
    stalls: bool = False
    """The upstream never answers: the client's own timeout has to end the request."""
    writes_only: bool = False
    """Only writes (POST, PUT, DELETE) get the fault; reads answer normally (not played on refreshes)."""
    degrades: tuple[str, ...] = ()
    """With :attr:`Expect.DEGRADED`: the entities that go unavailable (the provider's others stay)."""
    refresh_only: bool = False
    """Played on refreshes only (a fault of one listing the refresh reads)."""


def _status(status: int, **kwargs: object) -> Callable[[Simulator, str], list[Fault]]:
    def inject(simulator: Simulator, prefix: str) -> list[Fault]:
        return [simulator.faults.inject(prefix, status=status, **kwargs)]  # type: ignore[arg-type]

    return inject


def _stall(simulator: Simulator, prefix: str) -> list[Fault]:
    return [simulator.faults.inject(prefix, delay=3600.0)]


def _reset(simulator: Simulator, prefix: str) -> list[Fault]:
    return [simulator.faults.inject(prefix, disconnect=True)]


RATE_LIMIT_HEADERS = {
    "Retry-After": "30",
    "X-RateLimit-Limit": "120",
    "X-RateLimit-Remaining": "0",
    "X-RateLimit-Reset": "30",
}

COMMON_FAULTS: tuple[FaultCase, ...] = (
    FaultCase("401", _status(401), Expect.REAUTH),
    FaultCase("403", _status(403), Expect.REAUTH),
    FaultCase("404", _status(404), Expect.FAIL),
    FaultCase("409", _status(409), Expect.FAIL),
    FaultCase("422", _status(422), Expect.FAIL),
    FaultCase("429", _status(429, headers=RATE_LIMIT_HEADERS), Expect.FAIL),
    FaultCase("500", _status(500), Expect.FAIL),
    FaultCase("502", _status(502), Expect.FAIL),
    FaultCase("503", _status(503), Expect.FAIL),
    FaultCase("timeout", _stall, Expect.FAIL, stalls=True),
    FaultCase("reset", _reset, Expect.FAIL),
    FaultCase("truncated", _status(200, body='{"data": [{"id": "1", "na'), Expect.FAIL),
    FaultCase("html", _status(200, body=HTML_PAGE), Expect.FAIL),
    FaultCase("content-type", _status(200, body="OK", content_type="text/plain"), Expect.FAIL),
)


def token_expired_once(expect: Expect, status: int = 401) -> FaultCase:
    """The first request of the operation finds its token expired (``status`` once: RemoteLock says 403)."""
    return FaultCase("token-expired", _status(status, times=1), expect)


def body_fault(name: str, status: int, body: str, expect: Expect = Expect.FAIL) -> FaultCase:
    """A vendor's own error body (or refusal) with ``status``."""
    return FaultCase(name, _status(status, body=body), expect)


def inferred_fault(suffix: str, status: int, degrades: tuple[str, ...]) -> FaultCase:
    """An inferred listing (``suffix`` under the API prefix) answering ``status``: only its feature goes."""

    def inject(simulator: Simulator, prefix: str) -> list[Fault]:
        return [simulator.faults.inject(prefix + suffix, method="GET", status=status)]

    name = f"{suffix.rsplit('/', 1)[-1]}-{status}"
    return FaultCase(name, inject, Expect.DEGRADED, degrades=degrades, refresh_only=True)


def write_fault(name: str, status: int, body: str) -> FaultCase:
    """A vendor's refusal of writes only (reads keep working), e.g. Nuki's Smart Hosting refusal."""

    def inject(simulator: Simulator, prefix: str) -> list[Fault]:
        return [
            simulator.faults.inject(prefix, method=method, status=status, body=body)
            for method in ("POST", "PUT", "DELETE")
        ]

    return FaultCase(name, inject, Expect.FAIL, writes_only=True)


# --- the table ----------------------------------------------------------------------------------------------

RESULTS: dict[tuple[str, str], dict[str, str]] = {}
"""(provider, operation) → fault → outcome, filled as the matrix runs."""


def record(provider: str, operation: str, fault: str, outcome: str) -> None:
    """Note the outcome of one cell."""
    RESULTS.setdefault((provider, operation), {})[fault] = outcome


def table() -> list[str]:
    """The recorded outcomes as text: per provider, one row per fault and one column per operation.

    An outcome is what the host sees: ``unavailable``, ``reauth``, ``ok`` (recovered on its own), ``feature
    off, repair``, or the translation key of the action's error; ``-`` where the fault does not apply.
    """
    lines: list[str] = []
    for provider in sorted({provider for provider, _ in RESULTS}):
        operations = sorted(op for name, op in RESULTS if name == provider)
        faults: list[str] = []
        for operation in operations:
            faults.extend(fault for fault in RESULTS[provider, operation] if fault not in faults)
        head = [provider, *operations]
        rows = [[fault, *(RESULTS[provider, op].get(fault, "-") for op in operations)] for fault in faults]
        widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
        lines.extend(["", *(_line(row, widths) for row in [head, ["-" * w for w in widths], *rows])])
    return lines


def _line(row: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
