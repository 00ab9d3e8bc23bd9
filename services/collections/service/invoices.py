"""Invoices: create (announcing receivables), read, list, interest due and the invoice view."""

from __future__ import annotations

import functools
import json
import operator
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections import repository
from services.collections.domain.actions import ActionCosts
from services.collections.domain.interest import PenaltyRate, penalty_interest, penalty_rate
from services.collections.domain.policy import Policy
from services.collections.models import (
    Invoice,
)
from services.collections.registry import Registry, remember
from services.collections.schemas.invoices import InvoiceCreate
from services.collections.service.receivables import announce_receivables
from services.collections.settings import CollectionsSettings
from shared.db import uuid4s
from shared.errors import Conflict, DomainRuleViolation
from shared.events.collections import InvoiceIssued
from shared.inputs import identity_key
from shared.money import ZERO
from shared.outbox import emit_rendered
from shared.terms import CreditTerms, parse_terms


@dataclass(frozen=True, slots=True)
class RecordedInvoice:
    """An invoice just recorded in bulk: its columns, without an ORM object per row (10,000 of those cost ~1 s)."""

    id: uuid.UUID
    customer_id: uuid.UUID
    number: str
    number_key: str  # the normalised number that carries uniqueness ("INV-1" and "inv‐1 " are one)
    issue_date: date
    due_date: date
    currency: str
    amount: Decimal
    credit_terms: str
    principal_outstanding: Decimal
    interest_outstanding: Decimal
    costs_outstanding: Decimal
    discount_granted: Decimal
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    # the rate the contract on file agrees when the invoice arrives (None: the policy's default)
    penalty_interest_rate: Decimal | None = None
    paid_on: date | None = None
    interest_accrued_to: date | None = None


@functools.lru_cache(maxsize=256)
def _terms(text: str) -> CreditTerms:
    return parse_terms(text)


def _invoice_problems(
    data: InvoiceCreate,
    known: set[uuid.UUID] | None,
    contract_terms: dict[uuid.UUID, str],
    settings: CollectionsSettings,
    where: str,
) -> tuple[list[dict[str, str]], str, date]:
    """The item's problems, its terms and due date; ``known`` None means no known-customer check."""
    problems: list[dict[str, str]] = []
    if known is not None and data.customer_id not in known:
        problems.append(
            {"field": f"{where}.customer_id", "message": f"customer {data.customer_id} is not known to the registry"}
        )
    terms_text = data.credit_terms or contract_terms.get(data.customer_id) or settings.default_credit_terms
    due_date = data.due_date or data.issue_date
    try:
        terms = _terms(terms_text)
        terms_text = str(terms)
        due_date = data.due_date or terms.due_date(data.issue_date)
    except DomainRuleViolation as exc:
        problems.append({"field": f"{where}.credit_terms", "message": exc.detail or "malformed credit terms"})
    if due_date < data.issue_date:
        problems.append(
            {"field": f"{where}.due_date", "message": f"due date {due_date} is before the issue date {data.issue_date}"}
        )
    return problems, terms_text, due_date


async def known_customers(
    session: AsyncSession,
    customer_ids: set[uuid.UUID],
    settings: CollectionsSettings,
    now: datetime,
    registry: Registry | None,
) -> set[uuid.UUID] | None:
    """Which of ``customer_ids`` collections knows (None: no known-customer check is made). Those it has not
    heard of yet (the registration event may still be on its way) are asked for at the registry, if any."""
    if not settings.require_known_customer:
        return None
    known = await repository.known_customer_ids(session, customer_ids)
    if registry is not None and registry.enabled and (unknown := customer_ids - known):
        found = await registry.lookup(unknown)
        await remember(session, found, now)
        known |= found.keys()
    return known


async def create_invoices(
    session: AsyncSession,
    items: Sequence[InvoiceCreate],
    settings: CollectionsSettings,
    now: datetime,
    *,
    bulk: bool,
    registry: Registry | None = None,
) -> list[RecordedInvoice]:
    """Record invoices (all or nothing), announce each and the customers' receivables.

    Set-based at any size: the batch is validated in memory against one query for the known customers
    (the registry is asked about the others) and one for their contracts' terms, taken numbers are found
    by a join against the batch, invoices and their outbox rows are inserted in multi-row statements.
    """
    customer_ids = {data.customer_id for data in items}
    known = await known_customers(session, customer_ids, settings, now, registry)
    contract_terms = await repository.contract_terms(session, customer_ids)
    problems: list[dict[str, str]] = []
    prepared = []
    seen: set[tuple[uuid.UUID, str]] = set()  # (customer, number key): "INV-1" and "inv‐1 " are one invoice
    for index, data in enumerate(items):
        where = f"body.invoices.{index}" if bulk else "body"
        item_problems, terms, due_date = _invoice_problems(data, known, contract_terms, settings, where)
        number_key = identity_key(data.number)
        key = (data.customer_id, number_key)
        if key in seen:
            item_problems.append({"field": f"{where}.number", "message": f"duplicate number {data.number}"})
        seen.add(key)
        problems += item_problems
        prepared.append((data, number_key, terms, due_date))
    if problems:
        raise DomainRuleViolation(
            f"{len(problems)} problem(s) in the invoice data; nothing was recorded", errors=problems
        )
    taken = await repository.taken_numbers(session, list(seen))
    if taken:
        raise Conflict(
            "invoice numbers already recorded for these customers",
            errors=[{"field": "body.number", "message": f"{number} already recorded"} for _, number in taken],
        )
    penalty_rates = await repository.contract_penalty_rates(session, customer_ids)
    recorded = [
        RecordedInvoice(
            id=invoice_id,
            customer_id=data.customer_id,
            number=data.number,
            number_key=number_key,
            issue_date=data.issue_date,
            due_date=due_date,
            currency=data.currency,
            amount=data.amount,
            credit_terms=terms,
            principal_outstanding=data.amount,
            interest_outstanding=ZERO,
            costs_outstanding=ZERO,
            discount_granted=ZERO,
            # the rate the contract on file agrees when the invoice arrives (None: the policy's default)
            penalty_interest_rate=penalty_rates.get(data.customer_id),
            status="open",
            version=1,
            created_at=now,
            updated_at=now,
        )
        for invoice_id, (data, number_key, terms, due_date) in zip(uuid4s(len(prepared)), prepared, strict=True)
    ]
    await repository.insert_invoices(
        session, {name: list(map(operator.attrgetter(name), recorded)) for name in RecordedInvoice.__slots__}
    )
    # Each invoice's InvoiceIssued, in the batch's order (so per customer too), its JSON written directly.
    await emit_rendered(session, InvoiceIssued, [(i.customer_id, invoice_issued_json(i)) for i in recorded], at=now)
    await announce_receivables(session, customer_ids, now)
    return recorded


