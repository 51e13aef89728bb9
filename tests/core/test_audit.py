"""The hash-chained audit log: append, verify, tamper detection, concurrency, trigger."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from opsforge.core.audit import GENESIS_HASH, AuditLog, install_append_only_trigger
from opsforge.core.storage.db import Database


@pytest.fixture
def tamperable(database: Database) -> Iterator[Database]:
    """The database without the PostgreSQL append-only trigger (put back afterwards)."""
    if database.dialect != "postgresql":
        yield database
        return
    with database.engine.begin() as conn:
        had = conn.execute(
            text("SELECT 1 FROM pg_trigger WHERE tgname = 'audit_events_append_only'")
        ).first()
        conn.execute(text("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events"))
    yield database
    if had:
        with database.engine.begin() as conn:
            install_append_only_trigger(conn)


def _fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.record(
            actor="alice",
            action="POST /api/v1/runs",
            outcome="success",
            tenant_id="acme",
            target=f"run={i}",
            client_ip="10.0.0.1",
            status_code=202,
            detail={"i": i, "nested": {"b": [1, 2], "a": None}},
        )


def test_chain_links_and_verifies(database: Database) -> None:
    log = AuditLog(database)
    assert log.verify().ok
    assert log.verify().num_events == 0
    _fill(log, 5)
    events = log.events()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    report = log.verify(batch_size=2)
    assert report.ok
    assert report.num_events == 5
    assert report.first_bad_seq is None


def test_raw_update_is_detected(tamperable: Database) -> None:
    database = tamperable
    log = AuditLog(database)
    _fill(log, 4)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "content" in report.reason


def test_deleted_row_is_detected(tamperable: Database) -> None:
    database = tamperable
    log = AuditLog(database)
    _fill(log, 4)
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == 3


def test_rehashed_row_breaks_the_next_link(tamperable: Database) -> None:
    database = tamperable
    """A forger who recomputes a row's own hash still breaks the following row's link."""
    from opsforge.core.audit import chain_hash

    log = AuditLog(database)
    _fill(log, 3)
    first = log.events()[1]
    values = {**first.__dict__, "actor": "mallory"}
    new_hash = chain_hash(first.prev_hash, values)
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET actor = 'mallory', hash = :h WHERE seq = 2"),
            {"h": new_hash},
        )
    report = log.verify()
    assert not report.ok
    assert report.first_bad_seq == 3


def test_concurrent_writers_do_not_fork_the_chain(database: Database) -> None:
    log = AuditLog(database)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            _fill(log, 10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = log.verify()
    assert report.ok
    assert report.num_events == 40


@pytest.mark.postgres
def test_postgres_trigger_refuses_update_and_delete(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    with database.engine.begin() as conn:
        install_append_only_trigger(conn)
    log = AuditLog(database)
    try:
        _fill(log, 2)
        for statement in (
            "UPDATE audit_events SET actor = 'mallory' WHERE seq = 1",
            "DELETE FROM audit_events WHERE seq = 1",
        ):
            with pytest.raises(SQLAlchemyError, match="append-only"), database.engine.begin() as c:
                c.execute(text(statement))
        assert log.verify().ok
    finally:
        with database.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_events"))  # TRUNCATE is not UPDATE/DELETE
