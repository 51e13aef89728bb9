"""The gymnasium environment, the policy archive and the torch/NumPy twin networks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from opsforge.core.errors import InvalidInputError
from opsforge.engines.scheduling import io
from opsforge.engines.scheduling.dispatch import NonDelayState
from opsforge.engines.scheduling.env import DispatchEnv, random_instance
from opsforge.engines.scheduling.policy import NUM_FEATURES, Policy, job_features
from opsforge.engines.scheduling.train import JobScorer, TrainConfig, export_policy, train_policy


def test_episode_schedules_every_operation_and_returns_minus_makespan() -> None:
    env = DispatchEnv(((5, 4), (7, 3)), max_jobs=8, reward_scale=10.0, seed=1)
    rng = np.random.default_rng(0)
    for _ in range(3):
        obs, _ = env.reset()
        assert obs.shape == (8, NUM_FEATURES)
        total, steps, done = 0.0, 0, False
        info: dict[str, float] = {}
        while not done:
            mask = env.action_masks()
            assert mask.any()
            state_now = env._state
            assert state_now is not None
            assert not mask[state_now.num_jobs :].any()
            action = int(rng.choice(np.flatnonzero(mask)))
            obs, reward, done, truncated, info = env.step(action)
            assert not truncated
            total += reward
            steps += 1
        state = env._state
        assert state is not None
        assert steps == state.total_steps
        assert total == pytest.approx(-10.0 * info["makespan"] / state.scales[1])


def test_masked_action_is_rejected() -> None:
    env = DispatchEnv(((3, 3),), seed=0)
    env.reset()
    bad = int(np.flatnonzero(~env.action_masks())[0]) if (~env.action_masks()).any() else 99
    with pytest.raises(ValueError, match="not an eligible job"):
        env.step(bad)


def test_features_are_finite_and_zero_for_finished_jobs() -> None:
    problem = random_instance(6, 4, np.random.default_rng(2))
    state = NonDelayState(problem.arrays, problem.num_machines, batch=3)
    rng = np.random.default_rng(0)
    while not state.done:
        feats = job_features(state)
        assert np.isfinite(feats).all()
        assert (feats[state.finished] == 0).all()
        assert (feats[..., 0] == state.eligible).all()
        state.apply(np.where(state.eligible, rng.random(state.eligible.shape), -1).argmax(1))


def test_numpy_policy_matches_the_torch_actor() -> None:
    torch.manual_seed(0)
    scorer = JobScorer(max_jobs=9, hidden=16)
    with torch.no_grad():
        scorer.out.weight.normal_()
    policy = export_policy(scorer, {})
    problem = random_instance(9, 5, np.random.default_rng(3))
    state = NonDelayState(problem.arrays, problem.num_machines, batch=2)
    for _ in range(10):
        feats = job_features(state)
        want = scorer.forward_actor(torch.from_numpy(feats.reshape(2, -1))).detach().numpy()
        got = policy.scores(feats, state.eligible)
        assert np.allclose(got[state.eligible], want[state.eligible], atol=1e-4)
        assert np.isneginf(got[~state.eligible]).all()
        state.apply(state.eligible.argmax(axis=1))


def test_policy_archive_round_trip_and_rejects_garbage() -> None:
    shipped = Policy.from_bytes(io.read_policy_bytes())
    again = Policy.from_bytes(shipped.to_bytes())
    assert again.weights.keys() == shipped.weights.keys()
    for key, value in shipped.weights.items():
        assert np.array_equal(value, again.weights[key])
    with pytest.raises(InvalidInputError):
        Policy.from_bytes(b"not an archive")


def test_shipped_policy_has_its_card() -> None:
    card_path = io.default_policy_path().with_suffix(".json")
    assert card_path.exists(), f"{card_path} should describe the shipped policy"
    data = io.read_policy_bytes()
    assert len(data) < 200_000
    card = json.loads(card_path.read_text())
    assert card["sha256"] == hashlib.sha256(data).hexdigest()
    assert card["train_config"] == Policy.from_bytes(data).meta["train_config"]
    assert card["evaluation"]["mean_gap_to_ub_ta01_50"]["ppo_1s"] <= 0.15


@pytest.mark.slow
def test_training_smoke(tmp_path: Path) -> None:
    seen: list[int] = []
    config = TrainConfig(
        total_timesteps=512,
        sizes=((4, 3),),
        max_jobs=4,
        hidden=8,
        n_envs=2,
        n_steps=128,
        batch_size=64,
        checkpoint_every_steps=256,
    )
    policy = train_policy(config, on_checkpoint=lambda _p, steps: seen.append(steps))
    assert seen
    assert seen[-1] >= 512
    assert policy.meta["train_config"]["total_timesteps"] == 512
    (tmp_path / "p.npz").write_bytes(policy.to_bytes())
    assert Policy.from_bytes((tmp_path / "p.npz").read_bytes()).weights["emb_w"].shape == (
        NUM_FEATURES,
        8,
    )
