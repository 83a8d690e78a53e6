"""R25/R26: records stay tamper-proof. Object Lock lives in the S3 gateway, so the embedded
SeaweedFS must not let a local process around it: no unauthenticated filer or master HTTP
API, the volume server only with a signed token, every gRPC port only with the client
certificate of the server's own CA."""

from __future__ import annotations

import datetime as dt
import io
import json
import socket
import ssl
import stat
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from storage.embedded import EmbeddedSeaweedFS
from storage.seaweed_security import COMMON_NAME, jwt_hs256

HOST = "127.0.0.1"
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")
GRPC = ("master", "volume", "filer", "s3", "admin")


def http(method: str, url: str, data: bytes | None = None, token: str | None = None):
    """(status, body) of a plain HTTP request, as any local process could send it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


@pytest.fixture
def locked(seaweed, blobstore):
    """A version under legal hold and retention, and its chunk's file id on the volume
    server."""
    stored = blobstore.put("akte/1/bescheid.pdf", io.BytesIO(b"%PDF-1.4 Bescheid"), 17)
    blobstore.set_legal_hold(stored.key, stored.version_id, True)
    blobstore.set_retention(
        stored.key, stored.version_id, dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    )
    path = f"/buckets/{blobstore.bucket}/{stored.key}.versions/v_{stored.version_id}"
    entry = seaweed.filer_entry(path)
    (chunk,) = entry["chunks"]
    return stored, path, chunk["fileId"]


def _intact(blobstore, stored) -> bool:
    return blobstore.verify(stored.key, stored.version_id, stored.sha256) == stored.sha256


def test_r25_filer_http_api_refuses_direct_access(seaweed, blobstore, locked):
    stored, path, _ = locked
    filer = f"http://{HOST}:{seaweed.ports['filer']}"
    write_token = seaweed.security.filer_token(write=True)
    for method, data in (("GET", None), ("PUT", b"forged"), ("POST", b"forged"), ("DELETE", None)):
        for token in (None, write_token):  # not even SeaweedFS's own filer key opens it
            status, _ = http(method, f"{filer}{path}", data, token)
            assert status in (401, 403, 404), (method, token is not None, status)
    assert http("GET", f"{filer}/buckets/{blobstore.bucket}/?metadata=true")[0] == 404
    assert _intact(blobstore, stored)


def test_r25_master_http_api_is_off(seaweed, blobstore, locked):
    """The master's HTTP API takes no credentials: it would hand out volume tokens for any
    file id and delete a bucket's volumes (/col/delete) for anyone."""
    stored, _, fid = locked
    master = f"http://{HOST}:{seaweed.ports['master']}"
    for url in (
        f"/col/delete?collection={blobstore.bucket}",
        f"/dir/lookup?fileId={fid}",
        f"/dir/lookup?fileId={fid}&read=yes",
        "/dir/assign",
        "/vol/grow?count=1",
        "/vol/vacuum",
        "/dir/status",
    ):
        status, _ = http("GET", master + url)
        assert status == 404, url
    assert http("POST", f"{master}/submit", b"x")[0] == 404
    assert _intact(blobstore, stored)


def test_r25_volume_server_needs_a_signed_token(seaweed, blobstore, locked):
    stored, _, fid = locked
    url = f"http://{HOST}:{seaweed.ports['volume']}/{fid}"
    security = seaweed.security
    forged = jwt_hs256("not-the-key-" * 4, {"fid": fid})
    for token in (None, forged, jwt_hs256(security.volume_read_key, {"fid": fid})):
        assert http("DELETE", url, token=token)[0] == 401
        assert http("POST", url, b"forged", token=token)[0] == 401
    assert http("GET", url)[0] == 401
    assert http("GET", url, token=forged)[0] == 401
    # Only the master's read key opens it (so the refusals above are about the token).
    assert http("GET", url, token=jwt_hs256(security.volume_read_key, {"fid": fid})) == (
        200,
        b"%PDF-1.4 Bescheid",
    )
    assert _intact(blobstore, stored)


def _tls_context(seaweed, cert: tuple[Path, Path] | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(seaweed.security.ca_path))
    context.check_hostname = False  # weed does not check names either
    context.set_alpn_protocols(["h2"])
    if cert:
        context.load_cert_chain(*map(str, cert))
    return context


