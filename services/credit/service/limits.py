"""Manual overrides of a customer's credit limit."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import repository
from services.credit.domain.limits import override_limit
from services.credit.models import LimitChange
from services.credit.schemas.profiles import LimitChangeRead, LimitOverrideCreate
from services.credit.service.profiles import get_or_create_profile, require_known_customer
from services.credit.settings import CreditSettings
from shared.errors import DomainRuleViolation
from shared.events.credit import CreditLimitChanged
from shared.outbox import emit

MANUAL_OVERRIDE = "manual_override"


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
    decision = override_limit(
        data.amount,
        data.reason,
        requested_by,
        data.approved_by,
        previous_limit=existing.credit_limit if existing else None,
        recommended_limit=existing.recommended_limit if existing else None,
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
