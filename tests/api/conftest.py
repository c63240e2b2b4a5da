"""Fixtures of the client tests: one real aiohttp session per test, scripted upstreams, no network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Protocol

import aiohttp
from aioresponses import aioresponses
import pytest

from .fake_api import FakeApi


class MakeFake(Protocol):
    """Makes a scripted upstream at ``base_url``; every request to it must carry ``headers``."""

    def __call__(self, base_url: str, *, headers: Mapping[str, str] | None = None) -> FakeApi: ...


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A fresh session, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    """Every request of the test goes to aioresponses (no network)."""
    with aioresponses() as mock:
        yield mock


@pytest.fixture
def fake_api(mocked: aioresponses) -> Iterator[MakeFake]:
    """Makes scripted upstreams.

    After the test, every reply scripted on them must have been used, and every request must have carried
    the headers its upstream requires, whichever client method made it.
    """
    fakes: list[tuple[FakeApi, Mapping[str, str]]] = []

    def make(base_url: str, *, headers: Mapping[str, str] | None = None) -> FakeApi:
        fake = FakeApi(mocked, base_url)
        fakes.append((fake, headers or {}))
        return fake

    yield make
    for fake, headers in fakes:
        unused = fake.unused_replies()
        assert unused == 0, f"the client made fewer requests than scripted ({unused} left at {fake.base_url})"
        for call in fake.calls:
            assert {name: call.headers.get(name) for name in headers} == headers, call
