"""search by part of a document number: keyed hashes of each 4+-character run of a number

Document numbers are stored encrypted, with a keyed hash of the whole number for exact search.
travel_document_parts holds a keyed hash of every run of 4 or more consecutive characters of
each normalised number (never a character of it), so that a part an officer types is one index
lookup. Existing documents are indexed here: their numbers are decrypted with the installation's
keys (from the Alembic config's "keyring" attribute, else KOSH_KEYS or the key file); a database
with no documents needs no keys.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:00:00
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from kosh.platform.crypto import Keyring

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# Copies of kosh.people.service's contexts and run length (a migration must not change with the code).
DOC_CONTEXT = "travel_document"
PART_CONTEXT = "travel_document_part"
MIN_PART = 4

documents = sa.table("travel_documents", sa.column("id", sa.Integer), sa.column("issuing_state", sa.String),
                     sa.column("number_encrypted", sa.LargeBinary))


def _keyring() -> Keyring:
    config = op.get_context().config
    keyring: Keyring | None = config.attributes.get("keyring") if config else None
    if keyring is not None:
        return keyring
    from kosh.platform.config import get_settings
    from kosh.platform.crypto import load_keyring

    return load_keyring(get_settings().resolved_key_file)


def _runs(number: str) -> set[str]:
    return {number[i:j] for i in range(len(number)) for j in range(i + MIN_PART, len(number) + 1)}


def upgrade() -> None:
    parts = op.create_table(
        'travel_document_parts',
        sa.Column('part_index', sa.String(length=32), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['travel_documents.id'],
                                name=op.f('fk_travel_document_parts_document_id_travel_documents'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('part_index', 'document_id', name=op.f('pk_travel_document_parts')),
    )
    op.create_index('ix_travel_document_parts_document_id', 'travel_document_parts', ['document_id'], unique=False)
    conn = op.get_bind()
    last, keyring = 0, None
    while True:  # in batches: a national registry holds millions of documents
        rows = conn.execute(sa.select(documents.c.id, documents.c.issuing_state, documents.c.number_encrypted)
                            .where(documents.c.id > last).order_by(documents.c.id).limit(5000)).all()
        if not rows:
            return
        keyring = keyring or _keyring()
        batch = []
        for doc_id, state, blob in rows:
            number = keyring.decrypt(blob, f"{DOC_CONTEXT}:{state}")
            batch += [{"part_index": keyring.blind_index(run, PART_CONTEXT)[:32], "document_id": doc_id}
                      for run in sorted(_runs(number))]
        if batch:
            conn.execute(parts.insert(), batch)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index('ix_travel_document_parts_document_id', table_name='travel_document_parts')
    op.drop_table('travel_document_parts')
