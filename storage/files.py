"""Private files of the embedded store: credentials, ports, keys and certificates.

The one home of the atomic owner-only write that :mod:`storage.embedded` and
:mod:`storage.seaweed_security` both need (``eakte.private_files`` is above storage and
cannot be imported from here).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write a file only the owner can read, atomically (temp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
