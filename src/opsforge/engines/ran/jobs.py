"""Job kinds of the RAN engine: ``ran.recommend`` and ``ran.simulate``.

``ran.recommend`` reads the inputs ``grid`` and ``gis`` (CSV or Parquet, users' column names),
validates them (quarantine + ``quality_report.json``), runs
:func:`opsforge.engines.ran.recommend` and writes every output file into ``ctx.workdir``.
Stages (timed into the lineage manifest): ``load``, ``validate``, ``detect``, ``export``,
``map``.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from opsforge.core.errors import DataQualityError
from opsforge.core.kinds import JobKind, RunContext
from opsforge.engines.ran import exports, geo_exports, io, recommend
from opsforge.engines.ran.mapviz import write_map_html
from opsforge.engines.ran.model import RanParams, RanResult
from opsforge.engines.ran.operator_config import parse_operator_config
from opsforge.engines.ran.simulate import SimulationConfig, simulate_network

__all__ = [
    "JOB_KINDS",
    "OUTPUT_GROUPS",
    "RecommendRequest",
    "RecommendSummary",
    "SimulateRequest",
    "SimulateSummary",
    "run_recommend",
    "run_simulate",
]

OutputGroup = Literal["recommendations", "interference", "atoll", "tems", "kml", "geojson", "map"]
#: Output group -> files it writes (the quality report and quarantines are always written).
OUTPUT_GROUPS: dict[str, tuple[str, ...]] = {
    "recommendations": (
        "recommendations.csv",
        "recommendations.parquet",
        "recommendations.json",
        "conflicts.csv",
        "cell_stats.csv",
    ),
    "interference": ("interference_grids.csv", "interference_zones.geojson"),
    "atoll": ("atoll_transmitters.txt",),
    "tems": ("tems_cells.cel", "tems_cells.xml"),
    "kml": ("cells.kml", "cells.kmz"),
    "geojson": ("cells.geojson",),
    "map": ("map.html",),
}
_ALL_GROUPS: tuple[OutputGroup, ...] = (
    "recommendations", "interference", "atoll", "tems", "kml", "geojson", "map",
)  # fmt: skip
ALWAYS = ("quality_report.json", "quarantine_grid.csv", "quarantine_gis.csv")


class RecommendRequest(BaseModel):
    """Run the optimizer on the inputs ``grid`` and ``gis``."""

    model_config = ConfigDict(extra="forbid")

    operator_config: dict[str, Any] | None = Field(
        None, description="An operator file's mapping (seed 000 shape); gives params and columns."
    )
    params: RanParams | None = Field(None, description="Parameters; override operator_config.")
    grid_columns: dict[str, str] = Field(default_factory=dict, description="canonical -> user")
    gis_columns: dict[str, str] = Field(default_factory=dict, description="canonical -> user")
    outputs: list[OutputGroup] = Field(default_factory=lambda: list(_ALL_GROUPS))
    max_map_bins: int = Field(20_000, ge=0, le=200_000)
    wedge_radius_m: float = Field(400.0, gt=0.0, description="Wedge radius in KML/GeoJSON. [m]")
    seed: int = Field(0, description="Seed of the map's bin sampling.")
    export_date: date | None = Field(
        None, description="Date written into the TEMS XML header; omitted when empty."
    )


class QualityFigures(BaseModel):
    """Headline data-quality figures (the full report is ``quality_report.json``)."""

    num_grid_rows_read: int
    num_grid_rows_valid: int
    num_grid_rows_quarantined: int
    num_gis_rows_read: int
    num_gis_rows_valid: int
    num_gis_rows_quarantined: int
    num_cells_missing_from_gis: int
    valid_row_fraction: float


class RecommendSummary(BaseModel):
    """What a ``ran.recommend`` run found and wrote."""

    num_recommendations: int
    counts_per_issue: dict[str, int]
    counts_per_action: dict[str, int]
    num_interference_zones: int
    num_interference_grids: int
    num_conflicts: int
    engine_summary: dict[str, int | float]
    quality: QualityFigures
    outputs: list[str] = Field(description="Files written into the run's folder.")


class SimulateRequest(BaseModel):
    """Simulate a network and write it in the users' format (``grid.csv``, ``gis.csv``)."""

    model_config = ConfigDict(extra="forbid")

    num_sites: int = Field(60, ge=1, le=20_000)
    sectors_per_site: int = Field(3, ge=1, le=6)
    seed: int = 0
    faults: bool = Field(True, description="Inject faults; False gives a clean network.")
    grid_format: Literal["csv", "parquet"] = "csv"
    config: dict[str, Any] = Field(
        default_factory=dict, description="More SimulationConfig fields (isd_m, ...)."
    )


