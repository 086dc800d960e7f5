"""stay violations recorded per person (overstays and missed notifications)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stay_violations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('ongoing', sa.Boolean(), nullable=False),
    sa.Column('stay_entry', sa.Date(), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('filed', sa.Date(), nullable=True),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_stay_violations_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stay_violations'))
    )
    with op.batch_alter_table('stay_violations', schema=None) as batch_op:
        batch_op.create_index('ix_stay_violations_kind_days', ['kind', 'first_day', 'last_day'], unique=False)
        batch_op.create_index(batch_op.f('ix_stay_violations_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stay_violations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stay_violations_person_id'))
        batch_op.drop_index('ix_stay_violations_kind_days')
    op.drop_table('stay_violations')
