"""The RemoteLock OAuth2 server's routes (``/oauth/authorize``, ``/oauth/token``, ``/oauth/revoke``).

Errors are RFC 6749 ``{"error", "error_description"}`` answers; wrong client credentials → 401
``invalid_client`` with ``WWW-Authenticate: Basic``.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from .api_common import Handler, json_response
from .errors import OAuthError
from .oauth import OOB_REDIRECT_URI, OAuthServer


class OAuthRoutes:
    """The sub-application of the OAuth2 server over one :class:`OAuthServer`."""

    def __init__(self, server: OAuthServer) -> None:
        """Serve ``server``."""
        self.server = server

    def build_app(self) -> web.Application:
        """The ``/connect`` sub-application."""
        oauth = web.Application(middlewares=[self._middleware])
        oauth.router.add_get("/oauth/authorize", self.authorize)
        oauth.router.add_post("/oauth/token", self.token)
        oauth.router.add_post("/oauth/revoke", self.revoke)
        return oauth

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except OAuthError as err:
            headers = {"WWW-Authenticate": "Basic"} if err.status == 401 else None
            return web.json_response(
                {"error": err.error, "error_description": err.description}, status=err.status, headers=headers
            )

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        """``GET /oauth/authorize`` — the user signs in and approves at once: redirect with a code.

        With the out-of-band redirect URI the code is answered as JSON ``{"code", "state"}``.
        """
        query = request.query
        if query.get("client_id") != self.server.client_id:
            raise OAuthError(401, "invalid_client", "Unknown client")
        if query.get("response_type") != "code":
            raise OAuthError(400, "unsupported_response_type", "Only response_type=code is supported")
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            raise OAuthError(400, "invalid_request", "redirect_uri is required")
        code = self.server.issue_authorization_code(redirect_uri)
        state = query.get("state", "")
        if redirect_uri == OOB_REDIRECT_URI:
            return json_response({"code": code, "state": state})
        separator = "&" if "?" in redirect_uri else "?"
        raise web.HTTPFound(f"{redirect_uri}{separator}{urlencode({'code': code, 'state': state})}")

    async def token(self, request: web.Request) -> web.Response:
        """``POST /oauth/token`` (form-encoded; client credentials in the form or HTTP Basic)."""
        form = {key: str(value) for key, value in (await request.post()).items()}
        basic: tuple[str, str] | None = None
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                decoded = aiohttp.BasicAuth.decode(auth)
            except ValueError:
                raise OAuthError(401, "invalid_client", "Malformed Basic credentials") from None
            basic = (decoded.login, decoded.password)
        return json_response(self.server.token_grant(form, basic))

    async def revoke(self, request: web.Request) -> web.Response:
        """``POST /oauth/revoke`` → 200 ``{}``."""
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.server.check_client(form.get("client_id"), form.get("client_secret"))
        self.server.revoke_token(form.get("token", ""))
        return json_response({})
