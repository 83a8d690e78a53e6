"""Secrets kept in the database (a directory's bind password, TOTP secrets): encrypted with a
key derived from the installation's secret key, one key per purpose.

Rotating ``EAKTE_SECRET_KEY`` makes them unreadable: bind passwords must be entered again and
second factors enrolled again (``unseal`` raises ``ConfigError`` naming that).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from eakte.errors import ConfigError


def _fernet(secret_key: str, purpose: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"eakte-db-secrets", info=purpose.encode()
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, purpose: str, plain: str) -> str:
    return _fernet(secret_key, purpose).encrypt(plain.encode()).decode()


def unseal(secret_key: str, purpose: str, token: str) -> str:
    try:
        return _fernet(secret_key, purpose).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConfigError(
            f"a stored {purpose} cannot be decrypted: was the secret key changed?"
        ) from None
