"""API key format: ``opsforge_<prefix>_<secret>``.

``prefix`` (16 hex characters) is stored in clear and finds the key row without a scan;
``secret`` (43 URL-safe characters, 256 bits) is stored only as its SHA-256. A fast hash is
enough for a high-entropy random secret (no dictionary to attack), and keeps the auth path fast.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from opsforge.core.errors import AuthenticationError

__all__ = [
    "KEY_SCHEME",
    "GeneratedKey",
    "generate_api_key",
    "hash_key_secret",
    "parse_api_key",
    "secret_matches",
]

KEY_SCHEME = "opsforge"
_PREFIX_BYTES = 8
_SECRET_BYTES = 32


@dataclass(frozen=True)
class GeneratedKey:
    """A new key: ``plaintext`` is shown once, ``prefix`` and ``secret_hash`` are stored."""

    plaintext: str
    prefix: str
    secret_hash: str


def hash_key_secret(secret: str) -> str:
    """SHA-256 hex digest of a key's secret part."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def generate_api_key() -> GeneratedKey:
    """A new random key."""
    prefix = secrets.token_hex(_PREFIX_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return GeneratedKey(
        plaintext=f"{KEY_SCHEME}_{prefix}_{secret}",
        prefix=prefix,
        secret_hash=hash_key_secret(secret),
    )


def parse_api_key(raw: str) -> tuple[str, str]:
    """Split a presented key into ``(prefix, secret)``.

    Raises
    ------
    AuthenticationError
        The key does not have the ``opsforge_<prefix>_<secret>`` shape.
    """
    parts = raw.strip().split("_", 2)
    if (
        len(parts) != 3
        or parts[0] != KEY_SCHEME
        or len(parts[1]) != 2 * _PREFIX_BYTES
        or not all(c in "0123456789abcdef" for c in parts[1])
        or len(parts[2]) < 20
    ):
        raise AuthenticationError("malformed API key: expected opsforge_<prefix>_<secret>")
    return parts[1], parts[2]


def secret_matches(secret: str, secret_hash: str) -> bool:
    """Constant-time comparison of a presented secret with the stored hash."""
    return hmac.compare_digest(hash_key_secret(secret), secret_hash)
