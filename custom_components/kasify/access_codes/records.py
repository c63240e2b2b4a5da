"""What the access-code engine knows of a code: its record, a lock it targets, what a vendor said."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from .policy import CodeRules

if TYPE_CHECKING:
    from .adapter import CodeAdapter

CODE_PENDING: Final = "pending"
CODE_ON_LOCK: Final = "on_lock"
CODE_FAILED: Final = "failed"

EVENT_CODE_PROVISIONED: Final = "kasify_code_provisioned"
EVENT_CODE_FAILED: Final = "kasify_code_failed"

# A code whose vendor id is not known yet (a Nuki code that has not shown up) has an id of ours.
PENDING_PREFIX: Final = "pending-"


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A code on one lock, as the actions and the automatic per-booking codes see it."""

    entity_id: str
    code_id: str
    code: str = field(repr=False)  # the PIN: never in logs or tracebacks
    starts_at: datetime
    ends_at: datetime
    status: str
    name: str = ""


@dataclass(slots=True)
class CodeRecord:
    """What the store keeps per code on one lock."""

    entity_id: str
    code_id: str
    code: str = field(repr=False)  # the PIN
    name: str
    starts_at: datetime
    ends_at: datetime
    status: str
    vendor: str
    lock: str
    created_at: datetime
    booking_id: str | None = None
    provisional: bool = False
    """The vendor's id is not known yet (a Nuki code that has not shown up): ``code_id`` is ours."""
    doomed: bool = False
    """Not meant to stay (rolled back, revoked while still provisional, or left by a create that did not
    finish): taken off the lock as soon as it can be found and reached, never listed."""
    ref: str = ""
    """The reference of the create call that made it, carried upstream where the vendor has room for it."""
    creating: bool = False
    """Saved before the vendor was asked and the call has not finished: the code may or may not be there."""

    @property
    def key(self) -> tuple[str, str]:
        """Where the engine keeps it: lock entity and code id."""
        return (self.entity_id, self.code_id)

    def issued(self) -> IssuedCode:
        """The code as callers see it."""
        return IssuedCode(
            entity_id=self.entity_id,
            code_id=self.code_id,
            code=self.code,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            status=self.status,
            name=self.name,
        )

    def as_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "entity_id": self.entity_id,
            "code_id": self.code_id,
            "code": self.code,
            "name": self.name,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "status": self.status,
            "vendor": self.vendor,
            "lock": self.lock,
            "created_at": self.created_at.isoformat(),
            "booking_id": self.booking_id,
            "provisional": self.provisional,
            "doomed": self.doomed,
            "ref": self.ref,
            "creating": self.creating,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CodeRecord:
        """Read the stored form (KeyError, TypeError or ValueError when it is not one)."""
        return cls(
            entity_id=str(data["entity_id"]),
            code_id=str(data["code_id"]),
            code=str(data["code"]),
            name=str(data["name"]),
            starts_at=datetime.fromisoformat(data["starts_at"]),
            ends_at=datetime.fromisoformat(data["ends_at"]),
            status=str(data["status"]),
            vendor=str(data["vendor"]),
            lock=str(data["lock"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            booking_id=data.get("booking_id"),
            provisional=bool(data.get("provisional", False)),
            doomed=bool(data.get("doomed", False)),
            ref=str(data.get("ref") or ""),
            creating=bool(data.get("creating", False)),
        )


@dataclass(frozen=True, slots=True)
class NewCode:
    """A code to put on locks: who it is for, its PIN and window, and the booking it belongs to."""

    name: str
    code: str = field(repr=False)  # the PIN
    starts_at: datetime
    ends_at: datetime
    booking_id: str | None = None
    ref: str = ""
    """A reference of the create call, which vendors with room for it carry upstream (it is found by it)."""


@dataclass(frozen=True, slots=True)
class CodeTarget:
    """A lock entity resolved to its vendor, the vendor's lock id, and how to reach it.

    ``coordinator`` is the account's coordinator (for checks that need its data); ``adapter`` the vendor's
    way with codes; ``client`` the account's API client.
    """

    entity_id: str
    vendor: str
    lock_id: str
    name: str
    client: Any
    rules: CodeRules
    adapter: CodeAdapter
    coordinator: Any = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a vendor said about a code it created or was asked about."""

    code_id: str
    status: str
    provisional: bool = False
