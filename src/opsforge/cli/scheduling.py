"""``opsforge scheduling ...``"""

from __future__ import annotations

import typer

app = typer.Typer(help="scheduling engine", no_args_is_help=True)
