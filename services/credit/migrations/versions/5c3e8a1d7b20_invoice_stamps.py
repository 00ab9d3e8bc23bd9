"""invoice stamps: per customer, set by triggers in every transaction that writes its invoice records

Revision ID: 5c3e8a1d7b20
Revises: 0289ee00f99d
Create Date: 2026-11-30 07:00:00

A profile GET reads the stamp instead of summing the invoices (16 aggregates and 49 parameters per
request): while the stamp and the day are those its kept answer was rendered from, the sums are too. The
triggers keep that true for every writer (the ORM, bulk SQL, another process). No row: the customer's
invoices were not written since this migration (a process reads the sums the first time it sees a stamp).

PostgreSQL stores the id of the writing transaction, set once per transaction and customer: a transaction
that writes many of a customer's invoices does not update the stamp row again for each (every update of one
row in one transaction adds a row version the next one has to pass). SQLite counts the writes.
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

_STAMP_POSTGRESQL = """
        INSERT INTO invoice_stamps AS kept (customer_id, stamp) VALUES ({row}.customer_id, writer)
        ON CONFLICT (customer_id) DO UPDATE SET stamp = excluded.stamp WHERE kept.stamp <> excluded.stamp;"""

_POSTGRESQL_FUNCTION = """
CREATE FUNCTION stamp_invoice_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    writer bigint := pg_current_xact_id()::text::bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN{old}
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.customer_id IS DISTINCT FROM OLD.customer_id) THEN{new}
    END IF;
    RETURN NULL;
END
$$
""".format(old=_STAMP_POSTGRESQL.format(row="OLD"), new=_STAMP_POSTGRESQL.format(row="NEW"))

_STAMP_SQLITE = """
    INSERT OR IGNORE INTO invoice_stamps (customer_id, stamp) VALUES ({row}.customer_id, 0);
    UPDATE invoice_stamps SET stamp = stamp + 1 WHERE customer_id = {row}.customer_id;"""

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
            "stamp",
            sa.BigInteger(),
            nullable=False,
            comment="changes with every transaction that writes the customer's invoice_records (triggers):"
            " PostgreSQL the id of the last such transaction, SQLite a count of the writes",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_invoice_stamps")),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(_POSTGRESQL_FUNCTION)
        op.execute(
            "CREATE TRIGGER invoice_records_stamp AFTER INSERT OR UPDATE OR DELETE ON invoice_records"
            " FOR EACH ROW EXECUTE FUNCTION stamp_invoice_write()"
        )
    else:
        for name, (when, rows) in _SQLITE_TRIGGERS.items():
            # An update that moves an invoice to another customer stamps both (the same customer: twice).
            body = "".join(_STAMP_SQLITE.format(row=row) for row in rows)
            op.execute(f"CREATE TRIGGER {name} {when} ON invoice_records FOR EACH ROW BEGIN{body}\nEND")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER invoice_records_stamp ON invoice_records")
        op.execute("DROP FUNCTION stamp_invoice_write()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("invoice_stamps")
