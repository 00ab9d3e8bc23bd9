"""contact discipline and bounced cheques

Revision ID: 46fe1cb8d2d7
Revises: a2f52c694271
Create Date: 2026-11-27 16:35:42.788808

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision: str = "46fe1cb8d2d7"
down_revision: str | Sequence[str] | None = "a2f52c694271"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "contact_log",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("case_id", shared.db.GUID(length=36), nullable=True),
        sa.Column("action_id", shared.db.GUID(length=36), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_log")),
    )
    with op.batch_alter_table("contact_log", schema=None) as batch_op:
        batch_op.create_index("ix_contact_log_customer_at", ["customer_id", "at"], unique=False)

    op.create_table(
        "contact_preferences",
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("consent", sa.JSON(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_contact_preferences")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "method",
                sa.String(length=20),
                server_default="bank_transfer",
                nullable=False,
                comment="cash, cheque, bank_transfer or other",
            )
        )
        batch_op.add_column(
            sa.Column(
                "status",
                sa.String(length=20),
                server_default="applied",
                nullable=False,
                comment="applied, or bounced (a cheque returned unpaid)",
            )
        )
        batch_op.add_column(sa.Column("bounced_at", shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("bounce_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("bounce_reason")
        batch_op.drop_column("bounced_at")
        batch_op.drop_column("status")
        batch_op.drop_column("method")

    op.drop_table("contact_preferences")
    with op.batch_alter_table("contact_log", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_log_customer_at")

    op.drop_table("contact_log")
