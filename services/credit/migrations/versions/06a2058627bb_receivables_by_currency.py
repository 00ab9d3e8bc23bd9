"""receivables by currency

Revision ID: 06a2058627bb
Revises: 999894f0a35d
Create Date: 2026-11-27 16:36:48.413382

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "06a2058627bb"
down_revision: str | Sequence[str] | None = "999894f0a35d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("credit_profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "receivables_by_currency",
                sa.JSON(),
                nullable=True,
                comment="collections' last open receivables per currency (decimal strings); only the profile currency's figure is in open_receivables",
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("credit_profiles", schema=None) as batch_op:
        batch_op.drop_column("receivables_by_currency")
