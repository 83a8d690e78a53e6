"""SeaweedFS's own access control for the embedded server: JWT keys and gRPC mTLS.

Object Lock is enforced by the S3 gateway only; the filer and volume server behind it would
otherwise take any local request (e.g. a plain HTTP DELETE of a locked version on the
filer). :func:`ensure_security` writes ``security.toml`` (which ``weed`` reads from its
working directory, the store dir) with

- ``[jwt.filer_signing]`` / ``[jwt.filer_signing.read]``: the filer's HTTP API takes writes
  and reads only with a token signed by these keys (the S3 gateway, in the same process,
  signs its own);
- ``[jwt.signing]`` / ``[jwt.signing.read]``: the volume server takes writes and reads of a
  file id only with a token the master signed for that id;
- ``[grpc]`` mTLS: every gRPC listener (master, volume, filer, S3, admin) takes only clients
  presenting a certificate of the local CA, whose key is thrown away once the one
  certificate is signed (nobody can issue another).

The keys are generated once and kept in ``security.toml`` (mode 0600, in the 0700 store
dir); the file is rewritten on every start from the keys it holds, so an installation made
before this module gets them on its first start. The certificate (and a new CA) is made
again when missing, unreadable or within a year of expiry.

What this does not cover is documented in :mod:`storage.embedded`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from storage.files import write_private

__all__ = ["COMMON_NAME", "SeaweedSecurity", "ensure_security", "jwt_hs256"]

COMMON_NAME = "eakte-seaweedfs"
CONFIG_NAME = "security.toml"
TLS_DIR_NAME = "tls"
_JWT_SECTIONS = {
    # attribute: (toml table path, comment)
    "volume_write_key": (("jwt", "signing"), "volume server writes (tokens from the master)"),
    "volume_read_key": (("jwt", "signing", "read"), "volume server reads"),
    "filer_write_key": (("jwt", "filer_signing"), "filer HTTP writes"),
    "filer_read_key": (("jwt", "filer_signing", "read"), "filer HTTP reads"),
}
# Every gRPC server weed mini runs, and the client side they all dial with.
_GRPC_COMPONENTS = ("master", "volume", "filer", "s3", "admin", "worker")
_CERT_DAYS = 3650
_RENEW_BEFORE = dt.timedelta(days=365)
_TOKEN_SECONDS = 10


@dataclass(frozen=True)
class SeaweedSecurity:
    """The security files of one store dir and the JWT keys in them."""

    config_path: Path
    ca_path: Path
    cert_path: Path
    key_path: Path
    volume_write_key: str
    volume_read_key: str
    filer_write_key: str
    filer_read_key: str

    def filer_token(self, *, write: bool = False) -> str:
        """A short-lived token for the filer's HTTP API (``Authorization: Bearer …``)."""
        return jwt_hs256(self.filer_write_key if write else self.filer_read_key)


def ensure_security(store_dir: Path) -> SeaweedSecurity:
    """Write ``store_dir/security.toml`` (keeping the keys it already holds) and make sure
    the mTLS certificate under ``store_dir/tls`` is present and valid."""
    config_path = store_dir / CONFIG_NAME
    tls_dir = store_dir / TLS_DIR_NAME
    tls_dir.mkdir(mode=0o700, exist_ok=True)
    tls_dir.chmod(0o700)
    paths = {"ca": tls_dir / "ca.crt", "cert": tls_dir / "node.crt", "key": tls_dir / "node.key"}
    if not _certificate_valid(paths["ca"], paths["cert"], paths["key"]):
        _make_certificate(paths["ca"], paths["cert"], paths["key"])
    keys = _existing_keys(config_path)
    for name in _JWT_SECTIONS:
        keys.setdefault(name, secrets.token_urlsafe(32))
    write_private(config_path, _render(keys, paths))
    return SeaweedSecurity(
        config_path=config_path,
        ca_path=paths["ca"],
        cert_path=paths["cert"],
        key_path=paths["key"],
        **keys,
    )


