"""contracts may agree their own penalty interest rate

Revision ID: 5e3a9c1b7d20
Revises: d42d44dac673
Create Date: 2026-11-29 15:25:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5e3a9c1b7d20"
down_revision: str | Sequence[str] | None = "d42d44dac673"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "penalty_interest_annual_rate",
                sa.Numeric(precision=7, scale=6),
                nullable=True,
                comment="agreed late-payment rate a year, a fraction; null: the collections policy's default",
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("penalty_interest_annual_rate")
