"""``ran.simulate`` and ``ran.recommend`` job kinds through a LocalRunContext."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from opsforge.core.errors import DataQualityError, NotFoundError
from opsforge.core.jobs.context import LocalRunContext
from opsforge.core.jobs.registry import load_kinds
from opsforge.engines.ran import exports
from opsforge.engines.ran.jobs import (
    ALWAYS,
    OUTPUT_GROUPS,
    RecommendRequest,
    SimulateRequest,
    run_recommend,
    run_simulate,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    ctx = LocalRunContext("sim", out)
    summary = run_simulate(SimulateRequest(num_sites=12, seed=5), ctx)
    assert summary.outputs == ["grid.csv", "gis.csv", "truth.json"]
    assert summary.num_cells == 36
    assert set(ctx.stage_timings_s) == {"simulate", "export"}
    return out


def test_registry_discovers_both_kinds() -> None:
    kinds = {k.name: k for k in load_kinds("opsforge.engines.ran.jobs")}
    assert set(kinds) == {"ran.recommend", "ran.simulate"}
    assert kinds["ran.recommend"].input_names == ("grid", "gis")


def test_simulate_writes_users_format_and_truth(network: Path) -> None:
    header = (network / "grid.csv").read_text().splitlines()[0]
    assert header == "grid,global_cell_id,avg_rsrp,avg_rsrq,avg_sinr,eventCount"
    assert (network / "gis.csv").read_text().startswith("Name,CILAC,Site,Latitude,Longitude")
    truth = json.loads((network / "truth.json").read_text())
    assert truth["seed"] == 5
    assert isinstance(truth["overshooters"], list)
    assert all(isinstance(group, list) for group in truth["crossed_feeders"])


def test_simulate_without_faults_has_empty_truth(tmp_path: Path) -> None:
    summary = run_simulate(
        SimulateRequest(num_sites=4, seed=1, faults=False, grid_format="parquet"),
        LocalRunContext("s", tmp_path),
    )
    assert summary.outputs[0] == "grid.parquet"
    assert all(v == 0 for v in summary.truth_counts.values()), summary.truth_counts


def test_recommend_writes_every_output_and_reports_progress(network: Path, tmp_path: Path) -> None:
    progress: list[float] = []
    ctx = LocalRunContext(
        "r1", tmp_path / "out",
        inputs={"grid": network / "grid.csv", "gis": network / "gis.csv"},
        on_progress=lambda f, _m: progress.append(f),
    )  # fmt: skip
    operator = {"operator": "T", "region": "R",
                "features": {"overshooters": {"params": {"min_overshooting_grids": 5}}}}  # fmt: skip
    summary = run_recommend(RecommendRequest(operator_config=operator, max_map_bins=500), ctx)
    expected = set(ALWAYS) | {f for files in OUTPUT_GROUPS.values() for f in files}
    assert set(summary.outputs) == expected
    assert {p.name for p in (tmp_path / "out").iterdir()} == expected
    assert list(ctx.stage_timings_s) == ["load", "validate", "detect", "export", "map"]
    assert progress[-1] == 1.0
    assert progress == sorted(progress)
    recs = exports.read_recommendations_csv(tmp_path / "out" / "recommendations.csv")
    assert summary.num_recommendations == recs.height
    assert sum(summary.counts_per_issue.values()) == recs.height
    quality = json.loads((tmp_path / "out" / "quality_report.json").read_text())
    assert quality["grid"]["num_rows_read"] == summary.quality.num_grid_rows_read
    zones = json.loads((tmp_path / "out" / "interference_zones.geojson").read_text())
    assert len(zones["features"]) == summary.num_interference_zones


def test_recommend_output_subset_and_column_map(network: Path, tmp_path: Path) -> None:
    grid = pl.read_csv(network / "grid.csv").rename({"avg_rsrp": "LEVEL"})
    grid.write_parquet(tmp_path / "g.parquet")
    ctx = LocalRunContext(
        "r2", tmp_path / "out", inputs={"grid": tmp_path / "g.parquet", "gis": network / "gis.csv"}
    )
    request = RecommendRequest(outputs=["atoll"], grid_columns={"rsrp_dbm": "LEVEL"})
    summary = run_recommend(request, ctx)
    assert set(summary.outputs) == {*ALWAYS, "atoll_transmitters.txt"}
    assert "map" not in ctx.stage_timings_s


def test_recommend_fails_cleanly_on_bad_inputs(network: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("grid,global_cell_id,eventCount\n9xj64fb,1,3\n")
    ctx = LocalRunContext("r3", tmp_path / "o1", inputs={"grid": bad, "gis": network / "gis.csv"})
    with pytest.raises(DataQualityError, match="rsrp_dbm"):
        run_recommend(RecommendRequest(), ctx)
    foreign = tmp_path / "foreign.csv"
    foreign.write_text("grid,global_cell_id,avg_rsrp,eventCount\n9xj64fb,999999,-90,3\n")
    ctx = LocalRunContext(
        "r4", tmp_path / "o2", inputs={"grid": foreign, "gis": network / "gis.csv"}
    )
    with pytest.raises(DataQualityError, match="no valid grid rows"):
        run_recommend(RecommendRequest(), ctx)
    assert (tmp_path / "o2" / "quarantine_grid.csv").read_text().count("not in the GIS") == 1
    with pytest.raises(NotFoundError):
        run_recommend(RecommendRequest(), LocalRunContext("r5", tmp_path / "o3"))