class SimulateSummary(BaseModel):
    num_cells: int
    num_sites: int
    num_grid_rows: int
    num_bins: int
    truth_counts: dict[str, int]
    outputs: list[str]


def run_recommend(request: RecommendRequest, ctx: RunContext) -> RecommendSummary:
    """Load, validate, detect, export, map; every file lands in ``ctx.workdir``."""
    params, grid_map, gis_map = _settings(request)
    out = ctx.workdir
    with ctx.stage("load"):
        ctx.progress(0.0, "reading grid")
        grid = io.read_grid(ctx.input_path("grid"), grid_map)
        ctx.progress(0.1, "reading gis")
        gis = io.read_gis(ctx.input_path("gis"), gis_map)
    with ctx.stage("validate"):
        grid = io.cross_check(grid, gis)
        report = io.build_quality_report(grid, gis)
        (out / "quality_report.json").write_text(report.model_dump_json(indent=2), "utf-8")
        grid.write_quarantine(out / "quarantine_grid.csv")
        gis.write_quarantine(out / "quarantine_gis.csv")
        if grid.frame.height == 0:
            raise DataQualityError(
                f"no valid grid rows left after validation of {grid.report.file} "
                f"(read {grid.report.num_rows_read}); see quarantine_grid.csv",
                file=grid.report.file,
            )
    ctx.progress(0.2, "inputs validated")
    with ctx.stage("detect"):
        result = recommend(
            grid.frame,
            gis.frame,
            params,
            progress=lambda f, m="": ctx.progress(0.2 + 0.6 * f, m),
        )
    written = list(ALWAYS)
    with ctx.stage("export"):
        ctx.progress(0.8, "writing exports")
        written += _export(result, gis.frame, request, out)
    if "map" in request.outputs:
        with ctx.stage("map"):
            ctx.progress(0.9, "drawing map")
            write_map_html(result, gis.frame, grid.frame, out / "map.html",
                           max_bins=request.max_map_bins, seed=request.seed)  # fmt: skip
            written.append("map.html")
    ctx.progress(1.0, "done")
    recs = result.recommendations
    return RecommendSummary(
        num_recommendations=recs.height,
        counts_per_issue=_counts(recs, "issue"),
        counts_per_action=_counts(recs, "action"),
        num_interference_zones=len(result.interference_zones),
        num_interference_grids=result.interference_grids.height,
        num_conflicts=result.conflicts.height,
        engine_summary=dict(result.summary),
        quality=QualityFigures(
            num_grid_rows_read=report.grid.num_rows_read,
            num_grid_rows_valid=report.grid.num_rows_valid,
            num_grid_rows_quarantined=report.grid.num_rows_quarantined,
            num_gis_rows_read=report.gis.num_rows_read,
            num_gis_rows_valid=report.gis.num_rows_valid,
            num_gis_rows_quarantined=report.gis.num_rows_quarantined,
            num_cells_missing_from_gis=report.num_cells_missing_from_gis,
            valid_row_fraction=report.valid_row_fraction,
        ),
        outputs=sorted(written),
    )


