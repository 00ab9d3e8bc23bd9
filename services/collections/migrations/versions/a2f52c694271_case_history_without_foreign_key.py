"""case history without foreign key

Revision ID: a2f52c694271
Revises: e649ee29f2cb
Create Date: 2026-11-27 16:04:59.161448

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a2f52c694271"
down_revision: str | Sequence[str] | None = "e649ee29f2cb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The sweep bulk-writes one history row per stage passed; the foreign key check cost ~10 % of it."""
    with op.batch_alter_table("case_history", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_case_history_case_id_cases"), type_="foreignkey")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("case_history", schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f("fk_case_history_case_id_cases"), "cases", ["case_id"], ["id"])
