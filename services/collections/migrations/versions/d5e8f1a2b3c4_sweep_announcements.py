"""sweep announcements: customers moved by a sweep whose receivables are not announced yet

Revision ID: d5e8f1a2b3c4
Revises: d3e8f1a2b4c6
Create Date: 2026-11-29 22:10:00

Each chunk of the sweep records the customers it moved in its own transaction; the sweep's last
transaction announces their receivables and empties the table. A sweep that stopped half way used to
leave the customers of its committed chunks without a ``receivables_changed`` (issue 11).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "d5e8f1a2b3c4"
down_revision: str | Sequence[str] | None = "d3e8f1a2b4c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The customers whose receivables a sweep still owes an announcement."""
    op.create_table(
        "sweep_announcements",
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_sweep_announcements")),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("sweep_announcements")
