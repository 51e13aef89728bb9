"""``opsforge runs ...`` and ``opsforge db upgrade`` through Typer's runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from opsforge.cli import runs
from opsforge.core.config import reset_settings_cache
from opsforge.core.storage.migrate import head_revision

KINDS = "--kinds=opsforge.core.jobs.selftest"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    for name in ("OPSFORGE_DATABASE_URL", "OPSFORGE_CONFIG", "OPSFORGE_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPSFORGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPSFORGE_JOBS__BACKEND", "inline")
    monkeypatch.setenv("OPSFORGE_LOG_LEVEL", "WARNING")
    reset_settings_cache()
    app = typer.Typer()
    runs.register(app)
    yield app
    reset_settings_cache()


def _invoke(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_db_upgrade_reports_head(cli: typer.Typer) -> None:
    code, out = _invoke(cli, "db", "upgrade")
    assert code == 0, out
    head = head_revision()
    assert f"database at revision {head} (head {head})" in out


def test_submit_inline_then_list_and_show(cli: typer.Typer, tmp_path: Path) -> None:
    data = tmp_path / "in.txt"
    data.write_text("x\ny\n")
    code, out = _invoke(
        cli, "runs", "submit", "selftest.digest", "--input", f"data={data}", KINDS, "--json"
    )
    assert code == 0, out
    run = json.loads(out)
    assert run["status"] == "succeeded"
    assert run["tenant_id"] == "default"
    assert run["result"] == {"num_lines": 2, "size_bytes": 4}
    code, out = _invoke(cli, "runs", "list", "--json", "--status", "succeeded")
    assert code == 0, out
    assert [r["id"] for r in json.loads(out)] == [run["id"]]
    code, out = _invoke(cli, "runs", "show", run["id"], "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert sorted((a["role"], a["name"]) for a in shown["artifacts"]) == [
        ("input", "data"),
        ("output", "manifest.json"),
        ("output", "summary.json"),
    ]
    code, out = _invoke(cli, "runs", "show", run["id"])
    assert code == 0
    assert "status succeeded" in out
    code, out = _invoke(cli, "runs", "list")
    assert code == 0
    assert "succeeded" in out


def test_errors_map_to_exit_codes(cli: typer.Typer) -> None:
    code, _ = _invoke(cli, "runs", "submit", "selftest.sleep", "--params", '{"steps": 0}', KINDS)
    assert code == 2
    code, _ = _invoke(cli, "runs", "submit", "selftest.sleep", "--params", "[1]", KINDS)
    assert code == 2
    code, _ = _invoke(cli, "runs", "submit", "nodot", KINDS)
    assert code == 2
    code, _ = _invoke(cli, "runs", "submit", "selftest.nothing", KINDS)
    assert code == 4
    code, _ = _invoke(cli, "runs", "show", "no-such-run")
    assert code == 4
    code, out = _invoke(
        cli, "runs", "submit", "selftest.sleep", "--params", '{"fail_at_step": 0}', KINDS
    )
    assert code == 8
    assert "data_quality" in out


def test_submit_local_backend_leaves_the_run_queued_for_the_server(cli: typer.Typer) -> None:
    code, out = _invoke(
        cli, "runs", "submit", "selftest.sleep", "--backend", "local", KINDS, "--json"
    )
    assert code == 0, out
    assert json.loads(out)["status"] == "queued"


def test_submit_local_backend_with_wait_runs_it_here(cli: typer.Typer) -> None:
    code, out = _invoke(
        cli,
        "runs",
        "submit",
        "selftest.sleep",
        "--params",
        '{"steps": 2}',
        "--backend",
        "local",
        "--wait",
        "--timeout-s",
        "30",
        KINDS,
        "--json",
    )
    assert code == 0, out
    assert json.loads(out)["status"] == "succeeded"
