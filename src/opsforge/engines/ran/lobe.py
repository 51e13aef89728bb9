"""Main-lobe rings: RSRP vs normalised distance compared with the network (shared helper).

Used by the undershooter (a loss in the near main lobe) and the overshooter (a surplus in the
far main lobe) detectors. Pure NumPy/polars; no per-row Python.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.spatial import cKDTree

from opsforge.engines.ran.prepare import Prepared

__all__ = ["main_lobe_excess_loss"]

_BUCKET = 0.05


def _lobe_pairs(prep: Prepared, ring_min: float, ring_max: float, num_sites: int) -> pl.DataFrame:
    """Every measured bin inside each cell's main-lobe ring, reported by the cell or not."""
    n_sites = prep.s_xy_m.shape[0]
    k = min(num_sites, n_sites)
    tree = cKDTree(prep.s_xy_m)
    upper = ring_max * float(np.max(prep.s_isd_m[np.isfinite(prep.s_isd_m)], initial=1.0))
    dist, site = tree.query(prep.b_xy_m, k=k, distance_upper_bound=upper, workers=-1)
    dist, site = np.asarray(dist).reshape(-1, k), np.asarray(site).reshape(-1, k)
    bins = np.broadcast_to(np.arange(dist.shape[0])[:, None], dist.shape)
    ok = np.isfinite(dist)
    b, s, d = bins[ok], site[ok], dist[ok]
    dn = d / prep.s_isd_m[s]
    ok = (dn >= ring_min) & (dn <= ring_max)
    b, s, dn = b[ok], s[ok], dn[ok]
    delta = prep.b_xy_m[b] - prep.s_xy_m[s]
    direction = np.rad2deg(np.arctan2(delta[:, 0], delta[:, 1]))
    # cells of each site, contiguous: test each site's sectors in turn (no join expansion)
    site_order = np.argsort(prep.c_site, kind="stable")
    site_count = np.bincount(prep.c_site, minlength=n_sites)
    site_start = np.concatenate([[0], np.cumsum(site_count)[:-1]])
    bearing = prep.gis["bearing_deg"].to_numpy()
    half_bw = prep.gis["hbw_deg"].to_numpy() / 2.0
    out_b: list[npt.NDArray[np.int64]] = []
    out_c: list[npt.NDArray[np.int64]] = []
    out_d: list[npt.NDArray[np.float64]] = []
    for j in range(int(site_count.max(initial=0))):
        has = j < site_count[s]
        cell = site_order[np.minimum(site_start[s] + j, site_order.size - 1)]
        off = np.abs(np.mod(direction - bearing[cell] + 180.0, 360.0) - 180.0)
        keep = has & (off <= half_bw[cell])
        out_b.append(b[keep].astype(np.int64))
        out_c.append(cell[keep].astype(np.int64))
        out_d.append(dn[keep])
    return pl.DataFrame(
        {
            "bin": np.concatenate(out_b),
            "cell_idx": np.concatenate(out_c),
            "dn": np.concatenate(out_d),
        }
    )


def main_lobe_excess_loss(
    prep: Prepared, ring_min: float, ring_max: float, ring_split: float, num_sites: int = 4
) -> pl.DataFrame:
    """Per cell: ``cell_idx``, ``num_rows``, ``num_censored``, ``excess_all_db`` (median over the
    ring), ``excess_loss_db`` (median over the far ring, ``dn >= ring_split``), ``positive_share``.

    The ring holds, for each cell, every measured bin within half its horizontal beamwidth of its
    bearing at ``ring_min``..``ring_max`` x the site's ISD (among the ``num_sites`` nearest sites
    of each bin). The excess loss of a row is the network median RSRP of ring rows at the same
    normalised distance (0.05 ISD buckets) minus the row's RSRP; negative values are a surplus.

    Bins in the ring where the cell is not reported are censored: its RSRP is at most the
    weakest level reported in that bin (at most 8 cells and only above the noise floor are
    reported), which is used as an upper bound, so the median stays conservative.
    """
    pairs = _lobe_pairs(prep, ring_min, ring_max, num_sites)
    # rows are grouped by bin (at most a few cells each): scan each pair's bin segment
    pair_bin = pairs["bin"].to_numpy()
    pair_cell = pairs["cell_idx"].to_numpy()
    start, count = prep.b_start[pair_bin], prep.b_count[pair_bin]
    found = np.zeros(pair_bin.size, dtype=bool)
    row_of = np.zeros(pair_bin.size, dtype=np.int64)
    for j in range(int(prep.b_count.max(initial=0))):
        idx = np.minimum(start + j, prep.r_cell.size - 1)
        hit = (j < count) & (prep.r_cell[idx] == pair_cell) & ~found
        row_of[hit] = idx[hit]
        found |= hit
    weakest = prep.r_rsrp[prep.b_start + prep.b_count - 1]
    rsrp = np.where(found, prep.r_rsrp[row_of], weakest[pair_bin] - 0.01)
    frame = pairs.with_columns(
        pl.Series("rsrp", rsrp),
        pl.Series("censored", ~found),
        (pl.col("dn") / _BUCKET).floor().cast(pl.Int64).alias("bucket"),
    )
    frame = frame.with_columns(
        (pl.col("rsrp").median().over("bucket") - pl.col("rsrp")).alias("excess")
    )
    return frame.group_by("cell_idx").agg(
        pl.len().cast(pl.Int64).alias("num_rows"),
        pl.col("censored").sum().cast(pl.Int64).alias("num_censored"),
        pl.col("excess").median().alias("excess_all_db"),
        pl.col("excess").filter(pl.col("dn") >= ring_split).median().alias("excess_loss_db"),
        (pl.col("excess") > 0).mean().alias("positive_share"),
    )
