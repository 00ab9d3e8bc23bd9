"""The sweep run: lock, open cases, move them, flag write-off reviews, announce receivables."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.policy import Policy
from services.collections.sweep.announcements import announce_recorded
from services.collections.sweep.moves import move_cases
from services.collections.sweep.moves_postgresql import (
    CHUNK_SETTINGS,
    SEEN_TABLE_DDL,
    ChunkChanged,
    MoveStatements,
    decide_chunk,
    lock_decided_chunk,
    move_cases_in_sql,
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
    pipelined: bool = True,
) -> SweepOutcome:
    """The same sweep in keyset chunks of ``chunk_size`` (in id order), each chunk its own transaction.

    Cases are opened in chunks of ``chunk_size`` uncased overdue invoices; then each chunk of cases moves
    its due cases with their history and ``stage_entered`` rows, flags its time-barred ones for write-off
    review, notes its legal reviews and records the customers it touched, atomically, and commits: a
    payment or a stage handler waits at most for one chunk, never for a whole-table pass. Resumable: a
    sweep that stops half way leaves every committed chunk done, and the next sweep as of the same day
    moves only what is left (a moved case is no longer a candidate) and announces the customers recorded by
    both. Sweeps of several replicas take turns (PostgreSQL: the advisory lock is held by a guard
    transaction for the whole run; the chunks, on other connections, take none). Then ``receivables_changed``
    per recorded customer and ``finish`` (agency recalls, deferred contacts) in a last transaction.
    ``pipelined`` (PostgreSQL): the next chunk decided on a second connection meanwhile (``_ChunkPipeline``).
    """
    outcome = SweepOutcome(as_of=as_of, policy_version=policy.version)
    headers = json.dumps(propagation_headers())
    postgresql = db.dialect == "postgresql"
    async with db.transaction() as guard:
        if postgresql:
            await guard.execute(select(func.pg_advisory_xact_lock(SWEEP_LOCK_KEY)))
        # PostgreSQL: one statement each for the whole run, each chunk binds its range; the chunks on two
        # connections (a transaction each), so the statements are prepared once on each.
        moves = MoveStatements(policy, as_of, now, headers, as_of_at)
        reviews = ReviewStatements(policy, as_of, now, together=postgresql)
        # Built and compiled in a worker thread: on the event loop they held every request of the process
        # (a payment too) for 0.5-2 s at the start of each sweep on a loaded box. Meanwhile the cases are
        # opened (their statements are not these), mostly a wait on the database.
        compiling = asyncio.create_task(
            asyncio.to_thread(_compile_for_chunks, db, moves if postgresql else None, reviews)
        )
        async with db.engine.connect() as connection:
            session = db.sessions(bind=connection)
            try:
                try:
                    opened_up_to: uuid.UUID | None = None
                    while True:
                        async with session.begin():
                            opened_up_to = await open_cases(
                                session, as_of, now, outcome, headers, after=opened_up_to, limit=chunk_size
                            )
                        if opened_up_to is None:
                            break
                finally:
                    await compiling
                if postgresql:
                    pipeline = _ChunkPipeline(db, moves, reviews, outcome, chunk_size, as_of_at)
                    if pipelined:
                        async with db.engine.connect() as other:
                            await pipeline.run(session, db.sessions(bind=other))
                    else:
                        await pipeline.run(session, None)
                else:
                    await _move_in_chunks(session, policy, as_of, now, outcome, headers, reviews, chunk_size, as_of_at)
            finally:
                await session.close()
        async with db.transaction() as session:
            await announce_recorded(session, outcome, as_of, now, headers)
            if finish is not None:
                await finish(session)
    return outcome


async def _move_in_chunks(
    session: AsyncSession,
    policy: Policy,
    as_of: date,
    now: datetime,
    outcome: SweepOutcome,
    headers: str,
    reviews: ReviewStatements,
    chunk_size: int,
    as_of_at: datetime | None,
) -> None:
    """The portable chunks (SQLite: one writer), one after the other: moves, reviews, commit."""
    after: uuid.UUID | None = None
    while True:
        async with session.begin():
            chunk = await next_chunk(session, after, chunk_size, postgresql=False)
            if chunk is None:
                return
            await move_cases(session, policy, as_of, now, outcome, headers, chunk, as_of_at=as_of_at)
            await flag_write_off_review(session, reviews, outcome, chunk)
            await note_legal_review(session, reviews, chunk)
        if chunk.last is None:
            return
        after = chunk.last


async def _outcome_of(step: Awaitable[Any]) -> Any:
    """What ``step`` returned or raised (``asyncio.gather(..., return_exceptions=True)`` of one)."""
    try:
        return await step
    except Exception as exc:  # handed to the caller, which re-raises it
        return exc


@dataclass
class _Decided:
    """A chunk whose moves are decided and written, its cases not yet locked (``decide_chunk``): its
    transaction is open on ``session``."""

    session: AsyncSession
    chunk: Chunk
    counts: list[Row[Any]]


@dataclass
class _ChunkPipeline:
    """PostgreSQL: the chunks on two connections, each chunk's first half (``decide_chunk``: deciding and
    writing its history and events, most of its work, no case locked) while the chunk before it does its
    second half on the other connection (``lock_decided_chunk``, its reviews and its commit).

    The two halves touch disjoint cases (keyset ranges) and the first half writes no row the other chunk
    writes too (the customers to announce are recorded by the second half), so neither waits for the other.
    A chunk locks its cases only after the chunk before it committed: the chunks commit in id order, and their
    events are in the outbox in that order too, unless a chunk is redone (then its rows come after the next
    chunk's, decided meanwhile; each case's events are still in order, all in one statement). A changed case
    (``ChunkChanged``) redoes the chunk locking first, the next chunk's decision kept; any other failure ends
    the sweep, the next chunk rolled back with the failed one and every chunk before them committed.
    """

    db: Database
    moves: MoveStatements
    reviews: ReviewStatements
    outcome: SweepOutcome
    chunk_size: int
    as_of_at: datetime | None
    lock_first_compiled: bool = False

    async def run(self, first: AsyncSession, second: AsyncSession | None) -> None:
        """The chunks, on ``first`` and ``second`` by turns (None: on ``first`` alone, one after the other)."""
        for session in (first, second):
            if session is not None:
                async with session.begin():
                    await session.execute(text(SEEN_TABLE_DDL))
        decided = await self._decide(first, None)
        while decided is not None:
            following: Any = None
            if second is None:
                locked: Any = await _outcome_of(self._lock_and_commit(decided))
                if decided.chunk.last is not None and not isinstance(locked, BaseException):
                    following = await _outcome_of(self._decide(first, decided.chunk.last))
            else:
                other = second if decided.session is first else first
                halves: list[Awaitable[Any]] = [self._lock_and_commit(decided)]
                if decided.chunk.last is not None:
                    halves.append(self._decide(other, decided.chunk.last))
                locked, *rest = await asyncio.gather(*halves, return_exceptions=True)
                following = rest[0] if rest else None
            if isinstance(locked, BaseException) and not isinstance(locked, ChunkChanged):
                if isinstance(following, _Decided):
                    await following.session.rollback()
                raise locked
            if isinstance(following, BaseException):
                raise following
            if isinstance(locked, ChunkChanged):
                # Rolled back, nothing of it kept: the same chunk again, deciding on locked rows (a chunk that
                # met a payment once is likely to meet another before a late lock).
                await self._redo_locking_first(decided.session, decided.chunk)
                if second is None and decided.chunk.last is not None:
                    following = await self._decide(first, decided.chunk.last)
            decided = following

    async def _decide(self, session: AsyncSession, after: uuid.UUID | None) -> _Decided | None:
        """Open a transaction on ``session`` for the chunk after ``after`` and decide it (None: no chunk left)."""
        await session.begin()
        try:
            chunk = await next_chunk(session, after, self.chunk_size, postgresql=True)
            if chunk is None:
                await session.rollback()
                return None
            return _Decided(session, chunk, await decide_chunk(session, chunk, self.moves))
        except BaseException:
            await session.rollback()
            raise

    async def _lock_and_commit(self, decided: _Decided) -> None:
        """Move the decided rows, flag and note the chunk's reviews, commit; roll back on any failure."""
        session = decided.session
        try:
            await lock_decided_chunk(session, self.outcome, decided.chunk, self.moves, decided.counts)
            await flag_write_off_review(session, self.reviews, self.outcome, decided.chunk)
            await note_legal_review(session, self.reviews, decided.chunk)
            await session.commit()
        except BaseException:
            await session.rollback()
            raise

    async def _redo_locking_first(self, session: AsyncSession, chunk: Chunk) -> None:
        """``chunk`` (the same range: the next one was decided from its bounds) moved by the statement that
        locks first, in a transaction of its own."""
        if not self.lock_first_compiled:
            # Compiled off the event loop, once a sweep.
            await asyncio.to_thread(self.moves.compile_for_chunks, self.db.engine)
            self.lock_first_compiled = True
        moves = self.moves
        async with session.begin():
            await move_cases_in_sql(
                session,
                moves.policy,
                moves.as_of,
                moves.now,
                self.outcome,
                moves.headers,
                chunk,
                as_of_at=self.as_of_at,
                statements=moves,
            )
            await flag_write_off_review(session, self.reviews, self.outcome, chunk)
            await note_legal_review(session, self.reviews, chunk)
