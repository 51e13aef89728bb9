"""The PPO policy backend: batched stochastic rollouts of the trained policy, best kept.

Row 0 of the first batch follows the policy greedily; the other rows sample each decision from
the policy's softmax (Gumbel-max trick, temperature ``temperature``). Batches run until the time
limit would be overrun; the rollout with the smallest makespan wins. Nothing but the policy
decides: no local search, no rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from opsforge.engines.scheduling.dispatch import NonDelayState
from opsforge.engines.scheduling.model import Problem
from opsforge.engines.scheduling.policy import Policy, job_features

__all__ = ["PolicyResult", "policy_rollouts", "solve_ppo"]


@dataclass(frozen=True)
class PolicyResult:
    """Best start times found and how they were found."""

    start: NDArray[np.float64]
    makespan: float
    num_samples: int
    greedy_makespan: float
    lower_bound: float


def policy_rollouts(
    problem: Problem,
    policy: Policy,
    *,
    num_samples: int,
    rng: np.random.Generator,
    temperature: float = 1.0,
    greedy_first: bool = True,
    deadline: tuple[Callable[[], float], float] | None = None,
) -> NonDelayState | None:
    """Run ``num_samples`` rollouts of ``policy`` in one batch and return their final state.

    With ``deadline = (clock, t_end)`` the batch is abandoned (``None``) once ``clock()``
    passes ``t_end``; the clock is read every 16 steps.
    """
    state = NonDelayState(problem.arrays, problem.num_machines, num_samples)
    inv_temp = 1.0 / max(temperature, 1e-6)
    while not state.done:
        if deadline is not None and state.steps % 16 == 0 and deadline[0]() > deadline[1]:
            return None
        eligible = state.eligible
        if (eligible.sum(axis=1) == 1).all():
            state.apply(eligible.argmax(axis=1))
            continue
        logits = policy.scores(job_features(state), eligible).astype(np.float64) * inv_temp
        noise = rng.gumbel(size=logits.shape)
        if greedy_first:
            noise[0] = 0.0
        state.apply((logits + noise).argmax(axis=1))
    return state


def solve_ppo(
    problem: Problem,
    policy: Policy,
    *,
    time_limit_s: float = 1.0,
    seed: int = 0,
    temperature: float = 1.0,
    max_samples: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> PolicyResult:
    """Sample rollouts of ``policy`` within ``time_limit_s`` and keep the best.

    Parameters
    ----------
    problem
        The problem.
    policy
        The trained policy.
    time_limit_s
        Wall-clock budget. [s] The first batch (greedy plus a few samples) always runs.
    seed
        Seed of the sampling.
    temperature
        Softmax temperature of the sampling. [-]
    max_samples
        Stop after this many rollouts even if time is left (for reproducible runs).
    clock
        Monotonic clock. [s]
    """
    # the matrices are small: BLAS threads only contend for the cores
    with threadpool_limits(limits=1, user_api="blas"):
        return _sample(problem, policy, time_limit_s, seed, temperature, max_samples, clock)


def _sample(
    problem: Problem,
    policy: Policy,
    time_limit_s: float,
    seed: int,
    temperature: float,
    max_samples: int | None,
    clock: Callable[[], float],
) -> PolicyResult:
    rng = np.random.default_rng(seed)
    began = clock()
    # the caller still builds and validates the schedule: keep a margin for it
    budget_s = 0.93 * time_limit_s - 2e-5 * problem.num_operations
    batch = 1
    arrays = problem.arrays
    lower_bound = max(
        float((arrays.release + arrays.rem_work[:, 0]).max()),
        float(np.bincount(arrays.machine.ravel(), arrays.duration.ravel()).max()),
    )
    best_start = np.empty(0)
    best = np.inf
    greedy = np.inf
    done = 0
    first = True
    while True:
        if max_samples is not None:
            batch = min(batch, max_samples - done)
        t0 = clock()
        state = policy_rollouts(
            problem,
            policy,
            num_samples=batch,
            rng=rng,
            temperature=temperature,
            greedy_first=first,
            deadline=None if first or max_samples is not None else (clock, began + budget_s),
        )
        if state is None:
            break  # the machine slowed down: the batch would overrun the budget
        took = clock() - t0
        if first:
            greedy = float(state.makespan[0])
            first = False
        done += batch
        row = int(state.makespan.argmin())
        if state.makespan[row] < best:
            best = float(state.makespan[row])
            best_start = state.start[row].copy()
        left = budget_s - (clock() - began)
        if max_samples is not None and done >= max_samples:
            break
        if best <= lower_bound:
            break  # the trivial bound is reached: no sample can do better
        # a batch of b rollouts costs at most took * b / batch for b >= batch (the per-step
        # overhead is shared) and at most took for b < batch; grow while the budget allows
        affordable = 0 if took > 0.85 * left else int(0.85 * left / max(took, 1e-09) * batch)
        if affordable < 2:
            break
        batch = min(affordable, max(8, 4 * batch), 512)
    return PolicyResult(
        start=best_start,
        makespan=best,
        num_samples=done,
        greedy_makespan=greedy,
        lower_bound=lower_bound,
    )
