"""Protected PDFs, filled-in forms and XFA forms (issue 25).

A PDF that every reader opens without a password (owner password, permissions only) is taken
in with its original byte-exact and an unrestricted PDF/A rendition; one that needs a
password, or is encrypted for a certificate, stays in quarantine with a reason saying which.
Form values are searchable and drawn onto the rendition; a dynamic XFA form is flagged.
"""

from __future__ import annotations

import io

import pikepdf
import pypdf
import pytest
from sqlalchemy import select

from eakte.ingest import signature_store
from eakte.models import FileVersion
from eakte.models.ingest import TransferNote
from tests.ingest.conftest import born_digital_pdf
from tests.ingest.pdf_forms_make import PLEASE_WAIT, form_pdf, protected_pdf, xfa_only_pdf
from tests.ingest.pdf_signing import encrypt_for_certificate, issue, make_ca, sign_pdf


@pytest.fixture(scope="module")
def ca():
    return make_ca()


def _versions(desk, document_id):
    with desk.rt.session() as s:
        return s.scalars(
            select(FileVersion)
            .where(FileVersion.document_id == document_id)
            .order_by(FileVersion.id)
        ).all()


def _bytes(desk, version) -> bytes:
    with desk.rt.store.open(version.s3_key, version.s3_version_id, version.sha256) as reader:
        return reader.read()


def _rendition(desk, document_id) -> tuple[bytes, bytes]:
    original, rendition = _versions(desk, document_id)
    assert (original.kind, rendition.kind) == ("original", "rendition")
    return _bytes(desk, original), _bytes(desk, rendition)


def _text_of(pdf_bytes: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages)


def _note(desk, document_id) -> str:
    with desk.rt.session() as s:
        return s.scalar(
            select(TransferNote.anomalies).where(TransferNote.document_id == document_id)
        )


def test_owner_password_pdf_is_taken_in_with_an_unrestricted_rendition(desk):
    data = protected_pdf()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.is_encrypted and not pdf.allow.print_highres  # really protected
    result = desk.take(data, "widerspruch.pdf", settings=desk.rt.settings)
    assert result.accepted, result.reason
    assert desk.process(result.document.id) == "ready"
    doc = desk.document(result.document.id)
    assert "protected" in doc.flags.split(",")
    assert "Widerspruch Grundsteuer" in doc.extracted_text
    original, rendition = _rendition(desk, doc.id)
    assert original == data  # byte-exact, still protected
    with pikepdf.open(io.BytesIO(rendition)) as pdf:
        assert not pdf.is_encrypted  # PDF/A forbids encryption: no restrictions left
        assert pdf.open_metadata().pdfa_status == "2B"
    assert "Widerspruch Grundsteuer" in _text_of(rendition)
    assert "permission-protected" in _note(desk, doc.id)


def test_signed_protected_pdf_is_taken_in_and_its_signature_checked(desk, ca):
    data = sign_pdf(protected_pdf(), issue(ca, "Hans Beispiel"), ca)
    result = desk.take(data, "signiert-geschuetzt.pdf")
    assert result.accepted, result.reason
    assert desk.process(result.document.id) == "ready"
    original, _ = _rendition(desk, result.document.id)
    assert original == data
    with desk.rt.session() as s:
        (row,) = signature_store.of_document(s, result.document.id)
    assert row.signer == "Hans Beispiel" and row.status == "untrusted"  # intact, no trust set


def test_pdf_that_needs_a_password_stays_in_quarantine(desk):
    result = desk.take(protected_pdf(user="benutzer"), "passwort.pdf")
    assert result.outcome == "quarantined"
    assert result.reason_code == "pdf_encrypted"
    assert "password" in result.reason


def test_pdf_encrypted_for_a_certificate_has_its_own_reason(desk, ca):
    recipient = issue(ca, "Poststelle", encryption=True)
    data = encrypt_for_certificate(born_digital_pdf(1), recipient)
    assert b"/Adobe.PubSec" in data
    result = desk.take(data, "verschluesselt.pdf")
    assert result.outcome == "quarantined"
    assert result.reason_code == "pdf_certificate_encrypted"
    assert "encrypted for a certificate" in result.reason


def test_form_values_are_searchable_and_on_the_rendition(desk):
    data = form_pdf(
        {"Name des Antragstellers": "Jürgen Müller-Lüdenscheidt", "Straße": "Lindenweg 7"}
    )
    result = desk.take(data, "antrag-formular.pdf", settings=desk.rt.settings)
    assert result.accepted
    assert desk.process(result.document.id) == "ready"
    doc = desk.document(result.document.id)
    assert "form_fields" in doc.flags.split(",")
    assert "Name des Antragstellers: Jürgen Müller-Lüdenscheidt" in doc.extracted_text
    assert "Straße: Lindenweg 7" in doc.extracted_text
    original, rendition = _rendition(desk, doc.id)
    assert original == data
    assert "Müller-Lüdenscheidt" in _text_of(rendition)  # flattened onto the page
    with pikepdf.open(io.BytesIO(rendition)) as pdf:
        assert "/AcroForm" not in pdf.Root


def test_dynamic_xfa_form_is_flagged_and_its_data_searchable(desk):
    data = xfa_only_pdf(
        b'<xfa:datasets xmlns:xfa="http://www.xfa.org/schema/xfa-data/1.0/"><xfa:data>'
        b"<antrag><antragsteller>Erika Beispiel</antragsteller><betrag>120,00</betrag>"
        b"</antrag></xfa:data></xfa:datasets>"
    )
    result = desk.take(data, "xfa.pdf", settings=desk.rt.settings)
    assert result.accepted
    assert desk.process(result.document.id) == "ready"
    doc = desk.document(result.document.id)
    assert "xfa_dynamic" in doc.flags.split(",")
    assert "dynamic XFA form" in _note(desk, doc.id)
    assert "antragsteller: Erika Beispiel" in doc.extracted_text
    assert PLEASE_WAIT.split()[0] in doc.extracted_text  # the placeholder, as it is


def test_static_xfa_form_is_rendered_from_its_pages_without_the_xfa_part():
    from eakte.ingest import pdf_features, pdf_forms

    data = form_pdf({"Aktenzeichen": "32-0815/2026"})
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.Root.AcroForm.XFA = pikepdf.Array([pikepdf.String("datasets"), pdf.make_stream(b"")])
        flags, notes = pdf_features.pdf_features(pdf)
        assert any("XFA form" in note for note in notes)
        assert {"xfa", "form_fields"} <= set(flags) and "xfa_dynamic" not in flags
        assert pdf_features.needs_rendition(flags) and pdf_features.needs_worker(flags)
        assert pdf_features.form_text_of(pdf, flags) == "Aktenzeichen: 32-0815/2026"
        assert pdf_features.rewrite(pdf, flags)
        assert "/AcroForm" not in pdf.Root  # flattened, XFA gone (PDF/A forbids it)
        assert not pdf_forms.xfa_kind(pdf)
