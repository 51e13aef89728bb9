"""Undershooting cells: too much downtilt, predicted by the pattern and confirmed by RSRP.

See :class:`.params.UndershooterParams` for the exact rule: the 3GPP vertical pattern predicts a
loss from the cell's tilt compared with its neighbourhood's, the measured RSRP in the far part
of its main lobe sits below the network's RSRP-vs-normalised-distance curve, and its best-server
footprint is short relative to the inter-site distance. The uptilt is the smallest step
(0.5 deg grid, up to 4 deg before conflict clipping) whose predicted reach grows from today's p90
best-server distance to ``target_reach_isd_ratio`` x ISD; the geometric upper -3 dB edge of the
beam is reported as evidence.

Confidence = 0.4 support + 0.3 margin + 0.3 consistency, with support = main-lobe bins /
(4 x minimum), margin = measured excess beyond its threshold (per 6 dB) and predicted excess
beyond its threshold (relative), averaged, consistency = share of main-lobe bins with positive
excess loss.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from opsforge.engines.ran.antenna import depression_deg, vertical_attenuation_db
from opsforge.engines.ran.findings import empty_findings, tilt_step_for_reach
from opsforge.engines.ran.lobe import main_lobe_excess_loss
from opsforge.engines.ran.params import UndershooterParams
from opsforge.engines.ran.prepare import Prepared
from opsforge.engines.ran.sisters import TILT_OFFSETS_DEG, sister_tilt_offsets
from opsforge.engines.ran.text import fmt

__all__ = ["detect_undershooters", "predicted_excess_db", "tilt_loss_vs_neighbourhood_db"]


def tilt_loss_vs_neighbourhood_db(
    prep: Prepared, neighbourhood_sites: int, distance_m: np.ndarray
) -> np.ndarray:
    """Per cell: vertical-pattern loss of its recorded tilt minus that of the median tilt of the
    ``neighbourhood_sites`` nearest sites (own included), at ``distance_m`` [m]. [dB]

    Positive: the cell's tilt sends less power to that distance than its neighbours' would
    (undershooting side); negative: more (overshooting side).

    References
    ----------
    3GPP TR 36.814 V9.2.0, Table A.2.1.1-2 (vertical pattern).
    """
    gis = prep.gis
    tilt = gis["tilt_e_deg"].to_numpy() + gis["tilt_m_deg"].to_numpy()
    site_tilt = (
        pl.DataFrame({"s": prep.c_site, "t": tilt})
        .group_by("s")
        .agg(pl.col("t").median())
        .sort("s")["t"]
        .to_numpy()
    )
    n_sites = prep.s_xy_m.shape[0]
    k = min(neighbourhood_sites, n_sites)
    _, near = cKDTree(prep.s_xy_m).query(prep.s_xy_m, k=k)
    hood = np.median(site_tilt[np.asarray(near).reshape(n_sites, k)], axis=1)[prep.c_site]
    theta = depression_deg(distance_m, gis["height_m"].to_numpy() - 1.5)
    vbw = gis["vbw_deg"].to_numpy()
    return vertical_attenuation_db(theta, hood, vbw) - vertical_attenuation_db(theta, tilt, vbw)


def predicted_excess_db(prep: Prepared, p: UndershooterParams) -> np.ndarray:
    """Per cell: vertical-pattern loss of its tilt vs the neighbourhood's median tilt at half
    the local ISD (1000 m where the ISD is undefined). [dB]"""
    half_isd = 0.5 * np.where(np.isfinite(prep.c_isd_m), prep.c_isd_m, 1000.0)
    return tilt_loss_vs_neighbourhood_db(prep, p.neighbourhood_sites, half_isd)


def _median_reach_m(prep: Prepared) -> pl.DataFrame:
    """Per cell with best-server bins: traffic-weighted median best-server distance [m]."""
    best = prep.r_is_best
    return (
        pl.DataFrame(
            {
                "cell_idx": prep.r_cell[best],
                "d": prep.r_dist_m[best],
                "w": np.maximum(prep.r_events[best], 1).astype(np.float64),
            }
        )
        .sort("cell_idx", "d")
        .with_columns(
            (pl.col("w").cum_sum().over("cell_idx") / pl.col("w").sum().over("cell_idx")).alias(
                "cw"
            )
        )
        .filter(pl.col("cw") >= 0.5)
        .group_by("cell_idx")
        .agg(pl.col("d").first().alias("median_reach_m"))
    )


def _sibling_traffic_ratio(prep: Prepared, fp: pl.DataFrame) -> pl.DataFrame:
    """Per cell on a multi-cell site: best-server traffic / median of the site's other cells."""
    t = pl.DataFrame({"cell_idx": fp["cell_idx"], "s": prep.c_site, "t": fp["best_traffic"]})
    sib = (
        t.join(t, on="s", suffix="_o")
        .filter(pl.col("cell_idx") != pl.col("cell_idx_o"))
        .group_by("cell_idx")
        .agg(pl.col("t_o").median().alias("sib"))
    )
    return t.join(sib, on="cell_idx").select(
        "cell_idx",
        pl.when(pl.col("sib") > 0)
        .then(pl.col("t") / pl.col("sib"))
        .otherwise(None)
        .alias("sibling_traffic_ratio"),
    )


