"""Seed-000 RAN endpoints and the review lifecycle of the proposals they create."""

# ruff: noqa: F811  (the pytest fixtures env/sqlite_env are imported from api_support)

from __future__ import annotations

from api_support import Env, env  # noqa: F401 (fixtures)

GRID = (
    b"cell_id,issue,tilt_change_deg\n"
    b"101,overshooter,1.0\n"
    b"102,undershooter,-1.0\n"
    b"101,overshooter,2.0\n"
)
GIS = b"cell_id,lat,lon\n101,39.7,-104.9\n102,39.8,-104.8\n"


def _submit(env: Env, user: str = "eng_a", **form: str) -> str:
    resp = env.client.post(
        "/api/v1/recommendations/run",
        files={"grid": ("grid.csv", GRID), "gis": ("gis.csv", GIS)},
        data={"operator": "DISH", "region": "Denver", **form},
        headers=env.h(user),
    )
    assert resp.status_code == 202, resp.text
    assert resp.json()["status"] in {"queued", "running", "succeeded"}
    return str(resp.json()["run_id"])


def test_run_status_results_and_cell_history(env: Env) -> None:
    run_id = _submit(env)
    status = env.client.get(f"/api/v1/recommendations/{run_id}/status", headers=env.h("viewer_a"))
    assert status.status_code == 200
    assert status.json()["status"] == "succeeded"
    assert status.json()["result"] == {"num_recommendations": 3}
    run = env.client.get(f"/api/v1/runs/{run_id}", headers=env.h("viewer_a")).json()
    assert run["params"]["operator_config"] == {"operator": "DISH", "region": "Denver"}

    first = env.client.get(
        f"/api/v1/recommendations/{run_id}/results", params={"limit": 2}, headers=env.h("viewer_a")
    ).json()
    assert first["num_recommendations"] == 3
    assert [r["cell_id"] for r in first["items"]] == [101, 102]
    second = env.client.get(
        f"/api/v1/recommendations/{run_id}/results",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=env.h("viewer_a"),
    ).json()
    assert [r["tilt_change_deg"] for r in second["items"]] == [2.0]
    assert second["next_cursor"] is None

    history = env.client.get("/api/v1/cells/101/recommendations", headers=env.h("viewer_a"))
    assert history.status_code == 200
    assert len(history.json()) == 2  # once, although the results were read twice
    assert {p["kind"] for p in history.json()} == {"overshooter"}
    assert env.client.get("/api/v1/cells/101/recommendations", headers=env.h("eng_b")).json() == []

    # inputs of this run can be referenced by a second run instead of uploading again
    artifacts = env.client.get(f"/api/v1/runs/{run_id}/artifacts", headers=env.h("eng_a")).json()
    ids = {a["name"]: a["id"] for a in artifacts if a["role"] == "input"}
    again = env.client.post(
        "/api/v1/recommendations/run",
        data={"grid_artifact_id": ids["grid"], "gis_artifact_id": ids["gis"]},
        headers=env.h("eng_a"),
    )
    assert again.status_code == 202, again.text


def test_proposal_lifecycle(env: Env) -> None:
    run_id = _submit(env)
    env.client.get(f"/api/v1/recommendations/{run_id}/results", headers=env.h("viewer_a"))
    proposal = env.client.get("/api/v1/cells/102/recommendations", headers=env.h("eng_a")).json()[0]
    pid = proposal["id"]
    path = f"/api/v1/proposals/{pid}/transition"
    accepted = env.client.post(
        path, json={"to_status": "accepted", "reason": "looks right"}, headers=env.h("eng_a")
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    wrong = env.client.post(path, json={"to_status": "verified"}, headers=env.h("eng_a"))
    assert wrong.status_code == 409
    assert "cannot go from accepted to verified" in wrong.json()["detail"]
    bad_status = env.client.post(path, json={"to_status": "done"}, headers=env.h("eng_a"))
    assert bad_status.status_code == 422
    detail = env.client.get(f"/api/v1/proposals/{pid}", headers=env.h("viewer_a")).json()
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [
        ("none", "proposed"),
        ("proposed", "accepted"),
    ]
    assert detail["history"][1]["reason"] == "looks right"
    assert detail["history"][1]["actor"].startswith("eng_a")
    assert env.client.get(f"/api/v1/proposals/{pid}", headers=env.h("eng_b")).status_code == 404
    other = env.client.post(path, json={"to_status": "applied"}, headers=env.h("eng_b"))
    assert other.status_code == 404


def test_bad_recommendation_requests(env: Env) -> None:
    cases = [
        ({"files": {"grid": ("g.csv", GRID)}}, "gis"),
        (
            {"files": {"grid": ("g.csv", GRID), "gis": ("s.csv", GIS)}, "data": {"params": "{"}},
            "JSON",
        ),
        (
            {"files": {"grid": ("g.csv", GRID), "gis": ("s.csv", GIS)}, "data": {"params": "[]"}},
            "object",
        ),
        (
            {
                "files": {"grid": ("g.csv", GRID), "gis": ("s.csv", GIS)},
                "data": {"params": '{"x": 1}'},
            },
            "x",
        ),
        ({"data": {"grid_artifact_id": "nope", "gis_artifact_id": "nope"}}, "nope"),
    ]
    for kwargs, needle in cases:
        resp = env.client.post(
            "/api/v1/recommendations/run",
            headers=env.h("eng_a"),
            **kwargs,  # type: ignore[arg-type]
        )
        assert 400 <= resp.status_code < 500, resp.text
        assert needle in resp.json()["detail"], resp.json()
    echo = env.seed_run("acme")
    not_ran = env.client.get(f"/api/v1/recommendations/{echo}/results", headers=env.h("eng_a"))
    assert not_ran.status_code == 422
    assert "not ran.recommend" in not_ran.json()["detail"]


def test_concurrent_first_reads_file_each_proposal_once(env: Env) -> None:
    import threading

    from opsforge.api.routes.recommendations import ensure_proposals, read_recommendation_rows

    run_id = _submit(env)
    state = env.app.state.opsforge
    run = state.runs.get(run_id, tenant_ids=None)
    rows = read_recommendation_rows(state, run)
    barrier = threading.Barrier(5)
    counts: list[int] = []
    errors: list[BaseException] = []

    def first_read() -> None:
        try:
            barrier.wait(timeout=10)
            counts.append(ensure_proposals(state, run, rows))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_read) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert counts == [3] * 5
    history = env.client.get("/api/v1/cells/101/recommendations", headers=env.h("viewer_a"))
    assert len(history.json()) == 2  # two rows for cell 101 (same issue), each filed once
    pid = history.json()[0]["id"]
    detail = env.client.get(f"/api/v1/proposals/{pid}", headers=env.h("viewer_a")).json()
    assert [h["from_status"] for h in detail["history"]] == ["none"]


def test_changes_need_cell_stats_from_both_runs(env: Env) -> None:
    """Runs that wrote no cell_stats.csv (the fake kind here, or a release before it) are a
    409 that names the file, not a 500."""
    first, second = _submit(env), _submit(env)
    resp = env.client.get(
        f"/api/v1/recommendations/{second}/changes",
        params={"baseline": first},
        headers=env.h("viewer_a"),
    )
    assert resp.status_code == 409, resp.text
    assert "cell_stats.csv" in resp.json()["detail"]
