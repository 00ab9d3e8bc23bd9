"""The billing intake: invoices billing systems publish on ``billing_invoices_topic``, read and applied.

A record is one invoice, with the schema of one item of ``POST /v1/invoices/bulk`` (``InvoiceCreate``), in either
form:

- a CloudEvent in Kafka binary mode: ``ce_id``, ``ce_source``, ``ce_type`` = ``creditflow.billing.invoice_issued.v1``,
  ``ce_specversion`` = ``1.0`` headers, the invoice as the JSON value. Its identity is ``ce_source`` + ``ce_id``.
- plain JSON, without ``ce_`` headers: the invoice as the JSON value. Its identity is its customer, its number
  (as compared for uniqueness) and a digest of its content, so a record sent twice is applied once, and a second
  record with the same number but other content reaches the handler (and the dead-letter topic).

The inbox deduplicates on that identity; the records of a fetch are recorded together through the bulk path
(``service/billing.py``); a record that cannot be read or is refused goes to the dead-letter topic with why.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from services.collections.registry import Registry
from services.collections.schemas.invoices import InvoiceCreate
from services.collections.service.billing import record_published_invoices
from services.collections.settings import CollectionsSettings
from shared.cloudevents import MalformedEvent, binary_attributes
from shared.consumer import EventContext, batch_handler
from shared.events.base import Envelope, Event
from shared.inputs import identity_key
from shared.intake import Intake

INVOICE_ISSUED = "creditflow.billing.invoice_issued.v1"
PLAIN_JSON_SOURCE = "plain-json"
_MAX_ID = 200  # the inbox's event_id column


class PublishedInvoice(Event):
    """An invoice a billing system published (no ``event_type``: not one of the suite's own events)."""

    invoice: InvoiceCreate


def read_invoice_record(record: ConsumerRecord[Any, Any]) -> Envelope:
    """The envelope of one record of the billing topic, or ``MalformedEvent`` saying why it cannot be read."""
    headers = list(record.headers)
    if any(name.lower().startswith("ce_") for name, _ in headers):
        attributes, extra, time = binary_attributes(headers)
        if attributes["type"] != INVOICE_ISSUED:
            raise MalformedEvent(f"unknown event type {attributes['type']!r} (expected {INVOICE_ISSUED})")
        invoice = _invoice(record.value, INVOICE_ISSUED)
        source, record_id = attributes["source"], f"{attributes['source']} {attributes['id']}"
        subject = attributes.get("subject")
    else:
        invoice = _invoice(record.value, "the plain JSON invoice schema")
        digest = hashlib.sha256(invoice.model_dump_json().encode()).hexdigest()
        record_id = f"{PLAIN_JSON_SOURCE} {invoice.customer_id} {identity_key(invoice.number)} {digest}"
        source, extra, time, subject = PLAIN_JSON_SOURCE, {}, None, None
    if len(record_id) > _MAX_ID:
        record_id = f"{source[:40]} sha256:{hashlib.sha256(record_id.encode()).hexdigest()}"
    return Envelope(
        id=record_id,
        type=INVOICE_ISSUED,
        source=source,
        time=time,
        subject=subject,
        data=PublishedInvoice.model_construct(customer_id=invoice.customer_id, invoice=invoice),
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        headers=extra,
    )


def _invoice(value: bytes | None, schema: str) -> InvoiceCreate:
    try:
        return InvoiceCreate.model_validate_json(value or b"null")
    except ValidationError as exc:
        raise MalformedEvent(f"payload does not match {schema}: {exc.errors(include_url=False)}") from exc


def billing_intake(settings: CollectionsSettings, registry: Registry | None = None) -> Intake:
    """The intake of ``settings.billing_invoices_topic``; unknown customers are asked for at the registry."""
    registry = registry or Registry(settings)

    @batch_handler
    async def record_invoices(ctx: EventContext, envelopes: list[Envelope]) -> None:
        published = [(envelope.id, envelope.data.invoice) for envelope in envelopes]  # type: ignore[attr-defined]
        await record_published_invoices(ctx.session, published, settings, ctx.clock.now(), registry)

    return Intake(
        topic=settings.billing_invoices_topic,
        event_type=INVOICE_ISSUED,
        read=read_invoice_record,
        handler=record_invoices,
        payload=InvoiceCreate,
        summary="billing systems publish the invoices they issue; collections records them",
        description=DESCRIPTION,
        consumer="collections",
        dead_letter_topic=settings.dead_letter_topic,
    )


DESCRIPTION = (
    "One invoice a record, with the schema of one item of `POST /v1/invoices/bulk`, in either form: a CloudEvent in "
    f"Kafka binary mode (`ce_type` = `{INVOICE_ISSUED}`; deduplicated on `ce_source` + `ce_id`) or plain JSON "
    "without `ce_` headers (deduplicated on customer, invoice number and content). Key: the customer id (order "
    "per customer). Collections records the records of a fetch together through the bulk path, at least once "
    "delivered, exactly once applied (its inbox). An invoice whose number is already recorded for the customer "
    "with the same content is a no-op. An invoice for a customer neither collections nor the registry knows yet "
    "waits for the customer's registration and is recorded when `customer_registered` arrives (metric "
    "`creditflow_billing_records_waiting`; with `billing_wait_for_customer` off it is dead-lettered). A record that "
    "cannot be read (not JSON, not the schema, an unknown `ce_type`) or that is refused (due date before issue "
    "date, malformed terms, `duplicate invoice number` with different content) goes to the dead-letter topic with "
    "the reason in its `dlq_error` header, and the records around it are applied; a redriven dead letter "
    "(`creditflow dlq redrive collections`) is applied once it is valid. A transient failure (the database "
    "down, the registry unreachable) is retried, never dead-lettered."
)


def intakes(settings: CollectionsSettings) -> list[Intake]:
    """The topics collections applies that other systems publish (the billing invoices, unless switched off)."""
    return [billing_intake(settings)] if settings.billing_intake_enabled else []
