"""The e-invoice's steps in intake and in the worker: the checks for an XML e-invoice, the
fields, title and flags an invoice gives its document, and the rendition made in the worker.

An invoice that parses but lacks mandatory fields is still a received document: it is taken
in with a note saying what is missing.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eakte.ingest.einvoice.embedded import Embedded, read_pdf
from eakte.ingest.einvoice.layout import render
from eakte.ingest.einvoice.model import Invoice
from eakte.ingest.einvoice.xml import InvoiceError, UnsafeXml, read_xml
from eakte.ingest.reasons import Reason, Rejected, plain
from eakte.ingest.validate import Inspection

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from eakte.ingest.intake_context import IntakeContext
    from eakte.ingest.process_context import ProcessContext
    from storage.blobstore import BlobStore

log = logging.getLogger(__name__)

FLAG = "einvoice"
FLAG_INCOMPLETE = "einvoice_incomplete"


@dataclass
class InvoiceInspection(Inspection):
    invoice: Invoice | None = None


def inspect_xml(path: Path) -> InvoiceInspection:
    """The checks of ``validate`` for an XML e-invoice: read in full under the bounds (a
    file that cannot be read is quarantined); what is missing becomes a note."""
    try:
        invoice = read_xml(path)
    except UnsafeXml as exc:
        raise Rejected(Reason.xml_unsafe, str(exc)) from None
    except InvoiceError as exc:
        raise Rejected(Reason.xml_damaged, str(exc)) from None
    return InvoiceInspection(mime="", kind="einvoice", pages=0, invoice=invoice)


def read_invoice(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """An intake step: an e-invoice (an XML one, or the XML inside a ZUGFeRD / Factur-X PDF)
    gives the document its fields, and its title, type and correspondent where the person
    taking it in left them empty."""
    inspection = ctx.inspection
    if inspection is None:
        return
    invoice = getattr(inspection, "invoice", None)
    if inspection.kind == "pdf" and "embedded_files" in inspection.flags:
        try:
            embedded = read_pdf(ctx.file)
        except Exception as exc:  # the PDF passed validate: a reading problem is only a note
            log.warning("reading the embedded e-invoice of %s failed: %s", ctx.source, exc)
            embedded = Embedded(problem=f"the embedded e-invoice cannot be read: {plain(exc)}")
        if embedded.problem:
            inspection.anomalies.append(embedded.problem)
        invoice = embedded.invoice
        if invoice is not None and embedded.only_invoice:
            # The one embedded file is the invoice a ZUGFeRD PDF must carry: expected.
            inspection.flags.remove("embedded_files")
            inspection.anomalies[:] = [a for a in inspection.anomalies if "embedded files" not in a]
    if invoice is None:
        return
    inspection.flags.append(FLAG)
    problems = invoice.missing()
    if problems:
        inspection.flags.append(FLAG_INCOMPLETE)
        inspection.anomalies.append("e-invoice lacks mandatory fields: " + "; ".join(problems))
    ctx.fields = invoice.fields()
    metadata = ctx.metadata
    ctx.metadata = dataclasses.replace(
        metadata,
        title=metadata.title or invoice.title(),
        doc_type=metadata.doc_type or invoice.kind_label,
        correspondent=metadata.correspondent or invoice.seller.name,
    )


def prepare(ctx: ProcessContext) -> None:
    """In the worker (confined child): the XML rendered to a PDF/A, which is the rendition
    and its text (no OCR)."""
    from eakte.ingest.process_context import Failure
    from eakte.ingest.text import page_texts

    try:
        invoice = read_xml(ctx.local_file)
    except InvoiceError as exc:
        raise Failure(str(exc)) from None
    ctx.rendition = ctx.pdf = ctx.workdir / "rendition.pdf"
    render(invoice, ctx.rendition)
    ctx.texts = page_texts(ctx.rendition)
    ctx.pages = len(ctx.texts)
    ctx.born_digital = False


def searchable_text(session: Session, ctx: ProcessContext, text: str) -> str:
    """The document's search text: an e-invoice's fields (kept as document fields at intake,
    the only source of them) join its text; any other document's text is left as it is."""
    if FLAG not in ctx.flags:
        return text
    from eakte.services.fields import with_stored_fields

    return with_stored_fields(session, ctx.document_id, text)
