"""The embedded object store shared by every eAkte process of a data dir, owned by none.

A command attaches to the SeaweedFS another process (``eakte serve``, an import) started. When
that process ends, its server goes with it; :class:`SharedEmbeddedStore` then takes the server
over (starts it under the data-dir lock, or attaches to whoever did first) and repeats the call,
so a long-running worker never keeps failing against a dead port.
"""

from __future__ import annotations

import threading
from typing import Any

from storage.blobstore import BlobStore
from storage.embedded import EmbeddedSeaweedFS
from storage.errors import EmbeddedServerError, StorageUnavailable


class SharedEmbeddedStore:
    """A :class:`BlobStore` on the embedded server that follows the server across owners.

    Every BlobStore method is available; one that fails with ``StorageUnavailable`` because the
    server went away is repeated once on the taken-over server (a stream argument is rewound
    first; one that cannot be rewound is not repeated, the caller's own retry covers it).
    """

    def __init__(self, server: EmbeddedSeaweedFS, bucket: str, **kwargs: Any):
        self._server, self._bucket, self._kwargs = server, bucket, kwargs
        self._store = server.blobstore(bucket, **kwargs)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SharedEmbeddedStore({self._store!r})"

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            store = self._store
            streams = [a for a in (*args, *kwargs.values()) if hasattr(a, "read")]
            positions = [(s, s.tell()) for s in streams if _seekable(s)]
            try:
                return getattr(store, name)(*args, **kwargs)
            except StorageUnavailable:
                if not self._took_over(store) or len(positions) != len(streams):
                    raise
            for stream, position in positions:
                stream.seek(position)
            return getattr(self._store, name)(*args, **kwargs)

        return call

    def _took_over(self, failed: BlobStore) -> bool:
        """Whether a (new) server is there for ``failed``'s calls to be repeated on."""
        with self._lock:
            if self._store is not failed:
                return True  # another thread took over already
            try:
                if not self._server.take_over():
                    return False
            except EmbeddedServerError:
                return False  # nobody could start it: the caller sees the store unavailable
            self._store = self._server.blobstore(self._bucket, **self._kwargs)
            return True


def _seekable(stream: Any) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False
