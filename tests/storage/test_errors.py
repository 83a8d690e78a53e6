"""Failures become typed errors, fast: unreachable or silent endpoints, bad credentials."""

from __future__ import annotations

import io
import socket
import time

import pytest

from storage import errors
from storage.blobstore import BlobStore
from storage.errors import (
    BucketMisconfigured,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_error_classes_carry_exit_code_status_and_message():
    expected = {
        errors.BucketMisconfigured: 3,
        errors.StorageUnavailable: 4,
        errors.StorageAuthError: 4,
        errors.EmbeddedServerError: 4,
        errors.IntegrityError: 5,
        errors.ObjectNotFound: 9,
        errors.ObjectLocked: 10,
    }
    for cls, code in expected.items():
        assert issubclass(cls, StorageError)
        assert cls.exit_code == code, cls
        assert 400 <= cls.http_status < 600
        assert "storage" in cls.user_message or "file" in cls.user_message  # an English id
    mismatch = errors.IntegrityError("k", "v1", "a" * 64, "b" * 64)
    assert (mismatch.key, mismatch.version_id, mismatch.expected, mismatch.actual) == (
        "k",
        "v1",
        "a" * 64,
        "b" * 64,
    )


def test_unreachable_endpoint_fails_fast(seaweed):
    store = BlobStore(f"127.0.0.1:{_free_port()}", "key", "secret", "bucket")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as unavailable:
        store.ensure_bucket()
    assert time.monotonic() - started < 5
    assert unavailable.value.exit_code == 4
    with pytest.raises(StorageUnavailable):
        store.put("a", io.BytesIO(b"x"), 1)


def test_endpoint_that_never_answers_times_out():
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        store = BlobStore(endpoint, "key", "secret", "bucket", read_timeout=1)
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            store.check_bucket()
        assert time.monotonic() - started < 6


def test_wrong_credentials_are_an_auth_error(seaweed):
    wrong_secret = BlobStore(seaweed.endpoint, seaweed.access_key, "not-the-secret", "bucket")
    with pytest.raises(StorageAuthError) as refused:
        wrong_secret.ensure_bucket()
    assert "not-the-secret" not in str(refused.value)
    unknown_key = BlobStore(seaweed.endpoint, "NOSUCHKEY", seaweed.secret_key, "bucket")
    with pytest.raises(StorageAuthError):
        unknown_key.check_bucket()
    with pytest.raises(StorageAuthError):
        unknown_key.stat("some/key")  # HEAD: no error body, still typed


def test_an_http_server_that_is_not_s3_is_unavailable(seaweed):
    master = BlobStore(f"127.0.0.1:{seaweed.ports['master']}", "key", "secret", "bucket")
    with pytest.raises(StorageError) as wrong:
        master.check_bucket()
    assert isinstance(wrong.value, StorageUnavailable | StorageAuthError | BucketMisconfigured)


def test_endpoint_forms(seaweed, blobstore):
    url_store = BlobStore(
        f"http://{seaweed.endpoint}/", seaweed.access_key, seaweed.secret_key, blobstore.bucket
    )
    url_store.check_bucket()
    assert url_store.endpoint == seaweed.endpoint
    for bad in ("ftp://host:21", "http://host:1/path", "http://user:pw@host:1", "", "a/b"):
        with pytest.raises(ValueError):
            BlobStore(bad, "key", "secret", "bucket")


def test_invalid_bucket_name_is_misconfiguration():
    with pytest.raises(BucketMisconfigured):
        BlobStore("127.0.0.1:9000", "key", "secret", "Invalid_Bucket")
