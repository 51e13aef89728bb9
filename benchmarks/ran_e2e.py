"""End-to-end benchmark of ``ran.recommend``: load + validate + recommend + exports + map.

1. A child process simulates a network (default 3600 sites, about 11 K cells, 1.1 M geohash-7
   bins, 7-8 M grid rows) and writes it in the users' format: ``grid.parquet`` + ``gis.csv``.
2. This process runs the ``ran.recommend`` job kind on those files through a
   ``LocalRunContext`` and prints the stage timings, the total wall time and the peak resident
   memory of this process (``VmHWM`` from ``/proc/self/status``, i.e. excluding the simulator).

Targets: total <= 60 s, peak RSS <= 4 GB.

Usage::

    nice -n 10 .venv/bin/python benchmarks/ran_e2e.py [--sites 3600] [--seed 1] [--keep DIR]
        [--inputs DIR_WITH_grid.parquet_AND_gis.csv]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 60.0
TARGET_RSS_GB = 4.0


def _peak_rss_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def simulate(out: Path, sites: int, seed: int) -> None:
    """Write the synthetic network (runs in a child process)."""
    from opsforge.engines.ran import io
    from opsforge.engines.ran.simulate import SimulationConfig, simulate_network

    started = time.perf_counter()
    cfg = SimulationConfig(num_sites=sites, isd_m=2500.0, noise_floor_dbm=-130.0)
    net = simulate_network(cfg, seed=seed)
    io.write_grid_parquet(net.grid, out / "grid.parquet")
    io.write_gis_csv(net.gis, out / "gis.csv")
    info = {
        "num_sites": sites,
        "num_cells": net.gis.height,
        "num_grid_rows": net.grid.height,
        "num_bins": net.grid.get_column("grid").n_unique(),
        "simulate_s": round(time.perf_counter() - started, 2),
    }
    (out / "sim_info.json").write_text(json.dumps(info))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=3600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="Keep inputs/outputs here.")
    parser.add_argument("--simulate-only", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--inputs", type=Path, default=None, help="Reuse grid.parquet/gis.csv simulated before."
    )
    args = parser.parse_args()
    if args.simulate_only is not None:
        simulate(args.simulate_only, args.sites, args.seed)
        return 0

    from opsforge.core.jobs.context import LocalRunContext
    from opsforge.engines.ran.jobs import RecommendRequest, run_recommend

    root = args.keep or Path(tempfile.mkdtemp(prefix="ran_e2e_"))
    data, outputs = root / "inputs", root / "outputs"
    data.mkdir(parents=True, exist_ok=True)
    if args.inputs is not None:
        data = args.inputs
    else:
        cmd = [sys.executable, __file__, "--sites", str(args.sites), "--seed", str(args.seed),
               "--simulate-only", str(data)]  # fmt: skip
        subprocess.run(cmd, check=True)
    info = json.loads((data / "sim_info.json").read_text())
    print(
        f"simulated: {info['num_sites']} sites, {info['num_cells']} cells, "
        f"{info['num_bins']:,} bins, {info['num_grid_rows']:,} grid rows "
        f"in {info['simulate_s']} s (child process, not timed below)"
    )
    print(f"grid.parquet {(data / 'grid.parquet').stat().st_size / 1e6:.1f} MB, "
          f"gis.csv {(data / 'gis.csv').stat().st_size / 1e6:.2f} MB")  # fmt: skip

    ctx = LocalRunContext(
        run_id="bench", workdir=outputs,
        inputs={"grid": data / "grid.parquet", "gis": data / "gis.csv"},
    )  # fmt: skip
    started = time.perf_counter()
    summary = run_recommend(RecommendRequest(), ctx)
    total_s = time.perf_counter() - started
    rss_gb = _peak_rss_gb()

    print("stage timings [s]:")
    for stage, seconds in ctx.stage_timings_s.items():
        print(f"  {stage:<10} {seconds:8.2f}")
    print(f"total end-to-end: {total_s:.2f} s (target <= {TARGET_S:.0f} s)")
    print(f"peak RSS: {rss_gb:.2f} GB (target <= {TARGET_RSS_GB:.0f} GB)")
    print(f"recommendations: {summary.num_recommendations} {summary.counts_per_issue}; "
          f"interference zones: {summary.num_interference_zones}; "
          f"valid grid rows: {summary.quality.num_grid_rows_valid:,} of "
          f"{summary.quality.num_grid_rows_read:,}")  # fmt: skip
    sizes = {p.name: p.stat().st_size for p in sorted(outputs.iterdir())}
    print("outputs [MB]: " + ", ".join(f"{k} {v / 1e6:.2f}" for k, v in sizes.items()))
    ok = total_s <= TARGET_S and rss_gb <= TARGET_RSS_GB
    print("RESULT:", "within targets" if ok else "OUTSIDE targets")
    if args.keep is None:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
