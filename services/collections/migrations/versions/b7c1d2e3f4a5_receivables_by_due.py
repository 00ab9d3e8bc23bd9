"""receivables by due date, kept by triggers on invoices

Revision ID: b7c1d2e3f4a5
Revises: 9bcdbe830a1b
Create Date: 2026-11-29 18:55:00

Each touched customer's receivables are read from its few (currency, due date) buckets instead of being
re-summed from all of its invoices (issue 11). The buckets move with every write to ``invoices`` in the
same statement, whatever the code path: on PostgreSQL one set-based upsert per statement (transition
tables), on SQLite one upsert per row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "b7c1d2e3f4a5"
down_revision: str | Sequence[str] | None = "9bcdbe830a1b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "principal_outstanding + interest_outstanding + costs_outstanding"
_KEY = "customer_id, currency, due_date"

_PG_FUNCTION = f"""
CREATE FUNCTION receivables_by_due_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO receivables_by_due AS r ({_KEY}, open_amount, open_count)
        SELECT {_KEY}, sum({_OPEN}), count(*) FROM new_rows WHERE status = 'open'
        GROUP BY {_KEY} ORDER BY {_KEY}
        ON CONFLICT ({_KEY}) DO UPDATE
            SET open_amount = r.open_amount + EXCLUDED.open_amount, open_count = r.open_count + EXCLUDED.open_count;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO receivables_by_due AS r ({_KEY}, open_amount, open_count)
        SELECT {_KEY}, sum(amount), sum(n) FROM (
            SELECT {_KEY}, {_OPEN} AS amount, 1 AS n FROM new_rows WHERE status = 'open'
            UNION ALL
            SELECT {_KEY}, -({_OPEN}), -1 FROM old_rows WHERE status = 'open'
        ) AS delta
        GROUP BY {_KEY} HAVING sum(amount) <> 0 OR sum(n) <> 0 ORDER BY {_KEY}
        ON CONFLICT ({_KEY}) DO UPDATE
            SET open_amount = r.open_amount + EXCLUDED.open_amount, open_count = r.open_count + EXCLUDED.open_count;
    ELSE
        INSERT INTO receivables_by_due AS r ({_KEY}, open_amount, open_count)
        SELECT {_KEY}, -sum({_OPEN}), -count(*) FROM old_rows WHERE status = 'open'
        GROUP BY {_KEY} ORDER BY {_KEY}
        ON CONFLICT ({_KEY}) DO UPDATE
            SET open_amount = r.open_amount + EXCLUDED.open_amount, open_count = r.open_count + EXCLUDED.open_count;
    END IF;
    RETURN NULL;
END
$$
"""

_PG_TRIGGERS = [
    "CREATE TRIGGER invoices_receivables_insert AFTER INSERT ON invoices REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION receivables_by_due_apply()",
    "CREATE TRIGGER invoices_receivables_update AFTER UPDATE ON invoices"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION receivables_by_due_apply()",
    "CREATE TRIGGER invoices_receivables_delete AFTER DELETE ON invoices REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION receivables_by_due_apply()",
]


def _sqlite_upsert(row: str, sign: str) -> str:
    # round(…, 2): SQLite keeps NUMERIC as a double; rounding each step keeps the sum at whole cents.
    return (
        f"INSERT INTO receivables_by_due ({_KEY}, open_amount, open_count)"
        f" SELECT {row}.customer_id, {row}.currency, {row}.due_date,"
        f" {sign}({row}.principal_outstanding + {row}.interest_outstanding + {row}.costs_outstanding), {sign}1"
        f" WHERE {row}.status = 'open'"
        f" ON CONFLICT ({_KEY}) DO UPDATE SET open_amount = round(open_amount + excluded.open_amount, 2),"
        " open_count = open_count + excluded.open_count;"
    )


_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER invoices_receivables_insert AFTER INSERT ON invoices BEGIN {_sqlite_upsert('NEW', '+')} END",
    "CREATE TRIGGER invoices_receivables_update AFTER UPDATE OF customer_id, currency, due_date,"
    " principal_outstanding, interest_outstanding, costs_outstanding, status ON invoices"
    f" BEGIN {_sqlite_upsert('OLD', '-')} {_sqlite_upsert('NEW', '+')} END",
    f"CREATE TRIGGER invoices_receivables_delete AFTER DELETE ON invoices BEGIN {_sqlite_upsert('OLD', '-')} END",
]


def upgrade() -> None:
    """Upgrade schema: the buckets, filled from the open invoices, then the triggers that keep them."""
    op.create_table(
        "receivables_by_due",
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "open_amount",
            sa.Numeric(precision=30, scale=2),
            nullable=False,
            comment="principal + interest + costs outstanding of the open invoices",
        ),
        sa.Column("open_count", sa.Integer(), nullable=False, comment="open invoices in the bucket (0: none left)"),
        sa.PrimaryKeyConstraint("customer_id", "currency", "due_date", name=op.f("pk_receivables_by_due")),
    )
    op.execute(
        f"INSERT INTO receivables_by_due ({_KEY}, open_amount, open_count)"
        f" SELECT {_KEY}, sum({_OPEN}), count(*) FROM invoices WHERE status = 'open' GROUP BY {_KEY}"
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    for trigger in ("invoices_receivables_insert", "invoices_receivables_update", "invoices_receivables_delete"):
        if op.get_context().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {trigger} ON invoices")
        else:
            op.execute(f"DROP TRIGGER {trigger}")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION receivables_by_due_apply()")
    op.drop_table("receivables_by_due")
