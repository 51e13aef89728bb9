"""``opsforge scheduling ...``: solve a job shop, train the PPO policy, benchmark the backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from opsforge.cli.common import cli_errors
from opsforge.core.errors import InvalidInputError
from opsforge.core.logging import configure_logging
from opsforge.engines.scheduling import io
from opsforge.engines.scheduling.backends.rules import RULES, RuleName
from opsforge.engines.scheduling.bench import BENCH_BACKENDS, benchmark, summarise
from opsforge.engines.scheduling.gantt import gantt_html, gantt_png
from opsforge.engines.scheduling.policy import Policy
from opsforge.engines.scheduling.solve import Backend, solve

app = typer.Typer(
    help="Job-shop scheduling: dispatching rules, CP-SAT, a PPO policy.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)


@app.callback()
def _setup() -> None:
    """Logs go to stderr, so that ``--json`` output on stdout stays machine-readable."""
    configure_logging("WARNING")


_errors = cli_errors


def _policy(path: Path | None) -> Policy:
    return Policy.from_bytes(io.read_policy_bytes(path))


@app.command("solve")
def solve_cmd(
    instance: Annotated[Path, typer.Argument(help="JSSP text file or problem JSON.")],
    backend: Annotated[str, typer.Option(help="rule, cpsat or ppo.")] = "rule",
    rule: Annotated[str, typer.Option(help=f"Rule of the rule backend: {', '.join(RULES)}.")] = (
        "fdd_mwkr"
    ),
    time_limit_s: Annotated[float, typer.Option(help="Budget of cpsat and ppo. [s]")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the search / sampling.")] = 0,
    policy_path: Annotated[
        Path | None, typer.Option("--policy", help="Policy file (default: the shipped one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    gantt: Annotated[Path | None, typer.Option(help="Write a Gantt chart (.png or .html).")] = None,
) -> None:
    """Solve INSTANCE and print its makespan (or, with --json, the schedule)."""
    with _errors(as_json):
        if backend not in ("rule", "cpsat", "ppo"):
            raise InvalidInputError(f"--backend: expected rule, cpsat or ppo, got {backend!r}")
        if rule not in RULES:
            raise InvalidInputError(f"--rule: expected one of {RULES}, got {rule!r}")
        problem = io.read_instance(instance)
        result = solve(
            problem,
            backend=_as_backend(backend),
            rule=_as_rule(rule),
            time_limit_s=time_limit_s,
            seed=seed,
            policy=_policy(policy_path) if backend == "ppo" else None,
        )
        if gantt is not None:
            if gantt.suffix == ".html":
                gantt.write_text(gantt_html(problem, result.schedule), encoding="utf-8")
            elif gantt.suffix == ".png":
                gantt.write_bytes(gantt_png(problem, result.schedule))
            else:
                raise InvalidInputError(f"--gantt: expected a .png or .html path, got {gantt}")
        if as_json:
            payload = {
                "makespan": result.makespan,
                "runtime_s": result.runtime_s,
                "schedule": [
                    {"job": s.job, "machine": s.machine, "start": s.start, "end": s.end}
                    for s in result.schedule
                ],
            }
            typer.echo(json.dumps(payload))
        else:
            figures = result.figures
            out.print(
                f"{problem.name}: {result.backend} makespan {result.makespan} "
                f"({result.status}) in {result.runtime_s:.3f} s; utilisation "
                f"{figures.utilisation:.3f}, weighted tardiness "
                f"{figures.total_weighted_tardiness:g}, valid {result.verdict.valid}",
                highlight=False,
            )


def _as_backend(name: str) -> Backend:
    if name == "cpsat":
        return "cpsat"
    if name == "ppo":
        return "ppo"
    return "rule"


def _as_rule(name: str) -> RuleName:
    for rule in RULES:
        if rule == name:
            return rule
    raise InvalidInputError(f"--rule: expected one of {RULES}, got {name!r}")


@app.command("train")
def train_cmd(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the policy (.npz).")],
    timesteps: Annotated[int, typer.Option(help="Environment steps of PPO.")] = 2_000_000,
    seed: Annotated[int, typer.Option(help="Training seed.")] = 0,
    init: Annotated[
        Path | None, typer.Option(help="Start from this policy's actor weights.")
    ] = None,
    checkpoint_every: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 100_000,
) -> None:
    """Train the PPO dispatching policy on random Taillard-like instances (long: CPU hours)."""
    from opsforge.engines.scheduling.train import TrainConfig, train_policy

    with _errors(False):
        config = TrainConfig(
            total_timesteps=timesteps, seed=seed, checkpoint_every_steps=checkpoint_every
        )

        def checkpoint(policy: Policy, steps: int) -> None:
            out_path.write_bytes(policy.to_bytes())
            out.print(f"checkpoint at {steps} steps -> {out_path}", highlight=False)

        train_policy(config, on_checkpoint=checkpoint, init=_policy(init) if init else None)


@app.command("bench")
def bench_cmd(
    instances: Annotated[list[Path], typer.Argument(help="Instance files (names in bounds).")],
    bounds: Annotated[Path, typer.Option(help="bounds.csv with upper bounds.")],
    backends: Annotated[
        str, typer.Option(help=f"Comma-separated subset of {','.join(BENCH_BACKENDS)}.")
    ] = ",".join(BENCH_BACKENDS),
    time_limit_s: Annotated[float, typer.Option(help="Budget of cpsat and ppo. [s]")] = 1.0,
    policy_path: Annotated[Path | None, typer.Option("--policy", help="Policy file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Gap to the best known upper bound and time of each backend on INSTANCES."""
    with _errors(as_json):
        chosen = [b.strip() for b in backends.split(",") if b.strip()]
        unknown = sorted(set(chosen) - set(BENCH_BACKENDS))
        if unknown:
            raise InvalidInputError(f"--backends: unknown {unknown}; expected {BENCH_BACKENDS}")
        table = io.read_bounds(bounds)
        problems = [io.read_instance(path) for path in instances]
        missing = [p.name for p in problems if p.name not in table]
        if missing:
            raise InvalidInputError(f"{bounds} has no bounds for {missing}")
        rows = benchmark(
            problems,
            {name: b.upper_bound for name, b in table.items()},
            backends=chosen,
            time_limit_s=time_limit_s,
            policy=_policy(policy_path) if "ppo" in chosen else None,
        )
        summary = summarise(rows)
        if as_json:
            typer.echo(json.dumps([s.__dict__ for s in summary]))
            return
        for s in summary:
            out.print(
                f"{s.size:>8} {s.backend:>9} n={s.num_instances:<3} gap {100 * s.mean_gap:6.2f}% "
                f"time {s.mean_runtime_s:.3f} s (max {s.max_runtime_s:.3f}) valid {s.all_valid}",
                highlight=False,
            )
