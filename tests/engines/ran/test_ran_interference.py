"""Interference zones on a hand-made geohash grid."""

from __future__ import annotations

import numpy as np
import polars as pl
from ran_tiny import LAT0, LON0, gis_frame

from opsforge.engines.ran import RanParams, recommend
from opsforge.engines.ran import geohash as gh


def _grid() -> tuple[pl.DataFrame, set[str]]:
    lat_step, lon_step = gh.cell_size_deg(7)
    iy0, ix0 = int((LAT0 + 90.0) / lat_step), int((LON0 + 180.0) / lon_step)
    rows = []
    zone: set[str] = set()
    for dx in range(20):
        for dy in range(20):
            name = str(gh.int_to_str(gh.from_xy(np.array([ix0 + dx]), np.array([iy0 + dy])))[0])
            inside = 5 <= dx < 12 and 5 <= dy < 12
            isolated = (dx, dy) == (17, 17)
            if inside or isolated:
                levels = [-90.0, -91.0, -92.0, -93.0, -94.0]
                if inside:
                    zone.add(name)
            else:
                levels = [-85.0, -97.0, -99.0, -101.0, -103.0]
            rows += [(name, 1001 + k, lvl, 5) for k, lvl in enumerate(levels)]
    grid = pl.DataFrame(rows, schema=["grid", "cell_id", "rsrp_dbm", "event_count"], orient="row")
    return grid, zone


def test_zone_is_found_and_isolated_bins_are_dropped() -> None:
    grid, zone = _grid()
    cells = [(1001 + k, f"S{k}", LAT0 + 0.01 * k, LON0, 0.0) for k in range(5)]
    params = RanParams.from_operator_config(
        {"interference": {"params": {"perc_interference": 0.25}}}
    )
    res = recommend(grid, gis_frame(cells), params)
    found = set(res.interference_grids["grid"].to_list())
    assert found == zone
    assert len(res.interference_zones) == 1
    z = res.interference_zones[0]
    assert z.num_grids == 49
    assert z.cell_ids == [1001, 1002, 1003, 1004, 1005]
    assert z.polygon_lonlat[0] == z.polygon_lonlat[-1]
    assert len(z.polygon_lonlat) >= 5
    lons = [p[0] for p in z.polygon_lonlat]
    assert min(lons) < z.centroid_lon_deg < max(lons)
    assert set(res.interference_grids["num_cells"]) == {5}
    assert set(res.interference_grids["cells"]) == {"1001,1002,1003,1004,1005"}


def test_window_and_count_thresholds_matter() -> None:
    grid, _ = _grid()
    cells = [(1001 + k, f"S{k}", LAT0 + 0.01 * k, LON0, 0.0) for k in range(5)]
    strict = RanParams.from_operator_config({"interference": {"params": {"max_rsrp_diff": 2.5}}})
    assert recommend(grid, gis_frame(cells), strict).interference_grids.height == 0
    many = RanParams.from_operator_config(
        {"interference": {"params": {"min_filtered_cells_per_grid": 6}}}
    )
    assert recommend(grid, gis_frame(cells), many).interference_grids.height == 0
