"""Running plans: the ``CommandExecutor`` port, a dry run, and monitored execution.

Monitored execution reads each MO's current values (``cmedit get``) before its first change,
runs the commands batch by batch, parses every answer, stops at the first error and rolls back
what it applied, newest first, from the values it read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from opsforge.core.logging import get_logger
from opsforge.engines.ranconfig.cm import CmState, MoState, mo_class_of
from opsforge.engines.ranconfig.cmedit import Command, CommandResult, parse_response
from opsforge.engines.ranconfig.plan import Plan
from opsforge.engines.ranconfig.rollback import inverse_commands

__all__ = [
    "CommandExecutor",
    "DryRunExecutor",
    "ExecutionReport",
    "StepRecord",
    "execute_commands",
    "execute_plan",
]

log = get_logger(__name__)


@runtime_checkable
class CommandExecutor(Protocol):
    """Runs one ``cmedit`` line and returns ENM's text answer."""

    def execute(self, command: str) -> str:
        """Run ``command``; answer like ENM (``Error <code> : ...`` on failure)."""
        ...


class DryRunExecutor:
    """Records commands and answers success without touching anything."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def execute(self, command: str) -> str:
        self.commands.append(command)
        return "0 instance(s) updated (dry run)"


class StepRecord(BaseModel):
    """One command as run."""

    command: str
    ok: bool
    output: str
    error_code: int | None = None


class ExecutionReport(BaseModel):
    """What happened when a plan ran."""

    status: Literal["succeeded", "dry_run", "rolled_back", "rollback_failed"]
    steps: list[StepRecord] = Field(default_factory=list)
    failed_command: str | None = None
    error: str | None = None
    rollback_steps: list[StepRecord] = Field(default_factory=list)
    #: The commands that undo what was applied (for a later ``rollback``).
    rollback_commands: list[Command] = Field(default_factory=list)


def _run(executor: CommandExecutor, line: str) -> tuple[StepRecord, CommandResult]:
    answer = executor.execute(line)
    result = parse_response(answer)
    return StepRecord(
        command=line, ok=result.ok, output=answer, error_code=result.error_code
    ), result


def execute_commands(executor: CommandExecutor, commands: list[Command]) -> list[StepRecord]:
    """Run commands in order, stopping at the first error (used for rollbacks)."""
    steps: list[StepRecord] = []
    for cmd in commands:
        step, result = _run(executor, cmd.render())
        steps.append(step)
        if not result.ok:
            break
    return steps


def execute_plan(
    plan: Plan,
    executor: CommandExecutor,
    *,
    dry_run: bool = False,
    on_progress: Callable[[float, str], None] | None = None,
) -> ExecutionReport:
    """Run ``plan`` with monitoring and automatic rollback.

    Parameters
    ----------
    plan
        The plan.
    executor
        Where commands go; with ``dry_run`` a :class:`DryRunExecutor` is used instead.
    dry_run
        Only record the commands.
    on_progress
        Called with (fraction done, message) after each batch.
    """
    if dry_run:
        dry = DryRunExecutor()
        steps = execute_commands(dry, plan.commands)
        return ExecutionReport(status="dry_run", steps=steps, rollback_commands=plan.rollback)
    before = CmState()
    applied: list[Command] = []
    steps = []
    batches = plan.batches()
    for idx, batch in enumerate(batches):
        for cmd in batch:
            if cmd.verb == "get":
                step, result = _run(executor, cmd.render())
                steps.append(step)
                values = result.values.get(cmd.fdn, {}) if result.ok else {}
                before.mos.setdefault(cmd.fdn, MoState(mo_class=cmd.mo_class, attributes=values))
                continue
            if cmd.verb in ("set", "delete") and cmd.fdn not in before.mos:
                step, result = _run(executor, Command(verb="get", fdn=cmd.fdn).render())
                steps.append(step)
                values = result.values.get(cmd.fdn, {}) if result.ok else {}
                before.mos[cmd.fdn] = MoState(mo_class=mo_class_of(cmd.fdn), attributes=values)
            if cmd.restore_live and "administrativeState" in before.mos[cmd.fdn].attributes:
                live = before.mos[cmd.fdn].attributes["administrativeState"]
                cmd = cmd.model_copy(update={"attributes": {"administrativeState": live}})
            step, result = _run(executor, cmd.render())
            steps.append(step)
            if not result.ok:
                log.warning("plan_command_failed", command=step.command, error=result.error)
                undo = inverse_commands(applied, before)
                rollback_steps = execute_commands(executor, undo)
                failed = any(not s.ok for s in rollback_steps)
                return ExecutionReport(
                    status="rollback_failed" if failed else "rolled_back",
                    steps=steps,
                    failed_command=step.command,
                    error=result.error,
                    rollback_steps=rollback_steps,
                    rollback_commands=[] if not failed else undo,
                )
            applied.append(cmd)
        if on_progress is not None:
            on_progress((idx + 1) / len(batches), f"batch {idx + 1}/{len(batches)} applied")
    log.info("plan_applied", template=plan.template, num_commands=len(applied))
    return ExecutionReport(
        status="succeeded", steps=steps, rollback_commands=inverse_commands(applied, before)
    )
