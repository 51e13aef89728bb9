"""Tilt seen through co-sited sisters (shared propagation path isolates the antenna pattern)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
from test_ran_noise_support import _unrecorded
from test_ran_robustness import _town

from opsforge.engines.ran import RanParams
from opsforge.engines.ran.prepare import prepare
from opsforge.engines.ran.sisters import sister_tilt_offsets

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
