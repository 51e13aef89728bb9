"""Job kinds of the scheduling engine for the core's job runner."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from opsforge.core.kinds import JobKind, RunContext
from opsforge.engines.scheduling.backends.rules import RuleName
from opsforge.engines.scheduling.model import Problem
from opsforge.engines.scheduling.policy import Policy
from opsforge.engines.scheduling.schedule import Figures, ScheduledOperation, Verdict
from opsforge.engines.scheduling.solve import Backend, SolveStatus, solve

__all__ = ["JOB_KINDS", "SolveRequest", "SolveResponse", "run_solve"]


class SolveRequest(BaseModel):
    """Request of ``scheduling.solve``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instance: Problem
    backend: Backend = "rule"
    rule: RuleName = "fdd_mwkr"
    time_limit_s: float = Field(default=1.0, gt=0.0, le=3600.0)
    seed: int = 0


class SolveResponse(BaseModel):
    """Result of ``scheduling.solve``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: SolveStatus
    backend: Backend
    makespan: int
    runtime_s: float
    figures: Figures
    verdict: Verdict
    schedule: tuple[ScheduledOperation, ...]
    details: dict[str, float | int | str]
    validity: Literal["valid", "invalid"]


def _shipped_policy() -> Policy:
    from opsforge.engines.scheduling.io import read_policy_bytes

    return Policy.from_bytes(read_policy_bytes())


def run_solve(request: SolveRequest, ctx: RunContext) -> SolveResponse:
    """Solve the request's instance with its backend and report progress to ``ctx``."""
    ctx.progress(0.0, f"solving {request.instance.name} with {request.backend}")
    with ctx.stage("solve"):
        result = solve(
            request.instance,
            backend=request.backend,
            time_limit_s=request.time_limit_s,
            seed=request.seed,
            rule=request.rule,
            policy=_shipped_policy() if request.backend == "ppo" else None,
        )
    ctx.progress(1.0, f"makespan {result.makespan}")
    return SolveResponse(
        status=result.status,
        backend=result.backend,
        makespan=result.makespan,
        runtime_s=result.runtime_s,
        figures=result.figures,
        verdict=result.verdict,
        schedule=result.schedule,
        details=result.details,
        validity="valid" if result.verdict.valid else "invalid",
    )


JOB_KINDS: tuple[JobKind[SolveRequest, SolveResponse], ...] = (
    JobKind(
        engine="scheduling",
        kind="solve",
        request_model=SolveRequest,
        result_model=SolveResponse,
        run=run_solve,
        description="Schedule a job shop with a dispatching rule, CP-SAT or the PPO policy.",
    ),
)
