"""Benchmark every backend on instances with known bounds: gap to the upper bound and time.

``gap = makespan / upper_bound - 1`` (the best known makespan), per instance, then averaged
by instance size. Used by ``benchmarks/scheduling.py`` and ``opsforge scheduling bench``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import get_args

from opsforge.engines.scheduling.backends.rules import RULES, RuleName
from opsforge.engines.scheduling.model import Problem
from opsforge.engines.scheduling.policy import Policy
from opsforge.engines.scheduling.solve import solve

__all__ = ["BENCH_BACKENDS", "BenchRow", "SummaryRow", "benchmark", "summarise"]

BENCH_BACKENDS: tuple[str, ...] = (*RULES, "cpsat", "ppo")


@dataclass(frozen=True)
class BenchRow:
    """One instance solved by one backend."""

    instance: str
    size: str
    backend: str
    makespan: int
    upper_bound: int
    gap: float
    runtime_s: float
    valid: bool


@dataclass(frozen=True)
class SummaryRow:
    """Mean gap and time of one backend over the instances of one size (or ``all``)."""

    size: str
    backend: str
    num_instances: int
    mean_gap: float
    mean_runtime_s: float
    max_runtime_s: float
    all_valid: bool


def benchmark(
    problems: Sequence[Problem],
    upper_bounds: Mapping[str, int],
    *,
    backends: Sequence[str] = BENCH_BACKENDS,
    time_limit_s: float = 1.0,
    seed: int = 0,
    policy: Policy | None = None,
    on_row: Callable[[BenchRow], None] | None = None,
) -> list[BenchRow]:
    """Solve every problem with every backend; ``policy`` is needed for ``ppo``."""
    rows: list[BenchRow] = []
    for problem in problems:
        bound = upper_bounds[problem.name]
        for name in backends:
            if name in get_args(RuleName):
                result = solve(problem, backend="rule", rule=name)  # type: ignore[arg-type]
            elif name in ("cpsat", "ppo"):
                result = solve(
                    problem,
                    backend=name,  # type: ignore[arg-type]
                    time_limit_s=time_limit_s,
                    seed=seed,
                    policy=policy,
                )
            else:
                raise ValueError(f"unknown backend {name!r}; expected one of {BENCH_BACKENDS}")
            row = BenchRow(
                instance=problem.name,
                size=f"{problem.num_jobs}x{problem.num_machines}",
                backend=name,
                makespan=result.makespan,
                upper_bound=bound,
                gap=result.makespan / bound - 1.0,
                runtime_s=result.runtime_s,
                valid=result.verdict.valid,
            )
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def summarise(rows: Sequence[BenchRow]) -> list[SummaryRow]:
    """Per size and backend, then over all sizes (``size == "all"``)."""
    groups: dict[tuple[str, str], list[BenchRow]] = defaultdict(list)
    for row in rows:
        groups[(row.size, row.backend)].append(row)
        groups[("all", row.backend)].append(row)
    out: list[SummaryRow] = []
    ordered = sorted(groups.items(), key=lambda item: _size_key(item[0][0]))
    for (size, backend), members in ordered:
        out.append(
            SummaryRow(
                size=size,
                backend=backend,
                num_instances=len(members),
                mean_gap=sum(m.gap for m in members) / len(members),
                mean_runtime_s=sum(m.runtime_s for m in members) / len(members),
                max_runtime_s=max(m.runtime_s for m in members),
                all_valid=all(m.valid for m in members),
            )
        )
    return out


def _size_key(size: str) -> tuple[int, int, int]:
    if size == "all":
        return (1, 0, 0)
    jobs, _, machines = size.partition("x")
    return (0, int(jobs), int(machines))
