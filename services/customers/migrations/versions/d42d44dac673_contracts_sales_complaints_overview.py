"""contracts sales complaints overview

Revision ID: d42d44dac673
Revises: 42553b858142
Create Date: 2026-11-27 15:36:10.737208

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision: str = "d42d44dac673"
down_revision: str | Sequence[str] | None = "42553b858142"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "customer_overview",
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("credit_grade", sa.String(length=10), nullable=True),
        sa.Column("credit_score", sa.Numeric(precision=9, scale=4), nullable=True),
        sa.Column("credit_assessed_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("credit_limit", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("credit_limit_currency", sa.String(length=3), nullable=True),
        sa.Column("credit_hold", sa.Boolean(), nullable=False),
        sa.Column("credit_hold_reasons", sa.JSON(), nullable=False),
        sa.Column("receivables_currency", sa.String(length=3), nullable=True),
        sa.Column("open_receivables", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("overdue_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("oldest_overdue_days", sa.Integer(), nullable=True),
        sa.Column("receivables_as_of", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("open_case_stages", sa.JSON(), nullable=False, comment="case id -> stage"),
        sa.Column("servqual_weighted_gap", sa.Numeric(precision=9, scale=4), nullable=True),
        sa.Column("servqual_unweighted_gap", sa.Numeric(precision=9, scale=4), nullable=True),
        sa.Column("servqual_measured_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_overview")),
    )
    op.create_table(
        "sales",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False, comment="invoice or import"),
        sa.Column("invoice_id", shared.db.GUID(length=36), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True, comment="invoice or import reference"),
        sa.Column("sold_on", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("margin", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("paid_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("last_paid_on", sa.Date(), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_sales_invoice_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_sales_reference")),
    )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sales_sold_on"), ["sold_on"], unique=False)

    op.create_table(
        "complaints",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("invoice_id", shared.db.GUID(length=36), nullable=True),
        sa.Column("disputed_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("state_entered_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_complaints_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_state"), ["state"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("quality_terms", sa.Text(), nullable=True),
        sa.Column("delivery_terms", sa.Text(), nullable=True),
        sa.Column("dealer_rights", sa.Text(), nullable=True),
        sa.Column("settlement_method", sa.String(length=20), nullable=False),
        sa.Column("rebate_policy", sa.Text(), nullable=True),
        sa.Column("ordering_and_returns", sa.Text(), nullable=True),
        sa.Column("breach_liability", sa.Text(), nullable=True),
        sa.Column("credit_terms", sa.String(length=200), nullable=False, comment="canonical text, e.g. '2/10, n/30'"),
        sa.Column("dispute_kind", sa.String(length=20), nullable=False),
        sa.Column("arbitration_commission", sa.String(length=300), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_contracts_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("number", name=op.f("uq_contracts_number")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "complaint_steps",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("complaint_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=30), nullable=True),
        sa.Column("to_state", sa.String(length=30), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_complaint_steps_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_steps")),
        sa.UniqueConstraint("complaint_id", "sequence", name=op.f("uq_complaint_steps_complaint_id")),
    )
    with op.batch_alter_table("complaint_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_steps_complaint_id"), ["complaint_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("complaint_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_steps_complaint_id"))

    op.drop_table("complaint_steps")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_customer_id"))
        batch_op.drop_index(batch_op.f("ix_contracts_created_at"))

    op.drop_table("contracts")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_state"))
        batch_op.drop_index(batch_op.f("ix_complaints_customer_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_created_at"))

    op.drop_table("complaints")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_sold_on"))
        batch_op.drop_index(batch_op.f("ix_sales_customer_id"))

    op.drop_table("sales")
    op.drop_table("customer_overview")
