"""invoice import retries: attempts, last error, next attempt

Revision ID: d3e8f1a2b4c6
Revises: d8e3f1a2b4c6
Create Date: 2026-11-29 22:20:00

A chunk that fails for a reason other than its lines is retried with exponential backoff, at most
``import_max_attempts`` times, and the job shows how often and why; then it ends ``failed``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "d3e8f1a2b4c6"
down_revision: str | Sequence[str] | None = "d8e3f1a2b4c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoice_imports") as batch:
        batch.add_column(
            sa.Column(
                "attempts",
                sa.Integer(),
                server_default="0",
                nullable=False,
                comment="failed attempts at the current chunk (0 once it commits)",
            )
        )
        batch.add_column(
            sa.Column("last_error", sa.Text(), nullable=True, comment="why the most recent attempt at a chunk failed")
        )
        batch.add_column(sa.Column("last_error_at", shared.db.UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column(
                "next_attempt_at",
                shared.db.UTCDateTime(),
                nullable=True,
                comment="a failed chunk is not tried again before this (exponential backoff)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("invoice_imports") as batch:
        batch.drop_column("next_attempt_at")
        batch.drop_column("last_error_at")
        batch.drop_column("last_error")
        batch.drop_column("attempts")
