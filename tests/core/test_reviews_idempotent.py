"""Proposal creation is idempotent at the database level: threads and processes racing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opsforge.core.errors import ConflictError
from opsforge.core.reviews import ReviewService, proposal_id_for
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Proposal, ReviewEvent, Run, Tenant

ITEMS: list[tuple[str, str, dict[str, object]]] = [
    ("101", "overshooter", {"tilt_change_deg": 1.0}),
    ("102", "undershooter", {"tilt_change_deg": -1.0}),
    ("101", "overshooter", {"tilt_change_deg": 2.0}),  # same subject and kind: a second one
    ("103", "feeder_swap", {}),
]


def _add_run(database: Database, tenant_id: str, run_id: str = "run-1") -> None:
    with database.session() as session:
        session.add(
            Run(id=run_id, engine="ran", kind="recommend", tenant_id=tenant_id, created_by="a")
        )


def _counts(database: Database) -> tuple[int, int]:
    with database.session() as session:
        proposals = session.scalar(select(func.count()).select_from(Proposal))
        events = session.scalar(select(func.count()).select_from(ReviewEvent))
    return int(proposals or 0), int(events or 0)


def test_propose_with_an_id_is_idempotent(database: Database, tenant_id: str) -> None:
    _add_run(database, tenant_id)
    reviews = ReviewService(database)
    pid = proposal_id_for("run-1", "ran", "CELL-1", "tilt_change")
    first = reviews.propose(
        "run-1", tenant_id, "ran", "CELL-1", "tilt_change", {"a": 1}, proposal_id=pid
    )
    again = reviews.propose(
        "run-1", tenant_id, "ran", "CELL-1", "tilt_change", {"a": 2}, proposal_id=pid
    )
    assert first.id == again.id == pid
    assert again.payload == {"a": 1}  # the existing proposal, unchanged
    assert _counts(database) == (1, 1)
    assert [e.from_status for e in reviews.history(pid)] == ["none"]
    _add_run(database, tenant_id, "run-2")
    with pytest.raises(ConflictError, match="exists for run run-1"):
        reviews.propose("run-2", tenant_id, "ran", "CELL-1", "tilt_change", {}, proposal_id=pid)


def test_propose_many_twice_creates_once(database: Database, tenant_id: str) -> None:
    _add_run(database, tenant_id)
    reviews = ReviewService(database)
    assert reviews.propose_many("run-1", tenant_id, "ran", ITEMS) == 4
    assert reviews.propose_many("run-1", tenant_id, "ran", ITEMS) == 0
    assert _counts(database) == (4, 4)
    cell_101 = reviews.list_for_subject([tenant_id], "ran", "101")
    assert sorted(p.payload["tilt_change_deg"] for p in cell_101) == [1.0, 2.0]


def test_concurrent_threads_create_each_proposal_once(database: Database, tenant_id: str) -> None:
    _add_run(database, tenant_id)
    reviews = ReviewService(database)
    barrier = threading.Barrier(6)
    created: list[int] = []
    errors: list[BaseException] = []

    def first_read() -> None:
        try:
            barrier.wait(timeout=10)
            created.append(reviews.propose_many("run-1", tenant_id, "ran", ITEMS))
        except BaseException as exc:  # reported below: a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=first_read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(created) == [0, 0, 0, 0, 0, 4]
    assert _counts(database) == (4, 4)


_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from opsforge.core.reviews import ReviewService
    from opsforge.core.storage.db import Database

    url, go = sys.argv[1], Path(sys.argv[2])
    items = [("101", "overshooter", {"n": 1}), ("102", "undershooter", {"n": 2}),
             ("101", "overshooter", {"n": 3})]
    reviews = ReviewService(Database(url))
    while not go.exists():
        time.sleep(0.005)
    print(reviews.propose_many("run-1", "acme", "ran", items))
    """
)


def test_two_processes_on_sqlite_create_each_proposal_once(
    sqlite_database: Database, tmp_path: Path
) -> None:
    with sqlite_database.session() as session:
        session.add(Tenant(id="acme", name="Acme"))
    _add_run(sqlite_database, "acme")
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, sqlite_database.url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    time.sleep(1.5)  # let every child import and wait at the start line
    go.touch()
    outputs = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], outputs
    created = sorted(int(out.strip().splitlines()[-1]) for out, _ in outputs)
    assert created == [0, 0, 3]
    assert _counts(sqlite_database) == (3, 3)
