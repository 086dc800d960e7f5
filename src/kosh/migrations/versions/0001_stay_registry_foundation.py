"""stay registry foundation

Revision ID: 0001
Revises:
Create Date: 2026-11-22 02:15:03.451527
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # The chain starts from a genesis MAC of zeros.
    op.bulk_insert(sa.table('audit_head', sa.column('id', sa.Integer), sa.column('seq', sa.Integer),
                            sa.column('mac', sa.String)), [{'id': 1, 'seq': 0, 'mac': '0' * 64}])
    op.create_table('audit_log',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=80), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_mac', sa.String(length=64), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log'))
    )
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('rows_accepted', sa.Integer(), nullable=False),
    sa.Column('rows_duplicate', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('rejects_path', sa.String(length=500), nullable=False),
    sa.Column('started_by', sa.String(length=80), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batches_content_sha256'), ['content_sha256'], unique=False)

    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_username_at', ['username', 'at'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('surname', sa.String(length=200), nullable=False),
    sa.Column('given_names', sa.String(length=200), nullable=False),
    sa.Column('patronymic', sa.String(length=200), nullable=False),
    sa.Column('surname_latin', sa.String(length=200), nullable=False),
    sa.Column('given_names_latin', sa.String(length=200), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.String(length=10), nullable=False),
    sa.Column('birth_date_earliest', sa.Date(), nullable=True),
    sa.Column('citizenship', sa.String(length=3), nullable=False),
    sa.Column('region_kato', sa.String(length=9), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_citizenship'), ['citizenship'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_region_kato'), ['region_kato'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('host_party', sa.String(length=12), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('data_quality_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_data_quality_findings_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_quality_findings')),
    sa.UniqueConstraint('person_id', 'code', 'on', name='uq_findings_person_code_on')
    )
    with op.batch_alter_table('data_quality_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_quality_findings_person_id'), ['person_id'], unique=False)

    op.create_table('person_name_tokens',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('token', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_person_name_tokens_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'token', name=op.f('pk_person_name_tokens'))
    )
    with op.batch_alter_table('person_name_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_person_name_tokens_token_person', ['token', 'person_id'], unique=False)

    op.create_table('person_names',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('full_name', sa.String(length=400), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('search_key', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_person_names_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_names')),
    sa.UniqueConstraint('person_id', 'full_name', name='uq_person_names_person_full')
    )
    with op.batch_alter_table('person_names', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_names_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_names_search_key'), ['search_key'], unique=False)

    op.create_table('residence_permits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_event_id', sa.String(length=100), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=5), nullable=False),
    sa.Column('purpose', sa.String(length=30), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('kato', sa.String(length=9), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_residence_permits_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residence_permits')),
    sa.UniqueConstraint('source_event_id', name='uq_residence_permits_source_event_id')
    )
    with op.batch_alter_table('residence_permits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residence_permits_person_id'), ['person_id'], unique=False)

    op.create_table('stay_status',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('citizenship', sa.String(length=3), nullable=False),
    sa.Column('region_kato', sa.String(length=9), nullable=False),
    sa.Column('in_country', sa.Boolean(), nullable=False),
    sa.Column('current_entry', sa.Date(), nullable=True),
    sa.Column('last_lawful_day', sa.Date(), nullable=True),
    sa.Column('notification_due', sa.Date(), nullable=True),
    sa.Column('rule', sa.String(length=80), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_stay_status_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_stay_status'))
    )
    with op.batch_alter_table('stay_status', schema=None) as batch_op:
        batch_op.create_index('ix_stay_status_region_notification', ['region_kato', 'in_country', 'notification_due'],
                              unique=False)
        batch_op.create_index('ix_stay_status_region_overstay', ['region_kato', 'in_country', 'last_lawful_day'],
                              unique=False)

    op.create_table('travel_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('document_type', sa.String(length=2), nullable=False),
    sa.Column('issuing_state', sa.String(length=3), nullable=False),
    sa.Column('number_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('number_index', sa.String(length=64), nullable=False),
    sa.Column('expiry', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_travel_documents_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_documents')),
    sa.UniqueConstraint('issuing_state', 'number_index', name='uq_travel_documents_state_number')
    )
    with op.batch_alter_table('travel_documents', schema=None) as batch_op:
        batch_op.create_index('ix_travel_documents_number_index', ['number_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_travel_documents_person_id'), ['person_id'], unique=False)

    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('border_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_event_id', sa.String(length=100), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=5), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('checkpoint', sa.String(length=40), nullable=False),
    sa.Column('kato', sa.String(length=9), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_border_events_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['document_id'], ['travel_documents.id'],
                            name=op.f('fk_border_events_document_id_travel_documents'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_border_events_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_border_events')),
    sa.UniqueConstraint('source_event_id', name='uq_border_events_source_event_id')
    )
    with op.batch_alter_table('border_events', schema=None) as batch_op:
        batch_op.create_index('ix_border_events_person_on', ['person_id', 'occurred_on'], unique=False)

    op.create_table('host_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_event_id', sa.String(length=100), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('host_kind', sa.String(length=12), nullable=False),
    sa.Column('host_id_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('host_id_index', sa.String(length=64), nullable=False),
    sa.Column('host_name', sa.String(length=300), nullable=False),
    sa.Column('kato', sa.String(length=9), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('arrival_date', sa.Date(), nullable=False),
    sa.Column('expected_departure', sa.Date(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'],
                            name=op.f('fk_host_notifications_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['document_id'], ['travel_documents.id'],
                            name=op.f('fk_host_notifications_document_id_travel_documents'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_host_notifications_person_id_persons'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_host_notifications_submitted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_notifications')),
    sa.UniqueConstraint('source_event_id', name='uq_host_notifications_source_event_id')
    )
    with op.batch_alter_table('host_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_host_notifications_host_id_index'), ['host_id_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_host_notifications_kato'), ['kato'], unique=False)
        batch_op.create_index('ix_host_notifications_person_arrival', ['person_id', 'arrival_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_host_notifications_submitted_by'), ['submitted_by'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('host_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_host_notifications_submitted_by'))
        batch_op.drop_index('ix_host_notifications_person_arrival')
        batch_op.drop_index(batch_op.f('ix_host_notifications_kato'))
        batch_op.drop_index(batch_op.f('ix_host_notifications_host_id_index'))

    op.drop_table('host_notifications')
    with op.batch_alter_table('border_events', schema=None) as batch_op:
        batch_op.drop_index('ix_border_events_person_on')

    op.drop_table('border_events')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))

    op.drop_table('web_sessions')
    with op.batch_alter_table('travel_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_travel_documents_person_id'))
        batch_op.drop_index('ix_travel_documents_number_index')

    op.drop_table('travel_documents')
    with op.batch_alter_table('stay_status', schema=None) as batch_op:
        batch_op.drop_index('ix_stay_status_region_overstay')
        batch_op.drop_index('ix_stay_status_region_notification')

    op.drop_table('stay_status')
    with op.batch_alter_table('residence_permits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_residence_permits_person_id'))

    op.drop_table('residence_permits')
    with op.batch_alter_table('person_names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_names_search_key'))
        batch_op.drop_index(batch_op.f('ix_person_names_person_id'))

    op.drop_table('person_names')
    with op.batch_alter_table('person_name_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_person_name_tokens_token_person')

    op.drop_table('person_name_tokens')
    with op.batch_alter_table('data_quality_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_quality_findings_person_id'))

    op.drop_table('data_quality_findings')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_region_kato'))
        batch_op.drop_index(batch_op.f('ix_persons_citizenship'))

    op.drop_table('persons')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username_at')

    op.drop_table('login_attempts')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batches_content_sha256'))

    op.drop_table('import_batches')
    op.drop_table('audit_log')
    op.drop_table('audit_head')
