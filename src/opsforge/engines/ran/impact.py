"""Expected impact of tilt changes, re-scored on the measured bins.

For every measured row of a changed cell the RSRP changes by the difference of the 3GPP 3D
pattern gain (:func:`.antenna.sector_gain_db`) between the proposed and the current electrical
and mechanical tilts (a mechanical change tilts the pattern by ``delta x cos(azimuth
offset)``), toward that bin (azimuth offset and depression angle from the GIS). Other cells' rows
stay. Per bin the best server, the SINR (best cell over the sum of the other measured cells
plus ``noise_dbm``, full load) and the spectral efficiency (3GPP TR 36.942 Annex A.1 truncated
Shannon: alpha 0.6, SINR_min -10 dB, max 4.4 bps/Hz) are computed before and after the whole
plan. For each changed cell, over the bins where it is measured:

- ``impact_bins_gained`` / ``impact_bins_lost``: bins it becomes / stops being best server in;
- ``impact_traffic_gained`` / ``impact_traffic_lost``: eventCount (all rows) of those bins;
- ``impact_coverage_change_pct``: change of the share of bins whose best RSRP is at least
  ``coverage_rsrp_dbm``, in percentage points;
- ``impact_sinr_change_db``: traffic-weighted mean SINR change;
- ``impact_throughput_change_pct``: relative change of traffic-weighted mean spectral
  efficiency (a proxy of throughput at equal bandwidth and load).

Bins that no cell reports today cannot be scored; an uptilt's new reach beyond today's measured
bins is therefore not counted (conservative).

References
----------
3GPP TR 36.942 V17.0.0, Annex A.1; 3GPP TR 36.814 V9.2.0, Table A.2.1.1-2.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from opsforge.engines.ran.antenna import depression_deg, sector_gain_db
from opsforge.engines.ran.model import COVERAGE_SCHEMA, ImpactParams
from opsforge.engines.ran.prepare import Prepared
from opsforge.engines.ran.propagation import spectral_efficiency_bps_hz

__all__ = ["IMPACT_COLUMNS", "score_impact"]

IMPACT_COLUMNS = [
    "impact_bins_gained",
    "impact_bins_lost",
    "impact_traffic_gained",
    "impact_traffic_lost",
    "impact_coverage_change_pct",
    "impact_sinr_change_db",
    "impact_throughput_change_pct",
]


def _bin_metrics(
    rsrp: npt.NDArray[np.float64],
    cells: npt.NDArray[np.int64],
    local_bin: npt.NDArray[np.int64],
    seg_start: npt.NDArray[np.int64],
    noise_mw: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Best RSRP, best cell and SINR per local bin; rows are contiguous per bin."""
    best_rsrp = np.maximum.reduceat(rsrp, seg_start)
    at_max = np.flatnonzero(rsrp == best_rsrp[local_bin])
    _, first = np.unique(local_bin[at_max], return_index=True)
    best_cell = cells[at_max[first]]
    total = np.add.reduceat(np.power(10.0, rsrp / 10.0), seg_start)
    s = np.power(10.0, best_rsrp / 10.0)
    sinr = 10.0 * np.log10(s / np.maximum(total - s + noise_mw, 1e-30))
    return best_rsrp, best_cell, sinr


