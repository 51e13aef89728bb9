"""The run service: submit, read, list, cancel and wait for runs; read their artifacts.

This is what the API and the CLI call. It validates, persists and dispatches; the work itself
happens in :class:`opsforge.core.jobs.runner.Runner` (inline, in the local pool, or in a Celery
worker). Tenancy: every read takes ``tenant_ids`` (``None`` = all tenants, for a superuser); a run
of another tenant is reported as not found, never as forbidden.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import mimetypes
import time
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pydantic import ValidationError
from sqlalchemy import Table, and_, bindparam, or_, select, update

from opsforge.core.artifacts import ArtifactStore, build_artifact_store
from opsforge.core.errors import ConflictError, InvalidInputError, NotFoundError
from opsforge.core.jobs.dispatch import Dispatcher
from opsforge.core.jobs.registry import JobRegistry
from opsforge.core.jobs.schemas import (
    ArtifactPublic,
    ArtifactRole,
    Page,
    RunPublic,
    RunStatus,
)
from opsforge.core.logging import get_logger
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Artifact, Run, Tenant, new_id, utcnow

if TYPE_CHECKING:
    from opsforge.core.config import Settings

__all__ = ["RunService", "build_run_service", "input_key", "validation_message"]

log = get_logger(__name__)

_RUNS = Run.__table__
assert isinstance(_RUNS, Table)
#: One run by primary key (Core: no ORM session on the hot read path).
_GET_RUN = select(*_RUNS.columns).where(_RUNS.c.id == bindparam("run_id"))


def input_key(run_id: str, name: str, filename: str) -> str:
    """Storage key of an input artifact: ``runs/<run_id>/inputs/<name>/<filename>``."""
    return f"runs/{run_id}/inputs/{name}/{filename}"


def validation_message(exc: ValidationError, model: str) -> tuple[str, str]:
    """``(field, message)`` of a pydantic error, naming the first bad field."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "<root>"
    got = first.get("input")
    return field, f"{model}: field {field!r}: {first['msg']} (got {got!r})"


def _encode_cursor(created_at: datetime, run_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), run_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_iso, run_id = json.loads(raw)
        return datetime.fromisoformat(created_iso), str(run_id)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"invalid cursor {cursor[:40]!r}: pass back a next_cursor from a previous page",
            field="cursor",
        ) from exc