def _spread_floor_db(stats: pl.DataFrame, p: UndershooterParams) -> float:
    """The network's median far-ring excess loss plus ``measured_spread_factor`` robust
    standard deviations (1.4826 x MAD), over cells with ``min_undershooting_grids`` ring bins;
    -inf when no cell qualifies. [dB]"""
    x = stats.filter(pl.col("num_rows") >= p.min_undershooting_grids)["excess_loss_db"].drop_nulls()
    x = x.filter(x.is_finite())
    if x.len() == 0:
        return -np.inf
    med = float(x.median())  # type: ignore[arg-type]
    mad = float((x - med).abs().median())  # type: ignore[arg-type]
    return med + p.measured_spread_factor * 1.4826 * mad


def _sister_offsets(prep: Prepared, reach_m: pl.DataFrame, p: UndershooterParams) -> pl.DataFrame:
    """:func:`.sisters.sister_tilt_offsets` for the cells short enough to be undershooters."""
    ratio = np.zeros(prep.gis.height)  # no best-server bin: reach 0
    idx = reach_m["cell_idx"].to_numpy()
    ratio[idx] = reach_m["median_reach_m"].to_numpy() / prep.c_isd_m[idx]
    cells = np.flatnonzero(ratio < p.max_reach_isd_ratio).astype(np.int64)
    return sister_tilt_offsets(prep, cells, TILT_OFFSETS_DEG)


