"""Lineage manifests: input hashes, config snapshot without secrets, versions, timings."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import opsforge
from opsforge.core import lineage
from opsforge.core.lineage import build_manifest, config_snapshot, dependency_versions, git_revision

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_manifest_hashes_inputs_and_is_deterministic(tmp_path: Path) -> None:
    grid = tmp_path / "grid.csv"
    grid.write_bytes(b"a,b\n1,2\n")
    kwargs = {
        "run_id": "r1",
        "engine": "ran",
        "kind": "recommend",
        "attempt": 1,
        "inputs": {"grid": grid},
        "params": {"threshold_db": 3},
        "settings": {"jobs": {"backend": "inline"}},
        "stage_timings_s": {"load": 0.5, "detect": 1.25},
        "started_at": T0,
        "finished_at": T0 + timedelta(seconds=2),
    }
    manifest = build_manifest(**kwargs)  # type: ignore[arg-type]
    assert manifest["inputs"] == {
        "grid": {
            "filename": "grid.csv",
            "sha256": hashlib.sha256(b"a,b\n1,2\n").hexdigest(),
            "size_bytes": 8,
        }
    }
    assert manifest["package"] == {"name": "opsforge", "version": opsforge.__version__}
    assert manifest["stage_timings_s"] == {"load": 0.5, "detect": 1.25}
    assert manifest["runtime_s"] == 2.0
    assert manifest["config"]["params"] == {"threshold_db": 3}
    assert manifest["dependencies"]["sqlalchemy"]
    json.dumps(manifest)  # JSON-serialisable
    assert build_manifest(**kwargs) == manifest  # type: ignore[arg-type]
    grid.write_bytes(b"a,b\n1,3\n")
    assert build_manifest(**kwargs)["inputs"] != manifest["inputs"]  # type: ignore[arg-type]


def test_config_snapshot_masks_secrets_and_url_credentials() -> None:
    snap = config_snapshot(
        {"api_key": "sk-123", "n": 1},
        {
            "database_url": "postgresql://app:hunter2@db:5432/ops",
            "broker_url": "amqp://guest:guest@127.0.0.1:5672//",
            "auth": {"jwt_secret": "abc", "jwt_ttl_s": 60},
            "artifacts": {"s3_secret_access_key": "k", "s3_bucket": "b"},
            "list": ["redis://:pw@h:6379/0"],
        },
    )
    text = json.dumps(snap)
    for secret in ("sk-123", "hunter2", "guest:guest", "abc", ":pw@"):
        assert secret not in text
    assert snap["settings"]["database_url"] == "postgresql://***@db:5432/ops"
    assert snap["settings"]["auth"]["jwt_ttl_s"] == 60
    assert snap["params"]["n"] == 1


def test_git_revision_from_checkout_env_or_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lineage._git_revision.cache_clear()
    monkeypatch.setenv("OPSFORGE_GIT_REVISION", "feedbeef")
    assert git_revision(tmp_path) == "feedbeef"  # tmp_path is not a checkout
    lineage._git_revision.cache_clear()
    monkeypatch.delenv("OPSFORGE_GIT_REVISION")
    assert git_revision(tmp_path) == "unknown"
    lineage._git_revision.cache_clear()
    repo = Path(opsforge.__file__).resolve().parent
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=False
    )
    if head.returncode != 0:
        pytest.skip("the package is not inside a git checkout")
    assert git_revision() == head.stdout.strip()


def test_dependency_versions_cover_declared_dependencies() -> None:
    versions = dependency_versions()
    for name in ("sqlalchemy", "alembic", "pydantic", "celery"):
        assert versions[name] != "not installed"
    assert "pytest" not in versions  # dev extra, not a runtime dependency
