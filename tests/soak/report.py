"""What a soak run reports: its counts, the violations with what led to them, the integration's footprint.

The reports of a test run are printed at its end (``conftest.pytest_terminal_summary``).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
import gc
import json
from typing import Any

from homeassistant.core import HomeAssistant

from custom_components.kasify.access_codes import manager as engine
from custom_components.kasify.access_codes.automatic import AUTO_CODES
from custom_components.kasify.const import DOMAIN

from .invariants import KINDS, Violation
from .plan import CONFIRM, FAULT_KINDS, MUTATIONS
from .world import VENDORS

PACKAGE = "custom_components.kasify"
# Records or bookings a settled engine may hold beyond what is due (a code made at that very instant).
SETTLED_SLACK = 2
REPORTS: list[SoakReport] = []
"""Every report of this test run, for the terminal summary."""


def summary_lines() -> list[str]:
    """The reports of this test run, one block each."""
    return [line for report in REPORTS for line in (*report.lines(), "")]


@dataclass(slots=True)
class Footprint:
    """What the integration holds, at one instant.

    The engine's records and the bookings the schedulers hold codes for, beside what is due then (the
    bookings that should have codes, and their locks); apart, the doomed records (codes rolled back or
    revoked before they showed up, looked for and removed until their window ends); the size of its stores;
    its objects alive (instances of its classes, but for the API's data models, which follow the accounts'
    data) and the items in the dicts, lists and sets those objects hold (its caches, its bookkeeping).
    """

    records: int
    doomed: int
    held: int
    due: int
    due_locks: int
    store_bytes: int
    objects: Counter[str]
    items: Counter[str]

    def __str__(self) -> str:
        """One line for the report."""
        return (
            f"engine records {self.records} (due {self.due_locks}; doomed {self.doomed}), bookings with "
            f"codes {self.held} (due {self.due}), stores {self.store_bytes / 1024:.1f} KiB, objects "
            f"{self.objects.total()} holding {self.items.total()} items"
        )

    @property
    def settled(self) -> bool:
        """Whether the engine holds what is due and no more (a code or booking left over would be a leak)."""
        return self.records <= self.due_locks + SETTLED_SLACK and self.held <= self.due + SETTLED_SLACK

    def growth(self, later: Footprint) -> list[tuple[str, int]]:
        """What holds more ``later`` (objects of a class, items held by a class's objects), most first."""
        grown = Counter({f"{name} objects": count for name, count in later.objects.items()})
        grown.update({f"{name} items": count for name, count in later.items.items()})
        grown.subtract({f"{name} objects": count for name, count in self.objects.items()})
        grown.subtract({f"{name} items": count for name, count in self.items.items()})
        return [(name, count) for name, count in grown.most_common() if count > 0]

    def within(self, later: Footprint) -> bool:
        """Whether the integration's objects, and what they hold, grew by a quarter at most (and a few)."""
        pairs = ((self.objects.total(), later.objects.total()), (self.items.total(), later.items.total()))
        return all(after <= before * 1.25 + 16 for before, after in pairs)


@dataclass(slots=True)
class SoakReport:
    """What a run did and found."""

    profile: str
    seed: int
    hours: float
    ambiguous_played: bool = False
    """Whether the run plays ambiguous creates (and must have made some)."""
    steps: int = 0
    real_seconds: float = 0.0
    cpu_seconds: float = 0.0
    nudges: int = 0
    locks: Counter[str] = field(default_factory=Counter)
    properties: int = 0
    multi_vendor: int = 0
    bookings_due: int = 0
    bookings_mutated: int = 0
    mutations: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    reloads: int = 0
    restarts: int = 0
    restarts_mid_operation: int = 0
    tasks_cut: int = 0
    creates_cut: int = 0
    ambiguous_hits: int = 0
    codes_created: int = 0
    codes_gone: int = 0
    max_stranded: int = 0
    violations: list[Violation] = field(default_factory=list)
    histories: list[list[str]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    warm: Footprint | None = None
    end: Footprint | None = None

    def lines(self) -> list[str]:
        """The counts, as printed at the end of the test run."""
        mutations = ", ".join(f"{kind} {self.mutations[kind]}" for kind in MUTATIONS)
        faults = ", ".join(f"{kind} {self.faults[kind]}" for kind in FAULT_KINDS)
        locks = ", ".join(f"{vendor} {self.locks[vendor]}" for vendor in VENDORS)
        totals = self.totals
        return [
            f"profile {self.profile}, seed {self.seed}: {self.hours:g} simulated hours in {self.steps} "
            f"steps, {self.real_seconds:.1f} s real ({self.cpu_seconds:.1f} s CPU, {self.nudges} nudges)",
            f"properties {self.properties} ({self.multi_vendor} with locks of two or three vendors); "
            f"locks: {locks}",
            f"bookings due {self.bookings_due}; changed {self.bookings_mutated}: {mutations}",
            f"codes created {self.codes_created}, revoked {self.codes_gone}",
            f"faults {sum(self.faults.values())}: {faults} ({self.ambiguous_hits} creates made ambiguous)",
            f"reloads {self.reloads}, restarts {self.restarts} ({self.restarts_mid_operation} in the middle "
            f"of an operation, {self.tasks_cut} tasks cut short, {self.creates_cut} of them creating a code)",
            f"max stranded {self.max_stranded}; stranded {totals[KINDS[3]]}, duplicates {totals[KINDS[1]]}, "
            f"late revokes {totals[KINDS[2]]}, missing {totals[KINDS[0]]}, wrong windows {totals[KINDS[4]]}",
            f"footprint after warm-up: {self.warm}",
            f"footprint at the end:    {self.end}",
            f"  more at the end: {self._grown()}",
            *self._explained(),
        ]

    def flat(self) -> bool:
        """Whether the integration held, at the end, what was due and no more, and hardly more than after
        the warm-up (``Footprint.settled``, ``Footprint.within``)."""
        return (
            self.warm is not None and self.end is not None and self.end.settled and self.warm.within(self.end)
        )

    def unplayed(self) -> list[str]:
        """What a full run plays that this one did not: codes, every fault (ambiguous creates, one of them
        making a create ambiguous, where the run plays them) and change of booking (but confirming), reloads,
        restarts (one in the middle of an operation), every vendor's locks."""
        missing = [] if self.codes_created and self.codes_gone else ["codes created and revoked"]
        played_kinds = FAULT_KINDS if self.ambiguous_played else FAULT_KINDS[:-1]
        missing += [f"fault {kind}" for kind in played_kinds if not self.faults[kind]]
        if self.ambiguous_played and not self.ambiguous_hits:
            missing.append("a create made ambiguous")
        # Confirming needs a pending booking near enough: not every run has one.
        missing += [f"booking {kind}" for kind in MUTATIONS if kind != CONFIRM and not self.mutations[kind]]
        missing += [f"{vendor} locks" for vendor in VENDORS if not self.locks[vendor]]
        played = {
            "reload": self.reloads,
            "restart": self.restarts,
            "restart in the middle of an operation": self.restarts_mid_operation,
            "property with locks of two vendors": self.multi_vendor,
        }
        return missing + [name for name, count in played.items() if not count]

    def _grown(self) -> str:
        if self.warm is None or self.end is None:
            return "-"
        return ", ".join(f"{name} +{count}" for name, count in self.warm.growth(self.end)[:8]) or "none"

    def _explained(self, limit: int = 20) -> list[str]:
        lines = []
        for violation, history in list(zip(self.violations, self.histories, strict=True))[:limit]:
            lines.append(f"  {violation}")
            lines.extend(f"      {line}" for line in history)
        return lines


CONTAINERS = (dict, list, set, frozenset, tuple, deque)


def _attributes(obj: object) -> list[object]:
    """An object's attribute values (its ``__dict__``, its slots)."""
    values = list(vars(obj).values()) if hasattr(obj, "__dict__") else []
    for kind in type(obj).__mro__:
        for slot in kind.__dict__.get("__slots__", ()):
            if isinstance(slot, str) and hasattr(obj, slot):
                values.append(getattr(obj, slot))
    return values


def footprint(hass: HomeAssistant, storage: dict[str, Any], due: int, due_locks: int) -> Footprint:
    """What the integration holds now (``storage``: the test harness's ``.storage``; ``due``: the bookings
    that should have codes now, on ``due_locks`` locks in all)."""
    manager = hass.data.get(engine._DATA_MANAGER)
    schedulers = hass.data.get(AUTO_CODES, {})
    stores = [value for key, value in storage.items() if key.startswith(f"{DOMAIN}.")]
    records = list(manager._records.values()) if manager is not None else []
    gc.collect()
    objects: Counter[str] = Counter()
    items: Counter[str] = Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        module = kind.__dict__.get("__module__")
        if not isinstance(module, str) or not module.startswith(PACKAGE) or module.endswith("models"):
            continue
        objects[kind.__qualname__] += 1
        items[kind.__qualname__] += sum(
            len(value) for value in _attributes(obj) if isinstance(value, CONTAINERS)
        )
    return Footprint(
        records=sum(not record.doomed for record in records),
        doomed=sum(record.doomed for record in records),
        held=sum(len(scheduler.held) for scheduler in schedulers.values()),
        due=due,
        due_locks=due_locks,
        store_bytes=sum(len(json.dumps(store, default=str)) for store in stores),
        objects=objects,
        items=items,
    )
