"""Step 2 portable (SQLite): UPDATE … RETURNING the moved cases, then executemany their history and events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.escalation import PROMISE_BROKEN, keeps_supplying, step_reason, supply_must_stop
from services.collections.domain.policy import Policy
from services.collections.domain.stage_rules import EffectiveStageRule, effective_rules
from services.collections.domain.stages import LegalRoute, Segment
from services.collections.sweep.announcements import record_customers
from services.collections.sweep.rules_sql import (
    MOVED_CASE_COLUMNS,
    Chunk,
    SweepOutcome,
    candidate_conditions,
    cases,
    history,
    move_values,
    outbox_row,
    target_stage_sql,
)
from shared.events.collections import StageEntered
from shared.outbox import outbox_written
from shared.stage import Stage
from shared.tables import outbox


async def move_cases(
    session: AsyncSession,
    policy: Policy,
    as_of: date,
    now: datetime,
    outcome: SweepOutcome,
    headers: str,
    chunk: Chunk | None = None,
    *,
    as_of_at: datetime | None = None,
) -> None:
    """One UPDATE … RETURNING moving every case to its target stage; history and events for the moved rows.

    With ``chunk`` only the cases in its id range.
    """
    dialect = session.get_bind().dialect.name
    target = target_stage_sql(policy, as_of)
    conditions = [*candidate_conditions(as_of), target.is_not(None)]
    if chunk is not None:
        conditions += chunk.conditions()
    if dialect == "postgresql":
        locked = select(cases.c.id).where(*conditions).with_for_update()
        conditions = [cases.c.id.in_(locked)]
    statement = (
        update(cases)
        .where(*conditions)
        .values(move_values(target, now))
        .returning(*MOVED_CASE_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).all()
    chains: dict[tuple[str, str, str | None, bool], list[EffectiveStageRule]] = {}
    history_rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for row in rows:
        promise_broken = row.last_broken_promise is not None
        key = (row.segment, row.route, row.previous_stage, promise_broken)
        rules = chains.get(key)
        if rules is None:
            rules = chains[key] = effective_rules(
                policy,
                Segment(row.segment),
                LegalRoute(row.route),
                Stage(row.previous_stage) if row.previous_stage else None,
                promise_broken=promise_broken,
            )
        days = (as_of - row.due_date).days
        amount = row.outstanding - min(row.disputed_amount, row.outstanding)
        previous: str | None = row.previous_stage
        for position, rule in enumerate(rules):
            broken = row.last_broken_promise if position == 0 and promise_broken else None
            reason = step_reason(
                rule,
                days_overdue=days,
                due_date=row.due_date,
                amount=amount,
                outstanding=row.outstanding,
                disputed_amount=row.disputed_amount,
                segment=row.segment,
                route=row.route,
                policy_version=policy.version,
                waived_by=PROMISE_BROKEN.format(promised_on=broken) if broken is not None else None,
            )
            history_rows.append(
                {
                    "case_id": row.id,
                    "as_of": as_of,
                    "event": "stage_entered",
                    "from_stage": previous,
                    "to_stage": rule.stage.value,
                    "at": now,
                    "rule": rule.rule,
                    "reason": reason,
                    "policy_version": policy.version,
                    "actor": "sweep",
                }
            )
            events.append(
                outbox_row(
                    StageEntered(
                        customer_id=row.customer_id,
                        case_id=row.id,
                        invoice_id=row.invoice_id,
                        stage=rule.stage.value,
                        previous_stage=previous,
                        rule=rule.rule,
                        reason=reason,
                        policy_version=policy.version,
                        days_overdue=days,
                        currency=row.currency,
                        amount=amount,
                        stop_supply=supply_must_stop(policy, Segment(row.segment), rule.stage, malicious=row.malicious),
                        entered_at=now,
                        as_of=as_of,
                        keep_supplying=keeps_supplying(policy, Segment(row.segment), malicious=row.malicious),
                        as_of_at=as_of_at,
                    ),
                    now,
                    headers,
                )
            )
            outcome.stages_entered[rule.stage.value] += 1
            previous = rule.stage.value
            if rule.stage.value == row.stage:
                break
        outcome.customers.add(row.customer_id)
    await record_customers(session, (row.customer_id for row in rows))
    if history_rows:
        await session.execute(insert(history), history_rows)
    if events:
        await session.execute(insert(outbox), events)
        await outbox_written(session)
    outcome.cases_moved += len(rows)
