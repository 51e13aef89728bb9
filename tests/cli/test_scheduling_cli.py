"""``opsforge scheduling solve|bench`` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsforge.cli.main import app
from opsforge.engines.scheduling import io

FT06 = """6 6
2  1  0  3  1  6  3  7  5  3  4  6
1  8  2  5  4 10  5 10  0 10  3  4
2  5  3  4  5  8  0  9  1  1  4  7
1  5  0  5  2  5  3  3  4  8  5  9
2  9  1  3  4  5  5  4  0  3  3  1
1  3  3  3  5  9  0 10  4  4  2  1
"""


@pytest.fixture
def ft06(tmp_path: Path) -> Path:
    path = tmp_path / "ft06"
    path.write_text(FT06)
    return path


@pytest.mark.parametrize("backend", ["rule", "cpsat", "ppo"])
def test_solve_json_has_exactly_the_promised_shape(ft06: Path, backend: str) -> None:
    result = CliRunner().invoke(
        app,
        ["scheduling", "solve", str(ft06), "--backend", backend, "--time-limit-s", "0.5", "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"makespan", "runtime_s", "schedule"}
    assert len(payload["schedule"]) == 36
    assert all(set(item) == {"job", "machine", "start", "end"} for item in payload["schedule"])
    assert payload["makespan"] == max(item["end"] for item in payload["schedule"])
    problem = io.parse_jssp(FT06, name="ft06")
    job0 = sorted((s for s in payload["schedule"] if s["job"] == 0), key=lambda s: s["start"])
    assert [s["machine"] for s in job0] == [op.machine for op in problem.jobs[0].operations]


def test_solve_writes_gantt_files(ft06: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("g.png", "g.html"):
        result = runner.invoke(
            app,
            ["scheduling", "solve", str(ft06), "--rule", "mwkr", "--gantt", str(tmp_path / name)],
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 500
    assert "makespan" in result.stdout


def test_bad_backend_exits_with_invalid_input_code(ft06: Path) -> None:
    result = CliRunner().invoke(app, ["scheduling", "solve", str(ft06), "--backend", "magic"])
    assert result.exit_code == 2


def test_missing_instance_exits_not_found(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["scheduling", "solve", str(tmp_path / "none")])
    assert result.exit_code == 4


def test_bench_prints_a_summary(ft06: Path, tmp_path: Path) -> None:
    bounds = tmp_path / "bounds.csv"
    bounds.write_text("name,jobs,machines,optimum,lower_bound,upper_bound\nft06,6,6,55,55,55\n")
    result = CliRunner().invoke(
        app,
        [
            "scheduling",
            "bench",
            str(ft06),
            "--bounds",
            str(bounds),
            "--backends",
            "spt,cpsat",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    cpsat = next(r for r in rows if r["backend"] == "cpsat" and r["size"] == "all")
    assert cpsat["mean_gap"] == pytest.approx(0.0)
