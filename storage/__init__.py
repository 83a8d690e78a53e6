"""Object storage for eAkte: an S3 bucket with versioning and Object Lock.

- :class:`~storage.blobstore.BlobStore`: store, read (sha256-verified), list, lock and
  destroy objects on any S3 endpoint with Object Lock (SeaweedFS, MinIO, Ceph RGW).
- :class:`~storage.embedded.EmbeddedSeaweedFS`: the zero-set-up server for one machine.
- :mod:`storage.errors`: the typed errors everything here raises.

This package knows nothing above it: it takes and returns plain values and frozen
dataclasses.
"""

from storage.blobstore import BlobStore
from storage.embedded import EmbeddedSeaweedFS
from storage.errors import (
    BucketMisconfigured,
    EmbeddedServerAlreadyRunning,
    EmbeddedServerError,
    IntegrityError,
    ObjectLocked,
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageRequestFailed,
    StorageUnavailable,
)
from storage.objects import ObjectInfo, RetentionInfo, StoredObject
from storage.streams import ObjectReader

__all__ = [
    "BlobStore",
    "BucketMisconfigured",
    "EmbeddedSeaweedFS",
    "EmbeddedServerAlreadyRunning",
    "EmbeddedServerError",
    "IntegrityError",
    "ObjectInfo",
    "ObjectLocked",
    "ObjectNotFound",
    "ObjectReader",
    "RetentionInfo",
    "StorageAuthError",
    "StorageError",
    "StorageRequestFailed",
    "StorageUnavailable",
    "StoredObject",
]
