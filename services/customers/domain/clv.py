"""Customer lifetime value with Dwyer's retention model, plus the retention multiple r / (1 + i − r)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shared.errors import FieldErrors
from shared.money import to_cents

MAX_HORIZON_YEARS = 100


@dataclass(frozen=True)
class ClvGroupInput:
    """One customer group (customers sharing an attribute) and its yearly economics.

    ``revenue_per_customer`` and ``cost_per_customer`` are one amount for every year or one per
    year (``horizon_years`` entries). ``retention_rate`` is the share of year-t customers still
    buying in year t+1: one rate, or one per year (``horizon_years − 1`` entries, or
    ``horizon_years`` — the last one is then only shown). Rates are fractions (0.8 = 80 %).
    """

    group: str
    initial_customers: int
    revenue_per_customer: Decimal | Sequence[Decimal]
    cost_per_customer: Decimal | Sequence[Decimal]
    retention_rate: Decimal | Sequence[Decimal]
    discount_rate: Decimal
    horizon_years: int


@dataclass(frozen=True)
class ClvYear:
    year: int
    customers: Decimal  # expected customers still buying, rounded to 2 places for display
    retention_rate: Decimal | None  # share of this year's customers kept into the next; None if not given
    revenue: Decimal
    cost: Decimal
    profit: Decimal
    discount_factor: Decimal  # (1 + i)^(year − 1), exact
    npv: Decimal
    cumulative_npv: Decimal
    cumulative_clv_per_customer: Decimal  # cumulative NPV / initial customers


@dataclass(frozen=True)
class ClvTable:
    group: str
    initial_customers: int
    years: tuple[ClvYear, ...]
    clv_per_customer: Decimal  # the last year's cumulative CLV per initial customer


def _yearly_amounts(value: Decimal | Sequence[Decimal], years: int, name: str, errors: FieldErrors) -> list[Decimal]:
    amounts = [value] * years if isinstance(value, Decimal) else list(value)
    if len(amounts) != years:
        errors.add(name, f"needs one amount or {years} yearly amounts, got {len(amounts)}")
        return []
    for index, amount in enumerate(amounts):
        if errors.require_finite(amount, f"{name}[{index}]"):
            errors.check(amount >= 0, f"{name}[{index}]", "must not be negative")
    return amounts


def _yearly_retention(value: Decimal | Sequence[Decimal], years: int, errors: FieldErrors) -> list[Decimal | None]:
    if isinstance(value, Decimal):
        return [value] * years
    rates: list[Decimal | None] = list(value)
    if len(rates) not in (years - 1, years):
        errors.add("retention_rate", f"needs one rate or {years - 1} (or {years}) yearly rates, got {len(rates)}")
        return []
    # Retention out of the last year changes nothing in the table; it is only shown when given.
    return rates + [None] * (years - len(rates))


def _validate_retention(retention_rate: Decimal, errors: FieldErrors, field: str) -> None:
    if errors.require_finite(retention_rate, field):
        errors.check(0 <= retention_rate <= 1, field, "must be between 0 and 1")


def dwyer_clv(inputs: ClvGroupInput) -> ClvTable:
    """The Dwyer retention table: yearly customers, revenue, cost, profit, NPV and cumulative CLV.

    Convention (the textbook table): year 1 is the acquisition year, all initial customers buy
    and its profit is not discounted; year t is discounted by (1 + i)^(t − 1). Customers in
    year t+1 = customers in year t × retention rate of year t (kept exact, not rounded).
    Rounding: revenue and cost are rounded to cents from the exact customer count; profit is
    revenue − cost and NPV = profit / factor rounded to cents; the cumulative NPV is the sum of
    the rounded yearly NPVs, so the table adds up; CLV per customer = cumulative NPV / initial
    customers, rounded to cents.
    """
    errors = FieldErrors()
    years = inputs.horizon_years
    horizon_ok = 1 <= years <= MAX_HORIZON_YEARS
    errors.check(horizon_ok, "horizon_years", f"must be between 1 and {MAX_HORIZON_YEARS}")
    errors.check(inputs.initial_customers > 0, "initial_customers", "must be positive")
    if errors.require_finite(inputs.discount_rate, "discount_rate"):
        errors.check(inputs.discount_rate >= 0, "discount_rate", "must not be negative")
    if not horizon_ok:
        errors.raise_if_any("Invalid CLV inputs")
    revenues = _yearly_amounts(inputs.revenue_per_customer, years, "revenue_per_customer", errors)
    costs = _yearly_amounts(inputs.cost_per_customer, years, "cost_per_customer", errors)
    retentions = _yearly_retention(inputs.retention_rate, years, errors)
    for index, rate in enumerate(retentions):
        if rate is not None:
            _validate_retention(rate, errors, f"retention_rate[{index}]")
    errors.raise_if_any("Invalid CLV inputs")

    rows: list[ClvYear] = []
    customers = Decimal(inputs.initial_customers)
    cumulative_npv = Decimal("0.00")
    for index in range(years):
        revenue = to_cents(customers * revenues[index])
        cost = to_cents(customers * costs[index])
        profit = revenue - cost
        factor = (1 + inputs.discount_rate) ** index
        npv = to_cents(profit / factor)
        cumulative_npv += npv
        rows.append(
            ClvYear(
                year=index + 1,
                customers=customers.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
                retention_rate=retentions[index],
                revenue=revenue,
                cost=cost,
                profit=profit,
                discount_factor=factor,
                npv=npv,
                cumulative_npv=cumulative_npv,
                cumulative_clv_per_customer=to_cents(cumulative_npv / inputs.initial_customers),
            )
        )
        rate = retentions[index]
        if rate is not None:
            customers *= rate
    return ClvTable(inputs.group, inputs.initial_customers, tuple(rows), rows[-1].cumulative_clv_per_customer)


def retention_multiple(retention_rate: Decimal, discount_rate: Decimal) -> Decimal:
    """r / (1 + i − r), exact to the Decimal context (r = 0.8, i = 0.1 → 2.666…, 2.667 to 3 places)."""
    errors = FieldErrors()
    if errors.require_finite(discount_rate, "discount_rate"):
        errors.check(discount_rate >= 0, "discount_rate", "must not be negative")
    _validate_retention(retention_rate, errors, "retention_rate")
    errors.raise_if_any("Invalid retention inputs")
    # 0 ≤ r ≤ 1 and i ≥ 0 leave one case where 1 + i − r is zero: r = 1 with i = 0 (infinite value).
    errors.check(
        retention_rate < 1 + discount_rate,
        "retention_rate",
        "must be below 1 + discount_rate, or the value is infinite",
    )
    errors.raise_if_any("Invalid retention inputs")
    return retention_rate / (1 + discount_rate - retention_rate)


def infinite_horizon_clv(margin_per_year: Decimal, retention_rate: Decimal, discount_rate: Decimal) -> Decimal:
    """m × r / (1 + i − r), rounded to cents: the value of a customer's future years, forever.

    This is the Gupta–Lehmann form: margins arrive at the end of each year and the first one
    needs the customer to be retained once (Σ_{t≥1} m·r^t/(1+i)^t). The Dwyer table above also
    counts the undiscounted acquisition year, so its per-customer limit is m + this value.
    """
    errors = FieldErrors()
    errors.require_finite(margin_per_year, "margin_per_year")
    errors.raise_if_any("Invalid margin")
    return to_cents(margin_per_year * retention_multiple(retention_rate, discount_rate))
