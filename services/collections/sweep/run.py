"""The sweep run: lock, open cases, move them, flag write-off reviews, announce receivables."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from sqlalchemy import func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.policy import Policy
from services.collections.sweep.announcements import announce_recorded
from services.collections.sweep.moves import move_cases
from services.collections.sweep.moves_postgresql import (
    CHUNK_SETTINGS,
    SEEN_TABLE_DDL,
    ChunkChanged,
    MoveStatements,
    move_cases_in_sql,
    move_chunk_locking_late,
)
from services.collections.sweep.opening import open_cases
from services.collections.sweep.reviews import ReviewStatements, flag_write_off_review, note_legal_review
from services.collections.sweep.rules_sql import Chunk, SweepOutcome, cases
from shared.context import propagation_headers
from shared.db import Database

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
    reviews = ReviewStatements(policy, as_of, now, together=session.get_bind().dialect.name == "postgresql")
    await flag_write_off_review(session, reviews, outcome)
    await note_legal_review(session, reviews)
    await announce_recorded(session, outcome, as_of, now, headers)
    return outcome


async def next_chunk(
    session: AsyncSession, after: uuid.UUID | None, chunk_size: int, *, postgresql: bool
) -> Chunk | None:
    """The next ``chunk_size`` cases after ``after`` in id order (None: there are none).

    A walk of the primary key index only, so finding a chunk costs nothing next to moving it, and each
    case is looked at by one chunk: no pass over the candidates before the first chunk, none re-scanned.
    PostgreSQL: the same round trip sets the chunk transaction's settings (``CHUNK_SETTINGS``).
    """
    following = select(cases.c.id).order_by(cases.c.id)
    if after is not None:
        following = following.where(cases.c.id > after)
    first = following.limit(1).scalar_subquery()
    last = following.offset(chunk_size - 1).limit(1).scalar_subquery()
    settings = [func.set_config(name, value, true()) for name, value in CHUNK_SETTINGS.items()] if postgresql else []
    bounds = (await session.execute(select(first, last, *settings))).one()
    return None if bounds[0] is None else Chunk(bounds[0], bounds[1])


def _compile_for_chunks(db: Database, moves: MoveStatements | None, reviews: ReviewStatements) -> None:
    if moves is not None:
        moves.compile_for_chunks(db.engine, locking_late=True)
    reviews.compile_for_chunks(db.engine)


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
    """The same sweep in keyset chunks of ``chunk_size`` (in id order), each chunk its own transaction.

    Cases are opened in chunks of ``chunk_size`` uncased overdue invoices; then each chunk of cases moves
    its due cases with their history and ``stage_entered`` rows, flags its time-barred ones for write-off
    review, notes its legal reviews and records the customers it touched, atomically, and commits: a
    payment or a stage handler waits at most for one chunk, never for a whole-table pass. Resumable: a
    sweep that stops half way leaves every committed chunk done, and the next sweep as of the same day
    moves only what is left (a moved case is no longer a candidate) and announces the customers recorded by
    both. Sweeps of several replicas take turns (PostgreSQL: the advisory lock is held by a guard
    transaction for the whole run; the chunks, on another connection, take none). Then ``receivables_changed``
    per recorded customer and ``finish`` (agency recalls, deferred contacts) in a last transaction.
    """
    outcome = SweepOutcome(as_of=as_of, policy_version=policy.version)
    headers = json.dumps(propagation_headers())
    postgresql = db.dialect == "postgresql"
    async with db.transaction() as guard:
        if postgresql:
            await guard.execute(select(func.pg_advisory_xact_lock(SWEEP_LOCK_KEY)))
        # PostgreSQL: one statement each for the whole run, each chunk binds its range; every chunk on one
        # connection (a transaction each), so the statements are prepared once.
        moves = MoveStatements(policy, as_of, now, headers, as_of_at)
        reviews = ReviewStatements(policy, as_of, now, together=postgresql)
        # Built and compiled in a worker thread: on the event loop they held every request of the process
        # (a payment too) for 0.5-2 s at the start of each sweep on a loaded box.
        await asyncio.to_thread(_compile_for_chunks, db, moves if postgresql else None, reviews)
        async with db.engine.connect() as connection:
            session = db.sessions(bind=connection)
            try:
                opened_up_to: uuid.UUID | None = None
                while True:
                    async with session.begin():
                        opened_up_to = await open_cases(
                            session, as_of, now, outcome, headers, after=opened_up_to, limit=chunk_size
                        )
                    if opened_up_to is None:
                        break
                if postgresql:
                    async with session.begin():
                        await session.execute(text(SEEN_TABLE_DDL))
                after: uuid.UUID | None = None
                lock_first = lock_first_compiled = False
                while True:
                    try:
                        async with session.begin():
                            chunk = await next_chunk(session, after, chunk_size, postgresql=postgresql)
                            if chunk is None:
                                break
                            if postgresql and not lock_first:
                                # Its row locks last: a payment on one of its cases waits for an UPDATE and a
                                # commit at most, not for the chunk's history and events.
                                await move_chunk_locking_late(session, outcome, chunk, moves)
                            elif postgresql:
                                await move_cases_in_sql(
                                    session,
                                    policy,
                                    as_of,
                                    now,
                                    outcome,
                                    headers,
                                    chunk,
                                    as_of_at=as_of_at,
                                    statements=moves,
                                    configured=True,
                                )
                            else:
                                await move_cases(
                                    session, policy, as_of, now, outcome, headers, chunk, as_of_at=as_of_at
                                )
                            await flag_write_off_review(session, reviews, outcome, chunk)
                            await note_legal_review(session, reviews, chunk)
                    except ChunkChanged:
                        # Rolled back, nothing of it kept: the same chunk again, deciding on locked rows (a
                        # chunk that met a payment once is likely to meet another before a late lock). Its
                        # statement compiled off the event loop, once a sweep.
                        if not lock_first_compiled:
                            await asyncio.to_thread(moves.compile_for_chunks, db.engine)
                            lock_first_compiled = True
                        lock_first = True
                        continue
                    lock_first = False
                    if chunk.last is None:
                        break
                    after = chunk.last
            finally:
                await session.close()
        async with db.transaction() as session:
            await announce_recorded(session, outcome, as_of, now, headers)
            if finish is not None:
                await finish(session)
    return outcome
