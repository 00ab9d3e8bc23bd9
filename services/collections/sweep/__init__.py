"""The overdue sweep as set-based SQL, compiled from ``domain.escalation`` (``effective_rules``).

Whatever the number of invoices, the sweep is a handful of statements, never a loop over rows:

1. ``INSERT … SELECT … RETURNING`` opens a case (no stage yet) for every open overdue invoice without one;
   its segment and legal route come from the customer read models in the same statement; the opened
   rows' ``invoice_overdue``/``case_opened`` outbox rows are bulk-inserted (executemany).
2. One statement moves every case whose target stage is above its current one. The target is a nested
   SQL ``CASE`` (segment → route → current stage → broken promise → the key's rules, highest stage
   first) generated from the same ``effective_rules`` that ``decide`` walks. Day thresholds become
   due-date cut-offs (``days_overdue >= n`` ⇔ ``due_date <= as_of - n``): days overdue always count
   from the due date, so a sweep after a long gap lands a case on the right stage in one step and
   records every stage it passes. ``previous_stage`` and ``last_broken_promise`` are set from the old
   row in the same UPDATE, so the RETURNING rows describe the move.

   * PostgreSQL (``moves_postgresql.move_cases_in_sql``): sweeps of several replicas take turns on an advisory
     lock; a plain UPDATE locks exactly the rows it moves (waiting for a stage handler or a payment that
     holds one, then deciding that case on what was committed, so no due case is left behind), and the
     UPDATE … RETURNING, the history rows (one per stage passed, joined from a table of the stages each
     key/target passes) and the ``stage_entered`` outbox rows (JSON built with ``to_json`` of a row) are
     ONE statement of data-modifying CTEs, built once per sweep. The reasons are the domain's templates
     (``escalation.STEP_REASON`` ...) compiled to string concatenation by ``rules_sql.template_sql``: the
     wording lives once.
   * SQLite (``moves.move_cases``, single writer): UPDATE … RETURNING of the moved rows only, then one
     executemany each for history rows and outbox rows, reasons from ``step_reason``.

   tests/api/test_collections_sweep.py runs a grid of cases through the sweep on either database and
   checks stages, history (rule, reason) and the published payloads against ``decide``;
   tests/api/test_collections_sweep_chunk_grid.py does it in chunks of 97 cases, every event field.

   The periodic job and ``POST /v1/sweeps`` run ``run_sweep_in_chunks``: cases opened in keyset chunks of
   ``sweep_chunk_size`` uncased invoices, then keyset chunks of ``sweep_chunk_size`` cases in id order,
   each its own transaction (moves, history, events, the step 3 flags and notes of its cases and the
   customers it touched commit together), so a payment waits for one chunk at most; a sweep that stops
   half way is resumed by the next. On PostgreSQL a chunk locks its cases last: it decides and writes
   history and events from the rows as they are (``moves_postgresql.decide_chunk``), then moves those rows
   if unchanged (``xmin``, ``lock_decided_chunk``), else rolls back and is redone locking first; a payment
   waits for the chunk's UPDATE and commit at most. The next chunk is decided on a second connection while
   the chunk before it locks and commits (``run._ChunkPipeline``); the chunks still commit in id order.
3. Cases past the limitation period whose litigation thresholds are met are flagged for write-off
   review, cases waiting for want of a contract get a legal-review note (``reviews``: per chunk, or one
   statement each over every case). Each customer a chunk touched is recorded (``sweep_announcements``,
   in the chunk's transaction) and the sweep's last transaction writes one ``receivables_changed`` per
   recorded customer, those of a sweep stopped half way included (``announcements``).
"""

from __future__ import annotations

from services.collections.sweep.rules_sql import SweepOutcome
from services.collections.sweep.run import run_sweep, run_sweep_in_chunks

__all__ = ["SweepOutcome", "run_sweep", "run_sweep_in_chunks"]
