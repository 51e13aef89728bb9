"""Overshooting cells: dominant deep inside other sites' areas, with physical evidence.

See :class:`.params.OvershooterParams` for the exact rule. In short, a cell is flagged when it is
best server in enough bins beyond its expected reach ``R = reach_isd_factor x ISD`` that lie in
another site's own area (judged with *that* site's ISD, so a town cell overshooting into rural
land is seen), and physics explains the dominance: it is received above the network's
RSRP-vs-distance relation there or in its far main lobe, or its recorded tilt is flatter than its
neighbourhood's. The evidence is support-aware: a flatter tilt alone (a prediction, not a
measurement) needs ``predicted_evidence_support_factor`` x the bins needed unless its predicted
gain is at least ``strong_predicted_far_gain_db``; a *displaced footprint* (overshooting bins
carrying ``displaced_traffic_share`` of the cell's traffic, received
``displaced_dominance_surplus_db`` above the relation or with a flatter tilt) needs only
``displaced_support_factor`` x the bins needed. The network's relation is the median RSRP of all reported main-lobe rows
(within half the horizontal beamwidth of their cell's bearing) per 0.05-decade bucket of
distance; the same rows at the same distance are compared, so environment and band mix are the
network's own.

The downtilt is the smallest step (0.5 deg grid, up to 4 deg before the conflict rules clip it)
whose predicted reach (:func:`.tilt.distance_after_tilt_m`, from today's reach = max(p95
best-server distance, p90 distance of the overshooting bins)) falls to ``max(R,
percent_max_distance x reach)``.

Confidence = 0.4 support + 0.3 margin + 0.3 consistency, with support = overshooting bins /
(2 x bins needed), margin = the largest relative excess of the evidence over its threshold
(traffic share, dominance surplus per 6 dB, far-lobe surplus per 6 dB, predicted gain per 3 dB),
consistency = share of overshooting bins where the cell leads the second cell by >= 3 dB.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from opsforge.engines.ran.findings import SERVING_MARGIN_DB, empty_findings, tilt_step_for_reach
from opsforge.engines.ran.params import OvershooterParams
from opsforge.engines.ran.prepare import Prepared
from opsforge.engines.ran.text import fmt
from opsforge.engines.ran.undershoot import tilt_loss_vs_neighbourhood_db

__all__ = [
    "detect_overshooters",
    "num_overshooting_bins",
    "overshoot_geometry",
    "rsrp_surplus_db",
]

_LOG_BUCKET = 0.05  # decades of distance per bucket of the network's RSRP-vs-distance relation


def rsrp_surplus_db(prep: Prepared) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Per row: RSRP minus the network's median RSRP at the same distance [dB], and whether
    the row lies in its cell's main lobe (within half the horizontal beamwidth).

    The median is taken over main-lobe rows only, per 0.05-decade distance bucket (distances
    below 50 m share the 50 m bucket).
    """
    hbw = prep.gis["hbw_deg"].to_numpy()[prep.r_cell]
    lobe = np.abs(prep.r_az_off_deg) <= hbw / 2.0
    bucket = np.floor(np.log10(np.maximum(prep.r_dist_m, 50.0)) / _LOG_BUCKET).astype(np.int64)
    curve = np.full(int(bucket.max(initial=0)) + 1, np.nan)
    if lobe.any():
        med = (
            pl.DataFrame({"b": bucket[lobe], "r": prep.r_rsrp[lobe]})
            .group_by("b")
            .agg(pl.col("r").median())
        )
        curve[med["b"].to_numpy()] = med["r"].to_numpy()
    return prep.r_rsrp - curve[bucket], lobe


def _median_by_cell(
    cell: npt.NDArray[np.int64], value: npt.NDArray[np.float64], n_cells: int
) -> npt.NDArray[np.float64]:
    out = np.full(n_cells, np.nan)
    ok = np.isfinite(value)
    if ok.any():
        med = pl.DataFrame({"c": cell[ok], "v": value[ok]}).group_by("c").agg(pl.col("v").median())
        out[med["c"].to_numpy()] = med["v"].to_numpy()
    return out


