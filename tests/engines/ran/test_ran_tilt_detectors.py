"""Over- and undershooter detectors on small simulated networks (thresholds from physics)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from opsforge.engines.ran import RanParams, SimulationConfig, simulate_network
from opsforge.engines.ran.cellstats import footprint
from opsforge.engines.ran.overshoot import detect_overshooters
from opsforge.engines.ran.prepare import prepare
from opsforge.engines.ran.undershoot import detect_undershooters

ONLY_TILT = SimulationConfig(
    num_sites=64,
    crossed_pair_site_fraction=0.0,
    crossed_three_way_site_fraction=0.0,
    num_interference_clusters=0,
    overshoot_fraction=0.03,
    undershoot_fraction=0.03,
)


def _found(
    seed: int, cfg: SimulationConfig = ONLY_TILT
) -> tuple[set[int], set[int], pl.DataFrame, pl.DataFrame, object]:
    net = simulate_network(cfg, seed)
    params = RanParams()
    prep = prepare(net.grid, net.gis, params)
    fp = footprint(prep)
    over = detect_overshooters(prep, fp, params.overshooters.params)
    under = detect_undershooters(prep, fp, params.undershooters.params)
    ids = prep.gis["cell_id"].to_numpy()
    return (
        set(ids[over["cell_idx"].to_numpy()].tolist()),
        set(ids[under["cell_idx"].to_numpy()].tolist()),
        over,
        under,
        net.truth,
    )


@pytest.mark.parametrize("seed", [11, 12])
def test_injected_over_and_undershooters_are_found(seed: int) -> None:
    over, under, over_f, under_f, truth = _found(seed)
    assert over <= truth.overshooters  # type: ignore[attr-defined]
    assert len(over) >= 0.8 * len(truth.overshooters)  # type: ignore[attr-defined]
    assert under <= truth.undershooters  # type: ignore[attr-defined]
    assert len(under) >= 0.8 * len(truth.undershooters)  # type: ignore[attr-defined]
    assert set(over_f["action"]) == {"downtilt"}
    assert (over_f["tilt_change_deg"] > 0).all()
    assert set(under_f["action"]) == {"uptilt"}
    assert (under_f["tilt_change_deg"] < 0).all()
    for text in over_f["evidence_json"]:
        ev = json.loads(text)
        assert ev["expected_reach_m"] == pytest.approx(1.5 * ev["isd_m"])  # no 5 km cap
        if ev["evidence"] == "strong_far_lobe_surplus_and_competing":
            assert ev["num_competing_bins"] >= ev["num_overshooting_bins_needed"]
            assert ev["far_lobe_surplus_db"] >= 12.0
            continue
        if ev["evidence"] == "displaced_footprint":
            assert ev["num_overshooting_bins"] >= 0.7 * ev["num_overshooting_bins_needed"]
            assert ev["overshooting_share_of_traffic"] >= 0.2
            continue
        assert ev["num_overshooting_bins"] >= ev["num_overshooting_bins_needed"]
        assert ev["overshooting_share_of_traffic"] >= 0.05
        if ev["evidence"] == "dominance_surplus":
            assert ev["dominance_surplus_db"] >= 9.0
        elif ev["evidence"] == "far_lobe_surplus":
            assert ev["far_lobe_surplus_db"] >= 3.0
        else:
            assert ev["evidence"] == "flatter_tilt_than_neighbourhood"
            assert ev["predicted_far_gain_db"] >= 2.0
    for text in under_f["evidence_json"]:
        ev = json.loads(text)
        assert ev["reach_isd_ratio"] < 0.5
        if ev["tilt_recorded"]:
            strong = ev["predicted_excess_db"] >= 4.0 and ev["excess_loss_db"] >= 12.0
            assert strong or ev["predicted_excess_db"] >= 6.0
            assert ev["excess_loss_db"] >= 3.0
        else:
            assert ev["excess_loss_db"] >= 12.0
            assert ev["sibling_traffic_ratio"] <= 0.2
    for frame in (over_f, under_f):
        assert frame["confidence"].is_between(0.0, 1.0).all()
        assert frame["reason"].str.len_chars().min() > 40  # type: ignore[operator]


def test_nothing_flagged_without_faults() -> None:
    over, under, *_ = _found(13, ONLY_TILT.faultless())
    assert over == set()
    assert under == set()


def test_thresholds_are_honoured() -> None:
    net = simulate_network(ONLY_TILT, 11)
    strict = RanParams.from_operator_config(
        {
            "overshooters": {
                "params": {"min_overshooting_grids": 10_000, "min_overshooting_cell_share": 100.0}
            }
        }
    )
    prep = prepare(net.grid, net.gis, strict)
    assert detect_overshooters(prep, footprint(prep), strict.overshooters.params).height == 0
    strict_u = RanParams.from_operator_config(
        {
            "undershooters": {
                "params": {
                    "min_predicted_excess_db": 99.0,
                    "weak_predicted_excess_db": 99.0,
                    "measured_only_excess_db": 99.0,
                    "silent_lobe_min_excess_db": 99.0,
                }
            }
        }
    )
    assert detect_undershooters(prep, footprint(prep), strict_u.undershooters.params).height == 0
