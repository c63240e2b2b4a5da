"""A code typed at a lock, named by the vendor's id of the credential (never by its PIN).

The lock accounts report each keypad code use or refused attempt they can tie to a credential: Nuki by
the log entry's ``authId`` (the keypad authorization), UniFi Access by the log's actor id (the visitor),
RemoteLock by the event's access person (the access guest). Those are the ids the access-code engine keeps
for the codes it issued, so :mod:`.stay_state` can tell which booking's code opened (or failed to open)
which lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

SIGNAL_CODE_USE: Final = "kasify_code_use"
"""Dispatcher signal (one for every account); payload a :class:`CodeUse`."""


@dataclass(frozen=True, slots=True)
class CodeUse:
    """One use of a credential at a lock: ``granted`` opened it, otherwise the lock refused it."""

    device_key: str
    credential_id: str
    granted: bool
    at: datetime


@callback
def async_report_code_use(
    hass: HomeAssistant, device_key: str, credential_id: str | None, *, granted: bool, at: datetime
) -> None:
    """Tell the stay trackers about a code use (nothing when the vendor named no credential)."""
    if credential_id:
        async_dispatcher_send(hass, SIGNAL_CODE_USE, CodeUse(device_key, credential_id, granted, at))
