"""``GET /api/v1/recommendations/{run_id}/changes?baseline=``: two real ``ran.recommend`` runs
through the API (the real job kind, not the fake one of the other API tests), compared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from api_support import TEST_KINDS, Env, make_settings, populate
from fastapi.testclient import TestClient

from opsforge.api.app import create_app
from opsforge.core.jobs.registry import JobRegistry
from opsforge.core.jobs.service import build_run_service
from opsforge.core.storage.db import Database
from opsforge.engines.ran import io
from opsforge.engines.ran.jobs import JOB_KINDS
from opsforge.engines.ran.simulate import SimulationConfig, simulate_network


@pytest.fixture
def ran_env(sqlite_database: Database, tmp_path: Path) -> Iterator[Env]:
    settings = make_settings(tmp_path, sqlite_database)
    echo = [k for k in TEST_KINDS if (k.engine, k.kind) == ("test", "echo")]
    registry = JobRegistry([*JOB_KINDS, *echo])
    runs = build_run_service(settings, sqlite_database, registry=registry)
    app = create_app(settings, database=sqlite_database, run_service=runs, start_workers=False)
    with TestClient(app) as client:
        environment = Env(app, client, sqlite_database, settings, app.state.opsforge.auth)
        populate(environment)
        yield environment


def _submit(env: Env, grid: Path, gis: Path, user: str = "eng_a") -> str:
    resp = env.client.post(
        "/api/v1/recommendations/run",
        files={"grid": ("grid.csv", grid.read_bytes()), "gis": ("gis.csv", gis.read_bytes())},
        data={"params": '{"outputs": ["recommendations"]}'},
        headers=env.h(user),
    )
    assert resp.status_code == 202, resp.text
    run_id = str(resp.json()["run_id"])
    status = env.client.get(f"/api/v1/recommendations/{run_id}/status", headers=env.h(user))
    assert status.json()["status"] == "succeeded", status.json()
    return run_id


def _changes(env: Env, run_id: str, user: str = "viewer_a", **params: Any) -> Any:
    return env.client.get(
        f"/api/v1/recommendations/{run_id}/changes", params=params, headers=env.h(user)
    )


def test_changes_between_two_runs(ran_env: Env, tmp_path: Path) -> None:
    net = simulate_network(SimulationConfig(num_sites=12), seed=5)
    gis = io.write_gis_csv(net.gis, tmp_path / "gis.csv")
    grid = io.write_grid_csv(net.grid, tmp_path / "grid.csv")
    gone = int(net.gis["cell_id"][0])
    grid2 = io.write_grid_csv(net.grid.filter(pl.col("cell_id") != gone), tmp_path / "grid2.csv")
    before = _submit(ran_env, grid, gis)
    after = _submit(ran_env, grid2, gis)

    resp = _changes(ran_env, after, baseline=before)
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert (doc["run_id"], doc["baseline_run_id"]) == (after, before)
    assert doc["counts_per_verdict"]["no_measurements_after"] == 1
    assert sum(doc["counts_per_verdict"].values()) == doc["num_changes"]
    assert doc["params_differ"] is False
    rows = {r["cell_id"]: r for r in doc["items"]}
    assert rows[gone]["verdict"] == "no_measurements_after"
    assert "in none after" in rows[gone]["reason"]
    proposed = [r for r in doc["items"] if r["previous_issue"] is not None]
    assert proposed, "the baseline run proposed nothing"
    assert all(r["baseline_review_status"] == "proposed" for r in proposed)
    assert all(
        r["baseline_proposal_id"] is None for r in doc["items"] if r["previous_issue"] is None
    )
    row = proposed[0]  # the engineer moves the baseline's proposal on, with this evidence
    path = f"/api/v1/proposals/{row['baseline_proposal_id']}/transition"
    moved = ran_env.client.post(
        path, json={"to_status": "accepted", "reason": row["verdict"]}, headers=ran_env.h("eng_a")
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["subject"] == str(row["cell_id"])
    again = {r["cell_id"]: r for r in _changes(ran_env, after, baseline=before).json()["items"]}
    assert again[row["cell_id"]]["baseline_review_status"] == "accepted"
    only = _changes(ran_env, after, baseline=before, verdict="no_measurements_after").json()
    assert [r["cell_id"] for r in only["items"]] == [gone]
    if doc["num_changes"] > 1:  # pagination walks every row once
        first = _changes(ran_env, after, baseline=before, limit=1).json()
        second = _changes(ran_env, after, baseline=before, limit=1, cursor=first["next_cursor"])
        assert first["items"][0] != second.json()["items"][0]

    assert _changes(ran_env, after, baseline=after).status_code == 422
    bad = _changes(ran_env, after, baseline=before, verdict="great")
    assert bad.status_code == 422
    assert "unknown verdict" in bad.json()["detail"]
    assert _changes(ran_env, after, user="eng_b", baseline=before).status_code == 404
    echo = ran_env.seed_run("acme")
    assert _changes(ran_env, after, baseline=echo).status_code == 422
    assert _changes(ran_env, after).status_code == 422  # baseline is required
