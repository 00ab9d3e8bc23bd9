"""The import worker: claims a queued import with a lease and records its lines chunk by chunk.

Each chunk is one transaction: the lease is renewed (which also locks the job row), the chunk's lines go
through ``create_invoices`` — the bulk path, with its validation, events and receivables — and the lines'
results and the job's counts and resume point are written with them. A replica that dies mid-chunk
leaves nothing of that chunk; once its lease expires another replica claims the import and resumes at
the first line after the last committed chunk, so every line is processed exactly once.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections import repository as invoice_repository
from services.collections.domain.imports import ImportStatus, LineOutcome, finished_status
from services.collections.imports import repository
from services.collections.registry import Registry
from services.collections.schemas.invoices import InvoiceCreate
from services.collections.service.invoices import create_invoices
from services.collections.settings import CollectionsSettings
from shared import metrics
from shared.clock import Clock, SystemClock
from shared.consumer import retry_delay
from shared.db import Database
from shared.errors import Conflict, DomainRuleViolation
from shared.inputs import identity_key

log = logging.getLogger(__name__)

# create_invoices names an item's problem "body.invoices.<index>.<field>" (bulk=True).
_ITEM_FIELD = re.compile(r"^body\.invoices\.(\d+)(?:\.(.*))?$")


@dataclass(slots=True)
class Pending:
    """A line whose record parsed into an invoice, on its way through the bulk path."""

    line: int
    invoice: InvoiceCreate


@dataclass
class ImportWorker:
    """Processes imports for one replica; ``owner`` names it in the leases it takes."""

    db: Database
    settings: CollectionsSettings
    clock: Clock  # business time: the invoices' and events' timestamps
    registry: Registry | None
    owner: str
    lease_clock: Clock = field(default_factory=SystemClock)  # leases run on real time, like the relay's

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.import_lease_seconds)

    async def run_once(self) -> int:
        """Claim and work on imports until none is claimable; the number of imports finished.

        A chunk that fails for a reason other than its lines (its own rejected lines never raise) rolls back
        whole and is recorded as a failed attempt: the import waits out its backoff (others go on meanwhile).
        """
        finished = 0
        while (import_id := await self.claim()) is not None:
            try:
                while await self.process_chunk(import_id):
                    pass
            except Exception as exc:  # recorded on the job, logged and counted: not swallowed
                await self.chunk_failed(import_id, exc)
                continue
            finished += 1
        return finished

    async def claim(self) -> uuid.UUID | None:
        """Claim one import (queued, or abandoned by a replica whose lease expired)."""
        now = self.lease_clock.now()
        async with self.db.transaction() as session:
            return await repository.claim_import(session, self.owner, now, now + self._lease)

    async def process_chunk(self, import_id: uuid.UUID) -> bool:
        """Record the next chunk of the import in one transaction; False once finished or the lease is lost."""
        lease_now = self.lease_clock.now()
        async with self.db.transaction() as session:
            job = await repository.renew_lease(session, import_id, self.owner, lease_now, lease_now + self._lease)
            if job is None:
                log.warning("import lease lost; another replica continues it", extra={"import_id": str(import_id)})
                return False
            now = self.clock.now()
            lines = await repository.next_lines(
                session, import_id, job.processed_through, self.settings.import_chunk_lines
            )
            if not lines:
                job.status = finished_status(job.accepted, job.rejected).value
                job.finished_at, job.updated_at = now, now
                job.lease_owner, job.lease_expires_at = None, None
                return False
            results = await self._record(session, [line for line in lines if repository.is_pending(line.outcome)], now)
            await repository.record_results(session, import_id, results)
            accepted = sum(1 for result in results if result["outcome"] == LineOutcome.ACCEPTED.value)
            job.accepted += accepted
            job.rejected += len(results) - accepted
            job.lines_processed += len(lines)
            job.processed_through = lines[-1].line
            job.updated_at = now
            job.attempts, job.next_attempt_at = 0, None
            return True

    async def chunk_failed(self, import_id: uuid.UUID, error: Exception) -> None:
        """Count a failed attempt at the import's current chunk: retry after a backoff, or end it ``failed``."""
        lease_now = self.lease_clock.now()
        reason = "".join(traceback.format_exception_only(error)).strip()[:500]
        async with self.db.transaction() as session:
            job = await repository.renew_lease(session, import_id, self.owner, lease_now, lease_now)
            if job is None:
                log.warning("import lease lost; another replica continues it", extra={"import_id": str(import_id)})
                return
            job.attempts += 1
            job.last_error, job.last_error_at, job.updated_at = reason, lease_now, lease_now
            job.lease_owner, job.lease_expires_at = None, None  # any replica may take the next attempt
            if job.attempts < self.settings.import_max_attempts:
                delay = retry_delay(
                    job.attempts,
                    self.settings.import_retry_backoff_seconds,
                    self.settings.import_max_retry_backoff_seconds,
                )
                job.next_attempt_at = lease_now + timedelta(seconds=delay)
                metrics.IMPORT_CHUNK_FAILURES.labels(self.settings.service, "retrying").inc()
                log.warning(
                    "invoice import chunk failed; retrying after a backoff",
                    exc_info=error,
                    extra={"import_id": str(import_id), "attempt": job.attempts, "retry_in_seconds": delay},
                )
                return
            job.status = ImportStatus.FAILED.value
            job.next_attempt_at, job.finished_at = None, self.clock.now()
            unrecorded = job.lines_read - job.lines_processed
            metrics.IMPORT_CHUNK_FAILURES.labels(self.settings.service, "failed").inc()
            log.error(
                "invoice import failed: a chunk failed at every attempt; its lines and the later ones are not "
                "recorded (POST /v1/invoice-imports/{id}/retry resumes it)",
                exc_info=error,
                extra={"import_id": str(import_id), "attempts": job.attempts, "unrecorded_lines": unrecorded},
            )

    async def _record(self, session: AsyncSession, lines: list[Any], now: datetime) -> list[dict[str, Any]]:
        """Each pending line's result: parsed, then recorded through the bulk path."""
        results: list[dict[str, Any]] = []
        pending: list[Pending] = []
        for line in lines:
            try:
                pending.append(Pending(line.line, InvoiceCreate.model_validate(json.loads(line.content))))
            except ValidationError as exc:
                results.append(_rejected(line.line, _validation_problems(exc)))
        await self._through_bulk_path(session, pending, now, results)
        return results

    async def _through_bulk_path(
        self, session: AsyncSession, pending: list[Pending], now: datetime, results: list[dict[str, Any]]
    ) -> None:
        """Record ``pending`` through create_invoices; a refused line is taken out and the rest tried again.

        The bulk call is all or nothing, so it runs in a savepoint: when it refuses, its problems name the
        lines (``body.invoices.<i>``) or the taken numbers, those lines are rejected and the others retried.
        A refusal that names no line is narrowed down by halves.
        """
        while pending:
            refusal: Exception
            try:
                async with session.begin_nested():
                    recorded = await create_invoices(
                        session, [p.invoice for p in pending], self.settings, now, bulk=True, registry=self.registry
                    )
            except DomainRuleViolation as exc:
                refusal, refused = exc, _problems_by_item(exc, len(pending))
            except Conflict as exc:
                refusal, refused = exc, await self._taken(session, pending)
            except (IntegrityError, DataError) as exc:
                # A number recorded meanwhile by another request (the unique key), or a value the database
                # refuses: narrowed down by halves, so the retried halves meet the bulk path's own checks.
                refusal, refused = exc, {}
            else:
                results += [
                    {"line": p.line, "outcome": LineOutcome.ACCEPTED.value, "invoice_id": invoice.id, "problems": None}
                    for p, invoice in zip(pending, recorded, strict=True)
                ]
                return
            if not refused:
                if len(pending) == 1:
                    results.append(_rejected(pending[0].line, [{"field": "line", "message": _message(refusal)}]))
                    return
                half = len(pending) // 2
                await self._through_bulk_path(session, pending[:half], now, results)
                pending = pending[half:]
                continue
            results += [_rejected(pending[index].line, problems) for index, problems in sorted(refused.items())]
            pending = [p for index, p in enumerate(pending) if index not in refused]

    async def _taken(self, session: AsyncSession, pending: list[Pending]) -> dict[int, list[dict[str, str]]]:
        """The lines whose (customer, number) is already recorded, found with the bulk path's own query."""
        keys = [(p.invoice.customer_id, identity_key(p.invoice.number)) for p in pending]
        taken = {
            (customer, identity_key(number))
            for customer, number in await invoice_repository.taken_numbers(session, keys)
        }
        return {
            index: [
                {"field": "number", "message": f"duplicate number {pending[index].invoice.number}: already recorded"}
            ]
            for index, key in enumerate(keys)
            if key in taken
        }


def _message(refusal: Exception) -> str:
    if isinstance(refusal, IntegrityError | DataError):
        return f"the database refused the invoice ({type(refusal.orig).__name__})"
    return str(refusal)


def _rejected(line: int, problems: list[dict[str, str]]) -> dict[str, Any]:
    return {"line": line, "outcome": LineOutcome.REJECTED.value, "invoice_id": None, "problems": problems}


def _validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "line", "message": error["msg"]}
        for error in exc.errors(include_url=False)
    ]


def _problems_by_item(exc: DomainRuleViolation, items: int) -> dict[int, list[dict[str, str]]]:
    """The bulk path's problems per item, each field named as in the line: "amount", not "body.invoices.3.amount"."""
    refused: dict[int, list[dict[str, str]]] = {}
    for error in exc.errors:
        match = _ITEM_FIELD.match(str(error.get("field", "")))
        if match is None or int(match.group(1)) >= items:
            continue
        refused.setdefault(int(match.group(1)), []).append(
            {"field": match.group(2) or "line", "message": str(error.get("message", exc.detail))}
        )
    return refused
