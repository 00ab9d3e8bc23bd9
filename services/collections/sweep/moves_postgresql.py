"""Step 2 on PostgreSQL: move every due case, write its history and events, in one statement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Integer,
    Row,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    literal,
    literal_column,
    select,
    table,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.collections.domain.escalation import (
    DAYS_COUNTED,
    DAYS_WAIVED,
    PROMISE_BROKEN,
    STEP_REASON,
    UNDISPUTED,
)
from services.collections.domain.policy import Policy
from services.collections.sweep.rules_sql import (
    CHUNK_PARAMETERS,
    MOVED_CASE_COLUMNS,
    Chunk,
    SweepOutcome,
    announcements,
    candidate_conditions,
    cases,
    chunk_bounds,
    history,
    move_values,
    rank_sql,
    steps_table,
    target_stage_sql,
    template_sql,
)
from shared.db import UTCDateTime, compile_into_cache
from shared.events.collections import StageEntered
from shared.outbox import outbox_notify_sql, outbox_written
from shared.tables import outbox

CHUNK_SETTINGS = {"jit": "off", "plan_cache_mode": "force_generic_plan"}


def text_of(value: ColumnElement[Any]) -> ColumnElement[str]:
    return cast(value, Text)


# A chunk that locks late (``move_statement(..., lock_late=True)``) notes here each case it decided to move,
# the row version it decided on (``xmin``: every update of a row writes a new one) and the stage it goes to;
# ``SEEN_MOVE`` then moves exactly those rows, if unchanged. Per connection, emptied by every commit.
SEEN_TABLE_DDL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS sweep_seen (id uuid NOT NULL, seen xid NOT NULL, stage text NOT NULL,"
    " stage_rank integer NOT NULL) ON COMMIT DELETE ROWS"
)
seen_cases = table("sweep_seen", column("id"), column("seen"), column("stage"), column("stage_rank"))

# The late lock: the cases the chunk's first statement decided on, moved if their row is the version it read
# (a payment that changed one since fails the xmin test on the committed version, which an UPDATE re-checks
# after waiting). ``moved`` against ``seen``: fewer means the chunk decided on stale rows and is redone. The
# customers of the moves are recorded for their announcement here, not in the first statement: a chunk decided
# on the other connection meanwhile (``run._ChunkPipeline``) then holds no row another chunk's moves wait for.
SEEN_MOVE = text(
    "WITH moved AS (UPDATE cases SET previous_stage = cases.stage, stage = seen.stage, stage_rank = seen.stage_rank,"
    " last_broken_promise = cases.promise_to_pay, promise_to_pay = NULL, updated_at = :now,"
    " version = cases.version + 1"
    " FROM sweep_seen AS seen"
    " WHERE cases.id = seen.id AND cases.xmin = seen.seen AND cases.id >= :chunk_first AND cases.id <= :chunk_last"
    " RETURNING cases.customer_id),"
    " announced AS (INSERT INTO sweep_announcements (customer_id)"
    " SELECT DISTINCT customer_id FROM moved ORDER BY customer_id ON CONFLICT (customer_id) DO NOTHING)"
    " SELECT (SELECT count(*) FROM moved) AS moved, (SELECT count(*) FROM sweep_seen) AS seen"
).bindparams(bindparam("now", type_=UTCDateTime()))


def move_statement(
    policy: Policy,
    as_of: date,
    now: datetime,
    headers: str,
    *,
    as_of_at: datetime | None,
    bounded: bool,
    lock_late: bool = False,
) -> Select[Any]:
    """The move of every due case (``bounded``: of the cases whose id is between the parameters
    ``chunk_first`` and ``chunk_last``), its history and events: ONE statement of CTEs.

    ``moved`` (UPDATE … RETURNING) → ``steps`` (moved rows joined to the stages they pass) → history
    INSERT … SELECT and outbox INSERT … SELECT (event JSON built with ``to_json`` of a row). Only
    per-customer, per-stage counts come back, with the relay's wake-up (``pg_notify``, delivered at commit).

    ``lock_late``: ``moved`` is a SELECT of the rows as the UPDATE would return them, which locks nothing, and
    notes them in ``sweep_seen``; ``SEEN_MOVE`` updates them after (and records their customers), so the chunk
    holds its row locks for that UPDATE and its commit only, not for the writes of its history and events
    (most of its time).
    """
    bounds = chunk_bounds() if bounded else []
    target = target_stage_sql(policy, as_of)
    seen_rows = None
    if lock_late:
        decided = (
            select(
                cases.c.id,
                cases.c.invoice_id,
                cases.c.customer_id,
                cases.c.stage.label("previous_stage"),
                target.label("stage"),
                cases.c.segment,
                cases.c.route,
                cases.c.due_date,
                cases.c.currency,
                cases.c.outstanding,
                cases.c.disputed_amount,
                cases.c.promise_to_pay.label("last_broken_promise"),
                cases.c.malicious,
                literal_column("cases.xmin").label("seen"),
            )
            .where(*candidate_conditions(as_of), *bounds, target.is_not(None))
            .cte("moved")
        )
        seen_rows = (
            insert(seen_cases)
            .from_select(
                ["id", "seen", "stage", "stage_rank"],
                select(decided.c.id, decided.c.seen, decided.c.stage, rank_sql(decided.c.stage)),
            )
            .cte("seen_rows")
        )
        moved: Any = decided
    else:
        # A plain UPDATE: it locks exactly the rows it moves, and a row a payment or a stage handler holds is
        # waited for and then re-decided on its committed state (READ COMMITTED re-checks the WHERE and
        # recomputes SET on the new row version), so no due case is left behind and none moves on stale facts.
        # The compiled CASE is cheap next to the writes (no FOR UPDATE pass that writes every tuple twice).
        moved = (
            update(cases)
            .where(*candidate_conditions(as_of), *bounds, target.is_not(None))
            .values(move_values(target, now))
            .returning(*MOVED_CASE_COLUMNS)
            .cte("moved")
        )
    chains = steps_table(policy)
    as_of_sql = literal(as_of, Date)
    days = cast(as_of_sql - moved.c.due_date, Integer)
    amount = moved.c.outstanding - func.least(moved.c.disputed_amount, moved.c.outstanding)
    # LATERAL unnest emits each case's steps in order, so the inserts need no sort to keep that order
    # (data-modifying statements never run in parallel: rows are inserted in the order produced).
    step = (
        func.unnest(
            chains.c.stages,
            chains.c.prevs,
            chains.c.rules,
            chains.c.thresholds,
            chains.c.minimums,
            chains.c.stops_plain,
            chains.c.stops_malicious,
        )
        .table_valued(
            column("step_stage", Text),
            column("prev_stage", Text),
            column("rule", Text),
            column("threshold", Text),
            column("minimum", Text),
            column("stop_plain", Boolean),
            column("stop_malicious", Boolean),
            with_ordinality="ordinal",
        )
        .render_derived()
        .lateral("step")
    )
    steps = (
        select(
            moved,
            (step.c.ordinal - 1).label("pos"),
            step.c.step_stage,
            step.c.prev_stage,
            step.c.rule,
            step.c.threshold,
            step.c.minimum,
            chains.c.keeps_plain,
            step.c.stop_plain,
            step.c.stop_malicious,
            days.label("days"),
            amount.label("amount"),
        )
        .select_from(
            moved.join(
                chains,
                and_(
                    chains.c.k_segment == moved.c.segment,
                    chains.c.k_route == moved.c.route,
                    chains.c.k_from.is_not_distinct_from(moved.c.previous_stage),
                    chains.c.k_broken == moved.c.last_broken_promise.is_not(None),
                    chains.c.k_to == moved.c.stage,
                ),
            ).join(step, true())
        )
        .cte("steps")
    )
    # The words are the domain's (escalation.STEP_REASON and friends), compiled to string concatenation.
    days_counted = template_sql(
        DAYS_COUNTED, days_overdue=steps.c.days, due_date=steps.c.due_date, threshold=steps.c.threshold
    )
    days_waived = template_sql(
        DAYS_WAIVED,
        waived_by=template_sql(PROMISE_BROKEN, promised_on=steps.c.last_broken_promise),
        days_overdue=steps.c.days,
    )
    reason = template_sql(
        STEP_REASON,
        days=case((and_(steps.c.pos == 0, steps.c.last_broken_promise.is_not(None)), days_waived), else_=days_counted),
        amount=steps.c.amount,
        minimum=steps.c.minimum,
        undisputed=case(
            (steps.c.disputed_amount > 0, template_sql(UNDISPUTED, outstanding=steps.c.outstanding)), else_=""
        ),
        segment=steps.c.segment,
        route=steps.c.route,
        policy_version=str(policy.version),
    )
    reasons = select(steps, reason.label("reason")).cte("reasons")
    history_insert = (
        insert(history)
        .from_select(
            ["case_id", "as_of", "event", "from_stage", "to_stage", "at", "rule", "reason", "policy_version", "actor"],
            select(
                reasons.c.id,
                as_of_sql,
                literal("stage_entered", String),
                reasons.c.prev_stage,
                reasons.c.step_stage,
                literal(now, UTCDateTime()),
                reasons.c.rule,
                reasons.c.reason,
                literal(policy.version, Integer),
                literal("sweep", String),
            ),
        )
        .cte("history_rows")
    )
    # The event's fields as one row, turned into JSON by to_json(row): the types are resolved once for the
    # statement, where json_build_object looks each argument's type up again on every row (~3x the cost).
    payload = (
        select(
            reasons.c.customer_id.label("customer_id"),
            reasons.c.id.label("case_id"),
            reasons.c.invoice_id.label("invoice_id"),
            reasons.c.step_stage.label("stage"),
            reasons.c.prev_stage.label("previous_stage"),
            reasons.c.rule.label("rule"),
            reasons.c.reason.label("reason"),
            literal(policy.version, Integer).label("policy_version"),
            reasons.c.days.label("days_overdue"),
            reasons.c.currency.label("currency"),
            text_of(reasons.c.amount).label("amount"),
            case((reasons.c.malicious, reasons.c.stop_malicious), else_=reasons.c.stop_plain).label("stop_supply"),
            literal(now.isoformat(), Text).label("entered_at"),
            literal(as_of.isoformat(), Text).label("as_of"),
            and_(reasons.c.keeps_plain, ~reasons.c.malicious).label("keep_supplying"),
            literal(as_of_at.isoformat() if as_of_at else None, Text).label("as_of_at"),
        )
    ).subquery("payload")
    customer_text = text_of(payload.c.customer_id)
    outbox_insert = (
        insert(outbox)
        .from_select(
            [
                "event_id",
                "topic",
                "key",
                "event_type",
                "source",
                "subject",
                "occurred_at",
                "data",
                "headers",
                "created_at",
            ],
            select(
                func.gen_random_uuid(),
                literal(StageEntered.topic(), String),
                customer_text,
                literal(StageEntered.event_type, String),
                literal(f"/creditflow/{StageEntered.producer()}", String),
                customer_text,
                literal(now, UTCDateTime()),
                text_of(func.to_json(payload.table_valued())),
                literal(headers, Text),
                literal(now, UTCDateTime()),
            ),
        )
        .cte("outbox_rows")
    )
    # The customers whose receivables the sweep must announce, recorded with the moves (see
    # SweepAnnouncement): sorted, so two chunk transactions never wait on each other's index entries. Locking
    # late, ``SEEN_MOVE`` records them.
    announce = (
        postgresql_insert(announcements)
        .from_select(
            ["customer_id"],
            select(moved.c.customer_id).distinct().order_by(moved.c.customer_id),
        )
        .on_conflict_do_nothing(index_elements=["customer_id"])
        .cte("announced")
    )
    statement = (
        select(
            steps.c.customer_id,
            steps.c.step_stage,
            func.count().label("entered"),
            func.sum(case((steps.c.pos == 0, 1), else_=0)).label("moved"),
            # The relay's wake-up in this round trip, not one of its own: an uncorrelated subquery runs once,
            # when the first row comes out, so a chunk that wrote nothing notifies no one.
            select(outbox_notify_sql()).scalar_subquery().label("notified"),
        )
        .group_by(steps.c.customer_id, steps.c.step_stage)
        .add_cte(history_insert)
        .add_cte(outbox_insert)
    )
    return statement.add_cte(announce) if seen_rows is None else statement.add_cte(seen_rows)


@dataclass
class MoveStatements:
    """The move statements of one sweep (policy, as_of, instant), built once and run by every chunk.

    Compiling the rules into SQL costs 0.1-0.3 s of Python; built once, the statement is compiled once
    (SQLAlchemy's cache) and prepared once per connection (asyncpg's), so a chunk pays only for its rows.
    """

    policy: Policy
    as_of: date
    now: datetime
    headers: str
    as_of_at: datetime | None = None
    built: dict[bool, Select[Any]] = field(default_factory=dict)

    late: Select[Any] | None = None

    def compile_for_chunks(self, engine: AsyncEngine, *, locking_late: bool = False) -> None:
        """Build the chunks' statement (``locking_late``: theirs when they lock late) and compile it into
        ``engine``'s cache (call it in a worker thread: 0.5-1.5 s of Python on a loaded box, which would hold
        every request of the process). The other one is compiled when first needed (a redone chunk)."""
        statement = self.locking_late() if locking_late else self.statement(bounded=True)
        compile_into_cache(engine, statement, CHUNK_PARAMETERS)

    def locking_late(self) -> Select[Any]:
        """The chunks' first statement when they lock late (``move_statement(lock_late=True)``)."""
        if self.late is None:
            self.late = move_statement(
                self.policy, self.as_of, self.now, self.headers, as_of_at=self.as_of_at, bounded=True, lock_late=True
            )
        return self.late

    def for_chunk(self, chunk: Chunk | None) -> tuple[Select[Any], dict[str, Any]]:
        """The statement for ``chunk`` (None: every case) and its bound range: every chunk, the last one
        too, runs the same statement, so it is compiled and prepared once."""
        if chunk is None:
            return self.statement(bounded=False), {}
        return self.statement(bounded=True), chunk.parameters()

    def statement(self, *, bounded: bool) -> Select[Any]:
        """The statement of a chunk (``bounded``) or of every case, built on first use."""
        if bounded not in self.built:
            self.built[bounded] = move_statement(
                self.policy, self.as_of, self.now, self.headers, as_of_at=self.as_of_at, bounded=bounded
            )
        return self.built[bounded]


