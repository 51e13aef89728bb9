"""Data-quality checks for the RAN input files: rules, quarantine, profiles and the report.

Every check is a vectorised polars expression; a row that fails any rule is moved, with the
rule's reason, into a *quarantine* frame (one row per failed rule) and counted in the report.
Nothing is dropped silently. Used by :mod:`opsforge.engines.ran.io`.

Quarantine frame columns: ``row_number`` (1-based data row of the source file, header
excluded; the CSV line is ``row_number + 1``), ``column`` (canonical name), ``value`` (the
offending value as text) and ``reason``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "QUARANTINE_SCHEMA",
    "ColumnProfile",
    "FileQualityReport",
    "QualityReport",
    "RangeRule",
    "apply_checks",
    "empty_quarantine",
    "profile_columns",
    "range_checks",
]

#: Schema of every quarantine frame.
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "row_number": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
}

#: Tukey "far out" fence multiplier for the outlier count (reported, never quarantined). [1]
OUTLIER_IQR_FACTOR = 3.0


class ColumnProfile(BaseModel):
    """Distribution of one numeric column over every parsed row (before quarantine)."""

    model_config = ConfigDict(extra="forbid")

    source_column: str = Field(description="Column name in the user's file.")
    num_missing: int = Field(ge=0, description="Null or empty values.")
    min: float | None = None
    p5: float | None = None
    median: float | None = None
    p95: float | None = None
    max: float | None = None
    num_out_of_range: int = Field(0, ge=0, description="Values outside the valid range.")
    num_outliers: int = Field(
        0, ge=0, description="Values outside [q25 - 3 IQR, q75 + 3 IQR] (reported only)."
    )


class FileQualityReport(BaseModel):
    """What the loader found in one file."""

    model_config = ConfigDict(extra="forbid")

    file: str
    kind: str = Field(description="grid or gis")
    file_format: str = Field(description="csv or parquet")
    column_mapping: dict[str, str] = Field(description="Canonical name -> user's column.")
    num_rows_read: int = Field(ge=0)
    num_rows_valid: int = Field(ge=0)
    num_rows_quarantined: int = Field(ge=0)
    quarantine_reasons: dict[str, int] = Field(
        default_factory=dict, description="Reason -> number of rows it quarantined."
    )
    values_nulled: dict[str, int] = Field(
        default_factory=dict,
        description="Optional columns: reason -> values set to null (rows kept).",
    )
    values_nulled_examples: dict[str, list[int]] = Field(
        default_factory=dict, description="Reason -> the first (up to 20) row numbers."
    )
    num_duplicates: int = Field(
        0, ge=0, description="Duplicate (grid, cell_id) rows, or duplicate CILACs in the GIS."
    )
    columns: dict[str, ColumnProfile] = Field(default_factory=dict)


class QualityReport(BaseModel):
    """Data-quality report of one run (``quality_report.json``)."""

    model_config = ConfigDict(extra="forbid")

    grid: FileQualityReport
    gis: FileQualityReport
    num_grid_cells: int = Field(ge=0, description="Distinct cells with measurements.")
    num_gis_cells: int = Field(ge=0, description="Distinct cells in the GIS.")
    num_cells_missing_from_gis: int = Field(
        ge=0, description="Measured cells that the GIS does not list (their rows quarantined)."
    )
    num_gis_cells_without_measurements: int = Field(ge=0)
    valid_row_fraction: float = Field(ge=0.0, le=1.0, description="Valid grid rows / read. [1]")


@dataclass(frozen=True)
class RangeRule:
    """A closed valid range ``[low, high]`` for one canonical column (nulls pass)."""

    column: str
    low: float
    high: float = math.inf
    unit: str = ""
    high_exclusive: bool = False

    def fails(self) -> pl.Expr:
        """Expression true where a non-null value lies outside the range."""
        col = pl.col(self.column)
        above = col >= self.high if self.high_exclusive else col > self.high
        return (col < self.low) | above | col.is_nan()

    def reason(self) -> str:
        """Human reason for the quarantine frame."""
        bracket = ")" if self.high_exclusive else "]"
        unit = f" {self.unit}" if self.unit else ""
        if math.isinf(self.high):
            return f"below {self.low:g}{unit}"
        return f"out of range [{self.low:g}, {self.high:g}{bracket}{unit}"


def empty_quarantine() -> pl.DataFrame:
    """A quarantine frame with no rows."""
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def range_checks(rules: list[RangeRule], present: set[str]) -> list[tuple[str, pl.Expr, str]]:
    """Turn range rules into ``(column, fails, reason)`` checks for the columns present."""
    return [(r.column, r.fails(), r.reason()) for r in rules if r.column in present]


def apply_checks(
    frame: pl.DataFrame, checks: list[tuple[str, pl.Expr, str]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ``frame`` into valid rows and a quarantine frame.

    Parameters
    ----------
    frame
        Rows with a ``row_number`` column.
    checks
        ``(column, fails, reason)``: ``fails`` is a boolean expression (null counts as pass).

    Returns
    -------
    valid, quarantine
        ``valid`` keeps the rows that pass every check; ``quarantine`` has one row per failed
        check (a row failing two checks appears twice, with both reasons).
    """
    if not checks or frame.height == 0:
        return frame, empty_quarantine()
    flags = frame.select(
        pl.col("row_number"),
        *[chk.fill_null(False).alias(f"__fail_{i}") for i, (_, chk, _) in enumerate(checks)],
    )
    any_fail = pl.any_horizontal([pl.col(f"__fail_{i}") for i in range(len(checks))])
    bad_mask = flags.select(any_fail.alias("bad")).to_series()
    parts: list[pl.DataFrame] = []
    for i, (column, _, reason) in enumerate(checks):
        mask = flags.get_column(f"__fail_{i}")
        if not mask.any():
            continue
        rows = frame.filter(mask)
        value = (
            rows.get_column(column).cast(pl.String)
            if column in rows.columns
            else pl.Series([None] * rows.height, dtype=pl.String)
        )
        parts.append(
            pl.DataFrame(
                {
                    "row_number": rows.get_column("row_number").cast(pl.Int64),
                    "column": [column] * rows.height,
                    "value": value,
                    "reason": [reason] * rows.height,
                },
                schema=QUARANTINE_SCHEMA,
            )
        )
    quarantine = pl.concat(parts) if parts else empty_quarantine()
    return frame.filter(~bad_mask), quarantine


