"""The scheduling problem: jobs of ordered operations on machines, validated when built.

Nomenclature
------------
job
    An ordered chain of operations; operation ``k+1`` starts after operation ``k`` ends.
operation
    ``(machine, duration)``: it holds one machine for ``duration`` time units, without preemption.
release
    Earliest start of the job's first operation. [time unit]
due
    Due date of the job's last operation (``None``: no due date). [time unit]
weight
    Weight of the job's tardiness in the total weighted tardiness. [-]
downtime
    A window ``[start, end)`` in which a machine processes nothing (maintenance, shifts). [time unit]

Times are integers in one abstract time unit (minutes in a plant, unit-less in benchmarks):
CP-SAT needs integers and the benchmark instances are integral.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from opsforge.core.errors import InvalidInputError

__all__ = ["Downtime", "Job", "Operation", "Problem", "ProblemArrays"]


class Operation(BaseModel):
    """One operation: a machine held for a duration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    machine: int = Field(ge=0, description="0-based machine index.")
    duration: int = Field(ge=0, description="Processing time. [time unit]")


class Job(BaseModel):
    """A chain of operations with a release date, an optional due date and a weight."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operations: tuple[Operation, ...] = Field(min_length=1)
    release: int = Field(default=0, ge=0, description="Release date. [time unit]")
    due: int | None = Field(default=None, ge=0, description="Due date. [time unit]")
    weight: float = Field(default=1.0, ge=0.0, description="Tardiness weight. [-]")
    name: str | None = None


class Downtime(BaseModel):
    """A window ``[start, end)`` in which ``machine`` cannot process. [time unit]"""

    model_config = ConfigDict(frozen=True, extra="forbid")

    machine: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Downtime:
        if self.end <= self.start:
            raise ValueError(
                f"downtime on machine {self.machine}: expected end > start, got "
                f"start={self.start}, end={self.end}"
            )
        return self


class Problem(BaseModel):
    """A job-shop problem.

    Parameters
    ----------
    num_machines
        Number of machines; operations use machines ``0 .. num_machines-1``.
    jobs
        The jobs, in the instance's order (job indices in schedules refer to it).
    downtimes
        Machine downtime windows; windows on one machine must not overlap.
    name
        Instance name (``ta01``) for reports.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    num_machines: int = Field(ge=1)
    jobs: tuple[Job, ...] = Field(min_length=1)
    downtimes: tuple[Downtime, ...] = ()
    name: str = "instance"

    @model_validator(mode="after")
    def _consistent(self) -> Problem:
        for job_idx, job in enumerate(self.jobs):
            for op_idx, op in enumerate(job.operations):
                if op.machine >= self.num_machines:
                    raise ValueError(
                        f"job {job_idx} operation {op_idx}: expected machine < "
                        f"{self.num_machines}, got {op.machine}"
                    )
        by_machine: dict[int, list[Downtime]] = {}
        for window in self.downtimes:
            if window.machine >= self.num_machines:
                raise ValueError(
                    f"downtime: expected machine < {self.num_machines}, got {window.machine}"
                )
            by_machine.setdefault(window.machine, []).append(window)
        for machine, windows in by_machine.items():
            windows.sort(key=lambda w: w.start)
            for prev, cur in itertools.pairwise(windows):
                if cur.start < prev.end:
                    raise ValueError(
                        f"machine {machine}: downtime windows [{prev.start}, {prev.end}) and "
                        f"[{cur.start}, {cur.end}) overlap; merge them"
                    )
        return self

    @classmethod
    def from_matrices(
        cls,
        machines: list[list[int]] | NDArray[np.integer],
        durations: list[list[int]] | NDArray[np.integer],
        *,
        name: str = "instance",
        num_machines: int | None = None,
    ) -> Problem:
        """Build a classical JSSP from a machine matrix and a duration matrix (jobs x ops)."""
        mach = [list(map(int, row)) for row in machines]
        dur = [list(map(int, row)) for row in durations]
        if len(mach) != len(dur) or any(len(a) != len(b) for a, b in zip(mach, dur, strict=False)):
            raise InvalidInputError(
                f"{name}: machine and duration matrices differ in shape",
                instance=name,
            )
        width = num_machines if num_machines is not None else 1 + max(max(r) for r in mach)
        try:
            return cls(
                num_machines=width,
                jobs=tuple(
                    Job(
                        operations=tuple(
                            Operation(machine=m, duration=d) for m, d in zip(mr, dr, strict=True)
                        )
                    )
                    for mr, dr in zip(mach, dur, strict=True)
                ),
                name=name,
            )
        except ValueError as exc:
            raise InvalidInputError(f"{name}: {exc}", instance=name) from exc

    @property
    def num_jobs(self) -> int:
        """Number of jobs."""
        return len(self.jobs)

    @property
    def num_operations(self) -> int:
        """Number of operations over all jobs."""
        return sum(len(job.operations) for job in self.jobs)

    @cached_property
    def arrays(self) -> ProblemArrays:
        """Padded NumPy view used by the solvers (computed once)."""
        return ProblemArrays.build(self)


