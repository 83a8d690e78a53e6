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
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, BinaryIO, cast

from minio.commonconfig import COMPLIANCE
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.retention import Retention
from urllib3 import BaseHTTPResponse

from storage.bucket import LockedBucket
from storage.errors import (
    IntegrityError,
    ObjectLocked,
    StorageRequestFailed,
    StorageUnavailable,
)
from storage.keys import check_key, norm_sha, user_metadata
from storage.objects import SHA256_META, ObjectInfo, StoredObject, info_from_headers
from storage.s3_client import (
    LOCK_CODES,
    NOT_FOUND_CODES,
)
from storage.streams import (
    HashingReader,
    ObjectReader,
    SourceError,
    copy_hashing,
    hash_file,
    release,
)

__all__ = ["BlobStore"]

_MiB = 1024 * 1024
_MAX_PARTS = 10_000
_SPOOL_IN_MEMORY = 8 * _MiB


class BlobStore(LockedBucket):
    """One bucket on an S3 endpoint with versioning and Object Lock.

    ``endpoint`` is ``"host:port"`` (then ``secure`` says http or https) or a URL
    ``"http(s)://host:port"``. Connections time out after ``connect_timeout`` seconds and
    are retried ``retries`` times, so an unreachable endpoint fails in seconds with
    :class:`StorageUnavailable` instead of hanging. ``spool_dir`` is where uploads without a
    known sha256 are spooled (default: the system temp dir). ``min_retention`` is the
    COMPLIANCE floor every new version gets (``EAKTE_MIN_RETENTION_DAYS`` in production;
    tests pass seconds so that they need not wait a year).
    """

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
        check_key(key)
        lock = _Lock(self._lock_until(retain_until), legal_hold)
        user_meta = user_metadata(metadata)
        if sha256 is not None:
            return self._upload(
                key, stream, length, content_type, norm_sha(sha256), user_meta, lock
            )
        spool_dir = str(self._spool_dir) if self._spool_dir is not None else None
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY, dir=spool_dir) as spool:
            digest, size = copy_hashing(stream, spool, length)
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
            sha256 = hash_file(path)
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

    def _upload(
        self,
        key: str,
        stream: IO[bytes],
        length: int,
        content_type: str,
        expected: str,
        user_meta: dict[str, str],
        lock: _Lock,
    ) -> StoredObject:
        reader = HashingReader(stream, length, expected, key)
        meta: dict[str, str | list[str] | tuple[str]] = {**user_meta, SHA256_META: expected}
        try:
            with self._errors("put", key):
                result = self._client.put_object(
                    self._bucket,
                    key,
                    # minio only calls read(): the hashing reader is all the stream it needs.
                    cast(BinaryIO, reader),
                    length,
                    content_type=content_type,
                    metadata=meta,
                    part_size=self._part_size_for(length),
                    # One part at a time: parallel uploads queue parts in memory.
                    num_parallel_uploads=1,
                    retention=Retention(COMPLIANCE, lock.retain_until),
                    legal_hold=lock.legal_hold,
                )
        except SourceError as exc:
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
        check_key(key)
        expected = norm_sha(expected_sha256) if expected_sha256 else None
        with self._errors("get", key, version_id):
            response = self._get_object(key, version_id, expected)
        info = info_from_headers(key, response.headers)
        reference = expected or info.sha256
        if reference is None:
            release(response)
            raise IntegrityError(key, info.version_id, None, None, "object has no sha256")
        return ObjectReader(response, info, reference, self._endpoint)

    def _get_object(
        self, key: str, version_id: str | None, expected: str | None
    ) -> BaseHTTPResponse:
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
        if expected_sha256 and meta is not None and meta != norm_sha(expected_sha256):
            raise IntegrityError(
                key,
                reader.info.version_id,
                norm_sha(expected_sha256),
                meta,
                "the sha256 in the object's metadata differs from the expected one",
            )
        return dataclasses.replace(reader.info, sha256=reader.actual_sha256)

    def stat(self, key: str, version_id: str | None = None) -> ObjectInfo:
        """Describe one version (the latest if ``version_id`` is None)."""
        check_key(key)
        with self._errors("stat", key, version_id):
            obj = self._client.stat_object(self._bucket, key, version_id=version_id)
        return info_from_headers(key, obj.metadata or {})

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
        check_key(key)
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

    def _remove_versions(self, key: str, version_ids: Sequence[str | None]) -> None:
        if not version_ids:
            return
        with self._errors("delete", key, lock_op=True):
            errors = list(
                self._client.remove_objects(
                    self._bucket, [DeleteObject(key, version_id) for version_id in version_ids]
                )
            )
        for error in errors:
            if error.code in NOT_FOUND_CODES:
                continue  # already gone: someone else finished the job
            if error.code == "AccessDenied" or error.code in LOCK_CODES:
                raise ObjectLocked(key, error.version_id, f"server refused delete ({error.code})")
            raise StorageRequestFailed(
                f"delete of {key!r} version {error.version_id!r} failed: {error.code}"
            )


@dataclass(frozen=True)
class _Lock:
    """What a new version is stored with."""

    retain_until: datetime
    legal_hold: bool