async def move_cases_in_sql(
    session: AsyncSession,
    policy: Policy,
    as_of: date,
    now: datetime,
    outcome: SweepOutcome,
    headers: str,
    chunk: Chunk | None = None,
    *,
    as_of_at: datetime | None = None,
    statements: MoveStatements | None = None,
    configured: bool = False,
) -> None:
    """PostgreSQL: the same move as ``move_cases`` in ONE statement (``move_statement``), the event JSON
    built in SQL. tests/api/test_collections_sweep.py checks it writes exactly what the portable path
    writes. With ``chunk`` only the cases in its id range move (a range scan of the primary key);
    ``statements``: the sweep's statements, built once for all its chunks; ``configured``: the chunk's
    transaction has ``CHUNK_SETTINGS`` already (set with its bounds, one round trip less).
    """
    if statements is None:
        statements = MoveStatements(policy, as_of, now, headers, as_of_at)
    if chunk is None:
        # Enough memory for the sorts of half a million event rows (this transaction only).
        await session.execute(text("SET LOCAL work_mem = '64MB'"))
    elif not configured:
        # For this transaction only: no JIT (the statement's estimated cost passes jit_above_cost, and
        # compiling its expressions takes ~1 s, more than the chunk's work) and the generic plan from the
        # first run (a primary-key range scan whatever the bounds; planning the rules' CASE costs ~10 ms).
        await session.execute(select(*(func.set_config(name, value, true()) for name, value in CHUNK_SETTINGS.items())))
    statement, parameters = statements.for_chunk(chunk)
    rows = (await session.execute(statement, parameters)).all()
    for row in rows:
        outcome.stages_entered[row.step_stage] += int(row.entered)
        outcome.cases_moved += int(row.moved)
        outcome.customers.add(row.customer_id)
    if rows:
        await outbox_written(session, notified=True)


