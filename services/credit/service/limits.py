"""Manual overrides of a customer's credit limit."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import repository
from services.credit.domain.limits import cancel_limit, override_limit
from services.credit.models import CreditProfile, LimitChange, ProfileState
from services.credit.schemas.profiles import LimitChangeRead, LimitOverrideCreate
from services.credit.service.profiles import get_or_create_profile, require_known_customer
from services.credit.settings import CreditSettings
from shared.errors import Conflict, DomainRuleViolation
from shared.events.credit import CreditLimitChanged
from shared.outbox import emit

MANUAL_OVERRIDE = "manual_override"
CANCELLED = "cancelled"


async def latest_statement_caps(
    session: AsyncSession, profile: CreditProfile | None
) -> tuple[Decimal | None, Decimal | None]:
    """Net assets and working capital of the latest assessment's statement; (None, None) before any."""
    if profile is None or profile.latest_assessment_id is None:
        return None, None
    assessment = await repository.assessment(session, profile.latest_assessment_id)
    limit = (assessment.result or {}).get("limit") if assessment is not None else None
    if not limit:
        return None, None
    return Decimal(limit["net_assets"]), Decimal(limit["working_capital"])


async def override(
    session: AsyncSession,
    customer_id: uuid.UUID,
    data: LimitOverrideCreate,
    requested_by: str,
    settings: CreditSettings,
    now: datetime,
) -> LimitChangeRead:
    """A manual limit with a reason and a second approver (four eyes); emits CreditLimitChanged when it changes."""
    await require_known_customer(session, customer_id, in_body=False)
    existing = await repository.profile(session, customer_id)
    currency = existing.currency if existing else settings.default_currency
    if data.currency is not None and data.currency != currency:
        raise DomainRuleViolation(
            f"the customer's limit is kept in {currency}",
            errors=[{"field": "body.currency", "message": f"must be {currency}"}],
        )
    net_assets, working_capital = await latest_statement_caps(session, existing)
    decision = override_limit(
        data.amount,
        data.reason,
        requested_by,
        data.approved_by,
        previous_limit=existing.credit_limit if existing else None,
        recommended_limit=existing.recommended_limit if existing else None,
        net_assets=net_assets,
        working_capital=working_capital,
    )
    profile = existing or await get_or_create_profile(session, customer_id, settings, now)
    change = LimitChange(
        id=uuid.uuid4(),
        customer_id=customer_id,
        method=MANUAL_OVERRIDE,
        previous_limit=decision.previous_limit,
        credit_limit=decision.amount,
        recommended_limit=decision.recommended_limit,
        currency=currency,
        reason=decision.reason,
        requested_by=decision.requested_by,
        approved_by=decision.approved_by,
        assessment_id=None,
        created_at=now,
    )
    await repository.add(session, change)
    if profile.credit_limit != decision.amount:
        await emit(
            session,
            CreditLimitChanged(
                customer_id=customer_id,
                previous_limit=decision.previous_limit,
                credit_limit=decision.amount,
                currency=currency,
                method=MANUAL_OVERRIDE,
                reason=decision.reason,
            ),
            at=now,
        )
    profile.credit_limit, profile.limit_method = decision.amount, MANUAL_OVERRIDE
    profile.version += 1
    profile.updated_at = now
    await session.flush()
    read = LimitChangeRead.model_validate(change)
    return read.model_copy(update={"above_recommended": decision.above_recommended})


async def cancel_credit_limit(
    session: AsyncSession, profile: CreditProfile, reason: str, actor: str, now: datetime
) -> LimitChange:
    """Set the limit to 0 with a reason and an event; a new assessment or an approved override restores one."""
    change, event = limit_cancellation(profile, reason, actor, now)
    await repository.add(session, change)
    await emit(session, event, at=now)
    await session.flush()
    return change


def limit_cancellation(
    profile: ProfileState, reason: str, actor: str, now: datetime
) -> tuple[LimitChange, CreditLimitChanged]:
    """``domain.limits.cancel_limit`` applied to the profile in memory: the history row and the event to write."""
    cancellation = cancel_limit(reason, profile.credit_limit)
    change = LimitChange(
        id=uuid.uuid4(),
        customer_id=profile.customer_id,
        method=CANCELLED,
        previous_limit=cancellation.previous_limit,
        credit_limit=cancellation.credit_limit,
        recommended_limit=profile.recommended_limit,
        currency=profile.currency,
        reason=cancellation.reason,
        requested_by=actor,
        approved_by=None,
        assessment_id=None,
        created_at=now,
    )
    event = CreditLimitChanged(
        customer_id=profile.customer_id,
        previous_limit=cancellation.previous_limit,
        credit_limit=cancellation.credit_limit,
        currency=profile.currency,
        method=CANCELLED,
        reason=cancellation.reason,
    )
    profile.credit_limit, profile.limit_method = cancellation.credit_limit, CANCELLED
    profile.version += 1
    profile.updated_at = now
    return change, event


async def cancel_limit_manually(
    session: AsyncSession, customer_id: uuid.UUID, reason: str, actor: str, settings: CreditSettings, now: datetime
) -> LimitChangeRead:
    """A credit manager cancels the limit (取消信用额度); 409 when it is already cancelled."""
    await require_known_customer(session, customer_id, in_body=False)
    profile = await get_or_create_profile(session, customer_id, settings, now)
    if profile.limit_method == CANCELLED:
        raise Conflict("the credit limit is already cancelled", limit_method=CANCELLED)
    return LimitChangeRead.model_validate(await cancel_credit_limit(session, profile, reason, actor, now))
