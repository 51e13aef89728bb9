"""Tilt seen through co-sited sisters: the antenna pattern isolated from the propagation path.

Cells of one site share the propagation path to a bin: the same distance, terrain, clutter
and (to first order) the same shadowing. The level difference between two co-sited cells
reported in one bin is therefore their antenna pattern difference plus measurement noise:

    r_i - r_j = [A_H(theta - az_i) + A_V(psi, t_i(theta))] - [A_H(theta - az_j) + A_V(psi, t_j)] + c_ij

with the 3GPP pattern (:mod:`.antenna`), theta the direction and psi the depression angle of
the bin, t the effective downtilt (electrical + mechanical x cos(azimuth offset)) and c_ij a
free offset per pair (EIRP, feeder loss). For each cell one parameter of its own pattern is
searched on a grid with the sisters as recorded, and the mean squared residual it removes
against the recorded value measures how much the data prefer it:

* :func:`sister_tilt_offsets`: an extra downtilt ``delta`` (bins of the cell's front half); a
  large positive ``delta`` with a large reduction is a downtilt the GIS does not record (a
  mechanical tilt changed on site);
* :func:`sister_azimuth_offsets`: an azimuth offset ``gamma`` (all bins); a large ``gamma``
  with a large reduction is an antenna pointing elsewhere than its recorded bearing. Unlike
  the direction of the cell's own best-server area, which its sisters squeeze, the fit is not
  biased toward the recorded bearing.

References
----------
3GPP TR 36.814 V9.2.0, Table A.2.1.1-2 (antenna pattern). F. Gunnarsson et al., IEEE VTC
2008-Fall, doi:10.1109/VETECF.2008.76 (mechanical tilt acts as ``m cos(azimuth offset)``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import polars as pl

from opsforge.engines.ran.antenna import (
    depression_deg,
    effective_downtilt_deg,
    horizontal_attenuation_db,
    vertical_attenuation_db,
)
from opsforge.engines.ran.prepare import Prepared

__all__ = [
    "AZIMUTH_OFFSETS_DEG",
    "TILT_OFFSETS_DEG",
    "sister_azimuth_offsets",
    "sister_tilt_offsets",
]

#: Extra downtilts and azimuth offsets the detectors try (each contains 0). [deg]
TILT_OFFSETS_DEG = np.arange(-8.0, 16.01, 1.0)
AZIMUTH_OFFSETS_DEG = np.arange(-90.0, 90.01, 5.0)
_MIN_DISTANCE_M = 100.0  # nearer bins: direction and depression undefined at bin size
FloatArray = npt.NDArray[np.float64]
_MAX_WEIGHT_EVENTS = 20  # a row's weight is sqrt(min(eventCount, 20)) of the poorer row


def _co_sited_pairs(
    prep: Prepared, wanted: npt.NDArray[np.bool_], front_only: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Row pairs (i, j) of one bin from two cells of one site, cell i ``wanted``, bin at least
    100 m from the site (and in the front half of cell i's recorded bearing if
    ``front_only``). Rows are grouped by bin (a few each), so pairs are rows ``k`` apart inside
    a bin, for each ``k``: no join. Only the rows of wanted cells are scanned (a few cells cost
    a few rows)."""
    rows = np.flatnonzero(wanted[prep.r_cell] & (prep.r_dist_m >= _MIN_DISTANCE_M))
    if front_only:
        rows = rows[np.abs(prep.r_az_off_deg[rows]) <= 90.0]
    rank = rows - prep.b_start[prep.r_bin[rows]]
    count = prep.b_count[prep.r_bin[rows]]
    site = prep.c_site[prep.r_cell[rows]]
    out_i: list[npt.NDArray[np.int64]] = []
    out_j: list[npt.NDArray[np.int64]] = []
    max_count = int(prep.b_count.max(initial=0))
    for k in range(1, max_count):
        for step in (k, -k):
            ok = (rank + step >= 0) & (rank + step < count)
            i = rows[ok]
            j = i + step
            same = site[ok] == prep.c_site[prep.r_cell[j]]
            out_i.append(i[same])
            out_j.append(j[same])
    if not out_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64)


def _pattern_db(
    prep: Prepared,
    cell: npt.NDArray[np.int64],
    off_deg: FloatArray,
    psi_deg: FloatArray,
    extra_tilt_deg: float = 0.0,
) -> FloatArray:
    """3D pattern of ``cell`` at azimuth offsets ``off_deg`` and depression ``psi_deg``, with
    ``extra_tilt_deg`` more (mechanical-style) downtilt. [dB]"""
    gis = prep.gis
    te, tm = gis["tilt_e_deg"].to_numpy()[cell], gis["tilt_m_deg"].to_numpy()[cell]
    tilt = effective_downtilt_deg(te, tm, off_deg) + extra_tilt_deg * np.cos(np.deg2rad(off_deg))
    return horizontal_attenuation_db(off_deg, gis["hbw_deg"].to_numpy()[cell]) + (
        vertical_attenuation_db(psi_deg, tilt, gis["vbw_deg"].to_numpy()[cell])
    )


