"""The dispatching policy: per-operation features and a shared job scorer, in NumPy.

The policy is size-agnostic: it scores each job's next operation from a fixed set of
features with one MLP shared by all jobs, given a context vector computed from the mean
features of the unfinished jobs, so one set of weights serves any number of jobs and machines.

::

    x_j  (NUM_FEATURES)                     features of job j's next operation
    c = ReLU(ctx_w . mean_{j unfinished} x_j + ctx_b)                     (H)
    h_j = ReLU(emb_w . x_j + emb_b)                                       (H)
    z_j = ReLU(mix_h . h_j + mix_c . c + mix_b)                           (H)
    score_j = out_w . z_j + out_b

Only eligible jobs need a score, so inference evaluates ``h`` and ``z`` on those rows alone;
the cost of a step grows with the eligible set, not with the number of jobs.

Training (``train.py``) builds the same network in PyTorch; the weights are exported here as
NumPy arrays so that inference needs neither torch nor stable-baselines3 and runs batched over
many sampled rollouts.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from opsforge.core.errors import InvalidInputError
from opsforge.engines.scheduling.dispatch import NonDelayState

__all__ = ["FEATURE_NAMES", "NUM_FEATURES", "WEIGHT_NAMES", "Policy", "job_features"]

FEATURE_NAMES: tuple[str, ...] = (
    "eligible",
    "unfinished",
    "duration_over_max",
    "rem_work_over_lb",
    "rem_ops_share",
    "rem_work_over_max_rem",
    "log_fdd_mwkr_over_min",
    "machine_rem_work_over_lb",
    "machine_rem_work_over_max",
    "next_duration_over_max",
    "next_machine_rem_work_over_lb",
    "next_machine_busy_over_max",
    "waiting_over_max",
    "same_machine_share",
    "is_last",
    "progress",
    "makespan_ahead_over_lb",
    "total_rem_work_share",
    "duration_over_mean_eligible",
)
NUM_FEATURES = len(FEATURE_NAMES)
WEIGHT_NAMES: tuple[str, ...] = (
    "ctx_w",
    "ctx_b",
    "emb_w",
    "emb_b",
    "mix_h",
    "mix_c",
    "mix_b",
    "out_w",
    "out_b",
)
FORMAT_VERSION = 1


def job_features(state: NonDelayState) -> NDArray[np.float32]:
    """Features of each job's next operation, shape ``(B, J, NUM_FEATURES)``.

    Times are scaled by the largest duration ``D`` or by the instance's load bound ``LB``
    (largest machine load or job length), so the features do not depend on the time unit.
    Rows of finished jobs are zero. See :data:`FEATURE_NAMES` for the order. The result is a
    view of a feature-major ``(NUM_FEATURES, B, J)`` array (each feature is written
    contiguously, which is what makes large batches fast).
    """
    arrays = state.arrays
    max_dur, lower_bound = state.scales
    batch, num_jobs, num_machines = state.batch, state.num_jobs, state.num_machines
    width = arrays.machine.shape[1]
    k = state.next_op
    # flat indices instead of broadcast fancy indexing: ``take`` is much faster
    job_base = np.arange(num_jobs) * width
    row_base = (np.arange(batch) * num_machines)[:, None]
    unfinished = ~state.finished
    elig = state.eligible
    dur = np.where(unfinished, state.op_duration, 0.0)
    rem = arrays.rem_work.take(k + np.arange(num_jobs) * (width + 1))
    mach_rem_all = state.machine_rem_work
    out = np.empty((NUM_FEATURES, batch, num_jobs), dtype=np.float32)
    out[0] = elig
    out[1] = unfinished
    out[2] = dur / max_dur
    out[3] = rem / lower_bound
    out[4] = (arrays.num_ops - k) / width
    out[5] = rem / np.maximum(rem.max(axis=1, keepdims=True), 1e-9)
    flow_due = (arrays.release + arrays.rem_work[:, 0]) - rem + dur
    ratio = flow_due / np.maximum(rem, 1e-9)
    min_ratio = np.maximum(np.where(elig, ratio, np.inf).min(axis=1, keepdims=True), 1e-9)
    out[6] = np.minimum(np.log(np.maximum(ratio / min_ratio, 1e-6)), 3.0)
    mach_flat = row_base + state.op_machine
    mach_rem = mach_rem_all.take(mach_flat)
    out[7] = mach_rem / lower_bound
    out[8] = mach_rem / np.maximum(mach_rem_all.max(axis=1, keepdims=True), 1e-9)
    has_next = (k + 1) < arrays.num_ops
    next_idx = np.minimum(k + 1, width - 1) + job_base
    next_flat = row_base + arrays.machine.take(next_idx)
    out[9] = np.where(has_next, arrays.duration.take(next_idx), 0.0) / max_dur
    out[10] = np.where(has_next, mach_rem_all.take(next_flat), 0.0) / lower_bound
    t_star = state.t_star[:, None]
    next_busy = np.maximum(state.machine_ready.take(next_flat) - t_star, 0.0)
    out[11] = np.where(has_next, np.minimum(next_busy / max_dur, 5.0), 0.0)
    waiting = np.maximum(t_star - state.job_ready, 0.0)
    out[12] = np.where(elig, np.minimum(waiting / max_dur, 5.0), 0.0)
    num_elig = np.maximum(elig.sum(axis=1, keepdims=True), 1)
    counts = np.bincount(mach_flat[elig], minlength=batch * num_machines)
    out[13] = np.where(elig, counts.take(mach_flat) / num_elig, 0.0)
    out[14] = ~has_next
    out[15] = state.steps / max(state.total_steps, 1)
    out[16] = (state.makespan[:, None] - t_star) / lower_bound
    out[17] = mach_rem_all.sum(axis=1, keepdims=True) / (num_machines * lower_bound)
    mean_elig_dur = np.maximum((dur * elig).sum(axis=1, keepdims=True) / num_elig, 1e-9)
    out[18] = np.where(elig, dur / mean_elig_dur, 0.0)
    out *= unfinished
    return np.moveaxis(out, 0, -1)


def _relu(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.maximum(x, 0.0)


@dataclass
class Policy:
    """Weights of the job scorer and the metadata they were trained with.

    Attributes
    ----------
    weights
        :data:`WEIGHT_NAMES`; matrices have shape ``(in, out)``.
    meta
        Training configuration and evaluation figures (JSON-serialisable).
    """

    weights: dict[str, NDArray[np.float32]]
    meta: dict[str, Any] = field(default_factory=dict)

    def context(self, feats: NDArray[np.float32]) -> NDArray[np.float32]:
        """Context vector of each rollout, shape ``(B, H)``."""
        w = self.weights
        # rows of finished jobs (and padding) are all zero, so a plain sum is the masked sum
        total = feats.sum(axis=1)
        mean = total / np.maximum(total[:, 1:2], 1.0)
        return _relu(mean @ w["ctx_w"] + w["ctx_b"])

    def scores(
        self, feats: NDArray[np.float32], eligible: NDArray[np.bool_] | None = None
    ) -> NDArray[np.float32]:
        """Score (logit) of each job, shape ``(B, J)``; ``-inf`` outside ``eligible``."""
        w = self.weights
        context = self.context(feats)
        mixed_context = context @ w["mix_c"] + w["mix_b"]
        if eligible is None:
            eligible = np.ones(feats.shape[:2], dtype=bool)
        rows, jobs = np.nonzero(eligible)
        h = _relu(feats[rows, jobs] @ w["emb_w"] + w["emb_b"])
        z = _relu(h @ w["mix_h"] + mixed_context[rows])
        out = np.full(feats.shape[:2], -np.inf, dtype=np.float32)
        out[rows, jobs] = (z @ w["out_w"] + w["out_b"])[:, 0]
        return out

    def to_bytes(self) -> bytes:
        """Serialise as an ``.npz`` archive (weights plus a JSON ``meta`` entry)."""
        buffer = io.BytesIO()
        meta = dict(self.meta, format_version=FORMAT_VERSION, features=list(FEATURE_NAMES))
        payload = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        arrays: dict[str, Any] = {"__meta__": payload, **self.weights}
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Policy:
        """Load a policy serialised by :meth:`to_bytes`."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                meta = json.loads(bytes(archive["__meta__"]).decode("utf-8"))
                weights = {
                    key: archive[key].astype(np.float32) for key in archive if key != "__meta__"
                }
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidInputError(f"not a policy archive: {exc}") from exc
        if meta.get("format_version") != FORMAT_VERSION or meta.get("features") != list(
            FEATURE_NAMES
        ):
            raise InvalidInputError(
                f"policy format {meta.get('format_version')} with features "
                f"{meta.get('features')}; expected format {FORMAT_VERSION} with {FEATURE_NAMES}"
            )
        expected = set(WEIGHT_NAMES)
        if set(weights) != expected:
            raise InvalidInputError(
                f"policy weights {sorted(weights)}; expected {sorted(expected)}"
            )
        return cls(weights=weights, meta=meta)
