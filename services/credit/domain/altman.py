"""Financial statement figures and the Altman Z-score (manufacturers) and Z''-score (non-manufacturers).

Z   = 1.2·X1 + 1.4·X2 + 3.3·X3 + 0.6·X4 + 1.0·X5, X4 = market value of equity / total liabilities;
      safe > 2.99, grey 1.81–2.99, distress < 1.81.
Z'' = 6.56·X1 + 3.26·X2 + 6.72·X3 + 1.05·X4, X4 = book equity / total liabilities;
      safe > 2.60, grey 1.10–2.60, distress < 1.10.
X1 = working capital / total assets, X2 = retained earnings / total assets, X3 = EBIT / total assets,
X5 = sales / total assets. Ratios are reported to 4 dp; the score is computed from the unrounded
ratios and rounded to 2 dp, and the zone is read from that rounded score so the two always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from services.credit.domain.rounding import round_places
from shared.errors import field_error, raise_if_any, rule_violation


@dataclass(frozen=True)
class FinancialStatement:
    """Balance-sheet and income figures (one currency); retained earnings and EBIT may be negative."""

    total_assets: Decimal
    current_assets: Decimal
    current_liabilities: Decimal
    total_liabilities: Decimal
    retained_earnings: Decimal
    ebit: Decimal
    sales: Decimal
    market_value_of_equity: Decimal | None = None

    def __post_init__(self) -> None:
        errors = []
        if self.total_assets <= 0:
            errors.append(field_error("financials.total_assets", "must be greater than 0"))
        for name in ("current_assets", "current_liabilities", "total_liabilities", "sales"):
            if getattr(self, name) < 0:
                errors.append(field_error(f"financials.{name}", "must not be negative"))
        if self.market_value_of_equity is not None and self.market_value_of_equity < 0:
            errors.append(field_error("financials.market_value_of_equity", "must not be negative"))
        if self.current_assets > self.total_assets > 0:
            errors.append(field_error("financials.current_assets", "must not exceed total_assets"))
        if self.current_liabilities > self.total_liabilities >= 0:
            errors.append(field_error("financials.current_liabilities", "must not exceed total_liabilities"))
        raise_if_any(errors)

    @property
    def working_capital(self) -> Decimal:
        """Net working capital: current assets − current liabilities (may be negative)."""
        return self.current_assets - self.current_liabilities

    @property
    def net_assets(self) -> Decimal:
        """Book equity: total assets − total liabilities (may be negative)."""
        return self.total_assets - self.total_liabilities


class AltmanModel(StrEnum):
    """Which Altman formula: the original Z (public manufacturers) or Z'' (non-manufacturers)."""

    Z = "z"
    Z_DOUBLE_PRIME = "z_double_prime"


class AltmanZone(StrEnum):
    """Distress zone of a score."""

    SAFE = "safe"
    GREY = "grey"
    DISTRESS = "distress"


@dataclass(frozen=True)
class AltmanResult:
    """A score, its zone and the ratios (X1…X5; X5 is None for Z'') it came from."""

    model: AltmanModel
    score: Decimal
    zone: AltmanZone
    x1: Decimal
    x2: Decimal
    x3: Decimal
    x4: Decimal
    x5: Decimal | None


@dataclass(frozen=True)
class AltmanScores:
    """Both scores for an assessment; a score is None when its inputs are missing, ``notes`` says why."""

    z: AltmanResult | None
    z_double_prime: AltmanResult | None
    notes: tuple[str, ...]


Z_SAFE_ABOVE, Z_DISTRESS_BELOW = Decimal("2.99"), Decimal("1.81")
Z2_SAFE_ABOVE, Z2_DISTRESS_BELOW = Decimal("2.60"), Decimal("1.10")


def zone_for(model: AltmanModel, score: Decimal) -> AltmanZone:
    """Zone of a score: safe above the upper cut-off, distress below the lower, grey in between (inclusive)."""
    safe_above, distress_below = (
        (Z_SAFE_ABOVE, Z_DISTRESS_BELOW) if model is AltmanModel.Z else (Z2_SAFE_ABOVE, Z2_DISTRESS_BELOW)
    )
    if score > safe_above:
        return AltmanZone.SAFE
    if score < distress_below:
        return AltmanZone.DISTRESS
    return AltmanZone.GREY


def altman_z(statement: FinancialStatement) -> AltmanResult:
    """Original Z-score; needs market value of equity and total liabilities > 0."""
    if statement.market_value_of_equity is None or statement.total_liabilities == 0:
        raise rule_violation(_x4_errors(statement, needs_market_value=True))
    x1, x2, x3, x5 = _common_ratios(statement)
    x4 = statement.market_value_of_equity / statement.total_liabilities
    score = Decimal("1.2") * x1 + Decimal("1.4") * x2 + Decimal("3.3") * x3 + Decimal("0.6") * x4 + x5
    return _result(AltmanModel.Z, score, x1, x2, x3, x4, x5)


def altman_z_double_prime(statement: FinancialStatement) -> AltmanResult:
    """Z''-score for non-manufacturers; needs total liabilities > 0."""
    raise_if_any(_x4_errors(statement, needs_market_value=False))
    x1, x2, x3, _ = _common_ratios(statement)
    x4 = statement.net_assets / statement.total_liabilities
    score = Decimal("6.56") * x1 + Decimal("3.26") * x2 + Decimal("6.72") * x3 + Decimal("1.05") * x4
    return _result(AltmanModel.Z_DOUBLE_PRIME, score, x1, x2, x3, x4, None)


def altman_scores(statement: FinancialStatement) -> AltmanScores:
    """Z and Z'' where the statement allows; otherwise None with a note (no market value, no liabilities)."""
    notes: list[str] = []
    z: AltmanResult | None = None
    z_double_prime: AltmanResult | None = None
    if statement.total_liabilities == 0:
        # X4 divides by total liabilities: a debt-free company has no defined Z, not an infinite one.
        notes.append("total_liabilities is 0: X4 is undefined, so neither Z nor Z'' is computed")
        return AltmanScores(z=None, z_double_prime=None, notes=tuple(notes))
    if statement.market_value_of_equity is None:
        notes.append("market_value_of_equity not given: Z is not computed, Z'' uses book equity")
    else:
        z = altman_z(statement)
    z_double_prime = altman_z_double_prime(statement)
    return AltmanScores(z=z, z_double_prime=z_double_prime, notes=tuple(notes))


def _x4_errors(statement: FinancialStatement, *, needs_market_value: bool) -> list[dict[str, Any]]:
    errors = []
    if statement.total_liabilities == 0:
        errors.append(field_error("financials.total_liabilities", "must be greater than 0 for Altman X4"))
    if needs_market_value and statement.market_value_of_equity is None:
        errors.append(field_error("financials.market_value_of_equity", "is required for the Altman Z-score"))
    return errors


def _common_ratios(statement: FinancialStatement) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    assets = statement.total_assets
    return (
        statement.working_capital / assets,
        statement.retained_earnings / assets,
        statement.ebit / assets,
        statement.sales / assets,
    )


def _result(
    model: AltmanModel,
    score: Decimal,
    x1: Decimal,
    x2: Decimal,
    x3: Decimal,
    x4: Decimal,
    x5: Decimal | None,
) -> AltmanResult:
    rounded = round_places(score, 2)
    return AltmanResult(
        model=model,
        score=rounded,
        zone=zone_for(model, rounded),
        x1=round_places(x1, 4),
        x2=round_places(x2, 4),
        x3=round_places(x3, 4),
        x4=round_places(x4, 4),
        x5=None if x5 is None else round_places(x5, 4),
    )
