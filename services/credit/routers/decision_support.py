"""Calculators and reports: credit-terms quotes, DSO, credit-period analysis. They write nothing."""

from __future__ import annotations

from services.credit.domain.credit_period import CreditPeriodScenario, ScenarioFigures, analyse_credit_periods
from services.credit.routers.common import Reader, SettingsDep, body_fields
from services.credit.schemas.decision_support import (
    CreditPeriodAnalysisCreate,
    CreditPeriodAnalysisRead,
    CustomerDsoRead,
    DsoReportRead,
    ForgoneCostRead,
    MarginalRead,
    ScenarioFiguresRead,
    TermsQuoteCreate,
    TermsQuoteRead,
    TierQuoteRead,
)
from services.credit.service.dso import dso_report
from shared.app import ClockDep, Session
from shared.openapi import api_router
from shared.terms import parse_terms, quote

router = api_router(tags=["decision support"])


@router.post("/terms/quote", response_model=TermsQuoteRead, summary="Quote a payment under credit terms")
async def quote_terms(body: TermsQuoteCreate, _principal: Reader) -> TermsQuoteRead:
    """Tiers of `2/10, n/30`-style terms, the discount a payment date earns, the amount due, the due dates and
    the annualised cost of forgoing each discount (simple 360/365-day and compounded, percent)."""
    with body_fields():
        terms = parse_terms(body.terms)
        result = quote(terms, body.amount, body.issue_date, body.payment_date)
    return TermsQuoteRead(
        terms=str(terms),
        net_days=terms.net_days,
        amount=result.amount,
        issue_date=result.issue_date,
        payment_date=result.payment_date,
        discount_percent=result.discount_percent,
        discount_amount=result.discount_amount,
        amount_due=result.amount_due,
        net_due_date=result.net_due_date,
        discount_due_dates=[tier.deadline for tier in result.tiers],
        is_late=result.is_late,
        days_late=result.days_late,
        tiers=[
            TierQuoteRead(
                percent=tier.tier.percent,
                days=tier.tier.days,
                deadline=tier.deadline,
                earned=tier.earned,
                cost_of_forgoing=ForgoneCostRead(
                    simple_360_percent=tier.cost_of_forgoing.simple_360_percent,
                    simple_365_percent=tier.cost_of_forgoing.simple_365_percent,
                    compounded_percent=tier.cost_of_forgoing.compounded_percent,
                ),
            )
            for tier in result.tiers
        ],
    )


@router.get("/reports/dso", response_model=DsoReportRead, summary="DSO of the portfolio and per customer")
async def get_dso_report(session: Session, clock: ClockDep, settings: SettingsDep, _principal: Reader) -> DsoReportRead:
    """Countback and simple DSO from collections' invoices and reported receivables, as of today."""
    today = clock.now().date()
    portfolio, rows = await dso_report(session, settings, today)
    return DsoReportRead(
        as_of=today,
        portfolio=portfolio,
        customers=[CustomerDsoRead(customer_id=cid, name=name, dso=dso) for cid, name, dso in rows],
    )


def _figures(figures: ScenarioFigures) -> ScenarioFiguresRead:
    return ScenarioFiguresRead(
        credit_period_days=figures.scenario.credit_period_days,
        label=figures.scenario.label,
        annual_sales=figures.scenario.annual_sales,
        contribution_margin=figures.contribution_margin,
        average_receivables=figures.average_receivables,
        receivables_investment=figures.receivables_investment,
        carrying_cost=figures.carrying_cost,
        bad_debts=figures.bad_debts,
        collection_cost=figures.collection_cost,
        net_benefit=figures.net_benefit,
        npv_per_day=figures.npv_per_day,
    )


@router.post(
    "/analysis/credit-period",
    response_model=CreditPeriodAnalysisRead,
    summary="Compare credit periods (marginal analysis and NPV)",
)
async def analyse_credit_period(body: CreditPeriodAnalysisCreate, _principal: Reader) -> CreditPeriodAnalysisRead:
    """Each scenario's contribution, receivables carrying cost, bad debts and collection cost (360-day year),
    the increments against the base, the daily NPV, and the period each method recommends."""
    with body_fields():
        analysis = analyse_credit_periods(
            CreditPeriodScenario(**body.base.model_dump()),
            [CreditPeriodScenario(**scenario.model_dump()) for scenario in body.alternatives],
        )
    return CreditPeriodAnalysisRead(
        base=_figures(analysis.base),
        alternatives=[_figures(f) for f in analysis.alternatives],
        marginal=[MarginalRead(**vars(m)) for m in analysis.marginal],
        recommended_period_days=analysis.recommended_period_days,
        recommended_by_npv_period_days=analysis.recommended_by_npv_period_days,
        methods_agree=analysis.methods_agree,
    )