def detect_undershooters(prep: Prepared, fp: pl.DataFrame, p: UndershooterParams) -> pl.DataFrame:
    """Flag undershooting cells; one finding per cell with evidence."""
    gis = prep.gis
    stats = main_lobe_excess_loss(
        prep, p.ring_min_isd_ratio, p.ring_max_isd_ratio, p.ring_split_isd_ratio
    )
    n = gis.height
    # a smaller predicted loss suffices when the measured loss is large (the default vertical
    # beamwidth under-predicts the loss of narrow antennas)
    recorded = (
        (pl.col("predicted_excess_db") >= p.min_predicted_excess_db)
        & (pl.col("excess_loss_db") >= p.min_excess_loss_db)
    ) | (
        (pl.col("predicted_excess_db") >= p.weak_predicted_excess_db)
        & (pl.col("excess_loss_db") >= p.strong_excess_loss_db)
    )
    # the traffic deficit vs the sister cells (in dB) trades 1:1 against the level deficit:
    # excess >= measured_only_excess_db + 10 log10(ratio / max_sibling_traffic_ratio), never
    # below measured_only_min_excess_db
    ratio_db = (
        10.0
        * (
            pl.col("sibling_traffic_ratio").clip(lower_bound=1e-6) / p.max_sibling_traffic_ratio
        ).log10()
    )
    # without a tilt record the loss must also stand out from the network's own spread of
    # losses (terrain and clutter make many healthy rural cells lose 10+ dB in their lobe)
    floor = _spread_floor_db(stats, p)
    measured_only = (
        (pl.col("num_rows") >= p.measured_only_min_grids)
        & (pl.col("sibling_traffic_ratio") <= p.max_sibling_traffic_ratio)
        & (pl.col("excess_loss_db") >= max(p.measured_only_min_excess_db, floor))
        & (pl.col("excess_loss_db") >= p.measured_only_excess_db + ratio_db)
    ).fill_null(False)
    # sisters share the propagation path: with enough shared rows, their level differences
    # must attribute the loss to a steeper tilt before an unrecorded tilt is advised
    judged_by_sisters = pl.col("num_sister_pairs").fill_null(0) >= p.sister_min_pairs
    steeper = (
        (pl.col("sister_tilt_offset_deg") >= p.sister_confirm_min_offset_deg)
        & (pl.col("sister_mse_reduction_db2") >= p.sister_confirm_min_mse_reduction_db2)
    ).fill_null(False)
    measured_only = measured_only & (~judged_by_sisters | steeper)
    # a cell missing from the UE reports in a large share of its own main lobe is far weaker
    # there than the cells reported, whatever its recorded tilt says; sisters that fit a
    # steeper tilt relax its traffic gate (a hidden downtilt keeps the traffic near the mast)
    ratio = pl.col("sibling_traffic_ratio")
    silent = (
        (pl.col("num_rows") >= p.silent_lobe_min_grids)
        & (pl.col("num_censored") >= p.silent_lobe_share * pl.col("num_rows"))
        & (
            pl.max_horizontal("excess_loss_db", "excess_all_db").fill_null(-np.inf)
            >= max(p.silent_lobe_min_excess_db, floor)
        )
        & (
            (~judged_by_sisters & (ratio <= p.silent_lobe_max_sibling_ratio))
            | (judged_by_sisters & steeper & (ratio <= p.silent_lobe_sister_max_sibling_ratio))
        )
    ).fill_null(False)
    # a steep recorded tilt confirmed by the traffic it lost, with few or censored ring bins
    collapsed = (
        (pl.col("num_rows") >= p.collapsed_min_grids)
        & (pl.col("predicted_excess_db") >= p.min_predicted_excess_db)
        & (pl.col("sibling_traffic_ratio") <= p.max_sibling_traffic_ratio)
        & (pl.col("reach_isd_ratio") < p.collapsed_reach_isd_ratio)
    ).fill_null(False)
    # level differences against the co-sited sisters (shared propagation path) fit a steeper
    # tilt than the GIS records
    sister = (
        (pl.col("num_sister_pairs") >= p.sister_min_pairs)
        & (pl.col("sister_tilt_offset_deg") >= p.sister_min_tilt_offset_deg)
        & (pl.col("sister_mse_reduction_db2") >= p.sister_min_mse_reduction_db2)
        & (pl.col("excess_loss_db") >= p.min_excess_loss_db)  # the far lobe agrees
        & (pl.col("sibling_traffic_ratio") <= p.sister_max_sibling_ratio)  # and the traffic
    ).fill_null(False)
    judged = (pl.col("num_rows") >= p.min_undershooting_grids) & (
        recorded | measured_only | silent | sister
    )
    reach_m = _median_reach_m(prep)
    measured = np.bincount(prep.r_cell, minlength=n)
    cand = (
        stats.join(
            fp.select("cell_idx", "p90_distance_m", "num_best_bins"), on="cell_idx", how="left"
        )
        .join(reach_m, on="cell_idx", how="left")
        .join(_sibling_traffic_ratio(prep, fp), on="cell_idx", how="left")
        .join(_sister_offsets(prep, reach_m, p), on="cell_idx", how="left")
        .join(
            pl.DataFrame(
                {
                    "cell_idx": np.arange(n, dtype=np.int64),
                    "isd_m": prep.c_isd_m,
                    "predicted_excess_db": predicted_excess_db(prep, p),
                }
            ),
            on="cell_idx",
            how="left",
        )
        .with_columns(pl.col("median_reach_m").fill_null(0.0))
        .with_columns((pl.col("median_reach_m") / pl.col("isd_m")).alias("reach_isd_ratio"))
        .filter(
            (pl.col("reach_isd_ratio") < p.max_reach_isd_ratio)
            & (judged | collapsed)
            # a cell no UE reports anywhere is off air, not undershooting
            & pl.col("cell_idx").is_in(np.flatnonzero(measured >= p.min_measured_rows).tolist())
        )
        .with_columns(
            (recorded | collapsed).alias("tilt_recorded"),
            pl.when(recorded)
            .then(pl.lit("recorded_tilt"))
            .when(collapsed)
            .then(pl.lit("recorded_tilt_collapsed_traffic"))
            .when(measured_only)
            .then(pl.lit("measured_only"))
            .when(sister)
            .then(pl.lit("sister_level_differences"))
            .otherwise(pl.lit("silent_main_lobe"))
            .alias("evidence"),
            (pl.col("num_censored") / pl.col("num_rows")).alias("silent_share"),
            pl.lit(floor if np.isfinite(floor) else None, dtype=pl.Float64).alias(
                "network_excess_floor_db"
            ),
        )
        .sort("cell_idx")
    )
    if cand.height == 0:
        return empty_findings()
    idx = cand["cell_idx"].to_numpy()
    tilt = (gis["tilt_e_deg"].to_numpy() + gis["tilt_m_deg"].to_numpy())[idx]
    h = gis["height_m"].to_numpy()[idx]
    vbw = gis["vbw_deg"].to_numpy()[idx]
    # today's edge: p90, unless scattered far bins inflate it beyond median / 0.7 (the median
    # distance of a uniformly filled sector is about 0.7 of its radius)
    reach = np.maximum(
        np.minimum(cand["p90_distance_m"].to_numpy(), cand["median_reach_m"].to_numpy() / 0.7),
        50.0,
    )
    target = p.target_reach_isd_ratio * cand["isd_m"].to_numpy()
    step, pred = tilt_step_for_reach(reach, target, tilt, h, vbw, -1.0)
    upper = tilt - vbw / 2.0
    upper_edge = np.where(upper > 0, h / np.tan(np.deg2rad(np.maximum(upper, 1e-6))), np.inf)
    excess = cand["excess_loss_db"].fill_null(cand["excess_all_db"]).fill_null(0.0).to_numpy()
    support = np.clip(cand["num_rows"].to_numpy() / (4.0 * p.min_undershooting_grids), 0.0, 1.0)
    rec = cand["tilt_recorded"].to_numpy()
    margin = np.clip(
        np.where(
            rec,
            0.5 * (excess - p.min_excess_loss_db) / 6.0
            + 0.5
            * (cand["predicted_excess_db"].to_numpy() - p.min_predicted_excess_db)
            / p.min_predicted_excess_db,
            (excess - p.measured_only_excess_db) / 6.0,
        ),
        0.0,
        1.0,
    )
    consistency = cand["positive_share"].to_numpy()
    factor = np.where(rec, 1.0, p.measured_only_confidence_factor)
    out = cand.with_columns(
        pl.Series("tilt_change_deg", step),
        pl.Series("predicted_reach_m", pred),
        pl.Series("target_reach_m", target),
        pl.Series(
            "geometric_upper_edge_m", np.where(np.isfinite(upper_edge), upper_edge, np.nan)
        ).fill_nan(None),
        pl.Series(
            "confidence",
            factor * np.clip(0.4 * support + 0.3 * margin + 0.3 * consistency, 0.0, 1.0),
        ),
    )
    return out.select(
        "cell_idx",
        pl.lit("undershooting").alias("issue"),
        pl.lit("uptilt").alias("action"),
        "tilt_change_deg",
        pl.lit(None, dtype=pl.Utf8).alias("swap_with"),
        pl.lit(None, dtype=pl.Utf8).alias("permutation"),
        "confidence",
        fmt(
            "{}the far main lobe measures {} dB below the network's RSRP-vs-distance median over "
            "{} bins (the cell is not reported in {}% of them); traffic-weighted median "
            "best-server distance {} m is {} x the local ISD of {} m; uptilt {} deg predicts {} m.",
            pl.when(pl.col("tilt_recorded"))
            .then(
                fmt(
                    "tilt predicts {} dB loss vs the neighbourhood at half the ISD and ",
                    pl.col("predicted_excess_db").round(1),
                )
            )
            .otherwise(
                fmt(
                    "the recorded tilt does not explain it (check for unrecorded mechanical tilt): "
                    "best-server traffic is {} x its sister cells' and ",
                    pl.col("sibling_traffic_ratio").round(2),
                )
            ),
            pl.coalesce("excess_loss_db", "excess_all_db").round(1),
            "num_rows",
            (pl.col("silent_share") * 100).round(0),
            pl.col("median_reach_m").round(0),
            pl.col("reach_isd_ratio").round(2),
            pl.col("isd_m").round(0),
            (-pl.col("tilt_change_deg")),
            pl.col("predicted_reach_m").round(0),
        ).alias("reason"),
        pl.struct(pl.all().exclude("cell_idx", "confidence", "tilt_change_deg"))
        .struct.json_encode()
        .alias("evidence_json"),
    )
