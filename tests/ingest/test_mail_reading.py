"""Mail files (issue 25 part 3), read: .eml and Outlook .msg recognised and parsed within
bounds, encrypted ones refused, the message rendered as a PDF/A. Taken in: ``test_mail_intake``.
"""

from __future__ import annotations

from dataclasses import replace
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pikepdf
import pytest

from eakte.ingest import detect, mail, render_pdf
from eakte.ingest.mail_render import render_message
from eakte.ingest.reasons import Reason, Rejected
from eakte.ingest.render_pdf import Section, write_pdfa
from eakte.ingest.rtf_text import decompress, rtf_to_text
from eakte.ingest.text import page_texts
from tests.ingest.conftest import born_digital_pdf, image_bytes, scan_image
from tests.ingest.mails import letter, many_parts, smime, with_attachments, write
from tests.ingest.msgfile import compound_file, outlook_message

LIMITS = mail.MailLimits()


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
        (many_parts(30), replace(LIMITS, max_parts=20), Reason.mail_too_complex),
        (_nested(8), replace(LIMITS, max_depth=5), Reason.mail_too_complex),
        (_messages_in_messages(3), replace(LIMITS, max_nested_messages=2), Reason.mail_too_complex),
        (
            b"Subject: x\r\nX-Long: " + b"a" * 5000 + b"\r\n\r\nText",
            replace(LIMITS, max_header_bytes=4096),
            Reason.mail_too_complex,
        ),
        (many_parts(12), replace(LIMITS, max_attachments=10), Reason.mail_too_complex),
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
        mail.parse(many_parts(300), "eml", replace(LIMITS, max_parts=20))


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
    "raw", [smime(), _pgp_mime(), _pgp_inline()], ids=["smime", "pgp", "inline"]
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
