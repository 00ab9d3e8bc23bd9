"""build_limit_policy lists every problem of an edited limit policy; other-currency exposure blocks a check."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from services.credit.domain.checks import BlockReason, CreditFacts, check_credit
from services.credit.domain.grades import Grade
from services.credit.domain.limits import build_limit_policy, limit_by_grade
from shared.errors import DomainRuleViolation

RULES = {Grade.A: (D(900), None), Grade.B: (None, D(2)), Grade.C: (D(100), None), Grade.D: (D(0), None)}


def test_valid_policy_drives_the_grade_limit() -> None:
    policy = build_limit_policy(RULES, D(30), D(40))
    assert limit_by_grade(Grade.A, policy) == D("900.00")
    assert limit_by_grade(Grade.B, policy, D("1000.005")) == D("2000.01")
    assert policy.working_capital_percent == D(30) and policy.liquidation_value_percent == D(40)


def test_every_problem_is_listed() -> None:
    rules = {**RULES, Grade.A: (D(-1), None), Grade.B: (None, None)}
    del rules[Grade.D]
    with pytest.raises(DomainRuleViolation) as caught:
        build_limit_policy(rules, D(0), D("100.01"))
    assert [e["field"] for e in caught.value.errors] == [
        "grades.A.amount",
        "grades.B",
        "grades.D",
        "working_capital_percent",
        "liquidation_value_percent",
    ]


def test_other_currency_exposure_blocks_with_currency_mismatch() -> None:
    facts = CreditFacts(Grade.A, D(1000), D(0), on_hold=False, other_currency_exposure=("USD",))
    decision = check_credit(facts, D(10))
    assert decision.reasons == (BlockReason.CURRENCY_MISMATCH,)
    assert check_credit(CreditFacts(Grade.A, D(1000), D(0), on_hold=False), D(10)).reasons == ()
