"""Tests for the casavi client: token handling, requests sent, models returned, pagination, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aioresponses import aioresponses
import pytest

from custom_components.kasify.api.casavi import (
    DEFAULT_APPOINTMENT_DURATION,
    CasaviClient,
    CasaviSnapshot,
    Unit,
)
from custom_components.kasify.api.errors import (
    ApiConnectionError,
    ApiError,
    AuthError,
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from custom_components.kasify.api.models import (
    CalendarEvent,
    EndpointNotUnderstood,
    Property,
    Task,
    TaskStatus,
    TaskType,
)

from .fake_api import Call, FakeApi, Gate, load_fixture as load_vendor_fixture

BASE_URL = "https://api.casavi.test"
KEY = "04523b90-9ee1-49f7-af31-b1f24efe84ad"
SECRET = "ksdasji0-sf818-nfn81-ms9a-ams9d9a9as"
TOKEN_1 = "tok-1-a2cf47a9-3d2e-455e-a34b-7a79f11aa7f9"
TOKEN_2 = "tok-2-7f1c6b1e-0d5a-4f0e-9b1c-4a1d2e3f4a5b"
T0 = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def load_fixture(name: str) -> Any:
    """Decode ``tests/fixtures/casavi/<name>``."""
    return load_vendor_fixture("casavi", name)


class Clock:
    """The client's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeCasavi(FakeApi):
    """The scripted casavi API, with helpers for its token and its pages."""

    def __init__(self, mocked: aioresponses, clock: Clock) -> None:
        super().__init__(mocked, BASE_URL)
        self._clock = clock

    def refuse_first_token(self, method: str, path: str, payload: Any, gate: Gate) -> None:
        """Script ``path`` to refuse ``TOKEN_1`` (401, once ``gate`` is full) and to answer ``TOKEN_2``."""

        async def answer(call: Call) -> tuple[int, Any]:
            if call.headers.get("token") == TOKEN_1:
                await gate.arrive()
                return 401, {"message": "Unauthorized"}
            return 200, payload

        for _ in range(2):
            self.reply(method, path, answer=answer)

    def auth(
        self, token: str = TOKEN_1, *, lifetime: timedelta = timedelta(hours=1), status: int = 200
    ) -> None:
        """Script one ``POST /v2/authenticate`` answer: a token that expires ``lifetime`` after it."""
        if status != 200:
            self.reply("POST", "/v2/authenticate", {"message": "Unauthorized"}, status=status)
            return

        def answer() -> dict[str, str]:
            expires = self._clock.now + lifetime  # from the moment the request arrives
            return {"token": token, "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}

        self.reply("POST", "/v2/authenticate", answer)

    def page(self, path: str, items: list[Any], next_ref: Any = None, **kwargs: Any) -> None:
        """Script one page of a listing."""
        links: dict[str, Any] = {} if next_ref is None else {"next": next_ref}
        self.reply("GET", path, {"data": items, "_links": links}, **kwargs)

    @property
    def data_calls(self) -> list[Call]:
        """Requests other than authentication."""
        return [c for c in self.calls if not c.path.endswith("/v2/authenticate")]

    @property
    def auth_calls(self) -> list[Call]:
        """The authentication requests."""
        return [c for c in self.calls if c.path.endswith("/v2/authenticate")]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def casavi(mocked: aioresponses, clock: Clock) -> Iterator[FakeCasavi]:
    """The scripted server; after the test every scripted reply must have been used."""
    fake = FakeCasavi(mocked, clock)
    yield fake
    assert fake.unused_replies() == 0, "the client made fewer requests than the test scripted"
    for call in fake.calls:
        assert "Authorization" not in call.headers, call


@pytest.fixture
def client(session: aiohttp.ClientSession, casavi: FakeCasavi, clock: Clock) -> CasaviClient:
    return CasaviClient(session, KEY, SECRET, base_url=BASE_URL, now=clock)


def prop_json(property_id: str = "P-1", **overrides: Any) -> dict[str, Any]:
    """A property with the required fields."""
    return {
        "id": property_id,
        "internalId": 1,
        "name": f"House {property_id}",
        "addresses": [{"street": "Seestraße 12", "units": []}],
        "appLink": "https://app.mycasavi.com/tenant/77/manage/communities/1",
    } | overrides


def appointment_json(appointment_id: str = "a-1", **overrides: Any) -> dict[str, Any]:
    """An appointment for ``P-1``."""
    return {
        "id": appointment_id,
        "title": "Elevator repair",
        "propertyIds": ["P-1"],
        "allDay": False,
        "dateStart": "2026-03-16T08:00:00.000Z",
        "dateEnd": "2026-03-16T10:00:00.000Z",
    } | overrides


def ticket_json(ticket_id: str = "t-1", **overrides: Any) -> dict[str, Any]:
    """An open ticket of ``P-1``."""
    return {"id": ticket_id, "title": "Dripping tap", "status": "OPEN", "propertyId": "P-1"} | overrides


# --- token --------------------------------------------------------------------------------------------------


async def test_first_request_authenticates_then_sends_the_token_header(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/properties/P-1", prop_json())

    await client.get_property("P-1")

    auth, get = casavi.calls
    assert (auth.method, auth.path) == ("POST", "/v2/authenticate")
    assert auth.json == {"key": KEY, "secret": SECRET}
    assert "token" not in auth.headers
    assert (get.method, get.path) == ("GET", "/v2/properties/P-1")
    assert get.headers["token"] == TOKEN_1
    assert get.headers["Accept"] == "application/json"
    assert get.timeout_total == 15.0
    assert client.token_expires_at == T0 + timedelta(hours=1)


async def test_base_url_trailing_slash_timeout_and_quoted_ids(
    session: aiohttp.ClientSession, casavi: FakeCasavi, clock: Clock
) -> None:
    client = CasaviClient(session, KEY, SECRET, base_url=BASE_URL + "/", timeout=4.5, now=clock)
    casavi.auth()
    casavi.reply("GET", "/v2/properties/a%2F..%2Fb%20c", prop_json("a/../b c"))

    prop = await client.get_property("a/../b c")

    assert client.base_url == BASE_URL
    assert prop.id == "a/../b c"
    assert casavi.data_calls[0].url == BASE_URL + "/v2/properties/a%2F..%2Fb%20c"
    assert {c.timeout_total for c in casavi.calls} == {4.5}


@pytest.mark.parametrize("property_id", ["..", ".", ""])
async def test_dot_segments_never_reach_a_path(
    client: CasaviClient, casavi: FakeCasavi, property_id: str
) -> None:
    casavi.auth()
    await client.authenticate()
    with pytest.raises(ValueError, match="cannot be used as an id"):
        await client.get_property(property_id)
    assert casavi.data_calls == []


async def test_the_token_is_reused_until_it_is_due(
    client: CasaviClient, casavi: FakeCasavi, clock: Clock
) -> None:
    casavi.auth(TOKEN_1, lifetime=timedelta(hours=1))
    for _ in range(3):
        casavi.reply("GET", "/v2/properties/P-1", prop_json())
    casavi.auth(TOKEN_2)
    casavi.reply("GET", "/v2/properties/P-1", prop_json())

    await client.get_property("P-1")
    clock.advance(minutes=30)
    await client.get_property("P-1")
    clock.advance(minutes=27, seconds=59)  # 57:59 in: two minutes of margin not reached yet
    await client.get_property("P-1")
    assert len(casavi.auth_calls) == 1
    clock.advance(seconds=1)  # 58:00 in: renewed before the request, without waiting for a 401
    await client.get_property("P-1")

    assert [c.method for c in casavi.calls] == ["POST", "GET", "GET", "GET", "POST", "GET"]
    assert [c.headers.get("token") for c in casavi.data_calls] == [TOKEN_1, TOKEN_1, TOKEN_1, TOKEN_2]
    assert client.token_expires_at == T0 + timedelta(minutes=58, hours=1)


async def test_a_short_lived_token_is_renewed_at_half_its_lifetime(
    client: CasaviClient, casavi: FakeCasavi, clock: Clock
) -> None:
    casavi.auth(TOKEN_1, lifetime=timedelta(seconds=60))  # shorter than the two-minute margin
    casavi.reply("GET", "/v2/properties/P-1", prop_json())
    casavi.reply("GET", "/v2/properties/P-1", prop_json())
    casavi.auth(TOKEN_2, lifetime=timedelta(seconds=60))
    casavi.reply("GET", "/v2/properties/P-1", prop_json())

    await client.get_property("P-1")
    clock.advance(seconds=29)
    await client.get_property("P-1")
    clock.advance(seconds=1)
    await client.get_property("P-1")

    assert [c.headers.get("token") for c in casavi.data_calls] == [TOKEN_1, TOKEN_1, TOKEN_2]


async def test_a_token_that_looks_expired_on_arrival_is_used_until_refused(
    client: CasaviClient, casavi: FakeCasavi, clock: Clock
) -> None:
    # The seed's own example expiresAt lies in 1985: with a skewed clock the token is still usable.
    casavi.reply("POST", "/v2/authenticate", load_fixture("seed_token.json"))
    casavi.reply("GET", "/v2/properties/P-1", prop_json())
    casavi.reply("GET", "/v2/properties/P-1", prop_json())

    await client.get_property("P-1")
    clock.advance(hours=5)
    await client.get_property("P-1")

    assert len(casavi.auth_calls) == 1
    assert {c.headers["token"] for c in casavi.data_calls} == {"a2cf47a9-3d2e-455e-a34b-7a79f11aa7f9"}
    assert client.token_expires_at == datetime(1985, 12, 5, 15, 31, 10, tzinfo=UTC)


async def test_a_401_renews_the_token_once_and_repeats_the_request(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth(TOKEN_1)
    casavi.reply("GET", "/v2/properties/P-1", {"message": "Unauthorized"}, status=401)
    casavi.auth(TOKEN_2)
    casavi.reply("GET", "/v2/properties/P-1", prop_json())

    prop = await client.get_property("P-1")

    assert prop.id == "P-1"
    assert [c.headers.get("token") for c in casavi.data_calls] == [TOKEN_1, TOKEN_2]
    assert [c.method for c in casavi.calls] == ["POST", "GET", "POST", "GET"]


async def test_a_refused_token_is_not_sent_again_when_its_renewal_failed(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth(TOKEN_1)
    casavi.reply("GET", "/v2/properties/P-1", status=401)
    casavi.reply("POST", "/v2/authenticate", status=503, body="<html>maintenance</html>")
    casavi.auth(TOKEN_2)
    casavi.reply("GET", "/v2/properties/P-1", prop_json())

    with pytest.raises(ServerError):
        await client.get_property("P-1")
    assert (await client.get_property("P-1")).id == "P-1"

    assert [c.method for c in casavi.calls] == ["POST", "GET", "POST", "POST", "GET"]
    assert [c.headers.get("token") for c in casavi.data_calls] == [TOKEN_1, TOKEN_2]


async def test_a_401_after_the_renewal_is_an_auth_error(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth(TOKEN_1)
    casavi.reply("GET", "/v2/properties/P-1", status=401)
    casavi.auth(TOKEN_2)
    casavi.reply("GET", "/v2/properties/P-1", {"message": "Token revoked"}, status=401)

    with pytest.raises(AuthError, match="HTTP 401: Token revoked") as caught:
        await client.get_property("P-1")

    assert caught.value.status == 401
    assert len(casavi.auth_calls) == 2  # the first token and one renewal, no loop


async def test_a_403_is_not_retried(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/properties/P-1", {"message": "Forbidden"}, status=403)

    with pytest.raises(AuthError) as caught:
        await client.get_property("P-1")

    assert caught.value.status == 403
    assert len(casavi.auth_calls) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"statusCode": 401, "error": "Unauthorized", "message": "Unauthorized"}),
        (400, {"statusCode": 400, "error": "Bad Request", "message": "Invalid input"}),
    ],
)
async def test_refused_credentials_are_an_auth_error_without_the_secret(
    client: CasaviClient, casavi: FakeCasavi, status: int, body: dict[str, Any]
) -> None:
    casavi.reply("POST", "/v2/authenticate", body | {"echo": f"{KEY} {SECRET}"}, status=status)

    with pytest.raises(AuthError, match="casavi refused the API key and secret") as caught:
        await client.list_properties()

    assert caught.value.status == status
    assert SECRET not in str(caught.value)
    assert KEY not in str(caught.value)
    assert casavi.data_calls == []


async def test_a_failed_authentication_is_tried_again_on_the_next_call(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.reply("POST", "/v2/authenticate", status=503, body="<html>maintenance</html>")
    casavi.auth()
    casavi.reply("GET", "/v2/properties/P-1", prop_json())

    with pytest.raises(ServerError):
        await client.get_property("P-1")
    assert (await client.get_property("P-1")).id == "P-1"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"expiresAt": "2026-03-14T13:00:00Z"}, r"authenticate\.token: missing"),
        ({"token": "t"}, r"authenticate\.expiresAt: missing"),
        ({"token": "t", "expiresAt": "soon"}, r"authenticate\.expiresAt: not an ISO-8601"),
        (["t"], r"authenticate: expected an object"),
    ],
)
async def test_a_malformed_token_response(
    client: CasaviClient, casavi: FakeCasavi, body: Any, match: str
) -> None:
    casavi.reply("POST", "/v2/authenticate", body)

    with pytest.raises(MalformedResponseError, match=match):
        await client.get_property("P-1")


