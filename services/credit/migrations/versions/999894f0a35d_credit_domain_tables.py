"""credit domain tables

Revision ID: 999894f0a35d
Revises: f3f911299796
Create Date: 2026-11-27 15:35:58.112498

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision: str = "999894f0a35d"
down_revision: str | Sequence[str] | None = "f3f911299796"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "assessments",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("assessed_by", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("recommended_limit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index("ix_assessments_customer_created", ["customer_id", "created_at", "id"], unique=False)

    op.create_table(
        "credit_checks",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("prepaid", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        sa.Column("credit_limit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("exposure_before", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("exposure_after", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("available_before", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("oldest_overdue_days", sa.Integer(), nullable=False),
        sa.Column("counted_as_order", sa.Boolean(), nullable=False),
        sa.Column("checked_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_checks")),
    )
    with op.batch_alter_table("credit_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_checks_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "credit_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_policy")),
    )
    op.create_table(
        "credit_profiles",
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("credit_limit", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("limit_method", sa.String(length=40), nullable=True),
        sa.Column("recommended_limit", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("open_receivables", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column(
            "overdue_amount",
            sa.Numeric(precision=18, scale=2),
            nullable=True,
            comment="null until collections reported the customer's receivables",
        ),
        sa.Column("oldest_overdue_days", sa.Integer(), nullable=False),
        sa.Column("collection_stage", sa.String(length=20), nullable=True, comment="furthest open collection stage"),
        sa.Column("open_orders", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        sa.Column("hold_reasons", sa.JSON(), nullable=False),
        sa.Column("hold_changed_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("latest_assessment_id", shared.db.GUID(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_credit_profiles")),
    )
    op.create_table(
        "invoice_records",
        sa.Column("invoice_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("outstanding", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("paid_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("last_paid_on", sa.Date(), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_invoice_records")),
    )
    with op.batch_alter_table("invoice_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_records_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_records_issue_date"), ["issue_date"], unique=False)

    op.create_table(
        "limit_changes",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("previous_limit", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("credit_limit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("recommended_limit", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("assessment_id", shared.db.GUID(length=36), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_limit_changes")),
    )
    with op.batch_alter_table("limit_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_limit_changes_customer_id"), ["customer_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("limit_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_limit_changes_customer_id"))

    op.drop_table("limit_changes")
    with op.batch_alter_table("invoice_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_records_issue_date"))
        batch_op.drop_index(batch_op.f("ix_invoice_records_customer_id"))

    op.drop_table("invoice_records")
    op.drop_table("credit_profiles")
    op.drop_table("credit_policy")
    with op.batch_alter_table("credit_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_checks_customer_id"))

    op.drop_table("credit_checks")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_customer_created")

    op.drop_table("assessments")
