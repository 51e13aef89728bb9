"""Impact re-scoring of a tilt change on hand-made bins."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from ran_tiny import LAT0, LON0, gis_frame

from opsforge.engines.ran import RanParams
from opsforge.engines.ran import geohash as gh
from opsforge.engines.ran.antenna import depression_deg, sector_gain_db
from opsforge.engines.ran.impact import score_impact
from opsforge.engines.ran.prepare import prepare
from opsforge.engines.ran.propagation import cost231_hata_db


def _two_sites() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Site A (cell 1, low tilt, strong) faces site B (cell 2) 3 km east along a row of bins."""
    lon_b = LON0 + 3000.0 / (111_195.0 * np.cos(np.deg2rad(LAT0)))
    lat_step, lon_step = gh.cell_size_deg(7)
    iy = int((LAT0 + 90.0) / lat_step)
    ix = np.arange(int((LON0 + 180.0) / lon_step) + 2, int((lon_b + 180.0) / lon_step) - 1)
    lat, lon = gh.xy_to_lat_lon(ix, np.full(ix.size, iy))
    grids = gh.int_to_str(gh.from_xy(ix, np.full(ix.size, iy)))
    rows = []
    for cell, (slat, slon, brg, tilt, boost) in {
        1: (LAT0, LON0, 90.0, 0.0, 8.0),
        2: (LAT0, lon_b, 270.0, 4.0, 0.0),
    }.items():
        d = gh.haversine_m(slat, slon, lat, lon)
        az = gh.bearing_deg(slat, slon, lat, lon)
        rsrp = (
            33.0
            + boost
            + sector_gain_db(az - brg, depression_deg(d, 28.5), tilt)
            - cost231_hata_db(d, 30.0)
        )
        rows.append(
            pl.DataFrame({"grid": grids, "cell_id": cell, "rsrp_dbm": rsrp, "event_count": 10})
        )
    gis = gis_frame([(1, "A", LAT0, LON0, 90.0), (2, "B", LAT0, lon_b, 270.0)]).with_columns(
        pl.Series("tilt_e_deg", [0.0, 4.0])
    )
    return pl.concat(rows), gis


def test_downtilt_moves_far_bins_to_the_neighbour_and_raises_their_sinr() -> None:
    grid, gis = _two_sites()
    params = RanParams()
    prep = prepare(grid, gis, params)
    changes = pl.DataFrame({"cell_idx": [0], "tilt_change_deg": [8.0]})
    impact, coverage = score_impact(prep, changes, params.impact.params)
    row = impact.row(0, named=True)
    assert row["impact_bins_lost"] > 0
    assert row["impact_bins_gained"] == 0
    assert (
        row["impact_traffic_lost"] == 20 * row["impact_bins_lost"]
    )  # two rows of 10 events per bin
    assert row["impact_sinr_change_db"] > 0.0
    # spectral efficiency is capped at 4.4 bps/Hz, so a mean SINR gain need not raise it
    assert -100.0 <= row["impact_throughput_change_pct"] < 100.0
    assert set(coverage["cell_id"]) == {1}
    assert coverage.height == grid.filter(pl.col("cell_id") == 1).height
    delta = coverage["rsrp_after_dbm"] - coverage["rsrp_before_dbm"]
    # bins below the new beam (near the site) gain, the long tail loses
    assert int((delta < 0).sum()) > int((delta > 0).sum()) > 0


def test_no_change_means_no_impact() -> None:
    grid, gis = _two_sites()
    params = RanParams()
    prep = prepare(grid, gis, params)
    impact, coverage = score_impact(
        prep, pl.DataFrame({"cell_idx": [0], "tilt_change_deg": [0.0]}), params.impact.params
    )
    assert impact.height == 0
    assert coverage.height == 0


def test_unknown_cells_are_dropped_not_fatal() -> None:
    grid, gis = _two_sites()
    extra = grid.head(3).with_columns(pl.lit(999).alias("cell_id"))
    prep = prepare(pl.concat([grid, extra]), gis, RanParams())
    assert prep.r_bin.size == grid.height
    assert prep.c_isd_m[0] == pytest.approx(3000.0, rel=0.01)
