"""The ZIP containers of xdomea 4.0.0: ``<ProzessID>_<type>_<n>.zip`` holding the message
``<ProzessID>_<type>_<n>.xml`` (or ``.xdomea``) and its primary documents ``<UUID>.<ext>``.

Written beside the target and moved into place when complete (a crash leaves no half ZIP
under the final name). Read with bounds: the number of entries and the inflated size of each
are checked while reading, never taken from what the ZIP declares.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from eakte.errors import XdomeaRejected

MAX_ENTRIES = 200_000
MAX_MESSAGE_BYTES = 512 * 1024 * 1024
CHUNK = 1 << 20
_NAME = re.compile(r"^[0-9a-fA-F-]{36}\.[A-Za-z0-9]{1,10}$")

Member = tuple[str, Callable[[IO[bytes]], None], bool]  # name, writer, compress


def container_name(process_id: str, message_type: str, number: int) -> str:
    return f"{process_id}_{message_type}_{number}.zip"


def message_name(process_id: str, message_type: str, number: int) -> str:
    return f"{process_id}_{message_type}_{number}.xml"


def write(path: Path, members: Iterable[Member]) -> str:
    """Write the ZIP atomically; its sha256."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    when = datetime.now(UTC).timetuple()[:6]
    try:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as archive:
            for name, writer, compress in members:
                info = zipfile.ZipInfo(name, when)
                info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
                with archive.open(info, "w", force_zip64=True) as out:
                    writer(out)
        digest = file_sha256(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def bytes_writer(data: bytes) -> Callable[[IO[bytes]], None]:
    return lambda out: out.write(data)  # type: ignore[return-value]


class Container:
    """An opened container: its message and its primary documents, read with bounds."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise XdomeaRejected(f"{path.name} is not a readable ZIP: {exc}") from None
        entries = self.zip.infolist()
        if len(entries) > MAX_ENTRIES:
            raise XdomeaRejected(
                f"{path.name} holds {len(entries)} entries (at most {MAX_ENTRIES})"
            )
        self.names = {e.filename for e in entries if not e.is_dir()}
        xml = [n for n in self.names if n.lower().endswith((".xml", ".xdomea")) and "/" not in n]
        if len(xml) != 1:
            raise XdomeaRejected(f"{path.name} holds {len(xml)} messages, not 1")
        self.message_name = xml[0]

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def message(self) -> bytes:
        data = bytearray()
        with self.zip.open(self.message_name) as fh:
            while chunk := fh.read(CHUNK):
                data += chunk
                if len(data) > MAX_MESSAGE_BYTES:
                    raise XdomeaRejected(f"{self.message_name} is larger than {MAX_MESSAGE_BYTES}")
        return bytes(data)

    def has(self, name: str) -> bool:
        return name in self.names

    def hash_of(self, name: str) -> tuple[str, int]:
        """sha256 and size of a member, computed while inflating it."""
        digest, size = hashlib.sha256(), 0
        try:
            with self.zip.open(name) as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise XdomeaRejected(f"{name} in {self.path.name} cannot be read: {exc}") from None
        return digest.hexdigest(), size

    def open(self, name: str) -> IO[bytes]:
        return self.zip.open(name)

    @staticmethod
    def safe_member(name: str) -> bool:
        """A primary document's name as the standard has it: ``<UUID>.<ext>``, no path."""
        return bool(_NAME.match(name))
