"""Credit terms (信用条件): parse, print and quote ``2/10, n/30`` and multi-tier ``3/10, 2/20, n/30``.

Pure module shared by credit, collections and customers. Units, so nobody has to guess:

* ``DiscountTier.percent`` and every ``*_percent`` field are percentages (``2`` means 2 %).
* Annualised costs of forgoing a discount are percentages rounded to 4 dp (``36.7347`` = 36.7347 %,
  i.e. a fraction to 6 dp), ROUND_HALF_UP.
* Money is rounded to 2 dp, ROUND_HALF_UP.
* A discount window is inclusive: with ``2/10`` a payment on issue date + 10 days earns 2 %, one on
  day 11 does not. The net due date is issue date + net days.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from itertools import pairwise
from typing import Any

from shared.errors import DomainRuleViolation
from shared.money import CENT

MAX_NET_DAYS = 365
MAX_TERMS_LENGTH = 200

RATE_PERCENT_PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)

_DISCOUNT_TOKEN = re.compile(r"^([+-]?\d+(?:\.\d+)?)/([+-]?\d+)$")
_NET_TOKEN = re.compile(r"^n/([+-]?\d+)$")


class InvalidCreditTerms(DomainRuleViolation):
    """Credit terms that are malformed or contradict themselves."""

    code = "invalid-credit-terms"
    title = "Invalid credit terms"


@dataclass(frozen=True)
class DiscountTier:
    """A cash discount of ``percent`` % for payment within ``days`` days of the issue date."""

    percent: Decimal
    days: int

    def __str__(self) -> str:
        return f"{_plain(self.percent)}/{self.days}"


@dataclass(frozen=True)
class CreditTerms:
    """Discount tiers (days ascending, percent descending) and the net period, validated on construction."""

    discounts: tuple[DiscountTier, ...]
    net_days: int

    def __post_init__(self) -> None:
        problems = _contradictions(self.discounts, self.net_days)
        if problems:
            raise _invalid(problems, text=None)

    def __str__(self) -> str:
        return ", ".join([*(str(tier) for tier in self.discounts), f"n/{self.net_days}"])

    def due_date(self, issue_date: date) -> date:
        """Net due date: the issue date plus the net days."""
        return issue_date + timedelta(days=self.net_days)

    def discount_deadline(self, tier: DiscountTier, issue_date: date) -> date:
        """Last day (inclusive) on which a payment still earns ``tier``."""
        return issue_date + timedelta(days=tier.days)

    def discount_percent_for(self, issue_date: date, payment_date: date) -> Decimal:
        """Best discount percent earned by paying on ``payment_date``; 0 when every window has closed."""
        earned = [tier.percent for tier in self.discounts if payment_date <= self.discount_deadline(tier, issue_date)]
        return max(earned, default=Decimal(0))


def parse_terms(text: str) -> CreditTerms:
    """Parse ``2/10, n/30``-style terms (case, spacing, ``net 30``, full-width tolerant); raise InvalidCreditTerms."""
    if not text or not text.strip():
        raise _invalid(["credit terms are empty; expected e.g. '2/10, n/30' or 'n/30'"], text=text)
    if len(text) > MAX_TERMS_LENGTH:
        raise _invalid([f"credit terms are longer than {MAX_TERMS_LENGTH} characters"], text=text[:40])

    # Terms typed with a Chinese input method: NFKC folds full-width "，" "；" "／" and digits to ASCII;
    # the ideographic enumeration comma "、" separates tiers just as well.
    normalised = unicodedata.normalize("NFKC", text).replace("、", ",").strip().lower()
    normalised = re.sub(r"\s*/\s*", "/", normalised)  # "2 / 10" -> "2/10"
    normalised = re.sub(r"\bnet\s*/?(?=[+-]?\d)", "n/", normalised)  # "net 30", "net30", "net/30" -> "n/30"
    tokens = [token for token in re.split(r"[,;\s]+", normalised) if token]

    problems: list[str] = []
    discounts: list[DiscountTier] = []
    net_days: list[int] = []
    for position, token in enumerate(tokens):
        net_match = _NET_TOKEN.match(token)
        discount_match = _DISCOUNT_TOKEN.match(token)
        if net_match:
            net_days.append(int(net_match.group(1)))
            if position != len(tokens) - 1:
                problems.append(f"the net part 'n/{net_match.group(1)}' must come last")
        elif discount_match:
            discounts.append(DiscountTier(percent=Decimal(discount_match.group(1)), days=int(discount_match.group(2))))
        else:
            problems.append(f"'{token}' is not a discount tier like '2/10' nor a net period like 'n/30'")

    if len(net_days) > 1:
        problems.append("the net period is given more than once: " + ", ".join(f"n/{d}" for d in net_days))
    if not net_days:
        problems.append("the net period is missing; add e.g. 'n/30'")
    if problems:
        raise _invalid(problems, text=text)

    problems = _contradictions(tuple(discounts), net_days[0])
    if problems:
        raise _invalid(problems, text=text)
    return CreditTerms(discounts=tuple(discounts), net_days=net_days[0])


@dataclass(frozen=True)
class ForgoneDiscountCost:
    """Annualised cost of paying on the net date instead of taking a tier, as percentages (4 dp)."""

    simple_360_percent: Decimal
    simple_365_percent: Decimal
    compounded_percent: Decimal


@dataclass(frozen=True)
class TierQuote:
    """One tier of a quote: its deadline, whether this payment earns it and the cost of forgoing it."""

    tier: DiscountTier
    deadline: date
    earned: bool
    cost_of_forgoing: ForgoneDiscountCost


@dataclass(frozen=True)
class TermsQuote:
    """What a payment on ``payment_date`` owes under ``terms``; money at 2 dp, ROUND_HALF_UP."""

    terms: CreditTerms
    amount: Decimal
    issue_date: date
    payment_date: date
    discount_percent: Decimal
    discount_amount: Decimal
    amount_due: Decimal
    net_due_date: date
    is_late: bool
    days_late: int
    tiers: tuple[TierQuote, ...]


def cost_of_forgoing(tier: DiscountTier, net_days: int) -> ForgoneDiscountCost:
    """Annualised cost of forgoing ``tier``: d/(1−d) × Y/(net−days) for Y = 360, 365, and compounded."""
    with localcontext() as context:
        context.prec = 34
        discount = tier.percent / HUNDRED
        period_rate = discount / (1 - discount)  # what the buyer "pays" to keep the money net−days longer
        extra_days = Decimal(net_days - tier.days)
        simple_360 = period_rate * Decimal(360) / extra_days
        simple_365 = period_rate * Decimal(365) / extra_days
        compounded = (1 + period_rate) ** (Decimal(365) / extra_days) - 1
        return ForgoneDiscountCost(
            simple_360_percent=_rate_percent(simple_360),
            simple_365_percent=_rate_percent(simple_365),
            compounded_percent=_rate_percent(compounded),
        )


def quote(terms: CreditTerms, amount: Decimal, issue_date: date, payment_date: date) -> TermsQuote:
    """Discount earned, amount due, due dates and forgone-discount costs for a payment on ``payment_date``."""
    errors: list[dict[str, Any]] = []
    if amount <= 0:
        errors.append({"field": "amount", "message": "amount must be greater than 0"})
    if payment_date < issue_date:
        errors.append({"field": "payment_date", "message": "payment_date must not be before issue_date"})
    if errors:
        raise DomainRuleViolation("; ".join(e["message"] for e in errors), errors=errors)

    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    discount_percent = terms.discount_percent_for(issue_date, payment_date)
    discount_amount = (amount * discount_percent / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    net_due_date = terms.due_date(issue_date)
    days_late = max(0, (payment_date - net_due_date).days)
    earned_tier = next(
        (tier for tier in terms.discounts if discount_percent > 0 and tier.percent == discount_percent), None
    )
    tiers = tuple(
        TierQuote(
            tier=tier,
            deadline=terms.discount_deadline(tier, issue_date),
            earned=tier is earned_tier,
            cost_of_forgoing=cost_of_forgoing(tier, terms.net_days),
        )
        for tier in terms.discounts
    )
    return TermsQuote(
        terms=terms,
        amount=amount,
        issue_date=issue_date,
        payment_date=payment_date,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
        amount_due=amount - discount_amount,
        net_due_date=net_due_date,
        is_late=days_late > 0,
        days_late=days_late,
        tiers=tiers,
    )


def _contradictions(discounts: tuple[DiscountTier, ...], net_days: int) -> list[str]:
    """Every rule the tiers and net period break, in reading order."""
    problems: list[str] = []
    if not 0 < net_days <= MAX_NET_DAYS:
        problems.append(f"net days must be between 1 and {MAX_NET_DAYS}, got {net_days}")
    for tier in discounts:
        if not 0 < tier.percent < HUNDRED:
            problems.append(f"discount percent in '{tier}' must be greater than 0 and less than 100")
        if tier.days <= 0:
            problems.append(f"discount days in '{tier}' must be at least 1")
        elif tier.days >= net_days:
            problems.append(f"discount window in '{tier}' must be shorter than the net period of {net_days} days")
    for earlier, later in pairwise(discounts):
        if later.days <= earlier.days:
            problems.append(f"discount tiers must have strictly increasing days: '{earlier}' then '{later}'")
        if later.percent >= earlier.percent:
            problems.append(f"a later discount tier must give a smaller percent: '{earlier}' then '{later}'")
    return problems


def _invalid(problems: list[str], *, text: str | None) -> InvalidCreditTerms:
    prefix = f"invalid credit terms '{text.strip()}': " if text and text.strip() else "invalid credit terms: "
    return InvalidCreditTerms(
        prefix + "; ".join(problems),
        errors=[{"field": "terms", "message": problem} for problem in problems],
    )


def _plain(value: Decimal) -> str:
    """Decimal without trailing zeros or exponent: 2.0 -> '2', 1.50 -> '1.5', 10 -> '10'."""
    return format(value.normalize(), "f")


def _rate_percent(fraction: Decimal) -> Decimal:
    return (fraction * HUNDRED).quantize(RATE_PERCENT_PLACES, rounding=ROUND_HALF_UP)
