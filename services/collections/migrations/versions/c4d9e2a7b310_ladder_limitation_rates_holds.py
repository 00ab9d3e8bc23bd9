"""the escalation ladder (issue 10): holds by cause, contract penalty rates, limitation interruptions

Revision ID: c4d9e2a7b310
Revises: 46fe1cb8d2d7
Create Date: 2026-11-29 15:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c4d9e2a7b310"
down_revision: str | Sequence[str] | None = "46fe1cb8d2d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("customer_profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "credit_hold_independent",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
                comment="on credit hold for a reason other than collections (re-classifies as high risk)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "penalty_interest_annual_rate",
                sa.Numeric(precision=7, scale=6),
                nullable=True,
                comment="the contract's agreed penalty rate a year; null: the policy's default",
            )
        )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "penalty_interest_rate",
                sa.Numeric(precision=7, scale=6),
                nullable=True,
                comment="penalty rate a year agreed in the contract when the invoice arrived; null: the policy's",
            )
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "limitation_from",
                sa.Date(),
                nullable=True,
                comment="the last interruption of the limitation period (PRC Civil Code art. 195); null: due date",
            )
        )
        batch_op.add_column(
            sa.Column(
                "limitation_basis",
                sa.String(length=30),
                nullable=False,
                server_default="due_date",
                comment="why the limitation period runs from limitation_from",
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("limitation_basis")
        batch_op.drop_column("limitation_from")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("penalty_interest_rate")
    with op.batch_alter_table("customer_profiles", schema=None) as batch_op:
        batch_op.drop_column("penalty_interest_annual_rate")
        batch_op.drop_column("credit_hold_independent")
