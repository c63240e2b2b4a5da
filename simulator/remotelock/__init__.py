"""RemoteLock API v1 and its OAuth2 server, emulated.

Mounted under :data:`REMOTELOCK_PREFIX`: the API at ``/remotelock/api`` (stands for https://api.remotelock.com)
and the OAuth2 server at ``/remotelock/connect`` (stands for https://connect.remotelock.com, so the token
endpoint is ``/remotelock/connect/oauth/token``).

What it enforces, as the real service documents it:

- ``Accept: application/vnd.lockstate.v1+json`` (or ``application/vnd.lockstate+json; version=1``) on every
  API request (else 406) and ``Authorization: Bearer``: no header → 401, an unknown, revoked or expired access
  token → **403** (access tokens live :attr:`RemoteLockState.access_token_ttl` seconds of simulated time).
- 120 requests per minute per account (fixed windows of the simulated clock; ``rate_limit=None`` turns it
  off), ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` on every API answer and 429 beyond the limit.
- Grants ``authorization_code`` (codes from ``GET /oauth/authorize`` or :meth:`issue_authorization_code`,
  single use, 10 minutes), ``refresh_token`` (rotating: the used refresh token is dead, reuse → 400
  ``invalid_grant``) and ``client_credentials`` (no refresh token); wrong client credentials → 401
  ``invalid_client``.
- Resource errors ``{"attributes", "errors": [{"attribute", "messages", "full_messages"}]}`` (422) and general
  errors ``{"message", "type"}``; pages of ``page``/``per_page`` (max 50) with ``meta``.
- Access grants start pending and sync :attr:`RemoteLockState.sync_delay` seconds later when the lock is
  connected (an ``access_person_synced`` event is recorded then); an offline lock keeps them pending.
- Notification subscribers (email, text, webhook) and subscriptions (publisher + subscriber + event
  types valid for the publisher type): 201 on create, 200 on update (``PUT``), 204 on delete, 404 for unknown
  ids, 422 resource errors. Webhook URLs must be HTTPS, **except** plain ``http`` to a loopback host
  (``127.0.0.1``, ``::1``, ``localhost``), a deliberate deviation so tests and a local Home Assistant can
  receive deliveries. Every recorded event is POSTed (JSON, ``X-Secret``) in the background to the active
  webhook subscribers whose subscriptions match it; attempts land in
  :attr:`RemoteLockState.webhook_deliveries` (form content type: ``unsupported``, not sent). A delivery not
  answered 2xx within 3 seconds is retried every hour of the simulated clock, and a message still failing 72
  hours after its first failure deactivates the subscriber (``active: false``), as RemoteLock documents; due
  retries run before every API request and on :meth:`RemoteLockState.retry_webhooks` (see ``webhooks``).

Events carry the ``pin`` attribute like the real feed does, so tests can check that clients drop it.
The package: ``state`` (:class:`RemoteLockState`: locations, devices, events, access persons and grants),
``records`` (types, event types per publisher, resource shapes), ``errors``, ``oauth`` (:class:`OAuthServer`:
codes, tokens, grants), ``ratelimit`` (:class:`RateBudget`), ``notifications`` (subscribers, subscriptions,
which an event reaches), ``webhooks`` (delivery in the background, retries, deactivation), ``fleet``, and the
routes: ``api`` (:class:`RemoteLockApi`: the vendor, Accept header, bearer token, rate limit, devices and
events), ``api_access``, ``api_notifications``, ``api_oauth`` and ``api_common``.
"""

from .api import RemoteLockApi
from .api_common import DEFAULT_PER_PAGE, MAX_PER_PAGE
from .errors import GeneralError, OAuthError, ResourceError, general_payload
from .fleet import FleetProperty, build_remotelock_fleet, fleet_from_kasify
from .notifications import Notifications
from .oauth import (
    ACCESS_TOKEN_TTL,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE_TTL,
    OOB_REDIRECT_URI,
    AccessToken,
    AuthorizationCode,
    OAuthServer,
    RefreshToken,
)
from .ratelimit import RATE_LIMIT, RATE_WINDOW, RateBudget
from .records import (
    ACCESSIBLE_TYPES,
    API_PATH,
    CONTENT_TYPES,
    DEFAULT_TIME_ZONE,
    EVENT_TYPES,
    LOCK_TYPES,
    LOOPBACK_HOSTS,
    OAUTH_PATH,
    PUBLISHER_EVENTS,
    PUBLISHER_TYPES,
    REMOTELOCK_PREFIX,
    SUBSCRIBER_TYPES,
    WEBHOOK_SUBSCRIBER,
)
from .state import SYNC_DELAY, RemoteLockState
from .webhooks import WebhookDelivery, WebhookSender, deliver_webhook

__all__ = [
    "ACCESSIBLE_TYPES",
    "ACCESS_TOKEN_TTL",
    "API_PATH",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "CODE_TTL",
    "CONTENT_TYPES",
    "DEFAULT_PER_PAGE",
    "DEFAULT_TIME_ZONE",
    "EVENT_TYPES",
    "LOCK_TYPES",
    "LOOPBACK_HOSTS",
    "MAX_PER_PAGE",
    "OAUTH_PATH",
    "OOB_REDIRECT_URI",
    "PUBLISHER_EVENTS",
    "PUBLISHER_TYPES",
    "RATE_LIMIT",
    "RATE_WINDOW",
    "REMOTELOCK_PREFIX",
    "SUBSCRIBER_TYPES",
    "SYNC_DELAY",
    "WEBHOOK_SUBSCRIBER",
    "AccessToken",
    "AuthorizationCode",
    "FleetProperty",
    "GeneralError",
    "Notifications",
    "OAuthError",
    "OAuthServer",
    "RateBudget",
    "RefreshToken",
    "RemoteLockApi",
    "RemoteLockState",
    "ResourceError",
    "WebhookDelivery",
    "WebhookSender",
    "build_remotelock_fleet",
    "deliver_webhook",
    "fleet_from_kasify",
    "general_payload",
]
