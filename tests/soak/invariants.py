"""What must hold on the locks, read from the simulator's own state after every step of the soak.

- Every confirmed booking has exactly one code on each lock of its property while it is due: from the moment
  the engine promises it (check-in minus the lead time) until its window ends, with the code's window that of
  the booking.
- No cancelled (or ended, or moved away) booking keeps a code on a lock past its deadline.
- No lock holds a code the engine does not track (its store), nor one that belongs to no booking at all.
- No lock holds two codes for one booking, nor one PIN twice.

Codes are attributed to bookings by the name the engine gives them (the guest's name, cut to 20 characters),
the owner's codes by being there before the soak started. Every rule allows the engine :data:`GRACE` after
whatever it has to react to: the booking's change, the end of the last fault on the upstreams involved (the
Kasify account's and the lock vendor's), the last restart or reload. A rule broken past that is a violation,
counted once, with the step and instant it was found at.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.kasify.access_codes import auto_records, automatic, checker, manager as engine
from custom_components.kasify.access_codes.records import CodeRecord
from simulator import Simulator
from simulator.clock import parse_iso

from .harness import END_OFFSET, LEAD_HOURS, SCAN_SECONDS, START_OFFSET
from .world import UNIFI, LiveCode, LockRef, live_codes

KASIFY = "kasify"
# After anything it must react to, the engine gets: the next refresh, a retry after a failure, and a
# look at the lock by its checker.
GRACE = timedelta(seconds=SCAN_SECONDS) + automatic.RETRY_INTERVAL + checker.CHECK_INTERVAL
LEAD = timedelta(hours=LEAD_HOURS)
NAME_LENGTH = auto_records.MAX_NAME_LENGTH

MISSING = "missing"
DUPLICATE = "duplicate"
LATE_REVOKE = "late_revoke"
STRANDED = "stranded"
WRONG_WINDOW = "wrong_window"
KINDS = (MISSING, DUPLICATE, LATE_REVOKE, STRANDED, WRONG_WINDOW)


def code_name(guest_name: str) -> str:
    """The name a booking's code carries on the locks."""
    return (guest_name.strip() or "Kasify")[:NAME_LENGTH].strip()


