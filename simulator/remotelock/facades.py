"""The OAuth server, rate budget, notifications and webhooks of an account, under the account's own names.

Tests, the control API and the README reach them as ``sim.remotelock.issue_tokens()``,
``sim.remotelock.rate_limit``, ``sim.remotelock.subscribe(...)``, ``sim.remotelock.drain_webhooks()``, ...;
each name forwards to the object that now holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.kasify_state import Json

from .notifications import Notifications
from .oauth import OOB_REDIRECT_URI, AccessToken, AuthorizationCode, OAuthServer, RefreshToken
from .ratelimit import RateBudget
from .webhooks import WebhookDelivery, WebhookSender


class AccountFacades:
    """The account's names for what its OAuth server, rate budget, notifications and webhooks hold."""

    oauth: OAuthServer
    rate: RateBudget
    notifications: Notifications
    webhooks: WebhookSender

    @property
    def client_id(self) -> str:
        """The OAuth client's id."""
        return self.oauth.client_id

    @property
    def client_secret(self) -> str:
        """The OAuth client's secret."""
        return self.oauth.client_secret

    @property
    def access_token_ttl(self) -> int:
        """Seconds an access token stays valid (simulated time)."""
        return self.oauth.access_token_ttl

    @access_token_ttl.setter
    def access_token_ttl(self, seconds: int) -> None:
        self.oauth.access_token_ttl = seconds

    @property
    def access_tokens(self) -> dict[str, AccessToken]:
        """The access tokens issued, by value."""
        return self.oauth.access_tokens

    @property
    def refresh_tokens(self) -> dict[str, RefreshToken]:
        """The refresh tokens issued, by value."""
        return self.oauth.refresh_tokens

    @property
    def codes(self) -> dict[str, AuthorizationCode]:
        """The authorization codes issued, by value."""
        return self.oauth.codes

    def issue_authorization_code(
        self, redirect_uri: str = OOB_REDIRECT_URI, client_id: str | None = None
    ) -> str:
        """A fresh authorization code, as if the user had signed in and approved the app."""
        return self.oauth.issue_authorization_code(redirect_uri, client_id)

    def issue_tokens(self, grant: str = "authorization_code") -> Json:
        """Issue an access token (plus a refresh token unless ``client_credentials``); the token response."""
        return self.oauth.issue_tokens(grant)

    def access_token_valid(self, value: str) -> bool:
        """Whether an access token is known, not revoked and not expired."""
        return self.oauth.access_token_valid(value)

    def expire_access_tokens(self) -> None:
        """Make every access token expired now (the next API request gets 403)."""
        self.oauth.expire_access_tokens()

    def revoke_authorization(self) -> None:
        """The user revokes the app: every access and refresh token stops working."""
        self.oauth.revoke_authorization()

    @property
    def rate_limit(self) -> int | None:
        """Requests per minute per account; ``None`` disables the limit."""
        return self.rate.limit

    @rate_limit.setter
    def rate_limit(self, limit: int | None) -> None:
        self.rate.limit = limit

    def reset_rate_limit(self) -> None:
        """Forget the requests counted in the current window."""
        self.rate.reset()

    @property
    def notification_subscribers(self) -> dict[str, Json]:
        """The notification subscribers as served, by id."""
        return self.notifications.subscribers

    @property
    def notification_subscriptions(self) -> dict[str, Json]:
        """The notification subscriptions as served, by id."""
        return self.notifications.subscriptions

    def add_subscriber(self, subscriber_type: str, **attributes: Any) -> Json:
        """Add a notification subscriber as given (see :meth:`Notifications.add_subscriber`)."""
        return self.notifications.add_subscriber(subscriber_type, **attributes)

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
        return self.notifications.add_webhook_subscriber(
            name, url, secret=secret, content_type=content_type, active=active
        )

    def get_subscriber(self, subscriber_id: str) -> Json:
        """The notification subscriber with that id (404 ``GeneralError`` when there is none)."""
        return self.notifications.get_subscriber(subscriber_id)

    def update_subscriber(self, subscriber_id: str, **attributes: Any) -> Json:
        """Change a subscriber's attributes, e.g. ``active=True`` (404 ``GeneralError``: there is none)."""
        return self.notifications.update_subscriber(subscriber_id, **attributes)

    def delete_subscriber(self, subscriber_id: str) -> None:
        """Delete a subscriber, the subscriptions that notify it and its pending webhook retries."""
        self.notifications.delete_subscriber(subscriber_id)
        self.webhooks.forget(subscriber_id)

    def retry_webhooks(self) -> None:
        """Try again the failed webhook deliveries due on the simulated clock (see :mod:`.webhooks`)."""
        self.webhooks.retry_due()

    def subscribe(
        self, subscriber_id: str, publisher_type: str, publisher_id: str, events: Sequence[str | Json]
    ) -> Json:
        """Add a notification subscription (see :meth:`Notifications.subscribe`)."""
        return self.notifications.subscribe(subscriber_id, publisher_type, publisher_id, events)

    def get_subscription(self, subscription_id: str) -> Json:
        """The notification subscription with that id (404 ``GeneralError`` when there is none)."""
        return self.notifications.get_subscription(subscription_id)

    def unsubscribe(self, subscription_id: str) -> None:
        """Delete a notification subscription."""
        self.notifications.unsubscribe(subscription_id)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every webhook delivery attempt, in the order they finished (see :meth:`drain_webhooks`)."""
        return self.webhooks.deliveries

    async def drain_webhooks(self) -> list[WebhookDelivery]:
        """Wait for the deliveries under way; every attempt recorded so far."""
        return await self.webhooks.drain()
