"""``effective_rules`` (what the sweep's SQL compiles) agree with ``decide`` on a grid; the compiled SQL itself is
run against ``decide`` in tests/api/test_collections_sweep_sql.py."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.collections.domain.escalation import CaseFacts, decide
from services.collections.domain.limitation import limitation_cutoff_due_date, within_limitation
from services.collections.domain.policy import Policy, default_policy
from services.collections.domain.stage_rules import EffectiveStageRule, effective_rules, legal_route
from services.collections.domain.stages import DisputeResolution, LegalRoute, Segment
from shared.stage import Stage

AS_OF = date(2029, 6, 30)
DAYS = [
    -3,
    0,
    1,
    2,
    5,
    9,
    14,
    15,
    16,
    23,
    29,
    30,
    31,
    36,
    44,
    45,
    46,
    59,
    60,
    61,
    89,
    90,
    91,
    99,
    100,
    119,
    120,
    400,
    730,
    731,
    1095,
    1096,
    1500,
]
AMOUNTS = [
    "0.01",
    "99.99",
    "100.00",
    "4999.99",
    "5000.00",
    "9999.99",
    "10000.00",
    "19999.99",
    "20000.00",
    "29999.99",
    "30000.00",
    "49999.99",
    "50000.00",
    "60000.00",
]
CLAUSES = [DisputeResolution.court(), DisputeResolution.arbitration("CIETAC")]
STARTS: list[Stage | None] = [None, Stage.LETTER, Stage.VISIT, Stage.AGENCY]

CUSTOM = Policy.from_dict(
    {
        "version": 7,
        "stages": [
            {"stage": "letter", "min_days_overdue": 5, "min_amount": "100.00"},
            {"stage": "visit", "min_days_overdue": 20},
            {"stage": "agency", "min_days_overdue": 45, "min_amount": "5000.00"},
            {"stage": "arbitration", "min_days_overdue": 100, "min_amount": "20000.00"},
            {"stage": "litigation", "min_days_overdue": 120, "min_amount": "30000.00"},
        ],
        "stop_supply_stage": "visit",
        "limitation_years": 2,
        "segments": {"high_risk": {"day_factor": "0.3"}, "key_account": {"day_factor": "0.8"}},
    }
)


def _first_match_from_the_top(
    rules: list[EffectiveStageRule], days: int, amount: Decimal, within: bool
) -> EffectiveStageRule | None:
    """What ``CASE WHEN <last rule> THEN ... WHEN <first rule> THEN ... END`` picks."""
    for rule in reversed(rules):
        if rule.matches(days, amount, within):
            return rule
    return None


@pytest.mark.parametrize("policy", [pytest.param(default_policy(), id="default"), pytest.param(CUSTOM, id="custom")])
def test_effective_rules_agree_with_decide_on_a_grid(policy: Policy) -> None:
    checked = 0
    for segment, clause, start, broken in itertools.product(Segment, CLAUSES, STARTS, (False, True)):
        rules = effective_rules(policy, segment, clause, start, promise_broken=broken)
        for days, amount_text in itertools.product(DAYS, AMOUNTS):
            amount = Decimal(amount_text)
            due = AS_OF - timedelta(days=days)
            facts = CaseFacts(
                due_date=due,
                outstanding=amount,
                current_stage=start,
                segment=segment,
                dispute_resolution=clause,
                promise_to_pay=AS_OF - timedelta(days=1) if broken else None,
            )
            decision = decide(facts, policy, AS_OF)

            within = within_limitation(due, AS_OF, policy.limitation_years)
            top = _first_match_from_the_top(rules, days, amount, within) if days >= 1 else None
            assert decision.to_stage == (top.stage if top else start), (segment, clause, start, days, amount)
            if top is not None:
                assert decision.steps[-1].rule == top.rule
            checked += 1
    assert checked == len(Segment) * len(CLAUSES) * len(STARTS) * 2 * len(DAYS) * len(AMOUNTS)


@pytest.mark.parametrize(
    ("as_of", "years", "cutoff"),
    [
        pytest.param(date(2029, 6, 30), 3, date(2026, 6, 30), id="plain"),
        pytest.param(date(2027, 2, 28), 3, date(2024, 2, 28), id="leap-day-due-clamps-to-28-feb"),
        # due 2025-02-28 expires 2028-02-28, the day before: outside
        pytest.param(date(2028, 2, 29), 3, date(2025, 3, 1), id="as-of-on-leap-day"),
        pytest.param(date(2028, 3, 1), 4, date(2024, 3, 1), id="four-years"),
    ],
)
def test_limitation_cutoff_examples(as_of: date, years: int, cutoff: date) -> None:
    assert limitation_cutoff_due_date(as_of, years) == cutoff


def test_limitation_cutoff_is_exact_around_leap_years() -> None:
    start = date(2027, 2, 20)
    for offset in range(0, 800, 3):
        as_of = start + timedelta(days=offset)
        for years in (1, 2, 3):
            cutoff = limitation_cutoff_due_date(as_of, years)
            for delta in range(-3, 4):
                due = cutoff + timedelta(days=delta)
                assert (due >= cutoff) is within_limitation(due, as_of, years), (as_of, years, due)


def test_legal_route_of_each_clause_form() -> None:
    assert legal_route(DisputeResolution.arbitration("CIETAC")) is LegalRoute.ARBITRATION
    assert legal_route(DisputeResolution()) is LegalRoute.COURT
    assert legal_route(LegalRoute.ARBITRATION) is LegalRoute.ARBITRATION
