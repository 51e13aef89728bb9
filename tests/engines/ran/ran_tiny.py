"""Tiny RAN networks built in code for the engine tests (not a test module)."""

from __future__ import annotations

import numpy as np
import polars as pl

from opsforge.engines.ran import geohash as gh
from opsforge.engines.ran.antenna import depression_deg, sector_gain_db
from opsforge.engines.ran.propagation import cost231_hata_db

LAT0, LON0 = 39.74, -104.99


def gis_frame(
    cells: list[tuple[int, str, float, float, float]], tilt_e_deg: float = 4.0
) -> pl.DataFrame:
    """GIS rows from (cell_id, site_id, lat, lon, bearing)."""
    return pl.DataFrame(
        {
            "cell_id": [c[0] for c in cells],
            "cell_name": [f"C{c[0]}" for c in cells],
            "site_id": [c[1] for c in cells],
            "lat_deg": [c[2] for c in cells],
            "lon_deg": [c[3] for c in cells],
            "bearing_deg": [c[4] for c in cells],
            "tilt_e_deg": [tilt_e_deg] * len(cells),
            "tilt_m_deg": [0.0] * len(cells),
            "height_m": [30.0] * len(cells),
        }
    )


def single_site(
    physical_bearings: dict[int, float], planned_bearings: dict[int, float]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One site; cells radiate at ``physical_bearings`` while the GIS says ``planned_bearings``."""
    lat_step, lon_step = gh.cell_size_deg(7)
    iy0 = int((LAT0 + 90.0) / lat_step)
    ix0 = int((LON0 + 180.0) / lon_step)
    r = np.arange(-14, 15)
    gx, gy = np.meshgrid(ix0 + r, iy0 + r, indexing="ij")
    lat, lon = gh.xy_to_lat_lon(gx.ravel(), gy.ravel())
    dist = gh.haversine_m(LAT0, LON0, lat, lon)
    direction = gh.bearing_deg(LAT0, LON0, lat, lon)
    grids = gh.int_to_str(gh.from_xy(gx.ravel(), gy.ravel()))
    rows = []
    for cell, phys in physical_bearings.items():
        gain = sector_gain_db(direction - phys, depression_deg(dist, 28.5), 4.0)
        rsrp = 33.0 + gain - cost231_hata_db(dist, 30.0, environment="suburban")
        rows.append(
            pl.DataFrame({"grid": grids, "cell_id": cell, "rsrp_dbm": rsrp, "event_count": 10})
        )
    grid = pl.concat(rows).filter(pl.col("rsrp_dbm") > -120.0)
    gis = gis_frame([(c, "S1", LAT0, LON0, b) for c, b in planned_bearings.items()])
    return grid, gis
