"""identity candidates: the review queue of pairs that may be one person

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 05:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Candidate pairs are blocked on the birth date.
    op.create_index(op.f('ix_persons_birth_date'), 'persons', ['birth_date'], unique=False)
    op.create_table('identity_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_a', sa.String(length=36), nullable=False),
    sa.Column('person_b', sa.String(length=36), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('scorer', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('merge_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['merge_id'], ['person_merges.id'],
                            name=op.f('fk_identity_candidates_merge_id_person_merges')),
    sa.ForeignKeyConstraint(['person_a'], ['persons.id'], name=op.f('fk_identity_candidates_person_a_persons')),
    sa.ForeignKeyConstraint(['person_b'], ['persons.id'], name=op.f('fk_identity_candidates_person_b_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_candidates')),
    sa.UniqueConstraint('person_a', 'person_b', name='uq_identity_candidates_pair')
    )
    with op.batch_alter_table('identity_candidates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_candidates_person_b'), ['person_b'], unique=False)
        batch_op.create_index('ix_identity_candidates_status_weight', ['status', 'weight'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('identity_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_identity_candidates_status_weight')
        batch_op.drop_index(batch_op.f('ix_identity_candidates_person_b'))
    op.drop_table('identity_candidates')
    op.drop_index(op.f('ix_persons_birth_date'), table_name='persons')
