"""``opsforge ran simulate`` and ``opsforge ran recommend``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsforge.cli.main import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    result = runner.invoke(
        app, ["ran", "simulate", "--out", str(out), "--sites", "10", "--seed", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    assert doc["num_cells"] == 30
    return out


def test_simulate_writes_the_users_files(simulated: Path) -> None:
    assert {p.name for p in simulated.iterdir()} == {"grid.csv", "gis.csv", "truth.json"}


def test_recommend_json_writes_outputs_and_manifest(simulated: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["ran", "recommend", "--grid", str(simulated / "grid.csv"), "--gis",
         str(simulated / "gis.csv"), "--out", str(out), "--config",
         str(REPO / "config" / "operators" / "dish_denver.yaml"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    assert set(doc["stage_timings_s"]) == {"load", "validate", "detect", "export", "map"}
    assert (out / "map.html").exists()
    assert (out / "recommendations.csv").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    digest = hashlib.sha256((simulated / "grid.csv").read_bytes()).hexdigest()
    assert manifest["inputs"]["grid"]["sha256"] == digest
    assert "operator_config" in manifest["inputs"]
    assert manifest["engine"] == "ran"
    assert manifest["kind"] == "recommend"
    assert manifest["package"]["name"] == "opsforge"
    params = manifest["config"]["params"]["params"]
    assert params["overshooters"]["params"]["min_overshooting_grids"] == 50
    assert "recommendations.csv" in manifest["outputs"]


def test_recommend_table_output(simulated: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["ran", "recommend", "--grid", str(simulated / "grid.csv"), "--gis",
         str(simulated / "gis.csv"), "--out", str(tmp_path / "t")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "grid rows:" in result.stdout
    assert "manifest.json" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--grid", "missing.csv"], 4, "does not exist"),
        (["--config", "bad.yaml"], 2, "featurez"),
    ],
)
def test_errors_map_to_exit_codes_with_one_line(
    simulated: Path, tmp_path: Path, args: list[str], code: int, fragment: str
) -> None:
    (tmp_path / "bad.yaml").write_text("operator: X\nregion: Y\nfeaturez: {}\n")
    base = {"--grid": str(simulated / "grid.csv"), "--gis": str(simulated / "gis.csv"),
            "--out": str(tmp_path / "o")}  # fmt: skip
    extra = dict(zip(args[::2], args[1::2], strict=True))
    merged = {**base, **{k: str(tmp_path / v) for k, v in extra.items()}}
    argv = ["ran", "recommend"] + [x for kv in merged.items() for x in kv]
    result = runner.invoke(app, argv)
    assert result.exit_code == code, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error")]
    assert len(lines) == 1
    assert fragment in result.stderr


def test_paths_default_to_the_operator_file_with_env_placeholders(
    simulated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "op.yaml"
    config.write_text(
        "operator: T\nregion: R\ndata:\n  input:\n    grid: ${RAN_ROOT}/grid.csv\n"
        "    gis: ${RAN_ROOT}/gis.csv\n  output:\n    base: ${OUT_ROOT}/run\n"
    )
    monkeypatch.setenv("RAN_ROOT", str(simulated))
    monkeypatch.setenv("OUT_ROOT", str(tmp_path))
    result = runner.invoke(app, ["ran", "recommend", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "manifest.json").exists()
    monkeypatch.delenv("OUT_ROOT")
    result = runner.invoke(app, ["ran", "recommend", "--config", str(config)])
    assert result.exit_code == 2
    assert "OUT_ROOT" in result.stderr
    result = runner.invoke(app, ["ran", "recommend", "--grid", str(simulated / "grid.csv")])
    assert result.exit_code == 2
    assert "--gis not given" in result.stderr


def test_validate_reports_quality_without_running_the_engine(
    simulated: Path, tmp_path: Path
) -> None:
    grid = tmp_path / "grid.csv"
    text = (simulated / "grid.csv").read_text()
    grid.write_text(text + "9xj64fb,424242,-90.0,,,3\nbadhash,11,-90.0,,,3\n")
    result = runner.invoke(
        app,
        ["ran", "validate", "--grid", str(grid), "--gis", str(simulated / "gis.csv"),
         "--out", str(tmp_path / "q"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["num_cells_missing_from_gis"] == 1
    assert report["grid"]["quarantine_reasons"]["not a geohash-7 string"] == 1
    assert (tmp_path / "q" / "quality_report.json").exists()
    assert "424242" in (tmp_path / "q" / "quarantine_grid.csv").read_text()
    table = runner.invoke(
        app, ["ran", "validate", "--grid", str(grid), "--gis", str(simulated / "gis.csv")]
    )
    assert table.exit_code == 0, table.output
    assert "cells missing from the GIS: 1" in table.stdout


def _recommend(grid: Path, gis: Path, out: Path) -> None:
    result = runner.invoke(
        app,
        ["ran", "recommend", "--grid", str(grid), "--gis", str(gis), "--out", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output


def test_compare_verifies_applied_changes_and_flags_cells_that_changed(
    simulated: Path, tmp_path: Path
) -> None:
    import polars as pl

    _recommend(simulated / "grid.csv", simulated / "gis.csv", tmp_path / "run1")
    recs = pl.read_csv(tmp_path / "run1" / "recommendations.csv")
    tilt = recs.filter(pl.col("action").is_in(["downtilt", "uptilt"]))
    assert tilt.height > 0
    # next cycle: the proposed tilts are in the GIS (the radio did not change: the same grid),
    # one untouched cell went off air, another lost 20 dB (a RET fault, an obstruction)
    stats = pl.read_csv(tmp_path / "run1" / "cell_stats.csv")
    quiet = stats.filter(~pl.col("cell_id").is_in(recs["cell_id"].implode())).sort(
        "num_best_bins", descending=True
    )
    gone, weak = int(quiet["cell_id"][0]), int(quiet["cell_id"][1])
    gis = pl.read_csv(simulated / "gis.csv")
    gis = gis.join(
        tilt.select(pl.col("cell_id").alias("CILAC"), "proposed_tilt_e_deg", "proposed_tilt_m_deg"),
        on="CILAC", how="left",
    ).with_columns(
        pl.coalesce("proposed_tilt_e_deg", "TiltE").alias("TiltE"),
        pl.coalesce("proposed_tilt_m_deg", "TiltM").alias("TiltM"),
    ).drop("proposed_tilt_e_deg", "proposed_tilt_m_deg")  # fmt: skip
    grid = pl.read_csv(simulated / "grid.csv").filter(pl.col("global_cell_id") != gone)
    grid = grid.with_columns(
        pl.when(pl.col("global_cell_id") == weak)
        .then(pl.col("avg_rsrp") - 20.0)
        .otherwise(pl.col("avg_rsrp"))
        .alias("avg_rsrp")
    )
    (tmp_path / "net2").mkdir()
    gis.write_csv(tmp_path / "net2" / "gis.csv")
    grid.write_csv(tmp_path / "net2" / "grid.csv")
    _recommend(tmp_path / "net2" / "grid.csv", tmp_path / "net2" / "gis.csv", tmp_path / "run2")
    after = pl.read_csv(tmp_path / "run2" / "recommendations.csv")
    assert gone not in after["cell_id"].to_list()  # off air is not undershooting
    result = runner.invoke(
        app, ["ran", "compare", "--before", str(tmp_path / "run1"), "--after",
              str(tmp_path / "run2"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    changes = pl.read_csv(doc["out"])
    verdict = dict(zip(changes["cell_id"].to_list(), changes["verdict"].to_list(), strict=True))
    assert verdict[gone] == "no_measurements_after"
    assert verdict[weak] == "footprint_shrank"
    for cell in tilt["cell_id"].to_list():  # applied, but the measurements did not move
        assert verdict[cell] in {"no_effect", "overcorrected"}, (cell, verdict[cell])
    assert changes.filter(pl.col("cell_id").is_in(tilt["cell_id"].implode()))["applied"].all()
    assert doc["counts_per_verdict"]["no_measurements_after"] == 1
    assert doc["params_differ"] is False
    assert doc["num_common_cells"] == doc["num_cells_before"] == doc["num_cells_after"]
    manifest = tmp_path / "run2" / "manifest.json"
    recorded = json.loads(manifest.read_text())
    recorded["config"]["params"]["params"] = {"conflicts": {"params": {"max_tilt_step_deg": 1.0}}}
    manifest.write_text(json.dumps(recorded))
    warned = runner.invoke(
        app,
        ["ran", "compare", "--before", str(tmp_path / "run1"), "--after", str(tmp_path / "run2")],
    )
    assert warned.exit_code == 0, warned.output
    assert "different detector parameters" in warned.stderr
    table = runner.invoke(
        app, ["ran", "compare", "--before", str(tmp_path / "run1"), "--after",
              str(tmp_path / "run1"), "--out", str(tmp_path / "self.csv")],
    )  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "not_applied" in table.stdout
    same = pl.read_csv(tmp_path / "self.csv")
    assert set(same["verdict"]) <= {"not_applied", "still_flagged"}


def test_compare_names_the_missing_file(simulated: Path, tmp_path: Path) -> None:
    import polars as pl

    _recommend(simulated / "grid.csv", simulated / "gis.csv", tmp_path / "run1")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "recommendations.csv").write_bytes(
        (tmp_path / "run1" / "recommendations.csv").read_bytes()
    )
    result = runner.invoke(
        app,
        ["ran", "compare", "--before", str(tmp_path / "old"), "--after", str(tmp_path / "run1")],
    )
    assert result.exit_code == 4, result.output
    assert "old/cell_stats.csv not found" in result.stderr
    # another network altogether: every cell new, every old one silent, and a warning
    stats = pl.read_csv(tmp_path / "run1" / "cell_stats.csv")
    stats.with_columns(pl.col("cell_id") + 1_000_000).write_csv(tmp_path / "old" / "cell_stats.csv")
    other = runner.invoke(
        app,
        ["ran", "compare", "--before", str(tmp_path / "old"), "--after", str(tmp_path / "run1")],
    )
    assert other.exit_code == 0, other.output
    assert f"only 0 of the {stats.height} cells" in other.stderr