def window(booking: Mapping[str, str]) -> tuple[datetime, datetime]:
    """The window of a booking's code: check-in minus the start offset to check-out plus the end offset."""
    return parse_iso(booking["check_in"]) - START_OFFSET, parse_iso(booking["check_out"]) + END_OFFSET


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule broken past its deadline."""

    kind: str
    step: int
    at: datetime
    lock: str
    booking_id: str | None
    detail: str

    def __str__(self) -> str:
        """One line for the report."""
        return f"step {self.step} at {self.at:%Y-%m-%d %H:%M}: {self.kind} on {self.lock}: {self.detail}"


@dataclass(slots=True)
class Ledger:
    """What the soak did to the world, and when: what the engine had to react to."""

    started: datetime
    changed_at: dict[str, datetime] = field(default_factory=dict)
    """Booking id → when the soak last changed it (created, moved, cancelled, confirmed)."""
    disturbed_until: dict[str, datetime] = field(default_factory=dict)
    """Upstream (``kasify`` or a lock vendor) → when its last fault ended (a 429: once its wait is over)."""
    restarted_at: datetime | None = None
    """The last restart or reload."""
    failing: Counter[str] = field(default_factory=Counter)
    """Upstream → faults active on it now."""

    def changed(self, booking_id: str, at: datetime) -> None:
        """The soak changed a booking."""
        self.changed_at[booking_id] = at

    def fails(self, upstream: str) -> None:
        """A fault on an upstream starts."""
        self.failing[upstream] += 1

    def recovers(self, upstream: str, at: datetime) -> None:
        """A fault on an upstream is over at ``at`` (for a 429: once the wait it asked for is over)."""
        self.failing[upstream] -= 1
        self.disturbed_until[upstream] = max(at, self.disturbed_until.get(upstream, at))

    def calm_after(self, vendors: Iterable[str], *instants: datetime | None) -> datetime:
        """The deadline for something on locks of ``vendors`` that became due at the latest of ``instants``
        (never while one of them or Kasify is failing)."""
        upstreams = {KASIFY, *vendors}
        if any(self.failing[upstream] for upstream in upstreams):
            return datetime.max.replace(tzinfo=UTC)
        causes = [self.started, self.restarted_at, *instants]
        causes += [self.disturbed_until.get(upstream) for upstream in upstreams]
        return max(cause for cause in causes if cause is not None) + GRACE


@dataclass(slots=True)
class Counts:
    """What the soak saw, for the report."""

    checks: int = 0
    bookings_due: set[str] = field(default_factory=set)
    codes_seen: set[tuple[str, str, str]] = field(default_factory=set)
    codes_gone: int = 0
    max_stranded: int = 0
    max_duplicates: int = 0
    max_late: int = 0


class Invariants:
    """Checks the rules against the simulator after each step; keeps the violations and the counts."""

    def __init__(
        self,
        sim: Simulator,
        hass: HomeAssistant,
        ledger: Ledger,
        locks: dict[str, list[LockRef]],
        owner: set[tuple[str, str, str]],
    ):
        """Check ``sim``'s locks (``locks``: property id → its locks); ``owner``: the codes that were on them
        before the integration was set up."""
        self.sim = sim
        self.hass = hass
        self.ledger = ledger
        self.locks = locks
        self.lock_property = {
            (lock.vendor, lock.lock_id): lock.property_id for items in locks.values() for lock in items
        }
        self.owner = owner
        self.violations: list[Violation] = []
        self._reported: set[tuple[str, ...]] = set()
        self._first_seen: dict[tuple[str, str, str], datetime] = {}
        self._live: set[tuple[str, str, str]] = set()
        self.counts = Counts()

    # -- one check -----------------------------------------------------------------------------------------

    def check(self, step: int, now: datetime) -> None:
        """Check every rule at ``now`` (after step ``step``)."""
        codes = [code for code in live_codes(self.sim) if code.key not in self.owner]
        keys = {code.key for code in codes}
        self.counts.checks += 1
        self.counts.codes_gone += len(self._live - keys)
        self.counts.codes_seen |= keys
        self._live = keys
        for key in list(self._first_seen):
            if key not in keys:
                del self._first_seen[key]
        for key in keys:
            self._first_seen.setdefault(key, now)
        by_name = self._bookings_by_name()
        tracked = self._tracked()
        owners = {code.key: self._owner(code, by_name, tracked) for code in codes}
        self._check_due(step, now, codes, owners)
        self._check_codes(step, now, codes, owners, tracked)

    def _bookings_by_name(self) -> dict[str, list[dict[str, str]]]:
        found: dict[str, list[dict[str, str]]] = defaultdict(list)
        for booking in self.sim.kasify.bookings.values():
            found[code_name(booking["guest_name"])].append(booking)
        return found

    @staticmethod
    def _names(code: LiveCode) -> list[str]:
        """The booking code names ``code`` may carry (a one-word name on a UniFi visitor gets "Kasify")."""
        if code.vendor == UNIFI and code.name.endswith(" Kasify"):
            return [code.name, code.name.removesuffix(" Kasify")]
        return [code.name]

    def _owner(
        self,
        code: LiveCode,
        by_name: Mapping[str, list[dict[str, str]]],
        hints: Mapping[tuple[str, str, str], str | None],
    ) -> dict[str, str] | None:
        """The booking a code is for: the one of that name at the lock's property (else anywhere).

        Guests come back, so a name may fit several bookings of the property: then the booking the engine
        issued the code for, if the name fits it; else the one with the code's window; else one that wants a
        code (not cancelled); else the first.
        """
        candidates = [booking for name in self._names(code) for booking in by_name.get(name, ())]
        if not candidates:
            return None
        here = self.lock_property.get((code.vendor, code.lock_id))
        local = [booking for booking in candidates if booking["property_id"] == here]
        if len(local) < 2:
            return (local or candidates)[0]
        hinted = [booking for booking in local if booking["id"] == hints.get(code.key)]
        exact = [booking for booking in local if window(booking) == (code.starts_at, code.ends_at)]
        alive = [booking for booking in local if booking["status"] != "cancelled"]
        return (hinted or exact or alive or local)[0]

    def due_bookings(self, now: datetime) -> list[dict[str, str]]:
        """The bookings that should have their codes at ``now`` (at properties with locks)."""
        return [
            booking
            for booking in self.sim.kasify.bookings.values()
            if self.locks.get(booking["property_id"]) and self._due(booking, now)
        ]

    def _due(self, booking: Mapping[str, str], now: datetime) -> bool:
        starts_at, ends_at = window(booking)
        return booking["status"] == "confirmed" and parse_iso(booking["check_in"]) - LEAD <= now < ends_at

    def _check_due(
        self,
        step: int,
        now: datetime,
        codes: list[LiveCode],
        owners: Mapping[tuple[str, str, str], dict[str, str] | None],
    ) -> None:
        """Each due booking: one code on every lock of its property, with the booking's window."""
        held: dict[tuple[str, str, str], list[LiveCode]] = defaultdict(list)
        for code in codes:
            if (booking := owners[code.key]) is not None:
                held[(booking["id"], code.vendor, code.lock_id)].append(code)
        duplicates = 0
        for booking in self.sim.kasify.bookings.values():
            if not self._due(booking, now):
                continue
            self.counts.bookings_due.add(booking["id"])
            since = parse_iso(booking["check_in"]) - LEAD
            locks = self.locks.get(booking["property_id"], [])
            # The engine creates and moves a booking's codes on all its locks as one.
            deadline = self.ledger.calm_after(
                {lock.vendor for lock in locks}, since, self.ledger.changed_at.get(booking["id"])
            )
            for lock in locks:
                found = held.get((booking["id"], lock.vendor, lock.lock_id), [])
                where = f"{lock.vendor}:{lock.lock_id}"
                if len(found) > 1:
                    duplicates += 1
                if now < deadline or now >= window(booking)[1]:
                    continue
                if not found:
                    self._violate(
                        MISSING, step, now, where, booking["id"], f"{booking['guest_name']!r} has no code"
                    )
                elif len(found) > 1:
                    ids = ", ".join(code.code_id for code in found)
                    self._violate(DUPLICATE, step, now, where, booking["id"], f"{len(found)} codes: {ids}")
                elif (found[0].starts_at, found[0].ends_at) != window(booking):
                    self._violate(
                        WRONG_WINDOW,
                        step,
                        now,
                        where,
                        booking["id"],
                        f"code {found[0].starts_at:%d %H:%M}-{found[0].ends_at:%d %H:%M}, booking "
                        f"{window(booking)[0]:%d %H:%M}-{window(booking)[1]:%d %H:%M}",
                    )
        self.counts.max_duplicates = max(self.counts.max_duplicates, duplicates)

    def _check_codes(
        self,
        step: int,
        now: datetime,
        codes: list[LiveCode],
        owners: Mapping[tuple[str, str, str], dict[str, str] | None],
        tracked: Mapping[tuple[str, ...], str | None],
    ) -> None:
        """Each code on a lock: tracked by the engine, for a booking that still wants it, its PIN once."""
        stranded = late = 0
        for code in codes:
            where = f"{code.vendor}:{code.lock_id}"
            booking = owners[code.key]
            untracked = (
                code.key not in tracked and (code.vendor, code.lock_id, code.name, code.pin) not in tracked
            )
            if booking is None or untracked:
                stranded += 1
                if now >= self._first_seen[code.key] + GRACE:
                    why = "belongs to no booking" if booking is None else "is not tracked by the engine"
                    self._violate(
                        STRANDED, step, now, where, booking and booking["id"], f"code {code.code_id} {why}"
                    )
                continue
            unwanted = self._unwanted_since(booking, code)
            if unwanted is None:
                continue
            late += now >= unwanted + GRACE
            if now >= self.ledger.calm_after((code.vendor,), unwanted):
                self._violate(
                    LATE_REVOKE,
                    step,
                    now,
                    where,
                    booking["id"],
                    f"code {code.code_id} of a {booking['status']} booking, there {now - unwanted} after",
                )
        pins = Counter((code.vendor, code.lock_id, code.pin) for code in codes if code.pin)
        for (vendor, lock_id, _pin), count in pins.items():
            if count > 1:
                self._violate(DUPLICATE, step, now, f"{vendor}:{lock_id}", None, f"one PIN on {count} codes")
        self.counts.max_stranded = max(self.counts.max_stranded, stranded)
        self.counts.max_late = max(self.counts.max_late, late)

    def _unwanted_since(self, booking: Mapping[str, str], code: LiveCode) -> datetime | None:
        """Since when the booking wants no code on this lock (None: it still does, or may keep it)."""
        changed = self.ledger.changed_at.get(booking["id"], self.ledger.started)
        if self.lock_property.get((code.vendor, code.lock_id)) != booking["property_id"]:
            return changed
        if booking["status"] == "cancelled":
            return changed
        return window(booking)[1]

    def _tracked(self) -> dict[tuple[str, ...], str | None]:
        """The engine's codes, with the booking each is for: by (vendor, lock, code id), and by (vendor, lock,
        name, PIN) for those it has no vendor id for yet (a Nuki code that has not shown up)."""
        manager = self.hass.data.get(engine._DATA_MANAGER)
        if manager is None:
            return {}
        registry = er.async_get(self.hass)
        tracked: dict[tuple[str, ...], str | None] = {}
        records: Iterable[CodeRecord] = manager._records.values()
        for record in records:
            entry = registry.async_get(record.entity_id)
            key = engine.lock_device_key(self.hass, entry) if entry is not None else None
            if key is None:
                continue
            vendor, _, lock_id = key.partition("_")
            tracked[(vendor, lock_id, record.code_id)] = record.booking_id
            tracked[(vendor, lock_id, record.name, record.code)] = record.booking_id
        return tracked

    def _violate(
        self, kind: str, step: int, now: datetime, lock: str, booking_id: str | None, detail: str
    ) -> None:
        key = (kind, lock, booking_id or detail)
        if key in self._reported:
            return
        self._reported.add(key)
        self.violations.append(Violation(kind, step, now, lock, booking_id, detail))

    def totals(self) -> dict[str, int]:
        """Violations by kind."""
        found = Counter(violation.kind for violation in self.violations)
        return {kind: found.get(kind, 0) for kind in KINDS}
