"""The request log tests use to count upstream calls."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class RecordedRequest:
    """One request the simulator received.

    ``status`` is filled in when the answer is known: ``None`` while it is still being handled, 499 when the
    client went away first. ``headers`` are as received (credentials included: the simulator's own test
    secrets, which tests look for to know they did flow).
    """

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    body: Any = None
    fault_id: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """A JSON-friendly copy."""
        return asdict(self)
