"""The collection strategy segment of a debtor (product.md section 5, "strategy by segment").

Key accounts (long-term, large) are visited by a manager first and may keep being supplied while their
arrears are not malicious; general customers follow the standard sequence; high-risk customers (grade D,
marked high risk in the registry, or on credit hold for a reason other than collections) have supply
stopped at once and every delay halved.

A hold that a collection stage caused never re-classifies the customer: otherwise reaching the agency
stage would place a hold, the hold would make the debtor high risk, the halved delays would send the
very debt that caused it to court the next day. So only a hold *independent* of collections counts.

The rule is data (``SEGMENT_RULE``): ``segment_for`` evaluates it here and the sweep compiles the same
rule to SQL, so there is one rule with two readers, never two rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from services.collections.domain.stages import Segment

# Credit's reasons for a hold that a collection case caused (the wire values of CreditHoldPlaced.reasons).
COLLECTION_HOLD_REASONS = frozenset({"collection_stage_reached", "overdue_outstanding", "malicious_arrears"})


def hold_is_independent(on_hold: bool, reasons: Iterable[str]) -> bool:
    """On hold for a reason other than a collection case (grade D, a credit manager's hold ...).

    A hold whose reasons are unknown (an older event without them) is taken as caused by collections: it
    must not shorten a ladder on a guess; grade D is seen from the grade itself.
    """
    return on_hold and any(reason not in COLLECTION_HOLD_REASONS for reason in reasons)


Fact = Literal["directory_segment", "credit_grade", "independent_hold"]


@dataclass(frozen=True)
class SegmentFacts:
    """What decides a debtor's segment: the registry's marking, the credit grade, an independent hold."""

    directory_segment: str | None = None
    credit_grade: str | None = None
    independent_hold: bool = False


@dataclass(frozen=True)
class SegmentTest:
    """One condition of the rule: ``fact`` is one of ``values`` (text compared case-insensitively)."""

    fact: Fact
    values: frozenset[str | bool]

    def holds(self, facts: SegmentFacts) -> bool:
        """Whether ``facts`` meet this condition (a missing fact meets none)."""
        value = getattr(facts, self.fact)
        if value is None:
            return False
        if isinstance(value, str):
            return value.casefold() in self.values
        return value in self.values


HIGH_RISK_GRADES = frozenset({"d"})

# Tried in order; the first segment one of whose conditions holds is the debtor's segment.
SEGMENT_RULE: tuple[tuple[Segment, tuple[SegmentTest, ...]], ...] = (
    (
        Segment.HIGH_RISK,
        (
            SegmentTest("independent_hold", frozenset({True})),
            SegmentTest("credit_grade", frozenset(HIGH_RISK_GRADES)),
            SegmentTest("directory_segment", frozenset({Segment.HIGH_RISK.value})),
        ),
    ),
    (Segment.KEY_ACCOUNT, (SegmentTest("directory_segment", frozenset({Segment.KEY_ACCOUNT.value})),)),
)
DEFAULT_SEGMENT = Segment.GENERAL


def segment_for(facts: SegmentFacts) -> Segment:
    """The debtor's segment under ``SEGMENT_RULE``: high risk wins over key account; general otherwise."""
    for segment, tests in SEGMENT_RULE:
        if any(test.holds(facts) for test in tests):
            return segment
    return DEFAULT_SEGMENT
