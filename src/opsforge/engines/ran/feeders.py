"""Crossed feeders: within a site, cells radiate through each other's antennas.

1. Observed azimuth of a cell: traffic-weighted circular mean of the directions (site -> bin) of
   the bins where it is best server plus its strongest rows (RSRP at or above the
   ``1 - top_percent_threshold`` quantile of its measured rows), leaving out bins closer than
   ``min_distance_m`` to the site (their direction is undefined at the bin size). A cell with
   fewer than ``min_bins`` such rows (a swapped cell often wins few bins) is estimated from all
   its reported rows instead, trusted only with a concentration of at least
   ``min_fallback_concentration`` (else the cell is unmeasured). Its concentration is the mean resultant length ``R`` in [0, 1].
2. For each (site, band) where a cell deviates from its bearing by at least
   ``check_azimuth_deviation_deg`` or by half the angle to its nearest sister bearing, the
   assignment of observed azimuths to the group's bearings with the least total angular error
   (Hungarian method) gives a permutation ``sigma``: cell ``i``'s signal leaves through the
   antenna planned for cell ``sigma(i)``. Cells without any usable estimate enter with equal cost
   for every bearing, so they take the bearing the others leave (inferred members).
3. Each cycle of ``sigma`` longer than one is a crossed-feeder group (``swap_feeders``) when every
   measured member's observed azimuth is within ``match_tolerance_deg`` of its new bearing and
   closer to it than to its own by at least ``swap_margin_share`` x the angle between the two
   bearings (relative to the site's own sector spacing, so 4-sector sites and uneven bearings
   work), the two bearings being at least ``min_sector_separation_deg`` apart. A three-way or
   longer cycle may hold one inferred member; a pair may not.
4. A measured cell in no group and at least ``min(min_angular_deviation_deg,
   check_azimuth_deviation_deg)`` off its bearing gets ``check_azimuth``: one antenna pointing the
   wrong way is not a swap. On a site whose cells share at least ``sister_azimuth_min_pairs``
   rows with it, the sister azimuth fit (step 5) must corroborate the turn (same direction, at
   least ``check_azimuth_sister_min_offset_deg``, removing
   ``check_azimuth_sister_min_mse_reduction_db2``): a best-server direction pulled aside by
   terrain, clutter or a hidden downtilt is not an antenna turned.
5. On sites with neither, the sister azimuth fit (:func:`.sisters.sister_azimuth_offsets`:
   level differences against the co-sited cells, which share the propagation path) may give
   one cell ``check_azimuth`` (see :class:`.params.CrossedFeederParams`); the best-server
   estimate of a rotated antenna is squeezed toward its bearing by its sisters, the fit is not.

``permutation`` lists ``X->Y`` for each member: cell X's signal is radiated by the antenna
planned for cell Y. Confidence = 0.3 support (rows used / 4 ``min_bins``) + 0.3 ``R`` + 0.4
match quality (1 - worst match error / tolerance); an inferred member gets half of the group's
lowest measured confidence. For ``check_azimuth`` the quality is how far the deviation exceeds
its threshold, relative to the remaining range up to 180 deg.
"""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.optimize import linear_sum_assignment

from opsforge.core.logging import get_logger
from opsforge.engines.ran.findings import FINDING_COLUMNS, empty_findings
from opsforge.engines.ran.params import CrossedFeederParams
from opsforge.engines.ran.prepare import Prepared
from opsforge.engines.ran.sisters import (
    AZIMUTH_OFFSETS_DEG,
    TILT_OFFSETS_DEG,
    sister_azimuth_offsets,
    sister_tilt_offsets,
)
from opsforge.engines.ran.text import fmt

__all__ = ["detect_crossed_feeders", "observed_azimuths"]


log = get_logger(__name__)


