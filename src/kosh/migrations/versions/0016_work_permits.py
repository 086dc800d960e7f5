"""work permits: employers, permits with their workers and steps, household prepayments

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('employers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_index', sa.String(length=64), nullable=False),
    sa.Column('party_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=2), nullable=False),
    sa.Column('sector', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employers')),
    sa.UniqueConstraint('party_index', name=op.f('uq_employers_party_index'))
    )
    op.create_table('work_permits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=30), nullable=False),
    sa.Column('category', sa.String(length=10), nullable=False),
    sa.Column('occupation', sa.String(length=4), nullable=False),
    sa.Column('vacancy_code', sa.String(length=40), nullable=False),
    sa.Column('vacancy_posted_on', sa.Date(), nullable=True),
    sa.Column('certificate', sa.String(length=40), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('staff_total', sa.Integer(), nullable=False),
    sa.Column('staff_citizens', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=True),
    sa.Column('decide_by', sa.Date(), nullable=True),
    sa.Column('reserved_until', sa.Date(), nullable=True),
    sa.Column('approved_on', sa.Date(), nullable=True),
    sa.Column('fee_due_on', sa.Date(), nullable=True),
    sa.Column('fee_paid_on', sa.Date(), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('extensions', sa.Integer(), nullable=False),
    sa.Column('reason_code', sa.String(length=30), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_work_permits_employer_id_employers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_permits')),
    sa.UniqueConstraint('reference', name=op.f('uq_work_permits_reference'))
    )
    op.create_index(op.f('ix_work_permits_employer_id'), 'work_permits', ['employer_id'], unique=False)
    op.create_index(op.f('ix_work_permits_state'), 'work_permits', ['state'], unique=False)
    op.create_table('household_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('amount_kzt', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('payment_ref', sa.String(length=60), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['permit_id'], ['work_permits.id'],
                            name=op.f('fk_household_payments_permit_id_work_permits'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_payments')),
    sa.UniqueConstraint('payment_ref', name='uq_household_payments_payment_ref'),
    sa.UniqueConstraint('permit_id', 'month', name='uq_household_payments_permit_month')
    )
    op.create_index(op.f('ix_household_payments_permit_id'), 'household_payments', ['permit_id'], unique=False)
    op.create_table('work_permit_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('from_state', sa.String(length=12), nullable=False),
    sa.Column('to_state', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('reason_code', sa.String(length=30), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['permit_id'], ['work_permits.id'],
                            name=op.f('fk_work_permit_actions_permit_id_work_permits'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_permit_actions'))
    )
    op.create_index(op.f('ix_work_permit_actions_permit_id'), 'work_permit_actions', ['permit_id'], unique=False)
    op.create_table('work_permit_workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('region', sa.String(length=2), nullable=False),
    sa.Column('citizenship', sa.String(length=3), nullable=False),
    sa.Column('details_encrypted', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['permit_id'], ['work_permits.id'],
                            name=op.f('fk_work_permit_workers_permit_id_work_permits'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_work_permit_workers_person_id_persons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_permit_workers')),
    sa.UniqueConstraint('permit_id', 'person_id', name='uq_work_permit_workers_permit_person')
    )
    op.create_index(op.f('ix_work_permit_workers_permit_id'), 'work_permit_workers', ['permit_id'], unique=False)
    op.create_index(op.f('ix_work_permit_workers_person_id'), 'work_permit_workers', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_work_permit_workers_person_id'), table_name='work_permit_workers')
    op.drop_index(op.f('ix_work_permit_workers_permit_id'), table_name='work_permit_workers')
    op.drop_table('work_permit_workers')
    op.drop_index(op.f('ix_work_permit_actions_permit_id'), table_name='work_permit_actions')
    op.drop_table('work_permit_actions')
    op.drop_index(op.f('ix_household_payments_permit_id'), table_name='household_payments')
    op.drop_table('household_payments')
    op.drop_index(op.f('ix_work_permits_state'), table_name='work_permits')
    op.drop_index(op.f('ix_work_permits_employer_id'), table_name='work_permits')
    op.drop_table('work_permits')
    op.drop_table('employers')
