"""work-permit quota ledger: cells per (year, region, category) and their append-only movements

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 12:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quota_cells',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=9), nullable=False),
    sa.Column('category', sa.String(length=10), nullable=False),
    sa.Column('allowed', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.CheckConstraint('allowed >= 0 AND reserved >= 0 AND used >= 0', name=op.f('ck_quota_cells_non_negative')),
    sa.CheckConstraint('reserved + used <= allowed', name=op.f('ck_quota_cells_within_allowed')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_cells')),
    sa.UniqueConstraint('year', 'region', 'category', name='uq_quota_cells_year_region_category')
    )
    op.create_table('quota_movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cell_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=13), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('allowed_delta', sa.Integer(), nullable=False),
    sa.Column('reserved_delta', sa.Integer(), nullable=False),
    sa.Column('used_delta', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_quota_movements_amount_non_negative')),
    sa.ForeignKeyConstraint(['cell_id'], ['quota_cells.id'], name=op.f('fk_quota_movements_cell_id_quota_cells')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_movements'))
    )
    op.create_index(op.f('ix_quota_movements_cell_id'), 'quota_movements', ['cell_id'], unique=False)
    op.create_index(op.f('ix_quota_movements_reference'), 'quota_movements', ['reference'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_quota_movements_reference'), table_name='quota_movements')
    op.drop_index(op.f('ix_quota_movements_cell_id'), table_name='quota_movements')
    op.drop_table('quota_movements')
    op.drop_table('quota_cells')