def _fit(
    prep: Prepared,
    cells: npt.NDArray[np.int64],
    grid: npt.NDArray[np.float64],
    front_only: bool,
    pattern: Callable[[npt.NDArray[np.int64], FloatArray, FloatArray, float], FloatArray],
    name: str,
) -> pl.DataFrame:
    """Best ``grid`` value per cell of ``pattern(cell, off_deg, psi_deg, value)`` against the
    sisters; the frame of the public functions with ``name`` as the offset column."""
    n = prep.gis.height
    wanted = np.zeros(n, dtype=bool)
    wanted[cells] = True
    ri, rj = _co_sited_pairs(prep, wanted, front_only)
    if ri.size == 0:
        return pl.DataFrame(
            schema={
                "cell_idx": pl.Int64,
                name: pl.Float64,
                "sister_mse_reduction_db2": pl.Float64,
                "num_sister_pairs": pl.Int64,
            }
        )
    ci, cj = prep.r_cell[ri], prep.r_cell[rj]
    bearing = prep.gis["bearing_deg"].to_numpy()
    psi = depression_deg(prep.r_dist_m[ri], prep.gis["height_m"].to_numpy()[ci] - 1.5)
    off_j = np.mod(prep.r_dir_deg[ri] - bearing[cj] + 180.0, 360.0) - 180.0
    y = prep.r_rsrp[ri] - prep.r_rsrp[rj] + _pattern_db(prep, cj, off_j, psi)
    off_i = prep.r_az_off_deg[ri]
    ev = np.minimum(prep.r_events[ri], prep.r_events[rj])
    w = np.sqrt(np.minimum(ev, _MAX_WEIGHT_EVENTS).astype(np.float64))
    _, pair_id = np.unique(ci * n + cj, return_inverse=True)
    w_pair = np.bincount(pair_id, w)
    w_cell = np.bincount(ci, w, minlength=n)
    best = np.zeros(n)
    best_mse = np.full(n, np.inf)
    mse0 = np.full(n, np.nan)
    for value in grid:
        e = y - pattern(ci, off_i, psi, float(value))
        e = e - (np.bincount(pair_id, w * e) / w_pair)[pair_id]  # free offset per pair
        mse = np.divide(
            np.bincount(ci, w * e * e, minlength=n),
            w_cell,
            out=np.full(n, np.inf),
            where=w_cell > 0,
        )
        better = mse < best_mse
        best_mse[better], best[better] = mse[better], value
        if value == 0.0:
            mse0 = mse
    num = np.bincount(ci, minlength=n)
    idx = np.flatnonzero((num > 0) & wanted)
    return pl.DataFrame(
        {
            "cell_idx": idx.astype(np.int64),
            name: best[idx],
            "sister_mse_reduction_db2": mse0[idx] - best_mse[idx],
            "num_sister_pairs": num[idx].astype(np.int64),
        }
    )


def sister_tilt_offsets(
    prep: Prepared,
    cells: npt.NDArray[np.int64],
    deltas_deg: npt.NDArray[np.float64],
    front_only: bool = True,
) -> pl.DataFrame:
    """Extra downtilt of ``cells`` (cell indices) fitted against their co-sited sisters, in
    the bins of their front half (all bins with ``front_only`` false).

    Returns ``cell_idx``, ``sister_tilt_offset_deg`` (best ``delta`` of ``deltas_deg``, which
    must contain 0) [deg], ``sister_mse_reduction_db2`` (weighted mean squared residual at
    ``delta = 0`` minus at the best ``delta``) [dB^2] and ``num_sister_pairs`` (bin rows used);
    cells without any co-sited sister reported in the same bin are left out.
    """

    def pattern(
        cell: npt.NDArray[np.int64], off: FloatArray, psi: FloatArray, delta: float
    ) -> FloatArray:
        return _pattern_db(prep, cell, off, psi, delta)

    return _fit(prep, cells, deltas_deg, front_only, pattern, "sister_tilt_offset_deg")


def sister_azimuth_offsets(
    prep: Prepared, cells: npt.NDArray[np.int64], gammas_deg: npt.NDArray[np.float64]
) -> pl.DataFrame:
    """Azimuth offset of ``cells`` fitted against their co-sited sisters (all directions).

    Returns ``cell_idx``, ``sister_azimuth_offset_deg`` (best ``gamma`` of ``gammas_deg``,
    which must contain 0; positive = clockwise of the recorded bearing) [deg],
    ``sister_mse_reduction_db2`` [dB^2] and ``num_sister_pairs``, as
    :func:`sister_tilt_offsets`.
    """

    def pattern(
        cell: npt.NDArray[np.int64], off: FloatArray, psi: FloatArray, gamma: float
    ) -> FloatArray:
        return _pattern_db(prep, cell, np.mod(off - gamma + 180.0, 360.0) - 180.0, psi)

    return _fit(prep, cells, gammas_deg, False, pattern, "sister_azimuth_offset_deg")
