"""``opsforge ran ...``"""

from __future__ import annotations

import typer

app = typer.Typer(help="ran engine", no_args_is_help=True)
