"""trend snapshots: the supporter count and recurring revenue at the end of each day

Revision ID: 0008_trend_snapshots
Revises: 0007_donation_fees
Create Date: 2026-11-30 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.core.models import UTCDateTime

revision = "0008_trend_snapshots"
down_revision = "0007_donation_fees"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_snapshots",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("supporters", sa.Integer(), nullable=False),
        sa.Column("displayed_supporters", sa.Integer(), nullable=False),
        sa.Column("active_recurring", sa.Integer(), nullable=False),
        sa.Column("recurring_monthly_minor", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("daily_snapshots")
