"""Applying a payment: allocation over costs, penalty interest and principal, and discount settlement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.collections.domain.money import require_non_negative, require_positive
from services.collections.domain.policy import DEFAULT_ALLOCATION_ORDER, AllocationBucket
from shared.errors import DomainRuleViolation
from shared.money import ZERO, to_cents
from shared.terms import CreditTerms

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Allocation:
    """How one payment was split; the three parts add up to the payment exactly."""

    costs: Decimal
    penalty_interest: Decimal
    principal: Decimal

    @property
    def total(self) -> Decimal:
        """The whole payment."""
        return self.costs + self.penalty_interest + self.principal


def allocate_payment(
    payment: Decimal,
    costs_due: Decimal,
    interest_due: Decimal,
    principal_due: Decimal,
    order: Sequence[AllocationBucket] = DEFAULT_ALLOCATION_ORDER,
) -> Allocation:
    """Split ``payment`` over what is due, filling each bucket in ``order``; no rounding (amounts are exact).

    Raises DomainRuleViolation for a zero or negative payment, negative dues, an order that is not a
    permutation of the three buckets, or a payment larger than everything due (overpayment).
    """
    require_positive(payment, "amount")
    require_non_negative(costs_due, "costs_due")
    require_non_negative(interest_due, "interest_due")
    require_non_negative(principal_due, "principal_due")
    if sorted(order) != sorted(AllocationBucket):
        raise DomainRuleViolation(
            "allocation order must name costs, penalty_interest and principal, each exactly once",
            errors=[{"field": "allocation_order", "message": f"got {[str(bucket) for bucket in order]}"}],
        )
    due = {
        AllocationBucket.COSTS: costs_due,
        AllocationBucket.PENALTY_INTEREST: interest_due,
        AllocationBucket.PRINCIPAL: principal_due,
    }
    total_due = sum(due.values(), ZERO)
    if payment > total_due:
        raise DomainRuleViolation(
            f"overpayment: {payment} exceeds the {total_due} due",
            errors=[{"field": "amount", "message": f"{payment} exceeds the {total_due} due"}],
        )
    remaining = payment
    applied: dict[AllocationBucket, Decimal] = {}
    for bucket in order:
        applied[bucket] = min(remaining, due[bucket])
        remaining -= applied[bucket]
    return Allocation(
        costs=applied[AllocationBucket.COSTS],
        penalty_interest=applied[AllocationBucket.PENALTY_INTEREST],
        principal=applied[AllocationBucket.PRINCIPAL],
    )


@dataclass(frozen=True)
class DiscountSettlement:
    """Effect of a payment on an invoice's principal, with the cash discount it earns if any."""

    discount_percent: Decimal  # percent (2 = 2 %) earned by the payment date; 0 outside every window
    discounted_total: Decimal  # invoice amount less the discount, 2 dp ROUND_HALF_UP
    principal_applied: Decimal  # the payment, all of it on principal
    discount_granted: Decimal  # principal forgiven because the payment settles at the discounted amount
    principal_remaining: Decimal
    settled: bool


def settle_with_discount(
    invoice_amount: Decimal,
    principal_outstanding: Decimal,
    payment: Decimal,
    terms: CreditTerms,
    issue_date: date,
    payment_date: date,
) -> DiscountSettlement:
    """Apply a principal payment; inside a discount window, reaching the discounted total settles the invoice.

    Earlier partial payments count towards the discounted total: with 2/10 on 10,000.00, 4,000.00 paid
    on day 3 and 5,800.00 on day 9 settle it (discounted total 9,800.00; 200.00 forgiven). A payment
    inside a window that falls short of the discounted total is an ordinary partial payment.
    Raises DomainRuleViolation for a zero or negative payment or one above the principal outstanding.
    """
    require_positive(payment, "amount")
    require_positive(invoice_amount, "invoice_amount")
    require_non_negative(principal_outstanding, "principal_outstanding")
    if principal_outstanding > invoice_amount:
        raise DomainRuleViolation(
            "principal outstanding exceeds the invoice amount",
            errors=[{"field": "principal_outstanding", "message": f"{principal_outstanding} > {invoice_amount}"}],
        )
    if payment > principal_outstanding:
        raise DomainRuleViolation(
            f"overpayment: {payment} exceeds the {principal_outstanding} outstanding",
            errors=[{"field": "amount", "message": f"{payment} exceeds the {principal_outstanding} outstanding"}],
        )
    percent = terms.discount_percent_for(issue_date, payment_date)
    discounted_total = to_cents(invoice_amount * (HUNDRED - percent) / HUNDRED)
    paid_before = invoice_amount - principal_outstanding
    remaining_after = principal_outstanding - payment
    if percent > 0 and paid_before + payment >= discounted_total:
        return DiscountSettlement(percent, discounted_total, payment, remaining_after, ZERO, True)
    return DiscountSettlement(percent, discounted_total, payment, ZERO, remaining_after, remaining_after == 0)
