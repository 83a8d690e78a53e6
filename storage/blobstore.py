"""S3 object store for original files and renditions, over the ``minio`` client.

Every object carries its sha256 as user metadata (``x-amz-meta-sha256``); every read verifies
it (R18). The bucket must have versioning and Object Lock (R25): an overwrite makes a new
version, and retention or a legal hold on a version makes the server refuse to delete it (R26).

Retention is COMPLIANCE only: no identity can shorten it or delete a version before it runs
out, and nothing here asks the server to bypass a lock. Every version is stored with a
retain-until of at least ``min_retention`` ahead (the floor), in the same request as its bytes,
so no version is ever unlocked, not even for a moment.

All failures surface as the typed errors of :mod:`storage.errors`; minio and urllib3
exceptions never leave this module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import math
import os
import re
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.deleteobjects import DeleteObject
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import check_bucket_name
from minio.retention import Retention
from minio.time import from_http_header, from_iso8601utc

from storage.errors import (
    BucketMisconfigured,
    IntegrityError,
    ObjectLocked,
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageRequestFailed,
    StorageUnavailable,
)

__all__ = ["BlobStore", "ObjectInfo", "ObjectReader", "RetentionInfo", "StoredObject"]

SHA256_META = "sha256"
"""User-metadata name of the object's sha256 (sent as ``x-amz-meta-sha256``)."""

