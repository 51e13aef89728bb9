"""Celery backend against real brokers and real worker processes.

The kill test starts two ``opsforge worker`` processes on Redis, submits a run that sleeps in
steps, SIGKILLs the worker that claimed it, and checks that the run completes once on the other
worker (attempts == 2) with one set of outputs. A lighter test runs one worker on RabbitMQ.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import select

from opsforge.core.artifacts import LocalArtifactStore
from opsforge.core.config import Settings, load_settings
from opsforge.core.errors import ConfigError
from opsforge.core.jobs.celery_app import CeleryDispatcher, create_celery_app
from opsforge.core.jobs.registry import JobRegistry
from opsforge.core.jobs.runner import staging_prefix
from opsforge.core.jobs.schemas import RunStatus
from opsforge.core.jobs.selftest import JOB_KINDS
from opsforge.core.jobs.service import RunService
from opsforge.core.metrics import stage_durations
from opsforge.core.storage.db import Database
from opsforge.core.storage.migrate import upgrade
from opsforge.core.storage.models import Artifact, Run, Tenant

REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _answers(6379), reason="Redis does not answer on :6379")
needs_rabbitmq = pytest.mark.skipif(not _answers(5672), reason="RabbitMQ does not answer on :5672")


def test_celery_app_is_configured_for_reliable_delivery(settings: Settings) -> None:
    app = create_celery_app(settings.model_copy(update={"broker_url": REDIS_URL}), queue="q1")
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.task_default_queue == "q1"
    with pytest.raises(ConfigError, match="broker_url"):
        create_celery_app(settings)


class _Cluster:
    """Worker processes sharing a database and artifact folder, and a client service."""

    def __init__(self, tmp_path: Path, broker_url: str, database_url: str | None = None) -> None:
        self.tmp_path = tmp_path
        self.queue = f"opsforge-test-{uuid.uuid4().hex[:10]}"
        data_dir = tmp_path / "data"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OPSFORGE_")} | {
            "OPSFORGE_DATA_DIR": str(data_dir),
            "OPSFORGE_DATABASE_URL": database_url or f"sqlite:///{data_dir / 'opsforge.db'}",
            "OPSFORGE_BROKER_URL": broker_url,
            "OPSFORGE_JOBS__BACKEND": "celery",
            "OPSFORGE_JOBS__HEARTBEAT_INTERVAL_S": "0.25",
            "OPSFORGE_JOBS__HEARTBEAT_TIMEOUT_S": "2",
            "OPSFORGE_LOG_JSON": "true",
        }
        self.settings = load_settings(
            data_dir=str(data_dir),
            database_url=self.env["OPSFORGE_DATABASE_URL"],
            broker_url=broker_url,
            jobs={"backend": "celery"},
        )
        self.database = Database(self.settings.resolved_database_url)
        upgrade(self.database)
        with self.database.session() as session:
            session.add(Tenant(id="acme", name="Acme"))
        self.store = LocalArtifactStore(self.settings.artifact_dir)
        self.app = create_celery_app(self.settings, queue=self.queue)
        self.service = RunService(
            self.database,
            self.store,
            JobRegistry(JOB_KINDS),
            CeleryDispatcher(self.app, queue=self.queue),
        )
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def log_path(self, name: str) -> Path:
        return self.tmp_path / f"{name}.log"

    def start(self, name: str, pool: str = "solo") -> None:
        log = self.log_path(name).open("wb")
        self._logs.append(log)
        self.workers[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "opsforge",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                f"--queues={self.queue}",
                "--kinds=opsforge.core.jobs.selftest",
                "--loglevel=WARNING",
                f"--hostname={name}@%h",
            ],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        for name, proc in self.workers.items():
            while "worker_reaper_started" not in self.log_path(name).read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"worker {name} did not start:\n{self.log_path(name).read_text()}")
                time.sleep(0.1)

    def close(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT)  # cold shutdown: the test is over
        for proc in self.workers.values():
            try:
                proc.wait(timeout=3)  # an AMQP worker may take ~10 s to say goodbye
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        try:
            with self.app.connection_for_write() as conn:
                channel = conn.default_channel
                channel.queue_purge(self.queue)
                channel.queue_delete(self.queue)
        except Exception as exc:  # the broker may be gone already; leftovers are harmless
            print(f"queue cleanup failed: {exc!r}")
        self.database.dispose()
        for log in self._logs:
            log.close()


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[_Cluster]:
    cluster = _Cluster(tmp_path, REDIS_URL)
    yield cluster
    cluster.close()


@pytest.fixture
def rabbit_cluster(tmp_path: Path) -> Iterator[_Cluster]:
    cluster = _Cluster(tmp_path, AMQP_URL)
    yield cluster
    cluster.close()


def _kill_and_recover(cluster: _Cluster, pool: str = "solo") -> None:
    """Two workers; SIGKILL the process running the run; it must finish once elsewhere."""
    cluster.start("w1", pool)
    cluster.start("w2", pool)
    cluster.wait_ready()
    service = cluster.service
    steps = 20
    run = service.submit(
        engine="selftest",
        kind="sleep",
        tenant_id="acme",
        params={"steps": steps, "step_s": 0.1},
        created_by="test",
    )
    deadline = time.monotonic() + 30
    while True:
        current = service.get(run.id, tenant_ids=None)
        if current.status is RunStatus.RUNNING and current.progress_fraction >= 0.2:
            break
        assert time.monotonic() < deadline, current
        time.sleep(0.05)
    with cluster.database.session() as session:
        worker_id = session.scalar(select(Run.worker_id).where(Run.id == run.id))
    assert worker_id is not None
    pid = int(worker_id.split(":")[1])  # the process executing the job (a pool child in prefork)
    os.kill(pid, signal.SIGKILL)
    victim = next((n for n, p in cluster.workers.items() if p.pid == pid), None)
    if victim is not None:
        cluster.workers[victim].wait(timeout=10)

    final = service.wait(run.id, timeout_s=60)
    assert final.status is RunStatus.SUCCEEDED, (final, cluster.log_path("w1").read_text())
    assert final.attempts == 2
    assert final.result is not None
    assert final.result["num_steps_done"] == steps
    assert final.lineage is not None
    assert final.lineage["attempt"] == 2
    with cluster.database.session() as session:
        rows = session.scalars(select(Artifact).where(Artifact.run_id == run.id)).all()
        assert sorted(a.name for a in rows) == ["manifest.json", "steps.txt"]
        assert all(a.storage_key.startswith(staging_prefix(run.id, 2)) for a in rows)
    assert cluster.store.list(f"runs/{run.id}") == sorted(a.storage_key for a in rows)
    steps_art = next(
        a for a in service.list_artifacts(run.id, tenant_ids=None) if a.name == "steps.txt"
    )
    _, stream = service.open_artifact(run.id, steps_art.id, tenant_ids=None)
    with stream:
        lines = stream.read().decode().splitlines()
    assert len(lines) == steps
    logs = "".join(cluster.log_path(n).read_text(errors="replace") for n in cluster.workers)
    assert "run_reaped" in logs
    if victim is not None:
        survivor = next(name for name in cluster.workers if name != victim)
        assert cluster.workers[survivor].poll() is None


@pytest.mark.redis
@needs_redis
def test_killed_worker_run_completes_once_on_the_other_worker(redis_cluster: _Cluster) -> None:
    _kill_and_recover(redis_cluster)


@pytest.mark.slow
@pytest.mark.redis
@needs_redis
def test_killed_prefork_child_run_completes_once(redis_cluster: _Cluster) -> None:
    _kill_and_recover(redis_cluster, pool="prefork")


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
@needs_redis
@pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
def test_killed_worker_on_postgresql(empty_database: Database, tmp_path: Path) -> None:
    cluster = _Cluster(tmp_path, REDIS_URL, empty_database.url)
    try:
        _kill_and_recover(cluster)
    finally:
        cluster.close()


@pytest.mark.rabbitmq
@needs_rabbitmq
def test_rabbitmq_worker_runs_a_run_with_inputs(rabbit_cluster: _Cluster, tmp_path: Path) -> None:
    cluster = rabbit_cluster
    cluster.start("r1")
    cluster.wait_ready()
    data = tmp_path / "lines.txt"
    data.write_text("a\nb\nc\nd\n", encoding="utf-8")
    run = cluster.service.submit(
        engine="selftest",
        kind="digest",
        tenant_id="acme",
        params={},
        created_by="test",
        inputs={"data": data},
    )
    final = cluster.service.wait(run.id, timeout_s=60)
    assert final.status is RunStatus.SUCCEEDED, final
    assert final.attempts == 1
    assert final.result == {"num_lines": 4, "size_bytes": 8}
    assert final.lineage is not None
    assert final.lineage["inputs"]["data"]["size_bytes"] == 8


class _LostMessages:
    """A publish that never reaches the broker (the run is committed, its message lost)."""

    max_attempts = 3

    def dispatch(self, run_id: str) -> None:
        _ = run_id


@pytest.mark.redis
@needs_redis
def test_worker_reaper_resends_a_lost_queued_run(tmp_path: Path) -> None:
    cluster = _Cluster(tmp_path, REDIS_URL)
    cluster.env["OPSFORGE_JOBS__REQUEUE_AFTER_S"] = "1"
    try:
        lost = RunService(cluster.database, cluster.store, JobRegistry(JOB_KINDS), _LostMessages())
        run = lost.submit(
            engine="selftest",
            kind="sleep",
            tenant_id="acme",
            params={"steps": 2, "step_s": 0.05},
            created_by="test",
        )
        cluster.start("w1")
        cluster.wait_ready()
        final = cluster.service.wait(run.id, timeout_s=30)
        assert final.status is RunStatus.SUCCEEDED, cluster.log_path("w1").read_text()
        assert final.attempts == 1
        logs = cluster.log_path("w1").read_text(errors="replace")
        assert "run_redispatched" in logs
        # the worker process counted the run's stage where any API process reads it
        assert stage_durations(cluster.database)[("selftest", "sleep", "succeeded")][2] == 1
        # a duplicate message for the finished run is harmless: it is not claimed
        dispatcher = CeleryDispatcher(cluster.app, queue=cluster.queue)
        dispatcher.dispatch(run.id)
        deadline = time.monotonic() + 15
        while "run_not_claimed" not in cluster.log_path("w1").read_text(errors="replace"):
            assert time.monotonic() < deadline, cluster.log_path("w1").read_text()
            time.sleep(0.1)
        assert cluster.service.get(run.id, tenant_ids=None).attempts == 1
    finally:
        cluster.close()
