"""Credit profiles: created on demand, read with grade, stage and exposure; the customer must be known."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import repository
from services.credit.domain.checks import exposure
from services.credit.domain.grades import Grade
from services.credit.domain.policy import CreditPolicy, StandardBreach, bad_debt_rate, credit_standard_breaches
from services.credit.models import CreditProfile, ProfileRow
from services.credit.schemas.profiles import DsoRead, ProfileRead
from services.credit.service.dso import (
    SalesHistory,
    dso_read,
    history_of,
    receivables_from,
    receivables_of,
    sales_history,
    sales_windows,
)
from services.credit.service.holds import grade_of, other_currency_exposure
from services.credit.service.policy import policy_at_stamp
from services.credit.settings import CreditSettings
from shared.db import Database
from shared.errors import DomainRuleViolation, NotFound
from shared.stage import Stage


async def get_or_create_profile(
    session: AsyncSession, customer_id: uuid.UUID, settings: CreditSettings, now: datetime
) -> CreditProfile:
    profile = await repository.profile(session, customer_id)
    if profile is None:
        profile = new_profile(customer_id, settings, now)
        await repository.add(session, profile)
    return profile


def new_profile(customer_id: uuid.UUID, settings: CreditSettings, now: datetime) -> CreditProfile:
    """The profile of a customer credit has not dealt with yet: no grade, no limit, nothing owed, no hold."""
    return CreditProfile(**_new_profile_values(customer_id, settings, now))


def new_profile_row(customer_id: uuid.UUID, settings: CreditSettings, now: datetime) -> ProfileRow:
    """``new_profile`` as a plain row (every column, the unset ones None), for a run applied in bulk."""
    return ProfileRow(PROFILE_COLUMNS | _new_profile_values(customer_id, settings, now))


PROFILE_COLUMNS: dict[str, None] = dict.fromkeys(column.key for column in CreditProfile.__table__.columns)


def _new_profile_values(customer_id: uuid.UUID, settings: CreditSettings, now: datetime) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "currency": settings.default_currency,
        "open_receivables": Decimal("0.00"),
        "open_orders": Decimal("0.00"),
        "receivables_by_currency": {},
        "oldest_overdue_days": 0,
        "on_hold": False,
        "hold_reasons": [],
        "keep_supplying": False,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def collection_stage(value: str | None) -> Stage | None:
    """The stage collections named, or None for no stage or one this version does not know."""
    if value is None:
        return None
    return Stage._value2member_map_.get(value)  # type: ignore[return-value]


async def require_known_customer(session: AsyncSession, customer_id: uuid.UUID, *, in_body: bool) -> str:
    customer = await repository.known_customer(session, customer_id)
    if customer is None:
        message = f"customer {customer_id} is not known to credit (yet)"
        if in_body:
            raise DomainRuleViolation(message, errors=[{"field": "body.customer_id", "message": "unknown customer"}])
        raise NotFound(message)
    return customer.name


async def profile_view(db: Database, customer_id: uuid.UUID, settings: CreditSettings, today: date) -> ProfileRead:
    """Grade, limit, exposure, hold and DSO of a known customer (404 until the registry's event arrived)."""
    return await profile_of_row(db, customer_id, await profile_row(db, customer_id, settings, today), settings, today)


async def profile_row(db: Database, customer_id: uuid.UUID, settings: CreditSettings, today: date) -> Any:
    """What ``profile_view`` is computed from (with ``today``, the settings and the policy the row names by its
    stamp): the one row of ``repository.read_profile``; 404 until the registry's event arrived."""
    row = await repository.read_profile(db, customer_id, sales_windows(today, settings))
    if row is None:
        raise NotFound(f"customer {customer_id} is not known to credit (yet)")
    return row


async def profile_stamp(db: Database, customer_id: uuid.UUID) -> tuple[Any, ...]:
    """What ``profile_view`` depends on besides the day, the settings and the policy document the stamp names
    (``repository.profile_stamp``: the invoices by their stamp, not their sums); 404 as ``profile_row``."""
    row = await repository.profile_stamp(db, customer_id)
    if row is None:
        raise NotFound(f"customer {customer_id} is not known to credit (yet)")
    return tuple(row)


def stamp_of_row(row: Any) -> tuple[Any, ...]:
    """The ``profile_stamp`` of the same snapshot as a row ``profile_row`` read."""
    return tuple(row)[: repository.PROFILE_STAMP_WIDTH]


async def profile_of_row(
    db: Database, customer_id: uuid.UUID, row: Any, settings: CreditSettings, today: date
) -> ProfileRead:
    """``profile_view`` of the row ``profile_row`` read."""
    windows = sales_windows(today, settings)
    policy = await policy_at_stamp(db, row.policy_version, row.policy_updated_at)
    totals = repository.InvoiceTotals(
        Decimal(row.billed), Decimal(row.outstanding), Decimal(row.written_off_outstanding)
    )
    sales = history_of([Decimal(getattr(row, f"sales_{n}") or 0) for n in range(len(windows))], today, settings)
    profile = repository.profile_json_of(row) if row.customer_id is not None else None  # null without one
    receivables = receivables_from(profile, totals)
    dso = dso_read(receivables, sales, settings)
    name = row.customer_name
    if profile is None:
        return ProfileRead(customer_id=customer_id, name=name, currency=settings.default_currency, dso=dso)
    grade = grade_of(profile)
    bad_debt = bad_debt_rate(totals.written_off_outstanding, totals.billed)
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
        standard_breaches=list(breaches_of_standard(grade, dso, bad_debt, policy.credit)),
        dso=dso,
        latest_assessment_id=profile.latest_assessment_id,
    )


async def bad_debt_rate_of(session: AsyncSession, customer_id: uuid.UUID) -> Decimal | None:
    """Written off / billed over the invoices credit knows of the customer; None before any."""
    totals = await repository.invoice_totals(session, customer_id)
    return bad_debt_rate(totals.written_off_outstanding, totals.billed)


def breaches_of_standard(
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
    grade = grade_of(profile)
    if grade is None:
        return ()
    receivables = await receivables_of(session, customer_id, profile)
    sales = await sales_history(session, today, settings, customer_id)
    dso = dso_read(receivables, sales.get(customer_id, SalesHistory.empty(today, settings)), settings)
    return breaches_of_standard(grade, dso, await bad_debt_rate_of(session, customer_id), policy)
