"""Prometheus metrics of an opsforge process.

One :class:`Metrics` per process (the API app or a worker builds it; nothing module-level).
HTTP latency is labelled by route *template* (``/api/v1/runs/{run_id}``), never the raw path,
so label cardinality stays bounded.

Multi-process servers (``uvicorn --workers N``): when ``PROMETHEUS_MULTIPROC_DIR`` is set the
process-local metrics are written to that folder by prometheus_client's multiprocess mode and
:meth:`Metrics.render` aggregates every worker's files; the folder must be empty at server start
(``opsforge serve`` clears it).

Run metrics come from the database at scrape time (:class:`RunStateCollector`), so they are
true whichever process ran the runs (Celery workers on other machines export nothing):

- counts by engine and status and the queue depth: one ``GROUP BY`` over ``runs``;
- ``opsforge_run_wall_seconds{engine,kind,outcome}``: one aggregate over finished runs;
- ``opsforge_run_stage_seconds{engine,stage,outcome}``: the rows of ``run_stage_buckets``, a
  cumulative histogram the runner maintains with :func:`record_stage_timings` in the very
  transaction that finishes a run (so each run counts once, even with duplicate deliveries),
  which keeps the scrape a read of a few rows (engines x stages x outcomes x buckets) instead
  of parsing every run's lineage JSON.
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
from sqlalchemy import Table, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Run, RunStageBucket

__all__ = [
    "CONTENT_TYPE_LATEST",
    "Metrics",
    "RunDurations",
    "RunStateCollector",
    "record_stage_timings",
    "run_counts",
    "run_durations",
    "stage_bucket",
    "stage_durations",
]

_HTTP_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_RUN_BUCKETS_S = (0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)


#: ``(label values) -> (cumulative count per bucket of RUN_BUCKETS_S, sum [s], count)``; the
#: labels are ``(engine, kind, outcome)`` for run wall times, ``(engine, stage, outcome)`` for
#: stages.
RunDurations = Mapping[tuple[str, str, str], tuple[list[int], float, int]]


def stage_bucket(duration_s: float) -> str:
    """Upper bound (as text) of the histogram bucket of ``duration_s`` [s]: ``"0.5"``, ``"+Inf"``."""
    for bound in _RUN_BUCKETS_S:
        if duration_s <= bound:
            return str(float(bound))
    return "+Inf"


def record_stage_timings(
    session: Session, engine: str, outcome: str, stage_timings_s: Mapping[str, float]
) -> None:
    """Add one run's stage timings [s] to ``run_stage_buckets``, inside the caller's transaction.

    One upsert per stage (``count + 1``, ``sum_s + seconds``), in key order so concurrent
    completions lock rows in the same order and cannot deadlock.
    """
    if not stage_timings_s:
        return
    dialect = session.get_bind().dialect.name
    table = RunStageBucket.__table__
    assert isinstance(table, Table)
    for stage, seconds in sorted(stage_timings_s.items()):
        seconds = max(float(seconds), 0.0)
        values = {
            "engine": engine[:50],
            "stage": stage[:100],
            "outcome": outcome[:20],
            "bucket": stage_bucket(seconds),
            "count": 1,
            "sum_s": seconds,
        }
        if dialect in ("postgresql", "sqlite"):
            make = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = make(table).values(values)
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["engine", "stage", "outcome", "bucket"],
                    set_={
                        "count": table.c.count + 1,
                        "sum_s": table.c.sum_s + statement.excluded.sum_s,
                    },
                )
            )
            continue
        key = (values["engine"], values["stage"], values["outcome"], values["bucket"])
        row = session.get(RunStageBucket, key, with_for_update=True)
        if row is None:
            session.add(RunStageBucket(**values))
        else:
            row.count += 1
            row.sum_s += seconds


def stage_durations(database: Database) -> RunDurations:
    """Cumulative stage histogram ``{(engine, stage, outcome): (cumulative, sum [s], count)}``.

    Reads ``run_stage_buckets``: a handful of rows, whatever the number of runs.
    """
    with database.session() as session:
        rows = session.execute(
            select(
                RunStageBucket.engine,
                RunStageBucket.stage,
                RunStageBucket.outcome,
                RunStageBucket.bucket,
                RunStageBucket.count,
                RunStageBucket.sum_s,
            )
        ).all()
    bounds = [str(float(b)) for b in _RUN_BUCKETS_S]
    per_bucket: dict[tuple[str, str, str], dict[str, int]] = {}
    sums: dict[tuple[str, str, str], float] = {}
    for engine, stage, outcome, bucket, count, sum_s in rows:
        key = (engine, stage, outcome)
        per_bucket.setdefault(key, {})[bucket] = int(count)
        sums[key] = sums.get(key, 0.0) + float(sum_s)
    result: dict[tuple[str, str, str], tuple[list[int], float, int]] = {}
    for key, counts in per_bucket.items():
        cumulative, running = [], 0
        for bound in bounds:
            running += counts.get(bound, 0)
            cumulative.append(running)
        result[key] = (cumulative, sums[key], running + counts.get("+Inf", 0))
    return result


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
    stages
        Returns ``{(engine, stage, outcome): ...}`` like :data:`RunDurations`; every scrape.
    """

    def __init__(
        self,
        counts: Callable[[], Mapping[tuple[str, str], int]],
        durations: Callable[[], RunDurations] | None = None,
        stages: Callable[[], RunDurations] | None = None,
    ) -> None:
        self._counts = counts
        self._durations = durations
        self._stages = stages

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
        if self._durations is not None:
            yield _histogram(
                "opsforge_run_wall_seconds",
                "Wall time of finished runs by engine, kind and outcome, from the database. [s]",
                ["engine", "kind", "outcome"],
                self._durations,
            )
        if self._stages is not None:
            yield _histogram(
                "opsforge_run_stage_seconds",
                "Wall time of run stages by engine, stage and run outcome, from the database. [s]",
                ["engine", "stage", "outcome"],
                self._stages,
            )


def _histogram(
    name: str, documentation: str, labels: list[str], source: Callable[[], RunDurations]
) -> HistogramMetricFamily:
    hist = HistogramMetricFamily(name, documentation, labels=labels)
    try:
        durations = source()
    except Exception:  # a failing scrape must not break /metrics; readiness reports the DB
        durations = {}
    for label_values, (cumulative, total_s, count) in sorted(durations.items()):
        buckets = [
            (str(float(b)), float(c)) for b, c in zip(_RUN_BUCKETS_S, cumulative, strict=True)
        ]
        buckets.append(("+Inf", float(count)))
        hist.add_metric(list(label_values), buckets, sum_value=total_s)
    return hist


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
        self.rate_limited = Counter(
            "opsforge_rate_limited_requests",
            "Requests refused by the rate limiter.",
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, status: int, duration_s: float) -> None:
        """Record one HTTP request; ``route`` is the template, ``duration_s`` in [s]."""
        self.http_request_duration.labels(route, method, str(status)).observe(duration_s)

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
