"""Shared fixtures.

- ``settings``: :class:`Settings` with ``data_dir`` in a fresh temporary folder, inline jobs.
- ``database``: a migrated :class:`Database`, parametrised over ``sqlite`` (a fresh file per
  test) and ``postgresql`` (one fresh database per session, ``CREATE DATABASE
  opsforge_test_<random>``, tables truncated after each test, dropped at the end). The
  PostgreSQL variant skips with the reason when 127.0.0.1:5432 does not answer.
- ``sqlite_database``: the SQLite variant alone (for tests that need no server matrix).
- ``empty_database``: an unmigrated, empty database, same two variants (PostgreSQL: a fresh
  database per test, dropped after).
- ``tenant_id``: a tenant (``acme``) created in ``database``.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from opsforge.core.config import Settings, load_settings
from opsforge.core.storage.db import Database
from opsforge.core.storage.migrate import upgrade
from opsforge.core.storage.models import Base, Tenant

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_HOST, PG_PORT = "127.0.0.1", 5432
TEST_TENANT = "acme"


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def pg_available() -> bool:
    """True when PostgreSQL answers on 127.0.0.1:5432 as user postgres."""
    if not port_open(PG_HOST, PG_PORT):
        return False
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def fresh_pg_url() -> str:
    """Create an empty database ``opsforge_test_<random>``; returns its URL."""
    import psycopg

    name = f"opsforge_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"


def drop_pg_database(url: str) -> None:
    """Drop a database made by :func:`fresh_pg_url` (closing its other sessions)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    assert name.startswith("opsforge_test_"), name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_tenant(database: Database, tenant_id: str = TEST_TENANT) -> str:
    """Create a tenant row (idempotent); returns its id."""
    with database.session() as session:
        if session.get(Tenant, tenant_id) is None:
            session.add(Tenant(id=tenant_id, name=tenant_id.title()))
    return tenant_id


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a temporary data_dir, SQLite there, inline jobs, local artifacts."""
    return load_settings(
        environment="test",
        data_dir=str(tmp_path / "data"),
        database_url=f"sqlite:///{tmp_path / 'data' / 'opsforge.db'}",
        jobs={"backend": "inline", "heartbeat_interval_s": 0.2, "heartbeat_timeout_s": 2.0},
        artifacts={"backend": "local"},
    )


@pytest.fixture(scope="session")
def _pg_session_url() -> Iterator[str]:
    if not pg_available():
        pytest.skip(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT} (user postgres, db test)")
    url = fresh_pg_url()
    database = Database(url)
    upgrade(database)
    database.dispose()
    yield url
    drop_pg_database(url)


def _truncate_all(database: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite file or the session's PostgreSQL database."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'db' / 'opsforge.db'}")
        upgrade(db)
        yield db
        db.dispose()
        return
    url: str = request.getfixturevalue("_pg_session_url")
    db = Database(url)
    try:
        yield db
    finally:
        _truncate_all(db)
        db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database in a temporary file."""
    db = Database(f"sqlite:///{tmp_path / 'db' / 'opsforge.db'}")
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def tenant_id(database: Database) -> str:
    """The tenant ``acme``, created in ``database``."""
    return add_tenant(database)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database without any table (for migration tests)."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'empty' / 'opsforge.db'}")
        yield db
        db.dispose()
        return
    if not pg_available():
        pytest.skip(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT} (user postgres, db test)")
    url = fresh_pg_url()
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()
        drop_pg_database(url)
