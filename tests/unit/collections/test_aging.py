"""Aging buckets at their edges and the per-customer report."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.collections.domain.aging import AgingBucket, AgingRow, aging_bucket, aging_report
from shared.errors import DomainRuleViolation


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        pytest.param(-10, AgingBucket.CURRENT, id="not-yet-due"),
        pytest.param(0, AgingBucket.CURRENT, id="due-today"),
        pytest.param(1, AgingBucket.DAYS_1_30, id="1"),
        pytest.param(30, AgingBucket.DAYS_1_30, id="30"),
        pytest.param(31, AgingBucket.DAYS_31_60, id="31"),
        pytest.param(60, AgingBucket.DAYS_31_60, id="60"),
        pytest.param(61, AgingBucket.DAYS_61_90, id="61"),
        pytest.param(90, AgingBucket.DAYS_61_90, id="90"),
        pytest.param(91, AgingBucket.DAYS_91_180, id="91"),
        pytest.param(180, AgingBucket.DAYS_91_180, id="180"),
        pytest.param(181, AgingBucket.OVER_180, id="181"),
        pytest.param(5000, AgingBucket.OVER_180, id="5000"),
    ],
)
def test_bucket_edges(days: int, bucket: AgingBucket) -> None:
    assert aging_bucket(days) is bucket


AS_OF = date(2026, 6, 30)


def row(customer: str, days_overdue: int, amount: str) -> AgingRow:
    return AgingRow(customer, AS_OF - timedelta(days=days_overdue), Decimal(amount))


def test_report_per_customer_and_overall() -> None:
    report = aging_report(
        [
            row("acme", -5, "1000.00"),
            row("acme", 30, "250.50"),
            row("acme", 31, "100.00"),
            row("acme", 200, "60000.00"),
            row("zen", 1, "49.50"),
            row("zen", 90, "10000.00"),
        ],
        AS_OF,
    )
    acme = report.per_customer["acme"].to_dict()
    assert acme == {
        "current": "1000.00",
        "1-30": "250.50",
        "31-60": "100.00",
        "61-90": "0",
        "91-180": "0",
        "over_180": "60000.00",
        "total": "61350.50",
    }
    assert report.per_customer["zen"].total == Decimal("10049.50")
    # overall: 1-30 holds 250.50 + 49.50 = 300.00; total 61,350.50 + 10,049.50 = 71,400.00
    assert report.overall.amounts[AgingBucket.DAYS_1_30] == Decimal("300.00")
    assert report.overall.total == Decimal("71400.00")
    assert report.to_dict()["overall"]["61-90"] == "10000.00"
    assert report.to_dict()["as_of"] == "2026-06-30"


def test_empty_report_lists_every_bucket_at_zero() -> None:
    report = aging_report([], AS_OF)
    assert report.per_customer == {}
    assert set(report.overall.amounts) == set(AgingBucket)
    assert report.overall.total == 0


def test_negative_outstanding_is_refused() -> None:
    with pytest.raises(DomainRuleViolation):
        aging_report([row("acme", 3, "-1.00")], AS_OF)
