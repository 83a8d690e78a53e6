"""Odd but readable files, generated (issue 25): what real scanners, fax servers and phones
send that is legal (or that readers accept) but unusual — and the damaged ones a parser
rejects with an exception type nobody expects. Each maker returns the file's bytes."""

from __future__ import annotations

import io
import struct

from PIL import Image


def _tiff_directories(data: bytes) -> list[int]:
    """Offsets of the image file directories of a little-endian TIFF."""
    offsets, at = [], struct.unpack("<I", data[4:8])[0]
    while at:
        offsets.append(at)
        count = struct.unpack("<H", data[at : at + 2])[0]
        at = struct.unpack("<I", data[at + 2 + 12 * count : at + 6 + 12 * count])[0]
    return offsets


def tiff_second_page_without_width() -> bytes:
    """Two pages; the second directory's ImageWidth tag renamed to an unknown tag. Pillow
    opens the first page and raises ``TypeError("Missing dimensions")`` on seeking to the
    second (its open catches that, its seek does not)."""
    out = io.BytesIO()
    pages = [Image.new("L", (16, 8), 0), Image.new("L", (16, 8), 255)]
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    data = bytearray(out.getvalue())
    second = _tiff_directories(bytes(data))[1]
    for index in range(struct.unpack("<H", data[second : second + 2])[0]):
        entry = second + 2 + 12 * index
        if struct.unpack("<H", data[entry : entry + 2])[0] == 256:  # ImageWidth
            struct.pack_into("<H", data, entry, 65000)
    return bytes(data)
