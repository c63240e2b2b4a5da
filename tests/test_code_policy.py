"""The portfolio code policy: vendor formats, weak codes, validation and the generator (property-based)."""

from __future__ import annotations

from itertools import combinations
import random

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.kasify.access_codes.policy import (
    RULE_DIGITS,
    RULE_LENGTH,
    RULE_NOT_DIGITS,
    RULE_PREFIX,
    VENDOR_KASIFY,
    VENDOR_NUKI,
    VENDOR_REMOTELOCK,
    VENDOR_RULES,
    VENDOR_UNIFI,
    CodeProblem,
    CodeRules,
    NoCodeAvailableError,
    avoid_tails,
    code_problem,
    combine,
    contains_avoided,
    generate_code,
    is_weak,
    rules_for,
)
from custom_components.kasify.api.nuki import keypad_code_problem

VENDORS = [VENDOR_NUKI, VENDOR_UNIFI, VENDOR_REMOTELOCK, VENDOR_KASIFY]
VENDOR_SETS = [set(combo) for n in range(1, 5) for combo in combinations(VENDORS, n)]

vendor_sets = st.sampled_from(VENDOR_SETS)
codes = st.text(alphabet="0123456789", min_size=4, max_size=10)
phones = st.text(alphabet="0123456789 +-", min_size=0, max_size=16)


def _vendor_accepts(vendor: str, code: str) -> bool:
    """Each vendor's rule as the simulator / API docs state it, written independently of code_policy."""
    if not code.isdigit():
        return False
    if vendor == VENDOR_NUKI:
        return keypad_code_problem(code) is None
    if vendor == VENDOR_REMOTELOCK:
        return 4 <= len(code) <= 10
    return 4 <= len(code) <= 8  # UniFi Access (controller setting in the simulator), Kasify


@settings(max_examples=300, deadline=None)
@given(
    vendors=vendor_sets,
    taken=st.sets(codes, max_size=40),
    avoid=st.lists(phones, max_size=3),
    seed=st.integers(0, 2**32),
)
def test_generated_code_meets_every_rule(
    vendors: set[str], taken: set[str], avoid: list[str], seed: int
) -> None:
    """A generated code is valid for every targeted vendor, new, not weak and free of the avoided digits."""
    rules = combine(rules_for(vendor) for vendor in vendors)
    code = generate_code(rules, taken=taken, avoid=avoid, rng=random.Random(seed))
    for vendor in vendors:
        assert _vendor_accepts(vendor, code), (vendor, code)
    assert code not in taken
    assert not is_weak(code)
    for phone in avoid:
        digits = "".join(c for c in phone if c.isdigit())
        if len(digits) >= 4:
            assert digits[-4:] not in code
    assert code_problem(code, rules) is None


@settings(max_examples=300, deadline=None)
@given(vendors=vendor_sets, code=st.text(alphabet="0123456789a ", min_size=0, max_size=12))
def test_validation_agrees_with_each_vendor(vendors: set[str], code: str) -> None:
    """A user's code passes the combined rules exactly when every vendor would take it."""
    rules = combine(rules_for(vendor) for vendor in vendors)
    assert (code_problem(code, rules) is None) == all(_vendor_accepts(v, code) for v in vendors)


@settings(max_examples=200, deadline=None)
@given(digit=st.sampled_from("0123456789"), length=st.integers(4, 10))
def test_same_digit_codes_are_weak(digit: str, length: int) -> None:
    """111111, 0000, ..."""
    assert is_weak(digit * length)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, 9), length=st.integers(4, 10), step=st.sampled_from([1, -1]))
def test_runs_are_weak(start: int, length: int, step: int) -> None:
    """Ascending and descending runs, wrapping past 9 / 0 too."""
    assert is_weak("".join(str((start + step * i) % 10) for i in range(length)))


@settings(max_examples=200, deadline=None)
@given(chunk=st.text(alphabet="0123456789", min_size=2, max_size=3), repeats=st.integers(2, 4))
def test_repeated_groups_are_weak(chunk: str, repeats: int) -> None:
    """121212, 123123, 4545, ..."""
    assert is_weak(chunk * repeats)


@pytest.mark.parametrize("code", ["483920", "736251", "918273", "5839", "27364815"])
def test_ordinary_codes_are_not_weak(code: str) -> None:
    """Codes without a pattern pass."""
    assert not is_weak(code)


def test_tiny_codes_are_weak() -> None:
    """A single digit is never a code."""
    assert is_weak("7")


def test_problems_name_the_rule() -> None:
    """Each broken rule is reported with what the message needs."""
    nuki = rules_for(VENDOR_NUKI)
    assert code_problem("12a456", nuki) == CodeProblem(RULE_NOT_DIGITS, "")
    assert code_problem("", nuki) == CodeProblem(RULE_NOT_DIGITS, "")
    assert code_problem("45678", nuki) == CodeProblem(RULE_LENGTH, "6")
    assert code_problem("405678", nuki) == CodeProblem(RULE_DIGITS, "123456789")
    assert code_problem("124567", nuki) == CodeProblem(RULE_PREFIX, "12")
    assert code_problem("123", rules_for(VENDOR_UNIFI)) == CodeProblem(RULE_LENGTH, "4-8")
    assert code_problem("٣٤٥٦٧٨", nuki) == CodeProblem(RULE_NOT_DIGITS, "")  # non-ASCII digits


def test_combined_rules() -> None:
    """Nuki and UniFi together: 6 digits 1-9, not starting with 12."""
    both = combine([VENDOR_RULES[VENDOR_NUKI], VENDOR_RULES[VENDOR_UNIFI]])
    assert (both.min_length, both.max_length) == (6, 6)
    assert "0" not in both.digits
    assert both.forbidden_prefixes == {"12"}
    assert both.satisfiable
    assert combine([VENDOR_RULES[VENDOR_REMOTELOCK]]).preferred_length == 6
    assert CodeRules(8, 10).preferred_length == 8
    assert CodeRules(4, 5).preferred_length == 5


def test_contradicting_rules_raise() -> None:
    """Rules with nothing in common cannot produce a code."""
    for rules in (
        CodeRules(7, 6),
        CodeRules(4, 4, frozenset()),
        CodeRules(4, 4, frozenset("12"), frozenset({"1", "2"})),
    ):
        assert not rules.satisfiable
        with pytest.raises(NoCodeAvailableError):
            generate_code(rules)


def test_generator_gives_up_when_everything_is_taken() -> None:
    """A tiny code space that is fully taken raises instead of looping forever."""
    rules = CodeRules(2, 2, frozenset("12"))
    with pytest.raises(NoCodeAvailableError):
        generate_code(rules, taken={"12", "21"}, rng=random.Random(1))


def test_avoid_tails() -> None:
    """Only values with at least four digits count, and only their last four digits."""
    assert avoid_tails(["+34 612 345 678", "12", "x"]) == {"5678"}
    assert contains_avoided("956781", {"5678"})
    assert not contains_avoided("956718", {"5678"})


def test_generator_is_random_by_default() -> None:
    """Without a seeded generator the system's CSPRNG is used."""
    assert len({generate_code(rules_for(VENDOR_NUKI)) for _ in range(20)}) > 1
