"""Per-cell footprint statistics shared by the detectors and the ``cell_stats`` output."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

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


def cell_stats(prep: Prepared, fp: pl.DataFrame) -> pl.DataFrame:
    """The ``cell_stats`` output: ``cell_id``, ``num_bins`` (bins where the cell is measured),
    ``max_distance_m``, ``p95_distance_m`` (best-server bins) [m], ``traffic`` (eventCount over
    every row of the cell)."""
    n = prep.gis.height
    num_bins: npt.NDArray[np.int64] = np.bincount(prep.r_cell, minlength=n).astype(np.int64)
    traffic = np.bincount(prep.r_cell, weights=prep.r_events, minlength=n).astype(np.int64)
    return pl.DataFrame(
        {
            "cell_id": prep.gis["cell_id"],
            "num_bins": num_bins,
            "max_distance_m": fp["max_distance_m"].cast(pl.Float64),
            "p95_distance_m": fp["p95_distance_m"].cast(pl.Float64),
            "traffic": traffic,
        }
    )
