"""Errors everywhere, body limits, security headers, CORS, rate limits, readiness, metrics."""

# ruff: noqa: F811  (the pytest fixtures env/sqlite_env are imported from api_support)

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import Env, build_app, make_settings, populate, sqlite_env  # noqa: F401 (fixtures)
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opsforge.api.app import create_app
from opsforge.core.audit import AuditLog
from opsforge.core.errors import ConfigError
from opsforge.core.logging import configure_logging
from opsforge.core.ratelimit import MemoryRateLimiter
from opsforge.core.storage.db import Database


def _assert_error(resp_json: dict[str, object], code: str) -> None:
    assert resp_json["code"] == code
    assert isinstance(resp_json["detail"], str)
    assert resp_json["detail"]
    assert isinstance(resp_json["request_id"], str)
    assert resp_json["request_id"]


def test_framework_errors_have_the_house_shape(sqlite_env: Env) -> None:
    c = sqlite_env.client
    _assert_error(c.get("/nope").json(), "not_found")
    resp = c.delete("/health")
    assert resp.status_code == 405
    _assert_error(resp.json(), "method_not_allowed")
    bad_query = c.get("/api/v1/runs", params={"limit": "many"}, headers=sqlite_env.h("eng_a"))
    assert bad_query.status_code == 422
    _assert_error(bad_query.json(), "invalid_input")
    assert "query.limit" in str(bad_query.json()["detail"])


def test_request_id_is_echoed_and_security_headers_set(sqlite_env: Env) -> None:
    resp = sqlite_env.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in resp.headers["content-security-policy"]
    assert "strict-transport-security" not in resp.headers
    weird = sqlite_env.client.get("/nope", headers={"X-Request-ID": "bad id\twith spaces"})
    assert weird.headers["x-request-id"] != "bad id\twith spaces"
    assert weird.json()["request_id"] == weird.headers["x-request-id"]
    https = TestClient(sqlite_env.app, base_url="https://testserver")
    assert "max-age" in https.get("/health").headers["strict-transport-security"]


def test_unhandled_exception_is_500_without_leak(sqlite_env: Env) -> None:
    def boom() -> None:
        raise RuntimeError("secret database password is hunter2")

    sqlite_env.app.add_api_route("/boom", boom)
    client = TestClient(sqlite_env.app, raise_server_exceptions=False)
    resp = client.get("/boom", headers={"X-Request-ID": "req-500"})
    assert resp.status_code == 500
    _assert_error(resp.json(), "internal_error")
    assert "hunter2" not in resp.text
    assert resp.json()["request_id"] == "req-500"
    assert resp.headers["x-content-type-options"] == "nosniff"


