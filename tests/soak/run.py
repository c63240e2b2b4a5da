"""One soak run: steps of 5 to 15 simulated minutes, each changing the world a little, then the checks.

At every step the seeded plan may change a booking or two, start a fault on one upstream (or end one),
reload an entry or restart Home Assistant, at a quiet moment or in the middle of what the clock just started.
The clock then moves to the step's end, and :class:`~.invariants.Invariants` reads the simulator. The
integration's footprint (the engine's records, the schedulers' bookings, the stores, and the memory its
objects alive) is taken after a warm-up and at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import os
import random
from typing import Any

from .harness import SoakHass
from .invariants import Invariants, Ledger, Violation
from .plan import ActiveFault, Plan
from .report import Footprint, SoakReport, footprint
from .world import LockRef, property_locks

STEP_MINUTES = (5.0, 15.0)
RESTART_CHANCE = 0.025
RELOAD_CHANCE = 0.04
"""Per step: about 7 restarts and 11 reloads in 48 hours."""
WARM_UP = 0.25
"""The share of the run before the footprint is first taken (codes for the next 48 hours exist by then)."""
SETTLE = timedelta(minutes=30)
"""After the last step, with every fault over: time for the engine to catch up before the last check."""


@dataclass(frozen=True, slots=True)
class Profile:
    """Which disturbances a run plays."""

    name: str
    ambiguous_creates: bool = False
    """Faults that let a vendor create a code while the engine is told it failed."""
    cut_creates: bool = False
    """Restarts that may cut a create short."""


STANDARD = Profile("standard")
FULL = Profile("full", ambiguous_creates=True, cut_creates=True)
"""The soak's runs: every disturbance, ambiguous creates and restarts in the middle of a create included."""


