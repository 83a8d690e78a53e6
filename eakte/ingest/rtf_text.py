"""The body of an Outlook message stored only as compressed RTF ([MS-OXRTFCP]), as text.

Decompression (LZFu, or "MELA": stored uncompressed) and a plain reading of the RTF: paragraphs,
escaped characters and Unicode kept; destinations (font and colour tables, HTML tags of an
encapsulated HTML body, pictures) and formatting left out. Bounded: the output is at most
``MAX_OUTPUT`` bytes whatever the header claims.
"""

from __future__ import annotations

import re
import struct

MAX_OUTPUT = 8 * 1024 * 1024
_PREBUF = (
    b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern "
    b"\\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0"
    b"\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"
)
_LZFU, _MELA = 0x75465A4C, 0x414C454D


class RtfError(ValueError):
    """Not compressed RTF, or broken."""


def decompress(data: bytes) -> bytes:
    if len(data) < 16:
        raise RtfError("compressed RTF shorter than its header")
    _size, raw_size, kind, _crc = struct.unpack_from("<IIII", data)
    if kind == _MELA:
        return data[16 : 16 + min(raw_size, MAX_OUTPUT)]
    if kind != _LZFU:
        raise RtfError("unknown compressed RTF type")
    window = bytearray(4096)
    window[: len(_PREBUF)] = _PREBUF
    write = len(_PREBUF)
    out = bytearray()
    pos = 16
    limit = min(raw_size, MAX_OUTPUT)
    while pos < len(data) and len(out) < limit:
        control = data[pos]
        pos += 1
        for bit in range(8):
            if pos >= len(data):
                break
            if control & (1 << bit):
                if pos + 1 >= len(data):
                    return bytes(out)
                word = (data[pos] << 8) | data[pos + 1]
                pos += 2
                offset, length = word >> 4, (word & 0xF) + 2
                if offset == write:
                    return bytes(out)  # the end marker
                for i in range(length):
                    byte = window[(offset + i) % 4096]
                    out.append(byte)
                    window[write] = byte
                    write = (write + 1) % 4096
            else:
                byte = data[pos]
                pos += 1
                out.append(byte)
                window[write] = byte
                write = (write + 1) % 4096
    return bytes(out[:limit])


_TOKEN = re.compile(
    rb"\\([a-zA-Z]+)(-?\d+)? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([^\\{}\r\n]+)|[\r\n]"
)
_SKIP = {b"fonttbl", b"colortbl", b"stylesheet", b"info", b"pict", b"object", b"header", b"footer"}
_BREAKS = {b"par": "\n", b"line": "\n", b"tab": "\t", b"row": "\n", b"cell": "\t"}


def rtf_to_text(rtf: bytes, codepage: str = "cp1252") -> str:
    out: list[str] = []
    stack: list[tuple[bool, int]] = []
    skipping, html_rtf, uc, pending_skip = False, False, 1, 0
    for match in _TOKEN.finditer(rtf):
        word, arg, hexa, symbol, brace, text = match.groups()
        if brace == b"{":
            stack.append((skipping, uc))
            continue
        if brace == b"}":
            skipping, uc = stack.pop() if stack else (False, 1)
            continue
        if symbol == b"*":
            skipping = True  # an optional destination: not text
            continue
        if skipping:
            continue
        if word is not None:
            if word in _SKIP:
                skipping = True
            elif word == b"htmlrtf":
                html_rtf = arg != b"0"  # RTF only there to format an HTML body: not text
            elif word == b"uc" and arg is not None:
                uc = int(arg)
            elif word == b"u" and arg is not None and not html_rtf:
                out.append(chr(int(arg) % 65536))
                pending_skip = uc
            elif word in _BREAKS and not html_rtf:
                out.append(_BREAKS[word])
            continue
        if html_rtf:
            continue
        if hexa is not None:
            if pending_skip:
                pending_skip -= 1
                continue
            out.append(bytes([int(hexa, 16)]).decode(codepage, "replace"))
        elif symbol is not None:
            out.append({b"~": "\u00a0", b"-": "", b"_": "-"}.get(symbol, symbol.decode("latin-1")))
        elif text is not None:
            if pending_skip:
                text, pending_skip = text[pending_skip:], 0
            out.append(text.decode(codepage, "replace"))
    lines = (line.rstrip() for line in "".join(out).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
