"""Limitation (诉讼时效) under PRC Civil Code art. 195: the period restarts at every interruption."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from services.collections.domain.actions import litigation_filing
from services.collections.domain.escalation import CaseFacts, decide
from services.collections.domain.limitation import LimitationBasis, LimitationStart, interrupt
from services.collections.domain.policy import default_policy
from services.collections.domain.stages import DisputeResolution
from shared.errors import DomainRuleViolation
from shared.stage import Stage

B = LimitationBasis
DUE = date(2026, 1, 31)
FROM_DUE = LimitationStart.from_due_date(DUE)  # expires 2029-01-31
POLICY = default_policy()


@pytest.mark.parametrize(
    ("start", "on", "basis", "expected"),
    [
        pytest.param(FROM_DUE, date(2026, 2, 1), B.DUNNING_LETTER, LimitationStart(date(2026, 2, 1), B.DUNNING_LETTER)),
        pytest.param(FROM_DUE, date(2026, 3, 2), B.VISIT_DEMAND, LimitationStart(date(2026, 3, 2), B.VISIT_DEMAND)),
        pytest.param(
            FROM_DUE, date(2027, 5, 1), B.ACKNOWLEDGEMENT, LimitationStart(date(2027, 5, 1), B.ACKNOWLEDGEMENT)
        ),
        pytest.param(FROM_DUE, date(2026, 4, 1), B.PROMISE_TO_PAY, LimitationStart(date(2026, 4, 1), B.PROMISE_TO_PAY)),
        pytest.param(
            FROM_DUE, date(2026, 6, 1), B.PARTIAL_PAYMENT, LimitationStart(date(2026, 6, 1), B.PARTIAL_PAYMENT)
        ),
        pytest.param(FROM_DUE, date(2026, 5, 1), B.FILING, LimitationStart(date(2026, 5, 1), B.FILING)),
        # an older or same-day interruption keeps the later start
        pytest.param(
            LimitationStart(date(2026, 6, 1), B.PARTIAL_PAYMENT),
            date(2026, 5, 1),
            B.DUNNING_LETTER,
            LimitationStart(date(2026, 6, 1), B.PARTIAL_PAYMENT),
        ),
        pytest.param(FROM_DUE, DUE, B.DUNNING_LETTER, FROM_DUE),
        # the last day of the period still interrupts it
        pytest.param(
            FROM_DUE, date(2029, 1, 31), B.DUNNING_LETTER, LimitationStart(date(2029, 1, 31), B.DUNNING_LETTER)
        ),
        # expired: the creditor's demand does not revive it, the debtor's acknowledgement or payment does
        pytest.param(FROM_DUE, date(2029, 2, 1), B.DUNNING_LETTER, FROM_DUE),
        pytest.param(FROM_DUE, date(2029, 2, 1), B.FILING, FROM_DUE),
        pytest.param(
            FROM_DUE, date(2029, 6, 1), B.PARTIAL_PAYMENT, LimitationStart(date(2029, 6, 1), B.PARTIAL_PAYMENT)
        ),
        pytest.param(FROM_DUE, date(2029, 6, 1), B.PROMISE_TO_PAY, LimitationStart(date(2029, 6, 1), B.PROMISE_TO_PAY)),
    ],
)
def test_interruption_restarts_the_period(
    start: LimitationStart, on: date, basis: LimitationBasis, expected: LimitationStart
) -> None:
    assert interrupt(start, on, basis, years=3) == expected


def test_the_due_date_is_no_interruption() -> None:
    with pytest.raises(ValueError):
        interrupt(FROM_DUE, date(2026, 3, 1), B.DUE_DATE, years=3)


def facts(limitation: LimitationStart | None) -> CaseFacts:
    return CaseFacts(
        due_date=DUE,
        outstanding=Decimal("60000.00"),
        current_stage=Stage.AGENCY,
        dispute_resolution=DisputeResolution.court(),
        limitation=limitation,
    )


def test_an_interrupted_claim_goes_to_court_after_three_years_from_the_due_date() -> None:
    as_of = date(2029, 6, 1)  # past 2029-01-31, the expiry counted from the due date
    from_due = decide(facts(None), POLICY, as_of)
    assert from_due.to_stage is Stage.AGENCY and from_due.write_off_review
    assert from_due.write_off_reason is not None and "from due date on 2026-01-31" in from_due.write_off_reason
    paid_part = LimitationStart(date(2027, 3, 1), B.PARTIAL_PAYMENT)  # expires 2030-03-01
    interrupted = decide(facts(paid_part), POLICY, as_of)
    assert interrupted.to_stage is Stage.LITIGATION and not interrupted.write_off_review
    later = decide(replace(facts(paid_part)), POLICY, date(2030, 3, 2))
    assert later.write_off_review and later.write_off_reason is not None
    assert "last interruption (partial_payment) on 2027-03-01 expired on 2030-03-01" in later.write_off_reason


def test_court_filing_counts_from_the_last_interruption() -> None:
    def file(limitation: LimitationStart | None) -> Stage:
        return litigation_filing(
            DisputeResolution.court(),
            DUE,
            Decimal("60000.00"),
            Decimal(0),
            Decimal(0),
            date(2029, 6, 1),
            POLICY,
            limitation=limitation,
        ).stage

    with pytest.raises(DomainRuleViolation):
        file(None)
    assert file(LimitationStart(date(2027, 3, 1), B.ACKNOWLEDGEMENT)) is Stage.LITIGATION
