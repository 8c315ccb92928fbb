"""money currency index: the money report for one currency reads that currency's payments

Revision ID: 0013_money_currency_index
Revises: 0012_staff_sessions
Create Date: 2026-11-30 18:55:00
"""

from __future__ import annotations

from alembic import op

revision = "0013_money_currency_index"
down_revision = "0012_staff_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_donations_currency_paid_at",
            ["currency", "paid_at"],
            unique=False,
            postgresql_include=["amount_minor", "fee_minor", "net_minor"],
        )


def downgrade() -> None:
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.drop_index("ix_donations_currency_paid_at")
