"""The runner: claim a queued run, run its job with heartbeats, finish it exactly once.

Protocol (the same for the inline runner, the local pool and Celery workers):

1. **Claim** by an atomic status change: ``UPDATE runs SET status='running', worker_id=:w,
   attempts=attempts+1 WHERE id=:id AND status='queued'``; a rowcount of 0 means someone else
   has it (or it was cancelled) and the worker walks away.
2. **Heartbeat**: a thread refreshes ``heartbeat_at`` (and flushes progress) every
   ``heartbeat_interval_s``, guarded by ``worker_id`` + ``attempts``. If the guard fails the run
   was taken away (the reaper re-queued it): the job is stopped at its next ``ctx.progress()``
   and this attempt writes nothing more.
3. **Staging**: the job writes under a per-attempt local folder; outputs are uploaded under a
   per-attempt key (``runs/<id>/attempts/<n>/outputs/...``).
4. **Promotion**: one transaction does the guarded completion ``UPDATE ... WHERE id AND
   worker_id AND attempts AND status='running'`` and inserts the output artifact rows. Only one
   attempt can pass that guard, so a run finishes once and has one set of outputs; the staging
   objects of dead attempts are then deleted.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from opsforge.core.artifacts import ArtifactStore, StoredObject
from opsforge.core.errors import JobCancelledError, JobError, OpsforgeError
from opsforge.core.jobs.context import LocalRunContext
from opsforge.core.jobs.registry import JobRegistry
from opsforge.core.jobs.schemas import ArtifactRole, RunStatus
from opsforge.core.lineage import MANIFEST_NAME, build_manifest
from opsforge.core.logging import bind_context, get_logger
from opsforge.core.metrics import record_stage_timings
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Artifact, Run, utcnow

__all__ = ["Runner", "default_worker_id", "staging_prefix"]

log = get_logger(__name__)


def default_worker_id(label: str = "worker") -> str:
    """``<label>@<host>:<pid>:<thread>``: unique per executing thread, pid parseable."""
    return f"{label}@{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def staging_prefix(run_id: str, attempt: int) -> str:
    """Artifact-store prefix of one attempt's outputs."""
    return f"runs/{run_id}/attempts/{attempt}"


class _Lost(Exception):
    """This attempt no longer owns the run."""


class _Attempt:
    """Shared state of one attempt between the job thread and its heartbeat thread."""

    def __init__(self, database: Database, run_id: str, worker_id: str, attempt: int) -> None:
        self.database = database
        self.run_id = run_id
        self.worker_id = worker_id
        self.attempt = attempt
        self.lost = False
        self.cancel_requested = False
        self.progress: tuple[float, str] | None = None
        # the claim has just written heartbeat_at: the first flush is due one period later
        self.last_flush = time.monotonic()
        self._lock = threading.Lock()

    def owned(self) -> ColumnElement[bool]:
        return and_(
            Run.id == self.run_id,
            Run.worker_id == self.worker_id,
            Run.attempts == self.attempt,
            Run.status == RunStatus.RUNNING.value,
        )

    def beat(self) -> None:
        """Refresh the heartbeat, flush progress, read the cancel flag (thread-safe)."""
        with self._lock:
            if self.lost:
                return
            now = utcnow()
            values: dict[str, Any] = {"heartbeat_at": now, "updated_at": now}
            if self.progress is not None:
                values["progress_fraction"], values["progress_message"] = self.progress
            with self.database.session() as session:
                done = session.execute(update(Run).where(self.owned()).values(**values))
                if int(getattr(done, "rowcount", 0)) != 1:
                    self.lost = True
                    log.warning("run_ownership_lost", run_id=self.run_id, attempt=self.attempt)
                    return
                flag = session.scalar(select(Run.cancel_requested).where(Run.id == self.run_id))
                self.cancel_requested = bool(flag)
            self.last_flush = time.monotonic()

    def on_progress(self, fraction: float, message: str, flush_every_s: float) -> None:
        self.progress = (fraction, message[:2000])
        if time.monotonic() - self.last_flush >= flush_every_s:
            self.beat()

    def should_stop(self) -> bool:
        return self.lost or self.cancel_requested


class _Heartbeat(threading.Thread):
    def __init__(self, state: _Attempt, interval_s: float) -> None:
        super().__init__(name=f"heartbeat-{state.run_id[:8]}", daemon=True)
        self.state = state
        self.interval_s = interval_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval_s):
            try:
                self.state.beat()
            except Exception as exc:  # a missed beat is retried; the reaper has the margin
                log.warning("heartbeat_failed", run_id=self.state.run_id, error=repr(exc))
            if self.state.lost:
                return


