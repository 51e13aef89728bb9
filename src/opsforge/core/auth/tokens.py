"""JWT access tokens (HS256/384/512) and the signing secret.

The secret comes only from the environment (``OPSFORGE_AUTH__JWT_SECRET``). In ``prod`` a
missing secret refuses to start; in ``dev``/``test`` a random per-process secret is generated
and a warning logged (tokens then die with the process and are not shared between workers).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from opsforge.core.config import Settings
from opsforge.core.errors import AuthenticationError, ConfigError
from opsforge.core.logging import get_logger

__all__ = ["TokenClaims", "decode_access_token", "issue_access_token", "resolve_jwt_secret"]

_log = get_logger(__name__)
_MIN_SECRET_CHARS = 32
_ISSUER = "opsforge"


def resolve_jwt_secret(settings: Settings) -> str:
    """The signing secret from settings, or a random one outside ``prod``.

    Raises
    ------
    ConfigError
        ``environment`` is ``prod`` and the secret is missing or shorter than 32 characters.
    """
    secret = settings.auth.jwt_secret.get_secret_value()
    if secret:
        if settings.environment == "prod" and len(secret) < _MIN_SECRET_CHARS:
            raise ConfigError(
                f"auth.jwt_secret must have at least {_MIN_SECRET_CHARS} characters in prod, "
                f"got {len(secret)}",
                key="auth.jwt_secret",
            )
        return secret
    if settings.environment == "prod":
        raise ConfigError(
            "auth.jwt_secret is required in prod: set OPSFORGE_AUTH__JWT_SECRET "
            "(for example `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)",
            key="auth.jwt_secret",
        )
    _log.warning(
        "jwt_secret_generated",
        detail="auth.jwt_secret is not set; tokens are signed with a random per-process secret",
    )
    return secrets.token_urlsafe(48)


@dataclass(frozen=True)
class TokenClaims:
    """The claims opsforge puts in and reads from an access token."""

    user_id: str
    username: str
    token_id: str
    issued_at: datetime
    expires_at: datetime


def issue_access_token(
    *,
    user_id: str,
    username: str,
    secret: str,
    algorithm: str = "HS256",
    ttl_s: int = 3600,
    now: datetime | None = None,
) -> tuple[str, TokenClaims]:
    """Sign an access token for a user; returns the token and its claims."""
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    claims = TokenClaims(
        user_id=user_id,
        username=username,
        token_id=secrets.token_hex(8),
        issued_at=issued,
        expires_at=issued + timedelta(seconds=ttl_s),
    )
    payload: dict[str, Any] = {
        "iss": _ISSUER,
        "sub": user_id,
        "name": username,
        "jti": claims.token_id,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
        "typ": "access",
    }
    return jwt.encode(payload, secret, algorithm=algorithm), claims


def decode_access_token(token: str, *, secret: str, algorithm: str = "HS256") -> TokenClaims:
    """Verify signature, algorithm, issuer and expiry of a token.

    Only ``algorithm`` is accepted, so ``alg: none`` and algorithm-confusion tokens fail.

    Raises
    ------
    AuthenticationError
        The token is malformed, forged, expired or not an access token.
    """
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[algorithm],
            issuer=_ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("access token expired; log in again") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthenticationError(f"invalid access token: {exc}") from exc
    if payload.get("typ") != "access" or not isinstance(payload.get("sub"), str):
        raise AuthenticationError("invalid access token: not an opsforge access token")
    return TokenClaims(
        user_id=payload["sub"],
        username=str(payload.get("name", "")),
        token_id=str(payload["jti"]),
        issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
    )
