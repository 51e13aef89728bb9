"""Self-test job kinds (engine ``selftest``): exercise the runner without an engine.

Registered only on request (``JobRegistry([...SELFTEST_KINDS])`` or
``opsforge worker --kinds opsforge.core.jobs.selftest``), never by discovery. Used by the test
suites (runner, Celery worker kill test, API) and for smoke-checking a deployment.

- ``selftest.sleep``: ``steps`` steps of ``step_s`` seconds each, reporting progress and
  appending one line per step to ``steps.txt``; optional failure at a given step.
- ``selftest.digest``: reads the input ``data`` and writes ``summary.json`` (lines, bytes).
"""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from opsforge.core.errors import DataQualityError
from opsforge.core.kinds import JobKind, RunContext

__all__ = [
    "JOB_KINDS",
    "DigestRequest",
    "DigestResult",
    "SleepRequest",
    "SleepResult",
    "digest",
    "sleep",
]


class SleepRequest(BaseModel):
    """Sleep in steps. ``step_s`` in [s]."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(3, ge=1, le=100_000)
    step_s: float = Field(0.01, ge=0.0, le=60.0)
    fail_at_step: int | None = Field(None, ge=0)
    label: str = ""


class SleepResult(BaseModel):
    num_steps_done: int
    label: str
    metrics: dict[str, float] = Field(default_factory=dict)


def sleep(request: SleepRequest, ctx: RunContext) -> SleepResult:
    """Sleep ``steps`` times ``step_s`` [s], reporting progress before each step."""
    log_path = ctx.workdir / "steps.txt"
    with ctx.stage("sleep"):
        for idx in range(request.steps):
            ctx.progress(idx / request.steps, f"step {idx + 1} of {request.steps}")
            if request.fail_at_step is not None and idx == request.fail_at_step:
                raise DataQualityError(f"selftest.sleep asked to fail at step {idx}", step=idx)
            time.sleep(request.step_s)
            with log_path.open("a", encoding="utf-8") as handle:
                handle.write(f"step {idx} {ctx.run_id}\n")
    ctx.progress(1.0, "slept")
    return SleepResult(
        num_steps_done=request.steps,
        label=request.label,
        metrics={"sleep_s": request.steps * request.step_s},
    )


class DigestRequest(BaseModel):
    """Summarise the input ``data``."""

    model_config = ConfigDict(extra="forbid")

    encoding: str = "utf-8"


class DigestResult(BaseModel):
    num_lines: int
    size_bytes: int


def digest(request: DigestRequest, ctx: RunContext) -> DigestResult:
    """Count lines and bytes of the input ``data``; writes ``summary.json``."""
    with ctx.stage("read"):
        raw = ctx.input_path("data").read_bytes()
    with ctx.stage("summarise"):
        try:
            text = raw.decode(request.encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataQualityError(
                f"input 'data' is not {request.encoding} text: {exc}", input="data"
            ) from exc
        summary: dict[str, Any] = {"num_lines": len(text.splitlines()), "size_bytes": len(raw)}
        (ctx.workdir / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    ctx.progress(1.0, "summarised")
    return DigestResult(**summary)


JOB_KINDS: list[JobKind[Any, Any]] = [
    JobKind(
        engine="selftest",
        kind="sleep",
        request_model=SleepRequest,
        result_model=SleepResult,
        run=sleep,
        description="Sleep in steps (runner self-test).",
    ),
    JobKind(
        engine="selftest",
        kind="digest",
        request_model=DigestRequest,
        result_model=DigestResult,
        run=digest,
        input_names=("data",),
        description="Count lines and bytes of an input (runner self-test).",
    ),
]
