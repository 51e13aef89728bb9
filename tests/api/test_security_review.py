"""Defects found in the security review, each pinned by a test."""

# ruff: noqa: F811  (the pytest fixtures env/sqlite_env are imported from api_support)

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import (  # noqa: F401 (fixtures)
    PASSWORD,
    Env,
    build_app,
    env,
    make_settings,
    populate,
    sqlite_env,
)
from fastapi.testclient import TestClient

from opsforge.core.audit import AuditLog
from opsforge.core.ratelimit import MemoryRateLimiter
from opsforge.core.storage.db import Database

GRID = b"cell_id,issue,tilt_change_deg\n101,overshooter,1.0\n"
GIS = b"cell_id,lat,lon\n101,39.7,-104.9\n"


@pytest.mark.parametrize(
    ("filename", "stored"),
    [
        ("..", "grid"),
        ("a/..", "grid"),
        (".", "grid"),
        ("../../etc/passwd", "passwd"),
        ("C:\\data\\grid.csv", "grid.csv"),
        ("x" * 300 + ".csv", "x" * 96 + ".csv"),
        ("my grid;v2.csv", "my_grid_v2.csv"),
    ],
)
def test_upload_filenames_cannot_crash_or_escape(
    sqlite_env: Env, filename: str, stored: str
) -> None:
    env = sqlite_env
    resp = env.client.post(
        "/api/v1/recommendations/run",
        files={"grid": (filename, GRID), "gis": ("gis.csv", GIS)},
        headers=env.h("eng_a"),
    )
    assert resp.status_code == 202, resp.text
    run_id = resp.json()["run_id"]
    arts = env.client.get(f"/api/v1/runs/{run_id}/artifacts", headers=env.h("eng_a")).json()
    grid = next(a for a in arts if a["role"] == "input" and a["name"] == "grid")
    from opsforge.core.storage.models import Artifact

    with env.database.session() as session:
        row = session.get(Artifact, grid["id"])
        assert row is not None
        assert row.storage_key == f"runs/{run_id}/inputs/grid/{stored}"


