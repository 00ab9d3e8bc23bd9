"""Use cases of the customers registry: load, apply the rule, save, add the event to the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.customers import repository
from services.customers.domain import complaints as complaint_rules
from services.customers.domain.complaints import ComplaintState, StepPayload
from services.customers.domain.contracts import ContractDraft, DisputeResolutionKind, validate_contract
from services.customers.domain.customer import Lifecycle, lifecycle_after_purchase, transition_lifecycle
from services.customers.domain.loyalty import LapseCandidate, find_lapsed
from services.customers.models import Complaint, ComplaintStep, Contract, Customer, Sale
from services.customers.schemas.complaints import ComplaintCreate, ComplaintTransitionCreate
from services.customers.schemas.contracts import ArbitrationClause, ContractCreate
from services.customers.schemas.customers import CustomerCreate, CustomerUpdate
from services.customers.schemas.sales import SalesImport
from shared.db import Database
from shared.errors import Conflict, DomainRuleViolation, NotFound
from shared.events.customers import (
    ComplaintClosed,
    ComplaintOpened,
    ContractSigned,
    CustomerRegistered,
    CustomerUpdated,
)
from shared.outbox import emit


async def register_customer(session: AsyncSession, data: CustomerCreate, now: datetime) -> Customer:
    """Add a customer to the registry and announce it."""
    if data.tax_id and await repository.tax_id_taken(session, data.tax_id):
        raise Conflict(
            f"a customer with tax id {data.tax_id} is already registered",
            errors=[{"field": "body.tax_id", "message": "duplicate"}],
        )
    values = data.model_dump(mode="json")
    values["expected_first_order_on"] = data.expected_first_order_on
    customer = Customer(id=uuid.uuid4(), **values, version=1, created_at=now, updated_at=now)
    session.add(customer)
    await session.flush()
    await emit(
        session,
        CustomerRegistered(
            customer_id=customer.id,
            name=customer.name,
            kind=customer.kind,
            channel_role=customer.channel_role,
            lifecycle=customer.lifecycle,
            region=customer.region,
            industry=customer.industry,
            tax_id=customer.tax_id,
            segment=customer.segment,
        ),
        at=now,
    )
    return customer


async def read_customer(db: Database, customer_id: uuid.UUID) -> Any:
    """The customer's columns as a row (no ORM object: nothing to track in a read), or 404."""
    customer = await repository.read(db, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    customer = await repository.get(session, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


async def update_customer(session: AsyncSession, customer: Customer, data: CustomerUpdate, now: datetime) -> Customer:
    """Apply a partial update (the caller has checked If-Match) and announce the changes."""
    changes: dict[str, Any] = {}
    for name, value in data.model_dump(mode="json", exclude_unset=True).items():
        if value is None and name in {"name", "kind", "origin", "lifecycle", "segment"}:
            raise Conflict(f"{name} cannot be cleared", errors=[{"field": f"body.{name}", "message": "required"}])
        if getattr(customer, name) != value:
            changes[name] = value
    if "lifecycle" in changes:
        transition_lifecycle(Lifecycle(customer.lifecycle), Lifecycle(changes["lifecycle"]))
    if (
        "tax_id" in changes
        and changes["tax_id"]
        and await repository.tax_id_taken(session, changes["tax_id"], exclude=customer.id)
    ):
        raise Conflict(
            f"a customer with tax id {changes['tax_id']} is already registered",
            errors=[{"field": "body.tax_id", "message": "duplicate"}],
        )
    if not changes:
        return customer
    for name, value in changes.items():
        setattr(customer, name, data.expected_first_order_on if name == "expected_first_order_on" else value)
    customer.version += 1
    customer.updated_at = now
    await session.flush()
    await emit(session, CustomerUpdated(customer_id=customer.id, version=customer.version, changes=changes), at=now)
    return customer


async def change_lifecycle(session: AsyncSession, customer: Customer, target: Lifecycle, now: datetime) -> bool:
    """Move a customer to ``target`` if that is a legal change (409 otherwise); announce it. False if unchanged."""
    current = Lifecycle(customer.lifecycle)
    if transition_lifecycle(current, target) is current:
        return False
    customer.lifecycle = str(target)
    customer.version += 1
    customer.updated_at = now
    await session.flush()
    await emit(
        session,
        CustomerUpdated(customer_id=customer.id, version=customer.version, changes={"lifecycle": str(target)}),
        at=now,
    )
    return True


@contextmanager
def _fields_in_body(renames: dict[str, str]) -> Iterator[None]:
    """Point a domain rule's field names at the request body (``valid_to`` → ``body.valid_to``)."""
    try:
        yield
    except DomainRuleViolation as violation:
        errors = [
            {**error, "field": f"body.{renames.get(error['field'], error['field'])}"} for error in violation.errors
        ]
        raise DomainRuleViolation(violation.detail, errors=errors, **violation.extensions) from violation


# --- contracts ---------------------------------------------------------------------------------


async def sign_contract(session: AsyncSession, customer: Customer, data: ContractCreate, now: datetime) -> Contract:
    """Record a contract after the domain checks (dates, terms, clause); emits ContractSigned."""
    clause = data.dispute_resolution
    commission = clause.commission if isinstance(clause, ArbitrationClause) else None
    with _fields_in_body({"arbitration_commission": "dispute_resolution.commission"}):
        valid = validate_contract(
            ContractDraft(
                number=data.number,
                signed_on=data.signed_on,
                valid_from=data.valid_from,
                valid_to=data.valid_to,
                credit_terms=data.credit_terms,
                settlement_method=data.settlement_method,
                dispute_resolution_kind=DisputeResolutionKind(clause.kind),
                arbitration_commission=commission,
                penalty_interest_annual_rate=data.penalty_interest_annual_rate,
            ),
            as_of=now.date(),
        )
    if await repository.contract_number_taken(session, valid.number):
        raise Conflict(
            f"a contract numbered {valid.number} is already recorded",
            errors=[{"field": "body.number", "message": "duplicate"}],
        )
    contract = Contract(
        id=uuid.uuid4(),
        customer_id=customer.id,
        number=valid.number,
        signed_on=valid.signed_on,
        valid_from=valid.valid_from,
        valid_to=valid.valid_to,
        subject=data.subject,
        quality_terms=data.quality_terms,
        delivery_terms=data.delivery_terms,
        dealer_rights=data.dealer_rights,
        settlement_method=str(valid.settlement_method),
        rebate_policy=data.rebate_policy,
        ordering_and_returns=data.ordering_and_returns,
        breach_liability=data.breach_liability,
        credit_terms=str(valid.credit_terms),
        dispute_kind=str(valid.dispute_resolution.kind),
        arbitration_commission=valid.dispute_resolution.arbitration_commission,
        penalty_interest_annual_rate=valid.penalty_interest_annual_rate,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(contract)
    await session.flush()
    published_clause = {"kind": contract.dispute_kind}
    if contract.arbitration_commission:
        published_clause["commission"] = contract.arbitration_commission
    await emit(
        session,
        ContractSigned(
            customer_id=customer.id,
            contract_id=contract.id,
            number=contract.number,
            credit_terms=contract.credit_terms,
            dispute_resolution=published_clause,
            valid_from=contract.valid_from.isoformat(),
            valid_to=contract.valid_to.isoformat() if contract.valid_to else None,
            penalty_interest_annual_rate=contract.penalty_interest_annual_rate,
        ),
        at=now,
    )
    return contract


async def get_contract(session: AsyncSession, contract_id: uuid.UUID) -> Contract:
    contract = await repository.get_contract(session, contract_id)
    if contract is None:
        raise NotFound(f"no contract {contract_id}")
    return contract


# --- sales history -----------------------------------------------------------------------------


async def import_sales(session: AsyncSession, data: SalesImport, now: datetime) -> dict[str, Decimal]:
    """Add historical sales, all or nothing: every bad row is reported, and then nothing is written."""
    known = await repository.existing_ids(session, (row.customer_id for row in data.rows))
    references = [row.reference for row in data.rows if row.reference]
    taken = await repository.taken_references(session, references)
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, row in enumerate(data.rows):
        if row.customer_id not in known:
            errors.append({"field": f"body.rows[{index}].customer_id", "message": "no such customer"})
        if row.reference:
            if row.reference in taken:
                errors.append({"field": f"body.rows[{index}].reference", "message": "already imported"})
            elif row.reference in seen:
                errors.append({"field": f"body.rows[{index}].reference", "message": "repeated in this import"})
            seen.add(row.reference)
        if row.sold_on > now.date():
            errors.append({"field": f"body.rows[{index}].sold_on", "message": "must not be in the future"})
    if errors:
        raise DomainRuleViolation(f"{len(errors)} problem(s) in the import; nothing was imported", errors=errors)
    totals: dict[str, Decimal] = {}
    for row in data.rows:
        session.add(
            Sale(
                id=uuid.uuid4(),
                customer_id=row.customer_id,
                source="import",
                invoice_id=None,
                reference=row.reference,
                sold_on=row.sold_on,
                currency=row.currency,
                amount=row.amount,
                margin=row.margin,
                paid_amount=row.amount,
                last_paid_on=None,
                created_at=now,
                updated_at=now,
            )
        )
        totals[row.currency] = totals.get(row.currency, Decimal("0")) + row.amount
    await session.flush()
    return totals


async def record_invoice_sale(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID,
    invoice_id: uuid.UUID,
    number: str,
    issue_date: date,
    currency: str,
    amount: Decimal,
    now: datetime,
) -> None:
    """An invoice from collections is a sale; a purchase makes a prospect, lapsed or lost customer active."""
    if await repository.sale_by_invoice(session, invoice_id) is None:
        session.add(
            Sale(
                id=uuid.uuid4(),
                customer_id=customer_id,
                source="invoice",
                invoice_id=invoice_id,
                reference=None,
                sold_on=issue_date,
                currency=currency,
                amount=amount,
                margin=None,
                paid_amount=Decimal("0"),
                last_paid_on=None,
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
    customer = await repository.get(session, customer_id)
    if customer is not None:
        await change_lifecycle(session, customer, lifecycle_after_purchase(Lifecycle(customer.lifecycle)), now)


async def record_payment(
    session: AsyncSession, *, invoice_id: uuid.UUID, amount: Decimal, paid_on: date, now: datetime
) -> None:
    """A payment on an invoice the history knows; payments on unknown invoices change nothing here."""
    sale = await repository.sale_by_invoice(session, invoice_id)
    if sale is None:
        return
    sale.paid_amount = sale.paid_amount + amount
    sale.last_paid_on = max(paid_on, sale.last_paid_on) if sale.last_paid_on else paid_on
    sale.updated_at = now
    await session.flush()


async def sweep_lapsed(session: AsyncSession, as_of: date, days: int, now: datetime) -> list[uuid.UUID]:
    """Move active customers with no purchase in more than ``days`` days to lapsed; announce each."""
    active = await repository.customers_by_lifecycle(session, str(Lifecycle.ACTIVE))
    last = await repository.last_purchase_dates(session, as_of)
    candidates = [LapseCandidate(str(c.id), Lifecycle(c.lifecycle), last.get(c.id)) for c in active]
    lapsed_ids = {uuid.UUID(value) for value in find_lapsed(candidates, as_of, days)}
    for customer in active:
        if customer.id in lapsed_ids:
            await change_lifecycle(session, customer, Lifecycle.LAPSED, now)
    return sorted(lapsed_ids, key=str)


# --- complaints --------------------------------------------------------------------------------

OPEN_COMPLAINT_STATES = tuple(str(state) for state in ComplaintState if complaint_rules.is_open(state))


async def open_complaint(session: AsyncSession, data: ComplaintCreate, actor: str, now: datetime) -> Complaint:
    """Record a complaint (state ``recorded``) and announce it."""
    errors = []
    if await repository.get(session, data.customer_id) is None:
        errors.append({"field": "body.customer_id", "message": "no such customer"})
    if data.disputed_amount is not None and data.invoice_id is None:
        errors.append({"field": "body.disputed_amount", "message": "a disputed amount needs the invoice_id"})
    if (data.disputed_amount is None) != (data.currency is None):
        errors.append({"field": "body.currency", "message": "give currency exactly when disputed_amount is given"})
    if errors:
        raise DomainRuleViolation("Invalid complaint", errors=errors)
    recorded = complaint_rules.record_complaint(actor, now, data.note)
    complaint = Complaint(
        id=uuid.uuid4(),
        customer_id=data.customer_id,
        category=str(data.category),
        description=data.description,
        invoice_id=data.invoice_id,
        disputed_amount=data.disputed_amount,
        currency=data.currency,
        state=str(recorded.state),
        state_entered_at=now,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(complaint)
    await session.flush()
    session.add(_step(complaint.id, 1, recorded.entry))
    await session.flush()
    await emit(
        session,
        ComplaintOpened(
            customer_id=complaint.customer_id,
            complaint_id=complaint.id,
            category=complaint.category,
            invoice_id=complaint.invoice_id,
            disputed_amount=complaint.disputed_amount,
        ),
        at=now,
    )
    return complaint


def _step(complaint_id: uuid.UUID, sequence: int, entry: complaint_rules.ComplaintHistoryEntry) -> ComplaintStep:
    payload = {name: value for name, value in vars(entry.payload).items() if value is not None}
    return ComplaintStep(
        id=uuid.uuid4(),
        complaint_id=complaint_id,
        sequence=sequence,
        from_state=str(entry.from_state) if entry.from_state else None,
        to_state=str(entry.to_state),
        actor=entry.actor,
        at=entry.at,
        payload=payload,
    )


async def get_complaint(session: AsyncSession, complaint_id: uuid.UUID, *, for_update: bool = False) -> Complaint:
    complaint = await repository.get_complaint(session, complaint_id, for_update=for_update)
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    return complaint


async def move_complaint(
    session: AsyncSession, complaint: Complaint, data: ComplaintTransitionCreate, actor: str, now: datetime
) -> Complaint:
    """Apply one workflow step (illegal → 409, bad payload → 422); a final state emits ComplaintClosed."""
    history = await repository.complaint_history(session, complaint.id)
    proposals = [step.actor for step in history if step.to_state == ComplaintState.SOLUTION_PROPOSED]
    with _fields_in_body({}):
        moved = complaint_rules.transition(
            ComplaintState(complaint.state),
            data.to,
            actor,
            now,
            StepPayload(
                department=data.department,
                cause=data.cause,
                solution=data.solution,
                reason=data.reason,
                rating=data.rating,
                note=data.note,
            ),
            state_entered_at=complaint.state_entered_at,
            proposed_by=proposals[-1] if proposals else None,
        )
    sequence = len(history) + 1
    session.add(_step(complaint.id, sequence, moved.entry))
    complaint.state = str(moved.state)
    complaint.state_entered_at = now
    complaint.version += 1
    complaint.updated_at = now
    await session.flush()
    if not complaint_rules.is_open(moved.state):
        await emit(
            session,
            ComplaintClosed(
                customer_id=complaint.customer_id,
                complaint_id=complaint.id,
                invoice_id=complaint.invoice_id,
                outcome=str(moved.state),
            ),
            at=now,
        )
    return complaint
