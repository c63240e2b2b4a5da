"""The UniFi Access developer API of a controller, mounted under :data:`UNIFI_PREFIX`.

The prefix is the real API path (``/api/v1/developer``), so a client that only takes a host and a port (like
``py-unifi-access``) finds every route; real controllers only speak HTTPS on port 12445, and
:func:`serve_unifi_https` puts a TLS front with a self-signed certificate, generated at runtime, before the
simulator (plain HTTP on the simulator's own port works too, e.g. for curl).

The doors come from the Kasify state: every Kasify smart lock with vendor ``unifi`` becomes a door with the
same id (``unifi_smartlock.door_id``), name and floor; one more door, :data:`UNIFI_GARAGE_DOOR_ID`, is not in
Kasify, has no hub (no remote unlock, no lock rules) and no door position sensor. Relay changes of a linked
door are mirrored into its Kasify record (``lock_state`` 1/3), as Kasify reads them from the controller.

Behaviour (inferred where the API leaves it open, and made adjustable):

- Bearer token; every answer is the envelope ``{"code", "msg", "data"}``. Errors: a missing or wrong token
  → 401 ``CODE_ACCESS_TOKEN_INVALID``; a permission the token lacks (:attr:`UnifiAccessState.permissions`)
  → 403 ``CODE_UNAUTHORIZED``; other codes with 400 (parameters, PIN codes), 404 (not found), 402 (operation
  refused, device offline) — or all with HTTP 200 when :attr:`UnifiAccessState.errors_as_http_200` is set
  (which status real controllers use is unconfirmed).
- ``PUT /doors/{id}/unlock`` flips ``door_lock_relay_status`` to ``unlock`` and back to ``lock``
  :attr:`UnifiAccessState.relock_delay` seconds later on the simulated clock (call
  :meth:`UnifiAccessState.settle` after moving a frozen clock; a live clock settles by itself). A door
  without a hub answers ``CODE_OPERATION_FORBIDDEN``, an offline one ``CODE_DEVICE_DEVICE_OFFLINE``.
- Lock rules: ``keep_lock``, ``keep_unlock`` (until ``reset``/``lock_now``), ``custom`` (unlocked for
  ``interval`` minutes), ``lock_early`` (only during an unlock schedule, see
  :meth:`UnifiAccessState.start_unlock_schedule`), ``lock_now`` (ends schedule, temporary and momentary
  unlocks), ``reset`` (ends keep/custom rules).
- WebSocket ``/devices/notifications``: sends ``Hello`` first, then for every relay or position change an
  ``access.data.device.location_update_v2`` message (:attr:`UnifiAccessState.location_events` switches to or
  adds ``access.data.v2.location.update``); an API unlock also sends ``access.data.device.remote_unlock``; a
  PIN typed at a reader (:meth:`UnifiAccessState.use_pin`) sends ``access.logs.add`` (``ACCESS`` or
  ``BLOCKED``). Pings are answered with a pong. :meth:`UnifiAccessState.drop_websockets` drops the sockets;
  :attr:`UnifiAccessState.push_silent` keeps them open but sends nothing at all (no ``Hello``, no pushes, no
  pongs: a push that has silently stopped); every message sent is kept in :attr:`UnifiAccessState.pushed`.
- Visitors: ``POST/GET /visitors``, ``GET/DELETE /visitors/{id}`` (``is_force=true`` deletes, else cancels),
  ``PUT/DELETE /visitors/{id}/pin_codes`` (digits only, length within
  :attr:`UnifiAccessState.pin_lengths` → else ``CODE_CREDS_PIN_CODE_CREDS_LENGTH_INVALID``, unique among
  visitors and :attr:`UnifiAccessState.user_pins` → else ``CODE_CREDS_PIN_CODE_CREDS_ALREADY_EXIST``; answers
  ``{"code", "msg"}`` without ``data``, as documented), ``POST /credentials/pin_codes`` (a free PIN).
The package: ``state`` (:class:`UnifiAccessState`: doors, lock rules and timers, visitors and PINs),
``records`` (doors, devices and push messages as served), ``visitors`` (the visitor body rules), ``errors``
(:class:`UnifiError`, code to HTTP status), ``push`` (the notification WebSockets), ``fleet``
(:func:`build_unifi_fleet`), ``api`` (:class:`UnifiAccessApi`: routes, token, permissions, the envelope) and
``tls`` (:func:`serve_unifi_https`, the self-signed certificate and the TLS front).
"""

from .api import (
    NOTIFICATIONS_PATH,
    UNIFI_PREFIX,
    VISITOR_STATUS_NUMBERS,
    UnifiAccessApi,
    envelope,
    permission_for,
)
from .errors import UnifiError, code_for_status
from .fleet import UNIFI_GARAGE_DOOR_ID, build_unifi_fleet
from .records import CONSOLE_NAME, FLOOR_NAME, LOCATION_UPDATE_V2, LOGS_ADD, REMOTE_UNLOCK, V2_LOCATION_UPDATE
from .state import ALL_PERMISSIONS, FOREVER, UNIFI_TOKEN, UnifiAccessState
from .tls import (
    SelfSignedCertificate,
    TlsFrontend,
    UnifiEndpoint,
    generate_self_signed_certificate,
    serve_unifi_https,
)
from .visitors import VISIT_REASONS

__all__ = [
    "ALL_PERMISSIONS",
    "CONSOLE_NAME",
    "FLOOR_NAME",
    "FOREVER",
    "LOCATION_UPDATE_V2",
    "LOGS_ADD",
    "NOTIFICATIONS_PATH",
    "REMOTE_UNLOCK",
    "UNIFI_GARAGE_DOOR_ID",
    "UNIFI_PREFIX",
    "UNIFI_TOKEN",
    "V2_LOCATION_UPDATE",
    "VISITOR_STATUS_NUMBERS",
    "VISIT_REASONS",
    "SelfSignedCertificate",
    "TlsFrontend",
    "UnifiAccessApi",
    "UnifiAccessState",
    "UnifiEndpoint",
    "UnifiError",
    "build_unifi_fleet",
    "code_for_status",
    "envelope",
    "generate_self_signed_certificate",
    "permission_for",
    "serve_unifi_https",
]
