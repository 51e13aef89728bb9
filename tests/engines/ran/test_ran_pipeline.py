"""The engine entry point: contract schemas, invariants, conflicts, impact."""

from __future__ import annotations

import json

import polars as pl
import pytest

from opsforge.core.errors import DataQualityError
from opsforge.engines.ran import RanParams, RanResult, SimulationConfig, recommend, simulate_network
from opsforge.engines.ran.model import (
    CELL_STATS_SCHEMA,
    CONFLICT_SCHEMA,
    COVERAGE_SCHEMA,
    INTERFERENCE_GRID_SCHEMA,
    RECOMMENDATION_SCHEMA,
)

CFG = SimulationConfig(
    num_sites=49, overshoot_fraction=0.05, undershoot_fraction=0.05, crossed_pair_site_fraction=0.08
)


@pytest.fixture(scope="module")
def run() -> tuple[RanResult, list[tuple[float, str]]]:
    net = simulate_network(CFG, seed=21)
    seen: list[tuple[float, str]] = []
    result = recommend(net.grid, net.gis, RanParams(), progress=lambda f, m="": seen.append((f, m)))
    return result, seen


def test_frames_follow_the_contract(run: tuple[RanResult, list[tuple[float, str]]]) -> None:
    res, _ = run
    assert res.recommendations.schema == pl.Schema(RECOMMENDATION_SCHEMA)
    assert res.interference_grids.schema == pl.Schema(INTERFERENCE_GRID_SCHEMA)
    assert res.conflicts.schema == pl.Schema(CONFLICT_SCHEMA)
    assert res.coverage.schema == pl.Schema(COVERAGE_SCHEMA)
    assert res.cell_stats.schema == pl.Schema(CELL_STATS_SCHEMA)
    assert res.cell_stats.height == CFG.num_sites * CFG.sectors_per_site
    assert res.summary["num_cells"] == res.cell_stats.height
    assert {
        "num_overshooting",
        "num_undershooting",
        "num_crossed_feeder",
        "num_interference_zones",
    } <= set(res.summary)


def test_recommendation_invariants(run: tuple[RanResult, list[tuple[float, str]]]) -> None:
    res, _ = run
    recs = res.recommendations
    assert recs.height > 0
    assert not recs["cell_id"].is_duplicated().any(), "one action per cell"
    assert recs["confidence"].is_between(0.0, 1.0).all()
    tilt = recs.filter(pl.col("action").is_in(["downtilt", "uptilt"]))
    assert tilt.height > 0
    assert (tilt["tilt_change_deg"].abs() <= 2.0).all()
    gap = (tilt["proposed_tilt_e_deg"] - tilt["current_tilt_e_deg"] - tilt["tilt_change_deg"]).abs()
    assert float(gap.max()) < 1e-9  # type: ignore[arg-type]
    assert ((tilt["action"] == "downtilt") == (tilt["tilt_change_deg"] > 0)).all()
    per_site = tilt.group_by("site_id").len()["len"].to_list()
    assert max(per_site) <= 2
    for ev in recs["evidence_json"]:
        assert isinstance(json.loads(ev), dict)
    feeder = recs.filter(pl.col("issue") == "crossed_feeder")
    assert feeder["current_tilt_e_deg"].null_count() == feeder.height


def test_conflicts_are_reported(run: tuple[RanResult, list[tuple[float, str]]]) -> None:
    res, _ = run
    assert res.conflicts.height > 0
    assert set(res.conflicts["resolution"]) <= {"dropped", "merged", "clipped"}
    clipped = res.conflicts.filter(pl.col("resolution") == "clipped")
    assert clipped["reason"].str.contains("deg").all()
    dropped = set(res.conflicts.filter(pl.col("resolution") == "dropped")["cell_id"])
    kept_tilt = set(
        res.recommendations.filter(pl.col("action").is_in(["downtilt", "uptilt"]))["cell_id"]
    )
    assert not (dropped & kept_tilt)


def test_impact_and_coverage(run: tuple[RanResult, list[tuple[float, str]]]) -> None:
    res, _ = run
    recs = res.recommendations
    down = recs.filter(pl.col("action") == "downtilt")
    assert down.height > 0
    assert (down["impact_bins_lost"] >= 0).all()
    cov = res.coverage.join(down.select("cell_id"), on="cell_id")
    # a downtilt lowers the level at the far bins of the cell
    assert (cov["rsrp_after_dbm"] <= cov["rsrp_before_dbm"] + 1e-9).mean() > 0.5  # type: ignore[operator]
    assert set(res.coverage["cell_id"]) == set(
        recs.filter(pl.col("action").is_in(["downtilt", "uptilt"]))["cell_id"]
    )


def test_progress_is_monotonic(run: tuple[RanResult, list[tuple[float, str]]]) -> None:
    _, seen = run
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0


def test_disabled_detectors_produce_nothing() -> None:
    net = simulate_network(SimulationConfig(num_sites=25), seed=2)
    off = {
        k: {"enabled": False}
        for k in ("overshooters", "undershooters", "crossed_feeders", "interference")
    }
    res = recommend(net.grid, net.gis, RanParams.from_operator_config(off))
    assert res.recommendations.height == 0
    assert res.interference_grids.height == 0
    assert res.interference_zones == []


def test_missing_column_is_a_data_quality_error() -> None:
    net = simulate_network(SimulationConfig(num_sites=9), seed=2)
    with pytest.raises(DataQualityError, match="rsrp_dbm"):
        recommend(net.grid.drop("rsrp_dbm"), net.gis, RanParams())
    with pytest.raises(DataQualityError, match="cell_id"):
        recommend(net.grid.with_columns(pl.col("cell_id") + 10**9), net.gis, RanParams())
