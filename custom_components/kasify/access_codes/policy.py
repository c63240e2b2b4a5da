"""Portfolio-wide PIN code policy: each vendor's format, weak-code rules, validation and the generator.

Pure Python (no Home Assistant imports), so it can be tested on its own. A code that goes to several locks at
once must satisfy every targeted vendor's rules at the same time; :func:`combine` intersects them.

Vendor formats (``docs/*-api.md`` for each vendor; the simulator enforces the same):

- Nuki keypad (authorization type 13): exactly 6 digits, digits 1-9 only, not starting with ``12``.
- UniFi Access visitor PIN: digits only, length from the controller's settings (4-8 here).
- RemoteLock access guest PIN: 4-10 digits.
- Kasify booking access codes: 4-8 digits (plus the rules of the vendor of the lock behind it).

Weak codes (never generated): all digits the same (``111111``), straight ascending or descending runs
(``345678``, ``987654``, also wrapping ``890123``), and repeated groups (``121212``, ``123123``, ``1212``).
Codes that contain the last four digits of a value to avoid (e.g. the guest's phone number) are never
generated either.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
import random
import secrets
from typing import Final

VENDOR_NUKI: Final = "nuki"
VENDOR_UNIFI: Final = "unifi"
VENDOR_REMOTELOCK: Final = "remotelock"
VENDOR_KASIFY: Final = "kasify"

ALL_DIGITS: Final = "0123456789"
PREFERRED_LENGTH: Final = 6
AVOID_TAIL_LENGTH: Final = 4
"""How many trailing digits of a value to avoid (a phone number) a code must never contain."""
MAX_ATTEMPTS: Final = 20_000
MAX_WINDOW_DAYS: Final = 120
MAX_WINDOW: Final = timedelta(days=MAX_WINDOW_DAYS)
"""The longest a code may be valid (a typo in the year must not give a code for a century)."""

# Rule identifiers (also the suffixes of the translation keys that explain them).
RULE_NOT_DIGITS: Final = "not_digits"
RULE_LENGTH: Final = "length"
RULE_DIGITS: Final = "digits"
RULE_PREFIX: Final = "prefix"


@dataclass(frozen=True, slots=True)
class CodeRules:
    """The PIN format a vendor (or several at once) accepts."""

    min_length: int
    max_length: int
    digits: frozenset[str] = frozenset(ALL_DIGITS)
    forbidden_prefixes: frozenset[str] = field(default_factory=frozenset)

    @property
    def satisfiable(self) -> bool:
        """Whether any code at all meets these rules."""
        if not self.digits or self.min_length > self.max_length or self.min_length < 1:
            return False
        # Forbidden prefixes can only rule out every code if they cover every first digit.
        return any(digit not in self.forbidden_prefixes for digit in self.digits) or any(
            len(prefix) > 1 for prefix in self.forbidden_prefixes
        )

    @property
    def preferred_length(self) -> int:
        """The length generated codes get: 6 where allowed, else the nearest allowed length."""
        return min(max(PREFERRED_LENGTH, self.min_length), self.max_length)


VENDOR_RULES: Final[dict[str, CodeRules]] = {
    VENDOR_NUKI: CodeRules(6, 6, frozenset("123456789"), frozenset({"12"})),
    VENDOR_UNIFI: CodeRules(4, 8),
    VENDOR_REMOTELOCK: CodeRules(4, 10),
    VENDOR_KASIFY: CodeRules(4, 8),
}


def rules_for(vendor: str) -> CodeRules:
    """The rules of one vendor.

    Raises:
        KeyError: For an unknown vendor.
    """
    return VENDOR_RULES[vendor]


def combine(rules: Iterable[CodeRules]) -> CodeRules:
    """The rules a code must meet to be valid for every one of ``rules`` (may be unsatisfiable)."""
    combined = CodeRules(1, 64)
    for rule in rules:
        combined = CodeRules(
            max(combined.min_length, rule.min_length),
            min(combined.max_length, rule.max_length),
            combined.digits & rule.digits,
            combined.forbidden_prefixes | rule.forbidden_prefixes,
        )
    return combined


@dataclass(frozen=True, slots=True)
class CodeProblem:
    """Why a code breaks a rule: ``rule`` is one of the ``RULE_*`` ids, ``detail`` fills the message."""

    rule: str
    detail: str


def code_problem(code: str, rules: CodeRules) -> CodeProblem | None:
    """The first rule ``code`` breaks, or ``None`` when it is valid (weakness is not checked here)."""
    if not code or not code.isascii() or not code.isdigit():
        return CodeProblem(RULE_NOT_DIGITS, "")
    if not rules.min_length <= len(code) <= rules.max_length:
        if rules.min_length == rules.max_length:
            return CodeProblem(RULE_LENGTH, str(rules.min_length))
        return CodeProblem(RULE_LENGTH, f"{rules.min_length}-{rules.max_length}")
    if any(digit not in rules.digits for digit in code):
        return CodeProblem(RULE_DIGITS, "".join(sorted(rules.digits)))
    for prefix in sorted(rules.forbidden_prefixes):
        if code.startswith(prefix):
            return CodeProblem(RULE_PREFIX, prefix)
    return None


def is_weak(code: str) -> bool:
    """All one digit, a straight (possibly wrapping) up or down run, or a repeated group of digits."""
    if len(code) < 2:
        return True
    if len(set(code)) == 1:
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(code)}
    if steps in ({1}, {9}):
        return True
    for period in range(2, len(code) // 2 + 1):
        chunk = code[:period]
        if (chunk * (len(code) // period + 1))[: len(code)] == code:
            return True
    return False


def avoid_tails(avoid: Iterable[str]) -> set[str]:
    """The trailing digits (up to four) of each value to avoid that has at least four digits."""
    tails: set[str] = set()
    for value in avoid:
        digits = "".join(char for char in str(value) if char.isascii() and char.isdigit())
        if len(digits) >= AVOID_TAIL_LENGTH:
            tails.add(digits[-AVOID_TAIL_LENGTH:])
    return tails


def contains_avoided(code: str, tails: Collection[str]) -> bool:
    """Whether ``code`` contains one of ``tails`` (see :func:`avoid_tails`)."""
    return any(tail in code for tail in tails)


class NoCodeAvailableError(Exception):
    """No code meets the rules (they contradict each other, or every candidate is taken)."""


def generate_code(
    rules: CodeRules,
    *,
    taken: Collection[str] = (),
    avoid: Iterable[str] = (),
    rng: random.Random | None = None,
) -> str:
    """A random code that meets ``rules``, is not weak, not in ``taken`` and avoids ``avoid``'s tails.

    Cryptographically random unless ``rng`` is given (tests).

    Raises:
        NoCodeAvailableError: When the rules are unsatisfiable or no free code was found.
    """
    if not rules.satisfiable:
        raise NoCodeAvailableError("the vendors' code formats have nothing in common")
    chooser = rng or secrets.SystemRandom()
    digits = sorted(rules.digits)
    length = rules.preferred_length
    taken_set = set(taken)
    tails = avoid_tails(avoid)
    for _ in range(MAX_ATTEMPTS):
        code = "".join(chooser.choice(digits) for _ in range(length))
        if (
            code_problem(code, rules) is None
            and not is_weak(code)
            and code not in taken_set
            and not contains_avoided(code, tails)
        ):
            return code
    raise NoCodeAvailableError("no free code found")