_json_string = json.encoder.encode_basestring  # json.dumps(text, ensure_ascii=False) of a str, in C


def invoice_issued_json(invoice: RecordedInvoice) -> str:
    """``InvoiceIssued(...).model_dump_json()`` of a recorded invoice, without a model (10,000 in a run).

    Ids, dates, the amount and the (validated, ISO 4217) currency need no escaping; number and terms do.
    """
    return (
        f'{{"customer_id":"{invoice.customer_id}","invoice_id":"{invoice.id}",'
        f'"number":{_json_string(invoice.number)},"issue_date":"{invoice.issue_date.isoformat()}",'
        f'"due_date":"{invoice.due_date.isoformat()}","currency":{_json_string(invoice.currency)},'
        f'"amount":"{invoice.amount}","credit_terms":{_json_string(invoice.credit_terms)}}}'
    )


def invoice_penalty_rate(invoice: Invoice | RecordedInvoice, policy: Policy) -> PenaltyRate:
    """The invoice's penalty rate: its contract's agreed one, else the policy's default (with the basis)."""
    agreed = Decimal(invoice.penalty_interest_rate) if invoice.penalty_interest_rate is not None else None
    return _penalty_rate(agreed, policy.penalty_interest_annual_rate)


# A handful of distinct (contract, policy) rates: asked three times per invoice of a 10,000-item view.
_penalty_rate = functools.lru_cache(maxsize=256)(penalty_rate)


def interest_due(invoice: Invoice | RecordedInvoice | Row[Any], policy: Policy, as_of: date) -> Decimal:
    """Penalty interest outstanding as of ``as_of``: accrued so far plus daily interest since on the principal."""
    if invoice.status != "open" or as_of <= invoice.due_date:
        return Decimal(invoice.interest_outstanding)
    start = max(invoice.interest_accrued_to or invoice.due_date, invoice.due_date)
    if as_of <= start:
        return Decimal(invoice.interest_outstanding)
    return Decimal(invoice.interest_outstanding) + penalty_interest(
        Decimal(invoice.principal_outstanding), invoice_penalty_rate(invoice, policy).annual_rate, start, as_of
    )


def charged_interest(
    invoice: Invoice | RecordedInvoice | Row[Any], policy: Policy, as_of: date, settings: CollectionsSettings
) -> Decimal:
    """The penalty interest the debtor owes as of ``as_of``: accrued daily when charged, else what was billed."""
    if settings.charge_penalty_interest:
        return interest_due(invoice, policy, as_of)
    return Decimal(invoice.interest_outstanding)


def invoice_view(
    invoice: Invoice | RecordedInvoice | Row[Any], policy: Policy, as_of: date, settings: CollectionsSettings
) -> dict[str, Any]:
    accrued = interest_due(invoice, policy, as_of) if invoice.status == "open" else None
    if settings.charge_penalty_interest:
        interest = accrued if accrued is not None else interest_due(invoice, policy, as_of)
    else:
        interest = Decimal(invoice.interest_outstanding)
    values = {
        name: getattr(invoice, name)
        for name in (
            "id",
            "customer_id",
            "number",
            "issue_date",
            "due_date",
            "currency",
            "amount",
            "credit_terms",
            "status",
            "principal_outstanding",
            "costs_outstanding",
            "discount_granted",
            "paid_on",
            "version",
            "created_at",
        )
    }
    rate = invoice_penalty_rate(invoice, policy)
    values["penalty_interest_rate"], values["penalty_interest_basis"] = rate.annual_rate.normalize(), rate.basis
    values["interest_outstanding"] = interest
    values["penalty_interest_accrued"] = accrued if accrued is not None else interest
    values["amount_due"] = Decimal(invoice.principal_outstanding) + interest + Decimal(invoice.costs_outstanding)
    return values


def charge(invoice: Invoice, costs: ActionCosts, settings: CollectionsSettings) -> None:
    """With ``charge_action_costs`` the debtor is billed the recoverable part of an action carried out."""
    if costs.recoverable > 0 and settings.charge_action_costs:
        invoice.costs_outstanding = Decimal(invoice.costs_outstanding) + costs.recoverable
