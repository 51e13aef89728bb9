"""What every CLI module shares: error mapping, settings with logging, the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Literal

import typer

from opsforge.core.config import Settings, get_settings
from opsforge.core.errors import OpsforgeError
from opsforge.core.logging import configure_logging
from opsforge.core.storage.db import Database

__all__ = ["JsonOption", "bind_command_context", "cli_errors", "cli_settings", "open_database"]

_COMMAND_CONTEXT: ContextVar[typer.Context | None] = ContextVar("command_context", default=None)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


@contextmanager
def cli_errors(as_json: bool = False) -> Iterator[None]:
    """Map the opsforge error hierarchy to one line on stderr (or JSON) and its exit code."""
    try:
        yield
    except OpsforgeError as exc:
        if as_json:
            typer.echo(json.dumps({"ok": False, **exc.to_dict()}, default=str))
        else:
            message = " ".join(exc.message.split())  # exactly one line, greppable
            typer.echo(f"error ({exc.code}): {message}", err=True)
        raise typer.Exit(exc.exit_code) from exc


def bind_command_context(ctx: typer.Context) -> None:
    """Remember the running command's context (the root callback calls this)."""
    _COMMAND_CONTEXT.set(ctx)


def cli_settings() -> Settings:
    """The process settings, with logging configured from them (logs go to stderr)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    return settings


def open_database(settings: Settings, *, migrate: Literal["always", "sqlite", "never"]) -> Database:
    """Open the configured database, migrating it to head as asked.

    ``sqlite``: only the embedded default migrates itself; a server database is migrated
    explicitly (``opsforge db upgrade``) by whoever owns its schema. Inside a command, the
    database's pool is disposed when the command ends.
    """
    from opsforge.core.storage.migrate import upgrade

    database = Database(settings.resolved_database_url)
    ctx = _COMMAND_CONTEXT.get()
    if ctx is not None:  # pooled connections are closed when the command ends
        ctx.call_on_close(database.dispose)
    if migrate == "always" or (migrate == "sqlite" and database.dialect == "sqlite"):
        upgrade(database)
    return database
