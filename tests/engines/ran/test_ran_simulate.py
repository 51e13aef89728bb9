"""The synthetic network generator."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from opsforge.engines.ran import SimulationConfig, simulate_network

SMALL = SimulationConfig(num_sites=25)


def test_same_seed_same_network_and_schema() -> None:
    a = simulate_network(SMALL, seed=3)
    b = simulate_network(SMALL, seed=3)
    assert_frame_equal(a.grid, b.grid)
    assert a.truth == b.truth
    assert a.grid.schema == pl.Schema(
        {
            "grid": pl.Utf8,
            "cell_id": pl.Int64,
            "rsrp_dbm": pl.Float64,
            "rsrq_db": pl.Float64,
            "sinr_db": pl.Float64,
            "event_count": pl.Int64,
        }
    )
    assert a.gis.height == 75
    assert a.grid["rsrp_dbm"].min() >= SMALL.noise_floor_dbm  # type: ignore[operator]
    assert a.grid.group_by("grid").len()["len"].max() <= SMALL.max_cells_per_bin  # type: ignore[operator]
    assert a.grid["event_count"].min() >= 1  # type: ignore[operator]
    assert not a.grid.select("grid", "cell_id").is_duplicated().any()


def test_truth_groups_lie_within_one_site_and_faults_are_disjoint() -> None:
    net = simulate_network(SimulationConfig(num_sites=60, azimuth_error_fraction=0.02), seed=5)
    site = dict(zip(net.gis["cell_id"].to_list(), net.gis["site_id"].to_list(), strict=True))
    t = net.truth
    assert t.overshooters
    assert t.undershooters
    assert t.crossed_feeders
    assert t.interference_grids
    assert {len(g) for g in t.crossed_feeders} == {2, 3}
    for group in t.crossed_feeders:
        assert len({site[c] for c in group}) == 1
    crossed = {c for g in t.crossed_feeders for c in g}
    assert not (t.overshooters & t.undershooters)
    assert not ((t.overshooters | t.undershooters | t.azimuth_errors) & crossed)
    assert t.interference_grids <= set(net.grid["grid"].to_list())


def test_faultless_network_has_empty_truth() -> None:
    t = simulate_network(SMALL.faultless(), seed=1).truth
    assert not (t.overshooters)
    assert not (t.undershooters)
    assert not (t.crossed_feeders)
    assert not (t.interference_grids)
    assert not (t.azimuth_errors)


def test_sinr_is_reportable_and_realistic() -> None:
    net = simulate_network(SimulationConfig(num_sites=30).faultless(), seed=5)
    sinr = net.grid["sinr_db"]
    assert sinr.null_count() == 0
    assert float(sinr.min()) >= -20.0  # type: ignore[arg-type]
    assert float(sinr.max()) <= 40.0  # type: ignore[arg-type]
    best = net.grid.sort("rsrp_dbm", descending=True).group_by("grid").first()["sinr_db"]
    # loaded LTE macro network: serving-cell SINR mostly between about 0 and 20 dB
    assert -3.0 < float(best.quantile(0.1)) < 5.0  # type: ignore[arg-type]
    assert 2.0 < float(best.median()) < 12.0  # type: ignore[arg-type]
    assert float(best.quantile(0.9)) < 30.0  # type: ignore[arg-type]
    # weak non-serving cells sit at the reporting floor, but not a third of the rows any more
    assert float((sinr <= -20.0).mean()) < 0.3  # type: ignore[arg-type]


def test_one_and_two_site_networks_simulate() -> None:
    """A one-site network left no room inside the margin for interference-cluster centres and
    crashed with numpy's 'high - low < 0'."""
    for n in (1, 2):
        net = simulate_network(SimulationConfig(num_sites=n), seed=1)
        assert net.gis.height == 3 * n
        assert net.grid["cell_id"].n_unique() == 3 * n