def score_impact(
    prep: Prepared, changes: pl.DataFrame, p: ImpactParams
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Impact per changed cell and the per-bin coverage frame.

    Parameters
    ----------
    changes
        ``cell_idx``, ``tilt_change_deg`` (positive = more downtilt) of the final plan and
        optionally ``tilt_change_m_deg``, its mechanical part (the rest is electrical).

    Returns
    -------
    (``cell_idx`` + :data:`IMPACT_COLUMNS`, coverage frame with :data:`COVERAGE_SCHEMA`)
    """
    n_cells = prep.gis.height
    delta = np.zeros(n_cells)
    delta_m = np.zeros(n_cells)
    delta[changes["cell_idx"].to_numpy()] = changes["tilt_change_deg"].to_numpy()
    if "tilt_change_m_deg" in changes.columns:
        delta_m[changes["cell_idx"].to_numpy()] = changes["tilt_change_m_deg"].to_numpy()
    changed = delta != 0.0
    if not changed.any():
        return pl.DataFrame(
            schema={"cell_idx": pl.Int64, **dict.fromkeys(IMPACT_COLUMNS, pl.Float64)}
        ), pl.DataFrame(schema=COVERAGE_SCHEMA)
    gis = prep.gis
    touched = np.zeros(prep.b_count.size, dtype=bool)
    touched[prep.r_bin[changed[prep.r_cell]]] = True
    rows = np.flatnonzero(touched[prep.r_bin])
    cells = prep.r_cell[rows]
    local_of = np.cumsum(touched) - 1
    local_bin = local_of[prep.r_bin[rows]].astype(np.int64)
    ch = changed[cells]
    rsrp_before = prep.r_rsrp[rows]
    rsrp_after = rsrp_before.copy()
    c = cells[ch]
    dep = depression_deg(prep.r_dist_m[rows][ch], gis["height_m"].to_numpy()[c] - 1.5)
    args = (prep.r_az_off_deg[rows][ch], dep)
    tilt_e, tilt_m = gis["tilt_e_deg"].to_numpy()[c], gis["tilt_m_deg"].to_numpy()[c]
    hbw, vbw = gis["hbw_deg"].to_numpy()[c], gis["vbw_deg"].to_numpy()[c]
    g0 = sector_gain_db(*args, tilt_e, tilt_m, hbw, vbw)
    g1 = sector_gain_db(*args, tilt_e + delta[c] - delta_m[c], tilt_m + delta_m[c], hbw, vbw)
    rsrp_after[ch] += g1 - g0
    noise_mw = float(10.0 ** (p.noise_dbm / 10.0))
    seg_start = np.flatnonzero(np.r_[True, local_bin[1:] != local_bin[:-1]])
    b0, c0, s0 = _bin_metrics(rsrp_before, cells, local_bin, seg_start, noise_mw)
    b1, c1, s1 = _bin_metrics(rsrp_after, cells, local_bin, seg_start, noise_mw)
    bins_global = np.flatnonzero(touched)
    w = prep.b_traffic[bins_global].astype(np.float64)
    e0, e1 = spectral_efficiency_bps_hz(s0), spectral_efficiency_bps_hz(s1)
    cov0, cov1 = b0 >= p.coverage_rsrp_dbm, b1 >= p.coverage_rsrp_dbm
    # per changed cell, over the bins where it is measured
    lb, cc = local_bin[ch], c
    gained = (c1[lb] == cc) & (c0[lb] != cc)
    lost = (c0[lb] == cc) & (c1[lb] != cc)
    n_c = np.bincount(cc, minlength=n_cells).astype(np.float64)
    wsum = np.bincount(cc, weights=w[lb], minlength=n_cells)
    se0 = np.bincount(cc, weights=w[lb] * e0[lb], minlength=n_cells)
    se1 = np.bincount(cc, weights=w[lb] * e1[lb], minlength=n_cells)
    idx = np.flatnonzero(changed)
    sinr_d = np.bincount(cc, weights=w[lb] * (s1[lb] - s0[lb]), minlength=n_cells)
    cov_d = np.bincount(
        cc, weights=cov1[lb].astype(float) - cov0[lb].astype(float), minlength=n_cells
    )
    impact = pl.DataFrame(
        {
            "cell_idx": idx.astype(np.int64),
            "impact_bins_gained": np.bincount(cc[gained], minlength=n_cells)[idx].astype(np.int64),
            "impact_bins_lost": np.bincount(cc[lost], minlength=n_cells)[idx].astype(np.int64),
            "impact_traffic_gained": np.bincount(
                cc[gained], weights=w[lb][gained], minlength=n_cells
            )[idx].astype(np.int64),
            "impact_traffic_lost": np.bincount(cc[lost], weights=w[lb][lost], minlength=n_cells)[
                idx
            ].astype(np.int64),
            "impact_coverage_change_pct": 100.0 * cov_d[idx] / np.maximum(n_c[idx], 1.0),
            "impact_sinr_change_db": sinr_d[idx] / np.maximum(wsum[idx], 1e-9),
            "impact_throughput_change_pct": 100.0
            * (se1[idx] - se0[idx])
            / np.maximum(se0[idx], 1e-9),
        }
    )
    r_ch = rows[ch]
    coverage = pl.DataFrame(
        {
            "grid": prep.bin_grid.to_numpy()[prep.r_bin[r_ch]],
            "cell_id": gis["cell_id"].to_numpy()[prep.r_cell[r_ch]],
            "rsrp_before_dbm": rsrp_before[ch],
            "rsrp_after_dbm": rsrp_after[ch],
        }
    ).sort(["cell_id", "grid"])
    return impact, coverage