class Runner:
    """Runs claimed runs.

    Parameters
    ----------
    database, artifacts, registry
        Shared with the run service.
    work_root
        Local scratch folder; each attempt works in ``<work_root>/<run_id>/attempt-<n>``.
    heartbeat_interval_s
        Seconds between heartbeats. [s]
    progress_flush_s
        Minimum seconds between progress writes from ``ctx.progress()``. [s]
    settings_snapshot
        Non-secret settings recorded in each lineage manifest.
    """

    def __init__(
        self,
        database: Database,
        artifacts: ArtifactStore,
        registry: JobRegistry,
        *,
        work_root: Path,
        heartbeat_interval_s: float = 5.0,
        progress_flush_s: float = 0.5,
        settings_snapshot: Mapping[str, Any] | None = None,
    ) -> None:
        self.database = database
        self.artifacts = artifacts
        self.registry = registry
        self.work_root = work_root
        self.heartbeat_interval_s = heartbeat_interval_s
        self.progress_flush_s = progress_flush_s
        self.settings_snapshot = dict(settings_snapshot or {})

    def claim(self, run_id: str, worker_id: str) -> int | None:
        """Atomically move a queued run to running; the attempt number, or None if not ours."""
        now = utcnow()
        with self.database.session() as session:
            done = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == RunStatus.QUEUED.value)
                .values(
                    status=RunStatus.RUNNING.value,
                    worker_id=worker_id,
                    attempts=Run.attempts + 1,
                    started_at=now,
                    heartbeat_at=now,
                    updated_at=now,
                )
            )
            if int(getattr(done, "rowcount", 0)) != 1:
                return None
            attempt = session.scalar(select(Run.attempts).where(Run.id == run_id))
        log.info("run_claimed", run_id=run_id, worker_id=worker_id, attempt=attempt)
        return int(attempt or 0)

    def execute(self, run_id: str, worker_id: str | None = None) -> RunStatus | None:
        """Claim and run; the final status, or None when not claimed or taken away meanwhile."""
        worker_id = worker_id or default_worker_id()
        attempt = self.claim(run_id, worker_id)
        if attempt is None:
            log.info("run_not_claimed", run_id=run_id, worker_id=worker_id)
            return None
        return self.run_claimed(run_id, worker_id, attempt)

    def run_claimed(self, run_id: str, worker_id: str, attempt: int) -> RunStatus | None:
        """Run an attempt this worker claimed, heartbeating, and finish it (once)."""
        state = _Attempt(self.database, run_id, worker_id, attempt)
        heartbeat = _Heartbeat(state, self.heartbeat_interval_s)
        run_dir = self.work_root / run_id
        attempt_dir = run_dir / f"attempt-{attempt}"
        for stale in run_dir.glob("attempt-*") if run_dir.exists() else []:
            if stale != attempt_dir:
                shutil.rmtree(stale, ignore_errors=True)
        heartbeat.start()
        try:
            with bind_context(run_id=run_id, attempt=attempt):
                return self._run(state, attempt_dir)
        finally:
            heartbeat.stopped.set()
            heartbeat.join(timeout=max(self.heartbeat_interval_s * 2, 1.0))
            shutil.rmtree(attempt_dir, ignore_errors=True)

    def _run(self, state: _Attempt, attempt_dir: Path) -> RunStatus | None:
        with self.database.session() as session:
            row = session.get(Run, state.run_id)
            assert row is not None
            engine, kind, params = row.engine, row.kind, dict(row.params or {})
            tenant_id = row.tenant_id
            inputs = {
                a.name: a.storage_key
                for a in session.scalars(
                    select(Artifact).where(
                        Artifact.run_id == state.run_id, Artifact.role == ArtifactRole.INPUT.value
                    )
                )
            }
        started = utcnow()
        timings: dict[str, float] = {}  # the context's stage timings, once it exists
        fail = partial(self._fail, state, engine=engine, stage_timings_s=timings)
        try:
            job = self.registry.get(engine, kind)
            local_inputs: dict[str, Path] = {}
            for name, key in inputs.items():
                dest = attempt_dir / "inputs" / name / key.rsplit("/", 1)[-1]
                self.artifacts.download(key, dest)
                local_inputs[name] = dest
            ctx = LocalRunContext(
                state.run_id,
                attempt_dir / "outputs",
                inputs=local_inputs,
                on_progress=lambda f, m: state.on_progress(f, m, self.progress_flush_s),
                is_cancelled=state.should_stop,
            )
            ctx.stage_timings_s = timings
            request = job.request_model.model_validate(params)
            result = job.run(request, ctx)
            if not isinstance(result, job.result_model):
                raise JobError(
                    f"{job.name} returned {type(result).__name__}, "
                    f"expected {job.result_model.__name__}"
                )
            result_json = result.model_dump(mode="json")
            state.beat()
            if state.should_stop():
                raise JobCancelledError(f"run {state.run_id} was cancelled")
        except JobCancelledError as exc:
            if state.lost:
                log.warning("run_attempt_abandoned", run_id=state.run_id, attempt=state.attempt)
                return None
            return fail(RunStatus.CANCELLED, exc.code, exc.message)
        except OpsforgeError as exc:
            log.warning("run_failed", run_id=state.run_id, code=exc.code, error=exc.message)
            return fail(RunStatus.FAILED, exc.code, exc.message)
        except Exception as exc:
            log.exception("run_crashed", run_id=state.run_id)
            return fail(RunStatus.FAILED, JobError.code, f"{type(exc).__name__}: {exc}")
        finished = utcnow()
        outputs_dir = ctx.workdir
        outputs = {
            p.relative_to(outputs_dir).as_posix(): p
            for p in sorted(outputs_dir.rglob("*"))
            if p.is_file() and p.relative_to(outputs_dir).as_posix() != MANIFEST_NAME
        }
        manifest = build_manifest(
            run_id=state.run_id,
            engine=engine,
            kind=kind,
            attempt=state.attempt,
            inputs=local_inputs,
            params=params,
            settings=self.settings_snapshot,
            stage_timings_s=ctx.stage_timings_s,
            started_at=started,
            finished_at=finished,
            outputs=outputs,
        )
        manifest_path = outputs_dir / MANIFEST_NAME
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        outputs[MANIFEST_NAME] = manifest_path
        return self._succeed(
            state, tenant_id, result_json, manifest, outputs, started=started, finished=finished
        )

    def _succeed(
        self,
        state: _Attempt,
        tenant_id: str,
        result_json: dict[str, Any],
        manifest: dict[str, Any],
        outputs: Mapping[str, Path],
        *,
        started: datetime,
        finished: datetime,
    ) -> RunStatus | None:
        prefix = staging_prefix(state.run_id, state.attempt)
        stored: dict[str, StoredObject] = {
            name: self.artifacts.put_file(f"{prefix}/outputs/{name}", path)
            for name, path in outputs.items()
        }
        metrics: dict[str, Any] = {
            "runtime_s": round((finished - started).total_seconds(), 6),
            "num_outputs": len(stored),
            "output_bytes": sum(o.size_bytes for o in stored.values()),
        }
        extra = result_json.get("metrics")
        if isinstance(extra, dict):
            metrics.update({str(k): v for k, v in extra.items() if isinstance(v, int | float)})
        try:
            with self.database.session() as session:
                self._promote(session, state, tenant_id, result_json, manifest, metrics, stored)
        except _Lost:
            log.warning("run_completion_rejected", run_id=state.run_id, attempt=state.attempt)
            self.artifacts.delete_prefix(prefix)
            return None
        for earlier in range(1, state.attempt):
            self.artifacts.delete_prefix(staging_prefix(state.run_id, earlier))
        log.info("run_succeeded", run_id=state.run_id, attempt=state.attempt, **metrics)
        return RunStatus.SUCCEEDED

    def _promote(
        self,
        session: Session,
        state: _Attempt,
        tenant_id: str,
        result_json: dict[str, Any],
        manifest: dict[str, Any],
        metrics: dict[str, Any],
        stored: Mapping[str, StoredObject],
    ) -> None:
        now = utcnow()
        with state._lock:  # no heartbeat in between; it would see the run finished and stop
            done = session.execute(
                update(Run)
                .where(state.owned())
                .values(
                    status=RunStatus.SUCCEEDED.value,
                    result=result_json,
                    metrics=metrics,
                    lineage=manifest,
                    progress_fraction=1.0,
                    progress_message="done",
                    finished_at=now,
                    updated_at=now,
                    heartbeat_at=now,
                )
            )
            if int(getattr(done, "rowcount", 0)) != 1:
                raise _Lost
            record_stage_timings(
                session, manifest["engine"], RunStatus.SUCCEEDED.value, manifest["stage_timings_s"]
            )
            for name, obj in stored.items():
                session.add(
                    Artifact(
                        run_id=state.run_id,
                        tenant_id=tenant_id,
                        role=ArtifactRole.OUTPUT.value,
                        name=name,
                        storage_key=obj.key,
                        size_bytes=obj.size_bytes,
                        sha256=obj.sha256,
                        media_type=_media_type(name),
                        created_at=now,
                    )
                )
            state.lost = True  # the heartbeat must not touch the finished run

    def _fail(
        self,
        state: _Attempt,
        status: RunStatus,
        code: str,
        detail: str,
        *,
        engine: str,
        stage_timings_s: Mapping[str, float],
    ) -> RunStatus | None:
        now = utcnow()
        with state._lock, self.database.session() as session:
            done = session.execute(
                update(Run)
                .where(state.owned())
                .values(
                    status=status.value,
                    error_code=code,
                    error_detail=detail[:10000],
                    finished_at=now,
                    updated_at=now,
                )
            )
            ok = int(getattr(done, "rowcount", 0)) == 1
            if ok:  # counted once, with the completion that only one attempt can pass
                record_stage_timings(session, engine, status.value, stage_timings_s)
            state.lost = True
        if not ok:
            log.warning("run_completion_rejected", run_id=state.run_id, attempt=state.attempt)
            return None
        log.info("run_finished", run_id=state.run_id, status=status.value, code=code)
        return status


def _media_type(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"
