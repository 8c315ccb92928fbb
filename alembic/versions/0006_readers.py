"""readers: messages sent to readers and single-use sign-in links

Revision ID: 0006_readers
Revises: 0005_appeal_formats
Create Date: 2026-11-30 15:57:59.557949
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.core.models

revision = '0006_readers'
down_revision = '0005_appeal_formats'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reader_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('supporter_id', sa.Integer(), nullable=True),
    sa.Column('template', sa.String(length=50), nullable=False),
    sa.Column('to_email', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'sent', name='message_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', service.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', service.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_reader_messages_supporter_id_supporters'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reader_messages')),
    sa.UniqueConstraint('key', name=op.f('uq_reader_messages_key'))
    )
    with op.batch_alter_table('reader_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reader_messages_supporter_id'), ['supporter_id'], unique=False)

    op.create_table('reader_sign_in_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('supporter_id', sa.Integer(), nullable=False),
    sa.Column('return_url', sa.String(length=2048), nullable=True),
    sa.Column('created_at', service.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', service.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', service.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_reader_sign_in_links_supporter_id_supporters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reader_sign_in_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_reader_sign_in_links_token_hash'))
    )
    with op.batch_alter_table('reader_sign_in_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reader_sign_in_links_supporter_id'), ['supporter_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reader_sign_in_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reader_sign_in_links_supporter_id'))

    op.drop_table('reader_sign_in_links')
    with op.batch_alter_table('reader_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reader_messages_supporter_id'))

    op.drop_table('reader_messages')
