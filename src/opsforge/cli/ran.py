"""``opsforge ran ...``: run the RAN coverage optimizer on files, or simulate a network.

``recommend`` runs the ``ran.recommend`` job kind inline (no server, no database) through a
:class:`~opsforge.core.jobs.context.LocalRunContext` whose work folder is ``--out``, then
writes the lineage ``manifest.json`` there. ``simulate`` writes a synthetic network in the
users' format (``grid.csv``, ``gis.csv``) with its ground truth (``truth.json``).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from opsforge.cli.common import cli_errors
from opsforge.core.errors import ConfigError
from opsforge.core.jobs.context import LocalRunContext
from opsforge.core.lineage import MANIFEST_NAME, build_manifest
from opsforge.core.logging import configure_logging

app = typer.Typer(
    help="RAN coverage optimizer: tilt, crossed feeders, interference.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log events to stderr.")]


def _logging(verbose: bool) -> None:
    """Logs go to stderr (stdout stays clean for --json); warnings only unless --verbose."""
    configure_logging(level="INFO" if verbose else "WARNING")


_errors = cli_errors


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[float, str], None] | None]:
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), console=err, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("starting", total=1.0)

        def update(fraction: float, message: str = "") -> None:
            bar.update(task, completed=fraction, description=message or "working")

        yield update


def _run_inline(
    kind_name: str, request: BaseModel, out_dir: Path, inputs: dict[str, Path], show: bool
) -> tuple[Any, LocalRunContext, datetime, datetime]:
    from opsforge.engines.ran.jobs import JOB_KINDS

    kind = next(k for k in JOB_KINDS if k.name == kind_name)
    with _progress(show) as on_progress:
        ctx = LocalRunContext(
            run_id=uuid.uuid4().hex, workdir=out_dir, inputs=inputs, on_progress=on_progress
        )
        started = datetime.now(UTC)
        result = kind.run(request, ctx)
        finished = datetime.now(UTC)
    return result, ctx, started, finished


def _write_manifest(
    kind: str, ctx: LocalRunContext, request: BaseModel, inputs: dict[str, Path],
    started: datetime, finished: datetime,
) -> Path:  # fmt: skip
    outputs = {
        p.name: p for p in sorted(ctx.workdir.iterdir()) if p.is_file() and p.name != MANIFEST_NAME
    }
    manifest = build_manifest(
        run_id=ctx.run_id, engine="ran", kind=kind, attempt=1, inputs=inputs,
        params=request.model_dump(mode="json"), settings=None,
        stage_timings_s=ctx.stage_timings_s, started_at=started, finished_at=finished,
        outputs=outputs,
    )  # fmt: skip
    path = ctx.workdir / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


@app.command("recommend")
def recommend_cmd(
    grid: Annotated[Path | None, typer.Option("--grid", help="Grid file (CSV or Parquet).")] = None,
    gis: Annotated[
        Path | None, typer.Option("--gis", help="GIS cell file (CSV or Parquet).")
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Operator YAML (config/operators/...).")
    ] = None,
    max_map_bins: Annotated[int, typer.Option(help="Most bins drawn per map layer.")] = 20_000,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Recommend tilt changes, feeder swaps and interference zones; write every export.

    --grid, --gis and --out default to the operator file's data.input.grid, data.input.gis and
    data.output.base (``${VAR}`` placeholders expanded from the environment).
    """
    from opsforge.engines.ran.jobs import RecommendRequest, RecommendSummary
    from opsforge.engines.ran.operator_config import expand_placeholders, load_operator_config

    _logging(verbose)
    with _errors():
        request = RecommendRequest(max_map_bins=max_map_bins, export_date=datetime.now(UTC).date())
        defaults: dict[str, str | None] = {"--grid": None, "--gis": None, "--out": None}
        if config is not None:
            cfg = load_operator_config(config)
            request = request.model_copy(
                update={
                    "params": cfg.params,
                    "grid_columns": cfg.grid_columns,
                    "gis_columns": cfg.gis_columns,
                }
            )
            defaults = {"--grid": cfg.data.input.grid, "--gis": cfg.data.input.gis,
                        "--out": cfg.data.output.base}  # fmt: skip

        def pick(given: Path | None, option: str) -> Path:
            if given is not None:
                return given
            fallback = defaults[option]
            if fallback is None:
                raise ConfigError(
                    f"{option} not given and no operator file value for it", key=option
                )
            return Path(expand_placeholders(fallback, os.environ))

        grid, gis, out_dir = pick(grid, "--grid"), pick(gis, "--gis"), pick(out_dir, "--out")
        out_dir.mkdir(parents=True, exist_ok=True)
        inputs = {"grid": grid, "gis": gis}
        if config is not None:
            inputs["operator_config"] = config
        result, ctx, started, finished = _run_inline(
            "ran.recommend", request, out_dir, {"grid": grid, "gis": gis}, show=not as_json
        )
        assert isinstance(result, RecommendSummary)
        manifest = _write_manifest("recommend", ctx, request, inputs, started, finished)
    if as_json:
        doc = {"ok": True, "out": str(out_dir), "manifest": str(manifest),
               "stage_timings_s": ctx.stage_timings_s, **result.model_dump(mode="json")}  # fmt: skip
        typer.echo(json.dumps(doc))
        return
    table = Table(title=f"RAN recommendations -> {out_dir}")
    table.add_column("issue")
    table.add_column("cells", justify="right")
    for issue, count in sorted(result.counts_per_issue.items()):
        table.add_row(issue, str(count))
    table.add_row("interference zones", str(result.num_interference_zones))
    table.add_row("actions dropped or clipped (conflicts.csv)", str(result.num_conflicts))
    out.print(table)
    q = result.quality
    out.print(
        f"grid rows: {q.num_grid_rows_valid} valid, {q.num_grid_rows_quarantined} quarantined "
        f"of {q.num_grid_rows_read}; gis rows: {q.num_gis_rows_valid} valid of "
        f"{q.num_gis_rows_read}; cells missing from GIS: {q.num_cells_missing_from_gis}",
        highlight=False,
    )
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in ctx.stage_timings_s.items())
    out.print(f"stages: {timings}", highlight=False)
    out.print(f"{len(result.outputs)} files + {MANIFEST_NAME} in {out_dir}", highlight=False)


