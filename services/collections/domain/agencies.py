"""Collection agencies: choosing the best one for a debt, settling net of commission, recalling late ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.collections.domain.money import require_non_negative, require_positive
from shared.errors import DomainRuleViolation
from shared.money import ZERO, to_cents

ONE = Decimal(1)


@dataclass(frozen=True)
class Agency:
    """An agency of the registry with its rating and limits; rates are fractions (0.6 = 60 %)."""

    agency_id: str
    name: str
    recovery_rate: Decimal
    commission_rate: Decimal
    min_debt: Decimal = ZERO
    max_debt: Decimal | None = None  # None: no upper limit
    max_open_cases: int | None = None  # None: no capacity limit
    open_cases: int = 0
    report_deadline_days: int = 30  # a progress report is due at least this often
    active: bool = True

    def __post_init__(self) -> None:
        problems = agency_problems(self)
        if problems:
            raise DomainRuleViolation("invalid agency: " + "; ".join(p["message"] for p in problems), errors=problems)

    def accepts(self, amount: Decimal) -> bool:
        """Whether the agency can take a debt of ``amount`` now (active, within limits, capacity left)."""
        return (
            self.active
            and amount >= self.min_debt
            and (self.max_debt is None or amount <= self.max_debt)
            and (self.max_open_cases is None or self.open_cases < self.max_open_cases)
        )


def agency_problems(agency: Agency) -> list[dict[str, str]]:
    """Every rule the agency's data breaks (empty when valid)."""
    problems: list[dict[str, str]] = []
    for name, rate in (("recovery_rate", agency.recovery_rate), ("commission_rate", agency.commission_rate)):
        if not ZERO <= rate <= ONE:
            problems.append({"field": name, "message": f"{name} {rate} must be between 0 and 1"})
    if agency.min_debt < 0:
        problems.append({"field": "min_debt", "message": f"min_debt {agency.min_debt} is negative"})
    if agency.max_debt is not None and agency.max_debt < agency.min_debt:
        problems.append({"field": "max_debt", "message": f"max_debt {agency.max_debt} is below min_debt"})
    if agency.max_open_cases is not None and agency.max_open_cases < 0:
        problems.append({"field": "max_open_cases", "message": "max_open_cases is negative"})
    if agency.open_cases < 0:
        problems.append({"field": "open_cases", "message": "open_cases is negative"})
    if agency.report_deadline_days < 1:
        problems.append({"field": "report_deadline_days", "message": "report_deadline_days must be at least 1"})
    return problems


def expected_net_recovery(amount: Decimal, agency: Agency) -> Decimal:
    """What we expect back from ``agency``: amount × recovery rate × (1 − commission), 2 dp HALF_UP."""
    return to_cents(amount * agency.recovery_rate * (ONE - agency.commission_rate))


@dataclass(frozen=True)
class AgencyChoice:
    """The agency chosen for a debt and why."""

    agency: Agency
    expected_net_recovery: Decimal
    reason: str


def choose_agency(agencies: Iterable[Agency], amount: Decimal) -> AgencyChoice | None:
    """The eligible agency with the highest expected net recovery; None when no agency accepts the debt.

    Ties go to the higher recovery rate, then the lower commission, then the agency id (deterministic).
    """
    require_positive(amount, "amount")
    eligible = [agency for agency in agencies if agency.accepts(amount)]
    if not eligible:
        return None
    best = max(
        eligible,
        key=lambda agency: (
            expected_net_recovery(amount, agency),
            agency.recovery_rate,
            -agency.commission_rate,
            _reversed_text(agency.agency_id),
        ),
    )
    net = expected_net_recovery(amount, best)
    reason = (
        f"{best.name}: expected net recovery {net} = {amount} × recovery {best.recovery_rate} × "
        f"(1 − commission {best.commission_rate}), best of {len(eligible)} eligible"
    )
    return AgencyChoice(best, net, reason)


def _reversed_text(text: str) -> tuple[int, ...]:
    # max() prefers the larger key; negating code points makes the smallest id win a full tie.
    return tuple(-ord(character) for character in text)


@dataclass(frozen=True)
class AgencySettlement:
    """What an agency's recovery means for us: gross, its commission (2 dp HALF_UP), and our net."""

    gross: Decimal
    commission: Decimal
    net: Decimal


def agency_settlement(recovered: Decimal, commission_rate: Decimal) -> AgencySettlement:
    """Settle ``recovered`` net of the agency's commission; the commission is rounded, net = gross − commission."""
    require_non_negative(recovered, "recovered")
    if not ZERO <= commission_rate <= ONE:
        raise DomainRuleViolation(
            "commission rate must be between 0 and 1",
            errors=[{"field": "commission_rate", "message": f"{commission_rate} is outside 0..1"}],
        )
    commission = to_cents(recovered * commission_rate)
    return AgencySettlement(recovered, commission, recovered - commission)


@dataclass(frozen=True)
class RecallDecision:
    """Whether to recall a case from its agency for a late progress report."""

    recall: bool
    days_since_last_report: int
    report_due_on: date
    reason: str


def recall_decision(assigned_on: date, last_report_on: date | None, deadline_days: int, as_of: date) -> RecallDecision:
    """Recall when no progress report arrived within ``deadline_days`` of assignment or of the last report."""
    if deadline_days < 1:
        raise DomainRuleViolation(
            "report deadline must be at least one day",
            errors=[{"field": "deadline_days", "message": f"{deadline_days} < 1"}],
        )
    reference = max(assigned_on, last_report_on) if last_report_on else assigned_on
    days_since = (as_of - reference).days
    due_on = date.fromordinal(reference.toordinal() + deadline_days)
    if as_of > due_on:
        what = f"last report on {last_report_on}" if last_report_on else f"no report since assignment on {assigned_on}"
        return RecallDecision(True, days_since, due_on, f"progress report late: {what}, was due by {due_on}")
    return RecallDecision(False, days_since, due_on, f"next progress report due by {due_on}")
