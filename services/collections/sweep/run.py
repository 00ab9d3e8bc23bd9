"""The sweep run: lock, open cases, move them, flag write-off reviews, announce receivables."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.escalation import LEGAL_REVIEW_NO_CONTRACT
from services.collections.domain.limitation import LimitationBasis, LimitationStart, limitation_expired_reason
from services.collections.domain.policy import Policy
from services.collections.service.receivables import receivables_events
from services.collections.sweep.moves import move_cases
from services.collections.sweep.moves_postgresql import MoveStatements, move_cases_in_sql
from services.collections.sweep.opening import open_cases
from services.collections.sweep.rules_sql import (
    Chunk,
    SweepOutcome,
    candidate_conditions,
    cases,
    history,
    legal_review_sql,
    outbox_row,
    write_off_review_sql,
)
from shared.context import propagation_headers
from shared.db import Database
from shared.outbox import outbox_written
from shared.tables import outbox


async def flag_write_off_review(
    session: AsyncSession, policy: Policy, as_of: date, now: datetime, outcome: SweepOutcome
) -> None:
    statement = (
        update(cases)
        .where(*candidate_conditions(as_of), cases.c.write_off_review == false(), write_off_review_sql(policy, as_of))
        .values(write_off_review=True, updated_at=now)
        .returning(cases.c.id, cases.c.due_date, cases.c.limitation_from, cases.c.limitation_basis)
        .execution_options(synchronize_session=False)
    )
    flagged = (await session.execute(statement)).all()
    if flagged:
        await session.execute(
            insert(history),
            [
                sweep_history_row(
                    row.id,
                    as_of,
                    now,
                    "write_off_review",
                    limitation_expired_reason(limitation_start(row), policy.limitation_years),
                    policy,
                )
                for row in flagged
            ],
        )
    outcome.write_off_review = len(flagged)


async def note_legal_review(session: AsyncSession, policy: Policy, as_of: date, now: datetime) -> None:
    """Record once on each case that waits for its legal stage because no contract is on file."""
    already = select(history.c.case_id).where(history.c.event == "legal_review")
    waiting = (
        await session.execute(
            select(cases.c.id).where(
                *candidate_conditions(as_of), legal_review_sql(policy, as_of), cases.c.id.not_in(already)
            )
        )
    ).scalars()
    rows = [
        sweep_history_row(case_id, as_of, now, "legal_review", LEGAL_REVIEW_NO_CONTRACT, policy) for case_id in waiting
    ]
    if rows:
        await session.execute(insert(history), rows)


def limitation_start(row: Any) -> LimitationStart:
    """A case row's limitation start (its columns ``due_date``, ``limitation_from``, ``limitation_basis``)."""
    if row.limitation_from is None:
        return LimitationStart.from_due_date(_as_date(row.due_date))
    return LimitationStart(_as_date(row.limitation_from), LimitationBasis(row.limitation_basis))


def sweep_history_row(
    case_id: uuid.UUID, as_of: date, now: datetime, event: str, reason: str, policy: Policy
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "as_of": as_of,
        "event": event,
        "from_stage": None,
        "to_stage": None,
        "at": now,
        "rule": None,
        "reason": reason,
        "policy_version": policy.version,
        "actor": "sweep",
    }


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# pg_advisory_xact_lock key of the sweep: an arbitrary constant of this service.
SWEEP_LOCK_KEY = 7_201_126_001


async def run_sweep(
    session: AsyncSession,
    policy: Policy,
    as_of: date,
    now: datetime,
    *,
    as_of_at: datetime | None = None,
    in_sql: bool | None = None,
) -> SweepOutcome:
    """Open cases, move them, flag write-off reviews and announce the customers' receivables.

    ``as_of_at``: the sweep's instant when one was asked for (stage actions judge contact rules at it).
    ``in_sql``: move in one SQL statement (PostgreSQL; the default there) or via RETURNING + executemany
    (portable; the default on SQLite). Both word every step with the domain's templates.
    """
    outcome = SweepOutcome(as_of=as_of, policy_version=policy.version)
    headers = json.dumps(propagation_headers())
    if session.get_bind().dialect.name == "postgresql":
        # One sweep at a time across replicas (SQLite has a single writer anyway). The UPDATE then waits
        # for a row a stage handler or a payment holds (no SKIP LOCKED): that case must still be decided in
        # this sweep, or an as_of sweep would silently leave it behind.
        await session.execute(select(func.pg_advisory_xact_lock(SWEEP_LOCK_KEY)))
    await open_cases(session, as_of, now, outcome, headers)
    if in_sql if in_sql is not None else session.get_bind().dialect.name == "postgresql":
        await move_cases_in_sql(session, policy, as_of, now, outcome, headers, as_of_at=as_of_at)
    else:
        await move_cases(session, policy, as_of, now, outcome, headers, as_of_at=as_of_at)
    await flag_write_off_review(session, policy, as_of, now, outcome)
    await note_legal_review(session, policy, as_of, now)
    changed = await receivables_events(session, outcome.customers, as_of, now)
    if changed:
        await session.execute(insert(outbox), [outbox_row(event, now, headers) for event in changed])
        await outbox_written(session)
    return outcome


