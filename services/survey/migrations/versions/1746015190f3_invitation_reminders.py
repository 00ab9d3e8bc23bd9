"""invitation reminders

Revision ID: 1746015190f3
Revises: 5b5b891a98ce
Create Date: 2026-11-27 16:35:12.105195

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision: str = "1746015190f3"
down_revision: str | Sequence[str] | None = "5b5b891a98ce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reminder_count",
                sa.Integer(),
                server_default="0",
                nullable=False,
                comment="reminders sent for this invitation",
            )
        )
        batch_op.add_column(sa.Column("last_reminded_at", shared.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("last_reminded_at")
        batch_op.drop_column("reminder_count")
