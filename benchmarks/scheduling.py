"""Scheduling benchmark: every rule, CP-SAT and the PPO policy on Taillard ta01-ta80.

Prints, per instance size, the mean gap to the best known upper bound (``bounds.csv``) and the
time per instance of every backend, all measured in one run.

    .venv/bin/python benchmarks/scheduling.py                       # ta01-ta80, all backends
    .venv/bin/python benchmarks/scheduling.py --first 1 --last 10   # a quick run
    .venv/bin/python benchmarks/scheduling.py --backends fdd_mwkr,ppo --time-limit-s 1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from opsforge.core.logging import configure_logging
from opsforge.engines.scheduling import io
from opsforge.engines.scheduling.bench import BENCH_BACKENDS, BenchRow, benchmark, summarise
from opsforge.engines.scheduling.policy import Policy

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "jssp"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA, help="jssp data folder")
    parser.add_argument("--first", type=int, default=1, help="first Taillard index (1..80)")
    parser.add_argument("--last", type=int, default=80, help="last Taillard index (1..80)")
    parser.add_argument("--backends", default=",".join(BENCH_BACKENDS))
    parser.add_argument("--time-limit-s", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--policy", type=Path, default=None, help="policy file (default shipped)")
    parser.add_argument("--quiet", action="store_true", help="summary only")
    parser.add_argument(
        "--batch170", action="store_true", help="also time the policy on a generated 170x10 batch"
    )
    args = parser.parse_args(argv)
    configure_logging("WARNING")
    if not (args.data / "bounds.csv").exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    backends = [b for b in args.backends.split(",") if b]
    bounds = io.read_bounds(args.data / "bounds.csv")
    names = [f"ta{i:02d}" for i in range(args.first, args.last + 1)]
    problems = [io.read_jssp(args.data / "instances" / name) for name in names]
    policy = Policy.from_bytes(io.read_policy_bytes(args.policy)) if "ppo" in backends else None
    if policy is not None:
        print(f"policy: {policy.meta.get('name', '?')} steps={policy.meta.get('steps')}")
    print(
        f"instances ta{args.first:02d}-ta{args.last:02d}, backends {backends}, "
        f"time limit {args.time_limit_s} s, seed {args.seed}"
    )

    def show(row: BenchRow) -> None:
        if not args.quiet:
            print(
                f"{row.instance} {row.size:>6} {row.backend:>9} makespan {row.makespan:6d} "
                f"ub {row.upper_bound:6d} gap {100 * row.gap:6.2f}% "
                f"time {row.runtime_s:.3f} s valid {row.valid}",
                flush=True,
            )

    rows = benchmark(
        problems,
        {name: b.upper_bound for name, b in bounds.items()},
        backends=backends,
        time_limit_s=args.time_limit_s,
        seed=args.seed,
        policy=policy,
        on_row=show,
    )
    print("\nsize      backend    n  mean gap  mean time  max time  all valid")
    summary = summarise(rows)
    first50 = [r for r in rows if int(r.instance[2:]) <= 50]
    extra = (
        [
            (s.__class__(**{**s.__dict__, "size": "ta01-50"}))
            for s in summarise(first50)
            if s.size == "all"
        ]
        if first50 and len(first50) != len(rows)
        else []
    )
    for s in [*summary, *extra]:
        print(
            f"{s.size:>8} {s.backend:>9} {s.num_instances:3d} {100 * s.mean_gap:8.2f}% "
            f"{s.mean_runtime_s:9.3f} s {s.max_runtime_s:7.3f} s  {s.all_valid}"
        )
    if args.batch170:
        batch170(policy, backends, args.time_limit_s, args.seed)
    return 0


def batch170(policy: Policy | None, backends: list[str], time_limit_s: float, seed: int) -> None:
    """A plant-sized batch: 170 jobs on 10 machines (Taillard-like), every backend."""
    import numpy as np

    from opsforge.engines.scheduling.env import random_instance
    from opsforge.engines.scheduling.solve import solve

    problem = random_instance(170, 10, np.random.default_rng(170), name="batch170x10")
    print(f"\n{problem.name}: {problem.num_operations} operations")
    for name in backends:
        if name == "ppo":
            result = solve(problem, backend="ppo", policy=policy, time_limit_s=time_limit_s)
        elif name == "cpsat":
            result = solve(problem, backend="cpsat", time_limit_s=time_limit_s, seed=seed)
        else:
            result = solve(problem, backend="rule", rule=name)  # type: ignore[arg-type]
        extra = (
            f" samples {result.details['num_samples']} greedy {result.details['greedy_makespan']:g}"
            if name == "ppo"
            else ""
        )
        print(
            f"{name:>9} makespan {result.makespan} time {result.runtime_s:.3f} s "
            f"valid {result.verdict.valid}{extra}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