def run_simulate(request: SimulateRequest, ctx: RunContext) -> SimulateSummary:
    """Simulate a network and write ``grid.csv|parquet``, ``gis.csv`` and ``truth.json``."""
    knobs: dict[str, Any] = {
        "num_sites": request.num_sites,
        "sectors_per_site": request.sectors_per_site,
        **request.config,
    }
    if not request.faults:
        knobs.update(
            overshoot_fraction=0.0, undershoot_fraction=0.0, crossed_pair_site_fraction=0.0,
            crossed_three_way_site_fraction=0.0, azimuth_error_fraction=0.0,
            num_interference_clusters=0,
        )  # fmt: skip
    cfg = SimulationConfig.model_validate(knobs)
    with ctx.stage("simulate"):
        ctx.progress(0.0, "simulating")
        net = simulate_network(cfg, seed=request.seed)
    with ctx.stage("export"):
        ctx.progress(0.8, "writing files")
        out = ctx.workdir
        grid_name = f"grid.{request.grid_format}"
        if request.grid_format == "csv":
            io.write_grid_csv(net.grid, out / grid_name)
        else:
            io.write_grid_parquet(net.grid, out / grid_name)
        io.write_gis_csv(net.gis, out / "gis.csv")
        truth = _truth_dict(net.truth)
        truth["seed"] = request.seed
        truth["config"] = cfg.model_dump(mode="json")
        (out / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    ctx.progress(1.0, "done")
    return SimulateSummary(
        num_cells=net.gis.height,
        num_sites=net.gis.get_column("site_id").n_unique(),
        num_grid_rows=net.grid.height,
        num_bins=net.grid.get_column("grid").n_unique(),
        truth_counts={k: len(v) for k, v in _truth_dict(net.truth).items()},
        outputs=[grid_name, "gis.csv", "truth.json"],
    )


# --------------------------------------------------------------------------- internals


def _settings(request: RecommendRequest) -> tuple[RanParams, dict[str, str], dict[str, str]]:
    params, grid_map, gis_map = RanParams(), {}, {}
    if request.operator_config is not None:
        cfg = parse_operator_config(request.operator_config, source="request.operator_config")
        params, grid_map, gis_map = cfg.params, dict(cfg.grid_columns), dict(cfg.gis_columns)
    if request.params is not None:
        params = request.params
    return params, {**grid_map, **request.grid_columns}, {**gis_map, **request.gis_columns}


def _export(
    result: RanResult, gis: pl.DataFrame, request: RecommendRequest, out: Path
) -> list[str]:
    groups = set(request.outputs)
    radius = request.wedge_radius_m
    if "recommendations" in groups:
        exports.write_recommendations(result, out)
        exports.write_conflicts(result, out / "conflicts.csv")
        exports.write_cell_stats(result, out / "cell_stats.csv")
    if "interference" in groups:
        exports.write_interference_grids(result, out / "interference_grids.csv")
        geo_exports.write_zones_geojson(result, out / "interference_zones.geojson")
    if "atoll" in groups:
        exports.write_atoll_changes(result, gis, out / "atoll_transmitters.txt")
    if "tems" in groups:
        exports.write_tems_cel(result, gis, out / "tems_cells.cel")
        exports.write_tems_xml(result, gis, out / "tems_cells.xml", request.export_date)
    if "kml" in groups:
        geo_exports.write_kml_and_kmz(result, gis, out / "cells.kml", out / "cells.kmz", radius)
    if "geojson" in groups:
        geo_exports.write_cells_geojson(result, gis, out / "cells.geojson", radius)
    return [f for g in OUTPUT_GROUPS if g in groups and g != "map" for f in OUTPUT_GROUPS[g]]


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    if frame.height == 0:
        return {}
    counts = frame.group_by(column).agg(pl.len().alias("n")).sort(column)
    return {str(k): int(n) for k, n in counts.iter_rows()}


def _truth_dict(truth: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(truth):
        value = getattr(truth, f.name)
        if isinstance(value, set):
            out[f.name] = sorted(value)
        else:
            out[f.name] = [list(v) if isinstance(v, tuple) else v for v in value]
    return out


JOB_KINDS: tuple[JobKind[Any, Any], ...] = (
    JobKind(
        engine="ran",
        kind="recommend",
        request_model=RecommendRequest,
        result_model=RecommendSummary,
        run=run_recommend,
        input_names=("grid", "gis"),
        description="Tilt, crossed-feeder and interference recommendations with exports and map",
    ),
    JobKind(
        engine="ran",
        kind="simulate",
        request_model=SimulateRequest,
        result_model=SimulateSummary,
        run=run_simulate,
        input_names=(),
        description="Synthetic network with injected faults, in the users' file format",
    ),
)
