"""The byte streams through which objects go in and out, each hashing what passes.

:class:`ObjectReader` verifies a read at its end; :class:`HashingReader` verifies an upload
before minio completes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

import urllib3
from urllib3 import BaseHTTPResponse

from storage.errors import IntegrityError, StorageUnavailable
from storage.objects import ObjectInfo

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["CHUNK", "HashingReader", "ObjectReader", "SourceError"]

CHUNK = 1024 * 1024


class ObjectReader(io.RawIOBase):
    """A readable stream of one object version that verifies its sha256 at the end.

    ``read()`` and iteration (which yields chunks of up to 1 MiB, not lines) raise
    :class:`IntegrityError` on the read that reaches the end if the digest or the size is
    wrong. Bytes handed out before that are unverified: consumers that must not pass on
    bad data (downloads to disk, renditions) should read to the end before using them, as
    :meth:`BlobStore.get_to_file` does. ``info`` describes the version.
    """

    def __init__(
        self, response: BaseHTTPResponse, info: ObjectInfo, expected_sha256: str, endpoint: str
    ):
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
        while chunk := self.read(CHUNK):
            parts.append(chunk)
        return b"".join(parts)

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(CHUNK):
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
            release(self._response)
        super().close()


class SourceError(Exception):
    """Carries an exception of the caller's upload stream through minio unchanged."""

    def __init__(self, original: Exception):
        super().__init__(str(original))
        self.original = original


class HashingReader:
    """Passes an upload stream through to minio while hashing it; raises
    :class:`IntegrityError` from ``read`` when the end is reached with the wrong digest, so
    minio aborts the upload before the object is complete."""

    def __init__(self, stream: IO[bytes], length: int, expected: str, key: str):
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
            raise SourceError(exc) from exc
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


def copy_hashing(stream: BinaryIO, out: IO[bytes], length: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while length < 0 or size < length:
        want = CHUNK if length < 0 else min(CHUNK, length - size)
        data = stream.read(want)
        if not data:
            if length >= 0:
                raise ValueError(f"stream ended after {size} of {length} bytes")
            break
        digest.update(data)
        out.write(data)
        size += len(data)
    return digest.hexdigest(), size


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while data := fh.read(CHUNK):
            digest.update(data)
    return digest.hexdigest()


def release(response: BaseHTTPResponse) -> None:
    with contextlib.suppress(Exception):
        response.close()
    with contextlib.suppress(Exception):
        response.release_conn()
