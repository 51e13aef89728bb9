"""Job-shop scheduling engine: dispatching rules, CP-SAT and a PPO dispatching policy.

``solve(problem, *, backend, time_limit_s, seed)`` is the entry point; every schedule it returns
has passed :func:`validate_schedule`, which is independent of every solver.
"""

from __future__ import annotations

from opsforge.engines.scheduling.backends.rules import RULES, RuleName
from opsforge.engines.scheduling.model import Downtime, Job, Operation, Problem
from opsforge.engines.scheduling.policy import Policy
from opsforge.engines.scheduling.schedule import (
    Figures,
    ScheduledOperation,
    Verdict,
    compute_figures,
    validate_schedule,
)
from opsforge.engines.scheduling.solve import Backend, SolveResult, solve

__all__ = [
    "RULES",
    "Backend",
    "Downtime",
    "Figures",
    "Job",
    "Operation",
    "Policy",
    "Problem",
    "RuleName",
    "ScheduledOperation",
    "SolveResult",
    "Verdict",
    "compute_figures",
    "solve",
    "validate_schedule",
]