def test_tenant_admin_sees_no_roles_of_other_tenants(sqlite_env: Env) -> None:
    env = sqlite_env
    env.auth.set_membership(env.user_ids["eng_b"], "acme", "viewer")  # eng_b: globex + acme
    users = env.client.get("/api/v1/tenants/acme/users", headers=env.h("admin_a"))
    assert users.status_code == 200
    eng_b = next(u for u in users.json() if u["username"] == "eng_b")
    assert eng_b["roles"] == {"acme": "viewer"}  # not globex's engineer role
    moved = env.client.put(
        f"/api/v1/tenants/acme/users/{env.user_ids['eng_b']}/role",
        json={"role": "engineer"},
        headers=env.h("admin_a"),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["roles"] == {"acme": "engineer"}
    assert "globex" not in moved.text


def test_tenant_admin_cannot_mint_keys_for_non_members(sqlite_env: Env) -> None:
    env = sqlite_env
    # root is a superuser with no membership in acme; eng_b is only in globex.
    for owner in (env.user_ids["root"], "root", env.user_ids["eng_b"], "eng_b", "nobody"):
        resp = env.client.post(
            "/api/v1/tenants/acme/keys",
            json={"user_id": owner, "role": "viewer"},
            headers=env.h("admin_a"),
        )
        assert resp.status_code == 404, (owner, resp.text)
        assert resp.json()["code"] == "not_found"
    # a member of the tenant still gets one, and the caller still gets its own
    member = env.client.post(
        "/api/v1/tenants/acme/keys",
        json={"user_id": env.user_ids["viewer_a"], "role": "viewer"},
        headers=env.h("admin_a"),
    )
    assert member.status_code == 201, member.text
    own = env.client.post("/api/v1/tenants/acme/keys", json={}, headers=env.h("admin_a"))
    assert own.status_code == 201, own.text


@pytest.mark.parametrize("shape", ["absolute", "dotdot", "nested"])
def test_run_input_names_cannot_write_outside_the_staging_folder(
    sqlite_env: Env, tmp_path: Path, shape: str
) -> None:
    env = sqlite_env
    run_id = env.seed_run("acme", b"attacker-controlled bytes")
    artifact_id = env.client.get(f"/api/v1/runs/{run_id}/artifacts", headers=env.h("eng_a")).json()[
        0
    ]["id"]
    target = tmp_path / "escaped"
    name = {
        "absolute": str(target),
        "dotdot": "../../../../../../../.." + str(target),
        "nested": "data/../../x",
    }[shape]
    resp = env.client.post(
        "/api/v1/runs",
        json={"engine": "test", "kind": "echo", "inputs": {name: artifact_id}},
        headers=env.h("eng_a"),
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "invalid_input"
    assert not target.exists()


NUL_REQUESTS = [
    ("GET", "/api/v1/runs/%00", "eng_a", None),
    ("GET", "/api/v1/proposals/%00", "eng_a", None),
    ("GET", "/api/v1/cells/%00/recommendations", "eng_a", None),
    ("GET", "/api/v1/runs?created_by=%00", "eng_a", None),
    ("POST", "/api/v1/runs/%00/cancel", "eng_a", None),
    ("PUT", "/api/v1/tenants/acme/users/%00/role", "admin_a", {"role": "viewer"}),
    ("DELETE", "/api/v1/tenants/acme/keys/%00", "admin_a", None),
    (
        "POST",
        "/api/v1/runs",
        "eng_a",
        {"engine": "test", "kind": "noinput", "params": {"message": "\x00"}},
    ),
    (
        "POST",
        "/api/v1/runs",
        "eng_a",
        {"engine": "test", "kind": "echo", "inputs": {"data": "\x00"}},
    ),
]


@pytest.mark.parametrize(("method", "url", "user", "body"), NUL_REQUESTS)
def test_nul_characters_are_never_5xx_and_still_audited(
    env: Env, method: str, url: str, user: str, body: object
) -> None:
    """PostgreSQL refuses NUL in text: that used to be a 500 and a lost audit event."""
    resp = env.client.request(method, url, headers=env.h(user), json=body)
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        assert set(resp.json()) >= {"code", "detail", "request_id"}
    if method != "GET":
        events = AuditLog(env.database).events(limit=1000)
        assert [e.request_id for e in events][-1] == resp.headers["x-request-id"]
        assert AuditLog(env.database).verify().ok


def test_login_with_nul_username_is_a_failed_audited_login(env: Env) -> None:
    resp = env.client.post("/api/v1/auth/token", json={"username": "ro\x00ot", "password": "x"})
    assert resp.status_code == 401, resp.text
    event = AuditLog(env.database).events(limit=1000)[-1]
    assert (event.action, event.outcome, event.actor) == ("auth.login", "failure", "ro\ufffdot")
    assert event.request_id == resp.headers["x-request-id"]


def test_malformed_login_bodies_are_audited(sqlite_env: Env) -> None:
    env = sqlite_env
    resp = env.client.post(
        "/api/v1/auth/token", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 422
    event = AuditLog(env.database).events(limit=1000)[-1]
    assert event.request_id == resp.headers["x-request-id"]
    assert (event.outcome, event.status_code) == ("failure", 422)


def test_deeply_nested_json_is_422_not_500(sqlite_env: Env) -> None:
    env = sqlite_env
    deep = "[" * 100_000 + "]" * 100_000
    run = env.client.post(
        "/api/v1/recommendations/run",
        files={"grid": ("grid.csv", GRID), "gis": ("gis.csv", GIS)},
        data={"params": deep[:999_000]},
        headers=env.h("eng_a"),
    )
    assert run.status_code == 422, run.text
    assert run.json()["code"] == "invalid_input"
    login = env.client.post(
        "/api/v1/auth/token", content=deep.encode(), headers={"content-type": "application/json"}
    )
    assert login.status_code == 422, login.text
    assert login.json()["code"] == "invalid_input"


def test_failed_logins_cost_ten_times_a_correct_one(
    sqlite_database: Database, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_database)
    clock = [0.0]
    limiter = MemoryRateLimiter(rate_per_s=1e-9, burst=100, clock=lambda: clock[0])
    app = build_app(settings, sqlite_database, rate_limiter=limiter)
    with TestClient(app) as client:
        env = Env(app, client, sqlite_database, settings, app.state.opsforge.auth)
        populate(env)

        def login(password: str) -> int:
            data = {"username": "eng_a", "password": password}
            return client.post("/api/v1/auth/token", data=data).status_code

        assert [login(PASSWORD) for _ in range(5)] == [200] * 5  # one token each
        codes = [login(f"guess-{i}") for i in range(15)]
        assert codes == [401] * 10 + [429] * 5  # 95 tokens left = 10 guesses, not 95


def test_unknown_input_names_are_refused_before_any_staging(
    sqlite_env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Referencing one big artifact under thousands of names must not copy it thousands of times."""
    env = sqlite_env
    run_id = env.seed_run("acme", b"x" * 1000)
    artifact_id = env.client.get(f"/api/v1/runs/{run_id}/artifacts", headers=env.h("eng_a")).json()[
        0
    ]["id"]
    opened: list[str] = []
    runs = env.app.state.opsforge.runs
    real_open = runs.open_artifact

    def counting_open(*args: object, **kwargs: object) -> object:
        opened.append(str(args[1]))
        return real_open(*args, **kwargs)

    monkeypatch.setattr(runs, "open_artifact", counting_open)
    inputs = {f"copy{i}": artifact_id for i in range(200)}
    resp = env.client.post(
        "/api/v1/runs",
        json={"engine": "test", "kind": "echo", "inputs": inputs},
        headers=env.h("eng_a"),
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["context"]["field"] == "inputs"
    assert opened == []


def test_tenant_admin_changes_roles_of_members_only(sqlite_env: Env) -> None:
    env = sqlite_env
    # eng_b exists but only in globex: from acme's admin, it is as unknown as a missing user
    for ref in (env.user_ids["eng_b"], "eng_b", "nobody"):
        resp = env.client.put(
            f"/api/v1/tenants/acme/users/{ref}/role",
            json={"role": "viewer"},
            headers=env.h("admin_a"),
        )
        assert resp.status_code == 404, (ref, resp.text)
        assert "in tenant 'acme'" in resp.json()["detail"]
    assert env.auth.get_user("eng_b").roles == {"globex": "engineer"}
    member = env.client.put(
        f"/api/v1/tenants/acme/users/{env.user_ids['viewer_a']}/role",
        json={"role": "engineer"},
        headers=env.h("admin_a"),
    )
    assert member.status_code == 200, member.text
    assert member.json()["roles"] == {"acme": "engineer"}


def test_last_admin_of_a_tenant_cannot_be_demoted(sqlite_env: Env) -> None:
    env = sqlite_env
    resp = env.client.put(
        f"/api/v1/tenants/acme/users/{env.user_ids['admin_a']}/role",
        json={"role": "viewer"},
        headers=env.h("admin_a"),
    )
    assert resp.status_code == 409, resp.text
    assert "last admin" in resp.json()["detail"]
    # with a second admin, the first may step down
    env.auth.set_membership(env.user_ids["eng_a"], "acme", "admin")
    resp = env.client.put(
        f"/api/v1/tenants/acme/users/{env.user_ids['admin_a']}/role",
        json={"role": "viewer"},
        headers=env.h("admin_a"),
    )
    assert resp.status_code == 200, resp.text