BAD_BODIES = [
    (b"{", "application/json"),
    (b'{"engine": ', "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b'"just a string"', "application/json"),
    (b"null", "application/json"),
    (b'{"engine": 1, "kind": ["x"]}', "application/json"),
    (b'{"engine": "test", "kind": "echo", "params": []}', "application/json"),
    (b'{"engine": "test", "kind": "echo", "inputs": {"data": 5}}', "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"engine=test&kind=echo", "application/x-www-form-urlencoded"),
    (b"<xml/>", "application/xml"),
]


@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
def test_bad_bodies_are_4xx_never_5xx(sqlite_env: Env, body: bytes, content_type: str) -> None:
    headers = {**sqlite_env.h("eng_a"), "content-type": content_type}
    for path in ("/api/v1/runs", "/api/v1/tenants/acme/keys"):
        resp = sqlite_env.client.post(path, content=body, headers=headers)
        assert 400 <= resp.status_code < 500, (path, resp.status_code, resp.text)
        assert resp.json()["code"] in {"invalid_input", "permission_denied"}
    resp = sqlite_env.client.post(
        "/api/v1/runs",
        content=body,
        headers={**sqlite_env.h("admin_a"), "content-type": content_type},
    )
    assert resp.status_code == 422
    assert resp.json()["errors"]


@pytest.fixture
def small_limits(sqlite_database: Database, tmp_path: Path) -> Iterator[Env]:
    settings = make_settings(
        tmp_path, sqlite_database, api={"max_body_bytes": 1000, "max_upload_bytes": 5000}
    )
    app = build_app(settings, sqlite_database)
    with TestClient(app) as client:
        env = Env(app, client, sqlite_database, settings, app.state.opsforge.auth)
        populate(env)
        yield env


def test_oversized_bodies_are_413(small_limits: Env) -> None:
    env = small_limits
    big = b'{"engine": "test", "kind": "echo", "params": {"message": "' + b"x" * 2000 + b'"}}'
    declared = env.client.post(
        "/api/v1/runs", content=big, headers={**env.h("eng_a"), "content-type": "application/json"}
    )
    assert declared.status_code == 413
    _assert_error(declared.json(), "payload_too_large")

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 100

    chunked = env.client.post(
        "/api/v1/runs",
        content=chunks(),
        headers={**env.h("eng_a"), "content-type": "application/json"},
    )
    assert chunked.status_code == 413
    _assert_error(chunked.json(), "payload_too_large")
    login = env.client.post(
        "/api/v1/auth/token", content=chunks(), headers={"content-type": "application/json"}
    )
    assert login.status_code == 413


def test_upload_route_gets_the_upload_limit(small_limits: Env) -> None:
    env = small_limits
    grid = b"cell_id,issue,tilt_change_deg\n" + b"1,overshooter,1.0\n" * 100  # ~1.8 kB > body limit
    ok = env.client.post(
        "/api/v1/recommendations/run",
        files={"grid": ("grid.csv", grid), "gis": ("gis.csv", b"cell_id\n1\n")},
        headers=env.h("eng_a"),
    )
    assert ok.status_code == 202, ok.text
    too_big = env.client.post(
        "/api/v1/recommendations/run",
        files={"grid": ("grid.csv", grid * 4), "gis": ("gis.csv", b"cell_id\n1\n")},
        headers=env.h("eng_a"),
    )
    assert too_big.status_code == 413


def test_rate_limit_with_retry_after(sqlite_database: Database, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sqlite_database)
    limiter = MemoryRateLimiter(rate_per_s=0.5, burst=2)
    app = build_app(settings, sqlite_database, rate_limiter=limiter)
    with TestClient(app) as client:
        env = Env(app, client, sqlite_database, settings, app.state.opsforge.auth)
        populate(env)
        codes = [client.get("/api/v1/runs", headers=env.h("eng_a")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        resp = client.get("/api/v1/runs", headers=env.h("eng_a"))
        _assert_error(resp.json(), "rate_limited")
        assert int(resp.headers["retry-after"]) >= 1
        assert client.get("/api/v1/runs", headers=env.h("viewer_a")).status_code == 200
        assert "opsforge_rate_limited_requests_total 2.0" in client.get("/metrics").text
        logins = [
            client.post("/api/v1/auth/token", data={"username": "eng_a", "password": "x"})
            for _ in range(3)
        ]
        # a failed login drains up to 10 tokens of the address's bucket (here: both)
        assert [r.status_code for r in logins] == [401, 429, 429]
        assert "retry-after" in logins[-1].headers
        denied = [e for e in AuditLog(sqlite_database).events() if e.action == "auth.login"]
        assert [e.outcome for e in denied] == ["failure", "denied", "denied"]


@pytest.mark.redis
def test_rate_limit_in_redis(sqlite_database: Database, tmp_path: Path) -> None:
    from api_support import redis_available

    if not redis_available():
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    settings = make_settings(
        tmp_path,
        sqlite_database,
        redis_url="redis://127.0.0.1:6379/15",
        api={"rate_limit_per_minute": 30, "rate_limit_burst": 2},
    )
    app = build_app(settings, sqlite_database)
    with TestClient(app) as client:
        env = Env(app, client, sqlite_database, settings, app.state.opsforge.auth)
        populate(env)
        codes = [client.get("/api/v1/runs", headers=env.h("eng_a")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]


def test_cors_allow_list(sqlite_database: Database, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, sqlite_database, api={"cors_allow_origins": ["https://ops.example"]}
    )
    with TestClient(build_app(settings, sqlite_database)) as client:
        allowed = client.options(
            "/api/v1/runs",
            headers={"Origin": "https://ops.example", "Access-Control-Request-Method": "GET"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
        denied = client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in denied.headers


def test_ready_reports_failed_dependencies(sqlite_database: Database, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sqlite_database)
    with TestClient(build_app(settings, sqlite_database)) as client:
        ok = client.get("/ready")
        assert ok.status_code == 200
        assert ok.json()["checks"] == {"database": "ok"}
        assert client.get("/health").json()["status"] == "ok"
        assert client.get("/api/v1/health").status_code == 200
    broken_db = Database("postgresql://postgres@127.0.0.1:1/none")
    celery = make_settings(
        tmp_path,
        sqlite_database,
        jobs={"backend": "celery"},
        broker_url="amqp://guest:guest@127.0.0.1:1//",
    )
    with TestClient(build_app(celery, sqlite_database)) as client:
        client.app.state.opsforge.database = broken_db  # type: ignore[attr-defined]
        resp = client.get("/ready")
        assert resp.status_code == 503
        body = resp.json()
        _assert_error(body, "service_unavailable")
        assert set(body["context"]["failed"]) == {"broker", "database"}


def test_metrics_use_route_templates(sqlite_env: Env) -> None:
    run_id = sqlite_env.seed_run("acme")
    sqlite_env.client.get(f"/api/v1/runs/{run_id}", headers=sqlite_env.h("eng_a"))
    text = sqlite_env.client.get("/metrics").text
    assert 'route="/api/v1/runs/{run_id}"' in text
    assert run_id not in text
    assert 'opsforge_runs{engine="test",status="succeeded"} 1.0' in text
    assert "opsforge_queue_depth" in text


def test_tracing_spans_named_by_route(sqlite_database: Database, tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    settings = make_settings(tmp_path, sqlite_database)
    with TestClient(build_app(settings, sqlite_database, span_exporter=exporter)) as client:
        client.get("/health")
        client.get("/nope")
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert "GET /health" in spans
    assert spans["GET /health"].attributes is not None
    assert spans["GET /health"].attributes["http.response.status_code"] == 200


def test_prod_without_secret_refuses_to_start(
    sqlite_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPSFORGE_AUTH__JWT_SECRET", raising=False)
    settings = make_settings(tmp_path, sqlite_database, environment="prod", auth={"jwt_secret": ""})
    with pytest.raises(ConfigError, match="jwt_secret is required in prod"):
        create_app(settings, database=sqlite_database)


def test_access_log_carries_request_id_user_and_tenant(
    sqlite_database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    settings = make_settings(tmp_path, sqlite_database, log_level="INFO", log_json=True)
    app = build_app(settings, sqlite_database)
    with TestClient(app) as client:
        env = Env(app, client, sqlite_database, settings, app.state.opsforge.auth)
        populate(env)
        capsys.readouterr()
        client.get("/api/v1/runs", headers={**env.h("eng_a"), "X-Request-ID": "log-me"})
    captured = capsys.readouterr().err
    with contextlib.redirect_stderr(sys.__stderr__):  # do not leave structlog on capsys's file
        configure_logging("WARNING", json=True)
    lines = [json.loads(x) for x in captured.splitlines() if x.startswith("{")]
    done = [x for x in lines if x.get("event") == "request_completed"]
    assert done, lines
    assert done[0]["request_id"] == "log-me"
    assert done[0]["user"].startswith("eng_a")
    assert done[0]["route"] == "/api/v1/runs"
    assert done[0]["status"] == 200


def test_metrics_show_run_and_stage_durations_by_outcome(sqlite_env: Env) -> None:
    sqlite_env.seed_run("acme")
    runs = sqlite_env.app.state.opsforge.runs
    folder = Path(sqlite_env.settings.data_dir) / "seed"
    failed = runs.submit(
        engine="test",
        kind="echo",
        tenant_id="acme",
        params={"fail": True},
        created_by="seed",
        inputs={"data": folder / "data.bin"},
    )
    assert runs.get(failed.id, tenant_ids=None).status.value == "failed"
    text = sqlite_env.client.get("/metrics").text
    for outcome in ("succeeded", "failed"):
        assert (
            f'opsforge_run_stage_seconds_count{{engine="test",outcome="{outcome}",stage="read"}} 1.0'
            in text
        ), text
        assert (
            f'opsforge_run_wall_seconds_count{{engine="test",kind="echo",outcome="{outcome}"}} 1.0'
            in text
        )
    # the failing run stopped inside "read": no "write" stage for it
    assert (
        'opsforge_run_stage_seconds_count{engine="test",outcome="succeeded",stage="write"} 1.0'
        in text
    )
    assert 'outcome="failed",stage="write"' not in text
    assert (
        'opsforge_run_stage_seconds_bucket{engine="test",le="+Inf",outcome="succeeded",stage="read"} 1.0'
        in text
    )
