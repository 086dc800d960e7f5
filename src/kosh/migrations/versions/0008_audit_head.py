"""audit head: a tag (HMAC under the audit key) that authenticates the chain's head row

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 04:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty until the next append: a migration has no key. A head at a record and left untagged
    # is reported by `kosh audit verify`, and `kosh audit seal` tags it after checking the chain.
    # ADD COLUMN (not a batch copy of the table) on both databases: it keeps the row as it is.
    op.add_column('audit_head', sa.Column('tag', sa.String(length=64), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('audit_head') as batch_op:
        batch_op.drop_column('tag')
