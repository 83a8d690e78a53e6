"""What the object store describes: a stored version, a listed or read version, its lock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from minio.time import from_http_header, from_iso8601utc

__all__ = ["SHA256_META", "ObjectInfo", "RetentionInfo", "StoredObject", "info_from_headers"]

SHA256_META = "sha256"
"""User-metadata name of the object's sha256 (sent as ``x-amz-meta-sha256``)."""


@dataclass(frozen=True)
class StoredObject:
    """What :meth:`BlobStore.put` stored."""

    key: str
    version_id: str | None
    sha256: str
    size: int
    content_type: str
    retain_until: datetime | None = None
    legal_hold: bool = False


@dataclass(frozen=True)
class ObjectInfo:
    """One object version as the server describes it.

    From :meth:`BlobStore.list` only key, version_id, size, last_modified, is_latest and
    is_delete_marker are known (S3 listings carry no metadata or lock state): the other
    fields are ``None`` there.
    """

    key: str
    version_id: str | None
    size: int | None
    sha256: str | None
    content_type: str | None
    last_modified: datetime | None
    retain_until: datetime | None
    legal_hold: bool | None
    retention_mode: str | None = None
    is_latest: bool | None = None
    is_delete_marker: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class RetentionInfo:
    """Object Lock retention of one version."""

    mode: str
    retain_until: datetime


def info_from_headers(key: str, headers: Mapping[str, str]) -> ObjectInfo:
    """Build ObjectInfo from the headers of a HEAD or GET answer."""

    def get(name: str) -> str | None:
        value = headers.get(name)
        return value if value not in (None, "") else None

    meta = {
        name.lower()[len("x-amz-meta-") :]: value
        for name, value in headers.items()
        if name.lower().startswith("x-amz-meta-")
    }
    sha = meta.get(SHA256_META)
    if sha is not None:
        sha = sha.strip().lower()
    last_modified = get("last-modified")
    retain = get("x-amz-object-lock-retain-until-date")
    hold = get("x-amz-object-lock-legal-hold")
    size = get("content-length")
    return ObjectInfo(
        key=key,
        version_id=get("x-amz-version-id"),
        size=int(size) if size is not None else None,
        sha256=sha,
        content_type=get("content-type"),
        last_modified=_parse_time(from_http_header, last_modified),
        retain_until=_parse_time(from_iso8601utc, retain),
        legal_hold=(hold.upper() == "ON") if hold else False,
        retention_mode=get("x-amz-object-lock-mode"),
        metadata=meta,
    )


def _parse_time(parse: Callable[[str], datetime | None], value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError:
        return None  # a server's odd date format must not make an object unreadable
