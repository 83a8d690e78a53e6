"""What the object store accepts: endpoints, keys, sha256 digests, metadata, lock times."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from datetime import datetime, timedelta

from storage.objects import SHA256_META

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_META_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def parse_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    endpoint = endpoint.strip()
    if "://" not in endpoint:
        if not endpoint or "/" in endpoint:
            raise ValueError(f"S3 endpoint must be host:port or a URL, not {endpoint!r}")
        return endpoint, secure
    url = urllib.parse.urlsplit(endpoint)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ValueError(f"S3 endpoint URL must be http(s)://host[:port], not {endpoint!r}")
    if url.path not in ("", "/") or url.query or url.fragment or url.username:
        raise ValueError("S3 endpoint URL must not have a path, query or credentials")
    return url.netloc, url.scheme == "https"


def check_key(key: str) -> None:
    # SeaweedFS maps keys to filer paths and normalises "a//b" to "a/b": such keys would
    # silently name another object, so they are refused.
    if (
        not key
        or key.startswith("/")
        or key.endswith("/")
        or "//" in key
        or "\x00" in key
        or any(part in (".", "..") for part in key.split("/"))
        or len(key.encode()) > 1024
    ):
        raise ValueError(f"invalid object key {key!r}")


def norm_sha(value: str) -> str:
    value = value.strip().lower()
    if not _SHA256_RE.match(value):
        raise ValueError("sha256 must be 64 hex digits")
    return value


def user_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    result = {}
    for name, value in (metadata or {}).items():
        name = name.lower()
        if not _META_NAME_RE.match(name) or name == SHA256_META:
            raise ValueError(f"invalid or reserved metadata name {name!r}")
        if not value.isascii() or not value.isprintable():
            raise ValueError(f"metadata {name!r} must be printable ASCII")
        result[name] = value
    return result


def ceil_second(value: datetime) -> datetime:
    if value.microsecond:
        value = value.replace(microsecond=0) + timedelta(seconds=1)
    return value
