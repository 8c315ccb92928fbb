"""reader language: the language a reader gave in (for our emails), campaign copy per language

Revision ID: 0015_reader_language
Revises: 0014_donation_payouts
Create Date: 2026-11-30 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_reader_language"
down_revision = "0014_donation_payouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkout_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=12), nullable=True))
    with op.batch_alter_table("supporters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=12), nullable=True))
    op.create_table(
        "appeal_copy_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=12), nullable=False),
        sa.Column("heading", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("cta", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["copy_id"], ["appeal_copies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("copy_id", "language", name="uq_appeal_copy_translations_language"),
    )


def downgrade() -> None:
    op.drop_table("appeal_copy_translations")
    with op.batch_alter_table("supporters", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("checkout_attempts", schema=None) as batch_op:
        batch_op.drop_column("language")
