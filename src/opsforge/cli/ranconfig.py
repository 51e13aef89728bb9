"""``opsforge ranconfig ...``"""

from __future__ import annotations

import typer

app = typer.Typer(help="ranconfig engine", no_args_is_help=True)
