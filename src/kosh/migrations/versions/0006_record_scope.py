"""record scope: every record read in its own region; break-glass grants; registering notifications

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:00:00

Documents (in document_regions), spellings and search tokens carry the regions of the records
that brought them, a
person the region of their first record, a notification whether it registers the person.
Existing rows take the person's registered region (the best the old schema knows).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _add_text(table: str, column: str) -> None:
    # Plain ADD COLUMN (never a copy-and-rename of a table other rows refer to; see 0003).
    op.add_column(table, sa.Column(column, sa.String(length=9), nullable=False, server_default=''))


def upgrade() -> None:
    bind = op.get_bind()
    _add_text('persons', 'origin_kato')
    _add_text('person_names', 'kato')
    op.add_column('host_notifications', sa.Column('registers', sa.Boolean(), nullable=False,
                                                  server_default=sa.true()))
    op.execute("UPDATE persons SET origin_kato = region_kato")
    op.create_table('document_regions',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('kato', sa.String(length=9), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['travel_documents.id'],
                            name=op.f('fk_document_regions_document_id_travel_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', 'kato', name=op.f('pk_document_regions'))
    )
    op.execute("INSERT INTO document_regions (document_id, kato) SELECT d.id, p.region_kato "
               "FROM travel_documents d JOIN persons p ON p.id = d.person_id")
    op.execute("UPDATE person_names SET kato = (SELECT p.region_kato FROM persons p "
               "WHERE p.id = person_names.person_id)")
    # Nothing refers to person_names or person_name_tokens, so rebuilding them is safe on SQLite.
    with op.batch_alter_table('person_names', schema=None) as batch_op:
        batch_op.drop_constraint('uq_person_names_person_full', type_='unique')
        batch_op.create_unique_constraint('uq_person_names_person_full_kato', ['person_id', 'full_name', 'kato'])
        batch_op.create_index('ix_person_names_person_kato', ['person_id', 'kato'], unique=False)
    op.create_table('person_name_tokens_scoped',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('token', sa.String(length=100), nullable=False),
    sa.Column('kato', sa.String(length=9), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name='fk_person_name_tokens_person_id_persons',
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'token', 'kato', name='pk_person_name_tokens_scoped')
    )
    op.execute("INSERT INTO person_name_tokens_scoped (person_id, token, kato) "
               "SELECT t.person_id, t.token, p.region_kato "
               "FROM person_name_tokens t JOIN persons p ON p.id = t.person_id")
    op.drop_index('ix_person_name_tokens_token_person', table_name='person_name_tokens')
    op.drop_table('person_name_tokens')
    op.rename_table('person_name_tokens_scoped', 'person_name_tokens')
    if bind.dialect.name == 'postgresql':
        op.execute('ALTER TABLE person_name_tokens RENAME CONSTRAINT pk_person_name_tokens_scoped '
                   'TO pk_person_name_tokens')
    else:
        # SQLite keeps constraint names inside the table's SQL: rebuild once more under the final name.
        with op.batch_alter_table('person_name_tokens', schema=None, recreate='always') as batch_op:
            batch_op.drop_constraint('pk_person_name_tokens_scoped', type_='primary')
            batch_op.create_primary_key('pk_person_name_tokens', ['person_id', 'token', 'kato'])
    op.create_index('ix_person_name_tokens_token_person', 'person_name_tokens', ['token', 'person_id'], unique=False)
    op.create_table('break_glass_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_break_glass_grants_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_break_glass_grants'))
    )
    op.create_index('ix_break_glass_grants_user_person', 'break_glass_grants', ['user_id', 'person_id', 'expires_at'],
                    unique=False)
    op.create_index(op.f('ix_break_glass_grants_person_id'), 'break_glass_grants', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_break_glass_grants_person_id'), table_name='break_glass_grants')
    op.drop_index('ix_break_glass_grants_user_person', table_name='break_glass_grants')
    op.drop_table('break_glass_grants')
    op.create_table('person_name_tokens_plain',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('token', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name='fk_person_name_tokens_person_id_persons',
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'token', name='pk_person_name_tokens_plain')
    )
    op.execute("INSERT INTO person_name_tokens_plain (person_id, token) "
               "SELECT DISTINCT person_id, token FROM person_name_tokens")
    op.drop_index('ix_person_name_tokens_token_person', table_name='person_name_tokens')
    op.drop_table('person_name_tokens')
    op.rename_table('person_name_tokens_plain', 'person_name_tokens')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE person_name_tokens RENAME CONSTRAINT pk_person_name_tokens_plain '
                   'TO pk_person_name_tokens')
    else:
        with op.batch_alter_table('person_name_tokens', schema=None, recreate='always') as batch_op:
            batch_op.drop_constraint('pk_person_name_tokens_plain', type_='primary')
            batch_op.create_primary_key('pk_person_name_tokens', ['person_id', 'token'])
    op.create_index('ix_person_name_tokens_token_person', 'person_name_tokens', ['token', 'person_id'], unique=False)
    # Spellings recorded in several regions become one again.
    op.execute("DELETE FROM person_names WHERE id NOT IN "
               "(SELECT min(id) FROM person_names GROUP BY person_id, full_name)")
    with op.batch_alter_table('person_names', schema=None) as batch_op:
        batch_op.drop_index('ix_person_names_person_kato')
        batch_op.drop_constraint('uq_person_names_person_full_kato', type_='unique')
        batch_op.create_unique_constraint('uq_person_names_person_full', ['person_id', 'full_name'])
        batch_op.drop_column('kato')
    op.drop_column('host_notifications', 'registers')
    op.drop_table('document_regions')
    op.drop_column('persons', 'origin_kato')
