"""Mail messages made for the tests with the stdlib ``email`` package (issue 25 part 3);
.msg files come from ``tests.ingest.msgfile``."""

from __future__ import annotations

from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

from tests.ingest.conftest import born_digital_pdf, image_bytes, scan_image


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


def many_parts(count: int) -> bytes:
    message = MIMEMultipart()
    message["From"], message["Subject"] = "a@example.de", "viele Teile"
    for number in range(count):
        message.attach(MIMEText(f"Teil {number}"))
    return message.as_bytes()


def smime() -> bytes:
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
