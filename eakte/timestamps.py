"""RFC 3161 timestamps from a time-stamping authority (TSA), through the ``openssl ts`` tool.

A token proves that some bytes existed at the TSA's time: an insider who could rewrite the
bucket still cannot produce a token with an earlier time for different bytes. ``openssl`` does
the ASN.1 and the signature check (imprint, signature, certificate chain up to the configured
CA and the timeStamping key usage); this module only moves bytes and reads the time.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from eakte.errors import TimestampFailed

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
_TIME_RE = re.compile(r"^Time stamp: (\w{3}) +(\d+) (\d\d:\d\d:\d\d)(?:\.\d+)? (\d{4}) GMT$", re.M)
_MAX_REPLY = 64 * 1024


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            ["openssl", "ts", *args], input=data, capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TimestampFailed(f"openssl ts {args[0]}: {exc}") from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
        reason = next((line for line in reversed(lines) if "error" in line), lines[-1:] or [""])
        raise TimestampFailed(f"openssl ts {args[0]}: {str(reason).strip()[:300]}")
    return done.stdout


def request_token(url: str, data: bytes, ca_file: Path, timeout: float = 10.0) -> bytes:
    """A token over ``data`` from the TSA at ``url``, checked against ``ca_file`` before it is
    returned (a TSA that answers with garbage or someone else's token is an error)."""
    query = _openssl("-query", "-sha256", "-cert", data=data)
    # The URL's scheme is http(s), checked when the settings are read.
    request = urllib.request.Request(  # noqa: S310
        url, data=query, method="POST", headers={"Content-Type": QUERY_TYPE}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            reply = response.read(_MAX_REPLY + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampFailed(f"TSA {url}: {getattr(exc, 'reason', exc)}") from None
    if len(reply) > _MAX_REPLY:
        raise TimestampFailed(f"TSA {url}: reply larger than {_MAX_REPLY} bytes")
    with tempfile.TemporaryDirectory(prefix="eakte-tsa-") as tmp:
        query_file, reply_file = Path(tmp, "q.tsq"), Path(tmp, "r.tsr")
        query_file.write_bytes(query)
        reply_file.write_bytes(reply)
        _openssl(
            "-verify",
            "-queryfile",
            str(query_file),
            "-in",
            str(reply_file),
            "-CAfile",
            str(ca_file),
        )
    return reply


def check_token(token: bytes, data: bytes, ca_file: Path) -> datetime:
    """The time the valid ``token`` gives ``data``; ``TimestampFailed`` if it is not valid
    for these bytes or not signed by a TSA that ``ca_file`` vouches for."""
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.NamedTemporaryFile(prefix="eakte-tsa-", suffix=".tsr") as fh:
        fh.write(token)
        fh.flush()
        _openssl("-verify", "-digest", digest, "-in", fh.name, "-CAfile", str(ca_file))
        text = _openssl("-reply", "-in", fh.name, "-text").decode(errors="replace")
    match = _TIME_RE.search(text)
    if not match:
        raise TimestampFailed("timestamp token without a readable time")
    month, day, clock, year = match.groups()
    return datetime.strptime(f"{month} {day} {year} {clock}", "%b %d %Y %H:%M:%S").replace(
        tzinfo=UTC
    )
