"""The minio client of a :class:`~storage.blobstore.BlobStore`, and the translation of its
failures (and urllib3's) into the typed errors of :mod:`storage.errors`."""

from __future__ import annotations

import contextlib
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import certifi
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError

from storage.errors import (
    BucketMisconfigured,
    ObjectLocked,
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageRequestFailed,
    StorageUnavailable,
)
from storage.streams import SourceError

__all__ = [
    "LOCK_CODES",
    "NOT_FOUND_CODES",
    "make_client",
    "object_lock_enabled",
    "translate_errors",
]

# S3 error codes, grouped by the typed error they become.
NOT_FOUND_CODES = {"NoSuchKey", "NoSuchVersion", "ResourceNotFound", "NoSuchObject"}
NO_LOCK_CONFIG_CODES = {
    "NoSuchObjectLockConfiguration",
    "ObjectLockConfigurationNotFoundError",
    "NoSuchObjectLegalHold",
}
AUTH_CODES = {
    "AccessDenied",
    "AllAccessDisabled",
    "AuthorizationHeaderMalformed",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidSecurity",
    "InvalidToken",
    "RequestTimeTooSkewed",
    "SignatureDoesNotMatch",
}
BUCKET_CODES = {"NoSuchBucket", "InvalidBucketName", "BucketAlreadyExists"}
UNAVAILABLE_CODES = {
    "InternalError",
    "RequestTimeout",
    "ServiceUnavailable",
    "SlowDown",
    "XMinioServerNotInitialized",
}
LOCK_CODES = {"ObjectLocked", "InvalidRetentionPeriod"}


def make_client(
    host: str,
    access_key: str,
    secret_key: str,
    *,
    secure: bool,
    region: str | None,
    connect_timeout: float,
    read_timeout: float,
    retries: int,
) -> Minio:
    """A minio client whose connections time out and are retried few times, fast."""
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        # Few, fast retries: a dead endpoint must fail in seconds. 500 is not retried:
        # SeaweedFS answers 500 for a chunk with a bad CRC, and that will not heal.
        retries=urllib3.Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.2,
            status_forcelist=[502, 503, 504],
            raise_on_status=False,
        ),
    )
    return Minio(
        host,
        access_key=access_key,
        secret_key=secret_key,
        secure=secure,
        region=region,
        http_client=http,
    )


def object_lock_enabled(client: Minio, bucket: str) -> bool:
    """Whether the bucket has Object Lock enabled."""
    # minio's ObjectLockConfig drops the ObjectLockEnabled element, so read it ourselves.
    try:
        response = client._execute("GET", bucket, query_params={"object-lock": ""})
    except S3Error as exc:
        if exc.code in NO_LOCK_CONFIG_CODES:
            return False
        raise
    root = ET.fromstring(response.data)  # noqa: S314 - from the configured endpoint
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "ObjectLockEnabled":
            return (element.text or "").strip() == "Enabled"
    return False


@contextlib.contextmanager
def translate_errors(
    endpoint: str,
    bucket: str,
    op: str,
    key: str | None = None,
    version_id: str | None = None,
    lock_op: bool = False,
) -> Iterator[None]:
    """Translate minio/urllib3 failures inside the block into typed errors."""
    try:
        yield
    except (StorageError, SourceError):
        raise
    except S3Error as exc:
        raise from_s3_error(exc, bucket, op, key, version_id, lock_op) from exc
    except (ServerError, InvalidResponseError) as exc:
        raise StorageUnavailable(
            f"{op}: {endpoint} did not answer like an S3 server: {exc}"
        ) from exc
    except (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
        raise StorageUnavailable(
            f"{op}: object store at {endpoint} unreachable: {type(exc).__name__}: {exc}"
        ) from exc


def from_s3_error(
    exc: S3Error, bucket: str, op: str, key: str | None, version_id: str | None, lock_op: bool
) -> StorageError:
    code = exc.code or ""
    status = exc.response.status if exc.response is not None else 0
    where = f"{op} {bucket}/{key}" if key else f"{op} {bucket}"
    if code in BUCKET_CODES:
        return BucketMisconfigured(bucket, ["bucket"], f"{where}: {code}")
    if key is not None and (code in NOT_FOUND_CODES or code == "MethodNotAllowed"):
        # MethodNotAllowed: the version asked for is a delete marker.
        return ObjectNotFound(key, version_id, code)
    if key is not None and (code in LOCK_CODES or (lock_op and code == "AccessDenied")):
        # SeaweedFS (like AWS) answers a retention/legal-hold refusal with AccessDenied.
        return ObjectLocked(key, version_id, f"server refused {op} ({code})")
    if code in AUTH_CODES or status == 403:
        return StorageAuthError(f"{where}: the object store refused the credentials ({code})")
    if code in UNAVAILABLE_CODES or status >= 500:
        return StorageUnavailable(f"{where}: server error {status} {code}")
    return StorageRequestFailed(f"{where}: server rejected the request: {status} {code}")
