"""Diagnostics: the whole picture, with secrets and guests' personal data redacted."""

from __future__ import annotations

import json

# Diagnostics import hassio, whose models cannot be compiled while freezegun patches datetime:
# import them before any test freezes time.
import aiohasupervisor.models  # noqa: F401
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

from . import setup_integration
from .providers import TOKEN, WEBHOOK_ID, WEBHOOK_SECRET, remotelock_entry


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
    for prop in simulator.kasify.properties.values():
        for member in prop["team"]:
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
