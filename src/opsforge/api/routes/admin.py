"""Tenant administration: users and API keys of a tenant (admin role in that tenant)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict

from opsforge.api.deps import Admin, StateDep
from opsforge.api.errors import responses
from opsforge.core.auth.principal import Principal, Role
from opsforge.core.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    UserCreate,
    UserPublic,
)
from opsforge.core.errors import NotFoundError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["admin"])
TenantId = Annotated[str, Path(max_length=64)]


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


def _in_tenant(user: UserPublic, tenant_id: str) -> UserPublic:
    """The user as this tenant's admin may see it: the role here, not those elsewhere."""
    roles = {t: r for t, r in user.roles.items() if t == tenant_id}
    return user.model_copy(update={"roles": roles})


def _admin_of(request: Request, principal: Principal, tenant_id: str) -> None:
    request.state.audit_tenant = tenant_id
    if principal.role_in(tenant_id) is None:
        raise NotFoundError(f"tenant {tenant_id!r} does not exist", tenant=tenant_id)
    principal.require(tenant_id, "admin")


@router.get(
    "/users",
    response_model=list[UserPublic],
    summary="List the tenant's users",
    responses=responses(401, 403, 404, 422, 429),
)
def list_users(
    request: Request, tenant_id: TenantId, state: StateDep, principal: Admin
) -> list[UserPublic]:
    """Users with a role in the tenant."""
    _admin_of(request, principal, tenant_id)
    return [_in_tenant(u, tenant_id) for u in state.auth.list_users(tenant_id)]


@router.post(
    "/users",
    response_model=UserPublic,
    status_code=201,
    summary="Create a user in the tenant",
    responses=responses(401, 403, 404, 409, 413, 422, 429),
)
def create_user(
    request: Request, tenant_id: TenantId, body: UserCreate, state: StateDep, principal: Admin
) -> UserPublic:
    """A new user with ``role`` in this tenant."""
    _admin_of(request, principal, tenant_id)
    request.state.audit_target = f"user={body.username}"
    user = state.auth.create_user(body.username, body.password, tenant_id=tenant_id, role=body.role)
    return _in_tenant(user, tenant_id)


@router.put(
    "/users/{user_id}/role",
    response_model=UserPublic,
    summary="Set a member's role in the tenant",
    responses=responses(401, 403, 404, 409, 413, 422, 429),
)
def set_role(
    request: Request,
    tenant_id: TenantId,
    user_id: str,
    body: RoleUpdate,
    state: StateDep,
    principal: Admin,
) -> UserPublic:
    """Change the role of a member of this tenant (a superuser may add any existing user)."""
    _admin_of(request, principal, tenant_id)
    members_only = principal.tenant_ids() is not None  # not an all-tenant superuser
    return _in_tenant(
        state.auth.set_membership(user_id, tenant_id, body.role, members_only=members_only),
        tenant_id,
    )


@router.get(
    "/keys",
    response_model=list[ApiKeyPublic],
    summary="List the tenant's API keys",
    responses=responses(401, 403, 404, 422, 429),
)
def list_keys(
    request: Request, tenant_id: TenantId, state: StateDep, principal: Admin
) -> list[ApiKeyPublic]:
    """Keys of the tenant (never the secret)."""
    _admin_of(request, principal, tenant_id)
    return state.auth.list_api_keys(tenant_id)


@router.post(
    "/keys",
    response_model=ApiKeyCreated,
    status_code=201,
    summary="Create an API key (shown once)",
    responses=responses(401, 403, 404, 413, 422, 429),
)
def create_key(
    request: Request, tenant_id: TenantId, body: ApiKeyCreate, state: StateDep, principal: Admin
) -> ApiKeyCreated:
    """A key for a user of the tenant (default the caller); the ``key`` field is shown once."""
    _admin_of(request, principal, tenant_id)
    owner = body.user_id or principal.user_id
    if owner != principal.user_id:
        # A key acts as its owner: only for a member of this tenant (never a superuser who is
        # not one), and an unknown user and another tenant's user answer alike.
        try:
            member = tenant_id in state.auth.get_user(owner).roles
        except NotFoundError:
            member = False
        if not member:
            raise NotFoundError(f"no user {owner!r} in tenant {tenant_id!r}", user=owner)
    public, plaintext = state.auth.create_api_key(
        owner,
        tenant_id,
        body.role,
        name=body.name,
        expires_in_days=body.expires_in_days,
    )
    request.state.audit_target = f"key={public.id}"
    return ApiKeyCreated(**public.model_dump(), key=plaintext)


@router.delete(
    "/keys/{key_id}",
    response_model=ApiKeyPublic,
    summary="Revoke an API key",
    responses=responses(401, 403, 404, 422, 429),
)
def revoke_key(
    request: Request, tenant_id: TenantId, key_id: str, state: StateDep, principal: Admin
) -> ApiKeyPublic:
    """Revoke a key of this tenant (idempotent); other processes honour it within 5 s."""
    _admin_of(request, principal, tenant_id)
    return state.auth.revoke_api_key(key_id, tenant_id=tenant_id)
