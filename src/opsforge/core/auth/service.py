"""Users, tenants, memberships, API keys, and turning credentials into a :class:`Principal`.

Credential lookups are cached in-process for ``cache_ttl_s`` (default 5 s) so the request
path does not hit the database on every call: a revoked or expired key, a deactivated user or
a changed membership takes effect within that TTL (immediately in the process that made the
change, which clears its cache). ``last_used_at`` of a key is written at most once a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opsforge.core.auth.cache import TTLCache
from opsforge.core.auth.keys import generate_api_key, parse_api_key, secret_matches
from opsforge.core.auth.passwords import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    verify_password,
)
from opsforge.core.auth.principal import ROLE_RANK, Principal, Role, parse_role
from opsforge.core.auth.schemas import ApiKeyPublic, TenantPublic, UserPublic
from opsforge.core.auth.tokens import decode_access_token, issue_access_token, resolve_jwt_secret
from opsforge.core.config import Settings
from opsforge.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import ApiKey, Membership, Tenant, User

__all__ = ["AuthService", "aware"]

_LAST_USED_WRITE_INTERVAL = timedelta(seconds=60)


def aware(value: datetime | None) -> datetime | None:
    """Read a stored timestamp as aware UTC (SQLite returns naive datetimes)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _key_public(row: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=row.id,
        prefix=row.prefix,
        name=row.name,
        user_id=row.user_id,
        tenant_id=row.tenant_id,
        role=parse_role(row.role),
        created_at=aware(row.created_at) or row.created_at,
        expires_at=aware(row.expires_at),
        revoked_at=aware(row.revoked_at),
        last_used_at=aware(row.last_used_at),
    )