@dataclass(frozen=True)
class ProblemArrays:
    """The problem as padded arrays; ``K`` is the largest number of operations of a job.

    Attributes
    ----------
    machine : (J, K) int
        Machine of each operation (0 in padding).
    duration : (J, K) float
        Duration of each operation (0 in padding). [time unit]
    num_ops : (J,) int
        Operations per job.
    release, due : (J,) float
        Release and due dates (``inf`` where no due date). [time unit]
    weight : (J,) float
        Tardiness weights.
    rem_work : (J, K+1) float
        Work of operations ``k..`` of each job. [time unit]
    down_start, down_end : (M, W) float
        Downtime windows per machine, sorted, padded with ``inf``. [time unit]
    """

    machine: NDArray[np.int64]
    duration: NDArray[np.float64]
    num_ops: NDArray[np.int64]
    release: NDArray[np.float64]
    due: NDArray[np.float64]
    weight: NDArray[np.float64]
    rem_work: NDArray[np.float64]
    down_start: NDArray[np.float64]
    down_end: NDArray[np.float64]

    @classmethod
    def build(cls, problem: Problem) -> ProblemArrays:
        """Pad ``problem`` into arrays."""
        num_jobs = problem.num_jobs
        width = max(len(job.operations) for job in problem.jobs)
        machine = np.zeros((num_jobs, width), dtype=np.int64)
        duration = np.zeros((num_jobs, width), dtype=np.float64)
        num_ops = np.zeros(num_jobs, dtype=np.int64)
        for j, job in enumerate(problem.jobs):
            num_ops[j] = len(job.operations)
            for k, op in enumerate(job.operations):
                machine[j, k] = op.machine
                duration[j, k] = op.duration
        rem_work = np.zeros((num_jobs, width + 1), dtype=np.float64)
        rem_work[:, :width] = np.cumsum(duration[:, ::-1], axis=1)[:, ::-1]
        release = np.array([job.release for job in problem.jobs], dtype=np.float64)
        due = np.array(
            [np.inf if job.due is None else job.due for job in problem.jobs], dtype=np.float64
        )
        weight = np.array([job.weight for job in problem.jobs], dtype=np.float64)
        per_machine: list[list[tuple[int, int]]] = [[] for _ in range(problem.num_machines)]
        for window in problem.downtimes:
            per_machine[window.machine].append((window.start, window.end))
        num_windows = max(1, max(len(w) for w in per_machine))
        down_start = np.full((problem.num_machines, num_windows), np.inf)
        down_end = np.full((problem.num_machines, num_windows), np.inf)
        for m, windows in enumerate(per_machine):
            for w, (start, end) in enumerate(sorted(windows)):
                down_start[m, w] = start
                down_end[m, w] = end
        return cls(machine, duration, num_ops, release, due, weight, rem_work, down_start, down_end)

    @property
    def has_downtime(self) -> bool:
        """Whether any machine has a downtime window."""
        return bool(np.isfinite(self.down_start).any())
