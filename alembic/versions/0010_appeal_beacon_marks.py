"""appeal beacon marks (one count per page view) and per-client daily beacon counts

Revision ID: 0010_appeal_beacon_marks
Revises: 0009_outbound_events
Create Date: 2026-11-30 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_appeal_beacon_marks"
down_revision = "0009_outbound_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appeal_beacon_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("view_id", sa.String(length=64), nullable=False),
        sa.Column("placement", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("campaign", sa.String(length=80), nullable=False),
        sa.Column("variant", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_beacon_marks")),
        sa.UniqueConstraint("view_id", "placement", "kind", name="uq_appeal_beacon_marks_key"),
    )
    op.create_index("ix_appeal_beacon_marks_day", "appeal_beacon_marks", ["day"], unique=False)
    op.create_table(
        "appeal_beacon_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_beacon_clients")),
        sa.UniqueConstraint("day", "client", name="uq_appeal_beacon_clients_key"),
    )


def downgrade() -> None:
    op.drop_table("appeal_beacon_clients")
    op.drop_index("ix_appeal_beacon_marks_day", table_name="appeal_beacon_marks")
    op.drop_table("appeal_beacon_marks")
