"""Hostile input to the access-code actions against a Nuki lock on the simulator (hypothesis).

Whatever ``code_id`` a revoke names — path tricks (``..``, ``/``, ``%2e%2e``), unicode, blanks — and
whatever ``name`` and ``code`` a create brings, the action either works or fails with Home Assistant's own
error carrying a translation key (the schema's ``vol.Invalid`` only for the blanks it documents), and no write
request reaches the lock for a code the engine did not issue.

Hypothesis runs in an executor thread and hands each example to Home Assistant's event loop, so the
integration is set up once per test and a failing example is still shrunk.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Final

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
import voluptuous as vol

from custom_components.kasify.access_codes import CODE_ON_LOCK
from custom_components.kasify.const import DOMAIN
from simulator import Simulator

from . import setup_integration
from .providers import LOFT, create_code, nuki_entry, on_loop, upstream_writes

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("fast_nuki", "no_heartbeat")]

FUZZ: Final = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
HOSTILE_IDS: Final = [
    "..",
    ".",
    "%2e%2e",
    "%2E%2E",
    "../..",
    "/",
    "//",
    "a/../b",
    "..%2f",
    "\u2024\u2024",
    " .. ",
]
"""Ids aimed at the path (dot segments, encoded or as look-alikes) besides what hypothesis draws."""
HOSTILE_TEXT: Final = st.one_of(
    st.sampled_from(HOSTILE_IDS),
    st.text(alphabet=st.sampled_from("./%2eE\\ \t"), max_size=8),
    st.text(max_size=30),
)


async def _refused_or_done(call: Awaitable[Any], blank: bool) -> Exception | None:
    """Await the action; the error it raised, which must be a translated one (or the schema's, for blanks)."""
    error: Exception | None = None
    try:
        await call
    except (vol.Invalid, HomeAssistantError) as err:
        error = err
    if isinstance(error, vol.Invalid):
        assert blank, f"schema refused a non-blank value: {error}"
    elif isinstance(error, HomeAssistantError):
        assert error.translation_domain == DOMAIN, repr(error)
        assert error.translation_key, repr(error)
    return error


async def test_revoke_with_any_code_id_sends_nothing(hass: HomeAssistant, simulator: Simulator) -> None:
    """A revoke of an id the engine did not issue is a translated refusal, and nothing reaches the lock;
    the code the engine did issue stays on the lock and in its list."""
    await setup_integration(hass, nuki_entry(simulator))
    issued = (await create_code(hass, LOFT))[LOFT]["code_id"]
    before = dict(simulator.nuki.auths)

    async def check(code_id: str) -> None:
        simulator.reset_requests()
        call = hass.services.async_call(
            DOMAIN, "revoke_access_code", {ATTR_ENTITY_ID: LOFT, "code_id": code_id}, blocking=True
        )
        err = await _refused_or_done(call, blank=not code_id.strip())
        assert err is not None, f"revoked {code_id!r}"
        if isinstance(err, HomeAssistantError):
            assert isinstance(err, ServiceValidationError)
            assert err.translation_key == "access_code_not_issued"
        assert upstream_writes(simulator) == [], code_id

    @FUZZ
    @given(HOSTILE_TEXT.filter(lambda code_id: code_id.strip() != issued))
    def fuzz(code_id: str) -> None:
        on_loop(hass, check)(code_id)

    await hass.async_add_executor_job(fuzz)
    assert simulator.nuki.auths == before
    assert issued in simulator.nuki.auths


async def test_create_with_any_name_and_code(hass: HomeAssistant, simulator: Simulator) -> None:
    """A create either works (the code is on the lock; revoked again here) or is a translated error; one
    refused as input sends nothing, and a failed one leaves the lock's codes as they were."""
    await setup_integration(hass, nuki_entry(simulator))
    before = dict(simulator.nuki.auths)

    async def check(drawn: tuple[str, str | None]) -> None:
        name, code = drawn
        simulator.reset_requests()
        data: dict[str, Any] = {"name": name} if code is None else {"name": name, "code": code}
        result: dict[str, Any] = {}

        async def create() -> None:
            result.update(await create_code(hass, LOFT, **data))

        err = await _refused_or_done(create(), blank=code is not None and not code.strip())
        if isinstance(err, ServiceValidationError | vol.Invalid):
            assert upstream_writes(simulator) == [], drawn
        if err is None:
            assert result[LOFT]["status"] == CODE_ON_LOCK, drawn
            await hass.services.async_call(
                DOMAIN,
                "revoke_access_code",
                {ATTR_ENTITY_ID: LOFT, "code_id": result[LOFT]["code_id"]},
                blocking=True,
            )
        assert simulator.nuki.auths == before, drawn

    codes = st.one_of(st.none(), st.from_regex(r"[1-9]{6}", fullmatch=True), HOSTILE_TEXT)

    @FUZZ
    @given(st.tuples(HOSTILE_TEXT, codes))
    def fuzz(drawn: tuple[str, str | None]) -> None:
        on_loop(hass, check)(drawn)

    await hass.async_add_executor_job(fuzz)
