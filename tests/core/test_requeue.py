"""Lost queued runs: the reaper re-sends runs queued too long, once per round; a duplicate
message cannot run a run twice."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from opsforge.core.artifacts import LocalArtifactStore
from opsforge.core.config import load_settings
from opsforge.core.jobs.reaper import Reaper, redispatch_lost_queued
from opsforge.core.jobs.registry import JobRegistry
from opsforge.core.jobs.runner import Runner
from opsforge.core.jobs.schemas import RunStatus
from opsforge.core.jobs.selftest import JOB_KINDS
from opsforge.core.jobs.service import RunService
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Run, utcnow


class _LostMessages:
    """A broker that loses every message (a publish failing after the commit)."""

    max_attempts = 3

    def __init__(self) -> None:
        self.sent: list[str] = []

    def dispatch(self, run_id: str) -> None:
        self.sent.append(run_id)


def _submit(database: Database, tmp_path: Path) -> tuple[RunService, str]:
    service = RunService(
        database,
        LocalArtifactStore(tmp_path / "artifacts"),
        JobRegistry(JOB_KINDS),
        _LostMessages(),
    )
    run = service.submit(
        engine="selftest",
        kind="sleep",
        tenant_id="acme",
        params={"steps": 1, "step_s": 0.0},
        created_by="test",
    )
    return service, run.id


def test_requeue_after_default_is_a_few_minutes() -> None:
    assert load_settings().jobs.requeue_after_s == 300


def test_queued_run_is_redispatched_once_per_round(
    database: Database, tenant_id: str, tmp_path: Path
) -> None:
    _, run_id = _submit(database, tmp_path)
    now = utcnow()
    assert redispatch_lost_queued(database, requeue_after_s=60, now=now) == []  # too young
    later = now + timedelta(seconds=120)
    # several reapers (one per worker process) race: exactly one re-sends the run
    chosen: list[list[str]] = []
    barrier = threading.Barrier(4)

    def reap() -> None:
        barrier.wait(timeout=10)
        chosen.append(redispatch_lost_queued(database, requeue_after_s=60, now=later))

    threads = [threading.Thread(target=reap) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(len(c) for c in chosen) == [0, 0, 0, 1]
    assert [r for c in chosen for r in c] == [run_id]
    # the round moved updated_at: not again before another requeue_after_s
    assert redispatch_lost_queued(database, requeue_after_s=60, now=later) == []
    assert redispatch_lost_queued(
        database, requeue_after_s=60, now=later + timedelta(seconds=61)
    ) == [run_id]


def test_running_and_finished_runs_are_not_redispatched(
    database: Database, tenant_id: str, tmp_path: Path
) -> None:
    _, run_id = _submit(database, tmp_path)
    runner = Runner(
        database,
        LocalArtifactStore(tmp_path / "artifacts"),
        JobRegistry(JOB_KINDS),
        work_root=tmp_path / "work",
        heartbeat_interval_s=0.1,
    )
    assert runner.execute(run_id, "w1") is RunStatus.SUCCEEDED
    later = utcnow() + timedelta(hours=1)
    assert redispatch_lost_queued(database, requeue_after_s=60, now=later) == []


def test_reaper_resends_lost_run_and_duplicates_run_it_once(
    database: Database, tenant_id: str, tmp_path: Path
) -> None:
    _, run_id = _submit(database, tmp_path)
    resent: list[str] = []
    reaper = Reaper(database, heartbeat_timeout_s=30, on_requeued=resent.append, requeue_after_s=60)
    assert reaper.tick(now=utcnow() + timedelta(seconds=61)).redispatched == [run_id]
    assert resent == [run_id]
    # the re-sent message and the original (late, not lost after all) both arrive
    runner = Runner(
        database,
        LocalArtifactStore(tmp_path / "artifacts"),
        JobRegistry(JOB_KINDS),
        work_root=tmp_path / "work",
        heartbeat_interval_s=0.1,
    )
    outcomes: list[RunStatus | None] = []
    barrier = threading.Barrier(2)

    def deliver(worker: str) -> None:
        barrier.wait(timeout=10)
        outcomes.append(runner.execute(run_id, worker))

    threads = [threading.Thread(target=deliver, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2
    assert outcomes.count(RunStatus.SUCCEEDED) == 1
    assert outcomes.count(None) == 1
    with database.session() as session:
        attempts = session.scalar(select(Run.attempts).where(Run.id == run_id))
    assert attempts == 1
    # a reaper without requeue_after_s never re-sends queued runs
    plain = Reaper(database, heartbeat_timeout_s=30, on_requeued=resent.append)
    assert plain.tick(now=utcnow() + timedelta(hours=1)).redispatched == []
