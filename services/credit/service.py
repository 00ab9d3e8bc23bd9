"""Use cases of the credit service: load, apply the domain rule, save, add the event to the outbox.

Every function runs inside the caller's transaction (a request or a consumed event) and never commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import repository
from services.credit.domain.altman import AltmanResult, FinancialStatement, altman_scores
from services.credit.domain.checks import CreditFacts, Decision, check_credit, exposure
from services.credit.domain.dso import DsoResult, SalesPeriod, countback_dso, simple_dso
from services.credit.domain.grades import Grade, GradeThresholds
from services.credit.domain.holds import HoldAction, HoldDecision, HoldFacts, HoldReason, evaluate_hold
from services.credit.domain.limits import (
    LimitPolicy,
    build_limit_policy,
    cancel_limit,
    override_limit,
    recommend_limit,
)
from services.credit.domain.policy import (
    CollectionStage,
    CreditPolicy,
    GradePolicy,
    StandardBreach,
    bad_debt_rate,
    credit_standard_breaches,
)
from services.credit.domain.rounding import money, rule_violation
from services.credit.domain.scoring import FactorScores, FactorWeights, PaymentBehaviour, score_assessment
from services.credit.models import Assessment, CreditCheck, CreditPolicyDocument, CreditProfile, LimitChange
from services.credit.schemas import (
    AltmanRead,
    AssessmentCreate,
    AssessmentRead,
    BehaviourRead,
    CreditCheckCreate,
    DsoRead,
    FactorContributionRead,
    GradePolicyBody,
    LimitChangeRead,
    LimitFigureRead,
    LimitOverrideCreate,
    LimitRecommendationRead,
    PolicyBody,
    PolicyRead,
    ProfileRead,
)
from services.credit.settings import CreditSettings
from shared.errors import Conflict, DomainRuleViolation, NotFound
from shared.events.credit import CreditAssessed, CreditHoldPlaced, CreditHoldReleased, CreditLimitChanged
from shared.outbox import emit

MANUAL_OVERRIDE = "manual_override"
CANCELLED = "cancelled"


# --- policy ---------------------------------------------------------------------------------------


def default_policy_body() -> PolicyBody:
    """The policy in force until someone PUTs another: the domain defaults."""
    defaults = CreditPolicy()
    return PolicyBody(
        grades={
            grade: GradePolicyBody(
                max_expected_dso_days=rule.max_expected_dso_days,
                max_bad_debt_rate=rule.max_bad_debt_rate,
                sales_policy=rule.sales_policy,
                max_overdue_days=rule.max_overdue_days,
                stop_supply_stage=rule.stop_supply_stage,
            )
            for grade, rule in defaults.grades.items()
        },
        ungraded_stop_supply_stage=defaults.ungraded_stop_supply_stage,
        cancel_limit_stage=defaults.cancel_limit_stage,
    )


@dataclass(frozen=True)
class PolicyInForce:
    """The stored policy as the domain objects the rules take."""

    body: PolicyBody
    version: int
    credit: CreditPolicy
    weights: FactorWeights
    thresholds: GradeThresholds
    limits: LimitPolicy
    row: CreditPolicyDocument | None


def build_policy(body: PolicyBody, version: int, row: CreditPolicyDocument | None = None) -> PolicyInForce:
    """Validate ``body`` through the domain (weights sum to 100, thresholds descending ...)."""
    credit = CreditPolicy(
        grades={grade: GradePolicy(**rule.model_dump()) for grade, rule in body.grades.items()},
        ungraded_stop_supply_stage=body.ungraded_stop_supply_stage,
        cancel_limit_stage=body.cancel_limit_stage,
    )
    weights = FactorWeights(**body.weights.model_dump())
    thresholds = GradeThresholds(**body.thresholds.model_dump())
    try:
        limits = build_limit_policy(
            {grade: (rule.amount, rule.monthly_sales_multiple) for grade, rule in body.limits.grades.items()},
            body.limits.working_capital_percent,
            body.limits.liquidation_value_percent,
        )
    except DomainRuleViolation as exc:
        raise rule_violation([{**error, "field": f"limits.{error['field']}"} for error in exc.errors]) from exc
    return PolicyInForce(
        body=body, version=version, credit=credit, weights=weights, thresholds=thresholds, limits=limits, row=row
    )


async def load_policy(session: AsyncSession) -> PolicyInForce:
    row = await repository.policy_document(session)
    if row is None:
        return build_policy(default_policy_body(), version=1)
    return build_policy(PolicyBody.model_validate(row.document), row.version, row)


def policy_read(policy: PolicyInForce) -> PolicyRead:
    row = policy.row
    return PolicyRead(
        **policy.body.model_dump(),
        version=policy.version,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


async def replace_policy(
    session: AsyncSession, current: PolicyInForce, body: PolicyBody, actor: str, now: datetime
) -> PolicyInForce:
    """Store a new policy (the caller has checked If-Match); takes effect for the next decision."""
    new = build_policy(body, current.version + 1)
    document = body.model_dump(mode="json")
    row = current.row
    if row is None:
        row = CreditPolicyDocument(
            id=repository.POLICY_ROW_ID, document=document, version=new.version, updated_by=actor, updated_at=now
        )
        await repository.add(session, row)
    else:
        row.document, row.version, row.updated_by, row.updated_at = document, new.version, actor, now
        await session.flush()
    return build_policy(body, new.version, row)


# --- profiles ---------------------------------------------------------------------------------------


async def get_or_create_profile(
    session: AsyncSession, customer_id: uuid.UUID, settings: CreditSettings, now: datetime
) -> CreditProfile:
    profile = await repository.profile(session, customer_id)
    if profile is None:
        profile = CreditProfile(
            customer_id=customer_id,
            currency=settings.default_currency,
            open_receivables=Decimal("0.00"),
            open_orders=Decimal("0.00"),
            receivables_by_currency={},
            oldest_overdue_days=0,
            on_hold=False,
            hold_reasons=[],
            version=1,
            created_at=now,
            updated_at=now,
        )
        await repository.add(session, profile)
    return profile


def _grade(profile: CreditProfile | None) -> Grade | None:
    return Grade(profile.grade) if profile is not None and profile.grade else None


def collection_stage(value: str | None) -> CollectionStage | None:
    """The stage collections named, or None for no stage or one this version does not know."""
    if value is None:
        return None
    return CollectionStage._value2member_map_.get(value)  # type: ignore[return-value]


async def _require_known_customer(session: AsyncSession, customer_id: uuid.UUID, *, in_body: bool) -> str:
    customer = await repository.known_customer(session, customer_id)
    if customer is None:
        message = f"customer {customer_id} is not known to credit (yet)"
        if in_body:
            raise DomainRuleViolation(message, errors=[{"field": "body.customer_id", "message": "unknown customer"}])
        raise NotFound(message)
    return customer.name


async def profile_view(
    session: AsyncSession, customer_id: uuid.UUID, settings: CreditSettings, today: date
) -> ProfileRead:
    """Grade, limit, exposure, hold and DSO of a known customer (404 until the registry's event arrived)."""
    name = await _require_known_customer(session, customer_id, in_body=False)
    profile = await repository.profile(session, customer_id)
    policy = await load_policy(session)
    receivables = await _receivables(session, customer_id, profile)
    sales = await _sales_history(session, today, settings, customer_id)
    dso = dso_read(receivables, sales.get(customer_id, _SalesHistory.empty(today, settings)), settings)
    if profile is None:
        return ProfileRead(customer_id=customer_id, name=name, currency=settings.default_currency, dso=dso)
    grade = _grade(profile)
    bad_debt = await _bad_debt_rate(session, customer_id)
    return ProfileRead(
        customer_id=customer_id,
        name=name,
        grade=grade,
        score=profile.score,
        credit_limit=profile.credit_limit,
        limit_method=profile.limit_method,
        recommended_limit=profile.recommended_limit,
        currency=profile.currency,
        open_receivables=profile.open_receivables,
        open_orders=profile.open_orders,
        receivables_by_currency={
            cur: Decimal(amount) for cur, amount in sorted((profile.receivables_by_currency or {}).items())
        },
        other_currency_exposure=other_currency_exposure(profile),
        exposure=exposure(profile.open_receivables, profile.open_orders),
        overdue_amount=profile.overdue_amount,
        oldest_overdue_days=profile.oldest_overdue_days,
        collection_stage=profile.collection_stage,
        on_hold=profile.on_hold,
        hold_reasons=list(profile.hold_reasons or []),
        sales_policy=policy.credit.for_grade(grade).sales_policy if grade else None,
        bad_debt_rate=bad_debt,
        standard_breaches=list(_standard_breaches(grade, dso, bad_debt, policy.credit)),
        dso=dso,
        latest_assessment_id=profile.latest_assessment_id,
    )


async def _bad_debt_rate(session: AsyncSession, customer_id: uuid.UUID) -> Decimal | None:
    invoices = await repository.invoices_of(session, customer_id)
    written_off = sum((invoice.outstanding for invoice in invoices if invoice.status == "written_off"), Decimal(0))
    return bad_debt_rate(written_off, sum((invoice.amount for invoice in invoices), Decimal(0)))


def _standard_breaches(
    grade: Grade | None, dso: DsoRead, bad_debt: Decimal | None, policy: CreditPolicy
) -> tuple[StandardBreach, ...]:
    """The grade's credit standard against the simple-ratio DSO, else a complete countback DSO.

    Without credit sales on record DSO cannot be told (receivables alone are no turnover): nothing is flagged.
    """
    if grade is None:
        return ()
    days = dso.simple_days if dso.simple_days is not None else (dso.countback_days if dso.countback_complete else None)
    return credit_standard_breaches(grade, days, bad_debt, policy)


async def standard_breaches(
    session: AsyncSession,
    customer_id: uuid.UUID,
    profile: CreditProfile | None,
    policy: CreditPolicy,
    settings: CreditSettings,
    today: date,
) -> tuple[StandardBreach, ...]:
    """Where the customer's DSO and bad-debt rate exceed its grade's credit standard."""
    grade = _grade(profile)
    if grade is None:
        return ()
    receivables = await _receivables(session, customer_id, profile)
    sales = await _sales_history(session, today, settings, customer_id)
    dso = dso_read(receivables, sales.get(customer_id, _SalesHistory.empty(today, settings)), settings)
    return _standard_breaches(grade, dso, await _bad_debt_rate(session, customer_id), policy)


# --- holds ------------------------------------------------------------------------------------------


async def reconsider_hold(
    session: AsyncSession,
    profile: CreditProfile,
    policy: CreditPolicy,
    now: datetime,
    *,
    stage: CollectionStage | None,
    overdue: Decimal | None,
    stop_supply_requested: bool = False,
    requested_reason: HoldReason = HoldReason.COLLECTION_STAGE_REACHED,
) -> HoldDecision:
    """Apply domain.holds to the latest facts; emit an event only when the hold is placed or released."""
    facts = HoldFacts(
        on_hold=profile.on_hold,
        grade=_grade(profile),
        collection_stage=stage,
        overdue_amount=overdue,
        keep_supplying=bool(profile.keep_supplying),
    )
    decision = evaluate_hold(facts, policy)
    if stop_supply_requested and decision.action is HoldAction.NONE:
        # Collections asked to stop supply explicitly (a stage its policy stops at earlier than ours, or
        # arrears marked malicious).
        decision = HoldDecision(HoldAction.PLACE, on_hold=True, reasons=(requested_reason,))
    elif stop_supply_requested and decision.action is HoldAction.PLACE and requested_reason not in decision.reasons:
        decision = HoldDecision(HoldAction.PLACE, on_hold=True, reasons=(requested_reason, *decision.reasons))
    reasons = [str(reason) for reason in decision.reasons]
    if decision.action is HoldAction.PLACE:
        profile.on_hold, profile.hold_reasons, profile.hold_changed_at = True, reasons, now
        await emit(session, CreditHoldPlaced(customer_id=profile.customer_id, reasons=reasons), at=now)
    elif decision.action is HoldAction.RELEASE:
        profile.on_hold, profile.hold_reasons, profile.hold_changed_at = False, [], now
        await emit(session, CreditHoldReleased(customer_id=profile.customer_id, reason=reasons[0]), at=now)
    elif decision.action is HoldAction.KEEP and reasons != list(profile.hold_reasons or []):
        profile.hold_reasons = reasons
    if decision.action is not HoldAction.NONE:
        profile.updated_at = now
    await session.flush()
    return decision


def other_currency_exposure(profile: CreditProfile) -> list[str]:
    """Currencies other than the limit's in which collections last reported open receivables above 0."""
    return sorted(
        currency
        for currency, amount in (profile.receivables_by_currency or {}).items()
        if currency != profile.currency and Decimal(amount) > 0
    )


def _known_overdue(profile: CreditProfile) -> Decimal | None:
    """Overdue debt as far as we know: collections' last report, 0 when collections never mentioned the customer."""
    if profile.overdue_amount is not None:
        return profile.overdue_amount
    return None if profile.collection_stage else Decimal(0)


# --- assessments ------------------------------------------------------------------------------------


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
    await _require_known_customer(session, data.customer_id, in_body=True)
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
        profile.open_receivables = money(Decimal(profile.receivables_by_currency.get(data.currency, "0")))
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
        overdue=_known_overdue(profile),
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


# --- limits -------------------------------------------------------------------------------------------


async def _latest_statement_caps(
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
    await _require_known_customer(session, customer_id, in_body=False)
    existing = await repository.profile(session, customer_id)
    currency = existing.currency if existing else settings.default_currency
    if data.currency is not None and data.currency != currency:
        raise DomainRuleViolation(
            f"the customer's limit is kept in {currency}",
            errors=[{"field": "body.currency", "message": f"must be {currency}"}],
        )
    statement = await _latest_statement_caps(session, existing)
    decision = override_limit(
        data.amount,
        data.reason,
        requested_by,
        data.approved_by,
        previous_limit=existing.credit_limit if existing else None,
        recommended_limit=existing.recommended_limit if existing else None,
        net_assets=statement[0],
        working_capital=statement[1],
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
    await repository.add(session, change)
    await emit(
        session,
        CreditLimitChanged(
            customer_id=profile.customer_id,
            previous_limit=cancellation.previous_limit,
            credit_limit=cancellation.credit_limit,
            currency=profile.currency,
            method=CANCELLED,
            reason=cancellation.reason,
        ),
        at=now,
    )
    profile.credit_limit, profile.limit_method = cancellation.credit_limit, CANCELLED
    profile.version += 1
    profile.updated_at = now
    await session.flush()
    return change


async def cancel_limit_manually(
    session: AsyncSession, customer_id: uuid.UUID, reason: str, actor: str, settings: CreditSettings, now: datetime
) -> LimitChangeRead:
    """A credit manager cancels the limit (取消信用额度); 409 when it is already cancelled."""
    await _require_known_customer(session, customer_id, in_body=False)
    profile = await get_or_create_profile(session, customer_id, settings, now)
    if profile.limit_method == CANCELLED:
        raise Conflict("the credit limit is already cancelled", limit_method=CANCELLED)
    return LimitChangeRead.model_validate(await cancel_credit_limit(session, profile, reason, actor, now))


# --- credit checks ----------------------------------------------------------------------------------


async def run_credit_check(
    session: AsyncSession, data: CreditCheckCreate, checked_by: str, settings: CreditSettings, now: datetime
) -> CreditCheck:
    """Approve or block an order amount with every reason that applies; record the check."""
    await _require_known_customer(session, data.customer_id, in_body=True)
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
        grade=_grade(profile),
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
        profile.open_orders = money(profile.open_orders + decision.amount)
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


# --- DSO ------------------------------------------------------------------------------------------------


@dataclass
class _SalesHistory:
    """A customer's credit sales: the simple-DSO window and calendar months, most recent first."""

    simple_window: Decimal
    months: list[SalesPeriod]

    @classmethod
    def empty(cls, today: date, settings: CreditSettings) -> _SalesHistory:
        return cls(Decimal(0), [SalesPeriod(days, Decimal(0)) for _, _, days in _months(today, settings)])


def _months(today: date, settings: CreditSettings) -> list[tuple[date, date, int]]:
    """(first day, last day counted, days counted) of the current month (to today) and the months before."""
    months = []
    end = today
    for _ in range(settings.dso_countback_months):
        start = end.replace(day=1)
        months.append((start, end, (end - start).days + 1))
        end = start - timedelta(days=1)
    return months


async def _sales_history(
    session: AsyncSession, today: date, settings: CreditSettings, customer_id: uuid.UUID | None = None
) -> dict[uuid.UUID, _SalesHistory]:
    months = _months(today, settings)
    simple_start = today - timedelta(days=settings.dso_simple_period_days - 1)
    simple = await repository.credit_sales_by_customer(session, simple_start, today, customer_id)
    per_month = [
        await repository.credit_sales_by_customer(session, start, end, customer_id) for start, end, _ in months
    ]
    customers = set(simple).union(*per_month)
    return {
        cid: _SalesHistory(
            simple.get(cid, Decimal(0)),
            [
                SalesPeriod(days, sales.get(cid, Decimal(0)))
                for (_, _, days), sales in zip(months, per_month, strict=True)
            ],
        )
        for cid in customers
    }


async def _receivables(session: AsyncSession, customer_id: uuid.UUID, profile: CreditProfile | None) -> Decimal:
    """Collections' last reported open receivables; before any report, the invoices still outstanding."""
    if profile is not None and profile.overdue_amount is not None:
        return profile.open_receivables
    invoices = await repository.invoices_of(session, customer_id)
    return money(sum((invoice.outstanding for invoice in invoices), Decimal(0)))


def dso_read(receivables: Decimal, sales: _SalesHistory, settings: CreditSettings) -> DsoRead:
    """Simple and countback DSO; simple is null when there were receivables but no sales in its period."""
    simple: DsoResult | None = None
    if sales.simple_window > 0 or receivables == 0:
        simple = simple_dso(receivables, sales.simple_window, settings.dso_simple_period_days)
    countback = countback_dso(receivables, sales.months)
    return DsoRead(
        simple_days=simple.days if simple else None,
        simple_period_days=settings.dso_simple_period_days,
        countback_days=countback.days,
        countback_complete=countback.complete,
        receivables=money(receivables),
        credit_sales_in_period=money(sales.simple_window),
    )


async def dso_report(
    session: AsyncSession, settings: CreditSettings, today: date
) -> tuple[DsoRead, list[tuple[uuid.UUID, str, DsoRead]]]:
    """DSO of each customer with a profile or invoices, and of the portfolio (everybody's sums)."""
    history = await _sales_history(session, today, settings)
    names: dict[uuid.UUID, str] = {}
    profiles: dict[uuid.UUID, CreditProfile] = {}
    for profile, customer in await repository.profiles_with_customers(session):
        names[customer.id], profiles[customer.id] = customer.name, profile
    for customer in await repository.customers_with_invoices(session):
        names.setdefault(customer.id, customer.name)
    rows = []
    total_receivables = Decimal(0)
    total = _SalesHistory.empty(today, settings)
    for customer_id, name in sorted(names.items(), key=lambda item: (item[1], str(item[0]))):
        receivables = await _receivables(session, customer_id, profiles.get(customer_id))
        sales = history.get(customer_id, _SalesHistory.empty(today, settings))
        rows.append((customer_id, name, dso_read(receivables, sales, settings)))
        total_receivables += receivables
        total.simple_window += sales.simple_window
        total.months = [
            SalesPeriod(a.days, a.credit_sales + b.credit_sales)
            for a, b in zip(total.months, sales.months, strict=True)
        ]
    return dso_read(total_receivables, total, settings), rows
