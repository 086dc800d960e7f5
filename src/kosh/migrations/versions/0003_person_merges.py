"""person merges: merged persons keep their id as an alias; merges record what moved

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:25:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch (copy-and-rename) operation: on SQLite, dropping the old
    # `persons` table with foreign keys on would cascade-delete every row that refers to a person.
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        # (A downgrade on SQLite leaves the column in place; then it is there already.)
        if 'merged_into' not in {c['name'] for c in sa.inspect(bind).get_columns('persons')}:
            op.execute('ALTER TABLE persons ADD COLUMN merged_into VARCHAR(36) '
                       'CONSTRAINT fk_persons_merged_into_persons REFERENCES persons (id)')
    else:
        op.add_column('persons', sa.Column('merged_into', sa.String(length=36), nullable=True))
        op.create_foreign_key(op.f('fk_persons_merged_into_persons'), 'persons', 'persons', ['merged_into'], ['id'])
    op.create_index(op.f('ix_persons_merged_into'), 'persons', ['merged_into'], unique=False)
    op.create_table('person_merges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kept_id', sa.String(length=36), nullable=False),
    sa.Column('merged_id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('moved', sa.Text(), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.String(length=80), nullable=True),
    sa.Column('undo_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['kept_id'], ['persons.id'], name=op.f('fk_person_merges_kept_id_persons')),
    sa.ForeignKeyConstraint(['merged_id'], ['persons.id'], name=op.f('fk_person_merges_merged_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_merges'))
    )
    with op.batch_alter_table('person_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_merges_kept_id'), ['kept_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_merges_merged_id'), ['merged_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('person_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_merges_merged_id'))
        batch_op.drop_index(batch_op.f('ix_person_merges_kept_id'))
    op.drop_table('person_merges')
    op.drop_index(op.f('ix_persons_merged_into'), table_name='persons')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite (3.35+) drops a column without rebuilding the table, but not one with a
        # REFERENCES clause; leave it in place there (the downgrade of a development database).
        return
    op.drop_constraint(op.f('fk_persons_merged_into_persons'), 'persons', type_='foreignkey')
    op.drop_column('persons', 'merged_into')
