"""Filled-in PDF forms (AcroForm) and XFA forms (issue 25).

Many applications arrive as filled-in PDF forms. Their values live in the form fields, not in
the page content, so a text layer alone misses them: ``form_text`` reads them ("label: value",
one a line) for the document's extracted text, and ``flatten`` puts them onto the pages of the
PDF/A rendition (appearance streams generated where missing, then flattened into the page).

XFA forms come in two kinds. A static XFA form also has AcroForm fields and ordinary pages:
that fallback is what is rendered (the XFA part, which PDF/A forbids, is left out of the
rendition). A dynamic XFA form has no real pages, only a "Please wait…" placeholder that an
XFA-capable reader replaces: it is taken in with the flag ``xfa_dynamic`` and a note saying
so, and the values in its XFA data are read for search. Nothing of a form is ever executed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pikepdf

log = logging.getLogger(__name__)

FORM = "form_fields"
XFA = "xfa"
XFA_DYNAMIC = "xfa_dynamic"
MAX_FIELDS = 5_000  # fields walked per document (a form tree is a graph a file can loop)
MAX_VALUE = 2_000  # characters kept per value
MAX_XFA_BYTES = 8 * 1024 * 1024  # XFA data parsed at most
XFA_DATASETS = "datasets"


def inspect_forms(pdf: pikepdf.Pdf) -> tuple[list[str], list[str]]:
    flags, notes = [], []
    kind = xfa_kind(pdf)
    if kind == XFA_DYNAMIC:
        flags.append(XFA_DYNAMIC)
        notes.append(
            "dynamic XFA form: the pages hold only a placeholder that an XFA-capable reader "
            "replaces; the original is kept, the form data were read for search"
        )
    elif kind == XFA:
        flags.append(XFA)
        notes.append("XFA form: its static pages are rendered; the XFA part stays in the original")
    filled = sum(1 for _ in field_values(pdf))
    if filled:
        flags.append(FORM)
        notes.append(f"filled-in PDF form ({filled} fields): values read for search")
    return flags, notes


def xfa_kind(pdf: pikepdf.Pdf) -> str:
    form = pdf.Root.get("/AcroForm")
    if not isinstance(form, pikepdf.Dictionary) or "/XFA" not in form:
        return ""
    fields = form.get("/Fields")
    no_fields = not isinstance(fields, pikepdf.Array) or len(fields) == 0
    if bool(pdf.Root.get("/NeedsRendering", False)) or no_fields:
        return XFA_DYNAMIC
    return XFA


def _leaf_fields(pdf: pikepdf.Pdf) -> Iterator[tuple[str, pikepdf.Dictionary]]:
    """(full name, field) of every terminal field, bounded, loops broken."""
    form = pdf.Root.get("/AcroForm")
    if not isinstance(form, pikepdf.Dictionary):
        return
    stack = [("", node) for node in reversed(list(form.get("/Fields", pikepdf.Array())))]
    seen: set[tuple[int, int]] = set()
    while stack and len(seen) < MAX_FIELDS:
        parent, node = stack.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        part = str(node.get("/T", ""))
        name = f"{parent}.{part}" if parent and part else part or parent
        kids = [k for k in node.get("/Kids", pikepdf.Array()) if isinstance(k, pikepdf.Dictionary)]
        if any("/T" in k for k in kids):
            stack.extend((name, kid) for kid in reversed(kids))
            continue
        yield name, node


def field_values(pdf: pikepdf.Pdf) -> Iterator[tuple[str, str]]:
    """(label, value) of every filled-in field that is not a signature."""
    for name, node in _leaf_fields(pdf):
        kind = node.get("/FT") or _inherited(node, "/FT")
        if kind == pikepdf.Name.Sig:
            continue
        value = _readable(node.get("/V") if "/V" in node else _inherited(node, "/V"))
        if not value:
            continue
        label = str(node.get("/TU", "")) or name or "field"
        yield label[:200], value[:MAX_VALUE]


def _inherited(node: pikepdf.Dictionary, key: str):
    parent, depth = node.get("/Parent"), 0
    while isinstance(parent, pikepdf.Dictionary) and depth < 32:
        if key in parent:
            return parent[key]
        parent, depth = parent.get("/Parent"), depth + 1
    return None


def _readable(value) -> str:
    if value is None:
        return ""
    if isinstance(value, pikepdf.Name):
        text = str(value)[1:]
        return "" if text in ("Off", "") else text
    if isinstance(value, pikepdf.String):
        return str(value).strip()
    if isinstance(value, pikepdf.Array):
        return ", ".join(v for v in (_readable(item) for item in value) if v)
    if isinstance(value, pikepdf.Stream):  # rich text values: the plain value is in /V
        return ""
    return str(value).strip()


def xfa_values(pdf: pikepdf.Pdf) -> list[tuple[str, str]]:
    """(element, value) of the XFA form data (the ``datasets`` packet), bounded."""
    from lxml import etree

    form = pdf.Root.get("/AcroForm")
    xfa = form.get("/XFA") if isinstance(form, pikepdf.Dictionary) else None
    if xfa is None:
        return []
    packets = []
    if isinstance(xfa, pikepdf.Array):
        items = list(xfa)
        packets = [
            items[i + 1]
            for i in range(0, len(items) - 1, 2)
            if str(items[i]) == XFA_DATASETS and isinstance(items[i + 1], pikepdf.Stream)
        ]
    elif isinstance(xfa, pikepdf.Stream):
        packets = [xfa]
    found: list[tuple[str, str]] = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    for packet in packets:
        try:
            raw = packet.read_bytes()[:MAX_XFA_BYTES]
            root = etree.fromstring(raw, parser)
        except (pikepdf.PdfError, etree.XMLSyntaxError, ValueError) as exc:
            log.info("XFA data not readable: %s", exc)
            continue
        if root is None:
            continue
        for element in root.iter():
            if not isinstance(element.tag, str) or len(element):
                continue
            text = (element.text or "").strip()
            if text and len(found) < MAX_FIELDS:
                found.append((etree.QName(element).localname[:200], text[:MAX_VALUE]))
    return found


def form_text(pdf: pikepdf.Pdf) -> str:
    """The values of a filled-in form (AcroForm, else XFA data), one "label: value" a line."""
    values = list(field_values(pdf))
    if not values and xfa_kind(pdf):
        values = xfa_values(pdf)
    return "\n".join(f"{label}: {value}" for label, value in values)


def flatten(pdf: pikepdf.Pdf) -> None:
    """For the rendition: field values drawn onto the pages, the form and its XFA part gone
    (PDF/A forbids XFA, and a flattened form cannot drift from what was received)."""
    form = pdf.Root.get("/AcroForm")
    if not isinstance(form, pikepdf.Dictionary):
        return
    if "/XFA" in form:
        del form["/XFA"]
    if "/NeedsRendering" in pdf.Root:
        del pdf.Root["/NeedsRendering"]
    try:
        pdf.generate_appearance_streams()
    except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
        log.info("appearance streams not generated: %s", exc)  # existing ones are used
    try:
        pdf.flatten_annotations(mode="all")
    except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
        # A form qpdf cannot flatten keeps its fields; the values are in the text anyway.
        log.info("form not flattened: %s", exc)
        return
    if "/AcroForm" in pdf.Root:
        del pdf.Root["/AcroForm"]
