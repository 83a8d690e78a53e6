"""Password hashing with argon2id (argon2-cffi's tuned defaults)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verifying against this when a user does not exist keeps the response time the same,
# so sign-in does not reveal which user names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def use_cheapest_parameters() -> None:
    """For test suites only: argon2 at its cheapest, so that creating users costs microseconds.
    Hashes stay valid either way (parameters are stored in each hash)."""
    global _hasher
    from argon2.profiles import CHEAPEST

    _hasher = PasswordHasher.from_parameters(CHEAPEST)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(15)
