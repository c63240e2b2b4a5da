"""Revoking a code on several locks: what is left when some cannot be reached, and the repair while it is.

The engine revokes lock by lock and raises one :class:`RevokeIncompleteError` naming the locks it could not
reach (their records stay, for another try). The automatic codes keep retrying only those locks, with one
repair issue per booking (:class:`PendingRevokes`) instead of a warning at every try. Never with the PIN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import logging

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN

_LOGGER = logging.getLogger(__name__)

NOTHING: str = "-"
"""Shown in the repair where no lock was forgotten."""


@dataclass(frozen=True, slots=True)
class LockFailure:
    """A lock a code could not be revoked on, and why (a translated error that names it)."""

    entity_id: str
    lock: str
    error: HomeAssistantError


class RevokeIncompleteError(HomeAssistantError):
    """The code stays on some locks (``failed``: entity id → lock name); it went from every other one.

    ``dropped`` names the locks whose entity was deleted, whose records were forgotten. A call about one
    code only raises that lock's own error (``access_code_revoke_failed``, ``…_unverified``, …).
    """

    def __init__(self, failures: Sequence[LockFailure], dropped: Mapping[str, str], *, single: bool) -> None:
        """One translated error for every lock in ``failures``."""
        self.failed = {failure.entity_id: failure.lock for failure in failures}
        self.dropped = dict(dropped)
        if single and len(failures) == 1 and failures[0].error.translation_key is not None:
            key = failures[0].error.translation_key
            placeholders = dict(failures[0].error.translation_placeholders or {})
        else:
            key = "access_code_revoke_incomplete"
            placeholders = {
                "locks": ", ".join(failure.lock for failure in failures),
                "errors": " ".join(str(failure.error) for failure in failures),
            }
        super().__init__(
            translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
        )


def revoke_issue_id(entry_id: str, booking_id: str) -> str:
    """The repair issue of a booking whose automatic code could not be revoked on every lock."""
    return f"access_code_revoke_pending_{entry_id}_{booking_id}"


class PendingRevokes:
    """The bookings of one Kasify entry whose code is still on some locks: one repair and one warning each."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Issues are raised for ``entry_id``'s bookings."""
        self._hass = hass
        self._entry_id = entry_id
        self._forgotten: dict[str, list[str]] = {}  # booking id → locks deleted meanwhile

    def failed(
        self, booking_id: str, guest: str, locks: Sequence[str], dropped: Sequence[str], err: Exception
    ) -> None:
        """A try left the code on ``locks``: warn the first time (debug after), raise or update the repair."""
        first = booking_id not in self._forgotten
        forgotten = self._forgotten.setdefault(booking_id, [])
        forgotten.extend(name for name in dropped if name not in forgotten)
        _LOGGER.log(
            logging.WARNING if first else logging.DEBUG,
            "Could not revoke the access code of booking %s on %s, trying again every 5 minutes: %s",
            booking_id,
            ", ".join(locks),
            err,
        )
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            revoke_issue_id(self._entry_id, booking_id),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="access_code_revoke_pending",
            translation_placeholders={
                "guest": guest,
                "locks": ", ".join(locks),
                "deleted": ", ".join(forgotten) or NOTHING,
            },
        )

    def done(self, booking_id: str) -> None:
        """The code is gone from every lock: its repair goes."""
        if self._forgotten.pop(booking_id, None) is not None:
            ir.async_delete_issue(self._hass, DOMAIN, revoke_issue_id(self._entry_id, booking_id))
            _LOGGER.info("Revoked the access code of booking %s on the remaining locks", booking_id)

    def clear(self) -> None:
        """The entry unloads: its repairs go (raised again by the next try once it is back)."""
        for booking_id in list(self._forgotten):
            ir.async_delete_issue(self._hass, DOMAIN, revoke_issue_id(self._entry_id, booking_id))
        self._forgotten.clear()