async def next_chunk(session: AsyncSession, after: uuid.UUID | None, chunk_size: int) -> Chunk | None:
    """The next ``chunk_size`` cases after ``after`` in id order (None: there are none).

    A walk of the primary key index only, so finding a chunk costs nothing next to moving it, and each
    case is looked at by one chunk: no pass over the candidates before the first chunk, none re-scanned.
    """
    following = select(cases.c.id).order_by(cases.c.id)
    if after is not None:
        following = following.where(cases.c.id > after)
    first = following.limit(1).scalar_subquery()
    last = following.offset(chunk_size - 1).limit(1).scalar_subquery()
    bounds = (await session.execute(select(first, last))).one()
    return None if bounds[0] is None else Chunk(bounds[0], bounds[1])


async def run_sweep_in_chunks(
    db: Database,
    policy: Policy,
    as_of: date,
    now: datetime,
    *,
    chunk_size: int,
    as_of_at: datetime | None = None,
    finish: Callable[[AsyncSession], Awaitable[None]] | None = None,
) -> SweepOutcome:
    """The same sweep in keyset chunks of ``chunk_size`` cases (in id order), each chunk its own transaction.

    Each chunk moves the due cases among its ``chunk_size`` with their history and ``stage_entered`` rows
    atomically and commits, so a payment or a stage handler waits at most for one chunk, not for the whole
    sweep. Resumable: a sweep that stops half way leaves every committed chunk done, and the next sweep as
    of the same day moves only what is left (a moved case is no longer a candidate). Sweeps of several
    replicas still take turns (PostgreSQL: the advisory lock is held by a guard transaction for the whole
    run; the chunks, on other connections, take none). Then write-off review flags, receivables and
    ``finish`` (agency recalls, deferred contacts) in a last transaction.
    """
    outcome = SweepOutcome(as_of=as_of, policy_version=policy.version)
    headers = json.dumps(propagation_headers())
    postgresql = db.dialect == "postgresql"
    async with db.transaction() as guard:
        if postgresql:
            await guard.execute(select(func.pg_advisory_xact_lock(SWEEP_LOCK_KEY)))
        async with db.transaction() as session:
            await open_cases(session, as_of, now, outcome, headers)
        # PostgreSQL: one statement for the whole run, each chunk binds its range; every chunk on one
        # connection (a transaction each), so the statement is prepared once.
        statements = MoveStatements(policy, as_of, now, headers, as_of_at)
        after: uuid.UUID | None = None
        async with db.engine.connect() as connection:
            session = db.sessions(bind=connection)
            try:
                while True:
                    async with session.begin():
                        chunk = await next_chunk(session, after, chunk_size)
                        if chunk is None:
                            break
                        if postgresql:
                            await move_cases_in_sql(
                                session,
                                policy,
                                as_of,
                                now,
                                outcome,
                                headers,
                                chunk,
                                as_of_at=as_of_at,
                                statements=statements,
                            )
                        else:
                            await move_cases(session, policy, as_of, now, outcome, headers, chunk, as_of_at=as_of_at)
                    if chunk.last is None:
                        break
                    after = chunk.last
            finally:
                await session.close()
        async with db.transaction() as session:
            await flag_write_off_review(session, policy, as_of, now, outcome)
            await note_legal_review(session, policy, as_of, now)
            changed = await receivables_events(session, outcome.customers, as_of, now)
            if changed:
                await session.execute(insert(outbox), [outbox_row(event, now, headers) for event in changed])
                await outbox_written(session)
            if finish is not None:
                await finish(session)
    return outcome
