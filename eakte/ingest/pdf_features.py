"""What a PDF carries beyond its pages, found at intake from its structure (issue 25).

Permission protection, signatures, filled-in forms and XFA each become a flag on the document
(and a note in its transfer note). The flags decide the rest of the way: such a PDF is not
finished at intake (its signatures are validated and its form values read in the worker), and
a protected PDF or a filled-in form gets a PDF/A rendition even when it is born digital.
"""

from __future__ import annotations

import pikepdf

from eakte.ingest import pdf_forms, pdf_protection, signatures

SIGNED = "signed"
# Flags that send a PDF through the worker (never finished at intake).
WORKER_FLAGS = frozenset(
    {pdf_protection.PROTECTED, SIGNED, pdf_forms.FORM, pdf_forms.XFA, pdf_forms.XFA_DYNAMIC}
)
# Flags that call for a rendition even for a born-digital PDF: PDF/A forbids encryption and
# XFA, and form values belong on the archival page.
RENDITION_FLAGS = frozenset({pdf_protection.PROTECTED, pdf_forms.FORM, pdf_forms.XFA})


def pdf_features(pdf: pikepdf.Pdf) -> tuple[list[str], list[str]]:
    """Flags and notes (English) for an opened PDF."""
    flags, notes = pdf_protection.inspect_protection(pdf)
    if signatures.has_signatures(pdf):
        flags.append(SIGNED)
        notes.append("signed PDF: original kept byte-exact, signatures validated")
    form_flags, form_notes = pdf_forms.inspect_forms(pdf)
    return flags + form_flags, notes + form_notes


def needs_worker(flags) -> bool:
    return bool(WORKER_FLAGS.intersection(flags))


def needs_rendition(flags) -> bool:
    return bool(RENDITION_FLAGS.intersection(flags))


def form_text_of(pdf: pikepdf.Pdf, flags) -> str:
    """The values of a filled-in form or XFA form, for the extracted text ('' otherwise)."""
    if not {pdf_forms.FORM, pdf_forms.XFA, pdf_forms.XFA_DYNAMIC}.intersection(flags):
        return ""
    return pdf_forms.form_text(pdf)


def rewrite(pdf: pikepdf.Pdf, flags) -> bool:
    """Whether the worker must work on a rewritten copy of ``pdf`` (saved unencrypted by
    pikepdf): protected, or a form whose values are flattened onto the pages here."""
    flattened = bool({pdf_forms.FORM, pdf_forms.XFA}.intersection(flags))
    if flattened:
        pdf_forms.flatten(pdf)
    return flattened or pdf.is_encrypted
