"""Overshooting cells: best server far beyond their expected reach, inside other sites' areas.

See :class:`.model.OvershooterParams` for the exact rules: (a) best server in enough bins beyond
the expected reach inside neighbours' areas, or (b) an RSRP surplus over the network's
RSRP-vs-distance curve in the far main lobe while competing (within ``competing_margin_db`` of
the best) in enough such bins. The downtilt is the smallest step (0.5 deg grid, up to 4 deg
before the conflict rules clip it) whose predicted reach (:func:`.tilt.distance_after_tilt_m`,
from today's reach = max(p95 best-server distance, p90 distance of the competing bins beyond
the expected reach)) falls to ``max(R, percent_max_distance x reach)``.

Confidence = 0.4 support + 0.3 margin + 0.3 consistency, with support = max(overshooting,
competing) bins / (2 x bins needed), margin = the larger of the relative excess of the
overshooting share of edge traffic over its threshold and of the surplus over its threshold,
consistency = share of overshooting bins where the cell leads the second cell by at least 3 dB.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from opsforge.engines.ran.findings import SERVING_MARGIN_DB, empty_findings, tilt_step_for_reach
from opsforge.engines.ran.lobe import main_lobe_excess_loss
from opsforge.engines.ran.model import OvershooterParams
from opsforge.engines.ran.prepare import Prepared

__all__ = ["detect_overshooters"]


def detect_overshooters(prep: Prepared, fp: pl.DataFrame, p: OvershooterParams) -> pl.DataFrame:
    """Flag overshooting cells; one finding per cell with evidence (see module docstring)."""
    n_cells = prep.gis.height
    best = prep.r_is_best
    site_of_row = prep.c_site[prep.r_cell]
    other_site_m = np.where(
        prep.b_nearest_site[prep.r_bin] == site_of_row,
        prep.b_second_site_m[prep.r_bin],
        prep.b_nearest_site_m[prep.r_bin],
    )
    isd_row = prep.c_isd_m[prep.r_cell]
    reach = np.minimum(p.min_cell_distance_m, p.reach_isd_factor * prep.c_isd_m)
    over = (
        best
        & (prep.r_dist_m > reach[prep.r_cell])
        & (other_site_m <= p.neighbour_isd_factor * isd_row)
    )
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
    strong = over & (lead[prep.r_bin] >= SERVING_MARGIN_DB)
    n_strong = np.bincount(prep.r_cell[strong], minlength=n_cells)
    share = np.divide(t_over, t_edge, out=np.zeros(n_cells), where=t_edge > 0)
    best_bins = fp["num_best_bins"].to_numpy()
    typical = float(np.median(best_bins[best_bins > 0])) if (best_bins > 0).any() else 0.0
    needed = max(
        float(p.min_overshooting_grids_floor),
        min(float(p.min_overshooting_grids), p.min_overshooting_cell_share * typical),
    )
    rule_a = (n_over >= needed) & (share >= p.edge_traffic_percent)
    # rule (b): far main-lobe surplus while competing beyond the expected reach
    rank = np.arange(prep.r_bin.size) - prep.b_start[prep.r_bin]
    compete = (
        (rank < 2)
        & (prep.r_rsrp >= prep.b_best_rsrp[prep.r_bin] - p.competing_margin_db)
        & (prep.r_dist_m > reach[prep.r_cell])
        & (other_site_m <= p.neighbour_isd_factor * isd_row)
    )
    n_comp = np.bincount(prep.r_cell[compete], minlength=n_cells)
    lobe = main_lobe_excess_loss(
        prep,
        p.surplus_ring_min_isd_ratio,
        p.surplus_ring_max_isd_ratio,
        p.surplus_ring_min_isd_ratio,
        4,
    )
    surplus = np.full(n_cells, -np.inf)
    surplus[lobe["cell_idx"].to_numpy()] = -lobe["excess_loss_db"].fill_null(np.inf).to_numpy()
    rule_b = (surplus >= p.min_far_surplus_db) & (n_comp >= needed)
    idx = np.flatnonzero(rule_a | rule_b)
    if idx.size == 0:
        return empty_findings()
    comp_frame = pl.DataFrame({"cell_idx": prep.r_cell[compete], "d": prep.r_dist_m[compete]})
    comp_p90 = np.zeros(n_cells)
    if comp_frame.height:
        q = comp_frame.group_by("cell_idx").agg(pl.col("d").quantile(0.9, "linear"))
        comp_p90[q["cell_idx"].to_numpy()] = q["d"].to_numpy()
    p95 = np.maximum(fp["p95_distance_m"].to_numpy()[idx], comp_p90[idx])
    gis = prep.gis
    tilt = (gis["tilt_e_deg"].to_numpy() + gis["tilt_m_deg"].to_numpy())[idx]
    h = gis["height_m"].to_numpy()[idx]
    target = np.maximum(reach[idx], p.percent_max_distance * p95)
    step, pred = tilt_step_for_reach(
        np.maximum(p95, 1.0), target, tilt, h, gis["vbw_deg"].to_numpy()[idx], 1.0
    )
    support = np.clip(np.maximum(n_over[idx], n_comp[idx]) / (2.0 * needed), 0.0, 1.0)
    margin_a = np.where(
        rule_a[idx], (share[idx] - p.edge_traffic_percent) / max(p.edge_traffic_percent, 1e-9), 0.0
    )
    margin_b = np.where(
        rule_b[idx], (surplus[idx] - p.min_far_surplus_db) / p.min_far_surplus_db, 0.0
    )
    margin = np.clip(np.maximum(margin_a, margin_b), 0.0, 1.0)
    consistency = n_strong[idx] / np.maximum(n_over[idx], 1)
    confidence = np.clip(0.4 * support + 0.3 * margin + 0.3 * consistency, 0.0, 1.0)
    out = pl.DataFrame(
        {
            "cell_idx": idx.astype(np.int64),
            "isd_m": prep.c_isd_m[idx],
            "expected_reach_m": reach[idx],
            "num_overshooting_bins": n_over[idx].astype(np.int64),
            "num_overshooting_bins_needed": needed,
            "num_overshooting_bins_strong": n_strong[idx].astype(np.int64),
            "num_competing_bins": n_comp[idx].astype(np.int64),
            "far_main_lobe_surplus_db": np.where(np.isfinite(surplus[idx]), surplus[idx], np.nan),
            "rule": np.where(rule_a[idx], "best_server_beyond_reach", "far_surplus_and_competing"),
            "overshooting_traffic": t_over[idx].astype(np.int64),
            "edge_traffic": t_edge[idx].astype(np.int64),
            "overshooting_share_of_edge_traffic": share[idx],
            "reach_m": p95,
            "target_reach_m": target,
            "predicted_reach_m": pred,
            "tilt_change_deg": step,
            "confidence": confidence,
        }
    )
    return out.select(
        "cell_idx",
        pl.lit("overshooting").alias("issue"),
        pl.lit("downtilt").alias("action"),
        "tilt_change_deg",
        pl.lit(None, dtype=pl.Utf8).alias("swap_with"),
        pl.lit(None, dtype=pl.Utf8).alias("permutation"),
        "confidence",
        pl.format(
            "best server in {} bins ({}% of its edge traffic) and within {} dB of the best in "
            "{} bins beyond the expected reach of {} m (local ISD {} m) inside other sites' "
            "areas; far main lobe {} dB above the network's RSRP-vs-distance median; reach {} m, "
            "downtilt {} deg predicts {} m.",
            "num_overshooting_bins",
            (pl.col("overshooting_share_of_edge_traffic") * 100).round(1),
            pl.lit(p.competing_margin_db),
            "num_competing_bins",
            pl.col("expected_reach_m").round(0),
            pl.col("isd_m").round(0),
            pl.col("far_main_lobe_surplus_db").round(1),
            pl.col("reach_m").round(0),
            "tilt_change_deg",
            pl.col("predicted_reach_m").round(0),
        ).alias("reason"),
        pl.struct(pl.all().exclude("cell_idx", "confidence", "tilt_change_deg"))
        .struct.json_encode()
        .alias("evidence_json"),
    )
