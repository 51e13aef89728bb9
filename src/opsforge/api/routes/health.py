"""Liveness, readiness and Prometheus metrics (no authentication)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

import opsforge
from opsforge.api.deps import AppState, StateDep
from opsforge.api.errors import error_response, responses
from opsforge.core.errors import OpsforgeError
from opsforge.core.metrics import CONTENT_TYPE_LATEST

__all__ = ["router"]

router = APIRouter(tags=["health"])


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str]


def _version() -> str:
    return opsforge.__version__


@router.get("/health", response_model=HealthResponse, summary="Liveness", responses=responses(500))
async def health() -> HealthResponse:
    """The process answers (no dependency is checked)."""
    return HealthResponse(version=_version())


@router.get(
    "/api/v1/health",
    response_model=HealthResponse,
    summary="Liveness (seed-000 path)",
    responses=responses(500),
)
async def api_health() -> HealthResponse:
    """Same as ``/health``, at the path of the RAN optimizer's first API."""
    return HealthResponse(version=_version())


def _check_broker(url: str) -> None:
    from kombu.connection import Connection

    from opsforge.core.errors import ServiceUnavailableError

    try:
        with Connection(url, connect_timeout=2) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        raise ServiceUnavailableError(f"broker does not answer: {exc.__class__.__name__}") from exc


def _readiness(state: AppState) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        state.database.ping()
        checks["database"] = "ok"
    except OpsforgeError as exc:
        checks["database"] = f"failed: {exc.message}"
    if state.settings.jobs.backend == "celery":
        try:
            _check_broker(state.settings.broker_url)
            checks["broker"] = "ok"
        except OpsforgeError as exc:
            checks["broker"] = f"failed: {exc.message}"
    return checks


@router.get(
    "/ready",
    response_model=ReadyResponse,
    summary="Readiness: database, and the broker when jobs.backend is celery",
    responses=responses(503),
)
async def ready(request: Request, state: StateDep) -> ReadyResponse | JSONResponse:
    """200 when every dependency answers, else 503 naming the ones that failed."""
    checks = await run_in_threadpool(_readiness, state)
    failed = sorted(name for name, value in checks.items() if value != "ok")
    if failed:
        from opsforge.core.logging import get_logger

        get_logger(__name__).warning("readiness_failed", checks=checks)
        return error_response(
            503,
            "service_unavailable",
            f"not ready: {', '.join(failed)} failed",
            str(getattr(request.state, "request_id", "")),
            context={"checks": checks, "failed": failed},
        )
    return ReadyResponse(checks=checks)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **responses(500)},
)
async def metrics(state: StateDep) -> Response:
    """Exposition text (all workers' metrics in multiprocess mode)."""
    body = await run_in_threadpool(state.metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
