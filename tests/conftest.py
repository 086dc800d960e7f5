"""Fixtures: every service test runs on SQLite and on PostgreSQL.

PostgreSQL comes from KOSH_TEST_POSTGRES_URL (default: the local server's `test` database);
each test run gets its own schema. Without a server the PostgreSQL cases are skipped, except
under CI=true, where its absence fails the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from kosh.platform import db, orm
from kosh.platform.config import Settings
from kosh.platform.context import Context
from kosh.platform.crypto import Keyring

PG_URL = os.environ.get("KOSH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "kosh.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine():
    schema = f"kosh_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI but unreachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}")
    engine = sa.create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"}, pool_size=5)
    db.upgrade(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _truncate_pg(engine: sa.Engine) -> None:
    db.import_all_models()
    tables = ", ".join(f'"{t.name}"' for t in orm.Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(sa.text("INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, :mac)"), {"mac": "0" * 64})


@pytest.fixture(params=["sqlite", "postgresql"])
def ctx(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Context:
    settings = Settings(home=tmp_path / "home")
    settings.home.mkdir(parents=True, exist_ok=True)
    if request.param == "sqlite":
        path = tmp_path / "kosh.db"
        shutil.copy(sqlite_template, path)
        engine = db.make_engine(f"sqlite:///{path}")
    else:
        engine = request.getfixturevalue("pg_engine")
        _truncate_pg(engine)
    context = Context(settings=settings, engine=engine, keyring=Keyring.generate())
    yield context
    if request.param == "sqlite":
        engine.dispose()


@pytest.fixture
def sqlite_ctx(tmp_path: Path, sqlite_template: Path) -> Context:
    """For tests that need only one database (pure web plumbing)."""
    settings = Settings(home=tmp_path / "home")
    settings.home.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "kosh.db"
    shutil.copy(sqlite_template, path)
    context = Context(settings=settings, engine=db.make_engine(f"sqlite:///{path}"), keyring=Keyring.generate())
    yield context
    context.engine.dispose()


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """Argon2 at production cost dominates test time; the tests check behaviour, not cost."""
    from argon2 import PasswordHasher

    from kosh.platform import security

    original = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = original


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A temporary KOSH_HOME (SQLite) for the command line, with settings and engines fresh."""
    from kosh.platform import config

    monkeypatch.setenv("KOSH_HOME", str(tmp_path / "kosh"))
    monkeypatch.delenv("KOSH_DATABASE_URL", raising=False)
    monkeypatch.delenv("KOSH_KEYS", raising=False)
    config.reset_settings()
    db.engine_for.cache_clear()
    yield tmp_path / "kosh"
    config.reset_settings()
    db.engine_for.cache_clear()
