"""The account's notification subscribers and subscriptions, and which webhook subscribers an event reaches.

A subscription names a publisher (the account, a location, a device or an access person), a subscriber and
the event types it wants; an event reaches it when its type is listed and the publisher is concerned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import random
from typing import Any

from simulator.kasify_state import Json

from .errors import get_record
from .records import API_PATH, REMOTELOCK_PREFIX, WEBHOOK_SUBSCRIBER, resource


class Notifications:
    """The notification subscribers and subscriptions of one account."""

    def __init__(
        self,
        *,
        account_id: str,
        rng: random.Random,
        new_id: Callable[[], str],
        stamp: Callable[[], str],
        find_publisher: Callable[[str, str], Json | None],
    ) -> None:
        """Records for the account ``account_id``; ids, secrets and stamps come from the account's helpers."""
        self.account_id = account_id
        self._rng = rng
        self._new_id = new_id
        self._stamp = stamp
        self._find_publisher = find_publisher
        self.subscribers: dict[str, Json] = {}
        self.subscriptions: dict[str, Json] = {}

    def add_subscriber(self, subscriber_type: str, **attributes: Any) -> Json:
        """Add a notification subscriber as given (no validation; the route validates first).

        A webhook subscriber gets ``content_type`` ``form`` and a random ``secret`` unless given.
        """
        base: Json = {"active": True}
        if subscriber_type == WEBHOOK_SUBSCRIBER:
            base.update(content_type="form", secret=f"{self._rng.getrandbits(128):032x}")
        record = resource(
            subscriber_type,
            self._new_id(),
            {**base, **{k: v for k, v in attributes.items() if v is not None}, "created_at": self._stamp()},
            "/notification_subscribers/{id}",
        )
        record["attributes"]["updated_at"] = self._stamp()
        self.subscribers[record["id"]] = record
        return record

    def add_webhook_subscriber(
        self,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        content_type: str = "json",
        active: bool = True,
    ) -> Json:
        """Add a webhook subscriber (a test shortcut for ``POST /notification_subscribers``)."""
        return self.add_subscriber(
            WEBHOOK_SUBSCRIBER, name=name, url=url, content_type=content_type, secret=secret, active=active
        )

    def get_subscriber(self, subscriber_id: str) -> Json:
        """The notification subscriber with that id.

        Raises:
            GeneralError: 404 when there is none.
        """
        return get_record(self.subscribers, "Notification subscriber", subscriber_id)

    def update_subscriber(self, subscriber_id: str, **attributes: Any) -> Json:
        """Change a subscriber's attributes as given (no validation; the route validates first).

        Raises:
            GeneralError: 404 when there is none.
        """
        record = self.get_subscriber(subscriber_id)
        record["attributes"].update(attributes)
        record["attributes"]["updated_at"] = self._stamp()
        return record

    def deactivate_subscriber(self, subscriber_id: str) -> None:
        """RemoteLock gave up on a webhook: it stays, inactive (nothing is sent to it until activated)."""
        if subscriber_id in self.subscribers:
            self.update_subscriber(subscriber_id, active=False)

    def delete_subscriber(self, subscriber_id: str) -> None:
        """Delete a subscriber and the subscriptions that notify it."""
        self.get_subscriber(subscriber_id)
        del self.subscribers[subscriber_id]
        for subscription_id in [
            sub["id"]
            for sub in self.subscriptions.values()
            if sub["attributes"]["subscriber_id"] == subscriber_id
        ]:
            del self.subscriptions[subscription_id]

    def _publisher_link(self, publisher_type: str, publisher_id: str) -> str:
        if publisher_type == "account":
            return f"{REMOTELOCK_PREFIX}{API_PATH}/accounts/{publisher_id}"
        publisher = self._find_publisher(publisher_type, publisher_id)
        return str(publisher["links"]["self"]) if publisher is not None else ""

    def subscribe(
        self,
        subscriber_id: str,
        publisher_type: str,
        publisher_id: str,
        events: Sequence[str | Json],
    ) -> Json:
        """Add a notification subscription (``events`` as type names or ``{"event_type": ...}`` objects).

        Raises:
            GeneralError: 404 for an unknown subscriber.
        """
        subscriber = self.get_subscriber(subscriber_id)
        record = resource(
            "notification_subscription",
            self._new_id(),
            {
                "events": [{"event_type": e} if isinstance(e, str) else dict(e) for e in events],
                "created_at": self._stamp(),
                "updated_at": self._stamp(),
                "subscriber_id": subscriber_id,
                "subscriber_type": subscriber["type"],
                "publisher_id": publisher_id,
                "publisher_type": publisher_type,
            },
            "/notification_subscriptions/{id}",
        )
        record["links"].update(
            subscriber=subscriber["links"]["self"],
            publisher=self._publisher_link(publisher_type, publisher_id),
        )
        self.subscriptions[record["id"]] = record
        return record

    def get_subscription(self, subscription_id: str) -> Json:
        """The notification subscription with that id.

        Raises:
            GeneralError: 404 when there is none.
        """
        return get_record(self.subscriptions, "Notification subscription", subscription_id)

    def unsubscribe(self, subscription_id: str) -> None:
        """Delete a notification subscription."""
        self.get_subscription(subscription_id)
        del self.subscriptions[subscription_id]

    def _publishes(self, subscription: Json, event: Json, device: Json, person: Json | None) -> bool:
        """Whether an event reaches a subscription: its type is listed and its publisher is concerned."""
        attributes = subscription["attributes"]
        kind = event["type"].removesuffix("_event")
        if not any(e.get("event_type") == kind for e in attributes["events"]):
            return False
        publisher_type, publisher_id = attributes["publisher_type"], attributes["publisher_id"]
        if publisher_type == "account":
            return bool(publisher_id == self.account_id)
        if publisher_type == "location":
            return bool(device["attributes"].get("location_id") == publisher_id)
        if publisher_type in ("access_user", "access_guest"):
            return person is not None and person["id"] == publisher_id
        return bool(device["id"] == publisher_id)

    def recipients(self, event: Json, device: Json, person: Json | None) -> list[Json]:
        """The active webhook subscribers with a subscription the event reaches, by id."""
        subscriber_ids = {
            sub["attributes"]["subscriber_id"]
            for sub in self.subscriptions.values()
            if self._publishes(sub, event, device, person)
        }
        found = []
        for subscriber_id in sorted(subscriber_ids):
            subscriber = self.subscribers.get(subscriber_id)
            if subscriber is None or subscriber["type"] != WEBHOOK_SUBSCRIBER:
                continue
            if subscriber["attributes"].get("active", True):
                found.append(subscriber)
        return found
