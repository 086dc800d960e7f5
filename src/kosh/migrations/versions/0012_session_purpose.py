"""purpose of access kept with a web session

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The purpose an officer, auditor or analyst stated for this session (a case number and why);
    # written to every audit record the session makes. Empty until stated.
    op.add_column('web_sessions', sa.Column('purpose', sa.String(length=200), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('web_sessions') as batch:
        batch.drop_column('purpose')
