from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from opsforge.core.errors import JobCancelledError, NotFoundError
from opsforge.core.jobs.context import LocalRunContext
from opsforge.core.kinds import JobKind, RunContext


class _Req(BaseModel):
    n: int


class _Res(BaseModel):
    total: int


def _run(req: _Req, ctx: RunContext) -> _Res:
    with ctx.stage("sum"):
        total = 0
        for i in range(req.n):
            total += i
            ctx.progress((i + 1) / req.n, f"step {i}")
    (ctx.workdir / "out.txt").write_text(str(total))
    return _Res(total=total)


def test_job_kind_runs_with_local_context(tmp_path: Path) -> None:
    kind = JobKind("demo", "sum", _Req, _Res, _run, description="sum")
    seen: list[float] = []
    ctx = LocalRunContext("r1", tmp_path / "w", on_progress=lambda f, _m: seen.append(f))
    assert isinstance(ctx, RunContext)
    res = kind.run(kind.request_model(n=4), ctx)
    assert res.total == 6
    assert kind.name == "demo.sum"
    assert seen == [0.25, 0.5, 0.75, 1.0]
    assert (tmp_path / "w" / "out.txt").read_text() == "6"
    assert ctx.stage_timings_s["sum"] >= 0.0


def test_cancellation_and_missing_input(tmp_path: Path) -> None:
    ctx = LocalRunContext(
        "r2", tmp_path, inputs={"grid": tmp_path / "g.csv"}, is_cancelled=lambda: True
    )
    assert ctx.input_path("grid") == tmp_path / "g.csv"
    with pytest.raises(NotFoundError, match="gis"):
        ctx.input_path("gis")
    with pytest.raises(JobCancelledError):
        ctx.progress(0.5)
    assert ctx.last_progress == (0.5, "")
