"""Small hand-built RAN results for the delivery tests (exports, maps, jobs)."""

from __future__ import annotations

import json

import polars as pl

from opsforge.engines.ran.model import (
    CELL_STATS_SCHEMA,
    CONFLICT_SCHEMA,
    COVERAGE_SCHEMA,
    INTERFERENCE_GRID_SCHEMA,
    RECOMMENDATION_SCHEMA,
    InterferenceZone,
    RanResult,
)

#: Two three-sector sites near Denver.
GIS = pl.DataFrame(
    {
        "cell_id": [101, 102, 103, 201, 202, 203],
        "cell_name": ["S1_A", "S1_B", "S1_C", "S2_A", "S2_B", "S2_C"],
        "site_id": ["S1", "S1", "S1", "S2", "S2", "S2"],
        "lat_deg": [39.74, 39.74, 39.74, 39.75, 39.75, 39.75],
        "lon_deg": [-104.99, -104.99, -104.99, -104.97, -104.97, -104.97],
        "bearing_deg": [0.0, 120.0, 240.0, 30.0, 150.0, 270.0],
        "tilt_e_deg": [4.0, 5.0, 6.0, 3.0, 4.5, 2.0],
        "tilt_m_deg": [1.0, 0.0, 2.0, 0.0, 1.0, 0.0],
        "height_m": [30.0, 30.0, 30.0, 25.5, 25.5, 25.5],
        "band": ["B66"] * 6,
        "earfcn": [66786] * 6,
        "hbw_deg": [65.0, 65.0, 65.0, None, 90.0, 65.0],
        "vbw_deg": [10.0] * 6,
        "ret_min_deg": [0.0] * 6,
        "ret_max_deg": [12.0] * 6,
        "environment": ["urban"] * 6,
    }
)


def _rec(**kw: object) -> dict[str, object]:
    base: dict[str, object] = dict.fromkeys(RECOMMENDATION_SCHEMA)
    base.update(
        impact_bins_gained=0,
        impact_bins_lost=0,
        impact_traffic_gained=0,
        impact_traffic_lost=0,
        impact_coverage_change_pct=0.0,
        impact_sinr_change_db=0.0,
        impact_throughput_change_pct=0.0,
        evidence_json=json.dumps({"num_bins": 10}),
    )
    base.update(kw)
    return base


