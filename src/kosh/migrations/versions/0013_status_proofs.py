"""status proofs: share codes a migrant takes from the public status page

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('status_proofs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lookup', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('snapshot_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_status_proofs_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_proofs')),
    sa.UniqueConstraint('lookup', name=op.f('uq_status_proofs_lookup'))
    )
    op.create_index(op.f('ix_status_proofs_person_id'), 'status_proofs', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_status_proofs_person_id'), table_name='status_proofs')
    op.drop_table('status_proofs')
