"""Issue 21, finding 3: the embedded object store is shared, not owned. A process attached to
the server another one started keeps working when that one ends: it takes the server over."""

from __future__ import annotations

import contextlib
import io

from eakte.config import S3Settings, Settings
from eakte.runtime import open_store
from storage.embedded import EmbeddedSeaweedFS


def test_attached_process_takes_over_when_the_owner_ends(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="sqlite://", s3=S3Settings(bucket="b21"))
    owner = EmbeddedSeaweedFS(tmp_path).start()  # e.g. an `eakte import` started first
    with contextlib.ExitStack() as closers:
        try:
            store = open_store(settings, closers)  # e.g. an `eakte worker` that attached
            store.ensure_bucket()
            before = store.put("scan-1", io.BytesIO(b"%PDF-1.4 first"), length=14)
        finally:
            owner.stop()  # the import ends, its server with it
        # The worker still reads what was stored and stores what comes next.
        assert store.open("scan-1", before.version_id).readall() == b"%PDF-1.4 first"
        after = store.put("scan-2", io.BytesIO(b"%PDF-1.4 second"), length=15)
        assert store.stat("scan-2", after.version_id).sha256 == after.sha256
    # The taken-over server ended with the process that took it over: a new one starts.
    with EmbeddedSeaweedFS(tmp_path) as again:
        assert again.running
