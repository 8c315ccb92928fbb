"""donation fees: Stripe's fee and net per payment, from its balance transaction

Revision ID: 0005_donation_fees
Revises: 0004_site_texts
Create Date: 2026-11-30 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_donation_fees"
down_revision = "0004_site_texts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fee_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("net_minor", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_donations_paid_at_fees",
            ["paid_at"],
            unique=False,
            postgresql_include=["currency", "amount_minor", "fee_minor", "net_minor"],
        )


def downgrade() -> None:
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.drop_index("ix_donations_paid_at_fees")
        batch_op.drop_column("net_minor")
        batch_op.drop_column("fee_minor")
