"""R18: bytes changed behind the store's back are caught on read and by ``verify``.

The tests change the stored bytes in SeaweedFS's volume files (``<collection>_<id>.dat``) on
disk. A needle there is: header (cookie 4, id 8, size 4), data size 4, data, flags and
optional fields, CRC32-C of the data 4, append time 8, padding. SeaweedFS checks the CRC on
read, so a bare bit flip is a server error; flipping a byte *and* fixing the CRC is silent
corruption that only our sha256 notices.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storage.errors import IntegrityError

_CASTAGNOLI = 0x82F63B78
_TABLE = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ _CASTAGNOLI if _crc & 1 else _crc >> 1
    _TABLE.append(_crc)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _volume_files(seaweed, bucket: str) -> list[Path]:
    return sorted(seaweed.store_dir.glob(f"{bucket}_*.dat"))


def corrupt_stored_bytes(seaweed, bucket: str, data: bytes, at: int, fix_crc: bool) -> None:
    """Flip the byte ``at`` of ``data`` where SeaweedFS keeps it on disk.

    ``data`` must be one stored chunk (objects up to 4 MiB are one chunk). With ``fix_crc``
    the needle's CRC is recomputed, so the volume server serves the changed bytes.
    """
    assert crc32c(b"123456789") == 0xE3069283
    for path in _volume_files(seaweed, bucket):
        volume = path.read_bytes()
        start = volume.find(data)
        if start < 0:
            continue
        (data_size,) = struct.unpack(">I", volume[start - 4 : start])
        (needle_size,) = struct.unpack(">I", volume[start - 8 : start - 4])
        crc_at = start - 20 + 16 + needle_size
        (crc,) = struct.unpack(">I", volume[crc_at : crc_at + 4])
        # Fail loudly if the layout is not what we think (a future SeaweedFS format).
        assert data_size == len(data) and crc == crc32c(data), "unexpected needle layout"
        changed = bytearray(data)
        changed[at] ^= 0xFF
        with path.open("r+b") as fh:
            fh.seek(start + at)
            fh.write(bytes(changed[at : at + 1]))
            if fix_crc:
                fh.seek(crc_at)
                fh.write(struct.pack(">I", crc32c(bytes(changed))))
            fh.flush()
            os.fsync(fh.fileno())
        return
    raise AssertionError(f"stored bytes not found in {seaweed.store_dir}")


def test_silent_corruption_is_caught_on_read_and_by_verify(seaweed, blobstore, tmp_path):
    data = os.urandom(64 * 1024)  # incompressible: SeaweedFS stores it as is
    stored = blobstore.put("case/9/scan.pdf", io.BytesIO(data), len(data), "application/pdf")
    corrupt_stored_bytes(seaweed, blobstore.bucket, data, at=1000, fix_crc=True)

    # The server now serves the changed bytes without complaint ...
    served = blobstore._client.get_object(blobstore.bucket, stored.key).read()
    assert len(served) == len(data) and served != data

    # ... and every read path of the store refuses them.
    with blobstore.open(stored.key, stored.version_id) as reader, pytest.raises(IntegrityError):
        reader.read()
    with pytest.raises(IntegrityError) as by_verify:
        blobstore.verify(stored.key, stored.version_id, stored.sha256)
    assert by_verify.value.expected == stored.sha256
    assert by_verify.value.actual == hashlib.sha256(served).hexdigest()
    assert by_verify.value.version_id == stored.version_id
    with pytest.raises(IntegrityError):
        blobstore.get_to_file(stored.key, tmp_path / "scan.pdf")
    assert list(tmp_path.iterdir()) == []


def _chunks(seaweed, bucket: str, key: str, version_id: str) -> list[tuple[int, int]]:
    """(offset, size) of each stored chunk of a version, from the filer's entry."""
    entry = seaweed.filer_entry(f"/buckets/{bucket}/{key}.versions/v_{version_id}")
    return [(int(chunk.get("offset", 0)), int(chunk["size"])) for chunk in entry["chunks"]]


@pytest.mark.slow
def test_corruption_the_server_detects_is_reported_by_verify(seaweed, blobstore):
    """SeaweedFS's own CRC check catches a bare bit flip: it then retries the chunk for
    ~13 s and answers 500, or breaks off a transfer already under way. Both become
    IntegrityError, because the server still describes the object (it is up; the stored
    bytes are bad). The two cases run side by side to keep the wait to ~26 s."""
    small = os.urandom(64 * 1024)
    first_chunk_bad = blobstore.put("case/9/small.pdf", io.BytesIO(small), len(small))
    corrupt_stored_bytes(seaweed, blobstore.bucket, small, at=10, fix_crc=False)

    big = os.urandom(10 * 1024 * 1024)
    later_chunk_bad = blobstore.put("case/9/big.pdf", io.BytesIO(big), len(big))
    chunks = _chunks(seaweed, blobstore.bucket, later_chunk_bad.key, later_chunk_bad.version_id)
    assert len(chunks) > 1
    offset, size = chunks[-1]
    corrupt_stored_bytes(seaweed, blobstore.bucket, big[offset : offset + size], 5, False)

    def verify(stored) -> IntegrityError:
        with pytest.raises(IntegrityError) as failed:
            blobstore.verify(stored.key, stored.version_id, stored.sha256)
        return failed.value

    with ThreadPoolExecutor(2) as pool:
        on_open, mid_stream = pool.map(verify, [first_chunk_bad, later_chunk_bad])

    # 500 before any byte: open() tells the damaged object from a server in trouble.
    assert "cannot read the stored bytes" in str(on_open)
    assert (on_open.expected, on_open.actual) == (first_chunk_bad.sha256, None)
    # 200, then the transfer breaks off at the bad chunk (never bad bytes handed out);
    # verify() retried and it broke off at the same byte again.
    assert f"breaks off the read at byte {offset} every time" in str(mid_stream)
    assert mid_stream.version_id == later_chunk_bad.version_id
    assert blobstore.stat(first_chunk_bad.key).size == len(small)
