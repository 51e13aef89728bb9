"""String expressions for reasons and keys.

:func:`fmt` is ``pl.format`` built on ``pl.concat_str``: polars 2.1's ``format_str`` panics
(``assertion failed: i < self.len()``) on a column holding an empty leading chunk, as a left
join can leave (pola-rs/polars issues 25339, 25525; seen on the 10 k-cell benchmark network).
"""

from __future__ import annotations

import polars as pl

__all__ = ["fmt"]


def fmt(template: str, *args: str | pl.Expr) -> pl.Expr:
    """``template`` with each ``{}`` replaced by the next argument (a column name or an
    expression) as a string; null when any argument is null, like ``pl.format``.

    Raises
    ------
    ValueError
        When the number of ``{}`` placeholders differs from the number of arguments.
    """
    parts = template.split("{}")
    if len(parts) - 1 != len(args):
        raise ValueError(
            f"template {template!r} has {len(parts) - 1} placeholders for {len(args)} arguments"
        )
    exprs: list[pl.Expr] = []
    for k, part in enumerate(parts):
        if part:
            exprs.append(pl.lit(part, dtype=pl.String))
        if k < len(args):
            arg = args[k]
            exprs.append((pl.col(arg) if isinstance(arg, str) else arg).cast(pl.String))
    return pl.concat_str(exprs) if exprs else pl.lit("", dtype=pl.String)
