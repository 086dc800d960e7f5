"""accounts: host IINs/BINs of users encrypted, token revocation time, login attempts by client

users.host_party (plain text) becomes host_party_encrypted (AES-GCM) and host_party_index
(keyed hash), converted row by row. The keys come from the Alembic config's "keyring"
attribute when the caller hands one over, else from the installation's settings (KOSH_KEYS
or the key file), as `open_context` loads them just before upgrading; a database with no
host users needs no keys.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:00:00
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from kosh.platform.crypto import Keyring

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


# Equal to kosh.platform.auth.HOST_PARTY_CONTEXT (a copy: a migration must not change with the code).
HOST_PARTY_CONTEXT = "host_id"

users = sa.table("users", sa.column("id", sa.Integer), sa.column("host_party", sa.String),
                 sa.column("host_party_encrypted", sa.LargeBinary), sa.column("host_party_index", sa.String))


def _keyring() -> Keyring:
    config = op.get_context().config
    keyring: Keyring | None = config.attributes.get("keyring") if config else None
    if keyring is not None:
        return keyring
    from kosh.platform.config import get_settings
    from kosh.platform.crypto import load_keyring

    return load_keyring(get_settings().resolved_key_file)


def upgrade() -> None:
    op.add_column("users", sa.Column("host_party_encrypted", sa.LargeBinary(), nullable=True))
    op.add_column("users", sa.Column("host_party_index", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_users_host_party_index"), "users", ["host_party_index"], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.id, users.c.host_party).where(users.c.host_party.is_not(None))).all()
    if rows:
        keyring = _keyring()
        for user_id, party in rows:
            conn.execute(users.update().where(users.c.id == user_id).values(
                host_party_encrypted=keyring.encrypt(party, HOST_PARTY_CONTEXT),
                host_party_index=keyring.blind_index(party, HOST_PARTY_CONTEXT)))
    # A plain DROP COLUMN (SQLite 3.35+), not a batch copy: rebuilding users would cascade-delete
    # the sessions and tokens that refer to it.
    op.drop_column("users", "host_party")

    op.add_column("api_tokens", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_login_attempts_client_at", "login_attempts", ["client", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_login_attempts_client_at", table_name="login_attempts")
    op.drop_column("api_tokens", "revoked_at")
    op.add_column("users", sa.Column("host_party", sa.String(length=12), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.id, users.c.host_party_encrypted)
                        .where(users.c.host_party_encrypted.is_not(None))).all()
    if rows:
        keyring = _keyring()
        for user_id, blob in rows:
            conn.execute(users.update().where(users.c.id == user_id).values(
                host_party=keyring.decrypt(blob, HOST_PARTY_CONTEXT)))
    op.drop_index(op.f("ix_users_host_party_index"), table_name="users")
    op.drop_column("users", "host_party_index")
    op.drop_column("users", "host_party_encrypted")
