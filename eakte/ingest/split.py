"""Scanned stacks cut into documents by their barcodes (issue 17).

``plan`` reads the pages' barcodes (``barcodes``) and says which pages make which document: a
cover sheet on the first page names the process the stack belongs to and leaves it; each
separator sheet ends one document and leaves the stack; empty stretches (two separators in a
row) make no document. ``write_part`` writes one document's pages as a file of the stack's own
kind (PDF pages copied as they are, TIFF frames as they were scanned).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from eakte.ingest import barcodes

KINDS = {"application/pdf": "pdf", "image/tiff": "tiff"}


@dataclass
class SplitPlan:
    pages: int
    parts: list[list[int]] = field(default_factory=list)
    separators: list[int] = field(default_factory=list)  # 0-based page numbers removed
    cover: uuid.UUID | None = None  # the process named by a cover sheet on page 0

    @property
    def trivial(self) -> bool:
        return not self.separators and self.cover is None


def plan(path: Path, kind: str, *, pages_read: str, dpi: int, separator: str) -> SplitPlan:
    """``pages_read``: "first" (cover sheets only) or "every" (separators too)."""
    found = barcodes.scan_pages(path, kind, dpi, first_only=pages_read == "first")
    total = _page_count(path, kind) if pages_read == "first" else len(found)
    result = SplitPlan(total)
    first = found[0].texts if found else ()
    result.cover = barcodes.cover_process(first)
    current: list[int] = []
    for index in range(total):
        texts = found[index].texts if index < len(found) else ()
        if index == 0 and result.cover is not None:
            continue
        if barcodes.is_separator(texts, separator):
            result.separators.append(index)
            if current:
                result.parts.append(current)
            current = []
            continue
        current.append(index)
    if current:
        result.parts.append(current)
    return result


def _page_count(path: Path, kind: str) -> int:
    if kind == "pdf":
        from pypdf import PdfReader

        return len(PdfReader(path).pages)
    from PIL import Image

    with Image.open(path) as image:
        return getattr(image, "n_frames", 1)


def write_part(path: Path, kind: str, pages: list[int], out: Path) -> None:
    if kind == "pdf":
        from pypdf import PdfReader, PdfWriter

        reader, writer = PdfReader(path), PdfWriter()
        for index in pages:
            writer.add_page(reader.pages[index])
        with out.open("wb") as fh:
            writer.write(fh)
        return
    from PIL import Image

    with Image.open(path) as image:
        frames = []
        for index in pages:
            image.seek(index)
            frames.append(image.copy())
        dpi = image.info.get("dpi", (300, 300))
    compression = "group4" if all(f.mode == "1" for f in frames) else "tiff_lzw"
    frames[0].save(
        out, "TIFF", save_all=True, append_images=frames[1:], dpi=dpi, compression=compression
    )
