"""donation fees: Stripe's fee and net per payment; campaign revenue read from an index

Revision ID: 0007_donation_fees
Revises: 0006_readers
Create Date: 2026-11-30 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_donation_fees"
down_revision = "0006_readers"
branch_labels = None
depends_on = None

ATTRIBUTED = "ix_donations_attributed_paid_at"
ATTRIBUTED_WHERE = {
    "postgresql_where": sa.text("campaign IS NOT NULL"),
    "sqlite_where": sa.text("campaign IS NOT NULL"),
}
OLD_INCLUDE = ["campaign", "variant", "placement", "frequency"]
NEW_INCLUDE = [*OLD_INCLUDE, "currency", "status", "amount_minor", "amount_refunded_minor"]


def _attributed_index(batch_op: object, include: list[str]) -> None:
    # The campaign revenue report sums amounts per campaign: with them in the index it
    # stays an index-only scan.
    batch_op.drop_index(ATTRIBUTED)  # type: ignore[attr-defined]
    batch_op.create_index(  # type: ignore[attr-defined]
        ATTRIBUTED, ["paid_at"], unique=False, postgresql_include=include, **ATTRIBUTED_WHERE
    )


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
        _attributed_index(batch_op, NEW_INCLUDE)


def downgrade() -> None:
    with op.batch_alter_table("donations", schema=None) as batch_op:
        _attributed_index(batch_op, OLD_INCLUDE)
        batch_op.drop_index("ix_donations_paid_at_fees")
        batch_op.drop_column("net_minor")
        batch_op.drop_column("fee_minor")
