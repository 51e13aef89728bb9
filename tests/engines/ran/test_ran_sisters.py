"""Tilt seen through co-sited sisters (shared propagation path isolates the antenna pattern)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import polars as pl
import pytest
from ran_tiny import multi_site, three_sector_cells
from test_ran_noise_support import _unrecorded
from test_ran_robustness import _town, _town_sites

from opsforge.engines.ran import RanParams, recommend
from opsforge.engines.ran.prepare import prepare
from opsforge.engines.ran.sisters import sister_azimuth_offsets, sister_tilt_offsets

DELTAS = np.arange(-8.0, 16.01, 1.0)
#: every other undershooter path off: only the sister differences can flag
OTHERS_OFF = {
    "measured_only_excess_db": 99.0,
    "measured_only_min_excess_db": 99.0,
    "silent_lobe_share": 1.0,
}


def _offsets(tilt_m_phys_deg: float) -> dict[int, tuple[float, float]]:
    grid, gis = _town(4.0, tilt_m_phys_deg)  # cell 1303 has this unrecorded mechanical tilt
    prep = prepare(grid, gis, RanParams())
    ids = prep.gis["cell_id"].to_numpy()
    cells = np.flatnonzero(np.isin(ids, [1301, 1302, 1303])).astype(np.int64)
    out = sister_tilt_offsets(prep, cells, DELTAS)
    return {
        int(ids[i]): (float(d), float(r))
        for i, d, r in out.select(
            "cell_idx", "sister_tilt_offset_deg", "sister_mse_reduction_db2"
        ).iter_rows()
    }


@pytest.mark.parametrize("hidden_deg", [8.0, 16.0])
def test_an_unrecorded_downtilt_is_recovered_against_the_sisters(hidden_deg: float) -> None:
    got = _offsets(hidden_deg)
    delta, reduction = got[1303]
    assert hidden_deg - 2.0 <= delta <= hidden_deg
    assert reduction > 5.0
    for healthy in (1301, 1302):  # their sisters include 1303, modelled at its recorded tilt
        assert abs(got[healthy][0]) <= 4.0
        assert got[healthy][1] < reduction


def test_without_a_hidden_tilt_the_fit_stays_near_the_record() -> None:
    got = _offsets(0.0)
    assert all(abs(delta) <= 4.0 and reduction < 5.0 for delta, reduction in got.values())


def test_no_cells_no_rows() -> None:
    grid, gis = _town(4.0, 0.0)
    prep = prepare(grid, gis, RanParams())
    out = sister_tilt_offsets(prep, np.zeros(0, dtype=np.int64), DELTAS)
    assert out.height == 0
    assert out.columns == [
        "cell_idx",
        "sister_tilt_offset_deg",
        "sister_mse_reduction_db2",
        "num_sister_pairs",
    ]


def _found(overrides: Mapping[str, object]) -> dict[str, object] | None:
    return _unrecorded({**OTHERS_OFF, **overrides}, silent_path=True, sister_path=True)


def test_sister_path_flags_the_hidden_tilt_and_honours_its_thresholds() -> None:
    ev = _found({})
    assert ev is not None
    assert ev["evidence"] == "sister_level_differences"
    assert not ev["tilt_recorded"]
    delta = float(str(ev["sister_tilt_offset_deg"]))
    reduction = float(str(ev["sister_mse_reduction_db2"]))
    ratio = float(str(ev["sibling_traffic_ratio"]))
    pairs = int(str(ev["num_sister_pairs"]))
    assert delta >= 6.0
    assert reduction >= 40.0
    assert _found({"sister_min_tilt_offset_deg": delta + 1.0}) is None
    assert _found({"sister_min_mse_reduction_db2": reduction + 1.0}) is None
    assert _found({"sister_max_sibling_ratio": ratio - 0.01}) is None
    assert _found({"sister_min_pairs": pairs + 1}) is None
    assert _found({"min_excess_loss_db": float(str(ev["excess_loss_db"])) + 0.1}) is None


def _rotated_town(rotation_deg: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """25 sites 1.6 km apart; the antenna of cell 1302 (GIS bearing 120) points elsewhere."""
    sites = _town_sites()
    cells = three_sector_cells(sites, 4.0)
    for c in cells:
        if c["cell_id"] == 1302:
            c["bearing_deg"] = 120.0 + rotation_deg
    grid, gis = multi_site(sites, cells, 5000.0)
    recorded = pl.when(pl.col("cell_id") == 1302).then(120.0).otherwise(pl.col("bearing_deg"))
    return grid, gis.with_columns(recorded.alias("bearing_deg"))


@pytest.mark.parametrize("rotation_deg", [45.0, 60.0, -50.0])
def test_a_rotated_antenna_is_recovered_against_the_sisters(rotation_deg: float) -> None:
    grid, gis = _rotated_town(rotation_deg)
    prep = prepare(grid, gis, RanParams())
    ids = prep.gis["cell_id"].to_numpy()
    cells = np.flatnonzero(np.isin(ids, [1301, 1302, 1303])).astype(np.int64)
    out = sister_azimuth_offsets(prep, cells, np.arange(-90.0, 90.01, 5.0))
    got = {
        int(ids[i]): (float(g), float(r))
        for i, g, r in out.select(
            "cell_idx", "sister_azimuth_offset_deg", "sister_mse_reduction_db2"
        ).iter_rows()
    }
    gamma, reduction = got[1302]
    assert abs(gamma - rotation_deg) <= 5.0
    assert reduction == max(r for _, r in got.values())  # its sisters misfit less


def test_sister_azimuth_check_finds_a_rotation_the_best_server_estimate_misses() -> None:
    grid, gis = _rotated_town(45.0)
    recs = recommend(grid, gis, RanParams()).recommendations
    assert recs.select("cell_id", "action").rows() == [(1302, "check_azimuth")]
    ev = json.loads(recs["evidence_json"][0])
    assert ev["azimuth_estimate"] == "sister_differences"
    assert ev["deviation_deg"] < 55.0  # the best-server estimate alone would not flag it
    assert abs(ev["sister_azimuth_offset_deg"] - 45.0) <= 5.0
    strict = RanParams.from_operator_config(
        {"crossed_feeders": {"params": {"sister_azimuth_deviation_deg": 50.0}}}
    )
    assert recommend(grid, gis, strict).recommendations.height == 0
    healthy_grid, healthy_gis = _rotated_town(0.0)
    assert recommend(healthy_grid, healthy_gis, RanParams()).recommendations.height == 0
