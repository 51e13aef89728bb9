"""``map.html``: one self-contained page (no CDN, no network) for reviewing a RAN run.

The page holds the data as JSON and draws it with a small inline script into an SVG with one
group per layer (``layer-cells``, ``layer-bins``, ``layer-swaps``, ``layer-zones``,
``layer-coverage-before``, ``layer-coverage-after``), toggled by checkboxes, with wheel/drag
pan and zoom. Charts (``chart-distance-cdf``, ``chart-rsrp-distance``,
``chart-traffic-rose``) are inline SVG drawn here. Bins are sampled (``max_bins`` per layer)
so the file stays bounded whatever the input size.

Positions are drawn in a local equirectangular projection around the network centre
(metres east/north), adequate for a city-sized area.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from opsforge.engines.ran import geohash as gh
from opsforge.engines.ran.charts import (
    RoseCell,
    distance_cdf_svg,
    rsrp_distance_svg,
    traffic_rose_svg,
)
from opsforge.engines.ran.exports import cells_after
from opsforge.engines.ran.geo_exports import ISSUE_COLORS
from opsforge.engines.ran.model import RanResult

__all__ = ["LAYER_IDS", "build_map_data", "write_map_html"]

LAYER_IDS = (
    "layer-cells", "layer-bins", "layer-swaps", "layer-zones", "layer-coverage-before",
    "layer-coverage-after", "chart-distance-cdf", "chart-rsrp-distance", "chart-traffic-rose",
)  # fmt: skip
#: RSRP colour classes (lower bound [dBm], colour), best first.
RSRP_STOPS: list[tuple[float, str]] = [
    (-80.0, "#1a9641"), (-90.0, "#a6d96a"), (-100.0, "#ffffbf"), (-110.0, "#fdae61"),
    (-200.0, "#d7191c"),
]  # fmt: skip
_MAX_ROSES = 12
_ROSE_SECTORS = 36
_CHART_SAMPLE = 200_000
_SCATTER_POINTS = 3000


def write_map_html(
    result: RanResult,
    gis: pl.DataFrame,
    grid: pl.DataFrame,
    path: Path,
    *,
    max_bins: int = 20_000,
    seed: int = 0,
    title: str = "opsforge RAN review",
) -> Path:
    """Write ``map.html``.

    Parameters
    ----------
    result, gis, grid
        The run's result and its canonical input frames.
    max_bins
        Most bins drawn per bin layer (random sample, ``seed``). [1]
    """
    data = build_map_data(result, gis, grid, max_bins=max_bins, seed=seed)
    charts = _charts(result, gis, grid, seed)
    page = (
        resources.files("opsforge.engines.ran")
        .joinpath("templates/map.html")
        .read_text(encoding="utf-8")
    )
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = (
        page.replace("__TITLE__", html.escape(title))
        .replace("__SUMMARY__", _summary_html(result))
        .replace("__LEGEND__", _legend_html())
        .replace("__TABLE__", _table_html(result))
        .replace("__CHARTS__", "".join(charts))
        .replace("__DATA__", payload)
    )
    path.write_text(page, encoding="utf-8")
    return path


def build_map_data(
    result: RanResult, gis: pl.DataFrame, grid: pl.DataFrame, *, max_bins: int, seed: int
) -> dict[str, Any]:
    """The JSON the page draws: cells, sampled bins, coverage, zones, swaps, extent."""
    cells = cells_after(result, gis)
    lat, lon = cells.get_column("lat_deg").to_numpy(), cells.get_column("lon_deg").to_numpy()
    dlat, dlon = gh.cell_size_deg(7)
    bins = _flagged_bins(result, grid, max_bins, seed)
    # Home view: every cell, flagged bin and zone (an overshooter's far bins included).
    all_lon = np.concatenate(
        [lon, np.asarray(bins["lon"], dtype=np.float64)]
        + [np.asarray([p[0] for p in z.polygon_lonlat]) for z in result.interference_zones]
    )
    all_lat = np.concatenate(
        [lat, np.asarray(bins["lat"], dtype=np.float64)]
        + [np.asarray([p[1] for p in z.polygon_lonlat]) for z in result.interference_zones]
    )
    return {
        "center": [float(np.mean(lon)), float(np.mean(lat))] if lat.size else [0.0, 0.0],
        "extent": [
            float(all_lon.min()),
            float(all_lat.min()),
            float(all_lon.max()),
            float(all_lat.max()),
        ]
        if all_lat.size
        else [0.0, 0.0, 0.0, 0.0],
        "wedge_radius_m": _wedge_radius_m(cells),
        "bin_size": [dlon, dlat],
        "colors": ISSUE_COLORS,
        "rsrp_stops": RSRP_STOPS,
        "cells": [
            {
                "id": c["cell_id"],
                "name": c["cell_name"],
                "site": c["site_id"],
                "lon": round(c["lon_deg"], 6),
                "lat": round(c["lat_deg"], 6),
                "brg": c["bearing_deg"],
                "hbw": c["hbw_deg"] if c["hbw_deg"] else 65.0,
                "tilt_e": c["tilt_e_deg"],
                "issue": c["issue"] or "none",
                "action": c["action"] or "",
                "change": c["tilt_change_deg"] or 0.0,
                "conf": round(c["confidence"], 3) if c["confidence"] is not None else None,
                "swap": c["swap_with"] or "",
                "reason": c["reason"] or "",
            }
            for c in cells.iter_rows(named=True)
        ],
        "bins": bins,
        "coverage": _coverage(result, max_bins, seed),
        "zones": [
            {
                "id": z.zone_id,
                "ring": [list(p) for p in z.polygon_lonlat],
                "cells": z.cell_ids,
                "num_grids": z.num_grids,
                "traffic": z.traffic,
            }
            for z in result.interference_zones
        ],
        "swaps": _swaps(result),
    }


# --------------------------------------------------------------------------- internals


def _flagged_issue(result: RanResult) -> pl.DataFrame:
    recs = result.recommendations
    if recs.height == 0:
        return pl.DataFrame(schema={"cell_id": pl.Int64, "issue": pl.String})
    return (
        recs.sort("confidence", descending=True)
        .unique("cell_id", keep="first")
        .select("cell_id", "issue")
    )


def _decode(grids: pl.Series) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    if grids.len() == 0:
        empty = np.empty(0, dtype=np.float64)
        return empty, empty
    lat, lon = gh.decode_int(gh.str_to_int(grids.to_numpy()))
    return lat, lon


def _sample(frame: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    return frame.sample(n=n, seed=seed) if frame.height > n else frame


def _flagged_bins(
    result: RanResult, grid: pl.DataFrame, max_bins: int, seed: int
) -> dict[str, Any]:
    flagged = _flagged_issue(result)
    ids = flagged.get_column("cell_id")
    bins = grid.filter(pl.col("cell_id").is_in(ids.implode())).get_column("grid").unique()
    # Best server only for a sample of candidate bins (a flagged cell is best in most of
    # them), so the cost does not grow with the whole grid.
    if bins.len() > 3 * max_bins:
        bins = bins.sample(n=3 * max_bins, seed=seed)
    best = (
        grid.filter(pl.col("grid").is_in(bins.implode()))
        .sort("rsrp_dbm", descending=True)
        .unique("grid", keep="first")
        .join(flagged, on="cell_id", how="inner")
    )
    best = _sample(best, max_bins, seed).sort("grid")
    lat, lon = _decode(best.get_column("grid"))
    return {
        "grid": best.get_column("grid").to_list(),
        "lon": np.round(lon, 6).tolist(), "lat": np.round(lat, 6).tolist(),
        "cell": best.get_column("cell_id").to_list(),
        "issue": best.get_column("issue").to_list(),
        "rsrp": best.get_column("rsrp_dbm").round(1).to_list(),
    }  # fmt: skip


def _coverage(result: RanResult, max_bins: int, seed: int) -> dict[str, Any]:
    cov = result.coverage
    per_bin = cov.group_by("grid").agg(
        pl.col("rsrp_before_dbm").max().alias("before"),
        pl.col("rsrp_after_dbm").max().alias("after"),
    )
    per_bin = _sample(per_bin, max_bins, seed).sort("grid")
    lat, lon = _decode(per_bin.get_column("grid"))
    return {
        "grid": per_bin.get_column("grid").to_list(),
        "lon": np.round(lon, 6).tolist(), "lat": np.round(lat, 6).tolist(),
        "before": per_bin.get_column("before").round(1).to_list(),
        "after": per_bin.get_column("after").round(1).to_list(),
    }  # fmt: skip


def _swaps(result: RanResult) -> list[list[int]]:
    recs = result.recommendations.filter(pl.col("swap_with").is_not_null())
    pairs: set[tuple[int, int]] = set()
    for cell_id, partners in recs.select("cell_id", "swap_with").iter_rows():
        for p in str(partners).split(","):
            if p.strip().isdigit():
                a, b = sorted((int(cell_id), int(p)))
                pairs.add((a, b))
    return [list(p) for p in sorted(pairs)]


def _wedge_radius_m(cells: pl.DataFrame) -> float:
    """About a third of the median distance between neighbouring sites. [m]"""
    sites = cells.group_by("site_id").agg(pl.col("lat_deg").first(), pl.col("lon_deg").first())
    if sites.height < 2:
        return 300.0
    lat, lon = sites.get_column("lat_deg").to_numpy(), sites.get_column("lon_deg").to_numpy()
    idx = np.random.default_rng(0).permutation(lat.size)[:500]
    nearest = [
        float(np.partition(gh.haversine_m(lat[i], lon[i], lat, lon), 1)[1]) for i in idx.tolist()
    ]
    return float(np.clip(np.median(nearest) / 3.0, 50.0, 3000.0))


def _charts(result: RanResult, gis: pl.DataFrame, grid: pl.DataFrame, seed: int) -> list[str]:
    flagged = _flagged_issue(result)
    sites = gis.select("cell_id", "lat_deg", "lon_deg", "bearing_deg", "cell_name")
    sample = _sample(grid, _CHART_SAMPLE, seed).join(sites, on="cell_id", how="inner")
    sample = sample.join(flagged, on="cell_id", how="left")
    blat, blon = _decode(sample.get_column("grid"))
    dist = gh.haversine_m(sample.get_column("lat_deg").to_numpy(),
                          sample.get_column("lon_deg").to_numpy(), blat, blon)  # fmt: skip
    issue = sample.get_column("issue").fill_null("none").to_numpy()
    groups = [("other cells", ISSUE_COLORS["none"], dist[issue == "none"])]
    groups += [(name, color, dist[issue == name]) for name, color in ISSUE_COLORS.items()
               if name != "none" and (issue == name).any()]  # fmt: skip
    rng = np.random.default_rng(seed)
    pick_f = np.flatnonzero(issue != "none")
    pick_o = np.flatnonzero(issue == "none")
    half = _SCATTER_POINTS // 2
    pick = np.concatenate([
        rng.choice(pick_f, min(half, pick_f.size), replace=False),
        rng.choice(pick_o, min(_SCATTER_POINTS - min(half, pick_f.size), pick_o.size), replace=False),
    ]).astype(np.int64)  # fmt: skip
    rsrp = sample.get_column("rsrp_dbm").to_numpy()
    colors = [ISSUE_COLORS.get(str(issue[i]), "#999") for i in pick.tolist()]
    legend = [("other cells", ISSUE_COLORS["none"])] + [
        (n, c) for n, c in ISSUE_COLORS.items() if n != "none" and (issue == n).any()
    ]
    return [
        distance_cdf_svg(groups),
        rsrp_distance_svg(dist[pick], rsrp[pick], colors, legend),
        traffic_rose_svg(_roses(result, gis, grid)),
    ]


def _roses(result: RanResult, gis: pl.DataFrame, grid: pl.DataFrame) -> list[RoseCell]:
    top = (
        result.recommendations.sort("confidence", descending=True)
        .unique("cell_id", keep="first", maintain_order=True)
        .head(_MAX_ROSES)
    )
    ids = top.get_column("cell_id")
    rows = grid.filter(pl.col("cell_id").is_in(ids.implode())).join(
        gis.select("cell_id", "lat_deg", "lon_deg", "bearing_deg", "cell_name"), on="cell_id"
    )
    blat, blon = _decode(rows.get_column("grid"))
    brg = gh.bearing_deg(rows.get_column("lat_deg").to_numpy(), rows.get_column("lon_deg").to_numpy(),
                         blat, blon)  # fmt: skip
    sector = np.floor(((brg + 180.0 / _ROSE_SECTORS) % 360.0) / (360.0 / _ROSE_SECTORS)).astype(int)
    rows = rows.with_columns(pl.Series("sector", sector))
    out: list[RoseCell] = []
    for rec in top.iter_rows(named=True):
        mine = rows.filter(pl.col("cell_id") == rec["cell_id"])
        if mine.height == 0:
            continue
        traffic = np.bincount(mine.get_column("sector").to_numpy(),
                              weights=mine.get_column("event_count").to_numpy().astype(float),
                              minlength=_ROSE_SECTORS)  # fmt: skip
        out.append(RoseCell(name=str(mine.get_column("cell_name")[0]), issue=str(rec["issue"]),
                            bearing_deg=float(mine.get_column("bearing_deg")[0]),
                            traffic_by_sector=traffic.tolist(),
                            color=ISSUE_COLORS.get(str(rec["issue"]), "#999")))  # fmt: skip
    return out


def _summary_html(result: RanResult) -> str:
    items = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in sorted(result.summary.items())
    )
    return f"<table>{items}</table>"


def _legend_html() -> str:
    issues = "".join(
        f"<div><span class='sw' style='background:{c}'></span>{html.escape(n)}</div>"
        for n, c in ISSUE_COLORS.items()
    )
    rsrp = "".join(
        f"<div><span class='sw' style='background:{c}'></span>RSRP &ge; {v:g} dBm</div>"
        if v > -200 else f"<div><span class='sw' style='background:{c}'></span>RSRP lower</div>"
        for v, c in RSRP_STOPS
    )  # fmt: skip
    zone = "<div><span class='sw' style='background:#ff7f0e'></span>interference zone</div>"
    return issues + zone + rsrp


def _table_html(result: RanResult, limit: int = 100) -> str:
    recs = result.recommendations.sort("confidence", descending=True).head(limit)
    head = "<tr><th>cell</th><th>issue</th><th>action</th><th>&Delta;tilt</th><th>conf.</th></tr>"
    rows = "".join(
        f"<tr title='{html.escape(str(r['reason'] or ''), quote=True)}'>"
        f"<td>{html.escape(str(r['cell_name']))}</td><td>{html.escape(str(r['issue']))}</td>"
        f"<td>{html.escape(str(r['action']))}"
        f"{' ' + html.escape(str(r['swap_with'])) if r['swap_with'] else ''}</td>"
        f"<td>{r['tilt_change_deg'] or 0:+.1f}</td><td>{(r['confidence'] or 0):.2f}</td></tr>"
        for r in recs.iter_rows(named=True)
    )
    return f"<table id='recommendations'>{head}{rows}</table>"
