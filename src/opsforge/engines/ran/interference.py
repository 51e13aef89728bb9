"""Interference zones: clusters of bins where many cells arrive at about the same level.

1. A bin is *interfered* when at least ``min_filtered_cells_per_grid`` cells (the best one
   included) are within its window of its best RSRP: ``max_rsrp_diff_db``, widened when
   ``noise_aware_window`` is on by ``noise_window_k x measurement_sigma_db / sqrt(eventCount)``
   (the uncertainty of the bin's averaged levels; eventCount of the best row).
2. An interfered bin is *kept* when, among the measured bins within Chebyshev distance
   ``k_ring`` on the geohash grid (itself included), the share of interfered bins is at least
   ``perc_interference``: isolated bins (shadowing noise) are dropped, coherent areas stay.
3. Kept bins are clustered into zones: connected components under 8-neighbour adjacency on
   the geohash grid. Zones smaller than ``min_zone_grids`` are dropped.
4. Each zone gets the convex hull of its bins' corners as a closed (lon, lat) ring, its
   centroid, traffic (eventCount of the best-server rows) and the cells involved (those within
   the window in any of its bins).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull

from opsforge.engines.ran import geohash as gh
from opsforge.engines.ran.model import (
    INTERFERENCE_GRID_SCHEMA,
    InterferenceParams,
    InterferenceZone,
)
from opsforge.engines.ran.prepare import Prepared

__all__ = ["detect_interference"]

IntArray = npt.NDArray[np.int64]
_SHIFT = np.int64(1 << 20)


def _lookup(keys_sorted: IntArray, order: IntArray, query: IntArray) -> IntArray:
    """Index (into the unsorted key array) of each query key, -1 when absent."""
    pos = np.searchsorted(keys_sorted, query)
    pos = np.minimum(pos, keys_sorted.size - 1)
    hit = keys_sorted[pos] == query
    return np.where(hit, order[pos], -1)


def detect_interference(
    prep: Prepared, p: InterferenceParams
) -> tuple[pl.DataFrame, list[InterferenceZone]]:
    """Interfered bins by zone and the zones (see module docstring)."""
    n_bins = prep.b_count.size
    window = np.full(n_bins, p.max_rsrp_diff_db)
    if p.noise_aware_window:
        events = np.maximum(prep.r_events[prep.b_start], 1).astype(np.float64)
        window += p.noise_window_k * p.measurement_sigma_db / np.sqrt(events)
    close = prep.r_rsrp >= prep.b_best_rsrp[prep.r_bin] - window[prep.r_bin]
    n_close = np.bincount(prep.r_bin[close], minlength=n_bins)
    interfered = n_close >= p.min_filtered_cells_per_grid
    if not interfered.any():
        return pl.DataFrame(schema=INTERFERENCE_GRID_SCHEMA), []
    keys = prep.b_ix * _SHIFT + prep.b_iy
    order = np.argsort(keys, kind="stable").astype(np.int64)
    keys_sorted = keys[order]
    cand = np.flatnonzero(interfered)
    n_meas = np.zeros(cand.size, dtype=np.int64)
    n_int = np.zeros(cand.size, dtype=np.int64)
    dxs, dys = gh.k_ring_offsets(p.k_ring)
    for dx, dy in zip(dxs.tolist(), dys.tolist(), strict=True):
        hit = _lookup(keys_sorted, order, keys[cand] + dx * _SHIFT + dy)
        found = hit >= 0
        n_meas += found
        n_int += found & interfered[np.maximum(hit, 0)]
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
