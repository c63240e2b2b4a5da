"""Async client for the RemoteLock API v1, its OAuth2 token endpoint and its webhooks.

What the RemoteLock API v1 documentation says, and the client does:

- API ``https://api.remotelock.com``, OAuth ``https://connect.remotelock.com`` (both configurable, so the
  simulator and tests can point the client at loopback); every API request sends
  ``Accept: application/vnd.lockstate.v1+json`` and ``Authorization: Bearer <access token>``.
- Access tokens live 7200 s. The authorization-code grant also returns a refresh token that **rotates**: each
  refresh returns a new one and invalidates the old. The client-credentials grant has no refresh token; the
  token is requested again when it expires.
- **403 means the access token is expired or invalid** (the client refreshes it and retries once); **401 means
  "not permitted"** (:class:`PermissionDeniedError`); 402 is a general error such as
  ``billing_subscription_required`` (:class:`SubscriptionRequiredError`); 409 duplicate; 422 validation.
- Errors come as resource errors ``{"attributes": …, "errors": [{"attribute", "messages", "full_messages"}]}``
  (→ :class:`ValidationError` with ``fields``; an error not tied to an attribute is filed under ``"base"``) or
  general errors ``{"message", "type"}``.
- 120 requests per minute per account; ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (UTC epoch seconds) on
  every response, 429 when exceeded. The client waits on a :class:`SlidingWindowLimiter` before every request,
  pauses it until the reset on a 429 (and when ``Remaining`` reaches 0), and raises :class:`RateLimitedError`.
- Collections are paged with ``page`` (from 1) and ``per_page`` (at most 50) and carry
  ``meta.total_pages``; the client reads every page (``ceil(n / 50)`` requests).
- Webhooks: a ``webhook_notification_subscriber`` (HTTPS ``url``, ``content_type`` ``form`` or ``json``,
  ``secret`` echoed as ``X-Secret``) plus a ``notification_subscription`` tying it to a publisher
  (``account``: any event type) and its event types; both answer 201 on create and 204 on delete.

Inferred (not in the documentation): device types that can be locked and unlocked (``lock``, ``zwave_lock``,
``schlage_home_lock``), ``jammed`` as a lock ``state``, ``model_number``, and the OAuth2 error bodies
(standard RFC 6749 ``{"error", "error_description"}``).

Usage from Home Assistant, where ``OAuth2Session`` owns the tokens::

    async def token() -> str:
        await oauth_session.async_ensure_token_valid()
        return oauth_session.token["access_token"]

    client = RemoteLockClient(async_get_clientsession(hass), token)

or with the client-credentials grant::

    auth = ClientCredentialsAuth(session, token_url(), client_id, client_secret)
    client = RemoteLockClient(session, auth)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
import contextlib
from dataclasses import replace
from datetime import datetime, time as dt_time, tzinfo
from functools import partial
from http import HTTPStatus
import math
import time
from typing import Any, Final

import aiohttp

from .errors import (
    ApiError,
    MalformedResponseError,
    NotFoundError,
)
from .http import (
    HttpTransport,
    Request,
    Response,
    quote_segment,
    retry_after_seconds,
)
from .paging import gather_bounded
from .parse import Reader
from .ratelimit import SlidingWindowLimiter
from .remotelock_models import (
    ACCEPT,
    ACCESS_PERSON_TYPES,
    AUTHORIZE_PATH,
    DEFAULT_API_URL,
    DEFAULT_OAUTH_URL,
    DEFAULT_TIMEOUT,
    DEVICE_TYPES,
    LOCK_TYPES,
    MAX_RESET_WAIT,
    MAX_RESULTS,
    PER_PAGE,
    RATE_LIMIT,
    RATE_WINDOW,
    TOKEN_LEEWAY,
    TOKEN_PATH,
    WEBHOOK_EVENTS,
    WEBHOOK_SUBSCRIBER_TYPE,
    EventBatch,
    RemoteLockAccess,
    RemoteLockAccessPerson,
    RemoteLockAccount,
    RemoteLockEvent,
    RemoteLockLocation,
    RemoteLockLock,
    RemoteLockUser,
    WebhookSubscriber,
    WebhookSubscription,
)
from .remotelock_oauth import (
    CallbackTokenSource,
    ClientCredentialsAuth,
    OAuthToken,
    RefreshTokenAuth,
    TokenSource,
    client_credentials_grant,
    exchange_authorization_code,
    refresh_token_grant,
    request_token,
    token_url,
)
from .remotelock_parse import (
    error_for_answer,
    lock_status,
    parse_access,
    parse_access_person,
    parse_account,
    parse_event,
    parse_location,
    parse_lock,
    parse_user,
    parse_webhook_event,
    parse_webhook_subscriber,
    webhook_secret_matches,
)

# Pages of a collection read at once after the first (each one still waits on the account's limiter).
PAGE_CONCURRENCY: Final = 4
_EPOCH_CUTOFF: Final = 1_000_000_000
"""``X-RateLimit-Reset`` values below this are taken as seconds from now rather than an epoch instant."""


class Paths:
    """Every RemoteLock API path the client uses (all documented: ``docs/remotelock-api.md``)."""

    USER = "/user"
    ACCOUNT = "/account"
    DEVICES = "/devices"
    EVENTS = "/events"
    LOCATIONS = "/locations"
    ACCESS_PERSONS = "/access_persons"

    @staticmethod
    def device(device_id: str) -> str:
        """One device."""
        return f"/devices/{quote_segment(device_id)}"

    @staticmethod
    def lock(device_id: str) -> str:
        """Lock a lock."""
        return f"/devices/{quote_segment(device_id)}/lock"

    @staticmethod
    def unlock(device_id: str) -> str:
        """Unlock a lock."""
        return f"/devices/{quote_segment(device_id)}/unlock"

    @staticmethod
    def device_accesses(device_id: str) -> str:
        """The access grants that reach a device."""
        return f"/devices/{quote_segment(device_id)}/access_person_accesses"

    @staticmethod
    def access_person(person_id: str) -> str:
        """One access person."""
        return f"/access_persons/{quote_segment(person_id)}"

    @staticmethod
    def deactivate(person_id: str) -> str:
        """Deactivate an access person (kept in the history, unlike DELETE)."""
        return f"/access_persons/{quote_segment(person_id)}/deactivate"

    @staticmethod
    def accesses(person_id: str) -> str:
        """An access person's access grants."""
        return f"/access_persons/{quote_segment(person_id)}/accesses"

    @staticmethod
    def access(person_id: str, access_id: str) -> str:
        """One access grant."""
        return f"/access_persons/{quote_segment(person_id)}/accesses/{quote_segment(access_id)}"

    NOTIFICATION_SUBSCRIBERS = "/notification_subscribers"
    NOTIFICATION_SUBSCRIPTIONS = "/notification_subscriptions"

    @staticmethod
    def notification_subscriber(subscriber_id: str) -> str:
        """One notification subscriber (e.g. a webhook)."""
        return f"/notification_subscribers/{quote_segment(subscriber_id)}"

    @staticmethod
    def notification_subscription(subscription_id: str) -> str:
        """One notification subscription (publisher + subscriber + event types)."""
        return f"/notification_subscriptions/{quote_segment(subscription_id)}"


