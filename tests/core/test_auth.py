"""Passwords, JWT, API keys and the auth service over SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select, update

from opsforge.core.auth import AuthService, Principal, parse_api_key, parse_role
from opsforge.core.auth.keys import generate_api_key, secret_matches
from opsforge.core.auth.passwords import hash_password, verify_password
from opsforge.core.auth.tokens import decode_access_token, issue_access_token, resolve_jwt_secret
from opsforge.core.config import load_settings
from opsforge.core.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import ApiKey

SECRET = "s" * 48


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def auth(database: Database, clock: FakeClock) -> AuthService:
    service = AuthService(database, jwt_secret=SECRET, cache_ttl_s=5.0, clock=clock)
    service.create_tenant("acme", "Acme")
    service.create_tenant("globex")
    return service


def test_password_hash_roundtrip_and_minimum_length() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "wrong horse battery")
    assert not verify_password("not-a-hash", "x")
    with pytest.raises(InvalidInputError, match="at least 10 characters"):
        hash_password("short")


def test_parse_role_rejects_unknown() -> None:
    assert parse_role("engineer") == "engineer"
    with pytest.raises(InvalidInputError, match="role must be one of"):
        parse_role("root")


def test_api_key_format_and_hash() -> None:
    key = generate_api_key()
    prefix, secret = parse_api_key(key.plaintext)
    assert key.plaintext.startswith("opsforge_")
    assert prefix == key.prefix
    assert secret_matches(secret, key.secret_hash)
    assert not secret_matches(secret + "x", key.secret_hash)
    for bad in ["", "opsforge_", "bearer_abc_def", "opsforge_XYZ_" + "a" * 40, key.prefix]:
        with pytest.raises(AuthenticationError, match="malformed API key"):
            parse_api_key(bad)


def test_jwt_roundtrip_and_forgeries() -> None:
    token, claims = issue_access_token(user_id="u1", username="alice", secret=SECRET)
    decoded = decode_access_token(token, secret=SECRET)
    assert decoded.user_id == "u1"
    assert decoded.token_id == claims.token_id
    with pytest.raises(AuthenticationError, match="invalid access token"):
        decode_access_token(token, secret="other" * 10)
    header, payload, signature = token.split(".")
    claims_dict = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims_dict["sub"] = "admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims_dict).encode()).rstrip(b"=")
    with pytest.raises(AuthenticationError):
        decode_access_token(f"{header}.{forged_payload.decode()}.{signature}", secret=SECRET)
    none_token = jwt.encode(claims_dict, key="", algorithm="none")
    with pytest.raises(AuthenticationError):
        decode_access_token(none_token, secret=SECRET)
    old, _ = issue_access_token(
        user_id="u1",
        username="alice",
        secret=SECRET,
        ttl_s=60,
        now=datetime.now(UTC) - timedelta(hours=2),
    )
    with pytest.raises(AuthenticationError, match="expired"):
        decode_access_token(old, secret=SECRET)


def test_jwt_secret_refused_in_prod_generated_in_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSFORGE_AUTH__JWT_SECRET", raising=False)
    with pytest.raises(ConfigError, match="jwt_secret is required in prod"):
        resolve_jwt_secret(load_settings(environment="prod"))
    monkeypatch.setenv("OPSFORGE_AUTH__JWT_SECRET", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        resolve_jwt_secret(load_settings(environment="prod"))
    monkeypatch.delenv("OPSFORGE_AUTH__JWT_SECRET")
    first = resolve_jwt_secret(load_settings(environment="dev"))
    second = resolve_jwt_secret(load_settings(environment="dev"))
    assert len(first) >= 32
    assert first != second
    monkeypatch.setenv("OPSFORGE_AUTH__JWT_SECRET", SECRET)
    assert resolve_jwt_secret(load_settings(environment="prod")) == SECRET


def test_users_login_and_roles(auth: AuthService) -> None:
    user = auth.create_user("alice", "alice-password", tenant_id="acme", role="engineer")
    assert user.roles == {"acme": "engineer"}
    with pytest.raises(ConflictError):
        auth.create_user("alice", "another-password")
    with pytest.raises(NotFoundError, match="no tenant"):
        auth.create_user("bob", "bob-password-1", tenant_id="nowhere", role="viewer")
    auth.set_membership("alice", "globex", "viewer")
    token, principal = auth.login("alice", "alice-password")
    assert principal.roles == {"acme": "engineer", "globex": "viewer"}
    assert principal.tenant_ids("engineer") == ["acme"]
    assert auth.principal_for_token(token).username == "alice"
    with pytest.raises(AuthenticationError, match="incorrect username or password"):
        auth.login("alice", "wrong-password")
    with pytest.raises(AuthenticationError, match="incorrect username or password"):
        auth.login("nobody", "whatever-password")


def test_principal_require() -> None:
    p = Principal(user_id="u", username="u", is_superuser=False, roles={"acme": "viewer"})
    p.require("acme", "viewer")
    with pytest.raises(PermissionDeniedError, match="engineer role in tenant 'acme'"):
        p.require("acme", "engineer")
    with pytest.raises(PermissionDeniedError, match="no role"):
        p.require("globex", "viewer")
    root = Principal(user_id="r", username="root", is_superuser=True)
    assert root.tenant_ids() is None
    assert root.can("anything", "admin")


def test_api_key_lifecycle(auth: AuthService, database: Database, clock: FakeClock) -> None:
    auth.create_user("carol", "carol-password", tenant_id="acme", role="engineer")
    with pytest.raises(PermissionDeniedError, match="cannot give a key role admin"):
        auth.create_api_key("carol", "acme", "admin")
    public, plaintext = auth.create_api_key("carol", "acme", "viewer", name="ci")
    assert public.role == "viewer"
    assert plaintext.startswith(f"opsforge_{public.prefix}_")
    principal = auth.principal_for_api_key(plaintext)
    assert principal.method == "api_key"
    assert principal.roles == {"acme": "viewer"}
    assert auth.cached_principal(api_key=plaintext) == principal
    with database.session() as session:
        row = session.get(ApiKey, public.id)
        assert row is not None
        assert row.last_used_at is not None
        assert row.key_hash != plaintext
        assert public.prefix in plaintext
    wrong = plaintext[:-4] + ("AAAA" if not plaintext.endswith("AAAA") else "BBBB")
    with pytest.raises(AuthenticationError, match="invalid API key"):
        auth.principal_for_api_key(wrong)
    auth.revoke_api_key(public.id)
    with pytest.raises(AuthenticationError, match="revoked"):
        auth.principal_for_api_key(plaintext)


def test_revocation_elsewhere_is_honoured_after_ttl(
    auth: AuthService, database: Database, clock: FakeClock
) -> None:
    auth.create_user("dave", "dave-password", tenant_id="acme", role="viewer")
    public, plaintext = auth.create_api_key("dave", "acme", "viewer")
    auth.principal_for_api_key(plaintext)
    with database.session() as session:  # another process revokes it
        session.execute(
            update(ApiKey).where(ApiKey.id == public.id).values(revoked_at=datetime.now(UTC))
        )
    assert auth.principal_for_api_key(plaintext).username == "dave"  # cached
    clock.now_s += 5.1
    with pytest.raises(AuthenticationError, match="revoked"):
        auth.principal_for_api_key(plaintext)


def test_expired_key_refused(auth: AuthService, database: Database) -> None:
    auth.create_user("erin", "erin-password", tenant_id="acme", role="viewer")
    public, plaintext = auth.create_api_key("erin", "acme", "viewer", expires_in_days=1)
    assert public.expires_at is not None
    with database.session() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == public.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with pytest.raises(AuthenticationError, match="expired"):
        auth.principal_for_api_key(plaintext)


def test_key_role_capped_by_current_membership(auth: AuthService) -> None:
    auth.create_user("frank", "frank-password", tenant_id="acme", role="engineer")
    _, plaintext = auth.create_api_key("frank", "acme", "engineer")
    auth.set_membership("frank", "acme", "viewer")
    assert auth.principal_for_api_key(plaintext).roles == {"acme": "viewer"}


def test_login_rehashes_weak_hashes(auth: AuthService, database: Database) -> None:
    from argon2 import PasswordHasher

    from opsforge.core.storage.models import User

    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    auth.password_hasher = weak
    auth.create_user("gina", "gina-password", tenant_id="acme", role="viewer")
    auth.password_hasher = None
    auth.login("gina", "gina-password")
    with database.session() as session:
        user = session.scalars(select(User).where(User.username == "gina")).one()
        assert "m=1024" not in user.password_hash  # upgraded to today's parameters
    auth.login("gina", "gina-password")  # and still logs in
