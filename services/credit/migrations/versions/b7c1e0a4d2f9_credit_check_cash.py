"""credit checks record cash orders; profiles whether collections keeps supplying

Revision ID: b7c1e0a4d2f9
Revises: 06a2058627bb
Create Date: 2026-11-29 15:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b7c1e0a4d2f9"
down_revision: str | Sequence[str] | None = "06a2058627bb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("credit_checks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cash", sa.Boolean(), nullable=False, server_default=sa.false(), comment="paid in cash on delivery"
            )
        )
    with op.batch_alter_table("credit_profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "keep_supplying",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
                comment="collections keeps supplying (a key account whose arrears are not malicious): no stage hold",
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("credit_profiles", schema=None) as batch_op:
        batch_op.drop_column("keep_supplying")
    with op.batch_alter_table("credit_checks", schema=None) as batch_op:
        batch_op.drop_column("cash")
