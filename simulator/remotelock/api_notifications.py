"""The routes of notification subscribers (email, text, webhook) and subscriptions.

201 on create, 200 on update (``PUT /notification_subscribers/{id}``: the attributes of create, e.g.
``{"attributes": {"active": true}}`` to activate a webhook again), 204 on delete, 404 for unknown ids, 422
resource errors. Webhook URLs must be HTTPS,
**except** plain ``http`` to a loopback host (``127.0.0.1``, ``::1``, ``localhost``), a deliberate deviation
so tests and a local Home Assistant can receive deliveries; event types must suit the publisher type.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from simulator.kasify_state import Json

from .api_common import Routes, collection, json_response, read_body, values
from .errors import GeneralError, ResourceError
from .records import (
    CONTENT_TYPES,
    EVENT_TYPES,
    LOOPBACK_HOSTS,
    PUBLISHER_EVENTS,
    PUBLISHER_TYPES,
    SUBSCRIBER_TYPES,
    WEBHOOK_SUBSCRIBER,
)
from .state import RemoteLockState


def _webhook_url_error(url: Any) -> str | None:
    """Why a webhook ``url`` is refused (``None``: fine): HTTPS only, plain HTTP to loopback tolerated."""
    if not isinstance(url, str) or not url.strip():
        return "can't be blank"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is invalid"
    if not host or parts.scheme not in ("http", "https"):
        return "is invalid"
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return "must be a secure (HTTPS) URL"
    return None


def _events_errors(events: Any, publisher_type: Any) -> list[str]:
    """What is wrong with a subscription's ``events`` for a publisher type (the documented schemas)."""
    if not isinstance(events, list) or not events:
        return ["can't be blank"]
    allowed = PUBLISHER_EVENTS.get(str(publisher_type), tuple(EVENT_TYPES))
    extra = (
        {"first_access", "created_by_integration"}
        if publisher_type in ("access_user", "access_guest")
        else set()
    )
    problems: list[str] = []
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("event_type"), str):
            problems.append("must be objects with an event_type")
            continue
        kind = event["event_type"]
        if kind not in allowed:
            problems.append(f"{kind} is not a valid event type for {publisher_type}")
        unknown = set(event) - {"event_type"} - extra
        if unknown:
            problems.append(f"{kind} has unknown properties: {', '.join(sorted(unknown))}")
        elif any(not isinstance(event[key], bool) for key in extra & set(event)):
            problems.append(f"{kind}: first_access and created_by_integration must be booleans")
    return problems


_UPDATABLE: dict[str, tuple[str, ...]] = {
    "email_notification_subscriber": ("active", "name", "email"),
    "text_notification_subscriber": ("active", "name", "phone", "carrier"),
    WEBHOOK_SUBSCRIBER: ("active", "name", "url", "content_type", "secret"),
}


def _update_errors(kind: str, attributes: Json) -> list[tuple[str | None, str]]:
    """What is wrong with the attributes an update gives (the ones it leaves out keep their values)."""
    errors: list[tuple[str | None, str]] = []
    if "active" in attributes and not isinstance(attributes["active"], bool):
        errors.append(("active", "is invalid"))
    for key in ("name", "email", "phone", "carrier"):
        value = attributes.get(key, "-")
        if key in _UPDATABLE[kind] and (not isinstance(value, str) or not value.strip()):
            errors.append((key, "can't be blank"))
    if kind == WEBHOOK_SUBSCRIBER:
        if "url" in attributes and (url_error := _webhook_url_error(attributes["url"])) is not None:
            errors.append(("url", url_error))
        if attributes.get("content_type", "json") not in CONTENT_TYPES:
            errors.append(("content_type", "must be form or json"))
        if not isinstance(attributes.get("secret", ""), str):
            errors.append(("secret", "is invalid"))
    return errors


