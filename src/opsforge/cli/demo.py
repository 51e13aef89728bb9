"""``opsforge demo``: the main jobs end to end on the embedded default, no server needed.

Every step is a real run of the core (SQLite database, local artifact folder, inline runner):
the same path the API and the Celery workers take, with lineage manifests and artifacts.

1. ``ran.simulate``: a seeded synthetic network with injected faults (users' file format).
2. ``ran.recommend``: validation, detection, tilt advice, exports and ``map.html``.
3. ``scheduling.solve``: a generated job-shop batch, dispatching rule vs CP-SAT.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from opsforge.core.config import load_settings
from opsforge.core.errors import OpsforgeError
from opsforge.core.jobs.schemas import RunPublic, RunStatus
from opsforge.core.jobs.service import RunService, build_run_service
from opsforge.core.logging import configure_logging
from opsforge.core.storage.db import Database
from opsforge.core.storage.migrate import upgrade
from opsforge.core.storage.models import Tenant

DEMO_TENANT = "demo"
DEMO_USER = "demo"


def register(app: typer.Typer) -> None:
    """Add ``opsforge demo`` to the root app."""
    app.command("demo")(demo)


def _ensure_tenant(database: Database) -> None:
    with database.session() as session:
        if session.get(Tenant, DEMO_TENANT) is None:
            session.add(Tenant(id=DEMO_TENANT, name="Demo operator"))


def _check(run: RunPublic, what: str) -> RunPublic:
    if run.status != RunStatus.SUCCEEDED:
        detail = run.error.detail if run.error else "no error recorded"
        code = run.error.code if run.error else "unknown"
        raise typer.Exit(_fail(f"{what} run {run.id} ended {run.status}: [{code}] {detail}"))
    return run


def _fail(message: str) -> int:
    Console(stderr=True).print(f"[red]error:[/red] {message}")
    return 1


def _copy_outputs(service: RunService, run_id: str, dest: Path) -> dict[str, Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for art in service.list_artifacts(run_id, tenant_ids=None):
        if art.role != "output":
            continue
        meta, stream = service.open_artifact(run_id, art.id, tenant_ids=None)
        target = dest / meta.name
        target.parent.mkdir(parents=True, exist_ok=True)
        with stream, target.open("wb") as fh:
            shutil.copyfileobj(stream, fh)
        out[meta.name] = target
    return out


def _ran_steps(
    service: RunService, out_dir: Path, num_sites: int, seed: int, console: Console
) -> dict[str, Any]:
    with console.status("ran.simulate: building a synthetic network with injected faults"):
        sim = _check(
            service.submit(
                engine="ran",
                kind="simulate",
                tenant_id=DEMO_TENANT,
                params={"num_sites": num_sites, "seed": seed, "faults": True},
                created_by=DEMO_USER,
            ),
            "ran.simulate",
        )
    inputs = _copy_outputs(service, sim.id, out_dir / "ran_inputs")
    with console.status("ran.recommend: validating, detecting, exporting, drawing the map"):
        rec = _check(
            service.submit(
                engine="ran",
                kind="recommend",
                tenant_id=DEMO_TENANT,
                params={},
                created_by=DEMO_USER,
                inputs={"grid": inputs["grid.csv"], "gis": inputs["gis.csv"]},
            ),
            "ran.recommend",
        )
    outputs = _copy_outputs(service, rec.id, out_dir / "ran")
    summary = dict(rec.result or {})
    truth = json.loads(inputs["truth.json"].read_text("utf-8")) if "truth.json" in inputs else {}
    return {
        "simulate_run": sim.id,
        "recommend_run": rec.id,
        "summary": summary,
        "truth": truth,
        "map": str(outputs.get("map.html", "")),
        "out_dir": str(out_dir / "ran"),
    }


def _scheduling_step(service: RunService, seed: int, console: Console) -> dict[str, Any]:
    import numpy as np

    from opsforge.engines.scheduling.env import random_instance

    problem = random_instance(30, 10, np.random.default_rng(seed), name="demo-30x10")
    results: dict[str, Any] = {}
    for backend, limit_s in (("rule", 1.0), ("cpsat", 2.0)):
        with console.status(f"scheduling.solve: 30 jobs x 10 machines with {backend}"):
            run = _check(
                service.submit(
                    engine="scheduling",
                    kind="solve",
                    tenant_id=DEMO_TENANT,
                    params={
                        "instance": problem.model_dump(mode="json"),
                        "backend": backend,
                        "time_limit_s": limit_s,
                        "seed": seed,
                    },
                    created_by=DEMO_USER,
                ),
                f"scheduling.solve ({backend})",
            )
        res = run.result or {}
        results[backend] = {
            "run": run.id,
            "makespan": res.get("makespan"),
            "runtime_s": res.get("runtime_s"),
            "validity": res.get("validity"),
        }
    return results


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's database and outputs.")] = Path(
        "demo-out"
    ),
    sites: Annotated[int, typer.Option(min=3, max=2000, help="Sites in the network.")] = 60,
    seed: Annotated[int, typer.Option(help="Seed of the simulation and solvers.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every run event.")] = False,
) -> None:
    """Simulate a network, recommend tilts, solve a schedule: all as runs of the core."""
    configure_logging("INFO" if verbose else "WARNING")
    console = Console(stderr=as_json)
    try:
        settings = load_settings(data_dir=str(out / "var"), jobs={"backend": "inline"})
        database = Database(settings.resolved_database_url)
        upgrade(database)
        _ensure_tenant(database)
        service = build_run_service(settings, database)
        ran = _ran_steps(service, out, sites, seed, console)
        sched = _scheduling_step(service, seed, console)
    except OpsforgeError as err:
        raise typer.Exit(_fail(f"[{err.code}] {err.message}")) from err
    report = {"ran": ran, "scheduling": sched, "database": settings.resolved_database_url}
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    _print_report(console, report)


def _print_report(console: Console, report: dict[str, Any]) -> None:
    ran = report["ran"]
    summary = ran["summary"]
    console.rule("RAN coverage optimizer")
    table = Table("issue", "cells flagged")
    for issue, count in sorted(summary.get("counts_per_issue", {}).items()):
        table.add_row(issue, str(count))
    table.add_row("interference zones", str(summary.get("num_interference_zones", 0)))
    table.add_row(
        "actions dropped or clipped (conflicts.csv)", str(summary.get("num_conflicts", 0))
    )
    console.print(table)
    quality = summary.get("quality", {})
    if quality:
        console.print(
            f"grid rows valid {quality.get('num_grid_rows_valid')} of "
            f"{quality.get('num_grid_rows_read')} (quarantined "
            f"{quality.get('num_grid_rows_quarantined')})"
        )
    truth = ran.get("truth") or {}
    if truth:
        counts = {k: len(v) for k, v in truth.items() if isinstance(v, list)}
        console.print(f"injected faults (ground truth): {counts}")
    console.print(f"outputs: {ran['out_dir']}")
    console.print(f"[bold]map: {ran['map']}[/bold]")
    console.rule("Job-shop scheduling (30 jobs x 10 machines)")
    sched_table = Table("backend", "makespan", "runtime [s]", "validator")
    for backend, res in report["scheduling"].items():
        runtime = res.get("runtime_s")
        sched_table.add_row(
            backend,
            str(res.get("makespan")),
            f"{runtime:.2f}" if isinstance(runtime, float) else str(runtime),
            str(res.get("validity")),
        )
    console.print(sched_table)
    console.print(f"database: {report['database']}")
