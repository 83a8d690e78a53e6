"""Mail files (issue 25 part 3): .eml and Outlook .msg become a message document with a PDF/A
rendition, and each attachment a document of its own, linked to the message.

Messages are made here with the stdlib ``email`` package; .msg files with ``tests.ingest.msgfile``
(a compound file written by the test).
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import func, select

from eakte.ingest import detect, mail, mail_intake, render_pdf
from eakte.ingest.mail_render import render_message
from eakte.ingest.reasons import Reason, Rejected
from eakte.ingest.render_pdf import Section, write_pdfa
from eakte.ingest.rtf_text import decompress, rtf_to_text
from eakte.ingest.text import page_texts
from eakte.models import Document, FileVersion, VersionKind
from eakte.models.ingest import QuarantinedFile, TransferNote
from eakte.models.mail import MailAttachment, MailMessage
from eakte.services import cases, documents
from eakte.services import mail as mail_service
from eakte.services.intake import Outcome
from tests.fixtures.app import csrf_token
from tests.fixtures.cli import eakte
from tests.ingest.conftest import born_digital_pdf, image_bytes, scan_image
from tests.ingest.msgfile import compound_file, outlook_message
from web.api import document_json

LIMITS = mail.MailLimits()


def letter(subject="Antrag auf Gaststättenerlaubnis", body="Sehr geehrte Damen und Herren,\n"):
    message = EmailMessage()
    message["From"] = "Jürgen Müller <juergen.mueller@example.de>"
    message["To"] = "Ordnungsamt <gewerbe@usingen.example>"
    message["Cc"] = "Jörg Schäfer <js@example.de>"
    message["Date"] = "Mon, 07 Dec 2026 10:15:00 +0100"
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash(subject + body))}@example.de>"
    message.set_content(body + "anbei mein Antrag.\nMit freundlichen Grüßen\nJürgen Müller")
    return message


def with_attachments() -> EmailMessage:
    """PDF, PNG, an unaccepted file (zip) and a nested message with a PDF of its own."""
    message = letter("Antrag mit Anlagen")
    message.add_attachment(
        born_digital_pdf(1, "Grundriss Gaststätte"),
        maintype="application",
        subtype="pdf",
        filename="Grundriss.pdf",
    )
    message.add_attachment(
        image_bytes(scan_image(size=(400, 200))),
        maintype="image",
        subtype="png",
        filename="Foto.png",
    )
    message.add_attachment(
        b"PK\x05\x06" + b"\0" * 18, maintype="application", subtype="zip", filename="Anlagen.zip"
    )
    forwarded = letter("Weitergeleitet: Stellungnahme Bauamt", "Hallo,\n")
    forwarded.add_attachment(
        born_digital_pdf(1, "Stellungnahme"),
        maintype="application",
        subtype="pdf",
        filename="Stellungnahme.pdf",
    )
    message.add_attachment(forwarded)
    return message


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------- recognised, read


def test_eml_recognised_by_its_header_block_not_by_libmagic(tmp_path):
    plain = write(tmp_path, "a.eml", letter().as_bytes())
    html = EmailMessage()
    html["Subject"], html["Date"] = "Rechnung", "Mon, 07 Dec 2026 10:15:00 +0100"
    html.set_content("<html><body><p>Guten Tag</p></body></html>", subtype="html")
    html_path = write(tmp_path, "b.eml", html.as_bytes())
    assert detect.mime_of(plain) == "message/rfc822"
    assert detect.mime_of(html_path) == "message/rfc822"
    assert detect.kind_of(detect.mime_of(plain)) == "eml"
    # text that merely has a colon in its first line is no mail
    note = write(tmp_path, "note.txt", b"Subject: Einkaufsliste\nMilch, Brot\n\nund Eier\n")
    assert detect.mime_of(note) == "text/plain"


def test_msg_recognised_by_its_streams(tmp_path):
    msg = write(tmp_path, "a.msg", outlook_message(subject="Antrag", body="Text"))
    assert detect.mime_of(msg) == "application/vnd.ms-outlook"
    other = write(tmp_path, "x.msg", compound_file({"WordDocument": b"\0" * 100}))
    assert detect.mime_of(other) != "application/vnd.ms-outlook"


def test_umlauts_in_rfc2047_headers_and_quoted_printable_body():
    message = letter("Gebührenbescheid für Ärztehaus – Grüße")
    message.set_content("Die Gebühren für die Straße überweise ich.", cte="quoted-printable")
    raw = message.as_bytes()
    assert b"=?utf-8?" in raw and b"=C3=BC" in raw  # really encoded on the wire
    read = mail.parse(raw, "eml", LIMITS)
    assert read.subject == "Gebührenbescheid für Ärztehaus – Grüße"
    assert read.sender == "Jürgen Müller <juergen.mueller@example.de>"
    assert "Gebühren für die Straße überweise" in read.body
    assert read.date is not None and read.date.utcoffset().total_seconds() == 3600


def test_html_body_rendered_as_text_without_scripts_or_remote_content(tmp_path):
    message = EmailMessage()
    message["From"], message["Subject"] = "portal@example.de", "Ihr Antrag"
    message["Date"] = "Mon, 07 Dec 2026 10:15:00 +0100"
    message.set_content(
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
        "<p>Guten&nbsp;Tag,</p><p>Ihr Antrag ist <b>eingegangen</b>.</p>"
        "<img src='https://tracker.example/pixel.gif' alt='Logo'>"
        "<a href='https://portal.example/antrag/42'>Status</a>"
        "<script>document.location='https://evil.example'</script></body></html>",
        subtype="html",
    )
    read = mail.parse(message.as_bytes(), "eml", LIMITS)
    assert read.body_from_html
    assert "Guten Tag," in read.body and "Ihr Antrag ist eingegangen." in read.body
    assert "Status <https://portal.example/antrag/42>" in read.body
    assert "[image: Logo]" in read.body
    assert "alert" not in read.body and "color" not in read.body and "evil" not in read.body
    assert "pixel.gif" not in read.body  # the image's address is not even shown
    texts, pages = render_message(
        write(tmp_path, "m.eml", message.as_bytes()), mail.EML_MIME, tmp_path / "m.pdf"
    )
    assert pages == 1 and "eingegangen" in texts[0] and "alert" not in texts[0]


def test_plain_text_preferred_over_html():
    message = letter()
    message.add_alternative("<p>HTML-Fassung</p>", subtype="html")
    read = mail.parse(message.as_bytes(), "eml", LIMITS)
    assert not read.body_from_html and "anbei mein Antrag" in read.body
    assert read.attachments == []  # the other form of the body is no attachment


def test_attachments_in_message_order_nested_message_read_too():
    read = mail.parse(with_attachments().as_bytes(), "eml", LIMITS)
    assert [(a.index, a.filename, a.mime) for a in read.attachments] == [
        (1, "Grundriss.pdf", "application/pdf"),
        (2, "Foto.png", "image/png"),
        (3, "Anlagen.zip", "application/zip"),
        (4, "Weitergeleitet Stellungnahme Bauamt.eml", "message/rfc822"),
    ]
    assert read.attachments[0].data.startswith(b"%PDF")
    inner = mail.parse(read.attachments[3].data, "eml", LIMITS)
    assert inner.subject == "Weitergeleitet: Stellungnahme Bauamt"
    assert [a.filename for a in inner.attachments] == ["Stellungnahme.pdf"]


def test_outlook_message_read(tmp_path):
    raw = outlook_message(
        subject="Bauantrag Müller",
        body="Guten Tag,\nanbei die Unterlagen. Grüße",
        sender="Jürgen Müller",
        sender_address="juergen.mueller@example.de",
        to="Bauamt",
        headers="Message-ID: <outlook-1@example.de>\r\n"
        "Date: Tue, 08 Dec 2026 09:00:00 +0100\r\n\r\n",
        attachments=[("Lageplan.pdf", born_digital_pdf(1, "Lageplan"), "application/pdf")],
        embedded=[
            dict(
                subject="Stellungnahme Nachbar",
                body="Keine Einwände.",
                sender="Nachbar",
                attachments=[("Unterschrift.png", image_bytes(scan_image()), "image/png")],
            )
        ],
    )
    read = mail.parse(raw, "msg", LIMITS)
    assert (read.subject, read.message_id) == ("Bauantrag Müller", "<outlook-1@example.de>")
    assert read.sender == "Jürgen Müller <juergen.mueller@example.de>" and read.to == "Bauamt"
    assert "anbei die Unterlagen. Grüße" in read.body and read.date is not None
    assert [(a.filename, a.mime) for a in read.attachments] == [
        ("Lageplan.pdf", "application/pdf"),
        ("Stellungnahme Nachbar.eml", "message/rfc822"),
    ]
    inner = mail.parse(read.attachments[1].data, "eml", LIMITS)
    assert inner.subject == "Stellungnahme Nachbar" and "Keine Einwände." in inner.body
    assert [a.filename for a in inner.attachments] == ["Unterschrift.png"]
    html = outlook_message(subject="HTML", html="<p>Grüße<script>x()</script></p>".encode())
    assert mail.parse(html, "msg", LIMITS).body == "Grüße"
    rtf = (
        rb"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}}{\*\generator Outlook;}"
        rb"\f0 Sehr geehrte Damen und Herren,\par die Geb\'fchren f\u252?r die Stra\'dfe"
        rb"\par {\*\htmltag84 <p>}\htmlrtf {\b fett}\htmlrtf0 Ende.}"
    )
    only_rtf = mail.parse(outlook_message(subject="RTF", rtf=rtf), "msg", LIMITS)
    assert only_rtf.body == "Sehr geehrte Damen und Herren,\ndie Gebühren für die Straße\nEnde."


def test_compressed_rtf_examples_of_the_specification():
    """The two examples of [MS-OXRTFCP] 3.1/3.2 (Microsoft Open Specifications)."""
    first = bytes.fromhex(
        "2d0000002b0000004c5a4675f1c5c7a703000a0072637067313235423"
        "20af32068656c090020627705b06c647d0a800fa0"
    )
    assert decompress(first) == b"{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"
    assert rtf_to_text(decompress(first)) == "hello world"
    repeated = bytes.fromhex("1a0000001c0000004c5a4675e2d44b51410004205758595a0d6e7d010eb0")
    assert decompress(repeated) == b"{\\rtf1 WXYZWXYZWXYZWXYZWXYZ}"


# ----------------------------------------------------------------------------- bounded


def _many_parts(count: int) -> bytes:
    message = MIMEMultipart()
    message["From"], message["Subject"] = "a@example.de", "viele Teile"
    for number in range(count):
        message.attach(MIMEText(f"Teil {number}"))
    return message.as_bytes()


def _nested(depth: int) -> bytes:
    inner = MIMEText("innen")
    for _ in range(depth):
        outer = MIMEMultipart()
        outer.attach(inner)
        inner = outer
    inner["From"], inner["Subject"] = "a@example.de", "tief"
    return inner.as_bytes()


def _messages_in_messages(depth: int) -> bytes:
    message = letter("innen")
    for level in range(depth):
        outer = letter(f"Ebene {level}")
        outer.add_attachment(message)
        message = outer
    return message.as_bytes()


@pytest.mark.parametrize(
    ("raw", "limits", "code"),
    [
        (_many_parts(30), replace(LIMITS, max_parts=20), Reason.mail_too_complex),
        (_nested(8), replace(LIMITS, max_depth=5), Reason.mail_too_complex),
        (_messages_in_messages(3), replace(LIMITS, max_nested_messages=2), Reason.mail_too_complex),
        (
            b"Subject: x\r\nX-Long: " + b"a" * 5000 + b"\r\n\r\nText",
            replace(LIMITS, max_header_bytes=4096),
            Reason.mail_too_complex,
        ),
        (_many_parts(12), replace(LIMITS, max_attachments=10), Reason.mail_too_complex),
        (letter().as_bytes(), replace(LIMITS, max_bytes=100), Reason.too_large),
    ],
    ids=["parts", "depth", "nested-messages", "header", "attachments", "size"],
)
def test_bounds_checked(raw, limits, code):
    with pytest.raises(Rejected) as caught:
        mail.parse(raw, "eml", limits)
    assert caught.value.code == code and caught.value.detail


def test_too_many_parts_stopped_before_parsing(monkeypatch):
    """The boundary count stops a message with very many parts before the parser runs."""

    def never(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(mail.BytesParser, "parsebytes", never)
    with pytest.raises(Rejected):
        mail.parse(_many_parts(300), "eml", replace(LIMITS, max_parts=20))


def _smime() -> bytes:
    message = EmailMessage()
    message["From"], message["Subject"] = "a@example.de", "vertraulich"
    message["Date"] = "Mon, 07 Dec 2026 10:15:00 +0100"
    message.set_content(
        b"\x30\x82\x01\x00" + b"\x01" * 256,
        maintype="application",
        subtype="pkcs7-mime",
        params={"smime-type": "enveloped-data", "name": "smime.p7m"},
    )
    return message.as_bytes()


def _pgp_mime() -> bytes:
    message = MIMEMultipart("encrypted", protocol="application/pgp-encrypted")
    message["From"], message["Subject"] = "a@example.de", "vertraulich"
    message.attach(MIMEApplication(b"Version: 1\n", "pgp-encrypted"))
    message.attach(MIMEApplication(b"-----BEGIN PGP MESSAGE-----\n...", "octet-stream"))
    return message.as_bytes()


def _pgp_inline() -> bytes:
    return letter(
        body="-----BEGIN PGP MESSAGE-----\nhQEMA…\n-----END PGP MESSAGE-----\n"
    ).as_bytes()


@pytest.mark.parametrize(
    "raw", [_smime(), _pgp_mime(), _pgp_inline()], ids=["smime", "pgp", "inline"]
)
def test_encrypted_mail_rejected(raw):
    with pytest.raises(Rejected) as caught:
        mail.parse(raw, "eml", LIMITS)
    assert caught.value.code == Reason.mail_encrypted


def test_signed_mail_read_and_its_signature_not_taken_in_as_a_document():
    signed = MIMEMultipart("signed", protocol="application/pkcs7-signature", micalg="sha-256")
    signed["From"], signed["Subject"] = "a@example.de", "signiert"
    signed.attach(MIMEText("Der Bescheid ist bestandskräftig.", _charset="utf-8"))
    signature = MIMEApplication(b"\x30\x82", "pkcs7-signature", name="smime.p7s")
    signed.attach(signature)
    read = mail.parse(signed.as_bytes(), "eml", LIMITS)
    assert "bestandskräftig" in read.body
    assert [(a.filename, a.signature) for a in read.attachments] == [("smime.p7s", True)]
    assert read.documents == []


def test_encrypted_outlook_message_rejected():
    raw = outlook_message(subject="x", message_class="IPM.Note.SMIME")
    with pytest.raises(Rejected) as caught:
        mail.parse(raw, "msg", LIMITS)
    assert caught.value.code == Reason.mail_encrypted


@pytest.mark.parametrize(
    "cut", [lambda raw: raw[:1024] + b"\xff" * 600, lambda raw: raw[:2048], lambda raw: raw[:-512]]
)
def test_damaged_or_cut_off_outlook_file_rejected_with_a_reason(cut):
    raw = outlook_message(subject="x", body="y", attachments=[("a.pdf", b"%PDF" * 1500, "x/y")])
    assert mail.parse(raw, "msg", LIMITS).subject == "x"
    with pytest.raises(Rejected) as caught:
        mail.parse(cut(raw), "msg", LIMITS)
    assert caught.value.code == Reason.mail_damaged and caught.value.detail


# ----------------------------------------------------------------------------- PDF/A


def test_rendition_is_pdfa_with_text_and_bounded_pages(tmp_path, monkeypatch):
    target = tmp_path / "r.pdf"
    write_pdfa(
        target,
        "Antrag – Müller",
        [
            Section("Kopf", rows=[("Von", "Jürgen Müller"), ("Betreff", "Grüße 中文")]),
            Section("Text", paragraphs=["Straße\tund Gebühren\x07 " * 50]),
        ],
    )
    with pikepdf.open(target) as pdf:
        meta = pdf.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("2", "B")
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFA1"
        fonts = pdf.pages[0].Resources.Font
        assert all("/FontFile2" in f.DescendantFonts[0].FontDescriptor for f in fonts.values())
    text = page_texts(target)[0]
    assert "Jürgen Müller" in text and "Straße und Gebühren" in text and "Grüße ??" in text
    many, bound = tmp_path / "many.pdf", 6
    monkeypatch.setattr(render_pdf, "MAX_PAGES", bound)
    long_lines = ["Zeile " * 400, "\n".join(["kurz"] * 500)]  # wrapped, and many short lines
    write_pdfa(many, "lang", [Section("Text", paragraphs=long_lines * 10)])
    with pikepdf.open(many) as pdf:
        assert bound - 1 <= len(pdf.pages) <= bound
    assert "the rendition is limited to" in page_texts(many)[-1]


# ------------------------------------------------------------------ through the intake


def _read(desk, version) -> bytes:
    with desk.rt.store.open(version.s3_key, version.s3_version_id, version.sha256) as reader:
        return reader.read()


def _counts(world) -> tuple[int, int, int]:
    with world.session() as s:
        return (
            s.scalar(select(func.count(Document.id))),
            s.scalar(select(func.count(QuarantinedFile.id))),
            s.scalar(select(func.count(MailAttachment.id))),
        )


def test_message_becomes_a_document_with_linked_attachments(desk, world, tmp_path):
    raw = with_attachments().as_bytes()
    result = desk.take(raw, "Antrag mit Anlagen.eml")
    assert result.outcome == Outcome.accepted
    kinds = [(r.outcome, r.reason_code) for r in mail_intake.every_result(result)]
    assert kinds == [
        (Outcome.accepted, ""),  # the message
        (Outcome.accepted, ""),  # Grundriss.pdf
        (Outcome.accepted, ""),  # Foto.png
        (Outcome.quarantined, Reason.type_not_allowed),  # Anlagen.zip
        (Outcome.accepted, ""),  # the forwarded message
        (Outcome.accepted, ""),  # … and its Stellungnahme.pdf
    ]
    assert _counts(world) == (5, 1, 5)
    assert len(desk.queued) == 5  # every document queued for the worker
    assert all(r == "ready" for r in desk.process_queued())
    message = desk.document(result.document.id)
    original = next(v for v in message.versions if v.kind == VersionKind.original)
    rendition = next(v for v in message.versions if v.kind == VersionKind.rendition)
    assert original.mime == "message/rfc822" and original.filename == "Antrag mit Anlagen.eml"
    assert _read(desk, original) == raw  # byte-exact
    assert rendition.mime == "application/pdf"
    rendered = tmp_path / "rendition.pdf"
    rendered.write_bytes(_read(desk, rendition))
    with pikepdf.open(rendered) as pdf:
        assert pdf.open_metadata()["pdfaid:part"] == "2"
    text = message.extracted_text
    for expected in ("Antrag mit Anlagen", "Jürgen Müller", "anbei mein Antrag", "Anlagen.zip"):
        assert expected in text
    with world.session() as s:
        row = s.get(MailMessage, message.id)
        assert (
            row.complete and row.attachment_count == 4 and row.message_id.endswith("@example.de>")
        )
        links = mail_service.links(s, world.clerk, s.get(Document, message.id))
        assert [(a.index, a.filename) for a in links.attachments] == [
            (1, "Grundriss.pdf"),
            (2, "Foto.png"),
            (3, "Anlagen.zip"),
            (4, "Weitergeleitet Stellungnahme Bauamt.eml"),
        ]
        assert links.attachments[2].document is None and links.attachments[2].reason_code == (
            "type_not_allowed"
        )
        pdf_doc = links.attachments[0].document
        assert pdf_doc.title == "Grundriss" and "Grundriss Gaststätte" in pdf_doc.extracted_text
        back = mail_service.links(s, world.clerk, pdf_doc)
        assert back.parent.id == message.id and back.parent_index == 1
        nested = links.attachments[3].document
        nested_links = mail_service.links(s, world.clerk, nested)
        assert [a.filename for a in nested_links.attachments] == ["Stellungnahme.pdf"]
        zipped = s.scalar(select(QuarantinedFile))
        assert "Antrag mit Anlagen.eml" in zipped.source and zipped.org_unit_id is not None


def test_outlook_message_through_the_intake(desk, world):
    raw = outlook_message(
        subject="Bauantrag",
        body="Unterlagen anbei.",
        sender="Jürgen Müller",
        sender_address="jm@example.de",
        attachments=[("Lageplan.pdf", born_digital_pdf(1, "Lageplan"), "application/pdf")],
        embedded=[dict(subject="Nachbar", body="Keine Einwände.")],
    )
    result = desk.take(raw, "Bauantrag.msg")
    assert [r.outcome for r in mail_intake.every_result(result)] == [Outcome.accepted] * 3
    assert all(r == "ready" for r in desk.process_queued())
    message = desk.document(result.document.id)
    assert message.versions[0].mime == "application/vnd.ms-outlook"
    assert "Unterlagen anbei." in message.extracted_text and message.page_count == 1
    with world.session() as s:
        links = mail_service.links(s, world.clerk, s.get(Document, message.id))
        nested = links.attachments[1].document
        assert nested.versions[0].mime == "message/rfc822"
        assert "Keine Einwände." in nested.extracted_text


@pytest.mark.parametrize("raw", [_smime(), _many_parts(600)], ids=["encrypted", "too-many-parts"])
def test_unreadable_message_quarantined_with_reason(desk, world, raw):
    result = desk.take(raw, "post.eml")
    assert result.outcome == Outcome.quarantined
    assert result.reason_code in (Reason.mail_encrypted, Reason.mail_too_complex)
    assert result.reason and "/" not in result.reason.split("(")[0]
    assert _counts(world) == (0, 1, 0)


def test_import_rerun_and_crash_between_message_and_attachments(desk, world, monkeypatch):
    """The message is committed, the worker dies at the second attachment; the re-run finds
    the message, takes in what is missing, and a third run adds nothing."""
    raw = with_attachments().as_bytes()
    key = "import:/post/antrag.eml|1|1"
    real = mail_intake._run
    calls = []

    def crash_at_second(session, store, child):
        calls.append(child.source_key)
        if len(calls) == 2:
            raise OSError("worker killed")
        return real(session, store, child)

    monkeypatch.setattr(mail_intake, "_run", crash_at_second)
    with pytest.raises(OSError):
        desk.take(raw, "antrag.eml", source_key=key, method="import")
    assert _counts(world) == (2, 0, 1)  # the message and its first attachment
    monkeypatch.setattr(mail_intake, "_run", real)
    again = desk.take(raw, "antrag.eml", source_key=key, method="import")
    assert again.outcome == Outcome.existing
    assert [r.outcome for r in again.attachments] == [
        Outcome.existing,
        Outcome.accepted,
        Outcome.quarantined,
        Outcome.accepted,
    ]
    assert _counts(world) == (5, 1, 5)
    third = desk.take(raw, "antrag.eml", source_key=key, method="import")
    assert third.outcome == Outcome.existing and third.attachments == []
    assert _counts(world) == (5, 1, 5)
    with world.session() as s:
        sources = s.scalars(select(Document.source_key).order_by(Document.id)).all()
        message_uuid = s.scalar(select(Document.uuid).where(Document.source_key == key))
        assert sources[1] == f"mail:{message_uuid}/1"


def test_recovery_finishes_an_uploaded_message_a_crash_interrupted(desk, world, monkeypatch):
    """An upload has no source key for a re-run: the recovery finds the message by its
    unfinished mark and takes in what is missing, once."""
    real = mail_intake._run
    calls = []

    def crash_at_third(session, store, child):
        calls.append(child.source_key)
        if len(calls) == 3:
            raise OSError("worker killed")
        return real(session, store, child)

    monkeypatch.setattr(mail_intake, "_run", crash_at_third)
    with pytest.raises(OSError):
        desk.take(with_attachments().as_bytes(), "antrag.eml")
    monkeypatch.setattr(mail_intake, "_run", real)
    assert _counts(world) == (3, 0, 2)
    finish = mail_intake.finish_messages
    with world.session() as s:
        assert finish(s, desk.rt.store, desk.settings) == 0  # too young: perhaps still at work
    queued = []
    with world.session() as s:
        done = finish(
            s,
            desk.rt.store,
            desk.settings,
            older_than=timedelta(0),
            enqueue=lambda i, ready=False: queued.append(i),
        )
    assert done == 1 and len(queued) == 2  # the forwarded message and its PDF; zip quarantined
    assert _counts(world) == (5, 1, 5)
    with world.session() as s:
        assert finish(s, desk.rt.store, desk.settings, older_than=timedelta(0)) == 0
        zipped = s.scalar(select(QuarantinedFile))
        assert zipped.submitted_by == "scan" and zipped.org_unit_id is not None
    assert _counts(world) == (5, 1, 5)


def test_same_bytes_again_is_a_duplicate(desk, world):
    raw = letter("Zweimal").as_bytes()
    first = desk.take(raw, "a.eml")
    second = desk.take(raw, "b.eml")
    assert first.outcome == Outcome.accepted and second.outcome == Outcome.duplicate
    assert second.document.duplicate_of_id == first.document.id


def test_filing_the_message_files_its_attachments_along(desk, world):
    result = desk.take(with_attachments().as_bytes(), "Antrag.eml")
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gaststätte Zur Linde", year=2026)
        process = cases.add_process(s, world.clerk, case.id, "Erlaubnis")
    with world.session() as s:
        documents.file_document(s, world.clerk, result.document.id, process.id)
    with world.session() as s:
        filed = s.scalars(select(Document.title).where(Document.process_id == process.id)).all()
        assert sorted(filed) == sorted(
            ["Antrag", "Grundriss", "Foto", "Weitergeleitet Stellungnahme Bauamt", "Stellungnahme"]
        )


def test_uploaded_message_page_and_api_show_the_links(world, sign_in):
    client = sign_in("sachb")
    form = client.get("/hochladen/").get_data(as_text=True)
    response = client.post(
        "/hochladen/",
        data={
            "csrf_token": csrf_token(form),
            "inbox": "32",
            "files": [(io.BytesIO(with_attachments().as_bytes()), "Antrag mit Anlagen.eml")],
        },
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    (uploaded,) = response.get_json()["results"]
    assert uploaded["outcome"] == "accepted"
    page = client.get(uploaded["document"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Anhänge" in html and "Grundriss.pdf" in html and "Anlagen.zip" in html
    assert "in Quarantäne" in html
    with world.session() as s:
        message_uuid = s.scalar(select(Document.uuid).where(Document.title == "Antrag mit Anlagen"))
    assert uploaded["document"].endswith(str(message_uuid))
    with world.session() as s:
        pdf_uuid = s.scalar(select(Document.uuid).where(Document.title == "Grundriss"))
    attachment_page = client.get(f"/dokumente/{pdf_uuid}").get_data(as_text=True)
    assert f"/dokumente/{message_uuid}" in attachment_page
    with world.session() as s:
        message = s.scalar(select(Document).where(Document.uuid == message_uuid))
        data = document_json(message, mail_service.links(s, world.clerk, message))
        assert data["message"]["subject"] == "Antrag mit Anlagen"
        assert [a["filename"] for a in data["attachments"]][:2] == ["Grundriss.pdf", "Foto.png"]
        assert data["attachments"][2] == {
            "index": 3,
            "filename": "Anlagen.zip",
            "document": None,
            "quarantined": True,
            "reason": "type_not_allowed",
        }
        assert data["attachments"][0]["document"] == str(pdf_uuid)


def test_stored_original_of_attachment_is_its_bytes(desk, world):
    pdf = born_digital_pdf(1, "Anlage")
    message = letter()
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="Anlage.pdf")
    result = desk.take(message.as_bytes(), "m.eml")
    attachment = result.attachments[0].document
    with world.session() as s:
        version = s.scalar(select(FileVersion).where(FileVersion.document_id == attachment.id))
        assert version.sha256 == attachment.sha256
    assert _read(desk, version) == pdf


def test_intake_message_entry_point_for_imap(desk, world):
    """The IMAP intake (issue 17) hands raw bytes to ``intake_message``: the same path."""
    from eakte.ingest.intake_context import DocumentMetadata, IntakeContext
    from eakte.ingest.validate import Limits
    from eakte.models import Tenant

    raw = with_attachments().as_bytes()
    with world.session() as s:
        ctx = IntakeContext(
            tenant=s.get(Tenant, world.tenant.id),
            user=None,
            submitted_by="mail:gewerbe@usingen.example",
            data=None,
            filename_raw=b"message.eml",
            metadata=DocumentMetadata(),
            inbox_org_unit_id=world.clerk.org_unit_id,
            process_id=None,
            method="mail",
            source="imap://gewerbe/INBOX/17",
            source_key="imap:gewerbe:INBOX:1:17",
            scan_batch_id=None,
            limits=Limits.from_settings(desk.settings),
            spool_dir=desk.settings.spool_dir(),
        )
        result = mail_intake.intake_message(s, desk.rt.store, raw, ctx)
    assert len(list(mail_intake.every_result(result))) == 6
    assert _counts(world) == (5, 1, 5)


def test_same_message_id_with_other_bytes_is_noted(desk, world):
    """The same mail received twice (other Received lines): both kept, the second noted."""
    first = letter("Einmal")
    second = letter("Einmal")
    second["Received"] = "from mx2.example.de by mail.usingen.example; Mon, 7 Dec 2026"
    assert first["Message-ID"] == second["Message-ID"]
    one = desk.take(first.as_bytes(), "a.eml", actor=world.clerk)
    two = desk.take(second.as_bytes(), "b.eml", actor=world.clerk)
    assert two.outcome == Outcome.accepted
    with world.session() as s:
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == two.document.id))
        assert f"the same Message-ID as document {one.document.uuid}" in note.anomalies


# The command is the same on both databases (the re-run on each: the test above).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_eakte_import_twice_takes_each_attachment_once(tmp_path, world, env):
    folder = tmp_path / "post"
    folder.mkdir()
    (folder / "antrag.eml").write_bytes(with_attachments().as_bytes())
    (folder / "bauantrag.msg").write_bytes(
        outlook_message(
            subject="Bauantrag",
            body="Anbei.",
            attachments=[("Lageplan.pdf", born_digital_pdf(1, "Lageplan"), "application/pdf")],
        )
    )
    first = eakte("import", str(folder), "--user", "scan")
    assert first.returncode == 0, first.stderr
    assert "imported:     2" in first.stdout
    again = eakte("import", str(folder), "--user", "scan")
    assert again.returncode == 0, again.stderr
    assert "already in:   2" in again.stdout
    assert _counts(world) == (7, 1, 6)
