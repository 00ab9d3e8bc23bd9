"""Tables every service has in its own database: outbox, inbox, idempotency keys and job leases.

Each service's Alembic environment migrates these next to its own tables (``target_metadata`` is
``[service metadata, platform_metadata]``), so the SQL here is written once for all four.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from shared.db import GUID, UTCDateTime, new_metadata

platform_metadata = new_metadata()

# BigInteger autoincrement on PostgreSQL, INTEGER PRIMARY KEY (rowid alias) on SQLite.
_Seq = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox",
    platform_metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=True, comment="publication order"),
    Column("event_id", GUID(), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(200), nullable=False, comment="message key: the customer id"),
    Column("event_type", String(200), nullable=False),
    Column("source", String(200), nullable=False),
    Column("subject", String(200), nullable=True),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("data", Text, nullable=False, comment="JSON payload"),
    Column("headers", Text, nullable=False, server_default="{}", comment="JSON: request id, traceparent"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("published_at", UTCDateTime(), nullable=True),
    Column("kafka_partition", Integer, nullable=True),
    Column("kafka_offset", BigInteger, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
)
# The relay's hot query: the unpublished rows in order.
Index("ix_outbox_unpublished", outbox.c.published_at, outbox.c.seq)

inbox = Table(
    "inbox",
    platform_metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("event_type", String(200), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("applied_at", UTCDateTime(), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    platform_metadata,
    Column("key", String(200), primary_key=True),
    Column("scope", String(300), primary_key=True, comment="method and route template"),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("location", String(500), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

job_leases = Table(
    "job_leases",
    platform_metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)
