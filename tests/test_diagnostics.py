"""Diagnostics: the whole picture, with secrets and guests' personal data redacted."""

from __future__ import annotations

import json

# Diagnostics import hassio, whose models cannot be compiled while freezegun patches datetime:
# import them before any test freezes time.
import aiohasupervisor.models  # noqa: F401
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import paths

from custom_components.kasify.const import CONF_WEBHOOK, CONF_WEBHOOK_ID, CONF_WEBHOOK_SECRET
from simulator import Simulator
from simulator.nuki import NUKI_TOKEN

from . import setup_integration
from .providers import TOKEN, WEBHOOK_ID, WEBHOOK_SECRET, nuki_entry, remotelock_entry, tick


async def test_diagnostics(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    # After the integration, so its access token is issued at the frozen time.
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
) -> None:
    """The dump matches the snapshot and holds no token, guest name, e-mail or phone."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    # The simulator's port changes per run; the API URL is kept (it is not a secret, and helps support).
    assert diagnostics["entry"]["data"]["url"] == simulator.kasify_url
    assert diagnostics == snapshot(exclude=paths("entry.data.url"))

    dump = json.dumps(diagnostics)
    assert TOKEN not in dump
    for booking in simulator.kasify.bookings.values():
        for field in ("guest_name", "guest_email", "guest_phone"):
            if booking.get(field):
                assert booking[field] not in dump, field
    for booking in simulator.kasify.bookings.values():
        if booking.get("external_reference"):
            assert booking["external_reference"] not in dump
    for prop in simulator.kasify.properties.values():
        assert f"'{prop['zip_code']}'" not in str(diagnostics)
        for member in prop["team"]:
            assert f'"{member["name"]}"' not in dump
            if member.get("email"):
                assert member["email"] not in dump
        for calendar in prop["calendars"]:
            if calendar.get("url"):
                assert calendar["url"] not in dump


async def test_remotelock_diagnostics(
    hass: HomeAssistant,
    simulator: Simulator,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
) -> None:
    """A RemoteLock entry's dump keeps its locks and locations but no secret, token or webhook id."""
    entry = remotelock_entry(
        simulator, **{CONF_WEBHOOK: True, CONF_WEBHOOK_ID: WEBHOOK_ID, CONF_WEBHOOK_SECRET: WEBHOOK_SECRET}
    )
    await setup_integration(hass, entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics == snapshot(exclude=paths("entry.data.url", "entry.data.oauth_url"))
    dump = json.dumps(diagnostics)
    for secret in (simulator.remotelock.client_secret, WEBHOOK_ID, WEBHOOK_SECRET, "2468"):
        assert secret not in dump
    assert "Puerta de servicio" in dump
    for location in simulator.remotelock.locations.values():
        for field in ("city", "postal_code"):
            if value := location["attributes"].get(field):
                assert f'"{value}"' not in dump, field


async def test_nuki_diagnostics(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
) -> None:
    """A Nuki entry's dump keeps its locks but not who acted in their activity log (a guest's keypad code
    carries the guest's name)."""
    entry = nuki_entry(simulator)
    await setup_integration(hass, entry)
    lock_id = next(iter(simulator.nuki.locks))
    simulator.nuki.add_log(lock_id, action=1, trigger=255, source=1, name="Ana García")
    await tick(hass, freezer)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics == snapshot(exclude=paths("entry.data.url"))
    dump = json.dumps(diagnostics, ensure_ascii=False)
    assert diagnostics["data"]["logs"]
    assert "Ana García" not in dump
    assert NUKI_TOKEN not in dump
    assert "Loft Patio Lavapiés" in dump
