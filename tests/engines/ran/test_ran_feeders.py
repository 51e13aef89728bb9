"""Crossed-feeder detection on tiny sites built in code."""

from __future__ import annotations

import polars as pl
from ran_tiny import single_site

from opsforge.engines.ran import RanParams, recommend

PLANNED = {101: 0.0, 102: 120.0, 103: 240.0}


def _feeder_recs(physical: dict[int, float]) -> pl.DataFrame:
    grid, gis = single_site(physical, PLANNED)
    res = recommend(grid, gis, RanParams())
    return res.recommendations.filter(pl.col("issue") == "crossed_feeder").sort("cell_id")


def test_healthy_site_has_no_feeder_finding() -> None:
    assert _feeder_recs(dict(PLANNED)).height == 0


def test_pair_swap_is_reported_with_its_permutation() -> None:
    recs = _feeder_recs({101: 120.0, 102: 0.0, 103: 240.0})
    assert recs["cell_id"].to_list() == [101, 102]
    assert set(recs["action"]) == {"swap_feeders"}
    assert recs["swap_with"].to_list() == ["102", "101"]
    assert set(recs["permutation"]) == {"101->102,102->101"}
    assert all(0.0 <= c <= 1.0 for c in recs["confidence"])
    assert recs["tilt_change_deg"].to_list() == [0.0, 0.0]
    assert recs["proposed_tilt_e_deg"].null_count() == 2


def test_three_way_rotation_is_one_group() -> None:
    # 101's signal leaves through 102's antenna, 102's through 103's, 103's through 101's
    recs = _feeder_recs({101: 120.0, 102: 240.0, 103: 0.0})
    assert recs.height == 3
    perms = set(recs["permutation"])
    assert len(perms) == 1
    assert set(perms.pop().split(",")) == {"101->102", "102->103", "103->101"}
    assert recs.filter(pl.col("cell_id") == 101)["swap_with"][0] == "102,103"


def test_single_wrong_azimuth_is_not_a_swap() -> None:
    recs = _feeder_recs({101: 180.0, 102: 120.0, 103: 240.0})
    assert recs["cell_id"].to_list() == [101]
    assert recs["action"][0] == "check_azimuth"
    assert recs["swap_with"][0] is None
