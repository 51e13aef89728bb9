"""Crossed feeders: within a site, cells radiate through each other's antennas.

1. Observed azimuth of a cell: traffic-weighted circular mean of the directions (site -> bin) of
   the bins where it is best server plus its strongest rows (RSRP at or above the
   ``1 - top_percent_threshold`` quantile of its measured rows), leaving out bins closer than ``min_distance_m`` to the
   site (their direction is undefined at the bin size). At least ``min_bins`` rows are needed.
   Its concentration is the mean resultant length ``R`` in [0, 1].
2. A cell is *off-azimuth* when the observed azimuth differs from its GIS bearing by at least
   ``min_angular_deviation_deg``.
3. For each (site, band) with an off-azimuth cell, the assignment of observed azimuths to the
   group's bearings with the least total angular error (Hungarian method) gives a permutation
   ``sigma``: cell ``i``'s signal leaves through the antenna planned for cell ``sigma(i)``.
4. Each cycle of ``sigma`` longer than one whose members deviate from their own bearings by at
   least ``min_angular_deviation_deg`` on average (each by at least half of it) and each match
   their new bearing within ``match_tolerance_deg`` is a crossed-feeder group (pair or
   three-way): action ``swap_feeders``. An off-azimuth cell in no such cycle gets ``check_azimuth``: one
   antenna pointing the wrong way is not a swap.

``permutation`` lists ``X->Y`` for each member: cell X's signal is radiated by the antenna
planned for cell Y. Confidence = 0.3 support (rows used / 4 ``min_bins``) + 0.3 ``R`` + 0.4
match quality (1 - worst match error / tolerance).
"""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.optimize import linear_sum_assignment

from opsforge.engines.ran.findings import FINDING_COLUMNS, empty_findings
from opsforge.engines.ran.model import CrossedFeederParams
from opsforge.engines.ran.prepare import Prepared

__all__ = ["detect_crossed_feeders", "observed_azimuths"]


