"""Runner, reaper and local pool: claim once, heartbeat, re-queue lost runs, finish once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from opsforge.core.artifacts import LocalArtifactStore
from opsforge.core.jobs.dispatch import LocalPoolDispatcher
from opsforge.core.jobs.reaper import WORKER_LOST, reap_stale_runs
from opsforge.core.jobs.registry import JobRegistry
from opsforge.core.jobs.runner import Runner, staging_prefix
from opsforge.core.jobs.schemas import RunStatus
from opsforge.core.jobs.selftest import JOB_KINDS
from opsforge.core.jobs.service import RunService
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Artifact, Run, utcnow


class _Hold:
    max_attempts = 3

    def dispatch(self, run_id: str) -> None:
        _ = run_id


def _runner(
    database: Database, store: LocalArtifactStore, tmp_path: Path, interval_s: float = 0.1
) -> Runner:
    return Runner(
        database,
        store,
        JobRegistry(JOB_KINDS),
        work_root=tmp_path / "work",
        heartbeat_interval_s=interval_s,
        progress_flush_s=min(interval_s, 0.5),
    )


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def service(database: Database, store: LocalArtifactStore) -> RunService:
    return RunService(database, store, JobRegistry(JOB_KINDS), _Hold())


def _wait_status(service: RunService, run_id: str, status: RunStatus, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while service.get(run_id, tenant_ids=None).status is not status:
        assert time.monotonic() < deadline, service.get(run_id, tenant_ids=None)
        time.sleep(0.02)


def _age_heartbeat(database: Database, run_id: str, by_s: float = 3600) -> None:
    with database.session() as session:
        session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(heartbeat_at=utcnow() - timedelta(seconds=by_s))
        )


def test_claim_is_atomic(
    service: RunService,
    database: Database,
    store: LocalArtifactStore,
    tmp_path: Path,
    tenant_id: str,
) -> None:
    run = service.submit(
        engine="selftest", kind="sleep", tenant_id=tenant_id, params={}, created_by="a"
    )
    runner = _runner(database, store, tmp_path)
    assert runner.claim(run.id, "w1") == 1
    assert runner.claim(run.id, "w2") is None
    assert runner.execute(run.id, "w3") is None
    got = service.get(run.id, tenant_ids=None)
    assert (got.status, got.attempts) == (RunStatus.RUNNING, 1)


def test_heartbeat_advances_while_running(
    service: RunService,
    database: Database,
    store: LocalArtifactStore,
    tmp_path: Path,
    tenant_id: str,
) -> None:
    run = service.submit(
        engine="selftest",
        kind="sleep",
        tenant_id=tenant_id,
        params={"steps": 1, "step_s": 0.6},
        created_by="a",
    )
    runner = _runner(database, store, tmp_path, interval_s=0.1)
    thread = threading.Thread(target=runner.execute, args=(run.id, "w1"))
    thread.start()
    _wait_status(service, run.id, RunStatus.RUNNING, 5)
    beats = set()
    while thread.is_alive():
        with database.session() as session:
            beats.add(session.scalar(select(Run.heartbeat_at).where(Run.id == run.id)))
        time.sleep(0.05)
    thread.join()
    assert len(beats) >= 3
    assert service.get(run.id, tenant_ids=None).status is RunStatus.SUCCEEDED


def test_lost_attempt_never_completes_and_leaves_no_outputs(
    service: RunService,
    database: Database,
    store: LocalArtifactStore,
    tmp_path: Path,
    tenant_id: str,
) -> None:
    run = service.submit(
        engine="selftest",
        kind="sleep",
        tenant_id=tenant_id,
        params={"steps": 40, "step_s": 0.05},  # 2 s: still running when reaped, even under load
        created_by="a",
    )
    # Attempt 1 never heartbeats within the test (60 s interval): it looks dead.
    # Nor does it flush progress (which beats too): else a flush could refresh the aged heartbeat.
    slow = _runner(database, store, tmp_path / "w1", interval_s=60)
    slow.progress_flush_s = 60
    outcome: list[RunStatus | None] = []
    first = threading.Thread(target=lambda: outcome.append(slow.execute(run.id, "w1")))
    first.start()
    _wait_status(service, run.id, RunStatus.RUNNING, 5)
    _age_heartbeat(database, run.id)
    reaped = reap_stale_runs(database, heartbeat_timeout_s=10)
    assert reaped.requeued == [run.id]
    second = _runner(database, store, tmp_path / "w2").execute(run.id, "w2")
    first.join(timeout=10)
    assert second is RunStatus.SUCCEEDED
    assert outcome == [None]  # the first attempt was rejected at completion
    final = service.get(run.id, tenant_ids=None)
    assert (final.status, final.attempts) == (RunStatus.SUCCEEDED, 2)
    assert final.lineage is not None
    assert final.lineage["attempt"] == 2
    with database.session() as session:
        rows = session.scalars(select(Artifact).where(Artifact.run_id == run.id)).all()
        assert sorted(a.name for a in rows) == ["manifest.json", "steps.txt"]
        assert all(a.storage_key.startswith(staging_prefix(run.id, 2)) for a in rows)
    assert store.list(staging_prefix(run.id, 1)) == []
    steps = next(
        a for a in service.list_artifacts(run.id, tenant_ids=None) if a.name == "steps.txt"
    )
    _, stream = service.open_artifact(run.id, steps.id, tenant_ids=None)
    with stream:
        assert stream.read().decode().count("\n") == 40  # every step, of attempt 2 only


def test_reaper_fails_after_max_attempts_and_cancels_cancel_requested(
    service: RunService,
    database: Database,
    store: LocalArtifactStore,
    tmp_path: Path,
    tenant_id: str,
) -> None:
    runner = _runner(database, store, tmp_path)
    lost = service.submit(
        engine="selftest",
        kind="sleep",
        tenant_id=tenant_id,
        params={},
        created_by="a",
        max_attempts=1,
    )
    wants_cancel = service.submit(
        engine="selftest", kind="sleep", tenant_id=tenant_id, params={}, created_by="a"
    )
    fresh = service.submit(
        engine="selftest", kind="sleep", tenant_id=tenant_id, params={}, created_by="a"
    )
    for run in (lost, wants_cancel, fresh):
        assert runner.claim(run.id, "dead@host:1:1") == 1
    service.cancel(wants_cancel.id, tenant_ids=None, actor="alice")
    _age_heartbeat(database, lost.id)
    _age_heartbeat(database, wants_cancel.id)
    result = reap_stale_runs(database, heartbeat_timeout_s=30)
    assert (result.requeued, result.failed, result.cancelled) == ([], [lost.id], [wants_cancel.id])
    failed = service.get(lost.id, tenant_ids=None)
    assert failed.status is RunStatus.FAILED
    assert failed.error is not None
    assert failed.error.code == WORKER_LOST
    assert service.get(wants_cancel.id, tenant_ids=None).status is RunStatus.CANCELLED
    assert service.get(fresh.id, tenant_ids=None).status is RunStatus.RUNNING
    assert reap_stale_runs(database, heartbeat_timeout_s=30).failed == []


def test_local_pool_runs_requeues_and_cancels(
    database: Database, store: LocalArtifactStore, tmp_path: Path, tenant_id: str
) -> None:
    runner = _runner(database, store, tmp_path)
    pool = LocalPoolDispatcher(
        runner, num_workers=2, poll_interval_s=0.1, heartbeat_timeout_s=1.0, max_attempts=3
    )
    service = RunService(database, store, runner.registry, pool)
    # A run whose worker died before the pool started: the pool's reaper re-queues it.
    orphan = service.submit(
        engine="selftest",
        kind="sleep",
        tenant_id=tenant_id,
        params={"label": "orphan"},
        created_by="a",
    )
    assert runner.claim(orphan.id, "dead@elsewhere:1:1") == 1
    _age_heartbeat(database, orphan.id)
    pool.start()
    try:
        quick = [
            service.submit(
                engine="selftest",
                kind="sleep",
                tenant_id=tenant_id,
                params={"steps": 2},
                created_by="a",
            )
            for _ in range(3)
        ]
        long = service.submit(
            engine="selftest",
            kind="sleep",
            tenant_id=tenant_id,
            params={"steps": 500, "step_s": 0.02},
            created_by="a",
        )
        _wait_status(service, long.id, RunStatus.RUNNING, 10)
        service.cancel(long.id, tenant_ids=[tenant_id], actor="alice")
        cancelled = service.wait(long.id, timeout_s=10)
        for run in quick:
            assert service.wait(run.id, timeout_s=10).status is RunStatus.SUCCEEDED
        recovered = service.wait(orphan.id, timeout_s=10)
    finally:
        pool.stop(timeout_s=10)
    assert not pool.running
    assert cancelled.status is RunStatus.CANCELLED
    assert cancelled.error is not None
    assert cancelled.error.code == "job_cancelled"
    assert cancelled.progress_fraction < 0.5
    assert (recovered.status, recovered.attempts) == (RunStatus.SUCCEEDED, 2)
