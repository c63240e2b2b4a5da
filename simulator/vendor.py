"""What every emulated upstream API provides to the :class:`~simulator.app.Simulator`."""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web


class Vendor(Protocol):
    """One emulated API, mounted as a sub-application under its own path prefix."""

    name: str
    """Short name, e.g. ``"kasify"``; also the key in ``GET /_sim/state``."""

    prefix: str
    """Path prefix the API is mounted under, e.g. ``"/kasify/v1"``."""

    def build_app(self) -> web.Application:
        """Create the sub-application with the vendor's routes, auth and error rendering."""

    def error_body(self, status: int, message: str) -> bytes:
        """The vendor's error body for ``status`` (used by faults that give no body)."""

    def summary(self) -> dict[str, Any]:
        """A short JSON summary of the vendor's state for ``GET /_sim/state``."""
