"""Parsing steps of the RAN loaders (:mod:`opsforge.engines.ran.io`): column resolution,
scanning, typed parsing, optional-value nulling and exact duplicate detection; all vectorised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import polars as pl

from opsforge.core.errors import DataQualityError, NotFoundError
from opsforge.engines.ran.columns import ENVIRONMENTS, FieldSpec, FileFormat
from opsforge.engines.ran.quality import RangeRule, apply_checks, range_checks

__all__ = [
    "NULLED_SCHEMA",
    "detect_format",
    "first_of_pairs",
    "hard_rules",
    "norm_name",
    "null_out_optional",
    "parse_columns",
    "quarantine_of",
    "resolve_columns",
    "scan_columns",
    "to_user",
]

#: Example row numbers kept per nulled-value reason.
NUM_EXAMPLES = 20
NULLED_SCHEMA: dict[str, pl.DataType] = {
    "reason": pl.String(),
    "n": pl.Int64(),
    "rows": pl.List(pl.Int64()),
}


def norm_name(name: str) -> str:
    """Header as matched against aliases: a unit in brackets dropped ("Height (m)",
    "Bearing [deg]"), spaces, underscores and hyphens removed, lower case."""
    return re.sub(r"[\s_\-]", "", re.sub(r"[(\[][^)\]]*[)\]]", "", name)).lower()


def to_user(frame: pl.DataFrame, fields: tuple[FieldSpec, ...]) -> pl.DataFrame:
    cols = [
        pl.col(f.name).alias(f.user_name)
        for f in fields
        if f.name in frame.columns
        and (f.required or frame.get_column(f.name).null_count() < frame.height)
    ]
    return frame.select(cols)


def detect_format(path: Path) -> FileFormat:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".txt", ".csv.gz", ".tsv")):
        return "csv"
    with path.open("rb") as fh:
        return "parquet" if fh.read(4) == b"PAR1" else "csv"


def scan_columns(
    path: Path, fields: tuple[FieldSpec, ...], column_map: Mapping[str, str] | None, kind: str
) -> tuple[pl.DataFrame, FileFormat, dict[str, str]]:
    """Read only the mapped columns, renamed to canonical, with a ``row_number``."""
    if not path.exists():
        raise NotFoundError(f"{kind} file {path} does not exist", file=str(path))
    fmt = detect_format(path)
    try:
        lf = (
            pl.scan_parquet(path)
            if fmt == "parquet"
            else pl.scan_csv(
                path, infer_schema=False, separator="\t" if path.suffix.lower() == ".tsv" else ","
            )
        )
        available = list(lf.collect_schema().names())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataQualityError(
            f"{kind} file {path} cannot be read as {fmt}: {exc}", file=str(path)
        ) from exc
    mapping = resolve_columns(available, fields, column_map, path, kind)
    try:
        raw = (
            lf.select([pl.col(src).alias(canon) for canon, src in mapping.items()])
            .with_row_index("row_number", offset=1)
            .collect(engine="streaming")
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataQualityError(f"{kind} file {path} is unreadable: {exc}", file=str(path)) from exc
    if raw.height == 0:
        raise DataQualityError(f"{kind} file {path} has no data rows", file=str(path))
    return raw.with_columns(pl.col("row_number").cast(pl.Int64)), fmt, mapping


def resolve_columns(
    available: list[str],
    fields: tuple[FieldSpec, ...],
    column_map: Mapping[str, str] | None,
    path: Path,
    kind: str,
) -> dict[str, str]:
    names = {f.name for f in fields}
    by_norm = {norm_name(c): c for c in available}
    mapping: dict[str, str] = {}
    for canon, src in (column_map or {}).items():
        if canon not in names:
            raise DataQualityError(
                f"column map for {kind} file {path} names {canon!r}, which is not a {kind} "
                f"column; expected one of {sorted(names)}",
                file=str(path),
                column=canon,
            )
        if src not in available:
            raise DataQualityError(
                f"{kind} file {path}: column map says {canon} is in column {src!r}, but the "
                f"file has {available}",
                file=str(path),
                column=src,
            )
        mapping[canon] = src
    for f in fields:
        if f.name in mapping:
            continue
        hit = next((by_norm[norm_name(a)] for a in f.aliases if norm_name(a) in by_norm), None)
        if hit is not None and hit not in mapping.values():
            mapping[f.name] = hit
        elif f.required:
            raise DataQualityError(
                f"{kind} file {path} has no column for {f.name}: expected one of "
                f"{list(f.aliases)} (or a column map entry), found {available}",
                file=str(path),
                column=f.name,
                row=0,
            )
    return mapping


def parse_columns(
    raw: pl.DataFrame, fields: tuple[FieldSpec, ...], mapping: dict[str, str], path: Path
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast to canonical dtypes; unparseable cells are quarantined, a whole bad column fails."""
    columns: dict[str, pl.Series] = {"row_number": raw.get_column("row_number")}
    checks: list[tuple[str, pl.Expr, str]] = []
    raw_text: dict[str, pl.Series] = {}
    for f in fields:
        if f.name not in mapping:
            columns[f.name] = pl.Series(f.name, [None] * raw.height, dtype=f.dtype)
            continue
        src = raw.get_column(f.name)
        if f.dtype is pl.String:
            text_col = src.cast(pl.String).str.strip_chars()
            columns[f.name] = text_col.str.to_lowercase() if f.name == "grid" else text_col
            continue
        text = src.str.strip_chars() if src.dtype == pl.String else None
        as_float = (text if text is not None else src).cast(pl.Float64, strict=False)
        given = (text.is_not_null() & (text != "")) if text is not None else src.is_not_null()
        failed = given & as_float.is_null()
        if f.dtype is pl.Int64:
            failed = failed | (as_float.is_not_null() & (as_float != as_float.round(0)))
        num_given, num_failed = int(given.sum()), int(failed.sum())
        what = "an integer" if f.dtype is pl.Int64 else "a number"
        if num_given > 0 and num_failed == num_given:
            first = int(failed.arg_true()[0])
            row = int(raw.get_column("row_number")[first])
            raise DataQualityError(
                f"{path}: column {mapping[f.name]!r} ({f.name}) must be {what}; no row "
                f"parses, e.g. row {row} holds {src[first]!r}",
                file=str(path),
                column=mapping[f.name],
                row=row,
            )
        columns[f.name] = as_float.cast(f.dtype, strict=False) if f.dtype is pl.Int64 else as_float
        if num_failed:
            raw_text[f"{f.name}__raw"] = src.cast(pl.String).alias(f"{f.name}__raw")
            checks.append((f"{f.name}__raw", pl.lit(failed), f"not {what}"))
    parsed = pl.DataFrame([s.alias(n) for n, s in columns.items()])
    for f in fields:
        if f.required and f.name in mapping:
            missing = pl.col(f.name).is_null()
            if f"{f.name}__raw" in raw_text:  # unparseable, already quarantined as such
                missing = missing & pl.col(f"{f.name}__raw").is_null()
            checks.append((f.name, missing, "missing required value"))
    if not raw_text:
        return apply_checks(parsed, checks)
    valid, q = apply_checks(parsed.with_columns(list(raw_text.values())), checks)
    q = q.with_columns(pl.col("column").str.replace(r"__raw$", ""))
    return valid.drop(list(raw_text)), q


