"""Schedules, their independent validator and their figures.

The validator knows nothing of any solver: it checks a schedule against the problem alone
(completeness, machine assignment and duration, precedence, release dates, machine capacity,
downtime windows), so every backend is judged by the same referee.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from opsforge.engines.scheduling.model import Problem

__all__ = ["Figures", "ScheduledOperation", "Verdict", "compute_figures", "validate_schedule"]


class ScheduledOperation(BaseModel):
    """One operation placed in time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job: int = Field(ge=0, description="0-based job index in the problem's order.")
    op: int = Field(ge=0, description="0-based operation index within the job.")
    machine: int = Field(ge=0, description="0-based machine index.")
    start: int = Field(ge=0, description="Start time. [time unit]")
    end: int = Field(ge=0, description="End time. [time unit]")


class Verdict(BaseModel):
    """The validator's verdict: valid when there is no violation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    valid: bool
    violations: tuple[str, ...] = ()


class Figures(BaseModel):
    """Figures of a schedule.

    Attributes
    ----------
    makespan
        End of the last operation. [time unit]
    total_weighted_tardiness
        Sum over jobs with a due date of ``weight * max(0, completion - due)``. [time unit]
    on_time_rate
        Share of jobs with a due date that complete by it (1.0 when none has one). [-]
    utilisation
        Busy time over ``num_machines * makespan``. [-]
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    makespan: int
    total_weighted_tardiness: float
    on_time_rate: float
    utilisation: float


def validate_schedule(
    problem: Problem, schedule: list[ScheduledOperation], *, max_violations: int = 20
) -> Verdict:
    """Check ``schedule`` against ``problem``.

    Parameters
    ----------
    problem
        The problem the schedule claims to solve.
    schedule
        Scheduled operations in any order.
    max_violations
        Stop collecting after this many violations.

    Returns
    -------
    Verdict
        ``valid`` and the first ``max_violations`` violations, each a sentence naming the job,
        operation and machine involved.
    """
    violations: list[str] = []
    placed: dict[tuple[int, int], ScheduledOperation] = {}
    for item in schedule:
        key = (item.job, item.op)
        if key in placed:
            violations.append(f"job {item.job} operation {item.op} is scheduled twice")
            continue
        placed[key] = item
        if item.job >= problem.num_jobs or item.op >= len(problem.jobs[item.job].operations):
            violations.append(f"job {item.job} operation {item.op} does not exist")
            continue
        want = problem.jobs[item.job].operations[item.op]
        if item.machine != want.machine:
            violations.append(
                f"job {item.job} operation {item.op}: expected machine {want.machine}, "
                f"got {item.machine}"
            )
        if item.end - item.start != want.duration:
            violations.append(
                f"job {item.job} operation {item.op}: expected duration {want.duration}, "
                f"got {item.end - item.start}"
            )
    for j, job in enumerate(problem.jobs):
        prev_end: int | None = None
        for k in range(len(job.operations)):
            found = placed.get((j, k))
            if found is None:
                violations.append(f"job {j} operation {k} is not scheduled")
                prev_end = None
                continue
            item = found
            if k == 0 and item.start < job.release:
                violations.append(
                    f"job {j} starts at {item.start} before its release {job.release}"
                )
            if prev_end is not None and item.start < prev_end:
                violations.append(
                    f"job {j} operation {k} starts at {item.start} before operation {k - 1} "
                    f"ends at {prev_end}"
                )
            prev_end = item.end
    by_machine: dict[int, list[ScheduledOperation]] = defaultdict(list)
    for item in placed.values():
        by_machine[item.machine].append(item)
    for machine, items in by_machine.items():
        items.sort(key=lambda it: (it.start, it.end))
        busy = [it for it in items if it.end > it.start]
        for a, b in itertools.pairwise(busy):
            if b.start < a.end:
                violations.append(
                    f"machine {machine}: job {a.job} op {a.op} [{a.start}, {a.end}) overlaps "
                    f"job {b.job} op {b.op} [{b.start}, {b.end})"
                )
    for window in problem.downtimes:
        for item in by_machine.get(window.machine, []):
            if item.end > item.start and item.start < window.end and window.start < item.end:
                violations.append(
                    f"machine {window.machine}: job {item.job} op {item.op} [{item.start}, "
                    f"{item.end}) overlaps downtime [{window.start}, {window.end})"
                )
    return Verdict(valid=not violations, violations=tuple(violations[:max_violations]))


def compute_figures(problem: Problem, schedule: list[ScheduledOperation]) -> Figures:
    """Makespan, total weighted tardiness, on-time rate and utilisation of ``schedule``."""
    makespan = max((item.end for item in schedule), default=0)
    completion: dict[int, int] = defaultdict(int)
    busy = 0
    for item in schedule:
        completion[item.job] = max(completion[item.job], item.end)
        busy += item.end - item.start
    tardiness = 0.0
    with_due = 0
    on_time = 0
    for j, job in enumerate(problem.jobs):
        if job.due is None:
            continue
        with_due += 1
        late = max(0, completion[j] - job.due)
        tardiness += job.weight * late
        on_time += late == 0
    return Figures(
        makespan=makespan,
        total_weighted_tardiness=tardiness,
        on_time_rate=on_time / with_due if with_due else 1.0,
        utilisation=busy / (problem.num_machines * makespan) if makespan > 0 else 0.0,
    )
