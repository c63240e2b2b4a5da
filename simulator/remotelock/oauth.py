"""The RemoteLock OAuth2 server's state: the client it knows, the codes and tokens it issued, its grants.

Grants ``authorization_code`` (codes single use, 10 minutes), ``refresh_token`` (rotating: the used refresh
token is dead) and ``client_credentials`` (no refresh token). Access tokens live
:attr:`OAuthServer.access_token_ttl` seconds of simulated time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import hmac
import math
import random
from typing import Final

from simulator.clock import Clock
from simulator.kasify_state import Json

from .errors import OAuthError

CLIENT_ID: Final = "sim-remotelock-client"
CLIENT_SECRET: Final = "sim-remotelock-secret"  # noqa: S105 - the simulator's well-known test secret
OOB_REDIRECT_URI: Final = "urn:ietf:wg:oauth:2.0:oob"
ACCESS_TOKEN_TTL: Final = 7200
CODE_TTL: Final = timedelta(minutes=10)


@dataclass(slots=True)
class AccessToken:
    """An issued access token."""

    value: str
    grant: str
    expires_at: datetime
    revoked: bool = False


@dataclass(slots=True)
class RefreshToken:
    """An issued refresh token; ``used`` once it has been exchanged (rotation)."""

    value: str
    used: bool = False
    revoked: bool = False


@dataclass(slots=True)
class AuthorizationCode:
    """A code from ``/oauth/authorize``: single use, valid for 10 minutes."""

    value: str
    client_id: str
    redirect_uri: str
    expires_at: datetime
    used: bool = False


class OAuthServer:
    """The codes and tokens issued to one client, and the rules of each grant."""

    def __init__(self, *, clock: Clock, rng: random.Random, client_id: str, client_secret: str) -> None:
        """Serve the client ``client_id``; secrets are drawn from ``rng`` (shared with the account's ids)."""
        self.clock = clock
        self._rng = rng
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_ttl: int = ACCESS_TOKEN_TTL
        """Seconds an access token stays valid (simulated time)."""
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.codes: dict[str, AuthorizationCode] = {}

    def now(self) -> datetime:
        """The simulated current instant."""
        return self.clock.now()

    def _secret(self, kind: str) -> str:
        return f"{kind}-{self._rng.getrandbits(128):032x}"

    def issue_authorization_code(
        self, redirect_uri: str = OOB_REDIRECT_URI, client_id: str | None = None
    ) -> str:
        """A fresh authorization code, as if the user had signed in and approved the app."""
        code = AuthorizationCode(
            value=self._secret("code"),
            client_id=client_id or self.client_id,
            redirect_uri=redirect_uri,
            expires_at=self.now() + CODE_TTL,
        )
        self.codes[code.value] = code
        return code.value

    def issue_tokens(self, grant: str = "authorization_code") -> Json:
        """Issue an access token (plus a refresh token unless ``client_credentials``); the token response."""
        token = AccessToken(
            value=self._secret("rl-at"),
            grant=grant,
            expires_at=self.now() + timedelta(seconds=self.access_token_ttl),
        )
        self.access_tokens[token.value] = token
        response: Json = {
            "access_token": token.value,
            "token_type": "Bearer",
            "expires_in": self.access_token_ttl,
            "created_at": math.floor(self.now().timestamp()),
        }
        if grant != "client_credentials":
            refresh = RefreshToken(self._secret("rl-rt"))
            self.refresh_tokens[refresh.value] = refresh
            response["refresh_token"] = refresh.value
        return response

    def access_token_valid(self, value: str) -> bool:
        """Whether an access token is known, not revoked and not expired."""
        token = self.access_tokens.get(value)
        return token is not None and not token.revoked and self.now() < token.expires_at

    def expire_access_tokens(self) -> None:
        """Make every access token expired now (the next API request gets 403)."""
        for token in self.access_tokens.values():
            token.expires_at = min(token.expires_at, self.now())

    def revoke_authorization(self) -> None:
        """The user revokes the app: every access and refresh token stops working."""
        for token in self.access_tokens.values():
            token.revoked = True
        for refresh in self.refresh_tokens.values():
            refresh.revoked = True

    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        """Refuse unknown client credentials.

        Raises:
            OAuthError: 401 ``invalid_client``.
        """
        if not (
            client_id
            and client_secret
            and hmac.compare_digest(client_id, self.client_id)
            and hmac.compare_digest(client_secret, self.client_secret)
        ):
            raise OAuthError(
                401,
                "invalid_client",
                "Client authentication failed due to unknown client, no client authentication included, "
                "or unsupported authentication method.",
            )

    def token_grant(self, form: dict[str, str], basic: tuple[str, str] | None = None) -> Json:
        """Answer a token request (``form`` as posted, ``basic`` = HTTP Basic client credentials).

        Raises:
            OAuthError: For any refused request, with the RFC 6749 error code.
        """
        client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
        self.check_client(client_id, client_secret)
        grant = form.get("grant_type")
        invalid_grant = OAuthError(
            400,
            "invalid_grant",
            "The provided authorization grant is invalid, expired, revoked, does not match the redirection "
            "URI used in the authorization request, or was issued to another client.",
        )
        if grant == "authorization_code":
            code = self.codes.get(form.get("code") or "")
            if (
                code is None
                or code.used
                or code.client_id != client_id
                or self.now() >= code.expires_at
                or form.get("redirect_uri", code.redirect_uri) != code.redirect_uri
            ):
                raise invalid_grant
            code.used = True
            return self.issue_tokens("authorization_code")
        if grant == "refresh_token":
            refresh = self.refresh_tokens.get(form.get("refresh_token") or "")
            if refresh is None or refresh.used or refresh.revoked:
                raise invalid_grant
            refresh.used = True
            return self.issue_tokens("refresh_token")
        if grant == "client_credentials":
            return self.issue_tokens("client_credentials")
        raise OAuthError(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )

    def revoke_token(self, value: str) -> None:
        """``POST /oauth/revoke``: an access or refresh token stops working (unknown ones are ignored)."""
        if value in self.access_tokens:
            self.access_tokens[value].revoked = True
        if value in self.refresh_tokens:
            self.refresh_tokens[value].revoked = True