def _local_iso(value: datetime, zone: tzinfo | None) -> str:
    """Format an instant as the lock-local, zone-less ISO-8601 text of ``starts_at``/``ends_at``.

    Raises:
        ValueError: When ``value`` is aware but no ``zone`` was given to convert it to.
    """
    if value.tzinfo is not None:
        if zone is None:
            raise ValueError("an aware datetime needs the lock's time zone to be sent as lock-local time")
        value = value.astimezone(zone)
    return value.replace(tzinfo=None, microsecond=0).isoformat(timespec="seconds")


type Query = list[tuple[str, str | int]]


class RemoteLockClient:
    """RemoteLock API v1 client for one account.

    Every request waits on the account's :class:`SlidingWindowLimiter` first (one is created per client unless
    one is passed in to share). A 403 renews the token through the :class:`TokenSource` and retries once.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        auth: TokenSource | Callable[[], Awaitable[str]],
        *,
        base_url: str = DEFAULT_API_URL,
        limiter: SlidingWindowLimiter | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """Use ``session`` (not owned) against ``base_url``; ``auth`` is a token source or an async getter.

        ``wall_clock`` (epoch seconds) turns ``X-RateLimit-Reset`` into a wait.
        """
        self._auth: TokenSource = auth if isinstance(auth, TokenSource) else CallbackTokenSource(auth)
        self._http = HttpTransport(
            session, timeout=timeout, base_url=base_url, error_for=self._error_for, headers={"Accept": ACCEPT}
        )
        self._wall_clock = wall_clock
        self.limiter = limiter if limiter is not None else SlidingWindowLimiter(RATE_LIMIT, RATE_WINDOW)
        self.rate_limit_remaining: int | None = None
        """``X-RateLimit-Remaining`` of the last answer (``None`` before the first)."""

    @property
    def base_url(self) -> str:
        """The API root the client talks to."""
        return self._http.base_url

    # -- transport -------------------------------------------------------------------------------------------

    async def _send(self, request: Request) -> Response:
        """One request after the limiter let it through; the limiter learns from the rate-limit headers."""
        await self.limiter.acquire()
        response = await self._http.send(request)
        remaining = _header_int(response.headers, "X-RateLimit-Remaining")
        if remaining is not None:
            self.rate_limit_remaining = remaining
        reset_after = self._reset_after(response.headers)
        if response.status == HTTPStatus.TOO_MANY_REQUESTS:
            self.limiter.pause_for(reset_after if reset_after is not None else self.limiter.window)
        else:
            self.limiter.observe(remaining, reset_after)
        return response

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        json_body: Any = None,
        secrets: Sequence[str | None] = (),
    ) -> Any:
        """Perform one request (two when a 403 made the token be renewed) and decode the JSON answer."""
        request = self._http.request(method, path, params=params, json_body=json_body, secrets=secrets)
        token = await self._auth.access_token()
        request = _bearer(request, token)
        response = await self._send(request)
        if response.status == HTTPStatus.FORBIDDEN:
            fresh = await self._auth.refresh_access_token(token)
            if fresh != token:
                request = _bearer(request, fresh)
                response = await self._send(request)
        return self._http.decode_json(request, response)

    def _error_for(self, status: int, text: str, headers: Mapping[str, str], where: str) -> ApiError:
        return error_for_answer(status, text, headers, where, self._reset_after(headers))

    def _reset_after(self, headers: Mapping[str, str]) -> float | None:
        """Seconds until the rate-limit window resets (``X-RateLimit-Reset``, else ``Retry-After``)."""
        reset = _header_float(headers, "X-RateLimit-Reset")
        if reset is None:
            return retry_after_seconds(headers)
        wait = reset if reset < _EPOCH_CUTOFF else reset - self._wall_clock()
        return min(max(0.0, wait), MAX_RESET_WAIT)

    async def _data(self, method: str, path: str, **kwargs: Any) -> Reader:
        """The ``data`` object of a single-resource answer."""
        where = f"{method} {path}"
        body = Reader(await self._request(method, path, **kwargs), where)
        data = body.opt_object("data")
        if data is None:
            raise MalformedResponseError(f"{where}.data: missing")
        return data

    async def _collect[T](
        self, path: str, parse: Callable[[Reader], T], params: Query | None = None
    ) -> list[T]:
        """Every item of a collection: pages of 50 until ``meta.total_pages`` (or a short page).

        The first page says how many there are; the others are then read :data:`PAGE_CONCURRENCY` at a
        time (all through the account's limiter), and a short page ends the collection (pages after it are
        dropped). Without ``total_pages``: one page at a time until a short page.
        """
        items, total_pages = await self._collect_page(path, parse, params, 1)
        if len(items) < PER_PAGE:
            return items
        if total_pages is None:
            page = 2
            while page * PER_PAGE <= MAX_RESULTS:
                found, _ = await self._collect_page(path, parse, params, page)
                items.extend(found)
                if len(found) < PER_PAGE:
                    break
                page += 1
            return items
        last = min(total_pages, MAX_RESULTS // PER_PAGE)
        pages = await gather_bounded(
            PAGE_CONCURRENCY,
            [partial(self._collect_page, path, parse, params, page) for page in range(2, last + 1)],
        )
        for found, _ in pages:
            items.extend(found)
            if len(found) < PER_PAGE:
                break
        return items

    async def _collect_page[T](
        self, path: str, parse: Callable[[Reader], T], params: Query | None, page: int
    ) -> tuple[list[T], int | None]:
        """One page of a collection: its items and the ``meta.total_pages`` it states."""
        query: Query = [*(params or ()), ("page", page), ("per_page", PER_PAGE)]
        body = Reader(await self._request("GET", path, params=query), f"GET {path}")
        items = [parse(item) for item in body.objects("data", required=True)]
        meta = body.opt_object("meta")
        return items, meta.opt_int("total_pages") if meta is not None else None

    # -- user, account, locations ----------------------------------------------------------------------------

    async def get_user(self) -> RemoteLockUser:
        """``GET /user`` — the signed-in user; ``.account_id`` is the config entry's unique id (1 request)."""
        return parse_user(await self._data("GET", Paths.USER))

    async def get_account(self) -> RemoteLockAccount:
        """``GET /account`` — the current account (1 request)."""
        return parse_account(await self._data("GET", Paths.ACCOUNT))

    async def list_locations(self) -> list[RemoteLockLocation]:
        """``GET /locations`` — every location, all pages."""
        return await self._collect(Paths.LOCATIONS, parse_location)

    # -- locks -----------------------------------------------------------------------------------------------

    async def list_locks(self, types: Sequence[str] = LOCK_TYPES) -> list[RemoteLockLock]:
        """``GET /devices?type[]=lock&…`` — every lock of the account: ``ceil(locks / 50)`` requests.

        Devices of other types are dropped even if the server ignored the filter.
        """
        params: Query = [("type[]", kind) for kind in types]
        devices = await self._collect(Paths.DEVICES, parse_lock, params)
        return [lock for lock in devices if lock.type in types]

    async def get_lock(self, lock_id: str) -> RemoteLockLock:
        """``GET /devices/{id}`` (1 request)."""
        return parse_lock(await self._data("GET", Paths.device(lock_id)))

    async def lock(self, lock_id: str) -> RemoteLockLock:
        """``PUT /devices/{id}/lock`` → the device as it is now (1 request)."""
        return parse_lock(await self._data("PUT", Paths.lock(lock_id)))

    async def unlock(self, lock_id: str) -> RemoteLockLock:
        """``PUT /devices/{id}/unlock`` → the device as it is now (1 request)."""
        return parse_lock(await self._data("PUT", Paths.unlock(lock_id)))

    # -- events ----------------------------------------------------------------------------------------------

    async def list_events(
        self,
        *,
        since_id: str | None = None,
        occurred_after: datetime | None = None,
        max_pages: int = 4,
    ) -> EventBatch:
        """``GET /events?sort=-created_at`` — events newer than ``since_id`` and after ``occurred_after``.

        Pages are read newest first (by creation, so a lock that syncs its log late is not missed) until the
        event ``since_id`` is met, or one created before ``occurred_after``, or ``max_pages`` pages were read.
        Usually 1 request. Without either bound, one page: use it to learn the ``cursor`` on first start.
        """
        collected: dict[str, RemoteLockEvent] = {}
        cursor: str | None = None
        complete = False
        pages = max_pages if (since_id is not None or occurred_after is not None) else 1
        for page in range(1, max(1, pages) + 1):
            query: Query = [("sort", "-created_at"), ("page", page), ("per_page", PER_PAGE)]
            body = Reader(await self._request("GET", Paths.EVENTS, params=query), "GET /events")
            data = body.objects("data", required=True)
            for item in data:
                event = parse_event(item)
                cursor = cursor or event.id
                if event.id == since_id or (
                    occurred_after is not None
                    and event.created_at is not None
                    and event.created_at < occurred_after
                ):
                    complete = True
                    break
                if occurred_after is None or event.occurred_at > occurred_after:
                    collected.setdefault(event.id, event)
            meta = body.opt_object("meta")
            total_pages = meta.opt_int("total_pages") if meta is not None else None
            if complete or len(data) < PER_PAGE or (total_pages is not None and page >= total_pages):
                complete = True
                break
        # The feed is newest-created first, so reversed it is creation order; the stable sort keeps that
        # order among events that occurred at the same instant.
        created_order = list(collected.values())[::-1]
        events = tuple(sorted(created_order, key=lambda e: e.occurred_at))
        return EventBatch(events=events, cursor=cursor or since_id, complete=complete)

    # -- access guests ---------------------------------------------------------------------------------------

    async def create_access_guest(
        self,
        name: str,
        starts_at: datetime,
        ends_at: datetime,
        *,
        pin: str | None = None,
        generate_pin: bool = False,
        email: str | None = None,
        time_zone: tzinfo | None = None,
    ) -> RemoteLockAccessPerson:
        """``POST /access_persons`` (type ``access_guest``) → the guest, with its PIN (1 request).

        ``starts_at``/``ends_at`` are sent in lock-local time: naive values as they are, aware ones converted
        to ``time_zone`` (the lock's location's zone). Give ``pin`` or ``generate_pin=True``.

        Raises:
            ValueError: Neither or both of ``pin`` and ``generate_pin``; an aware time without ``time_zone``;
                ``ends_at`` not after ``starts_at``.
        """
        if (pin is None) == (not generate_pin):
            raise ValueError("give either pin or generate_pin=True")
        start, end = _local_iso(starts_at, time_zone), _local_iso(ends_at, time_zone)
        if end <= start:
            raise ValueError("ends_at must be after starts_at")
        attributes: dict[str, Any] = {"name": name, "starts_at": start, "ends_at": end}
        if pin is not None:
            attributes["pin"] = pin
        else:
            attributes["generate_pin"] = True
        if email is not None:
            attributes["email"] = email
        body = {"type": "access_guest", "attributes": attributes}
        data = await self._data(
            "POST", Paths.ACCESS_PERSONS, json_body=body, secrets=(pin or "", email or "")
        )
        return parse_access_person(data, keep_pin=True)

    async def update_access_guest(
        self,
        person_id: str,
        *,
        name: str | None = None,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        time_zone: tzinfo | None = None,
    ) -> RemoteLockAccessPerson:
        """``PUT /access_persons/{id}`` — change the name or the stay (lock-local, as for create)."""
        attributes: dict[str, Any] = {}
        if name is not None:
            attributes["name"] = name
        if starts_at is not None:
            attributes["starts_at"] = _local_iso(starts_at, time_zone)
        if ends_at is not None:
            attributes["ends_at"] = _local_iso(ends_at, time_zone)
        data = await self._data("PUT", Paths.access_person(person_id), json_body={"attributes": attributes})
        return parse_access_person(data)

    async def get_access_person(self, person_id: str) -> RemoteLockAccessPerson:
        """``GET /access_persons/{id}`` (1 request)."""
        return parse_access_person(await self._data("GET", Paths.access_person(person_id)))

    async def list_access_guests(self, statuses: Sequence[str] | None = None) -> list[RemoteLockAccessPerson]:
        """``GET /access_persons?type=access_guest`` — current and upcoming (or ``statuses``), all pages."""
        params: Query = [("type", "access_guest")]
        params += [("attributes[status][]", status) for status in statuses or ()]
        return await self._collect(Paths.ACCESS_PERSONS, parse_access_person, params)

    async def find_access_guest(self, name: str, pin: str) -> RemoteLockAccessPerson | None:
        """The current or upcoming access guest with this name and PIN (without its PIN), or ``None``.

        PINs are unique in an account, so the two find a guest whose id is not known (all pages).
        """
        params: Query = [("type", "access_guest")]
        guests = await self._collect(
            Paths.ACCESS_PERSONS, lambda item: parse_access_person(item, keep_pin=True), params
        )
        found = next((guest for guest in guests if guest.name == name and guest.pin == pin), None)
        return replace(found, pin=None) if found is not None else None

    async def deactivate_access_person(self, person_id: str) -> RemoteLockAccessPerson:
        """``PUT /access_persons/{id}/deactivate`` — revoke everywhere but keep the history (recommended)."""
        return parse_access_person(await self._data("PUT", Paths.deactivate(person_id)))

    async def delete_access_person(self, person_id: str) -> None:
        """``DELETE /access_persons/{id}`` — gone for good (prefer :meth:`deactivate_access_person`)."""
        await self._request("DELETE", Paths.access_person(person_id))

    async def grant_access(
        self,
        person_id: str,
        accessible_id: str,
        *,
        accessible_type: str = "lock",
        guest_start_time: dt_time | None = None,
        guest_end_time: dt_time | None = None,
    ) -> RemoteLockAccess:
        """``POST /access_persons/{id}/accesses`` — let the person open a lock (syncs when it wakes up)."""
        attributes: dict[str, Any] = {"accessible_id": accessible_id, "accessible_type": accessible_type}
        if guest_start_time is not None:
            attributes["guest_start_time"] = guest_start_time.strftime("%H:%M")
        if guest_end_time is not None:
            attributes["guest_end_time"] = guest_end_time.strftime("%H:%M")
        data = await self._data("POST", Paths.accesses(person_id), json_body={"attributes": attributes})
        return parse_access(data)

    async def list_accesses(self, person_id: str) -> list[RemoteLockAccess]:
        """``GET /access_persons/{id}/accesses`` — all pages."""
        return await self._collect(Paths.accesses(person_id), parse_access)

    async def get_access(self, person_id: str, access_id: str) -> RemoteLockAccess:
        """``GET /access_persons/{id}/accesses/{access_id}`` — e.g. to watch the sync counts (1 request)."""
        return parse_access(await self._data("GET", Paths.access(person_id, access_id)))

    async def revoke_access(self, person_id: str, access_id: str) -> None:
        """``DELETE /access_persons/{id}/accesses/{access_id}`` → 204."""
        await self._request("DELETE", Paths.access(person_id, access_id))

    async def list_lock_accesses(
        self, lock_id: str, access_person_type: str | None = "access_guest"
    ) -> list[RemoteLockAccess]:
        """``GET /devices/{id}/access_person_accesses`` — the grants that reach a lock, all pages."""
        params: Query = []
        if access_person_type is not None:
            params.append(("attributes[access_person_type]", access_person_type))
        return await self._collect(Paths.device_accesses(lock_id), parse_access, params)

    # -- webhooks --------------------------------------------------------------------------------------------

    async def create_webhook(
        self,
        *,
        name: str,
        url: str,
        secret: str,
        publisher_id: str,
        events: Sequence[str] = WEBHOOK_EVENTS,
    ) -> WebhookSubscription:
        """Have RemoteLock POST ``events`` of the account ``publisher_id`` to ``url`` (2 requests).

        ``POST /notification_subscribers`` (an active ``webhook_notification_subscriber``, JSON content type,
        ``secret`` sent back as ``X-Secret``), then ``POST /notification_subscriptions`` tying it to the
        ``account`` publisher. If the subscription is refused, the subscriber is deleted again (best effort)
        and the subscription's error is raised: nothing is left half set up. ``secret`` never appears in an
        exception's message or fields.

        Raises:
            ValidationError: 422, e.g. ``fields["url"]`` for a URL that is not HTTPS, or an event type the
                publisher does not have.
            ApiError: Any other failure, mapped as for every request.
        """
        subscriber_body = {
            "type": WEBHOOK_SUBSCRIBER_TYPE,
            "attributes": {
                "active": True,
                "name": name,
                "url": url,
                "content_type": "json",
                "secret": secret,
            },
        }
        subscriber = await self._data(
            "POST", Paths.NOTIFICATION_SUBSCRIBERS, json_body=subscriber_body, secrets=(secret,)
        )
        subscriber_id = subscriber.str("id")
        subscription_body = {
            "attributes": {
                "events": [{"event_type": event} for event in events],
                "publisher_type": "account",
                "publisher_id": publisher_id,
                "subscriber_type": WEBHOOK_SUBSCRIBER_TYPE,
                "subscriber_id": subscriber_id,
            }
        }
        try:
            subscription = await self._data(
                "POST", Paths.NOTIFICATION_SUBSCRIPTIONS, json_body=subscription_body, secrets=(secret,)
            )
            subscription_id = subscription.str("id")
        except ApiError:
            with contextlib.suppress(ApiError):
                await self._request("DELETE", Paths.notification_subscriber(subscriber_id))
            raise
        return WebhookSubscription(subscriber_id=subscriber_id, subscription_id=subscription_id)

    async def get_webhook_subscriber(self, subscriber_id: str) -> WebhookSubscriber:
        """``GET /notification_subscribers/{id}``: whether RemoteLock still delivers to it (1 request).

        Raises:
            NotFoundError: The subscriber is gone.
            ApiError: Any other failure, mapped as for every request.
        """
        data = await self._data("GET", Paths.notification_subscriber(subscriber_id))
        return parse_webhook_subscriber(data)

    async def activate_webhook_subscriber(self, subscriber_id: str, *, url: str) -> WebhookSubscriber:
        """``PUT /notification_subscribers/{id}`` with ``active: true`` and ``url`` (1 request).

        A subscriber RemoteLock deactivated keeps its secret and subscription; this turns it on again, at
        ``url`` (the one that should be reached now). ``url`` never appears in an exception's message.

        Raises:
            NotFoundError: The subscriber is gone.
            ApiError: Any other failure (422 :class:`ValidationError`, e.g. ``fields["url"]``).
        """
        body = {"attributes": {"active": True, "url": url}}
        path = Paths.notification_subscriber(subscriber_id)
        return parse_webhook_subscriber(await self._data("PUT", path, json_body=body, secrets=(url,)))

    async def delete_webhook(self, webhook: WebhookSubscription) -> None:
        """Remove a webhook: ``DELETE`` its subscription, then its subscriber (2 requests; 404: gone).

        Raises:
            ApiError: Any failure other than 404, mapped as for every request.
        """
        for path in (
            Paths.notification_subscription(webhook.subscription_id),
            Paths.notification_subscriber(webhook.subscriber_id),
        ):
            with contextlib.suppress(NotFoundError):
                await self._request("DELETE", path)


