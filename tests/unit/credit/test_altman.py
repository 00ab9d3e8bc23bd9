"""Altman Z and Z'' scores, their zones, and financial-statement validation."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from services.credit.domain.altman import (
    AltmanModel,
    AltmanZone,
    FinancialStatement,
    altman_scores,
    altman_z,
    altman_z_double_prime,
    zone_for,
)
from shared.errors import DomainRuleViolation

D = Decimal


def statement(
    *,
    total_assets: int = 1_000_000,
    current_assets: int = 400_000,
    current_liabilities: int = 200_000,
    total_liabilities: int = 500_000,
    retained_earnings: int = 150_000,
    ebit: int = 100_000,
    sales: int = 1_200_000,
    market_value_of_equity: int | None = 800_000,
) -> FinancialStatement:
    """The grey-zone statement below, with any figure replaced."""
    return FinancialStatement(
        total_assets=D(total_assets),
        current_assets=D(current_assets),
        current_liabilities=D(current_liabilities),
        total_liabilities=D(total_liabilities),
        retained_earnings=D(retained_earnings),
        ebit=D(ebit),
        sales=D(sales),
        market_value_of_equity=None if market_value_of_equity is None else D(market_value_of_equity),
    )


# Worked by hand; total assets 1,000,000 in every case.
# GREY: X1 = (400,000 − 200,000)/1,000,000 = 0.2, X2 = 0.15, X3 = 0.1, X5 = 1.2
#   Z:   X4 = 800,000/500,000 = 1.6;  1.2×0.2 + 1.4×0.15 + 3.3×0.1 + 0.6×1.6 + 1.0×1.2
#        = 0.24 + 0.21 + 0.33 + 0.96 + 1.2 = 2.94 → grey
#   Z'': X4 = (1,000,000 − 500,000)/500,000 = 1.0;  6.56×0.2 + 3.26×0.15 + 6.72×0.1 + 1.05×1.0
#        = 1.312 + 0.489 + 0.672 + 1.05 = 3.523 → 3.52 safe
GREY = statement()
# SAFE: X1 = 0.5, X2 = 0.5, X3 = 0.2, X5 = 1.5
#   Z:   X4 = 2,000,000/200,000 = 10;  0.6 + 0.7 + 0.66 + 6 + 1.5 = 9.46
#   Z'': X4 = 800,000/200,000 = 4;  3.28 + 1.63 + 1.344 + 4.2 = 10.454 → 10.45
SAFE = statement(
    current_assets=600_000,
    current_liabilities=100_000,
    total_liabilities=200_000,
    retained_earnings=500_000,
    ebit=200_000,
    sales=1_500_000,
    market_value_of_equity=2_000_000,
)
# DISTRESS (losses, negative working capital): X1 = −0.1, X2 = −0.1, X3 = −0.05, X5 = 0.8
#   Z:   X4 = 100,000/900,000 = 0.1111;  −0.12 − 0.14 − 0.165 + 0.0667 + 0.8 = 0.4417 → 0.44
#   Z'': X4 = 100,000/900,000 = 0.1111;  −0.656 − 0.326 − 0.336 + 0.1167 = −1.2013 → −1.20
DISTRESS = statement(
    current_assets=200_000,
    current_liabilities=300_000,
    total_liabilities=900_000,
    retained_earnings=-100_000,
    ebit=-50_000,
    sales=800_000,
    market_value_of_equity=100_000,
)


@pytest.mark.parametrize(
    ("financials", "z", "z_zone", "z2", "z2_zone"),
    [
        (GREY, D("2.94"), AltmanZone.GREY, D("3.52"), AltmanZone.SAFE),
        (SAFE, D("9.46"), AltmanZone.SAFE, D("10.45"), AltmanZone.SAFE),
        (DISTRESS, D("0.44"), AltmanZone.DISTRESS, D("-1.20"), AltmanZone.DISTRESS),
    ],
    ids=["grey", "safe", "distress"],
)
def test_altman_scores(
    financials: FinancialStatement, z: Decimal, z_zone: AltmanZone, z2: Decimal, z2_zone: AltmanZone
) -> None:
    z_result = altman_z(financials)
    z2_result = altman_z_double_prime(financials)
    assert (z_result.score, z_result.zone) == (z, z_zone)
    assert (z2_result.score, z2_result.zone) == (z2, z2_zone)
    assert z_result.model is AltmanModel.Z and z2_result.model is AltmanModel.Z_DOUBLE_PRIME
    assert z2_result.x5 is None


def test_ratios_are_reported() -> None:
    result = altman_z(DISTRESS)
    assert (result.x1, result.x2, result.x3, result.x4, result.x5) == (
        D("-0.1000"),
        D("-0.1000"),
        D("-0.0500"),
        D("0.1111"),
        D("0.8000"),
    )


@pytest.mark.parametrize(
    ("model", "score", "zone"),
    [
        (AltmanModel.Z, D("3.00"), AltmanZone.SAFE),
        (AltmanModel.Z, D("2.99"), AltmanZone.GREY),
        (AltmanModel.Z, D("1.81"), AltmanZone.GREY),
        (AltmanModel.Z, D("1.80"), AltmanZone.DISTRESS),
        (AltmanModel.Z_DOUBLE_PRIME, D("2.61"), AltmanZone.SAFE),
        (AltmanModel.Z_DOUBLE_PRIME, D("2.60"), AltmanZone.GREY),
        (AltmanModel.Z_DOUBLE_PRIME, D("1.10"), AltmanZone.GREY),
        (AltmanModel.Z_DOUBLE_PRIME, D("1.09"), AltmanZone.DISTRESS),
    ],
    ids=["z-3.00", "z-2.99", "z-1.81", "z-1.80", "z2-2.61", "z2-2.60", "z2-1.10", "z2-1.09"],
)
def test_zone_boundaries(model: AltmanModel, score: Decimal, zone: AltmanZone) -> None:
    assert zone_for(model, score) is zone


def test_zone_follows_the_rounded_score() -> None:
    # Sales 1,250,000 → X5 = 1.25: Z = 2.94 + 0.05 = 2.99 exactly → grey (safe needs > 2.99).
    # Sales 1,255,000 → Z = 2.995 → rounds half up to 3.00 → safe, so score and zone agree.
    assert (altman_z(statement(sales=1_250_000)).zone, altman_z(statement(sales=1_255_000)).zone) == (
        AltmanZone.GREY,
        AltmanZone.SAFE,
    )
    assert altman_z(statement(sales=1_255_000)).score == D("3.00")


@pytest.mark.parametrize(
    ("financials", "has_z", "has_z2", "notes"),
    [
        (GREY, True, True, []),
        (statement(market_value_of_equity=None), False, True, ["market_value_of_equity not given"]),
        (statement(total_liabilities=0, current_liabilities=0), False, False, ["total_liabilities is 0"]),
    ],
    ids=["both", "no-market-value", "no-liabilities"],
)
def test_altman_scores_omit_what_cannot_be_computed(
    financials: FinancialStatement, has_z: bool, has_z2: bool, notes: list[str]
) -> None:
    result = altman_scores(financials)
    assert (result.z is not None, result.z_double_prime is not None) == (has_z, has_z2)
    assert len(result.notes) == len(notes)
    assert all(expected in note for expected, note in zip(notes, result.notes, strict=True))


@pytest.mark.parametrize(
    ("compute", "financials", "fields"),
    [
        (altman_z, statement(market_value_of_equity=None), ["financials.market_value_of_equity"]),
        (
            altman_z,
            statement(total_liabilities=0, current_liabilities=0, market_value_of_equity=None),
            ["financials.total_liabilities", "financials.market_value_of_equity"],
        ),
        (
            altman_z_double_prime,
            statement(total_liabilities=0, current_liabilities=0),
            ["financials.total_liabilities"],
        ),
    ],
    ids=["z-needs-market-value", "z-needs-both", "z2-needs-liabilities"],
)
def test_altman_refuses_missing_inputs(
    compute: Callable[[FinancialStatement], object], financials: FinancialStatement, fields: list[str]
) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        compute(financials)
    assert [e["field"] for e in raised.value.errors] == fields


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"total_assets": 0}, ["financials.total_assets"]),
        ({"total_assets": -1}, ["financials.total_assets"]),
        ({"current_assets": -1}, ["financials.current_assets"]),
        ({"current_liabilities": -1}, ["financials.current_liabilities"]),
        ({"total_liabilities": -1, "current_liabilities": 0}, ["financials.total_liabilities"]),
        ({"sales": -1}, ["financials.sales"]),
        ({"market_value_of_equity": -1}, ["financials.market_value_of_equity"]),
        ({"current_assets": 1_000_001}, ["financials.current_assets"]),
        ({"current_liabilities": 500_001}, ["financials.current_liabilities"]),
        (
            {"current_assets": -5, "sales": -5, "total_assets": 0},
            ["financials.total_assets", "financials.current_assets", "financials.sales"],
        ),
    ],
    ids=[
        "assets-zero",
        "assets-negative",
        "current-assets-negative",
        "current-liabilities-negative",
        "liabilities-negative",
        "sales-negative",
        "market-value-negative",
        "current-above-total-assets",
        "current-above-total-liabilities",
        "several",
    ],
)
def test_impossible_figures_are_rejected(overrides: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        statement(**overrides)
    assert [e["field"] for e in raised.value.errors] == fields


def test_losses_and_negative_retained_earnings_are_allowed() -> None:
    assert DISTRESS.retained_earnings == D(-100_000)
    assert DISTRESS.working_capital == D(-100_000)
    assert DISTRESS.net_assets == D(100_000)
