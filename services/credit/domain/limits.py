"""Credit limit (信用额度): one figure per method, capped by net assets and working capital; manual override.

Percentages are 0–100 (``working_capital_percent=20`` means 20 %). Every amount is rounded to 2 dp,
ROUND_HALF_UP. The cap is min(net assets, working capital), floored at 0: a customer with non-positive
working capital or net assets gets a limit of 0 whatever the methods say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from services.credit.domain.altman import FinancialStatement
from services.credit.domain.grades import Grade
from services.credit.domain.rounding import HUNDRED
from shared.errors import DomainRuleViolation, field_error, raise_if_any
from shared.money import to_cents


@dataclass(frozen=True)
class GradeLimitRule:
    """A grade's limit: a fixed ``amount`` or a ``monthly_sales_multiple`` of average monthly credit sales."""

    amount: Decimal | None = None
    monthly_sales_multiple: Decimal | None = None

    def __post_init__(self) -> None:
        errors = []
        if (self.amount is None) == (self.monthly_sales_multiple is None):
            errors.append(field_error("grade_limit", "set exactly one of amount or monthly_sales_multiple"))
        for name in ("amount", "monthly_sales_multiple"):
            value = getattr(self, name)
            if value is not None and value < 0:
                errors.append(field_error(f"grade_limit.{name}", "must not be negative"))
        raise_if_any(errors)


DEFAULT_GRADE_LIMITS: Mapping[Grade, GradeLimitRule] = MappingProxyType(
    {
        Grade.A: GradeLimitRule(amount=Decimal(1_000_000)),
        Grade.B: GradeLimitRule(amount=Decimal(500_000)),
        Grade.C: GradeLimitRule(amount=Decimal(200_000)),
        Grade.D: GradeLimitRule(amount=Decimal(0)),
    }
)


@dataclass(frozen=True)
class LimitPolicy:
    """Limit by grade per grade, and the percentages of working capital and liquidation value."""

    grade_rules: Mapping[Grade, GradeLimitRule] = field(default_factory=lambda: DEFAULT_GRADE_LIMITS)
    working_capital_percent: Decimal = Decimal(20)
    liquidation_value_percent: Decimal = Decimal(50)

    def __post_init__(self) -> None:
        errors = [
            field_error(f"grade_rules.{grade}", "rule is missing") for grade in Grade if grade not in self.grade_rules
        ]
        for name in ("working_capital_percent", "liquidation_value_percent"):
            if not 0 < getattr(self, name) <= 100:
                errors.append(field_error(name, "must be greater than 0 and at most 100"))
        raise_if_any(errors)


def build_limit_policy(
    grade_rules: Mapping[Grade, tuple[Decimal | None, Decimal | None]],
    working_capital_percent: Decimal,
    liquidation_value_percent: Decimal,
) -> LimitPolicy:
    """A LimitPolicy from ``grade -> (amount, monthly_sales_multiple)``, raising ONE violation listing every
    problem (``grades.B.amount``, ``working_capital_percent`` ...) rather than stopping at the first."""
    errors: list[dict[str, Any]] = []
    rules: dict[Grade, GradeLimitRule] = {}
    for grade, (amount, multiple) in grade_rules.items():
        try:
            rules[grade] = GradeLimitRule(amount=amount, monthly_sales_multiple=multiple)
        except DomainRuleViolation as exc:
            errors.extend(
                field_error(str(e["field"]).replace("grade_limit", f"grades.{grade}", 1), e["message"])
                for e in exc.errors
            )
            rules[grade] = DEFAULT_GRADE_LIMITS[grade]  # placeholder so it is not also reported missing
    try:
        policy = LimitPolicy(
            grade_rules=rules,
            working_capital_percent=working_capital_percent,
            liquidation_value_percent=liquidation_value_percent,
        )
    except DomainRuleViolation as exc:
        errors.extend(
            field_error(str(e["field"]).replace("grade_rules", "grades", 1), e["message"]) for e in exc.errors
        )
    raise_if_any(errors)
    return policy


class LimitMethod(StrEnum):
    """How a limit figure was reached."""

    BY_GRADE = "by_grade"
    WORKING_CAPITAL = "working_capital"
    LIQUIDATION_VALUE = "liquidation_value"


@dataclass(frozen=True)
class LimitFigure:
    """One method's figure before (``computed``) and after (``capped``) the caps."""

    method: LimitMethod
    computed: Decimal
    capped: Decimal


@dataclass(frozen=True)
class LimitRecommendation:
    """Every method's figure, the caps, and the recommended (lowest capped) limit and its method."""

    figures: tuple[LimitFigure, ...]
    net_assets: Decimal
    working_capital: Decimal
    cap: Decimal
    recommended: Decimal
    recommended_method: LimitMethod


def limit_by_grade(
    grade: Grade, policy: LimitPolicy | None = None, average_monthly_sales: Decimal | None = None
) -> Decimal:
    """The grade's fixed amount, or its multiple of ``average_monthly_sales`` (then required, ≥ 0)."""
    rule = (policy or LimitPolicy()).grade_rules[grade]
    if rule.amount is not None:
        return to_cents(rule.amount)
    if average_monthly_sales is None or average_monthly_sales < 0:
        raise DomainRuleViolation(
            f"grade {grade} limit is a multiple of monthly sales: average_monthly_sales (≥ 0) is required",
            errors=[field_error("average_monthly_sales", "is required and must not be negative")],
        )
    multiple = rule.monthly_sales_multiple or Decimal(0)  # never None here: GradeLimitRule sets exactly one
    return to_cents(multiple * average_monthly_sales)


