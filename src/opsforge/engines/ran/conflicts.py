"""Make the findings applicable in one cycle; every dropped or clipped action is reported.

Rules, in order:

1. **One action per cell.** A ``swap_feeders`` finding beats a tilt finding on the same cell
   (a swap drops tilt findings on every member of the group: the measured footprint belongs to
   another antenna). A ``check_azimuth`` beats a tilt finding only when it is at least as
   confident; otherwise the azimuth check is ``dropped`` and the tilt finding stays. Between two
   tilt findings the more confident stays. (resolution ``dropped``)
2. **Step limit.** A tilt change larger than ``max_tilt_step_deg`` is cut to it (``clipped``).
3. **RET range.** The proposed electrical tilt is kept inside ``[ret_min_deg, ret_max_deg]``
   (GIS values, else the defaults). With ``mechanical_fallback`` the rest of the change (on a
   0.5 deg grid toward zero) is proposed as mechanical tilt inside ``[mech_min_deg,
   mech_max_deg]`` (``tilt_change_m_deg``; a site visit, said in the reason). When less than
   ``min_tilt_step_deg`` of change remains the action is ``dropped``, otherwise ``clipped`` if
   less than asked remains.
4. **No opposing changes on shared bins.** A downtilt and an uptilt whose cells compete for the
   same bins (both within 3 dB of the bin's best) on at least ``opposing_overlap_share`` of the
   smaller footprint and at least ``opposing_min_shared_bins`` bins: the less confident one is
   ``dropped``.
5. **Sectors per site.** At most ``max_changed_sectors_per_site`` tilt changes per site, highest
   confidence first; the rest are ``dropped``. Feeder actions do not count (no tilt moves).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from opsforge.engines.ran.model import CONFLICT_SCHEMA, ConflictParams
from opsforge.engines.ran.prepare import Prepared
from opsforge.engines.ran.text import fmt

__all__ = ["resolve_conflicts"]

_COMPETE_DB = 3.0
_TILT = ("downtilt", "uptilt")


def _conflict(frame: pl.DataFrame, resolution: str, reason: pl.Expr) -> pl.DataFrame:
    """Conflict rows of ``frame``; ``tilt_change_deg`` is the change the detector asked for."""
    asked = "_asked" if "_asked" in frame.columns else "tilt_change_deg"
    return frame.select(
        pl.col("cell_idx"),
        "issue",
        "action",
        pl.col(asked).cast(pl.Float64).alias("tilt_change_deg"),
        pl.col("confidence").cast(pl.Float64),
        pl.lit(resolution).alias("resolution"),
        reason.alias("reason"),
    )


def resolve_conflicts(
    prep: Prepared, findings: pl.DataFrame, p: ConflictParams
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply the rules; returns (kept findings with ``tilt_change_m_deg``, the mechanical part
    of ``tilt_change_deg``; conflicts with ``cell_idx``)."""
    out: list[pl.DataFrame] = []
    is_tilt = pl.col("action").is_in(_TILT)
    feeder = findings.filter(~is_tilt)
    tilt = findings.filter(is_tilt)
    # 1. one action per cell: a swap always wins; a check_azimuth only against a tilt finding
    # that is not more confident than it (an uncertain azimuth must not hide a clear tilt fault)
    tilt_conf = tilt.group_by("cell_idx").agg(pl.col("confidence").max().alias("_tilt_conf"))
    feeder = feeder.join(tilt_conf, on="cell_idx", how="left")
    weak_check = (pl.col("action") == "check_azimuth") & (
        pl.col("_tilt_conf").fill_null(-1.0) > pl.col("confidence")
    )
    out.append(
        _conflict(
            feeder.filter(weak_check),
            "dropped",
            fmt(
                "a more confident tilt finding ({}) on this cell is kept; the azimuth check "
                "({}) waits",
                pl.col("_tilt_conf").round(2),
                pl.col("confidence").round(2),
            ),
        )
    )
    feeder = feeder.filter(~weak_check).drop("_tilt_conf")
    blocked = set(feeder["cell_idx"].to_list())
    drop = tilt.filter(pl.col("cell_idx").is_in(list(blocked)))
    out.append(
        _conflict(
            drop,
            "dropped",
            pl.lit(
                "a crossed-feeder finding on this cell takes precedence: its measured footprint belongs to another antenna"
            ),
        )
    )
    tilt = tilt.filter(~pl.col("cell_idx").is_in(list(blocked))).sort(
        ["cell_idx", "confidence"], descending=[False, True]
    )
    dup = tilt.filter(pl.int_range(pl.len()).over("cell_idx") > 0)
    out.append(
        _conflict(
            dup,
            "dropped",
            pl.lit("a more confident finding on this cell is kept (one action per cell per cycle)"),
        )
    )
    tilt = tilt.filter(pl.int_range(pl.len()).over("cell_idx") == 0)
    # 2. step limit
    big = tilt.filter(pl.col("tilt_change_deg").abs() > p.max_tilt_step_deg)
    out.append(
        _conflict(
            big,
            "clipped",
            fmt(
                "tilt change {} deg cut to the step limit of {} deg",
                "tilt_change_deg",
                pl.lit(p.max_tilt_step_deg),
            ),
        )
    )
    tilt = tilt.with_columns(
        pl.col("tilt_change_deg").alias("_asked"),
        pl.col("tilt_change_deg").clip(-p.max_tilt_step_deg, p.max_tilt_step_deg),
    )
    # 3. RET range, the rest as mechanical tilt
    gis = prep.gis.select(
        "cell_idx", "tilt_e_deg", "tilt_m_deg", "ret_min_deg", "ret_max_deg", "site_idx"
    )
    tilt = (
        tilt.join(gis, on="cell_idx", how="left")
        .with_columns(
            # allowed change; a tilt already outside the range may still move back toward it
            pl.min_horizontal(pl.lit(0.0), pl.col("ret_min_deg") - pl.col("tilt_e_deg")).alias(
                "_lo"
            ),
            pl.max_horizontal(pl.lit(0.0), pl.col("ret_max_deg") - pl.col("tilt_e_deg")).alias(
                "_hi"
            ),
            pl.min_horizontal(pl.lit(0.0), p.mech_min_deg - pl.col("tilt_m_deg")).alias("_mlo"),
            pl.max_horizontal(pl.lit(0.0), p.mech_max_deg - pl.col("tilt_m_deg")).alias("_mhi"),
        )
        .with_columns(pl.col("tilt_change_deg").clip(pl.col("_lo"), pl.col("_hi")).alias("_e"))
        .with_columns(
            (((pl.col("tilt_change_deg") - pl.col("_e")) / 0.5).round(6).cast(pl.Int64) * 0.5)
            .clip(pl.col("_mlo"), pl.col("_mhi"))
            .alias("_m")
            if p.mechanical_fallback
            else pl.lit(0.0).alias("_m")
        )
        .with_columns((pl.col("_e") + pl.col("_m")).alias("_clipped"))
    )
    ret_drop = tilt.filter(pl.col("_clipped").abs() < p.min_tilt_step_deg)
    no_room = fmt(
        "RET range {}..{} deg leaves no room from {} deg",
        "ret_min_deg",
        "ret_max_deg",
        "tilt_e_deg",
    )
    if p.mechanical_fallback:
        no_room = fmt(
            "{} and the mechanical range {}..{} deg none from {} deg",
            no_room,
            pl.lit(p.mech_min_deg),
            pl.lit(p.mech_max_deg),
            "tilt_m_deg",
        )
    out.append(_conflict(ret_drop, "dropped", no_room))
    ret_clip = tilt.filter(
        (pl.col("_clipped").abs() >= p.min_tilt_step_deg)
        & (pl.col("_clipped") != pl.col("tilt_change_deg"))
    )
    out.append(
        _conflict(
            ret_clip,
            "clipped",
            fmt(
                "tilt change {} deg cut to {} deg ({} deg electrical, {} deg mechanical) by the "
                "RET range {}..{} deg and the mechanical range {}..{} deg",
                "tilt_change_deg",
                "_clipped",
                "_e",
                "_m",
                "ret_min_deg",
                "ret_max_deg",
                pl.lit(p.mech_min_deg),
                pl.lit(p.mech_max_deg),
            )
            if p.mechanical_fallback
            else fmt(
                "tilt change {} deg cut to {} deg by the RET range {}..{} deg",
                "tilt_change_deg",
                "_clipped",
                "ret_min_deg",
                "ret_max_deg",
            ),
        )
    )
    tilt = tilt.filter(pl.col("_clipped").abs() >= p.min_tilt_step_deg).with_columns(
        pl.col("_clipped").alias("tilt_change_deg"),
        pl.col("_m").alias("tilt_change_m_deg"),
    )
    # 4. opposing changes on shared bins
    tilt, opp = _opposing(prep, tilt, p)
    out.append(opp)
    # 5. sectors per site
    tilt = tilt.sort(["site_idx", "confidence"], descending=[False, True])
    rank = pl.int_range(pl.len()).over("site_idx")
    over = tilt.filter(rank >= p.max_changed_sectors_per_site)
    out.append(
        _conflict(
            over,
            "dropped",
            pl.lit(
                f"site already has {p.max_changed_sectors_per_site} more confident tilt changes this cycle"
            ),
        )
    )
    tilt = tilt.filter(rank < p.max_changed_sectors_per_site)
    tilt = tilt.with_columns(
        pl.when(pl.col("tilt_change_deg") != pl.col("_asked"))
        .then(
            fmt(
                "{} This cycle applies {} deg of the {} deg needed (see conflicts).",
                "reason",
                "tilt_change_deg",
                "_asked",
            )
        )
        .otherwise(pl.col("reason"))
        .alias("reason")
    ).with_columns(
        pl.when(pl.col("tilt_change_m_deg") != 0.0)
        .then(
            fmt(
                "{} The RET range {}..{} deg takes {} deg: {} deg as mechanical tilt (site visit).",
                "reason",
                "ret_min_deg",
                "ret_max_deg",
                "_e",
                "tilt_change_m_deg",
            )
        )
        .otherwise(pl.col("reason"))
        .alias("reason")
    )
    kept = pl.concat(
        [
            feeder.with_columns(pl.lit(0.0).alias("tilt_change_m_deg")),
            tilt.select(*findings.columns, "tilt_change_m_deg"),
        ]
    ).sort("cell_idx")
    conflicts = pl.concat([c.with_columns(pl.col("cell_idx").cast(pl.Int64)) for c in out])
    return kept, conflicts


