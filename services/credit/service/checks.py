"""Credit checks of an order against the customer's limit and hold."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import repository
from services.credit.domain.checks import CreditFacts, Decision, check_credit, exposure
from services.credit.models import CreditCheck
from services.credit.schemas.checks import CreditCheckCreate
from services.credit.service.holds import grade_of, other_currency_exposure
from services.credit.service.policy import load_policy
from services.credit.service.profiles import require_known_customer, standard_breaches
from services.credit.settings import CreditSettings
from shared.errors import DomainRuleViolation, NotFound
from shared.money import to_cents


async def run_credit_check(
    session: AsyncSession, data: CreditCheckCreate, checked_by: str, settings: CreditSettings, now: datetime
) -> CreditCheck:
    """Approve or block an order amount with every reason that applies; record the check."""
    await require_known_customer(session, data.customer_id, in_body=True)
    profile = await repository.profile(session, data.customer_id)
    currency = profile.currency if profile else settings.default_currency
    if data.currency is not None and data.currency != currency:
        raise DomainRuleViolation(
            f"the customer's credit is kept in {currency}; convert the amount first",
            errors=[{"field": "body.currency", "message": f"must be {currency}"}],
        )
    policy = await load_policy(session)
    exposure_before = exposure(profile.open_receivables, profile.open_orders) if profile else Decimal("0.00")
    facts = CreditFacts(
        grade=grade_of(profile),
        credit_limit=(profile.credit_limit if profile and profile.credit_limit else Decimal(0)),
        exposure=exposure_before,
        on_hold=bool(profile and profile.on_hold),
        oldest_overdue_days=profile.oldest_overdue_days if profile else 0,
        prepaid=data.prepaid,
        other_currency_exposure=tuple(other_currency_exposure(profile)) if profile else (),
        cash=data.cash,
        standard_breaches=await standard_breaches(
            session, data.customer_id, profile, policy.credit, settings, now.date()
        ),
    )
    decision = check_credit(facts, data.amount, policy.credit)
    approved = decision.decision is Decision.APPROVE
    # A prepaid or cash order extends no credit: it is no open order on the customer's exposure.
    on_credit = not (data.prepaid or data.cash)
    counted = approved and on_credit and settings.count_approved_checks_as_orders and profile is not None
    if counted and profile is not None:
        profile.open_orders = to_cents(profile.open_orders + decision.amount)
        profile.updated_at = now
    check = CreditCheck(
        id=uuid.uuid4(),
        customer_id=data.customer_id,
        amount=decision.amount,
        currency=currency,
        prepaid=data.prepaid,
        cash=data.cash,
        decision=str(decision.decision),
        reasons=[str(r) for r in decision.reasons],
        grade=str(facts.grade) if facts.grade else None,
        on_hold=facts.on_hold,
        credit_limit=decision.credit_limit,
        exposure_before=exposure_before,
        exposure_after=decision.exposure_after,
        available_before=decision.available_before,
        oldest_overdue_days=facts.oldest_overdue_days,
        counted_as_order=counted,
        checked_by=checked_by,
        created_at=now,
    )
    await repository.add(session, check)
    return check


async def get_credit_check(session: AsyncSession, check_id: uuid.UUID) -> CreditCheck:
    check = await repository.credit_check(session, check_id)
    if check is None:
        raise NotFound(f"no credit check {check_id}")
    return check
