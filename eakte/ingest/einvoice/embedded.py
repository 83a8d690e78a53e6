"""The e-invoice embedded in a ZUGFeRD / Factur-X PDF: found by its file name, taken out
with a bound on its size, read like an XML file. The PDF itself stays what is archived and
rendered."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from eakte.ingest.einvoice.model import Invoice
from eakte.ingest.einvoice.xml import MAX_XML_BYTES, InvoiceError, read_xml
from eakte.ingest.reasons import plain

# The names ZUGFeRD 1/2, Factur-X and XRechnung-in-PDF give the embedded invoice.
EMBEDDED_NAMES = frozenset({"factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml"})


@dataclass
class Embedded:
    """What a PDF carries: the invoice XML (if found), whether every embedded file is that
    XML (then embedded files are expected, not a warning), and a problem to note."""

    invoice: Invoice | None = None
    only_invoice: bool = False
    problem: str = ""


def read_pdf(path: Path) -> Embedded:
    """The e-invoice embedded in a PDF (ZUGFeRD / Factur-X / XRechnung in /AF or the
    EmbeddedFiles name tree), read with the same bounds as an XML file."""
    import pikepdf

    with path.open("rb") as stream, pikepdf.open(stream) as pdf:
        specs = list(_file_specs(pdf))
        found = [spec for spec in specs if _spec_name(spec).lower() in EMBEDDED_NAMES]
        if not found:
            return Embedded()
        only = {_identity(spec) for spec in specs} == {_identity(found[0])}
        try:
            data = _embedded_bytes(found[0])
            invoice = read_xml(data)
        except InvoiceError as exc:
            return Embedded(problem=f"the embedded e-invoice cannot be read: {plain(exc)}")
    invoice.source = _spec_name(found[0])
    return Embedded(invoice=invoice, only_invoice=only)


def _file_specs(pdf) -> Iterator:
    """Every file specification with an embedded file, once (indirect objects and those
    written directly inside them, e.g. in /AF arrays or name trees)."""
    import pikepdf

    from eakte.ingest.bounds import direct_parts

    seen: set = set()
    for top in pdf.objects:
        for obj, _ in direct_parts(top):
            if isinstance(obj, pikepdf.Dictionary) and "/EF" in obj:
                key = _identity(obj)
                if key not in seen:
                    seen.add(key)
                    yield obj


def _identity(spec) -> object:
    return spec.objgen if spec.is_indirect else id(spec)


def _spec_name(spec) -> str:
    for key in ("/UF", "/F"):
        value = spec.get(key)
        if value is not None:
            try:
                return str(value)
            except (ValueError, TypeError):
                continue
    return ""


def _embedded_bytes(spec) -> bytes:
    """The embedded file, decompressed with a bound (a small stream could inflate to
    gigabytes); other filters than Flate are not expected in e-invoices."""
    import pikepdf

    ef = spec.get("/EF")
    stream = ef.get("/F") or ef.get("/UF") if isinstance(ef, pikepdf.Dictionary) else None
    if not isinstance(stream, pikepdf.Stream):
        raise InvoiceError("the embedded file has no content")
    filters = stream.get("/Filter")
    names = [filters] if isinstance(filters, pikepdf.Name) else list(filters or [])
    raw = stream.read_raw_bytes()
    if len(raw) > MAX_XML_BYTES:
        raise InvoiceError("the embedded XML is too large")
    if not names:
        return raw
    if [str(n) for n in names] != ["/FlateDecode"] or "/DecodeParms" in stream:
        raise InvoiceError(f"the embedded XML is encoded with {names}, not read")
    inflate = zlib.decompressobj()
    try:
        data = inflate.decompress(raw, MAX_XML_BYTES + 1)
    except zlib.error as exc:
        raise InvoiceError(f"the embedded XML cannot be decompressed: {exc}") from None
    if len(data) > MAX_XML_BYTES:
        raise InvoiceError(f"the embedded XML is larger than {MAX_XML_BYTES // (1024 * 1024)} MB")
    return data
