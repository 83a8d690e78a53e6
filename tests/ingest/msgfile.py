"""Outlook .msg files for the tests, written here: a minimal OLE compound file ([MS-CFB],
version 3, 512-byte sectors, a mini stream for the small streams) holding a message's property
streams ([MS-OXMSG]). olefile only reads; this writes what it, and Outlook, read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
PT_LONG, PT_UNICODE, PT_BINARY, PT_OBJECT = 0x0003, 0x001F, 0x0102, 0x000D


@dataclass
class Entry:
    name: str
    data: bytes | None = None  # None: a storage
    children: list[Entry] = field(default_factory=list)
    sid: int = 0
    start: int = END
    size: int = 0
    right: int = NOSTREAM


def compound_file(tree: dict[str, object]) -> bytes:
    """``tree``: name -> bytes (a stream) or dict (a storage), nested."""

    def build(name: str, node) -> Entry:
        if isinstance(node, dict):
            return Entry(name, None, [build(k, v) for k, v in node.items()])
        return Entry(name, bytes(node))

    root = Entry("Root Entry", None, [build(k, v) for k, v in tree.items()])
    entries: list[Entry] = []

    def number(entry: Entry) -> None:
        entry.sid = len(entries)
        entries.append(entry)
        for child in entry.children:
            number(child)

    number(root)
    streams = [e for e in entries if e.data is not None]
    small = [e for e in streams if 0 < len(e.data) < CUTOFF]
    big = [e for e in streams if len(e.data) >= CUTOFF]
    # the mini stream and its FAT
    mini_fat: list[int] = []
    mini_stream = bytearray()
    for e in small:
        count = -(-len(e.data) // MINI)
        e.start, e.size = len(mini_fat), len(e.data)
        mini_fat.extend(range(e.start + 1, e.start + count))
        mini_fat.append(END)
        mini_stream += e.data.ljust(count * MINI, b"\0")
    for e in streams:
        if not e.data:
            e.start, e.size = END, 0
    dir_bytes = len(entries) * 128
    sizes = {
        "dir": -(-dir_bytes // SECTOR),
        "minifat": -(-len(mini_fat) * 4 // SECTOR),
        "ministream": -(-len(mini_stream) // SECTOR),
    }
    big_sectors = [-(-len(e.data) // SECTOR) for e in big]
    body = sum(sizes.values()) + sum(big_sectors)
    fat_count = 1
    while fat_count * (SECTOR // 4) < body + fat_count:
        fat_count += 1
    assert fat_count <= 109
    fat = [FATSECT] * fat_count
    next_sector = fat_count

    def chain(count: int) -> int:
        nonlocal next_sector
        if count == 0:
            return END
        start = next_sector
        fat.extend(range(start + 1, start + count))
        fat.append(END)
        next_sector += count
        return start

    dir_start = chain(sizes["dir"])
    minifat_start = chain(sizes["minifat"])
    ministream_start = chain(sizes["ministream"])
    for e, count in zip(big, big_sectors, strict=True):
        e.start, e.size = chain(count), len(e.data)
    root.start, root.size = (ministream_start, len(mini_stream)) if mini_stream else (END, 0)
    fat.extend([FREE] * (fat_count * (SECTOR // 4) - len(fat)))

    header = bytearray(SECTOR)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, fat_count)
    struct.pack_into("<I", header, 48, dir_start)
    struct.pack_into("<I", header, 56, CUTOFF)
    struct.pack_into("<II", header, 60, minifat_start if mini_fat else END, sizes["minifat"])
    struct.pack_into("<II", header, 68, END, 0)
    difat = list(range(fat_count)) + [FREE] * (109 - fat_count)
    struct.pack_into("<109I", header, 76, *difat)

    for e in entries:  # children as a chain of right siblings: a valid tree, all black
        for left, right in zip(e.children, e.children[1:], strict=False):
            left.right = right.sid
    directory = bytearray()
    for e in entries:
        name = e.name.encode("utf-16-le") + b"\0\0"
        kind = 5 if e is root else (1 if e.data is None else 2)
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            name.ljust(64, b"\0"),
            len(name),
            kind,
            1,
            NOSTREAM,
            e.right,
            e.children[0].sid if e.children else NOSTREAM,
            b"\0" * 16,
            0,
            0,
            0,
            e.start if (e.data is not None or e is root) else 0,
            e.size,
        )
    empty = struct.pack(
        "<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"", 0, 0, 0, 0, 0
    )
    while len(directory) % SECTOR:
        directory += empty
    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    out += directory
    out += struct.pack(f"<{len(mini_fat)}I", *mini_fat).ljust(sizes["minifat"] * SECTOR, b"\xff")
    out += bytes(mini_stream).ljust(sizes["ministream"] * SECTOR, b"\0")
    for e in big:
        out += e.data.ljust(-(-len(e.data) // SECTOR) * SECTOR, b"\0")
    return bytes(out)


def lzfu(rtf: bytes) -> bytes:
    """Compressed RTF ([MS-OXRTFCP]) made of literals only (valid, if not small)."""
    body, write = bytearray(), 207  # the decompressor's dictionary starts after its preset text
    groups = [rtf[i : i + 8] for i in range(0, len(rtf), 8)] or [b""]
    for number, group in enumerate(groups):
        last = number == len(groups) - 1
        end_bit = (1 << len(group)) if last and len(group) < 8 else 0
        body.append(end_bit)
        body += group
        write = (write + len(group)) % 4096
        if end_bit:
            body += struct.pack(">H", write << 4)
    if len(groups[-1]) == 8:
        body += bytes([1]) + struct.pack(">H", write << 4)
    return struct.pack("<IIII", len(body) + 12, len(rtf), 0x75465A4C, 0) + bytes(body)


def _unicode(pid: int, text: str) -> tuple[str, bytes]:
    return f"__substg1.0_{pid:04X}{PT_UNICODE:04X}", text.encode("utf-16-le") + b"\0\0"


def _properties(header: int, longs: dict[int, int]) -> bytes:
    out = bytearray(header)
    for pid, value in longs.items():
        out += struct.pack("<HHIi4x", PT_LONG, pid, 6, value)
    return bytes(out)


def message_storage(
    *,
    subject: str,
    body: str = "",
    sender: str = "",
    sender_address: str = "",
    to: str = "",
    headers: str = "",
    html: bytes | None = None,
    rtf: bytes | None = None,
    message_class: str = "IPM.Note",
    attachments: list[tuple[str, bytes, str]] = (),
    embedded: list[dict] = (),
    top: bool = True,
) -> dict:
    """The streams of one message (``embedded``: messages attached to it, as kwargs here)."""
    node: dict[str, object] = {"__properties_version1.0": _properties(32 if top else 24, {})}
    for pid, text in (
        (0x001A, message_class),
        (0x0037, subject),
        (0x1000, body),
        (0x0C1A, sender),
        (0x5D01, sender_address),
        (0x0E04, to),
        (0x007D, headers),
    ):
        if text:
            name, data = _unicode(pid, text)
            node[name] = data
    if html is not None:
        node[f"__substg1.0_1013{PT_BINARY:04X}"] = html
        node["__properties_version1.0"] = _properties(32 if top else 24, {0x3FDE: 65001})
    if rtf is not None:
        node[f"__substg1.0_1009{PT_BINARY:04X}"] = lzfu(rtf)
    number = 0
    for name, data, mime in attachments:
        storage = {
            "__properties_version1.0": _properties(8, {0x3705: 1}),
            f"__substg1.0_3701{PT_BINARY:04X}": data,
        }
        for pid, text in ((0x3707, name), (0x370E, mime)):
            key, value = _unicode(pid, text)
            storage[key] = value
        node[f"__attach_version1.0_#{number:08X}"] = storage
        number += 1
    for inner in embedded:
        storage = {
            "__properties_version1.0": _properties(8, {0x3705: 5}),
            f"__substg1.0_3701{PT_OBJECT:04X}": message_storage(top=False, **inner),
        }
        key, value = _unicode(0x3707, inner["subject"])
        storage[key] = value
        node[f"__attach_version1.0_#{number:08X}"] = storage
        number += 1
    if top:
        node["__nameid_version1.0"] = {}
    return node


def outlook_message(**kwargs) -> bytes:
    return compound_file(message_storage(**kwargs))
