"""``opsforge tenants|users|keys|audit`` against a temporary SQLite database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from opsforge.cli.main import app
from opsforge.core.audit import AuditLog
from opsforge.core.auth.service import AuthService
from opsforge.core.config import reset_settings_cache
from opsforge.core.errors import AuthenticationError
from opsforge.core.storage.db import Database


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OPSFORGE_DATABASE_URL", url)
    monkeypatch.setenv("OPSFORGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPSFORGE_LOG_LEVEL", "WARNING")
    reset_settings_cache()
    yield url
    reset_settings_cache()


def _ok(args: list[str], stdin: str | None = None) -> str:
    result = CliRunner().invoke(app, args, input=stdin)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def test_tenants_users_keys_and_revoke(db_url: str) -> None:
    tenant = json.loads(_ok(["tenants", "create", "acme", "--name", "Acme", "--json"]))
    assert tenant["id"] == "acme"
    user = json.loads(
        _ok(
            ["users", "create", "alice", "--tenant", "acme", "--role", "engineer",
             "--password-stdin", "--json"],
            stdin="alice-password-1\n",
        )
    )  # fmt: skip
    assert user["roles"] == {"acme": "engineer"}
    created = json.loads(
        _ok(
            ["keys", "create", "--user", "alice", "--tenant", "acme", "--role", "viewer",
             "--expires-in-days", "7", "--name", "ci", "--json"]
        )
    )  # fmt: skip
    assert created["key"].startswith(f"opsforge_{created['prefix']}_")
    database = Database(db_url)
    try:
        auth = AuthService(database, jwt_secret="x" * 40, cache_ttl_s=0.0)
        assert auth.principal_for_api_key(created["key"]).username == "alice"
        listed = json.loads(_ok(["keys", "list", "--tenant", "acme", "--json"]))
        assert [k["id"] for k in listed] == [created["id"]]
        assert "key" not in listed[0]
        _ok(["keys", "revoke", created["id"]])
        with pytest.raises(AuthenticationError, match="revoked"):
            auth.principal_for_api_key(created["key"])
    finally:
        database.dispose()


def test_errors_map_to_exit_codes(db_url: str) -> None:
    runner = CliRunner()
    _ok(["tenants", "create", "acme"])
    dup = runner.invoke(app, ["tenants", "create", "acme"])
    assert dup.exit_code == 5  # ConflictError
    missing = runner.invoke(
        app,
        ["users", "create", "bob", "--tenant", "nowhere", "--password-stdin"],
        input="bob-password-123\n",
    )
    assert missing.exit_code == 4  # NotFoundError
    short = runner.invoke(app, ["users", "create", "carl", "--password-stdin"], input="short\n")
    assert short.exit_code == 2
    assert "at least 10 characters" in short.output
    bad_role = runner.invoke(
        app,
        ["keys", "create", "--user", "nobody", "--tenant", "acme", "--role", "root"],
    )
    assert bad_role.exit_code == 2
    assert runner.invoke(app, ["keys", "revoke", "no-such-key"]).exit_code == 4


def test_audit_verify_detects_tampering(db_url: str) -> None:
    _ok(["tenants", "create", "acme"])
    database = Database(db_url)
    log = AuditLog(database)
    for i in range(3):
        log.record(actor="alice", action="POST /api/v1/runs", outcome="success", target=str(i))
    report = json.loads(_ok(["audit", "verify", "--json"]))
    assert report == {"ok": True, "num_events": 3, "first_bad_seq": None, "reason": ""}
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET outcome = 'failure' WHERE seq = 2"))
    database.dispose()
    result = CliRunner().invoke(app, ["audit", "verify", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["first_bad_seq"] == 2
    plain = CliRunner().invoke(app, ["audit", "verify"])
    assert plain.exit_code == 1
    assert "seq 2" in plain.output