def _ang_diff(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.abs(np.mod(a - b + 180.0, 360.0) - 180.0)


def observed_azimuths(prep: Prepared, p: CrossedFeederParams) -> pl.DataFrame:
    """Per cell: ``cell_idx``, ``observed_azimuth_deg``, ``concentration``, ``num_rows_used``."""
    n_cells = prep.gis.height
    thr = (
        pl.DataFrame({"cell_idx": prep.r_cell, "rsrp": prep.r_rsrp})
        .group_by("cell_idx")
        .agg(pl.col("rsrp").quantile(1.0 - p.top_percent_threshold, "higher").alias("thr"))
    )
    cell_thr = np.full(n_cells, np.inf)
    cell_thr[thr["cell_idx"].to_numpy()] = thr["thr"].to_numpy()
    use = (prep.r_is_best | (prep.r_rsrp >= cell_thr[prep.r_cell])) & (
        prep.r_dist_m >= p.min_distance_m
    )
    rad = np.deg2rad(prep.r_dir_deg[use])
    w = prep.r_events[use].astype(np.float64)
    cells = prep.r_cell[use]
    ws = np.bincount(cells, weights=w * np.sin(rad), minlength=n_cells)
    wc = np.bincount(cells, weights=w * np.cos(rad), minlength=n_cells)
    wt = np.bincount(cells, weights=w, minlength=n_cells)
    num = np.bincount(cells, minlength=n_cells)
    agg = pl.DataFrame(
        {
            "cell_idx": np.arange(n_cells, dtype=np.int64),
            "ws": ws,
            "wc": wc,
            "wt": wt,
            "num_rows_used": num.astype(np.int64),
        }
    ).filter(pl.col("num_rows_used") > 0)
    return agg.select(
        "cell_idx",
        (pl.arctan2("ws", "wc").degrees() % 360.0).alias("observed_azimuth_deg"),
        ((pl.col("ws") ** 2 + pl.col("wc") ** 2).sqrt() / pl.col("wt")).alias("concentration"),
        "num_rows_used",
    ).sort("cell_idx")


def _cycles(sigma: np.ndarray) -> list[list[int]]:
    seen = np.zeros(sigma.size, dtype=bool)
    out: list[list[int]] = []
    for start in range(sigma.size):
        if seen[start]:
            continue
        cyc = []
        j = start
        while not seen[j]:
            seen[j] = True
            cyc.append(j)
            j = int(sigma[j])
        out.append(cyc)
    return out


def detect_crossed_feeders(prep: Prepared, p: CrossedFeederParams) -> pl.DataFrame:
    """Swap and check-azimuth findings (see module docstring)."""
    gis = prep.gis
    az = observed_azimuths(prep, p).filter(pl.col("num_rows_used") >= p.min_bins)
    cells = gis.select("cell_idx", "cell_id", "site_idx", "band", "bearing_deg").join(
        az, on="cell_idx", how="inner"
    )
    cells = cells.with_columns(
        (
            ((pl.col("observed_azimuth_deg") - pl.col("bearing_deg") + 180.0) % 360.0 - 180.0).abs()
        ).alias("deviation_deg")
    ).with_columns((pl.col("deviation_deg") >= p.min_angular_deviation_deg).alias("off"))
    groups = cells.filter(pl.col("off").any().over("site_idx", "band"))
    rows: list[dict[str, object]] = []
    for (_, _), g in groups.group_by(["site_idx", "band"], maintain_order=True):
        obs = g["observed_azimuth_deg"].to_numpy()
        brg = g["bearing_deg"].to_numpy()
        ids = g["cell_id"].to_list()
        cost = _ang_diff(obs[:, None], brg[None, :])
        row_ind, col_ind = linear_sum_assignment(cost)
        sigma = np.empty(len(ids), dtype=np.int64)
        sigma[row_ind] = col_ind
        off = g["off"].to_numpy()
        dev = g["deviation_deg"].to_numpy()
        half = 0.5 * p.min_angular_deviation_deg
        err = cost[np.arange(len(ids)), sigma]
        used: set[int] = set()
        for cyc in _cycles(sigma):
            if len(cyc) < 2 or not all(
                dev[i] >= half and err[i] <= p.match_tolerance_deg for i in cyc
            ):
                continue
            if float(np.mean(dev[cyc])) < p.min_angular_deviation_deg:
                continue
            used.update(cyc)
            perm = ",".join(f"{ids[i]}->{ids[int(sigma[i])]}" for i in cyc)
            quality = float(1.0 - err[cyc].max() / p.match_tolerance_deg)
            for i in cyc:
                rows.append(
                    _row(
                        g,
                        i,
                        "swap_feeders",
                        ",".join(str(ids[j]) for j in cyc if j != i),
                        perm,
                        quality,
                        p,
                        f"observed azimuth {obs[i]:.0f} deg is {g['deviation_deg'][i]:.0f} deg off "
                        f"its bearing {brg[i]:.0f} deg and matches the bearing {brg[int(sigma[i])]:.0f} deg "
                        f"of cell {ids[int(sigma[i])]} within {err[i]:.0f} deg; "
                        f"{len(cyc)}-way feeder permutation {perm}.",
                        sigma_id=ids[int(sigma[i])],
                    )
                )
        for i in (int(k) for k in np.flatnonzero(off)):
            if i in used:
                continue
            rows.append(
                _row(
                    g,
                    i,
                    "check_azimuth",
                    None,
                    None,
                    0.0,
                    p,
                    f"observed azimuth {obs[i]:.0f} deg is {g['deviation_deg'][i]:.0f} deg off its bearing "
                    f"{brg[i]:.0f} deg with no sister cell to swap with; check the antenna azimuth.",
                    sigma_id=None,
                )
            )
    if not rows:
        return empty_findings()
    return pl.DataFrame(rows, schema=empty_findings().schema).select(FINDING_COLUMNS)


def _row(
    g: pl.DataFrame,
    i: int,
    action: str,
    swap_with: str | None,
    perm: str | None,
    quality: float,
    p: CrossedFeederParams,
    reason: str,
    sigma_id: int | None,
) -> dict[str, object]:
    conc = float(g["concentration"][i])
    n_used = int(g["num_rows_used"][i])
    support = min(1.0, n_used / (4.0 * p.min_bins))
    if action == "check_azimuth":
        dev = float(g["deviation_deg"][i])
        quality = min(
            1.0,
            (dev - p.min_angular_deviation_deg) / max(180.0 - p.min_angular_deviation_deg, 1e-9),
        )
    conf = float(np.clip(0.3 * support + 0.3 * conc + 0.4 * quality, 0.0, 1.0))
    evidence = {
        "bearing_deg": round(float(g["bearing_deg"][i]), 1),
        "observed_azimuth_deg": round(float(g["observed_azimuth_deg"][i]), 1),
        "deviation_deg": round(float(g["deviation_deg"][i]), 1),
        "concentration": round(conc, 3),
        "num_rows_used": n_used,
        "radiates_through_cell": sigma_id,
    }
    return {
        "cell_idx": int(g["cell_idx"][i]),
        "issue": "crossed_feeder",
        "action": action,
        "tilt_change_deg": 0.0,
        "swap_with": swap_with,
        "permutation": perm,
        "confidence": conf,
        "reason": reason,
        "evidence_json": json.dumps(evidence),
    }
