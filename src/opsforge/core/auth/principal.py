"""Who is calling, and what they may do in which tenant.

Roles are ranked ``viewer < engineer < admin`` and held per tenant (``memberships``); a
superuser is admin everywhere. An API key carries one tenant and a role that never exceeds the
owner's membership in that tenant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from opsforge.core.errors import InvalidInputError, PermissionDeniedError

__all__ = ["ROLE_RANK", "AuthMethod", "Principal", "Role", "parse_role"]

Role = Literal["viewer", "engineer", "admin"]
AuthMethod = Literal["jwt", "api_key"]
ROLE_RANK: Mapping[Role, int] = {"viewer": 0, "engineer": 1, "admin": 2}


def parse_role(value: str) -> Role:
    """Validate a role name.

    Raises
    ------
    InvalidInputError
        ``value`` is not one of ``viewer``, ``engineer``, ``admin``.
    """
    for role in get_args(Role):
        if value == role:
            return role  # type: ignore[no-any-return]
    raise InvalidInputError(
        f"role must be one of {list(get_args(Role))}, got {value!r}", field="role"
    )


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    Attributes
    ----------
    user_id, username
        The user (an API key acts as its owner, limited to the key's tenant and role).
    is_superuser
        Admin in every tenant.
    roles
        Tenant id -> role.
    method
        How the caller authenticated.
    key_id, key_prefix
        The API key used, when ``method == "api_key"``.
    """

    user_id: str
    username: str
    is_superuser: bool
    roles: Mapping[str, Role] = field(default_factory=dict)
    method: AuthMethod = "jwt"
    key_id: str | None = None
    key_prefix: str | None = None

    @property
    def actor(self) -> str:
        """Audit name: ``alice`` or ``alice (key 1f2e...)``."""
        if self.key_prefix:
            return f"{self.username} (key {self.key_prefix})"
        return self.username

    @property
    def rate_limit_key(self) -> str:
        """Bucket name for rate limiting: per API key, else per user."""
        return f"key:{self.key_id}" if self.key_id else f"user:{self.user_id}"

    def role_in(self, tenant_id: str) -> Role | None:
        """The caller's role in a tenant, or None."""
        if self.is_superuser and self.method == "jwt":
            return "admin"
        return self.roles.get(tenant_id)

    def tenant_ids(self, min_role: Role = "viewer") -> list[str] | None:
        """Tenants where the caller has at least ``min_role``; None means every tenant."""
        if self.is_superuser and self.method == "jwt":
            return None
        need = ROLE_RANK[min_role]
        return sorted(t for t, r in self.roles.items() if ROLE_RANK[r] >= need)

    def can(self, tenant_id: str, min_role: Role) -> bool:
        """True when the caller has at least ``min_role`` in ``tenant_id``."""
        role = self.role_in(tenant_id)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[min_role]

    def require(self, tenant_id: str, min_role: Role) -> None:
        """Raise unless the caller has at least ``min_role`` in ``tenant_id``.

        Raises
        ------
        PermissionDeniedError
            The role is missing or lower than ``min_role``.
        """
        if not self.can(tenant_id, min_role):
            have = self.role_in(tenant_id)
            raise PermissionDeniedError(
                f"{min_role} role in tenant {tenant_id!r} required; "
                f"{self.username} has {have or 'no role'} there",
                tenant=tenant_id,
                required_role=min_role,
            )

    def default_tenant(self, min_role: Role = "viewer") -> str:
        """The only tenant where the caller has ``min_role``.

        Raises
        ------
        InvalidInputError
            The caller has that role in none or several tenants (name one explicitly).
        """
        tenants = self.tenant_ids(min_role)
        if tenants is not None and len(tenants) == 1:
            return tenants[0]
        raise InvalidInputError(
            f"name the tenant explicitly: {self.username} has {min_role} rights in "
            f"{'every tenant' if tenants is None else (tenants or 'no tenant')}",
            field="tenant",
        )