def _grpc_hello(seaweed, port: int, cert: tuple[Path, Path] | None) -> bytes:
    """Open a TLS connection, send the HTTP/2 preface, return the first server bytes."""
    with (
        socket.create_connection((HOST, port), timeout=5) as raw,
        _tls_context(seaweed, cert).wrap_socket(raw) as tls,
    ):
        tls.sendall(H2_PREFACE)
        return tls.recv(64)


def _foreign_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate with the right common name, from no CA the server trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "foreign.crt", tmp_path / "foreign.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_r25_grpc_needs_the_client_certificate(seaweed, tmp_path):
    own = (seaweed.security.cert_path, seaweed.security.key_path)
    foreign = _foreign_certificate(tmp_path)
    for name in GRPC:
        port = seaweed.ports[f"{name}_grpc"]
        # With the certificate: TLS up, HTTP/2 SETTINGS frame back (type 4 at byte 3).
        assert _grpc_hello(seaweed, port, own)[3] == 4, name
        for cert in (None, foreign):
            with pytest.raises((ssl.SSLError, ConnectionError)):
                _grpc_hello(seaweed, port, cert)
        with socket.create_connection((HOST, port), timeout=5) as plain:
            assert _closed_on_plaintext(plain), name


def _closed_on_plaintext(sock: socket.socket) -> bool:
    """Whether the server hangs up on a plaintext gRPC (HTTP/2) client without answering."""
    try:
        sock.sendall(H2_PREFACE)
        return sock.recv(64) == b""
    except ConnectionError:
        return True


def test_r25_grpc_unix_sockets_refuse_plaintext_and_other_users(seaweed):
    for name in GRPC:
        path = Path(f"/tmp/seaweedfs-{name}-grpc-{seaweed.ports[f'{name}_grpc']}.sock")
        assert path.stat().st_mode & 0o022 == 0, "others must not connect"
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(path))
            assert _closed_on_plaintext(sock), name


def test_r26_s3_keeps_working_with_its_own_credentials(seaweed, blobstore, locked):
    stored, _, _ = locked
    assert _intact(blobstore, stored)
    fresh = blobstore.put("akte/1/neu.pdf", io.BytesIO(b"neu"), 3)
    assert _intact(blobstore, fresh)


def test_security_files_are_private(seaweed):
    security = seaweed.security
    for path in (security.config_path, security.ca_path, security.cert_path, security.key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(security.cert_path.parent.stat().st_mode) == 0o700
    config = tomllib.loads(security.config_path.read_text())
    assert config["jwt"]["signing"]["key"] == security.volume_write_key
    assert config["jwt"]["signing"]["read"]["key"] == security.volume_read_key
    assert config["jwt"]["filer_signing"]["key"] == security.filer_write_key
    assert config["jwt"]["filer_signing"]["read"]["key"] == security.filer_read_key
    keys = {
        security.volume_write_key,
        security.volume_read_key,
        security.filer_write_key,
        security.filer_read_key,
    }
    assert len(keys) == 4 and all(len(key) >= 40 for key in keys)
    assert config["grpc"]["ca"] == str(security.ca_path)
    for name in (*GRPC, "client"):
        assert config["grpc"][name]["cert"] == str(security.cert_path), name
    log = seaweed.log_path.read_text()
    assert not any(key in log for key in keys)


def test_r25_installation_from_before_is_secured_on_restart(tmp_path):
    """A data dir made without security files gets them on its next start; the keys and
    certificate stay the same across restarts after that."""
    data = tmp_path / "data"
    with EmbeddedSeaweedFS(data) as server:
        store = server.blobstore("alt")
        store.ensure_bucket()
        stored = store.put("alt.pdf", io.BytesIO(b"vorher"), 6)
    # What an installation made before this change looks like: no security files.
    (data / "s3" / "security.toml").unlink()
    for path in (data / "s3" / "tls").iterdir():
        path.unlink()
    (data / "s3" / "tls").rmdir()

    with EmbeddedSeaweedFS(data) as upgraded:
        first = upgraded.security
        assert first.config_path.exists() and first.cert_path.exists()
        store = upgraded.blobstore("alt")
        store.ensure_bucket(create=False)
        assert store.verify("alt.pdf", stored.version_id, stored.sha256) == stored.sha256
        status, _ = http("GET", f"http://{HOST}:{upgraded.ports['master']}/dir/status")
        assert status == 404
        cert = first.cert_path.read_bytes()
    with EmbeddedSeaweedFS(data) as again:
        assert again.security == first
        assert again.security.cert_path.read_bytes() == cert
        assert json.loads(again.ports_path.read_text()) == again.ports
