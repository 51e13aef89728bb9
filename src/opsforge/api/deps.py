"""Dependencies: the app's services, the authenticated caller, role checks.

``CurrentPrincipal`` authenticates (``X-API-Key`` or ``Authorization: Bearer``), applies the
per-caller rate limit, and binds ``user`` to the log context. Credential lookups are cached in
:class:`~opsforge.core.auth.service.AuthService`, so a warm request touches no database for
auth; only a cache miss is sent to a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from opsforge.core.audit import AuditLog
from opsforge.core.auth.principal import Principal, Role
from opsforge.core.auth.service import AuthService
from opsforge.core.config import Settings
from opsforge.core.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from opsforge.core.jobs.service import RunService
from opsforge.core.metrics import Metrics
from opsforge.core.ratelimit import MemoryRateLimiter, RateDecision, RateLimiter
from opsforge.core.reviews import ReviewService
from opsforge.core.storage.db import Database

__all__ = [
    "Admin",
    "AppState",
    "CurrentPrincipal",
    "Engineer",
    "StateDep",
    "Viewer",
    "authenticate",
    "client_ip",
    "get_state",
    "require_role",
    "take_token",
]


@dataclass
class AppState:
    """Everything a request may use; built once per app by ``create_app``."""

    settings: Settings
    database: Database
    auth: AuthService
    runs: RunService
    reviews: ReviewService
    audit: AuditLog
    limiter: RateLimiter
    metrics: Metrics


async def get_state(request: Request) -> AppState:
    """The app's :class:`AppState` (async: no worker-thread hop for a dict lookup)."""
    state = request.app.state.opsforge
    assert isinstance(state, AppState)
    return state


StateDep = Annotated[AppState, Depends(get_state)]

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token", auto_error=False, scheme_name="BearerJWT"
)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKey")


def client_ip(request: Request) -> str:
    """The peer address (uvicorn's ``--proxy-headers`` sets it from trusted proxies)."""
    return request.client.host if request.client else ""


async def take_token(state: AppState, key: str, cost: float = 1.0) -> RateDecision:
    """Take ``cost`` tokens from bucket ``key`` (Redis calls go to the thread pool)."""
    limiter = state.limiter
    if isinstance(limiter, MemoryRateLimiter):
        return limiter.hit(key, cost)
    return await run_in_threadpool(limiter.hit, key, cost)


async def _limit(state: AppState, key: str) -> None:
    decision = await take_token(state, key)
    if not decision.allowed:
        state.metrics.rate_limited.inc()
        raise RateLimitedError(
            f"rate limit of {state.settings.api.rate_limit_per_minute}/min "
            f"(burst {decision.limit}) exceeded; retry in {decision.retry_after_header} s",
            retry_after_s=decision.retry_after_s,
        )


async def authenticate(request: Request, token: str | None, api_key: str | None) -> Principal:
    """The authenticated caller (rate limited), once per request.

    The result is kept on ``request.state.principal``: a second call in the same request
    returns it without taking another rate-limit token.

    Raises
    ------
    AuthenticationError
        No credentials, or credentials that are malformed, forged, expired or revoked.
    RateLimitedError
        The caller's bucket is empty.
    """
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    state = await get_state(request)
    auth = state.auth
    principal: Principal | None
    if api_key:
        principal = auth.cached_principal(api_key=api_key)
        if principal is None:
            principal = await run_in_threadpool(partial(auth.principal_for_api_key, api_key))
    elif token:
        principal = auth.cached_principal(token=token)
        if principal is None:
            principal = await run_in_threadpool(partial(auth.principal_for_token, token))
    else:
        raise AuthenticationError(
            "credentials required: send `Authorization: Bearer <token>` or `X-API-Key: <key>`"
        )
    request.state.principal = principal
    # Bound for the rest of this request's task (the middleware's bind_context resets it).
    structlog.contextvars.bind_contextvars(
        user=principal.actor,
        tenant=next(iter(principal.roles)) if len(principal.roles) == 1 else None,
    )
    await _limit(state, principal.rate_limit_key)
    return principal


_Token = Annotated[str | None, Depends(bearer_scheme)]
_ApiKey = Annotated[str | None, Depends(api_key_scheme)]


async def get_principal(request: Request, token: _Token, api_key: _ApiKey) -> Principal:
    """The authenticated caller (rate limited); see :func:`authenticate`."""
    return await authenticate(request, token, api_key)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_role(min_role: Role) -> object:
    """A dependency: the authenticated caller has ``min_role`` in at least one tenant (else 403).

    Authentication and the role check are one dependency (fewer dependency levels to solve on
    every request); the security schemes stay declared for OpenAPI. Per-object checks (the
    run's own tenant) happen in the handler with :meth:`Principal.require`.
    """

    async def check(request: Request, token: _Token, api_key: _ApiKey) -> Principal:
        principal = await authenticate(request, token, api_key)
        tenants = principal.tenant_ids(min_role)
        if tenants is not None and not tenants:
            raise PermissionDeniedError(
                f"{min_role} role required; {principal.username} has "
                f"{dict(principal.roles) or 'no role'}",
                required_role=min_role,
            )
        return principal

    return Depends(check)


Viewer = Annotated[Principal, require_role("viewer")]
Engineer = Annotated[Principal, require_role("engineer")]
Admin = Annotated[Principal, require_role("admin")]
