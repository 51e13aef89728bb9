"""Storage: migrations create exactly the ORM schema; the tables behave on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, update
from sqlalchemy.exc import IntegrityError

from opsforge.core.storage.db import Database
from opsforge.core.storage.migrate import current_revision, downgrade, head_revision, upgrade
from opsforge.core.storage.models import Artifact, Base, Run, Tenant


def test_upgrade_head_yields_exactly_the_models_schema(empty_database: Database) -> None:
    assert current_revision(empty_database) is None
    upgrade(empty_database)
    assert current_revision(empty_database) == head_revision()
    with empty_database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == []
    tables = set(inspect(empty_database.engine).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_downgrade_base_drops_everything_and_upgrade_is_repeatable(
    empty_database: Database,
) -> None:
    upgrade(empty_database)
    upgrade(empty_database)  # already at head: a no-op, not an error
    downgrade(empty_database)
    assert set(inspect(empty_database.engine).get_table_names()) == {"alembic_version"}
    upgrade(empty_database)
    assert current_revision(empty_database) == head_revision()


def test_run_round_trips_json_and_aware_timestamps(database: Database, tenant_id: str) -> None:
    started = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    with database.session() as session:
        session.add(
            Run(
                id="r1",
                engine="ran",
                kind="recommend",
                tenant_id=tenant_id,
                params={"cells": ["A", "B"], "threshold_db": -3.5, "nested": {"k": None}},
                created_by="alice",
                started_at=started,
            )
        )
    with database.session() as session:
        row = session.get(Run, "r1")
        assert row is not None
        assert row.params == {"cells": ["A", "B"], "threshold_db": -3.5, "nested": {"k": None}}
        assert row.status == "queued"
        assert row.attempts == 0
        assert row.cancel_requested is False
        assert row.started_at is not None
        assert row.started_at.replace(tzinfo=UTC) == started


def test_conditional_update_claims_once(database: Database, tenant_id: str) -> None:
    with database.session() as session:
        session.add(Run(id="r2", engine="e", kind="k", tenant_id=tenant_id, created_by="bob"))
    claims = []
    for worker in ("w1", "w2"):
        with database.session() as session:
            done = session.execute(
                update(Run)
                .where(Run.id == "r2", Run.status == "queued")
                .values(status="running", worker_id=worker, attempts=Run.attempts + 1)
            )
            claims.append(done.rowcount)  # type: ignore[attr-defined]
    assert claims == [1, 0]
    with database.session() as session:
        row = session.scalars(select(Run).where(Run.id == "r2")).one()
        assert (row.worker_id, row.attempts) == ("w1", 1)


def test_foreign_keys_and_unique_artifact_names_are_enforced(
    database: Database, tenant_id: str
) -> None:
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Run(id="r3", engine="e", kind="k", tenant_id="nobody", created_by="x"))
    with database.session() as session:
        session.add(Run(id="r4", engine="e", kind="k", tenant_id=tenant_id, created_by="x"))
    art = {
        "run_id": "r4",
        "tenant_id": tenant_id,
        "role": "output",
        "name": "a.csv",
        "storage_key": "k",
        "size_bytes": 1,
        "sha256": "0" * 64,
    }
    with database.session() as session:
        session.add(Artifact(**art))
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Artifact(**art))


def test_deleting_a_run_cascades_to_its_artifacts(database: Database, tenant_id: str) -> None:
    with database.session() as session:
        session.add(Run(id="r5", engine="e", kind="k", tenant_id=tenant_id, created_by="x"))
        session.flush()
        session.add(
            Artifact(
                run_id="r5",
                tenant_id=tenant_id,
                role="input",
                name="grid",
                storage_key="k",
                size_bytes=3,
                sha256="1" * 64,
            )
        )
    with database.session() as session:
        run = session.get(Run, "r5")
        session.delete(run)
    with database.session() as session:
        assert session.scalars(select(Artifact).where(Artifact.run_id == "r5")).all() == []
        assert session.get(Tenant, tenant_id) is not None


def test_ping_answers(database: Database) -> None:
    database.ping()


@pytest.mark.postgres
def test_audit_events_are_append_only_on_postgresql(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from opsforge.core.storage.models import AuditEvent

    with database.session() as session:
        session.add(
            AuditEvent(actor="a", action="x", outcome="ok", prev_hash="0" * 64, hash="1" * 64)
        )
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory'"))
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))
