"""Penalty interest on overdue principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from services.collections.domain.money import require_non_negative
from shared.errors import DomainRuleViolation
from shared.money import to_cents

DAYS_IN_YEAR = Decimal(365)


def penalty_interest(principal_overdue: Decimal, annual_rate: Decimal, from_date: date, to_date: date) -> Decimal:
    """Simple daily interest, 365-day year, for the days after ``from_date`` up to ``to_date``; 2 dp HALF_UP.

    Example: 10,000.00 at 0.1825 for 30 days = 10,000 × 0.1825 × 30 / 365 = 150.00.
    The rounding happens once, on the total, so accruing in one step or summing exact parts agree.
    """
    require_non_negative(principal_overdue, "principal_overdue")
    require_non_negative(annual_rate, "annual_rate")
    if to_date < from_date:
        raise DomainRuleViolation(
            "interest period ends before it starts",
            errors=[{"field": "to_date", "message": f"{to_date} is before {from_date}"}],
        )
    days = (to_date - from_date).days
    return to_cents(principal_overdue * annual_rate * days / DAYS_IN_YEAR)


class PenaltyRateBasis(StrEnum):
    """Where the penalty interest rate of an invoice comes from."""

    CONTRACT = "contract"  # agreed in the customer's contract
    POLICY_DEFAULT = "policy_default"  # the escalation policy's rate, for contracts that agree none


@dataclass(frozen=True)
class PenaltyRate:
    """The annual penalty interest rate that applies, and its basis."""

    annual_rate: Decimal
    basis: PenaltyRateBasis


def penalty_rate(contract_rate: Decimal | None, policy_default: Decimal) -> PenaltyRate:
    """The contract's agreed rate when it has one (0 included: a contract may waive interest), else the policy's."""
    if contract_rate is not None:
        require_non_negative(contract_rate, "contract_rate")
        return PenaltyRate(contract_rate, PenaltyRateBasis.CONTRACT)
    return PenaltyRate(policy_default, PenaltyRateBasis.POLICY_DEFAULT)
