"""Credit assessments: 6C scoring, Altman Z, payment behaviour from collections, the resulting limit."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import repository
from services.credit.domain.altman import AltmanResult, FinancialStatement, altman_scores
from services.credit.domain.limits import recommend_limit
from services.credit.domain.scoring import FactorScores, PaymentBehaviour, score_assessment
from services.credit.models import Assessment, LimitChange
from services.credit.schemas.assessments import (
    AltmanRead,
    AssessmentCreate,
    AssessmentRead,
    BehaviourRead,
    FactorContributionRead,
    LimitFigureRead,
    LimitRecommendationRead,
)
from services.credit.service.holds import known_overdue, reconsider_hold
from services.credit.service.policy import load_policy
from services.credit.service.profiles import collection_stage, get_or_create_profile, require_known_customer
from services.credit.settings import CreditSettings
from shared.errors import NotFound
from shared.events.credit import CreditAssessed, CreditLimitChanged
from shared.money import to_cents
from shared.outbox import emit


def _altman_read(result: AltmanResult | None) -> AltmanRead | None:
    if result is None:
        return None
    return AltmanRead(
        model=str(result.model),
        score=result.score,
        zone=str(result.zone),
        x1=result.x1,
        x2=result.x2,
        x3=result.x3,
        x4=result.x4,
        x5=result.x5,
    )


async def payment_behaviour_from_collections(
    session: AsyncSession, customer_id: uuid.UUID, today: date
) -> PaymentBehaviour | None:
    """Collection rate and average days late over the invoices due by ``today``; None without any."""
    due = [invoice for invoice in await repository.invoices_of(session, customer_id) if invoice.due_date <= today]
    billed = sum((invoice.amount for invoice in due), Decimal(0))
    if not due or billed <= 0:
        return None
    collected = sum((invoice.paid_amount for invoice in due), Decimal(0))
    days_late = [
        max(
            0,
            (
                (invoice.last_paid_on if invoice.status != "open" and invoice.last_paid_on else today)
                - invoice.due_date
            ).days,
        )
        for invoice in due
    ]
    return PaymentBehaviour(
        collection_rate=min(Decimal(1), (collected / billed).quantize(Decimal("0.000001"))),
        average_days_late=(Decimal(sum(days_late)) / len(days_late)).quantize(Decimal("0.01")),
    )


async def assess(
    session: AsyncSession, data: AssessmentCreate, assessor: str, settings: CreditSettings, now: datetime
) -> AssessmentRead:
    """Score, grade, Altman and limit for a known customer; store the decision; update the profile; emit."""
    await require_known_customer(session, data.customer_id, in_body=True)
    policy = await load_policy(session)
    factors = FactorScores.from_mapping({name: value.score for name, value in data.factors})
    statement = FinancialStatement(**data.financials.model_dump())
    source = "request"
    if data.payment_behaviour is not None:
        behaviour: PaymentBehaviour | None = PaymentBehaviour(**data.payment_behaviour.model_dump())
    else:
        source = "collections"
        behaviour = await payment_behaviour_from_collections(session, data.customer_id, now.date())
    scored = score_assessment(factors, policy.weights, policy.thresholds, behaviour)
    altman = altman_scores(statement)
    limit = recommend_limit(scored.grade, statement, policy.limits, data.liquidation_value, data.average_monthly_sales)

    profile = await get_or_create_profile(session, data.customer_id, settings, now)
    previous_limit, previous_currency = profile.credit_limit, profile.currency
    assessment_id = uuid.uuid4()
    evidence = {name: value.evidence for name, value in data.factors}
    result: dict[str, Any] = {
        "score": scored.score,
        "base_score": scored.base_score,
        "grade": scored.grade,
        "contributions": [
            FactorContributionRead(
                factor=str(c.factor),
                score=c.score,
                weight=c.weight,
                contribution=c.contribution,
                evidence=evidence[str(c.factor)],
            )
            for c in scored.contributions
        ],
        "payment_behaviour": None
        if scored.adjustment is None
        else BehaviourRead(
            source=source,
            collection_rate=scored.adjustment.behaviour.collection_rate,
            average_days_late=scored.adjustment.behaviour.average_days_late,
            days_late_deduction=scored.adjustment.days_late_deduction,
            collection_rate_deduction=scored.adjustment.collection_rate_deduction,
            applied_deduction=scored.adjustment.applied_deduction,
            capped=scored.adjustment.capped,
        ),
        "altman_z": _altman_read(altman.z),
        "altman_z_double_prime": _altman_read(altman.z_double_prime),
        "altman_notes": list(altman.notes),
        "limit": LimitRecommendationRead(
            figures=[
                LimitFigureRead(method=str(f.method), computed=f.computed, capped=f.capped) for f in limit.figures
            ],
            net_assets=limit.net_assets,
            working_capital=limit.working_capital,
            cap=limit.cap,
            recommended=limit.recommended,
            recommended_method=str(limit.recommended_method),
        ),
        "credit_limit_after": limit.recommended,
    }
    read = AssessmentRead(
        id=assessment_id,
        customer_id=data.customer_id,
        assessed_by=assessor,
        currency=data.currency,
        inputs=data.model_dump(mode="json"),
        created_at=now,
        **result,
    )
    stored = read.model_dump(mode="json")
    await repository.add(
        session,
        Assessment(
            id=assessment_id,
            customer_id=data.customer_id,
            assessed_by=assessor,
            currency=data.currency,
            score=scored.score,
            grade=str(scored.grade),
            recommended_limit=limit.recommended,
            inputs=stored["inputs"],
            result={key: stored[key] for key in result},
            created_at=now,
        ),
    )
    if previous_currency != data.currency and profile.receivables_by_currency:
        # The limit currency changes: exposure is what collections reported in the new one (the rest is foreign).
        profile.open_receivables = to_cents(Decimal(profile.receivables_by_currency.get(data.currency, "0")))
    profile.grade, profile.score, profile.currency = str(scored.grade), scored.score, data.currency
    profile.recommended_limit, profile.latest_assessment_id = limit.recommended, assessment_id
    profile.version += 1
    profile.updated_at = now
    await emit(
        session,
        CreditAssessed(
            customer_id=data.customer_id,
            assessment_id=assessment_id,
            score=scored.score,
            grade=str(scored.grade),
            assessed_by=assessor,
        ),
        at=now,
    )
    if previous_limit != limit.recommended or previous_currency != data.currency:
        profile.credit_limit, profile.limit_method = limit.recommended, str(limit.recommended_method)
        await repository.add(
            session,
            LimitChange(
                id=uuid.uuid4(),
                customer_id=data.customer_id,
                method=str(limit.recommended_method),
                previous_limit=previous_limit,
                credit_limit=limit.recommended,
                recommended_limit=limit.recommended,
                currency=data.currency,
                reason=f"recommended by assessment {assessment_id}",
                requested_by=assessor,
                approved_by=None,
                assessment_id=assessment_id,
                created_at=now,
            ),
        )
        await emit(
            session,
            CreditLimitChanged(
                customer_id=data.customer_id,
                previous_limit=previous_limit,
                credit_limit=limit.recommended,
                currency=data.currency,
                method=str(limit.recommended_method),
                reason=f"recommended by assessment {assessment_id}",
            ),
            at=now,
        )
    # Our own CreditAssessed is applied here, in the same transaction: grade D places a hold at once.
    await reconsider_hold(
        session,
        profile,
        policy.credit,
        now,
        stage=collection_stage(profile.collection_stage),
        overdue=known_overdue(profile),
    )
    return read


async def get_assessment(session: AsyncSession, assessment_id: uuid.UUID) -> AssessmentRead:
    row = await repository.assessment(session, assessment_id)
    if row is None:
        raise NotFound(f"no assessment {assessment_id}")
    return assessment_read(row)


def assessment_read(row: Assessment) -> AssessmentRead:
    return AssessmentRead(
        id=row.id,
        customer_id=row.customer_id,
        assessed_by=row.assessed_by,
        currency=row.currency,
        inputs=row.inputs,
        created_at=row.created_at,
        **row.result,
    )