def _ang_diff(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.abs(np.mod(a - b + 180.0, 360.0) - 180.0)


def _circular_mean(
    prep: Prepared, use: npt.NDArray[np.bool_], n_cells: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    rad = np.deg2rad(prep.r_dir_deg[use])
    w = prep.r_events[use].astype(np.float64)
    cells = prep.r_cell[use]
    ws = np.bincount(cells, weights=w * np.sin(rad), minlength=n_cells)
    wc = np.bincount(cells, weights=w * np.cos(rad), minlength=n_cells)
    wt = np.bincount(cells, weights=w, minlength=n_cells)
    num = np.bincount(cells, minlength=n_cells).astype(np.int64)
    azimuth = np.mod(np.rad2deg(np.arctan2(ws, wc)), 360.0)
    conc = np.divide(np.hypot(ws, wc), wt, out=np.zeros(n_cells), where=wt > 0)
    return azimuth, conc, num


def observed_azimuths(prep: Prepared, p: CrossedFeederParams) -> pl.DataFrame:
    """Per cell: ``cell_idx``, ``observed_azimuth_deg``, ``concentration``, ``num_rows_used``,
    ``estimate`` (``strongest`` or ``all_rows``, see the module docstring)."""
    n_cells = prep.gis.height
    thr = (
        pl.DataFrame({"cell_idx": prep.r_cell, "rsrp": prep.r_rsrp})
        .group_by("cell_idx")
        .agg(pl.col("rsrp").quantile(1.0 - p.top_percent_threshold, "higher").alias("thr"))
    )
    cell_thr = np.full(n_cells, np.inf)
    cell_thr[thr["cell_idx"].to_numpy()] = thr["thr"].to_numpy()
    far = prep.r_dist_m >= p.min_distance_m
    use = (prep.r_is_best | (prep.r_rsrp >= cell_thr[prep.r_cell])) & far
    az, conc, num = _circular_mean(prep, use, n_cells)
    az_all, conc_all, num_all = _circular_mean(prep, far, n_cells)
    fallback = num < p.min_bins
    return (
        pl.DataFrame(
            {
                "cell_idx": np.arange(n_cells, dtype=np.int64),
                "observed_azimuth_deg": np.where(fallback, az_all, az),
                "concentration": np.where(fallback, conc_all, conc),
                "num_rows_used": np.where(fallback, num_all, num),
                "estimate": np.where(fallback, "all_rows", "strongest"),
            }
        )
        .filter(pl.col("num_rows_used") > 0)
        .sort("cell_idx")
    )


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


def _nearest_sister_gap(brg: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    gap = _ang_diff(brg[:, None], brg[None, :])
    np.fill_diagonal(gap, np.inf)
    return np.asarray(gap.min(axis=1), dtype=np.float64) if brg.size > 1 else np.full(1, np.inf)


def detect_crossed_feeders(prep: Prepared, p: CrossedFeederParams) -> pl.DataFrame:
    """Swap and check-azimuth findings (see module docstring)."""
    gis = prep.gis
    az = observed_azimuths(prep, p)
    # an omni (or near-omni) antenna has no direction to swap or check
    cells = (
        gis.filter(pl.col("hbw_deg") < p.max_directional_hbw_deg)
        .select("cell_idx", "cell_id", "site_idx", "band", "bearing_deg")
        .join(az, on="cell_idx", how="left")
    )
    cells = cells.with_columns(
        (
            (pl.col("num_rows_used").fill_null(0) >= p.min_bins)
            & (
                (pl.col("estimate") == "strongest")
                | (pl.col("concentration") >= p.min_fallback_concentration)
            ).fill_null(False)
        ).alias("measured"),
        (((pl.col("observed_azimuth_deg") - pl.col("bearing_deg") + 180.0) % 360.0 - 180.0).abs())
        .fill_null(0.0)
        .alias("deviation_deg"),
    )
    check_thr = min(p.min_angular_deviation_deg, p.check_azimuth_deviation_deg)
    cells = cells.with_columns(
        (pl.col("measured") & (pl.col("deviation_deg") >= check_thr)).alias("off")
    )
    multi = cells.filter(pl.len().over("site_idx", "band") > 1)
    rows: list[dict[str, object]] = []
    swapped_groups: set[tuple[int, str]] = set()
    flagged: set[int] = set()
    pending: list[tuple[pl.DataFrame, int]] = []  # check_azimuth candidates on multi-cell sites
    for (site_idx, band), g in multi.group_by(["site_idx", "band"], maintain_order=True):
        brg = g["bearing_deg"].to_numpy()
        measured = g["measured"].to_numpy()
        dev = g["deviation_deg"].to_numpy()
        off = g["off"].to_numpy()
        near_gap = _nearest_sister_gap(brg)
        suspicious = measured & (
            (dev >= 0.5 * near_gap) & (near_gap >= p.min_sector_separation_deg)
        )
        if not (off.any() or suspicious.any()):
            continue
        obs = g["observed_azimuth_deg"].fill_null(0.0).to_numpy()
        ids = g["cell_id"].to_list()
        cost = np.where(measured[:, None], _ang_diff(obs[:, None], brg[None, :]), 90.0)
        row_ind, col_ind = linear_sum_assignment(cost)
        sigma = np.empty(len(ids), dtype=np.int64)
        sigma[row_ind] = col_ind
        err = cost[np.arange(len(ids)), sigma]
        gap = _ang_diff(brg, brg[sigma])
        passes = (
            (err <= p.match_tolerance_deg)
            & (gap >= p.min_sector_separation_deg)
            & (dev - err >= p.swap_margin_share * gap)
        )
        used: set[int] = set()
        for cyc in _cycles(sigma):
            inferred = [i for i in cyc if not measured[i]]
            known = [i for i in cyc if measured[i]]
            if len(cyc) < 2 or not all(passes[i] for i in known):
                continue
            if inferred and (len(cyc) < 3 or len(inferred) > 1):
                continue
            used.update(cyc)
            swapped_groups.add((int(str(site_idx)), str(band)))
            perm = ",".join(f"{ids[i]}->{ids[int(sigma[i])]}" for i in cyc)
            quality = float(1.0 - err[known].max() / p.match_tolerance_deg)
            group_rows = []
            for i in cyc:
                how = (
                    f"observed azimuth {obs[i]:.0f} deg is {dev[i]:.0f} deg off its bearing "
                    f"{brg[i]:.0f} deg and matches the bearing {brg[int(sigma[i])]:.0f} deg of "
                    f"cell {ids[int(sigma[i])]} within {err[i]:.0f} deg (bearings {gap[i]:.0f} deg "
                    "apart)"
                    if measured[i]
                    else f"too few measured bins; inferred from the other {len(known)} members"
                )
                group_rows.append(
                    _row(
                        g,
                        i,
                        "swap_feeders",
                        ",".join(str(ids[j]) for j in cyc if j != i),
                        perm,
                        quality,
                        p,
                        f"{how}; {len(cyc)}-way feeder permutation {perm}.",
                        sigma_id=ids[int(sigma[i])],
                    )
                )
            confs = [float(str(r["confidence"])) for r in group_rows]
            lowest = min(c for c, i in zip(confs, cyc, strict=True) if measured[i])
            for r, i in zip(group_rows, cyc, strict=True):
                if not measured[i]:
                    r["confidence"] = 0.5 * lowest
            rows.extend(group_rows)
        for i in (int(k) for k in np.flatnonzero(off)):
            if i in used:
                continue
            pending.append((g, i))
    for g, i, (offset, reduction, pairs) in _sister_corroborated(prep, pending, p):
        flagged.add(int(g["cell_idx"][i]))
        obs_i, dev_i, brg_i = (
            float(g["observed_azimuth_deg"][i]),
            float(g["deviation_deg"][i]),
            float(g["bearing_deg"][i]),
        )
        rows.append(
            _row(
                g,
                i,
                "check_azimuth",
                None,
                None,
                0.0,
                p,
                f"observed azimuth {obs_i:.0f} deg is {dev_i:.0f} deg off its bearing "
                f"{brg_i:.0f} deg with no sister cell to swap with; check the antenna azimuth.",
                sigma_id=None,
                extra_evidence={
                    "sister_azimuth_offset_deg": offset,
                    "sister_mse_reduction_db2": round(reduction, 1),
                    "num_sister_pairs": pairs,
                },
            )
        )
    rows.extend(_sister_azimuth_checks(prep, multi, swapped_groups, flagged, p))
    single = cells.filter((pl.len().over("site_idx", "band") == 1) & pl.col("off"))
    for i in range(single.height):
        rows.append(
            _row(
                single,
                i,
                "check_azimuth",
                None,
                None,
                0.0,
                p,
                f"observed azimuth {single['observed_azimuth_deg'][i]:.0f} deg is "
                f"{single['deviation_deg'][i]:.0f} deg off its bearing "
                f"{single['bearing_deg'][i]:.0f} deg; check the antenna azimuth.",
                sigma_id=None,
            )
        )
    if not rows:
        return empty_findings()
    return pl.DataFrame(rows, schema=empty_findings().schema).select(FINDING_COLUMNS)


def _sister_corroborated(
    prep: Prepared, pending: list[tuple[pl.DataFrame, int]], p: CrossedFeederParams
) -> list[tuple[pl.DataFrame, int, tuple[float, float, int]]]:
    """The best-server ``check_azimuth`` candidates the sister azimuth fit does not contradict:
    too few rows shared with sisters to judge, or a fitted turn the same way of at least
    ``check_azimuth_sister_min_offset_deg`` removing ``check_azimuth_sister_min_mse_reduction_db2``;
    each with its fit (offset [deg], reduction [dB^2], rows).
    """
    if not pending:
        return []
    idx = np.array([int(g["cell_idx"][i]) for g, i in pending], dtype=np.int64)
    fit = sister_azimuth_offsets(prep, idx, AZIMUTH_OFFSETS_DEG)
    by_cell = {
        int(c): (float(o), float(r), int(n))
        for c, o, r, n in fit.select(
            "cell_idx", "sister_azimuth_offset_deg", "sister_mse_reduction_db2", "num_sister_pairs"
        ).iter_rows()
    }
    kept: list[tuple[pl.DataFrame, int, tuple[float, float, int]]] = []
    for (g, i), c in zip(pending, idx.tolist(), strict=True):
        offset, reduction, pairs = by_cell.get(c, (0.0, 0.0, 0))
        turn = (float(g["observed_azimuth_deg"][i]) - float(g["bearing_deg"][i]) + 180.0) % 360.0
        turn -= 180.0
        agrees = (
            offset * np.sign(turn) >= p.check_azimuth_sister_min_offset_deg
            and reduction >= p.check_azimuth_sister_min_mse_reduction_db2
        )
        if pairs < p.sister_azimuth_min_pairs or agrees:
            kept.append((g, i, (offset, reduction, pairs)))
    if len(kept) < len(pending):
        log.info("check_azimuth_not_corroborated_by_sisters", num_cells=len(pending) - len(kept))
    return kept


def _sister_azimuth_checks(
    prep: Prepared,
    multi: pl.DataFrame,
    swapped_groups: set[tuple[int, str]],
    flagged: set[int],
    p: CrossedFeederParams,
) -> list[dict[str, object]]:
    """``check_azimuth`` rows from the sister azimuth fit (:func:`.sisters.sister_azimuth_offsets`)
    on sites with no swap and no ``check_azimuth`` yet, at most one per site and band."""
    # a swapped or already flagged sister misfits every other cell of its site: skip the site
    swapped = [f"{site}|{band}" for site, band in swapped_groups]
    group = fmt("{}|{}", "site_idx", "band")
    cand = multi.filter(
        ~group.is_in(swapped)
        & ~pl.col("cell_idx").is_in(list(flagged)).any().over("site_idx", "band")
        & pl.col("measured")
        & (pl.col("deviation_deg") >= p.sister_azimuth_candidate_deg)
    )
    if cand.height == 0:
        return []
    idx = cand["cell_idx"].to_numpy()
    # the azimuth must explain the differences better than an unrecorded tilt would (same bins)
    tilt = sister_tilt_offsets(prep, idx, TILT_OFFSETS_DEG, front_only=False).select(
        "cell_idx", pl.col("sister_mse_reduction_db2").alias("tilt_reduction_db2")
    )
    fit = (
        sister_azimuth_offsets(prep, idx, AZIMUTH_OFFSETS_DEG)
        .join(tilt, on="cell_idx", how="left")
        .filter(
            (pl.col("sister_azimuth_offset_deg").abs() >= p.sister_azimuth_deviation_deg)
            & (pl.col("sister_mse_reduction_db2") >= p.sister_azimuth_min_mse_reduction_db2)
            & (pl.col("num_sister_pairs") >= p.sister_azimuth_min_pairs)
            & (pl.col("sister_mse_reduction_db2") > pl.col("tilt_reduction_db2").fill_null(0.0))
        )
    )
    out: list[dict[str, object]] = []
    # one wrong antenna also distorts its sisters' fits: the best-explained cell of a site only
    g = (
        cand.join(fit, on="cell_idx", how="inner")
        .filter(
            pl.col("sister_mse_reduction_db2")
            == pl.col("sister_mse_reduction_db2").max().over("site_idx", "band")
        )
        .sort("cell_idx")
    )
    for i in range(g.height):
        gamma = float(g["sister_azimuth_offset_deg"][i])
        reduction = float(g["sister_mse_reduction_db2"][i])
        pairs = int(g["num_sister_pairs"][i])
        bearing = float(g["bearing_deg"][i])
        row = _row(
            g,
            i,
            "check_azimuth",
            None,
            None,
            0.0,
            p,
            f"level differences against its co-sited sister cells (same propagation path) fit an "
            f"antenna azimuth of {(bearing + gamma) % 360.0:.0f} deg, {gamma:+.0f} deg off its "
            f"bearing {bearing:.0f} deg, removing {reduction:.0f} dB^2 of residual over {pairs} "
            f"bins (best-server estimate {float(g['observed_azimuth_deg'][i]):.0f} deg); check the "
            "antenna azimuth.",
            sigma_id=None,
            extra_evidence={
                "sister_azimuth_offset_deg": gamma,
                "sister_mse_reduction_db2": round(reduction, 1),
                "num_sister_pairs": pairs,
                "azimuth_estimate": "sister_differences",
            },
        )
        support = min(1.0, pairs / (4.0 * p.sister_azimuth_min_pairs))
        fit_quality = min(1.0, reduction / (2.5 * max(p.sister_azimuth_min_mse_reduction_db2, 1.0)))
        row["confidence"] = float(
            np.clip(0.3 * support + 0.3 * fit_quality + 0.4 * min(1.0, abs(gamma) / 90.0), 0, 1)
        )
        out.append(row)
    return out


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
    extra_evidence: dict[str, object] | None = None,
) -> dict[str, object]:
    conc = float(g["concentration"][i] or 0.0)
    n_used = int(g["num_rows_used"][i] or 0)
    support = min(1.0, n_used / (4.0 * p.min_bins))
    if action == "check_azimuth":
        dev = float(g["deviation_deg"][i])
        thr = min(p.min_angular_deviation_deg, p.check_azimuth_deviation_deg)
        quality = min(1.0, (dev - thr) / max(180.0 - thr, 1e-9))
    conf = float(np.clip(0.3 * support + 0.3 * conc + 0.4 * quality, 0.0, 1.0))
    evidence = {
        "bearing_deg": round(float(g["bearing_deg"][i]), 1),
        "observed_azimuth_deg": round(float(g["observed_azimuth_deg"][i] or 0.0), 1),
        "azimuth_estimate": g["estimate"][i],
        "deviation_deg": round(float(g["deviation_deg"][i]), 1),
        "concentration": round(conc, 3),
        "num_rows_used": n_used,
        "radiates_through_cell": sigma_id,
        **(extra_evidence or {}),
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
