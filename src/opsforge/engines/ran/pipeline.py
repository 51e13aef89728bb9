"""The RAN optimizer's single entry point: :func:`recommend` (pure)."""

from __future__ import annotations

import polars as pl

from opsforge.core.errors import DataQualityError
from opsforge.core.kinds import ProgressCallback
from opsforge.core.logging import get_logger
from opsforge.engines.ran.cellstats import cell_stats, footprint
from opsforge.engines.ran.conflicts import resolve_conflicts
from opsforge.engines.ran.feeders import detect_crossed_feeders
from opsforge.engines.ran.findings import empty_findings
from opsforge.engines.ran.impact import IMPACT_COLUMNS, score_impact
from opsforge.engines.ran.interference import detect_interference
from opsforge.engines.ran.model import (
    CELL_STATS_SCHEMA,
    CONFLICT_SCHEMA,
    COVERAGE_SCHEMA,
    INTERFERENCE_GRID_SCHEMA,
    RECOMMENDATION_SCHEMA,
    InterferenceZone,
    RanParams,
    RanResult,
)
from opsforge.engines.ran.overshoot import detect_overshooters
from opsforge.engines.ran.prepare import prepare
from opsforge.engines.ran.undershoot import detect_undershooters

__all__ = ["recommend"]

log = get_logger(__name__)


def _noop(fraction: float, message: str = "") -> None:
    return None


def recommend(
    grid: pl.DataFrame,
    gis: pl.DataFrame,
    params: RanParams,
    progress: ProgressCallback | None = None,
) -> RanResult:
    """Detect over/undershooters, crossed feeders and interference zones; advise actions.

    Parameters
    ----------
    grid
        Canonical grid frame: ``grid`` (geohash-7), ``cell_id``, ``rsrp_dbm`` [dBm],
        ``rsrq_db``, ``sinr_db`` [dB] (optional), ``event_count``; one row per (grid, cell).
    gis
        Canonical GIS frame: ``cell_id``, ``cell_name``, ``site_id``, ``lat_deg``, ``lon_deg``,
        ``bearing_deg``, ``tilt_e_deg``, ``tilt_m_deg`` [deg], ``height_m`` [m], optional
        ``band``, ``earfcn``, ``hbw_deg``, ``vbw_deg``, ``ret_min_deg``, ``ret_max_deg``,
        ``environment``.
    params
        Detector, conflict and impact parameters.
    progress
        Called with (fraction, message) after each stage.

    Each *layer* (``band``, else ``earfcn``) is judged as a network of its own: best servers,
    inter-site distances, RSRP-vs-distance relations, sister cells and interference are per
    layer (an L800 cell outranks a co-sited L1800 cell everywhere; only co-channel cells
    interfere). Cells without a band form one layer; a GIS with one band is one network.

    Returns
    -------
    RanResult
        Recommendations (one action per cell), interference bins and zones, conflicts, per-bin
        coverage before/after, per-cell statistics and a summary of counts.

    Raises
    ------
    DataQualityError
        When a frame lacks a required column, has a wrong type or no grid row matches the GIS.
    """
    report = progress or _noop
    layers = _layers(gis)
    if len(layers) == 1:
        result = _recommend_layer(grid, gis, params, report)
        log.info("ran_recommend_finished", **result.summary)
        return result
    known = grid["cell_id"].is_in(gis["cell_id"].implode())
    if not known.all():
        log.warning("grid_rows_without_gis_cell_dropped", num_rows=int((~known).sum()))
    parts: list[RanResult] = []
    idle: list[pl.DataFrame] = []
    for k, (layer, layer_gis) in enumerate(layers):
        layer_grid = grid.filter(pl.col("cell_id").is_in(layer_gis["cell_id"].implode()))
        if layer_grid.height == 0:
            log.info("ran_layer_without_measurements", layer=layer, num_cells=layer_gis.height)
            idle.append(layer_gis)
            continue
        lo, width = k / len(layers), 1.0 / len(layers)
        parts.append(
            _recommend_layer(
                layer_grid,
                layer_gis,
                params,
                lambda f, m="", lo=lo, width=width: report(lo + width * f, m),
            )
        )
    if not parts:
        raise DataQualityError(
            "grid frame: no row has a cell_id present in the gis frame", field="cell_id"
        )
    result = _merge(parts, int(grid["grid"].n_unique()), idle)
    report(1.0, "done")
    return result


