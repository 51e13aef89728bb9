"""Self-contained SVG charts for the RAN map page (no JavaScript, no network).

Each function returns one ``<svg>`` element as text with a stable ``id``; numbers are drawn
from the arrays given, so the caller controls sampling (and with it the page size).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["RoseCell", "distance_cdf_svg", "rsrp_distance_svg", "traffic_rose_svg"]

FloatArray = npt.NDArray[np.float64]
_W, _H = 460, 300
_M = {"l": 56, "r": 16, "t": 28, "b": 44}
_FONT = "font-family='sans-serif' font-size='11'"


@dataclass(frozen=True)
class RoseCell:
    """Traffic of one cell by direction seen from its site."""

    name: str
    issue: str
    bearing_deg: float
    #: Traffic (eventCount) per direction sector, sector ``i`` centred on ``i * 360/n``. [1]
    traffic_by_sector: Sequence[float]
    color: str


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _frame(
    chart_id: str, title: str, xlabel: str, ylabel: str, xr: tuple[float, float],
    yr: tuple[float, float], body: list[str], legend: list[tuple[str, str]],
) -> str:  # fmt: skip
    (x0, x1), (y0, y1) = xr, yr
    pw, ph = _W - _M["l"] - _M["r"], _H - _M["t"] - _M["b"]

    def sx(v: float) -> float:
        return _M["l"] + (v - x0) / (x1 - x0 or 1.0) * pw

    def sy(v: float) -> float:
        return _M["t"] + ph - (v - y0) / (y1 - y0 or 1.0) * ph

    parts = [
        f"<svg id='{chart_id}' class='chart' xmlns='http://www.w3.org/2000/svg' "
        f"viewBox='0 0 {_W} {_H}' width='{_W}' height='{_H}' role='img'>",
        f"<title>{_esc(title)}</title>",
        f"<rect x='0' y='0' width='{_W}' height='{_H}' fill='white'/>",
        f"<text x='{_W / 2}' y='16' text-anchor='middle' {_FONT} font-weight='bold'>"
        f"{_esc(title)}</text>",
    ]
    for t in _nice_ticks(x0, x1):
        parts.append(
            f"<line x1='{sx(t):.1f}' x2='{sx(t):.1f}' y1='{_M['t']}' y2='{_M['t'] + ph}' "
            f"stroke='#eee'/><text x='{sx(t):.1f}' y='{_M['t'] + ph + 14}' "
            f"text-anchor='middle' {_FONT}>{t:g}</text>"
        )
    for t in _nice_ticks(y0, y1):
        parts.append(
            f"<line x1='{_M['l']}' x2='{_M['l'] + pw}' y1='{sy(t):.1f}' y2='{sy(t):.1f}' "
            f"stroke='#eee'/><text x='{_M['l'] - 6}' y='{sy(t) + 4:.1f}' text-anchor='end' "
            f"{_FONT}>{t:g}</text>"
        )
    parts.append(
        f"<rect x='{_M['l']}' y='{_M['t']}' width='{pw}' height='{ph}' fill='none' stroke='#888'/>"
    )
    parts.append(
        f"<text x='{_M['l'] + pw / 2}' y='{_H - 8}' text-anchor='middle' {_FONT}>"
        f"{_esc(xlabel)}</text><text transform='translate(14 {_M['t'] + ph / 2}) rotate(-90)' "
        f"text-anchor='middle' {_FONT}>{_esc(ylabel)}</text>"
    )
    parts.append(f"<g class='plot' data-x0='{x0}' data-x1='{x1}' data-y0='{y0}' data-y1='{y1}'>")
    parts += body
    parts.append("</g>")
    for i, (label, color) in enumerate(legend):
        y = _M["t"] + 10 + 14 * i
        parts.append(
            f"<rect x='{_M['l'] + pw - 150}' y='{y - 8}' width='10' height='10' fill='{color}'/>"
            f"<text x='{_M['l'] + pw - 136}' y='{y + 1}' {_FONT}>{_esc(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _scalers(xr: tuple[float, float], yr: tuple[float, float]) -> tuple[float, float, float, float]:
    pw, ph = _W - _M["l"] - _M["r"], _H - _M["t"] - _M["b"]
    ax = pw / (xr[1] - xr[0] or 1.0)
    ay = ph / (yr[1] - yr[0] or 1.0)
    return ax, _M["l"] - xr[0] * ax, -ay, _M["t"] + ph + yr[0] * ay


def distance_cdf_svg(groups: Sequence[tuple[str, str, FloatArray]]) -> str:
    """Empirical CDF of bin-to-serving-site distance per group ``(label, color, distance_m)``.

    Distances are drawn in km; each curve is thinned to at most 400 vertices.
    """
    finite = [np.sort(d[np.isfinite(d)]) / 1000.0 for _, _, d in groups]
    x1 = max((float(np.quantile(d, 0.995)) for d in finite if d.size), default=1.0) or 1.0
    xr, yr = (0.0, x1), (0.0, 1.0)
    ax, bx, ay, by = _scalers(xr, yr)
    body: list[str] = []
    for (label, color, _), d in zip(groups, finite, strict=True):
        if d.size == 0:
            continue
        idx = np.unique(np.linspace(0, d.size - 1, min(d.size, 400)).astype(int))
        xs = np.minimum(d[idx], x1) * ax + bx
        ys = (idx + 1) / d.size * ay + by
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        body.append(
            f"<polyline points='{pts}' fill='none' stroke='{color}' stroke-width='2'>"
            f"<title>{_esc(label)}: {d.size} bins</title></polyline>"
        )
    return _frame("chart-distance-cdf", "Distance to serving site, CDF", "distance [km]",
                  "share of bins [1]", xr, yr, body,
                  [(lbl, c) for lbl, c, _ in groups])  # fmt: skip


def rsrp_distance_svg(
    distance_m: FloatArray, rsrp_dbm: FloatArray, colors: Sequence[str],
    legend: list[tuple[str, str]],
) -> str:  # fmt: skip
    """RSRP against distance, one dot per (sampled) measurement. [m], [dBm]"""
    ok = np.isfinite(distance_m) & np.isfinite(rsrp_dbm)
    d, r = distance_m[ok] / 1000.0, rsrp_dbm[ok]
    cols = [c for c, keep in zip(colors, ok.tolist(), strict=True) if keep]
    x1 = float(np.quantile(d, 0.995)) if d.size else 1.0
    xr = (0.0, x1 or 1.0)
    yr = (float(np.floor(r.min() / 10) * 10), float(np.ceil(r.max() / 10) * 10)) if r.size else (
        -140.0, -40.0)  # fmt: skip
    ax, bx, ay, by = _scalers(xr, yr)
    body = [
        f"<circle cx='{min(x, x1) * ax + bx:.1f}' cy='{y * ay + by:.1f}' r='1.6' fill='{c}' "
        f"fill-opacity='0.55'/>"
        for x, y, c in zip(d.tolist(), r.tolist(), cols, strict=True)
    ]
    return _frame("chart-rsrp-distance", "RSRP vs distance (sample)", "distance [km]",
                  "RSRP [dBm]", xr, yr, body, legend)  # fmt: skip


def traffic_rose_svg(cells: Sequence[RoseCell], per_row: int = 4) -> str:
    """Polar bars of traffic by direction, one small rose per flagged cell.

    The black needle is the GIS bearing; a crossed feeder or an azimuth error shows as
    traffic concentrated away from it.
    """
    size, pad = 150, 10
    rows = max(1, math.ceil(len(cells) / per_row))
    width, height = per_row * (size + pad) + pad, rows * (size + pad + 16) + 24
    parts = [
        f"<svg id='chart-traffic-rose' class='chart' xmlns='http://www.w3.org/2000/svg' "
        f"viewBox='0 0 {width} {height}' width='{width}' height='{height}' role='img'>",
        "<title>Traffic rose per flagged cell</title>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='{width / 2}' y='16' text-anchor='middle' {_FONT} font-weight='bold'>"
        "Traffic by direction from site, per flagged cell (needle = GIS bearing)</text>",
    ]
    if not cells:
        parts.append(f"<text x='{pad}' y='40' {_FONT}>No flagged cells.</text>")
    for i, cell in enumerate(cells):
        cx = pad + (i % per_row) * (size + pad) + size / 2
        cy = 24 + (i // per_row) * (size + pad + 16) + size / 2 + 14
        radius = size / 2 - 6
        parts.append(f"<g class='rose' data-cell='{_esc(cell.name)}'>")
        parts.append(
            f"<circle cx='{cx}' cy='{cy}' r='{radius}' fill='none' stroke='#ccc'/>"
            f"<text x='{cx}' y='{cy - size / 2 - 2}' text-anchor='middle' {_FONT}>"
            f"{_esc(cell.name)} ({_esc(cell.issue)})</text>"
        )
        traffic = np.asarray(cell.traffic_by_sector, dtype=np.float64)
        peak = float(traffic.max()) if traffic.size and traffic.max() > 0 else 1.0
        n = traffic.size
        for k, value in enumerate(traffic.tolist()):
            if value <= 0:
                continue
            r = radius * math.sqrt(value / peak)
            a0, a1 = math.radians(k * 360 / n - 180 / n), math.radians(k * 360 / n + 180 / n)
            p0 = (cx + r * math.sin(a0), cy - r * math.cos(a0))
            p1 = (cx + r * math.sin(a1), cy - r * math.cos(a1))
            parts.append(
                f"<path d='M{cx},{cy} L{p0[0]:.1f},{p0[1]:.1f} A{r:.1f},{r:.1f} 0 0 1 "
                f"{p1[0]:.1f},{p1[1]:.1f} Z' fill='{cell.color}' fill-opacity='0.75'>"
                f"<title>{k * 360 / n:.0f} deg: {value:.0f} events</title></path>"
            )
        b = math.radians(cell.bearing_deg)
        parts.append(
            f"<line x1='{cx}' y1='{cy}' x2='{cx + radius * math.sin(b):.1f}' "
            f"y2='{cy - radius * math.cos(b):.1f}' stroke='black' stroke-width='2'/></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
