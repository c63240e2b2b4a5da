"""The optional RemoteLock webhook: pushed events, checked against the ``X-Secret`` in constant time.

The options flow creates a webhook notification subscriber at RemoteLock (this webhook's URL, content type
JSON, a generated secret) subscribed to the account's lock events, and removes it when the webhook is turned
off or the entry is deleted. RemoteLock posts each event (``{"data": {...event...}}``) with the secret in the
``X-Secret`` header. A request without the right secret gets 401 and changes nothing (the first of a run is
logged as a warning, the others at debug until a request with the right secret arrives); its body is not read.
A body over :data:`MAX_WEBHOOK_BODY` (an event is a few hundred bytes) gets 413 and one that is not an event
400, both without reading more or changing anything; an event of a type or a lock the account does not know is
answered 200 and ignored (RemoteLock would otherwise send it again). Accepted events go
through the coordinator's one event handler, the same as polled events, so an event that arrives both ways is
handled once. RemoteLock deactivates a webhook whose deliveries fail for 72 hours: ``webhook_health`` notices
it from the refresh, polls the events meanwhile, raises a repair issue and activates it again when it is safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
import json
import logging
import secrets
from typing import Any, Final

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from ...api.errors import ApiError, MalformedResponseError
from ...api.remotelock import WebhookSubscription, parse_webhook_event, webhook_secret_matches
from ...const import (
    CONF_WEBHOOK,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOK_SECRET,
    CONF_WEBHOOK_SUBSCRIBER,
    CONF_WEBHOOK_SUBSCRIPTION,
    DOMAIN,
    LOGGER,
)
from ...coordinator import KasifyConfigEntry
from .auth import async_create_client
from .coordinator import RemoteLockCoordinator

SECRET_HEADER = "X-Secret"  # noqa: S105 - a header name, not a secret
MAX_WEBHOOK_BODY: Final = 64 * 1024
"""The largest webhook body read, in bytes; a larger one is refused with 413."""


def stored_webhook(options: Mapping[str, Any]) -> WebhookSubscription | None:
    """The subscriber and subscription the integration created at RemoteLock, if any."""
    subscriber, subscription = options.get(CONF_WEBHOOK_SUBSCRIBER), options.get(CONF_WEBHOOK_SUBSCRIPTION)
    if not subscriber or not subscription:
        return None
    return WebhookSubscription(subscriber_id=str(subscriber), subscription_id=str(subscription))


async def async_remove_webhook(hass: HomeAssistant, entry: KasifyConfigEntry) -> None:
    """The entry is deleted: remove its webhook at RemoteLock too (best effort; a failure is logged)."""
    subscription = stored_webhook(entry.options)
    if subscription is None:
        return
    try:
        client = await async_create_client(hass, entry)
        await client.delete_webhook(subscription)
    except (ApiError, HomeAssistantError) as err:
        LOGGER.warning(
            "Could not remove the RemoteLock webhook of %s (delete it at RemoteLock): %s", entry.title, err
        )


async def _read_body(request: web.Request) -> bytes | None:
    """The request's body, or ``None`` when it is over :data:`MAX_WEBHOOK_BODY` (not read further)."""
    if request.content_length is not None and request.content_length > MAX_WEBHOOK_BODY:
        return None
    body = bytearray()
    while chunk := await request.content.read(MAX_WEBHOOK_BODY + 1 - len(body)):
        body += chunk
        if len(body) > MAX_WEBHOOK_BODY:
            return None
    return bytes(body)


@callback
def async_register_webhook(
    hass: HomeAssistant, entry: KasifyConfigEntry, coordinator: RemoteLockCoordinator
) -> None:
    """Receive the entry's webhook while it is loaded, when the options enable it."""
    options = entry.options
    if not options.get(CONF_WEBHOOK) or not options.get(CONF_WEBHOOK_ID):
        return
    secret = str(options.get(CONF_WEBHOOK_SECRET, ""))
    # One warning per run of refused requests (a scanner or a stale subscriber can send many): the rest go to
    # debug until a request with the right secret arrives.
    refusing = False

    async def _handle(hass: HomeAssistant, webhook_id: str, request: web.Request) -> web.Response:
        nonlocal refusing
        if not webhook_secret_matches(request.headers.get(SECRET_HEADER), secret):
            LOGGER.log(
                logging.DEBUG if refusing else logging.WARNING,
                "RemoteLock webhook of %s: refused a request without the right secret%s",
                entry.title,
                " (again)" if refusing else " (further ones are logged at debug level)",
            )
            refusing = True
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        refusing = False
        body = await _read_body(request)
        if body is None:
            LOGGER.debug(
                "RemoteLock webhook of %s: refused a body over %d bytes", entry.title, MAX_WEBHOOK_BODY
            )
            return web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        try:
            event = parse_webhook_event(json.loads(body))
        except (ValueError, RecursionError, MalformedResponseError) as err:
            LOGGER.debug("RemoteLock webhook of %s: not an event: %s", entry.title, err)
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        if coordinator.data is not None:
            coordinator.async_handle_pushed_event(event)
        return web.Response(status=HTTPStatus.OK)

    webhook.async_register(
        hass,
        DOMAIN,
        f"RemoteLock {entry.title}",
        options[CONF_WEBHOOK_ID],
        _handle,
        allowed_methods=["POST"],
    )
    entry.async_on_unload(lambda: webhook.async_unregister(hass, options[CONF_WEBHOOK_ID]))


async def async_enable_webhook(
    hass: HomeAssistant, entry: KasifyConfigEntry, coordinator: RemoteLockCoordinator
) -> dict[str, Any]:
    """Create a webhook subscriber for the account's events at RemoteLock (a new secret each time).

    Returns the options to store. Raises NoURLAvailableError (Home Assistant has no URL RemoteLock can call)
    or ApiError (RemoteLock refused or failed).
    """
    webhook_id = str(entry.options.get(CONF_WEBHOOK_ID) or webhook.async_generate_id())
    url = webhook.async_generate_url(hass, webhook_id)
    secret = secrets.token_hex(16)
    account = await coordinator.client.get_account()
    created = await coordinator.client.create_webhook(
        name=f"Home Assistant {hass.config.location_name}".strip(),
        url=url,
        secret=secret,
        publisher_id=account.id,
    )
    return {
        CONF_WEBHOOK: True,
        CONF_WEBHOOK_ID: webhook_id,
        CONF_WEBHOOK_SECRET: secret,
        CONF_WEBHOOK_SUBSCRIBER: created.subscriber_id,
        CONF_WEBHOOK_SUBSCRIPTION: created.subscription_id,
    }


async def async_disable_webhook(
    entry: KasifyConfigEntry, coordinator: RemoteLockCoordinator
) -> dict[str, Any]:
    """Remove the webhook at RemoteLock; events are polled again. Returns the options to store."""
    if (subscription := stored_webhook(entry.options)) is not None:
        await coordinator.client.delete_webhook(subscription)
    return {CONF_WEBHOOK: False, CONF_WEBHOOK_SUBSCRIBER: "", CONF_WEBHOOK_SUBSCRIPTION: ""}
