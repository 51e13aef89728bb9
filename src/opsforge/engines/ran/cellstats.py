"""Per-cell footprint statistics shared by the detectors and the ``cell_stats`` output."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from opsforge.engines.ran.overshoot import num_overshooting_bins
from opsforge.engines.ran.params import OvershooterParams
from opsforge.engines.ran.prepare import Prepared

__all__ = ["cell_stats", "footprint"]


def footprint(prep: Prepared) -> pl.DataFrame:
    """Best-server footprint of every cell (one row per cell index, zeros when it serves none).

    Columns: ``cell_idx``, ``num_best_bins``, ``best_traffic``, ``p90_distance_m``,
    ``p95_distance_m``, ``max_distance_m`` (distances over the bins where the cell is best).
    """
    best = prep.r_is_best
    frame = pl.DataFrame(
        {
            "cell_idx": prep.r_cell[best],
            "dist": prep.r_dist_m[best],
            "ev": prep.r_events[best],
        }
    )
    agg = frame.group_by("cell_idx").agg(
        pl.len().cast(pl.Int64).alias("num_best_bins"),
        pl.col("ev").sum().cast(pl.Int64).alias("best_traffic"),
        pl.col("dist").quantile(0.9, "linear").alias("p90_distance_m"),
        pl.col("dist").quantile(0.95, "linear").alias("p95_distance_m"),
        pl.col("dist").max().alias("max_distance_m"),
    )
    allc = pl.DataFrame({"cell_idx": np.arange(prep.gis.height, dtype=np.int64)})
    return allc.join(agg, on="cell_idx", how="left").fill_null(0).sort("cell_idx")


def cell_stats(prep: Prepared, fp: pl.DataFrame, p: OvershooterParams) -> pl.DataFrame:
    """The ``cell_stats`` output (:data:`.model.CELL_STATS_SCHEMA`), one row per GIS cell.

    The GIS state the run saw (``cell_name``, ``band``, ``lat_deg``, ``lon_deg``, ``bearing_deg``,
    ``tilt_e_deg``, ``tilt_m_deg``), the layer's local ISD ``isd_m`` (median distance to the 3
    nearest other sites; null for a lone site) and the measured footprint: ``num_bins`` (bins where the cell is measured), ``traffic``
    (eventCount over all its rows), ``num_best_bins`` and ``best_traffic`` (where it is best
    server), ``p95_distance_m`` and ``max_distance_m`` (over its best-server bins) [m],
    ``num_far_bins`` (best-server bins beyond its expected reach ``R`` = 1.5 x local ISD),
    ``num_overshooting_bins`` (of those, the ones inside another site's area;
    :func:`.overshoot.num_overshooting_bins`) and ``median_best_rsrp_dbm``
    (median RSRP over its best-server bins; null when it serves none). Two runs' tables are what
    :func:`.changes.compare_runs` compares.
    """
    n = prep.gis.height
    num_bins: npt.NDArray[np.int64] = np.bincount(prep.r_cell, minlength=n).astype(np.int64)
    traffic = np.bincount(prep.r_cell, weights=prep.r_events, minlength=n).astype(np.int64)
    best = prep.r_is_best
    med = np.full(n, np.nan)
    if best.any():
        agg = (
            pl.DataFrame({"c": prep.r_cell[best], "r": prep.r_rsrp[best]})
            .group_by("c")
            .agg(pl.col("r").median())
        )
        med[agg["c"].to_numpy()] = agg["r"].to_numpy()
    gis = prep.gis
    num_far, num_over = num_overshooting_bins(prep, p)
    return pl.DataFrame(
        {
            "cell_id": gis["cell_id"],
            "cell_name": gis["cell_name"],
            "band": gis["band"].cast(pl.String),
            "lat_deg": gis["lat_deg"].cast(pl.Float64),
            "lon_deg": gis["lon_deg"].cast(pl.Float64),
            "isd_m": np.where(np.isfinite(prep.c_isd_m), prep.c_isd_m, np.nan),
            "bearing_deg": gis["bearing_deg"].cast(pl.Float64),
            "tilt_e_deg": gis["tilt_e_deg"].cast(pl.Float64),
            "tilt_m_deg": gis["tilt_m_deg"].cast(pl.Float64),
            "num_bins": num_bins,
            "traffic": traffic,
            "num_best_bins": fp["num_best_bins"].cast(pl.Int64),
            "best_traffic": fp["best_traffic"].cast(pl.Int64),
            "p95_distance_m": fp["p95_distance_m"].cast(pl.Float64),
            "max_distance_m": fp["max_distance_m"].cast(pl.Float64),
            "num_far_bins": num_far,
            "num_overshooting_bins": num_over,
            "median_best_rsrp_dbm": med,
        }
    ).with_columns(pl.col("median_best_rsrp_dbm", "isd_m").fill_nan(None))
