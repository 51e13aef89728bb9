"""Gantt charts of a schedule: PNG bytes (matplotlib, Agg) and self-contained HTML (inline SVG).

Both are returned as values; writing them is the caller's business.
"""

from __future__ import annotations

import colorsys
import html
import io
from collections.abc import Sequence

from opsforge.engines.scheduling.model import Problem
from opsforge.engines.scheduling.schedule import ScheduledOperation

__all__ = ["gantt_html", "gantt_png"]


def _colour(job: int, num_jobs: int) -> str:
    hue = (job * 0.618033988749895) % 1.0
    red, green, blue = colorsys.hls_to_rgb(hue, 0.6, 0.55)
    return f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"


def gantt_png(
    problem: Problem, schedule: Sequence[ScheduledOperation], *, title: str | None = None
) -> bytes:
    """A Gantt chart (machines as rows, jobs as colours, downtime hatched) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    height_in = max(2.5, 0.35 * problem.num_machines + 1.2)
    fig = Figure(figsize=(12, height_in), dpi=100)
    ax = fig.add_subplot()
    for item in schedule:
        ax.broken_barh(
            [(item.start, item.end - item.start)],
            (item.machine - 0.4, 0.8),
            facecolors=_colour(item.job, problem.num_jobs),
            edgecolor="black",
            linewidth=0.3,
        )
        if problem.num_jobs <= 30 and item.end - item.start > 0:
            ax.text(
                (item.start + item.end) / 2,
                item.machine,
                str(item.job),
                ha="center",
                va="center",
                fontsize=6,
            )
    for window in problem.downtimes:
        ax.broken_barh(
            [(window.start, window.end - window.start)],
            (window.machine - 0.45, 0.9),
            facecolors="none",
            edgecolor="red",
            hatch="//",
        )
    makespan = max((item.end for item in schedule), default=0)
    ax.set_xlim(0, max(makespan, 1) * 1.01)
    ax.set_ylim(-0.6, problem.num_machines - 0.4)
    ax.set_yticks(range(problem.num_machines))
    ax.set_yticklabels([f"M{m}" for m in range(problem.num_machines)], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("time")
    ax.set_title(title or f"{problem.name}: makespan {makespan}")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def gantt_html(
    problem: Problem, schedule: Sequence[ScheduledOperation], *, title: str | None = None
) -> str:
    """A self-contained HTML page with the Gantt chart as inline SVG (no script, no CDN)."""
    makespan = max((item.end for item in schedule), default=0)
    width_px, row_px, left_px, top_px = 1100, 22, 50, 30
    scale = (width_px - left_px - 10) / max(makespan, 1)
    height_px = top_px + row_px * problem.num_machines + 30
    parts: list[str] = []
    for m in range(problem.num_machines):
        y = top_px + m * row_px
        parts.append(f'<text x="4" y="{y + 15}" font-size="11">M{m}</text>')
    for window in problem.downtimes:
        x = left_px + window.start * scale
        y = top_px + window.machine * row_px
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{(window.end - window.start) * scale:.1f}" '
            f'height="{row_px - 2}" fill="url(#hatch)" stroke="red"><title>downtime '
            f"[{window.start}, {window.end})</title></rect>"
        )
    for item in schedule:
        x = left_px + item.start * scale
        y = top_px + item.machine * row_px
        label = html.escape(f"job {item.job} op {item.op}: [{item.start}, {item.end})")
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{max((item.end - item.start) * scale, 0.5):.1f}" '
            f'height="{row_px - 2}" fill="{_colour(item.job, problem.num_jobs)}" '
            f'stroke="black" stroke-width="0.3"><title>{label}</title></rect>'
        )
    axis_y = top_px + problem.num_machines * row_px + 15
    for tick in range(0, makespan + 1, max(1, makespan // 10)):
        parts.append(
            f'<text x="{left_px + tick * scale:.1f}" y="{axis_y}" font-size="10">{tick}</text>'
        )
    heading = html.escape(title or f"{problem.name}: makespan {makespan}")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>"
        f"{heading}</title></head><body style='font-family:sans-serif'>"
        f"<h3>{heading}</h3>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}">'
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<path d="M0,6 L6,0" stroke="red" stroke-width="1"/></pattern></defs>'
        + "".join(parts)
        + "</svg></body></html>\n"
    )