class NotificationRoutes:
    """``/notification_subscribers`` and ``/notification_subscriptions`` over one :class:`RemoteLockState`."""

    def __init__(self, state: RemoteLockState) -> None:
        """Serve ``state``."""
        self.state = state

    def routes(self) -> Routes:
        """Method, path and handler of each route."""
        return [
            ("GET", "/notification_subscribers", self.list_subscribers),
            ("POST", "/notification_subscribers", self.create_subscriber),
            ("GET", "/notification_subscribers/{id}", self.get_subscriber),
            ("PUT", "/notification_subscribers/{id}", self.update_subscriber),
            ("DELETE", "/notification_subscribers/{id}", self.delete_subscriber),
            ("GET", "/notification_subscriptions", self.list_subscriptions),
            ("POST", "/notification_subscriptions", self.create_subscription),
            ("GET", "/notification_subscriptions/{id}", self.get_subscription),
            ("DELETE", "/notification_subscriptions/{id}", self.delete_subscription),
        ]

    async def list_subscribers(self, request: web.Request) -> web.Response:
        """``GET /notification_subscribers?type=&sort=`` (default ``created_at`` ascending)."""
        types = set(values(request, "type"))
        sort = request.query.get("sort", "created_at")
        key = sort.removeprefix("-")
        if key not in ("created_at", "name"):
            raise GeneralError(422, "invalid_parameter", "sort must be created_at or name")
        items = [s for s in self.state.notification_subscribers.values() if not types or s["type"] in types]
        items.sort(key=lambda s: str(s["attributes"].get(key) or ""), reverse=sort.startswith("-"))
        return collection(request, items)

    async def get_subscriber(self, request: web.Request) -> web.Response:
        """``GET /notification_subscribers/{id}``."""
        return json_response({"data": self.state.get_subscriber(request.match_info["id"])})

    async def create_subscriber(self, request: web.Request) -> web.Response:
        """``POST /notification_subscribers`` → 201 (email, text or webhook subscriber)."""
        data, attributes = await read_body(request)
        errors: list[tuple[str | None, str]] = []
        kind = data.get("type")
        if kind not in SUBSCRIBER_TYPES:
            errors.append(("type", f"must be one of: {', '.join(SUBSCRIBER_TYPES)}"))
        name = attributes.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(("name", "can't be blank"))
        active = attributes.get("active", True)
        if not isinstance(active, bool):
            errors.append(("active", "is invalid"))
        required = {
            "email_notification_subscriber": ("email",),
            "text_notification_subscriber": ("phone", "carrier"),
        }.get(str(kind), ())
        for key in required:
            value = attributes.get(key)
            if not isinstance(value, str) or not value.strip():
                errors.append((key, "can't be blank"))
        fields: Json = {key: attributes.get(key) for key in required}
        if kind == WEBHOOK_SUBSCRIBER:
            url_error = _webhook_url_error(attributes.get("url"))
            if url_error is not None:
                errors.append(("url", url_error))
            content_type = attributes.get("content_type", "form")
            if content_type not in CONTENT_TYPES:
                errors.append(("content_type", "must be form or json"))
            secret = attributes.get("secret")
            if secret is not None and not isinstance(secret, str):
                errors.append(("secret", "is invalid"))
            fields = {"url": attributes.get("url"), "content_type": content_type, "secret": secret or None}
        if errors:
            raise ResourceError(attributes, errors)
        assert isinstance(kind, str)
        record = self.state.add_subscriber(kind, name=name, **fields, active=active)
        return json_response({"data": record}, 201)

    async def update_subscriber(self, request: web.Request) -> web.Response:
        """``PUT /notification_subscribers/{id}`` → 200: the attributes given change (those of create)."""
        subscriber = self.state.get_subscriber(request.match_info["id"])
        _, attributes = await read_body(request)
        errors = _update_errors(subscriber["type"], attributes)
        if errors:
            raise ResourceError(attributes, errors)
        changes = {key: attributes[key] for key in _UPDATABLE[subscriber["type"]] if key in attributes}
        record = self.state.update_subscriber(subscriber["id"], **changes)
        return json_response({"data": record})

    async def delete_subscriber(self, request: web.Request) -> web.Response:
        """``DELETE /notification_subscribers/{id}`` → 204 (its subscriptions go too)."""
        self.state.delete_subscriber(request.match_info["id"])
        return web.Response(status=204)

    async def list_subscriptions(self, request: web.Request) -> web.Response:
        """``GET /notification_subscriptions?sort=`` (``created_at``, default ascending)."""
        sort = request.query.get("sort", "created_at")
        if sort.removeprefix("-") != "created_at":
            raise GeneralError(422, "invalid_parameter", "sort must be created_at")
        items = list(self.state.notification_subscriptions.values())
        if sort.startswith("-"):
            items.reverse()
        return collection(request, items)

    async def get_subscription(self, request: web.Request) -> web.Response:
        """``GET /notification_subscriptions/{id}``."""
        return json_response({"data": self.state.get_subscription(request.match_info["id"])})

    async def create_subscription(self, request: web.Request) -> web.Response:
        """``POST /notification_subscriptions`` → 201; event types must suit the publisher type."""
        _, attributes = await read_body(request)
        errors: list[tuple[str | None, str]] = []
        publisher_type = attributes.get("publisher_type")
        publisher_id = attributes.get("publisher_id")
        subscriber_type = attributes.get("subscriber_type")
        subscriber_id = attributes.get("subscriber_id")
        if publisher_type not in PUBLISHER_TYPES:
            errors.append(("publisher_type", f"must be one of: {', '.join(PUBLISHER_TYPES)}"))
        elif not isinstance(publisher_id, str) or not publisher_id:
            errors.append(("publisher_id", "can't be blank"))
        elif self.state.find_publisher(str(publisher_type), publisher_id) is None:
            errors.append(("publisher_id", "does not exist"))
        if subscriber_type not in SUBSCRIBER_TYPES:
            errors.append(("subscriber_type", f"must be one of: {', '.join(SUBSCRIBER_TYPES)}"))
        elif not isinstance(subscriber_id, str) or not subscriber_id:
            errors.append(("subscriber_id", "can't be blank"))
        elif (self.state.notification_subscribers.get(subscriber_id) or {}).get("type") != subscriber_type:
            errors.append(("subscriber_id", "does not exist"))
        errors.extend(
            ("events", message) for message in _events_errors(attributes.get("events"), publisher_type)
        )
        if errors:
            raise ResourceError(attributes, errors)
        assert isinstance(subscriber_id, str)
        assert isinstance(publisher_id, str)
        record = self.state.subscribe(subscriber_id, str(publisher_type), publisher_id, attributes["events"])
        return json_response({"data": record}, 201)

    async def delete_subscription(self, request: web.Request) -> web.Response:
        """``DELETE /notification_subscriptions/{id}`` → 204."""
        self.state.unsubscribe(request.match_info["id"])
        return web.Response(status=204)