def _layers(gis: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    """Split the GIS into layers: ``band``, else ``earfcn``, else one layer."""
    key = pl.lit("", dtype=pl.Utf8)
    if "earfcn" in gis.columns:
        key = pl.col("earfcn").cast(pl.Utf8).fill_null("")
    if "band" in gis.columns:
        band = pl.col("band").cast(pl.Utf8).fill_null("")
        key = pl.when(band != "").then(band).otherwise(key)
    keyed = gis.with_columns(key.alias("_layer"))
    names = keyed["_layer"].unique().sort().to_list()
    if len(names) <= 1:
        return [(names[0] if names else "", gis)]
    return [(str(name), keyed.filter(pl.col("_layer") == name).drop("_layer")) for name in names]


def _merge(parts: list[RanResult], num_bins: int, idle: list[pl.DataFrame]) -> RanResult:
    """One result from per-layer results: zones renumbered by size (zone 1 the largest); the
    cells of ``idle`` layers (no measurements) get zero ``cell_stats`` rows, as unmeasured cells
    of a measured layer do."""
    tagged = [(k, z) for k, part in enumerate(parts) for z in part.interference_zones]
    order = sorted(tagged, key=lambda kz: (-kz[1].num_grids, kz[0], kz[1].zone_id))
    new_id = {(k, z.zone_id): n for n, (k, z) in enumerate(order, start=1)}
    zones = [z.model_copy(update={"zone_id": new_id[(k, z.zone_id)]}) for k, z in order]
    grids = pl.concat(
        [
            part.interference_grids.with_columns(
                pl.col("zone_id").replace_strict(
                    {old: new for (kk, old), new in new_id.items() if kk == k},
                    return_dtype=pl.Int64,
                )
            )
            for k, part in enumerate(parts)
        ]
    ).sort("zone_id", "grid")
    recs = _in_order(pl.concat([p.recommendations for p in parts]))
    summary: dict[str, int | float] = {}
    for part in parts:
        for key, value in part.summary.items():
            summary[key] = summary.get(key, 0) + value
    summary["num_bins"] = num_bins
    summary["num_interference_zones"] = len(zones)
    summary["num_layers"] = len(parts)
    log.info("ran_recommend_finished", **summary)
    return RanResult(
        recommendations=recs,
        interference_grids=grids,
        interference_zones=zones,
        conflicts=pl.concat([p.conflicts for p in parts]),
        coverage=pl.concat([p.coverage for p in parts]),
        cell_stats=pl.concat(
            [p.cell_stats for p in parts] + [_idle_stats(layer_gis) for layer_gis in idle]
        ).sort("cell_id"),
        summary=summary,
    )


def _idle_stats(gis: pl.DataFrame) -> pl.DataFrame:
    """``cell_stats`` rows of cells without any measurement: their GIS state, zero footprint."""
    return (
        gis.with_columns(
            (pl.col("band") if "band" in gis.columns else pl.lit(None))
            .cast(pl.String)
            .alias("band")
        )
        .select(
            "cell_id",
            "cell_name",
            "band",
            "lat_deg",
            "lon_deg",
            "bearing_deg",
            "tilt_e_deg",
            "tilt_m_deg",
        )
        .with_columns(
            pl.lit(None, dtype=pl.Float64).alias("isd_m"),
            *[pl.lit(0).alias(c) for c in ("num_bins", "traffic", "num_best_bins")],
            *[pl.lit(0).alias(c) for c in ("best_traffic", "num_far_bins")],
            pl.lit(0).alias("num_overshooting_bins"),
            pl.lit(0.0).alias("p95_distance_m"),
            pl.lit(0.0).alias("max_distance_m"),
            pl.lit(None, dtype=pl.Float64).alias("median_best_rsrp_dbm"),
        )
        .select(list(CELL_STATS_SCHEMA))
        .cast(CELL_STATS_SCHEMA)  # type: ignore[arg-type]
    )


def _recommend_layer(
    grid: pl.DataFrame, gis: pl.DataFrame, params: RanParams, report: ProgressCallback
) -> RanResult:
    """:func:`recommend` on one layer."""
    prep = prepare(grid, gis, params)
    report(0.15, "prepared bins and cells")
    fp = footprint(prep)
    parts = [empty_findings()]
    if params.crossed_feeders.enabled:
        parts.append(detect_crossed_feeders(prep, params.crossed_feeders.params))
    report(0.3, "crossed feeders checked")
    if params.overshooters.enabled:
        parts.append(detect_overshooters(prep, fp, params.overshooters.params))
    report(0.45, "overshooters checked")
    if params.undershooters.enabled:
        parts.append(detect_undershooters(prep, fp, params.undershooters.params))
    report(0.6, "undershooters checked")
    zones: list[InterferenceZone] = []
    igrids = pl.DataFrame(schema=INTERFERENCE_GRID_SCHEMA)
    if params.interference.enabled:
        igrids, zones = detect_interference(prep, params.interference.params)
    report(0.75, "interference zones found")
    findings = pl.concat(parts)
    cp = params.conflicts.params
    if not params.conflicts.enabled:
        cp = cp.model_copy(
            update={
                "max_tilt_step_deg": 1e9,
                "max_changed_sectors_per_site": 10**9,
                "opposing_overlap_share": 2.0,
            }
        )
    kept, conflicts = resolve_conflicts(prep, findings, cp)
    report(0.85, "conflicts resolved")
    tilt = kept.filter(pl.col("action").is_in(["downtilt", "uptilt"]))
    if params.impact.enabled:
        impact, coverage = score_impact(
            prep,
            tilt.select("cell_idx", "tilt_change_deg", "tilt_change_m_deg"),
            params.impact.params,
        )
    else:
        impact, coverage = (
            pl.DataFrame(schema={"cell_idx": pl.Int64}),
            pl.DataFrame(schema=COVERAGE_SCHEMA),
        )
    recs = _assemble(prep.gis, kept, impact)
    ids = prep.gis.select("cell_idx", "cell_id", "cell_name")
    conflicts_out = (
        conflicts.join(ids, on="cell_idx", how="left")
        .select(list(CONFLICT_SCHEMA))
        .cast(CONFLICT_SCHEMA)  # type: ignore[arg-type]
    )
    summary: dict[str, int | float] = {
        "num_cells": int(prep.gis.height),
        "num_bins": int(prep.b_count.size),
        "num_rows": int(prep.r_bin.size),
        "num_overshooting": int((recs["issue"] == "overshooting").sum()),
        "num_undershooting": int((recs["issue"] == "undershooting").sum()),
        "num_crossed_feeder": int((recs["action"] == "swap_feeders").sum()),
        "num_check_azimuth": int((recs["action"] == "check_azimuth").sum()),
        "num_interference_zones": len(zones),
        "num_interference_grids": int(igrids.height),
        "num_conflicts": int(conflicts_out.height),
        "num_findings": int(findings.height),
        "num_layers": 1,
    }
    report(1.0, "done")
    return RanResult(
        recommendations=recs,
        interference_grids=igrids.cast(INTERFERENCE_GRID_SCHEMA),  # type: ignore[arg-type]
        interference_zones=zones,
        conflicts=conflicts_out,
        coverage=coverage.cast(COVERAGE_SCHEMA),  # type: ignore[arg-type]
        cell_stats=cell_stats(prep, fp, params.overshooters.params),
        summary=summary,
    )


def _assemble(gis: pl.DataFrame, kept: pl.DataFrame, impact: pl.DataFrame) -> pl.DataFrame:
    info = gis.select("cell_idx", "cell_id", "cell_name", "site_id", "tilt_e_deg", "tilt_m_deg")
    recs = kept.join(info, on="cell_idx", how="left").join(impact, on="cell_idx", how="left")
    for col in IMPACT_COLUMNS:
        if col not in recs.columns:
            recs = recs.with_columns(pl.lit(None).alias(col))
    is_tilt = pl.col("action").is_in(["downtilt", "uptilt"])
    recs = recs.with_columns(
        pl.when(is_tilt).then(pl.col("tilt_e_deg")).otherwise(None).alias("current_tilt_e_deg"),
        pl.when(is_tilt)
        .then(pl.col("tilt_e_deg") + pl.col("tilt_change_deg") - pl.col("tilt_change_m_deg"))
        .otherwise(None)
        .alias("proposed_tilt_e_deg"),
        pl.when(is_tilt).then(pl.col("tilt_m_deg")).otherwise(None).alias("current_tilt_m_deg"),
        pl.when(is_tilt)
        .then(pl.col("tilt_m_deg") + pl.col("tilt_change_m_deg"))
        .otherwise(None)
        .alias("proposed_tilt_m_deg"),
        pl.col("confidence").clip(0.0, 1.0),
        *[pl.col(c).fill_null(0) for c in IMPACT_COLUMNS],
    )
    recs = recs.select(list(RECOMMENDATION_SCHEMA)).cast(RECOMMENDATION_SCHEMA)  # type: ignore[arg-type]
    return _in_order(recs)


def _in_order(recs: pl.DataFrame) -> pl.DataFrame:
    """Crossed feeders first, then overshooting, then undershooting; by confidence within."""
    order = pl.col("issue").replace_strict(
        {"crossed_feeder": 0, "overshooting": 1, "undershooting": 2}, default=3
    )
    return recs.sort([order, pl.col("confidence")], descending=[False, True])
