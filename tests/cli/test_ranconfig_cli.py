"""``opsforge ranconfig`` end to end on our own small MOM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsforge.cli.main import app

DATA = Path(__file__).resolve().parents[1] / "engines" / "ranconfig" / "data"
MOM = DATA / "mini_mom.xml"
ENB = "SubNetwork=S1,MeContext=N1,ManagedElement=1,ENodeBFunction=1"
runner = CliRunner()

TEMPLATE = {
    "name": "base",
    "parameters": {"EUtranCellFDD": {"qRxLevMin": -124, "cellRange": 10}},
    "variants": {
        "urban": {"parameters": {"EUtranCellFDD": {"qRxLevMin": -120}}},
        "bad": {"parameters": {"EUtranCellFDD": {"pci": 9999}}},
    },
}
SCOPE = {
    f"{ENB}": {"ENodeBFunctionId": "1"},
    f"{ENB},EUtranCellFDD=A": {
        "EUtranCellFDDId": "A",
        "administrativeState": "UNLOCKED",
        "qRxLevMin": -140,
        "cellRange": 15,
    },
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "t.yaml").write_text(json.dumps(TEMPLATE))  # JSON is YAML
    (tmp_path / "scope.json").write_text(json.dumps(SCOPE))
    (tmp_path / "r.csv").write_text(
        "id,mo_class,expression,condition,severity,message\n"
        "R1,EUtranCellFDD,qRxLevMin <= -100,,error,\n"
    )
    return {
        "template": tmp_path / "t.yaml",
        "scope": tmp_path / "scope.json",
        "rules": tmp_path / "r.csv",
    }


def test_compile_makes_an_importable_package(tmp_path: Path) -> None:
    out = tmp_path / "mini_models"
    result = runner.invoke(
        app,
        [
            "ranconfig",
            "compile",
            str(MOM),
            "--out",
            str(out),
            "--docs",
            str(tmp_path / "ref.md"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["num_classes"] == 6
    assert "## EUtranCellFDD" in (tmp_path / "ref.md").read_text()
    code = "from mini_models import EUtranCellFDDWritable as C; print(C(pci=503).mom_values())"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.stdout.strip() == "{'pci': 503}", proc.stderr


def test_compile_bad_folder_name(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ranconfig", "compile", str(MOM), "--out", str(tmp_path / "not-valid")]
    )
    assert result.exit_code == 2


def test_validate_reports_every_issue(files: dict[str, Path], tmp_path: Path) -> None:
    args = [
        "ranconfig",
        "validate",
        str(files["template"]),
        "--mom",
        str(MOM),
        "--rules",
        str(files["rules"]),
    ]
    result = runner.invoke(app, [*args, "--json", "--export", str(tmp_path / "t.toml")])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["num_issues"] == 1
    (issue,) = data["issues"]["bad"]
    assert issue["path"] == "bad.parameters.EUtranCellFDD.pci"
    assert issue["got"] == 9999
    assert "pci" in (tmp_path / "t.toml").read_text()
    ok = runner.invoke(app, [*args, "--variant", "urban"])
    assert ok.exit_code == 0, ok.output
    assert "urban: ok" in ok.output
    structure = runner.invoke(app, ["ranconfig", "validate", str(files["template"])])
    assert structure.exit_code == 0


def test_missing_file_maps_to_not_found(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ranconfig", "validate", str(tmp_path / "nope.yaml"), "--json"])
    assert result.exit_code == 4
    assert json.loads(result.stdout)["code"] == "not_found"


def test_plan_apply_rollback(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "plan.json"
    result = runner.invoke(
        app,
        [
            "ranconfig",
            "plan",
            str(files["template"]),
            "--scope",
            str(files["scope"]),
            "--mom",
            str(MOM),
            "--rules",
            str(files["rules"]),
            "--variant",
            "urban",
            "--out",
            str(plan),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"cmedit set {ENB},EUtranCellFDD=A administrativeState=LOCKED" in result.output
    dry = runner.invoke(
        app,
        [
            "ranconfig",
            "apply",
            str(plan),
            "--dry-run",
            "--json",
            "--report",
            str(tmp_path / "rep.json"),
        ],
    )
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["status"] == "dry_run"
    assert len(json.loads(dry.stdout)["steps"]) == 3
    back = runner.invoke(app, ["ranconfig", "rollback", str(plan)])
    assert back.exit_code == 0, back.output
    assert "qRxLevMin=-140,cellRange=15" in back.output
    from_report = runner.invoke(
        app, ["ranconfig", "rollback", str(tmp_path / "rep.json"), "--json"]
    )
    assert from_report.exit_code == 0
    monkeypatch.delenv("OPSFORGE_ENM_USERNAME", raising=False)
    monkeypatch.delenv("OPSFORGE_ENM_PASSWORD", raising=False)
    no_creds = runner.invoke(
        app, ["ranconfig", "apply", str(plan), "--execute", "--enm-url", "https://enm.test"]
    )
    assert no_creds.exit_code == 3
    no_url = runner.invoke(app, ["ranconfig", "apply", str(plan), "--execute"])
    assert no_url.exit_code == 2
    bad = runner.invoke(
        app,
        [
            "ranconfig",
            "plan",
            str(files["template"]),
            "--scope",
            str(files["scope"]),
            "--mom",
            str(MOM),
            "--variant",
            "bad",
            "--out",
            str(plan),
            "--json",
        ],
    )
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["code"] == "invalid_input"


def test_docs_command(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "ranconfig",
            "docs",
            str(MOM),
            "--out",
            str(tmp_path / "r.md"),
            "--class",
            "EUtranCellFDD",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "## EUtranFreqRelation" not in (tmp_path / "r.md").read_text()
