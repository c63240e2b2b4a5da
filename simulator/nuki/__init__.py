"""The Nuki Web API (1.5.0, with Smart Hosting), mounted under :data:`NUKI_PREFIX`.

The fleet is built from the Kasify state: every Kasify smart lock with vendor ``nuki`` becomes a Nuki device
with the same ``smartlockId`` (``nuki_smartlock.nuki_smartlock_id``), so the integration can link them; three
more devices are not in Kasify (:data:`NUKI_GARAGE_ID`, :data:`NUKI_OPENER_ID`, :data:`NUKI_STORAGE_ID`).
State changes of a linked device are mirrored into its Kasify record, as Kasify reads them from Nuki.

Behaviour (inferred where the API leaves it open, and made adjustable):

- Bearer token auth; errors are Restlet status objects ``{"code", "description", "reasonPhrase", "uri",
  "homeRef"}``, parameter errors ``{"detailMessage", "stackTrace", "suppressedExceptions"}`` (400), bodies
  that cannot be read a 422 status object.
- Actions answer 204 and move the state later, one step per :attr:`NukiState.action_delay` seconds of the
  simulated clock (lock 3→4→1, unlock 1→2→3, unlatch →7→5→3, Opener ring to open 1↔3 and open →7→5→back);
  the device is busy meanwhile (``operationId`` set, further actions and auth changes → 423). The log entry
  is written when the action completes. A device with ``serverState`` 4 (offline) accepts actions and does
  nothing. :meth:`NukiState.jam_next_action` makes the next lock/unlock end in 254 (motor blocked).
- A device without Smart Hosting: its ``GET /smartlock`` item is the documented stub (no name, no state,
  the ``error``), its log entries are redacted as documented, and every per-device endpoint answers the
  documented ``detailMessage`` body with :attr:`NukiState.shs_error_status` (402 by default; status
  unconfirmed); :attr:`NukiState.shs_error_shape` ``"error"`` switches to the ``{"error": ...}`` body of the
  docs.
- :meth:`NukiState.refuse_writes` makes one device answer its actions (``/action``, ``/action/lock``,
  ``/action/unlock``) and authorization writes (``PUT /smartlock/{id}/auth``, ``POST``/``DELETE
  /smartlock/{id}/auth/{authId}``) with status 200 and the ``detailMessage`` refusal body (or an ``error``
  text), doing nothing, while its listing and reads stay normal (the Smart Hosting page gives the bodies
  but, bar one "Response 200", no status).
- Keypad codes (``PUT /smartlock/{id}/auth`` type 13) are validated by Nuki's rules
  (:mod:`~simulator.nuki.keypad`), answer 204 without a body, and show up in ``GET /smartlock/{id}/auth``
  :attr:`NukiState.auth_delay` seconds later.
- ``GET /smartlock/log``: newest first, ``limit`` 1-50 (default 20), ``id`` returns entries older than that
  id (ids grow with time), ``fromDate``/``toDate`` inclusive.

The package: ``records`` (device types and states, record shapes, :func:`nuki_time`), ``errors``
(:class:`NukiError` and Nuki's error bodies), ``keypad`` (the rules for new and changed authorizations),
``state`` (:class:`NukiState`: devices, actions over simulated time, authorizations, log), ``fleet``
(:func:`build_nuki_fleet`) and ``api`` (:class:`NukiApi`: routes, bearer auth, error rendering).
"""

from .api import NUKI_PREFIX, NukiApi
from .errors import AUTHS_ADVANCED_ERROR, SMART_HOSTING_ERROR, NukiError, detail, refusal, status_object
from .fleet import build_nuki_fleet
from .records import (
    DOOR_CLOSED,
    DOOR_NONE,
    DOOR_OPENED,
    KEYPAD_CODE,
    LOCKED,
    LOCKING,
    MAX_LOG_LIMIT,
    MODE_CONTINUOUS,
    MODE_DOOR,
    MOTOR_BLOCKED,
    NUKI_GARAGE_ID,
    NUKI_OPENER_ID,
    NUKI_STORAGE_ID,
    NUKI_TOKEN,
    OPENER_ONLINE,
    OPENER_OPEN,
    OPENER_OPENING,
    OPENER_RTO_ACTIVE,
    SERVER_OFFLINE,
    SERVER_OK,
    TYPE_BOX,
    TYPE_OPENER,
    TYPE_SMART_LOCK,
    TYPE_SMART_LOCK_3,
    UNLATCHED,
    UNLATCHING,
    UNLOCKED,
    UNLOCKING,
    UNSET,
    nuki_time,
)
from .state import NukiState

__all__ = [
    "AUTHS_ADVANCED_ERROR",
    "DOOR_CLOSED",
    "DOOR_NONE",
    "DOOR_OPENED",
    "KEYPAD_CODE",
    "LOCKED",
    "LOCKING",
    "MAX_LOG_LIMIT",
    "MODE_CONTINUOUS",
    "MODE_DOOR",
    "MOTOR_BLOCKED",
    "NUKI_GARAGE_ID",
    "NUKI_OPENER_ID",
    "NUKI_PREFIX",
    "NUKI_STORAGE_ID",
    "NUKI_TOKEN",
    "OPENER_ONLINE",
    "OPENER_OPEN",
    "OPENER_OPENING",
    "OPENER_RTO_ACTIVE",
    "SERVER_OFFLINE",
    "SERVER_OK",
    "SMART_HOSTING_ERROR",
    "TYPE_BOX",
    "TYPE_OPENER",
    "TYPE_SMART_LOCK",
    "TYPE_SMART_LOCK_3",
    "UNLATCHED",
    "UNLATCHING",
    "UNLOCKED",
    "UNLOCKING",
    "UNSET",
    "NukiApi",
    "NukiError",
    "NukiState",
    "build_nuki_fleet",
    "detail",
    "nuki_time",
    "refusal",
    "status_object",
]
