"""Tiny RAN networks built in code for the engine tests (not a test module)."""

from __future__ import annotations

import numpy as np
import polars as pl

from opsforge.engines.ran import geohash as gh
from opsforge.engines.ran.antenna import depression_deg, sector_gain_db
from opsforge.engines.ran.propagation import Environment, cost231_hata_db

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


def multi_site(
    sites: dict[str, tuple[float, float, float]],
    cells: list[dict[str, object]],
    half_size_m: float,
    environment: Environment = "suburban",
    max_cells_per_bin: int = 8,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Several sites without shadowing: ``sites`` maps site_id -> (east_m, north_m, height_m);
    each cell dict has ``cell_id``, ``site_id``, ``bearing_deg``, ``tilt_e_deg`` and optionally
    ``tilt_m_deg``, the physical ``phys_tilt_m_deg`` (default: as recorded), ``extra_height_m``
    (hill, not in the GIS), ``extra_loss_db`` (a loss the pattern does not explain, at every
    distance: an obstruction in front of the antenna, a lossy feeder). Bins cover a square of +-``half_size_m`` around (LAT0, LON0); each
    reports its ``max_cells_per_bin`` strongest cells above -120 dBm with 10 events."""
    m_lat = 111_320.0
    m_lon = m_lat * float(np.cos(np.deg2rad(LAT0)))
    lat_step, lon_step = gh.cell_size_deg(7)
    ny = int(half_size_m / (lat_step * m_lat))
    nx = int(half_size_m / (lon_step * m_lon))
    iy0 = int((LAT0 + 90.0) / lat_step)
    ix0 = int((LON0 + 180.0) / lon_step)
    gx, gy = np.meshgrid(ix0 + np.arange(-nx, nx + 1), iy0 + np.arange(-ny, ny + 1), indexing="ij")
    lat, lon = gh.xy_to_lat_lon(gx.ravel(), gy.ravel())
    grids = gh.int_to_str(gh.from_xy(gx.ravel(), gy.ravel()))
    levels = []
    for c in cells:
        east, north, height = sites[str(c["site_id"])]
        s_lat, s_lon = LAT0 + north / m_lat, LON0 + east / m_lon
        h = height + float(c.get("extra_height_m", 0.0))  # type: ignore[arg-type]
        dist = np.maximum(gh.haversine_m(s_lat, s_lon, lat, lon), 20.0)
        direction = gh.bearing_deg(s_lat, s_lon, lat, lon)
        tilt_m = float(c.get("phys_tilt_m_deg", c.get("tilt_m_deg", 0.0)))  # type: ignore[arg-type]
        gain = sector_gain_db(
            direction - float(c["bearing_deg"]),  # type: ignore[arg-type]
            depression_deg(dist, h - 1.5),
            float(c["tilt_e_deg"]),  # type: ignore[arg-type]
            tilt_m,
        )
        loss = float(c.get("extra_loss_db", 0.0))  # type: ignore[arg-type]
        levels.append(33.0 + gain - loss - cost231_hata_db(dist, h, environment=environment))
    rsrp = np.vstack(levels)  # (cells, bins)
    k = min(max_cells_per_bin, len(cells))
    top = np.argsort(-rsrp, axis=0)[:k]
    cols = np.broadcast_to(np.arange(rsrp.shape[1]), top.shape)
    val = rsrp[top, cols]
    ok = val > -120.0
    ids = np.array([int(c["cell_id"]) for c in cells])  # type: ignore[call-overload]
    grid = pl.DataFrame(
        {
            "grid": np.broadcast_to(grids, top.shape)[ok],
            "cell_id": ids[top[ok]],
            "rsrp_dbm": val[ok],
            "event_count": np.full(int(ok.sum()), 10, dtype=np.int64),
        }
    )
    gis = pl.DataFrame(
        {
            "cell_id": ids,
            "cell_name": [f"C{i}" for i in ids],
            "site_id": [str(c["site_id"]) for c in cells],
            "lat_deg": [LAT0 + sites[str(c["site_id"])][1] / m_lat for c in cells],
            "lon_deg": [LON0 + sites[str(c["site_id"])][0] / m_lon for c in cells],
            "bearing_deg": [float(c["bearing_deg"]) for c in cells],  # type: ignore[arg-type]
            "tilt_e_deg": [float(c["tilt_e_deg"]) for c in cells],  # type: ignore[arg-type]
            "tilt_m_deg": [float(c.get("tilt_m_deg", 0.0)) for c in cells],  # type: ignore[arg-type]
            "height_m": [sites[str(c["site_id"])][2] for c in cells],
        }
    )
    return grid, gis


def three_sector_cells(
    sites: dict[str, tuple[float, float, float]], tilt_e_deg: float
) -> list[dict[str, object]]:
    """Cells 0/120/240 deg on every site, ids ``100 x site number + sector`` (site ids 'S<n>')."""
    out: list[dict[str, object]] = []
    for site in sites:
        n = int(site[1:])
        for k, bearing in enumerate((0.0, 120.0, 240.0)):
            out.append(
                {
                    "cell_id": 100 * n + k + 1,
                    "site_id": site,
                    "bearing_deg": bearing,
                    "tilt_e_deg": tilt_e_deg,
                }
            )
    return out
