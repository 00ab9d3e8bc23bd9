"""Agency choice by expected net recovery, settlement net of commission, recall for late reports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.collections.domain.agencies import (
    Agency,
    agency_settlement,
    choose_agency,
    expected_net_recovery,
    recall_decision,
)
from shared.errors import DomainRuleViolation

D = Decimal

# net factor = recovery × (1 − commission): alpha 0.60 × 0.75 = 0.45, beta 0.70 × 0.70 = 0.49,
# gamma 0.80 × 0.80 = 0.64 (but only up to 50,000), delta 0.90 × 0.90 = 0.81 (inactive)
ALPHA = Agency("alpha", "Alpha Recovery", D("0.60"), D("0.25"))
BETA = Agency("beta", "Beta Credit", D("0.70"), D("0.30"), min_debt=D("10000"))
GAMMA = Agency("gamma", "Gamma Collect", D("0.80"), D("0.20"), max_debt=D("50000"))
DELTA = Agency("delta", "Delta Dormant", D("0.90"), D("0.10"), active=False)
FULL = Agency("full", "Full House", D("0.95"), D("0.05"), max_open_cases=10, open_cases=10)
REGISTRY = [ALPHA, BETA, GAMMA, DELTA, FULL]


@pytest.mark.parametrize(
    ("amount", "chosen", "net"),
    [
        pytest.param("20000.00", "gamma", "12800.00", id="best-within-limits"),  # 20,000 × 0.64
        pytest.param("60000.00", "beta", "29400.00", id="gamma-over-max-debt"),  # 60,000 × 0.49
        pytest.param("5000.00", "gamma", "3200.00", id="beta-under-min-debt"),  # 5,000 × 0.64
        pytest.param("50000.00", "gamma", "32000.00", id="max-debt-inclusive"),
    ],
)
def test_choose_agency(amount: str, chosen: str, net: str) -> None:
    choice = choose_agency(REGISTRY, D(amount))
    assert choice is not None
    assert (choice.agency.agency_id, choice.expected_net_recovery) == (chosen, D(net))
    assert "expected net recovery" in choice.reason


def test_choose_agency_ties_go_to_the_higher_recovery_rate_then_the_id() -> None:
    # both 0.45: 0.60 × 0.75 and 0.50 × 0.90
    low_recovery = Agency("aaa", "Cheap", D("0.50"), D("0.10"))
    choice = choose_agency([low_recovery, ALPHA], D("10000"))
    assert choice is not None and choice.agency is ALPHA
    twin = Agency("aardvark", "Twin", D("0.60"), D("0.25"))
    choice = choose_agency([ALPHA, twin], D("10000"))
    assert choice is not None and choice.agency is twin


def test_no_eligible_agency() -> None:
    assert choose_agency([DELTA, FULL], D("20000")) is None
    assert choose_agency([], D("20000")) is None


def test_expected_net_recovery_rounds_half_up() -> None:
    # 333.33 × 0.6 × 0.75 = 149.9985 → 150.00
    assert expected_net_recovery(D("333.33"), ALPHA) == D("150.00")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"recovery_rate": D("1.2")}, id="recovery-over-1"),
        pytest.param({"commission_rate": D("-0.1")}, id="negative-commission"),
        pytest.param({"min_debt": D("-1")}, id="negative-min-debt"),
        pytest.param({"max_debt": D("5"), "min_debt": D("10")}, id="max-below-min"),
        pytest.param({"report_deadline_days": 0}, id="zero-deadline"),
    ],
)
def test_invalid_agency(changes: dict[str, object]) -> None:
    fields: dict[str, object] = {"agency_id": "x", "name": "X", "recovery_rate": D("0.5"), "commission_rate": D("0.2")}
    with pytest.raises(DomainRuleViolation):
        Agency(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("recovered", "rate", "commission", "net"),
    [
        pytest.param("10000.00", "0.20", "2000.00", "8000.00", id="round"),
        # 12,345.67 × 0.15 = 1,851.8505 → 1,851.85; net 10,493.82
        pytest.param("12345.67", "0.15", "1851.85", "10493.82", id="rounded-commission"),
        pytest.param("0", "0.15", "0.00", "0", id="nothing-recovered"),
    ],
)
def test_settlement_net_of_commission(recovered: str, rate: str, commission: str, net: str) -> None:
    settlement = agency_settlement(D(recovered), D(rate))
    assert (settlement.gross, settlement.commission, settlement.net) == (D(recovered), D(commission), D(net))


def test_settlement_refusals() -> None:
    with pytest.raises(DomainRuleViolation):
        agency_settlement(D("-1"), D("0.1"))
    with pytest.raises(DomainRuleViolation):
        agency_settlement(D("100"), D("1.5"))


ASSIGNED = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("last_report", "as_of", "recall", "due_on"),
    [
        pytest.param(None, date(2026, 3, 31), False, date(2026, 3, 31), id="no-report-deadline-day"),
        pytest.param(None, date(2026, 4, 1), True, date(2026, 3, 31), id="no-report-one-day-late"),
        pytest.param(date(2026, 3, 20), date(2026, 4, 19), False, date(2026, 4, 19), id="report-resets-clock"),
        pytest.param(date(2026, 3, 20), date(2026, 4, 20), True, date(2026, 4, 19), id="report-late"),
    ],
)
def test_recall_when_progress_report_is_late(last_report: date | None, as_of: date, recall: bool, due_on: date) -> None:
    decision = recall_decision(ASSIGNED, last_report, 30, as_of)
    assert (decision.recall, decision.report_due_on) == (recall, due_on)
    if recall:
        assert "late" in decision.reason


def test_recall_needs_a_positive_deadline() -> None:
    with pytest.raises(DomainRuleViolation):
        recall_decision(ASSIGNED, None, 0, date(2026, 4, 1))