def _opposing(
    prep: Prepared, tilt: pl.DataFrame, p: ConflictParams
) -> tuple[pl.DataFrame, pl.DataFrame]:
    empty = pl.DataFrame(
        schema={
            "cell_idx": pl.Int64,
            **{k: v for k, v in CONFLICT_SCHEMA.items() if k not in ("cell_id", "cell_name")},
        }
    )
    if (
        tilt.filter(pl.col("action") == "downtilt").height == 0
        or tilt.filter(pl.col("action") == "uptilt").height == 0
    ):
        return tilt, empty
    sel = np.zeros(prep.gis.height, dtype=bool)
    sel[tilt["cell_idx"].to_numpy()] = True
    rows = sel[prep.r_cell] & (prep.r_rsrp >= prep.b_best_rsrp[prep.r_bin] - _COMPETE_DB)
    foot = pl.DataFrame({"bin": prep.r_bin[rows], "cell_idx": prep.r_cell[rows]}).join(
        tilt.select("cell_idx", "action", "confidence"), on="cell_idx"
    )
    size = foot.group_by("cell_idx").len()
    down, up = (
        foot.filter(pl.col("action") == "downtilt"),
        foot.filter(pl.col("action") == "uptilt"),
    )
    pairs = (
        down.join(up, on="bin", suffix="_up")
        .group_by("cell_idx", "cell_idx_up", "confidence", "confidence_up")
        .agg(pl.len().alias("shared"))
        .join(size, on="cell_idx")
        .join(size.rename({"cell_idx": "cell_idx_up", "len": "len_up"}), on="cell_idx_up")
        .filter(
            (pl.col("shared") >= p.opposing_overlap_share * pl.min_horizontal("len", "len_up"))
            & (pl.col("shared") >= p.opposing_min_shared_bins)
        )
        .sort("shared", descending=True)
    )
    dropped: dict[int, tuple[int, int]] = {}
    for a, b, ca, cb, shared in pairs.select(
        "cell_idx", "cell_idx_up", "confidence", "confidence_up", "shared"
    ).iter_rows():
        if a in dropped or b in dropped:
            continue
        loser, winner = (a, b) if ca < cb else (b, a)
        dropped[loser] = (winner, shared)
    if not dropped:
        return tilt, empty
    ids = prep.gis["cell_id"].to_numpy()
    lost = tilt.filter(pl.col("cell_idx").is_in(list(dropped)))
    reasons = [
        f"opposite tilt change on cell {ids[dropped[c][0]]} competes for the same {dropped[c][1]} bins and is more confident"
        for c in lost["cell_idx"].to_list()
    ]
    conf = _conflict(lost, "dropped", pl.lit(None, dtype=pl.Utf8)).with_columns(
        pl.Series("reason", reasons, dtype=pl.Utf8)
    )
    return tilt.filter(~pl.col("cell_idx").is_in(list(dropped))), conf