class Soak:
    """Plays one seeded run against Home Assistant and the simulator."""

    def __init__(
        self,
        soak: SoakHass,
        storage: dict[str, Any],
        owner: set[tuple[str, str, str]],
        profile: Profile,
        seed: int,
        hours: float,
    ) -> None:
        """Run ``hours`` of simulated time on ``soak`` (its accounts set up), drawn from ``seed``; ``owner``:
        the codes on the locks before the integration was set up."""
        self.soak = soak
        self.sim = soak.sim
        self.storage = storage
        self.profile = profile
        self.rng = random.Random(f"soak-{seed}")
        self.report = SoakReport(profile.name, seed, hours, ambiguous_played=profile.ambiguous_creates)
        self.locks: dict[str, list[LockRef]] = property_locks(self.sim)
        self.plan = Plan(
            self.sim,
            self.rng,
            sorted(property_id for property_id, locks in self.locks.items() if locks),
            with_ambiguous=profile.ambiguous_creates,
        )
        self.ledger = Ledger(started=soak.now())
        self.invariants = Invariants(self.sim, soak.hass, self.ledger, self.locks, owner)
        self.active: list[ActiveFault] = []
        soak.on_clock.append(self._end_faults)
        self.timeline: list[tuple[datetime, str, frozenset[str]]] = []
        """What the soak did, when, and what it concerned (a booking id, an upstream): for the report."""

    async def run(self) -> SoakReport:
        """Play every step, then end the faults and give the engine time to catch up; the report."""
        began, cpu = os.times().elapsed, sum(os.times()[:2])
        start = self.soak.now()
        end = start + timedelta(hours=self.report.hours)
        warm_at = start + (end - start) * WARM_UP
        step = 0
        while self.soak.now() < end:
            step += 1
            await self._step(step, min(end, self._next_instant()))
            if self.report.warm is None and self.soak.now() >= warm_at:
                self.report.warm = self._footprint()
        self._end_faults(None)
        await self.soak.advance_to(self.soak.now() + SETTLE)
        self.soak.assert_loaded()
        self.invariants.check(step + 1, self.soak.now())
        self.report.end = self._footprint()
        self.report.steps = step
        self.report.real_seconds = os.times().elapsed - began
        self.report.cpu_seconds = sum(os.times()[:2]) - cpu
        self.report.nudges = self.soak.nudges
        self._summarise()
        return self.report

    def _next_instant(self) -> datetime:
        return self.soak.now() + timedelta(minutes=self.rng.uniform(*STEP_MINUTES))

    async def _step(self, step: int, target: datetime) -> None:
        now = self.soak.now()
        for _ in range(self.rng.choice((0, 1, 1, 2))):
            if (booking_id := self.plan.mutate(now)) is not None:
                self.ledger.changed(booking_id, now)
                self._log(f"booking {booking_id} {self.plan.last}", booking_id)
        if len(self.active) < 2 and self.rng.random() < 0.3:
            fault = self.plan.fault(now)
            self.active.append(fault)
            self.ledger.fails(fault.upstream)
            methods = ",".join(f.method or "*" for f in fault.faults)
            self._log(
                f"fault {fault.kind} on {fault.upstream} ({methods}) until {fault.until:%H:%M}",
                fault.upstream,
            )
        roll = self.rng.random()
        self.soak.move_clock(target)
        if roll < RESTART_CHANCE:
            await self._restart()
        elif roll < RESTART_CHANCE + RELOAD_CHANCE:
            await self._reload()
        await self.soak.advance_to(target)
        self.invariants.check(step, self.soak.now())

    def _end_faults(self, now: datetime | None) -> None:
        """End the faults whose time is up at ``now`` (all of them with None)."""
        for fault in list(self.active):
            if now is None or now >= fault.until:
                for injected in fault.faults:
                    self.sim.faults.remove(injected)
                self.active.remove(fault)
                self.ledger.recovers(fault.upstream, self.soak.now() + fault.wait)
                self._log(f"fault {fault.kind} on {fault.upstream} over (+{fault.wait})", fault.upstream)

    def _log(self, text: str, *about: str) -> None:
        self.timeline.append((self.soak.now(), text, frozenset(about)))

    def history(self, violation: Violation, before: timedelta = timedelta(hours=3)) -> list[str]:
        """What the soak did that may explain a violation: to its booking, its lock's vendor, Kasify, and
        every reload and restart, in the hours before it was found."""
        vendor = violation.lock.partition(":")[0]
        wanted = {vendor, "kasify", "*", violation.booking_id or ""}
        return [
            f"{at:%H:%M:%S} {text}"
            for at, text, about in self.timeline
            if violation.at - before <= at <= violation.at and about & wanted
        ]

    def _cut_point(self) -> int | None:
        """Where a reload or restart comes: at a quiet moment, or that many loop turns into the step."""
        return self.rng.randint(0, 40) if self.rng.random() < 0.6 else None

    async def _reload(self) -> None:
        entry = self.rng.choice(self.soak.entries)
        cut_after = self._cut_point()
        await self.soak.reload(entry, cut_after=cut_after)
        self._log(f"reload {entry.title} (cut after {cut_after} turns)", "*")
        self.report.reloads += 1
        self.ledger.restarted_at = self.soak.now()

    async def _restart(self) -> None:
        cut_after = self._cut_point()
        in_create = self.profile.cut_creates and cut_after is not None
        if in_create:
            cut_after = self.rng.randint(0, 30)  # a create on one lock is over in a few dozen turns
        if in_create and (booking_id := self.plan.new_soon(self.soak.now())) is not None:
            # A booking whose code the restart can cut into.
            self.ledger.changed(booking_id, self.soak.now())
            self._log(f"booking {booking_id} new, arriving within the day", booking_id)
        cut = await self.soak.restart(
            cut_after=cut_after, spare_creates=not self.profile.cut_creates, in_create=in_create
        )
        self._log(f"restart (cut after {cut_after} turns, {cut} tasks cut)", "*")
        self.report.restarts += 1
        self.report.restarts_mid_operation += cut_after is not None and cut > 0
        self.report.tasks_cut += cut
        self.ledger.restarted_at = self.soak.now()

    def _footprint(self) -> Footprint:
        due = self.invariants.due_bookings(self.soak.now())
        locks = sum(len(self.locks.get(booking["property_id"], ())) for booking in due)
        return footprint(self.soak.hass, self.storage, len(due), locks)

    def _summarise(self) -> None:
        report, counts = self.report, self.invariants.counts
        report.properties = len(self.locks)
        for locks in self.locks.values():
            report.locks.update(lock.vendor for lock in locks)
        report.multi_vendor = sum(len({lock.vendor for lock in locks}) > 1 for locks in self.locks.values())
        report.bookings_due = len(counts.bookings_due)
        report.bookings_mutated = len(self.plan.mutated)
        report.mutations = self.plan.mutations
        report.faults = self.plan.faults
        report.codes_created = len(counts.codes_seen)
        report.codes_gone = counts.codes_gone
        report.max_stranded = counts.max_stranded
        report.creates_cut = self.soak.creates_cut
        report.ambiguous_hits = sum(fault.hits for fault in self.plan.ambiguous)
        report.violations = self.invariants.violations
        report.histories = [self.history(violation) for violation in report.violations]
        report.totals = self.invariants.totals()
