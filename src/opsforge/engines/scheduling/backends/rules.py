"""Priority dispatching rules under non-delay generation (the legacy baseline).

Each rule gives every eligible job a key; the smallest key wins, ties go to the lowest job index.

==========  ====================================================================================
rule        key of job ``j`` whose next operation is ``k``
==========  ====================================================================================
spt         duration of operation ``k`` (shortest processing time)
mwkr        minus the work of operations ``k..`` (most work remaining)
mopnr       minus the number of operations ``k..`` (most operations remaining)
fdd_mwkr    flow due date / most work remaining, where the flow due date is the release date
            plus the work of operations ``0..k``; the rule of Sels et al. used as the baseline
            of Zhang et al. (L2D)
edd         due date of the job (earliest due date), ties by flow due date
==========  ====================================================================================

References
----------
Haupt, R. (1989). A survey of priority rule-based scheduling. OR Spektrum 11, 3-16.
doi:10.1007/BF01721162

Sels, V., Gheysen, N., Vanhoucke, M. (2012). A comparison of priority rules for the job shop
scheduling problem under different flow time- and tardiness-related objective functions.
International Journal of Production Research 50(15), 4255-4270.
doi:10.1080/00207543.2011.611539

Zhang, C., Song, W., Cao, Z., Zhang, J., Tan, P. S., Xu, C. (2020). Learning to dispatch for job
shop scheduling via deep reinforcement learning. NeurIPS 33.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from opsforge.engines.scheduling.dispatch import NonDelayState, rollout
from opsforge.engines.scheduling.model import Problem

__all__ = ["RULES", "RuleName", "rule_keys", "solve_all_rules", "solve_rule"]

RuleName = Literal["spt", "mwkr", "mopnr", "fdd_mwkr", "edd"]
RULES: tuple[RuleName, ...] = get_args(RuleName)


def rule_keys(state: NonDelayState, rule: RuleName) -> NDArray[np.float64]:
    """Keys (smaller is better) of every job's next operation under ``rule``; shape (B, J)."""
    arrays = state.arrays
    jobs = np.arange(state.num_jobs)[None, :]
    rem_work = arrays.rem_work[jobs, state.next_op]
    if rule == "spt":
        return state.op_duration.copy()
    if rule == "mwkr":
        return -rem_work
    if rule == "mopnr":
        return -(arrays.num_ops[None, :] - state.next_op).astype(np.float64)
    flow_due = arrays.release[None, :] + arrays.rem_work[:, :1].T - rem_work + state.op_duration
    if rule == "fdd_mwkr":
        return flow_due / np.maximum(rem_work, 1e-9)
    if rule == "edd":
        horizon = float(arrays.release.max() + arrays.rem_work[:, 0].sum()) + 1.0
        due = np.where(np.isfinite(arrays.due), arrays.due, 1e12)[None, :]
        return due + flow_due / horizon
    raise ValueError(f"unknown rule {rule!r}; expected one of {RULES}")


def choose_by_rule(state: NonDelayState, rule: RuleName) -> NDArray[np.int64]:
    """The eligible job with the smallest key in each rollout."""
    keys = np.where(state.eligible, rule_keys(state, rule), np.inf)
    chosen: NDArray[np.int64] = keys.argmin(axis=1)
    return chosen


def solve_rule(problem: Problem, rule: RuleName) -> NonDelayState:
    """Non-delay generation with ``rule``; returns the final state (one rollout)."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; expected one of {RULES}")
    return rollout(problem, lambda state: choose_by_rule(state, rule))


def solve_all_rules(problem: Problem) -> NonDelayState:
    """Every rule of :data:`RULES` in one batched generation: rollout ``i`` follows ``RULES[i]``."""
    rows = np.arange(len(RULES))

    def choose(state: NonDelayState) -> NDArray[np.int64]:
        keys = np.stack([rule_keys(state, rule)[i] for i, rule in enumerate(RULES)])
        chosen: NDArray[np.int64] = np.where(state.eligible, keys, np.inf).argmin(axis=1)
        return chosen[rows]

    return rollout(problem, choose, batch=len(RULES))
