"""E-invoices (issue 25, part 5): XRechnung in UBL and CII syntax and ZUGFeRD / Factur-X PDFs
taken in with their original byte-exact, rendered to a readable PDF/A, their fields kept as
document fields and found by search (invoice number, Leitweg-ID); hostile and broken invoices
end in quarantine or as a document with a clear note, never as an internal error."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import select

from eakte.ingest import einvoice
from eakte.ingest.einvoice import embedded
from eakte.ingest.einvoice import xml as einvoice_xml
from eakte.ingest.text import page_texts
from eakte.models import Document, User
from eakte.models.api import Scope
from eakte.models.fields import DocumentField
from eakte.models.ingest import TransferNote
from eakte.services import api_tokens
from eakte.services import search as search_service
from eakte.services.indexer import index_pending
from eakte.services.intake import Outcome
from tests.ingest.einvoices import (
    FACTURX_EN16931,
    Sample,
    billion_laughs_invoice,
    cii_invoice,
    facturx_pdf,
    malformed_invoice,
    ubl_invoice,
    xxe_invoice,
)

LEITWEG = Sample().leitweg
NUMBER = Sample().number


def _fields(desk, document_id: int) -> dict[str, DocumentField]:
    with desk.rt.session() as s:
        rows = s.scalars(select(DocumentField).where(DocumentField.document_id == document_id))
        return {row.name: row for row in rows}


def _found(desk, text: str) -> set[str]:
    index_pending(desk.rt)
    with desk.rt.session() as s:
        clerk = s.get(User, desk.world.clerk.id)
        result = search_service.search(s, clerk, desk.rt.search, text, per_page=50)
    return {hit.key for hit in result.hits}


def _rendition(desk, doc: Document, tmp_path: Path) -> tuple[Path, pikepdf.Pdf]:
    (version,) = [v for v in doc.versions if v.kind == "rendition"]
    path = tmp_path / "rendition.pdf"
    with desk.rt.store.open(version.s3_key, version.s3_version_id, version.sha256) as r:
        path.write_bytes(r.read())
    return path, version


def _original_bytes(desk, doc: Document) -> bytes:
    (version,) = [v for v in doc.versions if v.kind == "original"]
    with desk.rt.store.open(version.s3_key, version.s3_version_id, version.sha256) as r:
        return r.read()


@pytest.mark.parametrize("syntax", ["ubl", "cii", "credit_note"])
def test_xrechnung_is_kept_rendered_to_pdfa_and_found_by_number_and_leitweg_id(
    desk, tmp_path, syntax
):
    data = {
        "ubl": ubl_invoice,
        "cii": cii_invoice,
        "credit_note": lambda: ubl_invoice(credit_note=True),
    }[syntax]()
    result = desk.take(data, "rechnung.xml")
    assert result.outcome == Outcome.accepted, result.reason
    doc_id = result.document.id
    assert desk.queued == [doc_id]
    assert desk.process(doc_id) == "ready"
    doc = desk.document(doc_id)
    assert doc.status == "ready" and "einvoice" in doc.flags.split(",")
    assert _original_bytes(desk, doc) == data  # the XML original, byte-exact

    # The rendition: PDF/A-2b, German, with the invoice's figures in its text layer.
    path, version = _rendition(desk, doc, tmp_path)
    assert version.mime == "application/pdf"
    with pikepdf.open(path) as pdf:
        meta = pdf.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("2", "B")
        assert "/OutputIntents" in pdf.Root
    text = "\n".join(page_texts(path))
    kind = "Gutschrift" if syntax == "credit_note" else "Rechnung"
    for expected in (
        f"{kind} {NUMBER}",
        LEITWEG,
        "Müller & Söhne Gebäudetechnik GmbH",
        "Stadt Usingen",
        "Zahlbetrag",
        "DE02 1203 0000 0000 2020 51",
    ):
        assert expected in text, expected
    assert ("Umwälzpumpe Größe 25/6" if syntax != "cii" else "LED-Leuchtmittel") in text
    assert "1.844,50 EUR" in text or "1.844,50 EUR" in text.replace("\n", " ")

    # The fields, typed, and the document's own metadata from them.
    fields = _fields(desk, doc_id)
    assert fields["invoice_number"].value == NUMBER
    assert fields["leitweg_id"].value == LEITWEG
    assert fields["seller"].value == "Müller & Söhne Gebäudetechnik GmbH"
    assert fields["buyer"].value == "Stadt Usingen – Fachbereich Bauen"
    assert fields["invoice_date"].value_date.isoformat() == "2026-11-20"
    assert str(fields["amount_due"].value_number) == "1844.5000"
    assert fields["amount_due"].unit == "EUR"
    assert fields["invoice_type"].value == ("credit_note" if syntax == "credit_note" else "invoice")
    if syntax != "credit_note":
        assert fields["due_date"].value_date.isoformat() == "2026-12-04"
    assert doc.title == f"{kind} {NUMBER} – Müller & Söhne Gebäudetechnik GmbH"
    assert (doc.doc_type, doc.correspondent) == (kind, "Müller & Söhne Gebäudetechnik GmbH")

    # Search by invoice number and by Leitweg-ID.
    assert _found(desk, NUMBER) == {f"d{doc_id}"}
    assert _found(desk, LEITWEG) == {f"d{doc_id}"}


def test_metadata_given_at_intake_is_not_overwritten_by_the_invoice(desk):
    from eakte.services.intake import DocumentMetadata

    meta = DocumentMetadata(title="Heizung Bürgerhaus", doc_type="Eingangsrechnung")
    doc_id = desk.take(ubl_invoice(), "r.xml", metadata=meta).document.id
    doc = desk.document(doc_id)
    assert (doc.title, doc.doc_type) == ("Heizung Bürgerhaus", "Eingangsrechnung")
    assert doc.correspondent == "Müller & Söhne Gebäudetechnik GmbH"  # that one was empty


@pytest.mark.parametrize("where", ["at_intake", "by_worker"])
def test_zugferd_pdf_gives_its_embedded_invoice_fields_and_stays_the_pdf(desk, where):
    data = facturx_pdf(cii_invoice(Sample(number="RE-2026-0077"), guideline=FACTURX_EN16931))
    settings = desk.rt.settings if where == "at_intake" else desk.settings
    result = desk.take(data, "stadtwerke.pdf", settings=settings)
    assert result.outcome == Outcome.accepted, result.reason
    doc_id = result.document.id
    if where == "by_worker":
        assert desk.process(doc_id) == "ready"
    doc = desk.document(doc_id)
    assert doc.status == "ready"
    # The embedded invoice is expected in a ZUGFeRD PDF: no "embedded files" warning.
    assert set(doc.flags.split(",")) == {"einvoice"}
    with desk.rt.session() as s:
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == doc_id))
        assert "embedded" not in note.anomalies
    assert [v.kind for v in doc.versions] == ["original"]  # born digital: its own archival copy
    assert _original_bytes(desk, doc) == data
    fields = _fields(desk, doc_id)
    assert fields["invoice_number"].value == "RE-2026-0077"
    assert fields["einvoice_format"].value == "ZUGFeRD/Factur-X (EN 16931), CII"
    assert "Leitweg-ID: 04011000-12345-34" in doc.extracted_text  # not on the printed page
    assert "Stadtwerke" in doc.extracted_text  # the page's own text too
    assert doc.title.startswith("Rechnung RE-2026-0077")
    assert _found(desk, LEITWEG) == {f"d{doc_id}"}
    assert _found(desk, "RE-2026-0077") == {f"d{doc_id}"}


def test_pdf_with_another_attachment_beside_the_invoice_keeps_its_warning(desk):
    data = facturx_pdf(cii_invoice(), extra=b"Anlage: Aufmass")
    result = desk.take(data, "mit-anlage.pdf", settings=desk.rt.settings)
    assert result.outcome == Outcome.accepted
    doc = desk.document(result.document.id)
    assert {"embedded_files", "einvoice"} <= set(doc.flags.split(","))
    assert _fields(desk, doc.id)["invoice_number"].value == NUMBER


def test_pdf_with_a_broken_embedded_invoice_is_taken_in_with_a_note(desk):
    data = facturx_pdf(malformed_invoice())
    result = desk.take(data, "kaputt.pdf", settings=desk.rt.settings)
    assert result.outcome == Outcome.accepted
    doc = desk.document(result.document.id)
    assert "embedded_files" in doc.flags and "einvoice" not in doc.flags
    assert _fields(desk, doc.id) == {}
    with desk.rt.session() as s:
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == doc.id))
    assert "the embedded e-invoice cannot be read: the XML is not well-formed" in note.anomalies


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("malformed", malformed_invoice(), "xml_damaged"),
        ("xxe", xxe_invoice(), "xml_unsafe"),
        ("billion_laughs", billion_laughs_invoice(), "xml_unsafe"),
        (
            "too_deep",
            b"<?xml version='1.0'?><Invoice xmlns='urn:oasis:names:specification:"
            b"ubl:schema:xsd:Invoice-2'>" + b"<a>" * 100 + b"</a>" * 100 + b"</Invoice>",
            "xml_damaged",
        ),
    ],
)
def test_hostile_and_broken_invoices_are_quarantined_with_a_plain_reason(desk, name, data, reason):
    started = time.monotonic()
    result = desk.take(data, f"{name}.xml")
    assert result.outcome == Outcome.quarantined
    assert result.reason_code == reason
    assert result.reason and not re.search(r"(?:/[\w.+-]+){2,}", result.reason)  # no path
    assert "<" not in result.reason and "0x" not in result.reason
    assert time.monotonic() - started < 30  # no expansion: far below any time limit
    assert desk.queued == []


def test_xml_that_is_no_invoice_is_taken_in_as_text_its_entities_never_expanded(desk):
    """Not an e-invoice (its DOCTYPE names another root): plain XML, kept and shown as its
    source text (``office``), never parsed, so its entities cost nothing."""
    started = time.monotonic()
    result = desk.take(billion_laughs_invoice("lolz"), "lolz.xml")
    assert result.outcome == Outcome.accepted
    assert "einvoice" not in desk.document(result.document.id).flags.split(",")
    assert time.monotonic() - started < 30


def test_ubl_missing_mandatory_fields_is_taken_in_with_a_clear_note(desk, tmp_path):
    data = ubl_invoice(omit=("number", "leitweg", "payable"))
    result = desk.take(data, "unvollstaendig.xml")
    assert result.outcome == Outcome.accepted
    doc_id = result.document.id
    assert desk.process(doc_id) == "ready"
    doc = desk.document(doc_id)
    assert {"einvoice", "einvoice_incomplete"} <= set(doc.flags.split(","))
    with desk.rt.session() as s:
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == doc_id))
    assert "e-invoice lacks mandatory fields: invoice number (BT-1)" in note.anomalies
    assert "Leitweg-ID (BT-10)" in note.anomalies and "(BT-115)" in note.anomalies
    path, _ = _rendition(desk, doc, tmp_path)
    text = " ".join(" ".join(page_texts(path)).split())
    assert (
        "Es fehlen Pflichtangaben: Rechnungsnummer (BT-1); Leitweg-ID (BT-10); Zahlbetrag (BT-115)"
        in text
    )
    fields = _fields(desk, doc_id)
    assert "invoice_number" not in fields and fields["seller"].value.startswith("Müller")
    assert doc.title == "Rechnung – Müller & Söhne Gebäudetechnik GmbH"


def test_an_einvoice_without_xml_declaration_is_recognised(tmp_path):
    from eakte.ingest.detect import mime_of

    path = tmp_path / "ohne-deklaration.xml"
    path.write_bytes(cii_invoice().split(b"\n", 1)[1])  # starts with the root element
    assert mime_of(path) == "text/xml" and einvoice.is_einvoice(path)
    path.write_bytes(b"<p>just text in angle brackets</p>")
    assert mime_of(path) != "text/xml"


def test_other_xml_is_not_an_einvoice():
    assert einvoice.syntax_of(b"<?xml version='1.0'?><Invoice><ID>1</ID></Invoice>") is None
    assert einvoice.syntax_of(b"<rsm:CrossIndustryInvoice xmlns:rsm='urn:other'/>") is None
    assert einvoice.syntax_of(b"%PDF-1.7") is None
    assert einvoice.syntax_of(ubl_invoice()) == "UBL"
    assert einvoice.syntax_of(cii_invoice()) == "CII"
    assert einvoice.syntax_of(ubl_invoice(credit_note=True)) == "UBL"


def test_embedded_invoice_is_read_with_a_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "MAX_XML_BYTES", 4096)
    path = tmp_path / "big.pdf"
    path.write_bytes(facturx_pdf(cii_invoice()))  # about 9 kB of XML
    found = einvoice.read_pdf(path)
    assert found.invoice is None and "larger than" in found.problem


def test_document_page_and_api_show_the_fields(desk, app, sign_in):
    doc_id = desk.take(cii_invoice(), "rechnung.xml").document.id
    assert desk.process(doc_id) == "ready"
    doc = desk.document(doc_id)
    page = sign_in("sachb").get(f"/dokumente/{doc.uuid}")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    for text in (
        "E-Rechnung",
        "Rechnungsnummer",
        NUMBER,
        "Leitweg-ID",
        LEITWEG,
        "1.844,50 EUR",
        "20.11.2026",
        "Zahlbetrag",
        "Rechnung</dd>",
    ):
        assert text in html, text
    with desk.rt.session() as s:
        _, token = api_tokens.create_token(
            s, s.get(User, desk.world.clerk.id), "Test", {Scope.read}
        )
    response = app.test_client().get(
        f"/api/v1/documents/{doc.uuid}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    fields = {f["name"]: f for f in response.get_json()["fields"]}
    assert fields["leitweg_id"]["value"] == LEITWEG
    assert fields["amount_due"]["number"] == "1844.5000" and fields["amount_due"]["unit"] == "EUR"
    assert fields["invoice_date"]["date"] == "2026-11-20"


def test_rendition_api_is_a_readable_pdfa(tmp_path):
    from eakte.ingest.render_pdf import Section, write_pdfa

    target = tmp_path / "x.pdf"
    write_pdfa(
        target,
        "Prüfung – Äöü",
        [
            Section("Kopf", rows=[("Schlüssel", "Wert ß")]),
            Section("Text", paragraphs=["Absatz " * 200]),
        ],
    )
    with pikepdf.open(target) as pdf:
        assert pdf.open_metadata().get("pdfaid:part") == "2"
        fonts = [f for page in pdf.pages for f in page.Resources.Font.values()]
        assert fonts and all("/FontFile2" in f.DescendantFonts[0].FontDescriptor for f in fonts)
    text = " ".join(page_texts(target))
    assert "Prüfung – Äöü" in text and "Schlüssel" in text and "Wert ß" in text


def test_r10_a_destroyed_invoice_keeps_none_of_its_fields(desk):
    from eakte.db import transaction
    from eakte.services.fields import attach
    from retention.destruction import plan_document, record_destroyed

    doc_id = desk.world.inbox_document("Rechnung").id
    with desk.rt.session() as s, transaction(s):
        attach(s, s.get(Document, doc_id), einvoice.read_xml(ubl_invoice()).fields())
    assert _fields(desk, doc_id)["leitweg_id"].value == LEITWEG
    with desk.rt.session() as s, transaction(s):
        record_destroyed(s, plan_document(s, s.get(Document, doc_id)), [], None)
    assert _fields(desk, doc_id) == {}


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_postgresql_search_backend_finds_the_invoice_by_number_and_leitweg_id(desk):
    """The database's own full-text search (``EAKTE_SEARCH_BACKEND=postgresql``) as well."""
    import dataclasses

    from tests.fixtures.app import replace_settings

    doc_id = desk.take(facturx_pdf(cii_invoice()), "r.pdf", settings=desk.rt.settings).document.id
    rt = dataclasses.replace(
        desk.rt, settings=replace_settings(desk.rt.settings, search_backend="postgresql")
    )
    index_pending(rt)
    for text in (NUMBER, LEITWEG, "Leitweg-ID 04011000-12345-34"):
        with rt.session() as s:
            clerk = s.get(User, desk.world.clerk.id)
            hits = search_service.search(s, clerk, rt.search, text).hits
        assert {hit.key for hit in hits} == {f"d{doc_id}"}, text


@pytest.mark.parametrize("name", ["factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml"])
def test_each_name_of_the_embedded_invoice_is_read(tmp_path, name):
    path = tmp_path / "r.pdf"
    path.write_bytes(facturx_pdf(ubl_invoice(), name=name))
    found = einvoice.read_pdf(path)
    assert found.only_invoice and found.invoice.number == NUMBER and not found.problem
    path.write_bytes(facturx_pdf(ubl_invoice(), name="rechnung-anlage.xml"))
    assert einvoice.read_pdf(path).invoice is None  # another name: just an attachment


def test_hostile_xml_inside_a_pdf_is_refused_and_noted(tmp_path, monkeypatch):
    path = tmp_path / "r.pdf"
    path.write_bytes(facturx_pdf(xxe_invoice()))
    found = einvoice.read_pdf(path)
    assert found.invoice is None and "declares a DTD or entities" in found.problem
    monkeypatch.setattr(einvoice_xml, "MAX_ELEMENTS", 50)
    path.write_bytes(facturx_pdf(ubl_invoice()))
    assert "more than 50 elements" in einvoice.read_pdf(path).problem
