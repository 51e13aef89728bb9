"""CP-SAT backend (OR-Tools): the disjunctive job-shop model, warm-started from a schedule.

Variables
    ``start[j,k]`` in ``[release_j, H - d]``, ``end = start + d``, one interval per operation
    (``H``: the hint's makespan when there is a hint, since an optimum is never worse, else the
    release plus all work plus all downtime).
Constraints
    precedence ``start[j,k+1] >= end[j,k]``; one ``NoOverlap`` per machine over its operations'
    intervals and its fixed downtime intervals.
Objective
    minimise ``makespan >= end[j, last]``.

References
----------
Perron, L., Didier, F. (2024). CP-SAT, OR-Tools v9. Google. https://developers.google.com/optimization
Da Col, G., Teppan, E. C. (2022). Industrial-size job shop scheduling with constraint
programming. Operations Research Perspectives 9, 100249. doi:10.1016/j.orp.2022.100249
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from ortools.sat.python import cp_model

from opsforge.core.errors import SolverError
from opsforge.engines.scheduling.model import Problem

__all__ = ["CpSatResult", "solve_cpsat"]


@dataclass(frozen=True)
class CpSatResult:
    """Start times (``(J, K)``, -1 in padding), status and bound."""

    start: NDArray[np.float64]
    status: Literal["optimal", "feasible"]
    makespan: float
    lower_bound: float


def solve_cpsat(
    problem: Problem,
    *,
    time_limit_s: float = 1.0,
    seed: int = 0,
    hint_start: NDArray[np.float64] | None = None,
    num_workers: int = 2,
    deterministic: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> CpSatResult:
    """Minimise the makespan with CP-SAT.

    Parameters
    ----------
    problem
        The problem.
    time_limit_s
        Wall-clock limit of the search. [s]
    seed
        CP-SAT's ``random_seed``. A wall-clock limit makes the result depend on the machine's
        speed; see ``deterministic``.
    hint_start
        ``(J, K)`` start times of a feasible schedule (from a rule) given as a hint.
    num_workers
        Search workers (2 on a 2-core machine).
    deterministic
        Reproducible search for a seed: the workers interleave their search deterministically
        (``interleave_search``) and the limit is CP-SAT's deterministic time
        (``max_deterministic_time = time_limit_s``, about seconds on a typical machine)
        instead of wall-clock time, which is then only a ten-fold safety cap.
    clock
        Monotonic clock; building the model counts against ``time_limit_s``. [s]

    Raises
    ------
    SolverError
        When CP-SAT finds no schedule within the limit (and no hint was given).
    """
    began = clock()
    arrays = problem.arrays
    model = cp_model.CpModel()
    work = int(arrays.duration.sum())
    downtime = sum(w.end - w.start for w in problem.downtimes)
    if hint_start is not None:
        ends = hint_start + arrays.duration
        valid = np.arange(arrays.machine.shape[1])[None, :] < arrays.num_ops[:, None]
        horizon = int(ends[valid].max())
    else:
        horizon = int(arrays.release.max()) + work + downtime
    starts: dict[tuple[int, int], cp_model.IntVar] = {}
    ends_by_job: list[cp_model.IntVar] = []
    per_machine: list[list[cp_model.IntervalVar]] = [[] for _ in range(problem.num_machines)]
    for j, job in enumerate(problem.jobs):
        prev_end: cp_model.IntVar | None = None
        for k, op in enumerate(job.operations):
            start = model.new_int_var(job.release, horizon - op.duration, f"s{j}_{k}")
            end = model.new_int_var(job.release + op.duration, horizon, f"e{j}_{k}")
            interval = model.new_interval_var(start, op.duration, end, f"i{j}_{k}")
            if op.duration > 0:
                per_machine[op.machine].append(interval)
            if prev_end is not None:
                model.add(start >= prev_end)
            starts[(j, k)] = start
            prev_end = end
        assert prev_end is not None
        ends_by_job.append(prev_end)
    for window in problem.downtimes:
        if window.start < horizon:
            per_machine[window.machine].append(
                model.new_fixed_size_interval_var(
                    window.start, window.end - window.start, f"down{window.machine}_{window.start}"
                )
            )
    for intervals in per_machine:
        if len(intervals) > 1:
            model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, ends_by_job)
    model.minimize(makespan)
    if hint_start is not None:
        for (j, k), var in starts.items():
            model.add_hint(var, int(hint_start[j, k]))
    solver = cp_model.CpSolver()
    wall_s = max(0.01, time_limit_s - (clock() - began))
    if deterministic:
        solver.parameters.interleave_search = True
        solver.parameters.max_deterministic_time = float(time_limit_s)
        wall_s = 10.0 * time_limit_s
    solver.parameters.max_time_in_seconds = wall_s
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if hint_start is not None:
            return CpSatResult(
                start=hint_start.copy(),
                status="feasible",
                makespan=float(horizon),
                lower_bound=0.0,
            )
        raise SolverError(
            f"{problem.name}: CP-SAT found no schedule in {time_limit_s} s "
            f"(status {solver.status_name(status)})",
            instance=problem.name,
        )
    start_arr = np.full(arrays.machine.shape, -1.0)
    for (j, k), var in starts.items():
        start_arr[j, k] = solver.value(var)
    return CpSatResult(
        start=start_arr,
        status="optimal" if status == cp_model.OPTIMAL else "feasible",
        makespan=float(solver.objective_value),
        lower_bound=float(solver.best_objective_bound),
    )
