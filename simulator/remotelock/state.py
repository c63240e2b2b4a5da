"""In-memory RemoteLock state: one account's locations, devices, events, access persons and grants.

Records are kept as the resources the API serves (``{"type", "id", "attributes", "links"}``). Access grants
start pending and sync :attr:`RemoteLockState.sync_delay` seconds later when the lock is connected (an
``access_person_synced`` event is recorded then); an offline lock keeps them pending. Every recorded event is
sent to the webhook subscribers it reaches. The OAuth2 server (:mod:`~simulator.remotelock.oauth`), the rate
budget (:mod:`~simulator.remotelock.ratelimit`) and the notification records
(:mod:`~simulator.remotelock.notifications`) are objects of their own; the account keeps the names tests and
the control API use for them (:mod:`~simulator.remotelock.facades`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
import random
from typing import Any, Final
import uuid
from zoneinfo import ZoneInfo

from simulator.clock import Clock, iso, parse_iso
from simulator.kasify_state import Json

from .errors import GeneralError, ResourceError, get_record, not_found
from .facades import AccountFacades
from .notifications import Notifications
from .oauth import CLIENT_ID, CLIENT_SECRET, OAuthServer
from .ratelimit import RateBudget
from .records import (
    DEFAULT_TIME_ZONE,
    LOCK_TYPES,
    account_attributes,
    event_attributes,
    local_text,
    lock_attributes,
    person_attributes,
    resource,
    user_attributes,
)
from .webhooks import WebhookSender

SYNC_DELAY: Final = 30.0


class RemoteLockState(AccountFacades):
    """One RemoteLock account: locations, devices, events, access persons and grants, plus test helpers.

    The helper methods are what the routes use and what tests call to set up a scenario.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        seed: int = 1,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
    ) -> None:
        """An empty account reading time from ``clock``; ids are deterministic for a ``seed``."""
        self.clock = clock
        self._rng = random.Random(f"remotelock-ids-{seed}")
        self.oauth = OAuthServer(clock=clock, rng=self._rng, client_id=client_id, client_secret=client_secret)
        """The OAuth2 server and the tokens it issued."""
        self.rate = RateBudget(clock)
        """The account's rate limit."""
        self.sync_delay: float = SYNC_DELAY
        """Seconds until a new access grant syncs to a connected lock."""
        self.subscription_required = False
        """When set, creating access persons answers 402 ``billing_subscription_required``."""
        self.user: Json = resource("user", self.new_id(), user_attributes(self.stamp()), "/user")
        self.account: Json = resource(
            "account", self.new_id(), account_attributes(self.stamp(), self.user["id"]), "/account"
        )
        self.user["attributes"]["primary_account_id"] = self.account["id"]
        self.user["attributes"]["default_account_id"] = self.account["id"]
        self.locations: dict[str, Json] = {}
        self.devices: dict[str, Json] = {}
        self.events: dict[str, Json] = {}
        self._event_seq: dict[str, int] = {}
        self.access_persons: dict[str, Json] = {}
        self.accesses: dict[str, Json] = {}
        self.restricted: set[str] = set()
        """Device ids whose lock/unlock answers 401 "not permitted"."""
        self.failing_sync: set[str] = set()
        """Device ids where access syncs fail (``access_person_sync_failed``)."""
        self._deactivated: set[str] = set()
        self._sync: dict[str, dict[str, str]] = {}  # access id → device id → pending/synced/failed
        self._sync_due: dict[str, datetime] = {}
        self.notifications = Notifications(
            account_id=self.account["id"],
            rng=self._rng,
            new_id=self.new_id,
            stamp=self.stamp,
            find_publisher=self.find_publisher,
        )
        """The notification subscribers and subscriptions."""
        self.webhooks = WebhookSender(clock, self.notifications.deactivate_subscriber)
        """The webhook deliveries, their hourly retries and the deactivation after 72 hours."""

    # -- basics ----------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated current instant."""
        return self.clock.now()

    def new_id(self) -> str:
        """A fresh UUID (deterministic for a given seed and call order)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def stamp(self) -> str:
        """The current instant as the API writes timestamps."""
        return iso(self.now())

    def summary(self) -> Json:
        """Counts of every kind of record, and the rate budget."""
        return {
            "client_id": self.client_id,
            "locations": len(self.locations),
            "devices": len(self.devices),
            "locks": sum(1 for d in self.devices.values() if d["type"] in LOCK_TYPES),
            "events": len(self.events),
            "access_persons": len(self.access_persons),
            "accesses": len(self.accesses),
            "access_tokens": len(self.access_tokens),
            "rate_limit": self.rate.limit,
            "rate_limit_used": self.rate.used,
        }

    # -- locations and devices -------------------------------------------------------------------------------

    def add_location(self, name: str, *, time_zone: str = DEFAULT_TIME_ZONE, **attributes: Any) -> Json:
        """Add a location (``address``, ``city``, ``country``, ... may be given)."""
        ZoneInfo(time_zone)  # fail early on a typo
        record = resource(
            "location",
            self.new_id(),
            {
                "name": name,
                "phone": None,
                "address": None,
                "address2": None,
                "city": None,
                "state": None,
                "postal_code": None,
                "country": None,
                "time_zone": time_zone,
                "created_at": self.stamp(),
                "updated_at": self.stamp(),
                **attributes,
            },
            "/locations/{id}",
        )
        self.locations[record["id"]] = record
        return record

    def get_location(self, location_id: str) -> Json:
        """The location with that id.

        Raises:
            GeneralError: 404 when there is none.
        """
        return get_record(self.locations, "Location", location_id)

    def add_lock(
        self,
        name: str,
        location_id: str | None = None,
        *,
        device_type: str = "lock",
        state: str = "locked",
        power_level: int = 100,
        connected: bool = True,
        alive: bool = True,
        **attributes: Any,
    ) -> Json:
        """Add a lock device of ``type`` (``lock``, ``zwave_lock`` or ``schlage_home_lock``)."""
        if device_type not in LOCK_TYPES:
            raise ValueError(f"not a lock type: {device_type}")
        serial = f"AC000W{self._rng.randint(0, 10**9 - 1):09d}"
        base = lock_attributes(
            device_type,
            name,
            state=state,
            power_level=power_level,
            connected=connected,
            alive=alive,
            stamp=self.stamp(),
            serial=serial,
        )
        return self.add_device(device_type, location_id, **{**base, **attributes})

    def add_device(self, device_type: str, location_id: str | None = None, **attributes: Any) -> Json:
        """Add a device of any type (``thermostat``, ``resort_lock``, ...) with the given attributes."""
        if location_id is not None:
            self.get_location(location_id)
        record = resource(
            device_type,
            self.new_id(),
            {
                **attributes,
                "created_at": self.stamp(),
                "updated_at": self.stamp(),
                "model_id": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                "location_id": location_id,
            },
            "/devices/{id}",
        )
        self.devices[record["id"]] = record
        return record

    def get_device(self, device_id: str) -> Json:
        """The device with that id.

        Raises:
            GeneralError: 404 when there is none.
        """
        return get_record(self.devices, "Device", device_id)

    def set_lock(self, device_id: str, **attributes: Any) -> Json:
        """Change a device's attributes in place (``state``, ``power_level``, ``connected``, ...)."""
        device = self.get_device(device_id)
        device["attributes"].update(attributes, updated_at=self.stamp())
        if attributes.get("connected"):
            device["attributes"]["connected_at"] = self.stamp()
        self.tick()
        return device

    def remove_device(self, device_id: str) -> None:
        """Deregister a device."""
        self.get_device(device_id)
        del self.devices[device_id]

    def lock_action(self, device_id: str, action: str) -> Json:
        """``lock`` or ``unlock`` a lock as the API does; records the event.

        Raises:
            GeneralError: 404 unknown device, 401 restricted device.
            ResourceError: The device type cannot be locked.
        """
        device = self.get_device(device_id)
        if device["type"] not in LOCK_TYPES:
            raise ResourceError({}, [(None, f"{device['type']} does not support {action}")])
        if device_id in self.restricted:
            raise GeneralError(401, "not_permitted", "You are not permitted to perform this action")
        state = "locked" if action == "lock" else "unlocked"
        device["attributes"].update(state=state, updated_at=self.stamp())
        self.add_event(state, device_id, source="user")
        return device

    def zone_of_accessible(self, accessible_type: object, accessible_id: object) -> str:
        """The time zone of a lock, or of a location, a guest is granted."""
        if accessible_type == "location":
            location = self.locations.get(str(accessible_id))
            return str(location["attributes"]["time_zone"]) if location else DEFAULT_TIME_ZONE
        return self.zone_of_device(str(accessible_id))

    def zone_of_device(self, device_id: str | None) -> str:
        """The time zone of a device's location (the account default when it has none)."""
        device = self.devices.get(device_id or "")
        location = self.locations.get((device or {}).get("attributes", {}).get("location_id") or "")
        return str(location["attributes"]["time_zone"]) if location else DEFAULT_TIME_ZONE

    # -- events ----------------------------------------------------------------------------------------------

    def add_event(
        self,
        kind: str,
        device_id: str,
        *,
        access_person_id: str | None = None,
        method: str | None = None,
        pin: str | None = None,
        status: str = "succeeded",
        source: str = "device",
        occurred_at: datetime | None = None,
        created_at: datetime | None = None,
        power_level: int | None = None,
        status_info: str | None = None,
    ) -> Json:
        """Record an event about a device (``kind`` without ``_event``: ``unlocked``, ``access_denied``, ...).

        ``access_person_used`` is published by the access person with the lock as associated resource; every
        other kind is published by the lock (with the access person, if any, as associated resource).
        """
        device = self.get_device(device_id)
        occurred = occurred_at or self.now()
        created = created_at or max(occurred, self.now())
        person = self.access_persons.get(access_person_id or "")
        base: Json = {
            "source": source,
            "status": status,
            "time_zone": self.zone_of_device(device_id),
            "occurred_at": iso(occurred),
            "created_at": iso(created),
            "updated_at": iso(created),
        }
        publisher: Json
        associated: Json | None
        if kind == "access_person_used":
            if person is None:
                raise ValueError("access_person_used needs an access person")
            publisher, associated = person, device
        else:
            publisher, associated = device, person
        attributes = event_attributes(
            kind, base, device, power_level=power_level, status_info=status_info, method=method, pin=pin
        )
        attributes.update(publisher_id=publisher["id"], publisher_type=publisher["type"])
        links: Json = {"publisher": publisher["links"]["self"]}
        if associated is not None:
            attributes.update(
                associated_resource_id=associated["id"], associated_resource_type=associated["type"]
            )
            links["associated_resource"] = associated["links"]["self"]
        record = resource(f"{kind}_event", self.new_id(), attributes, "/events/{id}")
        record["links"].update(links)
        self.events[record["id"]] = record
        self._event_seq[record["id"]] = len(self._event_seq)
        self._notify(record, device, person)
        return record

    def sorted_events(self, sort: str) -> list[Json]:
        """Events in the API's order for ``sort`` (``occurred_at``/``created_at``, ``-`` for descending)."""
        key = sort.removeprefix("-")
        # Ties (same second) keep the order the events were recorded in, newest first for "-".
        return sorted(
            self.events.values(),
            key=lambda e: (e["attributes"][key], self._event_seq[e["id"]]),
            reverse=sort.startswith("-"),
        )

    def use_pin(self, device_id: str, pin: str) -> list[Json]:
        """Someone types ``pin`` on a lock's keypad; returns the events recorded.

        A current access person whose grant to the lock has synced opens it (``access_person_used`` plus
        ``unlocked`` with method ``pin``); anyone else gets ``access_denied``.
        """
        self.tick()
        device = self.get_device(device_id)
        for person in self.access_persons.values():
            if person["attributes"].get("pin") != pin:
                continue
            allowed = self.person_status(person) == "current" and any(
                access["attributes"]["access_person_id"] == person["id"]
                and self._sync.get(access["id"], {}).get(device_id) == "synced"
                for access in self.accesses.values()
            )
            if allowed:
                device["attributes"].update(state="unlocked", updated_at=self.stamp())
                return [
                    self.add_event(
                        "access_person_used", device_id, access_person_id=person["id"], method="pin", pin=pin
                    ),
                    self.add_event(
                        "unlocked", device_id, access_person_id=person["id"], method="pin", pin=pin
                    ),
                ]
            return [
                self.add_event(
                    "access_person_used",
                    device_id,
                    access_person_id=person["id"],
                    method="pin",
                    pin=pin,
                    status="failed",
                ),
                self.add_event("access_denied", device_id, method="pin", pin=pin, status="failed"),
            ]
        return [self.add_event("access_denied", device_id, method="pin", pin=pin, status="failed")]

    # -- access persons and grants ---------------------------------------------------------------------------

    def get_person(self, person_id: str) -> Json:
        """The access person with that id.

        Raises:
            GeneralError: 404 when there is none.
        """
        return get_record(self.access_persons, "Access person", person_id)

    def _person_zone(self, person_id: str, first: str | None = None) -> ZoneInfo:
        for access in self.accesses.values():
            if access["attributes"]["access_person_id"] == person_id:
                return ZoneInfo(self.zone_of_device(access["attributes"]["accessible_id"]))
        return ZoneInfo(first or DEFAULT_TIME_ZONE)

    def person_status(self, person: Json, *, first_zone: str | None = None) -> str:
        """``deactivated``, else for a guest ``upcoming``/``current``/``expired`` by its lock-local times.

        A guest with no access yet is judged in ``first_zone`` (the zone of the lock it is being granted),
        else in the account's zone.
        """
        if person["id"] in self._deactivated:
            return "deactivated"
        if person["type"] != "access_guest":
            return "current"
        local_now = self.now().astimezone(self._person_zone(person["id"], first_zone)).replace(tzinfo=None)
        if local_now < datetime.fromisoformat(person["attributes"]["starts_at"]):
            return "upcoming"
        if local_now >= datetime.fromisoformat(person["attributes"]["ends_at"]):
            return "expired"
        return "current"

    def render_person(self, person: Json) -> Json:
        """An access person as served, with its current status (and restricted actions when it is over)."""
        status = self.person_status(person)
        served = {**person, "attributes": {**person["attributes"], "status": status}}
        if status in ("deactivated", "expired"):
            served["meta"] = {"restricted_actions": ["update"]}
        return served

    def add_access_person(
        self,
        person_type: str,
        name: str,
        *,
        pin: str | None = None,
        starts_at: datetime | str | None = None,
        ends_at: datetime | str | None = None,
        email: str | None = None,
    ) -> Json:
        """Add an access user or guest; ``starts_at``/``ends_at`` are lock-local (an offset is dropped)."""
        attributes = person_attributes(name, pin=pin, email=email, stamp=self.stamp())
        if person_type == "access_guest":
            if starts_at is None or ends_at is None:
                raise ValueError("an access guest needs starts_at and ends_at")
            attributes["starts_at"] = local_text(starts_at)
            attributes["ends_at"] = local_text(ends_at)
        record = resource(person_type, self.new_id(), attributes, "/access_persons/{id}")
        self.access_persons[record["id"]] = record
        return record

    def active_pins(self, exclude_id: str | None = None) -> set[str]:
        """PINs of access persons that are neither deactivated nor expired."""
        return {
            person["attributes"]["pin"]
            for person in self.access_persons.values()
            if person["id"] != exclude_id
            and person["attributes"].get("pin")
            and self.person_status(person) not in ("deactivated", "expired")
        }

    def generate_pin(self) -> str:
        """A random 6-digit PIN no active access person has."""
        taken = self.active_pins()
        while (pin := f"{self._rng.randint(0, 999_999):06d}") in taken:
            pass  # pragma: no cover - a clash among a million is rare
        return pin

    def deactivate(self, person_id: str) -> Json:
        """Deactivate an access person: status ``deactivated``, the lock forgets the code."""
        person = self.get_person(person_id)
        self._deactivated.add(person_id)
        person["attributes"]["updated_at"] = self.stamp()
        return person

    def delete_person(self, person_id: str) -> None:
        """Delete an access person and its grants."""
        self.get_person(person_id)
        del self.access_persons[person_id]
        self._deactivated.discard(person_id)
        for access_id in [
            a["id"] for a in self.accesses.values() if a["attributes"]["access_person_id"] == person_id
        ]:
            self.revoke_access(access_id)

    def grant(
        self,
        person_id: str,
        accessible_id: str,
        accessible_type: str = "lock",
        *,
        guest_start_time: str | None = None,
        guest_end_time: str | None = None,
        synced: bool = False,
    ) -> Json:
        """Give an access person access to a lock or a location; pending until it syncs (or ``synced``)."""
        person = self.get_person(person_id)
        if accessible_type == "location":
            self.get_location(accessible_id)
            device_ids = [
                d["id"]
                for d in self.devices.values()
                if d["type"] in LOCK_TYPES and d["attributes"].get("location_id") == accessible_id
            ]
        else:
            self.get_device(accessible_id)
            device_ids = [accessible_id]
        access_id = self.new_id()
        record = resource(
            "access_person_access",
            access_id,
            {
                "guest_start_time": guest_start_time,
                "guest_end_time": guest_end_time,
                "devices_count": len(device_ids),
                "devices_synced_count": 0,
                "devices_pending_sync_count": len(device_ids),
                "devices_failed_sync_count": 0,
                "accessible_type": accessible_type,
                "created_at": self.stamp(),
                "updated_at": self.stamp(),
                "access_person_id": person_id,
                "access_person_type": person["type"],
                "accessible_id": accessible_id,
            },
            f"/access_persons/{person_id}/accesses/{{id}}",
        )
        self.accesses[access_id] = record
        self._sync[access_id] = dict.fromkeys(device_ids, "synced" if synced else "pending")
        self._sync_due[access_id] = self.now() + timedelta(seconds=self.sync_delay)
        self._count(access_id)
        return record

    def revoke_access(self, access_id: str) -> None:
        """Remove an access grant."""
        self.get_access(access_id)
        del self.accesses[access_id]
        self._sync.pop(access_id, None)
        self._sync_due.pop(access_id, None)

    def get_access(self, access_id: str, person_id: str | None = None) -> Json:
        """The access grant with that id (of ``person_id``, when given).

        Raises:
            GeneralError: 404 when there is none.
        """
        access = self.accesses.get(access_id)
        if access is None or (
            person_id is not None and access["attributes"]["access_person_id"] != person_id
        ):
            raise not_found("Access", access_id)
        return access

    def access_devices(self, access_id: str) -> dict[str, str]:
        """The devices a grant reaches, each with its sync state (``pending``, ``synced``, ``failed``)."""
        return dict(self._sync.get(access_id, {}))

    def _count(self, access_id: str) -> None:
        states = list(self._sync[access_id].values())
        self.accesses[access_id]["attributes"].update(
            devices_count=len(states),
            devices_synced_count=states.count("synced"),
            devices_pending_sync_count=states.count("pending"),
            devices_failed_sync_count=states.count("failed"),
        )

    def tick(self) -> None:
        """Sync the grants due to connected locks, retry the webhook deliveries due (before every request)."""
        self.webhooks.retry_due()
        now = self.now()
        for access_id, devices in self._sync.items():
            due = self._sync_due[access_id]
            if now < due:
                continue
            person_id = self.accesses[access_id]["attributes"]["access_person_id"]
            person = self.access_persons.get(person_id)
            changed = False
            for device_id, sync_state in devices.items():
                device = self.devices.get(device_id)
                if sync_state != "pending" or device is None or not device["attributes"].get("connected"):
                    continue
                connected_at = device["attributes"].get("connected_at")
                when = max(due, parse_iso(connected_at)) if connected_at else due
                if device_id in self.failing_sync:
                    devices[device_id] = "failed"
                    self.add_event(
                        "access_person_sync_failed",
                        device_id,
                        access_person_id=person_id,
                        occurred_at=when,
                        status_info="timeout",
                    )
                else:
                    devices[device_id] = "synced"
                    self.add_event(
                        "access_person_synced", device_id, access_person_id=person_id, occurred_at=when
                    )
                    if (
                        person is not None
                        and self.person_status(person) == "current"
                        and person["type"] == ("access_guest")
                    ):
                        self.add_event(
                            "access_guest_late_sync", device_id, access_person_id=person_id, occurred_at=when
                        )
                changed = True
            if changed:
                self._count(access_id)
                self.accesses[access_id]["attributes"]["updated_at"] = self.stamp()

    # -- notifications ---------------------------------------------------------------------------------------

    def webhook_payload(self, event_id: str) -> Json:
        """The body a webhook delivery of an event carries: ``{"data": event}`` (a single object)."""
        return {"data": get_record(self.events, "Event", event_id)}

    def find_publisher(self, publisher_type: str, publisher_id: str) -> Json | None:
        """The account, location, device or access person a subscription listens to (``None``: unknown)."""
        if publisher_type == "account":
            return self.account if publisher_id == self.account["id"] else None
        if publisher_type == "location":
            return self.locations.get(publisher_id)
        if publisher_type in ("access_user", "access_guest"):
            person = self.access_persons.get(publisher_id)
            return person if person is not None and person["type"] == publisher_type else None
        device = self.devices.get(publisher_id)
        if device is None:
            return None
        kinds = LOCK_TYPES if publisher_type == "lock" else (publisher_type,)
        return device if device["type"] in kinds else None

    def _notify(self, event: Json, device: Json, person: Json | None) -> None:
        """Deliver an event to the active webhook subscribers whose subscriptions it matches."""
        for subscriber in self.notifications.recipients(event, device, person):
            self.webhooks.send(subscriber, event["id"], lambda: self.webhook_payload(event["id"]))
