"""What the end-to-end tests read and do: the simulator through its vendor APIs, Home Assistant's registries.

The simulator is read the way each vendor's own app would show it (Nuki Web, UniFi Access, RemoteLock and
Kasify APIs, with the simulator's development credentials), so a test sees what reached the "real" upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
import time
from typing import Any

import aiohttp
from kasify_dev import KASIFY_TOKEN, NUKI_TOKEN, UNIFI_TOKEN, HaWebSocket, Settings

REMOTELOCK_CLIENT = {"client_id": "sim-remotelock-client", "client_secret": "sim-remotelock-secret"}
REMOTELOCK_ACCEPT = "application/vnd.lockstate.v1+json"
VENDORS = ("nuki", "unifi", "remotelock")
# Seconds the slow steps took (printed at the end of the run by conftest.py).
TIMINGS: dict[str, float] = {}


async def wait_for[T](what: str, probe: Callable[[], Awaitable[T | None]], seconds: float = 30) -> T:
    """Call ``probe`` every half second until it returns something truthy; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what} (last: {last!r})")


class SimulatedUpstreams:
    """The simulator of one e2e run, read and changed through the vendors' APIs."""

    def __init__(self, session: aiohttp.ClientSession, settings: Settings) -> None:
        """Talk to the simulator of ``settings``."""
        self._session = session
        self._base = settings.sim_url
        self._unifi = f"https://127.0.0.1:{settings.unifi_port}/api/v1/developer"

    async def _get(self, url: str, token: str, **headers: str) -> Any:
        headers = {"Authorization": f"Bearer {token}", **headers}
        # The UniFi controller's certificate is self-signed; the integration pins it, this reader need not.
        async with self._session.get(url, headers=headers, ssl=False) as response:
            assert response.status == 200, f"GET {url}: HTTP {response.status} {await response.text()}"
            return await response.json()

    # Kasify

    async def kasify_properties(self) -> list[dict[str, Any]]:
        """Every Kasify property."""
        page = await self._get(f"{self._base}/kasify/v1/properties?size=100", KASIFY_TOKEN)
        properties: list[dict[str, Any]] = page["properties"]
        return properties

    async def add_kasify_property(self, name: str) -> dict[str, Any]:
        """A new property in the Kasify account, as the host adds a listing in Kasify's app."""
        body = {"name": name, "address": "Calle del Reloj 3", "city": "Madrid", "zip_code": "28013"}
        headers = {"Authorization": f"Bearer {KASIFY_TOKEN}"}
        async with self._session.post(
            f"{self._base}/kasify/v1/properties", json=body, headers=headers
        ) as response:
            assert response.status == 201, await response.text()
            record: dict[str, Any] = await response.json()
            return record

    async def kasify_bookings(self, property_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The property's bookings that overlap ``start``-``end``."""
        window = f"from={start.isoformat()}&to={end.isoformat()}".replace("+", "%2B")
        page = await self._get(
            f"{self._base}/kasify/v1/properties/{property_id}/bookings?{window}&size=100", KASIFY_TOKEN
        )
        bookings: list[dict[str, Any]] = page["bookings"]
        return bookings

    async def current_booking(self, property_id: str) -> dict[str, Any] | None:
        """The booking the simulator's clock is inside of at the property, None when the house is empty."""
        url = f"{self._base}/kasify/v1/properties/{property_id}/bookings/current"
        headers = {"Authorization": f"Bearer {KASIFY_TOKEN}"}
        async with self._session.get(url, headers=headers) as response:
            if response.status == 404:
                return None
            assert response.status == 200, await response.text()
            booking: dict[str, Any] = await response.json()
            return booking

    # Nuki Web

    async def nuki_lock(self, smartlock_id: str) -> dict[str, Any]:
        """A Nuki lock as Nuki Web serves it (``state.state``: 1 locked, 2 unlocking, 3 unlocked)."""
        lock: dict[str, Any] = await self._get(f"{self._base}/nuki/smartlock/{smartlock_id}", NUKI_TOKEN)
        return lock

    async def nuki_auths(self, smartlock_id: str) -> list[dict[str, Any]]:
        """A Nuki lock's authorizations (keypad codes are type 13, with their ``code``)."""
        auths: list[dict[str, Any]] = await self._get(
            f"{self._base}/nuki/smartlock/{smartlock_id}/auth", NUKI_TOKEN
        )
        return auths

    # UniFi Access

    async def unifi_visitor(self, visitor_id: str) -> dict[str, Any]:
        """A UniFi Access visitor (its PIN only as ``pin_code.token``, a SHA-256 of the digits)."""
        answer = await self._get(f"{self._unifi}/visitors/{visitor_id}", UNIFI_TOKEN)
        visitor: dict[str, Any] = answer["data"]
        return visitor

    # RemoteLock

    async def _remotelock_token(self) -> str:
        form = {"grant_type": "client_credentials", **REMOTELOCK_CLIENT}
        async with self._session.post(f"{self._base}/remotelock/connect/oauth/token", data=form) as response:
            assert response.status == 200, await response.text()
            return str((await response.json())["access_token"])

    async def remotelock_guest(self, person_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A RemoteLock access guest's attributes and the accesses it was granted."""
        token = await self._remotelock_token()
        api = f"{self._base}/remotelock/api/access_persons/{person_id}"
        person = await self._get(api, token, Accept=REMOTELOCK_ACCEPT)
        accesses = await self._get(f"{api}/accesses", token, Accept=REMOTELOCK_ACCEPT)
        return person["data"]["attributes"], accesses["data"]


@dataclass(frozen=True)
class HaLock:
    """A lock entity of the integration, with the vendor and id of the lock behind it."""

    entity_id: str
    vendor: str
    vendor_id: str
    state: str
    property_name: str | None


async def ha_devices(ws: HaWebSocket) -> list[dict[str, Any]]:
    """Home Assistant's device registry."""
    devices: list[dict[str, Any]] = await ws.command({"type": "config/device_registry/list"})
    return devices


async def ha_kasify_entities(ws: HaWebSocket) -> list[dict[str, Any]]:
    """The entity registry entries of the integration."""
    entries: list[dict[str, Any]] = await ws.command({"type": "config/entity_registry/list"})
    return [entry for entry in entries if entry.get("platform") == "kasify"]


async def ha_state(ws: HaWebSocket, entity_id: str) -> dict[str, Any] | None:
    """One entity's state object."""
    return next((state for state in await ws.states() if state["entity_id"] == entity_id), None)


async def ha_locks(ws: HaWebSocket) -> list[HaLock]:
    """Every lock entity of the integration, by the device key of its device (``nuki_<id>``, ...)."""
    devices = {device["id"]: device for device in await ha_devices(ws)}
    states = {state["entity_id"]: state for state in await ws.states()}
    locks = []
    for entry in await ha_kasify_entities(ws):
        device = devices.get(entry.get("device_id") or "")
        if not entry["entity_id"].startswith("lock.") or device is None:
            continue
        key = next(ident for domain, ident in device["identifiers"] if domain == "kasify")
        vendor, _, vendor_id = key.partition("_")
        parent = devices.get(device.get("via_device_id") or "")
        state = states.get(entry["entity_id"], {}).get("state", "missing")
        locks.append(HaLock(entry["entity_id"], vendor, vendor_id, state, parent and parent["name"]))
    return locks


async def lock_of_each_vendor(
    ws: HaWebSocket, states: tuple[str, ...] = ("locked", "unlocked")
) -> dict[str, HaLock]:
    """For each vendor, its first lock that belongs to a property and shows one of ``states``."""
    chosen: dict[str, HaLock] = {}
    for lock in await ha_locks(ws):
        if lock.vendor in VENDORS and lock.state in states and lock.property_name:
            chosen.setdefault(lock.vendor, lock)
    return chosen


async def kasify_property_devices(ws: HaWebSocket) -> dict[str, dict[str, Any]]:
    """The devices of the Kasify account's properties, by Kasify property id."""
    found = {}
    for device in await ha_devices(ws):
        for domain, ident in device["identifiers"]:
            if domain == "kasify" and ident.startswith("property_"):
                found[ident.removeprefix("property_")] = device
    return found


def entry_of(device: dict[str, Any]) -> str:
    """The config entry a device belongs to."""
    entry_id = device.get("primary_config_entry") or device["config_entries"][0]
    return str(entry_id)
