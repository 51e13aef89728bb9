"""``opsforge demo`` runs the engines end to end on the embedded default."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opsforge.cli.main import app


def test_demo_runs_every_step_as_core_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path), "--sites", "12", "--seed", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    ran = report["ran"]
    assert Path(ran["map"]).is_file()
    assert (Path(ran["out_dir"]) / "recommendations.csv").is_file()
    assert (Path(ran["out_dir"]) / "manifest.json").is_file()
    manifest = json.loads((Path(ran["out_dir"]) / "manifest.json").read_text())
    assert manifest["inputs"], "the lineage manifest lists the hashed inputs"
    summary = ran["summary"]
    assert summary["quality"]["num_grid_rows_read"] > 0
    assert sum(summary["counts_per_issue"].values()) == summary["num_recommendations"]
    for backend in ("rule", "cpsat"):
        res = report["scheduling"][backend]
        assert res["validity"] == "valid"
        assert res["makespan"] > 0
    # CP-SAT is warm-started from the best rule: never worse
    assert report["scheduling"]["cpsat"]["makespan"] <= report["scheduling"]["rule"]["makespan"]
    assert report["database"].startswith("sqlite:///")
