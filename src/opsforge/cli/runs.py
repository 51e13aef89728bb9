"""Service commands for runs: ``opsforge worker``, ``opsforge db upgrade``, ``opsforge runs ...``.

The CLI acts as the local administrator: it sees the runs of every tenant. Errors of the
:mod:`opsforge.core.errors` hierarchy become one line on stderr and the hierarchy's exit code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from opsforge.cli.common import cli_errors, cli_settings, open_database
from opsforge.core.config import Settings
from opsforge.core.errors import InvalidInputError
from opsforge.core.jobs.dispatch import LocalPoolDispatcher
from opsforge.core.jobs.registry import JobRegistry
from opsforge.core.jobs.schemas import RunPublic, RunStatus
from opsforge.core.jobs.service import RunService, build_run_service
from opsforge.core.storage.db import Database
from opsforge.core.storage.migrate import current_revision, head_revision, upgrade
from opsforge.core.storage.models import Tenant

__all__ = ["db_app", "register", "runs_app"]

DEFAULT_TENANT = "default"

runs_app = typer.Typer(help="Submit, list and inspect runs.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)

out = Console()
err = Console(stderr=True)


_errors = cli_errors
_settings = cli_settings


def _database(settings: Settings) -> Database:
    return open_database(settings, migrate="sqlite")  # the embedded default migrates itself


def _service(
    backend: Literal["inline", "local", "celery"] | None, kinds: list[str] | None
) -> RunService:
    settings = _settings()
    if backend is not None:
        settings = settings.model_copy(
            update={"jobs": settings.jobs.model_copy(update={"backend": backend})}
        )
    database = _database(settings)
    return build_run_service(settings, database, registry=JobRegistry.default(kinds or ()))


def _run_dict(run: RunPublic) -> dict[str, Any]:
    return run.model_dump(mode="json", exclude={"lineage"})


KindsOption = Annotated[
    list[str] | None,
    typer.Option("--kinds", help="Extra job kinds to register, as module[:attribute]."),
]


def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Runs at a time.")] = 1,
    queues: Annotated[str, typer.Option(help="Comma-separated queues to consume.")] = "opsforge",
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, threads or solo.")] = "prefork",
    kinds: KindsOption = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
    hostname: Annotated[
        str | None, typer.Option(help="Celery node name (name@host); default celery@host.")
    ] = None,
) -> None:
    """Run a Celery worker on the configured broker (with a reaper for lost runs)."""
    from opsforge.core.jobs.celery_app import run_worker

    with _errors():
        settings = _settings()
        if pool not in {"prefork", "threads", "solo"}:
            raise InvalidInputError(f"--pool must be prefork, threads or solo, got {pool!r}")
        _database(settings).dispose()
        run_worker(
            settings,
            extra_kinds=kinds or (),
            queues=[q.strip() for q in queues.split(",") if q.strip()],
            concurrency=concurrency,
            pool=pool,
            loglevel=loglevel,
            hostname=hostname,
        )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the database schema (default: to the newest revision)."""
    with _errors():
        database = Database(_settings().resolved_database_url)
        upgrade(database, revision)
        out.print(f"database at revision {current_revision(database)} (head {head_revision()})")


