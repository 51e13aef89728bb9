"""Celery backend: a task carries only the run id; the worker claims it like any runner.

Reliability settings: ``task_acks_late`` (the message is acknowledged after the run, so a
worker that dies keeps it unacknowledged), ``task_reject_on_worker_lost`` (a pool child killed
mid-task gives the message back), ``worker_prefetch_multiplier=1`` (a worker holds one message
per slot), JSON only. A redelivered message is harmless: the claim is an atomic
``queued -> running`` change, so a duplicate finds the run taken and returns.

Lost workers are detected by heartbeat, not by the broker: every ``opsforge worker`` runs a
:class:`~opsforge.core.jobs.reaper.Reaper` thread that re-queues stale runs and sends their id
again. Lost *messages* are found by age: the same reaper re-sends runs ``queued`` for longer
than ``jobs.requeue_after_s`` (one reaper per run and round; duplicates lose the claim).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from celery import Celery

from opsforge.core.errors import ConfigError
from opsforge.core.jobs.runner import Runner, default_worker_id
from opsforge.core.logging import get_logger

if TYPE_CHECKING:
    from opsforge.core.config import Settings

__all__ = [
    "DEFAULT_QUEUE",
    "TASK_NAME",
    "CeleryDispatcher",
    "create_celery_app",
    "run_worker",
]

log = get_logger(__name__)

TASK_NAME = "opsforge.execute_run"
DEFAULT_QUEUE = "opsforge"


def create_celery_app(
    settings: Settings,
    *,
    queue: str = DEFAULT_QUEUE,
    runner_factory: Callable[[], Runner] | None = None,
) -> Celery:
    """A Celery app on ``settings.broker_url`` (Redis or RabbitMQ).

    Parameters
    ----------
    queue
        Default queue of sent tasks.
    runner_factory
        Worker side only: builds the runner once per worker process (after a prefork fork), and
        registers the task that runs a run id with it.

    Raises
    ------
    ConfigError
        ``broker_url`` is empty.
    """
    if not settings.broker_url:
        raise ConfigError(
            "jobs.backend is 'celery' but broker_url is empty; set OPSFORGE_BROKER_URL "
            "(redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//)",
            key="broker_url",
        )
    app = Celery("opsforge", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_default_queue=queue,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # A long run must not be redelivered to a second worker while the first still runs;
        # lost workers are found by heartbeat instead.
        broker_transport_options={"visibility_timeout": 24 * 3600},
    )
    if runner_factory is not None:
        _register_task(app, runner_factory)
    return app


def _register_task(app: Celery, runner_factory: Callable[[], Runner]) -> None:
    holder: dict[str, Runner] = {}
    lock = threading.Lock()

    def runner() -> Runner:
        with lock:
            if "runner" not in holder:
                holder["runner"] = runner_factory()
            return holder["runner"]

    @app.task(name=TASK_NAME, ignore_result=True)  # type: ignore[untyped-decorator]
    def execute_run(run_id: str) -> str | None:
        status = runner().execute(str(run_id), default_worker_id("celery"))
        return status.value if status is not None else None

    _ = execute_run


class CeleryDispatcher:
    """Sends ``opsforge.execute_run(run_id)`` to the broker."""

    def __init__(self, app: Celery, *, queue: str | None = None, max_attempts: int = 3) -> None:
        self.app = app
        self.queue = queue or str(app.conf.task_default_queue)
        self.max_attempts = max_attempts

    def dispatch(self, run_id: str) -> None:
        self.app.send_task(TASK_NAME, args=[run_id], queue=self.queue)
        log.info("run_dispatched", run_id=run_id, queue=self.queue)


def run_worker(
    settings: Settings,
    *,
    extra_kinds: Sequence[str] = (),
    queues: Sequence[str] = (DEFAULT_QUEUE,),
    concurrency: int = 1,
    pool: str = "prefork",
    loglevel: str = "INFO",
    hostname: str | None = None,
) -> None:
    """Run a Celery worker in this process until it is stopped (``opsforge worker``).

    Also runs a reaper thread that re-queues runs of dead workers and re-sends their ids to the
    first of ``queues``.
    """
    from celery import signals

    from opsforge.core.artifacts import build_artifact_store
    from opsforge.core.jobs.dispatch import build_runner
    from opsforge.core.jobs.reaper import Reaper
    from opsforge.core.jobs.registry import JobRegistry
    from opsforge.core.storage.db import Database

    def make_runner() -> Runner:
        database = Database(settings.resolved_database_url)
        registry = JobRegistry.default(extra_kinds)
        return build_runner(settings, database, build_artifact_store(settings), registry)

    queue_list = list(queues) or [DEFAULT_QUEUE]
    app = create_celery_app(settings, queue=queue_list[0], runner_factory=make_runner)
    dispatcher = CeleryDispatcher(app, queue=queue_list[0])
    reaper_box: dict[str, Reaper] = {}

    def start_reaper(**_: Any) -> None:
        reaper = Reaper(
            Database(settings.resolved_database_url),
            heartbeat_timeout_s=settings.jobs.heartbeat_timeout_s,
            on_requeued=dispatcher.dispatch,
            requeue_after_s=settings.jobs.requeue_after_s,
        )
        reaper.start()
        reaper_box["reaper"] = reaper
        log.info(
            "worker_reaper_started",
            heartbeat_timeout_s=settings.jobs.heartbeat_timeout_s,
            requeue_after_s=settings.jobs.requeue_after_s,
        )

    def stop_reaper(**_: Any) -> None:
        if "reaper" in reaper_box:
            reaper_box.pop("reaper").stop()

    signals.worker_ready.connect(start_reaper, weak=False)
    signals.worker_shutdown.connect(stop_reaper, weak=False)
    argv = [
        "worker",
        f"--concurrency={concurrency}",
        f"--queues={','.join(queue_list)}",
        f"--pool={pool}",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv)
