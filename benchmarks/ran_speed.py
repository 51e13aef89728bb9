"""Speed and peak memory of the RAN engine on a large synthetic network.

Default: ~3,300 sites (10,000 cells), ~1.2 M geohash-7 bins, ~7.5 M (grid, cell) rows.
The simulator runs first (timed), writes Parquet to a temporary folder, then a fresh Python
process reads it and times :func:`opsforge.engines.ran.recommend` per stage; that process's peak
resident memory during the call (``VmHWM`` after a reset, includes the loaded frames) is
reported. Linux only (reads /proc).

Usage: ``.venv/bin/python benchmarks/ran_speed.py [--sites 3334] [--isd-m 2700]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from opsforge.engines.ran import RanParams, SimulationConfig, recommend, simulate_network


def _status_mib(field: str) -> float:
    """``VmRSS`` / ``VmHWM`` of this process from /proc (Linux). [MiB]"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1]) / 1024.0
    return float("nan")


def engine(folder: Path) -> None:
    grid = pl.read_parquet(folder / "grid.parquet")
    gis = pl.read_parquet(folder / "gis.parquet")
    rss_loaded = _status_mib("VmRSS")
    # reset the peak-RSS mark (Linux >= 4.0) so the peak below belongs to recommend()
    Path("/proc/self/clear_refs").write_text("5")
    stages: list[tuple[str, float]] = []
    last = [time.perf_counter()]

    def progress(fraction: float, message: str = "") -> None:
        now = time.perf_counter()
        stages.append((message, now - last[0]))
        last[0] = now

    started = time.perf_counter()
    result = recommend(grid, gis, RanParams(), progress=progress)
    total = time.perf_counter() - started
    peak = _status_mib("VmHWM")
    print(f"rows {grid.height:,}  bins {result.summary['num_bins']:,}  cells {gis.height:,}")
    for message, seconds in stages:
        print(f"  stage {message:<28s} {seconds:6.2f} s")
    print(f"engine recommend() wall time: {total:.2f} s")
    print(
        f"peak RSS during recommend(): {peak:,.0f} MiB "
        f"(frames loaded before the call: {rss_loaded:,.0f} MiB resident)"
    )
    print(f"summary: {result.summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=3334)
    parser.add_argument("--isd-m", type=float, default=2700.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_only is not None:
        engine(args.engine_only)
        return
    cfg = SimulationConfig(
        num_sites=args.sites, isd_m=args.isd_m, p_re_dbm=40.0, num_interference_clusters=20
    )
    started = time.perf_counter()
    net = simulate_network(cfg, args.seed)
    sim_s = time.perf_counter() - started
    print(f"simulate_network: {sim_s:.1f} s for {net.grid.height:,} rows, {net.gis.height:,} cells")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        net.grid.write_parquet(folder / "grid.parquet")
        net.gis.write_parquet(folder / "gis.parquet")
        del net
        subprocess.run([sys.executable, __file__, "--engine-only", str(folder)], check=True)


if __name__ == "__main__":
    main()
