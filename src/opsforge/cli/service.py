"""Service commands: serve, worker, db, users, keys, runs, audit, demo."""

from __future__ import annotations

import typer

from opsforge.cli import admin, demo, runs


def register(app: typer.Typer) -> None:
    """Add the service commands and sub-apps to the root app."""
    runs.register(app)
    admin.register(app)
    demo.register(app)
