"""Fixtures for the Kasify client tests: one real aiohttp session per test, no network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
from aioresponses import aioresponses
import pytest

from custom_components.kasify.api.kasify import KasifyClient

from .fake_kasify import BASE_URL, TOKEN, FakeKasify


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A fresh session, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def kasify() -> Iterator[FakeKasify]:
    """The scripted server.

    After the test, every scripted reply must have been used, and every request must have carried
    the bearer token, whichever client method made it.
    """
    with aioresponses() as mocked:
        fake = FakeKasify(mocked)
        yield fake
        assert fake.unused_replies() == 0, "the client made fewer requests than the test scripted"
        for call in fake.calls:
            assert call.headers.get("Authorization") == f"Bearer {TOKEN}", call


@pytest.fixture
def client(session: aiohttp.ClientSession, kasify: FakeKasify) -> KasifyClient:
    """A client against the scripted server."""
    return KasifyClient(session, BASE_URL, TOKEN)