async def test_concurrent_calls_share_one_authentication(client: CasaviClient, casavi: FakeCasavi) -> None:
    release = asyncio.Event()

    async def slow_token(call: Call) -> tuple[int, Any]:
        await release.wait()  # the other calls arrive while the token is being fetched
        return 200, {"token": TOKEN_1, "expiresAt": "2026-03-14T13:00:00Z"}

    casavi.reply("POST", "/v2/authenticate", answer=slow_token)
    for pid in ("P-1", "P-2", "P-3"):
        casavi.reply("GET", f"/v2/properties/{pid}", prop_json(pid))

    calls = asyncio.gather(*(client.get_property(pid) for pid in ("P-1", "P-2", "P-3")))
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(casavi.auth_calls) == 1
    release.set()
    props = await calls

    assert [p.id for p in props] == ["P-1", "P-2", "P-3"]
    assert len(casavi.auth_calls) == 1
    assert {c.headers["token"] for c in casavi.data_calls} == {TOKEN_1}


async def test_concurrent_401s_share_one_renewal(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth(TOKEN_1)
    await client.authenticate()
    gate = Gate(2)  # both requests are refused only once both are in flight with the first token
    for pid in ("P-1", "P-2"):
        casavi.refuse_first_token("GET", f"/v2/properties/{pid}", prop_json(pid), gate)
    casavi.auth(TOKEN_2)

    props = await asyncio.gather(client.get_property("P-1"), client.get_property("P-2"))

    assert [p.id for p in props] == ["P-1", "P-2"]
    assert len(casavi.auth_calls) == 2
    assert sorted(c.headers["token"] for c in casavi.data_calls) == [TOKEN_1, TOKEN_1, TOKEN_2, TOKEN_2]


async def test_authenticate_replaces_the_token(
    client: CasaviClient, casavi: FakeCasavi, clock: Clock
) -> None:
    casavi.auth(TOKEN_1)
    casavi.auth(TOKEN_2, lifetime=timedelta(minutes=30))
    casavi.reply("GET", "/v2/properties/P-1", prop_json())

    await client.authenticate()
    expires = await client.authenticate()
    await client.get_property("P-1")

    assert expires == T0 + timedelta(minutes=30)
    assert casavi.data_calls[0].headers["token"] == TOKEN_2


# --- account ------------------------------------------------------------------------------------------------


async def test_get_account_is_the_tenant_of_the_first_property(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    # A next page exists, but one page is enough to name the account.
    casavi.page("/v2/properties", [load_fixture("seed_property.json")], next_ref=1)

    account = await client.get_account()

    assert (account.id, account.name) == ("1", "casavi tenant 1")
    assert len(casavi.data_calls) == 1
    assert casavi.data_calls[0].query == {}


async def test_get_account_skips_properties_without_a_tenant_link(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    no_link = prop_json("P-0")
    del no_link["appLink"]
    casavi.page(
        "/v2/properties", [no_link, prop_json("P-1", appLink="https://elsewhere/x"), prop_json("P-2")]
    )

    assert (await client.get_account()).id == "77"


async def test_get_account_of_an_empty_account_hashes_the_key(
    session: aiohttp.ClientSession, casavi: FakeCasavi, clock: Clock
) -> None:
    casavi.auth()
    casavi.page("/v2/properties", [])
    casavi.auth()
    casavi.page("/v2/properties", [])

    first = await CasaviClient(session, KEY, SECRET, base_url=BASE_URL, now=clock).get_account()
    other = await CasaviClient(session, "another-key", SECRET, base_url=BASE_URL, now=clock).get_account()

    assert first.id.startswith("key-")
    assert len(first.id) == 20
    assert KEY not in first.id
    assert other.id != first.id


async def test_get_account_with_refused_credentials(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth(status=401)

    with pytest.raises(AuthError):
        await client.get_account()


# --- properties and units -----------------------------------------------------------------------------------


async def test_get_property_parses_the_seed_example(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/properties/P-00451", load_fixture("seed_property.json"))

    prop = await client.get_property("P-00451")

    assert prop == Property(
        id="P-00451",
        name="Easy Living Apartments",
        account_id="1",
        address="Main street 14",  # the first of the two addresses
        city="Munich",
        zip_code="80331",
        country="Germany",
        cover_image_url="https://s3-eu-central-1.amazonaws.com/...",
    )
    assert prop.full_address == "Main street 14, 80331 Munich, Germany"


async def test_property_with_only_required_fields(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/properties/P-9", {"id": "P-9", "name": "Bare", "appLink": "x", "new": {"a": 1}})

    prop = await client.get_property("P-9")

    assert prop == Property(id="P-9", name="Bare")
    assert prop.full_address is None


async def test_get_property_not_found(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.reply(
        "GET", "/v2/properties/nope", body="Property not found", content_type="text/plain", status=404
    )

    with pytest.raises(NotFoundError, match=r"^GET /v2/properties/nope: HTTP 404: Property not found$"):
        await client.get_property("nope")


async def test_list_properties_follows_every_page(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.page("/v2/properties", [prop_json(f"P-{i}") for i in range(25)], next_ref=1)
    casavi.page("/v2/properties", [prop_json(f"P-{i}") for i in range(25, 50)], next_ref=2)
    casavi.page("/v2/properties", [prop_json(f"P-{i}") for i in range(50, 55)])

    props = await client.list_properties()

    assert [p.id for p in props] == [f"P-{i}" for i in range(55)]
    assert [c.query for c in casavi.data_calls] == [{}, {"page": "1"}, {"page": "2"}]
    assert {c.headers["token"] for c in casavi.data_calls} == {TOKEN_1}


async def test_list_units_parses_the_seed_example_and_filters_by_property(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    other = load_fixture("seed_unit.json") | {"id": "U-2", "propertyId": "P-2", "name": None}
    for _ in range(2):
        casavi.page("/v2/units", [load_fixture("seed_unit.json"), other])
    casavi.auth()

    every = await client.list_units()
    mine = await client.list_units("P-00451")

    assert every[0] == Unit(
        id="P-00451-0001",
        name="Unit 49812-1312-1",
        property_id="P-00451",
        internal_id=41251,
        number="0001",
        purpose="private",
        floor="3",
        area="50.2",
        rooms="2",
        address="Main street 5",
        app_link="https://app.mycasavi.com/tenant/1/manage/communities/123/units/12345",
    )
    assert every[1].name == "U-2"  # a unit without a name is called by its id
    assert [u.id for u in mine] == ["P-00451-0001"]
    assert [c.query for c in casavi.data_calls] == [{}, {}]  # no such filter on the endpoint


# --- appointments -------------------------------------------------------------------------------------------


async def test_an_appointment_shared_with_three_properties_is_three_events(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    casavi.page("/v2/appointments", [load_fixture("seed_appointment.json")])

    events = await client.list_appointments()

    start = datetime(2017, 3, 5, 11, 0, tzinfo=UTC)
    assert events == [
        CalendarEvent(
            id="appointment-177",
            property_id=pid,
            kind="appointment",
            title="Elevator repair",
            start=start,
            end=start + timedelta(hours=3),
            source="casavi",
            description="Lorem Ipsum dolor sit amet",
            location="3rd floor",
            all_day=False,
        )
        for pid in ("property-412", "property-400", "property-19")
    ]


@pytest.mark.parametrize(
    ("overrides", "all_day", "length"),
    [
        ({"dateEnd": None}, False, DEFAULT_APPOINTMENT_DURATION),
        ({"dateEnd": "2026-03-16T07:00:00Z"}, False, DEFAULT_APPOINTMENT_DURATION),  # ends before it starts
        ({"allDay": True, "dateEnd": None}, True, timedelta(days=1)),
        ({"allDay": True, "dateEnd": "2026-03-16T08:00:00Z"}, True, timedelta(days=1)),  # same instant
        ({"allDay": True, "dateEnd": "2026-03-18T08:00:00Z"}, True, timedelta(days=2)),
    ],
)
async def test_appointment_end_defaults(
    client: CasaviClient, casavi: FakeCasavi, overrides: dict[str, Any], all_day: bool, length: timedelta
) -> None:
    casavi.auth()
    casavi.page("/v2/appointments", [appointment_json(**overrides)])

    (event,) = await client.list_appointments()

    assert event.start == datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
    assert event.end - event.start == length
    assert event.all_day is all_day


async def test_appointment_with_a_single_property_id_or_none(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    single = appointment_json("a-1", propertyIds=None, propertyId="P-7")
    nobody = appointment_json("a-2", propertyIds=[])
    twice = appointment_json("a-3", propertyIds=["P-1", "P-1"])
    casavi.page("/v2/appointments", [single, nobody, twice])

    events = await client.list_appointments()

    assert [(e.id, e.property_id) for e in events] == [("a-1", "P-7"), ("a-3", "P-1")]
    assert events[0].title == "Elevator repair"


async def test_list_appointments_of_one_property(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    shared = appointment_json("a-1", propertyIds=["P-1", "P-2"])
    casavi.page("/v2/appointments", [shared], next_ref=1)
    casavi.page("/v2/appointments", [appointment_json("a-2", propertyIds=["P-2"])])

    events = await client.list_appointments("P-1")

    assert [(e.id, e.property_id) for e in events] == [("a-1", "P-1")]
    assert [c.query for c in casavi.data_calls] == [{"propertyId": "P-1"}, {"propertyId": "P-1", "page": "1"}]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"dateStart": None}, r"\.data\[0\]\.dateStart: missing"),
        ({"propertyIds": "P-1"}, r"\.data\[0\]\.propertyIds: expected an array, got str"),
        ({"propertyIds": ["P-1", 7]}, r"\.data\[0\]\.propertyIds\[1\]: expected a string, got int"),
        ({"allDay": "yes"}, r"\.data\[0\]\.allDay: expected a boolean, got str"),
    ],
)
async def test_malformed_appointments_name_the_field(
    client: CasaviClient, casavi: FakeCasavi, overrides: dict[str, Any], match: str
) -> None:
    casavi.auth()
    casavi.page("/v2/appointments", [appointment_json(**overrides)])

    with pytest.raises(MalformedResponseError, match=r"^GET /v2/appointments" + match):
        await client.list_appointments()


# --- tickets ------------------------------------------------------------------------------------------------


async def test_a_ticket_becomes_a_task(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.page("/v2/tickets", [load_fixture("ticket.json")])

    (task,) = await client.list_tickets()

    assert task == Task(
        id="c8a375b3-d92f-43c2-b836-a5ac315c9c97",
        property_id="P-00451",
        title="Water damage in the basement",
        status=TaskStatus.IN_PROGRESS,
        task_type=TaskType.OTHER,
        description="Reported by the tenant of unit 0001",
        due_at=datetime(2017, 4, 20, 10, 0, tzinfo=UTC),
        assignee_id="E-000481",
    )
    assert casavi.data_calls[0].query == {}


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("OPEN", TaskStatus.PENDING),
        ("IN_PROGRESS", TaskStatus.IN_PROGRESS),
        ("in_progress", TaskStatus.IN_PROGRESS),
        ("CLOSED", TaskStatus.COMPLETED),
        ("WAITING_FOR_TENANT", TaskStatus.UNKNOWN),  # unknown: never counted as open
        ("resolved", TaskStatus.UNKNOWN),
        (None, TaskStatus.PENDING),  # listed under an open state without saying which
    ],
)
async def test_ticket_states_map_to_task_statuses(
    client: CasaviClient, casavi: FakeCasavi, state: str | None, status: TaskStatus
) -> None:
    casavi.auth()
    casavi.page("/v2/tickets", [ticket_json(status=state)])

    (task,) = await client.list_tickets()

    assert task.status is status
    assert task.open is (status in (TaskStatus.PENDING, TaskStatus.IN_PROGRESS))
    assert task.status_text == (state if status is TaskStatus.UNKNOWN else None)


async def test_a_ticket_in_an_unknown_state_is_kept_by_a_state_filter(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    """A state filter cannot tell whether an unknown state matches it: the ticket is kept, as unknown."""
    casavi.auth()
    casavi.page(
        "/v2/tickets",
        [ticket_json("t-1"), ticket_json("t-2", status="CLOSED"), ticket_json("t-3", status="ON_HOLD")],
    )

    tasks = await client.list_tickets(status="OPEN")

    assert [(t.id, t.status) for t in tasks] == [("t-1", TaskStatus.PENDING), ("t-3", TaskStatus.UNKNOWN)]


async def test_tickets_without_a_property_are_left_out(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.page("/v2/tickets", [ticket_json("t-1", propertyId=None), ticket_json("t-2", title=None)])

    tasks = await client.list_tickets()

    assert [(t.id, t.title) for t in tasks] == [("t-2", "")]


async def test_list_tickets_sends_the_filters_and_applies_them_too(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    # A server that ignores the filters answers with everything.
    casavi.page(
        "/v2/tickets",
        [
            ticket_json("t-1"),
            ticket_json("t-2", status="CLOSED"),
            ticket_json("t-3", propertyId="P-2"),
            ticket_json("t-4", status="IN_PROGRESS"),
        ],
    )

    tasks = await client.list_tickets(status="OPEN", property_id="P-1")

    assert [t.id for t in tasks] == ["t-1"]
    assert casavi.data_calls[0].query == {"status": "OPEN", "propertyId": "P-1"}


async def test_list_open_tickets_lists_each_open_state_once(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.page("/v2/tickets", [ticket_json("t-1"), ticket_json("t-9")])
    casavi.page("/v2/tickets", [ticket_json("t-2", status="IN_PROGRESS"), ticket_json("t-9")])

    tasks = await client.list_open_tickets()

    assert sorted(c.query["status"] for c in casavi.data_calls) == ["IN_PROGRESS", "OPEN"]
    # t-9 came back in both listings (a server ignoring the filter); it is there once.
    assert sorted(t.id for t in tasks) == ["t-1", "t-2", "t-9"]


async def test_list_open_tickets_fails_when_one_listing_fails(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/tickets?status=OPEN", {"data": [ticket_json()]})
    casavi.reply("GET", "/v2/tickets?status=IN_PROGRESS", status=500, body="")

    with pytest.raises(ServerError, match=r"^GET /v2/tickets: HTTP 500$"):
        await client.list_open_tickets()


# --- pagination ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_ref", "expected_query"),
    [
        (1, {"status": "OPEN", "page": "1"}),
        ("b64/cursor+==", {"status": "OPEN", "page": "b64/cursor+=="}),
        (BASE_URL + "/v2/tickets?status=OPEN&page=abc", {"status": "OPEN", "page": "abc"}),
        ("/v2/tickets?page=abc&status=OPEN", {"status": "OPEN", "page": "abc"}),
        ({"href": "/v2/tickets?status=OPEN&page=abc"}, {"status": "OPEN", "page": "abc"}),
    ],
    ids=["page-number", "opaque-cursor", "absolute-link", "path-link", "hal-link"],
)
async def test_every_form_of_links_next_is_followed(
    client: CasaviClient, casavi: FakeCasavi, next_ref: Any, expected_query: dict[str, str]
) -> None:
    casavi.auth()
    casavi.page("/v2/tickets", [ticket_json("t-1")], next_ref=next_ref)
    casavi.page("/v2/tickets", [ticket_json("t-2")])

    tasks = await client.list_tickets(status="OPEN")

    assert [t.id for t in tasks] == ["t-1", "t-2"]
    first, second = casavi.data_calls
    assert (first.path, first.query) == ("/v2/tickets", {"status": "OPEN"})
    assert (second.path, second.query) == ("/v2/tickets", expected_query)
    assert second.url.startswith(BASE_URL + "/v2/tickets?")
    assert second.headers["token"] == TOKEN_1


async def test_a_path_link_below_the_roots_own_path(
    session: aiohttp.ClientSession, casavi: FakeCasavi, clock: Clock
) -> None:
    client = CasaviClient(session, KEY, SECRET, base_url=BASE_URL + "/casavi", now=clock)
    casavi.reply("POST", "/casavi/v2/authenticate", {"token": TOKEN_1, "expiresAt": "2026-03-14T13:00:00Z"})
    casavi.page("/casavi/v2/units", [], next_ref="/casavi/v2/units?page=1")
    casavi.page("/casavi/v2/units", [], next_ref="/v2/units?page=2")
    casavi.page("/casavi/v2/units", [])

    assert await client.list_units() == []
    assert [(c.url.split("?")[0], c.query) for c in casavi.data_calls] == [
        (BASE_URL + "/casavi/v2/units", {}),
        (BASE_URL + "/casavi/v2/units", {"page": "1"}),
        (BASE_URL + "/casavi/v2/units", {"page": "2"}),
    ]


@pytest.mark.parametrize(
    "link",
    ["https://evil.example/v2/tickets?page=1", "http://api.casavi.test/v2/tickets?page=1"],
    ids=["other-host", "other-scheme"],
)
async def test_a_next_link_off_the_api_is_refused_without_sending_the_token(
    client: CasaviClient, casavi: FakeCasavi, link: str
) -> None:
    casavi.auth()
    casavi.page("/v2/tickets", [ticket_json()], next_ref=link)

    with pytest.raises(MalformedResponseError, match="_links.next leaves the API"):
        await client.list_tickets()
    assert len(casavi.data_calls) == 1


async def test_a_listing_that_never_ends_is_refused(
    client: CasaviClient, casavi: FakeCasavi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("custom_components.kasify.api.casavi.MAX_PAGES", 3)
    casavi.auth()
    for page in range(1, 4):
        casavi.page("/v2/units", [], next_ref=page)

    with pytest.raises(MalformedResponseError, match=r"^GET /v2/units: more than 3 pages$"):
        await client.list_units()


async def test_a_next_link_back_to_a_seen_page_is_refused(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.page("/v2/tickets", [ticket_json("t-1")], next_ref=1)
    casavi.page("/v2/tickets", [ticket_json("t-2")], next_ref=1)

    with pytest.raises(MalformedResponseError, match="points back to a page"):
        await client.list_tickets()


@pytest.mark.parametrize("links", [{"next": None}, {"next": ""}, {"self": "/v2/tickets"}, None])
async def test_pagination_stops_without_a_next(
    client: CasaviClient, casavi: FakeCasavi, links: dict[str, Any] | None
) -> None:
    casavi.auth()
    body: dict[str, Any] = {"data": [ticket_json()]}
    if links is not None:
        body["_links"] = links
    casavi.reply("GET", "/v2/tickets", body)

    assert len(await client.list_tickets()) == 1


async def test_a_bare_array_is_a_single_page(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/tickets", [ticket_json("t-1"), ticket_json("t-2")])

    assert [t.id for t in await client.list_tickets()] == ["t-1", "t-2"]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"items": []}, r"^GET /v2/tickets\.data: missing$"),
        ({"data": {"id": "t-1"}}, r"^GET /v2/tickets\.data: expected an array, got dict$"),
        ({"data": [], "_links": []}, r"^GET /v2/tickets\._links: expected an object, got list$"),
        ({"data": [], "_links": {"next": True}}, r"^GET /v2/tickets\._links\.next: expected a cursor"),
        ({"data": [], "_links": {"next": [1]}}, r"^GET /v2/tickets\._links\.next: expected a cursor"),
        ("tickets", r"^GET /v2/tickets: expected an object, got str$"),
    ],
)
async def test_a_page_that_is_not_the_documented_shape(
    client: CasaviClient, casavi: FakeCasavi, body: Any, match: str
) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/tickets", body)

    with pytest.raises(MalformedResponseError, match=match):
        await client.list_tickets()


async def test_a_bad_item_on_a_later_page_names_the_page_and_the_field(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    casavi.page("/v2/properties", [prop_json()], next_ref=1)
    casavi.page("/v2/properties", [prop_json("P-2"), prop_json("P-3", name=["x"])])

    with pytest.raises(
        MalformedResponseError,
        match=r"^GET /v2/properties \(page 2\)\.data\[1\]\.name: expected a string, got list$",
    ):
        await client.list_properties()


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ValidationError),
        (403, AuthError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ValidationError),
        (429, RateLimitedError),
        (500, ServerError),
        (503, ServerError),
        (418, ApiError),
    ],
)
async def test_http_errors_map_to_the_hierarchy(
    client: CasaviClient, casavi: FakeCasavi, status: int, error: type[ApiError]
) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/tickets", {"message": "Nope"}, status=status)

    with pytest.raises(error, match=rf"^GET /v2/tickets: HTTP {status}: Nope$") as caught:
        await client.list_tickets()

    assert type(caught.value) is error
    assert caught.value.status == status


async def test_the_references_bad_request_carries_the_invalid_fields(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    body = {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Invalid data supplied",
        "validation": {"source": "query", "keys": ["status", "page"]},
    }
    casavi.reply("GET", "/v2/tickets", body, status=400)

    with pytest.raises(ValidationError, match="HTTP 400: Invalid data supplied") as caught:
        await client.list_tickets(status="BOGUS")

    assert caught.value.fields == {"status": ["Invalid data supplied"], "page": ["Invalid data supplied"]}


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("Property not found", "text/plain", ": Property not found"),
        ('"Property not found"', "application/json", ": Property not found"),
        ('{"error": "Not Found"}', "application/json", ": Not Found"),
        ("<html><body>502 Bad Gateway</body></html>", "text/html", ""),
        ("", "application/json", ""),
        ("[1, 2]", "application/json", ""),
        ("x" * 1000, "text/plain", ": " + "x" * 299 + "…"),
    ],
)
async def test_error_messages_from_every_body_shape(
    client: CasaviClient, casavi: FakeCasavi, body: str, content_type: str, message: str
) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/properties/P-1", body=body, content_type=content_type, status=404)

    with pytest.raises(NotFoundError) as caught:
        await client.get_property("P-1")

    assert str(caught.value) == f"GET /v2/properties/P-1: HTTP 404{message}"


async def test_rate_limited_reports_how_long_to_wait(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/appointments", status=429, headers={"Retry-After": "30"})

    with pytest.raises(RateLimitedError) as caught:
        await client.list_appointments()

    assert caught.value.retry_after == 30.0


async def test_the_token_and_credentials_echoed_by_the_server_are_redacted(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/tickets", {"message": f"bad token {TOKEN_1} for {KEY}/{SECRET}"}, status=500)

    with pytest.raises(ServerError) as caught:
        await client.list_tickets()

    text = str(caught.value)
    assert TOKEN_1 not in text
    assert SECRET not in text
    assert KEY not in text
    assert text == "GET /v2/tickets: HTTP 500: bad token *** for ***/***"


@pytest.mark.parametrize(
    ("exception", "match"),
    [
        (TimeoutError(), r"^GET /v2/tickets: timed out$"),
        (aiohttp.ClientConnectionError("refused"), r"^GET /v2/tickets: ClientConnectionError$"),
        (aiohttp.ServerDisconnectedError(), r"^GET /v2/tickets: ServerDisconnectedError$"),
    ],
)
async def test_transport_failures_are_connection_errors(
    client: CasaviClient, casavi: FakeCasavi, exception: Exception, match: str
) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/tickets", exception=exception)

    with pytest.raises(ApiConnectionError, match=match):
        await client.list_tickets()


async def test_authentication_that_cannot_connect(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.reply("POST", "/v2/authenticate", exception=aiohttp.ClientConnectionError())

    with pytest.raises(ApiConnectionError, match=r"^POST /v2/authenticate: ClientConnectionError$"):
        await client.list_tickets()


async def test_a_body_that_is_not_json(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/properties/P-1", body=b"\xff{not json", status=200)

    with pytest.raises(MalformedResponseError, match="the body is not JSON") as caught:
        await client.get_property("P-1")

    assert caught.value.status == 200


async def test_an_empty_body_is_malformed_where_an_object_is_documented(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    casavi.reply("GET", "/v2/properties/P-1", status=204)

    with pytest.raises(MalformedResponseError, match="expected an object, got NoneType"):
        await client.get_property("P-1")


# --- one refresh --------------------------------------------------------------------------------------------

WINDOW_START = datetime(2026, 3, 1, tzinfo=UTC)
WINDOW_END = datetime(2026, 4, 1, tzinfo=UTC)


def script_account(casavi: FakeCasavi, *, units: bool = False) -> None:
    """One refresh's listings (without authentication)."""
    casavi.page("/v2/properties", [prop_json("P-1"), prop_json("P-2")])
    casavi.page(
        "/v2/appointments",
        [
            appointment_json("late", dateStart="2026-03-20T08:00:00Z", dateEnd="2026-03-20T09:00:00Z"),
            appointment_json("early", propertyIds=["P-1", "P-2", "P-gone"]),
            appointment_json("before", dateStart="2026-02-27T08:00:00Z", dateEnd="2026-02-28T09:00:00Z"),
            appointment_json("overlapping", dateStart="2026-02-28T08:00:00Z", dateEnd="2026-03-01T09:00:00Z"),
            appointment_json("after", dateStart="2026-04-01T00:00:00Z", dateEnd="2026-04-01T09:00:00Z"),
        ],
    )
    casavi.page("/v2/tickets", [ticket_json("t-1"), ticket_json("t-3", propertyId="P-gone")])
    casavi.page(
        "/v2/tickets",
        [ticket_json("t-2", status="IN_PROGRESS", propertyId="P-2"), ticket_json("t-9", status="CLOSED")],
    )
    if units:
        casavi.page("/v2/units", [load_fixture("seed_unit.json") | {"propertyId": "P-2"}])


async def test_fetch_snapshot_reads_the_account_in_five_requests(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    script_account(casavi)

    snapshot = await client.fetch_snapshot(WINDOW_START, WINDOW_END)

    assert len(casavi.calls) == 5  # authenticate + properties + appointments + 2 ticket states
    assert casavi.calls[0].path == "/v2/authenticate"
    assert sorted((c.path, c.query.get("status", "")) for c in casavi.data_calls) == [
        ("/v2/appointments", ""),
        ("/v2/properties", ""),
        ("/v2/tickets", "IN_PROGRESS"),
        ("/v2/tickets", "OPEN"),
    ]
    assert list(snapshot.properties) == ["P-1", "P-2"]
    assert [e.id for e in snapshot.events["P-1"]] == ["overlapping", "early", "late"]
    assert [e.id for e in snapshot.events["P-2"]] == ["early"]
    assert [t.id for t in snapshot.tasks["P-1"]] == ["t-1"]  # closed and unknown-property tickets left out
    assert [t.id for t in snapshot.tasks["P-2"]] == ["t-2"]
    assert snapshot.units == {}
    assert (snapshot.window_start, snapshot.window_end) == (WINDOW_START, WINDOW_END)


async def test_fetch_snapshot_counts_unknown_ticket_states_apart(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    """Tickets in states the integration does not know are not open tasks; their states are counted per
    property instead."""
    casavi.auth()
    casavi.page("/v2/properties", [prop_json("P-1"), prop_json("P-2")])
    casavi.page("/v2/appointments", [])
    unknown = [ticket_json("t-7", status="ON_HOLD"), ticket_json("t-8", status="ON_HOLD", propertyId="P-2")]
    casavi.page("/v2/tickets", [ticket_json("t-1"), *unknown, ticket_json("t-9", status="DONE")])
    casavi.page("/v2/tickets", unknown)

    snapshot = await client.fetch_snapshot(WINDOW_START, WINDOW_END)

    assert [t.id for t in snapshot.tasks["P-1"]] == ["t-1"]
    assert "P-2" not in snapshot.tasks
    assert snapshot.unknown_ticket_states == {"P-1": {"DONE": 1, "ON_HOLD": 1}, "P-2": {"ON_HOLD": 1}}


async def test_fetch_snapshot_reuses_the_token_and_compares_equal(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    script_account(casavi)
    script_account(casavi)

    first = await client.fetch_snapshot(WINDOW_START, WINDOW_END)
    second = await client.fetch_snapshot(WINDOW_START, WINDOW_END)

    assert len(casavi.calls) == 9  # the second refresh needs no authentication
    assert first == second


async def test_fetch_snapshot_with_units(client: CasaviClient, casavi: FakeCasavi) -> None:
    casavi.auth()
    script_account(casavi, units=True)

    snapshot = await client.fetch_snapshot(WINDOW_START, WINDOW_END, include_units=True)

    assert len(casavi.data_calls) == 5
    assert [u.id for u in snapshot.units["P-2"]] == ["P-00451-0001"]
    assert "P-1" not in snapshot.units


async def test_fetch_snapshot_raises_the_failure_of_one_listing(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth()
    casavi.page("/v2/properties", [prop_json()])
    casavi.reply("GET", "/v2/appointments", status=503, body="<html>down</html>", content_type="text/html")
    casavi.page("/v2/tickets", [])
    casavi.page("/v2/tickets", [])

    with pytest.raises(ServerError, match=r"^GET /v2/appointments: HTTP 503$"):
        await client.fetch_snapshot(WINDOW_START, WINDOW_END)


@pytest.mark.parametrize("status", [404, 400])
async def test_fetch_snapshot_with_appointments_not_understood(
    client: CasaviClient, casavi: FakeCasavi, status: int
) -> None:
    """The inferred appointment listing answers 404/400: no events, the feature off; tickets are read."""
    casavi.auth()
    casavi.page("/v2/properties", [prop_json("P-1")])
    casavi.reply("GET", "/v2/appointments", {"message": "Not Found"}, status=status)
    casavi.page("/v2/tickets", [ticket_json("t-1")])
    casavi.page("/v2/tickets", [])

    snapshot = await client.fetch_snapshot(WINDOW_START, WINDOW_END)

    assert snapshot.events == {}
    assert snapshot.degraded == {"appointments": EndpointNotUnderstood("GET /v2/appointments", status)}
    assert [t.id for t in snapshot.tasks["P-1"]] == ["t-1"]


async def test_fetch_snapshot_with_a_ticket_state_not_understood(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    """One of the open-ticket listings answers 400 (a state casavi does not take): no tickets at all rather
    than half of them; appointments are read."""
    casavi.auth()
    casavi.page("/v2/properties", [prop_json("P-1")])
    casavi.page("/v2/appointments", [appointment_json("a-1")])
    casavi.reply("GET", "/v2/tickets?status=OPEN", {"data": [ticket_json("t-1")]})
    casavi.reply(
        "GET",
        "/v2/tickets?status=IN_PROGRESS",
        {"message": "Invalid data supplied", "validation": {"source": "query", "keys": ["status"]}},
        status=400,
    )

    snapshot = await client.fetch_snapshot(WINDOW_START, WINDOW_END)
    casavi.discard_unused()  # the OPEN listing may have been cancelled

    assert snapshot.tasks == {}
    assert snapshot.degraded == {"tickets": EndpointNotUnderstood("GET /v2/tickets", 400)}
    assert [e.id for e in snapshot.events["P-1"]] == ["a-1"]


async def test_fetch_snapshot_with_properties_not_found_fails(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    """A 404 on the documented property listing is no feature going off: the refresh fails."""
    casavi.auth()
    casavi.reply("GET", "/v2/properties", {"message": "Not Found"}, status=404)
    casavi.page("/v2/appointments", [])
    casavi.page("/v2/tickets", [])
    casavi.page("/v2/tickets", [])

    with pytest.raises(NotFoundError):
        await client.fetch_snapshot(WINDOW_START, WINDOW_END)
    casavi.discard_unused()  # the sibling listings were cancelled


async def test_fetch_snapshot_with_refused_credentials_asks_once(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth(status=401)

    with pytest.raises(AuthError):
        await client.fetch_snapshot(WINDOW_START, WINDOW_END)

    assert len(casavi.calls) == 1  # the listings never started


async def test_fetch_snapshot_after_the_token_was_revoked_renews_once(
    client: CasaviClient, casavi: FakeCasavi
) -> None:
    casavi.auth(TOKEN_1)
    await client.authenticate()
    gate = Gate(4)  # the four listings are all refused with the old token before any renewal
    casavi.refuse_first_token("GET", "/v2/properties", {"data": [prop_json("P-1")]}, gate)
    casavi.refuse_first_token("GET", "/v2/appointments", {"data": [appointment_json()]}, gate)
    # Routes that differ by query, since aioresponses lets two waiting requests share one reply.
    casavi.refuse_first_token("GET", "/v2/tickets?status=OPEN", {"data": [ticket_json()]}, gate)
    in_progress = {"data": [ticket_json("t-2", status="IN_PROGRESS")]}
    casavi.refuse_first_token("GET", "/v2/tickets?status=IN_PROGRESS", in_progress, gate)
    casavi.auth(TOKEN_2)

    snapshot = await client.fetch_snapshot(WINDOW_START, WINDOW_END)

    assert len(casavi.auth_calls) == 2  # one renewal shared by the four refused listings
    assert [c.headers["token"] for c in casavi.data_calls] == [TOKEN_1] * 4 + [TOKEN_2] * 4
    assert [e.id for e in snapshot.events["P-1"]] == ["a-1"]
    assert sorted(t.id for t in snapshot.tasks["P-1"]) == ["t-1", "t-2"]


def test_snapshot_helpers() -> None:
    def event(event_id: str, start_hour: int, end_hour: int) -> CalendarEvent:
        return CalendarEvent(
            id=event_id,
            property_id="P-1",
            kind="appointment",
            title=event_id,
            start=WINDOW_START + timedelta(hours=start_hour),
            end=WINDOW_START + timedelta(hours=end_hour),
        )

    snapshot = CasaviSnapshot(
        properties={"P-1": Property(id="P-1", name="House")},
        events={"P-1": (event("a", 1, 3), event("b", 5, 6))},
        tasks={"P-1": (Task(id="t", property_id="P-1", title="Tap"),)},
        window_start=WINDOW_START,
        window_end=WINDOW_END,
    )

    def at(hours: int) -> datetime:
        return WINDOW_START + timedelta(hours=hours)

    assert [e.id for e in snapshot.events_between("P-1", at(2), at(5))] == ["a"]
    assert [e.id for e in snapshot.events_between("P-1", WINDOW_START, WINDOW_END)] == ["a", "b"]
    assert snapshot.events_between("P-2", WINDOW_START, WINDOW_END) == []
    assert snapshot.upcoming_event("P-1", at(2)).id == "a"  # type: ignore[union-attr]
    assert snapshot.upcoming_event("P-1", at(3)).id == "b"  # type: ignore[union-attr]
    assert snapshot.upcoming_event("P-1", at(6)) is None
    assert [t.id for t in snapshot.open_tasks("P-1")] == ["t"]
    assert snapshot.open_tasks("P-2") == ()
    assert snapshot.units == {}
