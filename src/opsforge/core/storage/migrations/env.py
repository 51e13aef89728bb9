"""Alembic environment: runs on the connection ``opsforge.core.storage.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from opsforge.core.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Migrate through the connection in ``config.attributes['connection']``."""
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "opsforge migrations run through opsforge.core.storage.migrate.upgrade(database) "
            "or `opsforge db upgrade`, which pass a connection"
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
