"""Invoices billing systems publish on Kafka: recorded through the bulk path, the bad ones refused one by one.

The bulk path (``invoices.create_invoices``) is all or nothing; a billing topic is not: one bad record must not
hold back the good ones around it. So the records of a fetch go through it together, and a record it refuses
(unknown customer, bad dates or terms) is named in ``RecordsRefused``: the consumer dead-letters it with the
reason and applies the others again, once. A number already recorded is a redelivery when the content agrees
(nothing to do) and a "duplicate invoice number" refusal when it does not.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from datetime import datetime

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections import repository
from services.collections.domain.billing import BilledInvoice, same_invoice
from services.collections.registry import Registry
from services.collections.schemas.invoices import InvoiceCreate
from services.collections.service.invoices import create_invoices, known_customers
from services.collections.settings import CollectionsSettings
from shared.errors import DomainRuleViolation, PermanentEventError
from shared.inputs import identity_key
from shared.intake import RecordsRefused
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# create_invoices names a bulk item's problems "body.invoices.<index>.<field>"
_ITEM_FIELD = re.compile(r"^body\.invoices[.\[](\d+)\]?(?:\.(.*))?$")


def billed(invoice: InvoiceCreate) -> BilledInvoice:
    """What a published invoice states."""
    return BilledInvoice(
        issue_date=invoice.issue_date,
        currency=str(invoice.currency),
        amount=invoice.amount,
        due_date=invoice.due_date,
        credit_terms=invoice.credit_terms,
    )


async def record_published_invoices(
    session: AsyncSession,
    published: Sequence[tuple[str, InvoiceCreate]],
    settings: CollectionsSettings,
    now: datetime,
    registry: Registry | None,
) -> int:
    """Record the invoices of (record id, invoice) pairs; how many were new. Raises ``RecordsRefused``.

    With ``billing_wait_for_customer``, the invoices of customers neither collections nor the registry knows yet
    wait (``BillingRecordWaiting``) for ``release_waiting``; ``registry`` None means the customers are known
    to be registered (the release itself) and nothing waits.
    """
    keys = [(invoice.customer_id, identity_key(invoice.number)) for _, invoice in published]
    recorded = await repository.recorded_invoices(session, list(dict.fromkeys(keys)))
    refused: dict[str, str] = {}
    fresh: dict[tuple[uuid.UUID, str], tuple[str, InvoiceCreate]] = {}
    for key, (record_id, invoice) in zip(keys, published, strict=True):
        # Compared with what is recorded, else with the batch's first record of that number.
        earlier = recorded[key] if key in recorded else (billed(fresh[key][1]) if key in fresh else None)
        if earlier is None:
            fresh[key] = (record_id, invoice)
        elif not same_invoice(billed(invoice), earlier):
            refused[record_id] = f"duplicate invoice number {invoice.number!r} for customer {invoice.customer_id}: " + (
                "already recorded with different content" if key in recorded else "another record says otherwise"
            )
    if refused:
        raise RecordsRefused(refused)
    if registry is not None and settings.billing_wait_for_customer:
        fresh = await _park_unregistered(session, fresh, settings, now, registry)
    if not fresh:
        return 0
    invoices = [invoice for _, invoice in fresh.values()]
    try:
        await create_invoices(session, invoices, settings, now, bulk=True, registry=registry)
    except DomainRuleViolation as exc:
        raise RecordsRefused(refusals_by_record(exc, [record_id for record_id, _ in fresh.values()])) from exc
    return len(fresh)


def refusals_by_record(exc: DomainRuleViolation, record_ids: list[str]) -> dict[str, str]:
    """The bulk path's per-item problems, by record; a problem tied to no item of a batch refuses the batch."""
    problems: dict[str, list[str]] = {}
    for error in exc.errors or [{"message": exc.detail}]:
        message = str(error.get("message", exc.detail))
        match = _ITEM_FIELD.match(str(error.get("field", "")))
        if match is not None and int(match.group(1)) < len(record_ids):
            problems.setdefault(record_ids[int(match.group(1))], []).append(f"{match.group(2) or 'invoice'}: {message}")
        elif len(record_ids) == 1:
            problems.setdefault(record_ids[0], []).append(message)
        else:
            # Not tied to one record: the consumer applies the records one by one, which finds the bad one.
            raise PermanentEventError(f"invalid invoices: {exc.detail}") from exc
    return {record_id: "invalid invoice: " + "; ".join(messages) for record_id, messages in problems.items()}


