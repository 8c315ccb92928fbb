"""donation payouts: which payout paid each payment out, in the money report's index

Revision ID: 0014_donation_payouts
Revises: 0013_money_currency_index
Create Date: 2026-11-30 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_donation_payouts"
down_revision = "0013_money_currency_index"
branch_labels = None
depends_on = None

INDEX = "ix_donations_paid_at_fees"
OLD_INCLUDE = ["currency", "amount_minor", "fee_minor", "net_minor"]


def upgrade() -> None:
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payout_id", sa.Integer(), nullable=True))
        # The month end reads which of a month's payments no payout took from this index.
        batch_op.drop_index(INDEX)
        batch_op.create_index(
            INDEX, ["paid_at"], unique=False, postgresql_include=[*OLD_INCLUDE, "payout_id"]
        )
    # Payments already in a payout the ledger read.
    op.execute(
        "UPDATE donations SET payout_id = (SELECT payout_items.payout_id FROM payout_items "
        "WHERE payout_items.donation_id = donations.id AND payout_items.kind = 'gift' "
        "ORDER BY payout_items.id DESC LIMIT 1) "
        "WHERE EXISTS (SELECT 1 FROM payout_items WHERE payout_items.donation_id = donations.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_index(INDEX, ["paid_at"], unique=False, postgresql_include=OLD_INCLUDE)
        batch_op.drop_column("payout_id")
