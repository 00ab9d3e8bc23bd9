"""Use cases of the customers registry: load, apply the rule, save, add the event to the outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.customers import repository
from services.customers.models import Customer
from services.customers.schemas import CustomerCreate, CustomerUpdate
from shared.errors import Conflict, NotFound
from shared.events.customers import CustomerRegistered, CustomerUpdated
from shared.outbox import emit


async def register_customer(session: AsyncSession, data: CustomerCreate, now: datetime) -> Customer:
    """Add a customer to the registry and announce it."""
    if data.tax_id and await repository.tax_id_taken(session, data.tax_id):
        raise Conflict(f"a customer with tax id {data.tax_id} is already registered",
                       errors=[{"field": "body.tax_id", "message": "duplicate"}])
    values = data.model_dump(mode="json")
    values["expected_first_order_on"] = data.expected_first_order_on
    customer = Customer(id=uuid.uuid4(), **values, version=1, created_at=now, updated_at=now)
    session.add(customer)
    await session.flush()
    await emit(session, CustomerRegistered(
        customer_id=customer.id, name=customer.name, kind=customer.kind, channel_role=customer.channel_role,
        lifecycle=customer.lifecycle, region=customer.region, industry=customer.industry,
        tax_id=customer.tax_id, segment=customer.segment), at=now)
    return customer


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    customer = await repository.get(session, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


async def update_customer(session: AsyncSession, customer: Customer, data: CustomerUpdate,
                          now: datetime) -> Customer:
    """Apply a partial update (the caller has checked If-Match) and announce the changes."""
    changes: dict[str, Any] = {}
    for name, value in data.model_dump(mode="json", exclude_unset=True).items():
        if value is None and name in {"name", "kind", "origin", "lifecycle", "segment"}:
            raise Conflict(f"{name} cannot be cleared", errors=[{"field": f"body.{name}", "message": "required"}])
        if getattr(customer, name) != value:
            changes[name] = value
    if "tax_id" in changes and changes["tax_id"] and await repository.tax_id_taken(
            session, changes["tax_id"], exclude=customer.id):
        raise Conflict(f"a customer with tax id {changes['tax_id']} is already registered",
                       errors=[{"field": "body.tax_id", "message": "duplicate"}])
    if not changes:
        return customer
    for name, value in changes.items():
        setattr(customer, name, data.expected_first_order_on if name == "expected_first_order_on" else value)
    customer.version += 1
    customer.updated_at = now
    await session.flush()
    await emit(session, CustomerUpdated(customer_id=customer.id, version=customer.version, changes=changes), at=now)
    return customer
