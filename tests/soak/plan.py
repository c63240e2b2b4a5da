"""What the soak does to the world at each step, drawn from one seeded ``random.Random``.

The host changes bookings in Kasify (new ones, moved, extended, shortened, cancelled, confirmed, moved to
another property), as Kasify allows it: no overlap with another booking of the property that is not
cancelled. The upstreams fail for a step or a few: requests that time out, 5xx answers, 429 with a
``Retry-After``, connections reset, and (profile ``full``) ambiguous creates: the vendor creates the code
but the client is told it failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import random
from typing import Any

from simulator import Simulator
from simulator.clock import parse_iso
from simulator.faults import Fault
from simulator.fleet_data import GUEST_ORIGINS

from .world import NUKI, REMOTELOCK, UNIFI

KASIFY = "kasify"
UPSTREAMS = (KASIFY, NUKI, UNIFI, REMOTELOCK)
PREFIXES = {
    KASIFY: "/kasify/v1/",
    NUKI: "/nuki/",
    UNIFI: "/api/v1/developer/",
    REMOTELOCK: "/remotelock/",
}
# Where each vendor creates a code: an ambiguous create is a write there that takes effect unseen.
CREATES = {
    NUKI: ("PUT", "/nuki/smartlock/"),
    UNIFI: ("POST", "/api/v1/developer/visitors"),
    REMOTELOCK: ("POST", "/remotelock/api/access_persons"),
}
WRITES = ("POST", "PUT", "DELETE")
# Past every client's own timeout (15 s): the request never answers in time.
STALL_SECONDS = 60.0
RETRY_AFTER_SECONDS = (5, 30, 120, 600)

TIMEOUT, SERVER_ERROR, RATE_LIMITED, RESET, AMBIGUOUS = "timeout", "5xx", "429", "reset", "ambiguous create"
FAULT_KINDS = (TIMEOUT, SERVER_ERROR, RATE_LIMITED, RESET, AMBIGUOUS)
AMBIGUOUS_SHARE = 0.3
"""The share of faults that are ambiguous creates, where they are played."""
NEW, MOVE, EXTEND, SHORTEN, CANCEL, CONFIRM, RELOCATE = (
    "new",
    "moved",
    "extended",
    "shortened",
    "cancelled",
    "confirmed",
    "moved to another property",
)
MUTATIONS = (NEW, MOVE, EXTEND, SHORTEN, CANCEL, CONFIRM, RELOCATE)


@dataclass(slots=True)
class ActiveFault:
    """Faults injected together into one upstream, until a step."""

    upstream: str
    kind: str
    faults: list[Fault]
    until: datetime
    wait: timedelta = timedelta(0)
    """What the upstream asked clients to wait after the fault (429's ``Retry-After``)."""


@dataclass(slots=True)
class Plan:
    """The seeded changes: bookings and faults; what was done, counted."""

    sim: Simulator
    rng: random.Random
    properties: list[str]
    """The properties with locks (where bookings matter)."""
    with_ambiguous: bool = False
    ambiguous: list[Fault] = field(default_factory=list)
    """The ambiguous-create faults injected (their ``hits``: creates they made ambiguous)."""
    mutations: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    mutated: set[str] = field(default_factory=set)
    last: str = ""
    """The last change, in words (for the report's history)."""

    # -- bookings -----------------------------------------------------------------------------------------

    def mutate(self, now: datetime) -> str | None:
        """Change one booking as a host would; the booking's id (None when nothing could be changed)."""
        kind = self.rng.choices(MUTATIONS, weights=(4, 4, 3, 3, 3, 1, 1))[0]
        booking = self._new(now) if kind == NEW else self._change(kind, now)
        if booking is None:
            return None
        self.mutations[kind] += 1
        self.mutated.add(booking)
        record = self.sim.kasify.bookings[booking]
        self.last = f"{kind}: {record['check_in'][5:16]} to {record['check_out'][5:16]}, {record['status']}"
        return booking

    def _soon(self, now: datetime, *statuses: str) -> list[dict[str, Any]]:
        """Bookings of properties with locks around now (the ones the engine holds codes for, or will)."""
        found = [
            booking
            for booking in self.sim.kasify.bookings.values()
            if booking["property_id"] in self.properties
            and booking["status"] in statuses
            and parse_iso(booking["check_out"]) > now - timedelta(hours=1)
            and parse_iso(booking["check_in"]) < now + timedelta(days=3)
        ]
        return sorted(found, key=lambda booking: booking["id"])

    def _free(self, property_id: str, check_in: datetime, check_out: datetime, exclude: str | None) -> bool:
        if check_out <= check_in + timedelta(hours=1):
            return False
        return self.sim.kasify.find_overlap(property_id, check_in, check_out, exclude_id=exclude) is None

    def _name(self) -> str:
        taken = {booking["guest_name"] for booking in self.sim.kasify.bookings.values()}
        firsts, lasts, _prefix, _country = self.rng.choice(GUEST_ORIGINS)
        name = f"{self.rng.choice(firsts)} {self.rng.choice(lasts)}"
        suffix = iter("BCDEFGHJKLMNPQRSTVWXYZ")
        base = name
        while name in taken:
            name = f"{base} {next(suffix)}."
        return name

    def new_soon(self, now: datetime) -> str | None:
        """A confirmed booking arriving within the day (its code is created at the next refresh)."""
        for _ in range(10):
            property_id = self.rng.choice(self.properties)
            check_in = (now + timedelta(hours=self.rng.randint(2, 24))).replace(minute=0, second=0)
            check_out = check_in + timedelta(days=self.rng.randint(1, 3))
            if self._free(property_id, check_in, check_out, None):
                booking = self.sim.kasify.add_booking(property_id, self._name(), check_in, check_out)
                self.mutations[NEW] += 1
                self.mutated.add(booking["id"])
                return str(booking["id"])
        return None

    def _new(self, now: datetime) -> str | None:
        for _ in range(10):
            property_id = self.rng.choice(self.properties)
            check_in = (now + timedelta(hours=self.rng.randint(-20, 60))).replace(minute=0, second=0)
            check_out = check_in + timedelta(days=self.rng.randint(1, 4), hours=self.rng.choice((-4, 0, 2)))
            if self._free(property_id, check_in, check_out, None):
                status = "pending" if self.rng.random() < 0.1 else "confirmed"
                booking = self.sim.kasify.add_booking(
                    property_id,
                    self._name(),
                    check_in,
                    check_out,
                    status=status,
                    guest_phone="+34 600 123 456",
                )
                return str(booking["id"])
        return None

    def _change(self, kind: str, now: datetime) -> str | None:
        statuses = ("pending",) if kind == CONFIRM else ("confirmed", "pending")
        candidates = self._soon(now, *statuses)
        self.rng.shuffle(candidates)
        for booking in candidates[:8]:
            if self._apply(kind, booking, now):
                return str(booking["id"])
        return None

    def _apply(self, kind: str, booking: dict[str, Any], now: datetime) -> bool:
        kasify = self.sim.kasify
        if kind == CANCEL:
            kasify.cancel_booking(booking["id"])
            return True
        if kind == CONFIRM:
            kasify.update_booking(booking["id"], status="confirmed")
            return True
        check_in, check_out = parse_iso(booking["check_in"]), parse_iso(booking["check_out"])
        property_id = booking["property_id"]
        options: list[tuple[str, datetime, datetime]]
        if kind == RELOCATE:
            others = [p for p in self.properties if p != property_id]
            options = [(p, check_in, check_out) for p in self.rng.sample(others, min(3, len(others)))]
        else:
            shifts = {
                MOVE: [(d, d) for d in (timedelta(hours=h) for h in (-24, -3, -1, 1, 3, 24))],
                EXTEND: [(timedelta(0), timedelta(hours=h)) for h in (2, 24, 48)],
                SHORTEN: [(timedelta(0), -timedelta(hours=h)) for h in (2, 24)],
            }[kind]
            self.rng.shuffle(shifts)
            options = [(property_id, check_in + a, check_out + b) for a, b in shifts]
        for target, start, end in options:
            if self._free(target, start, end, booking["id"]):
                kasify.move_booking(booking["id"], start, end, property_id=target)
                return True
        return False

    # -- faults -------------------------------------------------------------------------------------------

    def fault(self, now: datetime) -> ActiveFault:
        """Make one upstream fail, from now for 5 to 40 minutes."""
        if self.with_ambiguous and self.rng.random() < AMBIGUOUS_SHARE:
            kind = AMBIGUOUS
        else:
            kind = self.rng.choice(FAULT_KINDS[:-1])
        if kind == AMBIGUOUS:
            return self._ambiguous(now)
        upstream = self.rng.choice(UPSTREAMS)
        methods: tuple[str | None, ...] = WRITES if self.rng.random() < 0.4 else (None,)
        inject = self._injector(kind)
        wait = timedelta(0)
        if kind == RATE_LIMITED:
            seconds = self.rng.choice(RETRY_AFTER_SECONDS)
            wait = timedelta(seconds=seconds)
            inject = self._rate_limited(seconds)
        faults = [inject(PREFIXES[upstream], method) for method in methods]
        self.faults[kind] += 1
        return ActiveFault(upstream, kind, faults, now + timedelta(minutes=self.rng.uniform(5, 40)), wait)

    def _injector(self, kind: str) -> Callable[[str, str | None], Fault]:
        faults = self.sim.faults
        if kind == TIMEOUT:
            return lambda path, method: faults.inject(path, method=method, delay=STALL_SECONDS)
        if kind == RESET:
            return lambda path, method: faults.inject(path, method=method, disconnect=True)
        status = self.rng.choice((500, 502, 503))
        return lambda path, method: faults.inject(path, method=method, status=status)

    def _rate_limited(self, seconds: int) -> Callable[[str, str | None], Fault]:
        headers = {
            "Retry-After": str(seconds),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(seconds),
        }
        return lambda path, method: self.sim.faults.inject(path, method=method, status=429, headers=headers)

    def _ambiguous(self, now: datetime) -> ActiveFault:
        vendor = self.rng.choice(tuple(CREATES))
        method, path = CREATES[vendor]
        how = self.rng.choice(("error", "reset", "timeout"))
        faults = self.sim.faults
        if how == "error":
            fault = faults.inject(path, method=method, status=500, apply=True, times=1)
        elif how == "reset":
            fault = faults.inject(path, method=method, disconnect=True, apply=True, times=2)
        else:
            fault = faults.inject(path, method=method, delay=STALL_SECONDS, apply=True, times=1)
        self.faults[AMBIGUOUS] += 1
        self.ambiguous.append(fault)
        # Until a create comes along (they are rarer than refreshes).
        return ActiveFault(vendor, AMBIGUOUS, [fault], now + timedelta(hours=self.rng.uniform(2, 8)))