def first_of_pairs(frame: pl.DataFrame) -> pl.Series:
    """True for the first row of each (grid, cell_id) pair, in file order; exact.

    64-bit hashes of the pairs are sorted to find candidate duplicates (fast, vectorised);
    only the candidates are compared exactly, so a hash collision never drops a row.
    """
    n = frame.height
    h = frame.select(pl.col("grid").hash(11).alias("g"), pl.col("cell_id").hash(13).alias("c"))
    with np.errstate(over="ignore"):
        key = (
            h.get_column("g").to_numpy() * np.uint64(0x9E3779B97F4A7C15)
            + h.get_column("c").to_numpy()
        )
    order = np.argsort(key)  # candidates are re-sorted by index below
    same = key[order][1:] == key[order][:-1]
    candidate = np.zeros(n, dtype=bool)
    candidate[1:] |= same
    candidate[:-1] |= same
    mask = np.ones(n, dtype=bool)
    if candidate.any():
        idx = np.sort(order[candidate])
        sub = frame[idx].select(pl.struct("grid", "cell_id").is_first_distinct()).to_series()
        mask[idx] = sub.to_numpy()
    return pl.Series("first", mask)


def hard_rules(rules: list[RangeRule], fields: tuple[FieldSpec, ...]) -> list[RangeRule]:
    required = {f.name for f in fields if f.required}
    return [r for r in rules if r.column in required]


def null_out_optional(
    frame: pl.DataFrame,
    fields: tuple[FieldSpec, ...],
    rules: list[RangeRule],
    mapping: dict[str, str],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Optional columns: a bad value becomes null (the engine default applies), row kept."""
    optional = {f.name for f in fields if not f.required and f.name in mapping}
    checks = range_checks([r for r in rules if r.column in optional], optional)
    if "environment" in optional:
        checks.append(
            (
                "environment",
                ~pl.col("environment").str.to_lowercase().is_in(list(ENVIRONMENTS)),
                "environment not one of " + "|".join(ENVIRONMENTS),
            )
        )
    parts: list[pl.DataFrame] = []
    for column, fails, reason in checks:
        mask = frame.select(fails.fill_null(False)).to_series()
        num = int(mask.sum())
        if num == 0:
            continue
        examples = frame.get_column("row_number").filter(mask).head(NUM_EXAMPLES)
        parts.append(
            pl.DataFrame(
                {
                    "reason": [f"{reason}; value set to null, row kept"],
                    "n": [num],
                    "rows": [examples.to_list()],
                },
                schema=NULLED_SCHEMA,
            )
        )
        frame = frame.with_columns(
            pl.when(pl.lit(mask)).then(None).otherwise(pl.col(column)).alias(column)
        )
    if not parts:
        return frame, pl.DataFrame(schema=NULLED_SCHEMA)
    return frame, pl.concat(parts)


def quarantine_of(rows: pl.DataFrame, column: str, reason: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row_number": rows.get_column("row_number").cast(pl.Int64),
            "column": [column] * rows.height,
            "value": rows.get_column(column).cast(pl.String),
            "reason": [reason] * rows.height,
        }
    )
