"""The optional RemoteLock webhook: pushed events, checked against the ``X-Secret`` in constant time.

RemoteLock posts each event (``{"data": {...event...}}``, content type JSON) to the URL of a webhook
notification subscriber; the subscriber's secret comes back in the ``X-Secret`` header. A request without the
right secret gets 401 and changes nothing. Accepted events go through the coordinator's one event handler,
the same as polled events, so an event that arrives both ways is handled once.
"""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant, callback

from .api.errors import MalformedResponseError
from .api.remotelock import parse_webhook_event, webhook_secret_matches
from .const import CONF_WEBHOOK, CONF_WEBHOOK_ID, CONF_WEBHOOK_SECRET, DOMAIN, LOGGER
from .coordinator import KasifyConfigEntry, RemoteLockCoordinator

SECRET_HEADER = "X-Secret"  # noqa: S105 - a header name, not a secret


@callback
def async_register_webhook(
    hass: HomeAssistant, entry: KasifyConfigEntry, coordinator: RemoteLockCoordinator
) -> None:
    """Receive the entry's webhook while it is loaded, when the options enable it."""
    options = entry.options
    if not options.get(CONF_WEBHOOK) or not options.get(CONF_WEBHOOK_ID):
        return
    secret = str(options.get(CONF_WEBHOOK_SECRET, ""))

    async def _handle(hass: HomeAssistant, webhook_id: str, request: web.Request) -> web.Response:
        if not webhook_secret_matches(request.headers.get(SECRET_HEADER), secret):
            LOGGER.warning(
                "RemoteLock webhook of %s: refused a request without the right secret", entry.title
            )
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        try:
            event = parse_webhook_event(await request.json())
        except (ValueError, MalformedResponseError) as err:
            LOGGER.debug("RemoteLock webhook of %s: not an event: %s", entry.title, err)
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        if coordinator.data is not None:
            await coordinator.async_handle_pushed_event(event)
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
