"""Interference zones: clusters of bins where many cells arrive at about the same level.

Seed 000's rule, applied to the *true* levels as well as noisy averages allow:

1. A bin is *interfered* when at least ``min_filtered_cells_per_grid`` cells (the best one
   included) are within ``max_rsrp_diff_db`` of its best RSRP. A row is the mean of
   ``eventCount`` noisy measurements, so with ``noise_aware`` on (off by default) the rule is judged on
   the posterior of the true levels (:mod:`.levels`: each row shrunk toward the same cell's
   level in the adjacent bins by its event count, per-event noise fitted from the data): the
   bin's probability of being interfered is the share of ``noise_samples`` draws from that
   posterior in which the rule holds (only bins whose outcome is uncertain are sampled), and the
   bin counts as interfered when it is at least ``min_interference_probability``. Without
   measurable noise the probabilities are 0 or 1 and this is the plain rule.
2. An interfered bin is *kept* when, among the measured bins within Chebyshev distance
   ``k_ring`` on the geohash grid (itself included), the share of interfered bins is at least
   ``perc_interference``; bins enter the share with their probability (the expected share).
   Isolated bins (shadowing noise) are dropped, coherent areas stay.
3. Kept bins are clustered into zones: connected components under 8-neighbour adjacency on
   the geohash grid. Zones smaller than ``min_zone_grids`` are dropped.
4. Each zone gets the convex hull of its bins' corners as a closed (lon, lat) ring, its
   centroid, traffic (eventCount of the best-server rows) and the cells involved (those within
   the window of the bin's best posterior level in any of its bins).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull

from opsforge.engines.ran import geohash as gh
from opsforge.engines.ran.levels import level_posterior
from opsforge.engines.ran.model import (
    INTERFERENCE_GRID_SCHEMA,
    InterferenceParams,
    InterferenceZone,
)
from opsforge.engines.ran.prepare import Prepared

__all__ = ["detect_interference", "interference_probability"]

IntArray = npt.NDArray[np.int64]
_SHIFT = np.int64(1 << 20)


def _lookup(keys_sorted: IntArray, order: IntArray, query: IntArray) -> IntArray:
    """Index (into the unsorted key array) of each query key, -1 when absent."""
    pos = np.searchsorted(keys_sorted, query)
    pos = np.minimum(pos, keys_sorted.size - 1)
    hit = keys_sorted[pos] == query
    return np.where(hit, order[pos], -1)


# strongest rows of a bin in the draws (at least the count needed): a 9th row within the
# window means the 8 stronger ones are, so more rows cannot change the outcome
_MAX_SAMPLED_ROWS = 8
_TAIL_SIGMAS = 4.0  # outcome certain when the window +/- this many sigmas does not change it


def _segment_max(values: npt.NDArray[np.float64], start: IntArray) -> npt.NDArray[np.float64]:
    return np.maximum.reduceat(values, start) if values.size else values


def interference_probability(
    prep: Prepared, p: InterferenceParams
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per bin: probability that seed 000's rule holds on the true levels; per row: level used.

    Returns
    -------
    tuple
        ``(probability per bin [1], posterior mean level per row [dBm])``; the probabilities
        are 0 or 1 when ``noise_aware`` is off or no per-event noise is measurable.
    """
    need = p.min_filtered_cells_per_grid
    if p.noise_aware:
        post = level_posterior(prep, p.measurement_sigma_db, prep.b_count[prep.r_bin] >= need)
        level, var = post.mean_dbm, post.var_db2
    else:
        level, var = prep.r_rsrp, np.zeros(prep.r_rsrp.size)
    best = _segment_max(level, prep.b_start)
    gap = best[prep.r_bin] - level
    n_close = np.bincount(prep.r_bin[gap <= p.max_rsrp_diff_db], minlength=prep.b_count.size)
    prob = (n_close >= need).astype(np.float64)
    sd_max = _segment_max(np.sqrt(var), prep.b_start)
    if not (sd_max > 0.0).any():
        return prob, level
    spread = _TAIL_SIGMAS * np.sqrt(2.0) * sd_max[prep.r_bin]
    wide = np.bincount(prep.r_bin[gap <= p.max_rsrp_diff_db + spread], minlength=prep.b_count.size)
    narrow = np.bincount(
        prep.r_bin[gap <= p.max_rsrp_diff_db - spread], minlength=prep.b_count.size
    )
    unsure = np.flatnonzero((prep.b_count >= need) & (wide >= need) & (narrow < need))
    if unsure.size == 0:
        return prob, level
    k = np.minimum(prep.b_count[unsure], max(_MAX_SAMPLED_ROWS, need))
    cols = np.arange(int(k.max()))
    valid = cols[None, :] < k[:, None]
    idx = np.where(valid, prep.b_start[unsure][:, None] + cols[None, :], 0)
    mu = np.where(valid, level[idx], -np.inf).astype(np.float32)
    sd = np.where(valid, np.sqrt(var[idx]), 0.0).astype(np.float32)
    rng = np.random.default_rng(p.noise_seed)
    chunk = max(1, 2_000_000 // (cols.size * p.noise_samples))
    for a in range(0, unsure.size, chunk):
        sl = slice(a, a + chunk)
        draw = mu[sl][:, :, None] + sd[sl][:, :, None] * rng.standard_normal(
            (mu[sl].shape[0], cols.size, p.noise_samples), dtype=np.float32
        )
        top = draw.max(axis=1, keepdims=True)
        hits = (draw >= top - p.max_rsrp_diff_db).sum(axis=1) >= need
        prob[unsure[sl]] = hits.mean(axis=1)
    return prob, level


def detect_interference(
    prep: Prepared, p: InterferenceParams
) -> tuple[pl.DataFrame, list[InterferenceZone]]:
    """Interfered bins by zone and the zones (see module docstring)."""
    n_bins = prep.b_count.size
    prob, level = interference_probability(prep, p)
    best = _segment_max(level, prep.b_start)
    close = level >= best[prep.r_bin] - p.max_rsrp_diff_db
    interfered = prob >= p.min_interference_probability
    if not interfered.any():
        return pl.DataFrame(schema=INTERFERENCE_GRID_SCHEMA), []
    keys = prep.b_ix * _SHIFT + prep.b_iy
    order = np.argsort(keys, kind="stable").astype(np.int64)
    keys_sorted = keys[order]
    cand = np.flatnonzero(interfered)
    n_meas = np.zeros(cand.size, dtype=np.int64)
    n_int = np.zeros(cand.size)
    dxs, dys = gh.k_ring_offsets(p.k_ring)
    for dx, dy in zip(dxs.tolist(), dys.tolist(), strict=True):
        hit = _lookup(keys_sorted, order, keys[cand] + dx * _SHIFT + dy)
        found = hit >= 0
        n_meas += found
        n_int += np.where(found, prob[np.maximum(hit, 0)], 0.0)
    kept_bins = cand[n_int >= p.perc_interference * n_meas]
    if kept_bins.size == 0:
        return pl.DataFrame(schema=INTERFERENCE_GRID_SCHEMA), []
    # connected components (8-neighbour) among kept bins
    local = np.full(n_bins, -1, dtype=np.int64)
    local[kept_bins] = np.arange(kept_bins.size)
    src_l: list[IntArray] = []
    dst_l: list[IntArray] = []
    for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
        hit = _lookup(keys_sorted, order, keys[kept_bins] + dx * _SHIFT + dy)
        ok = hit >= 0
        nb = np.where(ok, local[np.maximum(hit, 0)], -1)
        ok &= nb >= 0
        src_l.append(np.flatnonzero(ok))
        dst_l.append(nb[ok])
    src, dst = np.concatenate(src_l), np.concatenate(dst_l)
    graph = coo_matrix((np.ones(src.size), (src, dst)), shape=(kept_bins.size, kept_bins.size))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label)
    big = sizes[label] >= p.min_zone_grids
    kept_bins, label = kept_bins[big], label[big]
    if kept_bins.size == 0:
        return pl.DataFrame(schema=INTERFERENCE_GRID_SCHEMA), []
    # zone ids 1..n ordered by size (largest first)
    _uniq, inv = np.unique(label, return_inverse=True)
    rank = np.argsort(np.argsort(-np.bincount(inv), kind="stable"), kind="stable")
    zone = rank[inv].astype(np.int64) + 1
    return _outputs(prep, close, kept_bins, zone)


