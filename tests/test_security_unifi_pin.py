"""A UniFi Access controller whose certificate is not the pinned one is refused on REST and on the WebSocket.

The simulated controller is served over TLS on a fixed port; the test then puts another controller (another
self-signed certificate) on the same address, as an attacker on the network path would. The push socket,
which reconnects on its own, must refuse it before sending anything (the token included): push stops with a
repair issue, the doors go unavailable at the next poll, which is refused too, and nothing the impostor
knows reaches Home Assistant. Once the real controller answers again, polling shows its doors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
import logging
from typing import Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.lock import LockState
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.kasify.const import DOMAIN
from custom_components.kasify.providers.unifi_access import UnifiAccessCoordinator
from simulator import Simulator, serve_unifi_https
from simulator.unifi_access import generate_self_signed_certificate

from . import setup_integration
from .providers import PORTAL, SCAN, UNIFI_ENTRY_ID, tick, unifi_entry

pytestmark = [pytest.mark.allow_hosts(["127.0.0.1"]), pytest.mark.usefixtures("no_heartbeat")]

ISSUE: Final = f"unifi_certificate_{UNIFI_ENTRY_ID}"
NOTIFICATIONS: Final = "/api/v1/developer/devices/notifications"


async def _until(hass: HomeAssistant, condition: Callable[[], bool]) -> None:
    """Let the loop run (sockets included; time is frozen) until ``condition`` holds."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0)
    await hass.async_block_till_done()
    assert condition()


def _portal_door(simulator: Simulator) -> str:
    (record,) = [lock for lock in simulator.kasify.smart_locks.values() if lock["vendor"] == "unifi"]
    door_id: str = record["unifi_smartlock"]["door_id"]
    return door_id


async def test_an_impostor_is_refused_on_the_push_socket_and_on_polls(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The push socket reconnects to another certificate on the controller's address: refused before any
    request, push stops with a repair issue naming both fingerprints; the next poll is refused too and the
    doors go unavailable, without ever showing what the impostor says."""
    async with serve_unifi_https(simulator) as real:
        entry = unifi_entry(real)
        await setup_integration(hass, entry)
        assert entry.state is ConfigEntryState.LOADED
        coordinator = entry.runtime_data.coordinator
        assert isinstance(coordinator, UnifiAccessCoordinator)
        await simulator.unifi.wait_for_websockets(1)
        await _until(hass, lambda: coordinator.update_interval is None)  # push is up: no polling
        assert simulator.count_requests(NOTIFICATIONS) == 1
    assert hass.states.get(PORTAL).state == LockState.LOCKED

    impostor_certificate = generate_self_signed_certificate(("127.0.0.1", "localhost"), seed=666)
    async with serve_unifi_https(simulator, port=real.port, certificate=impostor_certificate) as impostor:
        assert impostor.fingerprint != real.fingerprint
        # What the impostor would tell: the portal open.
        simulator.unifi.unlock(_portal_door(simulator))
        simulator.reset_requests()
        caplog.set_level(logging.DEBUG)

        # The real controller went away: push is down, polling is back; the socket tries again after 1 s.
        await _until(hass, lambda: coordinator.update_interval == SCAN)
        await tick(hass, freezer, timedelta(seconds=2), push=True)
        await _until(hass, lambda: issue_registry.async_get_issue(DOMAIN, ISSUE) is not None)
        issue = issue_registry.async_get_issue(DOMAIN, ISSUE)
        assert issue is not None
        assert issue.translation_placeholders["expected"] == real.fingerprint
        assert issue.translation_placeholders["actual"] == impostor.fingerprint
        assert [
            r.message for r in caplog.records if r.levelno >= logging.ERROR and "push stopped" in r.message
        ]
        assert not coordinator.client.push_open
        assert simulator.requests == []  # refused at the TLS handshake: no request, no token sent

        # The next poll meets the impostor too: refused, the doors unavailable, not unlocked.
        await tick(hass, freezer, SCAN, push=True)
        assert hass.states.get(PORTAL).state == STATE_UNAVAILABLE
        assert simulator.requests == []
        assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
        tokens = [r for r in caplog.records if real.token in r.getMessage()]
        assert tokens == []

    # The real controller is back on its address: the next poll shows its doors and the issue goes.
    async with serve_unifi_https(simulator, port=real.port) as back:
        assert back.fingerprint == real.fingerprint
        await tick(hass, freezer, SCAN, push=True)
        assert hass.states.get(PORTAL).state == LockState.UNLOCKED
        assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
