"""The customer directory every downstream service keeps from the registry's events.

Credit, collections and survey each own a ``known_customers`` table (same columns, their own
database); the handlers that keep it current are written once here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, update
from sqlalchemy.orm import Mapped, mapped_column

from shared.consumer import EventContext, HandlerMap, batch_handler
from shared.db import GUID, UTCDateTime, insert_rows
from shared.events.base import Envelope
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
    """Handlers that insert and update rows of ``model`` (a KnownCustomer mapped class).

    One Core statement per run of registrations (no SELECT, no ORM flush): every downstream service applies every
    registration, so this is the suite's hottest consumer path.
    """
    table = model.__table__

    @batch_handler
    async def on_registered(ctx: EventContext, envelopes: list[Envelope]) -> None:
        rows = []
        for envelope in envelopes:
            event = envelope.data
            assert isinstance(event, CustomerRegistered)
            at = envelope.time or ctx.clock.now()
            rows.append(
                {
                    "id": event.customer_id,
                    "name": event.name,
                    "kind": event.kind,
                    "lifecycle": event.lifecycle,
                    "segment": event.segment,
                    "region": event.region,
                    "registered_at": at,
                    "updated_at": at,
                }
            )
        await insert_rows(ctx.session, table, rows, skip_conflicts=("id",))

    async def on_updated(ctx: EventContext, event: CustomerUpdated) -> None:
        changes = {
            name: event.changes[name]
            for name in DIRECTORY_FIELDS
            if name in event.changes and event.changes[name] is not None
        }
        # No row yet: the registration comes first on the same partition, so there is nothing to update.
        await ctx.session.execute(
            update(table)
            .where(table.c.id == event.customer_id)
            .values(**changes, updated_at=ctx.envelope.time or ctx.clock.now())
        )

    return {CustomerRegistered: [on_registered], CustomerUpdated: [on_updated]}
