"""The billing intake's use case on a real database, without a broker: a large batch, its redelivery, and the
records refused by number or by the bulk path's rules, each named by its record."""

from __future__ import annotations

import uuid

import pytest

from services.collections.schemas.invoices import InvoiceCreate
from services.collections.service.billing import record_published_invoices
from services.collections.settings import CollectionsSettings
from shared.intake import RecordsRefused
from tests.support.collections import invoice_body, known_customer
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service


def published(customers: list[str], count: int, **overrides: str) -> list[tuple[str, InvoiceCreate]]:
    return [
        (
            f"record-{uuid.uuid4()}",
            InvoiceCreate.model_validate(
                invoice_body(customers[n % len(customers)], number=f"B-{n:05d}", amount="10.00", **overrides)
            ),
        )
        for n in range(count)
    ]


async def record(h: ServiceHarness, items: list[tuple[str, InvoiceCreate]]) -> int:
    settings = h.settings
    assert isinstance(settings, CollectionsSettings)
    async with h.runtime.db.transaction() as session:
        return await record_published_invoices(session, items, settings, h.clock.now(), None)


async def test_a_large_batch_is_recorded_once_and_its_redelivery_is_a_no_op(databases: DatabaseFactory) -> None:
    async with running_service("collections", await databases.create("collections"), sweep_enabled=False) as h:
        customers = [await known_customer(h) for _ in range(3)]
        # More pairs than SQLite's expression-depth limit: no query may hold one term per pair.
        assert await record(h, published(customers, 1500)) == 1500
        assert await record(h, published(customers, 1500)) == 0  # same numbers, same content
        assert await h.count("invoices") == 1500

        batch = published(customers, 3)
        changed = (batch[1][0], batch[1][1].model_copy(update={"amount": batch[1][1].amount + 1}))
        unknown = (f"record-{uuid.uuid4()}", InvoiceCreate.model_validate(invoice_body(str(uuid.uuid4()))))
        backwards = (
            f"record-{uuid.uuid4()}",
            InvoiceCreate.model_validate(invoice_body(customers[0], issue_date="2026-02-01", due_date="2026-01-01")),
        )
        with pytest.raises(RecordsRefused) as by_number:
            await record(h, [batch[0], changed, unknown])
        assert by_number.value.reasons.keys() == {changed[0]}
        assert "duplicate invoice number" in by_number.value.reasons[changed[0]]
        with pytest.raises(RecordsRefused) as by_rule:
            await record(h, [batch[0], unknown, backwards])
        assert by_rule.value.reasons.keys() == {unknown[0], backwards[0]}
        assert "not known to the registry" in by_rule.value.reasons[unknown[0]]
        assert "before the issue date" in by_rule.value.reasons[backwards[0]]
        assert await h.count("invoices") == 1500  # a refusal records nothing: the consumer applies the rest again
