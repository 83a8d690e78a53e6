"""One S3 bucket with versioning and Object Lock: the connection, the bucket's
configuration and the lock state of its versions (COMPLIANCE retention, legal holds).

:class:`~storage.blobstore.BlobStore` adds the objects' bytes on top.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.helpers import check_bucket_name
from minio.retention import Retention

from storage.errors import BucketMisconfigured
from storage.keys import ceil_second, check_key, parse_endpoint
from storage.objects import RetentionInfo
from storage.s3_client import (
    NO_LOCK_CONFIG_CODES,
    make_client,
    object_lock_enabled,
    translate_errors,
)

_MiB = 1024 * 1024
MIN_PART = 8 * _MiB  # S3 needs >= 5 MiB parts; 8 MiB keeps memory per upload small


@dataclass(frozen=True)
class BucketLockState:
    versioning: str  # "Enabled", "Suspended" or "Off"
    object_lock: bool
    default_mode: str | None  # the bucket's default retention rule, if any
    default_period: str | None  # e.g. "30 days"


class LockedBucket:
    """The bucket and its lock operations (see :class:`~storage.blobstore.BlobStore` for
    the parameters)."""

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
        part_size: int = MIN_PART,
        min_retention: timedelta = timedelta(days=365),
    ):
        host, secure = parse_endpoint(endpoint, secure)
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
        self._client = make_client(
            host,
            access_key,
            secret_key,
            secure=secure,
            region=region,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
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
            if not object_lock_enabled(self._client, self._bucket):
                missing.append("object lock")
        if missing:
            raise BucketMisconfigured(self._bucket, missing)

    def lock_configuration(self) -> BucketLockState:
        """Versioning, Object Lock and the bucket's default retention, as the server reports
        them (for ``eakte doctor``; eAkte itself locks every version it stores)."""
        with self._errors("read bucket configuration"):
            versioning = self._client.get_bucket_versioning(self._bucket).status or "Off"
            enabled = object_lock_enabled(self._client, self._bucket)
            mode, duration = None, None
            if enabled:
                try:
                    config = self._client.get_object_lock_config(self._bucket)
                    mode = config.mode
                    if config.duration:
                        duration = f"{config.duration} {str(config.duration_unit).lower()}"
                except S3Error as exc:
                    if exc.code not in NO_LOCK_CONFIG_CODES:
                        raise
                except (ValueError, AttributeError):
                    pass  # an ObjectLockConfiguration without a Rule: no default
        return BucketLockState(versioning, enabled, mode, duration)

    def floor(self) -> datetime:
        """The retain-until a version stored now gets at the least."""
        return ceil_second(datetime.now(UTC) + self.min_retention)

    def _lock_until(self, retain_until: datetime | None) -> datetime:
        floor = self.floor()
        if retain_until is None:
            return floor
        if retain_until.tzinfo is None:
            raise ValueError("retain_until must be timezone-aware")
        return max(floor, ceil_second(retain_until.astimezone(UTC)))

    # ------------------------------------------------------------- object lock

    def set_retention(self, key: str, version_id: str | None, retain_until: datetime) -> None:
        """Set COMPLIANCE retention on a version until ``retain_until`` (timezone-aware, in
        the future; rounded up to whole seconds as S3 stores seconds).

        Extending is always allowed; shortening is refused by the server
        (:class:`ObjectLocked`), for every identity.
        """
        check_key(key)
        if retain_until.tzinfo is None:
            raise ValueError("retain_until must be timezone-aware")
        retain_until = ceil_second(retain_until.astimezone(UTC))
        if retain_until <= datetime.now(UTC):
            raise ValueError("retain_until must be in the future")
        with self._errors("set retention", key, version_id, lock_op=True):
            self._client.set_object_retention(
                self._bucket, key, Retention(COMPLIANCE, retain_until), version_id=version_id
            )

    def get_retention(self, key: str, version_id: str | None = None) -> RetentionInfo | None:
        """The version's retention, or None if it has none."""
        check_key(key)
        with self._errors("get retention", key, version_id):
            try:
                retention = self._client.get_object_retention(
                    self._bucket, key, version_id=version_id
                )
            except S3Error as exc:
                if exc.code in NO_LOCK_CONFIG_CODES:
                    return None
                raise
        if retention is None or retention.mode is None or retention.retain_until_date is None:
            return None
        return RetentionInfo(retention.mode, retention.retain_until_date)

    def set_legal_hold(self, key: str, version_id: str | None, on: bool) -> None:
        """Place (``on=True``) or release a legal hold on a version."""
        check_key(key)
        with self._errors("set legal hold", key, version_id, lock_op=True):
            if on:
                self._client.enable_object_legal_hold(self._bucket, key, version_id=version_id)
            else:
                self._client.disable_object_legal_hold(self._bucket, key, version_id=version_id)

    def get_legal_hold(self, key: str, version_id: str | None = None) -> bool:
        """Whether a legal hold is on for the version."""
        check_key(key)
        with self._errors("get legal hold", key, version_id):
            try:
                return self._client.is_object_legal_hold_enabled(
                    self._bucket, key, version_id=version_id
                )
            except S3Error as exc:
                # SeaweedFS answers NoSuchObjectLegalHold where minio expects another code.
                if exc.code in NO_LOCK_CONFIG_CODES:
                    return False
                raise

    # ------------------------------------------------------------------ errors

    def _errors(
        self,
        op: str,
        key: str | None = None,
        version_id: str | None = None,
        lock_op: bool = False,
    ) -> contextlib.AbstractContextManager[None]:
        """Translate minio/urllib3 failures inside the block into typed errors."""
        return translate_errors(self._endpoint, self._bucket, op, key, version_id, lock_op)
