"""Verdict boundaries and the quality-alert rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.survey.domain.verdicts import DEFAULT_TOLERANCE, Verdict, quality_alert_due, verdict_for
from shared.errors import DomainRuleViolation


@pytest.mark.parametrize(
    ("gap", "tolerance", "expected"),
    [
        ("0.2501", "0.25", Verdict.QUALITY_SURPRISE),
        ("0.2500", "0.25", Verdict.SATISFACTORY),
        ("0", "0.25", Verdict.SATISFACTORY),
        ("-0.2500", "0.25", Verdict.SATISFACTORY),
        ("-0.2501", "0.25", Verdict.UNACCEPTABLE),
        ("-0.9007", "0.25", Verdict.UNACCEPTABLE),
        ("1.5", "0.25", Verdict.QUALITY_SURPRISE),
        # Tolerance 0: only an exact zero gap is satisfactory.
        ("0", "0", Verdict.SATISFACTORY),
        ("0.0001", "0", Verdict.QUALITY_SURPRISE),
        ("-0.0001", "0", Verdict.UNACCEPTABLE),
        # A wider tolerance moves both boundaries.
        ("-1.0000", "1", Verdict.SATISFACTORY),
        ("-1.0001", "1", Verdict.UNACCEPTABLE),
        ("1.0001", "1", Verdict.QUALITY_SURPRISE),
    ],
    ids=[
        "just-above-plus-tolerance",
        "at-plus-tolerance",
        "zero",
        "at-minus-tolerance",
        "just-below-minus-tolerance",
        "issue-weighted-score",
        "large-surprise",
        "zero-tolerance-zero-gap",
        "zero-tolerance-positive",
        "zero-tolerance-negative",
        "wide-at-boundary",
        "wide-below",
        "wide-above",
    ],
)
def test_verdict_boundaries(gap: str, tolerance: str, expected: Verdict) -> None:
    assert verdict_for(Decimal(gap), Decimal(tolerance)) is expected


def test_default_tolerance_is_a_quarter_point() -> None:
    assert DEFAULT_TOLERANCE == Decimal("0.25")
    assert verdict_for(Decimal("-0.25")) is Verdict.SATISFACTORY
    assert verdict_for(Decimal("-0.2501")) is Verdict.UNACCEPTABLE


def test_verdict_values_are_the_contract_names() -> None:
    assert [v.value for v in Verdict] == ["quality_surprise", "satisfactory", "unacceptable"]


@pytest.mark.parametrize(
    "tolerance",
    [Decimal("-0.01"), Decimal("NaN"), Decimal("Infinity"), 0.25, True],
    ids=["negative", "nan", "infinite", "float", "bool"],
)
def test_an_invalid_tolerance_is_refused(tolerance: object) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        verdict_for(Decimal(0), tolerance)  # type: ignore[arg-type]
    assert raised.value.errors[0]["field"] == "tolerance"


@pytest.mark.parametrize(
    ("weighted_gap", "threshold", "alert"),
    [
        ("-1.0001", "-1", True),
        ("-1.0000", "-1", False),
        ("-0.9999", "-1", False),
        ("-0.9007", "-0.5", True),
        ("0.1000", "0", False),
        ("-0.0001", "0", True),
    ],
    ids=["just-below", "equal-is-no-alert", "just-above", "issue-score-below", "positive", "zero-threshold"],
)
def test_quality_alert_is_due_strictly_below_the_threshold(weighted_gap: str, threshold: str, alert: bool) -> None:
    assert quality_alert_due(Decimal(weighted_gap), Decimal(threshold)) is alert