def load_security(store_dir: Path) -> SeaweedSecurity | None:
    """The security of a store dir as the running server uses it (None if it has none)."""
    config_path = store_dir / CONFIG_NAME
    keys = _existing_keys(config_path)
    if set(keys) != set(_JWT_SECTIONS):
        return None
    tls_dir = store_dir / TLS_DIR_NAME
    return SeaweedSecurity(
        config_path=config_path,
        ca_path=tls_dir / "ca.crt",
        cert_path=tls_dir / "node.crt",
        key_path=tls_dir / "node.key",
        **keys,
    )


def jwt_hs256(key: str, claims: dict[str, Any] | None = None, seconds: int = _TOKEN_SECONDS) -> str:
    """An HS256 JSON Web Token as SeaweedFS signs and checks them (``exp`` plus ``claims``,
    e.g. ``{"fid": "3,01637037d6"}`` for the volume server)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"exp": int(time.time()) + seconds, **(claims or {})}).encode())
    signature = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64(signature.digest())}"


# ---------------------------------------------------------------------- helpers


def _existing_keys(config_path: Path) -> dict[str, str]:
    """The JWT keys a previous start wrote (none if the file is missing or unreadable:
    nothing lasting is signed with them, so new keys are harmless)."""
    try:
        document = tomllib.loads(config_path.read_text())
    except (OSError, ValueError):
        return {}
    keys = {}
    for name, (table_path, _) in _JWT_SECTIONS.items():
        table: Any = document
        for part in table_path:
            table = table.get(part) if isinstance(table, dict) else None
        value = table.get("key") if isinstance(table, dict) else None
        # Only keys as generated here (printable ASCII, no quote or backslash for TOML).
        if (
            isinstance(value, str)
            and len(value) >= 32
            and value.isascii()
            and value.isprintable()
            and not {'"', "\\"} & set(value)
        ):
            keys[name] = value
    return keys


def _render(keys: dict[str, str], paths: dict[str, Path]) -> str:
    lines = [
        "# Written by eAkte (storage/seaweed_security.py) on every start of the embedded",
        "# SeaweedFS; edits are lost. The keys are kept; delete this file to get new ones.",
        "",
    ]
    for name, (table_path, comment) in _JWT_SECTIONS.items():
        lines += [
            f"# {comment}",
            f"[{'.'.join(table_path)}]",
            f'key = "{keys[name]}"',
            f"expires_after_seconds = {_TOKEN_SECONDS}",
            "",
        ]
    lines += [
        "[access]",
        "ui = false",
        "",
        "[filer.expose_directory_metadata]",
        "enabled = false",
        "",
        "[grpc]",
        f'ca = "{paths["ca"]}"',
        "",
    ]
    for component in (*_GRPC_COMPONENTS, "client"):
        lines += [
            f"[grpc.{component}]",
            f'cert = "{paths["cert"]}"',
            f'key = "{paths["key"]}"',
        ]
        if component != "client":
            lines.append(f'allowed_commonNames = "{COMMON_NAME}"')
        lines.append("")
    return "\n".join(lines)


def _certificate_valid(ca_path: Path, cert_path: Path, key_path: Path) -> bool:
    try:
        ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    now = dt.datetime.now(dt.UTC)
    with contextlib.suppress(Exception):
        cert.verify_directly_issued_by(ca)
        return (
            cert.public_key() == key.public_key()
            and cert.not_valid_after_utc - _RENEW_BEFORE > now
            and ca.not_valid_after_utc - _RENEW_BEFORE > now
            and key_path.stat().st_mode & 0o077 == 0
        )
    return False


def _make_certificate(ca_path: Path, cert_path: Path, key_path: Path) -> None:
    """A fresh CA and one certificate for every component (server and client); the CA key
    only lives in memory here."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{COMMON_NAME} local CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    node_key = ec.generate_private_key(ec.SECP256R1())
    node = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)]))
        .issuer_name(ca_name)
        .public_key(node_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    write_private(
        key_path,
        node_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )
    write_private(cert_path, node.public_bytes(pem).decode())
    write_private(ca_path, ca.public_bytes(pem).decode())
