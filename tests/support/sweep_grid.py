"""A grid of cases for the sweep tests: every segment, clause, stage, promise, amount, age and dispute
combination, inserted as invoices with their cases, so a sweep's result can be checked against decide()."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert

from services.collections.domain.escalation import CaseFacts
from services.collections.domain.stages import CaseStatus, DisputeResolution, Segment
from services.collections.models import Case, Invoice
from shared.stage import Stage, stage_rank
from tests.support.harness import ServiceHarness

GRID_DUE_BASE = date(2026, 6, 30)


def grid_of_cases(*, malicious_every: int = 0) -> list[CaseFacts]:
    """4,320 cases; with ``malicious_every`` n, every n-th one's arrears are marked malicious."""
    facts = []
    clauses = [DisputeResolution.court(), DisputeResolution.arbitration("CIETAC")]
    stages: list[Stage | None] = [None, Stage.LETTER, Stage.VISIT, Stage.AGENCY]
    for segment, clause, stage, promise, amount, days, disputed in itertools.product(
        Segment,
        clauses,
        stages,
        (None, -5, 5),
        ("5000.00", "20000.00", "60000.00"),
        (0, 1, 15, 29, 30, 59, 60, 89, 90, 1200),
        ("0", "8000.00"),
    ):
        facts.append(
            CaseFacts(
                due_date=GRID_DUE_BASE - timedelta(days=days),
                outstanding=Decimal(amount),
                current_stage=stage,
                disputed_amount=Decimal(disputed),
                segment=segment,
                dispute_resolution=clause,
                promise_to_pay=None if promise is None else GRID_DUE_BASE + timedelta(days=promise),
                case_id=uuid.uuid4(),
            )
        )
    if malicious_every:
        facts = [replace(f, malicious=n % malicious_every == 0) for n, f in enumerate(facts)]
    return facts


async def insert_grid(
    h: ServiceHarness, grid: list[CaseFacts], now: datetime | None = None, *, customers: int = 1
) -> dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]]:
    """Insert an open invoice and its case for each of ``grid`` (spread over ``customers`` customers);
    returns each case's (customer id, invoice id)."""
    now = now or datetime(2026, 6, 30, 9, tzinfo=UTC)
    customer_ids = [uuid.uuid4() for _ in range(customers)]
    invoices, cases, owners = [], [], {}
    for n, facts in enumerate(grid):
        assert isinstance(facts.case_id, uuid.UUID)
        invoice_id, customer = uuid.uuid4(), customer_ids[n % customers]
        owners[facts.case_id] = (customer, invoice_id)
        invoices.append(
            {
                "id": invoice_id,
                "customer_id": customer,
                "number": f"G-{n}",
                "number_key": f"g-{n}",
                "issue_date": date(2023, 1, 1),
                "due_date": facts.due_date,
                "currency": "CNY",
                "amount": facts.outstanding,
                "credit_terms": "n/30",
                "principal_outstanding": facts.outstanding,
                "interest_outstanding": 0,
                "costs_outstanding": 0,
                "discount_granted": 0,
                "status": "open",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        cases.append(
            {
                "id": facts.case_id,
                "invoice_id": invoice_id,
                "customer_id": customer,
                "stage": facts.current_stage.value if facts.current_stage else None,
                "stage_rank": stage_rank(facts.current_stage),
                "status": CaseStatus.OPEN.value,
                "segment": facts.segment.value,
                "route": facts.dispute_resolution.route.value,
                "clause_kind": facts.dispute_resolution.kind.value,
                "commission": facts.dispute_resolution.commission,
                "due_date": facts.due_date,
                "currency": "CNY",
                "outstanding": facts.outstanding,
                "disputed_amount": facts.disputed_amount,
                "promise_to_pay": facts.promise_to_pay,
                "malicious": facts.malicious,
                "write_off_review": False,
                "opened_at": now,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    async with h.runtime.db.transaction() as session:
        await session.execute(insert(Invoice), invoices)
        await session.execute(insert(Case), cases)
    return owners
