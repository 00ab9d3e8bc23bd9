"""Payments: allocation over costs, penalty interest and principal; discount settlement; penalty interest."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.collections.domain.allocation import allocate_payment, settle_with_discount
from services.collections.domain.interest import PenaltyRate, PenaltyRateBasis, penalty_interest, penalty_rate
from services.collections.domain.policy import AllocationBucket
from shared.errors import DomainRuleViolation
from shared.terms import parse_terms

D = Decimal
COSTS, INTEREST, PRINCIPAL = AllocationBucket.COSTS, AllocationBucket.PENALTY_INTEREST, AllocationBucket.PRINCIPAL


@pytest.mark.parametrize(
    ("payment", "order", "expected"),
    [
        # due: costs 30.00, interest 20.00, principal 1,000.00 (total 1,050.00)
        pytest.param("100.00", (COSTS, INTEREST, PRINCIPAL), ("30.00", "20.00", "50.00"), id="default-order"),
        pytest.param("25.00", (COSTS, INTEREST, PRINCIPAL), ("25.00", "0", "0"), id="costs-only-partly"),
        pytest.param("45.50", (COSTS, INTEREST, PRINCIPAL), ("30.00", "15.50", "0"), id="into-interest"),
        pytest.param("1050.00", (COSTS, INTEREST, PRINCIPAL), ("30.00", "20.00", "1000.00"), id="exact-total"),
        pytest.param("100.00", (PRINCIPAL, INTEREST, COSTS), ("0", "0", "100.00"), id="principal-first"),
        pytest.param("1010.00", (PRINCIPAL, INTEREST, COSTS), ("0", "10.00", "1000.00"), id="principal-then-interest"),
        pytest.param("60.00", (INTEREST, COSTS, PRINCIPAL), ("30.00", "20.00", "10.00"), id="interest-first"),
    ],
)
def test_allocation(payment: str, order: tuple[AllocationBucket, ...], expected: tuple[str, str, str]) -> None:
    allocation = allocate_payment(D(payment), D("30.00"), D("20.00"), D("1000.00"), order)
    assert (allocation.costs, allocation.penalty_interest, allocation.principal) == tuple(D(x) for x in expected)
    assert allocation.total == D(payment)


@pytest.mark.parametrize(
    ("payment", "costs", "interest", "principal", "order", "message"),
    [
        pytest.param("1050.01", "30", "20", "1000", None, "overpayment", id="overpayment-by-a-cent"),
        pytest.param("1", "0", "0", "0", None, "overpayment", id="nothing-due"),
        pytest.param("0", "30", "20", "1000", None, "greater than zero", id="zero-payment"),
        pytest.param("-5", "30", "20", "1000", None, "greater than zero", id="negative-payment"),
        pytest.param("10", "-1", "20", "1000", None, "negative", id="negative-costs"),
        pytest.param("10", "30", "20", "1000", (COSTS, COSTS, PRINCIPAL), "exactly once", id="bad-order"),
        pytest.param("10", "30", "20", "1000", (COSTS, PRINCIPAL), "exactly once", id="short-order"),
    ],
)
def test_allocation_refusals(
    payment: str, costs: str, interest: str, principal: str, order: tuple[AllocationBucket, ...] | None, message: str
) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        if order is None:
            allocate_payment(D(payment), D(costs), D(interest), D(principal))
        else:
            allocate_payment(D(payment), D(costs), D(interest), D(principal), order)
    assert message in raised.value.detail


ISSUED = date(2026, 1, 1)


def on(days_after_issue: int) -> date:
    return ISSUED + timedelta(days=days_after_issue)


@pytest.mark.parametrize(
    ("terms", "outstanding", "payment", "paid_day", "settled", "discount", "remaining"),
    [
        # 2/10 on 10,000.00: 9,800.00 on day 10 (window inclusive) settles, 200.00 forgiven
        pytest.param("2/10, n/30", "10000.00", "9800.00", 10, True, "200.00", "0.00", id="discount-last-day"),
        pytest.param("2/10, n/30", "10000.00", "9800.00", 11, False, "0", "200.00", id="window-closed"),
        pytest.param("2/10, n/30", "10000.00", "10000.00", 3, True, "0.00", "0.00", id="full-payment-in-window"),
        pytest.param("2/10, n/30", "10000.00", "5000.00", 5, False, "0", "5000.00", id="partial-in-window"),
        # 4,000.00 paid before; 5,800.00 more reaches the 9,800.00 discounted total
        pytest.param("2/10, n/30", "6000.00", "5800.00", 9, True, "200.00", "0.00", id="earlier-payments-count"),
        # 3/10, 2/20: 9,700.00 by day 10, 9,800.00 by day 20
        pytest.param("3/10, 2/20, n/30", "10000.00", "9700.00", 10, True, "300.00", "0.00", id="first-tier"),
        pytest.param("3/10, 2/20, n/30", "10000.00", "9800.00", 15, True, "200.00", "0.00", id="second-tier"),
        pytest.param("3/10, 2/20, n/30", "10000.00", "9700.00", 15, False, "0", "300.00", id="short-of-tier-2"),
        pytest.param("n/30", "10000.00", "10000.00", 40, True, "0", "0.00", id="no-discount-terms"),
    ],
)
def test_discount_settlement(
    terms: str, outstanding: str, payment: str, paid_day: int, settled: bool, discount: str, remaining: str
) -> None:
    result = settle_with_discount(D("10000.00"), D(outstanding), D(payment), parse_terms(terms), ISSUED, on(paid_day))
    assert result.settled is settled
    assert result.discount_granted == D(discount)
    assert result.principal_remaining == D(remaining)
    assert result.principal_applied == D(payment)


def test_discounted_total_rounds_half_up() -> None:
    # 1,234.25 × 0.975 = 1,203.39375 → 1,203.39; 1,234.30 × 0.975 = 1,203.4425 → 1,203.44
    terms = parse_terms("2.5/10, n/30")
    assert settle_with_discount(D("1234.25"), D("1234.25"), D("1"), terms, ISSUED, on(1)).discounted_total == D(
        "1203.39"
    )
    assert settle_with_discount(D("1234.30"), D("1234.30"), D("1"), terms, ISSUED, on(1)).discounted_total == D(
        "1203.44"
    )


@pytest.mark.parametrize(
    ("outstanding", "payment", "message"),
    [
        pytest.param("10000.00", "10000.01", "overpayment", id="overpayment"),
        pytest.param("0.00", "1.00", "overpayment", id="paid-invoice"),
        pytest.param("10000.00", "0", "greater than zero", id="zero"),
        pytest.param("10000.00", "-1", "greater than zero", id="negative"),
        pytest.param("10000.01", "1", "exceeds the invoice", id="outstanding-above-invoice"),
    ],
)
def test_discount_settlement_refusals(outstanding: str, payment: str, message: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        settle_with_discount(D("10000.00"), D(outstanding), D(payment), parse_terms("2/10, n/30"), ISSUED, on(3))
    assert message in raised.value.detail


@pytest.mark.parametrize(
    ("principal", "rate", "days", "expected"),
    [
        # 10,000 × 0.1825 × 30 / 365 = 150.00
        pytest.param("10000.00", "0.1825", 30, "150.00", id="30-days"),
        # 60,000 × 0.1825 / 365 = 30.00 a day
        pytest.param("60000.00", "0.1825", 1, "30.00", id="one-day"),
        # 1,234.56 × 0.1 × 45 / 365 = 15.2206… → 15.22
        pytest.param("1234.56", "0.1", 45, "15.22", id="rounds-down"),
        # 18.25 × 0.1 / 365 = 0.005 exactly → 0.01 (half up, not banker's)
        pytest.param("18.25", "0.1", 1, "0.01", id="half-up"),
        # 50,000 × 0.06 × 366 / 365 = 3,008.219… → 3,008.22 (a 365-day year even over a leap year)
        pytest.param("50000.00", "0.06", 366, "3008.22", id="365-day-year"),
        pytest.param("10000.00", "0.1825", 0, "0.00", id="same-day"),
        pytest.param("10000.00", "0", 30, "0.00", id="zero-rate"),
    ],
)
def test_penalty_interest(principal: str, rate: str, days: int, expected: str) -> None:
    start = date(2027, 12, 31)
    assert penalty_interest(D(principal), D(rate), start, start + timedelta(days=days)) == D(expected)


@pytest.mark.parametrize(
    ("principal", "rate", "start", "end"),
    [
        pytest.param("-1", "0.1", date(2026, 1, 1), date(2026, 2, 1), id="negative-principal"),
        pytest.param("100", "-0.1", date(2026, 1, 1), date(2026, 2, 1), id="negative-rate"),
        pytest.param("100", "0.1", date(2026, 2, 1), date(2026, 1, 1), id="ends-before-start"),
    ],
)
def test_penalty_interest_refusals(principal: str, rate: str, start: date, end: date) -> None:
    with pytest.raises(DomainRuleViolation):
        penalty_interest(D(principal), D(rate), start, end)


DAYS_30 = (date(2026, 1, 31), date(2026, 3, 2))


@pytest.mark.parametrize(
    ("contract_rate", "rate", "basis"),
    [
        (None, "0.1825", PenaltyRateBasis.POLICY_DEFAULT),
        (D("0.1095"), "0.1095", PenaltyRateBasis.CONTRACT),
        (D("0"), "0", PenaltyRateBasis.CONTRACT),  # a contract may waive penalty interest
    ],
)
def test_penalty_rate_from_the_contract_else_the_policy(contract_rate: Decimal | None, rate: str, basis: str) -> None:
    assert penalty_rate(contract_rate, D("0.1825")) == PenaltyRate(D(rate), PenaltyRateBasis(basis))
    # 10,000.00 for 30 days at the contract's 0.1095 = 90.00 instead of 150.00 at the default
    if contract_rate == D("0.1095"):
        assert penalty_interest(D("10000.00"), penalty_rate(contract_rate, D("0.1825")).annual_rate, *DAYS_30) == D(
            "90.00"
        )
