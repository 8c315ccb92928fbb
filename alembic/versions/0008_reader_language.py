"""reader language: the language a reader gave in, for the emails we write them

Revision ID: 0008_reader_language
Revises: 0007_donation_fees
Create Date: 2026-11-30 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_reader_language"
down_revision = "0007_donation_fees"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkout_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=12), nullable=True))
    with op.batch_alter_table("supporters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("supporters", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("checkout_attempts", schema=None) as batch_op:
        batch_op.drop_column("language")
