"""Dispatchers hand a queued run to a runner: inline, a local thread pool, or Celery.

- :class:`InlineDispatcher` runs it in the caller, before ``submit`` returns (the CLI).
- :class:`LocalPoolDispatcher` is a pool of threads inside ``opsforge serve`` that poll the
  database for queued runs (``dispatch`` only wakes them), plus a reaper thread.
- ``CeleryDispatcher`` (:mod:`opsforge.core.jobs.celery_app`) sends the run id to a broker.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select

from opsforge.core.artifacts import ArtifactStore
from opsforge.core.jobs.reaper import Reaper
from opsforge.core.jobs.registry import JobRegistry
from opsforge.core.jobs.runner import Runner, default_worker_id
from opsforge.core.jobs.schemas import RunStatus
from opsforge.core.logging import get_logger
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Run

if TYPE_CHECKING:
    from opsforge.core.config import Settings

__all__ = [
    "Dispatcher",
    "InlineDispatcher",
    "LocalPoolDispatcher",
    "build_dispatcher",
    "build_runner",
]

log = get_logger(__name__)


class Dispatcher(Protocol):
    """Hands a queued run to a runner."""

    #: Claims allowed per run before a lost run fails with ``worker_lost``.
    max_attempts: int

    def dispatch(self, run_id: str) -> None:
        """Make sure the queued run ``run_id`` will be picked up."""
        ...


class InlineDispatcher:
    """Runs the job in the calling thread; ``dispatch`` returns when the run finished."""

    def __init__(self, runner: Runner, *, max_attempts: int = 3) -> None:
        self.runner = runner
        self.max_attempts = max_attempts

    def dispatch(self, run_id: str) -> None:
        self.runner.execute(run_id, default_worker_id("inline"))


class LocalPoolDispatcher:
    """Worker threads polling the database for queued runs, and a reaper.

    Parameters
    ----------
    runner
        Runs claimed runs.
    num_workers
        Threads, each running one run at a time.
    poll_interval_s
        Longest wait between two looks at the queue when not woken. [s]
    heartbeat_timeout_s
        Passed to the reaper; ``None`` runs no reaper. [s]
    """

    def __init__(
        self,
        runner: Runner,
        *,
        num_workers: int = 2,
        poll_interval_s: float = 0.5,
        heartbeat_timeout_s: float | None = 30.0,
        max_attempts: int = 3,
    ) -> None:
        self.runner = runner
        self.num_workers = num_workers
        self.poll_interval_s = poll_interval_s
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.max_attempts = max_attempts
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._reaper: Reaper | None = None

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return bool(self._threads) and not self._stopping.is_set()

    def start(self) -> None:
        """Start the worker threads and the reaper (idempotent)."""
        if self.running:
            return
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._work, args=(i,), name=f"opsforge-pool-{i}", daemon=True)
            for i in range(self.num_workers)
        ]
        for thread in self._threads:
            thread.start()
        if self.heartbeat_timeout_s is not None:
            self._reaper = Reaper(
                self.runner.database,
                heartbeat_timeout_s=self.heartbeat_timeout_s,
                on_requeued=self.dispatch,
            )
            self._reaper.start()
        log.info("local_pool_started", num_workers=self.num_workers)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop taking runs and wait up to ``timeout_s`` [s] for the running ones to finish.

        A run still going after that keeps its thread (daemon); if the process then exits, the
        reaper of the next process re-queues it.
        """
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        if self._reaper is not None:
            self._reaper.stop()
            self._reaper = None
        for thread in self._threads:
            thread.join(timeout=timeout_s)
        self._threads = []
        log.info("local_pool_stopped")

    def dispatch(self, run_id: str) -> None:
        with self._wake:
            self._wake.notify()

    def _next_queued(self, limit: int = 8) -> list[str]:
        with self.runner.database.session() as session:
            return list(
                session.scalars(
                    select(Run.id)
                    .where(Run.status == RunStatus.QUEUED.value)
                    .order_by(Run.created_at, Run.id)
                    .limit(limit)
                )
            )

    def _work(self, index: int) -> None:
        worker_id = default_worker_id(f"local-{index}")
        while not self._stopping.is_set():
            ran = False
            try:
                for run_id in self._next_queued():
                    attempt = self.runner.claim(run_id, worker_id)
                    if attempt is not None:
                        self.runner.run_claimed(run_id, worker_id, attempt)
                        ran = True
                        break
            except Exception as exc:  # a database hiccup must not kill the pool thread
                log.warning("local_pool_poll_failed", worker_id=worker_id, error=repr(exc))
            if not ran:
                with self._wake:
                    self._wake.wait(self.poll_interval_s)


def build_runner(
    settings: Settings, database: Database, artifacts: ArtifactStore, registry: JobRegistry
) -> Runner:
    """A runner configured from ``settings.jobs`` (work folder under ``data_dir/work``)."""
    snapshot = settings.model_dump(mode="json")
    return Runner(
        database,
        artifacts,
        registry,
        work_root=settings.data_dir / "work",
        heartbeat_interval_s=settings.jobs.heartbeat_interval_s,
        progress_flush_s=min(0.5, settings.jobs.heartbeat_interval_s),
        settings_snapshot=snapshot,
    )


def build_dispatcher(
    settings: Settings,
    database: Database,
    artifacts: ArtifactStore,
    registry: JobRegistry,
) -> InlineDispatcher | LocalPoolDispatcher | Dispatcher:
    """The dispatcher ``settings.jobs.backend`` names (the local pool is not started here)."""
    jobs = settings.jobs
    if jobs.backend == "celery":
        from opsforge.core.jobs.celery_app import CeleryDispatcher, create_celery_app

        return CeleryDispatcher(create_celery_app(settings), max_attempts=jobs.max_attempts)
    runner = build_runner(settings, database, artifacts, registry)
    if jobs.backend == "inline":
        return InlineDispatcher(runner, max_attempts=jobs.max_attempts)
    return LocalPoolDispatcher(
        runner,
        num_workers=jobs.local_workers,
        heartbeat_timeout_s=jobs.heartbeat_timeout_s,
        max_attempts=jobs.max_attempts,
    )
