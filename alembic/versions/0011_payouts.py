"""payouts: each Stripe payout and the balance transactions it paid out

Revision ID: 0011_payouts
Revises: 0010_appeal_beacon_marks
Create Date: 2026-11-30 18:14:05.109573
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.core.models

revision = '0011_payouts'
down_revision = '0010_appeal_beacon_marks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stripe_payout_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('arrival_at', service.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stripe_created_at', service.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('failure_code', sa.String(length=60), nullable=True),
    sa.Column('failure_message', sa.Text(), nullable=True),
    sa.Column('stripe_state_at', service.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('contents_at', service.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('gifts', sa.Integer(), nullable=False),
    sa.Column('gifts_ours', sa.Integer(), nullable=False),
    sa.Column('gross_minor', sa.BigInteger(), nullable=False),
    sa.Column('refunds_minor', sa.BigInteger(), nullable=False),
    sa.Column('disputes_minor', sa.BigInteger(), nullable=False),
    sa.Column('fees_minor', sa.BigInteger(), nullable=False),
    sa.Column('other_minor', sa.BigInteger(), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.Column('created_at', service.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(currency) = 3 AND currency = lower(currency)', name=op.f('ck_payouts_currency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('stripe_payout_id', name=op.f('uq_payouts_stripe_payout_id'))
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index('ix_payouts_arrival_at', ['arrival_at'], unique=False)
        batch_op.create_index('ix_payouts_stripe_created_at', ['stripe_created_at'], unique=False)

    op.create_table('payout_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payout_id', sa.Integer(), nullable=False),
    sa.Column('stripe_balance_transaction_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('reporting_category', sa.String(length=60), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('stripe_source_id', sa.String(length=255), nullable=True),
    sa.Column('stripe_charge_id', sa.String(length=255), nullable=True),
    sa.Column('donation_id', sa.Integer(), nullable=True),
    sa.Column('stripe_created_at', service.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(currency) = 3 AND currency = lower(currency)', name=op.f('ck_payout_items_currency')),
    sa.CheckConstraint('net_minor = amount_minor - fee_minor', name=op.f('ck_payout_items_net_is_amount_less_fee')),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_payout_items_donation_id_donations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_payout_items_payout_id_payouts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_items')),
    sa.UniqueConstraint('stripe_balance_transaction_id', name=op.f('uq_payout_items_stripe_balance_transaction_id'))
    )
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_items_donation_id'), ['donation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_items_payout_id'), ['payout_id'], unique=False)
        batch_op.create_index('ix_payout_items_payout_failures', ['stripe_source_id'], unique=False, postgresql_where=sa.text("type = 'payout_failure'"), sqlite_where=sa.text("type = 'payout_failure'"))



def downgrade() -> None:
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.drop_index('ix_payout_items_payout_failures')
        batch_op.drop_index(batch_op.f('ix_payout_items_payout_id'))
        batch_op.drop_index(batch_op.f('ix_payout_items_donation_id'))

    op.drop_table('payout_items')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index('ix_payouts_stripe_created_at')
        batch_op.drop_index('ix_payouts_arrival_at')

    op.drop_table('payouts')
