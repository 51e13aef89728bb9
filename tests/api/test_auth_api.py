"""Login, credentials (expired, forged, revoked), roles on every mutating route, audit."""

# ruff: noqa: F811  (the pytest fixtures env/sqlite_env are imported from api_support)

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from api_support import JWT_SECRET, PASSWORD, Env, env, sqlite_env  # noqa: F401 (fixtures)
from fastapi.routing import APIRoute, iter_route_contexts

from opsforge.core.audit import AuditLog
from opsforge.core.auth.tokens import issue_access_token


def _login(env: Env, username: str, password: str = PASSWORD) -> str:
    resp = env.client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def test_login_form_and_json_and_me(env: Env) -> None:
    token = _login(env, "eng_a")
    me = env.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["roles"] == {"acme": "engineer"}
    assert me.json()["method"] == "jwt"
    as_json = env.client.post(
        "/api/v1/auth/token", json={"username": "viewer_a", "password": PASSWORD}
    )
    assert as_json.status_code == 200
    assert as_json.json()["token_type"] == "bearer"


def test_login_attempts_are_audited(env: Env) -> None:
    bad = env.client.post("/api/v1/auth/token", data={"username": "eng_a", "password": "nope"})
    assert bad.status_code == 401
    assert bad.json()["code"] == "unauthenticated"
    assert bad.headers["www-authenticate"].startswith("Bearer")
    _login(env, "eng_a")
    events = [e for e in AuditLog(env.database).events() if e.action == "auth.login"]
    assert [(e.actor, e.outcome, e.status_code) for e in events] == [
        ("eng_a", "failure", 401),
        ("eng_a", "success", 200),
    ]
    assert events[0].client_ip == "testclient"
    assert AuditLog(env.database).verify().ok


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/json", b'{"username": 3}'),
        ("text/plain", b"username=a&password=b"),
        ("application/json", b"[]"),
    ],
)
def test_bad_login_bodies_are_4xx(sqlite_env: Env, content_type: str, body: bytes) -> None:
    resp = sqlite_env.client.post(
        "/api/v1/auth/token", content=body, headers={"content-type": content_type}
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "invalid_input"


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["name"] = "root"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def test_forged_expired_and_revoked_credentials_are_401(env: Env) -> None:
    user_id = env.user_ids["eng_a"]
    good = _login(env, "eng_a")
    expired, _ = issue_access_token(
        user_id=user_id,
        username="eng_a",
        secret=JWT_SECRET,
        ttl_s=60,
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    wrong_key, _ = issue_access_token(user_id=user_id, username="eng_a", secret="y" * 48)
    claims = jwt.decode(good, JWT_SECRET, algorithms=["HS256"], options={"verify_iss": False})
    none_alg = jwt.encode(claims, key="", algorithm="none")
    for token in (expired, wrong_key, none_alg, _tamper(good), "not.a.jwt", "garbage"):
        resp = env.client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, token
        assert resp.json()["code"] == "unauthenticated"
    for key in ("opsforge_0000000000000000_" + "A" * 43, "nonsense", env.keys["eng_a"] + "x"):
        assert env.client.get("/api/v1/runs", headers={"X-API-Key": key}).status_code == 401
    assert env.client.get("/api/v1/runs").status_code == 401
    revoke = env.client.delete(
        f"/api/v1/tenants/acme/keys/{env.key_ids['eng_a']}", headers=env.h("admin_a")
    )
    assert revoke.status_code == 200
    assert revoke.json()["revoked_at"] is not None
    resp = env.client.get("/api/v1/runs", headers=env.h("eng_a"))
    assert resp.status_code == 401
    assert "revoked" in resp.json()["detail"]


def _mutating_routes(env: Env) -> set[tuple[str, str]]:
    found = set()
    for context in iter_route_contexts(env.app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in (route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
                found.add((method, route.path))
    return found - {("POST", "/api/v1/auth/token")}


MUTATING = [
    ("POST", "/api/v1/runs", {"engine": "test", "kind": "noinput"}),
    ("POST", "/api/v1/runs/{run_id}/cancel", None),
    ("POST", "/api/v1/recommendations/run", "multipart"),
    ("POST", "/api/v1/proposals/{proposal_id}/transition", {"to_status": "accepted"}),
    ("POST", "/api/v1/tenants/{tenant_id}/users", {"username": "x1", "password": PASSWORD}),
    ("PUT", "/api/v1/tenants/{tenant_id}/users/{user_id}/role", {"role": "admin"}),
    ("POST", "/api/v1/tenants/{tenant_id}/keys", {"role": "viewer"}),
    ("DELETE", "/api/v1/tenants/{tenant_id}/keys/{key_id}", None),
]


def test_mutating_route_table_is_complete(sqlite_env: Env) -> None:
    assert {(m, p) for m, p, _ in MUTATING} == _mutating_routes(sqlite_env)


def _proposal(env: Env) -> str:
    from opsforge.core.reviews import ReviewService

    run_id = env.seed_run("acme")
    return ReviewService(env.database).propose(run_id, "acme", "ran", "1", "k", {}).id


@pytest.mark.parametrize(("method", "path", "body"), MUTATING, ids=[m[1] for m in MUTATING])
def test_viewer_cannot_change_anything(
    env: Env, method: str, path: str, body: dict[str, str] | str | None
) -> None:
    concrete = path.format(
        run_id=env.seed_run("acme"),
        proposal_id=_proposal(env) if "proposal_id" in path else "",
        tenant_id="acme",
        user_id=env.user_ids["viewer_a"],
        key_id=env.key_ids["viewer_a"],
    )
    kwargs: dict[str, object] = {}
    if body == "multipart":
        kwargs["files"] = {"grid": ("g.csv", b"cell_id\n1\n"), "gis": ("s.csv", b"x\n")}
    elif body is not None:
        kwargs["json"] = body
    before = len(AuditLog(env.database).events(limit=10_000))
    resp = env.client.request(method, concrete, headers=env.h("viewer_a"), **kwargs)  # type: ignore[arg-type]
    assert resp.status_code == 403, resp.text
    assert resp.json()["code"] == "permission_denied"
    events = AuditLog(env.database).events(limit=10_000)
    assert len(events) == before + 1  # refused mutations are audited too
    assert events[-1].outcome == "denied"
    assert events[-1].actor.startswith("viewer_a")


def test_engineer_is_not_admin(sqlite_env: Env) -> None:
    env = sqlite_env
    resp = env.client.post("/api/v1/tenants/acme/keys", json={}, headers=env.h("eng_a"))
    assert resp.status_code == 403
    other = env.client.get("/api/v1/tenants/globex/users", headers=env.h("admin_a"))
    assert other.status_code == 404  # admin of acme only: globex is not visible


def test_admin_manages_users_and_keys(sqlite_env: Env) -> None:
    env = sqlite_env
    created = env.client.post(
        "/api/v1/tenants/acme/users",
        json={"username": "newbie", "password": PASSWORD, "role": "viewer"},
        headers=env.h("admin_a"),
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    key = env.client.post(
        "/api/v1/tenants/acme/keys",
        json={"user_id": user_id, "role": "viewer", "name": "ci", "expires_in_days": 30},
        headers=env.h("admin_a"),
    )
    assert key.status_code == 201, key.text
    plaintext = key.json()["key"]
    assert env.client.get("/api/v1/runs", headers={"X-API-Key": plaintext}).status_code == 200
    too_high = env.client.post(
        "/api/v1/tenants/acme/keys",
        json={"user_id": user_id, "role": "admin"},
        headers=env.h("admin_a"),
    )
    assert too_high.status_code == 403
    listed = env.client.get("/api/v1/tenants/acme/keys", headers=env.h("admin_a")).json()
    assert all("key" not in k and "key_hash" not in k for k in listed)
    users = env.client.get("/api/v1/tenants/acme/users", headers=env.h("admin_a")).json()
    assert "newbie" in [u["username"] for u in users]
    events = AuditLog(env.database).events(limit=1000)
    create_event = next(e for e in events if e.action == "POST /api/v1/tenants/{tenant_id}/users")
    assert create_event.tenant_id == "acme"
    assert create_event.outcome == "success"
    assert create_event.status_code == 201
    assert create_event.target == "user=newbie"
    assert not [e for e in events if e.method == "GET"]  # reads are not audited