def limit_by_working_capital(statement: FinancialStatement, policy: LimitPolicy | None = None) -> Decimal:
    """The policy's percentage of net working capital (current assets − current liabilities), 0 if negative."""
    percent = (policy or LimitPolicy()).working_capital_percent
    return to_cents(max(Decimal(0), statement.working_capital) * percent / HUNDRED)


def limit_by_liquidation_value(liquidation_value: Decimal, policy: LimitPolicy | None = None) -> Decimal:
    """The policy's percentage of the customer's liquidation value (≥ 0)."""
    if liquidation_value < 0:
        raise DomainRuleViolation(
            "liquidation_value must not be negative",
            errors=[field_error("liquidation_value", "must not be negative")],
        )
    return to_cents(liquidation_value * (policy or LimitPolicy()).liquidation_value_percent / HUNDRED)


def limit_cap(statement: FinancialStatement) -> Decimal:
    """Highest limit allowed: the lower of net assets and working capital, never below 0."""
    return to_cents(max(Decimal(0), min(statement.net_assets, statement.working_capital)))


def recommend_limit(
    grade: Grade,
    statement: FinancialStatement,
    policy: LimitPolicy | None = None,
    liquidation_value: Decimal | None = None,
    average_monthly_sales: Decimal | None = None,
) -> LimitRecommendation:
    """Each method's figure (liquidation value only when given), capped; recommend the lowest."""
    policy = policy or LimitPolicy()
    computed = [
        (LimitMethod.BY_GRADE, limit_by_grade(grade, policy, average_monthly_sales)),
        (LimitMethod.WORKING_CAPITAL, limit_by_working_capital(statement, policy)),
    ]
    if liquidation_value is not None:
        computed.append((LimitMethod.LIQUIDATION_VALUE, limit_by_liquidation_value(liquidation_value, policy)))
    cap = limit_cap(statement)
    figures = tuple(LimitFigure(method, amount, min(amount, cap)) for method, amount in computed)
    # min() keeps the first of equal figures, so ties go to the earlier method in the list above.
    lowest = min(figures, key=lambda figure: figure.capped)
    return LimitRecommendation(
        figures=figures,
        net_assets=to_cents(statement.net_assets),
        working_capital=to_cents(statement.working_capital),
        cap=cap,
        recommended=lowest.capped,
        recommended_method=lowest.method,
    )


class SelfApprovedOverride(DomainRuleViolation):
    """A limit override approved by the person who requested it (four-eyes rule)."""

    code = "self-approved-override"
    title = "Override must be approved by someone else"


class OverrideAboveCap(DomainRuleViolation):
    """A manual limit above what the customer's net assets or working capital allow."""

    code = "limit-above-cap"
    title = "Limit exceeds the customer's net assets or working capital"


@dataclass(frozen=True)
class LimitOverride:
    """A manual limit decision: amount, why, who asked, who approved, and how it compares."""

    amount: Decimal
    reason: str
    requested_by: str
    approved_by: str
    previous_limit: Decimal | None
    recommended_limit: Decimal | None
    above_recommended: bool


def override_limit(
    amount: Decimal,
    reason: str,
    requested_by: str,
    approved_by: str,
    previous_limit: Decimal | None = None,
    recommended_limit: Decimal | None = None,
    net_assets: Decimal | None = None,
    working_capital: Decimal | None = None,
) -> LimitOverride:
    """Validate a manual limit: amount ≥ 0, a reason, an approver other than the requester, and within the caps.

    ``net_assets`` / ``working_capital`` come from the latest assessment's statement (None: not assessed yet); a
    limit must never exceed either, however many people approve it.
    """
    errors = []
    if amount < 0:
        errors.append(field_error("amount", "must not be negative"))
    if not reason.strip():
        errors.append(field_error("reason", "is required"))
    if not requested_by.strip():
        errors.append(field_error("requested_by", "is required"))
    if not approved_by.strip():
        errors.append(field_error("approved_by", "is required"))
    raise_if_any(errors)
    if requested_by.strip().casefold() == approved_by.strip().casefold():
        raise SelfApprovedOverride(
            "a limit override needs a second approver different from the requester",
            errors=[field_error("approved_by", "must differ from requested_by")],
        )
    rounded = to_cents(amount)
    caps = [(name, to_cents(max(Decimal(0), value))) for name, value in _caps(net_assets, working_capital)]
    broken = [(name, cap) for name, cap in caps if rounded > cap]
    if broken:
        name, cap = min(broken, key=lambda item: item[1])
        raise OverrideAboveCap(
            f"a limit of {rounded} exceeds the customer's {name} of {cap}: the cap is {cap}",
            errors=[field_error("amount", f"must not exceed {cap} ({name})")],
            cap=str(cap),
            cap_basis=name.replace(" ", "_"),
        )
    return LimitOverride(
        amount=rounded,
        reason=reason.strip(),
        requested_by=requested_by.strip(),
        approved_by=approved_by.strip(),
        previous_limit=previous_limit,
        recommended_limit=recommended_limit,
        above_recommended=recommended_limit is not None and rounded > recommended_limit,
    )


def _caps(net_assets: Decimal | None, working_capital: Decimal | None) -> list[tuple[str, Decimal]]:
    return [
        (name, value)
        for name, value in (("net assets", net_assets), ("working capital", working_capital))
        if value is not None
    ]


@dataclass(frozen=True)
class LimitCancellation:
    """A credit limit cancelled (取消信用额度): set to 0 until a new assessment or an approved override."""

    reason: str
    previous_limit: Decimal | None
    credit_limit: Decimal = Decimal("0.00")


def cancel_limit(reason: str, previous_limit: Decimal | None) -> LimitCancellation:
    """Validate a cancellation: a reason is required; the limit becomes 0."""
    raise_if_any([field_error("reason", "is required")] if not reason.strip() else [])
    return LimitCancellation(reason=reason.strip(), previous_limit=previous_limit)
