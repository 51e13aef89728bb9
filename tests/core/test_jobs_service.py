"""RunService: submit, validate, list with cursors, cancel, artifacts, tenancy (SQLite and PG)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from opsforge.core.artifacts import LocalArtifactStore
from opsforge.core.errors import ConflictError, InvalidInputError, NotFoundError
from opsforge.core.jobs.dispatch import InlineDispatcher
from opsforge.core.jobs.registry import JobRegistry
from opsforge.core.jobs.runner import Runner
from opsforge.core.jobs.schemas import ArtifactRole, RunStatus
from opsforge.core.jobs.selftest import JOB_KINDS
from opsforge.core.jobs.service import RunService
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Tenant


class _HoldDispatcher:
    """Leaves runs queued (records what it was asked to dispatch)."""

    max_attempts = 3

    def __init__(self) -> None:
        self.dispatched: list[str] = []

    def dispatch(self, run_id: str) -> None:
        self.dispatched.append(run_id)


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def registry() -> JobRegistry:
    return JobRegistry(JOB_KINDS)


@pytest.fixture
def inline(
    database: Database, store: LocalArtifactStore, registry: JobRegistry, tmp_path: Path
) -> RunService:
    runner = Runner(
        database,
        store,
        registry,
        work_root=tmp_path / "work",
        heartbeat_interval_s=0.2,
        settings_snapshot={"database_url": "postgresql://u:secret@h/db", "jobs": {"x": 1}},
    )
    return RunService(database, store, registry, InlineDispatcher(runner))


@pytest.fixture
def held(database: Database, store: LocalArtifactStore, registry: JobRegistry) -> RunService:
    return RunService(database, store, registry, _HoldDispatcher())


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "cells.csv"
    path.write_text("cell,tilt_deg\nA,2\nB,4\n", encoding="utf-8")
    return path


def test_inline_submit_runs_to_success_with_outputs_and_lineage(
    inline: RunService, tenant_id: str
) -> None:
    run = inline.submit(
        engine="selftest",
        kind="sleep",
        tenant_id=tenant_id,
        params={"steps": 3, "step_s": 0.0, "label": "x"},
        created_by="alice",
    )
    assert run.status is RunStatus.SUCCEEDED
    assert run.attempts == 1
    assert run.error is None
    assert run.result == {"num_steps_done": 3, "label": "x", "metrics": {"sleep_s": 0.0}}
    assert run.progress_fraction == 1.0
    assert run.metrics["num_outputs"] == 2
    assert run.metrics["sleep_s"] == 0.0
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.created_at <= run.started_at <= run.finished_at
    assert run.params == {"steps": 3, "step_s": 0.0, "fail_at_step": None, "label": "x"}
    artifacts = inline.list_artifacts(run.id, tenant_ids=[tenant_id])
    assert [(a.role, a.name) for a in artifacts] == [
        (ArtifactRole.OUTPUT, "manifest.json"),
        (ArtifactRole.OUTPUT, "steps.txt"),
    ]
    manifest_meta = artifacts[0]
    meta, stream = inline.open_artifact(run.id, manifest_meta.id, tenant_ids=[tenant_id])
    with stream:
        raw = stream.read()
    assert hashlib.sha256(raw).hexdigest() == meta.sha256 == manifest_meta.sha256
    manifest = json.loads(raw)
    assert manifest == run.lineage
    assert manifest["attempt"] == 1
    assert "sleep" in manifest["stage_timings_s"]
    assert manifest["config"]["settings"]["database_url"] == "postgresql://***@h/db"
    steps = artifacts[1]
    _, stream = inline.open_artifact(run.id, steps.id, tenant_ids=None)
    with stream:
        assert stream.read().decode().count("\n") == 3
    assert manifest["outputs"]["steps.txt"]["sha256"] == steps.sha256


def test_inputs_are_stored_hashed_and_fed_to_the_job(
    inline: RunService, tenant_id: str, data_file: Path
) -> None:
    run = inline.submit(
        engine="selftest",
        kind="digest",
        tenant_id=tenant_id,
        params={},
        created_by="alice",
        inputs={"data": data_file},
    )
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.result == {"num_lines": 3, "size_bytes": data_file.stat().st_size}
    expected = hashlib.sha256(data_file.read_bytes()).hexdigest()
    inputs = [
        a for a in inline.list_artifacts(run.id, tenant_ids=None) if a.role is ArtifactRole.INPUT
    ]
    assert [(a.name, a.sha256, a.media_type) for a in inputs] == [("data", expected, "text/csv")]
    assert run.lineage is not None
    assert run.lineage["inputs"]["data"] == {
        "filename": "cells.csv",
        "sha256": expected,
        "size_bytes": data_file.stat().st_size,
    }


def test_invalid_params_name_the_field(held: RunService, tenant_id: str) -> None:
    with pytest.raises(InvalidInputError, match="steps") as info:
        held.submit(
            engine="selftest",
            kind="sleep",
            tenant_id=tenant_id,
            params={"steps": 0},
            created_by="a",
        )
    assert info.value.context["field"] == "steps"
    with pytest.raises(InvalidInputError, match="bogus"):
        held.submit(
            engine="selftest",
            kind="sleep",
            tenant_id=tenant_id,
            params={"bogus": 1},
            created_by="a",
        )


def test_unknown_kind_tenant_or_inputs_are_refused(
    held: RunService, tenant_id: str, data_file: Path
) -> None:
    with pytest.raises(NotFoundError, match=r"selftest\.nope"):
        held.submit(engine="selftest", kind="nope", tenant_id=tenant_id, params={}, created_by="a")
    with pytest.raises(NotFoundError, match="ghost"):
        held.submit(engine="selftest", kind="sleep", tenant_id="ghost", params={}, created_by="a")
    with pytest.raises(InvalidInputError, match=r"missing \['data'\]"):
        held.submit(
            engine="selftest", kind="digest", tenant_id=tenant_id, params={}, created_by="a"
        )
    with pytest.raises(InvalidInputError, match=r"unknown \['extra'\]"):
        held.submit(
            engine="selftest",
            kind="digest",
            tenant_id=tenant_id,
            params={},
            created_by="a",
            inputs={"data": data_file, "extra": data_file},
        )
    with pytest.raises(InvalidInputError, match="not a readable file"):
        held.submit(
            engine="selftest",
            kind="digest",
            tenant_id=tenant_id,
            params={},
            created_by="a",
            inputs={"data": data_file.parent / "missing.csv"},
        )


def test_failure_is_recorded_with_code_and_detail(inline: RunService, tenant_id: str) -> None:
    run = inline.submit(
        engine="selftest",
        kind="sleep",
        tenant_id=tenant_id,
        params={"steps": 5, "step_s": 0.0, "fail_at_step": 2},
        created_by="a",
    )
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert run.error.code == "data_quality"
    assert "fail at step 2" in run.error.detail
    assert run.result is None
    assert inline.list_artifacts(run.id, tenant_ids=None) == []


def test_other_tenants_runs_are_not_found(
    held: RunService, database: Database, tenant_id: str
) -> None:
    with database.session() as session:
        session.add(Tenant(id="globex", name="Globex"))
    run = held.submit(
        engine="selftest", kind="sleep", tenant_id="globex", params={}, created_by="g"
    )
    assert held.get(run.id, tenant_ids=None).tenant_id == "globex"
    assert held.get(run.id, tenant_ids=["globex", tenant_id]).id == run.id
    with pytest.raises(NotFoundError):
        held.get(run.id, tenant_ids=[tenant_id])
    with pytest.raises(NotFoundError):
        held.list_artifacts(run.id, tenant_ids=[tenant_id])
    with pytest.raises(NotFoundError):
        held.cancel(run.id, tenant_ids=[tenant_id], actor="a")
    assert held.list(tenant_ids=[tenant_id]).items == []
    assert held.list(tenant_ids=[]).items == []
    assert [r.id for r in held.list(tenant_ids=None).items] == [run.id]


def test_list_pages_newest_first_with_filters(held: RunService, tenant_id: str) -> None:
    ids = [
        held.submit(
            engine="selftest",
            kind="sleep",
            tenant_id=tenant_id,
            params={"label": str(i)},
            created_by="alice" if i % 2 else "bob",
        ).id
        for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    sizes = []
    while True:
        page = held.list(tenant_ids=[tenant_id], cursor=cursor, limit=3)
        sizes.append(len(page.items))
        seen.extend(r.id for r in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert seen == list(reversed(ids))
    alice = held.list(tenant_ids=None, created_by="alice")
    assert {r.id for r in alice.items} == {ids[i] for i in (1, 3, 5)}
    assert held.list(tenant_ids=None, status="queued", engine="selftest", kind="sleep").items
    assert held.list(tenant_ids=None, status=RunStatus.SUCCEEDED).items == []
    assert held.list(tenant_ids=None, engine="ran").items == []
    with pytest.raises(InvalidInputError, match="cursor"):
        held.list(tenant_ids=None, cursor="not-a-cursor!!")
    with pytest.raises(InvalidInputError, match="status"):
        held.list(tenant_ids=None, status="sleeping")
    with pytest.raises(InvalidInputError, match="limit"):
        held.list(tenant_ids=None, limit=0)


def test_cancel_queued_at_once_and_finished_is_a_conflict(
    held: RunService, inline: RunService, tenant_id: str
) -> None:
    queued = held.submit(
        engine="selftest", kind="sleep", tenant_id=tenant_id, params={}, created_by="a"
    )
    cancelled = held.cancel(queued.id, tenant_ids=[tenant_id], actor="alice")
    assert cancelled.status is RunStatus.CANCELLED
    assert cancelled.finished_at is not None
    assert cancelled.error is not None
    assert "alice" in cancelled.error.detail
    with pytest.raises(ConflictError, match="already finished with status cancelled"):
        held.cancel(queued.id, tenant_ids=None, actor="alice")
    done = inline.submit(
        engine="selftest", kind="sleep", tenant_id=tenant_id, params={"step_s": 0}, created_by="a"
    )
    with pytest.raises(ConflictError, match="succeeded"):
        inline.cancel(done.id, tenant_ids=None, actor="a")


def test_wait_returns_the_last_state_after_the_timeout(held: RunService, tenant_id: str) -> None:
    run = held.submit(
        engine="selftest", kind="sleep", tenant_id=tenant_id, params={}, created_by="a"
    )
    assert held.wait(run.id, timeout_s=0.05).status is RunStatus.QUEUED
    with pytest.raises(NotFoundError):
        held.wait("missing", timeout_s=0.0)


def test_open_artifact_of_another_run_is_not_found(inline: RunService, tenant_id: str) -> None:
    a = inline.submit(
        engine="selftest", kind="sleep", tenant_id=tenant_id, params={}, created_by="x"
    )
    b = inline.submit(
        engine="selftest", kind="sleep", tenant_id=tenant_id, params={}, created_by="x"
    )
    art = inline.list_artifacts(a.id, tenant_ids=None)[0]
    with pytest.raises(NotFoundError):
        inline.open_artifact(b.id, art.id, tenant_ids=None)
