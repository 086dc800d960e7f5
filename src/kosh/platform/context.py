"""The running installation: settings, database engine, keys and jurisdiction pack."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kosh.platform import db
from kosh.platform.config import Settings, get_settings
from kosh.platform.crypto import Keyring, load_keyring

if TYPE_CHECKING:
    from kosh.jurisdictions import JurisdictionPack


@dataclass
class Context:
    settings: Settings
    engine: Engine
    keyring: Keyring

    @cached_property
    def pack(self) -> JurisdictionPack:
        from kosh.jurisdictions import load_pack

        return load_pack(self.settings.jurisdiction)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with db.transaction(self.engine) as session:
            yield session


def open_context(settings: Settings | None = None, *, create_keys: bool = False, upgrade: bool = True) -> Context:
    settings = settings or get_settings()
    engine = db.engine_for(settings.resolved_database_url)
    keyring = load_keyring(settings.resolved_key_file, create=create_keys)
    if upgrade:
        db.upgrade(engine)
    return Context(settings=settings, engine=engine, keyring=keyring)