class AuthService:
    """Authentication and identity administration over the core database.

    Parameters
    ----------
    database
        The core database.
    jwt_secret, jwt_algorithm, jwt_ttl_s
        Token signing; lifetime in [s].
    password_min_length
        Shortest accepted password.
    cache_ttl_s
        How long a credential lookup is reused. [s]
    password_hasher
        Argon2 parameters for new hashes (default: the library's recommended ones).
    """

    def __init__(
        self,
        database: Database,
        *,
        jwt_secret: str,
        jwt_algorithm: str = "HS256",
        jwt_ttl_s: int = 3600,
        password_min_length: int = 10,
        cache_ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        password_hasher: PasswordHasher | None = None,
    ) -> None:
        self.database = database
        self.jwt_secret = jwt_secret
        self.jwt_algorithm = jwt_algorithm
        self.jwt_ttl_s = jwt_ttl_s
        self.password_min_length = password_min_length
        self._cache = TTLCache(cache_ttl_s, clock)
        self.password_hasher = password_hasher

    @classmethod
    def from_settings(cls, settings: Settings, database: Database) -> AuthService:
        """Build from settings (resolves the JWT secret; refuses a missing one in prod)."""
        return cls(
            database,
            jwt_secret=resolve_jwt_secret(settings),
            jwt_algorithm=settings.auth.jwt_algorithm,
            jwt_ttl_s=settings.auth.jwt_ttl_s,
            password_min_length=settings.auth.password_min_length,
        )

    def clear_cache(self) -> None:
        """Forget cached credentials (done after every change made through this service)."""
        self._cache.clear()

    # --- tenants, users, memberships ---------------------------------------------------------

    def create_tenant(self, tenant_id: str, name: str = "") -> TenantPublic:
        """Create a tenant. Raises ConflictError when the id exists."""
        if not tenant_id or len(tenant_id) > 64:
            raise InvalidInputError(
                f"tenant id must have 1 to 64 characters, got {tenant_id!r}", field="tenant"
            )
        with self.database.session() as session:
            if session.get(Tenant, tenant_id) is not None:
                raise ConflictError(f"tenant {tenant_id!r} exists", tenant=tenant_id)
            row = Tenant(id=tenant_id, name=name or tenant_id, created_at=datetime.now(UTC))
            session.add(row)
            session.flush()
            return TenantPublic(id=row.id, name=row.name, created_at=row.created_at)

    def create_user(
        self,
        username: str,
        password: str,
        *,
        tenant_id: str | None = None,
        role: str | None = None,
        is_superuser: bool = False,
    ) -> UserPublic:
        """Create a user, optionally with a role in a tenant.

        Raises
        ------
        ConflictError
            The username is taken.
        NotFoundError
            The tenant does not exist.
        """
        password_hash = hash_password(
            password, min_length=self.password_min_length, hasher=self.password_hasher
        )
        with self.database.session() as session:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise ConflictError(f"user {username!r} exists", username=username)
            user = User(username=username, password_hash=password_hash, is_superuser=is_superuser)
            session.add(user)
            session.flush()
            if tenant_id is not None:
                self._set_membership(session, user.id, tenant_id, parse_role(role or "viewer"))
            return self._user_public(session, user)

    def set_membership(
        self, user_id: str, tenant_id: str, role: str, *, members_only: bool = False
    ) -> UserPublic:
        """Give a user a role in a tenant (replacing any earlier role there).

        Parameters
        ----------
        members_only
            Only change the role of a user who is already a member of the tenant (a tenant
            admin's call): anyone else, existing or not, is "not found" alike, so the answer
            reveals no user of another tenant.

        Raises
        ------
        NotFoundError
            No such user (or, with ``members_only``, no such member) or tenant.
        ConflictError
            The change would leave the tenant without an admin.
        """
        new_role = parse_role(role)
        with self.database.session() as session:
            try:
                user = self._get_user(session, user_id)
            except NotFoundError:
                if members_only:
                    raise NotFoundError(
                        f"no user {user_id!r} in tenant {tenant_id!r}", tenant=tenant_id
                    ) from None
                raise
            current = session.get(Membership, (user.id, tenant_id))
            if members_only and current is None:
                raise NotFoundError(
                    f"no user {user_id!r} in tenant {tenant_id!r}", tenant=tenant_id
                )
            if current is not None and current.role == "admin" and new_role != "admin":
                num_admins = session.scalar(
                    select(func.count())
                    .select_from(Membership)
                    .where(Membership.tenant_id == tenant_id, Membership.role == "admin")
                )
                if (num_admins or 0) <= 1:
                    raise ConflictError(
                        f"{user.username!r} is the last admin of tenant {tenant_id!r}; "
                        "make another admin first",
                        tenant=tenant_id,
                    )
            self._set_membership(session, user.id, tenant_id, new_role)
            result = self._user_public(session, user)
        self.clear_cache()
        return result

    def get_user(self, user_ref: str) -> UserPublic:
        """A user by id or username."""
        with self.database.session() as session:
            return self._user_public(session, self._get_user(session, user_ref))

    def list_users(self, tenant_id: str) -> list[UserPublic]:
        """Users with a role in a tenant."""
        with self.database.session() as session:
            users = session.scalars(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.tenant_id == tenant_id)
                .order_by(User.username)
            ).all()
            return [self._user_public(session, u) for u in users]

    def _get_user(self, session: Session, user_ref: str) -> User:
        user = session.get(User, user_ref) or session.scalar(
            select(User).where(User.username == user_ref)
        )
        if user is None:
            raise NotFoundError(f"no user {user_ref!r}", user=user_ref)
        return user

    def _set_membership(self, session: Session, user_id: str, tenant_id: str, role: Role) -> None:
        if session.get(Tenant, tenant_id) is None:
            raise NotFoundError(f"no tenant {tenant_id!r}", tenant=tenant_id)
        row = session.get(Membership, (user_id, tenant_id))
        if row is None:
            session.add(Membership(user_id=user_id, tenant_id=tenant_id, role=role))
        else:
            row.role = role
        session.flush()

    def _roles(self, session: Session, user_id: str) -> dict[str, Role]:
        rows = session.execute(
            select(Membership.tenant_id, Membership.role).where(Membership.user_id == user_id)
        ).all()
        return {t: parse_role(r) for t, r in rows}

    def _user_public(self, session: Session, user: User) -> UserPublic:
        return UserPublic(
            id=user.id,
            username=user.username,
            is_active=user.is_active,
            is_superuser=user.is_superuser,
            roles=self._roles(session, user.id),
        )

    # --- passwords and tokens ----------------------------------------------------------------

    def login(self, username: str, password: str) -> tuple[str, Principal]:
        """Check a password and issue an access token.

        Raises
        ------
        AuthenticationError
            Unknown user, wrong password or inactive user (one message for all three).
        """
        with self.database.session() as session:
            # No username holds NUL (PostgreSQL cannot even compare it): a plain failed login.
            user = (
                None
                if "\x00" in username
                else session.scalar(select(User).where(User.username == username))
            )
            stored = user.password_hash if user is not None else DUMMY_HASH
            ok = verify_password(stored, password)
            if user is None or not ok or not user.is_active:
                raise AuthenticationError("incorrect username or password")
            if needs_rehash(user.password_hash, self.password_hasher):  # parameters changed
                user.password_hash = hash_password(
                    password, min_length=1, hasher=self.password_hasher
                )
            principal = Principal(
                user_id=user.id,
                username=user.username,
                is_superuser=user.is_superuser,
                roles=self._roles(session, user.id),
            )
        token, _claims = issue_access_token(
            user_id=principal.user_id,
            username=principal.username,
            secret=self.jwt_secret,
            algorithm=self.jwt_algorithm,
            ttl_s=self.jwt_ttl_s,
        )
        return token, principal

    def principal_for_token(self, token: str) -> Principal:
        """Verify a bearer token and load its user's current roles (cached briefly).

        Raises
        ------
        AuthenticationError
            Forged, expired or malformed token, or the user is gone or inactive.
        """
        claims = decode_access_token(token, secret=self.jwt_secret, algorithm=self.jwt_algorithm)
        cached = self._cache.get("user:" + claims.user_id)
        if isinstance(cached, Principal):
            return cached
        with self.database.session() as session:
            user = session.get(User, claims.user_id)
            if user is None or not user.is_active:
                raise AuthenticationError("the token's user no longer exists or is inactive")
            principal = Principal(
                user_id=user.id,
                username=user.username,
                is_superuser=user.is_superuser,
                roles=self._roles(session, user.id),
            )
        self._cache.put("user:" + claims.user_id, principal)
        return principal

    # --- API keys ----------------------------------------------------------------------------

    def create_api_key(
        self,
        user_ref: str,
        tenant_id: str,
        role: str,
        *,
        name: str = "",
        expires_in_days: int | None = None,
    ) -> tuple[ApiKeyPublic, str]:
        """Create a key for a user in a tenant; returns the key row and the plaintext (once).

        Raises
        ------
        PermissionDeniedError
            ``role`` exceeds the user's own role in the tenant (superusers excepted).
        """
        want = parse_role(role)
        generated = generate_api_key()
        with self.database.session() as session:
            user = self._get_user(session, user_ref)
            if session.get(Tenant, tenant_id) is None:
                raise NotFoundError(f"no tenant {tenant_id!r}", tenant=tenant_id)
            have = self._roles(session, user.id).get(tenant_id)
            if not user.is_superuser and (have is None or ROLE_RANK[have] < ROLE_RANK[want]):
                raise PermissionDeniedError(
                    f"cannot give a key role {want} in {tenant_id!r}: {user.username} has "
                    f"{have or 'no role'} there",
                    tenant=tenant_id,
                )
            now = datetime.now(UTC)
            row = ApiKey(
                prefix=generated.prefix,
                key_hash=generated.secret_hash,
                name=name,
                user_id=user.id,
                tenant_id=tenant_id,
                role=want,
                created_at=now,
                expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError as exc:  # pragma: no cover - 64-bit prefix collision
                raise ConflictError("API key prefix collision; try again") from exc
            return _key_public(row), generated.plaintext

    def revoke_api_key(self, key_id: str, *, tenant_id: str | None = None) -> ApiKeyPublic:
        """Revoke a key (idempotent). With ``tenant_id``, only a key of that tenant."""
        with self.database.session() as session:
            row = session.get(ApiKey, key_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                raise NotFoundError(f"no API key {key_id!r}", key_id=key_id)
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
            result = _key_public(row)
        self.clear_cache()
        return result

    def list_api_keys(self, tenant_id: str) -> list[ApiKeyPublic]:
        """Keys of a tenant, newest first."""
        with self.database.session() as session:
            rows = session.scalars(
                select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at)
            ).all()
            return [_key_public(r) for r in reversed(rows)]

    def cached_principal(
        self, *, api_key: str | None = None, token: str | None = None
    ) -> Principal | None:
        """The caller from the cache alone (no database), or None on a miss.

        Raises
        ------
        AuthenticationError
            The credentials are malformed, forged or expired (known without the database).
        """
        if api_key is not None:
            prefix, secret = parse_api_key(api_key)
            cached = self._cache.get("key:" + prefix)
            if not isinstance(cached, tuple):
                return None
            return self._check_cached_key(secret, cached)
        if token is not None:
            claims = decode_access_token(
                token, secret=self.jwt_secret, algorithm=self.jwt_algorithm
            )
            hit = self._cache.get("user:" + claims.user_id)
            return hit if isinstance(hit, Principal) else None
        return None

    @staticmethod
    def _check_cached_key(secret: str, cached: tuple[object, ...]) -> Principal:
        key_hash, expires_at, principal = cached
        assert isinstance(key_hash, str)
        assert isinstance(principal, Principal)
        if not secret_matches(secret, key_hash):
            raise AuthenticationError("invalid API key")
        if isinstance(expires_at, datetime) and expires_at <= datetime.now(UTC):
            raise AuthenticationError("API key expired")
        return principal

    def principal_for_api_key(self, raw: str) -> Principal:
        """Verify a presented key (cached for ``cache_ttl_s``).

        Raises
        ------
        AuthenticationError
            Malformed, unknown, wrong secret, expired or revoked key, or inactive owner.
        """
        prefix, secret = parse_api_key(raw)
        cached = self._cache.get("key:" + prefix)
        if isinstance(cached, tuple):
            return self._check_cached_key(secret, cached)
        now = datetime.now(UTC)
        with self.database.session() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
            if row is None or not secret_matches(secret, row.key_hash):
                raise AuthenticationError("invalid API key")
            if row.revoked_at is not None:
                raise AuthenticationError("API key revoked")
            expires_at = aware(row.expires_at)
            if expires_at is not None and expires_at <= now:
                raise AuthenticationError("API key expired")
            user = session.get(User, row.user_id)
            if user is None or not user.is_active:
                raise AuthenticationError("the API key's owner is inactive")
            have = self._roles(session, user.id).get(row.tenant_id)
            key_role = parse_role(row.role)
            if not user.is_superuser:
                if have is None:
                    raise AuthenticationError("the API key's owner left its tenant")
                if ROLE_RANK[have] < ROLE_RANK[key_role]:
                    key_role = have
            last = aware(row.last_used_at)
            if last is None or now - last > _LAST_USED_WRITE_INTERVAL:
                row.last_used_at = now
            principal = Principal(
                user_id=user.id,
                username=user.username,
                is_superuser=user.is_superuser,
                roles={row.tenant_id: key_role},
                method="api_key",
                key_id=row.id,
                key_prefix=row.prefix,
            )
            key_hash = row.key_hash
        self._cache.put("key:" + prefix, (key_hash, expires_at, principal))
        return principal