WAITING = Gauge(
    "creditflow_billing_records_waiting",
    "Invoices published for customers not yet registered, waiting for their registration (status: waiting), or "
    "refused when it came (status: refused, reason in billing_records_waiting)",
    ["service", "status"],
)


async def _park_unregistered(
    session: AsyncSession,
    fresh: dict[tuple[uuid.UUID, str], tuple[str, InvoiceCreate]],
    settings: CollectionsSettings,
    now: datetime,
    registry: Registry,
) -> dict[tuple[uuid.UUID, str], tuple[str, InvoiceCreate]]:
    """Park the records of customers not registered yet; the others, to be recorded now."""
    known = await known_customers(session, {key[0] for key in fresh}, settings, now, registry)
    if known is None:
        return fresh
    parked = {key: item for key, item in fresh.items() if key[0] not in known}
    if not parked:
        return fresh
    rows = [
        {
            "record_id": record_id,
            "customer_id": invoice.customer_id,
            "invoice": invoice.model_dump_json(),
            "status": "waiting",
            "reason": None,
            "received_at": now,
            "updated_at": now,
        }
        for record_id, invoice in parked.values()
    ]
    await repository.park_billing_records(session, rows)  # a redelivered record is parked once
    log.warning(
        "billing invoices wait for their customers' registration",
        extra={"records": len(rows), "customers": sorted({str(key[0]) for key in parked})[:20]},
    )
    return {key: item for key, item in fresh.items() if key not in parked}


async def release_waiting(
    session: AsyncSession, customer_ids: set[uuid.UUID], settings: CollectionsSettings, now: datetime
) -> int:
    """Record the waiting invoices of customers that are now registered, in the order they were published; how
    many were recorded. One refused now (a number recorded meanwhile with other content, say) stays, marked
    ``refused`` with the reason, and the others are recorded."""
    waiting = await repository.waiting_billing_records(session, customer_ids)
    if not waiting:
        return 0
    pending = [(record_id, InvoiceCreate.model_validate_json(invoice)) for record_id, invoice in waiting]
    refusals: dict[str, str] = {}
    while pending:
        try:
            await record_published_invoices(session, pending, settings, now, registry=None)
            break
        except RecordsRefused as refused:  # nothing written: the others again
            refusals |= refused.reasons
        except PermanentEventError as exc:  # a problem tied to no one record: each record alone
            if len(pending) == 1:
                refusals[pending[0][0]] = str(exc)
            else:
                for one in pending:
                    try:
                        await record_published_invoices(session, [one], settings, now, registry=None)
                    except PermanentEventError as alone:
                        refusals[one[0]] = str(alone)
                break
        pending = [item for item in pending if item[0] not in refusals]
    await repository.settle_billing_records(session, [record_id for record_id, _ in waiting], refusals, now)
    if refusals:
        log.error("waiting billing invoices refused at their customer's registration", extra={"reasons": refusals})
    return len(waiting) - len(refusals)


async def measure_waiting(session: AsyncSession, settings: ServiceSettings) -> None:
    """The gauge of the invoices waiting (and refused), from the table: set at each scrape of /metrics."""
    counts = await repository.billing_records_waiting_by_status(session)
    for status in ("waiting", "refused"):
        WAITING.labels(settings.service, status).set(counts.get(status, 0))
