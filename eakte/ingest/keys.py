"""Where ingest puts bytes, and identities that make a re-run find what a crash left.

A document or quarantine entry with a source key gets a UUID derived from tenant and source
key: a re-run after a crash computes the same UUID, hence the same S3 key, and finds the
bytes the crashed run stored instead of storing them again.
"""

from __future__ import annotations

import hashlib
import uuid

NAMESPACE = uuid.UUID("6f0c8a51-2f7e-4d8c-9a3e-8d1f7b0e4c21")  # eAkte ingest, fixed forever
MAX_SOURCE_KEY = 1000


def identity(tenant_id: int, source_key: str | None) -> uuid.UUID:
    if not source_key:
        return uuid.uuid4()
    return uuid.uuid5(NAMESPACE, f"{tenant_id}\n{source_key}")


def original_key(tenant_slug: str, document_uuid: uuid.UUID) -> str:
    return f"{tenant_slug}/documents/{document_uuid}/original"


def rendition_key(tenant_slug: str, document_uuid: uuid.UUID) -> str:
    return f"{tenant_slug}/documents/{document_uuid}/rendition-pdfa"


def quarantine_key(tenant_slug: str, entry_uuid: uuid.UUID) -> str:
    return f"{tenant_slug}/quarantine/{entry_uuid}"


def path_source_key(prefix: str, path_bytes: bytes, size: int, mtime_ns: int) -> str:
    """A file's identity for import and hot folder: path, size and modification time, so an
    unchanged file is recognised on a re-run without reading it, and a changed one is new.
    Paths that are long or not UTF-8 are represented by their hash."""
    try:
        path = path_bytes.decode("utf-8")
    except UnicodeDecodeError:
        path = ""
    if not path or len(path) > MAX_SOURCE_KEY - 100:
        path = "sha256:" + hashlib.sha256(path_bytes).hexdigest()
    return f"{prefix}:{path}|{size}|{mtime_ns}"
