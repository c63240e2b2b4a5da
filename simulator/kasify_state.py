"""In-memory Kasify state.

Every record is kept as the JSON object the API returns (snake_case, times as UTC ISO-8601 strings), so the
routes in :mod:`simulator.kasify` serve them as they are. The helper methods are what the routes use and what
tests call directly to set up or change a scenario; unlike the API they do not refuse overlaps, so a test can
build any situation it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum
import random
from typing import Any, Final
import uuid
from zoneinfo import ZoneInfo

from .clock import Clock, as_instant, iso, parse_iso
from .errors import NotFoundError
from .kasify_tasks import TaskRecords
from .tracked import Generation, KeptListings, TrackedDict

type Json = dict[str, Any]

BOOKING_STATUSES: Final = ("confirmed", "pending", "cancelled")
LOCK_LOCKED: Final = 1
LOCK_UNLOCKED: Final = 3

_BOOKING_FIELDS: Final = frozenset(
    {
        "guest_email",
        "guest_phone",
        "status",
        "channel",
        "guests_count",
        "notes",
        "external_reference",
        "created_at",
        "updated_at",
    }
)
_BOOKING_TIMES: Final = frozenset({"check_in", "check_out", "created_at", "updated_at"})


class _Unset(Enum):
    UNSET = 0


UNSET: Final = _Unset.UNSET
"""Marks a keyword argument that was not given (``None`` is a real value for several lock fields)."""


def _time(value: datetime | str | None) -> str | None:
    """Normalise an instant (datetime or ISO text) to the stored UTC ISO form."""
    return None if value is None else iso(as_instant(value))


def instant_at(record: Json, key: str) -> datetime:
    """The instant stored under ``key`` of a record."""
    return parse_iso(record[key])


def overlaps(record: Json, start: datetime | None, end: datetime | None, begin: str, finish: str) -> bool:
    """Whether ``[record[begin], record[finish])`` overlaps ``[start, end)``; ``None`` bounds are open."""
    return (end is None or instant_at(record, begin) < end) and (
        start is None or instant_at(record, finish) > start
    )


class KasifyState(TaskRecords):
    """The Kasify account the simulator serves: dicts of records keyed by id, plus helpers.

    The task helpers are :class:`~simulator.kasify_tasks.TaskRecords`'.
    """

    def __init__(self, *, token: str, clock: Clock, seed: int = 1) -> None:
        """Create an empty account that answers to ``token`` and reads time from ``clock``."""
        self.token = token
        self.clock = clock
        self._rng = random.Random(f"kasify-ids-{seed}")
        self.account: Json = {
            "id": self.new_id(),
            "name": "Kasify Simulator",
            "email": "owner@example.com",
            "language": "es",
            "timezone": "Europe/Madrid",
        }
        self.crew: dict[str, Json] = {}
        self.properties: dict[str, Json] = {}
        self.timezones: dict[str, str] = {}
        # Bookings and their records count their changes: a listing keeps its sorted answer until one.
        self._booking_changes = Generation()
        self.bookings: dict[str, Json] = TrackedDict(self._booking_changes)
        self._overlapping = KeptListings(self._booking_changes)
        self.checkins: dict[str, Json] = {}
        self.access_codes: dict[str, Json] = {}
        # How the API writes booking check-in/check-out: "instant" (UTC with Z), "date" or "naive".
        self.booking_times = "instant"
        self.tasks: dict[str, Json] = {}
        self.smart_locks: dict[str, Json] = {}
        self.blocks: dict[str, Json] = {}

    # -- basics ----------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated current instant."""
        return self.clock.now()

    def new_id(self) -> str:
        """A fresh UUID (deterministic for a given seed and call order)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _stamp(self) -> str:
        return iso(self.now().replace(microsecond=0))

    def summary(self) -> Json:
        """Counts of every kind of record."""
        return {
            "properties": len(self.properties),
            "bookings": len(self.bookings),
            "tasks": len(self.tasks),
            "smart_locks": len(self.smart_locks),
            "access_codes": len(self.access_codes),
            "blocks": len(self.blocks),
            "crew": len(self.crew),
        }

    # -- crew ------------------------------------------------------------------------------------------------

    def add_crew_member(
        self,
        name: str,
        last_name: str | None = None,
        *,
        email: str | None = None,
        access_level: str = "crew",
        service: str | None = "cleaning",
    ) -> Json:
        """Add a crew member to the account (assign them to properties with :meth:`add_property`)."""
        member: Json = {
            "id": self.new_id(),
            "name": name,
            "last_name": last_name,
            "email": email,
            "access_level": access_level,
            "service": service,
        }
        self.crew[member["id"]] = member
        return member

    # -- properties ------------------------------------------------------------------------------------------

    def get_property(self, property_id: str) -> Json:
        """The property with that id.

        Raises:
            NotFoundError: When there is none.
        """
        try:
            return self.properties[property_id]
        except KeyError:
            raise NotFoundError(f"Property {property_id} not found") from None

    def property_at(self, index: int) -> Json:
        """The property at ``index`` in creation order (the fleet's property 0, 1, ...)."""
        return list(self.properties.values())[index]

    def add_property(
        self,
        name: str,
        *,
        address: str = "",
        city: str = "",
        zip_code: str = "",
        country: str = "ES",
        timezone: str = "Europe/Madrid",
        team: Sequence[Json] = (),
        default_cleaner: Json | None = None,
        calendars: Sequence[Json] = (),
        **fields: Any,
    ) -> Json:
        """Add a property and return its record.

        ``fields`` may set any other Property field (``rooms_count``, ``has_internet``, ``cover_image_url``,
        ``ses_establishment_code``, ...). ``timezone`` is not served; it places local check-in times.
        """
        record: Json = {
            "id": fields.pop("id", None) or self.new_id(),
            "account_id": self.account["id"],
            "name": name,
            "address": address,
            "city": city,
            "zip_code": zip_code,
            "country": country,
            "ses_establishment_code": None,
            "ses_establishment_type": None,
            "has_internet": True,
            "rooms_count": 1,
            "default_cleaner": default_cleaner,
            "cover_image_url": None,
            "role": "owner",
            "calendars": [dict(calendar) for calendar in calendars],
            "smart_locks": [],
            "team": [dict(member) for member in team],
        }
        unknown = set(fields) - set(record)
        if unknown:
            raise TypeError(f"Unknown property fields: {sorted(unknown)}")
        record.update(fields)
        self.properties[record["id"]] = record
        self.timezones[record["id"]] = timezone
        ZoneInfo(timezone)  # fail early on a typo
        return record

    def update_property(self, property_id: str, **changes: Any) -> Json:
        """Change Property fields in place."""
        record = self.get_property(property_id)
        unknown = set(changes) - set(record)
        if unknown or "id" in changes:
            raise TypeError(
                f"Unknown or read-only property fields: {sorted(unknown | {'id'} & set(changes))}"
            )
        record.update(changes)
        if "name" in changes:
            for lock in self.locks_for(property_id):
                if lock["unifi_smartlock"] is not None:
                    lock["unifi_smartlock"]["assigned_property"]["property_name"] = record["name"]
        return record

    def remove_property(self, property_id: str) -> None:
        """Delete a property and everything that belongs to it."""
        self.get_property(property_id)
        del self.properties[property_id]
        self.timezones.pop(property_id, None)
        for booking_id in [b["id"] for b in self.bookings.values() if b["property_id"] == property_id]:
            del self.bookings[booking_id]
            self.checkins.pop(booking_id, None)
            for code_id in [c["id"] for c in self.access_codes.values() if c["booking_id"] == booking_id]:
                del self.access_codes[code_id]
        for table in (self.tasks, self.smart_locks, self.blocks):
            for record_id in [r["id"] for r in table.values() if r["property_id"] == property_id]:
                del table[record_id]

    def property_zone(self, property_id: str) -> ZoneInfo:
        """The property's time zone (local check-in and check-out times)."""
        return ZoneInfo(self.timezones.get(property_id, self.account["timezone"]))

    # -- smart locks -----------------------------------------------------------------------------------------

    def get_lock(self, smartlock_id: str) -> Json:
        """The smart lock with that id.

        Raises:
            NotFoundError: When there is none.
        """
        try:
            return self.smart_locks[smartlock_id]
        except KeyError:
            raise NotFoundError(f"Smart lock {smartlock_id} not found") from None

    def locks_for(self, property_id: str) -> list[Json]:
        """The property's smart locks, oldest first."""
        return [lock for lock in self.smart_locks.values() if lock["property_id"] == property_id]

    def _sync_lock_infos(self, property_id: str) -> None:
        """Rebuild the property's embedded ``smart_locks`` list from the lock records."""
        if property_id in self.properties:
            self.properties[property_id]["smart_locks"] = [
                {"id": lock["id"], "vendor": lock["vendor"], "name": lock["name"]}
                for lock in self.locks_for(property_id)
            ]

    def _add_lock(self, record: Json) -> Json:
        self.smart_locks[record["id"]] = record
        self._sync_lock_infos(record["property_id"])
        return record

    def add_nuki_lock(
        self,
        property_id: str,
        name: str = "Puerta principal",
        *,
        nuki_smartlock_id: str | None = None,
        lock_state: int | None = LOCK_LOCKED,
        battery_level: int | None = 80,
        battery_charging: bool | None = False,
        offline: bool = False,
    ) -> Json:
        """Attach a Nuki smart lock to a property and return its SmartLock record."""
        self.get_property(property_id)
        smartlock_id = self.new_id()
        return self._add_lock(
            {
                "id": smartlock_id,
                "vendor": "nuki",
                "name": name,
                "property_id": property_id,
                "nuki_smartlock": {
                    "id": self.new_id(),
                    "nuki_smartlock_id": nuki_smartlock_id
                    or str(self._rng.randint(17_000_000_000, 18_999_999_999)),
                },
                "unifi_smartlock": None,
                "lock_state": lock_state,
                "battery_level": battery_level,
                "battery_charging": battery_charging,
                "offline": offline,
            }
        )

    def add_unifi_lock(
        self,
        property_id: str,
        name: str = "Portal",
        *,
        floor_id: str | None = None,
        door_id: str | None = None,
        door_name: str | None = None,
        lock_state: int | None = LOCK_LOCKED,
        offline: bool = False,
    ) -> Json:
        """Attach a UniFi Access door (mains powered: no battery) to a property."""
        prop = self.get_property(property_id)
        smartlock_id = self.new_id()
        return self._add_lock(
            {
                "id": smartlock_id,
                "vendor": "unifi",
                "name": name,
                "property_id": property_id,
                "nuki_smartlock": None,
                "unifi_smartlock": {
                    "floor_id": floor_id or self.new_id(),
                    "door_id": door_id or self.new_id(),
                    "name": door_name or name,
                    "assigned_property": {
                        "property_id": property_id,
                        "property_name": prop["name"],
                        "smartlock_record_id": smartlock_id,
                    },
                },
                "lock_state": lock_state,
                "battery_level": None,
                "battery_charging": None,
                "offline": offline,
            }
        )

    def remove_lock(self, smartlock_id: str) -> None:
        """Detach a smart lock from its property."""
        lock = self.get_lock(smartlock_id)
        del self.smart_locks[smartlock_id]
        self._sync_lock_infos(lock["property_id"])

    def set_lock(
        self,
        smartlock_id: str,
        *,
        lock_state: int | None | _Unset = UNSET,
        battery_level: int | None | _Unset = UNSET,
        battery_charging: bool | None | _Unset = UNSET,
        offline: bool | _Unset = UNSET,
        name: str | _Unset = UNSET,
    ) -> Json:
        """Change a lock's live status (only the arguments given) and return its record."""
        lock = self.get_lock(smartlock_id)
        changes: dict[str, Any] = {
            "lock_state": lock_state,
            "battery_level": battery_level,
            "battery_charging": battery_charging,
            "offline": offline,
            "name": name,
        }
        lock.update({key: value for key, value in changes.items() if value is not UNSET})
        if not isinstance(name, _Unset):
            self._sync_lock_infos(lock["property_id"])
        return lock

    # -- bookings --------------------------------------------------------------------------------------------

    def get_booking(self, booking_id: str) -> Json:
        """The booking with that id.

        Raises:
            NotFoundError: When there is none.
        """
        try:
            return self.bookings[booking_id]
        except KeyError:
            raise NotFoundError(f"Booking {booking_id} not found") from None

    def add_booking(
        self,
        property_id: str,
        guest_name: str,
        check_in: datetime | str,
        check_out: datetime | str,
        **fields: Any,
    ) -> Json:
        """Add a booking (no overlap check) and its empty check-in; return the Booking record.

        ``fields``: ``guest_email``, ``guest_phone``, ``status`` (default ``confirmed``), ``channel`` (default
        ``direct``), ``guests_count`` (default 2), ``notes``, ``external_reference``, ``created_at``,
        ``updated_at``.
        """
        self.get_property(property_id)
        unknown = set(fields) - _BOOKING_FIELDS
        if unknown:
            raise TypeError(f"Unknown booking fields: {sorted(unknown)}")
        for key in _BOOKING_TIMES & set(fields):
            fields[key] = _time(fields[key])
        stamp = self._stamp()
        record: Json = TrackedDict(
            self._booking_changes,
            {
                "id": self.new_id(),
                "property_id": property_id,
                "guest_name": guest_name,
                "guest_email": None,
                "guest_phone": None,
                "check_in": _time(check_in),
                "check_out": _time(check_out),
                "status": "confirmed",
                "channel": "direct",
                "guests_count": 2,
                "registered_guests": 0,
                "notes": None,
                "external_reference": None,
                "created_at": stamp,
                "updated_at": fields.get("created_at", stamp),
            },
        )
        record.update(fields)
        self.bookings[record["id"]] = record
        self.checkins[record["id"]] = {
            "booking_id": record["id"],
            "status": "pending",
            "guests_expected": record["guests_count"],
            "guests": [],
        }
        self._sync_checkin(record["id"])
        return record

    def update_booking(self, booking_id: str, **changes: Any) -> Json:
        """Change Booking fields (no overlap check), bump ``updated_at`` and return the record."""
        record = self.get_booking(booking_id)
        allowed = _BOOKING_FIELDS | {"guest_name", "check_in", "check_out"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"Unknown or read-only booking fields: {sorted(unknown)}")
        for key in _BOOKING_TIMES & set(changes):
            changes[key] = _time(changes[key])
        record.update(changes)
        if "updated_at" not in changes:
            record["updated_at"] = self._stamp()
        self._sync_checkin(booking_id)
        return record

    def move_booking(
        self,
        booking_id: str,
        check_in: datetime | str,
        check_out: datetime | str,
        *,
        property_id: str | None = None,
    ) -> Json:
        """Change a booking's dates (no overlap check), and its property when given.

        Moving a booking to another property is what the host does when the guest moves to another of the
        account's properties; the API's ``PATCH`` cannot do it.
        """
        if property_id is not None:
            self.get_property(property_id)
            self.get_booking(booking_id)["property_id"] = property_id
        return self.update_booking(booking_id, check_in=check_in, check_out=check_out)

    def cancel_booking(self, booking_id: str) -> Json:
        """Mark a booking cancelled."""
        return self.update_booking(booking_id, status="cancelled")

    @property
    def booking_generation(self) -> int:
        """Changes so far to the bookings (any change to the table or to a booking made through it)."""
        return self._booking_changes.value

    def bookings_overlapping(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        property_id: str | None = None,
    ) -> list[Json]:
        """Bookings (any status) whose stay overlaps ``[start, end)``, sorted by check-in.

        The answer is kept until a booking changes: the pages of one listing cost one filtering and sorting.
        """
        return self._overlapping.get(
            (start, end, property_id),
            lambda: sorted(
                (
                    booking
                    for booking in self.bookings.values()
                    if (property_id is None or booking["property_id"] == property_id)
                    and overlaps(booking, start, end, "check_in", "check_out")
                ),
                key=lambda b: (instant_at(b, "check_in"), b["id"]),
            ),
        )

    def find_overlap(
        self,
        property_id: str,
        check_in: datetime,
        check_out: datetime,
        *,
        exclude_id: str | None = None,
    ) -> Json | None:
        """A non-cancelled booking of the property that overlaps ``[check_in, check_out)``, if any."""
        for booking in self.bookings_overlapping(check_in, check_out, property_id=property_id):
            if booking["status"] != "cancelled" and booking["id"] != exclude_id:
                return booking
        return None

    def current_booking(self, property_id: str) -> Json | None:
        """The non-cancelled booking whose stay covers now, if any."""
        now = self.now()
        for booking in self.bookings_overlapping(
            now, now + timedelta(microseconds=1), property_id=property_id
        ):
            if booking["status"] != "cancelled":
                return booking
        return None

    # -- check-in --------------------------------------------------------------------------------------------

    def get_checkin(self, booking_id: str) -> Json:
        """The booking's check-in snapshot."""
        self.get_booking(booking_id)
        return self.checkins[booking_id]

    def _sync_checkin(self, booking_id: str) -> None:
        booking = self.bookings[booking_id]
        checkin = self.checkins[booking_id]
        registered = len(checkin["guests"])
        expected = booking["guests_count"]
        checkin["guests_expected"] = expected
        if registered == 0:
            checkin["status"] = "pending"
        elif expected is not None and registered < expected:
            checkin["status"] = "partial"
        else:
            checkin["status"] = "complete"
        booking["registered_guests"] = registered

    def register_guest(
        self,
        booking_id: str,
        first_name: str,
        last_name: str | None = None,
        nationality: str | None = None,
        *,
        registered_at: datetime | str | None = None,
        **extra: Any,
    ) -> Json:
        """Register a guest on a booking's check-in and return the guest record.

        ``extra`` (document numbers, birth date, ...) is stored on the guest as given.
        """
        checkin = self.get_checkin(booking_id)
        guest: Json = {
            "id": self.new_id(),
            "first_name": first_name,
            "last_name": last_name,
            "nationality": nationality,
            "registered_at": _time(registered_at) or self._stamp(),
            **extra,
        }
        checkin["guests"].append(guest)
        self._sync_checkin(booking_id)
        return guest

    # -- access codes ----------------------------------------------------------------------------------------

    def create_access_code(
        self,
        booking_id: str,
        smartlock_id: str,
        *,
        code: str | None = None,
        starts_at: datetime | str | None = None,
        ends_at: datetime | str | None = None,
        name: str | None = None,
    ) -> Json:
        """Create a code on one lock for a booking (defaults: the stay's times, a random 6-digit code)."""
        booking = self.get_booking(booking_id)
        self.get_lock(smartlock_id)
        start = as_instant(starts_at) if starts_at is not None else instant_at(booking, "check_in")
        end = as_instant(ends_at) if ends_at is not None else instant_at(booking, "check_out")
        now = self.now()
        status = "scheduled" if now < start else "active" if now < end else "expired"
        record: Json = {
            "id": self.new_id(),
            "booking_id": booking_id,
            "smartlock_id": smartlock_id,
            "name": name or booking["guest_name"],
            "code": code or f"{self._rng.randint(0, 999_999):06d}",
            "starts_at": iso(start),
            "ends_at": iso(end),
            "status": status,
        }
        self.access_codes[record["id"]] = record
        return record

    def revoke_access_code(self, code_id: str) -> Json:
        """Mark a code revoked.

        Raises:
            NotFoundError: When the code is unknown or already revoked.
        """
        record = self.access_codes.get(code_id)
        if record is None or record["status"] == "revoked":
            raise NotFoundError(f"Access code {code_id} not found")
        record["status"] = "revoked"
        return record

    # -- calendar --------------------------------------------------------------------------------------------

    def add_block(
        self,
        property_id: str,
        start: datetime | str,
        end: datetime | str,
        *,
        title: str = "Bloqueado",
        source: str = "manual",
    ) -> Json:
        """Block a period on the property's calendar (a ``blocked`` CalendarEvent)."""
        self.get_property(property_id)
        record: Json = {
            "id": self.new_id(),
            "property_id": property_id,
            "kind": "blocked",
            "title": title,
            "start": _time(start),
            "end": _time(end),
            "booking_id": None,
            "source": source,
        }
        self.blocks[record["id"]] = record
        return record
