"""campaigns invitations responses

Revision ID: 5b5b891a98ce
Revises: 30628575c14c
Create Date: 2026-11-27 15:35:49.941566

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision: str = "5b5b891a98ce"
down_revision: str | Sequence[str] | None = "30628575c14c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "campaigns",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("instrument_version", sa.String(length=40), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False, comment="dimension -> points (decimal strings)"),
        sa.Column("tolerance", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("alert_threshold", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("segment_filter", sa.String(length=20), nullable=True),
        sa.Column("region_filter", sa.String(length=100), nullable=True),
        sa.Column("closes_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaigns_created_at"), ["created_at"], unique=False)

    op.create_table(
        "campaign_customers",
        sa.Column("campaign_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_customers_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name=op.f("pk_campaign_customers")),
    )
    op.create_table(
        "invitations",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("campaign_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("expires_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("response_id", shared.db.GUID(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_invitations_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "responses",
        sa.Column("id", shared.db.GUID(length=36), nullable=False),
        sa.Column("campaign_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("customer_id", shared.db.GUID(length=36), nullable=False),
        sa.Column("invitation_id", shared.db.GUID(length=36), nullable=True),
        sa.Column("instrument_version", sa.String(length=40), nullable=False),
        sa.Column("expectations", sa.JSON(), nullable=False),
        sa.Column("perceptions", sa.JSON(), nullable=False),
        sa.Column("importance_points", sa.JSON(), nullable=True),
        sa.Column("dimension_gaps", sa.JSON(), nullable=False, comment="dimension -> gap (4 dp strings)"),
        sa.Column("unweighted_gap", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("weighted_gap", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False, comment="'invitation' or the staff subject"),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_responses_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
        sa.UniqueConstraint("invitation_id", name="uq_responses_invitation_id"),
    )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_responses_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_responses_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_responses_customer_id"), ["customer_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_responses_customer_id"))
        batch_op.drop_index(batch_op.f("ix_responses_created_at"))
        batch_op.drop_index(batch_op.f("ix_responses_campaign_id"))

    op.drop_table("responses")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_campaign_id"))

    op.drop_table("invitations")
    op.drop_table("campaign_customers")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaigns_created_at"))

    op.drop_table("campaigns")
