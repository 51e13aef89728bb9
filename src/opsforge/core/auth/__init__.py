"""Authentication and authorisation: users, tenants, roles, JWT, API keys."""

from opsforge.core.auth.keys import generate_api_key, hash_key_secret, parse_api_key
from opsforge.core.auth.passwords import hash_password, verify_password
from opsforge.core.auth.principal import ROLE_RANK, AuthMethod, Principal, Role, parse_role
from opsforge.core.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    TenantPublic,
    TokenResponse,
    UserCreate,
    UserPublic,
)
from opsforge.core.auth.service import AuthService
from opsforge.core.auth.tokens import decode_access_token, issue_access_token, resolve_jwt_secret

__all__ = [
    "ROLE_RANK",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyPublic",
    "AuthMethod",
    "AuthService",
    "Principal",
    "Role",
    "TenantPublic",
    "TokenResponse",
    "UserCreate",
    "UserPublic",
    "decode_access_token",
    "generate_api_key",
    "hash_key_secret",
    "hash_password",
    "issue_access_token",
    "parse_api_key",
    "parse_role",
    "resolve_jwt_secret",
    "verify_password",
]
