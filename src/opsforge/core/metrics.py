"""Prometheus metrics of an opsforge process.

One :class:`Metrics` per process (the API app or a worker builds it; nothing module-level).
HTTP latency is labelled by route *template* (``/api/v1/runs/{run_id}``), never the raw path,
so label cardinality stays bounded.

Multi-process servers (``uvicorn --workers N``): when ``PROMETHEUS_MULTIPROC_DIR`` is set the
process-local metrics are written to that folder by prometheus_client's multiprocess mode and
:meth:`Metrics.render` aggregates every worker's files; the folder must be empty at server start
(``opsforge serve`` clears it).

Run state (counts by engine and status, queue depth) is read from the database at scrape time
by :class:`RunStateCollector`, so it is true whichever process ran the runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Run

__all__ = [
    "CONTENT_TYPE_LATEST",
    "Metrics",
    "RunDurations",
    "RunStateCollector",
    "run_counts",
    "run_durations",
]

_HTTP_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_RUN_BUCKETS_S = (0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)


#: ``(engine, kind, status) -> (cumulative count per bucket of RUN_BUCKETS_S, sum [s], count)``
RunDurations = Mapping[tuple[str, str, str], tuple[list[int], float, int]]


def run_counts(database: Database) -> Mapping[tuple[str, str], int]:
    """``{(engine, status): count}`` over the runs table."""
    with database.session() as session:
        rows = session.execute(
            select(Run.engine, Run.status, func.count()).group_by(Run.engine, Run.status)
        ).all()
    return {(engine, status): int(count) for engine, status, count in rows}


def run_durations(database: Database) -> RunDurations:
    """Histogram of finished runs' wall time (``finished_at - started_at``) from the database.

    One aggregate query per scrape; cumulative as long as runs are kept.
    """
    if database.dialect == "sqlite":
        seconds: Any = (func.julianday(Run.finished_at) - func.julianday(Run.started_at)) * 86400.0
    else:
        seconds = func.extract("epoch", Run.finished_at - Run.started_at)
    columns = [func.sum(case((seconds <= b, 1), else_=0)) for b in _RUN_BUCKETS_S]
    query = (
        select(Run.engine, Run.kind, Run.status, func.count(), func.sum(seconds), *columns)
        .where(Run.started_at.is_not(None), Run.finished_at.is_not(None))
        .group_by(Run.engine, Run.kind, Run.status)
    )
    with database.session() as session:
        rows = session.execute(query).all()
    return {
        (row[0], row[1], row[2]): (
            [int(c or 0) for c in row[5:]],
            float(row[4] or 0.0),
            int(row[3]),
        )
        for row in rows
    }


class RunStateCollector(Collector):
    """Scrape-time run metrics read from the database (true whichever process ran the runs).

    Parameters
    ----------
    counts
        Returns ``{(engine, status): number_of_runs}``; called on every scrape.
    durations
        Returns :data:`RunDurations`; called on every scrape.
    """

    def __init__(
        self,
        counts: Callable[[], Mapping[tuple[str, str], int]],
        durations: Callable[[], RunDurations] | None = None,
    ) -> None:
        self._counts = counts
        self._durations = durations

    def collect(self) -> Iterable[Metric]:
        runs = GaugeMetricFamily(
            "opsforge_runs",
            "Runs in the database by engine and status.",
            labels=["engine", "status"],
        )
        queue = GaugeMetricFamily(
            "opsforge_queue_depth", "Runs waiting for a worker (status queued).", labels=["engine"]
        )
        try:
            counts = self._counts()
        except Exception:  # a failing scrape must not break /metrics; readiness reports the DB
            counts = {}
        queued: dict[str, int] = {}
        for (engine, status), value in sorted(counts.items()):
            runs.add_metric([engine, status], float(value))
            if status == "queued":
                queued[engine] = queued.get(engine, 0) + value
        for engine, value in sorted(queued.items()):
            queue.add_metric([engine], float(value))
        yield runs
        yield queue
        if self._durations is None:
            return
        hist = HistogramMetricFamily(
            "opsforge_run_wall_seconds",
            "Wall time of finished runs by engine, kind and outcome, from the database. [s]",
            labels=["engine", "kind", "outcome"],
        )
        try:
            durations = self._durations()
        except Exception:
            durations = {}
        for (engine, kind, outcome), (cumulative, total_s, count) in sorted(durations.items()):
            buckets = [
                (str(float(b)), float(c)) for b, c in zip(_RUN_BUCKETS_S, cumulative, strict=True)
            ]
            buckets.append(("+Inf", float(count)))
            hist.add_metric([engine, kind, outcome], buckets, sum_value=total_s)
        yield hist


class Metrics:
    """The metrics of one process.

    Parameters
    ----------
    multiprocess_dir
        prometheus_client multiprocess folder; default ``$PROMETHEUS_MULTIPROC_DIR``.
    """

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        # In multiprocess mode values go to files; the private registry only avoids clashes.
        self.registry = CollectorRegistry(auto_describe=True)
        self._extra: list[Collector] = []
        self.http_request_duration = Histogram(
            "opsforge_http_request_duration_seconds",
            "HTTP request latency by route template, method and status. [s]",
            ["route", "method", "status"],
            buckets=_HTTP_BUCKETS_S,
            registry=self.registry,
        )
        self.run_duration = Histogram(
            "opsforge_run_duration_seconds",
            "Wall time of finished runs by engine, kind and outcome. [s]",
            ["engine", "kind", "outcome"],
            buckets=_RUN_BUCKETS_S,
            registry=self.registry,
        )
        self.run_stage_duration = Histogram(
            "opsforge_run_stage_duration_seconds",
            "Wall time of run stages by engine and stage. [s]",
            ["engine", "stage"],
            buckets=_RUN_BUCKETS_S,
            registry=self.registry,
        )
        self.runs_finished = Counter(
            "opsforge_runs_finished",
            "Finished runs by engine, kind and outcome.",
            ["engine", "kind", "outcome"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "opsforge_rate_limited_requests",
            "Requests refused by the rate limiter.",
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, status: int, duration_s: float) -> None:
        """Record one HTTP request; ``route`` is the template, ``duration_s`` in [s]."""
        self.http_request_duration.labels(route, method, str(status)).observe(duration_s)

    def observe_run(
        self,
        engine: str,
        kind: str,
        outcome: str,
        duration_s: float,
        stage_timings_s: Mapping[str, float] | None = None,
    ) -> None:
        """Record a finished run (called by the process that ran it). Durations in [s]."""
        self.run_duration.labels(engine, kind, outcome).observe(duration_s)
        self.runs_finished.labels(engine, kind, outcome).inc()
        for stage, seconds in (stage_timings_s or {}).items():
            self.run_stage_duration.labels(engine, stage).observe(seconds)

    def add_collector(self, collector: Collector) -> None:
        """Add a scrape-time collector (such as :class:`RunStateCollector`)."""
        self._extra.append(collector)
        if not self.multiprocess_dir:
            self.registry.register(collector)

    def render(self) -> bytes:
        """The exposition text of every metric (all workers' in multiprocess mode)."""
        if not self.multiprocess_dir:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        for collector in self._extra:
            registry.register(collector)
        return generate_latest(registry)