@app.command("compare")
def compare_cmd(
    before: Annotated[Path, typer.Option("--before", help="Output folder of the earlier run.")],
    after: Annotated[Path, typer.Option("--after", help="Output folder of the later run.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Where to write changes.csv (default: AFTER).")
    ] = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Compare two runs: did last cycle's actions work, which cells changed by themselves.

    Reads cell_stats.csv and recommendations.csv of both folders (written by ``recommend``)
    and writes changes.csv: one row per cell with a verdict (effective, partial, no_effect,
    overcorrected, not_applied, applied_differently, resolved, still_flagged,
    no_measurements_after, footprint_grew, footprint_shrank, new_cell) and its reason.
    """
    from opsforge.core.errors import NotFoundError
    from opsforge.engines.ran import exports
    from opsforge.engines.ran.changes import VERDICTS, compare_runs
    from opsforge.engines.ran.params import ChangeParams

    _logging(verbose)
    with _errors(as_json):
        frames: dict[str, tuple[Any, Any]] = {}
        for label, folder in (("before", before), ("after", after)):
            for name in ("cell_stats.csv", "recommendations.csv"):
                path = folder / name
                if not path.is_file():
                    raise NotFoundError(
                        f"{path} not found: --{label} must be an output folder of "
                        "`opsforge ran recommend` (cell_stats.csv is written since 2026-12-03)"
                    )
            frames[label] = (
                exports.read_cell_stats_csv(folder / "cell_stats.csv"),
                exports.read_recommendations_csv(folder / "recommendations.csv"),
            )
        (stats_b, recs_b), (stats_a, recs_a) = frames["before"], frames["after"]
        changes = compare_runs(stats_b, stats_a, recs_b, recs_a, ChangeParams())
        common = int(stats_b["cell_id"].is_in(stats_a["cell_id"].implode()).sum())
        params = [_manifest_params(folder) for folder in (before, after)]
        params_differ = None not in params and params[0] != params[1]
        target = out_file if out_file is not None else after / "changes.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        exports.write_changes(changes, target)
    counts = {v: int((changes["verdict"] == v).sum()) for v in VERDICTS}
    if as_json:
        doc = {"ok": True, "out": str(target), "counts_per_verdict": counts,
               "params_differ": params_differ, "num_common_cells": common,
               "num_cells_before": stats_b.height, "num_cells_after": stats_a.height}  # fmt: skip
        typer.echo(json.dumps(doc))
        return
    if 2 * common < max(stats_b.height, 1):
        err.print(
            f"warning: only {common} of the {stats_b.height} cells of --before are in --after: "
            "are these runs of the same network?"
        )
    if params_differ:
        err.print(
            "warning: the two runs used different detector parameters (manifest.json); the "
            "overshooting-bin counts and the after run's flags depend on them"
        )
    table = Table(title=f"RAN changes {before} -> {after}")
    table.add_column("verdict")
    table.add_column("cells", justify="right")
    for verdict, count in counts.items():
        if count:
            table.add_row(verdict, str(count))
    out.print(table)
    out.print(f"{changes.height} cells in {target}", highlight=False)


def _manifest_params(folder: Path) -> Any:
    """The detector parameters (and operator file) a run folder's ``manifest.json`` records,
    or None without a readable one."""
    path = folder / MANIFEST_NAME
    try:
        request = json.loads(path.read_text(encoding="utf-8"))["config"]["params"]
        return [request.get("params"), request.get("operator_config")]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


@app.command("simulate")
def simulate_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")],
    sites: Annotated[int, typer.Option("--sites", help="Number of sites.", min=1)] = 60,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    faults: Annotated[bool, typer.Option("--faults/--no-faults", help="Inject faults.")] = True,
    grid_format: Annotated[str, typer.Option("--grid-format", help="csv or parquet.")] = "csv",
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Simulate a network: grid.csv and gis.csv in the users' format, plus truth.json."""
    from opsforge.engines.ran.jobs import SimulateRequest, SimulateSummary

    _logging(verbose)
    with _errors():
        if grid_format not in ("csv", "parquet"):
            raise ConfigError(
                f"--grid-format must be csv or parquet, got {grid_format!r}", key="grid_format"
            )
        request = SimulateRequest(
            num_sites=sites,
            seed=seed,
            faults=faults,
            grid_format=grid_format,  # type: ignore[arg-type]
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        result, _ctx, _, _ = _run_inline("ran.simulate", request, out_dir, {}, show=not as_json)
        assert isinstance(result, SimulateSummary)
    if as_json:
        typer.echo(json.dumps({"ok": True, "out": str(out_dir), **result.model_dump()}))
        return
    out.print(
        f"{result.num_sites} sites, {result.num_cells} cells, {result.num_bins} bins, "
        f"{result.num_grid_rows} grid rows -> {out_dir} ({', '.join(result.outputs)})",
        highlight=False,
    )
    out.print(f"truth: {result.truth_counts}", highlight=False)


@app.command("validate")
def validate_cmd(
    grid: Annotated[Path, typer.Option("--grid", help="Grid file (CSV or Parquet).")],
    gis: Annotated[Path, typer.Option("--gis", help="GIS cell file (CSV or Parquet).")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write quality_report.json and quarantines here.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Operator YAML (for its column maps).")
    ] = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Check the input files only: mapping, ranges, duplicates, cells missing from the GIS."""
    from opsforge.engines.ran import io
    from opsforge.engines.ran.operator_config import load_operator_config

    _logging(verbose)
    with _errors():
        grid_map, gis_map = {}, {}
        if config is not None:
            cfg = load_operator_config(config)
            grid_map, gis_map = cfg.grid_columns, cfg.gis_columns
        loaded_gis = io.read_gis(gis, gis_map)
        loaded_grid = io.cross_check(io.read_grid(grid, grid_map), loaded_gis)
        report = io.build_quality_report(loaded_grid, loaded_gis)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "quality_report.json").write_text(report.model_dump_json(indent=2))
            loaded_grid.write_quarantine(out_dir / "quarantine_grid.csv")
            loaded_gis.write_quarantine(out_dir / "quarantine_gis.csv")
    if as_json:
        typer.echo(report.model_dump_json())
        return
    for name, file_report in (("grid", report.grid), ("gis", report.gis)):
        table = Table(title=f"{name}: {file_report.file}")
        table.add_column("check")
        table.add_column("rows", justify="right")
        table.add_row("read", str(file_report.num_rows_read))
        table.add_row("valid", str(file_report.num_rows_valid))
        for reason, count in sorted(file_report.quarantine_reasons.items()):
            table.add_row(f"quarantined: {reason}", str(count))
        for reason, count in sorted(file_report.values_nulled.items()):
            table.add_row(f"value nulled: {reason}", str(count))
        out.print(table)
    out.print(
        f"cells missing from the GIS: {report.num_cells_missing_from_gis}; GIS cells without "
        f"measurements: {report.num_gis_cells_without_measurements}; valid grid rows: "
        f"{report.valid_row_fraction:.1%}",
        highlight=False,
    )
