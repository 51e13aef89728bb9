"""Every error as ``{code, detail, request_id}``: ours, FastAPI's own, and unexpected ones.

The :mod:`opsforge.core.errors` hierarchy is mapped once here to HTTP. FastAPI's 404/405 and
validation errors get the same shape (codes ``not_found``, ``method_not_allowed``,
``invalid_input``). An unhandled exception is a 500 ``internal_error`` whose body names only the
request id; the traceback goes to the log (see ``opsforge.api.middleware``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from opsforge.core.errors import (
    AuthenticationError,
    OpsforgeError,
    RateLimitedError,
)
from opsforge.core.logging import get_logger

__all__ = [
    "ErrorBody",
    "ErrorItem",
    "error_response",
    "install_error_handlers",
    "responses",
]

_log = get_logger(__name__)

_HTTP_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}

_DESCRIPTIONS: Mapping[int, str] = {
    400: "Bad request (unparsable body or parameters).",
    401: "Missing, expired, forged or revoked credentials.",
    403: "Authenticated, but the role does not allow the action.",
    404: "No such object, or not visible to the caller's tenants.",
    409: "The object's state does not allow the action.",
    413: "Request body above the configured limit.",
    422: "Invalid input: the message names the field, what was expected and what came.",
    429: "Rate limit exceeded; see the Retry-After header.",
    500: "Unexpected error; the body names the request id to quote.",
    503: "A dependency (database, broker) does not answer.",
}


class ErrorItem(BaseModel):
    """One validation problem."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    code: str = Field(description="Stable machine-readable code (invalid_input, not_found, ...).")
    detail: str = Field(description="What was expected and what came, for a person.")
    request_id: str = Field(description="Quote it when reporting a problem.")
    context: dict[str, Any] | None = Field(None, description="Machine-readable details.")
    errors: list[ErrorItem] | None = Field(None, description="Validation problems, if any.")


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring error statuses with :class:`ErrorBody`."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        if status == 429:
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            }
        out[status] = entry
    return out


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def error_response(
    status: int,
    code: str,
    detail: str,
    request_id: str,
    *,
    context: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON error response in the house shape."""
    body: dict[str, Any] = {"code": code, "detail": detail, "request_id": request_id}
    if context:
        body["context"] = context
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _describe_validation(errors: Iterable[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    items: list[dict[str, Any]] = []
    messages: list[str] = []
    for err in errors:
        loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
        where = ".".join(str(p) for p in loc) or "<request>"
        kind = str(err.get("type", "invalid"))
        msg = str(err.get("msg", "invalid value"))
        if kind == "json_invalid":
            ctx = err.get("ctx") or {}
            msg = f"malformed JSON body: {ctx.get('error', msg)}"
        items.append({"loc": loc, "msg": msg, "type": kind})
        got = err.get("input")
        shown = "" if kind in ("missing", "json_invalid") else f" (got {str(got)[:80]!r})"
        messages.append(f"{where}: {msg}{shown}")
    detail = "; ".join(messages[:5]) + (
        f"; and {len(messages) - 5} more" if len(messages) > 5 else ""
    )
    return detail or "invalid request", items


async def _opsforge_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OpsforgeError)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(max(1, int(-(-exc.retry_after_s // 1))))
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="opsforge"'
    if exc.http_status >= 500:
        _log.error("request_failed", code=exc.code, detail=exc.message, exc_info=exc)
    context = {k: v for k, v in exc.context.items() if k != "retry_after_s"} or None
    return error_response(
        exc.http_status,
        exc.code,
        exc.message,
        _request_id(request),
        context=context,
        headers=headers,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        detail = f"method {request.method} not allowed on {request.url.path}"
    return error_response(
        exc.status_code, code, detail, _request_id(request), headers=exc.headers or {}
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail, items = _describe_validation(exc.errors())
    return error_response(422, "invalid_input", detail, _request_id(request), errors=items)


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """The database refused a value the client sent (PostgreSQL: a NUL character in text)."""
    _log.warning("request_value_refused_by_database", error=str(exc).splitlines()[0][:200])
    return error_response(
        422,
        "invalid_input",
        "the request holds a value the database cannot store or compare "
        "(for example a NUL character)",
        _request_id(request),
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    _log.error("request_crashed", error_type=type(exc).__name__, exc_info=exc)
    return error_response(
        500,
        "internal_error",
        "internal error; quote the request id when reporting it",
        _request_id(request),
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(OpsforgeError, _opsforge_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unhandled)
