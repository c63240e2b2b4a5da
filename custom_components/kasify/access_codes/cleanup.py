"""Codes nobody should keep: what a create that did not finish may have left on a lock.

Before the engine asks a vendor for a code it saves an *intent* for that lock (``CodeRecord.creating``): the
PIN, the name, and the create call's reference that vendors with room for it carry upstream (UniFi Access: the
visitor's remarks). Nuki and RemoteLock codes are found by their name and PIN, UniFi visitors by that
reference; Kasify lists no codes, so one of its codes is never found again.

After the call:

- the vendor took the code: the record is kept (the intent is settled when the whole call succeeds);
- the vendor refused it (:func:`answer_unknown` is false): the intent is dropped;
- anything else (a timeout, a dropped connection, a 5xx, an answer not understood, a cancellation, an
  unexpected exception): the code may be on the lock. The record is *doomed* and the engine looks for it
  and removes it (:class:`Removal`), at once, then at every check, until it is gone or its window has ended.

Codes the rollback of a failed call could not remove are doomed too, and a Home Assistant stopped in the
middle of a create finds its intents in the store: every one of them is doomed at load (the call never
finished), and removed before the booking gets a new code on that lock. While a doomed code is known to be on
a lock (or cannot be looked for) one repair issue per code (:class:`Leftovers`) says where; never the PIN.
"""

from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus
import logging

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from ..api.errors import (
    ApiError,
    AuthError,
    BusyError,
    ConflictError,
    DeviceOfflineError,
    NotFoundError,
    NotSupportedError,
    RateLimitedError,
    SubscriptionRequiredError,
    ValidationError,
)
from ..const import DOMAIN
from .records import CodeRecord

_LOGGER = logging.getLogger(__name__)

REFUSALS: tuple[type[Exception], ...] = (
    AuthError,
    BusyError,
    ConflictError,
    DeviceOfflineError,
    NotFoundError,
    NotSupportedError,
    RateLimitedError,
    SubscriptionRequiredError,
    ValidationError,
    # The clients raise ValueError for input they refuse before any request.
    ValueError,
)
"""Errors that say the vendor did not take the code: it answered with a refusal, or nothing was sent."""


def answer_unknown(err: BaseException) -> bool:
    """Whether a create that raised ``err`` may still have put the code on the lock.

    Not when the vendor refused it: one of :data:`REFUSALS`, or any answer with a 4xx status but 408 (a
    request timeout says nothing of what the vendor did).
    """
    if isinstance(err, REFUSALS):
        return False
    status = getattr(err, "status", None) if isinstance(err, ApiError) else None
    return not (isinstance(status, int) and 400 <= status < 500 and status != HTTPStatus.REQUEST_TIMEOUT)


class Removal(StrEnum):
    """What became of one try to take a doomed code off its lock."""

    GONE = "gone"
    """Removed (or seen gone): the record is forgotten."""
    ABSENT = "absent"
    """Looked for and not there (yet): watched until its window ends."""
    STUCK = "stuck"
    """There (or not known), and could not be removed or looked for now: tried again at the next check."""
    UNKNOWN = "unknown"
    """The vendor offers no way to look for it (Kasify): a repair names it until its window ends."""


def leftover_issue_id(record: CodeRecord) -> str:
    """The repair issue of one doomed code."""
    return f"access_code_leftover_{record.entity_id}_{record.code_id}"


class Leftovers:
    """One repair issue per doomed code that is on a lock (or cannot be looked for), and one warning."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Issues are raised in ``hass``."""
        self._hass = hass
        self._raised: set[str] = set()

    def stuck(self, record: CodeRecord, err: Exception | None) -> None:
        """The code may still open the door: raise its repair (warn the first time, debug after)."""
        issue_id = leftover_issue_id(record)
        _LOGGER.log(
            logging.DEBUG if issue_id in self._raised else logging.WARNING,
            "A code for %s that was not meant to stay may be on %s; trying again to remove it: %s",
            record.name,
            record.lock,
            err.__class__.__name__ if err is not None else "the service offers no way to look for it",
        )
        self._raised.add(issue_id)
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="access_code_leftover",
            translation_placeholders={
                "lock": record.lock,
                "name": record.name,
                "ends": dt_util.as_local(record.ends_at).strftime("%Y-%m-%d %H:%M"),
            },
        )

    def settled(self, record: CodeRecord) -> None:
        """The code is gone, not there, or its window is over: its repair goes."""
        issue_id = leftover_issue_id(record)
        if issue_id in self._raised:
            self._raised.discard(issue_id)
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
