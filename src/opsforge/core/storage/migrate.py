"""Schema migrations (Alembic), callable from Python: ``upgrade(database)``.

The Alembic scripts live inside the package (``opsforge/core/storage/migrations``), so an
installed opsforge can migrate its database without an ``alembic.ini``. The API app and the CLI
call :func:`upgrade` on start for SQLite; ``opsforge db upgrade`` does it explicitly.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from opsforge.core.errors import ExternalServiceError
from opsforge.core.logging import get_logger
from opsforge.core.storage.db import Database

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "upgrade",
]

log = get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database: Database) -> Config:
    """An Alembic config pointing at the packaged scripts and ``database``'s URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "sqlalchemy.url",
        database.engine.url.render_as_string(hide_password=False).replace("%", "%%"),
    )
    return config


def _run(database: Database, action: str, revision: str) -> None:
    config = alembic_config(database)
    # Alembic's "Context impl ..." lines are noise at INFO; our own event says what happened.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    try:
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            if action == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
    except SQLAlchemyError as exc:
        raise ExternalServiceError(
            f"database migration {action} to {revision!r} failed on "
            f"{database.engine.url.render_as_string(hide_password=True)}: {exc}"
        ) from exc
    log.info("database_migrated", action=action, revision=revision, dialect=database.dialect)


def upgrade(database: Database, revision: str = "head") -> None:
    """Migrate the schema up to ``revision`` (default: the newest).

    Raises
    ------
    ExternalServiceError
        The database refused a migration step.
    """
    _run(database, "upgrade", revision)


def downgrade(database: Database, revision: str = "base") -> None:
    """Migrate the schema down to ``revision`` (default: empty)."""
    _run(database, "downgrade", revision)


def head_revision() -> str:
    """The newest revision of the packaged scripts."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
