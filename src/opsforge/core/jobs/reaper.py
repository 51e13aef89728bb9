"""The reaper: finds runs whose worker died (stale heartbeat) and re-queues or fails them.

A run is *stale* when it is ``running`` and its ``heartbeat_at`` is older than
``heartbeat_timeout_s``. Each stale run is changed by a guarded UPDATE (same status, worker,
attempt and heartbeat as read), so several reapers may run at once and each run is handled
once:

- cancel requested -> ``cancelled``;
- ``attempts >= max_attempts`` -> ``failed`` with code ``worker_lost``;
- otherwise -> ``queued`` again (``worker_id`` cleared), to be claimed by another worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from opsforge.core.jobs.schemas import RunStatus
from opsforge.core.logging import get_logger
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Run, utcnow

__all__ = ["WORKER_LOST", "ReapResult", "Reaper", "reap_stale_runs"]

log = get_logger(__name__)

#: Error code of a run that lost its worker more than ``max_attempts`` times.
WORKER_LOST = "worker_lost"


@dataclass
class ReapResult:
    """Run ids the reaper changed, by outcome."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def reap_stale_runs(
    database: Database, *, heartbeat_timeout_s: float, now: datetime | None = None
) -> ReapResult:
    """Re-queue, fail or cancel every running run whose heartbeat is older than the timeout.

    Parameters
    ----------
    heartbeat_timeout_s
        Age of the last heartbeat beyond which the worker is taken for dead. [s]
    now
        Reference time (UTC); defaults to the current time.
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=heartbeat_timeout_s)
    result = ReapResult()
    with database.session() as session:
        stale = session.execute(
            select(
                Run.id,
                Run.worker_id,
                Run.attempts,
                Run.max_attempts,
                Run.cancel_requested,
                Run.heartbeat_at,
            ).where(Run.status == RunStatus.RUNNING.value, Run.heartbeat_at < cutoff)
        ).all()
    for run_id, worker_id, attempts, max_attempts, cancel_requested, heartbeat_at in stale:
        guard = (
            Run.id == run_id,
            Run.status == RunStatus.RUNNING.value,
            Run.attempts == attempts,
            Run.heartbeat_at == heartbeat_at,
        )
        if cancel_requested:
            values = {
                "status": RunStatus.CANCELLED.value,
                "error_code": "job_cancelled",
                "error_detail": f"cancelled; its worker {worker_id} stopped heartbeating",
                "finished_at": now,
            }
            bucket = result.cancelled
        elif attempts >= max_attempts:
            values = {
                "status": RunStatus.FAILED.value,
                "error_code": WORKER_LOST,
                "error_detail": (
                    f"worker {worker_id} stopped heartbeating (last at {heartbeat_at}); "
                    f"attempt {attempts} of {max_attempts}, no attempts left"
                ),
                "finished_at": now,
            }
            bucket = result.failed
        else:
            values = {
                "status": RunStatus.QUEUED.value,
                "worker_id": None,
                "heartbeat_at": None,
                "progress_message": f"re-queued: worker {worker_id} was lost",
            }
            bucket = result.requeued
        with database.session() as session:
            done = session.execute(update(Run).where(*guard).values(updated_at=now, **values))
            if int(getattr(done, "rowcount", 0)) == 1:
                bucket.append(run_id)
                log.warning(
                    "run_reaped",
                    run_id=run_id,
                    worker_id=worker_id,
                    attempts=attempts,
                    outcome=values["status"],
                )
    return result


class Reaper(threading.Thread):
    """Calls :func:`reap_stale_runs` every ``interval_s`` in a daemon thread.

    ``on_requeued`` is called with each re-queued run id (the Celery worker re-sends its task).
    """

    def __init__(
        self,
        database: Database,
        *,
        heartbeat_timeout_s: float,
        interval_s: float | None = None,
        on_requeued: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(name="opsforge-reaper", daemon=True)
        self.database = database
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.interval_s = interval_s or max(heartbeat_timeout_s / 2, 0.2)
        self.on_requeued = on_requeued
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval_s):
            try:
                result = reap_stale_runs(
                    self.database, heartbeat_timeout_s=self.heartbeat_timeout_s
                )
                if self.on_requeued is not None:
                    for run_id in result.requeued:
                        self.on_requeued(run_id)
            except Exception as exc:  # keep reaping; the next tick retries
                log.warning("reaper_failed", error=repr(exc))

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread and wait for it. [s]"""
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=timeout_s)