class ChunkChanged(Exception):
    """A case the chunk decided to move changed before the chunk locked it: the chunk is redone, locking first."""


async def decide_chunk(session: AsyncSession, chunk: Chunk, statements: MoveStatements) -> list[Row[Any]]:
    """A chunk that locks its cases last, first half: its moves decided on the rows as they are, their history
    and events written and the decided rows noted in ``sweep_seen``, locking no case (a payment on one of them
    goes ahead) and no row another chunk writes. Returns the per-customer, per-stage counts for
    ``lock_decided_chunk``.

    The chunk thus holds its row locks for ``lock_decided_chunk``'s UPDATE and its commit, not for its whole
    work. The transaction must have ``CHUNK_SETTINGS`` and the ``sweep_seen`` table (``SEEN_TABLE_DDL``).
    """
    return list((await session.execute(statements.locking_late(), chunk.parameters())).all())


async def lock_decided_chunk(
    session: AsyncSession, outcome: SweepOutcome, chunk: Chunk, statements: MoveStatements, decided: list[Row[Any]]
) -> None:
    """Second half: ``SEEN_MOVE`` moves the rows ``decide_chunk`` decided on (recording their customers), if none
    has changed since. If one
    did (a payment committed in between, or held it and committed while the UPDATE waited), what was written
    for it is stale: ``ChunkChanged`` is raised, the caller rolls the chunk's transaction back and redoes it
    with ``move_cases_in_sql``, which locks first and decides on committed rows."""
    if not decided:
        return
    checked = (await session.execute(SEEN_MOVE, {**chunk.parameters(), "now": statements.now})).one()
    if checked.moved != checked.seen:
        raise ChunkChanged(f"{checked.seen - checked.moved} of {checked.seen} cases changed while decided")
    for row in decided:
        outcome.stages_entered[row.step_stage] += int(row.entered)
        outcome.cases_moved += int(row.moved)
        outcome.customers.add(row.customer_id)
    await outbox_written(session, notified=True)
