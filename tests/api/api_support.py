"""Support and fixtures of the API tests (imported by each test module): an app over SQLite or PostgreSQL, tenants, users and keys.

Two tenants (``acme``, ``globex``); users ``admin_a``/``eng_a``/``viewer_a`` in acme,
``eng_b`` in globex, and the superuser ``root``; one API key per user with the user's role.
Jobs run inline with two fake kinds so the tests exercise the API, not the engines:
``test.echo`` (copies its ``data`` input) and ``ran.recommend`` (the real request model; turns
a small ``cell_id,issue,tilt_change_deg`` grid file into ``recommendations.json``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from opsforge.api.app import create_app
from opsforge.core.auth.service import AuthService
from opsforge.core.config import Settings, load_settings
from opsforge.core.jobs.registry import JobRegistry
from opsforge.core.jobs.service import build_run_service
from opsforge.core.kinds import JobKind, RunContext
from opsforge.core.ratelimit import RateLimiter
from opsforge.core.storage.db import Database
from opsforge.engines.ran.jobs import RecommendRequest

JWT_SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct-horse-battery"


class EchoRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = "hello"
    fail: bool = False


class EchoResult(BaseModel):
    message: str
    num_bytes: int


def run_echo(request: EchoRequest, ctx: RunContext) -> EchoResult:
    with ctx.stage("read"):
        if request.fail:
            raise RuntimeError("asked to fail")
        data = ctx.input_path("data").read_bytes()
    with ctx.stage("write"):
        (ctx.workdir / "echo.bin").write_bytes(data)
        (ctx.workdir / "message.txt").write_text(request.message, encoding="utf-8")
    return EchoResult(message=request.message, num_bytes=len(data))


class FakeRecommendSummary(BaseModel):
    num_recommendations: int


def run_fake_recommend(request: RecommendRequest, ctx: RunContext) -> FakeRecommendSummary:
    with ctx.input_path("grid").open(encoding="utf-8") as handle:
        rows: list[dict[str, Any]] = [
            {
                "cell_id": int(r["cell_id"]),
                "issue": r["issue"],
                "action": "downtilt" if float(r["tilt_change_deg"]) > 0 else "uptilt",
                "tilt_change_deg": float(r["tilt_change_deg"]),
                "confidence": 0.9,
            }
            for r in csv.DictReader(handle)
        ]
    ctx.input_path("gis")
    doc = {"columns": {}, "num_recommendations": len(rows), "recommendations": rows}
    (ctx.workdir / "recommendations.json").write_text(json.dumps(doc), encoding="utf-8")
    return FakeRecommendSummary(num_recommendations=len(rows))


TEST_KINDS: list[JobKind[Any, Any]] = [
    JobKind("test", "echo", EchoRequest, EchoResult, run_echo, input_names=("data",)),
    JobKind(
        "ran",
        "recommend",
        RecommendRequest,
        FakeRecommendSummary,
        run_fake_recommend,
        input_names=("grid", "gis"),
    ),
    JobKind("test", "noinput", EchoRequest, EchoResult, run_echo, input_names=()),
]


def make_settings(tmp_path: Path, database: Database, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "environment": "test",
        "data_dir": str(tmp_path / "data"),
        "database_url": database.url,
        "log_level": "WARNING",
        "auth": {"jwt_secret": JWT_SECRET},
        "jobs": {"backend": "inline"},
        "artifacts": {"backend": "local"},
        "api": {"rate_limit_per_minute": 100_000, "rate_limit_burst": 10_000},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return load_settings(**base)


def build_app(
    settings: Settings, database: Database, *, rate_limiter: RateLimiter | None = None, **kw: Any
) -> FastAPI:
    runs = build_run_service(settings, database, registry=JobRegistry(TEST_KINDS))
    return create_app(
        settings,
        database=database,
        run_service=runs,
        rate_limiter=rate_limiter,
        start_workers=False,
        **kw,
    )


@dataclass
class Env:
    """The app, a client, and who is who."""

    app: FastAPI
    client: TestClient
    database: Database
    settings: Settings
    auth: AuthService
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)

    def h(self, user: str) -> dict[str, str]:
        """Headers authenticating as ``user`` by API key."""
        return {"X-API-Key": self.keys[user]}

    def submit_echo(
        self, user: str = "eng_a", payload: bytes = b"abc", tenant: str = "acme"
    ) -> str:
        """A finished ``test.echo`` run of ``tenant``; returns its id."""
        run_id = self.seed_run(tenant, payload)
        return run_id

    def seed_run(self, tenant: str, payload: bytes = b"abc", message: str = "hi") -> str:
        """Submit ``test.echo`` directly through the run service (as the CLI would)."""
        folder = Path(self.settings.data_dir) / "seed"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "data.bin"
        path.write_bytes(payload)
        runs = self.app.state.opsforge.runs
        run = runs.submit(
            engine="test",
            kind="echo",
            tenant_id=tenant,
            params={"message": message},
            created_by="seed",
            inputs={"data": path},
        )
        return str(run.id)


USERS: dict[str, tuple[str | None, str | None, bool]] = {
    "admin_a": ("acme", "admin", False),
    "eng_a": ("acme", "engineer", False),
    "viewer_a": ("acme", "viewer", False),
    "eng_b": ("globex", "engineer", False),
    "root": (None, None, True),
}


FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def populate(env: Env) -> None:
    env.auth.password_hasher = FAST_HASHER  # cheap hashes keep the suite fast; login is unchanged
    env.auth.create_tenant("acme", "Acme")
    env.auth.create_tenant("globex", "Globex")
    for username, (tenant, role, superuser) in USERS.items():
        user = env.auth.create_user(
            username, PASSWORD, tenant_id=tenant, role=role, is_superuser=superuser
        )
        env.user_ids[username] = user.id
        key_tenant = tenant or "acme"
        public, plaintext = env.auth.create_api_key(user.id, key_tenant, role or "admin")
        env.keys[username] = plaintext
        env.key_ids[username] = public.id


def redis_available() -> bool:
    """True when something answers on 127.0.0.1:6379."""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def env(database: Database, tmp_path: Path) -> Iterator[Env]:
    """The app over ``database`` (SQLite, and PostgreSQL when it answers), populated."""
    settings = make_settings(tmp_path, database)
    app = build_app(settings, database)
    with TestClient(app) as client:
        state = app.state.opsforge
        environment = Env(app, client, database, settings, state.auth)
        populate(environment)
        yield environment


@pytest.fixture
def sqlite_env(sqlite_database: Database, tmp_path: Path) -> Iterator[Env]:
    """As ``env`` on SQLite only (for tests that need no server matrix)."""
    settings = make_settings(tmp_path, sqlite_database)
    app = build_app(settings, sqlite_database)
    with TestClient(app) as client:
        environment = Env(app, client, sqlite_database, settings, app.state.opsforge.auth)
        populate(environment)
        yield environment
