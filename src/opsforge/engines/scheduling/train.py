"""PPO training of the dispatching policy (sb3-contrib MaskablePPO, custom job-scorer policy).

The SB3 policy's actor is the :class:`JobScorer` network of :mod:`policy` in PyTorch: it reads
the ``(max_jobs, NUM_FEATURES)`` observation, scores each row with a shared MLP and a mean-pooled
context, and returns one logit per job (the action net is the identity); the critic reads the
pooled context. After training the actor's weights are exported to a NumPy :class:`Policy`.

Pure: no files. Progress and checkpoints go to callbacks; the CLI writes them.

References
----------
Schulman, J., Wolski, F., Dhariwal, P., Radford, A., Klimov, O. (2017). Proximal policy
optimization algorithms. arXiv:1707.06347.

Huang, S., Ontañón, S. (2022). A closer look at invalid action masking in policy gradient
algorithms. FLAIRS-35. doi:10.32473/flairs.v35i.130584
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from opsforge.core.logging import get_logger
from opsforge.engines.scheduling.policy import NUM_FEATURES, Policy

__all__ = ["JobScorer", "TrainConfig", "export_policy", "train_policy"]

log = get_logger(__name__)


class TrainConfig(BaseModel):
    """Training configuration (stored beside the shipped policy)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    total_timesteps: int = Field(default=2_000_000, ge=256)
    sizes: tuple[tuple[int, int], ...] = ((10, 10), (15, 10), (15, 15), (20, 15), (20, 20))
    max_jobs: int = 20
    hidden: int = 64
    n_envs: int = 8
    n_steps: int = 256
    batch_size: int = 512
    n_epochs: int = 4
    learning_rate: float = 3e-4
    gamma: float = 1.0
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    reward_scale: float = 10.0
    seed: int = 0
    checkpoint_every_steps: int = 100_000


