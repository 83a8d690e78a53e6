"""BlobStore against the real embedded SeaweedFS: writing, reading, verifying, listing."""

from __future__ import annotations

import hashlib
import io
import os
import time
import tracemalloc

import pytest
from minio import Minio

from storage.errors import BucketMisconfigured, IntegrityError, ObjectNotFound
from storage.streams import ObjectReader

MiB = 1024 * 1024


class GeneratedStream(io.RawIOBase):
    """``size`` bytes of deterministic data made on the fly: a file-like that never holds
    more than one 1 MiB block (plus what the caller asks for in one read)."""

    def __init__(self, size: int, seed: bytes = b"eakte"):
        super().__init__()
        self.size = size
        self._seed = seed
        self._pos = 0
        self._buffer = b""
        self._block = 0

    def readable(self) -> bool:
        return True

    def _next_block(self) -> bytes:
        # SHAKE gives fast, incompressible, reproducible bytes.
        block = hashlib.shake_128(self._seed + self._block.to_bytes(8, "big")).digest(MiB)
        self._block += 1
        return block

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self._pos
        size = min(size, self.size - self._pos)
        parts, have = [], 0
        while have < size:
            if not self._buffer:
                self._buffer = self._next_block()
            take = self._buffer[: size - have]
            self._buffer = self._buffer[len(take) :]
            parts.append(take)
            have += len(take)
        self._pos += size
        return b"".join(parts)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def sha256_of(stream: io.RawIOBase) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(MiB):
        digest.update(chunk)
    return digest.hexdigest()


def test_put_open_roundtrip_keeps_sha256_in_metadata(seaweed, blobstore):
    data = b"Antrag auf Gewerbeanmeldung\n" * 100
    stored = blobstore.put(
        "inbox/a.txt",
        io.BytesIO(data),
        len(data),
        content_type="text/plain",
        metadata={"source": "upload"},
    )
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data) and stored.version_id

    raw = Minio(seaweed.endpoint, seaweed.access_key, seaweed.secret_key, secure=False)
    head = raw.stat_object(blobstore.bucket, "inbox/a.txt", version_id=stored.version_id)
    assert head.metadata["x-amz-meta-sha256"] == stored.sha256  # R18: sha256 on the object

    info = blobstore.stat("inbox/a.txt")
    assert (info.sha256, info.size, info.content_type) == (stored.sha256, len(data), "text/plain")
    assert info.metadata["source"] == "upload" and info.legal_hold is False
    with blobstore.open("inbox/a.txt", stored.version_id) as reader:
        assert isinstance(reader, ObjectReader)
        assert reader.read() == data
        assert reader.verified
    assert blobstore.verify("inbox/a.txt", stored.version_id, stored.sha256) == stored.sha256


def test_put_unknown_length_without_sha256_spools(blobstore):
    stream = GeneratedStream(20 * MiB + 123)
    expected = sha256_of(GeneratedStream(20 * MiB + 123))
    stored = blobstore.put("bulk/unknown.bin", stream)  # length -1, no sha256
    assert (stored.sha256, stored.size) == (expected, 20 * MiB + 123)
    assert blobstore.verify(stored.key, stored.version_id, expected) == expected


def test_put_unknown_length_with_sha256_streams(blobstore):
    expected = sha256_of(GeneratedStream(9 * MiB))
    stored = blobstore.put("bulk/streamed.bin", GeneratedStream(9 * MiB), sha256=expected.upper())
    assert stored.sha256 == expected and stored.size == 9 * MiB
    assert blobstore.stat(stored.key).sha256 == expected


@pytest.mark.parametrize(
    ("size", "length_known"),
    [(1000, True), (1000, False), (20 * MiB, True), (20 * MiB, False)],
    ids=["small", "small-unknown-length", "multipart", "multipart-unknown-length"],
)
def test_put_with_wrong_sha256_stores_nothing(blobstore, size, length_known):
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(IntegrityError) as refused:
        blobstore.put(
            "bad/upload.bin", GeneratedStream(size), size if length_known else -1, sha256=wrong
        )
    assert refused.value.expected == wrong
    assert refused.value.actual == sha256_of(GeneratedStream(size))
    assert list(blobstore.list(versions=True)) == []
    # A multipart upload was aborted, not left pending.
    assert blobstore._client._list_multipart_uploads(blobstore.bucket).uploads == []


def test_put_short_stream_is_refused(blobstore):
    with pytest.raises(ValueError, match="ended after"):
        blobstore.put("bad/short.bin", io.BytesIO(b"12345"), 10)
    assert list(blobstore.list(versions=True)) == []


def test_put_file_and_get_to_file(blobstore, tmp_path):
    source = tmp_path / "scan.pdf"
    source.write_bytes(os.urandom(300_000))
    stored = blobstore.put_file("scans/scan.pdf", source, content_type="application/pdf")
    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()

    target = tmp_path / "out" / "copy.pdf"
    target.parent.mkdir()
    info = blobstore.get_to_file("scans/scan.pdf", target, stored.version_id)
    assert target.read_bytes() == source.read_bytes()
    assert info.sha256 == stored.sha256 and info.content_type == "application/pdf"
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.pdf"]


