"""Password hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from opsforge.core.errors import InvalidInputError

__all__ = ["DUMMY_HASH", "hash_password", "needs_rehash", "verify_password"]

_HASHER = PasswordHasher()  # stateless; argon2id with the library's recommended parameters
#: Verified against when the user does not exist, so a failed login costs the same either way.
DUMMY_HASH = _HASHER.hash("opsforge-dummy-password")


def hash_password(
    password: str, *, min_length: int = 10, hasher: PasswordHasher | None = None
) -> str:
    """Hash a password with Argon2id (``hasher`` overrides the parameters, e.g. in tests).

    Raises
    ------
    InvalidInputError
        The password is shorter than ``min_length`` characters.
    """
    if len(password) < min_length:
        raise InvalidInputError(
            f"password must have at least {min_length} characters, got {len(password)}",
            field="password",
        )
    return (hasher or _HASHER).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash`` (constant time in the library).

    The parameters are read from the hash itself, whichever hasher made it.
    """
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, hasher: PasswordHasher | None = None) -> bool:
    """True when the hash was made with other parameters than ``hasher``'s (default today's)."""
    try:
        return (hasher or _HASHER).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
