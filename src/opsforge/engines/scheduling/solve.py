"""One entry point for every backend: ``solve(problem, *, backend, time_limit_s, seed)``.

Backends (in ``backends/``):

``rule``
    A priority dispatching rule under non-delay generation (the legacy baseline).
``cpsat``
    CP-SAT with a time limit, warm-started from the best of all rules.
``ppo``
    The trained PPO policy, greedy plus sampled rollouts within the time limit, best kept.

Every result carries the verdict of the independent validator and the schedule's figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from opsforge.core.errors import InvalidInputError, SolverError
from opsforge.core.logging import get_logger
from opsforge.engines.scheduling.backends.cpsat import solve_cpsat
from opsforge.engines.scheduling.backends.ppo import solve_ppo
from opsforge.engines.scheduling.backends.rules import RULES, RuleName, solve_all_rules, solve_rule
from opsforge.engines.scheduling.dispatch import to_schedule
from opsforge.engines.scheduling.model import Problem
from opsforge.engines.scheduling.policy import Policy
from opsforge.engines.scheduling.schedule import (
    Figures,
    ScheduledOperation,
    Verdict,
    compute_figures,
    validate_schedule,
)

__all__ = ["Backend", "SolveResult", "SolveStatus", "solve"]

log = get_logger(__name__)

Backend = Literal["rule", "cpsat", "ppo"]
SolveStatus = Literal["optimal", "feasible"]


class SolveResult(BaseModel):
    """A solved problem: schedule, figures, the validator's verdict and solver details."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    problem_name: str
    backend: Backend
    status: SolveStatus
    makespan: int
    runtime_s: float
    figures: Figures
    verdict: Verdict
    schedule: tuple[ScheduledOperation, ...]
    details: dict[str, float | int | str]


def solve(
    problem: Problem,
    *,
    backend: Backend = "rule",
    time_limit_s: float = 1.0,
    seed: int = 0,
    rule: RuleName = "fdd_mwkr",
    policy: Policy | bytes | None = None,
    num_workers: int = 2,
    deterministic: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> SolveResult:
    """Solve ``problem`` with ``backend``.

    Parameters
    ----------
    problem
        The validated problem.
    backend
        ``rule``, ``cpsat`` or ``ppo``.
    time_limit_s
        Wall-clock budget of ``cpsat`` and ``ppo`` (including the warm-start rules). [s]
    seed
        Seed of CP-SAT's search and of the policy's sampling.
    rule
        The rule of the ``rule`` backend.
    policy
        The loaded policy (or its bytes) for the ``ppo`` backend.
    num_workers
        CP-SAT search workers.
    deterministic
        CP-SAT: reproducible search for a seed (deterministic time limit, see
        :func:`~opsforge.engines.scheduling.backends.cpsat.solve_cpsat`).
    clock
        Monotonic clock for the runtime and the policy's budget. [s]
    """
    began = clock()
    details: dict[str, float | int | str] = {}
    status: SolveStatus = "feasible"
    if backend == "rule":
        if rule not in RULES:
            raise InvalidInputError(f"unknown rule {rule!r}; expected one of {RULES}")
        state = solve_rule(problem, rule)
        start = state.start[0]
        details["rule"] = rule
    elif backend == "cpsat":
        rules_state = solve_all_rules(problem)
        best_row = int(rules_state.makespan.argmin())
        details["hint_rule"] = RULES[best_row]
        details["hint_makespan"] = float(rules_state.makespan[best_row])
        # the rules and the model building count against the budget; keep a margin for the
        # validation of the schedule
        left_s = max(0.05, 0.97 * time_limit_s - (clock() - began) - 1e-5 * problem.num_operations)
        result = solve_cpsat(
            problem,
            time_limit_s=time_limit_s if deterministic else left_s,
            seed=seed,
            hint_start=rules_state.start[best_row],
            num_workers=num_workers,
            deterministic=deterministic,
            clock=clock,
        )
        start = result.start
        status = result.status
        details["lower_bound"] = result.lower_bound
    elif backend == "ppo":
        if policy is None:
            raise InvalidInputError("backend 'ppo' needs a policy (Policy or its bytes)")
        loaded = Policy.from_bytes(policy) if isinstance(policy, bytes) else policy
        outcome = solve_ppo(problem, loaded, time_limit_s=time_limit_s, seed=seed, clock=clock)
        start = outcome.start
        details["num_samples"] = outcome.num_samples
        details["greedy_makespan"] = outcome.greedy_makespan
        details["lower_bound"] = outcome.lower_bound
        if outcome.makespan <= outcome.lower_bound:
            status = "optimal"
    else:
        raise InvalidInputError(f"unknown backend {backend!r}; expected rule, cpsat or ppo")
    schedule = to_schedule(problem, np.asarray(start))
    verdict = validate_schedule(problem, schedule)
    if not verdict.valid:
        raise SolverError(
            f"{problem.name}: backend {backend} produced an invalid schedule: "
            f"{'; '.join(verdict.violations[:3])}",
            instance=problem.name,
        )
    figures = compute_figures(problem, schedule)
    runtime_s = clock() - began
    log.info(
        "schedule_solved",
        instance=problem.name,
        backend=backend,
        makespan=figures.makespan,
        runtime_s=round(runtime_s, 4),
    )
    return SolveResult(
        problem_name=problem.name,
        backend=backend,
        status=status,
        makespan=figures.makespan,
        runtime_s=runtime_s,
        figures=figures,
        verdict=verdict,
        schedule=tuple(schedule),
        details=details,
    )
