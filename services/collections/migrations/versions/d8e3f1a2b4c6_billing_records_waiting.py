"""billing records waiting for their customer

Revision ID: d8e3f1a2b4c6
Revises: b7c1d2e3f4a5
Create Date: 2026-11-29 22:30:00

An invoice a billing system publishes for a customer collections has not heard of (its registration still on
the way) waits here and is recorded when ``customer_registered`` arrives, instead of being dead-lettered and
needing a redrive by hand.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "d8e3f1a2b4c6"
down_revision: str | Sequence[str] | None = "b7c1d2e3f4a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_records_waiting",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
            comment="arrival order",
        ),
        sa.Column(
            "record_id",
            sa.String(length=200),
            nullable=False,
            comment="the record's inbox id (CloudEvent source + id, or its content key)",
        ),
        sa.Column("customer_id", shared.db.GUID(), nullable=False),
        sa.Column(
            "invoice", sa.Text(), nullable=False, comment="the published invoice, as JSON in the bulk item's schema"
        ),
        sa.Column(
            "status",
            sa.String(length=10),
            nullable=False,
            comment="waiting, or refused (the registration came but the invoice was refused: see reason)",
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("received_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_billing_records_waiting")),
        sa.UniqueConstraint("record_id", name=op.f("uq_billing_records_waiting_record_id")),
    )
    op.create_index(
        "ix_billing_records_waiting_customer", "billing_records_waiting", ["customer_id", "seq"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_billing_records_waiting_customer", table_name="billing_records_waiting")
    op.drop_table("billing_records_waiting")
