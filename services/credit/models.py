"""Tables of the credit service."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import GUID, UTCDateTime, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class KnownCustomer(Base):
    """Read model of the registry's customers, kept from customers events."""

    __tablename__ = "known_customers"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    lifecycle: Mapped[str] = mapped_column(String(20))
    segment: Mapped[str] = mapped_column(String(20), default="general")
    region: Mapped[str | None] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
