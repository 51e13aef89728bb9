"""The FastAPI application factory.

``create_app()`` builds one app from settings: services (auth, runs, reviews, audit, rate
limiter, metrics), routers, error handlers and middleware. Run it with
``uvicorn --factory opsforge.api.app:create_app`` or ``opsforge serve``.

Middleware, outermost first: request context (request id, security headers, latency metric,
access log, audit of mutating calls, 500 for unhandled errors) -> CORS -> body size limit ->
tracing (when enabled) -> FastAPI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter
from starlette.middleware.cors import CORSMiddleware

import opsforge
from opsforge.api.deps import AppState
from opsforge.api.errors import install_error_handlers
from opsforge.api.middleware import BodyLimitMiddleware, RequestContextMiddleware, TracingMiddleware
from opsforge.api.routes import admin, auth, health, proposals, recommendations, runs
from opsforge.core.audit import AuditLog
from opsforge.core.auth.service import AuthService
from opsforge.core.config import Settings, get_settings
from opsforge.core.jobs.service import RunService, build_run_service
from opsforge.core.logging import configure_logging, get_logger
from opsforge.core.metrics import (
    Metrics,
    RunStateCollector,
    run_counts,
    run_durations,
    stage_durations,
)
from opsforge.core.ratelimit import RateLimiter, build_rate_limiter
from opsforge.core.reviews import ReviewService
from opsforge.core.storage.db import Database
from opsforge.core.tracing import build_tracer_provider

__all__ = ["UPLOAD_PATHS", "create_app"]

_log = get_logger(__name__)

#: Routes taking multipart uploads: their bodies get ``api.max_upload_bytes``.
UPLOAD_PATHS = ("/api/v1/recommendations/run",)


def _openapi_tags() -> list[dict[str, Any]]:
    return [
        {"name": "health", "description": "Liveness, readiness, metrics."},
        {"name": "auth", "description": "Login and identity."},
        {"name": "runs", "description": "Engine runs and their artifacts."},
        {"name": "recommendations", "description": "RAN optimizer (seed-000 paths)."},
        {"name": "proposals", "description": "Review lifecycle of what engines propose."},
        {"name": "admin", "description": "Users and API keys of a tenant."},
    ]


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    run_service: RunService | None = None,
    rate_limiter: RateLimiter | None = None,
    span_exporter: SpanExporter | None = None,
    start_workers: bool | None = None,
) -> FastAPI:
    """Build the API.

    Parameters
    ----------
    settings
        Default :func:`get_settings`.
    database, run_service, rate_limiter
        Override the services built from settings (tests).
    span_exporter
        Export spans here (tests); otherwise OTLP when ``tracing.enabled``.
    start_workers
        Start the local worker pool with the app (default: when ``jobs.backend`` is ``local``).

    Raises
    ------
    ConfigError
        ``environment`` is ``prod`` and ``auth.jwt_secret`` is missing.
    """
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    database = database or (run_service.database if run_service else None)
    database = database or Database(settings.resolved_database_url)
    runs_service = run_service or build_run_service(settings, database)
    metrics = Metrics()
    metrics.add_collector(
        RunStateCollector(
            partial(run_counts, database),
            partial(run_durations, database),
            partial(stage_durations, database),
        )
    )
    state = AppState(
        settings=settings,
        database=database,
        auth=AuthService.from_settings(settings, database),
        runs=runs_service,
        reviews=ReviewService(database),
        audit=AuditLog(database),
        limiter=rate_limiter or build_rate_limiter(settings),
        metrics=metrics,
    )
    dispatcher = runs_service.dispatcher
    workers = settings.jobs.backend == "local" if start_workers is None else start_workers

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        start = getattr(dispatcher, "start", None)
        if workers and callable(start):
            start()
        _log.info("api_started", environment=settings.environment, jobs=settings.jobs.backend)
        try:
            yield
        finally:
            stop = getattr(dispatcher, "stop", None)
            if workers and callable(stop):
                stop()
            _log.info("api_stopped")

    app = FastAPI(
        title="opsforge",
        version=opsforge.__version__,
        description=(
            "Production decision engines for network and plant operations. Errors are "
            "`{code, detail, request_id}`; authenticate with `Authorization: Bearer <JWT>` "
            "(from `POST /api/v1/auth/token`) or `X-API-Key`."
        ),
        openapi_tags=_openapi_tags(),
        lifespan=lifespan,
    )
    app.state.opsforge = state
    install_error_handlers(app)
    for module in (health, auth, runs, recommendations, proposals, admin):
        app.include_router(module.router)

    provider = build_tracer_provider(settings.tracing, span_exporter)
    if provider is not None:
        app.add_middleware(TracingMiddleware, provider=provider)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.api.max_body_bytes,
        max_upload_bytes=settings.api.max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )
    if settings.api.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_allow_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics, audit=state.audit)
    return app
