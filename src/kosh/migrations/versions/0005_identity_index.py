"""identity index: the linkage model's record of each person row and its blocking keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 06:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled at ingest and by `kosh identity rebuild` (keys are computed in Python).
    op.create_table('identity_records',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('model', sa.String(length=80), nullable=False),
    sa.Column('indexed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['travel_documents.id'],
                            name=op.f('fk_identity_records_document_id_travel_documents'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_identity_records_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_identity_records'))
    )
    op.create_table('identity_keys',
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_identity_keys_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'person_id', name=op.f('pk_identity_keys'))
    )
    op.create_index(op.f('ix_identity_keys_person_id'), 'identity_keys', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_identity_keys_person_id'), table_name='identity_keys')
    op.drop_table('identity_keys')
    op.drop_table('identity_records')
