"""Login (JWT) and the caller's identity.

``POST /api/v1/auth/token`` takes the OAuth2 password form (``username``, ``password``) or the
same fields as JSON. Every attempt, success or failure, is audited; failed attempts are rate
limited per client address.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from opsforge.api.deps import CurrentPrincipal, StateDep, client_ip, take_token
from opsforge.api.errors import responses
from opsforge.core.auth.principal import Role
from opsforge.core.auth.schemas import TokenResponse
from opsforge.core.errors import AuthenticationError, InvalidInputError, RateLimitedError

__all__ = ["router"]

#: Tokens of the per-address login bucket a failed login uses (a successful one uses 1).
LOGIN_FAILURE_COST = 10

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class MeResponse(BaseModel):
    user_id: str
    username: str
    is_superuser: bool
    roles: dict[str, Role]
    method: str
    key_id: str | None


_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password"]},
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
            "application/json": {"schema": LoginRequest.model_json_schema()},
        },
    }
}


async def _read_login(request: Request) -> LoginRequest:
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("application/json"):
            data: Any = json.loads(await request.body())
        elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            data = {k: v for k, v in form.items() if isinstance(v, str)}
        else:
            raise InvalidInputError(
                "login body must be application/x-www-form-urlencoded or application/json, "
                f"got {content_type or 'no content type'!r}",
                field="body",
            )
        return LoginRequest.model_validate(data)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"malformed JSON body: {exc.msg}", field="body") from exc
    except (RecursionError, UnicodeDecodeError) as exc:
        raise InvalidInputError("malformed JSON body", field="body") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInputError(f"login: {field}: {first['msg']}", field=field) from exc


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Log in: username and password for a bearer token",
    openapi_extra=_LOGIN_BODY,
    responses=responses(401, 413, 422, 429),
)
async def login(request: Request, state: StateDep) -> TokenResponse:
    """Exchange a username and password for a JWT access token (audited)."""
    ip = client_ip(request)
    body = await _read_login(request)  # a malformed body is audited by the middleware
    request.state.audited = True
    record = partial(
        state.audit.record,
        action="auth.login",
        method="POST",
        path=request.url.path,
        client_ip=ip,
        request_id=str(request.state.request_id),
    )
    decision = await take_token(state, f"login:{ip}")
    if not decision.allowed:
        state.metrics.rate_limited.inc()
        await run_in_threadpool(
            partial(record, actor=body.username, outcome="denied", status_code=429)
        )
        raise RateLimitedError(
            f"too many login attempts from {ip}; retry in {decision.retry_after_header} s",
            retry_after_s=decision.retry_after_s,
        )
    try:
        token, principal = await run_in_threadpool(
            partial(state.auth.login, body.username, body.password)
        )
    except AuthenticationError:
        # A failed attempt costs LOGIN_FAILURE_COST tokens of the address's bucket, so password
        # guessing gets a tenth of the API rate while correct logins cost one token.
        extra = min(LOGIN_FAILURE_COST - 1, decision.remaining)
        if extra > 0:
            await take_token(state, f"login:{ip}", cost=extra)
        await run_in_threadpool(
            partial(record, actor=body.username, outcome="failure", status_code=401)
        )
        raise
    await run_in_threadpool(
        partial(record, actor=principal.username, outcome="success", status_code=200)
    )
    return TokenResponse(access_token=token, expires_in=state.auth.jwt_ttl_s)


@router.get(
    "/me",
    response_model=MeResponse,
    summary="Who am I",
    responses=responses(401, 429),
)
async def me(principal: CurrentPrincipal) -> MeResponse:
    """The authenticated caller and their roles."""
    return MeResponse(
        user_id=principal.user_id,
        username=principal.username,
        is_superuser=principal.is_superuser,
        roles=dict(principal.roles),
        method=principal.method,
        key_id=principal.key_id,
    )
