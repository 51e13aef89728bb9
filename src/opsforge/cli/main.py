"""``opsforge`` command line: one Typer sub-app per engine, plus the service commands.

Presentation only: commands parse arguments, call core or engine functions, and print. Errors
of the :mod:`opsforge.core.errors` hierarchy become a one-line message on stderr and the
hierarchy's exit code.
"""

from __future__ import annotations

import typer

from opsforge.cli import ran, ranconfig, scheduling, service
from opsforge.cli.common import bind_command_context

app = typer.Typer(
    name="opsforge",
    help="Production decision engines for network and plant operations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Production decision engines for network and plant operations."""
    bind_command_context(ctx)


service.register(app)
app.add_typer(ran.app, name="ran")
app.add_typer(ranconfig.app, name="ranconfig")
app.add_typer(scheduling.app, name="scheduling")


def main() -> None:  # pragma: no cover - console entry point
    app()
