"""Issue 13, finding 1 (R25/R26): with the S3 keys in the data dir nothing locked can be removed.

The attack that worked before: release the legal hold of a version under retention, then delete
it with the governance bypass (the one identity had Admin). Here every attack is tried with
every S3 key eAkte holds, against the real embedded SeaweedFS, and each must be refused:
delete a locked version (with and without the bypass header), shorten its retention, switch it
to GOVERNANCE, release the legal hold and delete, delete the bucket, change the bucket's lock
configuration (and its versioning, lifecycle and policy, which would undo the lock another way).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from minio import Minio
from minio.commonconfig import COMPLIANCE, ENABLED, GOVERNANCE, Filter
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.retention import Retention
from minio.versioningconfig import SUSPENDED, VersioningConfig

from storage.embedded import EmbeddedSeaweedFS
from tests.fixtures.s3 import wait_for_floor

_KEY_MARKERS = (b"secretKey", b"secret_key", b"aws_secret")


def _keys_in_data_dir(seaweed) -> list[tuple[str, Minio]]:
    """Every S3 key in the data dir, as a client: the credentials file is the only file that
    holds any (checked), and every credential of every identity in it is used."""
    holders = sorted(
        path.name
        for path in seaweed.data_dir.rglob("*")
        if path.is_file()
        and path.stat().st_size < 1_000_000
        and any(marker in path.read_bytes() for marker in _KEY_MARKERS)
    )
    assert holders == [seaweed.credentials_path.name]
    config = json.loads(seaweed.credentials_path.read_text())
    clients = [
        (identity["name"], Minio(seaweed.endpoint, c["accessKey"], c["secretKey"], secure=False))
        for identity in config["identities"]
        for c in identity["credentials"]
    ]
    assert clients
    return clients


def _refused(call, *args, **kwargs) -> None:
    with pytest.raises(S3Error) as refused:
        result = call(*args, **kwargs)
        for error in result or ():  # remove_objects reports per key instead of raising
            raise S3Error(None, error.code, error.message, None, None, None)
    assert refused.value.code == "AccessDenied", refused.value.code


def _delete_attempts(client: Minio, bucket: str, key: str, version_id: str) -> None:
    _refused(client.remove_object, bucket, key, version_id=version_id)
    _refused(client.remove_objects, bucket, [DeleteObject(key, version_id)])
    _refused(
        client.remove_objects, bucket, [DeleteObject(key, version_id)], bypass_governance_mode=True
    )
    with pytest.raises(S3Error) as bypass:
        client._execute(
            "DELETE",
            bucket,
            key,
            headers={"x-amz-bypass-governance-retention": "true"},
            query_params={"versionId": version_id},
        )
    assert bypass.value.code == "AccessDenied"


def test_r26_no_key_in_the_data_dir_removes_a_locked_version(seaweed, blobstore):
    """A closed case's version under legal hold and retention (ten years), and one under hold
    whose only retention is the floor (a case past its end, frozen by the hold)."""
    bucket = blobstore.bucket
    closed = blobstore.put(
        "akte/1/bescheid.pdf",
        io.BytesIO(b"%PDF Bescheid"),
        13,
        retain_until=datetime.now(UTC) + timedelta(days=3650),
        legal_hold=True,
    )
    with_day_floor = seaweed.blobstore(bucket, min_retention=timedelta(days=1))
    past_end = with_day_floor.put("akte/2/alt.pdf", io.BytesIO(b"%PDF alt"), 8, legal_hold=True)
    for name, client in _keys_in_data_dir(seaweed):
        for stored in (closed, past_end):
            key, version = stored.key, stored.version_id
            _delete_attempts(client, bucket, key, version)
            shorter = Retention(COMPLIANCE, datetime.now(UTC).replace(microsecond=0) + _HOUR)
            _refused(client.set_object_retention, bucket, key, shorter, version_id=version)
            longer = datetime.now(UTC).replace(microsecond=0) + timedelta(days=4000)
            governance = Retention(GOVERNANCE, longer)
            _refused(client.set_object_retention, bucket, key, governance, version_id=version)
            # eAkte may release holds (R12 releases); the retention still stands.
            client.disable_object_legal_hold(bucket, key, version_id=version)
            _delete_attempts(client, bucket, key, version)
            client.enable_object_legal_hold(bucket, key, version_id=version)
        _refused(client.remove_bucket, bucket)
        _refused(client.set_object_lock_config, bucket, ObjectLockConfig(GOVERNANCE, 1, DAYS))
        _refused(client.set_bucket_versioning, bucket, VersioningConfig(SUSPENDED))
        expire = Rule(
            ENABLED, rule_filter=Filter(prefix=""), rule_id="x", expiration=Expiration(days=1)
        )
        _refused(client.set_bucket_lifecycle, bucket, LifecycleConfig([expire]))
        anyone = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
        _refused(client.set_bucket_policy, bucket, json.dumps(anyone))
        assert name == "eakte"
    for stored in (closed, past_end):
        assert blobstore.verify(stored.key, stored.version_id, stored.sha256) == stored.sha256
        info = blobstore.stat(stored.key, stored.version_id)
        assert info.retention_mode == "COMPLIANCE" and info.legal_hold


def test_r26_without_hold_or_retention_left_eaktes_key_deletes(seaweed, blobstore):
    """The refusals above are about the locks, not a key that cannot delete at all: disposal
    after the lock ran out works with the same key, without any bypass."""
    stored = blobstore.put("akte/3/faellig.pdf", io.BytesIO(b"%PDF faellig"), 12)
    wait_for_floor(blobstore)
    ((_, client),) = _keys_in_data_dir(seaweed)
    client.remove_object(blobstore.bucket, stored.key, version_id=stored.version_id)
    assert list(blobstore.list(versions=True)) == []


def test_an_admin_identity_of_an_older_installation_loses_its_rights(tmp_path):
    """Before issue 13 the one identity had Admin (and so the governance bypass): the next
    start keeps its key but limits it to eAkte's policy."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    old = {
        "identities": [
            {
                "name": "eakte",
                "credentials": [{"accessKey": "EAKTEOLDINSTALL0000", "secretKey": "s" * 40}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (data_dir / "s3-credentials.json").write_text(json.dumps(old))
    with EmbeddedSeaweedFS(data_dir) as server:
        assert server.access_key == "EAKTEOLDINSTALL0000"
        config = json.loads(server.credentials_path.read_text())
        assert "actions" not in config["identities"][0]
        store = server.blobstore("alt-installation", min_retention=timedelta(seconds=1))
        store.ensure_bucket()
        client = Minio(server.endpoint, "EAKTEOLDINSTALL0000", "s" * 40, secure=False)
        _refused(client.set_object_lock_config, store.bucket, ObjectLockConfig(GOVERNANCE, 1, DAYS))
        _refused(client.remove_bucket, store.bucket)


_HOUR = timedelta(hours=1)
