"""The customer directory every downstream service keeps from the registry's events.

Credit, collections and survey each own a ``known_customers`` table (same columns, their own
database); the handlers that keep it current are written once here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.consumer import EventContext, HandlerMap
from shared.db import GUID, UTCDateTime
from shared.events.customers import CustomerRegistered, CustomerUpdated


class KnownCustomerColumns:
    """Columns of the ``known_customers`` read model; a service maps it with its own Base."""

    __tablename__ = "known_customers"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    lifecycle: Mapped[str] = mapped_column(String(20))
    segment: Mapped[str] = mapped_column(String(20), default="general")
    region: Mapped[str | None] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

DIRECTORY_FIELDS = ("name", "kind", "lifecycle", "segment", "region")


def customer_directory_handlers(model: Any) -> HandlerMap:
    """Handlers that insert and update rows of ``model`` (a KnownCustomer mapped class)."""

    async def on_registered(ctx: EventContext, event: CustomerRegistered) -> None:
        at = ctx.envelope.time or ctx.clock.now()
        row = await ctx.session.get(model, event.customer_id)
        if row is None:
            ctx.session.add(model(id=event.customer_id, name=event.name, kind=event.kind,
                                  lifecycle=event.lifecycle, segment=event.segment, region=event.region,
                                  registered_at=at, updated_at=at))
        await ctx.session.flush()

    async def on_updated(ctx: EventContext, event: CustomerUpdated) -> None:
        row = await ctx.session.get(model, event.customer_id)
        if row is None:
            return  # the registration is on the same partition, before this; nothing to update without it
        for name in DIRECTORY_FIELDS:
            if name in event.changes and event.changes[name] is not None:
                setattr(row, name, event.changes[name])
        row.updated_at = ctx.envelope.time or ctx.clock.now()
        await ctx.session.flush()

    return {CustomerRegistered: [on_registered], CustomerUpdated: [on_updated]}
