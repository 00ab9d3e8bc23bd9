"""The set-based sweep's rules agree with ``decide`` on a grid, so the SQL CASE and the domain cannot drift."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.collections.domain.escalation import (
    CaseFacts,
    EffectiveStageRule,
    SweepBranch,
    decide,
    effective_rules,
    legal_route,
    sweep_table,
)
from services.collections.domain.limitation import limitation_cutoff_due_date, within_limitation
from services.collections.domain.policy import Policy, default_policy
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


BranchKey = tuple[Segment, LegalRoute, Stage | None, bool]


def _by_key(table: list[SweepBranch]) -> dict[BranchKey, list[SweepBranch]]:
    index: dict[BranchKey, list[SweepBranch]] = {}
    for branch in table:
        index.setdefault((branch.segment, branch.route, branch.from_stage, branch.promise_broken), []).append(branch)
    return index


def _sweep_target(
    table: dict[BranchKey, list[SweepBranch]],
    facts: CaseFacts,
    promise_broken: bool,
    as_of: date,
    limitation_years: int,
) -> tuple[Stage | None, tuple[Stage, ...]]:
    """A SQL-like evaluation of the sweep table: join on the key, filter, take the highest rank met."""
    days = (as_of - facts.due_date).days
    if days < 1:  # the sweep's WHERE: overdue invoices only
        return facts.current_stage, ()
    cutoff = limitation_cutoff_due_date(as_of, limitation_years)
    key = (facts.segment, facts.dispute_resolution.route, facts.current_stage, promise_broken)
    met = [
        branch
        for branch in table.get(key, [])
        if days >= branch.min_days_overdue
        and facts.outstanding >= branch.min_amount
        and (not branch.limitation_applies or facts.due_date >= cutoff)
    ]
    if not met:
        return facts.current_stage, ()
    best = max(met, key=lambda branch: branch.rank)
    return best.to_stage, best.stages_passed


@pytest.mark.parametrize("policy", [pytest.param(default_policy(), id="default"), pytest.param(CUSTOM, id="custom")])
def test_effective_rules_and_sweep_table_agree_with_decide_on_a_grid(policy: Policy) -> None:
    table = _by_key(sweep_table(policy))
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

            assert _sweep_target(table, facts, broken, AS_OF, policy.limitation_years) == (
                decision.to_stage,
                decision.stages_passed,
            ), (segment, clause, start, broken, days, amount)
            checked += 1
    assert checked == len(Segment) * len(CLAUSES) * len(STARTS) * 2 * len(DAYS) * len(AMOUNTS)


def test_sweep_table_shape() -> None:
    table = sweep_table(default_policy())
    keys = {(b.segment, b.route, b.from_stage, b.promise_broken) for b in table}
    assert len(keys) == len(Segment) * len(LegalRoute) * len(STARTS) * 2
    # arbitration and litigation never share a route
    for branch in table:
        assert branch.to_stage is not (
            Stage.LITIGATION if branch.route is LegalRoute.ARBITRATION else Stage.ARBITRATION
        )
        assert branch.limitation_applies is (branch.to_stage is Stage.LITIGATION)
    fresh_court = [
        b
        for b in table
        if (b.segment, b.route, b.from_stage, b.promise_broken) == (Segment.GENERAL, LegalRoute.COURT, None, False)
    ]
    assert [(b.to_stage, b.min_days_overdue, b.min_amount, b.stages_passed[-1]) for b in fresh_court] == [
        (Stage.LETTER, 1, Decimal("0.00"), Stage.LETTER),
        (Stage.VISIT, 30, Decimal("0.00"), Stage.VISIT),
        (Stage.AGENCY, 60, Decimal("10000.00"), Stage.AGENCY),
        (Stage.LITIGATION, 90, Decimal("50000.00"), Stage.LITIGATION),
    ]


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
