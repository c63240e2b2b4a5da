"""Timed access codes on the locks: the engine, its records, the vendor interface, the actions.

``manager`` creates, tracks, moves and revokes codes on any mix of locks; ``automatic`` follows bookings
with codes; ``policy`` says which PINs a set of locks accepts; each vendor's way with codes (``adapter``)
lives with its account kind in ``providers/``.
"""

from __future__ import annotations

from .actions import async_setup_access_code_services
from .manager import AccessCodeManager, async_get_code_manager
from .records import (
    CODE_FAILED,
    CODE_ON_LOCK,
    CODE_PENDING,
    EVENT_CODE_FAILED,
    EVENT_CODE_PROVISIONED,
    IssuedCode,
)

__all__ = [
    "CODE_FAILED",
    "CODE_ON_LOCK",
    "CODE_PENDING",
    "EVENT_CODE_FAILED",
    "EVENT_CODE_PROVISIONED",
    "AccessCodeManager",
    "IssuedCode",
    "async_get_code_manager",
    "async_setup_access_code_services",
]
