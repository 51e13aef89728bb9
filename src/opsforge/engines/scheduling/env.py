"""A gymnasium environment of non-delay dispatching, with action masks, for MaskablePPO.

Observation: the features of each job's next operation (:func:`policy.job_features`), padded to
``max_jobs`` rows. Action: a job index; the mask allows the eligible jobs (non-delay set), so
every episode schedules every operation. Reward: minus the growth of the partial makespan,
divided by the instance's load bound, times ``reward_scale``; the return of an episode is
``-reward_scale * makespan / LB``.

Instances are drawn at every reset from Taillard's generator family: durations uniform in
``1..99``, each job visits every machine once in a random order.

References
----------
Taillard, E. (1993). Benchmarks for basic scheduling problems. EJOR 64(2), 278-285.
doi:10.1016/0377-2217(93)90182-M
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from opsforge.engines.scheduling.dispatch import NonDelayState
from opsforge.engines.scheduling.model import Problem
from opsforge.engines.scheduling.policy import NUM_FEATURES, job_features

__all__ = ["DispatchEnv", "random_instance"]


def random_instance(
    num_jobs: int, num_machines: int, rng: np.random.Generator, *, name: str = "random"
) -> Problem:
    """A Taillard-like instance: uniform ``1..99`` durations, random machine orders."""
    durations = rng.integers(1, 100, size=(num_jobs, num_machines))
    machines = np.argsort(rng.random((num_jobs, num_machines)), axis=1)
    return Problem.from_matrices(machines, durations, name=name, num_machines=num_machines)


class DispatchEnv(gym.Env[NDArray[np.float32], int]):
    """Non-delay dispatching on random instances.

    Parameters
    ----------
    sizes
        ``(num_jobs, num_machines)`` pairs drawn uniformly at each reset.
    max_jobs
        Rows of the observation (at least the largest ``num_jobs``).
    reward_scale
        Factor on the normalised makespan growth.
    seed
        Seed of the instance generator.
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        sizes: tuple[tuple[int, int], ...] = ((15, 15),),
        *,
        max_jobs: int | None = None,
        reward_scale: float = 10.0,
        seed: int = 0,
    ) -> None:
        self.sizes = sizes
        self.max_jobs = max_jobs or max(j for j, _ in sizes)
        if self.max_jobs < max(j for j, _ in sizes):
            raise ValueError(f"max_jobs {self.max_jobs} is below the largest size {sizes}")
        self.reward_scale = reward_scale
        self.observation_space = gym.spaces.Box(
            low=-10.0, high=10.0, shape=(self.max_jobs, NUM_FEATURES), dtype=np.float32
        )
        self.action_space: gym.spaces.Discrete = gym.spaces.Discrete(self.max_jobs)  # type: ignore[assignment]
        self._rng = np.random.default_rng(seed)
        self._state: NonDelayState | None = None

    def _observe(self) -> NDArray[np.float32]:
        assert self._state is not None
        obs = np.zeros((self.max_jobs, NUM_FEATURES), dtype=np.float32)
        obs[: self._state.num_jobs] = job_features(self._state)[0]
        return obs

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        num_jobs, num_machines = self.sizes[int(self._rng.integers(len(self.sizes)))]
        problem = random_instance(num_jobs, num_machines, self._rng)
        self._state = NonDelayState(problem.arrays, problem.num_machines)
        return self._observe(), {}

    def action_masks(self) -> NDArray[np.bool_]:
        """Eligible jobs (padding rows are never eligible)."""
        assert self._state is not None
        mask = np.zeros(self.max_jobs, dtype=bool)
        mask[: self._state.num_jobs] = self._state.eligible[0]
        return mask

    def step(self, action: int) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        state = self._state
        assert state is not None
        if not (0 <= action < state.num_jobs and state.eligible[0, action]):
            raise ValueError(f"action {action} is not an eligible job")
        before = float(state.makespan[0])
        state.apply(np.array([action], dtype=np.int64))
        reward = -self.reward_scale * (float(state.makespan[0]) - before) / state.scales[1]
        done = state.done
        info: dict[str, Any] = {}
        if done:
            info["makespan"] = float(state.makespan[0])
            info["makespan_over_lb"] = float(state.makespan[0]) / state.scales[1]
            obs = np.zeros((self.max_jobs, NUM_FEATURES), dtype=np.float32)
        else:
            obs = self._observe()
        return obs, reward, done, False, info