def _outputs(
    prep: Prepared, close: npt.NDArray[np.bool_], kept_bins: IntArray, zone: IntArray
) -> tuple[pl.DataFrame, list[InterferenceZone]]:
    zone_of_bin = np.zeros(prep.b_count.size, dtype=np.int64)
    zone_of_bin[kept_bins] = zone
    rows = close & (zone_of_bin[prep.r_bin] > 0)
    cell_ids = prep.gis["cell_id"].to_numpy()
    frame = pl.DataFrame(
        {"bin": prep.r_bin[rows], "cell_id": cell_ids[prep.r_cell[rows]], "rsrp": prep.r_rsrp[rows]}
    )
    per_bin = (
        frame.group_by("bin")
        .agg(
            pl.len().cast(pl.Int64).alias("num_cells"),
            pl.col("cell_id").sort().cast(pl.Utf8).str.join(",").alias("cells"),
        )
        .sort("bin")
    )
    b = per_bin["bin"].to_numpy()
    grids = per_bin.select(
        pl.Series("zone_id", zone_of_bin[b]),
        pl.Series("grid", prep.bin_grid.to_numpy()[b]),
        "num_cells",
        "cells",
    ).sort(["zone_id", "grid"])
    dlat, dlon = gh.cell_size_deg(7)
    best_events = prep.r_events[prep.b_start]
    zones: list[InterferenceZone] = []
    zcells = (
        frame.with_columns(pl.Series("zone", zone_of_bin[frame["bin"].to_numpy()]))
        .group_by("zone")
        .agg(pl.col("cell_id").unique().sort())
    )
    cells_by_zone = dict(zip(zcells["zone"].to_list(), zcells["cell_id"].to_list(), strict=True))
    for z in range(1, int(zone.max()) + 1):
        members = kept_bins[zone == z]
        lat, lon = prep.b_lat[members], prep.b_lon[members]
        corners = np.column_stack(
            [
                np.concatenate([lon - dlon / 2, lon + dlon / 2, lon + dlon / 2, lon - dlon / 2]),
                np.concatenate([lat - dlat / 2, lat - dlat / 2, lat + dlat / 2, lat + dlat / 2]),
            ]
        )
        hull = corners[ConvexHull(corners).vertices]
        ring = [(float(x), float(y)) for x, y in hull] + [(float(hull[0, 0]), float(hull[0, 1]))]
        zones.append(
            InterferenceZone(
                zone_id=z,
                polygon_lonlat=ring,
                cell_ids=[int(c) for c in cells_by_zone.get(z, [])],
                num_grids=int(members.size),
                traffic=int(best_events[members].sum()),
                centroid_lon_deg=float(lon.mean()),
                centroid_lat_deg=float(lat.mean()),
            )
        )
    return grids, zones
