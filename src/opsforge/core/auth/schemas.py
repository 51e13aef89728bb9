"""Public shapes of tenants, users and API keys (never a hash)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from opsforge.core.auth.principal import Role

__all__ = [
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyPublic",
    "TenantPublic",
    "TokenResponse",
    "UserCreate",
    "UserPublic",
]


class TenantPublic(BaseModel):
    id: str
    name: str
    created_at: datetime


class UserPublic(BaseModel):
    id: str
    username: str
    is_active: bool
    is_superuser: bool
    roles: dict[str, Role] = Field(default_factory=dict, description="Tenant id -> role.")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=1, max_length=1024)
    role: Role = "viewer"


class ApiKeyPublic(BaseModel):
    id: str
    prefix: str
    name: str
    user_id: str
    tenant_id: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key itself; shown once, stored only as a hash.")


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str | None = Field(None, description="Owner; default the caller.")
    role: Role = "viewer"
    name: str = Field("", max_length=200)
    expires_in_days: int | None = Field(None, gt=0, le=3650)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Lifetime. [s]")