def _site_wide(prep: Prepared, flagged: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Per cell: not flagged itself, and another cell of its site is."""
    per_site = np.bincount(prep.c_site[flagged], minlength=prep.s_xy_m.shape[0])
    return np.asarray(~flagged & (per_site[prep.c_site] > 0), dtype=np.bool_)


def overshoot_geometry(
    prep: Prepared, p: OvershooterParams
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """Per row: beyond its cell's expected reach ``R``; inside another site's own area (see
    :class:`.params.OvershooterParams`); per cell: ``R`` [m]. An *overshooting bin* is a
    best-server row that is both."""
    own_site = prep.c_site[prep.r_cell]
    nearest_is_own = prep.b_nearest_site[prep.r_bin] == own_site
    other_site = np.where(
        nearest_is_own, prep.b_second_site[prep.r_bin], prep.b_nearest_site[prep.r_bin]
    )
    other_m = np.where(
        nearest_is_own, prep.b_second_site_m[prep.r_bin], prep.b_nearest_site_m[prep.r_bin]
    )
    reach = np.where(
        np.isfinite(prep.c_isd_m), p.reach_isd_factor * prep.c_isd_m, p.min_cell_distance_m
    )
    far = prep.r_dist_m > reach[prep.r_cell]
    in_other_area = (other_m <= p.neighbour_isd_factor * prep.s_isd_m[other_site]) & (
        other_m <= p.past_site_ratio * prep.r_dist_m
    )
    return far, in_other_area, reach


def num_overshooting_bins(
    prep: Prepared, p: OvershooterParams
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per cell: its best-server bins beyond its expected reach ``R``, and of those its
    overshooting bins (also inside another site's area)."""
    far, in_other_area, _ = overshoot_geometry(prep, p)
    beyond = prep.r_is_best & far
    over = beyond & in_other_area
    n = prep.gis.height
    return (
        np.bincount(prep.r_cell[beyond], minlength=n).astype(np.int64),
        np.bincount(prep.r_cell[over], minlength=n).astype(np.int64),
    )


def detect_overshooters(prep: Prepared, fp: pl.DataFrame, p: OvershooterParams) -> pl.DataFrame:
    """Flag overshooting cells; one finding per cell with evidence (see module docstring)."""
    n_cells = prep.gis.height
    best = prep.r_is_best
    far, in_other_area, reach = overshoot_geometry(prep, p)
    over = best & far & in_other_area
    # lead over the second cell of the bin (rows are sorted strongest first)
    second = np.where(
        prep.b_count > 1, prep.r_rsrp[np.minimum(prep.b_start + 1, prep.r_rsrp.size - 1)], -np.inf
    )
    lead = prep.b_best_rsrp - second
    w = prep.r_events.astype(np.float64)
    max_d = fp["max_distance_m"].to_numpy()
    edge = (best & (prep.r_dist_m >= p.percent_max_distance * max_d[prep.r_cell])) | over
    n_over = np.bincount(prep.r_cell[over], minlength=n_cells)
    t_over = np.bincount(prep.r_cell[over], weights=w[over], minlength=n_cells)
    t_edge = np.bincount(prep.r_cell[edge], weights=w[edge], minlength=n_cells)
    t_best = np.bincount(prep.r_cell[best], weights=w[best], minlength=n_cells)
    strong = over & (lead[prep.r_bin] >= SERVING_MARGIN_DB)
    n_strong = np.bincount(prep.r_cell[strong], minlength=n_cells)
    edge_share = np.divide(t_over, t_edge, out=np.zeros(n_cells), where=t_edge > 0)
    traffic_share = np.divide(t_over, t_best, out=np.zeros(n_cells), where=t_best > 0)
    best_bins = fp["num_best_bins"].to_numpy()
    typical = float(np.median(best_bins[best_bins > 0])) if (best_bins > 0).any() else 0.0
    needed = max(
        float(p.min_overshooting_grids_floor),
        min(float(p.min_overshooting_grids), p.min_overshooting_cell_share * typical),
    )
    dominant = (
        (n_over >= needed)
        & (traffic_share >= p.min_overshooting_traffic_share)
        & (edge_share >= p.edge_traffic_percent)
    )
    rank = np.arange(prep.r_bin.size) - prep.b_start[prep.r_bin]
    compete = (
        (rank < 2)
        & (prep.r_rsrp >= prep.b_best_rsrp[prep.r_bin] - p.competing_margin_db)
        & far
        & in_other_area
    )
    n_comp = np.bincount(prep.r_cell[compete], minlength=n_cells)
    low = min(1.0, p.displaced_support_factor)
    if not ((n_over >= low * needed) | (n_comp >= needed)).any():
        return empty_findings()
    surplus, lobe = rsrp_surplus_db(prep)
    dom_surplus = _median_by_cell(prep.r_cell[over], surplus[over], n_cells)
    far_lobe = far & lobe
    lobe_surplus = _median_by_cell(prep.r_cell[far_lobe], surplus[far_lobe], n_cells)
    gain = -tilt_loss_vs_neighbourhood_db(
        prep, p.neighbourhood_sites, np.where(np.isfinite(reach), reach, p.min_cell_distance_m)
    )
    dom_v = np.nan_to_num(dom_surplus, nan=-np.inf)
    ev_dom = dom_v >= p.min_dominance_surplus_db
    ev_lobe = np.nan_to_num(lobe_surplus, nan=-np.inf) >= p.min_far_lobe_surplus_db
    ev_gain = gain >= p.min_predicted_far_gain_db
    # support-aware evidence: a measured surplus needs the bins needed; a flatter tilt alone
    # (a prediction from the GIS) needs more unless its predicted gain is large; a displaced
    # footprint (a large share of the
    # cell's traffic deep in other sites' areas, received above the network's relation or
    # with a flatter tilt) needs fewer
    shares_ok = (traffic_share >= p.min_overshooting_traffic_share) & (
        edge_share >= p.edge_traffic_percent
    )
    displaced = (
        shares_ok
        & (traffic_share >= p.displaced_traffic_share)
        & (n_over >= p.displaced_support_factor * needed)
        & ((dom_v >= p.displaced_dominance_surplus_db) | ev_gain)
    )
    predicted_ok = (n_over >= p.predicted_evidence_support_factor * needed) | (
        (gain >= p.strong_predicted_far_gain_db) & (n_over >= needed)
    )
    rule_a = (dominant & (ev_dom | ev_lobe | (ev_gain & predicted_ok))) | displaced
    rule_b = (np.nan_to_num(lobe_surplus, nan=-np.inf) >= p.min_far_surplus_db) & (n_comp >= needed)
    site_wide = _site_wide(prep, rule_a | rule_b) & (
        (n_over >= needed)
        & (traffic_share >= p.site_wide_traffic_factor * p.min_overshooting_traffic_share)
        & (edge_share >= p.edge_traffic_percent)
        & (dom_v >= p.site_wide_dominance_surplus_db)
    )
    idx = np.flatnonzero(rule_a | rule_b | site_wide)
    if idx.size == 0:
        return empty_findings()
    over_d = pl.DataFrame({"cell_idx": prep.r_cell[over], "d": prep.r_dist_m[over]})
    over_p90 = np.zeros(n_cells)
    q = over_d.group_by("cell_idx").agg(pl.col("d").quantile(0.9, "linear"))
    over_p90[q["cell_idx"].to_numpy()] = q["d"].to_numpy()
    p95 = np.maximum(fp["p95_distance_m"].to_numpy()[idx], over_p90[idx])
    gis = prep.gis
    tilt = (gis["tilt_e_deg"].to_numpy() + gis["tilt_m_deg"].to_numpy())[idx]
    h = gis["height_m"].to_numpy()[idx]
    target = np.maximum(reach[idx], p.percent_max_distance * p95)
    step, pred = tilt_step_for_reach(
        np.maximum(p95, 1.0), target, tilt, h, gis["vbw_deg"].to_numpy()[idx], 1.0
    )
    support = np.clip(np.maximum(n_over[idx], n_comp[idx]) / (2.0 * needed), 0.0, 1.0)
    thr_share = max(p.min_overshooting_traffic_share, 1e-9)
    margins = np.vstack(
        [
            (traffic_share[idx] - thr_share) / thr_share,
            np.where(ev_dom[idx], (dom_surplus[idx] - p.min_dominance_surplus_db) / 6.0, 0.0),
            np.where(ev_lobe[idx], (lobe_surplus[idx] - p.min_far_lobe_surplus_db) / 6.0, 0.0),
            np.where(ev_gain[idx], (gain[idx] - p.min_predicted_far_gain_db) / 3.0, 0.0),
        ]
    )
    margin = np.clip(np.nan_to_num(margins, nan=0.0).max(axis=0), 0.0, 1.0)
    consistency = n_strong[idx] / np.maximum(n_over[idx], 1)
    confidence = np.clip(0.4 * support + 0.3 * margin + 0.3 * consistency, 0.0, 1.0)
    measured = dominant[idx] & (ev_dom[idx] | ev_lobe[idx])
    evidence = np.select(
        [
            site_wide[idx],
            ~rule_a[idx],
            measured & ev_dom[idx],
            measured,
            dominant[idx] & ev_gain[idx] & predicted_ok[idx],
        ],
        [
            "site_wide_overshoot",
            "strong_far_lobe_surplus_and_competing",
            "dominance_surplus",
            "far_lobe_surplus",
            "flatter_tilt_than_neighbourhood",
        ],
        "displaced_footprint",
    )
    out = pl.DataFrame(
        {
            "cell_idx": idx.astype(np.int64),
            "isd_m": prep.c_isd_m[idx],
            "expected_reach_m": reach[idx],
            "num_overshooting_bins": n_over[idx].astype(np.int64),
            "num_overshooting_bins_needed": needed,
            "num_overshooting_bins_strong": n_strong[idx].astype(np.int64),
            "num_competing_bins": n_comp[idx].astype(np.int64),
            "overshooting_traffic": t_over[idx].astype(np.int64),
            "edge_traffic": t_edge[idx].astype(np.int64),
            "overshooting_share_of_edge_traffic": edge_share[idx],
            "overshooting_share_of_traffic": traffic_share[idx],
            "dominance_surplus_db": dom_surplus[idx],
            "far_lobe_surplus_db": lobe_surplus[idx],
            "predicted_far_gain_db": gain[idx],
            "evidence": evidence,
            "reach_m": p95,
            "target_reach_m": target,
            "predicted_reach_m": pred,
            "tilt_change_deg": step,
            "confidence": confidence,
        }
    ).with_columns(pl.col(pl.Float64).fill_nan(None))
    return out.select(
        "cell_idx",
        pl.lit("overshooting").alias("issue"),
        pl.lit("downtilt").alias("action"),
        "tilt_change_deg",
        pl.lit(None, dtype=pl.Utf8).alias("swap_with"),
        pl.lit(None, dtype=pl.Utf8).alias("permutation"),
        "confidence",
        fmt(
            "best server in {} bins ({}% of its traffic) beyond its expected reach of {} m "
            "(1.5 x local ISD {} m) inside other sites' areas; received {} dB above the network's "
            "RSRP-vs-distance median there ({} dB over its far main lobe), tilt gives {} dB more "
            "far gain than the neighbourhood's; reach {} m, downtilt {} deg predicts {} m.",
            "num_overshooting_bins",
            (pl.col("overshooting_share_of_traffic") * 100).round(1),
            pl.col("expected_reach_m").round(0),
            pl.col("isd_m").round(0),
            pl.col("dominance_surplus_db").round(1),
            pl.col("far_lobe_surplus_db").round(1),
            pl.col("predicted_far_gain_db").round(1),
            pl.col("reach_m").round(0),
            "tilt_change_deg",
            pl.col("predicted_reach_m").round(0),
        ).alias("reason"),
        pl.struct(pl.all().exclude("cell_idx", "confidence", "tilt_change_deg"))
        .struct.json_encode()
        .alias("evidence_json"),
    )
