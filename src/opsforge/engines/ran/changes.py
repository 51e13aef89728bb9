"""What changed between two runs of one network: verification of last cycle's actions and
alerts on cells that changed by themselves (pure).

An RF engineer's cycle is: run, review, apply, measure again. :func:`compare_runs` takes the
``cell_stats`` of the run *before* (with its recommendations) and of the run *after* (with its
recommendations) and says, per cell, what the measurements show (see
:class:`.params.ChangeParams` for every threshold):

* a tilt change the before run proposed: ``not_applied`` (the after GIS still has the old
  tilt), ``applied_differently`` (a third tilt), or, applied, ``effective`` (the footprint
  moved the way the change meant: at most ``downtilt_effective_share`` of the overshooting bins
  or of the best-server bins beyond the expected reach after a downtilt, more best-server bins
  after an uptilt, and the after run does not flag the cell again), ``partial`` (moved,
  but flagged again: the next step of at most ``max_tilt_step_deg``), ``no_effect``, or
  ``overcorrected`` (the after run flags the opposite issue);
* a feeder swap or azimuth check: ``resolved`` (the after run no longer flags a crossed
  feeder on the cell) or ``still_flagged`` (whether the swap was done cannot be read from a
  GIS, which records the planned antennas);
* any cell measured before and silent after: ``no_measurements_after`` (an outage, a removed
  or renamed cell);
* a cell nobody changed (no proposal, or one not applied) whose footprint moved on its own:
  ``footprint_grew`` (its overshooting bins, its best-server bins beyond its expected reach or
  all its best-server bins at least doubled: a tilt, RET, bracket or mast change on site, or a
  neighbour gone) or ``footprint_shrank`` (its best-server bins or
  traffic fell below ``shrink_share`` of before: a steeper tilt, a RET fault, an obstruction,
  or a neighbour that now overshoots into it). A changed GIS (tilt or bearing) is named in the
  reason.

Cells with nothing to say are left out; cells only in the after run are ``new_cell``. Both runs
must come from the same detector parameters for the overshooting-bin counts to compare.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from opsforge.core.errors import DataQualityError
from opsforge.engines.ran.model import CELL_STATS_SCHEMA, CHANGE_SCHEMA
from opsforge.engines.ran.params import ChangeParams
from opsforge.engines.ran.prepare import local_xy_m
from opsforge.engines.ran.text import fmt

__all__ = ["VERDICTS", "compare_runs"]

#: Every verdict, in the order ``changes.csv`` lists them.
VERDICTS = (
    "overcorrected",
    "no_effect",
    "partial",
    "effective",
    "applied_differently",
    "not_applied",
    "still_flagged",
    "resolved",
    "no_measurements_after",
    "footprint_grew",
    "footprint_shrank",
    "new_cell",
)
_TILT = ("downtilt", "uptilt")
_OPPOSITE = {"overshooting": "undershooting", "undershooting": "overshooting"}


def _check(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataQualityError(f"{what} lacks columns {missing}", field=missing[0])


def _previous(recs: pl.DataFrame) -> pl.DataFrame:
    """One proposal per cell: the tilt change where there is one, else the feeder action."""
    return (
        recs.with_columns(pl.col("action").is_in(_TILT).alias("_tilt"))
        .sort(["cell_id", "_tilt", "confidence"], descending=[False, True, True])
        .unique("cell_id", keep="first", maintain_order=True)
        .select(
            "cell_id",
            pl.col("issue").alias("previous_issue"),
            pl.col("action").alias("previous_action"),
            pl.col("tilt_change_deg").alias("previous_tilt_change_deg"),
            (
                pl.col("proposed_tilt_e_deg").fill_null(0.0)
                + pl.col("proposed_tilt_m_deg").fill_null(0.0)
            ).alias("_proposed_tilt"),
        )
    )


#: Neighbours named for an alert: the cells of the same band within this many local ISDs
#: (3 km where the ISD is unknown) whose best-server bins moved the other way, largest first.
_RELATED_ISD = 3.0
_RELATED_DEFAULT_M = 3000.0
_RELATED_MAX = 3


def _related(df: pl.DataFrame) -> pl.DataFrame:
    """Per ``footprint_grew`` / ``footprint_shrank`` cell: the neighbours whose best-server
    bins moved the other way (who took its bins, or whose bins it took), as ids and text."""
    alerts = df.filter(pl.col("verdict").is_in(["footprint_grew", "footprint_shrank"]))
    schema = {"cell_id": pl.Int64, "related_cells": pl.Utf8, "_related_text": pl.Utf8}
    if alerts.height == 0:
        return pl.DataFrame(schema=schema)
    cells = df.select(
        "cell_id",
        pl.coalesce("cell_name_after", "cell_name_before").alias("name"),
        pl.coalesce("band_after", "band_before").fill_null("").alias("band"),
        pl.coalesce("lat_deg_after", "lat_deg_before").alias("lat"),
        pl.coalesce("lon_deg_after", "lon_deg_before").alias("lon"),
        (
            pl.col("num_best_bins_after").fill_null(0) - pl.col("num_best_bins_before").fill_null(0)
        ).alias("delta"),
    ).drop_nulls(["lat", "lon"])
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    xy = local_xy_m(lat, lon, float(lat.mean()), float(lon.mean()))
    tree = cKDTree(xy)
    pos = {int(c): k for k, c in enumerate(cells["cell_id"].to_list())}
    ids, names = cells["cell_id"].to_numpy(), cells["name"].to_list()
    band, delta = cells["band"].to_numpy(), cells["delta"].to_numpy()
    out_ids: list[int] = []
    out_rel: list[str | None] = []
    out_txt: list[str | None] = []
    for cid, verdict, isd in alerts.select(
        "cell_id", "verdict", pl.coalesce("isd_m_after", "isd_m_before")
    ).iter_rows():
        k = pos.get(int(cid))
        rel: list[int] = []
        if k is not None:
            radius = _RELATED_ISD * isd if isd is not None and isd > 0 else _RELATED_DEFAULT_M
            near = np.asarray(tree.query_ball_point(xy[k], radius), dtype=np.int64)
            sign = -1 if verdict == "footprint_grew" else 1
            near = near[(near != k) & (band[near] == band[k]) & (sign * delta[near] > 0)]
            rel = near[np.argsort(-np.abs(delta[near]), kind="stable")][:_RELATED_MAX].tolist()
        out_ids.append(int(cid))
        out_rel.append(";".join(str(ids[j]) for j in rel) if rel else None)
        out_txt.append(", ".join(f"{names[j]} ({delta[j]:+d})" for j in rel) if rel else None)
    return pl.DataFrame({"cell_id": out_ids, "related_cells": out_rel, "_related_text": out_txt},
                        schema=schema)  # fmt: skip


def compare_runs(
    before_stats: pl.DataFrame,
    after_stats: pl.DataFrame,
    before_recs: pl.DataFrame,
    after_recs: pl.DataFrame,
    p: ChangeParams,
) -> pl.DataFrame:
    """Per cell: what the after run's measurements say about the before run's proposals and
    about the cells that changed on their own (see the module docstring).

    Parameters
    ----------
    before_stats, after_stats
        ``cell_stats`` of the two runs (:data:`.model.CELL_STATS_SCHEMA`).
    before_recs, after_recs
        Their recommendations (:data:`.model.RECOMMENDATION_SCHEMA`; ``cell_id``, ``issue``,
        ``action``, ``tilt_change_deg``, ``confidence``, ``proposed_tilt_e_deg``,
        ``proposed_tilt_m_deg`` are used).
    p
        Thresholds.

    Returns
    -------
    pl.DataFrame
        :data:`.model.CHANGE_SCHEMA`, ordered by verdict (:data:`VERDICTS`) then cell id.

    Raises
    ------
    DataQualityError
        When a frame lacks a column, or a cell id repeats in a ``cell_stats`` frame.
    """
    for frame, what in ((before_stats, "before cell_stats"), (after_stats, "after cell_stats")):
        _check(frame, tuple(CELL_STATS_SCHEMA), what)
        dup = frame["cell_id"].is_duplicated()
        if dup.any():
            cell = frame["cell_id"].filter(dup)[0]
            raise DataQualityError(
                f"{what}: cell_id {cell} appears more than once", field="cell_id"
            )
    rec_cols = ("cell_id", "issue", "action", "tilt_change_deg", "confidence")
    _check(before_recs, (*rec_cols, "proposed_tilt_e_deg", "proposed_tilt_m_deg"), "before recs")
    _check(after_recs, rec_cols, "after recommendations")
    keep = ("cell_name", "band", "lat_deg", "lon_deg", "isd_m", "tilt_e_deg", "tilt_m_deg",
            "bearing_deg", "num_bins", "num_best_bins",
            "best_traffic", "num_far_bins", "num_overshooting_bins", "p95_distance_m",
            "median_best_rsrp_dbm")  # fmt: skip

    def side(frame: pl.DataFrame, suffix: str) -> pl.DataFrame:
        return frame.select(
            "cell_id",
            *[pl.col(c).alias(f"{c}_{suffix}") for c in keep],
            (pl.col("tilt_e_deg") + pl.col("tilt_m_deg")).alias(f"tilt_{suffix}_deg"),
            pl.lit(True).alias(f"_in_{suffix}"),
        )

    issues_after = after_recs.group_by("cell_id").agg(
        pl.col("issue").unique().sort().str.join(";").alias("issues_after")
    )
    df = (
        side(before_stats, "before")
        .join(side(after_stats, "after"), on="cell_id", how="full", coalesce=True)
        .join(_previous(before_recs), on="cell_id", how="left")
        .join(issues_after, on="cell_id", how="left")
        .with_columns(pl.col("_in_before", "_in_after").fill_null(False))
    )
    tol = p.applied_tolerance_deg
    tilt_prev = pl.col("previous_action").is_in(_TILT).fill_null(False)
    applied = (
        pl.when(tilt_prev & pl.col("_in_after"))
        .then((pl.col("tilt_after_deg") - pl.col("_proposed_tilt")).abs() <= tol)
        .otherwise(None)
    )
    unchanged_tilt = (pl.col("tilt_after_deg") - pl.col("tilt_before_deg")).abs() <= tol
    flagged_same = pl.col("issues_after").str.contains(pl.col("previous_issue")).fill_null(False)
    opposite = pl.col("previous_issue").replace_strict(_OPPOSITE, default=None)
    flagged_opposite = pl.col("issues_after").str.contains(opposite).fill_null(False)
    over_b, over_a = pl.col("num_overshooting_bins_before"), pl.col("num_overshooting_bins_after")
    best_b, best_a = pl.col("num_best_bins_before"), pl.col("num_best_bins_after")
    traffic_b, traffic_a = pl.col("best_traffic_before"), pl.col("best_traffic_after")
    far_b, far_a = pl.col("num_far_bins_before"), pl.col("num_far_bins_after")
    share = p.downtilt_effective_share
    improved = (
        pl.when(pl.col("previous_action") == "downtilt")
        .then(
            ((over_b > 0) & (over_a <= share * over_b)) | ((far_b > 0) & (far_a <= share * far_b))
        )
        .otherwise(best_a >= p.uptilt_effective_growth * best_b)
    )
    measured_after = pl.col("_in_after") & (pl.col("num_bins_after").fill_null(0) > 0)

    def doubled(after: pl.Expr, before: pl.Expr, minimum: int) -> pl.Expr:
        return (after - before) >= pl.max_horizontal(pl.lit(minimum), before)

    grew = (
        doubled(over_a, over_b, p.min_new_overshooting_bins)
        | doubled(far_a, far_b, p.min_new_far_bins)
        | doubled(best_a, best_b, p.min_new_best_bins)
    )
    # traffic alone moves from week to week; a traffic loss counts when bins went too
    shrank = (best_b >= p.min_best_bins) & (
        (best_a <= p.shrink_share * best_b)
        | (
            (traffic_a <= p.shrink_share * traffic_b)
            & (best_a <= p.traffic_shrink_bins_share * best_b)
        )
    )
    nobody_changed = ~tilt_prev | (applied.not_() & unchanged_tilt)
    feeder_prev = pl.col("previous_action").is_in(["swap_feeders", "check_azimuth"])
    verdict = (
        pl.when(~pl.col("_in_before"))
        .then(pl.lit("new_cell"))
        .when((pl.col("num_bins_before") > 0) & ~measured_after)
        .then(pl.lit("no_measurements_after"))
        .when(tilt_prev & applied & flagged_opposite)
        .then(pl.lit("overcorrected"))
        .when(tilt_prev & applied & improved & ~flagged_same)
        .then(pl.lit("effective"))
        .when(tilt_prev & applied & improved)
        .then(pl.lit("partial"))
        .when(tilt_prev & applied)
        .then(pl.lit("no_effect"))
        .when(tilt_prev & ~unchanged_tilt)
        .then(pl.lit("applied_differently"))
        .when(feeder_prev.fill_null(False) & pl.col("issues_after").str.contains("crossed_feeder"))
        .then(pl.lit("still_flagged"))
        .when(feeder_prev.fill_null(False))
        .then(pl.lit("resolved"))
        .when(nobody_changed & grew)
        .then(pl.lit("footprint_grew"))
        .when(nobody_changed & shrank)
        .then(pl.lit("footprint_shrank"))
        .when(tilt_prev & pl.col("_in_after"))
        .then(pl.lit("not_applied"))
        .otherwise(None)
        .alias("verdict")
    )
    df = df.with_columns(applied.alias("applied")).with_columns(verdict)
    df = df.join(_related(df), on="cell_id", how="left").drop_nulls("verdict")
    bearing_moved_deg = (
        (pl.col("bearing_deg_after") - pl.col("bearing_deg_before") + 180.0).mod(360.0) - 180.0
    ).abs()
    gis_note = (
        pl.when(pl.col("_in_after") & pl.col("_in_before") & ~tilt_prev)
        .then(
            pl.when(~unchanged_tilt | (bearing_moved_deg > tol))
            .then(
                fmt(
                    " The GIS changed: tilt {} -> {} deg, bearing {} -> {} deg.",
                    pl.col("tilt_before_deg").round(1),
                    pl.col("tilt_after_deg").round(1),
                    pl.col("bearing_deg_before").round(1),
                    pl.col("bearing_deg_after").round(1),
                )
            )
            .otherwise(pl.lit(""))
        )
        .otherwise(pl.lit(""))
    )
    footprint = fmt(
        "best-server bins {} -> {}, traffic {} -> {}, beyond reach {} -> {}, overshooting bins "
        "{} -> {}, p95 distance {} -> {} m",
        pl.col("num_best_bins_before").fill_null(0),
        pl.col("num_best_bins_after").fill_null(0),
        pl.col("best_traffic_before").fill_null(0),
        pl.col("best_traffic_after").fill_null(0),
        pl.col("num_far_bins_before").fill_null(0),
        pl.col("num_far_bins_after").fill_null(0),
        pl.col("num_overshooting_bins_before").fill_null(0),
        pl.col("num_overshooting_bins_after").fill_null(0),
        pl.col("p95_distance_m_before").fill_null(0.0).round(0),
        pl.col("p95_distance_m_after").fill_null(0.0).round(0),
    )
    proposal = fmt(
        "{} {} deg proposed ({}), tilt {} -> {} deg; ",
        "previous_action",
        "previous_tilt_change_deg",
        "previous_issue",
        pl.col("tilt_before_deg").round(2),
        pl.col("tilt_after_deg").round(2),
    )
    v = pl.col("verdict")
    related_note = (
        pl.when(pl.col("_related_text").is_not_null())
        .then(
            fmt(
                " {}: {}.",
                pl.when(v == "footprint_grew")
                .then(pl.lit("Neighbours that lost best-server bins"))
                .otherwise(pl.lit("Neighbours that gained best-server bins")),
                "_related_text",
            )
        )
        .otherwise(pl.lit(""))
    )
    reason = (
        pl.when(v == "new_cell")
        .then(pl.lit("not in the before run's cell table."))
        .when(v == "no_measurements_after")
        .then(
            fmt(
                "measured in {} bins before, in none after: outage, removed or renamed cell?",
                "num_bins_before",
            )
        )
        .when(v.is_in(["still_flagged", "resolved"]))
        .then(
            fmt(
                "{} proposed ({}); the after run {} a crossed feeder on it; {}.",
                "previous_action",
                "previous_issue",
                pl.when(v == "resolved")
                .then(pl.lit("no longer flags"))
                .otherwise(pl.lit("still flags")),
                footprint,
            )
        )
        .when(v == "footprint_grew")
        .then(
            fmt(
                "no change was applied yet its footprint at least doubled ({}): check tilt, "
                "RET, bracket and mast on site, and whether a neighbour went off air.{}{}",
                footprint,
                gis_note,
                related_note,
            )
        )
        .when(v == "footprint_shrank")
        .then(
            fmt(
                "no change was applied yet its footprint shrank ({}): check tilt, RET and "
                "obstructions, and whether a neighbour now overshoots into it.{}{}",
                footprint,
                gis_note,
                related_note,
            )
        )
        .otherwise(
            fmt(
                "{}{}; the after run flags {}.",
                proposal,
                footprint,
                pl.col("issues_after").fill_null("nothing"),
            )
        )
    )
    order = v.replace_strict({name: k for k, name in enumerate(VERDICTS)}, return_dtype=pl.Int64)
    return (
        df.with_columns(
            pl.coalesce("cell_name_after", "cell_name_before").alias("cell_name"),
            reason.alias("reason"),
            order.alias("_order"),
        )
        .sort("_order", "cell_id")
        .select(list(CHANGE_SCHEMA))
        .cast(CHANGE_SCHEMA)  # type: ignore[arg-type]
    )
