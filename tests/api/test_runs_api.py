"""Runs over the API: submit, get, list with filters and cursor, cancel, artifacts, tenancy."""

# ruff: noqa: F811  (the pytest fixtures env/sqlite_env are imported from api_support)

from __future__ import annotations

import hashlib

import pytest
from api_support import Env, env, sqlite_env  # noqa: F401 (fixtures)


def test_submit_get_and_download(env: Env) -> None:
    first = env.seed_run("acme", b"payload-1")
    artifacts = env.client.get(f"/api/v1/runs/{first}/artifacts", headers=env.h("eng_a"))
    assert artifacts.status_code == 200, artifacts.text
    names = {a["name"]: a for a in artifacts.json()}
    assert {"data", "echo.bin", "message.txt"} <= set(names)
    body = {
        "engine": "test",
        "kind": "echo",
        "params": {"message": "from the api"},
        "inputs": {"data": names["echo.bin"]["id"]},
    }
    resp = env.client.post("/api/v1/runs", json=body, headers=env.h("eng_a"))
    assert resp.status_code == 202, resp.text
    run = resp.json()
    assert run["tenant_id"] == "acme"
    assert run["created_by"] == "eng_a"
    got = env.client.get(f"/api/v1/runs/{run['id']}", headers=env.h("viewer_a")).json()
    assert got["status"] == "succeeded"
    assert got["result"]["message"] == "from the api"
    outputs = env.client.get(f"/api/v1/runs/{run['id']}/artifacts", headers=env.h("viewer_a"))
    echo = next(a for a in outputs.json() if a["name"] == "echo.bin")
    download = env.client.get(
        f"/api/v1/runs/{run['id']}/artifacts/{echo['id']}", headers=env.h("viewer_a")
    )
    assert download.status_code == 200
    assert download.content == b"payload-1"
    assert download.headers["etag"] == f'"{hashlib.sha256(b"payload-1").hexdigest()}"'
    assert "attachment" in download.headers["content-disposition"]


def test_list_filters_and_cursor_pagination(env: Env) -> None:
    ids = [env.seed_run("acme", f"p{i}".encode(), message=f"m{i}") for i in range(5)]
    env.seed_run("globex")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, "engine": "test"}
        if cursor:
            params["cursor"] = cursor
        page = env.client.get("/api/v1/runs", params=params, headers=env.h("viewer_a")).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))  # newest first, acme only
    none = env.client.get(
        "/api/v1/runs", params={"status": "failed"}, headers=env.h("viewer_a")
    ).json()
    assert none["items"] == []
    bad = env.client.get("/api/v1/runs", params={"cursor": "garbage!"}, headers=env.h("eng_a"))
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_input"
    root = env.client.get("/api/v1/runs", headers={"X-API-Key": env.keys["root"]}).json()
    assert len(root["items"]) == 5  # a superuser's key is limited to its tenant


def test_tenant_isolation_is_404(env: Env) -> None:
    run_a = env.seed_run("acme")
    art = env.client.get(f"/api/v1/runs/{run_a}/artifacts", headers=env.h("eng_a")).json()[0]
    for path in (
        f"/api/v1/runs/{run_a}",
        f"/api/v1/runs/{run_a}/artifacts",
        f"/api/v1/runs/{run_a}/artifacts/{art['id']}",
        f"/api/v1/recommendations/{run_a}/status",
    ):
        resp = env.client.get(path, headers=env.h("eng_b"))
        assert resp.status_code == 404, (path, resp.text)
        assert resp.json()["code"] == "not_found"
    cancel = env.client.post(f"/api/v1/runs/{run_a}/cancel", headers=env.h("eng_b"))
    assert cancel.status_code == 404
    listed = env.client.get("/api/v1/runs", headers=env.h("eng_b")).json()
    assert run_a not in [r["id"] for r in listed["items"]]
    forbidden_tenant = env.client.get(
        "/api/v1/runs", params={"tenant": "acme"}, headers=env.h("eng_b")
    ).json()
    assert forbidden_tenant["items"] == []
    steal = env.client.post(
        "/api/v1/runs",
        json={"engine": "test", "kind": "echo", "inputs": {"data": art["id"]}},
        headers=env.h("eng_b"),
    )
    assert steal.status_code == 404  # another tenant's artifact cannot be used as input


def test_cancel_finished_run_is_409(env: Env) -> None:
    run_id = env.seed_run("acme")
    resp = env.client.post(f"/api/v1/runs/{run_id}/cancel", headers=env.h("eng_a"))
    assert resp.status_code == 409
    assert resp.json()["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"engine": "test", "kind": "echo", "params": {"message": 3}}, "message"),
        ({"engine": "test", "kind": "nope"}, "nope"),
        ({"engine": "test", "kind": "echo"}, "inputs"),
        ({"engine": "Bad Engine", "kind": "echo"}, "engine"),
        ({"engine": "test", "kind": "echo", "surprise": 1}, "surprise"),
        ({"engine": "test", "kind": "echo", "tenant": "globex"}, "globex"),
    ],
)
def test_bad_submissions_are_4xx(sqlite_env: Env, body: dict[str, object], field: str) -> None:
    resp = sqlite_env.client.post("/api/v1/runs", json=body, headers=sqlite_env.h("eng_a"))
    assert 400 <= resp.status_code < 500, resp.text
    assert field in resp.json()["detail"]
