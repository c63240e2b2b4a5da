"""Kasify's guest check-in snapshot (``GET /bookings/{id}/checkin``, shape inferred): read strictly."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from custom_components.kasify.api.errors import MalformedResponseError
from custom_components.kasify.api.kasify import KasifyClient
from custom_components.kasify.api.models import CheckinSnapshot

from .conftest import MakeFake
from .fake_api import FakeApi

BASE_URL = "https://api.kasify.test/v1"
TOKEN = "kfy_live_9F8e7D6c5B4a3F2e1D0c"
BOOKING_ID = "b0000000-0000-4000-8000-000000000001"
PATH = f"/bookings/{BOOKING_ID}/checkin"


@pytest.fixture
def kasify(fake_api: MakeFake) -> FakeApi:
    """The scripted Kasify API."""
    return fake_api(BASE_URL, headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture
def client(session: aiohttp.ClientSession, kasify: FakeApi) -> KasifyClient:
    """A client against the scripted server."""
    return KasifyClient(session, BASE_URL, TOKEN)


def _guest(name: str) -> dict[str, Any]:
    return {"id": f"g-{name}", "first_name": name, "last_name": "Pérez", "nationality": "ES"}


async def test_the_registered_guests_are_counted(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply(
        "GET",
        PATH,
        {"booking_id": BOOKING_ID, "status": "partial", "guests_expected": 3, "guests": [_guest("Ana")]},
    )
    assert await client.get_checkin(BOOKING_ID) == CheckinSnapshot(BOOKING_ID, "partial", 1, 3)


async def test_without_an_expected_count(client: KasifyClient, kasify: FakeApi) -> None:
    kasify.reply("GET", PATH, {"status": "pending", "guests": []})
    assert await client.get_checkin(BOOKING_ID) == CheckinSnapshot(BOOKING_ID, "pending", 0, None)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"status": "complete", "guests_expected": 2}, "guests: missing"),
        ({"status": "complete", "guests_expected": 2, "guests": {"count": 2}}, "guests"),
        ({"guests_expected": 2, "guests": []}, "status: missing"),
        ({"status": "done", "guests": [_guest("Ana")]}, "'done' is not one of"),
        ({"status": "partial", "guests_expected": "two", "guests": [_guest("Ana")]}, "guests_expected"),
        ({"status": "complete", "guests_expected": 2, "guests": [_guest("Ana")]}, "'complete' with 1 of 2"),
        ({"status": "pending", "guests": [_guest("Ana")]}, "'pending' with 1"),
        ({"booking_id": "other", "status": "pending", "guests": []}, "another booking"),
        ({"status": "partial", "guests": ["Ana"]}, "guests[0]"),
    ],
)
async def test_a_shape_not_understood_is_refused_and_named(
    client: KasifyClient, kasify: FakeApi, body: dict[str, Any], named: str
) -> None:
    """Never read as registered: the error names what was not understood, never a guest's name."""
    kasify.reply("GET", PATH, body)
    with pytest.raises(MalformedResponseError) as err:
        await client.get_checkin(BOOKING_ID)
    assert named in str(err.value)
    assert "Ana" not in str(err.value)
    assert f"GET {PATH}" in str(err.value)
