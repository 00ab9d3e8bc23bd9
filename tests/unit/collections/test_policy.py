"""The escalation policy: the default table, its dict form, and validation listing every problem."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from services.collections.domain.policy import (
    AllocationBucket,
    Policy,
    SegmentStrategy,
    StageRule,
    SupplyStop,
    default_policy,
    revise,
)
from services.collections.domain.stage_rules import effective_rules
from services.collections.domain.stages import LegalRoute, Segment
from shared.errors import DomainRuleViolation
from shared.stage import Stage


def test_default_policy_is_the_table_of_the_product_spec() -> None:
    policy = default_policy()
    table = [(r.stage, r.min_days_overdue, r.min_amount, r.cost) for r in policy.stages]
    assert table == [
        (Stage.LETTER, 1, Decimal("0"), Decimal("5")),
        (Stage.VISIT, 30, Decimal("0"), Decimal("200")),
        (Stage.AGENCY, 60, Decimal("10000"), Decimal("0")),
        (Stage.ARBITRATION, 90, Decimal("0"), Decimal("3000")),
        (Stage.LITIGATION, 90, Decimal("50000"), Decimal("5000")),
    ]
    assert policy.version == 1
    assert policy.stop_supply_stage is Stage.AGENCY
    assert policy.limitation_years == 3
    assert policy.penalty_interest_annual_rate == Decimal("0.1825")  # 0.05 % a day × 365
    assert policy.allocation_order == (
        AllocationBucket.COSTS,
        AllocationBucket.PENALTY_INTEREST,
        AllocationBucket.PRINCIPAL,
    )
    assert policy.strategy_for(Segment.HIGH_RISK) == SegmentStrategy(Decimal("0.5"), False, SupplyStop.AT_ONCE)
    assert policy.strategy_for(Segment.KEY_ACCOUNT).visit_first is True
    assert all(rule.action for rule in policy.stages)


def test_dict_round_trip_keeps_decimals_exact_as_strings() -> None:
    policy = default_policy()
    data = policy.to_dict()
    assert data["stages"][2] == {
        "stage": "agency",
        "min_days_overdue": 60,
        "min_amount": "10000.00",
        "action": policy.rule_for(Stage.AGENCY).action,
        "cost": "0.00",
        "recoverable": False,
    }
    assert data["penalty_interest_annual_rate"] == "0.1825"
    assert data["segments"]["high_risk"] == {"day_factor": "0.5", "visit_first": False, "supply_stop": "at_once"}
    assert Policy.from_dict(data) == policy


def test_from_dict_fills_defaults_for_everything_but_the_stages() -> None:
    policy = Policy.from_dict(
        {
            "stages": [
                {"stage": "letter", "min_days_overdue": 3},
                {"stage": "visit", "min_days_overdue": 20},
                {"stage": "agency", "min_days_overdue": 45, "min_amount": "5000"},
                {"stage": "arbitration", "min_days_overdue": 75},
                {"stage": "litigation", "min_days_overdue": 75, "min_amount": "30000", "cost": "4000.00"},
            ]
        }
    )
    assert policy.rule_for(Stage.AGENCY).min_amount == Decimal("5000")
    assert policy.rule_for(Stage.LITIGATION).cost == Decimal("4000.00")
    assert policy.rule_for(Stage.VISIT).cost == Decimal("200.00")  # default cost of the stage
    assert policy.limitation_years == 3


def test_revise_bumps_the_version_and_ignores_a_version_in_the_body() -> None:
    current = default_policy()
    data = current.to_dict() | {"version": 99, "penalty_interest_annual_rate": "0.10"}
    revised = revise(current, data)
    assert revised.version == 2
    assert revised.penalty_interest_annual_rate == Decimal("0.10")


def test_arbitration_and_litigation_are_alternatives_so_either_may_have_fewer_days() -> None:
    data = default_policy().to_dict()
    data["stages"][3]["min_days_overdue"] = 120  # arbitration later than litigation: fine
    data["stages"][4]["min_days_overdue"] = 70
    assert Policy.from_dict(data).rule_for(Stage.ARBITRATION).min_days_overdue == 120


def _mutated(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(default_policy().to_dict())
    change(data)
    return data


def _swap_first_two(data: dict[str, Any]) -> None:
    data["stages"][0], data["stages"][1] = data["stages"][1], data["stages"][0]


INVALID = [
    pytest.param(_swap_first_two, "stages[1].stage", "out of order", id="visit-before-letter"),
    pytest.param(
        lambda d: d["stages"][2].update(min_days_overdue=20),
        "stages[2].min_days_overdue",
        "must not decrease",
        id="agency-days-below-visit",
    ),
    pytest.param(
        lambda d: d["stages"][4].update(min_days_overdue=59),
        "stages[4].min_days_overdue",
        "must not decrease",
        id="litigation-days-below-agency",
    ),
    pytest.param(
        lambda d: d["stages"][0].update(min_days_overdue=0), "stages[0].min_days_overdue", ">= 1", id="zero-days"
    ),
    pytest.param(
        lambda d: d["stages"][2].update(min_amount="-0.01"), "stages[2].min_amount", "negative", id="negative-amount"
    ),
    pytest.param(lambda d: d["stages"][1].update(cost="-200"), "stages[1].cost", "negative", id="negative-cost"),
    pytest.param(
        lambda d: d.update(penalty_interest_annual_rate="-0.01"),
        "penalty_interest_annual_rate",
        "negative",
        id="negative-rate",
    ),
    pytest.param(
        lambda d: d.update(penalty_interest_annual_rate="18.25"),
        "penalty_interest_annual_rate",
        "fraction",
        id="rate-given-as-percent",
    ),
    pytest.param(
        lambda d: d["stages"][0].update(stage="courier"), "stages[0].stage", "unknown value", id="unknown-stage"
    ),
    pytest.param(
        lambda d: d["stages"][2].update(stage="visit"), "stages[2].stage", "duplicate stage", id="duplicate-stage"
    ),
    pytest.param(lambda d: d["stages"].pop(2), "stages", "missing stage 'agency'", id="missing-stage"),
    pytest.param(lambda d: d.update(stages=[]), "stages", "non-empty", id="no-stages"),
    pytest.param(
        lambda d: d["stages"][2].update(min_amount=10000.0), "stages[2].min_amount", "as a string", id="float-amount"
    ),
    pytest.param(
        lambda d: d["stages"][2].update(min_amount="ten"),
        "stages[2].min_amount",
        "not a decimal",
        id="malformed-amount",
    ),
    pytest.param(
        lambda d: d["stages"][2].update(min_days_overdue="60"),
        "stages[2].min_days_overdue",
        "whole number",
        id="days-as-text",
    ),
    pytest.param(lambda d: d.update(limitation_years=0), "limitation_years", "at least 1", id="zero-years"),
    pytest.param(
        lambda d: d.update(stop_supply_stage="never"), "stop_supply_stage", "unknown value", id="unknown-stop-stage"
    ),
    pytest.param(
        lambda d: d.update(allocation_order=["costs", "costs", "principal"]),
        "allocation_order",
        "exactly once",
        id="allocation-duplicate",
    ),
    pytest.param(
        lambda d: d["segments"]["high_risk"].update(day_factor="0"),
        "segments.high_risk.day_factor",
        "not positive",
        id="zero-day-factor",
    ),
    pytest.param(lambda d: d["segments"].update(vip={}), "segments.vip", "unknown value", id="unknown-segment"),
    pytest.param(lambda d: d.update(stages_typo=[]), "stages_typo", "unknown field", id="unknown-field"),
]


@pytest.mark.parametrize(("change", "field", "message"), INVALID)
def test_invalid_policy_is_refused_naming_the_field(change: Any, field: str, message: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        Policy.from_dict(_mutated(change))
    matching = [e for e in raised.value.errors if e["field"] == field]
    assert matching, raised.value.errors
    assert any(message in e["message"] for e in matching), matching


def test_every_problem_is_listed_at_once() -> None:
    def many(data: dict[str, Any]) -> None:
        _swap_first_two(data)
        data["penalty_interest_annual_rate"] = "-1"
        data["stages"][2]["min_amount"] = "-5"
        data["stages"][3]["stage"] = "mediation"

    with pytest.raises(DomainRuleViolation) as raised:
        Policy.from_dict(_mutated(many))
    fields = {error["field"] for error in raised.value.errors}
    assert {"stages[1].stage", "penalty_interest_annual_rate", "stages[2].min_amount", "stages[3].stage"} <= fields
    assert raised.value.status == 422


def test_constructing_an_invalid_policy_directly_raises_too() -> None:
    stages = list(default_policy().stages)
    stages[1], stages[2] = stages[2], stages[1]
    with pytest.raises(DomainRuleViolation) as raised:
        Policy(stages=tuple(stages))
    assert any("out of order" in e["message"] for e in raised.value.errors)


def _policy_with_visit_days(days: int) -> Policy:
    base = default_policy()
    stages = tuple(
        StageRule(r.stage, days if r.stage is Stage.VISIT else r.min_days_overdue, r.min_amount, r.action, r.cost)
        for r in base.stages
    )
    return Policy(stages=stages)


@pytest.mark.parametrize(
    ("segment", "visit_days", "expected"),
    [
        # general: the table as written
        pytest.param(
            Segment.GENERAL,
            30,
            [(Stage.LETTER, 1), (Stage.VISIT, 30), (Stage.AGENCY, 60), (Stage.LITIGATION, 90)],
            id="general",
        ),
        # high risk: 1×0.5→1 (at least 1), 30→15, 60→30, 90→45
        pytest.param(
            Segment.HIGH_RISK,
            30,
            [(Stage.LETTER, 1), (Stage.VISIT, 15), (Stage.AGENCY, 30), (Stage.LITIGATION, 45)],
            id="high-risk-halved",
        ),
        # 31 × 0.5 = 15.5, rounded up to 16
        pytest.param(
            Segment.HIGH_RISK,
            31,
            [(Stage.LETTER, 1), (Stage.VISIT, 16), (Stage.AGENCY, 30), (Stage.LITIGATION, 45)],
            id="high-risk-rounded-up",
        ),
        # key account: the letter is replaced by a visit at the letter's day
        pytest.param(
            Segment.KEY_ACCOUNT,
            30,
            [(Stage.VISIT, 1), (Stage.AGENCY, 60), (Stage.LITIGATION, 90)],
            id="key-account-visit-first",
        ),
    ],
)
def test_effective_rules_per_segment(segment: Segment, visit_days: int, expected: list[tuple[Stage, int]]) -> None:
    rules = effective_rules(_policy_with_visit_days(visit_days), segment, LegalRoute.COURT)
    assert [(rule.stage, rule.min_days_overdue) for rule in rules] == expected
    assert [rule.limitation_applies for rule in rules][-1] is True


def test_effective_amounts_are_cumulative_and_depend_on_the_starting_stage() -> None:
    policy = default_policy()
    fresh = effective_rules(policy, Segment.GENERAL, LegalRoute.ARBITRATION)
    # arbitration has no own threshold, but a fresh case must pass agency's 10,000 on the way
    assert [(r.stage, r.min_amount) for r in fresh][-2:] == [
        (Stage.AGENCY, Decimal("10000.00")),
        (Stage.ARBITRATION, Decimal("10000.00")),
    ]
    from_agency = effective_rules(policy, Segment.GENERAL, LegalRoute.ARBITRATION, Stage.AGENCY)
    assert [(r.stage, r.min_amount) for r in from_agency] == [(Stage.ARBITRATION, Decimal("0.00"))]
    assert effective_rules(policy, Segment.GENERAL, LegalRoute.COURT, Stage.LITIGATION) == []
    broken = effective_rules(policy, Segment.GENERAL, LegalRoute.COURT, Stage.VISIT, promise_broken=True)
    assert [(r.stage, r.min_days_overdue) for r in broken] == [(Stage.AGENCY, 0), (Stage.LITIGATION, 90)]
