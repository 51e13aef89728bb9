"""Non-delay schedule generation, vectorised over a batch of independent rollouts.

At every step the generator computes, for each job, the earliest start of its next operation
(after the job's previous operation, the machine's last operation, the job's release date and
clear of the machine's downtime windows). ``t*`` is the smallest of these; the *eligible* jobs
are those whose next operation can start at ``t*`` (Giffler & Thompson's non-delay set). A
decision (a rule, a policy) picks one eligible job and its operation is placed at ``t*``. Every
rollout therefore schedules all operations, and ``t*`` never decreases, so each machine's
operations are appended in time order.

References
----------
Giffler, B., Thompson, G. L. (1960). Algorithms for solving production-scheduling problems.
Operations Research 8(4), 487-503. doi:10.1287/opre.8.4.487
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from opsforge.engines.scheduling.model import Problem, ProblemArrays
from opsforge.engines.scheduling.schedule import ScheduledOperation

__all__ = ["NonDelayState", "rollout", "to_schedule"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class NonDelayState:
    """State of ``batch`` rollouts of non-delay generation on one problem.

    Attributes
    ----------
    next_op : (B, J) int
        Index of each job's next unscheduled operation.
    job_ready : (B, J) float
        End of each job's last scheduled operation (release date at first). [time unit]
    machine_ready : (B, M) float
        End of each machine's last scheduled operation. [time unit]
    start : (B, J, K) float
        Start of each scheduled operation (-1 while unscheduled). [time unit]
    makespan : (B,) float
        Largest end so far. [time unit]
    """

    def __init__(self, arrays: ProblemArrays, num_machines: int, batch: int = 1) -> None:
        self.arrays = arrays
        num_jobs, width = arrays.machine.shape
        self.batch = batch
        self.num_jobs = num_jobs
        self.num_machines = num_machines
        self.total_steps = int(arrays.num_ops.sum())
        self.steps = 0
        self.next_op: IntArray = np.zeros((batch, num_jobs), dtype=np.int64)
        self.job_ready: FloatArray = np.tile(arrays.release, (batch, 1))
        self.machine_ready: FloatArray = np.zeros((batch, num_machines))
        self.start: FloatArray = np.full((batch, num_jobs, width), -1.0)
        self.makespan: FloatArray = np.zeros(batch)
        load = np.zeros(num_machines)
        valid = np.arange(width)[None, :] < arrays.num_ops[:, None]
        np.add.at(load, arrays.machine[valid], arrays.duration[valid])
        #: Work of unscheduled operations per machine, (B, M). [time unit]
        self.machine_rem_work: FloatArray = np.tile(load, (batch, 1))
        lower_bound = max(float(load.max()), float((arrays.release + arrays.rem_work[:, 0]).max()))
        #: Time scales: largest duration and the load/job-length lower bound. [time unit]
        self.scales = (max(float(arrays.duration.max()), 1.0), max(lower_bound, 1.0))
        self._rows = np.arange(batch)
        self._jobs = np.arange(num_jobs)[None, :]
        self._has_downtime = arrays.has_downtime
        self.refresh()

    @property
    def done(self) -> bool:
        """Whether every operation is scheduled (all rollouts advance in lockstep)."""
        return self.steps >= self.total_steps

    def refresh(self) -> None:
        """Recompute next machine, duration, earliest start, ``t*`` and the eligible set."""
        arrays = self.arrays
        finished = self.next_op >= arrays.num_ops[None, :]
        k = np.minimum(self.next_op, arrays.machine.shape[1] - 1)
        self.op_machine: IntArray = arrays.machine[self._jobs, k]
        self.op_duration: FloatArray = arrays.duration[self._jobs, k]
        est = np.maximum(self.job_ready, np.take_along_axis(self.machine_ready, self.op_machine, 1))
        if self._has_downtime:
            for w in range(arrays.down_start.shape[1]):
                w_start = arrays.down_start[self.op_machine, w]
                w_end = arrays.down_end[self.op_machine, w]
                clash = (est < w_end) & (est + self.op_duration > w_start)
                est = np.where(clash, w_end, est)
        est[finished] = np.inf
        self.finished = finished
        self.earliest_start: FloatArray = est
        self.t_star: FloatArray = est.min(axis=1)
        self.eligible: NDArray[np.bool_] = est == self.t_star[:, None]

    def apply(self, jobs: IntArray) -> None:
        """Place the next operation of ``jobs[b]`` at ``t*`` in every rollout ``b``."""
        rows = self._rows
        k = self.next_op[rows, jobs]
        machine = self.op_machine[rows, jobs]
        begin = self.t_star
        end = begin + self.op_duration[rows, jobs]
        self.start[rows, jobs, k] = begin
        self.job_ready[rows, jobs] = end
        self.machine_ready[rows, machine] = end
        self.next_op[rows, jobs] = k + 1
        self.machine_rem_work[rows, machine] -= end - begin
        np.maximum(self.makespan, end, out=self.makespan)
        self.steps += 1
        self.refresh()


def rollout(
    problem: Problem,
    choose: Callable[[NonDelayState], IntArray],
    *,
    batch: int = 1,
) -> NonDelayState:
    """Run non-delay generation to the end, asking ``choose(state)`` for the jobs to place.

    ``choose`` must return, for each rollout, an eligible job index.
    """
    state = NonDelayState(problem.arrays, problem.num_machines, batch)
    while not state.done:
        state.apply(choose(state))
    return state


def to_schedule(problem: Problem, start: FloatArray) -> list[ScheduledOperation]:
    """The ``(J, K)`` start times ``start`` as a list of scheduled operations."""
    arrays = problem.arrays
    out: list[ScheduledOperation] = []
    for j in range(problem.num_jobs):
        for k in range(int(arrays.num_ops[j])):
            begin = int(start[j, k])
            out.append(
                ScheduledOperation(
                    job=j,
                    op=k,
                    machine=int(arrays.machine[j, k]),
                    start=begin,
                    end=begin + int(arrays.duration[j, k]),
                )
            )
    return out
