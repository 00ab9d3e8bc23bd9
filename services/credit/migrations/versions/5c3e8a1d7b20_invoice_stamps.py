"""invoice stamps: a per-customer version every write of its invoice records bumps (triggers)

Revision ID: 5c3e8a1d7b20
Revises: 0289ee00f99d
Create Date: 2026-11-30 07:00:00

A profile GET reads the stamp instead of summing the invoices (16 aggregates and 49 parameters per
request): while the stamp and the day are those its last answer was rendered from, the sums are too. The
triggers keep it true for every writer (the ORM, bulk SQL, another process). No row: the customer's
invoices were not written since this migration (a process reads the sums the first time it sees a stamp).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision: str = "5c3e8a1d7b20"
down_revision: str | Sequence[str] | None = "0289ee00f99d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTGRESQL_FUNCTION = """
CREATE FUNCTION bump_invoice_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO invoice_stamps AS stamp (customer_id, version) VALUES (OLD.customer_id, 1)
        ON CONFLICT (customer_id) DO UPDATE SET version = stamp.version + 1;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.customer_id IS DISTINCT FROM OLD.customer_id) THEN
        INSERT INTO invoice_stamps AS stamp (customer_id, version) VALUES (NEW.customer_id, 1)
        ON CONFLICT (customer_id) DO UPDATE SET version = stamp.version + 1;
    END IF;
    RETURN NULL;
END
$$
"""

_BUMP_SQLITE = """
    INSERT OR IGNORE INTO invoice_stamps (customer_id, version) VALUES ({row}.customer_id, 0);
    UPDATE invoice_stamps SET version = version + 1 WHERE customer_id = {row}.customer_id;
"""

_SQLITE_TRIGGERS = {
    "invoice_records_stamp_insert": ("AFTER INSERT", ["NEW"]),
    "invoice_records_stamp_update": ("AFTER UPDATE", ["OLD", "NEW"]),
    "invoice_records_stamp_delete": ("AFTER DELETE", ["OLD"]),
}


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "invoice_stamps",
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column(
            "version",
            sa.Integer(),
            nullable=False,
            comment="writes of the customer's invoice_records since this table exists (triggers)",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_invoice_stamps")),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(_POSTGRESQL_FUNCTION)
        op.execute(
            "CREATE TRIGGER invoice_records_stamp AFTER INSERT OR UPDATE OR DELETE ON invoice_records"
            " FOR EACH ROW EXECUTE FUNCTION bump_invoice_stamp()"
        )
    else:
        for name, (when, rows) in _SQLITE_TRIGGERS.items():
            # An update that moves an invoice to another customer bumps both (the same customer: twice).
            body = "".join(_BUMP_SQLITE.format(row=row) for row in rows)
            op.execute(f"CREATE TRIGGER {name} {when} ON invoice_records FOR EACH ROW BEGIN{body}END")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER invoice_records_stamp ON invoice_records")
        op.execute("DROP FUNCTION bump_invoice_stamp()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("invoice_stamps")
