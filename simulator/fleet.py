"""A deterministic, seeded fleet of holiday rentals for the Kasify state.

Everything is drawn from ``random.Random(seed)`` relative to ``now``, so the same seed and ``now`` give the
same fleet. Guarantees tests rely on:

- property 0 has a guest in the house at ``now`` (a confirmed stay around it, check-in partly registered),
  a Nuki lock (locked, battery 80) and a pending maintenance task;
- property 1 is empty at ``now``, its last guest left yesterday at 11:00 local, the next one arrives tomorrow
  at 15:00 local (within 3 days), and it has a UniFi door (no battery);
- property 2 has one Nuki lock with a low battery (15);
- later properties get a lock with probability 0.5; the others have none.

A :class:`LockMix` (scale runs) replaces that last draw: its Nuki and UniFi locks are dealt round-robin over
the properties from property 3 on (then 0, 1, 2, ...), so every property gets its share; properties 0-2 keep
the locks above, which count towards the mix. Its RemoteLock locks are the RemoteLock fleet's
(:func:`simulator.remotelock.build_remotelock_fleet`); ``nuki_other_account`` of its Nuki locks belong to a
Nuki account the simulator does not serve (:func:`build_fleet` returns their Kasify ids).

Stays run from about 60 days before ``now`` to 120 days after, mostly back to back, 2-7 nights, check-in 15:00
and check-out 11:00 in the property's time zone (stored in UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
import math
import random
import string
from typing import Final
import unicodedata
from zoneinfo import ZoneInfo

from .fleet_data import (
    BLOCK_TITLES,
    BOOKING_NOTES,
    CITIES,
    DESCRIPTORS,
    DESCRIPTORS_PT,
    FLAT_KINDS,
    FLAT_KINDS_PT,
    GUEST_ORIGINS,
    HOUSE_KINDS,
    HOUSE_KINDS_PT,
    MAINTENANCE_TITLES,
    STAFF_FIRST_NAMES,
    STAFF_LAST_NAMES,
    City,
)
from .kasify_state import Json, KasifyState

PAST_DAYS = 60
FUTURE_DAYS = 120
CHECK_IN_HOUR = 15
CHECK_OUT_HOUR = 11
CLEANING_WINDOW_PAST = 5
CLEANING_WINDOW_FUTURE = 7


@dataclass(frozen=True, slots=True)
class LockMix:
    """How many locks of each vendor a scale fleet has, instead of one lock for about half the properties.

    Attributes:
        nuki: Nuki locks Kasify lists (at least the 2 of properties 0 and 2 when there are 3 properties).
        unifi: UniFi Access doors Kasify lists (at least the 1 of property 1).
        remotelock: RemoteLock locks in the properties' locations (Kasify does not list them).
        nuki_other_account: How many of the Nuki locks belong to another Nuki account: Kasify lists them,
            the simulated Nuki account does not have them.
    """

    nuki: int = 0
    unifi: int = 0
    remotelock: int = 0
    nuki_other_account: int = 0

    def __post_init__(self) -> None:
        """Refuse counts that cannot be dealt."""
        if min(self.nuki, self.unifi, self.remotelock, self.nuki_other_account) < 0:
            raise ValueError("lock counts must not be negative")
        if self.nuki_other_account > self.nuki:
            raise ValueError("nuki_other_account must not exceed nuki")


@dataclass(slots=True)
class _Stay:
    """A planned calendar segment: a booking or a block, from one local day to another."""

    start: date
    end: date
    block: bool = False
    anchor: bool = False


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


def build_fleet(
    state: KasifyState, *, properties: int, seed: int, now: datetime, locks: LockMix | None = None
) -> frozenset[str]:
    """Fill ``state`` with ``properties`` seeded properties and their bookings, tasks and locks.

    Returns the Kasify ids of the smart locks whose provider account the simulator does not serve (only a
    :class:`LockMix` has such locks).
    """
    builder = _FleetBuilder(state, random.Random(seed), now)
    if locks is not None:
        builder.deal(properties, locks)
    builder.build(properties)
    return frozenset(builder.other_account)


# Which Kasify locks properties 0, 1 and 2 always have.
_GUARANTEED: Final = ("nuki", "unifi", "nuki")
_OTHER_NUKI: Final = "nuki_other"


class _FleetBuilder:
    """Draws one fleet; a class only to share the generator, the state and ``now``."""

    def __init__(self, state: KasifyState, rng: random.Random, now: datetime) -> None:
        self.state = state
        self.rng = rng
        self.now = now
        self.names: set[str] = set()
        self.managers: list[Json] = []
        self.cleaners: list[Json] = []
        self.technicians: list[Json] = []
        # A LockMix's Kasify locks per property index beyond the guaranteed ones (None: the default draw).
        self.dealt: list[list[str]] | None = None
        self.other_account: list[str] = []

    def deal(self, count: int, mix: LockMix) -> None:
        """Deal a :class:`LockMix`'s Nuki and UniFi locks round-robin over ``count`` properties."""
        guaranteed = _GUARANTEED[:count]
        nuki_left = mix.nuki - guaranteed.count("nuki")
        unifi_left = mix.unifi - guaranteed.count("unifi")
        if nuki_left < 0 or unifi_left < 0 or (count == 0 and mix.nuki + mix.unifi):
            raise ValueError(f"the lock mix cannot go round {count} properties and their guaranteed locks")
        others = min(mix.nuki_other_account, nuki_left)
        tags = ["nuki"] * (nuki_left - others) + [_OTHER_NUKI] * others + ["unifi"] * unifi_left
        self.rng.shuffle(tags)
        self.dealt = [[] for _ in range(count)]
        for position, tag in enumerate(tags):
            self.dealt[(position + len(guaranteed)) % count].append(tag)

    # -- account and crew ------------------------------------------------------------------------------------

    def build(self, count: int) -> None:
        self.state.account.update(
            {
                "name": "Alojamientos Sol y Mar S.L.",
                "email": "reservas@solymar-alojamientos.es",
                "language": "es",
                "timezone": "Europe/Madrid",
            }
        )
        self.managers = [self._crew("manager", "management") for _ in range(max(1, math.ceil(count / 8)))]
        self.cleaners = [self._crew("crew", "cleaning") for _ in range(max(2, math.ceil(count / 4)))]
        self.technicians = [self._crew("crew", "maintenance") for _ in range(max(1, math.ceil(count / 15)))]
        for index in range(count):
            self._property(index)

    def _crew(self, access_level: str, service: str) -> Json:
        first = self.rng.choice(STAFF_FIRST_NAMES)
        last = self.rng.choice(STAFF_LAST_NAMES)
        return self.state.add_crew_member(
            first,
            last,
            email=f"{_slug(first)}.{_slug(last)}{self.rng.randint(1, 99)}@solymar-alojamientos.es",
            access_level=access_level,
            service=service,
        )

    # -- property --------------------------------------------------------------------------------------------

    def _property(self, index: int) -> None:
        rng = self.rng
        city = rng.choice(CITIES)
        zone = ZoneInfo(city.timezone)
        house = rng.random() < 0.25
        property_id = self.state.new_id()
        cleaner = rng.choice(self.cleaners)
        team = [rng.choice(self.managers), cleaner]
        if rng.random() < 0.5:
            team.append(rng.choice([c for c in self.cleaners if c is not cleaner] or self.cleaners))
        elif rng.random() < 0.4:
            team.append(rng.choice(self.technicians))
        spain = city.country == "ES"
        prop = self.state.add_property(
            self._name(city, house),
            id=property_id,
            address=self._address(city, house),
            city=city.name,
            zip_code=rng.choice(city.zip_codes),
            country=city.country,
            timezone=city.timezone,
            team=team,
            default_cleaner=cleaner,
            calendars=self._calendars(index),
            ses_establishment_code=f"{rng.randint(0, 9_999_999_999):010d}" if spain else None,
            ses_establishment_type="vivienda_uso_turistico" if spain else None,
            has_internet=rng.random() < 0.95,
            rooms_count=rng.randint(2, 5) if house else rng.randint(1, 3),
            cover_image_url=f"https://cdn.kasify.com/properties/{property_id}/cover.jpg",
        )
        self._locks(index, prop, city)
        channels = [c["channel"] for c in prop["calendars"]] + ["direct"]
        for stay in self._plan(index, zone):
            if stay.block:
                title, source = rng.choice(BLOCK_TITLES)
                self.state.add_block(
                    property_id,
                    self._local(stay.start, CHECK_IN_HOUR, zone),
                    self._local(stay.end, CHECK_OUT_HOUR, zone),
                    title=title,
                    source=source,
                )
            else:
                self._booking(index, prop, stay, zone, channels)
        self._other_tasks(index, prop, zone)

    def _name(self, city: City, house: bool) -> str:
        rng = self.rng
        if city.country == "PT":
            kind = rng.choice(HOUSE_KINDS_PT if house else FLAT_KINDS_PT)
            descriptor = rng.choice(DESCRIPTORS_PT)
        else:
            kind = rng.choice(HOUSE_KINDS if house else FLAT_KINDS)
            descriptor = rng.choice(DESCRIPTORS)
        base = f"{kind} {descriptor} {rng.choice(city.neighbourhoods)}"
        name, suffix = base, 2
        while name in self.names:
            name, suffix = f"{base} {suffix}", suffix + 1
        self.names.add(name)
        return name

    def _address(self, city: City, house: bool) -> str:
        rng = self.rng
        street = f"{rng.choice(city.streets)}, {rng.randint(1, 140)}"
        if house:
            return street
        floor = rng.randint(1, 6)
        if city.country == "PT":
            return f"{street}, {floor}º {rng.choice(('Esq.', 'Dto.'))}"
        return f"{street}, {floor}º{rng.choice('ABCD')}"

    def _calendars(self, index: int) -> list[Json]:
        rng = self.rng
        synced = (self.now - timedelta(minutes=rng.randint(5, 90))).date().isoformat()
        calendars: list[Json] = []
        if index < 2 or rng.random() < 0.9:
            calendars.append(
                {
                    "channel": "airbnb",
                    "url": f"https://www.airbnb.es/calendar/ical/{rng.randint(10**7, 10**9)}.ics"
                    f"?s={rng.getrandbits(128):032x}",
                    "syncIntervalMinutes": 60,
                    "lastSyncAt": synced,
                    "lastError": None,
                }
            )
        if index < 2 or rng.random() < 0.6:
            failing = index >= 3 and rng.random() < 0.05
            calendars.append(
                {
                    "channel": "booking",
                    "url": f"https://ical.booking.com/v1/export?t={rng.getrandbits(128):032x}",
                    "syncIntervalMinutes": 30,
                    "lastSyncAt": synced,
                    "lastError": "HTTP 403 al descargar el calendario" if failing else None,
                }
            )
        return calendars

    def _locks(self, index: int, prop: Json, city: City) -> None:
        rng = self.rng
        property_id = prop["id"]
        if index == 0:
            self.state.add_nuki_lock(property_id, "Puerta principal", battery_level=80)
        elif index == 1:
            self.state.add_unifi_lock(
                property_id, "Portal", door_name=f"Portal {prop['address'].split(',')[0]}"
            )
        elif index == 2:
            self.state.add_nuki_lock(property_id, "Puerta principal", battery_level=15)
        if self.dealt is not None:
            for tag in self.dealt[index]:
                self._dealt_lock(prop, tag)
        elif index > 2 and rng.random() < 0.5:
            lock_state = 3 if rng.random() < 0.15 else 1
            if rng.random() < 0.7:
                self.state.add_nuki_lock(
                    property_id,
                    rng.choice(("Puerta principal", "Entrada", "Puerta")),
                    lock_state=lock_state,
                    battery_level=rng.randint(20, 100),
                )
            else:
                self.state.add_unifi_lock(
                    property_id, "Portal", door_name=f"Portal {city.name}", lock_state=lock_state
                )

    def _dealt_lock(self, prop: Json, tag: str) -> None:
        rng = self.rng
        property_id = prop["id"]
        lock_state = 3 if rng.random() < 0.15 else 1
        if tag == "unifi":
            name = rng.choice(("Portal", "Garaje", "Trastero"))
            # Named after the property on the controller too, as a host with hundreds of doors would.
            door_name = f"{prop['name']} - {name}"
            self.state.add_unifi_lock(property_id, name, door_name=door_name, lock_state=lock_state)
            return
        record = self.state.add_nuki_lock(
            property_id,
            rng.choice(("Puerta principal", "Entrada", "Puerta", "Terraza")),
            lock_state=lock_state,
            battery_level=rng.randint(20, 100),
        )
        if tag == _OTHER_NUKI:
            self.other_account.append(record["id"])

    # -- stays -----------------------------------------------------------------------------------------------

    @staticmethod
    def _local(day: date, hour: int, zone: ZoneInfo) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=zone)

    def _gap(self) -> int:
        return self.rng.choices((0, 1, 2, 3, 5), weights=(60, 18, 10, 7, 5))[0]

    def _plan(self, index: int, zone: ZoneInfo) -> list[_Stay]:
        """Lay out the property's stays and blocks, sorted, around the guarantees for properties 0 and 1."""
        rng = self.rng
        today = self.now.astimezone(zone).date()
        first, last = today - timedelta(days=PAST_DAYS), today + timedelta(days=FUTURE_DAYS)
        stays: list[_Stay] = []
        if index == 0:
            before = rng.randint(1, 3)
            anchor = _Stay(today - timedelta(days=before), today + timedelta(days=rng.randint(1, 7 - before)))
            anchor.anchor = True
            stays += [anchor, *self._backward(anchor.start, first), *self._forward(anchor.end, last)]
        elif index == 1:
            previous = _Stay(
                today - timedelta(days=1 + rng.randint(2, 7)), today - timedelta(days=1), anchor=True
            )
            following = _Stay(
                today + timedelta(days=1), today + timedelta(days=1 + rng.randint(2, 7)), anchor=True
            )
            stays += [previous, following, *self._backward(previous.start, first)]
            stays += self._forward(following.end, last)
        else:
            stays += self._forward(first - timedelta(days=rng.randint(0, 6)), last)
        return sorted(stays, key=lambda stay: stay.start)

    def _backward(self, cursor: date, first: date) -> list[_Stay]:
        stays: list[_Stay] = []
        while cursor > first:
            end = cursor - timedelta(days=self._gap())
            start = end - timedelta(days=self.rng.randint(2, 7))
            stays.append(_Stay(start, end))
            cursor = start
        return stays

    def _forward(self, cursor: date, last: date) -> list[_Stay]:
        stays: list[_Stay] = []
        blocks_left = 2
        while cursor < last:
            start = cursor + timedelta(days=self._gap())
            if blocks_left and self.rng.random() < 0.1:
                blocks_left -= 1
                stays.append(_Stay(start, start + timedelta(days=self.rng.randint(2, 4)), block=True))
            else:
                stays.append(_Stay(start, start + timedelta(days=self.rng.randint(2, 7))))
            cursor = stays[-1].end
        return stays

    # -- bookings, check-ins, tasks --------------------------------------------------------------------------

    def _booking(self, index: int, prop: Json, stay: _Stay, zone: ZoneInfo, channels: list[str]) -> None:
        rng = self.rng
        check_in = self._local(stay.start, CHECK_IN_HOUR, zone)
        check_out = self._local(stay.end, CHECK_OUT_HOUR, zone)
        channel = rng.choices(channels, weights=[{"airbnb": 5, "booking": 4}.get(c, 2) for c in channels])[0]
        firsts, lasts, phone_prefix, nationality = rng.choice(GUEST_ORIGINS)
        first, last = rng.choice(firsts), rng.choice(lasts)
        status = "confirmed"
        if not stay.anchor and rng.random() < 0.07:
            status = "cancelled"
        elif not stay.anchor and check_in > self.now + timedelta(days=7) and rng.random() < 0.06:
            status = "pending"
        created = check_in - timedelta(days=rng.randint(3, 90), hours=rng.randint(0, 23))
        if created > self.now:
            created = self.now - timedelta(hours=rng.randint(1, 72))
        updated = created
        if status == "cancelled":
            updated = min(created + timedelta(days=rng.randint(1, 10)), self.now)
        max_guests = min(6, prop["rooms_count"] * 2 + 1)
        guests = rng.randint(2 if index == 0 and stay.anchor else 1, max(2, max_guests))
        booking = self.state.add_booking(
            prop["id"],
            f"{first} {last}",
            check_in,
            check_out,
            guest_email=self._email(first, last, channel),
            guest_phone=self._phone(phone_prefix),
            status=status,
            channel=channel,
            guests_count=guests,
            notes=rng.choice(BOOKING_NOTES) if rng.random() < 0.15 else None,
            external_reference=self._reference(channel),
            created_at=created,
            updated_at=updated,
        )
        if status != "cancelled":
            self._register_guests(booking, index, stay, (firsts, lasts, nationality), check_in)
            self._cleaning(prop, booking, check_out)

    def _email(self, first: str, last: str, channel: str) -> str:
        rng = self.rng
        if channel == "airbnb":
            return f"{_slug(first)}.{_slug(last)}.{rng.randint(1000, 9999)}@guest.airbnb.com"
        if channel == "booking":
            return f"{_slug(first)[:1]}{_slug(last)}.{rng.randint(100000, 999999)}@guest.booking.com"
        domain = rng.choice(("gmail.com", "outlook.com", "yahoo.es", "icloud.com", "gmx.de"))
        return f"{_slug(first)}.{_slug(last)}@{domain}"

    def _phone(self, prefix: str) -> str:
        rng = self.rng
        return f"{prefix} {rng.randint(600, 699)} {rng.randint(100, 999)} {rng.randint(100, 999)}"

    def _reference(self, channel: str) -> str | None:
        if channel == "airbnb":
            return "HM" + "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=8))
        if channel == "booking":
            return str(self.rng.randint(10**9, 10**10 - 1))
        return None

    def _register_guests(
        self,
        booking: Json,
        index: int,
        stay: _Stay,
        origin: tuple[tuple[str, ...], tuple[str, ...], str],
        check_in: datetime,
    ) -> None:
        rng = self.rng
        firsts, lasts, nationality = origin
        expected: int = booking["guests_count"]
        if index == 0 and stay.anchor:
            count = 1  # the guest in the house has registered only themselves: a "partial" check-in
        elif check_in <= self.now:
            count = expected if rng.random() < 0.9 else 1
        elif check_in <= self.now + timedelta(days=3):
            count = rng.choice((0, 1, expected))
        else:
            count = 0
        first_name, last_name = booking["guest_name"].split(" ", 1)
        registered = min(check_in - timedelta(hours=rng.randint(2, 48)), self.now)
        for number in range(count):
            if number:
                first_name, last_name = rng.choice(firsts), rng.choice(lasts)
            self.state.register_guest(
                booking["id"], first_name, last_name, nationality, registered_at=registered
            )

    def _cleaning(self, prop: Json, booking: Json, check_out: datetime) -> None:
        if not (
            self.now - timedelta(days=CLEANING_WINDOW_PAST)
            <= check_out
            <= self.now + timedelta(days=CLEANING_WINDOW_FUTURE)
        ):
            return
        due = check_out + timedelta(hours=3)
        started: datetime | None = None
        completed: datetime | None = None
        if due < self.now and self.rng.random() >= 0.1:
            status, started, completed = (
                "completed",
                check_out + timedelta(minutes=30),
                due - timedelta(minutes=30),
            )
        elif check_out <= self.now < due:
            status, started = "in_progress", check_out + timedelta(minutes=20)
            started = min(started, self.now)
        else:
            status = "pending"  # upcoming, or (about 1 in 10) overdue
        self.state.add_task(
            prop["id"],
            f"Limpieza tras la salida de {booking['guest_name']}",
            task_type="cleaning",
            status=status,
            description="Cambiar ropa de cama y toallas, reponer amenities y revisar el inventario.",
            due_at=due,
            assignee_id=prop["default_cleaner"]["id"],
            booking_id=booking["id"],
            created_at=min(check_out - timedelta(days=2), self.now),
            started_at=started,
            completed_at=completed,
        )

    def _other_tasks(self, index: int, prop: Json, zone: ZoneInfo) -> None:
        rng = self.rng
        today = self.now.astimezone(zone).date()
        assignee = next(
            (m["id"] for m in prop["team"] if m["service"] == "maintenance"), prop["team"][0]["id"]
        )
        if index == 0 or rng.random() < 0.3:
            status = "pending" if index == 0 else rng.choice(("pending", "in_progress", "completed"))
            created = self.now - timedelta(days=rng.randint(1, 10))
            due = self._local(today + timedelta(days=rng.randint(1, 5)), rng.choice((10, 12, 17)), zone)
            self.state.add_task(
                prop["id"],
                rng.choice(MAINTENANCE_TITLES),
                task_type="maintenance",
                status=status,
                due_at=due if status != "completed" else created + timedelta(days=1),
                assignee_id=assignee,
                created_at=created,
                started_at=created + timedelta(hours=20) if status != "pending" else None,
                completed_at=created + timedelta(days=1) if status == "completed" else None,
            )
        if rng.random() < 0.15:
            self.state.add_task(
                prop["id"],
                "Inspección trimestral del inventario",
                task_type="inspection",
                due_at=self._local(today + timedelta(days=rng.randint(7, 20)), 12, zone),
                assignee_id=prop["team"][0]["id"],
                created_at=self.now - timedelta(days=rng.randint(1, 20)),
            )
