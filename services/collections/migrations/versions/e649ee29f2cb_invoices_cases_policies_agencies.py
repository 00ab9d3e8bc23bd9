"""invoices cases policies agencies

Revision ID: e649ee29f2cb
Revises: a836297d1640
Create Date: 2026-11-27 15:36:40.140293

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision: str = "e649ee29f2cb"
down_revision: str | Sequence[str] | None = "a836297d1640"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "agencies",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("recovery_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("commission_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("min_debt", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("max_debt", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("max_open_cases", sa.Integer(), nullable=True),
        sa.Column("report_deadline_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("name", name=op.f("uq_agencies_name")),
    )
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("contract_id", shared.db.GUID(length=36), nullable=True),
        sa.Column("credit_terms", sa.String(length=100), nullable=True),
        sa.Column("clause_kind", sa.String(length=20), nullable=False),
        sa.Column("commission", sa.String(length=200), nullable=True),
        sa.Column("credit_grade", sa.String(length=10), nullable=True),
        sa.Column("on_credit_hold", sa.Boolean(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_profiles")),
    )
    op.create_table(
        "invoices",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("credit_terms", sa.String(length=100), nullable=False),
        sa.Column("principal_outstanding", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("interest_outstanding", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("interest_accrued_to", sa.Date(), nullable=True),
        sa.Column("costs_outstanding", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("discount_granted", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("customer_id", "number", name="uq_invoices_customer_number"),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_customer", ["customer_id", "status"], unique=False)
        batch_op.create_index("ix_invoices_status_due", ["status", "due_date"], unique=False)

    op.create_table(
        "policies",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policies")),
    )
    op.create_table(
        "cases",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("invoice_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=True),
        sa.Column("stage_rank", sa.Integer(), nullable=False),
        sa.Column("previous_stage", sa.String(length=20), nullable=True, comment="stage before the last move"),
        sa.Column("last_broken_promise", sa.Date(), nullable=True, comment="promise broken by the last move"),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("segment", sa.String(length=20), nullable=False),
        sa.Column("route", sa.String(length=20), nullable=False),
        sa.Column("clause_kind", sa.String(length=20), nullable=False),
        sa.Column("commission", sa.String(length=200), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("outstanding", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("disputed_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("promise_to_pay", sa.Date(), nullable=True),
        sa.Column("malicious", sa.Boolean(), nullable=False),
        sa.Column("write_off_review", sa.Boolean(), nullable=False),
        sa.Column("resolution", sa.String(length=40), nullable=True),
        sa.Column("opened_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_cases_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_cases_invoice_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_customer", ["customer_id"], unique=False)
        batch_op.create_index("ix_cases_status_stage", ["status", "stage"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("invoice_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("costs_applied", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("interest_applied", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("principal_applied", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("discount_granted", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_invoice_id"), ["invoice_id"], unique=False)

    op.create_table(
        "case_actions",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("case_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cost", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_actions_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_actions")),
    )
    with op.batch_alter_table("case_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_actions_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
            comment="order of the history",
        ),
        sa.Column("case_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("from_stage", sa.String(length=20), nullable=True),
        sa.Column("to_stage", sa.String(length=20), nullable=True),
        sa.Column("at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_history_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_history")),
    )
    with op.batch_alter_table("case_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_history_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("case_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_history_case_id"))

    op.drop_table("case_history")
    with op.batch_alter_table("case_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_actions_case_id"))

    op.drop_table("case_actions")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_invoice_id"))

    op.drop_table("payments")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_stage")
        batch_op.drop_index("ix_cases_customer")

    op.drop_table("cases")
    op.drop_table("policies")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_status_due")
        batch_op.drop_index("ix_invoices_customer")

    op.drop_table("invoices")
    op.drop_table("customer_profiles")
    op.drop_table("agencies")
