"""host workspace: notification versions, cancellation, departure and idempotency keys

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('host_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('departed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('departure_reported_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('guest_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_host_notifications_cancelled_by_users'), 'users',
                                    ['cancelled_by'], ['id'])
        batch_op.create_unique_constraint('uq_host_notifications_reference_version', ['reference', 'version'])

    op.create_table('host_request_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_sha256', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['host_notifications.id'],
                            name=op.f('fk_host_request_keys_notification_id_host_notifications'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_host_request_keys_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_request_keys')),
    sa.UniqueConstraint('user_id', 'scope', 'key', name='uq_host_request_keys_user_scope_key')
    )


def downgrade() -> None:
    op.drop_table('host_request_keys')
    with op.batch_alter_table('host_notifications', schema=None) as batch_op:
        batch_op.drop_constraint('uq_host_notifications_reference_version', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_host_notifications_cancelled_by_users'), type_='foreignkey')
        batch_op.drop_column('guest_encrypted')
        batch_op.drop_column('departure_reported_at')
        batch_op.drop_column('departed_on')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_by')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('superseded_at')
        batch_op.drop_column('version')
        batch_op.drop_column('reference')