def test_read_with_wrong_expected_sha256_raises_at_the_end(blobstore, tmp_path):
    stored = blobstore.put("x/doc.txt", io.BytesIO(b"content"), 7)
    wrong = "0" * 64
    with (
        blobstore.open("x/doc.txt", expected_sha256=wrong) as reader,
        pytest.raises(IntegrityError) as mismatch,
    ):
        reader.read()
    assert (mismatch.value.expected, mismatch.value.actual) == (wrong, stored.sha256)
    assert mismatch.value.exit_code == 5

    with pytest.raises(IntegrityError):
        blobstore.verify("x/doc.txt", stored.version_id, wrong)
    with pytest.raises(IntegrityError):
        blobstore.get_to_file("x/doc.txt", tmp_path / "doc.txt", expected_sha256=wrong)
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_object_without_sha256_metadata_cannot_be_read_unverified(seaweed, blobstore):
    raw = Minio(seaweed.endpoint, seaweed.access_key, seaweed.secret_key, secure=False)
    raw.put_object(blobstore.bucket, "foreign.bin", io.BytesIO(b"from elsewhere"), 14)
    with pytest.raises(IntegrityError, match="no sha256"):
        blobstore.open("foreign.bin")
    known = hashlib.sha256(b"from elsewhere").hexdigest()
    with blobstore.open("foreign.bin", expected_sha256=known) as reader:
        assert reader.read() == b"from elsewhere"


def test_not_found(seaweed, blobstore):
    stored = blobstore.put("here.txt", io.BytesIO(b"here"), 4)
    missing_version = stored.version_id[:-4] + "0000"
    for call in (
        lambda: blobstore.stat("missing.txt"),
        lambda: blobstore.open("missing.txt"),
        lambda: blobstore.verify("missing.txt", None, stored.sha256),
        lambda: blobstore.open("here.txt", missing_version),
        lambda: blobstore.stat("here.txt", missing_version),
    ):
        with pytest.raises(ObjectNotFound) as not_found:
            call()
        assert not_found.value.exit_code == 9 and not_found.value.http_status == 404

    raw = Minio(seaweed.endpoint, seaweed.access_key, seaweed.secret_key, secure=False)
    raw.remove_object(blobstore.bucket, "here.txt")  # latest is now a delete marker
    marker = next(info for info in blobstore.list(versions=True) if info.is_delete_marker)
    with pytest.raises(ObjectNotFound):
        blobstore.open("here.txt")
    with pytest.raises(ObjectNotFound):
        blobstore.open("here.txt", marker.version_id)
    assert blobstore.verify("here.txt", stored.version_id, stored.sha256) == stored.sha256


def test_list_with_and_without_versions(blobstore):
    first = blobstore.put("case/1/a", io.BytesIO(b"1"), 1)
    second = blobstore.put("case/1/a", io.BytesIO(b"22"), 2)
    blobstore.put("case/2/b", io.BytesIO(b"3"), 1)

    current = list(blobstore.list(prefix="case/"))
    assert [(info.key, info.size) for info in current] == [("case/1/a", 2), ("case/2/b", 1)]
    versions = [info for info in blobstore.list("case/1/", versions=True)]
    assert {info.version_id for info in versions} == {first.version_id, second.version_id}
    assert {info.version_id for info in versions if info.is_latest} == {second.version_id}
    assert not any(info.is_delete_marker for info in versions)


def test_invalid_keys_and_metadata_are_refused(blobstore):
    for key in ("", "/abs", "a//b", "a/../b", "./a", "dir/"):
        with pytest.raises(ValueError):
            blobstore.put(key, io.BytesIO(b"x"), 1)
    with pytest.raises(ValueError):
        blobstore.put("ok", io.BytesIO(b"x"), 1, metadata={"name": "Bürgeramt"})
    with pytest.raises(ValueError):
        blobstore.put("ok", io.BytesIO(b"x"), 1, metadata={"sha256": "0" * 64})
    with pytest.raises(ValueError):
        blobstore.put("ok", io.BytesIO(b"x"), 1, sha256="not-a-hash")


def test_put_to_missing_bucket_does_not_create_it(seaweed):
    store = seaweed.blobstore("never-created-bucket")
    with pytest.raises(BucketMisconfigured):
        store.put("a.txt", io.BytesIO(b"x"), 1)
    with pytest.raises(BucketMisconfigured) as missing:
        store.check_bucket()
    assert missing.value.missing == ("bucket",)
    with pytest.raises(BucketMisconfigured):
        store.ensure_bucket(create=False)


@pytest.mark.slow
def test_200mb_roundtrip_streams_with_bounded_memory(blobstore):
    size = 200 * MiB
    expected = sha256_of(GeneratedStream(size))
    started = time.monotonic()
    tracemalloc.start()
    try:
        stored = blobstore.put(
            "bulk/200mb.bin", GeneratedStream(size), size, "application/pdf", sha256=expected
        )
        digest, total = hashlib.sha256(), 0
        with blobstore.open(stored.key, stored.version_id) as reader:
            for chunk in reader:
                digest.update(chunk)
                total += len(chunk)
            assert reader.verified
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started

    assert (total, digest.hexdigest()) == (size, expected)
    assert stored.size == size and blobstore.stat(stored.key).sha256 == expected
    assert peak < 48 * MiB, f"peak traced memory {peak / MiB:.1f} MiB"
    print(f"200 MiB round trip in {elapsed:.1f} s, peak traced memory {peak / MiB:.1f} MiB")


def test_spooled_upload_memory_is_bounded(blobstore, tmp_path):
    size = 40 * MiB
    tracemalloc.start()
    try:
        stored = blobstore.put("bulk/spooled.bin", GeneratedStream(size))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == size
    assert peak < 32 * MiB, f"peak traced memory {peak / MiB:.1f} MiB"
