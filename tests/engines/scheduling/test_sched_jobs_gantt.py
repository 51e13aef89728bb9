"""The ``scheduling.solve`` job kind and the Gantt charts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sched_strategies import FT06

from opsforge.core.jobs.context import LocalRunContext
from opsforge.engines.scheduling import io
from opsforge.engines.scheduling.gantt import gantt_html, gantt_png
from opsforge.engines.scheduling.jobs import JOB_KINDS, SolveRequest, SolveResponse
from opsforge.engines.scheduling.model import Downtime
from opsforge.engines.scheduling.solve import solve


@pytest.mark.parametrize("backend", ["rule", "cpsat", "ppo"])
def test_solve_job_kind_runs_in_a_local_context(tmp_path: Path, backend: str) -> None:
    (kind,) = JOB_KINDS
    assert kind.name == "scheduling.solve"
    problem = io.parse_jssp(FT06, name="ft06")
    request = kind.request_model.model_validate(
        {"instance": problem.model_dump(mode="json"), "backend": backend, "time_limit_s": 0.5}
    )
    assert isinstance(request, SolveRequest)
    ctx = LocalRunContext("run-1", tmp_path)
    result = kind.run(request, ctx)
    assert isinstance(result, SolveResponse)
    assert result.verdict.valid
    assert result.validity == "valid"
    assert result.makespan >= 55
    assert ctx.last_progress[0] == 1.0
    assert "solve" in ctx.stage_timings_s
    assert SolveResponse.model_validate_json(result.model_dump_json()) == result


def test_gantt_png_and_html() -> None:
    problem = io.parse_jssp(FT06, name="ft06").model_copy(
        update={"downtimes": (Downtime(machine=0, start=60, end=70),)}
    )
    result = solve(problem, backend="rule")
    png = gantt_png(problem, result.schedule)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    page = gantt_html(problem, result.schedule)
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in page
    assert "https://" not in page
    assert page.count("<rect") == problem.num_operations + 1
    assert "downtime [60, 70)" in page
