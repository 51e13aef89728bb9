"""Prometheus metrics: per-process registry, run metrics, scrape-time run state, multiprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opsforge.core.metrics import (
    Metrics,
    RunStateCollector,
    record_stage_timings,
    run_counts,
    run_durations,
    stage_bucket,
    stage_durations,
)
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Run, Tenant


def test_request_metrics_render() -> None:
    metrics = Metrics(multiprocess_dir=None)
    metrics.observe_request("/api/v1/runs/{run_id}", "GET", 200, 0.004)
    text = metrics.render().decode()
    assert (
        'opsforge_http_request_duration_seconds_count{method="GET",'
        'route="/api/v1/runs/{run_id}",status="200"} 1.0' in text
    )


def test_stage_buckets() -> None:
    assert stage_bucket(0.0) == "0.1"
    assert stage_bucket(0.1) == "0.1"
    assert stage_bucket(0.11) == "0.5"
    assert stage_bucket(7200.0) == "7200.0"
    assert stage_bucket(7200.5) == "+Inf"


def test_stage_histogram_is_cumulative_in_the_database(database: Database) -> None:
    runs = [
        ("ran", "succeeded", {"load": 0.05, "detect": 12.0}),
        ("ran", "succeeded", {"load": 0.3, "detect": 4.0}),
        ("ran", "failed", {"load": 0.2}),
        ("scheduling", "succeeded", {"solve": 9000.0}),
    ]
    for engine, outcome, timings in runs:
        with database.session() as session:
            record_stage_timings(session, engine, outcome, timings)
    with database.session() as session:
        record_stage_timings(session, "ran", "succeeded", {})  # no stages: nothing
    hist = stage_durations(database)
    cumulative, total_s, count = hist[("ran", "load", "succeeded")]
    assert count == 2
    assert total_s == pytest.approx(0.35)
    assert cumulative[:3] == [1, 2, 2]  # <= 0.1, <= 0.5, <= 1
    assert cumulative[-1] == 2
    assert hist[("ran", "detect", "succeeded")][0][3:6] == [1, 1, 2]  # <= 5, <= 10, <= 30
    assert hist[("ran", "load", "failed")][2] == 1
    solve = hist[("scheduling", "solve", "succeeded")]
    assert solve[0][-1] == 0  # beyond the last bound: only in +Inf
    assert solve[2] == 1

    metrics = Metrics(multiprocess_dir=None)
    metrics.add_collector(RunStateCollector(lambda: {}, stages=lambda: stage_durations(database)))
    text = metrics.render().decode()
    assert (
        'opsforge_run_stage_seconds_count{engine="ran",outcome="succeeded",stage="load"} 2.0'
        in text
    )
    assert (
        'opsforge_run_stage_seconds_bucket{engine="scheduling",le="+Inf",outcome="succeeded",'
        'stage="solve"} 1.0' in text
    )


def test_concurrent_completions_all_count(database: Database) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def finish() -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                with database.session() as session:
                    record_stage_timings(session, "ran", "succeeded", {"a": 0.2, "b": 0.2})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=finish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    hist = stage_durations(database)
    assert hist[("ran", "a", "succeeded")][2] == 20
    assert hist[("ran", "b", "succeeded")][1] == pytest.approx(4.0)


def test_two_instances_do_not_clash() -> None:
    first, second = Metrics(multiprocess_dir=None), Metrics(multiprocess_dir=None)
    first.observe_request("/health", "GET", 200, 0.001)
    assert "/health" not in second.render().decode()


def test_run_state_collector_and_failing_source() -> None:
    metrics = Metrics(multiprocess_dir=None)
    metrics.add_collector(
        RunStateCollector(
            lambda: {("ran", "queued"): 3, ("ran", "running"): 1, ("sched", "queued"): 2}
        )
    )
    text = metrics.render().decode()
    assert 'opsforge_runs{engine="ran",status="queued"} 3.0' in text
    assert 'opsforge_queue_depth{engine="ran"} 3.0' in text
    assert 'opsforge_queue_depth{engine="sched"} 2.0' in text

    def broken() -> dict[tuple[str, str], int]:
        raise RuntimeError("db down")

    other = Metrics(multiprocess_dir=None)
    other.add_collector(RunStateCollector(broken))
    assert "opsforge_queue_depth" in other.render().decode()


def test_multiprocess_mode_aggregates_processes(tmp_path: Path) -> None:
    """prometheus_client picks multiprocess mode at import, so each 'worker' is a process."""
    script = (
        "from opsforge.core.metrics import Metrics\n"
        "import sys\n"
        "m = Metrics()\n"
        "m.observe_request('/health', 'GET', 200, 0.002)\n"
        "sys.stdout.write(m.render().decode())\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)
    assert any(tmp_path.iterdir()), "multiprocess mode writes value files"
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True
    ).stdout
    line = next(
        x for x in out.splitlines() if x.startswith("opsforge_http_request_duration_seconds_count")
    )
    assert line.endswith(" 3.0"), line  # three processes' observations, aggregated


def test_run_counts_and_durations_from_the_database(database: Database) -> None:
    start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with database.session() as session:
        session.add(Tenant(id="acme", name="Acme"))
        session.flush()
        for i, (status, wall_s) in enumerate(
            [("succeeded", 3.0), ("succeeded", 45.0), ("failed", 0.2)]
        ):
            session.add(
                Run(
                    id=f"r{i}",
                    engine="ran",
                    kind="recommend",
                    tenant_id="acme",
                    status=status,
                    created_by="t",
                    started_at=start,
                    finished_at=start + timedelta(seconds=wall_s),
                )
            )
        session.add(Run(id="q", engine="ran", kind="recommend", tenant_id="acme", created_by="t"))
    assert run_counts(database) == {
        ("ran", "succeeded"): 2,
        ("ran", "failed"): 1,
        ("ran", "queued"): 1,
    }
    durations = run_durations(database)
    cumulative, total_s, count = durations[("ran", "recommend", "succeeded")]
    assert count == 2
    assert total_s == pytest.approx(48.0, abs=1e-3)
    assert cumulative[:4] == [0, 0, 0, 1]  # buckets 0.1, 0.5, 1, 5 s
    assert cumulative[-1] == 2
    metrics = Metrics(multiprocess_dir=None)
    metrics.add_collector(
        RunStateCollector(lambda: run_counts(database), lambda: run_durations(database))
    )
    text = metrics.render().decode()
    assert (
        'opsforge_run_wall_seconds_bucket{engine="ran",kind="recommend",le="5.0",outcome="succeeded"} 1.0'
        in text
    )
    assert (
        'opsforge_run_wall_seconds_count{engine="ran",kind="recommend",outcome="failed"} 1.0'
        in text
    )
    assert 'opsforge_queue_depth{engine="ran"} 1.0' in text