def profile_columns(
    frame: pl.DataFrame,
    columns: dict[str, str],
    rules: list[RangeRule],
) -> dict[str, ColumnProfile]:
    """Profile numeric columns: missing values, min/p5/median/p95/max, range and outliers.

    Parameters
    ----------
    frame
        Parsed rows (canonical names, numeric dtypes).
    columns
        Canonical name -> user's column, for the numeric columns to profile.
    rules
        Range rules; ``num_out_of_range`` counts the values each rule rejects.
    """
    present = [c for c in columns if c in frame.columns]
    oor_exprs = [
        rule.fails().fill_null(False).sum().alias(rule.column)
        for rule in rules
        if rule.column in present
    ]
    oor = frame.select(oor_exprs).row(0, named=True) if oor_exprs else {}
    out: dict[str, ColumnProfile] = {}
    for c in present:
        series = frame.get_column(c)
        values = series.drop_nulls().cast(pl.Float64).to_numpy()
        values = values[np.isfinite(values)]
        profile = ColumnProfile(
            source_column=columns[c],
            num_missing=series.null_count(),
            num_out_of_range=int(oor.get(c, 0) or 0),
        )
        if values.size:
            # One selection pass for all quantiles (numpy partitions once; a polars quantile
            # per figure would sort the column each time).
            p5, q25, median, q75, p95 = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
            iqr = q75 - q25
            low, high = q25 - OUTLIER_IQR_FACTOR * iqr, q75 + OUTLIER_IQR_FACTOR * iqr
            profile = profile.model_copy(
                update={
                    "min": float(values.min()),
                    "p5": float(p5),
                    "median": float(median),
                    "p95": float(p95),
                    "max": float(values.max()),
                    "num_outliers": int(np.count_nonzero((values < low) | (values > high))),
                }
            )
        out[c] = profile
    return out


def _opt_float(value: object) -> float | None:
    if value is None:
        return None
    return float(value)  # type: ignore[arg-type]