class JobScorer(nn.Module):
    """Actor and critic on per-job features (PyTorch twin of :class:`Policy`)."""

    def __init__(self, max_jobs: int, hidden: int) -> None:
        super().__init__()
        self.max_jobs = max_jobs
        self.latent_dim_pi = max_jobs
        self.latent_dim_vf = hidden
        self.ctx = nn.Linear(NUM_FEATURES, hidden)
        self.emb = nn.Linear(NUM_FEATURES, hidden)
        self.mix_h = nn.Linear(hidden, hidden)
        self.mix_c = nn.Linear(hidden, hidden, bias=False)
        self.out = nn.Linear(hidden, 1)
        self.critic = nn.Sequential(
            nn.Linear(NUM_FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        with torch.no_grad():
            self.out.weight.mul_(0.01)
            self.out.bias.zero_()

    def _mean(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = features.view(features.shape[0], self.max_jobs, NUM_FEATURES)
        unfinished = x[..., 1:2]
        count = unfinished.sum(dim=1).clamp(min=1.0)
        return x, (x * unfinished).sum(dim=1) / count

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        x, mean = self._mean(features)
        context = torch.relu(self.ctx(mean))
        h = torch.relu(self.emb(x))
        z = torch.relu(self.mix_h(h) + self.mix_c(context).unsqueeze(1))
        out: torch.Tensor = self.out(z).squeeze(-1)
        return out

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        _, mean = self._mean(features)
        out: torch.Tensor = self.critic(mean)
        return out

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)


def _policy_class(max_jobs: int, hidden: int) -> Any:
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

    class JobScorerPolicy(MaskableActorCriticPolicy):
        def _build_mlp_extractor(self) -> None:
            self.mlp_extractor = JobScorer(max_jobs, hidden)  # type: ignore[assignment]

        def _build(self, lr_schedule: Callable[[float], float]) -> None:
            super()._build(lr_schedule)
            self.action_net = nn.Identity()
            optimizer_class: Any = self.optimizer_class
            self.optimizer = optimizer_class(
                self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
            )

    return JobScorerPolicy


def export_policy(scorer: JobScorer, meta: dict[str, Any]) -> Policy:
    """The actor of ``scorer`` as a NumPy :class:`Policy`."""

    def arr(t: torch.Tensor) -> np.ndarray[Any, np.dtype[np.float32]]:
        return t.detach().cpu().numpy().astype(np.float32)

    weights = {
        "ctx_w": arr(scorer.ctx.weight.T),
        "ctx_b": arr(scorer.ctx.bias),
        "emb_w": arr(scorer.emb.weight.T),
        "emb_b": arr(scorer.emb.bias),
        "mix_h": arr(scorer.mix_h.weight.T),
        "mix_c": arr(scorer.mix_c.weight.T),
        "mix_b": arr(scorer.mix_h.bias),
        "out_w": arr(scorer.out.weight.T),
        "out_b": arr(scorer.out.bias),
    }
    return Policy(weights=weights, meta=meta)


def train_policy(
    config: TrainConfig,
    *,
    on_checkpoint: Callable[[Policy, int], None] | None = None,
    init: Policy | None = None,
) -> Policy:
    """Train a policy with MaskablePPO on random Taillard-like instances.

    Parameters
    ----------
    config
        Training configuration.
    on_checkpoint
        Called with the current policy and the number of environment steps every
        ``config.checkpoint_every_steps`` steps and at the end.
    init
        Optional policy whose actor weights start the training.

    Returns
    -------
    Policy
        The trained actor, with ``config`` in its metadata.
    """
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv

    from opsforge.engines.scheduling.env import DispatchEnv

    torch.manual_seed(config.seed)

    def make_env(index: int) -> Callable[[], DispatchEnv]:
        return lambda: DispatchEnv(
            config.sizes,
            max_jobs=config.max_jobs,
            reward_scale=config.reward_scale,
            seed=config.seed * 1000 + index,
        )

    env = DummyVecEnv([make_env(i) for i in range(config.n_envs)])
    model = MaskablePPO(
        _policy_class(config.max_jobs, config.hidden),
        env,
        learning_rate=config.learning_rate,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        clip_range=config.clip_range,
        ent_coef=config.ent_coef,
        vf_coef=config.vf_coef,
        policy_kwargs={"ortho_init": False},
        seed=config.seed,
        verbose=0,
        device="cpu",
    )
    scorer: Any = model.policy.mlp_extractor
    if init is not None:
        _load_actor(scorer, init)
    meta = {"train_config": config.model_dump(mode="json")}

    class Checkpoint(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next_at = config.checkpoint_every_steps
            self.ratios: list[float] = []

        def _on_step(self) -> bool:
            for info in self.locals.get("infos", []):
                if "makespan_over_lb" in info:
                    self.ratios.append(float(info["makespan_over_lb"]))
            if self.num_timesteps >= self.next_at:
                self.next_at += config.checkpoint_every_steps
                recent = float(np.mean(self.ratios[-200:])) if self.ratios else float("nan")
                log.info(
                    "training_checkpoint_reached",
                    steps=self.num_timesteps,
                    episodes=len(self.ratios),
                    makespan_over_lb=round(recent, 4),
                )
                if on_checkpoint is not None:
                    on_checkpoint(
                        export_policy(scorer, dict(meta, steps=self.num_timesteps)),
                        self.num_timesteps,
                    )
            return True

    model.learn(total_timesteps=config.total_timesteps, callback=Checkpoint())
    policy = export_policy(scorer, dict(meta, steps=int(model.num_timesteps)))
    if on_checkpoint is not None:
        on_checkpoint(policy, int(model.num_timesteps))
    return policy


def _load_actor(scorer: JobScorer, policy: Policy) -> None:
    w = {key: torch.from_numpy(value.copy()) for key, value in policy.weights.items()}
    with torch.no_grad():
        scorer.ctx.weight.copy_(w["ctx_w"].T)
        scorer.ctx.bias.copy_(w["ctx_b"])
        scorer.emb.weight.copy_(w["emb_w"].T)
        scorer.emb.bias.copy_(w["emb_b"])
        scorer.mix_h.weight.copy_(w["mix_h"].T)
        scorer.mix_h.bias.copy_(w["mix_b"])
        scorer.mix_c.weight.copy_(w["mix_c"].T)
        scorer.out.weight.copy_(w["out_w"].T)
        scorer.out.bias.copy_(w["out_b"])
