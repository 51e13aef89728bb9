"""Read and write the RAN engine's input files: the grid (bin measurements) and the GIS.

Users' files keep their own column names (``avg_rsrp``, ``global_cell_id``, ``CILAC``,
``TiltE``); :func:`read_grid` and :func:`read_gis` map them once onto the canonical names of
the engine contract (``rsrp_dbm``, ``cell_id``, ``tilt_e_deg``), parse, validate every row
with vectorised rules and quarantine the rows that fail (see :mod:`.quality`). A file that
cannot be used at all (unreadable, empty, a required column missing, a whole column of the
wrong type) raises :class:`~opsforge.core.errors.DataQualityError` naming file, row and column.

Column resolution, per canonical column: the operator's ``column_map`` (canonical -> user's
column) first, then the aliases below, compared case-insensitively and ignoring ``_``, ``-``
and spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from opsforge.core.logging import get_logger
from opsforge.engines.ran.columns import (
    GEOHASH7_PATTERN,
    GIS_FIELDS,
    GIS_RULES,
    GRID_FIELDS,
    GRID_RULES,
    IDENTIFIERS,
    NUMERIC,
    FieldSpec,
    FileFormat,
)
from opsforge.engines.ran.operator_config import OperatorConfig, load_operator_config
from opsforge.engines.ran.parsing import (
    first_of_pairs,
    hard_rules,
    null_out_optional,
    parse_columns,
    quarantine_of,
    scan_columns,
    to_user,
)
from opsforge.engines.ran.prepare import colocated_sites
from opsforge.engines.ran.quality import (
    FileQualityReport,
    QualityReport,
    RangeRule,
    apply_checks,
    profile_columns,
    range_checks,
)
from opsforge.engines.ran.text import fmt as format_text

__all__ = [
    "GEOHASH7_PATTERN",
    "GIS_FIELDS",
    "GRID_FIELDS",
    "LoadedFrame",
    "OperatorConfig",
    "build_quality_report",
    "cross_check",
    "load_operator_config",
    "read_gis",
    "read_grid",
    "write_gis_csv",
    "write_grid_csv",
    "write_grid_parquet",
]

_log = get_logger(__name__)


@dataclass(frozen=True)
class LoadedFrame:
    """A loaded file: valid rows (canonical), quarantined rows, and its quality report.

    ``row_numbers`` gives, for each row of ``frame``, its 1-based data row in the file.
    """

    frame: pl.DataFrame
    quarantine: pl.DataFrame
    report: FileQualityReport
    row_numbers: pl.Series

    def write_quarantine(self, path: Path) -> Path:
        """Write the quarantine frame as CSV (header even when empty)."""
        self.quarantine.sort("row_number").write_csv(path)
        return path


def read_grid(path: Path, column_map: Mapping[str, str] | None = None) -> LoadedFrame:
    """Load a grid file (CSV or Parquet) into the canonical grid frame.

    Parameters
    ----------
    path
        CSV (``.csv``, ``.txt``, ``.csv.gz``) or Parquet file.
    column_map
        Canonical name -> user's column, for names the aliases do not cover.

    Returns
    -------
    LoadedFrame
        ``grid`` (lower-case geohash-7), ``cell_id``, ``rsrp_dbm`` [dBm], ``rsrq_db`` [dB],
        ``sinr_db`` [dB], ``event_count``; one row per (grid, cell): later duplicates are
        quarantined.
    """
    raw, fmt, mapping = scan_columns(path, GRID_FIELDS, column_map, "grid")
    parsed, parse_q = parse_columns(raw, GRID_FIELDS, mapping, path)
    profiled = parsed
    parsed, soft_q = null_out_optional(parsed, GRID_FIELDS, GRID_RULES, mapping)
    checks = range_checks(hard_rules(GRID_RULES, GRID_FIELDS), set(parsed.columns))
    checks.append(
        ("grid", ~pl.col("grid").str.contains(GEOHASH7_PATTERN), "not a geohash-7 string")
    )
    valid, range_q = apply_checks(parsed, checks)
    dup_mask = first_of_pairs(valid)
    dups = valid.filter(~dup_mask)
    dup_q = quarantine_of(dups, "cell_id", "duplicate (grid, cell_id) row")
    valid = valid.filter(dup_mask)
    return _finish(
        path,
        "grid",
        fmt,
        mapping,
        raw.height,
        profiled,
        valid,
        GRID_FIELDS,
        GRID_RULES,
        [parse_q, range_q, dup_q],
        soft_q,
        dups.height,
    )


def read_gis(path: Path, column_map: Mapping[str, str] | None = None) -> LoadedFrame:
    """Load a GIS (cell) file, CSV or Parquet, into the canonical gis frame.

    Parameters
    ----------
    path
        CSV or Parquet file with ``Name, CILAC, Latitude, Longitude, Bearing, TiltE, TiltM,
        Height`` (+ optional ``Site, Band, EARFCN, HBW, VBW, RETMin, RETMax, Environment``).
    column_map
        Canonical name -> user's column.

    Returns
    -------
    LoadedFrame
        Canonical gis frame; missing optional columns are present and null. ``site_id``
        comes from the site column, else from co-location: cells within
        :data:`.prepare.COLOCATION_RADIUS_M` (50 m) of each other, directly or through other
        such cells, form one site, named after its mean position (``S<lat>_<lon>``, 1e-4
        deg). A bearing of 360 deg becomes 0 deg. Later duplicate CILACs are quarantined.
    """
    raw, fmt, mapping = scan_columns(path, GIS_FIELDS, column_map, "gis")
    parsed, parse_q = parse_columns(raw, GIS_FIELDS, mapping, path)
    profiled = parsed
    parsed, soft_q = null_out_optional(parsed, GIS_FIELDS, GIS_RULES, mapping)
    checks = range_checks(hard_rules(GIS_RULES, GIS_FIELDS), set(parsed.columns))
    checks.append(("cell_name", pl.col("cell_name").str.strip_chars() == "", "empty cell name"))
    valid, range_q = apply_checks(parsed, checks)
    dup_mask = valid.select(pl.col("cell_id").is_first_distinct()).to_series()
    dups = valid.filter(~dup_mask)
    dup_q = quarantine_of(dups, "cell_id", "duplicate CILAC")
    valid = valid.filter(dup_mask)
    # co-located cells: within COLOCATION_RADIUS_M of each other; named after the mean position
    number = colocated_sites(valid["lat_deg"].to_numpy(), valid["lon_deg"].to_numpy())
    valid = valid.with_columns(pl.Series("_site_no", number))
    site = format_text(
        "S{}_{}",
        pl.col("lat_deg").mean().over("_site_no").round(4).cast(pl.String),
        pl.col("lon_deg").mean().over("_site_no").round(4).cast(pl.String),
    )
    valid = valid.with_columns(
        pl.when(pl.col("site_id").is_null() | (pl.col("site_id").str.strip_chars() == ""))
        .then(site)
        .otherwise(pl.col("site_id"))
        .alias("site_id"),
        (pl.col("bearing_deg") % 360.0).alias("bearing_deg"),
        pl.col("environment").str.to_lowercase(),
    ).drop("_site_no")
    return _finish(
        path,
        "gis",
        fmt,
        mapping,
        raw.height,
        profiled,
        valid,
        GIS_FIELDS,
        GIS_RULES,
        [parse_q, range_q, dup_q],
        soft_q,
        dups.height,
    )


def cross_check(grid: LoadedFrame, gis: LoadedFrame) -> LoadedFrame:
    """Quarantine grid rows whose cell is not in the GIS; returns the updated grid."""
    known = gis.frame.get_column("cell_id").unique()
    missing_mask = ~grid.frame.get_column("cell_id").is_in(known.implode())
    if not missing_mask.any():
        return grid
    missing = grid.frame.filter(missing_mask)
    numbered = missing.with_columns(grid.row_numbers.filter(missing_mask).alias("row_number"))
    q = quarantine_of(numbered, "cell_id", "cell_id not in the GIS")
    reasons = dict(grid.report.quarantine_reasons)
    reasons["cell_id not in the GIS"] = missing.height
    frame = grid.frame.filter(~missing_mask)
    report = grid.report.model_copy(
        update={
            "num_rows_valid": frame.height,
            "num_rows_quarantined": grid.report.num_rows_quarantined + missing.height,
            "quarantine_reasons": reasons,
        }
    )
    return LoadedFrame(
        frame, pl.concat([grid.quarantine, q]), report, grid.row_numbers.filter(~missing_mask)
    )


def build_quality_report(grid: LoadedFrame, gis: LoadedFrame) -> QualityReport:
    """Combine both files' reports with the cross-file figures."""
    grid_cells = grid.frame.get_column("cell_id").unique()
    gis_cells = gis.frame.get_column("cell_id").unique()
    missing = int(
        grid.quarantine.filter(pl.col("reason") == "cell_id not in the GIS")
        .get_column("value")
        .n_unique()
    )
    without = int((~gis_cells.is_in(grid_cells.implode())).sum())
    read = grid.report.num_rows_read
    return QualityReport(
        grid=grid.report,
        gis=gis.report,
        num_grid_cells=grid_cells.len() + missing,
        num_gis_cells=gis_cells.len(),
        num_cells_missing_from_gis=missing,
        num_gis_cells_without_measurements=without,
        valid_row_fraction=(grid.report.num_rows_valid / read) if read else 0.0,
    )


