"""RemoteLock OAuth2: the three grants, token-endpoint errors, cached tokens and refresh-token rotation."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import aiohttp
import pytest

from custom_components.kasify.api.errors import (
    ApiConnectionError,
    MalformedResponseError,
    OAuthGrantError,
    RateLimitedError,
    ServerError,
)
from custom_components.kasify.api.remotelock import (
    DEFAULT_OAUTH_URL,
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

from .conftest import MakeFake
from .fake_api import Call, FakeApi

OAUTH = "https://connect.remotelock.test"
TOKEN_URL = OAUTH + "/oauth/token"
CLIENT_ID = "app-123"
CLIENT_SECRET = "s3cr3t-Zq8Wm2Xv"
NOW = 1_773_489_600.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class TokenServer:
    """A scripted token endpoint that enforces refresh-token rotation, recording every form it got."""

    def __init__(self, fake: FakeApi) -> None:
        self._fake = fake
        self.valid_refresh: set[str] = {"rt-0"}
        self._numbers = itertools.count(1)
        fake.reply("POST", "/oauth/token", answer=self._answer, repeat=True)

    @property
    def forms(self) -> list[dict[str, str]]:
        return [call.form or {} for call in self._fake.calls]

    async def _answer(self, call: Call) -> tuple[int, Any]:
        form = call.form or {}
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        number = next(self._numbers)
        if form["grant_type"] == "refresh_token":
            if form["refresh_token"] not in self.valid_refresh:
                return 400, {"error": "invalid_grant", "error_description": "The grant is invalid"}
            self.valid_refresh.discard(form["refresh_token"])
        token: dict[str, Any] = {"access_token": f"at-{number}", "token_type": "bearer", "expires_in": 7200}
        if form["grant_type"] != "client_credentials":
            token["refresh_token"] = f"rt-{number}"
            self.valid_refresh.add(f"rt-{number}")
        return 200, token


@pytest.fixture
def server(fake_api: MakeFake) -> TokenServer:
    return TokenServer(fake_api(OAUTH))


# --- URLs and the token value -------------------------------------------------------------------------------


def test_urls() -> None:
    assert token_url() == DEFAULT_OAUTH_URL + "/oauth/token"
    assert token_url(OAUTH + "/") == TOKEN_URL


def test_token_round_trip_and_repr() -> None:
    token = OAuthToken.from_dict(
        {"access_token": "at", "refresh_token": "rt", "expires_in": 7200, "token_type": "Bearer"}, NOW
    )
    assert token.expires_at == NOW + 7200
    assert "at" not in repr(token).replace("expires_at", "").replace("OAuthToken", "")
    assert "rt" not in repr(token)
    stored = {"access_token": "at", "refresh_token": "rt", "expires_at": NOW + 7200, "expires_in": 7000}
    assert OAuthToken.from_dict(stored, 0.0) == token  # expires_at wins over expires_in
    forever = OAuthToken.from_dict({"access_token": "at"}, NOW)
    assert forever.expires_at is None
    assert not forever.expired(NOW + 10**9)


@pytest.mark.parametrize(("now", "expired"), [(NOW, False), (NOW + 7139, False), (NOW + 7140, True)])
def test_expired_with_leeway(now: float, expired: bool) -> None:
    token = OAuthToken("at", expires_at=NOW + 7200)
    assert token.expired(now) is expired  # 60 s of leeway by default
    assert token.expired(NOW + 7199, leeway=0) is False


@pytest.mark.parametrize(
    "data", [{"expires_in": 7200}, {"access_token": "at", "expires_in": "soon"}, {"access_token": ["x"]}]
)
def test_bad_token_shapes(data: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError):
        OAuthToken.from_dict(data, NOW)


# --- the grants ---------------------------------------------------------------------------------------------


async def test_authorization_code_grant(session: aiohttp.ClientSession, server: TokenServer) -> None:
    token = await exchange_authorization_code(
        session,
        TOKEN_URL,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        code="code-1",
        redirect_uri="https://ha.local/cb",
        clock=lambda: NOW,
    )
    assert server.forms == [
        {
            "grant_type": "authorization_code",
            "code": "code-1",
            "redirect_uri": "https://ha.local/cb",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    ]
    assert (token.access_token, token.refresh_token, token.expires_at, token.token_type) == (
        "at-1",
        "rt-1",
        NOW + 7200,
        "bearer",
    )


async def test_client_credentials_grant(session: aiohttp.ClientSession, server: TokenServer) -> None:
    token = await client_credentials_grant(
        session, TOKEN_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    assert server.forms[0]["grant_type"] == "client_credentials"
    assert token.refresh_token is None


async def test_refresh_token_grant_rotates(session: aiohttp.ClientSession, server: TokenServer) -> None:
    first = await refresh_token_grant(
        session, TOKEN_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="rt-0"
    )
    assert first.refresh_token == "rt-1"
    second = await refresh_token_grant(
        session, TOKEN_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="rt-1"
    )
    assert second.refresh_token == "rt-2"
    with pytest.raises(OAuthGrantError) as caught:  # the old refresh token died when it was used
        await refresh_token_grant(
            session, TOKEN_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="rt-0"
        )
    assert (caught.value.error, caught.value.status) == ("invalid_grant", 400)
    assert "rt-0" not in str(caught.value)


async def test_refresh_keeps_the_refresh_token_when_none_comes_back(
    session: aiohttp.ClientSession, fake_api: MakeFake
) -> None:
    fake_api(OAUTH).reply("POST", "/oauth/token", {"access_token": "at", "expires_in": 60})
    token = await refresh_token_grant(
        session, TOKEN_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="rt-keep"
    )
    assert token.refresh_token == "rt-keep"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": "invalid_grant", "error_description": "expired"}, OAuthGrantError),
        (401, {"error": "invalid_client"}, OAuthGrantError),
        (403, "<html>no</html>", OAuthGrantError),
        (429, {"error": "slow_down"}, RateLimitedError),
        (502, "<html>bad gateway</html>", ServerError),
    ],
)
async def test_token_endpoint_errors(
    session: aiohttp.ClientSession, fake_api: MakeFake, status: int, body: Any, error: type[Exception]
) -> None:
    text = body if isinstance(body, str) else json.dumps({**body, "echo": CLIENT_SECRET})
    fake_api(OAUTH).reply("POST", "/oauth/token", status=status, body=text, headers={"Retry-After": "5"})
    with pytest.raises(error) as caught:
        await client_credentials_grant(session, TOKEN_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert CLIENT_SECRET not in str(caught.value)
    assert str(caught.value).startswith(f"POST /oauth/token: HTTP {status}")
    if isinstance(caught.value, OAuthGrantError) and isinstance(body, dict):
        assert caught.value.error == body["error"]
        assert body["error"] in str(caught.value)


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", json.dumps({"token_type": "bearer"})])
async def test_token_endpoint_malformed_answers(
    session: aiohttp.ClientSession, fake_api: MakeFake, body: str
) -> None:
    fake_api(OAUTH).reply("POST", "/oauth/token", status=200, body=body)
    with pytest.raises(MalformedResponseError):
        await request_token(session, TOKEN_URL, {"grant_type": "client_credentials"})


@pytest.mark.parametrize("exception", [aiohttp.ClientConnectionError("down"), TimeoutError()])
async def test_token_endpoint_unreachable(
    session: aiohttp.ClientSession, fake_api: MakeFake, exception: Exception
) -> None:
    fake_api(OAUTH).reply("POST", "/oauth/token", exception=exception)
    with pytest.raises(ApiConnectionError):
        await request_token(session, TOKEN_URL, {"grant_type": "client_credentials"}, http_timeout=1.0)


# --- token sources ------------------------------------------------------------------------------------------


async def test_client_credentials_auth_caches_and_renews_on_expiry(
    session: aiohttp.ClientSession, server: TokenServer
) -> None:
    clock = Clock()
    auth = ClientCredentialsAuth(session, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, clock=clock)
    assert isinstance(auth, TokenSource)
    assert auth.token is None
    # Many requests at once need a token: one grant.
    tokens = await asyncio.gather(*(auth.access_token() for _ in range(5)))
    assert tokens == ["at-1"] * 5
    assert len(server.forms) == 1
    clock.now += 7000
    assert await auth.access_token() == "at-1"
    clock.now += 141  # within the 60 s leeway
    assert await auth.access_token() == "at-2"
    assert [f["grant_type"] for f in server.forms] == ["client_credentials"] * 2
    assert auth.token is not None
    assert auth.token.refresh_token is None


async def test_a_rejected_token_is_renewed_once(session: aiohttp.ClientSession, server: TokenServer) -> None:
    auth = ClientCredentialsAuth(session, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, clock=Clock())
    assert await auth.access_token() == "at-1"
    renewed = await asyncio.gather(*(auth.refresh_access_token("at-1") for _ in range(3)))
    assert renewed == ["at-2"] * 3  # the first renewal serves the others
    assert len(server.forms) == 2


async def test_client_credentials_refused(session: aiohttp.ClientSession, server: TokenServer) -> None:
    auth = ClientCredentialsAuth(session, TOKEN_URL, CLIENT_ID, "wrong")
    with pytest.raises(OAuthGrantError) as caught:
        await auth.access_token()
    assert caught.value.error == "invalid_client"


async def test_refresh_token_auth_rotation_persists_before_use(
    session: aiohttp.ClientSession, server: TokenServer
) -> None:
    clock = Clock()
    persisted: list[OAuthToken] = []
    auth: RefreshTokenAuth

    async def persist(token: OAuthToken) -> None:
        # Still the old token in use while the new one is being stored.
        assert auth.token is not None
        assert auth.token.refresh_token != token.refresh_token
        persisted.append(token)

    start = OAuthToken("at-0", expires_at=NOW + 7200, refresh_token="rt-0")
    auth = RefreshTokenAuth(
        session, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, start, on_new_token=persist, clock=clock
    )
    assert await auth.access_token() == "at-0"  # valid: no request
    assert server.forms == []

    clock.now += 7200  # expired: refresh #1
    assert await auth.access_token() == "at-1"
    assert await auth.refresh_access_token("at-1") == "at-2"  # a 403: refresh #2
    assert [t.refresh_token for t in persisted] == ["rt-1", "rt-2"]
    assert [f["refresh_token"] for f in server.forms] == ["rt-0", "rt-1"]
    assert server.valid_refresh == {"rt-2"}  # each used refresh token is dead upstream

    # Reusing an old refresh token (e.g. a stale copy of the config entry) fails.
    stale = RefreshTokenAuth(
        session, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, start, on_new_token=persist, clock=clock
    )
    with pytest.raises(OAuthGrantError) as caught:
        await stale.access_token()
    assert caught.value.error == "invalid_grant"


async def test_a_failing_persist_still_switches_to_the_new_token(
    session: aiohttp.ClientSession, server: TokenServer
) -> None:
    async def persist(token: OAuthToken) -> None:
        raise OSError("disk full")

    start = OAuthToken("at-0", expires_at=NOW - 1, refresh_token="rt-0")
    auth = RefreshTokenAuth(
        session, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, start, on_new_token=persist, clock=Clock()
    )
    with pytest.raises(OSError, match="disk full"):
        await auth.access_token()
    assert auth.token is not None
    assert auth.token.refresh_token == "rt-1"  # rt-0 is dead upstream; keep what works
    assert await auth.access_token() == "at-1"


async def test_without_a_refresh_token_there_is_nothing_to_renew(session: aiohttp.ClientSession) -> None:
    async def persist(token: OAuthToken) -> None:  # pragma: no cover - never called
        raise AssertionError

    auth = RefreshTokenAuth(
        session,
        TOKEN_URL,
        CLIENT_ID,
        CLIENT_SECRET,
        OAuthToken("at", expires_at=NOW - 1),
        on_new_token=persist,
    )
    with pytest.raises(OAuthGrantError):
        await auth.access_token()


async def test_callback_token_source() -> None:
    calls: list[str] = []

    async def get() -> str:
        calls.append("get")
        return "a"

    async def refresh() -> str:
        calls.append("refresh")
        return "b"

    plain = CallbackTokenSource(get)
    assert isinstance(plain, TokenSource)
    assert await plain.access_token() == "a"
    assert await plain.refresh_access_token("a") == "a"
    forced = CallbackTokenSource(get, refresh)
    assert await forced.refresh_access_token("a") == "b"
    assert calls == ["get", "get", "refresh"]
