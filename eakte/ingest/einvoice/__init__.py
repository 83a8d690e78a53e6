"""E-invoices: XRechnung in both syntaxes (UBL, UN/CEFACT CII) and ZUGFeRD / Factur-X PDFs.

An XML file is an e-invoice by its structure: its root element and namespace (UBL ``Invoice``
or ``CreditNote``, CII ``CrossIndustryInvoice``), never by its name. Such a file is kept
byte-exact as the original; the worker renders a readable PDF/A of it (German), and its
fields (seller, number, dates, amount, Leitweg-ID, ...) are kept as document fields and go
into the search text. A ZUGFeRD / Factur-X PDF carries the same XML as an embedded file; that
XML is read the same way, while the PDF itself stays what is archived and rendered.

XML from outside is read with defusedxml (no DTDs, no entities, no external references) under
limits on size, nesting depth and element count, so a hostile file costs little and ends in
quarantine with a reason. An invoice that parses but lacks mandatory fields is still a
received document: it is taken in with a note saying what is missing.

The package's modules: ``xml`` (recognition, bounded reading, the limits and errors),
``elements`` (namespaces, lookups), ``ubl`` and ``cii`` (the two syntaxes), ``model`` (the
invoice), ``german`` (formatting, code tables), ``layout`` (the PDF/A rendition),
``embedded`` (ZUGFeRD / Factur-X PDFs), ``steps`` (intake and worker). What other modules
use is here.
"""

from eakte.ingest.einvoice.embedded import EMBEDDED_NAMES, Embedded, read_pdf
from eakte.ingest.einvoice.layout import render, sections
from eakte.ingest.einvoice.model import Invoice, Line, Party, TaxRow
from eakte.ingest.einvoice.steps import (
    FLAG,
    FLAG_INCOMPLETE,
    InvoiceInspection,
    inspect_xml,
    prepare,
    read_invoice,
    searchable_text,
)
from eakte.ingest.einvoice.xml import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_XML_BYTES,
    InvoiceError,
    UnsafeXml,
    is_einvoice,
    read_xml,
    root_of,
    syntax_of,
)

__all__ = [
    "EMBEDDED_NAMES",
    "FLAG",
    "FLAG_INCOMPLETE",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_XML_BYTES",
    "Embedded",
    "Invoice",
    "InvoiceError",
    "InvoiceInspection",
    "Line",
    "Party",
    "TaxRow",
    "UnsafeXml",
    "inspect_xml",
    "is_einvoice",
    "prepare",
    "read_invoice",
    "read_pdf",
    "read_xml",
    "render",
    "root_of",
    "searchable_text",
    "sections",
    "syntax_of",
]
