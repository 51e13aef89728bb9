"""Failure modes found by the independent cross-check, each on a tiny network built in code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
from ran_tiny import multi_site, single_site, three_sector_cells

from opsforge.engines.ran import RanParams, recommend
from opsforge.engines.ran import geohash as gh
from opsforge.engines.ran.conflicts import resolve_conflicts
from opsforge.engines.ran.findings import empty_findings
from opsforge.engines.ran.prepare import prepare

Sites = dict[str, tuple[float, float, float]]


def _town_in_rural_land(rural_spacing_m: float) -> Sites:
    """A 3x3 town (500 m apart, 25 m masts) inside a rural grid of 35 m masts."""
    sites: Sites = {}
    n = 1
    for i in (-1, 0, 1):
        for j in (-1, 0, 1):
            sites[f"S{n}"] = (500.0 * i, 500.0 * j, 25.0)
            n += 1
    for i in range(-2, 3):
        for j in range(-2, 3):
            if (i, j) != (0, 0):
                sites[f"S{n}"] = (rural_spacing_m * i, rural_spacing_m * j, 35.0)
                n += 1
    return sites


def _cells(sites: Sites) -> list[dict[str, object]]:
    cells: list[dict[str, object]] = []
    for site, where in sites.items():
        cells += three_sector_cells({site: where}, 3.0 if int(site[1:]) > 9 else 8.0)
    return cells


def test_town_cell_overshooting_into_rural_land_is_found() -> None:
    sites = _town_in_rural_land(3000.0)
    healthy = _cells(sites)
    faulty = [dict(c) for c in healthy]
    for c in faulty:
        if c["cell_id"] == 601:  # north sector of the town's northern site: on a hill, tilt 0
            c["tilt_e_deg"] = 0.0
            c["extra_height_m"] = 60.0
    grid, gis = multi_site(sites, faulty, 7000.0)
    recs = recommend(grid, gis, RanParams()).recommendations
    assert recs.select("cell_id", "action").rows() == [(601, "downtilt")]
    ev = json.loads(recs["evidence_json"][0])
    # judged against the rural sites' spacing where its far bins lie, not its own 500 m ISD
    assert ev["isd_m"] < 600.0
    assert abs(ev["expected_reach_m"] - 1.5 * ev["isd_m"]) < 1e-6  # no 5 km cap
    assert ev["num_overshooting_bins"] >= ev["num_overshooting_bins_needed"]
    assert ev["overshooting_share_of_traffic"] >= 0.05
    grid0, gis0 = multi_site(sites, healthy, 7000.0)
    assert recommend(grid0, gis0, RanParams()).recommendations.height == 0


PLANNED_4 = {101: 146.0, 102: 90.0, 103: 219.0, 104: 235.0}


def test_four_sector_site_with_a_73_degree_swap() -> None:
    physical = {101: 219.0, 102: 90.0, 103: 146.0, 104: 235.0}  # 101 and 103 crossed
    grid, gis = single_site(physical, PLANNED_4)
    recs = recommend(grid, gis, RanParams()).recommendations.sort("cell_id")
    assert recs["cell_id"].to_list() == [101, 103]
    assert set(recs["action"]) == {"swap_feeders"}
    assert set(recs["permutation"]) == {"101->103,103->101"}
    grid0, gis0 = single_site(dict(PLANNED_4), PLANNED_4)
    assert recommend(grid0, gis0, RanParams()).recommendations.height == 0


def test_single_75_degree_azimuth_error_gets_check_azimuth() -> None:
    # the sister sector takes over part of the rotated footprint: observed ~60 deg off
    grid, gis = single_site({101: 75.0, 102: 180.0}, {101: 0.0, 102: 180.0})
    recs = recommend(grid, gis, RanParams()).recommendations
    assert recs.select("cell_id", "action").rows() == [(101, "check_azimuth")]
    # the sister azimuth fit corroborates the turn and is in the evidence
    ev = json.loads(recs["evidence_json"][0])
    assert ev["azimuth_estimate"] == "strongest"
    assert ev["sister_azimuth_offset_deg"] == 75.0
    assert ev["sister_mse_reduction_db2"] >= 20.0
    assert ev["num_sister_pairs"] >= 20


def test_three_way_with_a_member_of_too_few_rows_is_inferred() -> None:
    planned = {101: 0.0, 102: 120.0, 103: 240.0}
    grid, gis = single_site({101: 120.0, 102: 240.0, 103: 0.0}, planned)
    # cell 103 is reported in two bins only: its direction cannot be measured
    few = grid.filter(pl.col("cell_id") == 103).sort("rsrp_dbm", descending=True).tail(2)
    grid = pl.concat([grid.filter(pl.col("cell_id") != 103), few])
    recs = recommend(grid, gis, RanParams()).recommendations.sort("cell_id")
    assert recs["cell_id"].to_list() == [101, 102, 103]
    assert set(recs["action"]) == {"swap_feeders"}
    perm = set(recs["permutation"])
    assert len(perm) == 1
    assert set(perm.pop().split(",")) == {"101->102", "102->103", "103->101"}
    conf = dict(zip(recs["cell_id"].to_list(), recs["confidence"].to_list(), strict=True))
    assert conf[103] < min(conf[101], conf[102])
    assert "inferred" in recs.filter(pl.col("cell_id") == 103)["reason"][0]


def _town_sites() -> Sites:
    """25 sites on a 1.6 km hexagonal-ish grid, 30 m masts (S1..S25, S13 the centre)."""
    sites: Sites = {}
    n = 1
    for i in range(-2, 3):
        for j in range(-2, 3):
            sites[f"S{n}"] = (1600.0 * i + 800.0 * (j % 2), 1400.0 * j, 30.0)
            n += 1
    return sites


def _town(tilt_e_103: float, tilt_m_phys_103: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    sites = _town_sites()
    cells = three_sector_cells(sites, 4.0)
    for c in cells:
        if c["cell_id"] == 1303:  # centre site, 240 deg sector
            c["tilt_e_deg"] = tilt_e_103
            c["phys_tilt_m_deg"] = tilt_m_phys_103
    return multi_site(sites, cells, 5000.0)


def test_collapsed_footprint_undershooter_with_scattered_far_bins() -> None:
    grid, gis = _town(14.0, 0.0)
    # a few scattered far bins where the cell happens to be best (reflections): a p90 of its
    # best-server distance would put its reach beyond the ISD
    bins = grid["grid"].unique().sort()
    site = gis.filter(pl.col("cell_id") == 1303).row(0, named=True)
    lat, lon = gh.decode_int(gh.str_to_int(bins.to_numpy()))
    dist = gh.haversine_m(site["lat_deg"], site["lon_deg"], lat, lon)
    far = bins.filter(pl.Series((dist > 1200.0) & (dist < 2000.0))).head(4)
    assert far.len() == 4
    boosted = pl.DataFrame(
        {"grid": far, "cell_id": 1303, "rsrp_dbm": -40.0, "event_count": 10},
        schema=grid.schema,
    )
    grid = pl.concat(
        [grid.filter(~(pl.col("grid").is_in(far) & (pl.col("cell_id") == 1303))), boosted]
    )
    res = recommend(grid, gis, RanParams())
    recs = res.recommendations.filter(pl.col("cell_id") == 1303)
    assert recs["action"].to_list() == ["uptilt"]
    ev = json.loads(recs["evidence_json"][0])
    assert ev["tilt_recorded"]
    assert ev["reach_isd_ratio"] < 0.5
    assert ev["p90_distance_m"] / ev["isd_m"] > 0.6  # the old p90 gate would have missed it


def test_unrecorded_mechanical_tilt_is_found_by_measurement_at_lower_confidence() -> None:
    grid, gis = _town(4.0, 16.0)  # the GIS says 4 deg, the antenna has 16 deg more
    res = recommend(grid, gis, RanParams())
    recs = res.recommendations.filter(pl.col("cell_id") == 1303)
    assert recs["action"].to_list() == ["uptilt"]
    ev = json.loads(recs["evidence_json"][0])
    assert not ev["tilt_recorded"]
    assert ev["sibling_traffic_ratio"] <= 0.2
    assert "unrecorded" in recs["reason"][0]
    recorded = recommend(*_town(14.0, 0.0), RanParams()).recommendations  # a recorded tilt
    rec_conf = recorded.filter(pl.col("cell_id") == 1303)["confidence"][0]
    assert recs["confidence"][0] < rec_conf


def _finding(
    cell_idx: int, issue: str, action: str, change: float, conf: float
) -> dict[str, object]:
    return {
        "cell_idx": cell_idx,
        "issue": issue,
        "action": action,
        "tilt_change_deg": change,
        "swap_with": None,
        "permutation": None,
        "confidence": conf,
        "reason": "r",
        "evidence_json": "{}",
    }


def test_weak_check_azimuth_does_not_hide_a_confident_tilt_finding() -> None:
    grid, gis = single_site({101: 0.0, 102: 120.0, 103: 240.0}, {101: 0.0, 102: 120.0, 103: 240.0})
    prep = prepare(grid, gis, RanParams())
    rows = [
        _finding(0, "undershooting", "uptilt", -1.0, 0.8),
        _finding(0, "crossed_feeder", "check_azimuth", 0.0, 0.37),
        _finding(1, "undershooting", "uptilt", -1.0, 0.3),
        _finding(1, "crossed_feeder", "check_azimuth", 0.0, 0.6),
    ]
    findings = pl.DataFrame(rows, schema=empty_findings().schema)
    kept, conflicts = resolve_conflicts(prep, findings, RanParams().conflicts.params)
    assert sorted(kept.select("cell_idx", "action").rows()) == [(0, "uptilt"), (1, "check_azimuth")]
    dropped = sorted(conflicts.select("cell_idx", "action", "resolution").rows())
    assert dropped == [(0, "check_azimuth", "dropped"), (1, "uptilt", "dropped")]


def test_best_server_direction_pulled_aside_by_missing_bins_needs_sister_corroboration() -> None:
    # no UE reports from a wedge in front of the centre site (a lake, a forest): the measured
    # best-server directions of neighbouring cells are pulled 55+ deg aside, but their level
    # differences against their sisters (shared path) fit no turn: no check_azimuth. (The
    # noise-free town's cells share 10-20 rows with their sisters: judged from 10.)
    grid, gis = _town(4.0, 0.0)
    site = gis.filter(pl.col("cell_id") == 1303).row(0, named=True)
    bins = grid["grid"].unique()
    lat, lon = gh.decode_int(gh.str_to_int(bins.to_numpy()))
    dist = gh.haversine_m(site["lat_deg"], site["lon_deg"], lat, lon)
    direction = gh.bearing_deg(site["lat_deg"], site["lon_deg"], lat, lon)
    off = (direction - 240.0 + 180.0) % 360.0 - 180.0  # from the 240 deg sector's boresight
    lake = bins.filter(pl.Series((off >= -40.0) & (off <= 120.0) & (dist < 5000.0)))
    grid = grid.filter(~pl.col("grid").is_in(lake.implode()))

    def checks(overrides: dict[str, float]) -> list[int]:
        over = {"sister_azimuth_min_pairs": 10, **overrides}
        params = RanParams.from_operator_config({"crossed_feeders": {"params": over}})
        recs = recommend(grid, gis, params).recommendations
        return recs.filter(pl.col("action") == "check_azimuth")["cell_id"].to_list()

    off_switch = {
        "check_azimuth_sister_min_offset_deg": 0.0,
        "check_azimuth_sister_min_mse_reduction_db2": 0.0,
    }
    pulled = checks(off_switch)  # the best-server estimate alone flags them
    assert 601 in pulled
    assert len(pulled) >= 2
    assert checks({}) == []


def test_sector_antennas_recorded_apart_without_a_site_column_change_nothing(
    tmp_path: Path,
) -> None:
    """Real GIS exports often give each sector antenna its own position (rooftop corners, a few
    to 25 m from the site centre) and no site column. Rounding positions used to split such a
    site into several, shrinking its ISD to metres and breaking every per-site rule."""
    from opsforge.engines.ran import io
    from opsforge.engines.ran.simulate import SimulationConfig, simulate_network

    net = simulate_network(SimulationConfig(num_sites=40), seed=3)
    rng = np.random.default_rng(1)
    r_m, a = rng.uniform(5.0, 25.0, net.gis.height), rng.uniform(0.0, 2 * np.pi, net.gis.height)
    jittered = net.gis.with_columns(
        (pl.col("lat_deg") + r_m * np.cos(a) / 111_320.0).alias("lat_deg"),
        (pl.col("lon_deg") + r_m * np.sin(a) / (111_320.0 * np.cos(np.deg2rad(39.74)))).alias(
            "lon_deg"
        ),
        pl.lit(None, dtype=pl.Utf8).alias("site_id"),
    )
    loaded = io.read_gis(io.write_gis_csv(jittered, tmp_path / "gis.csv")).frame
    assert loaded["site_id"].n_unique() == net.gis["site_id"].n_unique() == 40
    keys = ["cell_id", "issue", "action"]
    exact = recommend(net.grid, net.gis, RanParams()).recommendations.select(keys).sort(keys)
    apart = recommend(net.grid, loaded, RanParams()).recommendations.select(keys).sort(keys)
    assert exact.height > 0
    assert apart.equals(exact)


def test_omni_cells_get_no_azimuth_check_or_swap() -> None:
    """Small cells, DAS and rural omni masts radiate all around: their 'observed azimuth' is
    noise, so a direction check is meaningless (24 of 40 fault-free omni cells got one)."""
    from opsforge.engines.ran.simulate import SimulationConfig, simulate_network

    cfg = SimulationConfig(num_sites=40, sectors_per_site=1, hbw_deg=360.0).faultless()
    net = simulate_network(cfg, seed=2)
    assert recommend(net.grid, net.gis, RanParams()).recommendations.height == 0
    lax = RanParams.model_validate(
        {"crossed_feeders": {"params": {"max_directional_hbw_deg": 361.0}}}
    )
    judged = recommend(net.grid, net.gis, lax).recommendations
    assert (judged["action"] == "check_azimuth").sum() > 0  # what the threshold prevents