_MiB = 1024 * 1024
_CHUNK = _MiB
_MIN_PART = 8 * _MiB  # S3 needs >= 5 MiB parts; 8 MiB keeps memory per upload small
_MAX_PARTS = 10_000
_SPOOL_IN_MEMORY = 8 * _MiB
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_META_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# S3 error codes, grouped by the typed error they become.
_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchVersion", "ResourceNotFound", "NoSuchObject"}
_NO_LOCK_CONFIG_CODES = {
    "NoSuchObjectLockConfiguration",
    "ObjectLockConfigurationNotFoundError",
    "NoSuchObjectLegalHold",
}
_AUTH_CODES = {
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
_BUCKET_CODES = {"NoSuchBucket", "InvalidBucketName", "BucketAlreadyExists"}
_UNAVAILABLE_CODES = {
    "InternalError",
    "RequestTimeout",
    "ServiceUnavailable",
    "SlowDown",
    "XMinioServerNotInitialized",
}
_LOCK_CODES = {"ObjectLocked", "InvalidRetentionPeriod"}


@dataclass(frozen=True)
class StoredObject:
    """What :meth:`BlobStore.put` stored."""

    key: str
    version_id: str | None
    sha256: str
    size: int
    content_type: str
    retain_until: datetime | None = None
    legal_hold: bool = False


@dataclass(frozen=True)
class ObjectInfo:
    """One object version as the server describes it.

    From :meth:`BlobStore.list` only key, version_id, size, last_modified, is_latest and
    is_delete_marker are known (S3 listings carry no metadata or lock state): the other
    fields are ``None`` there.
    """

    key: str
    version_id: str | None
    size: int | None
    sha256: str | None
    content_type: str | None
    last_modified: datetime | None
    retain_until: datetime | None
    legal_hold: bool | None
    retention_mode: str | None = None
    is_latest: bool | None = None
    is_delete_marker: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class RetentionInfo:
    """Object Lock retention of one version."""

    mode: str
    retain_until: datetime


class BlobStore:
    """One bucket on an S3 endpoint with versioning and Object Lock.

    ``endpoint`` is ``"host:port"`` (then ``secure`` says http or https) or a URL
    ``"http(s)://host:port"``. Connections time out after ``connect_timeout`` seconds and
    are retried ``retries`` times, so an unreachable endpoint fails in seconds with
    :class:`StorageUnavailable` instead of hanging. ``spool_dir`` is where uploads without a
    known sha256 are spooled (default: the system temp dir). ``min_retention`` is the
    COMPLIANCE floor every new version gets (``EAKTE_MIN_RETENTION_DAYS`` in production;
    tests pass seconds so that they need not wait a year).
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = False,
        region: str | None = None,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        retries: int = 1,
        spool_dir: Path | None = None,
        part_size: int = _MIN_PART,
        min_retention: timedelta = timedelta(days=365),
    ):
        host, secure = _parse_endpoint(endpoint, secure)
        try:
            check_bucket_name(bucket, strict=True)
        except ValueError as exc:
            raise BucketMisconfigured(bucket, ["a valid bucket name"], str(exc)) from None
        if part_size < 5 * _MiB:
            raise ValueError("part_size must be at least 5 MiB (S3 minimum)")
        if min_retention < timedelta(seconds=1):
            raise ValueError("min_retention must be at least one second: every version is locked")
        self.min_retention = min_retention
        self._bucket = bucket
        self._endpoint = host
        self._secure = secure
        self._spool_dir = spool_dir
        self._part_size = part_size
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
        self._client = Minio(
            host,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http,
        )

    def __repr__(self) -> str:
        scheme = "https" if self._secure else "http"
        return f"BlobStore({scheme}://{self._endpoint}/{self._bucket})"

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def endpoint(self) -> str:
        return self._endpoint

    # ------------------------------------------------------------------ bucket

    def ensure_bucket(self, create: bool = True) -> None:
        """Create the bucket with Object Lock (hence versioning) if missing, then check it.

        Raises :class:`BucketMisconfigured` if an existing bucket lacks versioning or Object
        Lock (S3 cannot add Object Lock to a bucket afterwards on most servers).
        """
        with self._errors("ensure bucket"):
            exists = self._client.bucket_exists(self._bucket)
            if not exists and create:
                try:
                    self._client.make_bucket(self._bucket, object_lock=True)
                except S3Error as exc:
                    # Another process may have created it between the two calls; whether it
                    # is usable is what check_bucket() finds out.
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
        self.check_bucket()

    def check_bucket(self) -> None:
        """Raise :class:`BucketMisconfigured` unless the bucket exists with versioning
        Enabled and Object Lock enabled."""
        with self._errors("check bucket"):
            if not self._client.bucket_exists(self._bucket):
                raise BucketMisconfigured(self._bucket, ["bucket"], "it does not exist")
            missing = []
            if self._client.get_bucket_versioning(self._bucket).status != "Enabled":
                missing.append("versioning")
            if not self._object_lock_enabled():
                missing.append("object lock")
        if missing:
            raise BucketMisconfigured(self._bucket, missing)

    def _object_lock_enabled(self) -> bool:
        # minio's ObjectLockConfig drops the ObjectLockEnabled element, so read it ourselves.
        try:
            response = self._client._execute("GET", self._bucket, query_params={"object-lock": ""})
        except S3Error as exc:
            if exc.code in _NO_LOCK_CONFIG_CODES:
                return False
            raise
        root = ET.fromstring(response.data)  # noqa: S314 - from the configured endpoint
        for element in root.iter():
            if element.tag.rsplit("}", 1)[-1] == "ObjectLockEnabled":
                return (element.text or "").strip() == "Enabled"
        return False

    # ------------------------------------------------------------------- write

    def put(
        self,
        key: str,
        stream: BinaryIO,
        length: int = -1,
        content_type: str = "application/octet-stream",
        sha256: str | None = None,
        metadata: Mapping[str, str] | None = None,
        *,
        retain_until: datetime | None = None,
        legal_hold: bool = False,
    ) -> StoredObject:
        """Store ``stream`` as a new version of ``key`` and return what was stored.

        The version is locked in the same request: COMPLIANCE retention until
        ``retain_until`` or the floor (now + ``min_retention``), whichever is later, and a
        legal hold if ``legal_hold`` (a version stored beneath an active hold).

        With ``sha256`` the stream is uploaded while it is hashed; if the bytes do not match,
        the upload is aborted and :class:`IntegrityError` raised. Without it the stream is
        spooled to a temp file while hashing (S3 needs the metadata before the bytes).
        Memory use stays bounded by the part size either way. ``length`` is the byte count,
        or -1 if unknown. ``metadata`` values must be ASCII.
        """
        _check_key(key)
        lock = _Lock(self._lock_until(retain_until), legal_hold)
        user_meta = _user_metadata(metadata)
        if sha256 is not None:
            return self._upload(
                key, stream, length, content_type, _norm_sha(sha256), user_meta, lock
            )
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY, dir=self._spool_dir) as spool:
            digest, size = _copy_hashing(stream, spool, length)
            spool.seek(0)
            return self._upload(key, spool, size, content_type, digest, user_meta, lock)

    def put_file(
        self,
        key: str,
        path: Path | str,
        content_type: str = "application/octet-stream",
        sha256: str | None = None,
        metadata: Mapping[str, str] | None = None,
        *,
        retain_until: datetime | None = None,
        legal_hold: bool = False,
    ) -> StoredObject:
        """Store a local file (locked as :meth:`put` locks). Without ``sha256`` the file is
        hashed first, then uploaded while hashed again, so a file changed in between is
        refused."""
        path = Path(path)
        if sha256 is None:
            sha256 = _hash_file(path)
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            return self.put(
                key,
                fh,
                size,
                content_type,
                sha256,
                metadata,
                retain_until=retain_until,
                legal_hold=legal_hold,
            )

    def floor(self) -> datetime:
        """The retain-until a version stored now gets at the least."""
        return _ceil_second(datetime.now(UTC) + self.min_retention)

    def _lock_until(self, retain_until: datetime | None) -> datetime:
        floor = self.floor()
        if retain_until is None:
            return floor
        if retain_until.tzinfo is None:
            raise ValueError("retain_until must be timezone-aware")
        return max(floor, _ceil_second(retain_until.astimezone(UTC)))

    def _upload(
        self,
        key: str,
        stream: BinaryIO,
        length: int,
        content_type: str,
        expected: str,
        user_meta: dict[str, str],
        lock: _Lock,
    ) -> StoredObject:
        reader = _HashingReader(stream, length, expected, key)
        meta = {**user_meta, SHA256_META: expected}
        try:
            with self._errors("put", key):
                result = self._client.put_object(
                    self._bucket,
                    key,
                    reader,
                    length,
                    content_type=content_type,
                    metadata=meta,
                    part_size=self._part_size_for(length),
                    # One part at a time: parallel uploads queue parts in memory.
                    num_parallel_uploads=1,
                    retention=Retention(COMPLIANCE, lock.retain_until),
                    legal_hold=lock.legal_hold,
                )
        except _SourceError as exc:
            # The caller's stream failed (minio has aborted the upload): its error, unchanged.
            raise exc.original from None
        if not reader.verified:
            # minio read exactly `length` bytes and stopped; the check in read() must have
            # run. If it did not (a future minio reading differently), check now. A wrong
            # version cannot be removed (it is locked like every other): it stays behind,
            # unregistered, and `eakte verify` reports it as an orphan.
            reader.check()
        return StoredObject(
            key,
            result.version_id,
            expected,
            reader.size,
            content_type,
            lock.retain_until,
            lock.legal_hold,
        )

    def _part_size_for(self, length: int) -> int:
        if length < 0:
            return self._part_size
        needed = math.ceil(length / _MAX_PARTS)
        return max(self._part_size, math.ceil(needed / _MiB) * _MiB)

    # -------------------------------------------------------------------- read

    def open(
        self, key: str, version_id: str | None = None, expected_sha256: str | None = None
    ) -> ObjectReader:
        """Open an object version for reading.

        The returned reader verifies the sha256 when it reaches the end: against
        ``expected_sha256`` if given, else the object's metadata. Without either,
        :class:`IntegrityError` is raised at once (an unverifiable read is refused), as it is
        when the server fails to read this object's bytes but still describes the object
        (SeaweedFS answers 500 for a chunk with a bad CRC).
        Close the reader (or use ``with``) to release the connection.
        """
        _check_key(key)
        expected = _norm_sha(expected_sha256) if expected_sha256 else None
        with self._errors("get", key, version_id):
            response = self._get_object(key, version_id, expected)
        info = _info_from_headers(key, response.headers)
        reference = expected or info.sha256
        if reference is None:
            _release(response)
            raise IntegrityError(key, info.version_id, None, None, "object has no sha256")
        return ObjectReader(response, info, reference, self._endpoint)

    def _get_object(self, key: str, version_id: str | None, expected: str | None):
        try:
            return self._client.get_object(self._bucket, key, version_id=version_id)
        except S3Error as exc:
            if exc.response is None or exc.response.status < 500:
                raise
            error = exc
        # A server error for this object. If the server still describes the object, it is
        # up and it is the stored bytes it cannot read: the object is damaged. (Not retried:
        # SeaweedFS itself retries a bad chunk for ~13 s before it answers 500.)
        head = self._client.stat_object(self._bucket, key, version_id=version_id)
        meta_sha = (head.metadata or {}).get(f"x-amz-meta-{SHA256_META}")
        raise IntegrityError(
            key,
            head.version_id or version_id,
            expected or meta_sha,
            None,
            f"the server cannot read the stored bytes ({error.response.status} {error.code})",
        )

    def get_to_file(
        self,
        key: str,
        path: Path | str,
        version_id: str | None = None,
        expected_sha256: str | None = None,
    ) -> ObjectInfo:
        """Download a version to ``path`` and return its info (``sha256`` = the verified
        digest). The file appears only once verified: it is written beside ``path`` under a
        temporary name and renamed at the end; on failure nothing is left behind."""
        path = Path(path)
        with self.open(key, version_id, expected_sha256) as reader:
            fd, tmp_name = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".part"
            )
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in reader:
                        out.write(chunk)
                os.replace(tmp_name, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_name)
                raise
            return dataclasses.replace(reader.info, sha256=reader.actual_sha256)

    def verify(self, key: str, version_id: str | None, expected_sha256: str | None) -> str:
        """Fixity check: stream the version, hash it and return the actual sha256 (see
        :meth:`verify_version`)."""
        sha256 = self.verify_version(key, version_id, expected_sha256).sha256
        assert sha256 is not None
        return sha256

    def verify_version(
        self, key: str, version_id: str | None, expected_sha256: str | None
    ) -> ObjectInfo:
        """Fixity check: stream the version, hash it and describe it as the server answered
        the read (its lock state included), with ``sha256`` = the actual digest.

        Raises :class:`IntegrityError` if it differs from ``expected_sha256`` (or, if that is
        None, from the metadata), if the metadata disagrees with ``expected_sha256``, or if
        the server cannot deliver the bytes (a read broken off at the same byte twice while
        the server still answers for the object); :class:`ObjectNotFound` if the version is
        gone.
        """
        broken_at: int | None = None
        while True:
            reader = self.open(key, version_id, expected_sha256)
            try:
                with reader:
                    for _ in reader:
                        pass
            except StorageUnavailable:
                # A broken transfer is retried once; breaking off at the same byte again
                # means the server cannot read the bytes there, not a network hiccup.
                if broken_at is None:
                    broken_at = reader.bytes_read
                    continue
                if reader.bytes_read != broken_at:
                    raise
                self.stat(key, version_id)  # raises if the server is in trouble after all
                raise IntegrityError(
                    key,
                    reader.info.version_id,
                    reader.expected_sha256,
                    None,
                    f"the server breaks off the read at byte {broken_at} every time",
                ) from None
            break
        meta = reader.info.sha256
        if expected_sha256 and meta is not None and meta != _norm_sha(expected_sha256):
            raise IntegrityError(
                key,
                reader.info.version_id,
                _norm_sha(expected_sha256),
                meta,
                "the sha256 in the object's metadata differs from the expected one",
            )
        return dataclasses.replace(reader.info, sha256=reader.actual_sha256)

    def stat(self, key: str, version_id: str | None = None) -> ObjectInfo:
        """Describe one version (the latest if ``version_id`` is None)."""
        _check_key(key)
        with self._errors("stat", key, version_id):
            obj = self._client.stat_object(self._bucket, key, version_id=version_id)
        return _info_from_headers(key, obj.metadata or {})

    def list(self, prefix: str = "", versions: bool = False) -> Iterator[ObjectInfo]:
        """List objects under ``prefix`` (all levels). With ``versions`` every version and
        delete marker is listed, delete markers with ``is_delete_marker=True``."""
        with self._errors("list"):
            for obj in self._client.list_objects(
                self._bucket, prefix=prefix or None, recursive=True, include_version=versions
            ):
                yield ObjectInfo(
                    key=obj.object_name or "",
                    version_id=obj.version_id if versions else None,
                    size=obj.size,
                    sha256=None,
                    content_type=None,
                    last_modified=obj.last_modified,
                    retain_until=None,
                    legal_hold=None,
                    is_latest=None if obj.is_latest is None else obj.is_latest == "true",
                    is_delete_marker=obj.is_delete_marker,
                )

    # ----------------------------------------------------------------- delete

    def delete_all_versions(self, key: str) -> int:
        """Remove every version and delete marker of ``key``; return how many were removed.

        Only versions whose locks have run out can go: before deleting anything each
        version's lock state is checked, so a key with a version under a legal hold or
        unexpired retention is refused as a whole (:class:`ObjectLocked`) rather than half
        deleted. The server has the last word: its refusals are :class:`ObjectLocked` too. A
        key without versions is not an error (deletion is idempotent).
        """
        _check_key(key)
        entries = [info for info in self.list(prefix=key, versions=True) if info.key == key]
        now = datetime.now(UTC)
        for info in entries:
            if info.is_delete_marker:
                continue
            state = self.stat(key, info.version_id)
            if state.legal_hold:
                raise ObjectLocked(key, info.version_id, "legal hold is on")
            if state.retain_until is not None and state.retain_until > now:
                raise ObjectLocked(
                    key,
                    info.version_id,
                    f"{state.retention_mode} retention until {state.retain_until}",
                )
        self._remove_versions(key, [info.version_id for info in entries])
        return len(entries)

    def _remove_versions(self, key: str, version_ids: list[str | None]) -> None:
        if not version_ids:
            return
        with self._errors("delete", key, lock_op=True):
            errors = list(
                self._client.remove_objects(
                    self._bucket, [DeleteObject(key, version_id) for version_id in version_ids]
                )
            )
        for error in errors:
            if error.code in _NOT_FOUND_CODES:
                continue  # already gone: someone else finished the job
            if error.code == "AccessDenied" or error.code in _LOCK_CODES:
                raise ObjectLocked(key, error.version_id, f"server refused delete ({error.code})")
            raise StorageRequestFailed(
                f"delete of {key!r} version {error.version_id!r} failed: {error.code}"
            )

    # ------------------------------------------------------------- object lock

    def set_retention(self, key: str, version_id: str | None, retain_until: datetime) -> None:
        """Set COMPLIANCE retention on a version until ``retain_until`` (timezone-aware, in
        the future; rounded up to whole seconds as S3 stores seconds).

        Extending is always allowed; shortening is refused by the server
        (:class:`ObjectLocked`), for every identity.
        """
        _check_key(key)
        if retain_until.tzinfo is None:
            raise ValueError("retain_until must be timezone-aware")
        retain_until = _ceil_second(retain_until.astimezone(UTC))
        if retain_until <= datetime.now(UTC):
            raise ValueError("retain_until must be in the future")
        with self._errors("set retention", key, version_id, lock_op=True):
            self._client.set_object_retention(
                self._bucket, key, Retention(COMPLIANCE, retain_until), version_id=version_id
            )

    def get_retention(self, key: str, version_id: str | None = None) -> RetentionInfo | None:
        """The version's retention, or None if it has none."""
        _check_key(key)
        with self._errors("get retention", key, version_id):
            try:
                retention = self._client.get_object_retention(
                    self._bucket, key, version_id=version_id
                )
            except S3Error as exc:
                if exc.code in _NO_LOCK_CONFIG_CODES:
                    return None
                raise
        if retention is None or retention.mode is None or retention.retain_until_date is None:
            return None
        return RetentionInfo(retention.mode, retention.retain_until_date)

    def set_legal_hold(self, key: str, version_id: str | None, on: bool) -> None:
        """Place (``on=True``) or release a legal hold on a version."""
        _check_key(key)
        with self._errors("set legal hold", key, version_id, lock_op=True):
            if on:
                self._client.enable_object_legal_hold(self._bucket, key, version_id=version_id)
            else:
                self._client.disable_object_legal_hold(self._bucket, key, version_id=version_id)

    def get_legal_hold(self, key: str, version_id: str | None = None) -> bool:
        """Whether a legal hold is on for the version."""
        _check_key(key)
        with self._errors("get legal hold", key, version_id):
            try:
                return self._client.is_object_legal_hold_enabled(
                    self._bucket, key, version_id=version_id
                )
            except S3Error as exc:
                # SeaweedFS answers NoSuchObjectLegalHold where minio expects another code.
                if exc.code in _NO_LOCK_CONFIG_CODES:
                    return False
                raise

    # ------------------------------------------------------------------ errors

    @contextlib.contextmanager
    def _errors(
        self,
        op: str,
        key: str | None = None,
        version_id: str | None = None,
        lock_op: bool = False,
    ) -> Iterator[None]:
        """Translate minio/urllib3 failures inside the block into typed errors."""
        try:
            yield
        except (StorageError, _SourceError):
            raise
        except S3Error as exc:
            raise self._from_s3_error(exc, op, key, version_id, lock_op) from exc
        except (ServerError, InvalidResponseError) as exc:
            raise StorageUnavailable(
                f"{op}: {self._endpoint} did not answer like an S3 server: {exc}"
            ) from exc
        except (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
            raise StorageUnavailable(
                f"{op}: object store at {self._endpoint} unreachable: {type(exc).__name__}: {exc}"
            ) from exc

    def _from_s3_error(
        self, exc: S3Error, op: str, key: str | None, version_id: str | None, lock_op: bool
    ) -> StorageError:
        code = exc.code or ""
        status = exc.response.status if exc.response is not None else 0
        where = f"{op} {self._bucket}/{key}" if key else f"{op} {self._bucket}"
        if code in _BUCKET_CODES:
            return BucketMisconfigured(self._bucket, ["bucket"], f"{where}: {code}")
        if key is not None and (code in _NOT_FOUND_CODES or code == "MethodNotAllowed"):
            # MethodNotAllowed: the version asked for is a delete marker.
            return ObjectNotFound(key, version_id, code)
        if key is not None and (code in _LOCK_CODES or (lock_op and code == "AccessDenied")):
            # SeaweedFS (like AWS) answers a retention/legal-hold refusal with AccessDenied.
            return ObjectLocked(key, version_id, f"server refused {op} ({code})")
        if code in _AUTH_CODES or status == 403:
            return StorageAuthError(f"{where}: the object store refused the credentials ({code})")
        if code in _UNAVAILABLE_CODES or status >= 500:
            return StorageUnavailable(f"{where}: server error {status} {code}")
        return StorageRequestFailed(f"{where}: server rejected the request: {status} {code}")


@dataclass(frozen=True)
class _Lock:
    """What a new version is stored with."""

    retain_until: datetime
    legal_hold: bool


class ObjectReader(io.RawIOBase):
    """A readable stream of one object version that verifies its sha256 at the end.

    ``read()`` and iteration (which yields chunks of up to 1 MiB, not lines) raise
    :class:`IntegrityError` on the read that reaches the end if the digest or the size is
    wrong. Bytes handed out before that are unverified: consumers that must not pass on
    bad data (downloads to disk, renditions) should read to the end before using them, as
    :meth:`BlobStore.get_to_file` does. ``info`` describes the version.
    """

    def __init__(self, response, info: ObjectInfo, expected_sha256: str, endpoint: str):
        super().__init__()
        self._response = response
        self.info = info
        self.expected_sha256 = expected_sha256
        self._endpoint = endpoint
        self._hash = hashlib.sha256()
        self._size = 0
        self._done = False
        self._error: IntegrityError | None = None
        self.actual_sha256: str | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        if self._error is not None:
            raise self._error
        if self._done or size == 0:
            return b""
        try:
            data = self._response.read(size)
        except (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
            raise StorageUnavailable(
                f"read of {self.info.key!r} from {self._endpoint} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not data:
            self._finish()
            return b""
        self._hash.update(data)
        self._size += len(data)
        return data

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(_CHUNK):
            parts.append(chunk)
        return b"".join(parts)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __iter__(self) -> Iterator[bytes]:  # type: ignore[override]
        while chunk := self.read(_CHUNK):
            yield chunk

    @property
    def bytes_read(self) -> int:
        return self._size

    @property
    def verified(self) -> bool:
        """True once the whole object was read and matched."""
        return self._done and self._error is None

    def _finish(self) -> None:
        self._done = True
        self.actual_sha256 = self._hash.hexdigest()
        problem = ""
        if self.info.size is not None and self._size != self.info.size:
            problem = f"read {self._size} of {self.info.size} bytes"
        if self.actual_sha256 != self.expected_sha256 or problem:
            self._error = IntegrityError(
                self.info.key,
                self.info.version_id,
                self.expected_sha256,
                self.actual_sha256,
                problem,
            )
            raise self._error

    def close(self) -> None:
        if not self.closed:
            _release(self._response)
        super().close()


class _SourceError(Exception):
    """Carries an exception of the caller's upload stream through minio unchanged."""

    def __init__(self, original: Exception):
        super().__init__(str(original))
        self.original = original


class _HashingReader:
    """Passes an upload stream through to minio while hashing it; raises
    :class:`IntegrityError` from ``read`` when the end is reached with the wrong digest, so
    minio aborts the upload before the object is complete."""

    def __init__(self, stream: BinaryIO, length: int, expected: str, key: str):
        self._stream = stream
        self._length = length
        self._expected = expected
        self._key = key
        self._hash = hashlib.sha256()
        self.size = 0
        self.verified = False

    def read(self, size: int = -1) -> bytes:
        if self.verified:
            return b""
        if self._length >= 0:
            remaining = self._length - self.size
            size = remaining if size is None or size < 0 else min(size, remaining)
        try:
            data = self._stream.read(size) if size != 0 else b""
        except Exception as exc:
            raise _SourceError(exc) from exc
        if data:
            self._hash.update(data)
            self.size += len(data)
        if self._length >= 0 and self.size >= self._length:
            self.check()
        elif not data and size != 0:
            if self._length >= 0:
                raise ValueError(
                    f"stream for {self._key!r} ended after {self.size} of {self._length} bytes"
                )
            self.check()
        return data

    def check(self) -> None:
        actual = self._hash.hexdigest()
        if actual != self._expected:
            raise IntegrityError(
                self._key, None, self._expected, actual, "upload does not match the given sha256"
            )
        self.verified = True


# ---------------------------------------------------------------------- helpers


def _parse_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    endpoint = endpoint.strip()
    if "://" not in endpoint:
        if not endpoint or "/" in endpoint:
            raise ValueError(f"S3 endpoint must be host:port or a URL, not {endpoint!r}")
        return endpoint, secure
    url = urllib.parse.urlsplit(endpoint)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ValueError(f"S3 endpoint URL must be http(s)://host[:port], not {endpoint!r}")
    if url.path not in ("", "/") or url.query or url.fragment or url.username:
        raise ValueError("S3 endpoint URL must not have a path, query or credentials")
    return url.netloc, url.scheme == "https"


def _check_key(key: str) -> None:
    # SeaweedFS maps keys to filer paths and normalises "a//b" to "a/b": such keys would
    # silently name another object, so they are refused.
    if (
        not key
        or key.startswith("/")
        or key.endswith("/")
        or "//" in key
        or "\x00" in key
        or any(part in (".", "..") for part in key.split("/"))
        or len(key.encode()) > 1024
    ):
        raise ValueError(f"invalid object key {key!r}")


def _norm_sha(value: str) -> str:
    value = value.strip().lower()
    if not _SHA256_RE.match(value):
        raise ValueError("sha256 must be 64 hex digits")
    return value


def _user_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    result = {}
    for name, value in (metadata or {}).items():
        name = name.lower()
        if not _META_NAME_RE.match(name) or name == SHA256_META:
            raise ValueError(f"invalid or reserved metadata name {name!r}")
        if not value.isascii() or not value.isprintable():
            raise ValueError(f"metadata {name!r} must be printable ASCII")
        result[name] = value
    return result


def _copy_hashing(stream: BinaryIO, out: BinaryIO, length: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while length < 0 or size < length:
        want = _CHUNK if length < 0 else min(_CHUNK, length - size)
        data = stream.read(want)
        if not data:
            if length >= 0:
                raise ValueError(f"stream ended after {size} of {length} bytes")
            break
        digest.update(data)
        out.write(data)
        size += len(data)
    return digest.hexdigest(), size


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while data := fh.read(_CHUNK):
            digest.update(data)
    return digest.hexdigest()


def _ceil_second(value: datetime) -> datetime:
    if value.microsecond:
        value = value.replace(microsecond=0) + timedelta(seconds=1)
    return value


def _info_from_headers(key: str, headers) -> ObjectInfo:
    """Build ObjectInfo from the headers of a HEAD or GET answer."""

    def get(name: str) -> str | None:
        value = headers.get(name)
        return value if value not in (None, "") else None

    meta = {
        name.lower()[len("x-amz-meta-") :]: value
        for name, value in headers.items()
        if name.lower().startswith("x-amz-meta-")
    }
    sha = meta.get(SHA256_META)
    if sha is not None:
        sha = sha.strip().lower()
    last_modified = get("last-modified")
    retain = get("x-amz-object-lock-retain-until-date")
    hold = get("x-amz-object-lock-legal-hold")
    size = get("content-length")
    return ObjectInfo(
        key=key,
        version_id=get("x-amz-version-id"),
        size=int(size) if size is not None else None,
        sha256=sha,
        content_type=get("content-type"),
        last_modified=_parse_time(from_http_header, last_modified),
        retain_until=_parse_time(from_iso8601utc, retain),
        legal_hold=(hold.upper() == "ON") if hold else False,
        retention_mode=get("x-amz-object-lock-mode"),
        metadata=meta,
    )


def _parse_time(parse, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError:
        return None  # a server's odd date format must not make an object unreadable


def _release(response) -> None:
    with contextlib.suppress(Exception):
        response.close()
    with contextlib.suppress(Exception):
        response.release_conn()
