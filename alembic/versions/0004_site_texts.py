"""site texts: the /support heading and introduction staff edit, per language

Revision ID: 0004_site_texts
Revises: 0003_annual_gifts
Create Date: 2026-11-30 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.core.models

revision = "0004_site_texts"
down_revision = "0003_annual_gifts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("language", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_texts")),
        sa.UniqueConstraint("key", "language", name="uq_site_texts_key_language"),
    )


def downgrade() -> None:
    op.drop_table("site_texts")