@runs_app.command("list")
def runs_list(
    engine: Annotated[str | None, typer.Option(help="Only this engine.")] = None,
    status: Annotated[RunStatus | None, typer.Option(help="Only this status.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List runs, newest first."""
    with _errors():
        service = _service(None, None)
        page = service.list(
            tenant_ids=[tenant] if tenant else None, engine=engine, status=status, limit=limit
        )
        if as_json:
            out.print_json(json.dumps([_run_dict(r) for r in page.items]))
            return
        table = Table("id", "kind", "tenant", "status", "progress", "created", "by")
        for run in page.items:
            table.add_row(
                run.id,
                f"{run.engine}.{run.kind}",
                run.tenant_id,
                run.status.value,
                f"{run.progress_fraction:.0%}",
                run.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                run.created_by,
            )
        out.print(table)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show one run and its artifacts."""
    with _errors():
        service = _service(None, None)
        run = service.get(run_id, tenant_ids=None)
        artifacts = service.list_artifacts(run_id, tenant_ids=None)
        if as_json:
            data = _run_dict(run)
            data["artifacts"] = [a.model_dump(mode="json") for a in artifacts]
            out.print_json(json.dumps(data))
            return
        _print_run(run)
        for art in artifacts:
            out.print(f"  {art.role.value:6} {art.name}  {art.size_bytes} B  sha256 {art.sha256}")


def _print_run(run: RunPublic) -> None:
    out.print(f"run {run.id}  {run.engine}.{run.kind}  tenant {run.tenant_id}")
    out.print(f"  status {run.status.value}  attempts {run.attempts}  by {run.created_by}")
    out.print(f"  progress {run.progress_fraction:.0%} {run.progress_message}")
    if run.error is not None:
        out.print(f"  error {run.error.code}: {run.error.detail}")
    if run.result is not None:
        out.print(f"  result {json.dumps(run.result, sort_keys=True)}")


def _parse_inputs(items: list[str]) -> dict[str, Path]:
    inputs: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InvalidInputError(f"--input must be name=path, got {item!r}", field="input")
        inputs[name] = Path(path)
    return inputs


def _wait(service: RunService, run: RunPublic, timeout_s: float, quiet: bool) -> RunPublic:
    if run.finished:
        return run
    deadline = time.monotonic() + timeout_s
    report: Callable[[RunPublic], None] = lambda r: None  # noqa: E731
    if not quiet:
        from rich.progress import Progress

        progress = Progress(console=err, transient=True)
        task = progress.add_task("queued", total=1.0)
        progress.start()

        def report(r: RunPublic) -> None:
            progress.update(task, completed=r.progress_fraction, description=r.progress_message)

    try:
        while not run.finished and time.monotonic() < deadline:
            time.sleep(0.2)
            run = service.get(run.id, tenant_ids=None)
            report(run)
    finally:
        if not quiet:
            progress.stop()
    return run


@runs_app.command("submit")
def runs_submit(
    kind: Annotated[str, typer.Argument(help="ENGINE.KIND, e.g. ran.recommend.")],
    params: Annotated[str, typer.Option(help="Request parameters as a JSON object.")] = "{}",
    inputs: Annotated[
        list[str] | None, typer.Option("--input", help="Input artifact, name=path (repeatable).")
    ] = None,
    tenant: Annotated[str, typer.Option(help="Tenant of the run.")] = DEFAULT_TENANT,
    created_by: Annotated[str, typer.Option(help="Recorded submitter.")] = "cli",
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the run finishes.")] = False,
    timeout_s: Annotated[float, typer.Option(help="Longest wait. [s]")] = 3600.0,
    backend: Annotated[
        str | None, typer.Option(help="Override jobs.backend: inline, local or celery.")
    ] = None,
    kinds: KindsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Submit a run.

    Backends: ``inline`` runs it here before returning; ``local`` queues it for ``opsforge
    serve`` (with ``--wait``, this process also works the queue until the run finishes);
    ``celery`` sends it to the workers.
    """
    with _errors():
        engine, dot, kind_name = kind.partition(".")
        if not dot or not engine or not kind_name:
            raise InvalidInputError(f"expected ENGINE.KIND, got {kind!r}", field="kind")
        try:
            request = json.loads(params)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"--params is not valid JSON: {exc}", field="params") from exc
        if not isinstance(request, dict):
            raise InvalidInputError("--params must be a JSON object", field="params")
        if backend not in (None, "inline", "local", "celery"):
            raise InvalidInputError(f"--backend must be inline, local or celery, got {backend!r}")
        service = _service(backend, kinds)  # type: ignore[arg-type]
        if tenant == DEFAULT_TENANT:
            with service.database.session() as session:
                if session.get(Tenant, tenant) is None:
                    session.add(Tenant(id=tenant, name="Default"))
        pool = service.dispatcher if isinstance(service.dispatcher, LocalPoolDispatcher) else None
        if wait and pool is not None:
            pool.start()  # run it here while waiting; a running `opsforge serve` may claim it too
        try:
            run = service.submit(
                engine=engine,
                kind=kind_name,
                tenant_id=tenant,
                params=request,
                created_by=created_by,
                inputs=_parse_inputs(inputs or []),
            )
            if wait:
                run = _wait(service, run, timeout_s, quiet=as_json)
        finally:
            if wait and pool is not None:
                pool.stop()
        if as_json:
            out.print_json(json.dumps(_run_dict(run)))
        else:
            _print_run(run)
        if run.status is RunStatus.FAILED:
            raise typer.Exit(8)


def register(app: typer.Typer) -> None:
    """Add ``worker``, ``db`` and ``runs`` to the root app."""
    app.command("worker")(worker)
    app.add_typer(db_app, name="db")
    app.add_typer(runs_app, name="runs")
