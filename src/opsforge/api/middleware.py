"""Pure ASGI middleware: request context, security headers, metrics, audit, body limits, tracing.

Pure ASGI (no ``BaseHTTPMiddleware``) keeps the per-request overhead small and lets the body
limit count bytes as they arrive, chunked bodies without ``Content-Length`` included.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Collection
from functools import partial
from typing import Any

import anyio
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opsforge.core.audit import AuditLog, Outcome
from opsforge.core.auth.principal import Principal
from opsforge.core.logging import bind_context, get_logger
from opsforge.core.metrics import Metrics
from opsforge.core.tracing import extract_context

__all__ = ["BodyLimitMiddleware", "RequestContextMiddleware", "TracingMiddleware"]

_log = get_logger("opsforge.api.access")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DOC_PATHS = ("/docs", "/redoc")
_API_CSP = b"default-src 'none'; frame-ancestors 'none'"
_DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'"
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def route_template(scope: Scope) -> str | None:
    """The matched route's path template (``/api/v1/runs/{run_id}``), or None."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


def _outcome(status: int) -> Outcome:
    if status < 400:
        return "success"
    if status in (401, 403):
        return "denied"
    return "failure" if status < 500 else "error"


class RequestContextMiddleware:
    """Request id, log context, security headers, latency metric, access log, audit, 500s.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    metrics
        Where request latency goes.
    audit
        Audit log for mutating calls (POST/PUT/PATCH/DELETE); a route that records its own
        event sets ``request.state.audited = True``. Routes may set ``audit_tenant``,
        ``audit_target`` and ``audit_detail`` on ``request.state``.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics, audit: AuditLog | None) -> None:
        self.app = app
        self.metrics = metrics
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        method: str = scope["method"]
        path: str = scope["path"]
        started = time.perf_counter()
        status_box = [500]
        started_box = [False]
        https = scope.get("scheme") == "https"
        csp = _DOCS_CSP if path.startswith(_DOC_PATHS) else _API_CSP

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                started_box[0] = True
                if method in _MUTATING and self.audit is not None and not state.get("audited"):
                    await self._record(scope, state, message["status"], request_id)
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = request_id
                headers["x-content-type-options"] = "nosniff"
                headers["x-frame-options"] = "DENY"
                headers["referrer-policy"] = "no-referrer"
                headers.setdefault("content-security-policy", csp.decode())
                if https:
                    headers["strict-transport-security"] = "max-age=63072000; includeSubDomains"
            await send(message)

        with bind_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_wrapper)
            except Exception as exc:
                _log.error("request_crashed", method=method, path=path, exc_info=exc)
                if not started_box[0]:
                    await _send_internal_error(send_wrapper, request_id)
            finally:
                duration_s = time.perf_counter() - started
                route = route_template(scope) or "<unmatched>"
                self.metrics.observe_request(route, method, status_box[0], duration_s)
                principal = state.get("principal")
                _log.info(
                    "request_completed",
                    method=method,
                    route=route,
                    path=path,
                    status=status_box[0],
                    duration_ms=round(duration_s * 1000.0, 3),
                    user=principal.actor if isinstance(principal, Principal) else None,
                    tenant=state.get("audit_tenant"),
                    client_ip=(scope.get("client") or ("", 0))[0],
                )

    async def _record(
        self, scope: Scope, state: dict[str, Any], status: int, request_id: str
    ) -> None:
        assert self.audit is not None
        principal = state.get("principal")
        tenant = state.get("audit_tenant")
        if tenant is None and isinstance(principal, Principal) and len(principal.roles) == 1:
            tenant = next(iter(principal.roles))
        params = scope.get("path_params") or {}
        target = state.get("audit_target") or ",".join(f"{k}={v}" for k, v in params.items())
        method: str = scope["method"]
        try:
            await anyio.to_thread.run_sync(
                partial(
                    self.audit.record,
                    actor=principal.actor if isinstance(principal, Principal) else "anonymous",
                    action=f"{method} {route_template(scope) or scope['path']}",
                    outcome=_outcome(status),
                    tenant_id=tenant,
                    target=str(target),
                    method=method,
                    path=scope["path"],
                    client_ip=(scope.get("client") or ("", 0))[0],
                    request_id=request_id,
                    status_code=status,
                    detail=state.get("audit_detail") or {},
                )
            )
        except Exception as exc:  # the response stands; the failure must be loud
            _log.error("audit_write_failed", request_id=request_id, exc_info=exc)


async def _send_internal_error(send: Send, request_id: str) -> None:
    """The house 500 body (the traceback goes to the log, never the response)."""
    await _send_json(
        send,
        500,
        {
            "code": "internal_error",
            "detail": "internal error; quote the request id when reporting it",
            "request_id": request_id,
        },
    )


class _BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than the limit of {limit} bytes")


class BodyLimitMiddleware:
    """Refuse request bodies above a limit with 413 ``payload_too_large``.

    A declared ``Content-Length`` above the limit is refused before reading; otherwise bytes
    are counted as they arrive (chunked bodies included) and reading stops at the limit.

    Parameters
    ----------
    max_body_bytes
        Limit of ordinary bodies. [B]
    max_upload_bytes
        Limit of ``multipart/form-data`` bodies on ``upload_paths``. [B]
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        upload_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.upload_paths = frozenset(upload_paths)

    def limit_for(self, scope: Scope) -> int:
        content_type = _header(scope, b"content-type") or ""
        if scope["path"] in self.upload_paths and content_type.startswith("multipart/form-data"):
            return self.max_upload_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        request_id = str(scope.get("state", {}).get("request_id", ""))
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit, request_id)
            return
        received = [0]
        exceeded = [False]
        responded = [False]

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received[0] += len(message.get("body", b""))
                if received[0] > limit:
                    exceeded[0] = True
                    raise _BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            if (
                exceeded[0]
                and message["type"] == "http.response.start"
                and message["status"] != 413
            ):
                if not responded[0]:
                    responded[0] = True
                    await self._refuse(send, limit, request_id)
                return
            if exceeded[0] and responded[0]:
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            if not responded[0]:
                responded[0] = True
                await self._refuse(send, limit, request_id)

    @staticmethod
    async def _refuse(send: Send, limit: int, request_id: str) -> None:
        await _send_json(
            send,
            413,
            {
                "code": "payload_too_large",
                "detail": f"request body larger than the limit of {limit} bytes",
                "request_id": request_id,
            },
        )


class TracingMiddleware:
    """One server span per HTTP request, named ``METHOD /route/{template}``."""

    def __init__(self, app: ASGIApp, *, provider: TracerProvider) -> None:
        self.app = app
        self.tracer = provider.get_tracer("opsforge.api")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        method: str = scope["method"]
        status_box = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            method, context=extract_context(headers), kind=SpanKind.SERVER
        ) as span:
            span.set_attribute("http.request.method", method)
            span.set_attribute("url.path", scope["path"])
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                route = route_template(scope)
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status_box[0])
                request_id = scope.get("state", {}).get("request_id")
                if request_id:
                    span.set_attribute("opsforge.request_id", str(request_id))
                if status_box[0] >= 500:
                    span.set_status(Status(StatusCode.ERROR))