def _bearer(request: Request, token: str) -> Request:
    """``request`` sent with the bearer ``token`` (one more secret to keep out of its errors)."""
    headers = {**request.headers, "Authorization": f"Bearer {token}"}
    return replace(request, headers=headers, secrets=(*request.secrets, token))


def _header_float(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    number = _header_float(headers, name)
    return None if number is None else int(number)


__all__ = [
    "ACCEPT",
    "ACCESS_PERSON_TYPES",
    "AUTHORIZE_PATH",
    "DEFAULT_API_URL",
    "DEFAULT_OAUTH_URL",
    "DEFAULT_TIMEOUT",
    "DEVICE_TYPES",
    "LOCK_TYPES",
    "MAX_RESET_WAIT",
    "MAX_RESULTS",
    "PER_PAGE",
    "RATE_LIMIT",
    "RATE_WINDOW",
    "TOKEN_LEEWAY",
    "TOKEN_PATH",
    "WEBHOOK_EVENTS",
    "WEBHOOK_SUBSCRIBER_TYPE",
    "CallbackTokenSource",
    "ClientCredentialsAuth",
    "EventBatch",
    "OAuthToken",
    "Paths",
    "Query",
    "RefreshTokenAuth",
    "RemoteLockAccess",
    "RemoteLockAccessPerson",
    "RemoteLockAccount",
    "RemoteLockClient",
    "RemoteLockEvent",
    "RemoteLockLocation",
    "RemoteLockLock",
    "RemoteLockUser",
    "TokenSource",
    "WebhookSubscriber",
    "WebhookSubscription",
    "client_credentials_grant",
    "exchange_authorization_code",
    "lock_status",
    "parse_access",
    "parse_access_person",
    "parse_account",
    "parse_event",
    "parse_location",
    "parse_lock",
    "parse_user",
    "parse_webhook_event",
    "parse_webhook_subscriber",
    "refresh_token_grant",
    "request_token",
    "token_url",
    "webhook_secret_matches",
]
