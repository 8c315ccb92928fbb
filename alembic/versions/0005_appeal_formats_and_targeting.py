"""appeal formats, frequency caps and audience targeting

Revision ID: 0005_appeal_formats
Revises: 0004_site_texts
Create Date: 2026-11-30 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_appeal_formats'
down_revision = '0004_site_texts'
branch_labels = None
depends_on = None

# Existing campaigns keep what they did: inline boxes, no caps, everyone.
_LISTS = {
    'formats': '["inline"]',
    'devices': '[]',
    'referrers': '[]',
    'countries': '[]',
    'donor_states': '[]',
}


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        for name, default in _LISTS.items():
            batch_op.add_column(sa.Column(name, sa.JSON(), nullable=False, server_default=default))
        batch_op.add_column(sa.Column('max_views', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('views_days', sa.Integer(), nullable=False, server_default='30'))
        batch_op.add_column(sa.Column('max_dismissals', sa.Integer(), nullable=True))
    # The defaults only filled existing rows; the models set them on new ones.
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        for name in (*_LISTS, 'views_days'):
            batch_op.alter_column(name, server_default=None)
        batch_op.create_check_constraint(
            op.f('ck_campaigns_max_views_positive'), 'max_views IS NULL OR max_views > 0'
        )
        batch_op.create_check_constraint(op.f('ck_campaigns_views_days_positive'), 'views_days > 0')
        batch_op.create_check_constraint(
            op.f('ck_campaigns_max_dismissals_positive'),
            'max_dismissals IS NULL OR max_dismissals > 0',
        )
    with op.batch_alter_table('appeal_copies', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_appeal_copies_placement'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_appeal_copies_placement'),
            "placement IN ('top', 'bottom', 'banner', 'header')",
        )


def downgrade() -> None:
    op.execute("DELETE FROM appeal_copies WHERE placement IN ('banner', 'header')")
    with op.batch_alter_table('appeal_copies', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_appeal_copies_placement'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_appeal_copies_placement'), "placement IN ('top', 'bottom')"
        )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_campaigns_max_dismissals_positive'), type_='check')
        batch_op.drop_constraint(op.f('ck_campaigns_views_days_positive'), type_='check')
        batch_op.drop_constraint(op.f('ck_campaigns_max_views_positive'), type_='check')
        for name in ('max_dismissals', 'views_days', 'max_views', *reversed(_LISTS)):
            batch_op.drop_column(name)