class RunService:
    """Submit and query runs.

    Parameters
    ----------
    database
        Where runs and artifacts are recorded.
    artifacts
        Where artifact content lives.
    registry
        Known job kinds.
    dispatcher
        Hands a queued run to a runner (inline, local pool, Celery).
    """

    def __init__(
        self,
        database: Database,
        artifacts: ArtifactStore,
        registry: JobRegistry,
        dispatcher: Dispatcher,
    ) -> None:
        self.database = database
        self.artifacts = artifacts
        self.registry = registry
        self.dispatcher = dispatcher

    # -- write side ---------------------------------------------------------------------------

    def submit(
        self,
        *,
        engine: str,
        kind: str,
        tenant_id: str,
        params: dict[str, object],
        created_by: str,
        inputs: Mapping[str, Path] | None = None,
        max_attempts: int | None = None,
    ) -> RunPublic:
        """Validate, persist and dispatch a new run.

        Parameters
        ----------
        engine, kind
            The job kind (``ran``, ``recommend``).
        tenant_id
            Owner of the run; the tenant must exist.
        params
            Request, validated with the kind's request model and stored in its JSON form.
        created_by
            Who submitted (username or key id).
        inputs
            Input name -> local file; every name the kind declares must be given.
        max_attempts
            Claims allowed before a lost run fails with ``worker_lost`` (default: the
            dispatcher's setting).

        Raises
        ------
        NotFoundError
            Unknown kind or tenant.
        InvalidInputError
            Params fail the request model (the message names the field), or inputs are missing,
            unknown or unreadable.
        """
        job = self.registry.get(engine, kind)
        try:
            request = job.request_model.model_validate(params)
        except ValidationError as exc:
            field, message = validation_message(exc, f"{job.name} params")
            raise InvalidInputError(message, field=field) from exc
        given = dict(inputs or {})
        missing = sorted(set(job.input_names) - set(given))
        unknown = sorted(set(given) - set(job.input_names))
        if missing or unknown:
            raise InvalidInputError(
                f"{job.name} expects inputs {sorted(job.input_names)}; "
                f"missing {missing}, unknown {unknown}",
                field="inputs",
            )
        for name, path in given.items():
            if not path.is_file():
                raise InvalidInputError(
                    f"input {name!r}: {path} is not a readable file", field=f"inputs.{name}"
                )
        with self.database.session() as session:
            if session.get(Tenant, tenant_id) is None:
                raise NotFoundError(f"tenant {tenant_id!r} does not exist", tenant=tenant_id)
        run_id = new_id()
        stored = {
            name: self.artifacts.put_file(input_key(run_id, name, path.name), path)
            for name, path in given.items()
        }
        now = utcnow()
        with self.database.session() as session:
            row = Run(
                id=run_id,
                engine=engine,
                kind=kind,
                tenant_id=tenant_id,
                status=RunStatus.QUEUED.value,
                params=request.model_dump(mode="json"),
                metrics={},
                created_by=created_by,
                created_at=now,
                updated_at=now,
                attempts=0,
                max_attempts=max_attempts or self.dispatcher.max_attempts,
            )
            session.add(row)
            session.flush()
            for name, obj in stored.items():
                media_type = mimetypes.guess_type(given[name].name)[0]
                session.add(
                    Artifact(
                        run_id=run_id,
                        tenant_id=tenant_id,
                        role=ArtifactRole.INPUT.value,
                        name=name,
                        storage_key=obj.key,
                        size_bytes=obj.size_bytes,
                        sha256=obj.sha256,
                        media_type=media_type or "application/octet-stream",
                        created_at=now,
                    )
                )
        log.info("run_submitted", run_id=run_id, kind=job.name, tenant=tenant_id)
        self.dispatcher.dispatch(run_id)
        return self.get(run_id, tenant_ids=None)

    def cancel(self, run_id: str, *, tenant_ids: Collection[str] | None, actor: str) -> RunPublic:
        """Cancel a run: a queued run is cancelled at once; a running one is asked to stop.

        A running job sees the request on its next ``ctx.progress()`` and ends ``cancelled``.

        Raises
        ------
        NotFoundError
            No such run visible to ``tenant_ids``.
        ConflictError
            The run already finished.
        """
        self.get(run_id, tenant_ids=tenant_ids)
        now = utcnow()
        for _ in range(3):  # the status may move under us (claimed, reaped); re-read and retry
            with self.database.session() as session:
                queued = session.execute(
                    update(Run)
                    .where(Run.id == run_id, Run.status == RunStatus.QUEUED.value)
                    .values(
                        status=RunStatus.CANCELLED.value,
                        cancel_requested=True,
                        finished_at=now,
                        updated_at=now,
                        error_code="job_cancelled",
                        error_detail=f"cancelled by {actor} before it started",
                    )
                )
                if _rowcount(queued) == 1:
                    break
                running = session.execute(
                    update(Run)
                    .where(Run.id == run_id, Run.status == RunStatus.RUNNING.value)
                    .values(cancel_requested=True, updated_at=now)
                )
                if _rowcount(running) == 1:
                    break
            current = self.get(run_id, tenant_ids=tenant_ids)
            if current.finished:
                raise ConflictError(
                    f"run {run_id} already finished with status {current.status.value}; "
                    "only a queued or running run can be cancelled",
                    run_id=run_id,
                    status=current.status.value,
                )
        log.info("run_cancel_requested", run_id=run_id, actor=actor)
        return self.get(run_id, tenant_ids=tenant_ids)

    # -- read side ----------------------------------------------------------------------------

    def _visible(self, run_id: str, tenant_ids: Collection[str] | None) -> Run:
        with self.database.session() as session:
            row = session.get(Run, run_id)
            if row is None or (tenant_ids is not None and row.tenant_id not in tenant_ids):
                raise NotFoundError(f"run {run_id} does not exist", run_id=run_id)
            session.expunge(row)
            return row

    def get(self, run_id: str, *, tenant_ids: Collection[str] | None) -> RunPublic:
        """One run.

        The hot polling path: a SQLAlchemy Core primary-key select on a pooled connection (its
        compiled form is cached), no ORM session or identity map, about half the CPU.

        Raises
        ------
        NotFoundError
            No such run, or it belongs to a tenant outside ``tenant_ids``.
        """
        with self.database.engine.connect() as conn:
            row = conn.execute(_GET_RUN, {"run_id": run_id}).first()
        if row is None or (tenant_ids is not None and row.tenant_id not in tenant_ids):
            raise NotFoundError(f"run {run_id} does not exist", run_id=run_id)
        return RunPublic.from_row(row)

    def list(
        self,
        *,
        tenant_ids: Collection[str] | None,
        engine: str | None = None,
        kind: str | None = None,
        status: RunStatus | str | None = None,
        created_by: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[RunPublic]:
        """Runs newest first, filtered, one page at a time (keyset on ``(created_at, id)``).

        Raises
        ------
        InvalidInputError
            ``limit`` below 1, an unknown ``status``, or a cursor this service did not issue.
        """
        if limit < 1:
            raise InvalidInputError(f"limit must be >= 1, got {limit}", field="limit")
        query = select(Run)
        if tenant_ids is not None:
            query = query.where(Run.tenant_id.in_(list(tenant_ids)))
        if engine is not None:
            query = query.where(Run.engine == engine)
        if kind is not None:
            query = query.where(Run.kind == kind)
        if status is not None:
            try:
                query = query.where(Run.status == RunStatus(status).value)
            except ValueError as exc:
                raise InvalidInputError(
                    f"status must be one of {[s.value for s in RunStatus]}, got {status!r}",
                    field="status",
                ) from exc
        if created_by is not None:
            query = query.where(Run.created_by == created_by)
        if cursor is not None:
            after_at, after_id = _decode_cursor(cursor)
            query = query.where(
                or_(
                    Run.created_at < after_at,
                    and_(Run.created_at == after_at, Run.id < after_id),
                )
            )
        query = query.order_by(Run.created_at.desc(), Run.id.desc()).limit(limit + 1)
        with self.database.session() as session:
            rows = builtins.list(session.scalars(query))
            items = [RunPublic.from_row(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = _encode_cursor(last.created_at, last.id)
        return Page[RunPublic](items=items, next_cursor=next_cursor)

    def list_artifacts(
        self, run_id: str, *, tenant_ids: Collection[str] | None
    ) -> builtins.list[ArtifactPublic]:
        """Input and output artifacts of a run, inputs first, then by name."""
        self._visible(run_id, tenant_ids)
        with self.database.session() as session:
            rows = session.scalars(
                select(Artifact)
                .where(Artifact.run_id == run_id)
                .order_by(Artifact.role, Artifact.name)
            )
            return [ArtifactPublic.from_row(r) for r in rows]

    def open_artifact(
        self, run_id: str, artifact_id: str, *, tenant_ids: Collection[str] | None
    ) -> tuple[ArtifactPublic, BinaryIO]:
        """An artifact's description and an open binary stream of its content (caller closes).

        Raises
        ------
        NotFoundError
            No such run or artifact visible to ``tenant_ids``.
        """
        self._visible(run_id, tenant_ids)
        with self.database.session() as session:
            row = session.get(Artifact, artifact_id)
            if row is None or row.run_id != run_id:
                raise NotFoundError(
                    f"run {run_id} has no artifact {artifact_id}",
                    run_id=run_id,
                    artifact_id=artifact_id,
                )
            public, key = ArtifactPublic.from_row(row), row.storage_key
        return public, self.artifacts.open(key)

    def wait(self, run_id: str, timeout_s: float, *, poll_s: float = 0.1) -> RunPublic:
        """Poll until the run finishes or ``timeout_s`` [s] passes; returns the last state seen.

        The caller checks ``.finished``: after a timeout the run may still be queued or running.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            run = self.get(run_id, tenant_ids=None)
            if run.finished or time.monotonic() >= deadline:
                return run
            time.sleep(min(poll_s, max(deadline - time.monotonic(), 0.0)))


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0))


def build_run_service(
    settings: Settings,
    database: Database | None = None,
    *,
    registry: JobRegistry | None = None,
) -> RunService:
    """A run service wired from settings.

    ``settings.jobs.backend`` picks the dispatcher (``inline``: run in the caller; ``local``: a
    thread pool polling the database, started by the caller with ``dispatcher.start()``;
    ``celery``: send the run id to ``settings.broker_url``); ``settings.artifacts.backend``
    picks the artifact store. ``registry`` defaults to the discovered engines.
    """
    from opsforge.core.jobs.dispatch import build_dispatcher

    database = database or Database(settings.resolved_database_url)
    artifacts = build_artifact_store(settings)
    registry = registry if registry is not None else JobRegistry.default()
    dispatcher = build_dispatcher(settings, database, artifacts, registry)
    return RunService(database, artifacts, registry, dispatcher)
