"""asks per campaign variant and currency, the country -> currency map, fee cover

Revision ID: 0016_asks_and_currencies
Revises: 0015_reader_language
Create Date: 2026-11-30 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_asks_and_currencies"
down_revision = "0015_reader_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_asks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("frequencies", sa.JSON(), nullable=False),
        sa.Column("default_frequency", sa.String(length=10), nullable=False),
        sa.Column("amounts", sa.JSON(), nullable=False),
        sa.Column("default_amounts", sa.JSON(), nullable=False),
        sa.Column("minimum_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "length(currency) = 3 AND currency = lower(currency)",
            name=op.f("ck_campaign_asks_currency"),
        ),
        sa.CheckConstraint("minimum_minor > 0", name=op.f("ck_campaign_asks_minimum_positive")),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["campaign_variants.id"],
            name=op.f("fk_campaign_asks_variant_id_campaign_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_asks")),
        sa.UniqueConstraint("variant_id", "currency", name="uq_campaign_asks_variant_currency"),
    )
    op.create_table(
        "country_currencies",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint(
            "length(currency) = 3 AND currency = lower(currency)",
            name=op.f("ck_country_currencies_currency"),
        ),
        sa.PrimaryKeyConstraint("country", name=op.f("pk_country_currencies")),
    )
    with op.batch_alter_table("checkout_attempts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fee_cover_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("checkout_attempts", schema=None) as batch_op:
        batch_op.alter_column("fee_cover_minor", server_default=None)
        batch_op.create_check_constraint(
            op.f("ck_checkout_attempts_fee_cover_in_amount"),
            "fee_cover_minor >= 0 AND fee_cover_minor < amount_minor",
        )


def downgrade() -> None:
    with op.batch_alter_table("checkout_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_checkout_attempts_fee_cover_in_amount"), type_="check")
        batch_op.drop_column("fee_cover_minor")
    op.drop_table("country_currencies")
    op.drop_table("campaign_asks")
