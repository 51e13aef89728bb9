"""The reaper: finds runs whose worker died (stale heartbeat) and re-queues or fails them.

A run is *stale* when it is ``running`` and its ``heartbeat_at`` is older than
``heartbeat_timeout_s``. Each stale run is changed by a guarded UPDATE (same status, worker,
attempt and heartbeat as read), so several reapers may run at once and each run is handled
once:

- cancel requested -> ``cancelled``;
- ``attempts >= max_attempts`` -> ``failed`` with code ``worker_lost``;
- otherwise -> ``queued`` again (``worker_id`` cleared), to be claimed by another worker.

It also re-sends *lost queued runs*: a run ``queued`` for longer than ``requeue_after_s``
(``updated_at`` older than that) whose message may have been lost (broker restart, a publish
that failed after the commit). A guarded UPDATE of ``updated_at`` elects one reaper per run and
round, which then re-dispatches the id; the next round for that run comes ``requeue_after_s``
later. A duplicate message is harmless: the runner's atomic claim lets only one worker run it.
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

__all__ = ["WORKER_LOST", "ReapResult", "Reaper", "reap_stale_runs", "redispatch_lost_queued"]

log = get_logger(__name__)

#: Error code of a run that lost its worker more than ``max_attempts`` times.
WORKER_LOST = "worker_lost"


@dataclass
class ReapResult:
    """Run ids the reaper changed, by outcome."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    #: Queued runs waiting longer than ``requeue_after_s``, to be dispatched again.
    redispatched: list[str] = field(default_factory=list)


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


def redispatch_lost_queued(
    database: Database, *, requeue_after_s: float, now: datetime | None = None, limit: int = 100
) -> list[str]:
    """Ids of queued runs untouched for ``requeue_after_s``, each claimed for re-dispatch once.

    Every returned run had its ``updated_at`` moved to ``now`` by a guarded UPDATE (status still
    ``queued``, ``updated_at`` as read), so of several reapers racing exactly one returns it,
    and it is not returned again before another ``requeue_after_s`` has passed. The caller sends
    the ids to the workers again.

    Parameters
    ----------
    requeue_after_s
        Age of a queued run's last change beyond which its message is taken for lost. [s]
    now
        Reference time (UTC); defaults to the current time.
    limit
        At most this many runs per call, oldest first.
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=requeue_after_s)
    with database.session() as session:
        waiting = session.execute(
            select(Run.id, Run.updated_at)
            .where(Run.status == RunStatus.QUEUED.value, Run.updated_at < cutoff)
            .order_by(Run.updated_at)
            .limit(limit)
        ).all()
    chosen: list[str] = []
    for run_id, updated_at in waiting:
        with database.session() as session:
            done = session.execute(
                update(Run)
                .where(
                    Run.id == run_id,
                    Run.status == RunStatus.QUEUED.value,
                    Run.updated_at == updated_at,
                )
                .values(updated_at=now)
            )
            if int(getattr(done, "rowcount", 0)) == 1:
                chosen.append(run_id)
                log.warning("run_redispatched", run_id=run_id, queued_since=str(updated_at))
    return chosen


class Reaper(threading.Thread):
    """Calls :func:`reap_stale_runs` (and :func:`redispatch_lost_queued` when
    ``requeue_after_s`` is set) every ``interval_s`` in a daemon thread.

    ``on_requeued`` is called with each re-queued or re-dispatched run id (the Celery worker
    re-sends its task).
    """

    def __init__(
        self,
        database: Database,
        *,
        heartbeat_timeout_s: float,
        interval_s: float | None = None,
        on_requeued: Callable[[str], None] | None = None,
        requeue_after_s: float | None = None,
    ) -> None:
        super().__init__(name="opsforge-reaper", daemon=True)
        self.database = database
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.interval_s = interval_s or max(heartbeat_timeout_s / 2, 0.2)
        self.on_requeued = on_requeued
        self.requeue_after_s = requeue_after_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval_s):
            try:
                self.tick()
            except Exception as exc:  # keep reaping; the next tick retries
                log.warning("reaper_failed", error=repr(exc))

    def tick(self, now: datetime | None = None) -> ReapResult:
        """One round: reap stale runs, re-dispatch lost queued ones, call ``on_requeued``."""
        result = reap_stale_runs(
            self.database, heartbeat_timeout_s=self.heartbeat_timeout_s, now=now
        )
        if self.requeue_after_s is not None and self.on_requeued is not None:
            result.redispatched = redispatch_lost_queued(
                self.database, requeue_after_s=self.requeue_after_s, now=now
            )
        if self.on_requeued is not None:
            for run_id in [*result.requeued, *result.redispatched]:
                self.on_requeued(run_id)
        return result

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread and wait for it. [s]"""
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=timeout_s)