def write_grid_csv(grid: pl.DataFrame, path: Path) -> Path:
    """Write a canonical grid frame in the users' format (``grid, global_cell_id, ...``)."""
    to_user(grid, GRID_FIELDS).write_csv(path)
    return path


def write_grid_parquet(grid: pl.DataFrame, path: Path) -> Path:
    """Write a canonical grid frame as Parquet with the users' column names."""
    to_user(grid, GRID_FIELDS).write_parquet(path)
    return path


def write_gis_csv(gis: pl.DataFrame, path: Path) -> Path:
    """Write a canonical gis frame in the users' format (``Name, CILAC, Latitude, ...``)."""
    user = to_user(gis, GIS_FIELDS)
    user.select("Name", *[c for c in user.columns if c != "Name"]).write_csv(path)
    return path


# --------------------------------------------------------------------------- internals


def _finish(
    path: Path,
    kind: str,
    fmt: FileFormat,
    mapping: dict[str, str],
    num_read: int,
    parsed: pl.DataFrame,
    valid: pl.DataFrame,
    fields: tuple[FieldSpec, ...],
    rules: list[RangeRule],
    quarantines: list[pl.DataFrame],
    nulled: pl.DataFrame,
    num_duplicates: int,
) -> LoadedFrame:
    hard = pl.concat(quarantines)
    reasons = hard.group_by("reason").agg(pl.col("row_number").n_unique().alias("n"))
    # Nulled optional values are counted (with example rows) in the report, not listed one by
    # one: millions of weak-neighbour SINR values would swamp the quarantine file.
    soft = nulled  # reason, n, rows (examples)
    quarantine = hard
    numeric = {
        f.name: mapping[f.name]
        for f in fields
        if f.dtype in NUMERIC and f.name in mapping and f.name not in IDENTIFIERS
    }
    report = FileQualityReport(
        file=str(path),
        kind=kind,
        file_format=fmt,
        column_mapping=mapping,
        num_rows_read=num_read,
        num_rows_valid=valid.height,
        num_rows_quarantined=num_read - valid.height,
        quarantine_reasons={str(r): int(n) for r, n in reasons.iter_rows()},
        values_nulled={str(r): int(n) for r, n, _ in soft.iter_rows()},
        values_nulled_examples={str(r): [int(x) for x in rows] for r, _, rows in soft.iter_rows()},
        num_duplicates=num_duplicates,
        columns=profile_columns(parsed, numeric, rules),
    )
    frame = valid.select([pl.col(f.name).cast(f.dtype) for f in fields])
    _log.info(
        "ran_file_loaded",
        kind=kind,
        file=str(path),
        num_rows_read=num_read,
        num_rows_valid=valid.height,
        num_rows_quarantined=report.num_rows_quarantined,
    )
    return LoadedFrame(frame, quarantine, report, valid.get_column("row_number"))
