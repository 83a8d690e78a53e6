"""R25/R26 conformance against the real server: Object Lock refuses what it must refuse.

Retention is COMPLIANCE only and every version is stored under a floor (the ``blobstore``
fixture's is TEST_FLOOR, seconds instead of a year). Where ``BlobStore.delete_all_versions``
would refuse on its own (it checks lock state before deleting), these tests send the delete to
the server (``_remove_versions``, or the raw minio client) so that the refusal proven is the
server's, not ours. tests/storage/test_least_privilege.py repeats the attacks with every key
eAkte holds.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from minio import Minio
from minio.commonconfig import GOVERNANCE
from minio.error import S3Error
from minio.retention import Retention

from storage.errors import BucketMisconfigured, ObjectLocked, ObjectNotFound
from tests.fixtures.s3 import TEST_FLOOR, bucket_name, drop_bucket, wait_for_floor


def _raw(seaweed) -> Minio:
    return Minio(seaweed.endpoint, seaweed.access_key, seaweed.secret_key, secure=False)


def _put(store, key: str, data: bytes):
    return store.put(key, io.BytesIO(data), len(data), content_type="text/plain")


def _read(store, key: str, version_id: str | None = None) -> bytes:
    with store.open(key, version_id) as reader:
        return reader.read()


_S = timedelta(seconds=2)


def _in(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def _server_refuses_delete(seaweed, store, key: str, version_id: str) -> None:
    """The server itself answers a version delete with a refusal (no bypass header)."""
    with pytest.raises(S3Error) as refused:
        _raw(seaweed).remove_object(store.bucket, key, version_id=version_id)
    assert refused.value.code == "AccessDenied"
    with pytest.raises(ObjectLocked):
        store._remove_versions(key, [version_id])


def test_r25_bucket_created_with_versioning_and_object_lock(seaweed, blobstore):
    raw = _raw(seaweed)
    assert raw.get_bucket_versioning(blobstore.bucket).status == "Enabled"
    answer = raw._execute("GET", blobstore.bucket, query_params={"object-lock": ""})
    assert b"<ObjectLockEnabled>Enabled</ObjectLockEnabled>" in answer.data
    blobstore.check_bucket()  # and our own check agrees


def test_r25_bucket_without_object_lock_refused(seaweed):
    raw = _raw(seaweed)
    plain = seaweed.blobstore(bucket_name("plain"))
    raw.make_bucket(plain.bucket)
    try:
        with pytest.raises(BucketMisconfigured) as missing_both:
            plain.ensure_bucket()
        assert missing_both.value.missing == ("versioning", "object lock")
        assert missing_both.value.exit_code == 3

        # Versioning alone is not enough: without Object Lock nothing is protected. (eAkte's
        # key may not change versioning: this goes through the server's own shell.)
        seaweed.shell([f"s3.bucket.versioning -name {plain.bucket} -enable"])
        with pytest.raises(BucketMisconfigured) as missing_lock:
            plain.check_bucket()
        assert missing_lock.value.missing == ("object lock",)
        assert "object lock" in str(missing_lock.value)
    finally:
        drop_bucket(seaweed, plain.bucket)


def test_r25_every_version_is_stored_under_a_compliance_floor(seaweed, blobstore):
    """Locked in the same request as its bytes: no version is ever without a lock. After the
    floor it goes without any bypass."""
    before = datetime.now(UTC)
    stored = _put(blobstore, "inbox/1/scan.pdf", b"%PDF eingang")
    info = blobstore.stat(stored.key, stored.version_id)
    assert info.retention_mode == "COMPLIANCE"
    assert before + TEST_FLOOR <= info.retain_until <= datetime.now(UTC) + TEST_FLOOR + _S
    assert stored.retain_until == info.retain_until and stored.legal_hold is False
    _server_refuses_delete(seaweed, blobstore, stored.key, stored.version_id)

    wait_for_floor(blobstore)
    assert blobstore.delete_all_versions(stored.key) == 1


def test_r25_put_takes_a_later_retain_until_and_a_legal_hold(blobstore):
    until = _in(400).replace(microsecond=0)
    stored = blobstore.put(
        "akte/9/neu.pdf", io.BytesIO(b"x"), 1, retain_until=until, legal_hold=True
    )
    info = blobstore.stat(stored.key, stored.version_id)
    assert (info.retention_mode, info.retain_until, info.legal_hold) == ("COMPLIANCE", until, True)
    # A retain-until before the floor does not lower it.
    early = blobstore.put("akte/9/alt.pdf", io.BytesIO(b"y"), 1, retain_until=_in(-30))
    assert blobstore.stat(early.key, early.version_id).retain_until > datetime.now(UTC)


def test_r26_delete_under_retention_refused(seaweed, blobstore):
    stored = _put(blobstore, "case/1/doc.txt", b"Bescheid vom 1.2.2024")
    blobstore.set_retention(stored.key, stored.version_id, _in(1))

    _server_refuses_delete(seaweed, blobstore, stored.key, stored.version_id)
    with pytest.raises(ObjectLocked):
        blobstore.delete_all_versions(stored.key)

    assert _read(blobstore, stored.key, stored.version_id) == b"Bescheid vom 1.2.2024"
    info = blobstore.stat(stored.key, stored.version_id)
    assert info.retention_mode == "COMPLIANCE"
    assert info.retain_until is not None and info.retain_until > _in(0.9)


def test_r26_overwrite_under_retention_refused(seaweed, blobstore):
    """On a versioned bucket an overwrite is a new version: the locked one stays as it was."""
    original = _put(blobstore, "case/2/doc.txt", b"original bytes")
    blobstore.set_retention(original.key, original.version_id, _in(1))

    overwrite = _put(blobstore, "case/2/doc.txt", b"forged bytes!!")
    assert overwrite.version_id != original.version_id
    assert _read(blobstore, original.key) == b"forged bytes!!"  # latest is the new version
    assert _read(blobstore, original.key, original.version_id) == b"original bytes"
    blobstore.verify(original.key, original.version_id, original.sha256)

    # A plain delete (no version) only adds a delete marker; the locked version survives.
    _raw(seaweed).remove_object(blobstore.bucket, original.key)
    with pytest.raises(ObjectNotFound):
        blobstore.stat(original.key)
    assert _read(blobstore, original.key, original.version_id) == b"original bytes"

    # And the locked version itself cannot be removed.
    _server_refuses_delete(seaweed, blobstore, original.key, original.version_id)
    assert _read(blobstore, original.key, original.version_id) == b"original bytes"


def test_r26_legal_hold_blocks_delete(seaweed, blobstore):
    stored = _put(blobstore, "case/3/doc.txt", b"under hold")
    assert blobstore.get_legal_hold(stored.key, stored.version_id) is False
    blobstore.set_legal_hold(stored.key, stored.version_id, True)
    assert blobstore.get_legal_hold(stored.key, stored.version_id) is True
    assert blobstore.stat(stored.key, stored.version_id).legal_hold is True

    wait_for_floor(blobstore)  # the floor has run out: only the hold is left
    _server_refuses_delete(seaweed, blobstore, stored.key, stored.version_id)
    with pytest.raises(ObjectLocked):
        blobstore.delete_all_versions(stored.key)
    assert _read(blobstore, stored.key, stored.version_id) == b"under hold"

    blobstore.set_legal_hold(stored.key, stored.version_id, False)
    assert blobstore.delete_all_versions(stored.key) == 1
    with pytest.raises(ObjectNotFound):
        blobstore.stat(stored.key, stored.version_id)


def test_r26_shortening_retention_or_switching_to_governance_refused(seaweed, blobstore):
    stored = _put(blobstore, "case/4/doc.txt", b"kept")
    until = _in(2)
    blobstore.set_retention(stored.key, stored.version_id, until)

    with pytest.raises(ObjectLocked):
        blobstore.set_retention(stored.key, stored.version_id, _in(1))
    governance = Retention(GOVERNANCE, _in(3).replace(microsecond=0))
    with pytest.raises(S3Error) as refused:
        _raw(seaweed).set_object_retention(
            blobstore.bucket, stored.key, governance, version_id=stored.version_id
        )
    assert refused.value.code == "AccessDenied"
    kept = blobstore.get_retention(stored.key, stored.version_id)
    assert kept is not None and kept.mode == "COMPLIANCE"
    assert abs(kept.retain_until - until) < timedelta(seconds=2)

    # Setting the same date again (closure re-run) and extending are allowed.
    blobstore.set_retention(stored.key, stored.version_id, until)
    blobstore.set_retention(stored.key, stored.version_id, _in(3))
    extended = blobstore.get_retention(stored.key, stored.version_id)
    assert extended is not None and extended.retain_until > until + timedelta(hours=23)


def test_retention_needs_aware_future_dates(blobstore):
    stored = _put(blobstore, "case/6/doc.txt", b"x")
    with pytest.raises(ValueError, match="timezone"):
        blobstore.set_retention(stored.key, stored.version_id, datetime(2099, 1, 1))
    with pytest.raises(ValueError, match="future"):
        blobstore.set_retention(stored.key, stored.version_id, _in(-1))
    with pytest.raises(ValueError, match="timezone"):
        blobstore.put("case/6/other.txt", io.BytesIO(b"x"), 1, retain_until=datetime(2099, 1, 1))
    assert blobstore.get_retention(stored.key, stored.version_id).retain_until == (
        stored.retain_until
    )


def test_a_store_without_a_floor_is_refused(seaweed):
    with pytest.raises(ValueError, match="min_retention"):
        seaweed.blobstore("no-floor", min_retention=timedelta(0))


def test_delete_all_versions_removes_versions_and_markers_of_that_key_only(seaweed, blobstore):
    _put(blobstore, "case/7/doc", b"v1")
    _put(blobstore, "case/7/doc", b"v2")
    _raw(seaweed).remove_object(blobstore.bucket, "case/7/doc")  # a delete marker
    neighbour = _put(blobstore, "case/7/doc2", b"same prefix, other key")
    wait_for_floor(blobstore)

    versions = [info for info in blobstore.list(versions=True) if info.key == "case/7/doc"]
    assert sorted(info.is_delete_marker for info in versions) == [False, False, True]
    assert blobstore.delete_all_versions("case/7/doc") == 3
    assert [info.key for info in blobstore.list(versions=True)] == ["case/7/doc2"]
    assert _read(blobstore, neighbour.key) == b"same prefix, other key"
    assert blobstore.delete_all_versions("case/7/doc") == 0  # idempotent