def make_result() -> RanResult:
    """An overshooter (101), an undershooter (203) and a crossed pair (201, 202)."""
    recs = pl.DataFrame(
        [
            _rec(cell_id=101, cell_name="S1_A", site_id="S1", issue="overshooting",
                 action="downtilt", tilt_change_deg=2.5, current_tilt_e_deg=4.0,
                 proposed_tilt_e_deg=6.0, current_tilt_m_deg=1.0, proposed_tilt_m_deg=1.5,
                 confidence=0.82, impact_bins_lost=40,
                 impact_traffic_lost=300, impact_sinr_change_db=0.8,
                 reason="120 of 400 bins beyond 5000 m; downtilt 2.0 deg"),
            _rec(cell_id=203, cell_name="S2_C", site_id="S2", issue="undershooting",
                 action="uptilt", tilt_change_deg=-1.5, current_tilt_e_deg=2.0,
                 proposed_tilt_e_deg=0.5, current_tilt_m_deg=0.0, proposed_tilt_m_deg=0.0,
                 confidence=0.61, impact_bins_gained=12,
                 reason="p90 reach 300 m vs ISD 1500 m; uptilt 1.5 deg"),
            _rec(cell_id=201, cell_name="S2_A", site_id="S2", issue="crossed_feeder",
                 action="swap_feeders", tilt_change_deg=0.0, swap_with="202",
                 permutation="201->202,202->201", confidence=0.9,
                 reason="observed azimuth 152 deg vs bearing 30 deg"),
            _rec(cell_id=202, cell_name="S2_B", site_id="S2", issue="crossed_feeder",
                 action="swap_feeders", tilt_change_deg=0.0, swap_with="201",
                 permutation="201->202,202->201", confidence=0.9,
                 reason="observed azimuth 28 deg vs bearing 150 deg"),
        ],
        schema=RECOMMENDATION_SCHEMA,
    )  # fmt: skip
    zone = InterferenceZone(
        zone_id=1,
        polygon_lonlat=[(-104.985, 39.742), (-104.975, 39.742), (-104.975, 39.748),
                        (-104.985, 39.748), (-104.985, 39.742)],
        cell_ids=[101, 102, 201],
        num_grids=2,
        traffic=80,
        centroid_lon_deg=-104.98,
        centroid_lat_deg=39.745,
    )  # fmt: skip
    igrids = pl.DataFrame(
        {"zone_id": [1, 1], "grid": ["9xj64fb", "9xj64fc"], "num_cells": [4, 5],
         "cells": ["101,102,201,202", "101,102,103,201,202"]},
        schema=INTERFERENCE_GRID_SCHEMA,
    )  # fmt: skip
    coverage = pl.DataFrame(
        {"grid": ["9xj64fb", "9xj64fc", "9xj64ff"], "cell_id": [101, 101, 203],
         "rsrp_before_dbm": [-100.0, -104.0, -112.0], "rsrp_after_dbm": [-106.0, -109.0, -105.0]},
        schema=COVERAGE_SCHEMA,
    )  # fmt: skip
    stats = pl.DataFrame(
        {"cell_id": [101, 102, 103, 201, 202, 203],
         "cell_name": ["S1_A", "S1_B", "S1_C", "S2_A", "S2_B", "S2_C"], "band": ["B66"] * 6,
         "lat_deg": [39.74] * 3 + [39.75] * 3, "lon_deg": [-104.99] * 3 + [-104.97] * 3,
         "isd_m": [2000.0] * 6,
         "bearing_deg": [0.0, 120.0, 240.0, 30.0, 150.0, 270.0],
         "tilt_e_deg": [4.0, 5.0, 6.0, 3.0, 4.5, 2.0], "tilt_m_deg": [1.0, 0.0, 2.0, 0.0, 1.0, 0.0],
         "num_bins": [400, 200, 150, 180, 170, 20], "traffic": [4000, 2000, 1500, 1800, 1700, 90],
         "num_best_bins": [300, 120, 90, 110, 100, 4], "best_traffic": [3000, 1200, 900, 1000, 950, 40],
         "p95_distance_m": [6000.0, 1800.0, 1500.0, 1600.0, 1700.0, 300.0],
         "max_distance_m": [9000.0, 2500.0, 2000.0, 2100.0, 2300.0, 350.0],
         "num_far_bins": [220, 5, 1, 2, 3, 0], "num_overshooting_bins": [150, 2, 0, 0, 1, 0],
         "median_best_rsrp_dbm": [-88.0, -92.0, -95.0, -93.0, -94.0, -110.0]},
        schema=CELL_STATS_SCHEMA,
    )  # fmt: skip
    conflicts = pl.DataFrame(
        {"cell_id": [102, 101], "cell_name": ["S1_B", "S1_A"],
         "issue": ["overshooting", "overshooting"], "action": ["downtilt", "downtilt"],
         "tilt_change_deg": [1.5, 3.0], "confidence": [0.61, 0.9],
         "resolution": ["dropped", "clipped"],
         "reason": ["site already has 3 more confident tilt changes, this cycle",
                    "tilt change 3.0 deg cut to the step limit of 2.0 deg"]},
        schema=CONFLICT_SCHEMA,
    )  # fmt: skip
    return RanResult(
        recommendations=recs,
        interference_grids=igrids,
        interference_zones=[zone],
        conflicts=conflicts,
        coverage=coverage,
        cell_stats=stats,
        summary={"overshooting": 1, "undershooting": 1, "crossed_feeder": 2, "num_cells": 6},
    )


def make_grid() -> pl.DataFrame:
    """A few measured bins of the cells above (canonical grid frame)."""
    return pl.DataFrame(
        {
            "grid": ["9xj64fb", "9xj64fb", "9xj64fc", "9xj64ff", "9xj64fg"],
            "cell_id": [101, 201, 101, 203, 102],
            "rsrp_dbm": [-100.0, -103.0, -104.0, -112.0, -95.0],
            "rsrq_db": [-10.0, -12.0, -11.0, -15.0, -9.0],
            "sinr_db": [3.0, 1.0, 2.0, -5.0, 8.0],
            "event_count": [30, 20, 50, 5, 60],
        }
    )
