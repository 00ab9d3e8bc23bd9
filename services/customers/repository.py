"""All SQL of the customers service."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.customers.models import Customer


async def get(session: AsyncSession, customer_id: uuid.UUID) -> Customer | None:
    return await session.get(Customer, customer_id)


async def tax_id_taken(session: AsyncSession, tax_id: str, exclude: uuid.UUID | None = None) -> bool:
    query = select(Customer.id).where(Customer.tax_id == tax_id)
    if exclude is not None:
        query = query.where(Customer.id != exclude)
    return (await session.scalar(query.limit(1))) is not None


async def page(session: AsyncSession, *, limit: int, after: tuple[datetime, uuid.UUID] | None,
               kind: str | None = None, lifecycle: str | None = None, region: str | None = None) -> list[Customer]:
    """Keyset page ordered by (created_at, id): stable while rows are added."""
    query = select(Customer)
    if kind:
        query = query.where(Customer.kind == kind)
    if lifecycle:
        query = query.where(Customer.lifecycle == lifecycle)
    if region:
        query = query.where(Customer.region == region)
    if after is not None:
        created_at, last_id = after
        query = query.where(or_(Customer.created_at > created_at,
                                and_(Customer.created_at == created_at, Customer.id > last_id)))
    query = query.order_by(Customer.created_at, Customer.id).limit(limit)
    return list((await session.scalars(query)).all())
