"""Whether RemoteLock still delivers to the account's webhook, and what to do when it does not.

RemoteLock retries a failed delivery every hour and deactivates a webhook whose messages could not be
delivered for 72 hours (it e-mails the account owner; nothing more is delivered). Home Assistant being
offline or unreachable for three days is enough. While the webhook option is on, the refresh reads the
webhook's notification subscriber once per :data:`WEBHOOK_CHECK_INTERVAL` (1 request; on the first refresh
after setup too, for a deactivation that happened while Home Assistant was down). When RemoteLock reports it
inactive, or it is gone:

- the events poll resumes at once, at the normal polling speed (polled events are RemoteLock's own record:
  nothing the webhook missed is lost);
- one warning is logged and one repair issue raised (``remotelock_webhook_deactivated`` or
  ``remotelock_webhook_missing``);
- a deactivated subscriber is activated again at Home Assistant's current webhook URL, keeping its secret and
  subscription, when that is safe: Home Assistant has a URL for it, and the integration has not activated it
  automatically since it last delivered (activated again and deactivated again with no delivery in between
  means RemoteLock cannot reach Home Assistant: activating it again would only fail for another 72 hours, so
  the repair stays for the user). Once activated, the repair issue is deleted;
- a subscriber that is gone is not created again: RemoteLock deactivates webhooks, it does not delete them, so
  someone did. The repair says to turn the webhook off and on again (or to leave it off).

The repair issue also goes when a later check finds the subscriber active, or when the webhook is turned off.
No URL, secret or webhook id is logged or shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from homeassistant.components import webhook
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError

from ...api.errors import ApiError, NotFoundError
from ...api.remotelock import RemoteLockClient
from ...const import CONF_WEBHOOK, CONF_WEBHOOK_ID, CONF_WEBHOOK_SUBSCRIBER, DOMAIN, LOGGER
from ...coordinator import KasifyConfigEntry

# RemoteLock retries failed deliveries hourly: looking as often costs 24 requests a day of 120 a minute.
WEBHOOK_CHECK_INTERVAL: Final = timedelta(hours=1)


def webhook_issue_id(entry_id: str) -> str:
    """The repair issue of an entry whose webhook RemoteLock deactivated (or that is gone)."""
    return f"remotelock_webhook_{entry_id}"


class WebhookHealth:
    """Checks the entry's webhook subscriber at RemoteLock from within the refresh (see the module)."""

    def __init__(self, hass: HomeAssistant, entry: KasifyConfigEntry, client: RemoteLockClient) -> None:
        """Check the webhook ``entry``'s options name, through ``client``."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._checked_at: datetime | None = None
        self._activated_unproven = False
        self._reported = False

    @property
    def issue_id(self) -> str:
        """The entry's webhook repair issue."""
        return webhook_issue_id(self._entry.entry_id)

    def delivered(self) -> None:
        """A delivery arrived: the webhook works (an automatic activation proved itself)."""
        self._activated_unproven = False

    async def async_check(self, now: datetime) -> bool:
        """Look at the subscriber when due; whether RemoteLock does not deliver to it (then poll events)."""
        options = self._entry.options
        subscriber_id = options.get(CONF_WEBHOOK_SUBSCRIBER)
        if not options.get(CONF_WEBHOOK) or not subscriber_id:
            ir.async_delete_issue(self._hass, DOMAIN, self.issue_id)
            return False
        if self._checked_at is not None and now - self._checked_at < WEBHOOK_CHECK_INTERVAL:
            return False
        self._checked_at = now
        try:
            subscriber = await self._client.get_webhook_subscriber(str(subscriber_id))
        except NotFoundError:
            subscriber = None
        except ApiError as err:
            LOGGER.debug("RemoteLock: could not check the webhook of %s: %s", self._entry.title, err)
            return False
        if subscriber is not None and subscriber.active:
            if self._reported:
                LOGGER.info("RemoteLock: the webhook of %s is active again", self._entry.title)
            self._reported = False
            ir.async_delete_issue(self._hass, DOMAIN, self.issue_id)
            return False
        self._report(gone=subscriber is None)
        if subscriber is not None:
            await self._activate(subscriber.id)
        return True

    def _report(self, *, gone: bool) -> None:
        """One warning and one repair issue per outage."""
        if not self._reported:
            LOGGER.warning(
                "RemoteLock: the webhook of %s %s; its events are polled meanwhile",
                self._entry.title,
                "is gone"
                if gone
                else "is inactive at RemoteLock (it deactivates one that fails for 72 hours)",
            )
        self._reported = True
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="remotelock_webhook_missing" if gone else "remotelock_webhook_deactivated",
            translation_placeholders={"account": self._entry.title},
        )

    async def _activate(self, subscriber_id: str) -> None:
        """Activate a deactivated subscriber again at the webhook's current URL, when that is safe."""
        title = self._entry.title
        if self._activated_unproven:
            LOGGER.debug("RemoteLock: the webhook of %s was deactivated again before it delivered", title)
            return
        webhook_id = self._entry.options.get(CONF_WEBHOOK_ID)
        if not webhook_id:
            return
        try:
            url = webhook.async_generate_url(self._hass, str(webhook_id))
        except NoURLAvailableError:
            LOGGER.debug("RemoteLock: no URL to activate the webhook of %s at", title)
            return
        try:
            await self._client.activate_webhook_subscriber(subscriber_id, url=url)
        except ApiError as err:
            LOGGER.debug("RemoteLock: could not activate the webhook of %s again: %s", title, err)
            return
        self._activated_unproven = True
        self._reported = False
        LOGGER.info(
            "RemoteLock: the webhook of %s is activated again; events are polled until it delivers", title
        )
        ir.async_delete_issue(self._hass, DOMAIN, self.issue_id)
