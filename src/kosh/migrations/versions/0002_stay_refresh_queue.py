"""stay refresh queue: bulk imports recompute stay status once per person at their end

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:05:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stay_refresh_queue',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_stay_refresh_queue_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_stay_refresh_queue'))
    )


def downgrade() -> None:
    op.drop_table('stay_refresh_queue')
