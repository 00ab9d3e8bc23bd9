"""Step 3 of the sweep: write-off review flags and legal-review notes, per chunk or over every case.

Both run in each chunk's transaction, on the chunk's cases only, after its moves (so they judge each case
at its new stage, as a pass after the whole sweep did): no pass over the whole table, none holding rows
beyond one chunk. The statements are built once per sweep (``ReviewStatements``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Insert, Integer, String, Text, Update, exists, false, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.collections.domain.escalation import LEGAL_REVIEW_NO_CONTRACT
from services.collections.domain.limitation import LimitationBasis, LimitationStart, limitation_expired_reason
from services.collections.domain.policy import Policy
from services.collections.sweep.rules_sql import (
    CHUNK_PARAMETERS,
    Chunk,
    SweepOutcome,
    candidate_conditions,
    cases,
    chunk_bounds,
    history,
    legal_review_sql,
    write_off_review_sql,
)
from shared.db import UTCDateTime, compile_into_cache

HISTORY_COLUMNS = [
    "case_id",
    "as_of",
    "event",
    "from_stage",
    "to_stage",
    "at",
    "rule",
    "reason",
    "policy_version",
    "actor",
]


@dataclass
class ReviewStatements:
    """The write-off and legal-review statements of one sweep, built once (compiling the rules to SQL is
    Python work) and, per chunk, bound to its range."""

    policy: Policy
    as_of: date
    now: datetime
    # PostgreSQL: the legal-review notes are a CTE of the write-off UPDATE, so a chunk's reviews are one
    # round trip (SQLite has no data-modifying CTE: two statements there).
    together: bool = False
    built: dict[tuple[str, bool], Any] = field(default_factory=dict)

    def write_off(self, bounded: bool) -> Update:
        """Flag the court cases whose litigation thresholds are met but whose limitation period expired
        (``together``: and note the legal reviews, in the same statement)."""
        key = ("write_off", bounded)
        if key not in self.built:
            flag = (
                update(cases)
                .where(
                    *candidate_conditions(self.as_of),
                    *(chunk_bounds() if bounded else []),
                    cases.c.write_off_review == false(),
                    write_off_review_sql(self.policy, self.as_of),
                )
                .values(write_off_review=True, updated_at=self.now)
                .returning(cases.c.id, cases.c.due_date, cases.c.limitation_from, cases.c.limitation_basis)
                .execution_options(synchronize_session=False)
            )
            # Disjoint cases (time-barred ones are flagged, those within limitation noted), and both read the
            # chunk as its moves left it: one statement decides exactly what the two did.
            self.built[key] = (
                flag.add_cte(self.legal_review(bounded).cte("legal_review_notes")) if self.together else flag
            )
        statement: Update = self.built[key]
        return statement

    def compile_for_chunks(self, engine: AsyncEngine) -> None:
        """Build the chunks' review statements and compile them into ``engine``'s cache (in a worker thread)."""
        compile_into_cache(engine, self.write_off(True), CHUNK_PARAMETERS)
        if not self.together:
            compile_into_cache(engine, self.legal_review(True), CHUNK_PARAMETERS)

    def legal_review(self, bounded: bool) -> Insert:
        """Note once on each case that waits for its legal stage because no contract is on file."""
        key = ("legal_review", bounded)
        if key not in self.built:
            noted = exists().where(history.c.case_id == cases.c.id, history.c.event == "legal_review")
            waiting = select(
                cases.c.id,
                literal(self.as_of, Date),
                literal("legal_review", String),
                literal(None, String),
                literal(None, String),
                literal(self.now, UTCDateTime()),
                literal(None, Text),
                literal(LEGAL_REVIEW_NO_CONTRACT, Text),
                literal(self.policy.version, Integer),
                literal("sweep", String),
            ).where(
                *candidate_conditions(self.as_of),
                *(chunk_bounds() if bounded else []),
                legal_review_sql(self.policy, self.as_of),
                ~noted,
            )
            self.built[key] = insert(history).from_select(HISTORY_COLUMNS, waiting)
        statement: Insert = self.built[key]
        return statement


async def flag_write_off_review(
    session: AsyncSession, statements: ReviewStatements, outcome: SweepOutcome, chunk: Chunk | None = None
) -> None:
    """Flag the chunk's (None: every) time-barred court cases for write-off review, a history row each."""
    bounded = chunk is not None
    parameters = chunk.parameters() if chunk is not None else {}
    flagged = (await session.execute(statements.write_off(bounded), parameters)).all()
    policy = statements.policy
    if flagged:
        await session.execute(
            insert(history),
            [
                sweep_history_row(
                    row.id,
                    statements.as_of,
                    statements.now,
                    "write_off_review",
                    limitation_expired_reason(limitation_start(row), policy.limitation_years),
                    policy,
                )
                for row in flagged
            ],
        )
    outcome.write_off_review += len(flagged)


async def note_legal_review(session: AsyncSession, statements: ReviewStatements, chunk: Chunk | None = None) -> None:
    """Record once on each of the chunk's (None: every) cases that waits for its legal stage for want of a
    contract on file (nothing left to do when ``flag_write_off_review`` noted them ``together``)."""
    if statements.together:
        return
    parameters = chunk.parameters() if chunk is not None else {}
    await session.execute(statements.legal_review(chunk is not None), parameters)


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
